"""Registry engine throughput and scaling: ops/s for create, set-value, query-value and
enumerate, the cost per operation with 1,000 and with 1,000,000 keys in the registry, and
the resident memory of 1,000,000 keys holding one REG_DWORD each.

    python bench/registry_ops.py            # 1,000 and 1,000,000 keys (a few minutes)
    python bench/registry_ops.py --small    # 1,000 and 20,000 keys (seconds)

Targets (issue 4): cost per operation at 1,000,000 keys within 1.25x of the cost at 1,000;
1,000,000 keys with one REG_DWORD each in under 1 GiB resident. Each figure is the median
of several timed batches, all measured in this one run.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
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


def workloads(count: int, batch_size: int = 2000) -> dict[str, object]:
    """Batches of each operation against a registry of count keys; each returns its op count."""
    reg = Registry("default")
    groups = populate(reg, count)
    rng = random.Random(7)
    counter = iter(range(10**9))
    scratch = reg.create_key(ROOT + "\\Scratch").handle
    width = min(FANOUT, count)
    readable = [reg.open_key(f"K{rng.randrange(width)}", root=rng.choice(groups)).handle for _ in range(64)]
    writable = [reg.open_key(f"K{rng.randrange(width)}", KEY_ALL_ACCESS, root=rng.choice(groups)).handle
                for _ in range(64)]

    def creates() -> int:
        for _ in range(batch_size):
            _, key, _ = reg.create_key(f"N{next(counter)}", root=scratch)
            reg.close(key)
        return batch_size

    def sets() -> int:
        for i in range(batch_size):
            reg.set_value(writable[i % 64], "Value", REG_DWORD, i.to_bytes(4, "little"))
        return batch_size

    def queries() -> int:
        for i in range(batch_size):
            reg.query_value(readable[i % 64], "Value", KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 64)
        return batch_size

    def enumerates() -> int:
        for i in range(batch_size):
            reg.enumerate_key(groups[i % len(groups)], i % width, KEY_INFORMATION_CLASS.KeyBasicInformation, 256)
        return batch_size

    enumerates()  # the first pass sorts each group's subkey index once
    return {"create": creates, "set-value": sets, "query-value": queries, "enumerate": enumerates, "_keep": reg}


def compare(small: dict, large: dict, repeats: int = 9) -> dict[str, tuple[float, float]]:
    """Median seconds per op for both sizes, their batches interleaved so that anything else the
    machine does weighs on both alike."""
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in small if name != "_keep"}
    for _ in range(repeats):
        for name, (small_samples, large_samples) in samples.items():
            for batch, into in ((small[name], small_samples), (large[name], large_samples)):
                started = time.perf_counter()
                ops = batch()
                into.append((time.perf_counter() - started) / ops)
    return {name: (statistics.median(a), statistics.median(b)) for name, (a, b) in samples.items()}


def memory_of(count: int) -> int:
    gc.collect()
    before = resident_bytes()
    reg = Registry("default")
    populate(reg, count)
    gc.collect()
    used = resident_bytes() - before
    del reg
    return used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 and 20,000 keys instead of 1,000,000")
    args = parser.parse_args()
    large = 20_000 if args.small else 1_000_000
    print(f"populating {large:,} keys with one REG_DWORD each ...", flush=True)
    started = time.perf_counter()
    used = memory_of(large)
    print(f"  took {time.perf_counter() - started:.1f} s; resident memory for the keys: {used / 2**20:.0f} MiB"
          f" ({used / large:.0f} bytes a key)", flush=True)
    costs = compare(workloads(1000), workloads(large))
    print(f"\n{'operation':<12} {'ops/s (1k)':>12} {'us/op (1k)':>11} {f'us/op ({large:,})':>16} {'ratio':>6}")
    for name, (small, big) in costs.items():
        print(f"{name:<12} {1 / small:>12,.0f} {small * 1e6:>11.2f} {big * 1e6:>16.2f} {big / small:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
