"""The emulated user address space: what ProbeForRead/ProbeForWrite accept.

On Windows a user-mode caller's pointers are probed before the kernel touches
them; a pointer outside the caller's address space raises an access violation
that the system call turns into STATUS_ACCESS_VIOLATION. Here, user-mode
buffers are blocks allocated from this arena (the Python API allocates the
caller's UNICODE_STRINGs and data buffers in it); a probe passes only when the
whole range lies inside one live block. Nothing here knows about the registry.
"""

from __future__ import annotations

import bisect
import ctypes
import mmap
import struct
import threading

from ntddk_py import STATUS_ACCESS_VIOLATION, STATUS_DATATYPE_MISALIGNMENT, STATUS_SUCCESS, ffi

# This process's memory as one byte view, indexed by address: reading a caller's buffer is a
# slice, reading a struct one ``unpack_from``, with no cffi cast per access. It spans every
# address a Py_ssize_t can index (user space on every 64-bit Linux), and protects nothing:
# callers probe first (user mode) or are trusted (kernel mode), as on Windows.
ADDRESS_SPACE = memoryview(ffi.buffer(ffi.cast("char *", 0), (1 << 63) - 1))
_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


def layout(struct_name: str) -> tuple[struct.Struct, tuple[str, ...], tuple[int, ...]]:
    """A header struct as ``struct`` reads and writes it: (format, member names, member sizes),
    members in offset order, padding as cffi lays it out from include/ntddk.h (no layout here is
    written by hand). Integers are unsigned; pointers are addresses."""
    ctype = ffi.typeof(struct_name)
    form, position, names, sizes = "<", 0, [], []
    for name, member in sorted(ctype.fields, key=lambda item: item[1].offset):
        size = ffi.sizeof(member.type)
        if member.offset > position:
            form += f"{member.offset - position}x"
        form += _FORMATS[size]
        position = member.offset + size
        names.append(name)
        sizes.append(size)
    if ffi.sizeof(ctype) > position:
        form += f"{ffi.sizeof(ctype) - position}x"
    return struct.Struct(form), tuple(names), tuple(sizes)


# (ADDRESS_SPACE, address) -> (Length, MaximumLength, Buffer)
read_unicode_string_header = layout("UNICODE_STRING")[0].unpack_from
# (ADDRESS_SPACE, address) -> (Length, RootDirectory, ObjectName, Attributes, SecurityDescriptor, ...QoS)
read_object_attributes = layout("OBJECT_ATTRIBUTES")[0].unpack_from
write_ulong = struct.Struct("<" + _FORMATS[ffi.sizeof("ULONG")]).pack_into  # (ADDRESS_SPACE, address, value)
write_pointer = struct.Struct("<" + _FORMATS[ffi.sizeof("PVOID")]).pack_into


class UserMemory:
    """Live user-mode blocks, by address. Safe to use from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starts: list[int] = []
        self._blocks: dict[int, tuple[int, object]] = {}  # start -> (length, owner)

    def alloc(self, ctype: str, init=None):
        """A new zeroed (or initialised) user-mode block, as cffi cdata; free() releases it."""
        owner = ffi.new(ctype, init)
        kind = ffi.typeof(owner)
        length = ffi.sizeof(kind.item) if kind.kind == "pointer" else ffi.sizeof(owner)
        start = int(ffi.cast("ULONG_PTR", owner))
        with self._lock:
            bisect.insort(self._starts, start)
            self._blocks[start] = (max(length, 1), owner)
        return owner

    def free(self, owner) -> None:
        start = int(ffi.cast("ULONG_PTR", owner))
        with self._lock:
            if self._blocks.pop(start, None) is not None:
                del self._starts[bisect.bisect_left(self._starts, start)]

    def contains(self, address: int, length: int) -> bool:
        with self._lock:
            index = bisect.bisect_right(self._starts, address) - 1
            if index < 0:
                return False
            start = self._starts[index]
            return address + length <= start + self._blocks[start][0]

    def probe(self, address: int, length: int, alignment: int = 1) -> int:
        """ProbeForRead/ProbeForWrite: STATUS_SUCCESS, or the status the probe raises.

        A zero length is never checked, as on Windows; misalignment is reported
        before the range is.
        """
        if length == 0:
            return STATUS_SUCCESS
        if address % alignment:
            return STATUS_DATATYPE_MISALIGNMENT
        return STATUS_SUCCESS if self.contains(address, length) else STATUS_ACCESS_VIOLATION


# --- blocks that end at a guard page ------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value
_PROT_NONE = 0  # Linux; the mmap module does not export it


class GuardedBlock:
    """Native memory whose last byte is followed by an inaccessible page: what is placed to end
    at ``end`` cannot be read or written past without a fault at the very instruction (as Driver
    Verifier's special pool places a block). Unmapped when the object goes."""

    def __init__(self, size: int) -> None:
        page = mmap.PAGESIZE
        self._span = -(-size // page) * page + page
        base = _libc.mmap(None, self._span, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS,
                          -1, 0)
        if base in (None, _MAP_FAILED):
            raise MemoryError(f"mmap of {self._span} bytes failed: {ctypes.get_errno()}")
        self._base = base
        self.end = base + self._span - page
        if _libc.mprotect(self.end, page, _PROT_NONE) != 0:
            _libc.munmap(base, self._span)
            raise MemoryError(f"mprotect of a guard page failed: {ctypes.get_errno()}")
        self.pointers: dict[int, object] = {}  # size -> a cdata pointer to end - size, made once

    def __del__(self) -> None:
        _libc.munmap(self._base, self._span)
