"""Ke, Ps, Io (kewait): the Python ends of the shim's dispatcher (harness/shim/ke_dispatcher.c).

The dispatcher objects, timers, DPCs, system threads and work items are C; what they need of
Python is here: the emulated clock (pinned on the first timed operation, then kept by the shim:
``attach_clock``), the System process as the caller of every thread the shim makes, verifier
findings, and the kernel handles of system threads, which ZwClose and ObReferenceObjectByHandle
(the registry's handle table knows none of them) hand to the shim.
"""

from __future__ import annotations

from typing import Any

from ntddk_py import STATUS_ACCESS_VIOLATION, STATUS_OBJECT_TYPE_MISMATCH, ffi
from registry_core import caller
from registry_core.native import address

from . import bugcheck

CURRENT_THREAD = (1 << 64) - 2  # NtCurrentThread(); NtCurrentProcess() is -1: neither is a kernel handle


def is_kernel_handle(kernel, handle: int) -> bool:
    """Whether a handle is one of the shim's (a system thread's), not the registry's: kernel handles
    (OBJ_KERNEL_HANDLE's) have bit 31 set and are sign-extended, from the shim's CmhookKernelHandleBase."""
    value = address(handle)
    return kernel.kernel_handle_base <= value < CURRENT_THREAD


def close_handle(kernel, handle: int) -> int:
    """ZwClose of a system thread's handle: the thread object loses the handle's reference."""
    return int(kernel.lib.CmhookKernelHandleClose(address(handle)))


def reference_handle(kernel, handle: int, object_type, target) -> int:
    """ObReferenceObjectByHandle of a system thread's handle: the thread object, referenced. An object
    type other than *PsThreadType (or NULL) is STATUS_OBJECT_TYPE_MISMATCH, as on Windows."""
    if object_type != ffi.NULL and address(object_type) != address(kernel.lib.PsThreadType[0]):
        return STATUS_OBJECT_TYPE_MISMATCH
    if target == ffi.NULL:
        bugcheck(kernel, f"ObReferenceObjectByHandle(0x{address(handle):x}) with Object NULL: the object pointer "
                         "would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    cell = kernel.ffi.new("PVOID *")
    status = int(kernel.lib.CmhookKernelHandleReference(address(handle), cell))
    if status == 0:
        target[0] = ffi.cast("PVOID", int(kernel.ffi.cast("ULONG_PTR", cell[0])))
    return status


def reference_object(kernel, obj, delta: int) -> bool:
    """ObReferenceObject (1) or ObDereferenceObject (-1) on a thread object; False if it is none."""
    return bool(kernel.lib.CmhookObjectReference(kernel.ffi.cast("PVOID", address(obj)), delta))


# --- the shim's own upcalls (CMHOOK_UPCALLS' dispatcher members) ---------------------------

def clock_pin(kernel) -> None:
    """The first timed operation: the clock stops where it is (it moves when advanced from now on)."""
    clock = kernel.native.store.clock
    clock.set(clock.now())


def thread_begins(kernel) -> int:
    """A thread the shim made starts: its registry calls are the System process's, in kernel mode."""
    caller.switch(caller.SYSTEM)
    return caller.thread_id()


def dispatcher_finding(kernel, module: int, kind, text) -> None:
    driver = next((d.name for d in kernel.drivers.values() if d.base == module), None)
    kernel.finding(kernel.ffi.string(kind).decode(), kernel.ffi.string(text).decode("utf-8", "replace"), driver)


SHIM_UPCALLS: dict[str, Any] = {"ClockPin": clock_pin, "ThreadBegins": thread_begins,
                                "DispatcherFinding": dispatcher_finding}


def attach_clock(kernel) -> None:
    """The machine's dispatcher starts afresh and keeps the clock once pinned (Clock.source, moved)."""
    lib = kernel.lib
    lib.CmhookDispatcherReset()
    clock = kernel.native.store.clock

    def source() -> int | None:
        now = lib.CmhookDispatcherNow()
        return None if now < 0 else int(now)

    clock.moved = lib.CmhookClockMoved
    clock.source = source


def detach_clock(kernel) -> None:
    """The machine ends: the worker and DPC threads are joined, the clock is the registry's again."""
    clock = kernel.native.store.clock
    kept = clock.now()
    clock.source = clock.moved = None
    if kernel.lib.CmhookDispatcherNow() >= 0:
        clock.set(kept)
    kernel.lib.CmhookDispatcherShutdown()


LEFTOVER_ROOM = 64 * 1024


def leftovers(kernel, driver) -> list[tuple[str, str]]:
    """What the driver left to the dispatcher at its unload, as (kind, text): cancelled, dropped, stopped."""
    text = kernel.ffi.new("char[]", LEFTOVER_ROOM)
    if not kernel.lib.CmhookDispatcherLeftovers(driver.base, text, LEFTOVER_ROOM):
        return []
    lines = kernel.ffi.string(text).decode("utf-8", "replace").splitlines()
    return [(kind, text) for kind, _, text in (line.partition("\t") for line in lines) if text]
