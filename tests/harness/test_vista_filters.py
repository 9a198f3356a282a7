"""The kernel-mode scenarios of Microsoft's registry filter sample (regfltr), told in our own words
in vista_samples.c, as C filters built for Windows 7 and run on every Vista-era profile: block,
bypass, post override success->error and error->success, call and object context, multiple
altitudes with a block during the pre, multiple altitudes with an internal invocation, and the
create/open V1 bypass with CmCallbackGetKeyObjectID (Windows 7 and later: V1 is Windows 7's).
The two transaction samples are out of scope (no transactions yet: docs/profiles.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cmhook

from ntddk_py import REG_DWORD

SOURCE = Path(__file__).resolve().parent / "vista_samples.c"
PROFILES = ["vista", "win7", "win8", "win10"]
SAMPLES = {
    1: "block",
    2: "bypass",
    3: "post override success to error",
    4: "post override error to success",
    5: "call and object context",
    6: "multiple altitudes block during pre",
    7: "multiple altitudes internal invocation",
    8: "create open v1",
}


def _cases():
    for number, name in SAMPLES.items():
        for profile in PROFILES:
            if number == 8 and profile == "vista":
                continue  # V1 is Windows 7's struct: a Vista kernel sends the shorter one
            yield pytest.param(number, name, marks=pytest.mark.cmhook(profile=profile), id=f"{profile}-{number}")


@pytest.mark.parametrize("number,name", list(_cases()))
def test_regfltr_sample(kernel, build_filter, number, name):
    """Each sample checks itself in DriverEntry and prints its verdict; the FAIL lines name the check."""
    module = build_filter(SOURCE, defines={"SAMPLE": number, "NTDDI_VERSION": "NTDDI_WIN7"},
                          name=f"vista_sample_{number}")
    kernel.load_driver(module)
    lines = [line for _, line in kernel.debug_output]
    assert [line for line in lines if line.startswith("FAIL")] == []
    assert f"sample {name}: pass" in "".join(lines)
    assert kernel.findings == []


@pytest.mark.cmhook(profile="win7")
def test_a_win7_filter_gets_every_struct_whole(kernel, build_filter):
    """A filter built for Windows 7 reads each REG_* struct to its last member; the engine places
    each struct against a guard page (special-pool style), so reading past one would fault here."""
    module = build_filter('''
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static volatile ULONG_PTR Sink;
static NTSTATUS NTAPI Reader(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    REG_NOTIFY_CLASS Class = (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1;
    UNREFERENCED_PARAMETER(Context);
    switch (Class) {
    case RegNtPreSetValueKey: Sink += (ULONG_PTR)((PREG_SET_VALUE_KEY_INFORMATION)Argument2)->Reserved; break;
    case RegNtPreQueryValueKey: Sink += (ULONG_PTR)((PREG_QUERY_VALUE_KEY_INFORMATION)Argument2)->Reserved; break;
    case RegNtPreKeyHandleClose: Sink += (ULONG_PTR)((PREG_KEY_HANDLE_CLOSE_INFORMATION)Argument2)->Reserved; break;
    case RegNtPreCreateKeyEx: case RegNtPreOpenKeyEx:
        Sink += ((PREG_CREATE_KEY_INFORMATION_V1)Argument2)->CheckAccessMode; break;
    default:
        if (Class >= RegNtPostDeleteKey && Class <= RegNtPostOpenKeyEx && Class != RegNtPreCreateKeyEx
            && Class != RegNtPreOpenKeyEx)
            Sink += (ULONG_PTR)((PREG_POST_OPERATION_INFORMATION)Argument2)->Reserved;
    }
    return STATUS_SUCCESS;
}
static VOID NTAPI Unload(PDRIVER_OBJECT Driver) { UNREFERENCED_PARAMETER(Driver); CmUnRegisterCallback(Cookie); }
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING Altitude = RTL_CONSTANT_STRING(L"360000");
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->DriverUnload = Unload;
    return CmRegisterCallbackEx(Reader, &Altitude, Driver, NULL, &Cookie, NULL);
}
''', defines={"NTDDI_VERSION": "NTDDI_WIN7"}, name="whole_reader")
    kernel.load_driver(module)
    registry = kernel.registry
    status, handle, _ = registry.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Whole")
    registry.set_value(handle, "V", REG_DWORD, b"\1\0\0\0")
    registry.query_value(handle, "V")
    registry.close(handle)
    assert kernel.findings == []
    kernel.unload_driver("whole_reader")


_EX_NAMES = '''
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static NTSTATUS NTAPI Quiet(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(Argument1); UNREFERENCED_PARAMETER(Argument2);
    return STATUS_SUCCESS;
}
static VOID NTAPI Unload(PDRIVER_OBJECT Driver) { UNREFERENCED_PARAMETER(Driver); }
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING Altitude = RTL_CONSTANT_STRING(L"370000");
    UNICODE_STRING Path = RTL_CONSTANT_STRING(L"\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key, Again;
    PVOID Object;
    PCUNICODE_STRING Name = NULL;
    ULONG_PTR Id = 0;
    NTSTATUS Status;
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->DriverUnload = Unload;
    Status = CmRegisterCallbackEx(Quiet, &Altitude, Driver, NULL, &Cookie, NULL);
    DbgPrint("register %08lx\\n", (ULONG)Status);
    if (!NT_SUCCESS(Status))
        return STATUS_SUCCESS;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    ZwOpenKey(&Key, KEY_READ, &Attributes);
    ObReferenceObjectByHandle(Key, 0, NULL, KernelMode, &Object, NULL);
    DbgPrint("flags %08lx\\n", (ULONG)CmCallbackGetKeyObjectIDEx(&Cookie, Object, &Id, &Name, 1));
    Status = CmCallbackGetKeyObjectIDEx(&Cookie, Object, &Id, &Name, 0);
    DbgPrint("ex %08lx %wZ\\n", (ULONG)Status, Name);
    /* the name opens the key again */
    InitializeObjectAttributes(&Attributes, (PUNICODE_STRING)Name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL,
                               NULL);
    DbgPrint("reopen %08lx\\n", (ULONG)ZwOpenKey(&Again, KEY_READ, &Attributes));
    ZwClose(Again);
    CmCallbackReleaseKeyObjectIDEx(Name);
    CmCallbackReleaseKeyObjectIDEx(Name);  /* twice: a finding */
    ObDereferenceObject(Object);
    ZwClose(Key);
    CmUnRegisterCallback(Cookie);
    return STATUS_SUCCESS;
}
'''


@pytest.mark.cmhook(profile="win8")
def test_key_object_id_ex_names_the_key_and_is_released_once(kernel, build_filter):
    """CmCallbackGetKeyObjectIDEx: Flags must be 0; the name is absolute, opens the key with ZwOpenKey,
    and is given back once with CmCallbackReleaseKeyObjectIDEx (Microsoft's documentation); a second
    release is a finding (a bug check on Windows)."""
    kernel.load_driver(build_filter(_EX_NAMES, defines={"NTDDI_VERSION": "NTDDI_WIN8"}, name="ex_names"))
    lines = "".join(line for _, line in kernel.debug_output)
    assert "register 00000000" in lines
    assert "flags c000000d" in lines  # STATUS_INVALID_PARAMETER
    assert "ex 00000000 \\REGISTRY\\MACHINE\\SOFTWARE" in lines
    assert "reopen 00000000" in lines
    assert [finding.kind for finding in kernel.findings] == ["bugcheck"]
    assert "CmCallbackReleaseKeyObjectIDEx" in kernel.findings[0].message
    kernel.findings.clear()  # expected: the test made it


@pytest.mark.cmhook(profile="2003")
def test_a_vista_routine_before_vista_is_a_finding(kernel, build_filter):
    """CmRegisterCallbackEx is not exported by Server 2003: such a driver would not load there. Here
    the call fails with STATUS_NOT_IMPLEMENTED and the verifier says why (cmhook's decision)."""
    kernel.load_driver(build_filter(_EX_NAMES, name="too_new"))
    assert "register c0000002" in "".join(line for _, line in kernel.debug_output)
    assert [finding.kind for finding in kernel.findings] == ["unsupported"]
    assert "CmRegisterCallbackEx" in kernel.findings[0].message
    kernel.findings.clear()  # expected: the test made it


_BLOCKER = r"""
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static NTSTATUS NTAPI Block(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(Argument2);
    return (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
}
static VOID NTAPI Unload(PDRIVER_OBJECT Driver) { UNREFERENCED_PARAMETER(Driver); CmUnRegisterCallback(Cookie); }
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING Altitude = RTL_CONSTANT_STRING(L"385100");
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->DriverUnload = Unload;
    return CmRegisterCallbackEx(Block, &Altitude, Driver, NULL, &Cookie, NULL);
}
"""


def test_cmhook_run_takes_a_vista_profile_and_the_trace_shows_altitudes(tmp_path):
    """`cmhook run --profile win7`: a filter registered with CmRegisterCallbackEx runs, and each
    callback in the trace carries its altitude."""
    source = tmp_path / "alt_blocker.c"
    source.write_text(_BLOCKER)
    script = tmp_path / "one.script"
    script.write_text('create HKLM\\SOFTWARE\\Alt as k\nset k "V"=dword:00000001\nexpect STATUS_ACCESS_DENIED\n')
    trace = tmp_path / "trace.jsonl"
    done = cmhook("run", "--profile", "win7", source, "--script", script, "--trace", trace)
    assert done.returncode == 0, done.stderr
    assert "at altitude 385100" in trace.read_text()
