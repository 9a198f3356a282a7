"""The emulated system time: what KeQuerySystemTime and key last-write times read.

FILETIME units (100 ns since 1601-01-01 UTC). By default it follows the host's
clock; tests can set it and advance it so that times are reproducible.
"""

from __future__ import annotations

import threading
import time

# 100-ns intervals between 1601-01-01 and 1970-01-01.
EPOCH_1601_TO_1970 = 116444736000000000


class Clock:
    """System time that is real by default and pinned once a test sets it."""

    def __init__(self) -> None:
        self._pinned: int | None = None
        self._lock = threading.Lock()

    def now(self) -> int:
        # Lock-free: reading one attribute is atomic under the GIL, and set/advance replace
        # it whole, so a reader sees the old or the new pinned time, never a torn one.
        pinned = self._pinned
        if pinned is not None:
            return pinned
        return EPOCH_1601_TO_1970 + time.time_ns() // 100

    def set(self, filetime: int) -> None:
        """Pin the clock at a FILETIME value; it stays there until advanced."""
        if not 0 <= filetime < 1 << 63:
            raise ValueError(f"a FILETIME is a non-negative 64-bit count of 100 ns, not {filetime}")
        with self._lock:
            self._pinned = filetime

    def advance(self, hundred_ns: int) -> None:
        """Move a pinned clock forward (pinning it at the current time first if needed)."""
        if hundred_ns < 0:
            raise ValueError("the clock only moves forward")
        current = self.now()
        with self._lock:
            self._pinned = current + hundred_ns
