"""NtSetValueKey throughput driven from C: a module's ZwSetValueKey loop, with 0 and 1 C filters loaded.

    python bench/c_driven_setvalue.py

The loop runs in a driver (kernel-mode caller, through the shim into the engine); the filter
is examples/filters/pairing_monitor.c's cheaper cousin, a no-op callback. Medians of several
batches, all in this one run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cffi  # noqa: E402

from harness.build import build_filter  # noqa: E402
from harness.kernel import Kernel  # noqa: E402

LOOPER = r"""
#include <ntddk.h>
static HANDLE Key;
static VOID DriverUnload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); ZwClose(Key); }
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OBJECT_ATTRIBUTES Attributes;
    ULONG Disposition;
    DriverObject->DriverUnload = DriverUnload;
    InitializeObjectAttributes(&Attributes, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    return ZwCreateKey(&Key, KEY_ALL_ACCESS, &Attributes, 0, NULL, 0, &Disposition);
}
/* Sets one REG_DWORD Count times; returns how many calls succeeded. */
ULONG SetValues(ULONG Count)
{
    UNICODE_STRING Name = RTL_CONSTANT_STRING(L"Counter");
    ULONG Index, Done = 0;
    for (Index = 0; Index < Count; Index++)
        if (NT_SUCCESS(ZwSetValueKey(Key, &Name, 0, REG_DWORD, &Index, sizeof(Index))))
            Done++;
    return Done;
}
"""

NOOP = r"""
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{ UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(Argument1); UNREFERENCED_PARAMETER(Argument2);
  return STATUS_SUCCESS; }
static VOID DriverUnload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject);
  CmUnRegisterCallback(Cookie); }
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{ UNREFERENCED_PARAMETER(RegistryPath); DriverObject->DriverUnload = DriverUnload;
  return CmRegisterCallback(Callback, NULL, &Cookie); }
"""


def measure(filters: int, batch: int = 5000, repeats: int = 7) -> float:
    with Kernel(trace=False) as kernel:
        for n in range(filters):
            kernel.load_driver(build_filter(NOOP, name="noop"), f"noop{n}")
        looper = kernel.load_driver(build_filter(LOOPER, name="looper"), "looper")
        local = cffi.FFI()
        local.include(kernel.ffi)
        local.cdef("ULONG SetValues(ULONG Count);")
        lib = local.dlopen(str(looper.module_path))
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            assert lib.SetValues(batch) == batch
            samples.append((time.perf_counter() - started) / batch)
        return statistics.median(samples)


def main() -> int:
    runs: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(3):  # alternate, so that warm-up and noise weigh on both alike
        for n in runs:
            runs[n].append(measure(n))
    costs = {n: statistics.median(values) for n, values in runs.items()}
    print(f"{'C filters':>9} {'us/op':>8} {'ops/s':>9}")
    for n, cost in costs.items():
        print(f"{n:>9} {cost * 1e6:>8.2f} {1 / cost:>9,.0f}")
    print(f"\none no-op C filter adds {100 * (costs[1] / costs[0] - 1):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
