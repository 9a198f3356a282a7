"""Processes and threads as kernel objects, as process-aware filters use them: lookups, image names,
handles, the Ob routines on every object kind, the notify routines and their verifier checks.

Windows' statuses are pinned from Microsoft's documentation of each routine (PsLookupProcessByProcessId,
ObReferenceObjectByHandle, SeLocateProcessImageName, PsSetCreateProcessNotifyRoutine(Ex),
PS_CREATE_NOTIFY_INFO, ZwOpenProcess, ZwQueryInformationProcess, MmGetSystemRoutineAddress)."""

from __future__ import annotations

import ctypes

import cffi
import pytest
from helpers import cmhook

from harness import script
from ntddk_py import (
    KEY_READ,
    PROCESSINFOCLASS,
    STATUS_ACCESS_DENIED,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_CID,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_PENDING,
    STATUS_PROCEDURE_NOT_FOUND,
    STATUS_SUCCESS,
)
from registry_core import caller

SOFTWARE = r"\REGISTRY\MACHINE\SOFTWARE"
TOOL = r"\Device\HarddiskVolume1\Tools\x.exe"
EVIL = r"\Device\HarddiskVolume1\Users\eve\evil.exe"

DRIVER = r"""#include <ntifs.h>
NTKERNELAPI PUCHAR NTAPI PsGetProcessImageFileName(PEPROCESS Process);

static LONG Registered[4], LeaveRegistered;

static POBJECT_TYPE TypeOf(LONG Which)
{
    return Which == 1 ? *PsProcessType : Which == 2 ? *PsThreadType : Which == 3 ? *CmKeyObjectType : NULL;
}

/* Denies the start of any image ending in evil.exe; logs every notification. */
static VOID ProcessNotifyEx(PEPROCESS Process, HANDLE ProcessId, PPS_CREATE_NOTIFY_INFO CreateInfo)
{
    UNICODE_STRING Evil = RTL_CONSTANT_STRING(L"evil.exe"), Tail;
    if (CreateInfo == NULL) {
        DbgPrint("ex exit %p %s\n", ProcessId, PsGetProcessImageFileName(Process));
        return;
    }
    DbgPrint("ex create %p parent %p size %u image %wZ cmdline %wZ current %p\n", ProcessId,
             CreateInfo->ParentProcessId, (ULONG)CreateInfo->Size, CreateInfo->ImageFileName,
             CreateInfo->CommandLine, PsGetCurrentProcessId());
    if (PsGetProcessId(Process) != ProcessId)
        DbgPrint("ex: the process object is not the process\n");
    if (CreateInfo->ImageFileName->Length >= Evil.Length) {
        Tail.Buffer = (PWSTR)((PUCHAR)CreateInfo->ImageFileName->Buffer + CreateInfo->ImageFileName->Length -
                              Evil.Length);
        Tail.Length = Tail.MaximumLength = Evil.Length;
        if (RtlEqualUnicodeString(&Tail, &Evil, TRUE))
            CreateInfo->CreationStatus = STATUS_ACCESS_DENIED;
    }
}

static VOID ProcessNotify(HANDLE ParentId, HANDLE ProcessId, BOOLEAN Create)
{
    DbgPrint("process %s %p parent %p\n", Create ? "create" : "exit", ProcessId, ParentId);
}

static VOID ThreadNotify(HANDLE ProcessId, HANDLE ThreadId, BOOLEAN Create)
{
    DbgPrint("thread %s %p in %p\n", Create ? "create" : "exit", ThreadId, ProcessId);
}

static VOID ImageNotify(PUNICODE_STRING FullImageName, HANDLE ProcessId, PIMAGE_INFO ImageInfo)
{
    DbgPrint("image %wZ process %p system %u\n", FullImageName, ProcessId, (ImageInfo->Properties >> 8) & 1);
}

NTSTATUS SetNotify(LONG Which, BOOLEAN Remove)
{
    NTSTATUS Status;
    switch (Which) {
    case 0: Status = PsSetCreateProcessNotifyRoutineEx(ProcessNotifyEx, Remove); break;
    case 1: Status = PsSetCreateProcessNotifyRoutine(ProcessNotify, Remove); break;
    case 2:
        Status = Remove ? PsRemoveCreateThreadNotifyRoutine(ThreadNotify)
                        : PsSetCreateThreadNotifyRoutine(ThreadNotify);
        break;
    default:
        Status = Remove ? PsRemoveLoadImageNotifyRoutine(ImageNotify) : PsSetLoadImageNotifyRoutine(ImageNotify);
        break;
    }
    if (NT_SUCCESS(Status))
        Registered[Which] = !Remove;
    return Status;
}

void SetLeaveRegistered(LONG On) { LeaveRegistered = On; }
PEPROCESS Current(void) { return PsGetCurrentProcess(); }
PETHREAD CurrentThread(void) { return PsGetCurrentThread(); }
PKTHREAD CurrentKThread(void) { return KeGetCurrentThread(); }
BOOLEAN IsSystemThread(PETHREAD Thread) { return PsIsSystemThread(Thread); }
HANDLE ThreadProcessId(PETHREAD Thread) { return PsGetThreadProcessId(Thread); }
HANDLE ThreadId(PETHREAD Thread) { return PsGetThreadId(Thread); }
HANDLE ProcessId(PEPROCESS Process) { return PsGetProcessId(Process); }
PUCHAR ImageFileName(PEPROCESS Process) { return PsGetProcessImageFileName(Process); }
NTSTATUS Lookup(HANDLE Id, PEPROCESS *Process) { return PsLookupProcessByProcessId(Id, Process); }
NTSTATUS LookupThread(HANDLE Id, PETHREAD *Thread) { return PsLookupThreadByThreadId(Id, Thread); }
NTSTATUS Locate(PEPROCESS Process, PUNICODE_STRING *Name) { return SeLocateProcessImageName(Process, Name); }
void Free(PVOID Block) { ExFreePool(Block); }
void Reference(PVOID Object) { ObReferenceObject(Object); }
void Dereference(PVOID Object) { ObDereferenceObject(Object); }
LONG_PTR FastDereference(PVOID Object) { return ObfDereferenceObject(Object); }
NTSTATUS ByPointer(PVOID Object, LONG Type) { return ObReferenceObjectByPointer(Object, 0, TypeOf(Type), KernelMode); }
NTSTATUS ByHandle(HANDLE Handle, LONG Type, PVOID *Object)
{
    return ObReferenceObjectByHandle(Handle, 0, TypeOf(Type), KernelMode, Object, NULL);
}
NTSTATUS OpenByPointer(PVOID Object, LONG Type, PHANDLE Handle)
{
    return ObOpenObjectByPointer(Object, OBJ_KERNEL_HANDLE, NULL, 0, TypeOf(Type), KernelMode, Handle);
}
NTSTATUS OpenProcess(HANDLE Id, PHANDLE Handle)
{
    OBJECT_ATTRIBUTES Attributes;
    CLIENT_ID Client;
    InitializeObjectAttributes(&Attributes, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    Client.UniqueProcess = Id;
    Client.UniqueThread = NULL;
    return ZwOpenProcess(Handle, PROCESS_ALL_ACCESS, &Attributes, &Client);
}
NTSTATUS QueryProcess(HANDLE Handle, ULONG Class, PVOID Buffer, ULONG Length)
{
    ULONG Needed;
    return ZwQueryInformationProcess(Handle, (PROCESSINFOCLASS)Class, Buffer, Length, &Needed);
}
NTSTATUS Close(HANDLE Handle) { return ZwClose(Handle); }
NTSTATUS QueryKey(HANDLE Handle, PVOID Buffer, ULONG Length, PULONG Needed)
{
    return ZwQueryKey(Handle, KeyBasicInformation, Buffer, Length, Needed);
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    LONG Which;
    UNREFERENCED_PARAMETER(DriverObject);
    for (Which = 0; Which < 4 && !LeaveRegistered; Which++)
        if (Registered[Which])
            SetNotify(Which, TRUE);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    DbgPrint("entry system thread %u\n", PsIsSystemThread(PsGetCurrentThread()));
    return STATUS_SUCCESS;
}
"""

EXPORTS = """
NTSTATUS SetNotify(LONG Which, BOOLEAN Remove); void SetLeaveRegistered(LONG On);
PEPROCESS Current(void); PETHREAD CurrentThread(void); PKTHREAD CurrentKThread(void);
BOOLEAN IsSystemThread(PETHREAD Thread); HANDLE ThreadProcessId(PETHREAD Thread); HANDLE ThreadId(PETHREAD Thread);
HANDLE ProcessId(PEPROCESS Process); PUCHAR ImageFileName(PEPROCESS Process);
NTSTATUS Lookup(HANDLE Id, PEPROCESS *Process); NTSTATUS LookupThread(HANDLE Id, PETHREAD *Thread);
NTSTATUS Locate(PEPROCESS Process, PUNICODE_STRING *Name); void Free(PVOID Block);
void Reference(PVOID Object); void Dereference(PVOID Object); LONG_PTR FastDereference(PVOID Object);
NTSTATUS ByPointer(PVOID Object, LONG Type); NTSTATUS ByHandle(HANDLE Handle, LONG Type, PVOID *Object);
NTSTATUS OpenByPointer(PVOID Object, LONG Type, PHANDLE Handle); NTSTATUS OpenProcess(HANDLE Id, PHANDLE Handle);
NTSTATUS QueryProcess(HANDLE Handle, ULONG Class, PVOID Buffer, ULONG Length); NTSTATUS Close(HANDLE Handle);
NTSTATUS QueryKey(HANDLE Handle, PVOID Buffer, ULONG Length, PULONG Needed);
"""
NO_TYPE, PROCESS, THREAD, KEY = 0, 1, 2, 3
PROCESS_EX, PROCESS_PLAIN, THREAD_NOTIFY, IMAGE_NOTIFY = 0, 1, 2, 3


@pytest.fixture
def ps(kernel, build_filter):
    """The test driver, loaded as "psdrv", with its exports callable from the test (as driver code)."""
    driver = kernel.load_driver(build_filter(DRIVER, name="psdrv"), "psdrv")
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(EXPORTS)
    return local.dlopen(str(driver.module_path))


def _handle(kernel, value: int):
    return kernel.ffi.cast("HANDLE", value)


def _id(kernel, handle) -> int:
    return int(kernel.ffi.cast("ULONG_PTR", handle))


def _lines(kernel) -> list[str]:
    return [line.rstrip("\n") for _, line in kernel.debug_output]


def _findings(kernel, kind: str) -> list:
    found = [finding for finding in kernel.findings if finding.kind == kind]
    kernel.findings[:] = [finding for finding in kernel.findings if finding.kind != kind]
    return found


# --- objects and lookups ------------------------------------------------------------------------

def test_lookup_of_an_unknown_process_id_is_invalid_parameter_and_a_known_one_is_referenced(kernel, ps):
    """Microsoft's PsLookupProcessByProcessId documentation: STATUS_INVALID_PARAMETER when the id is not
    found; the process is referenced and the caller gives it back with ObDereferenceObject."""
    out = kernel.ffi.new("PEPROCESS *")
    assert ps.Lookup(_handle(kernel, 99996), out) == STATUS_INVALID_PARAMETER
    with caller.as_process(1234, TOOL):
        current = ps.Current()
    assert ps.Lookup(_handle(kernel, 1234), out) == STATUS_SUCCESS and out[0] == current
    process = kernel.processes.table.process(1234)
    assert process.driver_references == 1
    ps.Dereference(out[0])
    assert process.driver_references == 0 and kernel.findings == []
    # the System process exists from the start
    assert ps.Lookup(_handle(kernel, 4), out) == STATUS_SUCCESS and _id(kernel, ps.ProcessId(out[0])) == 4
    ps.Dereference(out[0])


def test_an_ended_process_is_looked_up_no_more_but_a_reference_keeps_its_object(kernel, ps):
    """A process that exited has no CID entry (PsLookupProcessByProcessId fails), while the EPROCESS a
    driver referenced stays valid until it dereferences it."""
    assert kernel.start_process(2000, TOOL) == STATUS_SUCCESS
    out = kernel.ffi.new("PEPROCESS *")
    assert ps.Lookup(_handle(kernel, 2000), out) == STATUS_SUCCESS
    assert kernel.end_process(2000) and not kernel.end_process(2000)
    again = kernel.ffi.new("PEPROCESS *")
    assert ps.Lookup(_handle(kernel, 2000), again) == STATUS_INVALID_PARAMETER
    assert _id(kernel, ps.ProcessId(out[0])) == 2000
    ps.Dereference(out[0])
    assert kernel.processes.object_at(_id(kernel, out[0])) is None  # the last reference freed it
    assert kernel.findings == []


def test_the_image_file_name_is_the_first_15_characters_of_the_file_name(kernel, ps):
    """EPROCESS.ImageFileName is a UCHAR[15] (the public symbols' layout): PsGetProcessImageFileName gives
    the image's file name cut to 15 characters, in ANSI."""
    with caller.as_process(1300, r"\Device\HarddiskVolume1\Program Files\Vendor\VeryLongApplicationName.exe"):
        assert kernel.ffi.string(kernel.ffi.cast("char *", ps.ImageFileName(ps.Current()))) == b"VeryLongApplica"
    with caller.as_process(1304, r"\Device\HarddiskVolume1\Windows\notepad.exe"):
        assert kernel.ffi.string(kernel.ffi.cast("char *", ps.ImageFileName(ps.Current()))) == b"notepad.exe"
    out = kernel.ffi.new("PEPROCESS *")
    assert ps.Lookup(_handle(kernel, 4), out) == STATUS_SUCCESS
    assert kernel.ffi.string(kernel.ffi.cast("char *", ps.ImageFileName(out[0]))) == b"System"
    ps.Dereference(out[0])


def test_se_locate_process_image_name_allocates_a_string_the_driver_frees_with_ex_free_pool(kernel, ps):
    """Microsoft's SeLocateProcessImageName documentation: the routine allocates a buffer holding a
    UNICODE_STRING followed by the name, which the caller frees with ExFreePool. Not freed, it is the
    driver's leak at its unload."""
    name = kernel.ffi.new("PUNICODE_STRING *")
    with caller.as_process(1400, TOOL):
        assert ps.Locate(ps.Current(), name) == STATUS_SUCCESS
    string = name[0]
    assert kernel.ffi.buffer(string.Buffer, string.Length)[:].decode("utf-16-le") == TOOL
    assert _id(kernel, string.Buffer) == _id(kernel, string) + kernel.ffi.sizeof("UNICODE_STRING")
    driver = kernel.drivers["psdrv"]
    assert [a.module for a in kernel.pool.values()] == [driver.base]
    ps.Free(string)
    assert kernel.pool == {} and kernel.findings == []
    with caller.as_process(1400, TOOL):
        assert ps.Locate(ps.Current(), name) == STATUS_SUCCESS
    leaks = kernel.unload_driver("psdrv")
    assert [finding.kind for finding in leaks] == ["leaked-pool"]
    kernel.findings.clear()


def test_threads_belong_to_their_process_and_system_threads_to_the_system_process(kernel, ps):
    """PsGetCurrentThread and KeGetCurrentThread name the same object; PsGetThreadProcessId gives its
    process; PsIsSystemThread is TRUE for the System process's threads only (DriverEntry runs in one)."""
    assert "entry system thread 1" in _lines(kernel)
    with caller.as_process(1500, TOOL):
        thread = ps.CurrentThread()
        assert thread == ps.CurrentKThread()
        assert _id(kernel, ps.ThreadProcessId(thread)) == 1500
        assert _id(kernel, ps.ThreadId(thread)) == caller.thread_id()
        assert ps.IsSystemThread(thread) == 0
    out = kernel.ffi.new("PETHREAD *")
    with caller.as_process(1500, TOOL):
        assert ps.LookupThread(_handle(kernel, caller.thread_id()), out) == STATUS_SUCCESS and out[0] == thread
    ps.Dereference(out[0])
    assert ps.LookupThread(_handle(kernel, 0x7FFFFFF0), out) == STATUS_INVALID_PARAMETER


# --- handles and the Ob routines -----------------------------------------------------------------

def test_object_type_mismatch_by_handle_and_by_pointer(kernel, ps):
    """Microsoft's ObReferenceObjectByHandle documentation: STATUS_OBJECT_TYPE_MISMATCH when ObjectType is
    not the type of the object the handle names. A process handle to a registry call: the same."""
    reg = kernel.registry
    status, key_handle = reg.open_key(SOFTWARE, KEY_READ)
    process_handle = kernel.ffi.new("HANDLE *")
    assert ps.OpenProcess(_handle(kernel, 4), process_handle) == STATUS_SUCCESS
    out = kernel.ffi.new("PVOID *")
    assert ps.ByHandle(_handle(kernel, key_handle), PROCESS, out) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.ByHandle(process_handle[0], KEY, out) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.ByHandle(process_handle[0], THREAD, out) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.ByHandle(process_handle[0], PROCESS, out) == STATUS_SUCCESS
    assert _id(kernel, ps.ProcessId(out[0])) == 4
    assert ps.ByPointer(out[0], KEY) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.ByPointer(out[0], PROCESS) == STATUS_SUCCESS
    ps.Dereference(out[0])
    ps.Dereference(out[0])
    assert ps.ByHandle(_handle(kernel, key_handle), KEY, out) == STATUS_SUCCESS
    ps.Dereference(out[0])
    basic = kernel.ffi.new("KEY_BASIC_INFORMATION *")
    needed = kernel.ffi.new("ULONG *")
    assert ps.QueryKey(process_handle[0], basic, 16, needed) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.Close(process_handle[0]) == STATUS_SUCCESS
    assert ps.Close(process_handle[0]) != STATUS_SUCCESS  # closed once
    reg.close(key_handle)
    assert kernel.findings == []


def test_zw_open_process_and_query_information_process(kernel, ps):
    """ZwOpenProcess: STATUS_INVALID_CID for an id no process has; the handle answers
    ZwQueryInformationProcess: ProcessBasicInformation (exact length, else STATUS_INFO_LENGTH_MISMATCH;
    ExitStatus STATUS_PENDING while the process runs) and ProcessImageFileName."""
    handle = kernel.ffi.new("HANDLE *")
    assert ps.OpenProcess(_handle(kernel, 99992), handle) == STATUS_INVALID_CID
    with caller.as_process(1600, TOOL):
        assert kernel.start_process(1604, EVIL.replace("evil", "child")) == STATUS_SUCCESS
    assert ps.OpenProcess(_handle(kernel, 1604), handle) == STATUS_SUCCESS
    basic = kernel.ffi.new("PROCESS_BASIC_INFORMATION *")
    size = kernel.ffi.sizeof("PROCESS_BASIC_INFORMATION")
    klass = PROCESSINFOCLASS.ProcessBasicInformation
    assert ps.QueryProcess(handle[0], klass, basic, size + 8) == STATUS_INFO_LENGTH_MISMATCH
    assert ps.QueryProcess(handle[0], klass, basic, size) == STATUS_SUCCESS
    assert (basic.UniqueProcessId, basic.InheritedFromUniqueProcessId, basic.ExitStatus) == (1604, 1600,
                                                                                          STATUS_PENDING)
    buffer = kernel.ffi.new("UCHAR[]", 512)
    assert ps.QueryProcess(handle[0], PROCESSINFOCLASS.ProcessImageFileName, buffer, 512) == STATUS_SUCCESS
    image = kernel.ffi.cast("PUNICODE_STRING", buffer)
    assert kernel.ffi.buffer(image.Buffer, image.Length)[:].decode("utf-16-le") == EVIL.replace("evil", "child")
    entry = kernel.native.handles.lookup(_id(kernel, handle[0]))
    assert entry.attributes & 0x200  # OBJ_KERNEL_HANDLE, from the object attributes
    assert ps.Close(handle[0]) == STATUS_SUCCESS


def test_ob_open_object_by_pointer_gives_handles_to_key_and_process_objects(kernel, ps):
    """ObOpenObjectByPointer: a handle to the object (here kernel handles); a type mismatch is
    STATUS_OBJECT_TYPE_MISMATCH and makes none."""
    reg = kernel.registry
    status, key_handle = reg.open_key(SOFTWARE, KEY_READ)
    key_object = reg.native.handles.lookup(key_handle).obj
    handle = kernel.ffi.new("HANDLE *")
    assert ps.OpenByPointer(key_object.pointer, PROCESS, handle) == STATUS_OBJECT_TYPE_MISMATCH
    assert ps.OpenByPointer(key_object.pointer, KEY, handle) == STATUS_SUCCESS
    basic = kernel.ffi.new("UCHAR[]", 256)
    needed = kernel.ffi.new("ULONG *")
    assert ps.QueryKey(handle[0], basic, 256, needed) == STATUS_SUCCESS
    assert ps.Close(handle[0]) == STATUS_SUCCESS
    reg.close(key_handle)
    with caller.as_process(1700, TOOL):
        process = ps.Current()
    assert ps.OpenByPointer(process, NO_TYPE, handle) == STATUS_SUCCESS
    info = kernel.ffi.new("PROCESS_BASIC_INFORMATION *")
    klass = PROCESSINFOCLASS.ProcessBasicInformation
    assert ps.QueryProcess(handle[0], klass, info, kernel.ffi.sizeof(info[0])) == STATUS_SUCCESS
    assert info.UniqueProcessId == 1700
    assert ps.Close(handle[0]) == STATUS_SUCCESS
    assert kernel.findings == []


@pytest.mark.parametrize("kind", ["key", "process", "thread"])
def test_ob_references_work_on_every_object_kind_and_an_extra_dereference_is_caught(kernel, ps, kind):
    """ObReferenceObject / ObDereferenceObject (and ObfDereferenceObject) on a key, a process and a thread
    object; giving back a reference no driver took is bug check 0x18 (REFERENCE_BY_POINTER) on Windows:
    a finding here, the object untouched."""
    reg = kernel.registry
    status, key_handle = reg.open_key(SOFTWARE, KEY_READ)
    with caller.as_process(1800, TOOL):
        objects = {"key": reg.native.handles.lookup(key_handle).obj.pointer, "process": ps.Current(),
                   "thread": ps.CurrentThread()}
    target = objects[kind]
    obj = kernel.processes.object_at(_id(kernel, target))
    before = obj.references
    ps.Reference(target)
    ps.Reference(target)
    assert obj.references == before + 2
    ps.Dereference(target)
    assert ps.FastDereference(target) == before
    assert kernel.findings == []
    ps.Dereference(target)
    found = _findings(kernel, "bugcheck")
    assert len(found) == 1 and "REFERENCE_BY_POINTER" in found[0].message and found[0].driver == "psdrv"
    assert obj.references == before
    reg.close(key_handle)


def test_ob_routines_on_an_address_that_is_no_object_are_a_finding(kernel, ps):
    block = kernel.ffi.new("UCHAR[]", 64)
    ps.Dereference(block)
    found = _findings(kernel, "bugcheck")
    assert len(found) == 1 and "no live object" in found[0].message


# --- notify routines ---------------------------------------------------------------------------------

def test_notify_ex_denies_a_start_and_the_others_see_only_the_started_ones(kernel, ps):
    """Microsoft's PS_CREATE_NOTIFY_INFO documentation: a routine sets CreationStatus to an error to deny
    the creation, and the process is not created. The other routines: the create with its first thread,
    then (at its end) the thread's and the process's exits; the Ex routine gets a NULL CreateInfo."""
    for which in (PROCESS_EX, PROCESS_PLAIN, THREAD_NOTIFY):
        assert ps.SetNotify(which, 0) == STATUS_SUCCESS
    kernel.debug_output.clear()
    with caller.as_process(1900, TOOL):
        assert kernel.start_process(1904, EVIL) == STATUS_ACCESS_DENIED
        assert kernel.start_process(1908, TOOL, command_line="x.exe /quiet") == STATUS_SUCCESS
    out = kernel.ffi.new("PEPROCESS *")
    assert ps.Lookup(_handle(kernel, 1904), out) == STATUS_INVALID_PARAMETER
    assert kernel.end_process(1908)
    lines = _lines(kernel)
    size = kernel.ffi.sizeof("PS_CREATE_NOTIFY_INFO")
    assert lines[0] == f"ex create 0000000000000770 parent 000000000000076C size {size} image {EVIL} cmdline " \
                       f'"{EVIL}" current 000000000000076C'
    assert lines[1] == f"ex create 0000000000000774 parent 000000000000076C size {size} image {TOOL} cmdline " \
                       "x.exe /quiet current 000000000000076C"
    assert lines[2:4] == ["process create 0000000000000774 parent 000000000000076C",
                          f"thread create {caller.thread_id():016X} in 0000000000000774"]
    assert lines[4:] == [f"thread exit {caller.thread_id():016X} in 0000000000000774",
                         "ex exit 0000000000000774 x.exe", "process exit 0000000000000774 parent 000000000000076C"]
    trace = kernel.native.dispatcher.trace.drain()
    assert [(r[0], r[3], r[4]) for r in trace if r[0].startswith("Process")] == [
        ("ProcessStart", f"1904 {EVIL}", STATUS_ACCESS_DENIED), ("ProcessStart", f"1908 {TOOL}", STATUS_SUCCESS),
        ("ProcessExit", f"1908 {TOOL}", STATUS_SUCCESS)]
    assert kernel.findings == []


def test_notify_registration_statuses(kernel, ps):
    """Microsoft's documentation: registering a process routine twice is STATUS_INVALID_PARAMETER;
    removing one that is not registered is STATUS_PROCEDURE_NOT_FOUND (all four kinds)."""
    for which in (PROCESS_EX, PROCESS_PLAIN, THREAD_NOTIFY, IMAGE_NOTIFY):
        assert ps.SetNotify(which, 1) == STATUS_PROCEDURE_NOT_FOUND
    assert ps.SetNotify(PROCESS_EX, 0) == STATUS_SUCCESS
    assert ps.SetNotify(PROCESS_EX, 0) == STATUS_INVALID_PARAMETER
    assert ps.SetNotify(PROCESS_EX, 1) == STATUS_SUCCESS
    assert ps.SetNotify(PROCESS_EX, 1) == STATUS_PROCEDURE_NOT_FOUND


def test_notify_routines_left_registered_at_unload_are_findings(kernel, ps):
    """A notify routine left registered would be called in unloaded code: Windows bug checks; here a
    verifier finding per routine, naming it and the routine that removes it."""
    for which in (PROCESS_EX, THREAD_NOTIFY):
        assert ps.SetNotify(which, 0) == STATUS_SUCCESS
    ps.SetLeaveRegistered(1)
    found = kernel.unload_driver("psdrv")
    assert sorted(f.kind for f in found) == ["leaked-notify-routine", "leaked-notify-routine"]
    assert any("PsRemoveCreateThreadNotifyRoutine" in f.message for f in found)
    assert kernel.processes.registrations == []
    kernel.findings.clear()
    assert kernel.start_process(2100, TOOL) == STATUS_SUCCESS  # nothing calls the unloaded code


def test_load_image_notify_sees_a_driver_loaded_after(kernel, ps, build_filter):
    assert ps.SetNotify(IMAGE_NOTIFY, 0) == STATUS_SUCCESS
    other = build_filter("#include <ntddk.h>\nstatic VOID U(PDRIVER_OBJECT D) { UNREFERENCED_PARAMETER(D); }\n"
                         "NTSTATUS DriverEntry(PDRIVER_OBJECT D, PUNICODE_STRING R) { UNREFERENCED_PARAMETER(R);"
                         " D->DriverUnload = U; return STATUS_SUCCESS; }\n", name="later")
    kernel.debug_output.clear()
    kernel.load_driver(other, "later")
    assert _lines(kernel) == [f"image \\??\\{other.resolve()} process 0000000000000000 system 1"]


def test_script_start_and_exit_run_the_notify_routines_and_expect_sees_a_denial(kernel, ps):
    """`start` and `exit` in a registry script; the denied start's status is what `expect` checks."""
    assert ps.SetNotify(PROCESS_EX, 0) == STATUS_SUCCESS
    steps = script.parse(f'as 2200 {TOOL}\nstart 2204 {EVIL}\nexpect STATUS_ACCESS_DENIED\n'
                         f'start 2208 {TOOL} parent=4 cmdline="x.exe -a"\nexpect STATUS_SUCCESS\nexit 2208\n'
                         'expect STATUS_SUCCESS\nexit 2208\nexpect STATUS_INVALID_CID\n')
    outcome = script.Runner(kernel.registry).run(steps)
    assert outcome.failed == []
    lines = _lines(kernel)
    assert any(line.startswith("ex create 00000000000008A0 parent 0000000000000004") and "cmdline x.exe -a" in line
               for line in lines)


def test_a_script_refuses_bad_start_and_exit_lines():
    for text in ("start 12", "start x y", "start 12 y bogus=1", "exit", "exit 1 2", "start 99999999999 y"):
        with pytest.raises(script.ScriptError):
            script.parse(text)


# --- MmGetSystemRoutineAddress -------------------------------------------------------------------------

def test_mm_get_system_routine_address_finds_the_shims_exports_and_only_them(kernel):
    """Microsoft's MmGetSystemRoutineAddress documentation: the routine's address, or NULL if it cannot be
    found. C routines, Python routines' forwarders and exported variables alike; the shim's own hooks
    are no kernel exports."""
    library = ctypes.CDLL(str(kernel.shim_path))

    def lookup(name: str) -> int:
        data = name.encode("utf-16-le")
        buffer = kernel.ffi.new("WCHAR[]", len(name) + 1)
        kernel.ffi.memmove(buffer, data, len(data))
        string = kernel.ffi.new("UNICODE_STRING *")
        string.Buffer, string.Length, string.MaximumLength = buffer, len(data), len(data) + 2
        return _id(kernel, kernel.routines.MmGetSystemRoutineAddress(string))

    for name in ("RtlInitUnicodeString", "PsGetProcessId", "PsLookupProcessByProcessId", "PsProcessType",
                 "PsGetProcessImageFileName", "PsGetCurrentProcess"):
        assert lookup(name) == ctypes.cast(library[name], ctypes.c_void_p).value, name
    for name in ("NoSuchRoutine", "CmhookModuleBase", "psgetprocessid", ""):
        assert lookup(name) == 0, name


# --- the bug-check report ---------------------------------------------------------------------------------

CRASHING = r"""#include <ntddk.h>
static VOID Notify(HANDLE ParentId, HANDLE ProcessId, BOOLEAN Create)
{
    UNREFERENCED_PARAMETER(ParentId); UNREFERENCED_PARAMETER(ProcessId);
    if (Create)
        *(volatile LONG *)0 = 1;
}
static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    PsSetCreateProcessNotifyRoutine(Notify, TRUE);
}
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return PsSetCreateProcessNotifyRoutine(Notify, FALSE);
}
"""


def test_a_crash_in_a_notify_routine_is_reported_naming_the_driver_the_routine_and_the_process(tmp_path):
    """The bug-check report names the driver, says it was in a create-process notify routine and shows
    the process beside its id, as !analyze's PROCESS_NAME does."""
    source = tmp_path / "crash_notify.c"
    source.write_text(CRASHING)
    scenario = tmp_path / "start.script"
    scenario.write_text(f"as 4242 {TOOL}\nstart 4300 {EVIL}\n")
    done = cmhook("run", source, "--script", scenario)
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "driver crash_notify crashed" in text
    assert "create-process notify routine" in text
    assert "process 4242 (x.exe)" in text and "PROCESS_NAME:  x.exe" in text
