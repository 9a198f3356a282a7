"""Ps, Ex, Ke: who is calling, and when (the emulated caller's process, thread, mode; the clock)."""

from __future__ import annotations

from ntddk_py import (
    PROCESSINFOCLASS,
    STATUS_ACCESS_VIOLATION,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_INFO_CLASS,
    STATUS_NAME_TOO_LONG,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ffi,
)
from registry_core import caller
from registry_core.names import MAX_UNICODE_STRING_BYTES
from registry_core.native import address
from registry_core.processes import SYSTEM_PROCESS_ID, ProcessObject

from . import bugcheck, routine

CURRENT_PROCESS = (1 << 64) - 1  # NtCurrentProcess(): (HANDLE)-1
HANDLE_TYPE = ffi.typeof("HANDLE")
PWSTR_TYPE = ffi.typeof("PWSTR")
PUNICODE_STRING_TYPE = ffi.typeof("PUNICODE_STRING")
UNICODE_STRING_SIZE = ffi.sizeof("UNICODE_STRING")
BASIC_INFORMATION_SIZE = ffi.sizeof("PROCESS_BASIC_INFORMATION")

@routine("ZwQueryInformationProcess")
def zw_query_information_process(kernel, ProcessHandle, ProcessInformationClass, ProcessInformation,
                                 ProcessInformationLength, ReturnLength) -> int:
    """ProcessImageFileName (a UNICODE_STRING and the image's NT path after it) and ProcessBasicInformation
    of NtCurrentProcess() or a process handle (ZwOpenProcess, ObOpenObjectByPointer); a handle of
    another kind is STATUS_OBJECT_TYPE_MISMATCH, as Windows' ObReferenceObjectByHandle gives.

    An image name longer than a UNICODE_STRING holds (no Windows process has one; a Python caller
    can make one) gets STATUS_NAME_TOO_LONG and nothing written (cmhook's decision). The System
    process has no image file: an empty name."""
    handle = address(ProcessHandle)
    if handle == CURRENT_PROCESS:
        process = kernel.processes.current_process()
        who = caller.current()
        text = "" if who.process_id == SYSTEM_PROCESS_ID else who.image
    else:
        entry = kernel.native.handles.lookup(handle)
        if entry is None:
            return STATUS_INVALID_HANDLE
        if not isinstance(entry.obj, ProcessObject):
            return STATUS_OBJECT_TYPE_MISMATCH
        process, text = entry.obj, entry.obj.nt_path
    if ProcessInformationClass == PROCESSINFOCLASS.ProcessBasicInformation:
        return _basic_information(kernel, process, ProcessInformation, ProcessInformationLength, ReturnLength)
    if ProcessInformationClass != PROCESSINFOCLASS.ProcessImageFileName:
        return STATUS_INVALID_INFO_CLASS
    image = text.encode("utf-16-le", "surrogatepass")
    if len(image) > MAX_UNICODE_STRING_BYTES:
        return STATUS_NAME_TOO_LONG
    header = UNICODE_STRING_SIZE
    needed = header + len(image) + 2
    if ReturnLength != ffi.NULL:
        ReturnLength[0] = needed
    if ProcessInformationLength < needed:
        return STATUS_INFO_LENGTH_MISMATCH
    if ProcessInformation == ffi.NULL:
        bugcheck(kernel, f"ZwQueryInformationProcess(ProcessImageFileName) with ProcessInformation NULL and "
                          f"length {ProcessInformationLength}: the name would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    string = ffi.cast(PUNICODE_STRING_TYPE, ProcessInformation)
    buffer = ffi.cast(PWSTR_TYPE, address(ProcessInformation) + header)
    ffi.memmove(buffer, image + b"\0\0", len(image) + 2)
    string.Buffer, string.Length = buffer, len(image)
    string.MaximumLength = min(len(image) + 2, MAX_UNICODE_STRING_BYTES)
    return STATUS_SUCCESS


def _basic_information(kernel, process: ProcessObject, ProcessInformation, ProcessInformationLength,
                       ReturnLength) -> int:
    """PROCESS_BASIC_INFORMATION: the length must be the struct's exactly (STATUS_INFO_LENGTH_MISMATCH
    otherwise, as Windows checks); ExitStatus is STATUS_PENDING while the process runs; no PEB."""
    if ProcessInformationLength != BASIC_INFORMATION_SIZE:
        return STATUS_INFO_LENGTH_MISMATCH
    if ProcessInformation == ffi.NULL:
        bugcheck(kernel, "ZwQueryInformationProcess(ProcessBasicInformation) with ProcessInformation NULL")
        return STATUS_ACCESS_VIOLATION
    info = ffi.cast("PPROCESS_BASIC_INFORMATION", ProcessInformation)
    info.ExitStatus = process.exit_status
    info.PebBaseAddress = ffi.NULL
    info.AffinityMask = 1
    info.BasePriority = 8  # NORMAL_PRIORITY_CLASS's base priority
    info.UniqueProcessId = process.process_id
    info.InheritedFromUniqueProcessId = process.parent_id
    if ReturnLength != ffi.NULL:
        ReturnLength[0] = BASIC_INFORMATION_SIZE
    return STATUS_SUCCESS


@routine("PsGetCurrentThreadId")
def ps_get_current_thread_id(kernel):
    return ffi.cast(HANDLE_TYPE, caller.thread_id())


@routine("PsGetCurrentProcessId")
def ps_get_current_process_id(kernel):
    return ffi.cast(HANDLE_TYPE, caller.current().process_id)


@routine("ExGetPreviousMode")
def ex_get_previous_mode(kernel) -> bytes:
    return bytes([int(caller.current().mode)])  # KPROCESSOR_MODE is a CCHAR


@routine("KeQuerySystemTime")
def ke_query_system_time(kernel, CurrentTime) -> None:
    CurrentTime.QuadPart = kernel.native.store.clock.now()
