"""The handle table: handle values, the object each names and the access it was granted.

Values are non-zero multiples of 4, handed out in increasing order so that a
closed handle's value is not given out again at once (a stale handle then gets
STATUS_INVALID_HANDLE instead of silently reaching another key). Each entry
holds one reference on its key object; closing drops it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .objects import KeyObject

if TYPE_CHECKING:
    from .processes import ProcessObject, ThreadObject

HANDLE_STEP = 4
# The low two bits of a handle are tag bits the system ignores (OBJ_HANDLE_TAGBITS; docs fact 86).
HANDLE_TAG_BITS = 3
# Handles cycle within this range; a value is only reused after the whole range.
HANDLE_LIMIT = 1 << 24


@dataclass(frozen=True)
class HandleEntry:
    # A key object, or a process or thread object (ZwOpenProcess, ObOpenObjectByPointer): the same
    # table holds them all, as Windows' handle table does; each use checks the kind it needs.
    obj: KeyObject | ProcessObject | ThreadObject
    granted_access: int
    attributes: int


class HandleTable:
    """Handle value -> (key object, granted access). Safe to use from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, HandleEntry] = {}
        self._next = HANDLE_STEP

    def insert(self, obj: KeyObject | ProcessObject | ThreadObject, granted_access: int, attributes: int = 0) -> int:
        """A new handle for obj; the table takes over the caller's reference on it."""
        with self._lock:
            if len(self._entries) >= HANDLE_LIMIT // HANDLE_STEP - 1:
                raise OverflowError("handle table full")
            while self._next in self._entries or self._next == 0:
                self._next = (self._next + HANDLE_STEP) % HANDLE_LIMIT
            handle = self._next
            self._next = (self._next + HANDLE_STEP) % HANDLE_LIMIT
            self._entries[handle] = HandleEntry(obj, granted_access, attributes)
            return handle

    def lookup(self, handle: int) -> HandleEntry | None:
        # Lock-free: dict.get is atomic under the GIL and entries are immutable; a handle
        # closed concurrently is either still found (its reference is then taken under the
        # object's lock, which fails loudly if it was already freed) or not found.
        return self._entries.get(handle & ~HANDLE_TAG_BITS)

    def remove(self, handle: int) -> HandleEntry | None:
        """Take the entry out; its reference passes to the caller, who must drop it."""
        with self._lock:
            return self._entries.pop(handle & ~HANDLE_TAG_BITS, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
