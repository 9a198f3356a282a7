"""`cmhook run --trace FILE.jsonl`: every call is in the file, DriverEntry's and DriverUnload's
included, with the value name and type of the calls that name a value."""

from __future__ import annotations

import json

from helpers import cmhook

DRIVER = r"""
#include <ntddk.h>
static HANDLE Key;
static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING Name = RTL_CONSTANT_STRING(L"Stopped");
    ULONG One = 1;
    UNREFERENCED_PARAMETER(DriverObject);
    ZwSetValueKey(Key, &Name, 0, REG_DWORD, &One, sizeof(One));
    ZwClose(Key);
}
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING Name = RTL_CONSTANT_STRING(L"Started");
    WCHAR Text[] = L"yes";
    NTSTATUS Status;
    DriverObject->DriverUnload = DriverUnload;
    InitializeObjectAttributes(&Attributes, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    Status = ZwOpenKey(&Key, KEY_ALL_ACCESS, &Attributes);
    if (NT_SUCCESS(Status))
        Status = ZwSetValueKey(Key, &Name, 0, REG_SZ, Text, sizeof(Text));
    return Status;
}
"""


def test_the_jsonl_trace_holds_driver_entry_and_unload_with_value_names_and_types(tmp_path):
    source = tmp_path / "tracer.c"
    source.write_text(DRIVER)
    trace = tmp_path / "trace.jsonl"
    script = tmp_path / "one.script"
    script.write_text('query HKLM\\SYSTEM\\CurrentControlSet\\Services\\tracer "Started"\n')
    done = cmhook("run", source, "--script", script, "--trace", trace)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    sets = [(r["line"], r["value"], r["type"], r["status"]) for r in records if r["api"] == "NtSetValueKey"]
    # DriverEntry's set, then DriverUnload's: neither comes from a script line.
    assert sets == [(None, "Started", "REG_SZ", "STATUS_SUCCESS"), (None, "Stopped", "REG_DWORD", "STATUS_SUCCESS")]
    queries = [r for r in records if r["api"] == "NtQueryValueKey"]  # the script asks the size, then the data
    assert queries and all(q["line"] == 1 and q["value"] == "Started" and "type" not in q for q in queries)
    assert records[-1]["api"] == "NtClose"  # DriverUnload's close is the last call of the run
