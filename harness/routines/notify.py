"""Ps notify routines: drivers told of process and thread starts and ends and of image loads
(PsSetCreateProcessNotifyRoutine(Ex), PsSetCreateThreadNotifyRoutine, PsRemoveCreateThreadNotifyRoutine,
PsSetLoadImageNotifyRoutine, PsRemoveLoadImageNotifyRoutine). The tables and the calls are
``kernel.processes`` (harness/processes.py); a routine left registered at DriverUnload is a finding.

Statuses as Microsoft's documentation of each routine gives them: registering a process routine
already registered, or past the 64 a kind holds, is STATUS_INVALID_PARAMETER; a full thread or image
table is STATUS_INSUFFICIENT_RESOURCES; removing a routine that is not registered is
STATUS_PROCEDURE_NOT_FOUND. PsSetCreateProcessNotifyRoutineEx is accepted for every driver: Windows
gives STATUS_ACCESS_DENIED to one whose image was not linked with /INTEGRITYCHECK, a flag a Linux
module cannot carry."""

from __future__ import annotations

from ntddk_py import (
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER,
    STATUS_PROCEDURE_NOT_FOUND,
    STATUS_SUCCESS,
    ffi,
)
from registry_core.native import address

from . import routine


def _set_process(kernel, kind: str, NotifyRoutine, Remove) -> int:
    if NotifyRoutine == ffi.NULL:
        return STATUS_INVALID_PARAMETER
    function = address(NotifyRoutine)
    if Remove:
        return STATUS_SUCCESS if kernel.processes.unregister(kind, function) else STATUS_PROCEDURE_NOT_FOUND
    return STATUS_SUCCESS if kernel.processes.register(kind, function) else STATUS_INVALID_PARAMETER


def _add(kernel, kind: str, NotifyRoutine) -> int:
    if NotifyRoutine == ffi.NULL:
        return STATUS_INVALID_PARAMETER
    registered = kernel.processes.register(kind, address(NotifyRoutine), unique=False)
    return STATUS_SUCCESS if registered else STATUS_INSUFFICIENT_RESOURCES


def _remove(kernel, kind: str, NotifyRoutine) -> int:
    removed = NotifyRoutine != ffi.NULL and kernel.processes.unregister(kind, address(NotifyRoutine))
    return STATUS_SUCCESS if removed else STATUS_PROCEDURE_NOT_FOUND


@routine("PsSetCreateProcessNotifyRoutine")
def ps_set_create_process_notify_routine(kernel, NotifyRoutine, Remove) -> int:
    """NTSTATUS PsSetCreateProcessNotifyRoutine(PCREATE_PROCESS_NOTIFY_ROUTINE, BOOLEAN Remove)."""
    return _set_process(kernel, "process", NotifyRoutine, Remove)


@routine("PsSetCreateProcessNotifyRoutineEx")
def ps_set_create_process_notify_routine_ex(kernel, NotifyRoutine, Remove) -> int:
    """NTSTATUS PsSetCreateProcessNotifyRoutineEx(PCREATE_PROCESS_NOTIFY_ROUTINE_EX, BOOLEAN Remove): its
    routine gets a PS_CREATE_NOTIFY_INFO whose CreationStatus it may set to deny the start."""
    return _set_process(kernel, "process-ex", NotifyRoutine, Remove)


@routine("PsSetCreateThreadNotifyRoutine")
def ps_set_create_thread_notify_routine(kernel, NotifyRoutine) -> int:
    """NTSTATUS PsSetCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE)."""
    return _add(kernel, "thread", NotifyRoutine)


@routine("PsRemoveCreateThreadNotifyRoutine")
def ps_remove_create_thread_notify_routine(kernel, NotifyRoutine) -> int:
    """NTSTATUS PsRemoveCreateThreadNotifyRoutine(PCREATE_THREAD_NOTIFY_ROUTINE)."""
    return _remove(kernel, "thread", NotifyRoutine)


@routine("PsSetLoadImageNotifyRoutine")
def ps_set_load_image_notify_routine(kernel, NotifyRoutine) -> int:
    """NTSTATUS PsSetLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE): told of each driver loaded after."""
    return _add(kernel, "image", NotifyRoutine)


@routine("PsRemoveLoadImageNotifyRoutine")
def ps_remove_load_image_notify_routine(kernel, NotifyRoutine) -> int:
    """NTSTATUS PsRemoveLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE)."""
    return _remove(kernel, "image", NotifyRoutine)
