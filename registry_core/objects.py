"""Key objects: what a handle refers to and what callbacks receive as ``Object``.

Each successful create or open makes a new key object (Windows' key body) for
the key it reached. The object is a block of native memory whose address stays
valid while any reference is held (handles and operations in flight hold
them); the last dereference frees it. This module knows nothing about handles'
numbers or access, only about objects, their addresses and their references.

References a driver takes (ObReferenceObject, ObReferenceObjectByHandle) are also counted on
their own, so that a driver's ObDereferenceObject can be refused when it would give back a
reference no driver took: on Windows that frees the object from under a handle or a call in
flight, bug check 0x18 REFERENCE_BY_POINTER; here nothing changes and the caller reports it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ntddk_py import ffi

from .referenced import Referenced
from .store import Key

# Size of the opaque native block; filters never look inside a key body.
KEY_OBJECT_BYTES = 64


class KeyObject(Referenced):
    """A referenced view of one key, living at a stable native address."""

    __slots__ = ("key", "_memory", "address", "_references", "_driver_references", "_table")

    def __init__(self, key: Key, table: ObjectTable) -> None:
        self.key = key
        self._memory = ffi.new("UCHAR[]", KEY_OBJECT_BYTES)
        self.address = int(ffi.cast("ULONG_PTR", self._memory))
        self._references = 1
        self._driver_references = 0
        self._table = table

    def __str__(self) -> str:
        return f"key object 0x{self.address:x} ({self.key.path()})"

    def adopt_driver_reference(self) -> None:
        """A reference a driver took passes to the registry (a bypassing callback's ResultObject):
        it is no longer the driver's to give back."""
        with self._table.lock:
            if self._driver_references > 0:
                self._driver_references -= 1

    def pass_to_driver(self) -> None:
        """The registry's own reference becomes the driver's (a post that turned a create's success
        into a failure: the driver is then the one to dereference the object)."""
        with self._table.lock:
            self._driver_references += 1


class ObjectTable:
    """Every live key object, by address: how a PVOID from C is turned back into a key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_address: dict[int, KeyObject] = {}
        # Called with an object whose last reference went (Vista's object context cleanup), or None.
        self.freed: Callable[[KeyObject], None] | None = None

    def create(self, key: Key) -> KeyObject:
        """A new key object holding one reference, owned by the caller."""
        obj = KeyObject(key, self)
        with self.lock:
            self.by_address[obj.address] = obj
        return obj

    def from_address(self, address: int) -> KeyObject | None:
        with self.lock:
            return self.by_address.get(address)

    def __len__(self) -> int:
        with self.lock:
            return len(self.by_address)
