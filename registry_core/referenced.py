"""Reference counting as the object manager keeps it, for every kind of object a driver can point to.

An object is a block of native memory whose address stays valid while any reference is held; the
last dereference takes it out of its table (and runs the table's ``freed`` hook, outside the lock,
while the memory still lives) and frees the block. References drivers took (ObReferenceObject,
ObReferenceObjectByHandle, PsLookupProcessByProcessId ...) are also counted on their own, so that
a driver's ObDereferenceObject giving back a reference no driver took can be refused: on Windows it
frees the object from under a handle or a call in flight, bug check 0x18 REFERENCE_BY_POINTER.

A subclass sets ``_memory``, ``address``, ``_references`` (1: its table's or its creator's),
``_driver_references`` and ``_table`` (with ``lock``, ``by_address`` and, optionally, ``freed``),
and says what it is in ``__str__``. This module knows nothing of keys, processes or handles.
"""

from __future__ import annotations

from typing import Any

from ntddk_py import ffi


class Referenced:
    """The references of one object at a stable native address."""

    _memory: Any
    address: int
    _references: int
    _driver_references: int
    _table: Any

    @property
    def pointer(self):
        """The object as the PVOID callbacks and ObReferenceObject receive."""
        return ffi.cast("PVOID", self.address)

    @property
    def references(self) -> int:
        return self._references

    @property
    def driver_references(self) -> int:
        """How many of the references drivers took are still held."""
        return self._driver_references

    def reference(self, *, by_driver: bool = False):
        with self._table.lock:
            if self._references <= 0:
                raise RuntimeError(f"{self} referenced after it was freed")
            self._references += 1
            if by_driver:
                self._driver_references += 1
        return self

    def dereference_by_driver(self) -> bool:
        """Give back a reference a driver took; False, changing nothing, when drivers hold none."""
        with self._table.lock:
            if self._driver_references <= 0:
                return False
            self._driver_references -= 1
        self.dereference()
        return True

    def dereference(self) -> None:
        with self._table.lock:
            if self._references <= 0:
                raise RuntimeError(f"{self} dereferenced too often")
            self._references -= 1
            last = self._references == 0
            if last:
                self._table.by_address.pop(self.address, None)
        if last:
            freed = getattr(self._table, "freed", None)
            if freed is not None:  # e.g. Vista's context cleanup, which runs callbacks: not under the lock
                freed(self)
            self._memory = None
