"""The key tree's own rules: hive order of subkeys, insertion order of values, case handling."""

from __future__ import annotations

from registry_core.clock import Clock
from registry_core.names import upcase
from registry_core.store import Store, Value


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

    reg = Registry("empty")
    assert reg.exists("\\REGISTRY\\MACHINE") and reg.exists("\\REGISTRY\\USER")
    assert not reg.exists("\\REGISTRY\\MACHINE\\SOFTWARE")
    assert [key.name for key in reg.native.store.root.subkeys()] == ["MACHINE", "USER"]
