"""include/ntddk.h declares the specification's appendix exactly: the 30
REG_NOTIFY_CLASS values with their aliases in the spec's order, and every
REG_*_INFORMATION struct with exactly the members the spec lists, in its order,
under every typedef name the spec gives it. The appendix's facts are written
down in ``spec_appendix``."""

from __future__ import annotations

from . import probes, spec_appendix


def test_every_spec_struct_has_exactly_the_spec_members():
    structs = spec_appendix.struct_members()
    assert len(structs) == 18  # 11 per-API structs, create/open and post (2003), pre/post create/open (XP)
    model = probes.model()
    for name, members in structs.items():
        assert name in model.records, f"{name} is missing from include/ntddk.h"
        assert [f.name for f in model.records[name].fields] == members, name


def test_every_spec_struct_member_has_the_spec_type_and_tag():
    model = probes.model()
    for struct in spec_appendix.STRUCTS:
        for name in struct.names:
            assert model.records[name].tag == struct.tag, name
            assert [(f.ctype, f.name) for f in model.records[name].fields] == list(struct.members), name


def test_every_spec_pointer_typedef_is_declared():
    pointers = spec_appendix.pointer_names()
    assert "PREG_POST_OPEN_KEY_INFORMATION" in pointers
    missing = [name for name in pointers if name not in probes.model().typedef_names]
    assert missing == []


def test_reg_notify_class_has_the_spec_enumerators_in_order():
    """The specification's 30 values come first, in its order; Vista's later classes follow them
    (their values are compared with mingw-w64's by the ABI conformance tests)."""
    ours = [name for name, _ in probes.model().enums["REG_NOTIFY_CLASS"]]
    spec = spec_appendix.notify_class_names()
    assert ours[:len(spec)] == spec
    assert len(spec_appendix.REG_NOTIFY_CLASS) == 30
    spec_values = {value for name, value in probes.model().enums["REG_NOTIFY_CLASS"] if name in spec}
    assert spec_values == set(range(30))
    assert all(value >= 30 for name, value in probes.model().enums["REG_NOTIFY_CLASS"] if name not in spec)


def test_reg_notify_class_aliases_share_their_value_and_rows_count_up():
    values = dict(probes.model().enums["REG_NOTIFY_CLASS"])
    for number, row in enumerate(spec_appendix.REG_NOTIFY_CLASS):
        assert [values[name] for name in row] == [number] * len(row), row
