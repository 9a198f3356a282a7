"""Registry calls driven from C: a driver's Zw* loops through the shim into the engine.

    python bench/c_driven_setvalue.py [--quick]

Measured in this one process, batches interleaved so that noise weighs on every case alike;
medians of the batches, CPU time (time.process_time) beside wall time:

- ZwSetValueKey with 0, 1, 2 and 10 no-op C filters, untraced and traced (a Trace kept);
- ZwQueryValueKey, ZwOpenKey+ZwClose and ZwEnumerateKey with no filter, untraced;
- ``cmhook run`` (traced, printing every operation to a pipe): a driver doing N sets in its
  DriverEntry against one doing none, in child processes; cost per set = (N - 0) / N. Measured
  as users run it, the machine isolated in a watched child (its trace crossing a shared-memory
  ring), and with ``--in-process``, so the ratio of the two is what isolation costs.

Targets (issue 10): untraced set >= 250,000/s; cmhook run >= 150,000/s; one no-op C filter
<= x1.5; each further filter <= +5% untraced, <= +10% traced; the other calls >= 100,000/s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cffi  # noqa: E402

from harness.build import build_filter  # noqa: E402
from harness.kernel import Kernel  # noqa: E402
from registry_core.callbacks import Trace  # noqa: E402

LOOPER = r"""
#include <ntddk.h>
static HANDLE Key;
static UNICODE_STRING Name = RTL_CONSTANT_STRING(L"Counter");
static UNICODE_STRING Path = RTL_CONSTANT_STRING(L"\\Registry\\Machine\\Software");
static VOID DriverUnload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); ZwClose(Key); }
ULONG SetValues(ULONG Count);
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OBJECT_ATTRIBUTES Attributes;
    ULONG Disposition;
    NTSTATUS Status;
    DriverObject->DriverUnload = DriverUnload;
    InitializeObjectAttributes(&Attributes, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    Status = ZwCreateKey(&Key, KEY_ALL_ACCESS, &Attributes, 0, NULL, 0, &Disposition);
    if (NT_SUCCESS(Status) && SetValues(ENTRY_SETS + 1) != ENTRY_SETS + 1)  /* one at least, for the queries */
        Status = STATUS_UNSUCCESSFUL;
    return Status;
}
/* Each loop returns how many calls succeeded. */
ULONG SetValues(ULONG Count)
{
    ULONG Index, Done = 0;
    for (Index = 0; Index < Count; Index++)
        if (NT_SUCCESS(ZwSetValueKey(Key, &Name, 0, REG_DWORD, &Index, sizeof(Index))))
            Done++;
    return Done;
}
ULONG QueryValues(ULONG Count)
{
    UCHAR Buffer[64];
    ULONG Index, Length, Done = 0;
    for (Index = 0; Index < Count; Index++)
        if (NT_SUCCESS(ZwQueryValueKey(Key, &Name, KeyValuePartialInformation, Buffer, sizeof(Buffer), &Length)))
            Done++;
    return Done;
}
ULONG OpenCloses(ULONG Count)
{
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Opened;
    ULONG Index, Done = 0;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    for (Index = 0; Index < Count; Index++)
        if (NT_SUCCESS(ZwOpenKey(&Opened, KEY_READ, &Attributes)) && NT_SUCCESS(ZwClose(Opened)))
            Done++;
    return Done;
}
ULONG EnumerateKeys(ULONG Count)
{
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Software;
    UCHAR Buffer[256];
    ULONG Index, Length, Done = 0;
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Software, KEY_READ, &Attributes)))
        return 0;
    for (Index = 0; Index < Count; Index++)
        if (NT_SUCCESS(ZwEnumerateKey(Software, 0, KeyBasicInformation, Buffer, sizeof(Buffer), &Length)))
            Done++;
    ZwClose(Software);
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

# calls/s the issue asks for (CPU time)
TARGETS = {("ZwSetValueKey", 0, False): 250_000, ("ZwQueryValueKey", 0, False): 100_000,
           ("ZwOpenKey+ZwClose", 0, False): 100_000, ("ZwEnumerateKey", 0, False): 100_000}

LOOPS = {"ZwSetValueKey": "SetValues", "ZwQueryValueKey": "QueryValues", "ZwOpenKey+ZwClose": "OpenCloses",
         "ZwEnumerateKey": "EnumerateKeys"}


def looper(sets_in_entry: int = 0) -> Path:
    return build_filter(LOOPER, extra=[f"-DENTRY_SETS={sets_in_entry}"], name="looper")


def in_process(routine: str, filters: int, traced: bool, batch: int,
               verifier: str | None = "none") -> tuple[float, float]:
    """(wall, cpu) seconds per call, the median of a few batches in one kernel, with these Driver
    Verifier options (harness/verifier.py; the main table: none, as the targets were set)."""
    with Kernel(trace=False, verifier=verifier) as kernel:
        for n in range(filters):
            kernel.load_driver(build_filter(NOOP, name="noop"), f"noop{n}")
        driver = kernel.load_driver(looper(), "looper")
        if traced:
            kernel.native.dispatcher.trace = Trace(limit=batch)
        local = cffi.FFI()
        local.include(kernel.ffi)
        local.cdef(f"ULONG {LOOPS[routine]}(ULONG Count);")
        loop = getattr(local.dlopen(str(driver.module_path)), LOOPS[routine])
        loop(batch // 10)  # warm up
        walls, cpus = [], []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            assert loop(batch) == batch
            walls.append((time.perf_counter() - wall) / batch)
            cpus.append((time.process_time() - cpu) / batch)
        kernel.native.dispatcher.trace = None
        return statistics.median(walls), statistics.median(cpus)


def through_cmhook_run(sets: int, isolated: bool) -> tuple[float, float]:
    """(wall, cpu) seconds of one `cmhook run` whose driver makes `sets` sets in DriverEntry; the
    CPU time counts the run's machine process too (a waited-for descendant)."""
    module = looper(sets)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as home:
        subprocess.run([sys.executable, "-m", "harness", "run", str(module), *([] if isolated else ["--in-process"])],
                       check=True, capture_output=True, cwd=home)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def per_option(quick: bool) -> int:
    from harness import verifier

    batch, rounds = (4_000, 3) if quick else (10_000, 9)
    choices = ["none", *verifier.OPTIONS, "standard"]
    samples: dict[str, list[tuple[float, float]]] = {choice: [] for choice in choices}
    for _ in range(rounds):
        for choice in choices:
            samples[choice].append(in_process("ZwSetValueKey", 1, False, batch, choice))
    base = statistics.median(cpu for _, cpu in samples["none"])
    print(f"{'verifier':<16} {'wall us':>8} {'cpu us':>7} {'x none (cpu)':>13}")
    for choice in choices:
        wall = statistics.median(w for w, _ in samples[choice])
        cpu = statistics.median(c for _, c in samples[choice])
        print(f"{choice:<16} {wall * 1e6:>8.2f} {cpu * 1e6:>7.2f} {cpu / base:>13.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller batches and fewer rounds")
    parser.add_argument("--per-option", action="store_true",
                        help="only the cost of each Driver Verifier option on ZwSetValueKey with one no-op filter, "
                             "as a ratio to no option, measured interleaved in one run")
    args = parser.parse_args()
    if args.per_option:
        return per_option(args.quick)
    batch, rounds, sets = (4_000, 2, 20_000) if args.quick else (10_000, 9, 100_000)
    cases = [("ZwSetValueKey", n, traced) for traced in (False, True) for n in (0, 1, 2, 10)]
    cases += [(routine, 0, False) for routine in LOOPS if routine != "ZwSetValueKey"]
    samples: dict[tuple, list[tuple[float, float]]] = {case: [] for case in cases}
    run_samples: dict[tuple[int, bool], list[tuple[float, float]]] = {
        (count, isolated): [] for count in (0, sets) for isolated in (True, False)}
    for _ in range(rounds):  # interleaved: warm-up and noise weigh on every case alike
        for case in cases:
            samples[case].append(in_process(*case, batch))
        for count, isolated in run_samples:
            run_samples[count, isolated].append(through_cmhook_run(count, isolated))

    def median(values: list[tuple[float, float]], index: int) -> float:
        return statistics.median(value[index] for value in values)

    print(f"{'call':<20} {'filters':>7} {'traced':>6} {'wall us':>8} {'cpu us':>7} {'calls/s':>9} {'target':>9}")
    cost = {}
    for case in cases:
        wall, cpu = median(samples[case], 0), median(samples[case], 1)
        cost[case] = cpu
        routine, filters, traced = case
        target = TARGETS.get(case)
        print(f"{routine:<20} {filters:>7} {'yes' if traced else 'no':>6} {wall * 1e6:>8.2f} {cpu * 1e6:>7.2f} "
              f"{1 / cpu:>9,.0f} {f'>={target:,}' if target else '':>9}")
    run_cost = {}
    for isolated in (True, False):
        run_wall = (median(run_samples[sets, isolated], 0) - median(run_samples[0, isolated], 0)) / sets
        run_cpu = run_cost[isolated] = (median(run_samples[sets, isolated], 1)
                                        - median(run_samples[0, isolated], 1)) / sets
        label = "cmhook run" + ("" if isolated else " in-proc")
        print(f"{label:<20} {0:>7} {'yes':>6} {run_wall * 1e6:>8.2f} {run_cpu * 1e6:>7.2f} "
              f"{1 / run_cpu:>9,.0f} {'>=150,000' if isolated else '':>9}")
    print()
    print(f"isolation: cmhook run costs x{run_cost[True] / run_cost[False]:.2f} CPU per set isolated vs in-process")
    for traced in (False, True):
        label = "traced" if traced else "untraced"
        base = cost[("ZwSetValueKey", 0, traced)]
        one, two, ten = (cost[("ZwSetValueKey", n, traced)] for n in (1, 2, 10))
        print(f"{label:>8}: one no-op C filter x{one / base:.2f} (target <= x1.5); each further filter "
              f"{100 * (two / one - 1):+.1f}% (1->2), {100 * ((ten / one) ** (1 / 9) - 1):+.1f}% per filter (1->10) "
              f"(target <= +{10 if traced else 5}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
