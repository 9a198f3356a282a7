"""Registry callbacks: the callback table (CmRegisterCallback / CmUnRegisterCallback),
the dispatcher that walks it for pre and post notifications, and the trace.

Decisions (docs/architecture.md, "Behaviour decisions"): a fixed table of 100 slots taken
first-free and walked in slot order (1); opaque cookies never reused, an unknown one is
STATUS_INVALID_PARAMETER (2); unregistration waits for invocations running on other threads
and is a verifier error from inside the same callback (3); the first failing pre stops the
walk (4); posts go to every callback and their status is ignored (5); a thread inside a
callback reaches no callback (6); no lock is held while a callback runs (10).

A callback is a C function pointer of type PEX_CALLBACK_FUNCTION or a Python callable with
the same three arguments, wrapped by cffi: both are called through one function pointer. With a
native walker (a loaded kernel shim) a C function is always called by the shim, also when the
walk is in Python, so that it runs as driver code the shim's machine record watches.
This module knows notify classes and statuses, not keys or handles.
"""

from __future__ import annotations

import itertools
import re
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ntddk_py import (
    REG_NOTIFY_CLASS,
    STATUS_FLT_INSTANCE_ALTITUDE_COLLISION,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
    ffi,
    ntstatus,
    status_name,
)

from . import caller

MAX_CALLBACKS = 100
# Cookies are opaque 64-bit values; these only ever grow, so none is handed out twice.
_COOKIE_BASE = 0x0000_0C00_0000_0000
_COOKIE_STEP = 0x10


def notify_class_name(notify_class: int) -> str:
    """The class's name as the specification writes it in 2003 terms: RegNtPreSetValueKey, not RegNtSetValueKey."""
    names = [name for name, member in REG_NOTIFY_CLASS.__members__.items() if member == notify_class]
    if not names:
        return f"REG_NOTIFY_CLASS({notify_class})"
    return next((name for name in names if name.startswith(("RegNtPre", "RegNtPost"))), names[0])


class VerifierError(Exception):
    """A filter did something that would hang or crash Windows; the harness reports it instead."""


class FilterCrash(VerifierError):
    """A Python callback raised: on Windows the filter would have brought the machine down."""


@dataclass(eq=False)
class Registration:
    """One occupied slot: the routine, its context, and whether it is being unregistered."""

    slot: int
    cookie: int
    function: Any  # cdata PEX_CALLBACK_FUNCTION
    context: Any  # cdata PVOID
    name: str
    keepalive: object = None  # the cffi callback wrapping a Python callable
    removed: bool = False
    # The same flag in native memory, for the walk in C (and its address names the callback there).
    removed_cell: Any = None
    alone: tuple = ()  # (self,): what the Python walk puts on the thread's active stack
    # A C function's one-entry walk (function, context, removed cell): how the Python walk has the
    # kernel shim call it, as driver code the machine record watches. None for a Python callable.
    entries: Any = None
    # Vista and later: the altitude CmRegisterCallbackEx gave (its decimal text), None for a
    # CmRegisterCallback registration; ``rank`` orders the layered walk (``altitude_rank``).
    altitude: str | None = None
    rank: tuple = ()

    def __post_init__(self) -> None:
        self.removed_cell = ffi.new("LONG *")
        self.alone = (self,)
        if self.keepalive is None:
            self.entries = ffi.new("PVOID[]", [self.function, self.context, self.removed_cell])


class Snapshot(tuple):
    """The live registrations in slot order; ``native`` holds what the C walk takes when every
    one of them is a C function, (count, entries: function, context and removed cell of each),
    else None."""

    native: Any = None


@dataclass
class NotificationRecord:
    """One notification as the trace keeps it."""

    notify_class: REG_NOTIFY_CLASS
    thread_id: int
    process_id: int
    key_path: str | None
    results: list[tuple[str, int]] = field(default_factory=list)  # (callback name, status returned)
    blocked_by: str | None = None

    @property
    def class_name(self) -> str:
        return notify_class_name(self.notify_class)


@dataclass
class OperationRecord:
    """A registry call: its notifications in order and the status its caller got."""

    api: str
    thread_id: int
    process_id: int
    key_path: str | None
    notifications: list[NotificationRecord] = field(default_factory=list)
    status: int | None = None
    value_name: str | None = None  # the value a value call named (set, query, delete)
    value_type: int | None = None  # the type a set gave

    def describe(self) -> str:
        lines = [f"{self.api} {self.key_path or ''} -> {status_name(self.status or 0)}"]
        for note in self.notifications:
            results = ", ".join(f"{name}={status_name(status)}" for name, status in note.results)
            lines.append(f"  {note.class_name} [{results}]")
        return "\n".join(lines)


# What the hot path appends for one call: (api, thread id, process id, key path, status, notes,
# detail), notes being ((notify class, ((callback name, status), ...), blocker name or None), ...)
# and detail (value name, value type or None) for the calls that name a value, else None.
RawRecord = tuple


def operation_record(raw: RawRecord) -> OperationRecord:
    """The object form of a raw trace tuple, made only when somebody reads the trace."""
    api, thread_id, process_id, key_path, status, notes, detail = raw
    record = OperationRecord(api, thread_id, process_id, key_path, status=status)
    if detail is not None:
        record.value_name, record.value_type = detail
    record.notifications = [NotificationRecord(REG_NOTIFY_CLASS(notify_class), thread_id, process_id, key_path,
                                               list(results), blocked_by)
                            for notify_class, results, blocked_by in notes]
    return record


class Trace:
    """An optional record of every registry call and notification, for tests and the command line.

    The hot path appends one tuple per call; records become objects only when read. With a
    limit, only the newest ``limit`` calls are kept (``dropped`` counts the others), so a
    long run does not hold every call it ever made.
    """

    def __init__(self, limit: int | None = None) -> None:
        # deque.append and popleft are atomic under the GIL: no lock on the hot path.
        self._raw: deque[RawRecord] = deque(maxlen=limit)
        self.limit = limit
        self._appended = 0

    def add_raw(self, raw: RawRecord) -> None:
        self._raw.append(raw)
        self._appended += 1

    @property
    def dropped(self) -> int:
        """Calls recorded but no longer kept because of the limit."""
        return self._appended - len(self._raw)

    def raw(self) -> list[RawRecord]:
        return list(self._raw)

    def drain(self) -> list[RawRecord]:
        """Take every kept record out, oldest first (the command line prints and forgets them)."""
        taken = []
        while True:
            try:
                taken.append(self._raw.popleft())
            except IndexError:
                return taken

    @property
    def operations(self) -> list[OperationRecord]:
        return [operation_record(raw) for raw in list(self._raw)]

    def notifications(self) -> list[NotificationRecord]:
        return [note for op in self.operations for note in op.notifications]

    def classes(self) -> list[str]:
        return [notify_class_name(notify_class) for raw in list(self._raw) for notify_class, _, _ in raw[5]]

    def clear(self) -> None:
        self._raw.clear()
        self._appended = 0


_local = threading.local()
# Argument1 for each class: the class value passed as a pointer-sized integer.
_ARGUMENT1 = {int(member): ffi.cast("PVOID", int(member)) for member in REG_NOTIFY_CLASS}


class _ActiveStack:
    """The callbacks one thread is inside, innermost last, as (registration, notify class)."""

    __slots__ = ("entries", "__weakref__")

    def __init__(self) -> None:
        # (registrations, notify class, walked in C): the Python walk puts one registration
        # there per call; the C walk puts the whole snapshot it walks.
        self.entries: list[tuple[tuple[Registration, ...], int, bool]] = []


# Every thread's stack, so that unregistration can see which callbacks are running anywhere.
_stacks: weakref.WeakSet[_ActiveStack] = weakref.WeakSet()
_stacks_lock = threading.Lock()


def _active_stack() -> list[tuple[tuple[Registration, ...], int, bool]]:
    """This thread's entries (the list itself: the walk pushes and pops on it)."""
    try:
        return _local.stack
    except AttributeError:
        holder = _ActiveStack()
        with _stacks_lock:
            _stacks.add(holder)
        _local.holder = holder  # the WeakSet entry lives as long as the thread's locals
        stack = _local.stack = holder.entries
        return stack


def active_callback() -> tuple[Registration, int] | None:
    """The callback this thread is running, if any, and the notification it is handling."""
    stack = _active_stack()
    if not stack or stack[-1][2]:
        return None
    registrations, notify_class, _ = stack[-1]
    return registrations[0], notify_class


def inside_callback() -> bool:
    """Is this thread running a callback? Its registry calls then reach none (decision 6)."""
    try:
        return bool(_local.stack)
    except AttributeError:
        return False


def _running_elsewhere(registration: Registration) -> bool:
    """Is a walk on another thread inside (or about to call) this registration?

    This thread's own stack is left out: the only callback it runs is the one it is inside,
    and unregistering that one is refused before any wait."""
    own = _active_stack()
    with _stacks_lock:
        stacks = [holder.entries for holder in _stacks if holder.entries is not own]
    # tuple(list) is one atomic copy under the GIL; an entry below a stack's top never moves.
    return any(registration in entry[0] for stack in stacks for entry in tuple(stack))


class CallbackTable:
    """CmRegisterCallback's table: 100 slots, taken first-free, walked in slot order.

    ``snapshot`` is the tuple of live registrations in slot order, rebuilt on every register
    and unregister; a walk reads it once, without a lock (replacing an attribute is atomic
    under the GIL, and the tuple itself never changes).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._slots: list[Registration | None] = [None] * MAX_CALLBACKS
        self._cookies = itertools.count(1)
        self.snapshot: Snapshot = Snapshot()
        self.crashes: list[str] = []
        # From the kernel shim: (CmhookWalkCallbacks, CmhookActiveCallback, CmhookWalkStatuses,
        # CmhookWalkCalled); None walks every callback in Python.
        self.native_walker: Any = None
        self.unregistering = 0
        # The profile's model (set by NativeApi.profile): layered walks by altitude, in Python.
        self.layered = False
        self._legacy = itertools.count(1)
        self.before_unregister: Callable[[Registration], None] | None = None

    def set_layered(self, layered: bool) -> None:
        with self._lock:
            self.layered = layered
            self._publish()

    def _publish(self) -> None:
        live = [r for r in self._slots if r is not None and not r.removed]
        if self.layered:  # Vista's stack: highest altitude first (altitude_rank)
            live.sort(key=lambda r: r.rank, reverse=True)
        snapshot = Snapshot(live)
        if snapshot and not self.layered and all(r.keepalive is None for r in snapshot):
            entries = [pointer for r in snapshot for pointer in (r.function, r.context, r.removed_cell)]
            snapshot.native = (len(snapshot), ffi.new("PVOID[]", entries))
        self.snapshot = snapshot

    def register(self, function: object, context: object = None, name: str | None = None,
                 altitude: str | None = None) -> tuple[int, int]:
        """(status, cookie) for a C function pointer or a Python callable (Context, Argument1, Argument2).

        ``altitude`` (CmRegisterCallbackEx's, as text): its rank orders the layered walk, and an
        altitude equal to a live registration's is STATUS_FLT_INSTANCE_ALTITUDE_COLLISION; one that
        is no decimal number is STATUS_INVALID_PARAMETER."""
        keepalive = None
        if function is None or function == ffi.NULL:
            return STATUS_INVALID_PARAMETER, 0
        rank = altitude_rank(altitude, next(self._legacy))
        if rank is None:
            return STATUS_INVALID_PARAMETER, 0
        if callable(function) and not isinstance(function, ffi.CData):
            keepalive = self._wrap(function)
            pointer = keepalive
            name = name or getattr(function, "__qualname__", repr(function))
        else:
            pointer = ffi.cast("PEX_CALLBACK_FUNCTION", function)
            name = name or f"0x{int(ffi.cast('ULONG_PTR', pointer)):x}"
        context_pointer = ffi.cast("PVOID", context if context is not None else 0)
        with self._lock:
            if altitude is not None and any(r is not None and not r.removed and r.rank == rank for r in self._slots):
                return STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, 0
            for slot, occupant in enumerate(self._slots):
                if occupant is None:
                    cookie = _COOKIE_BASE + next(self._cookies) * _COOKIE_STEP
                    self._slots[slot] = Registration(slot, cookie, pointer, context_pointer, name or "", keepalive,
                                                     altitude=altitude, rank=rank)
                    self._publish()
                    return STATUS_SUCCESS, cookie
        return STATUS_INSUFFICIENT_RESOURCES, 0

    def _wrap(self, function: Callable) -> object:
        def on_error(exception_type, exception, traceback) -> None:
            active = active_callback()
            where = f" handling {notify_class_name(active[1])}" if active else ""
            self.crashes.append(f"{getattr(function, '__qualname__', function)}{where} raised "
                                f"{exception_type.__name__}: {exception}")
            _local.crash = self.crashes[-1]

        def adapter(context, argument1, argument2) -> int:
            # NTSTATUS is a signed LONG; Python filters may spell 0xC0000022 unsigned.
            return ntstatus(function(context, argument1, argument2) or 0)

        return ffi.callback("PEX_CALLBACK_FUNCTION", adapter, onerror=on_error)

    def unregister(self, cookie: int) -> int:
        """Remove a callback, waiting for its invocations on other threads; never called again after.

        First, on a layered profile, ``before_unregister`` delivers the object context cleanups
        still due to it (Vista: CmUnRegisterCallback sends them)."""
        hook = self.before_unregister
        if hook is not None:
            pending = next((r for r in self.snapshot if r.cookie == cookie), None)
            if pending is not None and self._running_here(pending) is None:
                hook(pending)
        with self._lock:
            registration = next((r for r in self._slots if r is not None and r.cookie == cookie and not r.removed),
                                None)
            if registration is None:
                return STATUS_INVALID_PARAMETER
            inner = self._running_here(registration)
            if inner is not None:
                raise VerifierError(
                    f"CmUnRegisterCallback called from inside callback {registration.name} while it handles "
                    f"{notify_class_name(inner)}: on Windows this deadlocks "
                    "(the call waits for the callback itself)")
            registration.removed = True
            registration.removed_cell[0] = 1
            self._publish()
            # A walker pushes the registration (or the snapshot it walks in C) on its stack
            # before it checks ``removed``, so once ``removed`` is set every invocation still to
            # come skips it, and every one that got past the check is on some stack until it
            # returns. (The GIL orders the push against this thread's store and scan; the C
            # walk runs after its thread gave up the GIL, which orders its load after both.)
            self.unregistering += 1
            try:
                while _running_elsewhere(registration):
                    self._idle.wait(0.01)
            finally:
                self.unregistering -= 1
            self._slots[registration.slot] = None
            return STATUS_SUCCESS

    def _running_here(self, registration: Registration) -> int | None:
        """The notify class this thread is handling inside registration's callback, if it is."""
        for registrations, notify_class, in_c in _active_stack():
            if registration not in registrations:
                continue
            if not in_c:
                return notify_class
            active = self.native_walker[1]() if self.native_walker else ffi.NULL
            if active != ffi.NULL and int(ffi.cast("ULONG_PTR", active)) == int(
                    ffi.cast("ULONG_PTR", registration.removed_cell)):
                return notify_class
        return None

    def _wake(self) -> None:
        with self._lock:
            self._idle.notify_all()

    def registrations(self) -> list[Registration]:
        return list(self.snapshot)

    def invoke(self, registration: Registration, notify_class: int, argument2) -> int | None:
        """Call one callback (None if it is being unregistered); no table lock is held during the call.

        A C function is called by the kernel shim's walk, when there is one (a walk of one entry),
        so that it runs as driver code the machine record watches; a Python callable directly."""
        stack = _active_stack()
        stack.append((registration.alone, notify_class, False))  # before the check: see unregister
        try:
            if registration.removed:
                return None
            walker = self.native_walker
            if walker is not None and registration.entries is not None:
                process_id, thread_id = caller.ids()
                walker[0](1, registration.entries, notify_class, argument2, False, process_id, thread_id)
                _, statuses, called = _result_arrays(walker)
                # Not called: its Removed cell was set after the check above (an unregistration began).
                return statuses[0] if called[0] else None
            status = registration.function(registration.context, _ARGUMENT1[notify_class], argument2)
        finally:
            stack.pop()
            if registration.removed:
                self._wake()
        if registration.keepalive is not None:  # a Python callable: did it raise?
            crash = getattr(_local, "crash", None)
            if crash is not None:
                _local.crash = None
                raise FilterCrash(crash)
        return status

    def __len__(self) -> int:
        return len(self.snapshot)


def altitude_rank(altitude: str | None, sequence: int) -> tuple | None:
    """Where a registration stands in Vista's stack: higher ranks are called first.

    An altitude is a decimal number written as text ("320000", "320000.5"): compared as a number,
    digit by digit, not as a string or a float (Microsoft's "Load order groups and altitudes for
    minifilter drivers": an altitude is an infinite-precision decimal string), so "1000" is above
    "999" and "320000" equals "320000.0" (cmhook: the collision then). None if it is no such number.
    A CmRegisterCallback registration (altitude None) stands above every altitude, earlier ones
    above later ones (Microsoft's "Supporting layered registry filtering drivers": drivers without
    an altitude "are inserted near the top of the ... filter stack, in the order that they call
    CmRegisterCallback")."""
    if altitude is None:
        return (1, Decimal(-sequence))
    if not _ALTITUDE.fullmatch(altitude):
        return None
    return (0, Decimal(altitude))


_ALTITUDE = re.compile(r"[0-9]+(\.[0-9]+)?")


def _result_arrays(walker: tuple) -> tuple:
    """(walker, statuses, called): this thread's result arrays in the shim that walked, asked once per
    thread and shim (two shims, built by two compilers, each have their own)."""
    arrays = getattr(_local, "results", None)
    if arrays is None or arrays[0] is not walker:
        arrays = _local.results = (walker, walker[2](), walker[3]())
    return arrays


class Dispatcher:
    """Walks a snapshot of the table for one notification at a time; says what each callback returned."""

    def __init__(self, table: CallbackTable, trace: Trace | None = None) -> None:
        self.table = table
        self.trace = trace

    def walk(self, snapshot: Snapshot, notify_class: int, argument2, stop_on_failure: bool,
             results: list | None) -> tuple[int, str | None]:
        """(status, blocker): the first failing pre stops the walk (decision 4); posts go to all (decision 5).

        ``results`` (when traced) gets each callback's (name, status).
        """
        if snapshot.native is not None and self.table.native_walker is not None:
            return self._walk_in_c(snapshot, notify_class, argument2, stop_on_failure, results)
        invoke = self.table.invoke
        for registration in snapshot:
            status = invoke(registration, notify_class, argument2)
            if status is None:
                continue
            if results is not None:
                results.append((registration.name, status))
            if status < 0 and stop_on_failure:  # NT_SUCCESS is false: C hands NTSTATUS back signed
                return status, registration.name
        return STATUS_SUCCESS, None

    def _walk_in_c(self, snapshot: Snapshot, notify_class: int, argument2, stop_on_failure: bool,
                   results: list | None) -> tuple[int, str | None]:
        """The same walk, done by the kernel shim in one call: only C functions are registered."""
        walker = self.table.native_walker
        count, entries = snapshot.native
        process_id, thread_id = caller.ids()  # the emulated caller, for the machine record's watch slot
        stack = _active_stack()
        stack.append((snapshot, notify_class, True))  # before any Removed cell is read: see unregister
        try:
            blocker = walker[0](count, entries, notify_class, argument2, stop_on_failure, process_id, thread_id)
        finally:
            stack.pop()
            if self.table.unregistering:
                self.table._wake()
        if results is None and blocker < 0:
            return STATUS_SUCCESS, None
        _, statuses, called = _result_arrays(walker)
        if results is not None:
            results.extend((registration.name, statuses[index]) for index, registration in enumerate(snapshot)
                           if called[index])
        if blocker >= 0:
            return statuses[blocker], snapshot[blocker].name
        return STATUS_SUCCESS, None

    @contextmanager
    def untraced(self) -> Iterator[None]:
        """Calls in this block leave no trace (the harness's own bookkeeping writes)."""
        trace, self.trace = self.trace, None
        try:
            yield
        finally:
            self.trace = trace
