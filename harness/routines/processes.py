"""Ps, Se, Zw: processes and threads as objects (PsGetCurrentProcess, PsLookupProcessByProcessId,
SeLocateProcessImageName, ZwOpenProcess, ...). The objects and who is current live in
``kernel.processes`` (harness/processes.py); PsGetProcessImageFileName is C (process_shim.c).

A pointer that is no live process (or thread) object is what Windows would crash reading: a
bugcheck finding naming the driver, and a zero or failure result."""

from __future__ import annotations

from ntddk_py import (
    POOL_TYPE,
    STATUS_ACCESS_VIOLATION,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_CID,
    STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
    ffi,
)
from registry_core import caller
from registry_core.memory import ADDRESS_SPACE, read_object_attributes
from registry_core.native import address
from registry_core.processes import SYSTEM_PROCESS_ID, ProcessObject, ThreadObject

from . import bugcheck, routine

HANDLE_TYPE = ffi.typeof("HANDLE")
UNICODE_STRING_SIZE = ffi.sizeof("UNICODE_STRING")
# SeLocateProcessImageName's block: paged pool, with cmhook's tag.
IMAGE_NAME_TAG = int.from_bytes(b"SeIn", "little")


def _process(kernel, Process, routine_name: str) -> ProcessObject | None:
    obj = kernel.processes.table.from_address(address(Process))
    if not isinstance(obj, ProcessObject):
        bugcheck(kernel, f"{routine_name}(0x{address(Process):x}), which is no live process object (EPROCESS)")
        return None
    return obj


def _thread(kernel, Thread, routine_name: str) -> ThreadObject | None:
    obj = kernel.processes.table.from_address(address(Thread))
    if not isinstance(obj, ThreadObject):
        bugcheck(kernel, f"{routine_name}(0x{address(Thread):x}), which is no live thread object (ETHREAD)")
        return None
    return obj


@routine("IoGetCurrentProcess")
def io_get_current_process(kernel):
    """PEPROCESS IoGetCurrentProcess(VOID) (and PsGetCurrentProcess): the caller's process; no reference."""
    return kernel.processes.current_process().pointer


@routine("PsGetCurrentThread")
def ps_get_current_thread(kernel):
    """PETHREAD PsGetCurrentThread(VOID): the calling thread's object; no reference."""
    return kernel.processes.current_thread().pointer


@routine("KeGetCurrentThread")
def ke_get_current_thread(kernel):
    """PKTHREAD KeGetCurrentThread(VOID): the same object as PsGetCurrentThread (the KTHREAD begins the ETHREAD)."""
    return kernel.processes.current_thread().pointer


@routine("PsLookupProcessByProcessId")
def ps_lookup_process_by_process_id(kernel, ProcessId, Process) -> int:
    """NTSTATUS PsLookupProcessByProcessId(HANDLE, PEPROCESS *): the running process with that id, referenced
    (ObDereferenceObject gives it back); STATUS_INVALID_PARAMETER for an id no running process has, as
    Windows returns (its CID table has no entry)."""
    process = kernel.processes.table.process(address(ProcessId))
    if process is None:
        return STATUS_INVALID_PARAMETER
    if Process == ffi.NULL:
        bugcheck(kernel, "PsLookupProcessByProcessId with Process NULL: the pointer would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    Process[0] = process.reference(by_driver=True).pointer
    return STATUS_SUCCESS


@routine("PsLookupThreadByThreadId")
def ps_lookup_thread_by_thread_id(kernel, ThreadId, Thread) -> int:
    """NTSTATUS PsLookupThreadByThreadId(HANDLE, PETHREAD *): a live thread with that id, referenced (the one
    acting in the caller's process if several are); STATUS_INVALID_PARAMETER for an unknown id, as Windows."""
    thread = kernel.processes.table.find_thread(address(ThreadId), caller.current().process_id)
    if thread is None:
        return STATUS_INVALID_PARAMETER
    if Thread == ffi.NULL:
        bugcheck(kernel, "PsLookupThreadByThreadId with Thread NULL: the pointer would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    Thread[0] = thread.reference(by_driver=True).pointer
    return STATUS_SUCCESS


@routine("PsGetProcessId")
def ps_get_process_id(kernel, Process):
    """HANDLE PsGetProcessId(PEPROCESS)."""
    process = _process(kernel, Process, "PsGetProcessId")
    return ffi.cast(HANDLE_TYPE, process.process_id if process is not None else 0)


@routine("PsGetThreadId")
def ps_get_thread_id(kernel, Thread):
    """HANDLE PsGetThreadId(PETHREAD)."""
    thread = _thread(kernel, Thread, "PsGetThreadId")
    return ffi.cast(HANDLE_TYPE, thread.thread_id if thread is not None else 0)


@routine("PsGetThreadProcessId")
def ps_get_thread_process_id(kernel, Thread):
    """HANDLE PsGetThreadProcessId(PETHREAD): the id of the process the thread belongs to."""
    thread = _thread(kernel, Thread, "PsGetThreadProcessId")
    return ffi.cast(HANDLE_TYPE, thread.process.process_id if thread is not None else 0)


@routine("PsIsSystemThread")
def ps_is_system_thread(kernel, Thread) -> int:
    """BOOLEAN PsIsSystemThread(PETHREAD): TRUE for a thread of the System process (pid 4): DriverEntry's,
    DriverUnload's; a user process's thread in a system call is no system thread."""
    thread = _thread(kernel, Thread, "PsIsSystemThread")
    return int(thread is not None and thread.process.process_id == SYSTEM_PROCESS_ID)


@routine("PsGetProcessCreateTimeQuadPart")
def ps_get_process_create_time_quad_part(kernel, Process) -> int:
    """LONGLONG PsGetProcessCreateTimeQuadPart(PEPROCESS): when the process was made, as a system time (the
    emulated clock's)."""
    process = _process(kernel, Process, "PsGetProcessCreateTimeQuadPart")
    return process.create_time if process is not None else 0


@routine("SeLocateProcessImageName")
def se_locate_process_image_name(kernel, Process, pImageFileName) -> int:
    """NTSTATUS SeLocateProcessImageName(PEPROCESS, PUNICODE_STRING *): a pool block the caller frees with
    ExFreePool: a UNICODE_STRING followed by the image's NT path (NUL-terminated), allocated for the
    calling driver (a block it never frees is a leak at its unload). The System process has no image
    file: an empty name."""
    process = _process(kernel, Process, "SeLocateProcessImageName")
    if process is None:
        return STATUS_INVALID_PARAMETER
    if pImageFileName == ffi.NULL:
        bugcheck(kernel, "SeLocateProcessImageName with pImageFileName NULL: the pointer would be written to "
                          "address 0")
        return STATUS_ACCESS_VIOLATION
    name = process.nt_path.encode("utf-16-le", "surrogatepass")
    block = kernel.routines.ExAllocatePoolWithTag(POOL_TYPE.PagedPool, UNICODE_STRING_SIZE + len(name) + 2,
                                                  IMAGE_NAME_TAG)
    if block == ffi.NULL:
        return STATUS_INSUFFICIENT_RESOURCES
    where = address(block)
    driver = kernel.calling_driver()
    allocation = kernel.pool.get(where)
    if allocation is not None and driver is not None:
        allocation.module = driver.base  # the driver's to free, not the harness's
    ADDRESS_SPACE[where + UNICODE_STRING_SIZE:where + UNICODE_STRING_SIZE + len(name) + 2] = name + b"\0\0"
    string = ffi.cast("PUNICODE_STRING", where)
    string.Length, string.MaximumLength = len(name), len(name) + 2
    string.Buffer = ffi.cast("PWSTR", where + UNICODE_STRING_SIZE)
    pImageFileName[0] = string
    return STATUS_SUCCESS


@routine("ZwOpenProcess")
def zw_open_process(kernel, ProcessHandle, DesiredAccess, ObjectAttributes, ClientId) -> int:
    """NTSTATUS ZwOpenProcess(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PCLIENT_ID): a handle to the running
    process ClientId->UniqueProcess names (or, with only UniqueThread, the process of that thread), in
    the one handle table with the object attributes' flags (OBJ_KERNEL_HANDLE); ZwClose closes it.
    STATUS_INVALID_CID for an id no running process (or thread) has, as Windows; no ClientId:
    STATUS_INVALID_PARAMETER (cmhook opens no process by name)."""
    if ClientId == ffi.NULL:
        return STATUS_INVALID_PARAMETER
    if ProcessHandle == ffi.NULL or ObjectAttributes == ffi.NULL:
        bugcheck(kernel, "ZwOpenProcess with ProcessHandle or ObjectAttributes NULL: Windows reads and writes "
                          "through both")
        return STATUS_ACCESS_VIOLATION
    table = kernel.processes.table
    process_id, thread_id = address(ClientId.UniqueProcess), address(ClientId.UniqueThread)
    process = table.process(process_id) if process_id else None
    if not process_id and thread_id:
        thread = table.find_thread(thread_id)
        process = thread.process if thread is not None else None
    if process is None:
        return STATUS_INVALID_CID
    attributes = read_object_attributes(ADDRESS_SPACE, address(ObjectAttributes))[3]
    ProcessHandle[0] = ffi.cast(HANDLE_TYPE, kernel.native.handles.insert(process.reference(), DesiredAccess,
                                                                           attributes))
    return STATUS_SUCCESS
