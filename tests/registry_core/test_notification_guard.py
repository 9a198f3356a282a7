"""The REG_* struct a callback receives ends at a guard page (registry_core/memory.GuardedBlock), so
a filter reading or writing past what its profile passes faults at that very instruction, where
a bugcheck report can name it, instead of corrupting memory that fails later somewhere else."""

from __future__ import annotations

import mmap

from ntddk_py import REG_DWORD, STATUS_SUCCESS, ffi
from registry_core.memory import GuardedBlock


def _protection(address: int) -> str:
    """The permissions /proc/self/maps gives the page holding address (e.g. 'rw-p', '---p')."""
    with open("/proc/self/maps", encoding="ascii") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(part, 16) for part in span.split("-"))
            if start <= address < end:
                return perms
    return "unmapped"


def test_a_guarded_block_is_writable_up_to_its_end_and_not_one_byte_more():
    block = GuardedBlock(64)
    assert block.end % mmap.PAGESIZE == 0
    assert _protection(block.end - 1).startswith("rw") and _protection(block.end) == "---p"


def test_every_struct_a_callback_receives_ends_at_the_guard(registry, test_key):
    seen = []

    def callback(context, argument1, argument2):
        seen.append((int(ffi.cast("ULONG_PTR", argument1)), int(ffi.cast("ULONG_PTR", argument2))))
        return STATUS_SUCCESS

    status, _ = registry.native.callbacks.register(callback)
    assert status == STATUS_SUCCESS
    assert registry.set_value(test_key, "V", REG_DWORD, b"\1\0\0\0") == STATUS_SUCCESS
    (_, pre), (_, post) = seen[-2:]
    for address, struct_name in ((pre, "REG_SET_VALUE_KEY_INFORMATION"), (post, "REG_POST_OPERATION_INFORMATION")):
        end = address + ffi.sizeof(struct_name)
        assert end % mmap.PAGESIZE == 0 and _protection(end) == "---p", struct_name
