"""The key tree's own rules: hive order of subkeys, insertion order of values, case handling."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ntddk_py import STATUS_SUCCESS
from registry_core.clock import Clock
from registry_core.names import sort_key, upcase
from registry_core.store import KEEP_MAXIMA_ABOVE, Key, Store, Value


def test_upcase_is_nt_simple_per_unit_casing():
    assert upcase("Software\\Microsoft") == "SOFTWARE\\MICROSOFT"
    assert upcase("straße") == "STRAßE"  # U+00DF has no one-character upper case: kept
    assert upcase("ǆ") == "Ǆ"  # U+01C6 -> U+01C4, a single unit
    assert upcase("\U00010428") == "\U00010428"  # a surrogate pair is not folded
    assert upcase("ключ") == "КЛЮЧ"


def test_subkeys_enumerate_sorted_by_upper_cased_name_and_keep_their_case():
    store = Store()
    parent = store.create_subkey(store.root, "Parent")
    for name in ["beta", "Alpha", "_under", "ZULU", "alpha2"]:
        store.create_subkey(parent, name)
    assert [key.name for key in parent.subkeys()] == ["Alpha", "alpha2", "beta", "ZULU", "_under"]
    assert parent.find_subkey("ALPHA").name == "Alpha"
    assert parent.subkey_at(5) is None


def test_values_enumerate_in_insertion_order_and_replace_in_place():
    key = Store().root
    for name in ["b", "A", ""]:
        key.set_value(Value(name, 4, b"\x01\x00\x00\x00"))
    key.set_value(Value("B", 1, b"x"))
    assert [(v.name, v.type, v.data) for v in key.values()] == [
        ("b", 1, b"x"), ("A", 4, b"\x01\x00\x00\x00"), ("", 4, b"\x01\x00\x00\x00")]
    assert key.value_at(1).name == "A"
    assert key.delete_value("a") and key.value_at(1).name == ""
    assert not key.delete_value("a")


def test_every_change_advances_last_write_time_strictly():
    clock = Clock()
    clock.set(1000)
    store = Store(clock)
    before = store.root.last_write
    child = store.create_subkey(store.root, "k")
    assert store.root.last_write > before
    stamp = store.root.last_write
    store.delete_key(child)
    assert store.root.last_write > stamp and child.deleted


def test_path_is_the_full_registry_name():
    store = Store()
    machine = store.create_subkey(store.root, "MACHINE")
    software = store.create_subkey(machine, "Software")
    assert software.path() == "\\REGISTRY\\MACHINE\\Software"
    assert store.walk("\\registry\\machine\\SOFTWARE") is software
    assert store.walk("\\REGISTRY\\nope") is None


def test_an_empty_registry_still_has_machine_and_user():
    """Issue 4: a \\REGISTRY root with MACHINE and USER, whatever the contents."""
    from registry_core.registry import Registry

    registry = Registry("empty")
    assert registry.exists("\\REGISTRY\\MACHINE") and registry.exists("\\REGISTRY\\USER")
    assert not registry.exists("\\REGISTRY\\MACHINE\\SOFTWARE")
    assert [key.name for key in registry.native.store.root.subkeys()] == ["MACHINE", "USER"]


# --- hive order in UTF-16 units, kept at every change ---------------------------------------------------

def _unit_order(name: str) -> list[int]:
    """The reference order, computed apart from names.sort_key: upper-cased UTF-16 code units, one by one."""
    encoded = upcase(name).encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(encoded[i:i + 2], "little") for i in range(0, len(encoded), 2)]


def test_subkeys_sort_in_utf16_unit_order_so_a_surrogate_pair_precedes_u_e000():
    """Fact 51: Windows compares upper-cased names unit by unit (R-CM cmindex.c CmpCompareCompressedName),
    so U+1F600 (units 0xD83D 0xDE00) sorts before U+E000, the reverse of code-point order."""
    store = Store()
    parent = store.create_subkey(store.root, "Parent")
    for name in ["\ue000", "\U0001F600", "z"]:
        store.create_subkey(parent, name)
    assert [key.name for key in parent.subkeys()] == ["z", "\U0001F600", "\ue000"]
    assert sort_key("\U0001F600") < sort_key("\ue000") and "\U0001F600" > "\ue000"


def test_lone_surrogates_sort_as_the_units_they_are():
    """Names arrive as UTF-16 decoded with surrogatepass, so a lone surrogate is a name like any other: a
    lone high 0xD800 sorts before the pair 0xD83D 0xDE00, a lone low 0xDFFF after it and before 0xE000."""
    store = Store()
    parent = store.create_subkey(store.root, "Parent")
    names = ["\ue000", "\udfff", "\U0001F600", "\ud800", "A"]
    for name in names:
        store.create_subkey(parent, name)
    assert [key.name for key in parent.subkeys()] == ["A", "\ud800", "\U0001F600", "\udfff", "\ue000"]
    assert parent.find_subkey("\udfff").name == "\udfff" and parent.find_subkey("\udffe") is None
    # The pair spelled as two lone surrogates is the same UTF-16, so the same name.
    assert parent.find_subkey("\ud83d\ude00").name == "\U0001F600"


def test_the_native_api_enumerates_in_utf16_unit_order():
    """The same order through NtCreateKey and NtEnumerateKey, lone surrogate included."""
    from registry_core.registry import Registry

    registry = Registry()
    _, parent, _ = registry.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Order")
    for name in ["\ue000", "\U0001F600", "\udfff", "b"]:
        assert registry.create_key(name, root=parent).status == STATUS_SUCCESS
    assert registry.subkey_names(parent) == ["b", "\U0001F600", "\udfff", "\ue000"]


# A small pool, so that adds, removes and renames keep meeting names already there; case variants,
# characters either side of the surrogate range, a pair and lone surrogates among them.
NAMES = st.sampled_from(["a", "A", "ab", "aB", "b", "_", "\u00e9", "\u00c9t\u00e9", "\ue000", "\U0001F600",
                         "\U0001F600x", "\ud800", "\udfff", "\uffff", "long name here"])
CLASSES = st.sampled_from(["", "c", "Class", "\U0001F600"])
DATA = st.binary(max_size=6)


def _check_subkeys(parent: Key, expected: dict[str, str]) -> None:
    """Order, index, lookup and maxima against a brute-force model {upper-cased name: class}."""
    keys = [parent.subkey_at(index) for index in range(parent.subkey_count())]
    assert parent.subkey_at(len(keys)) is None
    assert [upcase(key.name) for key in keys] == sorted(expected, key=_unit_order)
    assert list(parent.subkeys()) == keys
    assert all(parent.find_subkey(name.lower()) is parent.find_subkey(name) is not None for name in expected)
    assert parent.subkey_maxima() == (
        max((len(name.encode("utf-16-le", "surrogatepass")) for name in expected), default=0),
        max((len(cls.encode("utf-16-le", "surrogatepass")) for cls in expected.values()), default=0))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "remove", "rename", "enumerate"]), NAMES, CLASSES, NAMES),
                max_size=40))
def test_hive_order_and_maxima_hold_after_every_add_remove_and_rename(operations):
    """Subkeys stay in unit order, subkey_at(i) agrees, and MaxNameLen/MaxClassLen are the exact current maxima
    (shrinking when the widest subkey goes, as this engine reports them) after every change, whether or not
    anything was enumerated in between."""
    store = Store()
    parent = store.create_subkey(store.root, "Parent")
    expected: dict[str, str] = {}
    for action, name, class_name, new_name in operations:
        existing = parent.find_subkey(name)
        if action == "add" and existing is None:
            store.create_subkey(parent, name, class_name=class_name)
            expected[upcase(name)] = class_name
        elif action == "remove" and existing is not None:
            store.delete_key(existing)
            del expected[upcase(existing.name)]
        elif action == "rename" and existing is not None and parent.find_subkey(new_name) is None:
            # As NtRenameKey does it: out under the old name, back in under the new one.
            parent.remove_subkey(existing)
            del expected[upcase(existing.name)]
            existing.name = new_name
            parent.add_subkey(existing)
            expected[upcase(existing.name)] = existing.class_name
        elif action == "enumerate":
            _check_subkeys(parent, expected)
    _check_subkeys(parent, expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "delete", "enumerate"]), NAMES, DATA), max_size=40))
def test_value_order_and_maxima_hold_after_every_set_and_delete(operations):
    """Values keep insertion order through value_at once enumerated, and MaxValueNameLen/MaxValueDataLen
    are the exact current maxima, replaced data and deleted values included."""
    key = Store().root
    expected: dict[str, Value] = {}
    for action, name, data in operations:
        if action == "set":
            key.set_value(Value(name, 3, data))
            expected.setdefault(upcase(name), Value(name, 3, data)).data = data
        elif action == "delete":
            assert key.delete_value(name) == (expected.pop(upcase(name), None) is not None)
        else:
            assert [(v.name, v.data) for v in map(key.value_at, range(key.value_count()))] == [
                (v.name, v.data) for v in expected.values()]
            assert key.value_at(key.value_count()) is None
        assert [(v.name, v.data) for v in key.values()] == [(v.name, v.data) for v in expected.values()]
        assert key.value_maxima() == (
            max((len(v.name.encode("utf-16-le", "surrogatepass")) for v in expected.values()), default=0),
            max((len(v.data) for v in expected.values()), default=0))
    assert [v.name for v in map(key.value_at, range(key.value_count()))] == [v.name for v in expected.values()]


def test_maxima_are_exact_across_the_point_where_a_key_starts_keeping_them():
    """A key scans a few subkeys or values when asked and keeps the maxima of many: the answers agree on
    both sides of KEEP_MAXIMA_ABOVE, growing and shrinking (the widest item is always the newest here)."""
    store = Store()
    parent = store.create_subkey(store.root, "Parent")
    children = []
    for count in range(1, KEEP_MAXIMA_ABOVE + 5):
        children.append(store.create_subkey(parent, "n" * count, class_name="c" * (count % 4)))
        parent.set_value(Value("v" * count, 3, bytes(count)))
        assert parent.subkey_maxima() == (2 * count, 2 * max(i % 4 for i in range(1, count + 1)))
        assert parent.value_maxima() == (2 * count, count)
    for count in range(len(children), 0, -1):
        assert parent.subkey_maxima()[0] == parent.value_maxima()[0] == 2 * count
        store.delete_key(children.pop())
        assert parent.delete_value("v" * count)
    assert parent.subkey_maxima() == parent.value_maxima() == (0, 0)
