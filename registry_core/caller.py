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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

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
    # Computed once: the hot path asks it on every probe and access check.
    user_mode: bool = field(init=False, repr=False, compare=False)
    # The same process arriving in kernel mode: what a Zw call made on its behalf switches to.
    _kernel: Caller | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_mode", self.mode == MODE.UserMode)

    def in_kernel_mode(self) -> Caller:
        """This process with previous mode KernelMode, made once per Caller."""
        if not self.user_mode:
            return self
        kernel = self._kernel
        if kernel is None:
            kernel = replace(self, mode=MODE.KernelMode)
            object.__setattr__(self, "_kernel", kernel)
        return kernel


DEFAULT_CALLER = Caller()
# The System process: what DriverEntry, DriverUnload and the I/O manager's own work run as.
SYSTEM = Caller(mode=MODE.KernelMode, process_id=4, image="System")


# Told of each caller calling_as makes current, so that its process exists from its first appearance
# (the harness's kernel sets it: harness/processes.py). None: nobody listens.
appeared: Callable[[Caller], object] | None = None


def current() -> Caller:
    return getattr(_local, "caller", DEFAULT_CALLER)


def switch(caller: Caller) -> Caller:
    """Make caller this thread's caller and return the one it replaces; restore it with switch(previous).

    The cheap form of calling_as for the kernel's hot path (a driver's every Zw call): one
    thread-local read and one write each way, no context manager.
    """
    previous = getattr(_local, "caller", DEFAULT_CALLER)
    _local.caller = caller
    return previous


def thread_id() -> int:
    """This OS thread's emulated thread id (PsGetCurrentThreadId)."""
    tid = getattr(_local, "thread_id", None)
    if tid is None:
        tid = _local.thread_id = next(_thread_ids)
    return tid


def ids() -> tuple[int, int]:
    """(process id, thread id) of this thread's caller, what PsGetCurrentProcessId and
    PsGetCurrentThreadId give: two thread-local reads, for the callback walk's hot path."""
    local = _local
    return getattr(local, "caller", DEFAULT_CALLER).process_id, getattr(local, "thread_id", None) or thread_id()


def enter_kernel_mode() -> Caller:
    """switch() to this thread's process in kernel mode, as a driver's Zw call does; returns the previous caller."""
    previous = getattr(_local, "caller", DEFAULT_CALLER)
    _local.caller = previous if not previous.user_mode else previous.in_kernel_mode()
    return previous


@contextmanager
def calling_as(caller: Caller) -> Iterator[Caller]:
    """Make registry calls on this thread on behalf of caller until the block ends."""
    previous = current()
    if appeared is not None:
        appeared(caller)
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
    with calling_as(current().in_kernel_mode()) as caller:
        yield caller
