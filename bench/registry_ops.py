"""Registry engine throughput and scaling: the cost per operation as the registry grows.

Two comparisons, each figure the median of several batches, both sizes measured in this one run with
their batches interleaved (so that whatever else the machine does weighs on both alike):

- a registry of 1,000 keys against one of 1,000,000 (groups of 1,000 under one key, a REG_DWORD each):
  create, set-value, query-value and enumerate;
- one key holding 1,000 subkeys against one holding 100,000: "change+enum" (create a subkey, enumerate
  index 0 and the middle index, delete it, enumerate both again: enumeration right after every change)
  and "query-full" (KeyFullInformation of that key: its SubKeys and MaxNameLen/MaxClassLen).

Each batch is timed in process CPU time (time.process_time: what this process itself spent, whatever
else runs on the machine) beside wall time; ratios are of CPU time. Also printed: the resident memory
the 1,000,000 keys with one REG_DWORD each take.

    python bench/registry_ops.py             # 1,000 vs 1,000,000 keys, 1,000 vs 100,000 subkeys (minutes)
    python bench/registry_ops.py --small     # 1,000 vs 20,000 keys, 1,000 vs 10,000 subkeys (seconds)
    python bench/registry_ops.py --keys 200000 --subkeys 50000 --repeats 5

Targets (issue 4): cost per operation at the large size within 1.25x of the cost at the small one;
1,000,000 keys with one REG_DWORD each in under 1 GiB resident.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ntddk_py import (  # noqa: E402
    KEY_ALL_ACCESS,
    KEY_INFORMATION_CLASS,
    KEY_VALUE_INFORMATION_CLASS,
    REG_DWORD,
    STATUS_SUCCESS,
)
from registry_core.registry import Registry  # noqa: E402

ROOT = "\\REGISTRY\\MACHINE\\SOFTWARE\\Bench"
FANOUT = 1000
DWORD = (1).to_bytes(4, "little")
RATIO_TARGET = 1.25
MEMORY_TARGET = 2**30
# A batch stops after this many operations or this much time, whichever comes first, so that a slow
# operation (as re-sorting 100,000 subkeys was) still gives several batches in minutes.
BATCH_OPS = 2000
BATCH_SECONDS = 0.25

Op = Callable[[], object]


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def populate(reg: Registry, count: int) -> list[int]:
    """count keys under ROOT\\G<i>\\K<j>, FANOUT per group, one REG_DWORD each; returns group handles."""
    groups = []
    _, root, _ = reg.create_key(ROOT)
    for g in range((count + FANOUT - 1) // FANOUT):
        status, group, _ = reg.create_key(f"G{g}", root=root)
        assert status == STATUS_SUCCESS, status
        groups.append(group)
        for k in range(min(FANOUT, count - g * FANOUT)):
            status, key, _ = reg.create_key(f"K{k}", root=group)
            assert status == STATUS_SUCCESS, status
            reg.set_value(key, "Value", REG_DWORD, DWORD)
            reg.close(key)
    return groups


def keyed_registry(count: int) -> tuple[dict[str, Op], int]:
    """One operation of each kind against a registry of count keys; and the resident bytes those keys took."""
    gc.collect()
    before = resident_bytes()
    reg = Registry("default")
    groups = populate(reg, count)
    gc.collect()
    used = resident_bytes() - before
    rng = random.Random(7)
    counter = iter(range(10**9))
    scratch = reg.create_key(ROOT + "\\Scratch").handle
    width = min(FANOUT, count)
    readable = [reg.open_key(f"K{rng.randrange(width)}", root=rng.choice(groups)).handle for _ in range(64)]
    writable = [reg.open_key(f"K{rng.randrange(width)}", KEY_ALL_ACCESS, root=rng.choice(groups)).handle
                for _ in range(64)]
    turn = iter(range(10**9))

    def create() -> None:
        _, key, _ = reg.create_key(f"N{next(counter)}", root=scratch)
        reg.close(key)

    def set_value() -> None:
        i = next(turn)
        reg.set_value(writable[i % 64], "Value", REG_DWORD, (i & 0xFFFFFFFF).to_bytes(4, "little"))

    def query_value() -> None:
        reg.query_value(readable[next(turn) % 64], "Value", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation,
                        64)

    def enumerate_() -> None:
        i = next(turn)
        reg.enumerate_key(groups[i % len(groups)], i % width, KEY_INFORMATION_CLASS.KeyBasicInformation, 256)

    ops = {"create": create, "set-value": set_value, "query-value": query_value, "enumerate": enumerate_,
           "_keep": reg}
    return ops, used


def wide_key(count: int) -> dict[str, Op]:
    """Operations on one key holding count subkeys: enumeration right after every change, and its full information."""
    reg = Registry("default")
    wide = reg.create_path(ROOT + "\\Wide")
    for k in range(count):
        status, key, _ = reg.create_key(f"K{k}", root=wide, class_name="Class" if k % 100 == 0 else None)
        assert status == STATUS_SUCCESS, status
        reg.close(key)
    counter = iter(range(10**9))
    basic, full = KEY_INFORMATION_CLASS.KeyBasicInformation, KEY_INFORMATION_CLASS.KeyFullInformation

    def change_and_enumerate() -> None:
        _, key, _ = reg.create_key(f"M{next(counter)}", root=wide)
        reg.enumerate_key(wide, 0, basic, 256)
        reg.enumerate_key(wide, count // 2, basic, 256)
        reg.delete_key(key)
        reg.close(key)
        reg.enumerate_key(wide, 0, basic, 256)
        reg.enumerate_key(wide, count // 2, basic, 256)

    def query_full() -> None:
        reg.query_key(wide, full, 256)

    return {"change+enum": change_and_enumerate, "query-full": query_full, "_keep": reg}


def batch(op: Op) -> tuple[float, float]:
    """(wall, CPU) seconds per operation over one batch."""
    wall, cpu = time.perf_counter(), time.process_time()
    ops = 0
    while ops < BATCH_OPS:
        op()
        ops += 1
        if time.perf_counter() - wall > BATCH_SECONDS:
            break
    return (time.perf_counter() - wall) / ops, (time.process_time() - cpu) / ops


def compare(small: dict[str, Op], large: dict[str, Op], repeats: int) -> dict[str, list[tuple[float, float]]]:
    """Median (wall, CPU) per op for each operation: [small size, large size], batches interleaved."""
    names = [name for name in small if not name.startswith("_")]
    samples = {name: ([], []) for name in names}
    for _ in range(repeats):
        for name in names:
            for ops, into in zip((small, large), samples[name], strict=True):
                into.append(batch(ops[name]))
    return {name: [(statistics.median(w for w, _ in s), statistics.median(c for _, c in s)) for s in pair]
            for name, pair in samples.items()}


def report(title: str, small_size: int, large_size: int, costs: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\n{title}")
    print(f"{'operation':<12} {'ops/s':>9} {'us/op CPU':>10} {'us/op CPU':>10} {'ratio':>6}  "
          f"{'us/op wall':>10} {'us/op wall':>10} {'ratio':>6}")
    print(f"{'':<12} {f'{small_size:,}':>9} {f'{small_size:,}':>10} {f'{large_size:,}':>10} {'CPU':>6}  "
          f"{f'{small_size:,}':>10} {f'{large_size:,}':>10} {'wall':>6}")
    for name, ((small_wall, small_cpu), (large_wall, large_cpu)) in costs.items():
        ratio = large_cpu / small_cpu
        verdict = "ok" if ratio <= RATIO_TARGET else f"over {RATIO_TARGET}x"
        print(f"{name:<12} {1 / small_cpu:>9,.0f} {small_cpu * 1e6:>10.2f} {large_cpu * 1e6:>10.2f} {ratio:>6.2f}  "
              f"{small_wall * 1e6:>10.2f} {large_wall * 1e6:>10.2f} {large_wall / small_wall:>6.2f}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20,000 keys and 10,000 subkeys: a quick run")
    parser.add_argument("--keys", type=int, help="keys in the large registry (default 1,000,000)")
    parser.add_argument("--subkeys", type=int, help="subkeys of the wide key (default 100,000)")
    parser.add_argument("--repeats", type=int, default=9, help="batches per operation and size (default 9)")
    args = parser.parse_args()
    keys = args.keys or (20_000 if args.small else 1_000_000)
    subkeys = args.subkeys or (10_000 if args.small else 100_000)

    print(f"populating {keys:,} keys with one REG_DWORD each ...", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    large, used = keyed_registry(keys)
    print(f"  took {time.perf_counter() - started:.1f} s ({time.process_time() - cpu:.1f} s CPU); resident memory "
          f"for the keys: {used / 2**20:.0f} MiB ({used / keys:.0f} bytes a key)"
          + (f", {'under' if used < MEMORY_TARGET else 'OVER'} 1 GiB" if keys >= 1_000_000 else ""), flush=True)
    small, _ = keyed_registry(1000)
    report("registry size: cost per operation", 1000, keys, compare(small, large, args.repeats))
    del small, large
    gc.collect()

    print(f"\npopulating one key with {subkeys:,} subkeys ...", flush=True)
    wide_small, wide_large = wide_key(1000), wide_key(subkeys)
    report("subkeys under one key: cost per operation", 1000, subkeys, compare(wide_small, wide_large, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
