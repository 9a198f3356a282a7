"""Cost of registry callbacks on NtSetValueKey: with 0, 1 and 10 registered no-op C callbacks.

    python bench/callback_overhead.py

Targets (issue 5): one no-op C callback (pre and post) adds at most 50% to the cost with
none; each further callback at most 10%. Figures are medians of several batches, all
measured in this one run, through the Python Registry API (a user-mode caller), once with the
callbacks walked in Python (a bare Registry) and once walked by the kernel shim (as a Kernel
walks them when only C callbacks are registered).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ntddk_py import KEY_ALL_ACCESS, REG_DWORD, ffi, header_model  # noqa: E402
from registry_core.registry import Registry  # noqa: E402

NOOP = """
#include <ntddk.h>
NTSTATUS Noop(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    return STATUS_SUCCESS;
}
"""


def build_noop(directory: Path):
    source, library = directory / "noop.c", directory / "noop.so"
    source.write_text(NOOP)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-fshort-wchar", f"-I{header_model.HEADER.parent}",
                    "-o", str(library), str(source)], check=True)
    lib = ffi.dlopen(str(library))
    return lib, ffi.cast("PEX_CALLBACK_FUNCTION", ffi.cast("ULONG_PTR", ffi.addressof(lib, "Noop")))


def shim_walker() -> tuple:
    from harness import shim

    return shim.load_callback_walker()


def cost(callbacks: int, function, walker=None, batch: int = 3000, repeats: int = 7) -> float:
    reg = Registry()
    reg.native.callbacks.native_walker = walker
    for _ in range(callbacks):
        reg.native.callbacks.register(function, 0)
    _, handle, _ = reg.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Bench", KEY_ALL_ACCESS)
    data = (7).to_bytes(4, "little")
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(batch):
            reg.set_value(handle, "Value", REG_DWORD, data)
        samples.append((time.perf_counter() - started) / batch)
    return statistics.median(samples)


def main() -> int:
    ffi.cdef("NTSTATUS Noop(PVOID, PVOID, PVOID);", override=True)
    walker = shim_walker()
    with tempfile.TemporaryDirectory() as tmp:
        lib, noop = build_noop(Path(tmp))
        costs: dict[tuple[str, int], list[float]] = {(w, n): [] for w in ("python", "shim") for n in (0, 1, 10)}
        for _ in range(3):  # interleaved rounds
            for where, n in costs:
                costs[(where, n)].append(cost(n, noop, walker if where == "shim" else None))
    median = {case: statistics.median(values) for case, values in costs.items()}
    print(f"{'walk':>6} {'callbacks':>9} {'us/op':>8} {'ops/s':>9} {'vs none':>8}")
    for (where, n), value in median.items():
        base = median[(where, 0)]
        print(f"{where:>6} {n:>9} {value * 1e6:>8.2f} {1 / value:>9,.0f} {value / base:>7.2f}x")
    for where in ("python", "shim"):
        base, one, ten = (median[(where, n)] for n in (0, 1, 10))
        print(f"{where:>6}: one callback adds {100 * (one / base - 1):.1f}% (target <= 50%); "
              f"each further one {100 * (ten / one - 1) / 9:.1f}% (target <= 10%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
