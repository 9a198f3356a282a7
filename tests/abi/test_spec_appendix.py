"""include/ntddk.h declares the specification's appendix exactly: the 30
REG_NOTIFY_CLASS values with their aliases in the spec's order, and every
REG_*_INFORMATION struct with exactly the members the spec lists, in its order,
under every typedef name the spec gives it."""

from __future__ import annotations

import re

from . import probes


def _appendix() -> str:
    return re.sub(r"//[^\n]*", "", probes.spec_appendix()).replace("SpecRegNt", "RegNt").replace("SPEC_REG_", "REG_")


def _spec_structs() -> dict[str, list[str]]:
    """typedef name -> member names, for each struct of the appendix."""
    found: dict[str, list[str]] = {}
    for body, names in re.findall(r"typedef struct _\w+\s*\{(.*?)\}\s*([^;]+);", _appendix(), re.S):
        members = re.findall(r"(\w+)\s*;", body)
        for name in re.split(r"[,\s]+", names):
            if name and not name.startswith("*"):
                found[name] = members
    return found


def test_every_spec_struct_has_exactly_the_spec_members():
    structs = _spec_structs()
    assert len(structs) == 18  # 11 per-API structs, create/open and post (2003), pre/post create/open (XP)
    model = probes.model()
    for name, members in structs.items():
        assert name in model.records, f"{name} is missing from include/ntddk.h"
        assert [f.name for f in model.records[name].fields] == members, name


def test_every_spec_pointer_typedef_is_declared():
    pointers = re.findall(r"\*\s*(P\w+)", _appendix())
    assert "PREG_POST_OPEN_KEY_INFORMATION" in pointers
    missing = [name for name in pointers if name not in probes.model().typedef_names]
    assert missing == []


def test_reg_notify_class_has_the_spec_enumerators_in_order():
    body = re.search(r"typedef enum _REG_NOTIFY_CLASS\s*\{(.*?)\}", _appendix(), re.S).group(1)
    spec_names = re.findall(r"(RegNt\w+)", body)
    ours = [name for name, _ in probes.model().enums["REG_NOTIFY_CLASS"]]
    # An alias line "RegNtPreX = RegNtX" names RegNtX twice in the spec text.
    assert ours == list(dict.fromkeys(spec_names))
    assert len({value for _, value in probes.model().enums["REG_NOTIFY_CLASS"]}) == 30
