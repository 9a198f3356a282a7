"""REG_*_INFORMATION structs built in native memory from a list of values.

A notification's struct is filled by name: every member takes the call value of the same
name (a handle-based call's parameters after the handle are exactly its struct's members
after ``Object``, in order, as the header's prototypes and structs spell them). The layout
comes from the header through cffi; the values are packed in one ``struct.pack`` and copied
in one move, instead of a cffi attribute write per member.
"""

from __future__ import annotations

import struct
from functools import cache

from ntddk_py import ffi

from .memory import ADDRESS_SPACE, GuardedBlock, layout

# Room for the largest REG_* struct (REG_CREATE_KEY_INFORMATION_V1: 136 bytes on x64; each block
# is a page anyway, the struct placed at its end).
SCRATCH_BYTES = 256


class StructBuilder:
    """Builds one REG_* struct from a tuple of call values named by ``sources``."""

    __slots__ = ("struct_name", "members", "order", "_pack", "_pack_into", "_masks", "_pointer_type", "size",
                 "_bytes_type", "_bytes_pointer_type", "_prefix")

    def __init__(self, struct_name: str, sources: tuple[str, ...]) -> None:
        self.struct_name = struct_name
        self._pointer_type = ffi.typeof(struct_name + " *")
        self._bytes_type = ffi.typeof("UCHAR[]")
        self._bytes_pointer_type = ffi.typeof("UCHAR *")
        self.size = ffi.sizeof(struct_name)
        form, members, sizes = layout(struct_name)
        for name in members:
            if name not in sources:
                raise LookupError(f"{struct_name}.{name} has no call value of that name among {sources}")
        self.members = members
        self.order = tuple(sources.index(name) for name in members)
        self._masks = tuple((1 << (8 * size)) - 1 for size in sizes)
        self._pack, self._pack_into = form.pack, form.pack_into
        if self.size > SCRATCH_BYTES:
            raise ValueError(f"{struct_name} is {self.size} bytes, more than the {SCRATCH_BYTES} of a scratch block")
        # Most structs take the call's values in the order given (the parameters after the
        # handle): then the values are packed as they come, without picking.
        self._prefix = len(self.order) if self.order == tuple(range(len(self.order))) else None

    def _chosen(self, values: tuple):
        prefix = self._prefix
        if prefix is None:
            return [values[index] for index in self.order]
        return values if prefix == len(values) else values[:prefix]

    def pack(self, values: tuple) -> bytes:
        chosen = self._chosen(values)
        try:
            return self._pack(*chosen)
        except struct.error:  # a negative NTSTATUS or an out-of-range ULONG: stored as C stores it
            return self._pack(*(value & mask for value, mask in zip(chosen, self._masks, strict=True)))

    def fill(self, block: GuardedBlock, values: tuple):
        """Write the struct so that it ends where ``block`` does, at a guard page, and return a
        pointer to it: the per-thread scratch the pipeline reuses, as Windows keeps these on the
        stack. A callback reading or writing past the struct faults at that instruction."""
        address = block.end - self.size
        chosen = self._chosen(values)
        try:
            self._pack_into(ADDRESS_SPACE, address, *chosen)
        except struct.error:
            self._pack_into(ADDRESS_SPACE, address, *(v & m for v, m in zip(chosen, self._masks, strict=True)))
        pointer = block.pointers.get(self.size)
        if pointer is None:
            pointer = block.pointers[self.size] = ffi.cast(self._bytes_pointer_type, address)
        return pointer

    def build(self, values: tuple):
        """The struct in fresh native memory (a UCHAR array holding its bytes, one allocation and
        copy), as the PVOID Argument2 callbacks receive; ``typed`` gives the struct's own view."""
        return ffi.new(self._bytes_type, self.pack(values))

    def typed(self, info):
        return ffi.cast(self._pointer_type, info)


@cache
def builder(struct_name: str, sources: tuple[str, ...]) -> StructBuilder:
    return StructBuilder(struct_name, sources)
