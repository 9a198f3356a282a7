"""Key objects live at stable native addresses while referenced; handles are multiples of 4, not reused at once."""

from __future__ import annotations

import pytest

from ntddk_py import ffi
from registry_core.handles import HandleTable
from registry_core.objects import ObjectTable
from registry_core.store import Store


def test_key_object_address_is_native_memory_valid_until_last_reference():
    table, key = ObjectTable(), Store().root
    obj = table.create(key)
    assert obj.address != 0 and obj.address % 8 == 0
    ffi.cast("UCHAR *", obj.address)[0] = 0x5A  # writable native memory
    assert table.from_address(obj.address) is obj
    obj.reference()
    obj.dereference()
    assert table.from_address(obj.address) is obj
    obj.dereference()
    assert table.from_address(obj.address) is None and len(table) == 0
    with pytest.raises(RuntimeError, match="after it was freed"):
        obj.reference()


def test_each_open_gets_its_own_object():
    table, key = ObjectTable(), Store().root
    first, second = table.create(key), table.create(key)
    assert first.address != second.address and first.key is second.key is key


def test_handles_are_nonzero_multiples_of_four_and_not_reused_at_once():
    objects, handles = ObjectTable(), HandleTable()
    key = Store().root
    issued = [handles.insert(objects.create(key), 0x1) for _ in range(3)]
    assert all(h > 0 and h % 4 == 0 for h in issued) and len(set(issued)) == 3
    entry = handles.remove(issued[1])
    assert entry.granted_access == 0x1
    assert handles.lookup(issued[1]) is None
    assert handles.insert(objects.create(key), 0x2) not in issued
