"""Dispatcher objects that really block and wake, timeouts and timers on the emulated clock, DPCs,
system threads and work items (harness/shim/ke_dispatcher.c), as registry filters use them.

Windows' facts pinned here come from Microsoft's documentation of each routine (KeSetEvent returns
the previous state; KeWaitForMultipleObjects' WaitAny returns STATUS_WAIT_0 + the index; a timeout
returns STATUS_TIMEOUT; a negative timeout is relative, in 100 ns units; KeSetTimerEx's Period is in
milliseconds; KeReleaseSemaphore past the limit raises STATUS_SEMAPHORE_LIMIT_EXCEEDED) and from
bugcodes.h (0xCE DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS). Where cmhook decides (the
clock moves only when advanced, or when every thread is blocked), the decision is in that file's
opening comment."""

from __future__ import annotations

import cffi
import pytest

from ntddk_py import STATUS_SEMAPHORE_LIMIT_EXCEEDED, STATUS_SUCCESS, STATUS_TIMEOUT

T0 = 133_000_000_000_000_000
SECOND = 10_000_000

_OBJECTS = r"""
#include <ntddk.h>
static KEVENT Go, Done, Auto;
static KEVENT Any[3];
static KMUTEX Mutex;
static KSEMAPHORE Semaphore;
static KTIMER Timer;
static KDPC Dpc;
static volatile LONG Counter, DpcCount;
static volatile KIRQL DpcIrql = 0xFF;
static HANDLE Thread;
static PVOID ThreadObject;
static volatile LONG Stop;

static VOID Worker(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        KeWaitForSingleObject(&Go, Executive, KernelMode, FALSE, NULL);
        if (Stop)
            break;
        InterlockedIncrement(&Counter);
        KeSetEvent(&Done, IO_NO_INCREMENT, FALSE);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static VOID TimerDpc(PKDPC D, PVOID Context, PVOID A1, PVOID A2)
{
    UNREFERENCED_PARAMETER(D); UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(A1); UNREFERENCED_PARAMETER(A2);
    DpcIrql = KeGetCurrentIrql();
    InterlockedIncrement(&DpcCount);
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    KeCancelTimer(&Timer);
    Stop = 1;
    KeSetEvent(&Go, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(ThreadObject, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(ThreadObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeEvent(&Go, SynchronizationEvent, FALSE);
    KeInitializeEvent(&Done, SynchronizationEvent, FALSE);
    KeInitializeEvent(&Auto, SynchronizationEvent, FALSE);
    for (int i = 0; i < 3; i++)
        KeInitializeEvent(&Any[i], NotificationEvent, FALSE);
    KeInitializeMutex(&Mutex, 0);
    KeInitializeSemaphore(&Semaphore, 0, 2);
    KeInitializeTimerEx(&Timer, NotificationTimer);
    KeInitializeDpc(&Dpc, TimerDpc, NULL);
    Status = PsCreateSystemThread(&Thread, THREAD_ALL_ACCESS_KEWAIT, NULL, NULL, NULL, Worker, NULL);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = ObReferenceObjectByHandle(Thread, SYNCHRONIZE, *PsThreadType, KernelMode, &ThreadObject, NULL);
    ZwClose(Thread);
    if (!NT_SUCCESS(Status))
        return Status;
    DriverObject->DriverUnload = Unload;
    return STATUS_SUCCESS;
}

LONG Kick(void) { return KeSetEvent(&Go, IO_NO_INCREMENT, FALSE); }
NTSTATUS WaitDone(LONGLONG Timeout) {
    LARGE_INTEGER T; T.QuadPart = Timeout;
    return KeWaitForSingleObject(&Done, Executive, KernelMode, FALSE, Timeout == 1 ? NULL : &T);
}
LONG ReadCounter(void) { return Counter; }
LONG SetAuto(void) { return KeSetEvent(&Auto, IO_NO_INCREMENT, FALSE); }
LONG ReadAuto(void) { return KeReadStateEvent(&Auto); }
NTSTATUS PollAuto(void) {
    LARGE_INTEGER Zero; Zero.QuadPart = 0;
    return KeWaitForSingleObject(&Auto, Executive, KernelMode, FALSE, &Zero);
}
VOID SetAny(int Index) { KeSetEvent(&Any[Index], IO_NO_INCREMENT, FALSE); }
NTSTATUS WaitAnyOf(int All) {
    PVOID Objects[3] = {&Any[0], &Any[1], &Any[2]};
    LARGE_INTEGER Zero; Zero.QuadPart = 0;
    return KeWaitForMultipleObjects(3, Objects, All ? WaitAll : WaitAny, Executive, KernelMode, FALSE, &Zero, NULL);
}
NTSTATUS Delay(LONGLONG Interval) {
    LARGE_INTEGER T; T.QuadPart = Interval;
    return KeDelayExecutionThread(KernelMode, FALSE, &T);
}
NTSTATUS WaitAutoFor(LONGLONG Timeout) {
    LARGE_INTEGER T; T.QuadPart = Timeout;
    return KeWaitForSingleObject(&Auto, Executive, KernelMode, FALSE, &T);
}
LONG MutexTwice(void) {
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
    LONG Held = KeReadStateMutex(&Mutex);
    KeReleaseMutex(&Mutex, FALSE);
    KeReleaseMutex(&Mutex, FALSE);
    return Held * 10 + KeReadStateMutex(&Mutex);
}
NTSTATUS OverRelease(void) {
    NTSTATUS Status = STATUS_SUCCESS;
    KeReleaseSemaphore(&Semaphore, 0, 2, FALSE);
    __try {
        KeReleaseSemaphore(&Semaphore, 0, 1, FALSE);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
        Status = GetExceptionCode();
    }
    return Status;
}
LONG SemaphoreCount(void) { return KeReadStateSemaphore(&Semaphore); }
BOOLEAN StartTimer(LONGLONG Due, LONG Period) {
    LARGE_INTEGER T; T.QuadPart = Due;
    return KeSetTimerEx(&Timer, T, Period, &Dpc);
}
BOOLEAN TimerState(void) { return KeReadStateTimer(&Timer); }
LONG DpcRuns(void) { return DpcCount; }
LONG DpcLevel(void) { return DpcIrql; }
"""

_CDEF = """
LONG Kick(void); NTSTATUS WaitDone(LONGLONG); LONG ReadCounter(void); LONG SetAuto(void); LONG ReadAuto(void);
NTSTATUS PollAuto(void); void SetAny(int); NTSTATUS WaitAnyOf(int); NTSTATUS Delay(LONGLONG);
NTSTATUS WaitAutoFor(LONGLONG); LONG MutexTwice(void); NTSTATUS OverRelease(void); LONG SemaphoreCount(void);
BOOLEAN StartTimer(LONGLONG, LONG); BOOLEAN TimerState(void); LONG DpcRuns(void); LONG DpcLevel(void);
"""


@pytest.fixture
def objects(kernel, build_filter):
    """The dispatcher filter loaded (its worker thread waiting on Go), its helpers callable."""
    kernel.native.store.clock.set(T0)
    source = _OBJECTS.replace("THREAD_ALL_ACCESS_KEWAIT", "(STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)")
    driver = kernel.load_driver(build_filter(source, name="objects"))
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(_CDEF)
    return local.dlopen(str(driver.module_path))


def test_an_event_set_wakes_the_driver_thread_waiting_on_it(kernel, objects):
    """A monitor's worker thread: blocked on a synchronization event until another thread sets it."""
    for round_ in range(1, 4):
        assert objects.Kick() == 0  # KeSetEvent returns the previous state: the waiter had consumed it
        assert objects.WaitDone(1) == STATUS_SUCCESS
        assert objects.ReadCounter() == round_


def test_a_synchronization_event_resets_when_a_wait_is_satisfied(objects):
    assert objects.SetAuto() == 0
    assert objects.ReadAuto() == 1
    assert objects.SetAuto() == 1  # the previous state
    assert objects.PollAuto() == STATUS_SUCCESS
    assert objects.ReadAuto() == 0
    assert objects.PollAuto() == STATUS_TIMEOUT


def test_wait_any_returns_the_index_of_the_signaled_object(objects):
    wait_any, wait_all = 0, 1
    assert objects.WaitAnyOf(wait_any) == STATUS_TIMEOUT
    objects.SetAny(2)
    assert objects.WaitAnyOf(wait_all) == STATUS_TIMEOUT  # two are not signaled
    assert objects.WaitAnyOf(wait_any) == STATUS_SUCCESS + 2  # STATUS_WAIT_2
    objects.SetAny(0)
    objects.SetAny(1)
    assert objects.WaitAnyOf(wait_any) == STATUS_SUCCESS  # STATUS_WAIT_0: the lowest index wins
    assert objects.WaitAnyOf(wait_all) == STATUS_SUCCESS


def test_a_timed_out_wait_returns_status_timeout_with_the_clock_moved_by_the_timeout(kernel, objects):
    """Nothing else can run: the clock jumps to the deadline (relative, 100 ns units, negative)."""
    clock = kernel.native.store.clock
    assert objects.WaitAutoFor(-3 * SECOND) == STATUS_TIMEOUT
    assert clock.now() == T0 + 3 * SECOND
    assert objects.WaitAutoFor(T0 + 5 * SECOND) == STATUS_TIMEOUT  # positive: absolute system time
    assert clock.now() == T0 + 5 * SECOND
    assert objects.Delay(-2 * SECOND) == STATUS_SUCCESS
    assert clock.now() == T0 + 7 * SECOND


def test_a_mutex_is_recursive_for_its_owner(objects):
    """Held twice: SignalState -1; released twice: 1 (free)."""
    assert objects.MutexTwice() == -1 * 10 + 1


def test_releasing_a_semaphore_past_its_limit_raises(objects):
    assert objects.OverRelease() == STATUS_SEMAPHORE_LIMIT_EXCEEDED
    assert objects.SemaphoreCount() == 2


def test_a_periodic_timer_runs_its_dpc_once_per_period_the_clock_advances(kernel, objects):
    """Due in 1 s, then every 500 ms: 5 expiries in 3 s (1, 1.5, 2, 2.5, 3), each DPC at DISPATCH_LEVEL."""
    assert objects.StartTimer(-1 * SECOND, 500) == 0
    kernel.advance(SECOND // 2)
    assert objects.DpcRuns() == 0 and not objects.TimerState()
    kernel.advance(SECOND * 5 // 2)
    assert objects.DpcRuns() == 5
    assert objects.TimerState()
    assert objects.DpcLevel() == 2
    kernel.advance(SECOND // 4)
    assert objects.DpcRuns() == 5


_WORK_ITEMS = r"""
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static PIO_WORKITEM Item;
static WORK_QUEUE_ITEM Legacy;
static volatile LONG Deferred;
static volatile LONG SawProcess, SawMode, SawIrql;
static DEVICE_OBJECT *Device = (DEVICE_OBJECT *)&Cookie; /* any non-NULL device object pointer */

static VOID Write(PCWSTR Name)
{
    UNICODE_STRING Path, Value;
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key;
    ULONG Data = 1;
    RtlInitUnicodeString(&Path, L"\\Registry\\Machine\\Software\\Deferred");
    RtlInitUnicodeString(&Value, Name);
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (NT_SUCCESS(ZwCreateKey(&Key, KEY_ALL_ACCESS, &Attributes, 0, NULL, 0, NULL))) {
        ZwSetValueKey(Key, &Value, 0, REG_DWORD, &Data, sizeof(Data));
        ZwClose(Key);
    }
}

static VOID Work(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject); UNREFERENCED_PARAMETER(Context);
    SawIrql = KeGetCurrentIrql();
    Write(L"FromWorkItem");
}

static VOID LegacyWork(PVOID Parameter)
{
    UNREFERENCED_PARAMETER(Parameter);
    Write(L"FromLegacyWorkItem");
}

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    REG_NOTIFY_CLASS Class = (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1;
    UNREFERENCED_PARAMETER(Context);
    if (Class == RegNtPreSetValueKey) {
        PREG_SET_VALUE_KEY_INFORMATION Info = Argument2;
        if (Info->ValueName->Length == 14 && Info->ValueName->Buffer[0] == L'T' && !Deferred) {
            Deferred = 1;
            IoQueueWorkItem(Item, Work, DelayedWorkQueue, NULL);
            ExInitializeWorkItem(&Legacy, LegacyWork, NULL);
            ExQueueWorkItem(&Legacy, DelayedWorkQueue);
        } else if (Info->ValueName->Length == 24 && Info->ValueName->Buffer[0] == L'F') {
            SawProcess = (LONG)(ULONG_PTR)PsGetCurrentProcessId();
            SawMode = ExGetPreviousMode();
        }
    }
    return STATUS_SUCCESS;
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    IoFreeWorkItem(Item);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    Item = IoAllocateWorkItem(Device);
    if (Item == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}

LONG Observed(void) { return SawProcess * 1000 + SawMode * 100 + SawIrql; }
"""

DEFERRED = "\\REGISTRY\\MACHINE\\SOFTWARE\\Deferred"


def test_a_work_item_runs_in_the_system_process_and_its_registry_call_reaches_callbacks(kernel, build_filter):
    """Work deferred out of a callback (IoQueueWorkItem, and ExQueueWorkItem's WORK_QUEUE_ITEM) runs on a
    system worker thread at PASSIVE_LEVEL: its ZwSetValueKey is a kernel-mode call of the System process
    (4), which reaches the callbacks (Microsoft: work items run in a system thread's context)."""
    from ntddk_py import REG_DWORD

    driver = kernel.load_driver(build_filter(_WORK_ITEMS, name="deferring"))
    kernel.registry.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Trigger", "Trigger", REG_DWORD, 1)
    kernel.settle()
    assert kernel.registry.get_value(DEFERRED, "FromWorkItem") is not None
    assert kernel.registry.get_value(DEFERRED, "FromLegacyWorkItem") is not None
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef("LONG Observed(void);")
    assert local.dlopen(str(driver.module_path)).Observed() == 4 * 1000 + 0 * 100 + 0  # System, KernelMode, PASSIVE


_LEFTOVERS = r"""
#include <ntddk.h>
static KTIMER Timer;
static KEVENT Never;
static HANDLE Thread;

static VOID Forever(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&Never, Executive, KernelMode, FALSE, NULL);
}

static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    LARGE_INTEGER Due;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeEvent(&Never, NotificationEvent, FALSE);
    KeInitializeTimer(&Timer);
    Due.QuadPart = -600LL * 10000000;
    KeSetTimer(&Timer, Due, NULL);
    DriverObject->DriverUnload = Unload;
    PsCreateSystemThread(&Thread, 0, NULL, NULL, NULL, Forever, NULL);
    ZwClose(Thread);
    return STATUS_SUCCESS;
}
"""


def test_threads_and_timers_left_at_unload_are_findings(kernel, build_filter):
    """A thread still running and a timer still set after DriverUnload: bug check 0xCE on Windows."""
    kernel.native.store.clock.set(T0)
    driver = kernel.load_driver(build_filter(_LEFTOVERS, name="careless"))
    kernel.settle()
    found = kernel.unload_driver(driver)
    kinds = sorted(f.kind for f in found)
    assert kinds == ["pending-thread", "pending-timer"], found
    assert all("0xCE" in f.message and f.driver == "careless" for f in found)
    kernel.findings.clear()


_THREAD_CRASH = r"""
#include <ntddk.h>
static HANDLE Thread;

static VOID CrashingStart(PVOID Context)
{
    DbgPrint("about to misbehave in the system thread\n");
    *(volatile LONG *)Context = 1;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    PVOID Object;
    UNREFERENCED_PARAMETER(DriverObject); UNREFERENCED_PARAMETER(RegistryPath);
    PsCreateSystemThread(&Thread, 0, NULL, NULL, NULL, CrashingStart, NULL);
    /* Wait for the thread, so that it crashes while the machine runs, whatever the scheduling. */
    if (NT_SUCCESS(ObReferenceObjectByHandle(Thread, SYNCHRONIZE, *PsThreadType, KernelMode, &Object, NULL))) {
        KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Object);
    }
    ZwClose(Thread);
    return STATUS_SUCCESS;
}
"""


def test_a_crash_in_a_thread_start_routine_is_a_bugcheck_naming_the_driver_and_routine(tmp_path):
    """A NULL write in a system thread: SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (0x7E), the driver and its
    start routine named, as Windows' bug check names the faulting thread's module."""
    from helpers import cmhook

    from harness.cli import EXIT_CRASHED

    source = tmp_path / "thread_crash.c"
    source.write_text(_THREAD_CRASH)
    script = tmp_path / "idle.script"
    script.write_text('create "\\REGISTRY\\MACHINE\\SOFTWARE\\Idle" as k\nclose k\n')
    done = cmhook("run", source, "--script", script, module="cmhook", timeout=120)
    assert done.returncode == EXIT_CRASHED, done.stdout + done.stderr
    report = done.stderr
    assert "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" in report, report
    assert "driver thread_crash" in report, report
    assert "system thread start routine" in report and "CrashingStart" in report, report


_TICKER = r"""
#include <ntddk.h>
static HANDLE Thread;
static PVOID ThreadObject;
static volatile LONG Ticks, Stop;
static KMUTEX Mutex;
static KSPIN_LOCK SpinLock;
static KEVENT Never;
static PIO_WORKITEM Item;
static volatile PVOID SeenItem;
static KDPC Dpc;
static volatile PVOID DpcArgument;

static VOID Ticker(PVOID Context)
{
    LARGE_INTEGER Second;
    UNREFERENCED_PARAMETER(Context);
    Second.QuadPart = -10000000LL;
    while (!Stop) {
        KeDelayExecutionThread(KernelMode, FALSE, &Second);
        if (!Stop)
            InterlockedIncrement(&Ticks);
    }
}

static VOID TakeMutex(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&Mutex, Executive, KernelMode, FALSE, NULL);
}

static VOID WorkEx(PVOID IoObject, PVOID Context, PIO_WORKITEM IoWorkItem)
{
    UNREFERENCED_PARAMETER(IoObject); UNREFERENCED_PARAMETER(Context);
    SeenItem = IoWorkItem;
}

static VOID Deferred(PKDPC D, PVOID Context, PVOID A1, PVOID A2)
{
    UNREFERENCED_PARAMETER(D); UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(A2);
    DpcArgument = A1;
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    Stop = 1;
    /* The ticker sleeps: every thread is blocked, so the clock moves to its wake-up. */
    KeWaitForSingleObject(ThreadObject, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(ThreadObject);
    IoFreeWorkItem(Item);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeMutex(&Mutex, 0);
    KeInitializeSpinLock(&SpinLock);
    KeInitializeEvent(&Never, NotificationEvent, FALSE);
    KeInitializeDpc(&Dpc, Deferred, NULL);
    Item = IoAllocateWorkItem((PDEVICE_OBJECT)DriverObject);
    Status = PsCreateSystemThread(&Thread, 0, NULL, NULL, NULL, Ticker, NULL);
    if (!NT_SUCCESS(Status))
        return Status;
    ObReferenceObjectByHandle(Thread, SYNCHRONIZE, *PsThreadType, KernelMode, &ThreadObject, NULL);
    ZwClose(Thread);
    DriverObject->DriverUnload = Unload;
    return STATUS_SUCCESS;
}

LONG ReadTicks(void) { return Ticks; }
VOID ReleaseForeignMutex(void)
{
    HANDLE Other;
    PsCreateSystemThread(&Other, 0, NULL, NULL, NULL, TakeMutex, NULL);
    ZwClose(Other);
}
LONG ReleaseMutexNow(void) { return KeReleaseMutex(&Mutex, FALSE); }
NTSTATUS WaitAtDispatch(void)
{
    KIRQL Old;
    NTSTATUS Status;
    LARGE_INTEGER Timeout;
    Timeout.QuadPart = -10000000LL;
    KeAcquireSpinLock(&SpinLock, &Old);
    Status = KeWaitForSingleObject(&Never, Executive, KernelMode, FALSE, &Timeout);
    KeReleaseSpinLock(&SpinLock, Old);
    return Status;
}
LONG QueueEx(void) { IoQueueWorkItemEx(Item, WorkEx, DelayedWorkQueue, NULL); return 0; }
LONG SeenRightItem(void) { return SeenItem == Item; }
BOOLEAN InsertDpc(void) { return KeInsertQueueDpc(&Dpc, (PVOID)0x1234, NULL); }
ULONG_PTR DpcSaw(void) { return (ULONG_PTR)DpcArgument; }
"""

_TICKER_CDEF = """
LONG ReadTicks(void); void ReleaseForeignMutex(void); LONG ReleaseMutexNow(void); NTSTATUS WaitAtDispatch(void);
LONG QueueEx(void); LONG SeenRightItem(void); BOOLEAN InsertDpc(void); ULONG_PTR DpcSaw(void);
"""


@pytest.fixture
def ticker(kernel, build_filter):
    kernel.native.store.clock.set(T0)
    driver = kernel.load_driver(build_filter(_TICKER, name="ticker"))
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(_TICKER_CDEF)
    return local.dlopen(str(driver.module_path))


def test_a_system_thread_sleeps_until_the_test_advances_the_clock(kernel, ticker):
    """A thread's KeDelayExecutionThread(1 s) loop ticks once per emulated second advanced, never on
    its own (the host thread is running), and DriverUnload's wait for the thread object returns
    once the thread ends (every thread blocked: the clock moves to the sleeper's wake-up)."""
    kernel.settle()
    assert ticker.ReadTicks() == 0
    kernel.advance(3 * SECOND)
    assert ticker.ReadTicks() == 3
    kernel.advance(SECOND // 2)
    assert ticker.ReadTicks() == 3
    kernel.advance(SECOND // 2)
    assert ticker.ReadTicks() == 4


def test_waiting_at_dispatch_level_with_a_timeout_is_a_finding(kernel, ticker):
    """Bug check 0xA on Windows; here the wait polls (STATUS_TIMEOUT) and the finding names the driver."""
    assert ticker.WaitAtDispatch() == STATUS_TIMEOUT
    assert [(f.kind, f.driver) for f in kernel.findings] == [("bugcheck", "ticker")]
    assert "IRQL_NOT_LESS_OR_EQUAL" in kernel.findings[0].message
    kernel.findings.clear()


def test_releasing_a_mutex_another_thread_owns_is_a_finding(kernel, ticker):
    """THREAD_NOT_MUTEX_OWNER (0x11) on Windows: the mutex stays with its owner (SignalState 0)."""
    ticker.ReleaseForeignMutex()
    kernel.settle()
    assert ticker.ReleaseMutexNow() == 0
    assert [(f.kind, f.driver) for f in kernel.findings] == [("bugcheck", "ticker")]
    assert "THREAD_NOT_MUTEX_OWNER" in kernel.findings[0].message
    kernel.findings.clear()


def test_io_queue_work_item_ex_hands_the_routine_its_work_item(kernel, ticker):
    ticker.QueueEx()
    kernel.settle()
    assert ticker.SeenRightItem() == 1


def test_a_queued_dpc_runs_with_its_system_arguments(kernel, ticker):
    assert ticker.InsertDpc()
    kernel.settle()
    assert ticker.DpcSaw() == 0x1234


_DPC_CRASH = r"""
#include <ntddk.h>
static KTIMER Timer;
static KDPC Dpc;

static VOID CrashingDpc(PKDPC D, PVOID Context, PVOID A1, PVOID A2)
{
    UNREFERENCED_PARAMETER(D); UNREFERENCED_PARAMETER(A1); UNREFERENCED_PARAMETER(A2);
    *(volatile LONG *)Context = 1;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    LARGE_INTEGER Due;
    UNREFERENCED_PARAMETER(DriverObject); UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeTimer(&Timer);
    KeInitializeDpc(&Dpc, CrashingDpc, NULL);
    Due.QuadPart = -10000000LL;
    KeSetTimer(&Timer, Due, &Dpc);
    return STATUS_SUCCESS;
}
"""


def test_a_crash_in_a_timer_dpc_is_kmode_exception_not_handled_naming_the_routine(tmp_path):
    """A script's `advance 2s` expires the timer; its DPC writes through NULL: no thread's exception,
    so KMODE_EXCEPTION_NOT_HANDLED (0x1E), the driver and the DPC routine named."""
    from helpers import cmhook

    from harness.cli import EXIT_CRASHED

    source = tmp_path / "dpc_crash.c"
    source.write_text(_DPC_CRASH)
    script = tmp_path / "advance.script"
    script.write_text("advance 2s\n")
    done = cmhook("run", source, "--script", script, module="cmhook", timeout=120)
    assert done.returncode == EXIT_CRASHED, done.stdout + done.stderr
    report = done.stderr
    assert "KMODE_EXCEPTION_NOT_HANDLED" in report and "driver dpc_crash" in report, report
    assert "timer DPC routine" in report and "CrashingDpc" in report, report
