"""No kernel routine answers STATUS_SUCCESS for what it did not do: a name no UNICODE_STRING holds
is STATUS_NAME_TOO_LONG, what Windows would bug check on (a NULL out-pointer, one dereference too
many) is a "bugcheck" finding naming the driver, and an upcall whose Python end raises returns
STATUS_INTERNAL_ERROR, never cffi's default 0."""

from __future__ import annotations

import re
from pathlib import Path

import cffi
import pytest

from harness import kernel as kernel_module
from harness import routines
from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_READ,
    PROCESSINFOCLASS,
    REG_DWORD,
    STATUS_ACCESS_VIOLATION,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INTERNAL_ERROR,
    STATUS_NAME_TOO_LONG,
    STATUS_SUCCESS,
    ffi,
)
from registry_core import caller
from registry_core.registry import MAX_UNICODE_STRING_CHARS

SOFTWARE = "\\REGISTRY\\MACHINE\\SOFTWARE"
MINGW_NTSTATUS = Path("/usr/share/mingw-w64/include/ntstatus.h")

MISUSE = r"""
#include <ntddk.h>

static LARGE_INTEGER Cookie;
static volatile LONG DereferenceInPre;

/* A callback that gives back a reference it never took: the bug this driver is for. */
static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if (DereferenceInPre && (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey)
        ObDereferenceObject(((PREG_SET_VALUE_KEY_INFORMATION)Argument2)->Object);
    return STATUS_SUCCESS;
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}

void SetDereferenceInPre(LONG On) { DereferenceInPre = On; }
NTSTATUS ReferenceInto(HANDLE Handle, PVOID *Object)
{
    return ObReferenceObjectByHandle(Handle, KEY_READ, NULL, KernelMode, Object, NULL);
}
void Dereference(PVOID Object) { ObDereferenceObject(Object); }
NTSTATUS QueryName(PVOID Object, PVOID Buffer, ULONG Length, PULONG Needed)
{
    return ObQueryNameString(Object, (POBJECT_NAME_INFORMATION)Buffer, Length, Needed);
}
NTSTATUS Close(HANDLE Handle) { return ZwClose(Handle); }
"""

EXPORTS = """
void SetDereferenceInPre(LONG On); NTSTATUS ReferenceInto(HANDLE Handle, PVOID *Object);
void Dereference(PVOID Object); NTSTATUS QueryName(PVOID Object, PVOID Buffer, ULONG Length, PULONG Needed);
NTSTATUS Close(HANDLE Handle);
"""


@pytest.fixture
def misuse(kernel, build_filter):
    """The misusing driver, loaded as "misuse", with its exports callable from the test."""
    driver = kernel.load_driver(build_filter(MISUSE, name="misuse"), "misuse")
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(EXPORTS)
    return local.dlopen(str(driver.module_path))


def _findings(kernel, kind: str) -> list:
    found = [finding for finding in kernel.findings if finding.kind == kind]
    kernel.findings.clear()
    return found


def _deep_key(reg, units: int) -> str:
    """A key under SOFTWARE whose full name is exactly units characters long (made level by level)."""
    path, remaining = SOFTWARE, units - len(SOFTWARE)
    while remaining > 0:  # components of at most 256 characters, each costing one more for its backslash
        take = 256 if remaining > 2 * 257 else remaining // 2 - 1 if remaining > 257 else remaining - 1
        path += "\\" + "d" * take
        remaining -= take + 1
    reg.create_path(path)
    assert len(path) == units
    return path


# --- names no UNICODE_STRING holds ------------------------------------------------------------

@pytest.mark.parametrize("units, status", [(MAX_UNICODE_STRING_CHARS, STATUS_SUCCESS),
                                           (MAX_UNICODE_STRING_CHARS + 1, STATUS_NAME_TOO_LONG)])
def test_ob_query_name_string_of_a_name_a_unicode_string_cannot_hold(kernel, units, status):
    reg = kernel.registry
    path = _deep_key(reg, units)
    opened, handle = reg.open_path(path, KEY_READ)
    assert opened == STATUS_SUCCESS
    obj = reg.native.handles.lookup(handle).obj
    header = ffi.sizeof("OBJECT_NAME_INFORMATION")
    size = header + 2 * units + 2
    buffer = kernel.ffi.new("UCHAR[]", size)
    info = kernel.ffi.cast("POBJECT_NAME_INFORMATION", buffer)
    needed = kernel.ffi.new("ULONG *", 0xDEADBEEF)
    assert kernel.routines.ObQueryNameString(obj.pointer, info, size, needed) == status
    if status == STATUS_SUCCESS:
        assert (info.Name.Length, info.Name.MaximumLength, needed[0]) == (0xFFFE, 0xFFFE, size)
        assert ffi.buffer(info.Name.Buffer, info.Name.Length + 2)[:] == (path + "\0").encode("utf-16-le")
    else:  # nothing written: no size to retry with, no half-filled name
        assert needed[0] == 0xDEADBEEF and bytes(kernel.ffi.buffer(buffer, size)) == bytes(size)
        # asked for its size first, it still says the name cannot be had
        assert kernel.routines.ObQueryNameString(obj.pointer, kernel.ffi.NULL, 0, needed) == STATUS_NAME_TOO_LONG
    assert kernel.findings == []
    reg.close(handle)


def test_zw_query_information_process_of_an_image_a_unicode_string_cannot_hold(kernel):
    query = kernel.routines.ZwQueryInformationProcess
    current, image_class = kernel.ffi.cast("HANDLE", -1), PROCESSINFOCLASS.ProcessImageFileName
    needed = kernel.ffi.new("ULONG *", 0xDEADBEEF)
    longest = "\\Device\\" + "x" * (MAX_UNICODE_STRING_CHARS - 8)
    size = ffi.sizeof("UNICODE_STRING") + 2 * len(longest) + 2
    buffer = kernel.ffi.new("UCHAR[]", size + 2)
    with caller.as_process(4242, longest):
        assert query(current, image_class, buffer, size, needed) == STATUS_SUCCESS
        string = kernel.ffi.cast("PUNICODE_STRING", buffer)
        assert (string.Length, string.MaximumLength, needed[0]) == (0xFFFE, 0xFFFE, size)
    needed[0] = 0xDEADBEEF
    with caller.as_process(4242, longest + "x"):
        assert query(current, image_class, buffer, size + 2, needed) == STATUS_NAME_TOO_LONG
        assert needed[0] == 0xDEADBEEF
    assert kernel.findings == []


# --- what Windows bug checks on ---------------------------------------------------------------

def test_ob_reference_object_by_handle_into_null_is_a_bugcheck_naming_the_driver(kernel, misuse):
    reg = kernel.registry
    status, handle = reg.open_key(SOFTWARE, KEY_READ)
    obj = reg.native.handles.lookup(handle).obj
    assert misuse.ReferenceInto(kernel.ffi.cast("HANDLE", handle), kernel.ffi.NULL) == STATUS_ACCESS_VIOLATION
    (finding,) = _findings(kernel, "bugcheck")
    assert finding.driver == "misuse" and "Object NULL" in finding.message
    assert obj.references == 1  # no reference was taken for nobody
    assert reg.close(handle) == STATUS_SUCCESS


def test_ob_query_name_string_into_null_with_a_length_is_a_bugcheck(kernel, misuse):
    reg = kernel.registry
    status, handle = reg.open_key(SOFTWARE, KEY_READ)
    obj = reg.native.handles.lookup(handle).obj
    needed = kernel.ffi.new("ULONG *")
    assert misuse.QueryName(obj.pointer, kernel.ffi.NULL, 4096, needed) == STATUS_ACCESS_VIOLATION
    (finding,) = _findings(kernel, "bugcheck")
    assert finding.driver == "misuse" and "ObjectNameInfo NULL" in finding.message
    assert misuse.QueryName(obj.pointer, kernel.ffi.NULL, 0, needed) == STATUS_INFO_LENGTH_MISMATCH
    assert kernel.findings == []
    reg.close(handle)


def test_dereferencing_once_too_often_is_a_bugcheck_naming_the_driver_and_changes_nothing(kernel, misuse):
    reg = kernel.registry
    status, handle = reg.open_key(SOFTWARE, KEY_READ)
    out = kernel.ffi.new("PVOID *")
    assert misuse.ReferenceInto(kernel.ffi.cast("HANDLE", handle), out) == STATUS_SUCCESS
    obj = reg.native.handles.lookup(handle).obj
    assert (obj.references, obj.driver_references) == (2, 1)
    misuse.Dereference(out[0])  # its own reference: fine
    assert (obj.references, obj.driver_references) == (1, 0) and kernel.findings == []
    misuse.Dereference(out[0])  # the handle's: REFERENCE_BY_POINTER on Windows
    (finding,) = _findings(kernel, "bugcheck")
    assert finding.driver == "misuse" and "0x18" in finding.message and "SOFTWARE" in finding.message
    assert obj.references == 1
    assert reg.close(handle) == STATUS_SUCCESS  # the handle's reference is still there to give back


def test_a_callback_dereferencing_the_object_it_was_given_is_a_finding_not_a_runtime_error(kernel, misuse):
    """The engine used to raise RuntimeError ("dereferenced too often") out of the caller's set."""
    reg = kernel.registry
    misuse.SetDereferenceInPre(1)
    status, handle = reg.open_key(SOFTWARE, KEY_ALL_ACCESS)
    assert reg.set_value(handle, "v", REG_DWORD, bytes(4)) == STATUS_SUCCESS
    assert reg.close(handle) == STATUS_SUCCESS
    misuse.SetDereferenceInPre(0)
    (finding,) = _findings(kernel, "bugcheck")
    assert finding.driver == "misuse" and "ObDereferenceObject" in finding.message


# --- an upcall that raises --------------------------------------------------------------------

def test_every_ntstatus_upcall_fails_with_status_internal_error_when_it_raises():
    kernel_module.Kernel(replace=True).close()  # binds the upcalls, once per process
    ntstatus = kernel_module.ntstatus_upcalls()
    assert {"ObQueryNameString", "ObReferenceObjectByHandle", "ZwQueryInformationProcess", "ZwOpenKey",
            "CmRegisterCallback"} <= ntstatus
    assert not {"ObDereferenceObject", "PsGetCurrentProcessId", "KeQuerySystemTime", "PoolFreed"} & ntstatus
    for name in [*routines.ROUTINES, "PoolAllocated", "PoolFreed", "DbgOutput"]:
        expected = STATUS_INTERNAL_ERROR if name in ntstatus else None
        assert kernel_module.UPCALL_ERRORS[name] == expected, name


@pytest.mark.skipif(not MINGW_NTSTATUS.exists(), reason="mingw-w64's ntstatus.h is not installed")
@pytest.mark.parametrize("name", ["STATUS_INTERNAL_ERROR", "STATUS_NAME_TOO_LONG", "STATUS_ACCESS_VIOLATION"])
def test_the_statuses_used_here_are_mingws(name):
    match = re.search(rf"#define {name}\s+\(\(NTSTATUS\)(0x[0-9A-Fa-f]+)\)", MINGW_NTSTATUS.read_text())
    assert match is not None and int(match.group(1), 16) == globals()[name] & 0xFFFFFFFF


def test_an_upcall_that_raises_returns_a_failure_and_names_the_driver(kernel, misuse, monkeypatch):
    reg = kernel.registry
    status, handle = reg.open_key(SOFTWARE, KEY_READ)
    out = kernel.ffi.new("PVOID *")

    def broken(*args):
        raise RuntimeError("the engine broke")

    with monkeypatch.context() as patch:
        patch.setattr(kernel.native.handles, "lookup", broken)
        assert misuse.ReferenceInto(kernel.ffi.cast("HANDLE", handle), out) == STATUS_INTERNAL_ERROR
    with monkeypatch.context() as patch:
        patch.setattr(kernel.native, "call", broken)
        assert misuse.Close(kernel.ffi.cast("HANDLE", handle)) == STATUS_INTERNAL_ERROR
    found = _findings(kernel, "upcall-error")
    assert [(f.driver, f.message.split(" raised")[0]) for f in found] == [
        ("misuse", "ObReferenceObjectByHandle"), ("misuse", "ZwClose")]
    assert all("the engine broke; the call returned STATUS_INTERNAL_ERROR" in f.message for f in found)
    assert reg.close(handle) == STATUS_SUCCESS
