/*
 * ex_locks.c - executive resources, push locks, APC regions, the unsafe fast mutex, spin locks at
 * DISPATCH_LEVEL, in-stack queued spin locks and IRQL changes: locks that really lock across
 * threads, with the misuse Windows (or its Driver Verifier) catches reported as findings.
 *
 * Thread identity is the Linux thread id (as FAST_MUTEX.Owner has it in kernel_shim.c).
 * - ERESOURCE: the struct keeps Windows' layout and its visible fields (ActiveCount, Flag,
 *   OwnerEntry, the waiter counts); the lock itself is a mutex and a condition variable with the
 *   owners' table in a block of the shim's that OwnerTable points to from ExInitializeResourceLite
 *   to ExDeleteResourceLite. Windows' rules: the exclusive owner may acquire again, exclusive or
 *   shared; a shared owner may acquire shared again even with exclusive waiters; anyone else gets
 *   shared access while no thread owns it exclusively and none waits to. Acquiring needs normal
 *   kernel APCs disabled (a critical region, a guarded region or APC_LEVEL) and IRQL <= APC_LEVEL.
 * - Push locks: the pointer-sized word as Windows encodes it (Locked in bit 0, the shared count from
 *   bit 4), taken with atomic compare-exchange; a waiter yields, as the spin lock does.
 * - APC regions: per-thread counts, as KTHREAD's KernelApcDisable and SpecialApcDisable; they do
 *   not change the IRQL (KeGetCurrentIrql stays PASSIVE_LEVEL in a critical region).
 * The choices where Windows would hang forever (a shared owner asking for exclusive access, a
 * resource acquired before ExInitializeResourceLite) are a finding and a FALSE return instead.
 */
#define _GNU_SOURCE
#define NTDDI_VERSION NTDDI_WIN10_VB /* every routine below, whatever era declares it */
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALLER() CmhookModuleBase(__builtin_return_address(0))

VOID CmhookFinding(ULONG_PTR Caller, const char *Kind, const char *Format, ...)
{
    char Text[512];
    va_list Args;
    va_start(Args, Format);
    vsnprintf(Text, sizeof(Text), Format, Args);
    va_end(Args);
    CMHOOK_HIDE_FRAMES();
    CmhookUpcalls.Finding(Caller, Kind, 0, 0, NULL, Text);
}

VOID CmhookVerifierFinding(ULONG_PTR Caller, const char *Kind, ULONG BugCheck, ULONG_PTR Parameter,
                           const char *Routine, const char *Format, ...)
{
    char Text[512];
    va_list Args;
    va_start(Args, Format);
    vsnprintf(Text, sizeof(Text), Format, Args);
    va_end(Args);
    CMHOOK_HIDE_FRAMES();
    CmhookUpcalls.Finding(Caller, Kind, BugCheck, Parameter, Routine, Text);
}

/* ---------------------------------------------------------------------------
 * APC regions.
 * ------------------------------------------------------------------------- */
static __thread LONG KernelApcDisable;  /* critical regions entered and not left */
static __thread LONG SpecialApcDisable; /* guarded regions entered and not left */

static BOOLEAN NormalApcsDisabled(void)
{
    return KernelApcDisable > 0 || SpecialApcDisable > 0 || CmhookIrql >= APC_LEVEL;
}

VOID NTAPI KeEnterCriticalRegion(VOID)
{
    KernelApcDisable++;
}

VOID NTAPI KeLeaveCriticalRegion(VOID)
{
    if (KernelApcDisable == 0) {
        CmhookFinding(CALLER(), "lock-misuse", "KeLeaveCriticalRegion without a KeEnterCriticalRegion to match: "
                      "the thread's KernelApcDisable count would go wrong (Driver Verifier reports it)");
        return;
    }
    KernelApcDisable--;
}

VOID NTAPI KeEnterGuardedRegion(VOID)
{
    SpecialApcDisable++;
}

VOID NTAPI KeLeaveGuardedRegion(VOID)
{
    if (SpecialApcDisable == 0) {
        CmhookFinding(CALLER(), "lock-misuse", "KeLeaveGuardedRegion without a KeEnterGuardedRegion to match: "
                      "the thread's SpecialApcDisable count would go wrong (Driver Verifier reports it)");
        return;
    }
    SpecialApcDisable--;
}

BOOLEAN NTAPI KeAreApcsDisabled(VOID)
{
    return NormalApcsDisabled();
}

BOOLEAN NTAPI KeAreAllApcsDisabled(VOID)
{
    return SpecialApcDisable > 0 || CmhookIrql >= APC_LEVEL;
}

/* ---------------------------------------------------------------------------
 * Executive resources.
 * ------------------------------------------------------------------------- */
enum { RESOURCE_MAGIC = 0x53455245 /* "ERES" */ };

typedef struct _CMHOOK_OWNER {
    LONG Tid;
    ULONG Count;
} CMHOOK_OWNER;

typedef struct _CMHOOK_RESOURCE {
    ULONG Magic;
    pthread_mutex_t Lock;
    pthread_cond_t Changed;
    LONG Exclusive;         /* the exclusive owner's thread; 0: none */
    ULONG ExclusiveCount;   /* its acquisitions (exclusive and shared ones while it owns it) */
    ULONG SharedOwners;     /* entries used in Shared */
    ULONG Room;
    CMHOOK_OWNER *Shared;
    ULONG ExclusiveWaiters;
    ULONG SharedWaiters;
} CMHOOK_RESOURCE;

static CMHOOK_RESOURCE *ResourceOf(PERESOURCE Resource, const char *Routine, ULONG_PTR Caller)
{
    CMHOOK_RESOURCE *R = Resource != NULL ? (CMHOOK_RESOURCE *)Resource->OwnerTable : NULL;
    if (R == NULL || R->Magic != RESOURCE_MAGIC) {
        CmhookFinding(Caller, "lock-misuse", "%s(%p) on a resource ExInitializeResourceLite did not initialize "
                      "(or that ExDeleteResourceLite deleted)", Routine, (void *)Resource);
        return NULL;
    }
    return R;
}

static CMHOOK_OWNER *SharedEntry(CMHOOK_RESOURCE *R, LONG Tid)
{
    for (ULONG Index = 0; Index < R->SharedOwners; Index++)
        if (R->Shared[Index].Tid == Tid)
            return &R->Shared[Index];
    return NULL;
}

/* The struct's visible fields from the owners' table (R->Lock held). */
static void Publish(PERESOURCE Resource, CMHOOK_RESOURCE *R)
{
    Resource->ActiveCount = (SHORT)((R->Exclusive != 0) + R->SharedOwners);
    Resource->ActiveEntries = (ULONG)Resource->ActiveCount;
    if (R->Exclusive != 0) {
        Resource->Flag |= ResourceOwnedExclusive;
        Resource->OwnerEntry.OwnerThread = (ERESOURCE_THREAD)R->Exclusive;
        Resource->OwnerEntry.OwnerCount = R->ExclusiveCount;
    } else {
        Resource->Flag &= (USHORT)~ResourceOwnedExclusive;
        Resource->OwnerEntry.OwnerThread = R->SharedOwners ? (ERESOURCE_THREAD)R->Shared[0].Tid : 0;
        Resource->OwnerEntry.OwnerCount = R->SharedOwners ? R->Shared[0].Count : 0;
    }
    Resource->NumberOfExclusiveWaiters = R->ExclusiveWaiters;
    Resource->NumberOfSharedWaiters = R->SharedWaiters;
}

static void CheckAcquire(const char *Routine, ULONG_PTR Caller)
{
    if (CmhookIrql > APC_LEVEL)
        CmhookFinding(Caller, "irql", "%s at IRQL %d: an executive resource is acquired at IRQL <= APC_LEVEL "
                      "(Windows bug checks IRQL_NOT_LESS_OR_EQUAL when it has to wait)", Routine, (int)CmhookIrql);
    else if (!NormalApcsDisabled())
        CmhookFinding(Caller, "lock-misuse", "%s with normal kernel APCs enabled: call KeEnterCriticalRegion first "
                      "(Driver Verifier reports it; an APC could suspend the thread while it holds the resource)",
                      Routine);
}

NTSTATUS NTAPI ExInitializeResourceLite(PERESOURCE Resource)
{
    CMHOOK_RESOURCE *R = calloc(1, sizeof(*R));
    if (R == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    memset(Resource, 0, sizeof(*Resource));
    R->Magic = RESOURCE_MAGIC;
    pthread_mutex_init(&R->Lock, NULL);
    pthread_cond_init(&R->Changed, NULL);
    Resource->OwnerTable = (POWNER_ENTRY)(PVOID)R;
    Resource->SystemResourcesList.Flink = Resource->SystemResourcesList.Blink = &Resource->SystemResourcesList;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI ExDeleteResourceLite(PERESOURCE Resource)
{
    ULONG_PTR Caller = CALLER();
    CMHOOK_RESOURCE *R = ResourceOf(Resource, "ExDeleteResourceLite", Caller);
    if (R == NULL)
        return STATUS_SUCCESS;
    pthread_mutex_lock(&R->Lock);
    BOOLEAN Owned = R->Exclusive != 0 || R->SharedOwners != 0;
    pthread_mutex_unlock(&R->Lock);
    if (Owned) {
        CmhookFinding(Caller, "lock-misuse", "ExDeleteResourceLite(%p) of a resource still acquired: release it "
                      "first (Driver Verifier reports it)", (void *)Resource);
        return STATUS_SUCCESS; /* kept: its owners still use it */
    }
    R->Magic = 0;
    pthread_mutex_destroy(&R->Lock);
    pthread_cond_destroy(&R->Changed);
    free(R->Shared);
    free(R);
    Resource->OwnerTable = NULL;
    return STATUS_SUCCESS;
}

static BOOLEAN AcquireExclusive(PERESOURCE Resource, BOOLEAN Wait, const char *Routine, ULONG_PTR Caller)
{
    CheckAcquire(Routine, Caller);
    CMHOOK_RESOURCE *R = ResourceOf(Resource, Routine, Caller);
    if (R == NULL)
        return FALSE;
    LONG Tid = gettid();
    pthread_mutex_lock(&R->Lock);
    if (R->Exclusive == Tid) {
        R->ExclusiveCount++;
        Publish(Resource, R);
        pthread_mutex_unlock(&R->Lock);
        return TRUE;
    }
    if (Wait && SharedEntry(R, Tid) != NULL) { /* without Wait: FALSE, below */
        pthread_mutex_unlock(&R->Lock);
        CmhookFinding(Caller, "lock-misuse", "%s(%p) by a thread that holds it shared: on Windows the thread "
                      "waits for itself forever (release the shared access first)", Routine, (void *)Resource);
        return FALSE;
    }
    if ((R->Exclusive != 0 || R->SharedOwners != 0) && Wait) {
        R->ExclusiveWaiters++;
        Resource->ContentionCount++;
        Publish(Resource, R);
        while (R->Exclusive != 0 || R->SharedOwners != 0)
            pthread_cond_wait(&R->Changed, &R->Lock);
        R->ExclusiveWaiters--;
    }
    BOOLEAN Got = R->Exclusive == 0 && R->SharedOwners == 0;
    if (Got) {
        R->Exclusive = Tid;
        R->ExclusiveCount = 1;
    }
    Publish(Resource, R);
    pthread_mutex_unlock(&R->Lock);
    return Got;
}

static BOOLEAN AcquireShared(PERESOURCE Resource, BOOLEAN Wait, const char *Routine, ULONG_PTR Caller)
{
    CheckAcquire(Routine, Caller);
    CMHOOK_RESOURCE *R = ResourceOf(Resource, Routine, Caller);
    if (R == NULL)
        return FALSE;
    LONG Tid = gettid();
    pthread_mutex_lock(&R->Lock);
    CMHOOK_OWNER *Mine = SharedEntry(R, Tid);
    if (R->Exclusive == Tid || Mine != NULL) {
        if (Mine != NULL)
            Mine->Count++;
        else
            R->ExclusiveCount++;
        Publish(Resource, R);
        pthread_mutex_unlock(&R->Lock);
        return TRUE;
    }
    if ((R->Exclusive != 0 || R->ExclusiveWaiters != 0) && Wait) {
        R->SharedWaiters++;
        Resource->ContentionCount++;
        Publish(Resource, R);
        while (R->Exclusive != 0 || R->ExclusiveWaiters != 0)
            pthread_cond_wait(&R->Changed, &R->Lock);
        R->SharedWaiters--;
    }
    BOOLEAN Got = R->Exclusive == 0 && R->ExclusiveWaiters == 0;
    if (Got) {
        if (R->SharedOwners == R->Room) {
            ULONG Room = R->Room ? R->Room * 2 : 4;
            CMHOOK_OWNER *Grown = realloc(R->Shared, Room * sizeof(*Grown));
            if (Grown == NULL) {
                pthread_mutex_unlock(&R->Lock);
                return FALSE;
            }
            R->Shared = Grown;
            R->Room = Room;
        }
        R->Shared[R->SharedOwners++] = (CMHOOK_OWNER){Tid, 1};
    }
    Publish(Resource, R);
    pthread_mutex_unlock(&R->Lock);
    return Got;
}

BOOLEAN NTAPI ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return AcquireExclusive(Resource, Wait, "ExAcquireResourceExclusiveLite", CALLER());
}

BOOLEAN NTAPI ExTryToAcquireResourceExclusiveLite(PERESOURCE Resource)
{
    return AcquireExclusive(Resource, FALSE, "ExTryToAcquireResourceExclusiveLite", CALLER());
}

BOOLEAN NTAPI ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return AcquireShared(Resource, Wait, "ExAcquireResourceSharedLite", CALLER());
}

static void Release(PERESOURCE Resource, const char *Routine, ULONG_PTR Caller)
{
    CMHOOK_RESOURCE *R = ResourceOf(Resource, Routine, Caller);
    if (R == NULL)
        return;
    LONG Tid = gettid();
    pthread_mutex_lock(&R->Lock);
    CMHOOK_OWNER *Mine = SharedEntry(R, Tid);
    BOOLEAN Owned = TRUE;
    if (R->Exclusive == Tid) {
        if (--R->ExclusiveCount == 0)
            R->Exclusive = 0;
    } else if (Mine != NULL) {
        if (--Mine->Count == 0)
            *Mine = R->Shared[--R->SharedOwners];
    } else {
        Owned = FALSE;
    }
    Publish(Resource, R);
    pthread_cond_broadcast(&R->Changed);
    pthread_mutex_unlock(&R->Lock);
    if (!Owned)
        CmhookFinding(Caller, "bugcheck", "%s(%p) by a thread that does not own the resource: Windows bug checks "
                      "RESOURCE_NOT_OWNED (0xE3)", Routine, (void *)Resource);
}

VOID FASTCALL ExReleaseResourceLite(PERESOURCE Resource)
{
    Release(Resource, "ExReleaseResourceLite", CALLER());
}

BOOLEAN NTAPI ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    CMHOOK_RESOURCE *R = ResourceOf(Resource, "ExIsResourceAcquiredExclusiveLite", CALLER());
    if (R == NULL)
        return FALSE;
    pthread_mutex_lock(&R->Lock);
    BOOLEAN Mine = R->Exclusive == gettid();
    pthread_mutex_unlock(&R->Lock);
    return Mine;
}

ULONG NTAPI ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    CMHOOK_RESOURCE *R = ResourceOf(Resource, "ExIsResourceAcquiredSharedLite", CALLER());
    if (R == NULL)
        return 0;
    LONG Tid = gettid();
    pthread_mutex_lock(&R->Lock);
    CMHOOK_OWNER *Mine = SharedEntry(R, Tid);
    ULONG Count = R->Exclusive == Tid ? R->ExclusiveCount : Mine != NULL ? Mine->Count : 0;
    pthread_mutex_unlock(&R->Lock);
    return Count;
}

ERESOURCE_THREAD NTAPI ExGetCurrentResourceThread(VOID)
{
    return (ERESOURCE_THREAD)gettid();
}

/* These return the thread's Win32Thread on Windows: a registry filter's thread has none (NULL). */
PVOID NTAPI ExEnterCriticalRegionAndAcquireResourceExclusive(PERESOURCE Resource)
{
    KernelApcDisable++;
    AcquireExclusive(Resource, TRUE, "ExEnterCriticalRegionAndAcquireResourceExclusive", CALLER());
    return NULL;
}

PVOID NTAPI ExEnterCriticalRegionAndAcquireResourceShared(PERESOURCE Resource)
{
    KernelApcDisable++;
    AcquireShared(Resource, TRUE, "ExEnterCriticalRegionAndAcquireResourceShared", CALLER());
    return NULL;
}

VOID FASTCALL ExReleaseResourceAndLeaveCriticalRegion(PERESOURCE Resource)
{
    ULONG_PTR Caller = CALLER();
    Release(Resource, "ExReleaseResourceAndLeaveCriticalRegion", Caller);
    if (KernelApcDisable == 0)
        CmhookFinding(Caller, "lock-misuse", "ExReleaseResourceAndLeaveCriticalRegion outside a critical region");
    else
        KernelApcDisable--;
}

/* ---------------------------------------------------------------------------
 * Push locks: Windows' encoding of the word, Locked (bit 0) and the shared count (from bit 4).
 * ------------------------------------------------------------------------- */
enum { PUSH_LOCKED = 1, PUSH_SHARE = 0x10 };

static void CheckPushLock(const char *Routine, ULONG_PTR Caller)
{
    if (CmhookIrql > APC_LEVEL)
        CmhookFinding(Caller, "irql", "%s at IRQL %d: push locks are acquired at IRQL <= APC_LEVEL", Routine,
                      (int)CmhookIrql);
    else if (!NormalApcsDisabled())
        CmhookFinding(Caller, "lock-misuse", "%s with normal kernel APCs enabled: call KeEnterCriticalRegion first "
                      "(Microsoft's push lock documentation requires it)", Routine);
}

static BOOLEAN TryPushExclusive(PEX_PUSH_LOCK PushLock)
{
    ULONG_PTR Free = 0;
    return __atomic_compare_exchange_n(PushLock, &Free, PUSH_LOCKED, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static BOOLEAN TryPushShared(PEX_PUSH_LOCK PushLock)
{
    ULONG_PTR Now = __atomic_load_n(PushLock, __ATOMIC_RELAXED);
    for (;;) {
        if (Now != 0 && Now < PUSH_SHARE) /* held exclusive */
            return FALSE;
        ULONG_PTR Next = Now == 0 ? (PUSH_SHARE | PUSH_LOCKED) : Now + PUSH_SHARE;
        if (__atomic_compare_exchange_n(PushLock, &Now, Next, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return TRUE;
    }
}

VOID NTAPI ExInitializePushLock(PEX_PUSH_LOCK PushLock)
{
    __atomic_store_n(PushLock, 0, __ATOMIC_RELEASE);
}

VOID FASTCALL ExAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    CheckPushLock("ExAcquirePushLockExclusive", CALLER());
    while (!TryPushExclusive(PushLock))
        sched_yield();
}

VOID FASTCALL ExAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    CheckPushLock("ExAcquirePushLockShared", CALLER());
    while (!TryPushShared(PushLock))
        sched_yield();
}

BOOLEAN FASTCALL ExTryAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    CheckPushLock("ExTryAcquirePushLockExclusive", CALLER());
    return TryPushExclusive(PushLock);
}

BOOLEAN FASTCALL ExTryAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    CheckPushLock("ExTryAcquirePushLockShared", CALLER());
    return TryPushShared(PushLock);
}

VOID FASTCALL ExReleasePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    ULONG_PTR Held = PUSH_LOCKED;
    if (!__atomic_compare_exchange_n(PushLock, &Held, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        CmhookFinding(CALLER(), "lock-misuse", "ExReleasePushLockExclusive(%p) of a push lock not held exclusive "
                      "(its word is 0x%lx)", (void *)PushLock, (unsigned long)Held);
}

VOID FASTCALL ExReleasePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    ULONG_PTR Now = __atomic_load_n(PushLock, __ATOMIC_RELAXED);
    for (;;) {
        if (Now < PUSH_SHARE) {
            CmhookFinding(CALLER(), "lock-misuse", "ExReleasePushLockShared(%p) of a push lock not held shared "
                          "(its word is 0x%lx)", (void *)PushLock, (unsigned long)Now);
            return;
        }
        ULONG_PTR Next = Now - PUSH_SHARE == PUSH_LOCKED ? 0 : Now - PUSH_SHARE;
        if (__atomic_compare_exchange_n(PushLock, &Now, Next, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return;
    }
}

/* ---------------------------------------------------------------------------
 * Fast mutexes without the IRQL change (the caller disabled APCs itself).
 * ------------------------------------------------------------------------- */
static BOOLEAN TryFastMutex(PFAST_MUTEX FastMutex)
{
    LONG Expected = 1;
    return __atomic_compare_exchange_n(&FastMutex->Count, &Expected, 0, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

VOID FASTCALL ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    if (!NormalApcsDisabled())
        CmhookFinding(CALLER(), "lock-misuse", "ExAcquireFastMutexUnsafe with normal kernel APCs enabled: call "
                      "KeEnterCriticalRegion first, or use ExAcquireFastMutex (Driver Verifier reports it)");
    while (!TryFastMutex(FastMutex)) {
        __atomic_add_fetch(&FastMutex->Contention, 1, __ATOMIC_RELAXED);
        sched_yield();
    }
    FastMutex->Owner = (PKTHREAD)(ULONG_PTR)gettid();
}

VOID FASTCALL ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    if (FastMutex->Owner != (PKTHREAD)(ULONG_PTR)gettid())
        CmhookFinding(CALLER(), "lock-misuse", "ExReleaseFastMutexUnsafe(%p) by a thread that does not own it",
                      (void *)FastMutex);
    FastMutex->Owner = NULL;
    __atomic_store_n(&FastMutex->Count, 1, __ATOMIC_RELEASE);
}

BOOLEAN FASTCALL ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    if (!TryFastMutex(FastMutex))
        return FALSE;
    FastMutex->Owner = (PKTHREAD)(ULONG_PTR)gettid();
    FastMutex->OldIrql = CmhookIrql;
    CmhookIrql = APC_LEVEL;
    return TRUE;
}

/* ---------------------------------------------------------------------------
 * Spin locks at DISPATCH_LEVEL, in-stack queued spin locks (the same lock word as KeAcquireSpinLock).
 * ------------------------------------------------------------------------- */
static void Spin(PKSPIN_LOCK SpinLock)
{
    while (__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(SpinLock, __ATOMIC_RELAXED))
            sched_yield();
}

static void CheckAtDispatch(const char *Routine, ULONG_PTR Caller)
{
    if (CmhookIrql < DISPATCH_LEVEL)
        CmhookFinding(Caller, "irql", "%s at IRQL %d: it is called at DISPATCH_LEVEL (raise first, or use "
                      "KeAcquireSpinLock)", Routine, (int)CmhookIrql);
}

VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    CheckAtDispatch("KeAcquireSpinLockAtDpcLevel", CALLER());
    Spin(SpinLock);
}

VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

BOOLEAN FASTCALL KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    CheckAtDispatch("KeTryToAcquireSpinLockAtDpcLevel", CALLER());
    return !__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE);
}

KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    Spin(SpinLock);
    KIRQL Old = CmhookIrql;
    CmhookIrql = DISPATCH_LEVEL;
    return Old;
}

VOID FASTCALL KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    Spin(SpinLock);
    LockHandle->OldIrql = CmhookIrql;
    CmhookIrql = DISPATCH_LEVEL;
}

static BOOLEAN ReleaseQueued(PKLOCK_QUEUE_HANDLE LockHandle, const char *Routine, ULONG_PTR Caller)
{
    if (LockHandle->LockQueue.Lock == NULL) {
        CmhookFinding(Caller, "lock-misuse", "%s with a KLOCK_QUEUE_HANDLE no acquire filled in", Routine);
        return FALSE;
    }
    __atomic_store_n(LockHandle->LockQueue.Lock, 0, __ATOMIC_RELEASE);
    LockHandle->LockQueue.Lock = NULL;
    return TRUE;
}

VOID FASTCALL KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    if (ReleaseQueued(LockHandle, "KeReleaseInStackQueuedSpinLock", CALLER()))
        CmhookIrql = LockHandle->OldIrql;
}

VOID FASTCALL KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    CheckAtDispatch("KeAcquireInStackQueuedSpinLockAtDpcLevel", CALLER());
    LockHandle->LockQueue.Next = NULL;
    LockHandle->LockQueue.Lock = SpinLock;
    LockHandle->OldIrql = CmhookIrql;
    Spin(SpinLock);
}

VOID FASTCALL KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    ReleaseQueued(LockHandle, "KeReleaseInStackQueuedSpinLockFromDpcLevel", CALLER());
}

/* ---------------------------------------------------------------------------
 * IRQL: raising to a lower IRQL, or lowering to a higher one, is a bug check on Windows.
 * ------------------------------------------------------------------------- */
KIRQL FASTCALL KfRaiseIrql(KIRQL NewIrql)
{
    KIRQL Old = CmhookIrql;
    if (NewIrql < Old)
        CmhookFinding(CALLER(), "bugcheck", "KeRaiseIrql to IRQL %d from IRQL %d, a lower one: Windows bug checks "
                      "IRQL_NOT_GREATER_OR_EQUAL (0x9)", (int)NewIrql, (int)Old);
    CmhookIrql = NewIrql;
    return Old;
}

VOID NTAPI KeLowerIrql(KIRQL NewIrql)
{
    if (NewIrql > CmhookIrql)
        CmhookFinding(CALLER(), "bugcheck", "KeLowerIrql to IRQL %d from IRQL %d, a higher one: NewIrql must not be "
                      "above the current IRQL (Microsoft's KeLowerIrql documentation)", (int)NewIrql, (int)CmhookIrql);
    CmhookIrql = NewIrql;
}

KIRQL NTAPI KeRaiseIrqlToDpcLevel(VOID)
{
    KIRQL Old = CmhookIrql;
    if (Old > DISPATCH_LEVEL)
        CmhookFinding(CALLER(), "bugcheck", "KeRaiseIrqlToDpcLevel from IRQL %d, a higher one", (int)Old);
    CmhookIrql = DISPATCH_LEVEL;
    return Old;
}
