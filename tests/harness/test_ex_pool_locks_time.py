"""Ex pool variants, lookaside lists, resources, push locks, APC regions, spin locks, IRQL and time,
as a filter built for Windows 10 2004 meets them (tests/fixtures/drivers/ex_pool_locks_time.c).
Each test names where Windows' value comes from."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import cffi
import pytest
from helpers import DRIVERS

from harness import build, script
from harness.kernel import tag_shown, tag_text
from ntddk_py import (
    APC_LEVEL,
    DISPATCH_LEVEL,
    KEY_ALL_ACCESS,
    PASSIVE_LEVEL,
    REG_DWORD,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_SUCCESS,
    ffi,
)

SOURCE = DRIVERS / "ex_pool_locks_time.c"
IDIOM = Path(__file__).resolve().parents[1] / "ntddk_py" / "idioms" / "ex_pool_resource_time.c"
# POOL_FLAGS values from Microsoft's POOL_FLAGS page.
POOL_FLAG_USE_QUOTA = 0x1
POOL_FLAG_UNINITIALIZED = 0x2
POOL_FLAG_CACHE_ALIGNED = 0x8
POOL_FLAG_RESERVED1 = 0x10
POOL_FLAG_RAISE_ON_FAILURE = 0x20
POOL_FLAG_NON_PAGED = 0x40
POOL_FLAG_NON_PAGED_EXECUTE = 0x80
POOL_FLAG_PAGED = 0x100
POOL_FLAG_SPECIAL_POOL = 0x1_0000_0000
# POOL_TYPE values (mingw-w64's wdm.h, Microsoft's POOL_TYPE page).
NON_PAGED_POOL, PAGED_POOL, NON_PAGED_POOL_NX = 0, 1, 512
TAG = int.from_bytes(b"Tst1", "little")  # the C literal '1tsT', shown "Tst1"

_EXPORTS = """
void *Pool2(unsigned long long, size_t, ULONG); NTSTATUS Pool2Raised(unsigned long long, size_t, ULONG, void **);
void *Pool3(unsigned long long, size_t, ULONG, ULONG, ULONG);
void *PoolZero(int, size_t, ULONG); void *PoolUninitialized(int, size_t, ULONG); void *PoolQuota(int, size_t, ULONG);
void *PoolWithTag(int, size_t, ULONG); void FreeWithTag(void *, ULONG); void FreePool(void *); void NxOptIn(void);
void LookasideInit(int, size_t, ULONG); void *LookasideAllocate(int); void LookasideFree(int, void *);
void LookasideDelete(int); USHORT LookasideCached(int); ULONG LookasideTotalAllocates(int);
ULONG LookasideAllocateMisses(int); ULONG LookasideTag(int);
PERESOURCE TheResource(void); BOOLEAN ResourceExclusive(BOOLEAN); BOOLEAN ResourceShared(BOOLEAN);
BOOLEAN ResourceTryExclusive(void); void ResourceRelease(void); BOOLEAN ResourceIsExclusive(void);
ULONG ResourceSharedCount(void); void EnterCritical(void); void LeaveCritical(void); void EnterGuarded(void);
void LeaveGuarded(void); BOOLEAN ApcsDisabled(void); BOOLEAN AllApcsDisabled(void); KIRQL Irql(void);
void ResourceIncrements(LONG); void PushLockIncrements(LONG); LONG ReadCounter(void); void ResetCounter(void);
void PushExclusive(void); void PushShared(void); BOOLEAN PushTryExclusive(void); BOOLEAN PushTryShared(void);
void PushReleaseExclusive(void); void PushReleaseShared(void); ULONG_PTR PushWord(void);
KIRQL FastMutexUnsafeIrql(void); KIRQL QueuedSpinLock(KIRQL *, KIRQL *); void SpinLockAtDpcLevel(void);
KIRQL RaiseIrql(KIRQL); void LowerIrql(KIRQL);
long long PerformanceCounter(long long *); long long TickCount(void); long long SystemTimePrecise(void);
unsigned long long InterruptTimePrecise(unsigned long long *);
"""


class Loaded:
    """The fixture driver loaded: its exports (``lib``), its name, and its cffi."""

    def __init__(self, kernel, path: Path) -> None:
        self.kernel = kernel
        self.driver = kernel.load_driver(path, "expool")
        self.ffi = cffi.FFI()
        self.ffi.include(kernel.ffi)
        self.ffi.cdef(_EXPORTS)
        self.lib = self.ffi.dlopen(str(self.driver.module_path))

    def findings(self) -> list[tuple[str, str | None, str]]:
        return [(f.kind, f.driver, f.message) for f in self.kernel.findings]

    def allocation(self, block):
        return self.kernel.pool[int(self.ffi.cast("ULONG_PTR", block))]


@pytest.fixture(params=["gcc", "clang"])
def filter_(request, kernel, build_filter) -> Loaded:
    return Loaded(kernel, build_filter(SOURCE, cc=request.param))


@pytest.fixture
def gcc_filter(kernel, build_filter) -> Loaded:
    return Loaded(kernel, build_filter(SOURCE, cc="gcc"))


class OnThread:
    """A thread of its own that runs the calls it is given, one after another (a resource's owner is a
    thread: each call of one owner must run on the same one). ``thread(f, *args)`` waits for the result;
    ``thread.start(f, *args)`` does not."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)

    def start(self, function: Callable[..., object], *args: object) -> Future:
        return self.pool.submit(function, *args)

    def __call__(self, function: Callable[..., object], *args: object) -> object:
        return self.start(function, *args).result(timeout=60)

    def __enter__(self) -> OnThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown()


# --- pool ---------------------------------------------------------------------------------------

def test_pool2_zeroes_unless_uninitialized_and_maps_flags_to_pool_types(filter_):
    """Microsoft's ExAllocatePool2 page: memory is zero-initialized unless POOL_FLAG_UNINITIALIZED;
    POOL_FLAG_NON_PAGED is NX non-paged pool (the POOL_FLAGS page), PAGED is paged pool."""
    lib = filter_.lib
    block = lib.Pool2(POOL_FLAG_NON_PAGED, 4096, TAG)
    assert bytes(filter_.ffi.buffer(block, 4096)) == bytes(4096)
    allocation = filter_.allocation(block)
    assert (allocation.size, allocation.tag_text, allocation.pool_type) == (4096, "Tst1", NON_PAGED_POOL_NX)
    paged = lib.Pool2(POOL_FLAG_PAGED | POOL_FLAG_UNINITIALIZED, 64, TAG)
    assert filter_.allocation(paged).pool_type == PAGED_POOL
    assert filter_.allocation(lib.Pool2(POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_CACHE_ALIGNED, 8, TAG)).pool_type == 4
    # Optional flags (the high 32 bits) that cannot be satisfied are ignored.
    assert lib.Pool2(POOL_FLAG_PAGED | POOL_FLAG_SPECIAL_POOL, 8, TAG) != filter_.ffi.NULL
    filter_.kernel.unload_driver("expool")
    assert sorted(f.kind for f in filter_.kernel.findings) == ["leaked-pool"] * 4
    filter_.kernel.findings.clear()


@pytest.mark.parametrize("flags,tag", [
    (0, TAG),                                                # no pool type
    (POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, TAG),            # two pool types
    (POOL_FLAG_PAGED | POOL_FLAG_RESERVED1, TAG),            # a reserved required flag
    (POOL_FLAG_PAGED | 0x8000_0000, TAG),                    # an unknown required flag
    (POOL_FLAG_PAGED, 0),                                    # the zero tag
])
def test_pool2_gives_null_for_invalid_flags_or_a_zero_tag(gcc_filter, flags, tag):
    """Microsoft's ExAllocatePool2 page: NULL when "Tag is set to 0 or invalid POOL_FLAGS are specified";
    with POOL_FLAG_RAISE_ON_FAILURE the routine raises instead."""
    lib, f = gcc_filter.lib, gcc_filter.ffi
    assert lib.Pool2(flags, 16, tag) == f.NULL
    block = f.new("void **")
    assert lib.Pool2Raised(flags | POOL_FLAG_RAISE_ON_FAILURE, 16, tag, block) == STATUS_INSUFFICIENT_RESOURCES
    assert lib.Pool2Raised(POOL_FLAG_PAGED | POOL_FLAG_RAISE_ON_FAILURE, 16, TAG, block) == STATUS_SUCCESS
    lib.FreeWithTag(block[0], TAG)
    assert gcc_filter.kernel.pool == {} and gcc_filter.kernel.findings == []


def test_pool3_honours_priority_and_refuses_what_it_cannot_do(gcc_filter):
    """Microsoft's ExAllocatePool3 page: extended parameters of a priority or a NUMA node; a parameter
    the pool cannot satisfy fails the allocation unless it is Optional (secure pool is not emulated)."""
    lib, f = gcc_filter.lib, gcc_filter.ffi
    priority, secure = 1, 2  # PoolExtendedParameterPriority, PoolExtendedParameterSecurePool
    block = lib.Pool3(POOL_FLAG_NON_PAGED, 32, TAG, priority, 0)
    assert block != f.NULL and bytes(f.buffer(block, 32)) == bytes(32)
    assert lib.Pool3(POOL_FLAG_NON_PAGED, 32, TAG, secure, 0) == f.NULL
    optional = lib.Pool3(POOL_FLAG_NON_PAGED, 32, TAG, secure, 1)
    assert optional != f.NULL
    lib.FreeWithTag(block, TAG)
    lib.FreePool(optional)


def test_zero_uninitialized_and_quota_variants(filter_):
    """ExAllocatePoolZero zeroes (Microsoft's page); ExAllocatePoolUninitialized and
    ExAllocatePoolWithQuotaTag allocate as ExAllocatePoolWithTag does (quota is charged to nobody)."""
    lib, f = filter_.lib, filter_.ffi
    zeroed = lib.PoolZero(PAGED_POOL, 300, TAG)
    assert bytes(f.buffer(zeroed, 300)) == bytes(300)
    for block in (zeroed, lib.PoolUninitialized(NON_PAGED_POOL, 10, TAG), lib.PoolQuota(PAGED_POOL, 20, TAG)):
        assert filter_.allocation(block).module == filter_.driver.base
        lib.FreeWithTag(block, TAG)
    assert filter_.kernel.pool == {} and filter_.kernel.findings == []


def test_free_with_the_zero_tag_checks_no_tag(gcc_filter):
    """ExFreePool(P) is ExFreePoolWithTag(P, 0) (Microsoft's ExFreePoolWithTag page: the tag is checked
    when it is not zero): freeing a tagged block with tag 0 is no bad free; a wrong non-zero tag is."""
    lib = gcc_filter.lib
    lib.FreeWithTag(lib.PoolWithTag(NON_PAGED_POOL, 8, TAG), 0)
    assert gcc_filter.kernel.findings == []
    lib.FreeWithTag(lib.PoolWithTag(NON_PAGED_POOL, 8, TAG), int.from_bytes(b"Oth1", "little"))
    assert [(k, d) for k, d, _ in gcc_filter.findings()] == [("bad-free", "expool")]
    assert "with tag 'Oth1', allocated with 'Tst1'" in gcc_filter.findings()[0][2]
    gcc_filter.kernel.findings.clear()


def test_pool_tags_print_as_characters():
    """Pool tags show as their four characters in memory order, as Windows' pool tools show them
    (Microsoft's ExAllocatePoolWithTag page: 'Fred' appears as "derF"); nothing unprintable raw."""
    assert tag_text(int.from_bytes(b"Tag1", "little")) == "Tag1"
    assert tag_text(0x4672_6564) == "derF"  # the C literal 'Fred'
    assert tag_shown(0) == "0 (no tag)"
    assert tag_text(0) == "\\x00" * 4 and tag_shown(int.from_bytes(b"A\x01B\\", "little")) == "'A\\x01B\\x5c'"


def test_a_leak_of_the_zero_tag_reads_without_nul_bytes(gcc_filter):
    """A leak report names its tag readably, the zero tag included."""
    gcc_filter.lib.PoolWithTag(NON_PAGED_POOL, 12, 0)
    (leak,) = gcc_filter.kernel.unload_driver("expool")
    assert "\0" not in leak.message and "12 bytes of pool tagged 0 (no tag)" in leak.message
    gcc_filter.kernel.findings.clear()


def test_driver_runtime_nx_opt_in(gcc_filter):
    """ExInitializeDriverRuntime(DrvRtPoolNxOptIn): NonPagedPool allocations become NonPagedPoolNx
    (Microsoft's "NX pool opt-in mechanisms" page)."""
    lib = gcc_filter.lib
    before = lib.PoolWithTag(NON_PAGED_POOL, 8, TAG)
    lib.NxOptIn()
    after = lib.PoolWithTag(NON_PAGED_POOL, 8, TAG)
    paged = lib.PoolWithTag(PAGED_POOL, 8, TAG)
    assert [gcc_filter.allocation(b).pool_type for b in (before, after, paged)] == [0, NON_PAGED_POOL_NX, 1]
    for block in (before, after, paged):
        lib.FreePool(block)


# --- lookaside lists ----------------------------------------------------------------------------

@pytest.mark.parametrize("which", [0, 1, 2], ids=["npaged", "paged", "ex"])
def test_lookaside_blocks_are_tracked_pool_and_reused(filter_, which):
    """A lookaside list hands out blocks of its size and tag, caches freed ones and reuses them
    (Microsoft's "Using Lookaside Lists" page); ExDelete*LookasideList frees what it cached."""
    lib, kernel = filter_.lib, filter_.kernel
    lib.LookasideInit(which, 40, TAG)
    assert lib.LookasideTag(which) == TAG
    first, second = lib.LookasideAllocate(which), lib.LookasideAllocate(which)
    assert {(a.size, a.tag_text, a.module) for a in map(filter_.allocation, (first, second))} == {
        (40, "Tst1", filter_.driver.base)}
    lib.LookasideFree(which, first)
    assert lib.LookasideCached(which) == 1 and len(kernel.pool) == 2  # cached, still pool
    assert lib.LookasideAllocate(which) == first  # reused
    assert (lib.LookasideTotalAllocates(which), lib.LookasideAllocateMisses(which)) == (3, 2)
    lib.LookasideFree(which, first)
    lib.LookasideFree(which, second)
    lib.LookasideDelete(which)
    assert kernel.pool == {} and kernel.findings == []


def test_a_lookaside_block_never_freed_and_a_list_never_deleted_leak(gcc_filter):
    """Blocks a driver still holds, and blocks a list it never deleted still caches, are pool left
    allocated at unload: reported by tag."""
    lib = gcc_filter.lib
    lib.LookasideInit(0, 24, TAG)
    held, cached = lib.LookasideAllocate(0), lib.LookasideAllocate(0)
    lib.LookasideFree(0, cached)
    found = gcc_filter.kernel.unload_driver("expool")
    assert [f.kind for f in found] == ["leaked-pool"] * 2
    assert all("24 bytes of pool tagged 'Tst1'" in f.message for f in found)
    assert held != cached
    gcc_filter.kernel.findings.clear()


# --- executive resources ------------------------------------------------------------------------

def test_resource_exclusive_excludes_other_threads_and_shared_is_shared(gcc_filter):
    """ExAcquireResourceSharedLite grants shared access while no thread owns the resource exclusively;
    the exclusive owner may acquire again, shared or exclusive; ExIsResourceAcquiredSharedLite counts the
    caller's acquisitions (Microsoft's pages for each routine)."""
    lib = gcc_filter.lib
    with OnThread() as one, OnThread() as two:
        one(lib.EnterCritical)
        two(lib.EnterCritical)
        assert one(lib.ResourceExclusive, True)
        assert one(lib.ResourceShared, True) and one(lib.ResourceSharedCount) == 2  # recursion
        assert one(lib.ResourceIsExclusive) and not two(lib.ResourceIsExclusive)
        assert not two(lib.ResourceShared, False) and not two(lib.ResourceTryExclusive)
        resource = lib.TheResource()
        assert (resource.ActiveCount, resource.Flag & 0x80) == (1, 0x80)  # ResourceOwnedExclusive
        one(lib.ResourceRelease)
        one(lib.ResourceRelease)
        assert one(lib.ResourceShared, True) and two(lib.ResourceShared, False)  # both shared at once
        assert resource.ActiveCount == 2 and resource.Flag & 0x80 == 0
        assert not two(lib.ResourceTryExclusive) and two(lib.ResourceSharedCount) == 1
        one(lib.ResourceRelease)
        two(lib.ResourceRelease)
        assert two(lib.ResourceTryExclusive)
        two(lib.ResourceRelease)
        one(lib.LeaveCritical)
        two(lib.LeaveCritical)
    assert gcc_filter.kernel.findings == []


def test_a_waiting_exclusive_acquire_blocks_until_the_owner_releases(gcc_filter):
    """Wait TRUE: the caller waits until the resource can be acquired (Microsoft's
    ExAcquireResourceExclusiveLite page); while an exclusive waiter waits, a new sharer is refused but a
    thread already sharing gets it again (Microsoft's ExAcquireResourceSharedLite page). The waiter is seen
    in the struct's NumberOfExclusiveWaiters before the owner lets go: no timing is assumed."""
    lib = gcc_filter.lib
    resource = lib.TheResource()
    with OnThread() as one, OnThread() as two, OnThread() as three:
        for thread in (one, two, three):
            thread(lib.EnterCritical)
        assert one(lib.ResourceShared, True)
        waiting = two.start(lib.ResourceExclusive, True)
        while resource.NumberOfExclusiveWaiters == 0 and not waiting.done():
            threading.Event().wait(0.001)
        assert not waiting.done()
        assert not three(lib.ResourceShared, False) and one(lib.ResourceShared, False)
        one(lib.ResourceRelease)
        assert not waiting.done()  # one still shares it once
        one(lib.ResourceRelease)
        assert waiting.result(timeout=60) and two(lib.ResourceIsExclusive)
        assert not one(lib.ResourceShared, False) and resource.NumberOfExclusiveWaiters == 0
        two(lib.ResourceRelease)
        for thread in (one, two, three):
            thread(lib.LeaveCritical)
    assert gcc_filter.kernel.findings == []


def test_a_shared_owner_asking_for_exclusive_access_is_a_finding_not_a_hang(gcc_filter):
    """A thread holding a resource shared that waits for exclusive access waits for itself forever on
    Windows (Microsoft's ExAcquireResourceExclusiveLite page: the exclusive request waits for every
    shared owner): a finding and FALSE here; without Wait the answer is FALSE and no finding."""
    lib = gcc_filter.lib
    lib.EnterCritical()
    assert lib.ResourceShared(True)
    assert not lib.ResourceExclusive(False) and gcc_filter.kernel.findings == []
    assert not lib.ResourceExclusive(True)
    assert [(k, d) for k, d, _ in gcc_filter.findings()] == [("lock-misuse", "expool")]
    lib.ResourceRelease()
    lib.LeaveCritical()
    gcc_filter.kernel.findings.clear()


@pytest.mark.parametrize("what", ["resource", "push lock"])
def test_locks_keep_increments_from_two_threads(filter_, what):
    """Counter = Counter + 1 under the lock from two threads at once loses no increment."""
    lib = filter_.lib
    lib.ResetCounter()
    work = lib.ResourceIncrements if what == "resource" else lib.PushLockIncrements
    threads = [threading.Thread(target=work, args=(3000,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lib.ReadCounter() == 6000 and filter_.kernel.findings == []


def test_resource_misuse_is_a_finding_naming_the_driver(gcc_filter):
    """Driver Verifier reports acquiring a resource with normal kernel APCs enabled (Microsoft's
    ExAcquireResourceExclusiveLite page: call KeEnterCriticalRegion first); releasing a resource the
    thread does not own bug checks RESOURCE_NOT_OWNED (0xE3, Microsoft's bug check reference)."""
    lib = gcc_filter.lib
    assert lib.ResourceExclusive(True)  # no critical region
    lib.ResourceRelease()
    lib.ResourceRelease()  # not owned any more
    lib.LeaveCritical()    # never entered
    kinds = [(k, d) for k, d, _ in gcc_filter.findings()]
    assert kinds == [("lock-misuse", "expool"), ("bugcheck", "expool"), ("lock-misuse", "expool")]
    messages = [m for _, _, m in gcc_filter.findings()]
    assert "KeEnterCriticalRegion" in messages[0] and "RESOURCE_NOT_OWNED (0xE3)" in messages[1]
    gcc_filter.kernel.findings.clear()


def test_apc_regions_count_per_thread_and_leave_the_irql_alone(gcc_filter):
    """KeEnterCriticalRegion disables normal kernel APCs, KeEnterGuardedRegion all of them, neither raises
    the IRQL (Microsoft's "Critical Regions and Guarded Regions" page); APC_LEVEL disables them too."""
    lib = gcc_filter.lib
    assert (lib.ApcsDisabled(), lib.AllApcsDisabled()) == (0, 0)
    lib.EnterCritical()
    lib.EnterCritical()
    assert (lib.ApcsDisabled(), lib.AllApcsDisabled(), lib.Irql()) == (1, 0, PASSIVE_LEVEL)
    lib.LeaveCritical()
    assert lib.ApcsDisabled() == 1
    lib.LeaveCritical()
    lib.EnterGuarded()
    assert (lib.ApcsDisabled(), lib.AllApcsDisabled(), lib.Irql()) == (1, 1, PASSIVE_LEVEL)
    lib.LeaveGuarded()
    assert lib.RaiseIrql(APC_LEVEL) == PASSIVE_LEVEL and (lib.ApcsDisabled(), lib.AllApcsDisabled()) == (1, 1)
    lib.LowerIrql(PASSIVE_LEVEL)
    assert lib.ApcsDisabled() == 0 and gcc_filter.kernel.findings == []


# --- push locks, fast mutexes, spin locks, IRQL -------------------------------------------------

def test_push_lock_exclusive_and_shared_across_threads(gcc_filter):
    """Push locks: exclusive excludes everyone, shared admits other sharers (Microsoft's
    ExAcquirePushLockExclusive/Shared pages); the word is Windows' encoding (Locked bit 0, share count
    from bit 4)."""
    lib = gcc_filter.lib
    with OnThread() as one, OnThread() as two:
        for thread in (one, two):
            thread(lib.EnterCritical)
        one(lib.PushExclusive)
        assert lib.PushWord() == 1
        assert not two(lib.PushTryShared) and not two(lib.PushTryExclusive)
        one(lib.PushReleaseExclusive)
        one(lib.PushShared)
        assert two(lib.PushTryShared) and lib.PushWord() == 0x21
        assert not one(lib.PushTryExclusive)
        one(lib.PushReleaseShared)
        two(lib.PushReleaseShared)
        assert lib.PushWord() == 0 and two(lib.PushTryExclusive)
        two(lib.PushReleaseExclusive)
        for thread in (one, two):
            thread(lib.LeaveCritical)
    assert gcc_filter.kernel.findings == []
    lib.PushReleaseShared()  # not held
    assert [k for k, _, _ in gcc_filter.findings()] == ["lock-misuse"]
    gcc_filter.kernel.findings.clear()


def test_fast_mutex_unsafe_keeps_the_irql_and_needs_apcs_disabled(gcc_filter):
    """ExAcquireFastMutexUnsafe does not raise the IRQL; its caller must have disabled APCs (Microsoft's
    ExAcquireFastMutexUnsafe page)."""
    lib = gcc_filter.lib
    lib.EnterCritical()
    assert lib.FastMutexUnsafeIrql() == PASSIVE_LEVEL and gcc_filter.kernel.findings == []
    lib.LeaveCritical()
    lib.FastMutexUnsafeIrql()
    assert [(k, d) for k, d, _ in gcc_filter.findings()] == [("lock-misuse", "expool")]
    gcc_filter.kernel.findings.clear()


def test_in_stack_queued_spin_lock_raises_to_dispatch_and_restores(filter_):
    """KeAcquireInStackQueuedSpinLock raises to DISPATCH_LEVEL and saves the old IRQL in the handle;
    the release restores it (Microsoft's page)."""
    after, saved = filter_.ffi.new("KIRQL *"), filter_.ffi.new("KIRQL *")
    assert filter_.lib.QueuedSpinLock(after, saved) == DISPATCH_LEVEL
    assert (after[0], saved[0]) == (PASSIVE_LEVEL, PASSIVE_LEVEL)


def test_irql_misuse_is_a_finding(gcc_filter):
    """KeAcquireSpinLockAtDpcLevel is for code at DISPATCH_LEVEL; KeRaiseIrql to a lower IRQL bug checks
    IRQL_NOT_GREATER_OR_EQUAL (Microsoft's KeRaiseIrql page)."""
    lib = gcc_filter.lib
    lib.SpinLockAtDpcLevel()
    assert lib.RaiseIrql(DISPATCH_LEVEL) == PASSIVE_LEVEL
    lib.SpinLockAtDpcLevel()  # at DISPATCH_LEVEL now: fine
    assert lib.RaiseIrql(PASSIVE_LEVEL) == DISPATCH_LEVEL  # lower: a bug check
    assert [(k, d) for k, d, _ in gcc_filter.findings()] == [("irql", "expool"), ("bugcheck", "expool")]
    assert lib.Irql() == PASSIVE_LEVEL
    gcc_filter.kernel.findings.clear()


# --- time ---------------------------------------------------------------------------------------

def _fields(kernel, quad: int) -> tuple[int, ...]:
    time, fields = ffi.new("LARGE_INTEGER *"), ffi.new("TIME_FIELDS *")
    time.QuadPart = quad
    kernel.routines.RtlTimeToTimeFields(time, fields)
    return (fields.Year, fields.Month, fields.Day, fields.Hour, fields.Minute, fields.Second, fields.Milliseconds,
            fields.Weekday)


def _time(kernel, *fields: int) -> int | None:
    given, time = ffi.new("TIME_FIELDS *"), ffi.new("LARGE_INTEGER *")
    (given.Year, given.Month, given.Day, given.Hour, given.Minute, given.Second, given.Milliseconds) = fields
    return time.QuadPart if kernel.routines.RtlTimeFieldsToTime(given, time) else None


def test_time_fields_of_known_times(kernel):
    """Time 0 is 1601-01-01 00:00, a Monday (Weekday 1; Microsoft's TIME_FIELDS page: 0 is Sunday);
    116444736000000000 is 1970-01-01, a Thursday (Microsoft's "Converting a time_t value to a FILETIME")."""
    assert _fields(kernel, 0) == (1601, 1, 1, 0, 0, 0, 0, 1)
    assert _fields(kernel, 116_444_736_000_000_000) == (1970, 1, 1, 0, 0, 0, 0, 4)
    # 2026-12-02 15:30:45.678, a Wednesday, by Python's proleptic Gregorian calendar.
    moment = datetime.datetime(2026, 12, 2, 15, 30, 45, 678_000)
    quad = (moment - datetime.datetime(1601, 1, 1)) // datetime.timedelta(microseconds=1) * 10 + 9
    assert _fields(kernel, quad) == (2026, 12, 2, 15, 30, 45, 678, 3)
    assert _time(kernel, 2026, 12, 2, 15, 30, 45, 678) == quad - 9
    assert _time(kernel, 1601, 1, 1, 0, 0, 0, 0) == 0


@pytest.mark.parametrize("fields,valid", [
    ((2024, 2, 29, 0, 0, 0, 0), True), ((2025, 2, 29, 0, 0, 0, 0), False), ((2100, 2, 29, 0, 0, 0, 0), False),
    ((2000, 2, 29, 0, 0, 0, 0), True), ((2026, 13, 1, 0, 0, 0, 0), False), ((1600, 12, 31, 0, 0, 0, 0), False),
    ((2026, 4, 31, 0, 0, 0, 0), False), ((2026, 1, 1, 24, 0, 0, 0), False), ((2026, 1, 1, 0, 0, 0, 1000), False),
])
def test_time_fields_to_time_refuses_invalid_fields(kernel, fields, valid):
    """RtlTimeFieldsToTime returns FALSE for fields that name no time (Microsoft's page); the Gregorian
    leap years: 2024 and 2000, not 2025 nor 2100."""
    assert (_time(kernel, *fields) is not None) == valid


def test_local_time_is_utc(kernel):
    """cmhook's machine is in UTC: ExSystemTimeToLocalTime and back keep the time (a bias of 0)."""
    system, local = ffi.new("LARGE_INTEGER *"), ffi.new("LARGE_INTEGER *")
    system.QuadPart = 133_000_000_000_000_000
    kernel.routines.ExSystemTimeToLocalTime(system, local)
    assert local.QuadPart == system.QuadPart
    kernel.routines.ExLocalTimeToSystemTime(local, system)
    assert system.QuadPart == 133_000_000_000_000_000


def test_tick_count_and_counters_follow_advance(filter_):
    """A tick is 15.625 ms (KeQueryTimeIncrement 156250, x64 Windows' default clock interval): `advance 5s`
    moves KeQueryTickCount by 320, interrupt time by 50,000,000 and the 10 MHz performance counter by
    as much (KeQueryInterruptTimePrecise gives both); KeQuerySystemTimePrecise reads the system time."""
    kernel, lib = filter_.kernel, filter_.lib
    assert kernel.routines.KeQueryTimeIncrement() == 156_250
    kernel.native.store.clock.advance(0)  # pinned: it moves only when told
    frequency = filter_.ffi.new("long long *")
    ticks, counter = lib.TickCount(), lib.PerformanceCounter(frequency)
    interrupt = kernel.routines.KeQueryInterruptTime()
    outcome = script.Runner(kernel.registry, "t.script").run(script.parse("advance 5s\n", "t.script"))
    assert outcome.failed == []
    assert lib.TickCount() - ticks == 320 and frequency[0] == 10_000_000
    assert lib.PerformanceCounter(frequency) - counter == 50_000_000
    assert kernel.routines.KeQueryInterruptTime() - interrupt == 50_000_000
    qpc = filter_.ffi.new("unsigned long long *")
    assert lib.InterruptTimePrecise(qpc) == interrupt + 50_000_000 == qpc[0]
    assert lib.SystemTimePrecise() == kernel.native.store.clock.now()


def test_interrupt_time_counts_from_boot(kernel):
    """Interrupt time is time since the machine booted (Microsoft's KeQueryInterruptTime page): the
    clock set before the boot reads 0, never a negative time."""
    clock = kernel.native.store.clock
    clock.set(kernel.boot_time + 1234)
    assert kernel.routines.KeQueryInterruptTime() == 1234
    clock.set(max(0, kernel.boot_time - 10_000))
    assert kernel.routines.KeQueryInterruptTime() == 0


# --- the header -------------------------------------------------------------------------------

LAYOUT = {
    "SLIST_ENTRY": ["Next"],
    "SLIST_HEADER": ["Alignment", "Region"],
    "GENERAL_LOOKASIDE": ["ListHead", "Depth", "MaximumDepth", "TotalAllocates", "AllocateMisses", "TotalFrees",
                          "FreeMisses", "Type", "Tag", "Size", "Allocate", "Free", "ListEntry",
                          "LastTotalAllocates", "LastAllocateMisses", "Future"],
    "GENERAL_LOOKASIDE_POOL": ["ListHead", "Tag", "Allocate", "Free", "ListEntry", "Future"],
    "NPAGED_LOOKASIDE_LIST": ["L"],
    "PAGED_LOOKASIDE_LIST": ["L"],
    "LOOKASIDE_LIST_EX": ["L"],
}


def _layout_expressions() -> list[str]:
    out = []
    for name, members in LAYOUT.items():
        out += [f"sizeof({name})", f"_Alignof({name})"]
        out += [f"__builtin_offsetof({name}, {member})" for member in members]
    return out


def _linux_layout(cc: str) -> list[int]:
    lines = ["#include <ntddk.h>", "#include <stdio.h>", "int main(void) {"]
    lines += [f'  printf("%lld\\n", (long long){e});' for e in _layout_expressions()] + ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "probe.c", Path(tmp) / "probe"
        src.write_text("\n".join(lines) + "\n")
        done = subprocess.run([cc, *build.COMPILE_FLAGS, *build.HEADER_INCLUDES, "-o", str(exe), str(src)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return [int(v) for v in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]


def _mingw_layout() -> list[int]:
    mingw = "x86_64-w64-mingw32-gcc"
    if shutil.which(mingw) is None:
        pytest.fail(f"{mingw} is not installed: run 'bash tools/bootstrap.sh' (Debian package gcc-mingw-w64-x86-64)")
    include = Path("/usr/share/mingw-w64/include/ddk")
    values = [f"  (long long)({e})," for e in _layout_expressions()]
    body = ["#include <ntddk.h>", "const long long probe[] = {", *values, "};"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text("\n".join(body) + "\n")
        done = subprocess.run([mingw, "-w", "-S", "-O0", f"-I{include}", "-o", "-", str(src)], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    return [int(v) for v in re.findall(r"^\s*\.quad\s+(-?\d+)\s*$", done.stdout, re.MULTILINE)]


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_lookaside_and_slist_layouts_are_windows_x64(cc):
    """cffi cannot align a type, so SLIST_HEADER and the lookaside lists are C only and not in the
    generated ABI tests: their sizes, alignments and offsets are compared with mingw-w64's here.
    NPAGED_LOOKASIDE_LIST is 0x80 bytes on x64 (mingw-w64's wdm.h: cache aligned)."""
    ours = _linux_layout(cc)
    assert ours == _mingw_layout()
    assert ours[_layout_expressions().index("sizeof(NPAGED_LOOKASIDE_LIST)")] == 0x80


def test_resource_and_queue_handle_are_in_the_generated_abi_tests():
    """ERESOURCE, OWNER_ENTRY, KLOCK_QUEUE_HANDLE and TIME_FIELDS are bindings types, so
    tests/ntddk_py/abi compares them with mingw-w64; ERESOURCE is 0x68 bytes on x64."""
    assert ffi.sizeof("ERESOURCE") == 0x68 and ffi.sizeof("KLOCK_QUEUE_HANDLE") == 24
    assert ffi.sizeof("TIME_FIELDS") == 16 and ffi.offsetof("ERESOURCE", "SpinLock") == 0x60


def test_win10_routines_need_a_win10_target(kernel, build_filter):
    """ExAllocatePool2 is declared for NTDDI_WIN10_VB and later only, as the WDK declares it: a filter
    for Server 2003 may define its own of that name."""
    own = "#include <ntddk.h>\nstatic PVOID ExAllocatePool2(int Flags) { return (PVOID)(ULONG_PTR)Flags; }\n" \
          "NTSTATUS DriverEntry(PDRIVER_OBJECT D, PUNICODE_STRING R) { (void)D; (void)R; " \
          "return ExAllocatePool2(0) ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS; }\n"
    assert build_filter(own).is_file()
    assert {"ExAllocatePool2", "ExAllocatePool3", "ExInitializeLookasideListEx", "ExAcquirePushLockExclusiveEx",
            "KeQuerySystemTimePrecise", "ExAllocateFromNPagedLookasideList"} <= kernel.exports


@pytest.mark.parametrize("target", ["NTDDI_WS03", "NTDDI_WIN10_VB"])
@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_the_idiom_counts_writes_under_its_resource(kernel, cc, target):
    """tests/ntddk_py/idioms/ex_pool_resource_time.c as a filter runs it, built for Server 2003
    (ExAllocatePoolZero) and for Windows 10 2004 (ExAllocatePool2): zeroed pool, a lookaside list, a
    resource, and the first write's time as local TIME_FIELDS (2026-12-02 was a Wednesday)."""
    moment = datetime.datetime(2026, 12, 2, 15, 30, 45, 678_000)
    kernel.native.store.clock.set((moment - datetime.datetime(1601, 1, 1)) // datetime.timedelta(microseconds=1) * 10)
    module = build.build(IDIOM, cc=cc, extra=["-Wextra", "-Werror"], defines={"NTDDI_VERSION": target}).module
    kernel.load_driver(module, "idiom")
    status, handle, _ = kernel.registry.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Counted", KEY_ALL_ACCESS)
    for name in ("A", "B", "A"):
        kernel.registry.set_value(handle, name, REG_DWORD, b"\1\0\0\0")
    kernel.registry.close(handle)
    kernel.unload_driver("idiom")
    routine = "ExAllocatePool2" if target == "NTDDI_WIN10_VB" else "ExAllocatePoolZero"
    assert [line for name, line in kernel.debug_output if name == "idiom"] == [
        f"ex_pool_resource_time: table from {routine} zeroed 1\n",
        "ex_pool_resource_time: first write 2026-12-02 15:30:45.678 weekday 3\n",
        "ex_pool_resource_time: A written 2\n",
        "ex_pool_resource_time: B written 1\n"]
