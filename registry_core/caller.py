"""Who is calling: the emulated process, thread and previous mode of a registry call.

Every registry call is made on behalf of an emulated process (id and image
path) and thread (id) with a previous mode: UserMode for calls from Python
tests and scripts, KernelMode for drivers' Zw calls. The thread id is per OS
thread and stable for its life, so the pre and post of one operation see the
same one. Nothing here knows about keys.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from ntddk_py import MODE

# Emulated ids are multiples of 4, as Windows' client ids are.
_thread_ids = itertools.count(0x1000, 4)
_local = threading.local()


@dataclass(frozen=True)
class Caller:
    """The calling process and the mode its call arrives in."""

    mode: MODE = MODE.UserMode
    process_id: int = 0x1F0
    image: str = "\\Device\\HarddiskVolume1\\Windows\\explorer.exe"

    @property
    def user_mode(self) -> bool:
        return self.mode == MODE.UserMode


DEFAULT_CALLER = Caller()


def current() -> Caller:
    return getattr(_local, "caller", DEFAULT_CALLER)


def thread_id() -> int:
    """This OS thread's emulated thread id (PsGetCurrentThreadId)."""
    tid = getattr(_local, "thread_id", None)
    if tid is None:
        tid = _local.thread_id = next(_thread_ids)
    return tid


@contextmanager
def calling_as(caller: Caller) -> Iterator[Caller]:
    """Make registry calls on this thread on behalf of caller until the block ends."""
    previous = current()
    _local.caller = caller
    try:
        yield caller
    finally:
        _local.caller = previous


@contextmanager
def as_process(process_id: int, image: str, mode: MODE = MODE.UserMode) -> Iterator[Caller]:
    """calling_as for a process given by id and image path."""
    with calling_as(replace(current(), process_id=process_id, image=image, mode=mode)) as caller:
        yield caller


@contextmanager
def kernel_mode() -> Iterator[Caller]:
    """Calls on this thread arrive as a driver's Zw calls do: trusted, unprobed."""
    with calling_as(replace(current(), mode=MODE.KernelMode)) as caller:
        yield caller
