"""User-mode probing: ranges inside one live user block pass, anything else is an access violation."""

from ntddk_py import STATUS_ACCESS_VIOLATION, STATUS_DATATYPE_MISALIGNMENT, STATUS_SUCCESS, ffi
from registry_core.memory import UserMemory


def test_probe_accepts_only_ranges_inside_a_live_block():
    memory = UserMemory()
    block = memory.alloc("UCHAR[]", 16)
    start = int(ffi.cast("ULONG_PTR", block))
    assert memory.probe(start, 16) == STATUS_SUCCESS
    assert memory.probe(start + 8, 8) == STATUS_SUCCESS
    assert memory.probe(start + 8, 9) == STATUS_ACCESS_VIOLATION
    assert memory.probe(start - 1, 2) == STATUS_ACCESS_VIOLATION
    assert memory.probe(0, 4) == STATUS_ACCESS_VIOLATION
    assert memory.probe(0, 0) == STATUS_SUCCESS  # ProbeForRead ignores a zero length
    assert memory.probe(start + 1, 4, alignment=4) == STATUS_DATATYPE_MISALIGNMENT
    memory.free(block)
    assert memory.probe(start, 1) == STATUS_ACCESS_VIOLATION


def test_kernel_memory_is_not_user_memory():
    memory = UserMemory()
    memory.alloc("UCHAR[]", 8)
    kernel = ffi.new("UCHAR[]", 8)
    assert memory.probe(int(ffi.cast("ULONG_PTR", kernel)), 8) == STATUS_ACCESS_VIOLATION
