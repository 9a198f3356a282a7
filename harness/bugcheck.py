"""Bugcheck and hang reports: what the machine record (cmhook_shim.h's CMHOOK_MACHINE_RECORD) says
about a machine that crashed, hung or ended early, turned into the report Windows would give.

Read in the watching parent after the machine's process is gone (or stuck): nothing here calls
into the shim; the record's types come from the shim's declarations, its addresses are
symbolized from each module's own debug information with addr2line.

Which bug check (our decisions; the codes and names are bugcodes.h's, in include/ntddk.h):
- a fault hitting the thread's stack guard: UNEXPECTED_KERNEL_MODE_TRAP (0x7F) with
  EXCEPTION_DOUBLE_FAULT, which is how a kernel stack overflow stops Windows;
- an abort from the stack protector (``__stack_chk_fail``): DRIVER_OVERRAN_STACK_BUFFER (0xF7);
- an abort from the C library's heap checks (a pool block overrun, a double free): BAD_POOL_HEADER (0x19);
- any other abort: KMODE_EXCEPTION_NOT_HANDLED (0x1E) with STATUS_FATAL_APP_EXIT;
- an access violation on an address past the first 64 KiB (not a NULL pointer plus an offset):
  PAGE_FAULT_IN_NONPAGED_AREA (0x50), invalid memory referenced;
- any other exception (a NULL dereference, a division by zero, an illegal instruction):
  SYSTEM_SERVICE_EXCEPTION (0x3B) in a callback of a user-mode process's registry call (the call
  is a system service), SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (0x7E) in DriverEntry, DriverUnload
  or a call made by the System process (system threads, and the start routines and work items
  the shim runs on them), KMODE_EXCEPTION_NOT_HANDLED (0x1E) in a DPC and outside driver code.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ntddk_py
from ntddk_py import status_name
from registry_core.callbacks import notify_class_name
from registry_core.caller import SYSTEM
from registry_core.profiles import PROFILES

from . import shim

NULL_REGION = 0x10000  # Windows never maps the first 64 KiB: an address there is a NULL pointer plus an offset
STACK_SHOWN = 16  # frames a report shows at most
RECENT_SHOWN = 10  # the trace records before the crash a report shows
_NAMES = ("IRQL_NOT_LESS_OR_EQUAL", "BAD_POOL_HEADER", "KMODE_EXCEPTION_NOT_HANDLED", "SYSTEM_SERVICE_EXCEPTION",
          "PAGE_FAULT_IN_NONPAGED_AREA", "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED", "UNEXPECTED_KERNEL_MODE_TRAP",
          "KERNEL_MODE_EXCEPTION_NOT_HANDLED", "BAD_POOL_CALLER", "DRIVER_OVERRAN_STACK_BUFFER",
          # Driver Verifier's, which findings stand for (harness/kernel.py's Finding)
          "IRQL_NOT_GREATER_OR_EQUAL", "INVALID_KERNEL_HANDLE", "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION",
          "DRIVER_VERIFIER_DETECTED_VIOLATION", "DRIVER_CORRUPTED_EXPOOL", "DRIVER_CAUGHT_MODIFYING_FREED_POOL",
          "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS", "DRIVER_IRQL_NOT_LESS_OR_EQUAL",
          "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL", "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION")
BUGCHECK_NAMES = {getattr(ntddk_py, name): name for name in _NAMES}
# What the C library calls on the way to an abort, by what the abort means.
_STACK_PROTECTOR = frozenset({"__stack_chk_fail", "__stack_chk_fail_local", "__fortify_fail"})
_HEAP_CHECKS = frozenset({"malloc_printerr", "__libc_free", "free", "__libc_malloc", "malloc", "realloc",
                          "cfree", "_int_free", "_int_malloc", "__libc_realloc"})
# The shim's CMHOOK_DRIVER_CALL values (cmhook_shim.h), and what a report calls each.
_CALLS = shim.shim_ffi().typeof("CMHOOK_DRIVER_CALL").relements
IN_DRIVER_ENTRY, IN_DRIVER_UNLOAD, IN_CALLBACK = (_CALLS[name] for name in (
    "CmhookInDriverEntry", "CmhookInDriverUnload", "CmhookInCallback"))
_KINDS = {IN_DRIVER_ENTRY: "DriverEntry", IN_DRIVER_UNLOAD: "DriverUnload", IN_CALLBACK: "registry callback"}
# devices: a dispatch routine serving an IRP (harness/devices.py), in the caller's process.
IN_DISPATCH = _CALLS["CmhookInDispatch"]
_KINDS[IN_DISPATCH] = "dispatch routine"
# The notify routines (harness/processes.py calls them through CmhookCallDriverRoutine).
_KINDS.update({_CALLS["CmhookInProcessNotify"]: "create-process notify routine",
               _CALLS["CmhookInThreadNotify"]: "create-thread notify routine",
               _CALLS["CmhookInImageNotify"]: "load-image notify routine"})
# The dispatcher's driver calls (kewait: harness/shim/ke_dispatcher.c).
IN_SYSTEM_THREAD, IN_WORK_ITEM, IN_DPC, IN_TIMER_DPC = (_CALLS[name] for name in (
    "CmhookInSystemThread", "CmhookInWorkItem", "CmhookInDpc", "CmhookInTimerDpc"))
_KINDS.update({IN_SYSTEM_THREAD: "system thread start routine", IN_WORK_ITEM: "work item routine",
               IN_DPC: "DPC routine", IN_TIMER_DPC: "timer DPC routine"})
# An exception in a DPC is no thread's: KMODE_EXCEPTION_NOT_HANDLED, as Windows stops with.
DPCS = (IN_DPC, IN_TIMER_DPC)
SYSTEM_THREADS = (IN_DRIVER_ENTRY, IN_DRIVER_UNLOAD, IN_SYSTEM_THREAD, IN_WORK_ITEM)  # the System process's threads
_ACCESS = {0: "reading", 1: "writing", 8: "executing"}
_MODULE_SPAN = 1 << 28  # no driver module maps more than 256 MiB


@dataclass(frozen=True)
class Frame:
    """One address of a stack, as the shim recorded it: the module holding it and dladdr's symbol."""

    address: int
    base: int
    module: str
    symbol: str


@dataclass
class Place:
    """A frame symbolized: module + offset, and the function and file:line where debug info has them."""

    frame: Frame
    module_name: str
    driver: str | None
    function: str | None = None
    source: str | None = None

    @property
    def offset(self) -> int:
        return self.frame.address - self.frame.base

    def __str__(self) -> str:
        where = f"{self.module_name}+0x{self.offset:x}" if self.frame.base else f"0x{self.frame.address:x}"
        name = self.function or self.frame.symbol
        return where + (f" {name}" if name else "") + (f" ({self.source})" if self.source else "")


@dataclass
class Thread:
    """A watch slot: what a thread was doing in driver code."""

    tid: int
    depth: int
    kind: int
    notify_class: int
    function: int
    process_id: int
    thread_id: int
    since: int

    @classmethod
    def of(cls, slot: Any) -> Thread:
        return cls(slot.Tid, slot.Depth, slot.Kind, slot.NotifyClass, int(slot.Function), int(slot.ProcessId),
                   int(slot.ThreadId), int(slot.Since))


@dataclass
class Report:
    """A bugcheck (or a hang, or an early end): the code, the driver, and the text a user reads."""

    kind: str  # "bugcheck", "hang" or "ended"
    code: int | None
    name: str
    driver: str | None
    text: str
    parameters: tuple[int, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> str:
        if self.code is not None:
            return f"bugcheck 0x{self.code:X} {self.name}" + (f" in {self.driver}" if self.driver else "")
        return self.name + (f" in {self.driver}" if self.driver else "")


def frames(ffi: Any, array: Any, count: int) -> list[Frame]:
    """The recorded frames as Python values (copied: the record's memory goes away)."""
    return [Frame(int(f.Address), int(f.ModuleBase), ffi.string(f.Module).decode("utf-8", "replace"),
                  ffi.string(f.Symbol).decode("utf-8", "replace"))
            for f in (array[index] for index in range(min(count, len(array))))]


@dataclass(frozen=True)
class Module:
    """A driver module the machine loaded: the driver's name, the file as loaded, its base address."""

    driver: str
    path: str
    base: int


class Modules(list[Module]):
    """The driver modules the machine loaded (the machine sends each as it loads it), and the image
    file name of each process that appeared in it (``processes``: what PROCESS_NAME shows)."""

    processes: dict[int, str]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.processes = {}

    def driver_of(self, path: str, base: int = 0) -> str | None:
        """The driver a module file (or base address) is, else None: the shim, the C library, Python."""
        return next((m.driver for m in self if m.path == path or (base and m.base == base)), None)

    def containing(self, address: int) -> Module | None:
        below = [m for m in self if m.base <= address < m.base + _MODULE_SPAN]
        return max(below, key=lambda m: m.base) if below else None


def symbolize(stack: list[Frame], modules: Modules) -> list[Place]:
    """Each frame as module + offset, with function and file:line from the module's DWARF (addr2line).

    Frame 0 is the faulting instruction; the others are return addresses, looked up one byte back
    so the line is the call's, not the next statement's."""
    places = []
    for frame in stack:
        driver = modules.driver_of(frame.module, frame.base)
        module_name = driver or (Path(frame.module).name if frame.module else "?")
        places.append(Place(frame, module_name, driver))
    wanted: dict[str, list[tuple[Place, int]]] = defaultdict(list)
    for index, place in enumerate(places):
        if place.driver is not None and place.frame.base and os.path.isfile(place.frame.module):
            wanted[place.frame.module].append((place, place.offset - (1 if index else 0)))
    for module, items in wanted.items():
        try:
            done = subprocess.run(["addr2line", "-f", "-e", module, *(f"0x{offset:x}" for _, offset in items)],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = done.stdout.splitlines()
        for (place, _), function, source in zip(items, lines[0::2], lines[1::2], strict=False):
            if function and function != "??":
                place.function = function
            if source and not source.startswith("??"):
                place.source = os.path.basename(source.split(" ")[0]) if not source.startswith("/") else \
                    _short_source(source.split(" ")[0])
    return places


def _short_source(path: str) -> str:
    """A source path as a user reads it: relative to the current folder when under it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return relative if not relative.startswith("..") else path


def operation_of(notify_class: int) -> str | None:
    """The native call that sends a notify class, in any profile."""
    for profile in PROFILES.values():
        for api, (pre, post) in profile.sends.items():
            if any(n is not None and n.notify_class == notify_class for n in (pre, post)):
                return api
    return None


def _activity(thread: Thread, modules: Modules) -> tuple[str | None, str]:
    """(driver, what it was doing): the routine entered, and for a callback its notification."""
    if thread.depth <= 0:
        return None, "outside driver code (in the harness itself: please report this as a cmhook bug)"
    module = modules.containing(thread.function)
    entered = symbolize([Frame(thread.function, module.base if module else 0, module.path if module else "", "")],
                        modules)[0]
    driver = entered.driver
    kind = _KINDS.get(thread.kind, "driver code")
    text = f"{kind} {entered}" if entered is not None else kind
    if thread.kind == IN_CALLBACK and thread.notify_class >= 0:
        operation = operation_of(thread.notify_class)
        text += f", for {notify_class_name(thread.notify_class)}" + (f" ({operation})" if operation else "")
    return driver, text


def _caller(thread: Thread, modules: Modules | None = None) -> str:
    """Who the thread acted for, with the process's image name beside its id (!analyze's PROCESS_NAME)."""
    if thread.depth <= 0:
        return "unknown"
    if thread.process_id == SYSTEM.process_id or thread.kind in SYSTEM_THREADS:
        return f"the System process ({SYSTEM.process_id}), thread {thread.thread_id}"
    name = (modules.processes if modules is not None else {}).get(thread.process_id)
    return f"process {thread.process_id}" + (f" ({name})" if name else "") + f", thread {thread.thread_id}"


def process_name(thread: Thread, modules: Modules) -> str | None:
    """The image file name of the process the thread acted for, as !analyze's PROCESS_NAME shows it."""
    if thread.depth <= 0:
        return None
    if thread.process_id == SYSTEM.process_id or thread.kind in SYSTEM_THREADS:
        return SYSTEM.image
    return modules.processes.get(thread.process_id)


def _choose(crash: Any, thread: Thread, symbols: set[str]) -> tuple[int, tuple[int, ...], str]:
    """(bug check code, its four parameters, what happened) for a crash record."""
    code, ip = crash.ExceptionCode & 0xFFFFFFFF, int(crash.Ip)
    address = int(crash.FaultAddress)
    if crash.StackOverflow:
        return (ntddk_py.UNEXPECTED_KERNEL_MODE_TRAP, (ntddk_py.EXCEPTION_DOUBLE_FAULT, 0, 0, 0),
                f"{status_name(ntddk_py.STATUS_STACK_OVERFLOW)}: the kernel stack overflowed (unbounded recursion "
                "or a huge local array)")
    if crash.Signal == signal.SIGABRT:
        if symbols & _STACK_PROTECTOR:
            return (ntddk_py.DRIVER_OVERRAN_STACK_BUFFER, (0, 0, 0, 0),
                    f"{status_name(ntddk_py.STATUS_STACK_BUFFER_OVERRUN)}: a stack buffer was overrun "
                    "(the stack protector's cookie was overwritten)")
        if symbols & _HEAP_CHECKS:
            return (ntddk_py.BAD_POOL_HEADER, (0, 0, 0, 0),
                    "pool corrupted: a block was written past its end, or freed twice (the C library's heap "
                    "checks aborted)")
        return (ntddk_py.KMODE_EXCEPTION_NOT_HANDLED, (ntddk_py.STATUS_FATAL_APP_EXIT & 0xFFFFFFFF, ip, 0, 0),
                f"{status_name(ntddk_py.STATUS_FATAL_APP_EXIT)}: abort() was called")
    what = status_name(crash.ExceptionCode) if crash.ExceptionCode else f"signal {crash.Signal}"
    if crash.ExceptionCode == ntddk_py.STATUS_ACCESS_VIOLATION:
        what += f" {_ACCESS.get(crash.Access, 'at')} 0x{address:016x}"
        if address >= NULL_REGION:
            return ntddk_py.PAGE_FAULT_IN_NONPAGED_AREA, (address, 1 if crash.Access == 1 else 0, ip, 0), what
    if thread.depth <= 0 or thread.kind in DPCS:
        return ntddk_py.KMODE_EXCEPTION_NOT_HANDLED, (code, ip, 0, 0), what
    if thread.kind in SYSTEM_THREADS or thread.process_id == SYSTEM.process_id:
        return ntddk_py.SYSTEM_THREAD_EXCEPTION_NOT_HANDLED, (code, ip, 0, 0), what
    return ntddk_py.SYSTEM_SERVICE_EXCEPTION, (code, ip, 0, 0), what


def _stack_lines(places: list[Place]) -> list[str]:
    """The stack down to the last frame in a driver or the shim; the harness's own frames below it
    (cffi, Python) are counted, not shown."""
    ours = [index for index, place in enumerate(places)
            if place.driver is not None or Path(place.frame.module).name == shim.LIBRARY_NAME]
    shown = places[:min(STACK_SHOWN, ours[-1] + 1 if ours else len(places))]
    lines = [f"    #{index:<2} {place}" for index, place in enumerate(shown)]
    if len(places) > len(shown):
        lines.append(f"    ({len(places) - len(shown)} more frames: the harness, cffi and Python)")
    return lines


def _recent_lines(recent: list[str]) -> list[str]:
    if not recent:
        return ["  last trace records: none"]
    return ["  last trace records (the newest last):", *(f"    {line}" for line in recent[-RECENT_SHOWN:])]


def crash_report(ffi: Any, crash: Any, modules: Modules, recent: list[str]) -> Report:
    """The bugcheck report of a crash record (CMHOOK_CRASH)."""
    stack = frames(ffi, crash.Frames, crash.FrameCount)
    places = symbolize(stack, modules)
    thread = Thread.of(crash.Thread)
    symbols = {place.frame.symbol for place in places} | {place.function or "" for place in places}
    code, parameters, what = _choose(crash, thread, symbols)
    name = BUGCHECK_NAMES[code]
    driver, doing = _activity(thread, modules)
    faulting = next((place for place in places if place.driver is not None), places[0] if places else None)
    driver = driver or (faulting.driver if faulting is not None else None)
    spelled = ", ".join(f"0x{value & 0xFFFFFFFFFFFFFFFF:x}" for value in parameters)
    lines = [f"*** STOP: 0x{code:08X} ({spelled})", name, "",
             f"cmhook: bugcheck 0x{code:X} {name}: " + (f"driver {driver} crashed" if driver else "a crash"),
             f"  what:          {what}",
             f"  where:         {faulting}" if faulting is not None else "  where:         unknown",
             f"  doing:         {doing}",
             f"  caller:        {_caller(thread, modules)} (Linux thread {crash.Tid})",
             f"  PROCESS_NAME:  {process_name(thread, modules) or 'unknown'}",
             "  stack:", *_stack_lines(places), *_recent_lines(recent)]
    return Report("bugcheck", code, name, driver, "\n".join(lines) + "\n", parameters,
                  {"what": what, "where": str(faulting) if faulting is not None else None, "doing": doing,
                   "process_name": process_name(thread, modules)})


def hang_report(thread: Thread, stack: list[Frame], modules: Modules, seconds: float, recent: list[str]) -> Report:
    """A thread that stayed in driver code past the watchdog's limit."""
    places = symbolize(stack, modules)
    driver, doing = _activity(thread, modules)
    innermost = next((place for place in places if place.driver is not None), None)
    lines = ["cmhook: hang: " + (f"driver {driver} " if driver else "") +
             f"did not return within {seconds:g} s (the watchdog stopped the machine)",
             f"  doing:         {doing}",
             f"  caller:        {_caller(thread, modules)} (Linux thread {thread.tid})",
             f"  stuck at:      {innermost}" if innermost is not None
             else "  stuck at:      (no frame in a driver)" if places
             else "  stuck at:      (no stack: the thread did not answer)",
             *(["  stack:", *_stack_lines(places)] if places else []), *_recent_lines(recent)]
    return Report("hang", None, "hang", driver, "\n".join(lines) + "\n", (),
                  {"doing": doing, "where": str(innermost) if innermost is not None else None, "seconds": seconds})


def ended_report(threads: list[Thread], modules: Modules, wait_status: int, recent: list[str]) -> Report:
    """The machine's process ended without finishing its work and without a crash record: an
    exit() or exit_group() in driver code (any status, 0 too), or a kill from outside."""
    if os.WIFSIGNALED(wait_status):
        how = f"was killed by signal {os.WTERMSIG(wait_status)} ({signal.Signals(os.WTERMSIG(wait_status)).name})"
    else:
        how = f"exited with status {os.WEXITSTATUS(wait_status)}"
    inside = [thread for thread in threads if thread.depth > 0]
    driver, doing = _activity(inside[0], modules) if inside else (None, "outside driver code")
    why = ("  a driver that calls exit() or exit_group() ends the machine, which Windows has no way to do: "
           "this is a failure, whatever the status" if os.WIFEXITED(wait_status)
           else "  the machine left no crash record: it was killed from outside, or died where the shim could "
                "not record it")
    lines = [f"cmhook: the machine {how} before it finished" + (f", inside driver {driver}" if driver else ""),
             f"  doing:         {doing}", why, *_recent_lines(recent)]
    return Report("ended", None, "machine ended early", driver, "\n".join(lines) + "\n", (), {"doing": doing})
