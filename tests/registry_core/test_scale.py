"""How the key tree's work grows with its size, asserted by counting the work done, never by timing it.

The figures (cost per operation at 1,000 and 1,000,000 keys, memory) are bench/registry_ops.py's; here
the tests pin the behaviour that makes them possible: enumerating after every change sorts nothing again,
and a KeyFullInformation or KeyCachedInformation query scans no subkey or value unless the widest one went.
"""

from __future__ import annotations

import ctypes

import pytest

from ntddk_py import KEY_INFORMATION_CLASS, REG_BINARY, STATUS_SUCCESS, ctypes_types
from registry_core import infoclass, store
from registry_core.names import sort_key
from registry_core.registry import Registry

SUBKEYS = 5000


@pytest.fixture
def counted(monkeypatch):
    """Counts of the store's sort-key computations and maxima rescans while a test runs."""
    counts = {"sort_key": 0, "rescan": 0}
    real_sort_key, real_widest = store.sort_key, store._widest

    def counting_sort_key(name: str) -> bytes:
        counts["sort_key"] += 1
        return real_sort_key(name)

    def counting_widest(lengths: list[int]) -> tuple[int, int]:
        counts["rescan"] += 1
        return real_widest(lengths)

    monkeypatch.setattr(store, "sort_key", counting_sort_key)
    monkeypatch.setattr(store, "_widest", counting_widest)
    return counts


def _wide_parent() -> tuple[store.Store, store.Key]:
    tree = store.Store()
    parent = tree.create_subkey(tree.root, "Wide")
    for index in range(SUBKEYS):
        tree.create_subkey(parent, f"K{index:05d}")
    return tree, parent


def test_enumerating_after_every_change_sorts_nothing_again(counted):
    """Issue: subkey_at re-sorted every subkey after each add or remove. Each change now computes its one
    sort key and each enumeration none, with the answers still in hive order."""
    tree, parent = _wide_parent()
    counted["sort_key"] = 0
    for round_ in range(200):
        child = tree.create_subkey(parent, f"A{round_:03d}" if round_ % 2 else f"Z{round_:03d}")
        first, middle = parent.subkey_at(0), parent.subkey_at(parent.subkey_count() // 2)
        assert first.name == ("A001" if round_ else "K00000")
        assert middle is parent.find_subkey(middle.name)
        if round_ % 3 == 0:
            tree.delete_key(child)
            assert parent.subkey_at(parent.subkey_count()) is None
    # One sort key per create and per delete, one per find_subkey above; nothing per enumerated index.
    assert counted["sort_key"] == 200 + 67 + 200
    names = [key.name for key in parent.subkeys()]
    assert names == sorted(names, key=sort_key) and len(names) == SUBKEYS + 200 - 67


def test_full_information_needs_no_scan_until_the_widest_subkey_goes(counted):
    """Issue: KeyFullInformation scanned every subkey and value at each query. The maxima are kept as
    subkeys come and go; only removing the last subkey of the widest name (or class) costs one rescan,
    at the next query. The answers are the exact current maxima, as this engine has always reported."""
    tree, parent = _wide_parent()
    widest = tree.create_subkey(parent, "W" * 40, class_name="Class")
    counted["rescan"] = 0  # the ninth subkey made the parent take stock once, while it had nine
    full = KEY_INFORMATION_CLASS.KeyFullInformation
    for _ in range(100):
        answer = infoclass.query_key(parent, full, 4096)
    record = ctypes_types.KEY_FULL_INFORMATION.from_buffer_copy(answer.data.ljust(64, b"\0"))
    assert (record.SubKeys, record.MaxNameLen, record.MaxClassLen) == (SUBKEYS + 1, 80, 10)
    tree.delete_key(parent.find_subkey("K00001"))  # not the widest: still no scan
    infoclass.query_key(parent, full, 4096)
    assert counted["rescan"] == 0
    tree.delete_key(widest)
    for _ in range(100):
        answer = infoclass.query_key(parent, full, 4096)
    record = ctypes_types.KEY_FULL_INFORMATION.from_buffer_copy(answer.data.ljust(64, b"\0"))
    assert (record.SubKeys, record.MaxNameLen, record.MaxClassLen) == (SUBKEYS - 1, 12, 0)
    assert counted["rescan"] == 2  # the name maximum and the class maximum, once each


def test_value_maxima_follow_sets_replacements_and_deletions_through_the_api():
    """KeyFullInformation and KeyCachedInformation after values grow, shrink in place and go: the exact
    current MaxValueNameLen and MaxValueDataLen each time (this engine's long-standing answers)."""
    registry = Registry()
    _, handle, _ = registry.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Maxima")

    def maxima() -> list[tuple[int, int, int]]:
        out = []
        for information_class, record_type in (
                (KEY_INFORMATION_CLASS.KeyFullInformation, ctypes_types.KEY_FULL_INFORMATION),
                (KEY_INFORMATION_CLASS.KeyCachedInformation, ctypes_types.KEY_CACHED_INFORMATION)):
            answer = registry.query_key(handle, information_class, 256)
            assert answer.status == STATUS_SUCCESS
            record = record_type.from_buffer_copy(answer.buffer[:ctypes.sizeof(record_type)])
            out.append((record.Values, record.MaxValueNameLen, record.MaxValueDataLen))
        assert out[0] == out[1]
        return out[0]

    for index in range(300):
        assert registry.set_value(handle, f"v{index}", REG_BINARY, bytes(index % 7)) == STATUS_SUCCESS
    assert registry.set_value(handle, "longest name", REG_BINARY, bytes(100)) == STATUS_SUCCESS
    assert maxima() == (301, 24, 100)
    assert registry.set_value(handle, "longest name", REG_BINARY, b"") == STATUS_SUCCESS
    assert maxima() == (301, 24, 6)
    assert registry.delete_value(handle, "longest name") == STATUS_SUCCESS
    assert maxima() == (300, 8, 6)
    for index in range(300):
        assert registry.delete_value(handle, f"v{index}") == STATUS_SUCCESS
    assert maxima() == (0, 0, 0)
