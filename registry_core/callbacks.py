"""Registry callbacks: the callback table (CmRegisterCallback / CmUnRegisterCallback),
the dispatcher that walks it for pre and post notifications, and the trace.

Decisions (../shared/design.md, "Behaviour decisions"): a fixed table of 100 slots taken
first-free and walked in slot order (1); opaque cookies never reused, an unknown one is
STATUS_INVALID_PARAMETER (2); unregistration waits for invocations running on other threads
and is a verifier error from inside the same callback (3); the first failing pre stops the
walk (4); posts go to every callback and their status is ignored (5); a thread inside a
callback reaches no callback (6); no lock is held while a callback runs (10).

A callback is a C function pointer of type PEX_CALLBACK_FUNCTION or a Python callable with
the same three arguments, wrapped by cffi: both are called through one function pointer.
This module knows notify classes and statuses, not keys or handles.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ntddk_py import (
    REG_NOTIFY_CLASS,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
    ffi,
    nt_success,
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


@dataclass
class Registration:
    """One occupied slot: the routine, its context and the invocations now running it."""

    slot: int
    cookie: int
    function: object  # cdata PEX_CALLBACK_FUNCTION
    context: object  # cdata PVOID
    name: str
    keepalive: object = None  # the cffi callback wrapping a Python callable
    running: int = 0
    removed: bool = False


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

    def describe(self) -> str:
        lines = [f"{self.api} {self.key_path or ''} -> {status_name(self.status or 0)}"]
        for note in self.notifications:
            results = ", ".join(f"{name}={status_name(status)}" for name, status in note.results)
            lines.append(f"  {note.class_name} [{results}]")
        return "\n".join(lines)


class Trace:
    """An optional record of every registry call and notification, for tests and the command line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: list[OperationRecord] = []

    def add(self, record: OperationRecord) -> None:
        with self._lock:
            self.operations.append(record)

    def notifications(self) -> list[NotificationRecord]:
        with self._lock:
            return [note for op in self.operations for note in op.notifications]

    def classes(self) -> list[str]:
        return [note.class_name for note in self.notifications()]

    def clear(self) -> None:
        with self._lock:
            self.operations.clear()


_local = threading.local()
# Argument1 for each class: the class value passed as a pointer-sized integer.
_ARGUMENT1 = {member: ffi.cast("PVOID", int(member)) for member in REG_NOTIFY_CLASS}


def active_callback() -> tuple[Registration, REG_NOTIFY_CLASS] | None:
    """The callback this thread is running, if any, and the notification it is handling."""
    return getattr(_local, "active", None)


class CallbackTable:
    """CmRegisterCallback's table: 100 slots, taken first-free, walked in slot order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._slots: list[Registration | None] = [None] * MAX_CALLBACKS
        self._occupied = 0
        self._cookies = itertools.count(1)
        self.crashes: list[str] = []

    def register(self, function: object, context: object = None, name: str | None = None) -> tuple[int, int]:
        """(status, cookie) for a C function pointer or a Python callable (Context, Argument1, Argument2)."""
        keepalive = None
        if function is None or function == ffi.NULL:
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
            for slot, occupant in enumerate(self._slots):
                if occupant is None:
                    cookie = _COOKIE_BASE + next(self._cookies) * _COOKIE_STEP
                    self._slots[slot] = Registration(slot, cookie, pointer, context_pointer, name, keepalive)
                    self._occupied += 1
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
        """Remove a callback, waiting for its invocations on other threads; never called again after."""
        with self._lock:
            registration = next((r for r in self._slots if r is not None and r.cookie == cookie and not r.removed),
                                None)
            if registration is None:
                return STATUS_INVALID_PARAMETER
            active = active_callback()
            if active is not None and active[0] is registration:
                raise VerifierError(
                    f"CmUnRegisterCallback called from inside callback {registration.name} while it handles "
                    f"{notify_class_name(active[1])}: on Windows this deadlocks "
                    "(the call waits for the callback itself)")
            registration.removed = True
            while registration.running:
                self._idle.wait()
            self._slots[registration.slot] = None
            self._occupied -= 1
            return STATUS_SUCCESS

    def has_registrations(self) -> bool:
        return self._occupied > 0

    def registrations(self) -> list[Registration]:
        with self._lock:
            return [r for r in self._slots if r is not None and not r.removed]

    def _enter(self, registration: Registration) -> bool:
        with self._lock:
            if registration.removed:
                return False
            registration.running += 1
            return True

    def _leave(self, registration: Registration) -> None:
        with self._lock:
            registration.running -= 1
            if registration.running == 0:
                self._idle.notify_all()

    def invoke(self, registration: Registration, notify_class: REG_NOTIFY_CLASS, argument2) -> int | None:
        """Call one callback (None if it was unregistered meanwhile); no table lock is held during the call."""
        if not self._enter(registration):
            return None
        previous = getattr(_local, "active", None)
        _local.active = (registration, notify_class)
        try:
            status = registration.function(registration.context, _ARGUMENT1[notify_class], argument2)
        finally:
            _local.active = previous
            self._leave(registration)
        if registration.keepalive is not None:  # a Python callable: did it raise?
            crash = getattr(_local, "crash", None)
            if crash is not None:
                _local.crash = None
                raise FilterCrash(crash)
        return status

    def __len__(self) -> int:
        return len(self.registrations())


class Dispatcher:
    """Walks the table for one notification at a time and records what happened."""

    def __init__(self, table: CallbackTable, trace: Trace | None = None) -> None:
        self.table = table
        self.trace = trace

    def idle(self) -> bool:
        """No callback registered and nothing traced: a call needs no notification at all."""
        return self.trace is None and not self.table.has_registrations()

    def silenced(self) -> bool:
        """A thread inside a callback reaches no callback with its own registry calls (decision 6)."""
        return active_callback() is not None

    def pre(self, record: OperationRecord | None, notify_class: REG_NOTIFY_CLASS, argument2) -> int:
        """The first failing status stops the walk and is the caller's status (decision 4)."""
        note = self._note(record, notify_class)
        for registration in self.table.registrations():
            status = self.table.invoke(registration, notify_class, argument2)
            if status is None:
                continue
            if note is not None:
                note.results.append((registration.name, status))
            if not nt_success(status):
                if note is not None:
                    note.blocked_by = registration.name
                return status
        return STATUS_SUCCESS

    def post(self, record: OperationRecord | None, notify_class: REG_NOTIFY_CLASS, argument2) -> None:
        """Every callback gets it; what they return is ignored (decision 5)."""
        note = self._note(record, notify_class)
        for registration in self.table.registrations():
            status = self.table.invoke(registration, notify_class, argument2)
            if status is not None and note is not None:
                note.results.append((registration.name, status))

    def _note(self, record: OperationRecord | None, notify_class: REG_NOTIFY_CLASS) -> NotificationRecord | None:
        if record is None:
            return None
        note = NotificationRecord(notify_class, record.thread_id, record.process_id, record.key_path)
        record.notifications.append(note)
        return note

    def begin(self, api: str, key_path: Callable[[], str | None]) -> OperationRecord | None:
        """A trace record for one call, or None when nothing is traced (key_path is asked only then)."""
        if self.trace is None:
            return None
        who = caller.current()
        return OperationRecord(api, caller.thread_id(), who.process_id, key_path())

    @contextmanager
    def untraced(self) -> Iterator[None]:
        """Calls in this block leave no trace (the harness's own bookkeeping writes)."""
        trace, self.trace = self.trace, None
        try:
            yield
        finally:
            self.trace = trace

    def end(self, record: OperationRecord | None, status: int) -> int:
        if record is not None:
            record.status = status
            self.trace.add(record)
        return status
