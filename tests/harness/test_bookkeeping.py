"""The harness's own bookkeeping writes (a driver's Services key at load) reach no filter and no
trace: on Windows the installer wrote that key before the boot, so no filter could have seen it
(cmhook's decision, docs/architecture.md "Behaviour decisions", harness/bookkeeping.py)."""

from __future__ import annotations

import cffi
import pytest

from ntddk_py import REG_DWORD, REG_EXPAND_SZ, REG_SZ
from registry_core.registry import encode_data

SERVICES = "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services"

COUNTING = r"""
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static volatile LONG Calls;
LONG CallCount(void) { return Calls; }
static NTSTATUS Callback(PVOID Context, PVOID Class, PVOID Info)
{
    UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(Class); UNREFERENCED_PARAMETER(Info);
    InterlockedIncrement(&Calls);
    return STATUS_SUCCESS;
}
static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); CmUnRegisterCallback(Cookie); }
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
"""


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_a_second_drivers_load_sends_nothing_to_the_first_and_traces_nothing(kernel, build_filter, cc):
    first = kernel.load_driver(build_filter(COUNTING, cc=cc, name="counting"), "counting")
    local = cffi.FFI()
    local.cdef("long CallCount(void);")
    count = local.dlopen(str(first.module_path)).CallCount
    trace = kernel.native.dispatcher.trace
    trace.drain()
    kernel.load_driver(build_filter(COUNTING, cc=cc, name="second"), "second")
    assert count() == 0
    assert trace.drain() == []
    # The key is there all the same, with what the I/O manager reads, under ControlSet001 (the link's target).
    assert kernel.registry.get_value(f"{SERVICES}\\second", "Start") == (REG_DWORD, encode_data(REG_DWORD, 3))
    assert kernel.registry.get_value(f"{SERVICES}\\second", "DisplayName") == (REG_SZ, encode_data(REG_SZ, "second"))
    kind, data = kernel.registry.get_value(f"{SERVICES}\\second", "ImagePath")
    assert kind == REG_EXPAND_SZ and data.decode("utf-16-le").startswith("\\??\\/")
    # A real registry call still reaches the first driver's callback: the count above can fail.
    kernel.registry.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Probe", "Value", REG_DWORD, 1)
    assert count() > 0
