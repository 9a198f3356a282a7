"""The kernel-mode scenarios of Microsoft's registry filter sample (regfltr), told in our own words
in vista_samples.c, as C filters built for Windows 7 and run on every Vista-era profile: block,
bypass, post override success->error and error->success, call and object context, multiple
altitudes with a block during the pre, multiple altitudes with an internal invocation, and the
create/open V1 bypass with CmCallbackGetKeyObjectID (Windows 7 and later: V1 is Windows 7's).
The two transaction samples are out of scope (no transactions yet: docs/profiles.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
