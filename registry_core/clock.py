"""The emulated system time: what KeQuerySystemTime and key last-write times read.

FILETIME units (100 ns since 1601-01-01 UTC). By default it follows the host's
clock; tests can set it and advance it so that times are reproducible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# 100-ns intervals between 1601-01-01 and 1970-01-01.
EPOCH_1601_TO_1970 = 116444736000000000


class Clock:
    """System time that is real by default and pinned once a test sets it."""

    def __init__(self) -> None:
        self._pinned: int | None = None
        self._lock = threading.Lock()
        # A machine's dispatcher (harness/shim/ke_dispatcher.c) that keeps time itself: source gives
        # its time (None until it pinned the clock), moved tells it the clock was set or advanced.
        self.source: Callable[[], int | None] | None = None
        self.moved: Callable[[int], None] | None = None

    @property
    def pinned(self) -> bool:
        """Whether the clock stands still until set or advanced (else it follows the host's)."""
        return self._pinned is not None or (self.source is not None and self.source() is not None)

    def now(self) -> int:
        source = self.source
        if source is not None and (kept := source()) is not None:
            return kept
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
        if self.moved is not None:
            self.moved(filetime)

    def advance(self, hundred_ns: int) -> None:
        """Move a pinned clock forward (pinning it at the current time first if needed)."""
        if hundred_ns < 0:
            raise ValueError("the clock only moves forward")
        current = self.now()
        with self._lock:
            self._pinned = current + hundred_ns
        if self.moved is not None:
            self.moved(current + hundred_ns)
