/*
 * ke_dispatcher.c - dispatcher objects that really block and wake, timers and DPCs on the
 * emulated clock, system threads and work items (wdm.h's kewait block).
 *
 * The rules (cmhook's decisions where a test bench must differ from a machine):
 *
 * - One lock (Lock) guards every dispatcher object's state, the wait list, the timer list, the
 *   DPC and work queues. An object's state is its DISPATCHER_HEADER: Type (the KOBJECTS value
 *   Windows gives it) and SignalState. A wait is a WAIT record on the wait list, in the order the
 *   waits began; whenever a state changes, Wake() walks the list in that order and satisfies what
 *   can be satisfied (a synchronization event or timer resets, a semaphore counts down, a mutex
 *   gets its owner), so KeSetEvent on a synchronization event releases exactly the oldest waiter.
 *   The waker counts the woken thread as running before it signals it.
 * - Time is the emulated clock (registry_core/clock.py). The first timed operation (a wait with a
 *   non-zero timeout, KeDelayExecutionThread, KeSetTimer) pins the clock where it is; from then on
 *   it moves only when (a) Python moves it (Clock.set/advance, a script's `advance`): each timer
 *   due and each timeout passed on the way fires in due-time order (ties: the order they were set),
 *   the clock standing at that due time, and the machine settles (every thread the shim made is
 *   idle again) before the next; or (b) every thread is blocked in a wait, the host thread (the
 *   one that called DriverEntry, a callback, DriverUnload: Python's) included: then nothing but
 *   time can make progress, and the clock jumps to the earliest due time or deadline. So a
 *   KeDelayExecutionThread or a timed wait in DriverEntry returns at once, the clock moved by the
 *   timeout, and a system thread's timed wait elapses only when the test advances the clock.
 *   Timeouts: NULL waits forever, 0 polls, negative is relative (100 ns units), positive absolute.
 * - A timer's DPC, and KeInsertQueueDpc's, run in queue order on one DPC thread at DISPATCH_LEVEL;
 *   work items (IoQueueWorkItem(Ex), ExQueueWorkItem, every queue type) in queue order on one
 *   system worker thread at PASSIVE_LEVEL; both as the System process. Every driver routine they
 *   and system threads run is entered through the machine record's watch slots (kinds
 *   CmhookInSystemThread, CmhookInWorkItem, CmhookInDpc, CmhookInTimerDpc), so a crash or a hang
 *   there is reported naming the driver and the routine. A system thread blocked in a wait is idle
 *   (its slot's depth is 0 while it waits); the host thread's wait keeps its depth, so a host wait
 *   nothing will ever end is a hang the watchdog reports.
 * - Misuse is a verifier finding: a wait at DISPATCH_LEVEL with a timeout other than 0 (bug check
 *   0xA on Windows; here it polls), KeReleaseMutex by a thread that does not own it (0x11; nothing
 *   changes). KeReleaseSemaphore past the limit raises STATUS_SEMAPHORE_LIMIT_EXCEEDED, as Windows
 *   does, into the driver's __except (none: a bugcheck), and the count is unchanged.
 * - At DriverUnload (CmhookDispatcherLeftovers), what the driver left is a finding (bug check 0xCE,
 *   DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, on Windows): its timers are cancelled,
 *   its queued DPCs and work items dropped, and its threads still running are stopped at their next
 *   wait (they never return from it); a thread busy in driver code cannot be stopped and keeps the
 *   module (which stays mapped) running. CmhookDispatcherShutdown joins the worker and DPC threads.
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Windows' KOBJECTS values for Header.Type. */
enum {
    EventNotificationObject = 0,
    EventSynchronizationObject = 1,
    MutantObject = 2,
    SemaphoreObject = 5,
    ThreadObject = 6,
    TimerNotificationObject = 8,
    TimerSynchronizationObject = 9,
    DpcObject = 19
};

#define HANDLE_SLOTS 256
#define KERNEL_HANDLE_BASE 0xFFFFFFFF80000000ULL
/* The same, for the harness (harness/routines/ke.py tells the shim's handles from the registry's by it). */
ULONG_PTR CmhookKernelHandleBase = KERNEL_HANDLE_BASE; /* not const: cffi reads only variables from a dlopen()ed library */
#define TEXT_ROOM 512

struct _KTHREAD {
    DISPATCHER_HEADER Header;      /* signaled when the thread ends */
    LONG References;               /* handles, ObReferenceObject, and the running thread's own */
    BOOLEAN System;                /* made by PsCreateSystemThread (else: a host thread's object) */
    BOOLEAN Stopped;               /* its driver unloaded: its next wait never returns */
    BOOLEAN Ended;
    PKSTART_ROUTINE Start;
    PVOID Context;
    ULONG_PTR Module;              /* the driver whose start routine it runs */
    ULONG_PTR ThreadId;            /* emulated */
    sigjmp_buf Exit;               /* PsTerminateSystemThread jumps back here */
    struct _KTHREAD *Next;         /* in Threads */
};

typedef struct _WAIT {
    struct _WAIT *Next;
    struct _KTHREAD *Thread;
    ULONG Count;
    PVOID *Objects;
    WAIT_TYPE Type;
    BOOLEAN Timed;
    BOOLEAN Done;
    BOOLEAN Shim;                  /* the waiter is a thread the shim made */
    LONGLONG Deadline;
    NTSTATUS Result;
    pthread_cond_t Wake;
} WAIT;

typedef struct _TIMER_ENTRY {
    struct _TIMER_ENTRY *Next;
    PKTIMER Timer;
    LONGLONG Due;
    ULONGLONG Order;
    ULONG_PTR Module;
} TIMER_ENTRY;

typedef struct _DPC_ENTRY {
    struct _DPC_ENTRY *Next;
    PKDPC Dpc;
    BOOLEAN FromTimer;
    ULONG_PTR Module;
} DPC_ENTRY;

enum { WorkIo, WorkIoEx, WorkEx };

struct _IO_WORKITEM {
    PDEVICE_OBJECT DeviceObject;
    ULONG_PTR Module;
    BOOLEAN Queued;
};

typedef struct _WORK_ENTRY {
    struct _WORK_ENTRY *Next;
    LONG Kind;
    PVOID Item;                    /* the PIO_WORKITEM or PWORK_QUEUE_ITEM */
    PVOID Routine;
    PVOID Context;
    ULONG_PTR Module;
} WORK_ENTRY;

/* A thread the shim runs queues on (the DPC thread, the worker thread). */
typedef struct _QUEUE_THREAD {
    pthread_t Pthread;
    BOOLEAN Started;
    BOOLEAN Idle;                  /* waiting for an entry, not counted as running */
    pthread_cond_t Work;
} QUEUE_THREAD;

static pthread_mutex_t Lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t IdleChanged = PTHREAD_COND_INITIALIZER;
static LONGLONG Now;
static BOOLEAN Known;              /* Now holds the pinned clock */
static LONG RunningShim;           /* threads the shim made, not idle */
static LONG HostWaiting;           /* host threads blocked in a wait */
static BOOLEAN Stopping;
static WAIT *Waits;
static TIMER_ENTRY *Timers;
static ULONGLONG TimerOrder;
static DPC_ENTRY *Dpcs;
static WORK_ENTRY *Works;
static struct _KTHREAD *Threads;
static struct _KTHREAD *Handles[HANDLE_SLOTS];
static QUEUE_THREAD DpcThread = {.Work = PTHREAD_COND_INITIALIZER};
static QUEUE_THREAD WorkerThread = {.Work = PTHREAD_COND_INITIALIZER};
static __thread struct _KTHREAD *Self;
static __thread BOOLEAN ShimThread;   /* this thread was made by the shim (counted in RunningShim) */

/* PsThreadType is process_shim.c's (the object types ntoskrnl exports). */

/* ---------------------------------------------------------------------------
 * Upcalls: never with Lock held (Python may call back into the dispatcher).
 * ------------------------------------------------------------------------- */
static void Finding(ULONG_PTR Module, const char *Kind, const char *Text)
{
    CMHOOK_HIDE_FRAMES();
    if (CmhookUpcalls.DispatcherFinding != NULL)
        CmhookUpcalls.DispatcherFinding(Module, Kind, Text);
}

static void EnsureClock(void)
{
    if (!__atomic_load_n(&Known, __ATOMIC_ACQUIRE) && CmhookUpcalls.ClockPin != NULL) {
        CMHOOK_HIDE_FRAMES();
        CmhookUpcalls.ClockPin(); /* comes back through CmhookClockMoved, which sets Known */
    }
}

/* The module of the driver calling the exported routine this expands in. */
#define Caller() CmhookModuleBase(__builtin_return_address(0))

static struct _KTHREAD *CurrentThread(void)
{
    if (Self == NULL) {
        Self = calloc(1, sizeof(*Self)); /* a host thread's object, for the life of the process */
        if (Self == NULL)
            abort();
        Self->Header.Type = ThreadObject;
        Self->References = 1;
        InitializeListHead(&Self->Header.WaitListHead);
    }
    return Self;
}

/* KeGetCurrentThread and PsGetCurrentThread are the process model's (harness/routines/processes.py): the
 * emulated caller's thread object. This file's host-thread objects own mutexes and are what a system
 * thread's handle references. */

/* ---------------------------------------------------------------------------
 * Waits (Lock held).
 * ------------------------------------------------------------------------- */
static BOOLEAN Satisfiable(PVOID Object, struct _KTHREAD *Thread)
{
    DISPATCHER_HEADER *H = Object;
    if (H->Type == MutantObject)
        return H->SignalState > 0 || ((PKMUTEX)Object)->OwnerThread == Thread;
    return H->SignalState > 0;
}

static void Consume(PVOID Object, struct _KTHREAD *Thread)
{
    DISPATCHER_HEADER *H = Object;
    switch (H->Type) {
    case EventSynchronizationObject:
    case TimerSynchronizationObject:
        H->SignalState = 0;
        break;
    case SemaphoreObject:
        H->SignalState--;
        break;
    case MutantObject:
        H->SignalState--;
        ((PKMUTEX)Object)->OwnerThread = Thread;
        break;
    default:
        break;
    }
}

/* The wait's result if it can end now (satisfied, or timed out), else -1 (STATUS_PENDING's place). */
static NTSTATUS TryEnd(WAIT *W)
{
    ULONG Index;
    if (W->Type == WaitAny) {
        for (Index = 0; Index < W->Count; Index++) {
            if (Satisfiable(W->Objects[Index], W->Thread)) {
                Consume(W->Objects[Index], W->Thread);
                return STATUS_WAIT_0 + (NTSTATUS)Index;
            }
        }
    } else if (W->Count > 0) {
        for (Index = 0; Index < W->Count && Satisfiable(W->Objects[Index], W->Thread); Index++)
            ;
        if (Index == W->Count) {
            for (Index = 0; Index < W->Count; Index++)
                Consume(W->Objects[Index], W->Thread);
            return STATUS_SUCCESS;
        }
    }
    if (W->Timed && Now >= W->Deadline)
        return STATUS_TIMEOUT;
    return -1;
}

/* Every wait that can end now ends, oldest first; the waker counts each woken thread as running. */
static void Wake(void)
{
    WAIT **Link = &Waits;
    while (*Link != NULL) {
        WAIT *W = *Link;
        NTSTATUS Result = TryEnd(W);
        if (Result == -1) {
            Link = &W->Next;
            continue;
        }
        *Link = W->Next;
        W->Result = Result;
        W->Done = TRUE;
        if (W->Shim)
            RunningShim++;
        else
            HostWaiting--;
        pthread_cond_signal(&W->Wake);
    }
}

/* The earliest due time of a set timer or a timed wait; FALSE if none. */
static BOOLEAN Earliest(LONGLONG *Due)
{
    BOOLEAN Any = FALSE;
    TIMER_ENTRY *T;
    WAIT *W;
    for (T = Timers; T != NULL; T = T->Next)
        if (!Any || T->Due < *Due)
            *Due = T->Due, Any = TRUE;
    for (W = Waits; W != NULL; W = W->Next)
        if (W->Timed && (!Any || W->Deadline < *Due))
            *Due = W->Deadline, Any = TRUE;
    return Any;
}

static void QueueThreadStart(QUEUE_THREAD *Q, void *(*Main)(void *));
static void *DpcMain(void *Argument);

/* Queue a DPC (Lock held); FALSE when it is queued already. */
static BOOLEAN QueueDpc(PKDPC Dpc, PVOID Argument1, PVOID Argument2, BOOLEAN FromTimer, ULONG_PTR Module)
{
    DPC_ENTRY *E, **Link;
    if (Dpc->DpcData != NULL)
        return FALSE;
    E = calloc(1, sizeof(*E));
    if (E == NULL)
        return FALSE;
    E->Dpc = Dpc;
    E->FromTimer = FromTimer;
    E->Module = Module;
    Dpc->SystemArgument1 = Argument1;
    Dpc->SystemArgument2 = Argument2;
    Dpc->DpcData = E;
    for (Link = &Dpcs; *Link != NULL; Link = &(*Link)->Next)
        ;
    *Link = E;
    QueueThreadStart(&DpcThread, DpcMain);
    return TRUE;
}

/* Fire every timer due at Now, earliest first (Lock held). A periodic timer stays set, due a period
 * later; a timer whose DPC is still queued from its last expiry does not queue it twice. */
static void FireTimers(void)
{
    for (;;) {
        TIMER_ENTRY *T, *First = NULL, **Link, **FirstLink = NULL;
        for (Link = &Timers; (T = *Link) != NULL; Link = &T->Next)
            if (T->Due <= Now && (First == NULL || T->Due < First->Due ||
                                  (T->Due == First->Due && T->Order < First->Order)))
                First = T, FirstLink = Link;
        if (First == NULL)
            return;
        First->Timer->Header.SignalState = 1;
        if (First->Timer->Dpc != NULL)
            QueueDpc(First->Timer->Dpc, (PVOID)(ULONG_PTR)(ULONG)First->Due,
                     (PVOID)(ULONG_PTR)(ULONG)((ULONGLONG)First->Due >> 32), TRUE, First->Module);
        if (First->Timer->Period > 0) {
            First->Due += (LONGLONG)First->Timer->Period * 10000;
            First->Order = ++TimerOrder;
            First->Timer->DueTime.QuadPart = (ULONGLONG)First->Due;
        } else {
            *FirstLink = First->Next;
            free(First);
        }
        Wake();
    }
}

/* Nothing but time can make progress: every thread blocked, the host's included (Lock held). */
static void IdleAdvance(void)
{
    LONGLONG Due;
    while (RunningShim == 0 && HostWaiting > 0 && Earliest(&Due)) {
        if (Due > Now)
            Now = Due;
        FireTimers();
        Wake();
    }
}

static BOOLEAN Settled(void)
{
    return RunningShim <= (ShimThread ? 1 : 0);
}

static void SettleLocked(void)
{
    while (!Settled() && !Stopping)
        pthread_cond_wait(&IdleChanged, &Lock);
}

VOID CmhookSettle(VOID)
{
    pthread_mutex_lock(&Lock);
    SettleLocked();
    pthread_mutex_unlock(&Lock);
}

/* The clock was set or advanced to To. Pinning it (the first time) or setting it back fires nothing
 * and waits for nobody; moving it forward fires what is due on the way, settling after each step. */
VOID CmhookClockMoved(LONGLONG To)
{
    LONGLONG Due;
    pthread_mutex_lock(&Lock);
    if (!Known || To <= Now) {
        Now = To;
        __atomic_store_n(&Known, TRUE, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&Lock);
        return;
    }
    while (Earliest(&Due) && Due <= To) {
        if (Due > Now)
            Now = Due;
        FireTimers();
        Wake();
        SettleLocked();
    }
    Now = To;
    Wake();
    SettleLocked();
    pthread_mutex_unlock(&Lock);
}

LONGLONG CmhookDispatcherNow(VOID)
{
    LONGLONG Value;
    pthread_mutex_lock(&Lock);
    Value = Known ? Now : -1;
    pthread_mutex_unlock(&Lock);
    return Value;
}

/* Block this thread until the wait ends (Lock held; released while blocked). A stopped thread
 * (its driver unloaded) never returns. */
static NTSTATUS Block(WAIT *W)
{
    WAIT **Link;
    LONG Depth = 0;
    NTSTATUS Result = TryEnd(W);
    struct _KTHREAD *T = W->Thread;
    if (Result != -1 && !T->Stopped)
        return Result;
    W->Shim = ShimThread;
    W->Done = FALSE;
    pthread_cond_init(&W->Wake, NULL);
    if (!T->Stopped) {
        for (Link = &Waits; *Link != NULL; Link = &(*Link)->Next)
            ;
        *Link = W;
    }
    if (W->Shim) {
        RunningShim--;
        pthread_cond_broadcast(&IdleChanged);
        pthread_mutex_unlock(&Lock);
        Depth = CmhookWaitBegins();
        pthread_mutex_lock(&Lock);
    } else {
        HostWaiting++;
    }
    IdleAdvance();
    while (!W->Done || (T->Stopped && W->Shim))
        pthread_cond_wait(&W->Wake, &Lock);
    pthread_cond_destroy(&W->Wake);
    if (W->Shim) {
        pthread_mutex_unlock(&Lock);
        CmhookWaitEnds(Depth);
        pthread_mutex_lock(&Lock);
    }
    return W->Result;
}

static NTSTATUS Wait(ULONG Count, PVOID *Objects, WAIT_TYPE Type, PLARGE_INTEGER Timeout, ULONG_PTR Module,
                     const char *Routine)
{
    WAIT W;
    NTSTATUS Result;
    LARGE_INTEGER Poll = {.QuadPart = 0};
    char Text[TEXT_ROOM];
    memset(&W, 0, sizeof(W));
    W.Thread = CurrentThread();
    W.Count = Count;
    W.Objects = Objects;
    W.Type = Type;
    if (Timeout != NULL && Timeout->QuadPart != 0 && CmhookIrql >= DISPATCH_LEVEL) {
        snprintf(Text, sizeof(Text), "%s at DISPATCH_LEVEL with a timeout other than 0: a thread at DISPATCH_LEVEL "
                 "cannot wait (bug check 0xA, IRQL_NOT_LESS_OR_EQUAL); the wait polled instead", Routine);
        Finding(Module, "bugcheck", Text);
        Timeout = &Poll;
    }
    if (Timeout != NULL && Timeout->QuadPart != 0)
        EnsureClock();
    pthread_mutex_lock(&Lock);
    if (Timeout != NULL) {
        W.Timed = TRUE;
        W.Deadline = Timeout->QuadPart < 0 ? Now - Timeout->QuadPart : Timeout->QuadPart;
        if (Timeout->QuadPart == 0)
            W.Deadline = Now;
    }
    Result = Block(&W);
    pthread_mutex_unlock(&Lock);
    return Result;
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                     BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    return Wait(1, &Object, WaitAny, Timeout, Caller(), "KeWaitForSingleObject");
}

NTSTATUS NTAPI KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                        KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                        PVOID WaitBlockArray)
{
    char Text[TEXT_ROOM];
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    if (Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL)) {
        snprintf(Text, sizeof(Text), "KeWaitForMultipleObjects with %lu objects and %s WaitBlockArray: more than %d "
                 "objects need one, and never more than %d (bug check 0xC, MAXIMUM_WAIT_OBJECTS_EXCEEDED)",
                 (unsigned long)Count, WaitBlockArray == NULL ? "no" : "a", THREAD_WAIT_OBJECTS, MAXIMUM_WAIT_OBJECTS);
        Finding(Caller(), "bugcheck", Text);
        return STATUS_INVALID_PARAMETER;
    }
    if (WaitType != WaitAll && WaitType != WaitAny)
        return STATUS_INVALID_PARAMETER;
    return Wait(Count, Object, WaitType, Timeout, Caller(), "KeWaitForMultipleObjects");
}

NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    (void)WaitMode, (void)Alertable;
    if (Interval == NULL)
        return STATUS_ACCESS_VIOLATION;
    Wait(0, NULL, WaitAll, Interval, Caller(), "KeDelayExecutionThread");
    return STATUS_SUCCESS;
}

/* ---------------------------------------------------------------------------
 * Events, mutexes, semaphores.
 * ------------------------------------------------------------------------- */
static void InitializeHeader(DISPATCHER_HEADER *H, UCHAR Type, UCHAR Size, LONG State)
{
    memset(H, 0, sizeof(*H));
    H->Type = Type;
    H->Size = Size;
    H->SignalState = State;
    InitializeListHead(&H->WaitListHead);
}

VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    InitializeHeader(&Event->Header, Type == SynchronizationEvent ? EventSynchronizationObject
                                                                  : EventNotificationObject,
                     sizeof(KEVENT) / sizeof(LONG), State ? 1 : 0);
}

LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait_)
{
    LONG Previous;
    (void)Increment, (void)Wait_;
    pthread_mutex_lock(&Lock);
    Previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    Wake();
    pthread_mutex_unlock(&Lock);
    return Previous;
}

LONG NTAPI KeResetEvent(PRKEVENT Event)
{
    LONG Previous;
    pthread_mutex_lock(&Lock);
    Previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    pthread_mutex_unlock(&Lock);
    return Previous;
}

VOID NTAPI KeClearEvent(PRKEVENT Event)
{
    pthread_mutex_lock(&Lock);
    Event->Header.SignalState = 0;
    pthread_mutex_unlock(&Lock);
}

LONG NTAPI KeReadStateEvent(PRKEVENT Event)
{
    return __atomic_load_n(&Event->Header.SignalState, __ATOMIC_SEQ_CST);
}

VOID NTAPI KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    (void)Level;
    InitializeHeader(&Mutex->Header, MutantObject, sizeof(KMUTEX) / sizeof(LONG), 1);
    InitializeListHead(&Mutex->MutantListEntry);
    Mutex->OwnerThread = NULL;
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1;
}

LONG NTAPI KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait_)
{
    LONG Previous;
    char Text[TEXT_ROOM];
    struct _KTHREAD *Thread = CurrentThread();
    (void)Wait_;
    pthread_mutex_lock(&Lock);
    Previous = Mutex->Header.SignalState;
    if (Mutex->OwnerThread != Thread || Previous > 0) {
        pthread_mutex_unlock(&Lock);
        snprintf(Text, sizeof(Text), "KeReleaseMutex(%p) by a thread that does not own it (bug check 0x11, "
                 "THREAD_NOT_MUTEX_OWNER); the mutex is unchanged", (void *)Mutex);
        Finding(Caller(), "bugcheck", Text);
        return Previous;
    }
    if (++Mutex->Header.SignalState == 1) {
        Mutex->OwnerThread = NULL;
        Wake();
    }
    pthread_mutex_unlock(&Lock);
    return Previous;
}

LONG NTAPI KeReadStateMutex(PRKMUTEX Mutex)
{
    return __atomic_load_n(&Mutex->Header.SignalState, __ATOMIC_SEQ_CST);
}

VOID NTAPI KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    InitializeHeader(&Semaphore->Header, SemaphoreObject, sizeof(KSEMAPHORE) / sizeof(LONG), Count);
    Semaphore->Limit = Limit;
}

LONG NTAPI KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait_)
{
    LONG Previous;
    (void)Increment, (void)Wait_;
    pthread_mutex_lock(&Lock);
    Previous = Semaphore->Header.SignalState;
    if (Adjustment <= 0 || Previous > Semaphore->Limit - Adjustment) {
        pthread_mutex_unlock(&Lock);
        CmhookRaiseStatus(STATUS_SEMAPHORE_LIMIT_EXCEEDED, __builtin_return_address(0), "KeReleaseSemaphore");
    }
    Semaphore->Header.SignalState = Previous + Adjustment;
    Wake();
    pthread_mutex_unlock(&Lock);
    return Previous;
}

LONG NTAPI KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    return __atomic_load_n(&Semaphore->Header.SignalState, __ATOMIC_SEQ_CST);
}

/* ---------------------------------------------------------------------------
 * Timers and DPCs.
 * ------------------------------------------------------------------------- */
VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    memset(Timer, 0, sizeof(*Timer));
    InitializeHeader(&Timer->Header, Type == SynchronizationTimer ? TimerSynchronizationObject
                                                                  : TimerNotificationObject,
                     sizeof(KTIMER) / sizeof(LONG), 0);
    InitializeListHead(&Timer->TimerListEntry);
}

VOID NTAPI KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

/* Take Timer off the timer list (Lock held); TRUE if it was on it. */
static BOOLEAN Unset(PKTIMER Timer)
{
    TIMER_ENTRY **Link, *T;
    for (Link = &Timers; (T = *Link) != NULL; Link = &T->Next) {
        if (T->Timer == Timer) {
            *Link = T->Next;
            free(T);
            return TRUE;
        }
    }
    return FALSE;
}

static BOOLEAN SetTimer(PKTIMER Timer, LONGLONG DueTime, LONG Period, PKDPC Dpc, ULONG_PTR Module)
{
    BOOLEAN Was;
    TIMER_ENTRY *T = calloc(1, sizeof(*T));
    if (T == NULL)
        return FALSE;
    EnsureClock();
    pthread_mutex_lock(&Lock);
    Was = Unset(Timer);
    Timer->Header.SignalState = 0;
    Timer->Dpc = Dpc;
    Timer->Period = Period > 0 ? (ULONG)Period : 0;
    T->Timer = Timer;
    T->Due = DueTime < 0 ? Now - DueTime : DueTime;
    T->Order = ++TimerOrder;
    T->Module = Module;
    Timer->DueTime.QuadPart = (ULONGLONG)T->Due;
    T->Next = Timers;
    Timers = T;
    if (T->Due <= Now)
        FireTimers();
    pthread_mutex_unlock(&Lock);
    return Was;
}

BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return SetTimer(Timer, DueTime.QuadPart, 0, Dpc, Caller());
}

BOOLEAN NTAPI KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    return SetTimer(Timer, DueTime.QuadPart, Period, Dpc, Caller());
}

BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer)
{
    BOOLEAN Was;
    pthread_mutex_lock(&Lock);
    Was = Unset(Timer);
    pthread_mutex_unlock(&Lock);
    return Was;
}

BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer)
{
    return __atomic_load_n(&Timer->Header.SignalState, __ATOMIC_SEQ_CST) != 0;
}

VOID NTAPI KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    memset(Dpc, 0, sizeof(*Dpc));
    Dpc->Type = DpcObject;
    Dpc->Importance = 1; /* MediumImportance */
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
}

BOOLEAN NTAPI KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    BOOLEAN Queued;
    pthread_mutex_lock(&Lock);
    Queued = QueueDpc(Dpc, SystemArgument1, SystemArgument2, FALSE, CmhookModuleBase((PVOID)Dpc->DeferredRoutine));
    pthread_mutex_unlock(&Lock);
    return Queued;
}

BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc)
{
    DPC_ENTRY **Link, *E;
    pthread_mutex_lock(&Lock);
    for (Link = &Dpcs; (E = *Link) != NULL; Link = &E->Next) {
        if (E->Dpc == Dpc) {
            *Link = E->Next;
            Dpc->DpcData = NULL;
            free(E);
            pthread_mutex_unlock(&Lock);
            return TRUE;
        }
    }
    pthread_mutex_unlock(&Lock);
    return FALSE;
}

/* ---------------------------------------------------------------------------
 * The shim's own threads: the DPC thread, the system worker thread, system threads.
 * ------------------------------------------------------------------------- */
/* A thread the shim made begins: its calls are the System process's (Python), its id emulated. */
static ULONG_PTR ThreadBegins(void)
{
    CMHOOK_HIDE_FRAMES();
    ShimThread = TRUE;
    return CmhookUpcalls.ThreadBegins != NULL ? CmhookUpcalls.ThreadBegins() : 0;
}

/* Wake a queue thread for a new entry, starting it the first time (Lock held). */
static void QueueThreadStart(QUEUE_THREAD *Q, void *(*Main)(void *))
{
    if (!Q->Started) {
        Q->Started = TRUE;
        Q->Idle = FALSE;
        RunningShim++;
        if (pthread_create(&Q->Pthread, NULL, Main, Q) != 0) {
            Q->Started = FALSE;
            RunningShim--;
        }
        return;
    }
    if (Q->Idle) {
        Q->Idle = FALSE;
        RunningShim++;
        pthread_cond_signal(&Q->Work);
    }
}

/* Wait for an entry (Lock held): FALSE when the machine stops. */
static BOOLEAN QueueThreadWait(QUEUE_THREAD *Q, void *const *Queue)
{
    while (*(void *volatile const *)Queue == NULL && !Stopping) {
        if (!Q->Idle) {
            Q->Idle = TRUE;
            RunningShim--;
            pthread_cond_broadcast(&IdleChanged);
        }
        pthread_cond_wait(&Q->Work, &Lock);
    }
    return !Stopping;
}

static void *DpcMain(void *Argument)
{
    QUEUE_THREAD *Q = Argument;
    ULONG_PTR ThreadId = ThreadBegins();
    pthread_mutex_lock(&Lock);
    while (QueueThreadWait(Q, (void *const *)&Dpcs)) {
        DPC_ENTRY *E = Dpcs;
        PKDPC Dpc = E->Dpc;
        LONG Outer;
        Dpcs = E->Next;
        Dpc->DpcData = NULL;
        pthread_mutex_unlock(&Lock);
        CmhookIrql = DISPATCH_LEVEL;
        Outer = CmhookDriverCallBegin(E->FromTimer ? CmhookInTimerDpc : CmhookInDpc, (PVOID)Dpc->DeferredRoutine, 4,
                                      ThreadId);
        Dpc->DeferredRoutine(Dpc, Dpc->DeferredContext, Dpc->SystemArgument1, Dpc->SystemArgument2);
        CmhookDriverCallEnd(Outer);
        CmhookIrql = PASSIVE_LEVEL;
        free(E);
        pthread_mutex_lock(&Lock);
    }
    pthread_mutex_unlock(&Lock);
    return NULL;
}

static void *WorkerMain(void *Argument)
{
    QUEUE_THREAD *Q = Argument;
    ULONG_PTR ThreadId = ThreadBegins();
    pthread_mutex_lock(&Lock);
    while (QueueThreadWait(Q, (void *const *)&Works)) {
        WORK_ENTRY *E = Works;
        LONG Outer;
        Works = E->Next;
        if (E->Kind != WorkEx)
            ((struct _IO_WORKITEM *)E->Item)->Queued = FALSE;
        pthread_mutex_unlock(&Lock);
        CmhookIrql = PASSIVE_LEVEL;
        Outer = CmhookDriverCallBegin(CmhookInWorkItem, E->Routine, 4, ThreadId);
        if (E->Kind == WorkIo)
            ((PIO_WORKITEM_ROUTINE)E->Routine)(((struct _IO_WORKITEM *)E->Item)->DeviceObject, E->Context);
        else if (E->Kind == WorkIoEx)
            ((PIO_WORKITEM_ROUTINE_EX)E->Routine)(((struct _IO_WORKITEM *)E->Item)->DeviceObject, E->Context,
                                                  E->Item);
        else
            ((PWORKER_THREAD_ROUTINE)E->Routine)(E->Context);
        CmhookDriverCallEnd(Outer);
        free(E);
        pthread_mutex_lock(&Lock);
    }
    pthread_mutex_unlock(&Lock);
    return NULL;
}

static void QueueWork(LONG Kind, PVOID Item, PVOID Routine, PVOID Context, ULONG_PTR Module)
{
    WORK_ENTRY *E = calloc(1, sizeof(*E)), **Link;
    if (E == NULL)
        abort();
    E->Kind = Kind;
    E->Item = Item;
    E->Routine = Routine;
    E->Context = Context;
    E->Module = Module;
    pthread_mutex_lock(&Lock);
    for (Link = &Works; *Link != NULL; Link = &(*Link)->Next)
        ;
    *Link = E;
    QueueThreadStart(&WorkerThread, WorkerMain);
    pthread_mutex_unlock(&Lock);
}

PIO_WORKITEM NTAPI IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    struct _IO_WORKITEM *Item;
    ULONG_PTR Module = CmhookModuleBase(__builtin_return_address(0));
    if (DeviceObject == NULL) {
        Finding(Module, "bugcheck", "IoAllocateWorkItem(NULL): a work item needs the driver's device object, which "
                "Windows references while the item is queued (a NULL dereference on Windows); no item was allocated");
        return NULL;
    }
    Item = CmhookPoolAllocate(NonPagedPool, sizeof(*Item), 'kWoI', Module);
    if (Item != NULL) {
        Item->DeviceObject = DeviceObject;
        Item->Module = Module;
        Item->Queued = FALSE;
    }
    return Item;
}

VOID NTAPI IoFreeWorkItem(PIO_WORKITEM IoWorkItem)
{
    ULONG_PTR Module = CmhookModuleBase(__builtin_return_address(0));
    BOOLEAN Queued;
    pthread_mutex_lock(&Lock);
    Queued = IoWorkItem->Queued;
    pthread_mutex_unlock(&Lock);
    if (Queued) {
        Finding(Module, "bugcheck", "IoFreeWorkItem of a work item still queued: its routine would run on freed memory "
                "(Driver Verifier bug check 0xC4); the item was not freed");
        return;
    }
    CmhookPoolFree(IoWorkItem, 'kWoI', TRUE, Module);
}

static void QueueIoWorkItem(PIO_WORKITEM IoWorkItem, LONG Kind, PVOID Routine, PVOID Context, ULONG_PTR Module,
                            const char *Name)
{
    char Text[TEXT_ROOM];
    BOOLEAN Queued;
    pthread_mutex_lock(&Lock);
    Queued = IoWorkItem->Queued;
    IoWorkItem->Queued = TRUE;
    pthread_mutex_unlock(&Lock);
    if (Queued) {
        snprintf(Text, sizeof(Text), "%s of a work item already queued (bug check 0xE4, WORKER_INVALID); it was not "
                 "queued again", Name);
        Finding(Module, "bugcheck", Text);
        return;
    }
    QueueWork(Kind, IoWorkItem, Routine, Context, IoWorkItem->Module);
}

VOID NTAPI IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                           PVOID Context)
{
    (void)QueueType;
    QueueIoWorkItem(IoWorkItem, WorkIo, (PVOID)WorkerRoutine, Context, CmhookModuleBase(__builtin_return_address(0)),
                    "IoQueueWorkItem");
}

VOID NTAPI IoQueueWorkItemEx(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE_EX WorkerRoutine,
                             WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    (void)QueueType;
    QueueIoWorkItem(IoWorkItem, WorkIoEx, (PVOID)WorkerRoutine, Context,
                    CmhookModuleBase(__builtin_return_address(0)), "IoQueueWorkItemEx");
}

VOID NTAPI ExQueueWorkItem(PWORK_QUEUE_ITEM WorkItem, WORK_QUEUE_TYPE QueueType)
{
    (void)QueueType;
    QueueWork(WorkEx, WorkItem, (PVOID)WorkItem->WorkerRoutine, WorkItem->Parameter,
              CmhookModuleBase((PVOID)WorkItem->WorkerRoutine));
}

/* Drop one reference on a thread object (Lock held); the last frees it. */
static void Release(struct _KTHREAD *T)
{
    struct _KTHREAD **Link;
    if (--T->References > 0)
        return;
    for (Link = &Threads; *Link != NULL; Link = &(*Link)->Next) {
        if (*Link == T) {
            *Link = T->Next;
            break;
        }
    }
    free(T);
}

static void SystemThreadEnds(struct _KTHREAD *T)
{
    pthread_mutex_lock(&Lock);
    T->Ended = TRUE;
    T->Header.SignalState = 1;
    RunningShim--;
    Wake();
    pthread_cond_broadcast(&IdleChanged);
    Release(T);
    pthread_mutex_unlock(&Lock);
}

static void *SystemThreadMain(void *Argument)
{
    struct _KTHREAD *volatile T = Argument;
    Self = T;
    T->ThreadId = ThreadBegins();
    CmhookIrql = PASSIVE_LEVEL;
    if (sigsetjmp(T->Exit, 0) == 0) {
        LONG Outer = CmhookDriverCallBegin(CmhookInSystemThread, (PVOID)T->Start, 4, T->ThreadId);
        T->Start(T->Context);
        CmhookDriverCallEnd(Outer);
    } else {
        CmhookDriverCallsAbandoned(); /* PsTerminateSystemThread: out of the start routine */
    }
    Self = NULL;
    SystemThreadEnds(T);
    return NULL;
}

NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                    HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext)
{
    ULONG_PTR Module = CmhookModuleBase(__builtin_return_address(0));
    struct _KTHREAD *T;
    pthread_t Pthread;
    pthread_attr_t Attributes;
    ULONG Slot;
    (void)DesiredAccess, (void)ObjectAttributes;
    if (ThreadHandle == NULL || StartRoutine == NULL) {
        Finding(Module, "bugcheck", "PsCreateSystemThread with a NULL ThreadHandle or StartRoutine: Windows writes "
                "through the one and calls the other; no thread was made");
        return STATUS_ACCESS_VIOLATION;
    }
    if (ProcessHandle != NULL && ProcessHandle != (HANDLE)(LONG_PTR)-1)
        return STATUS_INVALID_HANDLE; /* the harness has one process a driver can name: System (NULL) */
    T = calloc(1, sizeof(*T));
    if (T == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    T->Header.Type = ThreadObject;
    InitializeListHead(&T->Header.WaitListHead);
    T->System = TRUE;
    T->Start = StartRoutine;
    T->Context = StartContext;
    T->Module = CmhookModuleBase((PVOID)StartRoutine);
    T->References = 2; /* the handle's and the running thread's */
    pthread_mutex_lock(&Lock);
    for (Slot = 0; Slot < HANDLE_SLOTS && Handles[Slot] != NULL; Slot++)
        ;
    if (Slot == HANDLE_SLOTS) {
        pthread_mutex_unlock(&Lock);
        free(T);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    Handles[Slot] = T;
    T->Next = Threads;
    Threads = T;
    RunningShim++;
    pthread_attr_init(&Attributes);
    pthread_attr_setdetachstate(&Attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&Pthread, &Attributes, SystemThreadMain, T) != 0) {
        pthread_attr_destroy(&Attributes);
        Handles[Slot] = NULL;
        RunningShim--;
        T->References = 1;
        Release(T);
        pthread_mutex_unlock(&Lock);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    pthread_attr_destroy(&Attributes);
    pthread_mutex_unlock(&Lock);
    *ThreadHandle = (HANDLE)(ULONG_PTR)(KERNEL_HANDLE_BASE + 4 * (Slot + 1));
    if (ClientId != NULL) {
        ClientId->UniqueProcess = (HANDLE)4;
        ClientId->UniqueThread = NULL; /* known once the thread runs: PsGetCurrentThreadId there */
    }
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    (void)ExitStatus;
    if (Self == NULL || !Self->System) {
        Finding(Caller(), "bugcheck", "PsTerminateSystemThread on a thread PsCreateSystemThread did not make "
                "(STATUS_INVALID_PARAMETER on Windows)");
        return STATUS_INVALID_PARAMETER;
    }
    siglongjmp(Self->Exit, 1);
}

static struct _KTHREAD *HandleObject(ULONG_PTR Handle, ULONG *Slot)
{
    ULONG_PTR Offset = Handle - KERNEL_HANDLE_BASE;
    if (Handle < KERNEL_HANDLE_BASE || Offset == 0 || Offset % 4 || Offset / 4 > HANDLE_SLOTS)
        return NULL;
    *Slot = (ULONG)(Offset / 4 - 1);
    return Handles[*Slot];
}

NTSTATUS CmhookKernelHandleClose(ULONG_PTR Handle)
{
    ULONG Slot;
    struct _KTHREAD *T;
    pthread_mutex_lock(&Lock);
    T = HandleObject(Handle, &Slot);
    if (T != NULL) {
        Handles[Slot] = NULL;
        Release(T);
    }
    pthread_mutex_unlock(&Lock);
    return T != NULL ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
}

NTSTATUS CmhookKernelHandleReference(ULONG_PTR Handle, PVOID *Object)
{
    ULONG Slot;
    struct _KTHREAD *T;
    pthread_mutex_lock(&Lock);
    T = HandleObject(Handle, &Slot);
    if (T != NULL) {
        T->References++;
        *Object = T;
    }
    pthread_mutex_unlock(&Lock);
    return T != NULL ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
}

BOOLEAN CmhookObjectReference(PVOID Object, LONG Delta)
{
    struct _KTHREAD *T;
    pthread_mutex_lock(&Lock);
    for (T = Threads; T != NULL && T != Object; T = T->Next)
        ;
    if (T != NULL) {
        if (Delta > 0)
            T->References++;
        else
            Release(T);
    }
    pthread_mutex_unlock(&Lock);
    return T != NULL;
}

/* ---------------------------------------------------------------------------
 * A driver's unload, and the machine's start and end.
 * ------------------------------------------------------------------------- */
static void Append(char *Text, SIZE_T Room, SIZE_T *Used, const char *Kind, const char *Line)
{
    int Wrote;
    if (Room == 0 || *Used >= Room - 1)
        return;
    Wrote = snprintf(Text + *Used, Room - *Used, "%s\t%s\n", Kind, Line);
    if (Wrote > 0)
        *Used += (SIZE_T)Wrote;
    if (*Used >= Room)
        *Used = Room - 1;
}

ULONG CmhookDispatcherLeftovers(ULONG_PTR Module, char *Text, SIZE_T Room)
{
    ULONG Count = 0;
    SIZE_T Used = 0;
    char Line[TEXT_ROOM];
    TIMER_ENTRY **TimerLink = &Timers, *Timer;
    DPC_ENTRY **DpcLink = &Dpcs, *Dpc;
    WORK_ENTRY **WorkLink = &Works, *Work;
    WAIT **WaitLink = &Waits, *W;
    struct _KTHREAD *T;
    if (Room > 0)
        Text[0] = '\0';
    pthread_mutex_lock(&Lock);
    while ((Timer = *TimerLink) != NULL) {
        if (Timer->Module != Module && CmhookModuleBase(Timer->Timer) != Module) {
            TimerLink = &Timer->Next;
            continue;
        }
        snprintf(Line, sizeof(Line), "the timer at %p is still set (due in %lld ms%s%s): it was cancelled",
                 (void *)Timer->Timer, (long long)((Timer->Due - Now) / 10000),
                 Timer->Timer->Period ? ", periodic" : "", Timer->Timer->Dpc ? ", with a DPC" : "");
        Append(Text, Room, &Used, "pending-timer", Line);
        *TimerLink = Timer->Next;
        free(Timer);
        Count++;
    }
    while ((Dpc = *DpcLink) != NULL) {
        if (Dpc->Module != Module) {
            DpcLink = &Dpc->Next;
            continue;
        }
        snprintf(Line, sizeof(Line), "the DPC at %p is still queued: it was dropped", (void *)Dpc->Dpc);
        Append(Text, Room, &Used, "pending-dpc", Line);
        Dpc->Dpc->DpcData = NULL;
        *DpcLink = Dpc->Next;
        free(Dpc);
        Count++;
    }
    while ((Work = *WorkLink) != NULL) {
        if (Work->Module != Module && CmhookModuleBase(Work->Routine) != Module) {
            WorkLink = &Work->Next;
            continue;
        }
        snprintf(Line, sizeof(Line), "a work item (routine at %p) is still queued: it was dropped", Work->Routine);
        Append(Text, Room, &Used, "pending-work-item", Line);
        if (Work->Kind != WorkEx)
            ((struct _IO_WORKITEM *)Work->Item)->Queued = FALSE;
        *WorkLink = Work->Next;
        free(Work);
        Count++;
    }
    for (T = Threads; T != NULL; T = T->Next) {
        if (T->Module != Module || T->Ended || T->Stopped)
            continue;
        T->Stopped = TRUE;
        snprintf(Line, sizeof(Line), "the system thread (start routine at %p) is still running: it was stopped at "
                 "its next wait", (void *)T->Start);
        Append(Text, Room, &Used, "pending-thread", Line);
        Count++;
    }
    /* Stopped threads blocked now never wake: off the wait list, so nothing touches their objects. */
    while ((W = *WaitLink) != NULL) {
        if (W->Shim && W->Thread->Stopped) {
            *WaitLink = W->Next;
            continue;
        }
        WaitLink = &W->Next;
    }
    pthread_mutex_unlock(&Lock);
    return Count;
}

/* An idle queue thread is joined (it ends at its next look at its queue); one busy in a driver
 * routine, which may never return, is let go: it ends when that routine returns. */
static void StopQueueThread(QUEUE_THREAD *Q, BOOLEAN WasIdle)
{
    if (Q->Started) {
        if (WasIdle)
            pthread_join(Q->Pthread, NULL);
        else
            pthread_detach(Q->Pthread);
        Q->Started = FALSE;
        Q->Idle = FALSE;
    }
}

VOID CmhookDispatcherShutdown(VOID)
{
    BOOLEAN DpcIdle, WorkerIdle;
    pthread_mutex_lock(&Lock);
    Stopping = TRUE;
    DpcIdle = DpcThread.Idle;
    WorkerIdle = WorkerThread.Idle;
    pthread_cond_broadcast(&DpcThread.Work);
    pthread_cond_broadcast(&WorkerThread.Work);
    pthread_cond_broadcast(&IdleChanged);
    pthread_mutex_unlock(&Lock);
    StopQueueThread(&DpcThread, DpcIdle);
    StopQueueThread(&WorkerThread, WorkerIdle);
}

/* In the child of a fork only the forking thread lives on: the lock and the condition variables
 * start afresh (another thread may have held them), and the next Kernel resets the rest. */
static void ForkedChild(void)
{
    pthread_mutex_init(&Lock, NULL);
    pthread_cond_init(&IdleChanged, NULL);
    pthread_cond_init(&DpcThread.Work, NULL);
    pthread_cond_init(&WorkerThread.Work, NULL);
    DpcThread.Started = WorkerThread.Started = FALSE;
}

__attribute__((constructor)) static void DispatcherSetup(void)
{
    pthread_atfork(NULL, NULL, ForkedChild);
}

VOID CmhookDispatcherReset(VOID)
{
    struct _KTHREAD *T;
    ULONG Slot;
    pthread_mutex_lock(&Lock);
    /* A previous machine's threads (stopped, or still running) are forgotten, not freed. */
    for (T = Threads; T != NULL; T = T->Next)
        T->Stopped = TRUE;
    Threads = NULL;
    for (Slot = 0; Slot < HANDLE_SLOTS; Slot++)
        Handles[Slot] = NULL;
    while (Timers != NULL) {
        TIMER_ENTRY *Next = Timers->Next;
        free(Timers);
        Timers = Next;
    }
    Dpcs = NULL;
    Works = NULL;
    Waits = NULL;
    Known = FALSE;
    Now = 0;
    RunningShim = 0;
    HostWaiting = 0;
    Stopping = FALSE;
    DpcThread.Idle = WorkerThread.Idle = FALSE;
    DpcThread.Started = WorkerThread.Started = FALSE;
    pthread_mutex_unlock(&Lock);
}
