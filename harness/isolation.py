"""The emulated machine (the engine and the loaded drivers) run in a child process that a parent
watches. The parent only reports: a driver that crashes, hangs or exits takes its machine down,
never the runner or the pytest session.

``run(work, deliver)`` forks. The child runs ``work()``; everything it reports goes to the parent
as frames in a shared-memory ring (``send``), and the shim writes what it knows about driver
code into a shared machine record (cmhook_shim.h's CMHOOK_MACHINE_RECORD): which thread is in
which driver routine since when, and, on a fatal signal, the crash. The parent hands each frame
to ``deliver`` as it comes, watches the record, and when the child is gone says how it ended:

- ``returned``: work() returned (its value, pickled across);
- ``raised``: work() raised (the traceback's text): a harness error, not a driver's;
- ``bugcheck``: a fatal signal in the machine (the shim's crash record, as a bugcheck report);
- ``hang``: a thread stayed in one driver routine longer than ``hang_seconds``; the parent asked
  that thread for its C stack (CMHOOK_STACK_SIGNAL), then killed the machine;
- ``ended``: the process ended any other way (an exit() or exit_group() in a driver, status 0
  included, or a kill from outside): always a failure.

Frames a child wrote before it died are read after its death: the ring is the parent's memory.
The child's own temporary files (the drivers' private copies) live in a folder the parent
removes after the report, which symbolizes addresses from those very files.

Linux x86-64 only (fork, tgkill, the ring's memory ordering).
"""

from __future__ import annotations

import contextlib
import ctypes
import marshal
import mmap
import os
import pickle
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import bugcheck, shim
from .ring import Ring

HANG_SECONDS = 10.0  # the watchdog's default: how long one driver routine may run
_POLL_SECONDS = 0.02
_STACK_WAIT_SECONDS = 1.0
_SYS_TGKILL = 234  # x86-64
# Frames the run itself consumes; every other frame is (method, args) for deliver.
_RETURNED, _RAISED, _MODULE = "\0returned", "\0raised", "\0module"
_PROCESS = "\0process"  # a process id and its image file name, for reports (PROCESS_NAME)

# In the child: the machine record's address, and the ring to the parent. None in any other process.
_record_address: int | None = None
_ring: Ring | None = None


def shared_record() -> int | None:
    """Where a Kernel made in this process tells its shim to write the machine record, if anywhere."""
    return _record_address


def in_machine() -> bool:
    """Whether this process is a machine a parent watches."""
    return _ring is not None


def send(method: str, *args: Any) -> None:
    """Report to the watching parent: ``deliver(method, args)`` runs there. Values: what marshal takes
    (ints, strings, bytes, None, tuples and lists of them)."""
    ring = _ring
    if ring is None:
        raise RuntimeError("isolation.send outside a machine process")
    ring.put(marshal.dumps((method, args)))


def note_module(driver: str, path: str, base: int) -> None:
    """A driver module was loaded at base: reports name its addresses after the driver."""
    if _ring is not None:
        send(_MODULE, driver, path, base)


def note_process(process_id: int, image_name: str) -> None:
    """An emulated process appeared: reports name the process a crashed thread acted for."""
    if _ring is not None:
        send(_PROCESS, process_id, image_name)


@dataclass
class Ending:
    """How the machine ended: kind (see the module's doc), work()'s value, or the report."""

    kind: str
    value: Any = None
    report: bugcheck.Report | None = None
    error: str = ""
    wait_status: int | None = None

    @property
    def returned(self) -> bool:
        return self.kind == "returned"


class _Watch:
    """The parent's side of one machine: the ring, the record, the modules, the child."""

    def __init__(self) -> None:
        self.ffi = shim.shim_ffi()
        self.ring = Ring()
        size = self.ffi.sizeof("CMHOOK_MACHINE_RECORD")
        self.memory = mmap.mmap(-1, size)
        self.buffer = self.ffi.from_buffer(self.memory)
        self.record = self.ffi.cast("CMHOOK_MACHINE_RECORD *", self.buffer)
        self.record.Isolated = 1
        self.address = int(self.ffi.cast("ULONG_PTR", self.buffer))
        self.modules = bugcheck.Modules()
        self.workdir = tempfile.mkdtemp(prefix="cmhook-machine-")
        self.outcome: tuple[str, Any] | None = None

    def threads(self) -> list[bugcheck.Thread]:
        slots = self.record.Slots
        return [bugcheck.Thread.of(slots[i]) for i in range(len(slots)) if slots[i].Tid]

    def hung(self, seconds: float) -> bugcheck.Thread | None:
        limit = time.monotonic_ns() - int(seconds * 1e9)
        return next((t for t in self.threads() if t.depth > 0 and t.since < limit), None)

    def stack_of(self, pid: int, tid: int) -> list[bugcheck.Frame]:
        """Ask a thread of the child for its C stack (the shim's CMHOOK_STACK_SIGNAL handler)."""
        record = self.record
        record.StackReady = 0
        record.StackTid = tid
        libc = ctypes.CDLL(None, use_errno=True)
        stack_signal = self.ffi.dlopen(None).CMHOOK_STACK_SIGNAL  # the cdef's enum constant, no library needed
        if libc.syscall(_SYS_TGKILL, pid, tid, stack_signal) != 0:
            return []
        deadline = time.monotonic() + _STACK_WAIT_SECONDS
        while not record.StackReady and time.monotonic() < deadline:
            time.sleep(0.005)
        if not record.StackReady:
            return []
        return bugcheck.frames(self.ffi, record.Stack, record.StackCount)

    def pump(self, deliver: Callable[[str, tuple], None]) -> None:
        """Hand every complete frame to deliver; keep the run's own."""
        for frame in self.ring.take():
            method, args = marshal.loads(frame)
            if method == _MODULE:
                self.modules.append(bugcheck.Module(*args))
            elif method == _PROCESS:
                self.modules.processes[args[0]] = args[1]
            elif method in (_RETURNED, _RAISED):
                self.outcome = (method, args[0])
            else:
                deliver(method, args)

    def close(self) -> None:
        del self.record
        self.ffi.release(self.buffer)
        with contextlib.suppress(BufferError):
            self.memory.close()
        with contextlib.suppress(BufferError):
            self.ring.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _child(watch: _Watch, work: Callable[[], Any]) -> None:
    """The machine's process: run work, send how it went, and leave without running the parent's exit code."""
    global _record_address, _ring
    status = 0
    try:
        _record_address, _ring = watch.address, watch.ring
        tempfile.tempdir = watch.workdir
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent stops the run and says so
        try:
            value = work()
            frame = marshal.dumps((_RETURNED, (pickle.dumps(value),)))
        except BaseException:  # the work's failure is the harness's own: said, not hidden
            frame = marshal.dumps((_RAISED, (traceback.format_exc(),)))
        watch.ring.put(frame)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    except BaseException:
        status = 70
    finally:
        os._exit(status)


def run(work: Callable[[], Any], deliver: Callable[[str, tuple], None], *, hang_seconds: float = HANG_SECONDS,
        recent: Callable[[], list[str]] = list) -> Ending:
    """Run work() in a machine process; deliver what it sends as it comes; say how it ended.

    recent() gives the last trace records the parent has shown, for a report."""
    watch = _Watch()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would write the parent's buffered output a second time
    notice_read, notice_write = os.pipe()  # the child holds the write end: EOF when it is gone
    pid = os.fork()
    if pid == 0:
        os.close(notice_read)  # the write end stays open until the child is gone
        _child(watch, work)
    os.close(notice_write)
    hung: bugcheck.Thread | None = None
    stack: list[bugcheck.Frame] = []
    try:
        wait_status = _watch_child(watch, pid, notice_read, deliver, hang_seconds)
        if isinstance(wait_status, bugcheck.Thread):
            hung = wait_status
            stack = watch.stack_of(pid, hung.tid)
            os.kill(pid, signal.SIGKILL)
            _, wait_status = os.waitpid(pid, 0)
        watch.pump(deliver)
        return _ending(watch, wait_status, hung, stack, hang_seconds, recent)
    except BaseException:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise
    finally:
        os.close(notice_read)
        watch.close()


def _watch_child(watch: _Watch, pid: int, notice: int, deliver: Callable[[str, tuple], None],
                 hang_seconds: float) -> int | bugcheck.Thread:
    """Pump frames until the child is gone (its wait status) or a thread of it hangs (that thread)."""
    while True:
        gone, _, _ = select.select([notice], [], [], _POLL_SECONDS)
        watch.pump(deliver)
        if gone:
            _, wait_status = os.waitpid(pid, 0)
            return wait_status
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:  # the child is gone though something it started still holds the notice pipe
            return wait_status
        stuck = watch.hung(hang_seconds)
        if stuck is not None:
            return stuck


def _ending(watch: _Watch, wait_status: int, hung: bugcheck.Thread | None, stack: list[bugcheck.Frame],
            hang_seconds: float, recent: Callable[[], list[str]]) -> Ending:
    if hung is not None:
        report = bugcheck.hang_report(hung, stack, watch.modules, hang_seconds, recent())
        return Ending("hang", report=report, wait_status=wait_status)
    crash = watch.record.Crash
    if crash.Crashed:
        return Ending("bugcheck", report=bugcheck.crash_report(watch.ffi, crash, watch.modules, recent()),
                      wait_status=wait_status)
    if watch.outcome is not None:
        method, payload = watch.outcome
        if method == _RETURNED:
            return Ending("returned", value=pickle.loads(payload), wait_status=wait_status)
        return Ending("raised", error=payload, wait_status=wait_status)
    return Ending("ended", report=bugcheck.ended_report(watch.threads(), watch.modules, wait_status, recent()),
                  wait_status=wait_status)
