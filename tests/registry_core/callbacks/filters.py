"""Two filters with one interface for the callback tests: a Python callable and a C function
(tests/fixtures/recorder_filter.c, built by gcc in the test session with harness.build's flags,
tests/compiling.py's build_module, and called through its function pointer). Both record every
notification and can be told to block, spin, overwrite the caller's data, or make a nested
registry call.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cffi

import ntddk_py
from ntddk_py import REG_NOTIFY_CLASS as N
from ntddk_py import STATUS_SUCCESS, ffi
from registry_core import caller

from ..helpers import address

SOURCE = Path(__file__).resolve().parents[2] / "fixtures" / "recorder_filter.c"
POSTS = {N.RegNtPostCreateKeyEx, N.RegNtPostOpenKeyEx} | set(range(N.RegNtPostDeleteKey, N.RegNtPostKeyHandleClose + 1))
XP_POSTS = {N.RegNtPostCreateKey, N.RegNtPostOpenKey}
NOBODY = 0xFFFFFFFF

_C_DECLARATIONS = """
typedef struct _EVENT { ULONG Class; ULONG_PTR Context; ULONG_PTR Object; ULONG_PTR ObjectTarget; NTSTATUS Status;
    ULONG_PTR ThreadId; ULONG_PTR Argument2; ULONG_PTR NameBuffer; } EVENT;
extern EVENT Events[65536];
extern volatile LONG EventCount;
extern ULONG BlockClass; extern NTSTATUS BlockStatus; extern ULONG SpinClass; extern volatile LONG Release;
extern volatile LONG Spinning;
extern UCHAR OverwriteByte; extern HANDLE (*CurrentThreadId)(VOID); extern VOID (*Nested)(VOID);
extern ULONG NestedClass;
NTSTATUS RecorderCallback(PVOID, PVOID, PVOID);
NTSTATUS NoopCallback(PVOID, PVOID, PVOID);
"""
_test_ffi = cffi.FFI()
_test_ffi.include(ffi)
_test_ffi.cdef(_C_DECLARATIONS)
_instances = iter(range(10**6))


class Event(dict):
    """One recorded notification: class, context, object, object_target, status, thread_id, name_buffer."""

    @property
    def notify_class(self) -> int:
        return self["class"]


class PythonFilter:
    kind = "python"

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self.block_class, self.block_status = NOBODY, STATUS_SUCCESS
        self.spin_class, self._release, self.spinning = NOBODY, threading.Event(), threading.Event()
        self.overwrite_byte = 0
        self.nested_class, self._nested = NOBODY, None
        self.callback = self._callback

    def _callback(self, context, argument1, argument2) -> int:
        notify_class = address(argument1)
        event = Event({"class": notify_class, "context": address(context),
                       "argument2": address(argument2), "thread_id": caller.thread_id(),
                       "object": 0, "object_target": 0, "status": 0, "name_buffer": 0})
        if notify_class in POSTS:
            post = ffi.cast("PREG_POST_OPERATION_INFORMATION", argument2)
            event.update(object=address(post.Object), status=post.Status)
        elif notify_class in XP_POSTS:
            post = ffi.cast("PREG_POST_CREATE_KEY_INFORMATION", argument2)
            target = address(ffi.cast("PVOID *", post.Object)[0]) if post.Object != ffi.NULL else 0
            event.update(object=address(post.Object), object_target=target, status=post.Status,
                         name_buffer=address(post.CompleteName))
        elif notify_class in (N.RegNtPreCreateKeyEx, N.RegNtPreOpenKeyEx):
            pre = ffi.cast("PREG_CREATE_KEY_INFORMATION", argument2)
            event.update(object=address(pre.RootObject), name_buffer=address(pre.CompleteName))
        elif notify_class in (N.RegNtPreCreateKey, N.RegNtPreOpenKey):
            event.update(name_buffer=address(ffi.cast("PREG_PRE_CREATE_KEY_INFORMATION", argument2).CompleteName))
        else:
            event.update(object=address(ffi.cast("PVOID *", argument2)[0]))
            if notify_class == N.RegNtPreSetValueKey:
                info = ffi.cast("PREG_SET_VALUE_KEY_INFORMATION", argument2)
                event.update(name_buffer=address(info.ValueName))
                if self.overwrite_byte and info.DataSize:
                    ffi.cast("UCHAR *", info.Data)[0] = self.overwrite_byte
        with self._lock:
            self._events.append(event)
        if notify_class == self.nested_class and self._nested:
            self._nested()
        if notify_class == self.spin_class:
            self.spinning.set()
            self._release.wait(30)
        return self.block_status if notify_class == self.block_class else STATUS_SUCCESS

    # the shared interface
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def block(self, notify_class: int, status: int) -> None:
        self.block_class, self.block_status = notify_class, status

    def spin(self, notify_class: int) -> None:
        self.spin_class = notify_class

    def wait_spinning(self, timeout: float = 10) -> bool:
        return self.spinning.wait(timeout)

    def release(self) -> None:
        self._release.set()

    def overwrite(self, byte: int) -> None:
        self.overwrite_byte = byte

    def nest(self, notify_class: int, action: Callable[[], None]) -> None:
        self.nested_class, self._nested = notify_class, action


class CFilter:
    kind = "c"

    def __init__(self, library_path: Path, directory: Path) -> None:
        private = directory / f"{library_path.stem}-{next(_instances)}.so"
        shutil.copyfile(library_path, private)  # its own copy: its own globals
        self.lib = _test_ffi.dlopen(str(private))
        self.lib.EventCount = 0
        self.lib.BlockClass = self.lib.SpinClass = self.lib.NestedClass = NOBODY
        self._thread_id = _test_ffi.callback("HANDLE(void)", lambda: _test_ffi.cast("HANDLE", caller.thread_id()))
        self.lib.CurrentThreadId = self._thread_id
        self._nested = None
        self.callback = self.function("RecorderCallback")

    def function(self, name: str):
        return ffi.cast("PEX_CALLBACK_FUNCTION", int(_test_ffi.cast("ULONG_PTR", _test_ffi.addressof(self.lib, name))))

    def events(self) -> list[Event]:
        count = min(self.lib.EventCount, 65536)
        return [Event({"class": e.Class, "context": e.Context, "object": e.Object, "object_target": e.ObjectTarget,
                       "status": e.Status, "thread_id": e.ThreadId, "argument2": e.Argument2,
                       "name_buffer": e.NameBuffer}) for e in (self.lib.Events[i] for i in range(count))]

    def block(self, notify_class: int, status: int) -> None:
        self.lib.BlockClass, self.lib.BlockStatus = notify_class, ntddk_py.ntstatus(status)

    def spin(self, notify_class: int) -> None:
        self.lib.SpinClass = notify_class

    def wait_spinning(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while not self.lib.Spinning and time.monotonic() < deadline:
            time.sleep(0.001)
        return bool(self.lib.Spinning)

    def release(self) -> None:
        self.lib.Release = 1

    def overwrite(self, byte: int) -> None:
        self.lib.OverwriteByte = byte

    def nest(self, notify_class: int, action: Callable[[], None]) -> None:
        self._nested = _test_ffi.callback("void(void)", action)
        self.lib.Nested, self.lib.NestedClass = self._nested, notify_class


__all__ = ["SOURCE", "Event", "PythonFilter", "CFilter"]
