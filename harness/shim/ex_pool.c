/*
 * ex_pool.c - the pool routines beyond ExAllocatePoolWithTag (kernel_shim.c's Pool section):
 * zeroed and uninitialized variants, quota (not emulated: charged to nobody), priority (ignored:
 * the emulated pool never runs low), ExAllocatePool2/3 with POOL_FLAGS, the driver runtime's NX
 * opt-in, and lookaside lists. Every block is pool the harness tracks (CmhookPoolAllocate), owned
 * by the module that called the routine.
 *
 * ExAllocatePool2/3 as Microsoft's documentation has them: zeroed unless POOL_FLAG_UNINITIALIZED;
 * NULL for a zero tag or invalid flags (exactly one pool type of NON_PAGED, NON_PAGED_EXECUTE,
 * PAGED; no required bit, the low 32, that the page does not list; optional bits, the high 32, are
 * ignored when unrecognized), and with POOL_FLAG_RAISE_ON_FAILURE those failures raise
 * STATUS_INSUFFICIENT_RESOURCES instead (the status ExAllocatePoolWithQuotaTag raises; the page
 * names no status). ExAllocatePoolWithQuotaTag itself raises only when memory runs out.
 *
 * Lookaside lists: the cache is an SLIST_HEADER in Windows x64's Header16 encoding, guarded by one
 * mutex; Windows starts a list's depth at 4 (ExMinimumLookasideDepth) with a maximum of 256, and
 * its depth adjustment is not emulated: at most Depth blocks stay cached, the rest are freed.
 */
#define _GNU_SOURCE
#define NTDDI_VERSION NTDDI_WIN10_VB /* every routine below, whatever era declares it */
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <pthread.h>
#include <string.h>

#define CALLER() CmhookModuleBase(__builtin_return_address(0))

enum { NON_PAGED_POOL_NX = 512, MINIMUM_LOOKASIDE_DEPTH = 4, MAXIMUM_LOOKASIDE_DEPTH = 256, NX_MODULES = 64 };

/* ---------------------------------------------------------------------------
 * The driver runtime: modules that opted in to NX non-paged pool.
 * ------------------------------------------------------------------------- */
static ULONG_PTR NxModules[NX_MODULES];

VOID NTAPI ExInitializeDriverRuntime(ULONG RuntimeFlags)
{
    ULONG_PTR Caller = CALLER();
    if (!(RuntimeFlags & DrvRtPoolNxOptIn) || Caller == 0)
        return;
    for (ULONG Index = 0; Index < NX_MODULES; Index++) {
        ULONG_PTR Seen = 0;
        if (__atomic_load_n(&NxModules[Index], __ATOMIC_ACQUIRE) == Caller ||
            __atomic_compare_exchange_n(&NxModules[Index], &Seen, Caller, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
    }
}

POOL_TYPE CmhookDefaultPoolType(POOL_TYPE PoolType, ULONG_PTR Caller)
{
    if (PoolType != NonPagedPool || Caller == 0)
        return PoolType;
    for (ULONG Index = 0; Index < NX_MODULES; Index++) {
        ULONG_PTR Module = __atomic_load_n(&NxModules[Index], __ATOMIC_ACQUIRE);
        if (Module == 0)
            break;
        if (Module == Caller)
            return (POOL_TYPE)NON_PAGED_POOL_NX;
    }
    return PoolType;
}

/* ---------------------------------------------------------------------------
 * Zeroed, uninitialized, quota, priority.
 * ------------------------------------------------------------------------- */
static PVOID Zeroed(PVOID Block, SIZE_T NumberOfBytes)
{
    if (Block != NULL)
        memset(Block, 0, NumberOfBytes);
    return Block;
}

PVOID NTAPI ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return Zeroed(CmhookPoolAllocate(PoolType, NumberOfBytes, Tag, CALLER()), NumberOfBytes);
}

PVOID NTAPI ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return CmhookPoolAllocate(PoolType, NumberOfBytes, Tag, CALLER());
}

PVOID NTAPI ExAllocatePoolWithTagPriority(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag,
                                          EX_POOL_PRIORITY Priority)
{
    (void)Priority;
    return CmhookPoolAllocate(PoolType, NumberOfBytes, Tag, CALLER());
}

/* Raises STATUS_INSUFFICIENT_RESOURCES on failure, as Windows does (unless the pool type has
 * POOL_QUOTA_FAIL_INSTEAD_OF_RAISE, 8, which returns NULL). */
static PVOID Quota(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, PVOID Caller)
{
    PVOID Block = CmhookPoolAllocate((POOL_TYPE)(PoolType & ~8), NumberOfBytes, Tag, CmhookModuleBase(Caller));
    if (Block == NULL && !(PoolType & 8))
        CmhookRaiseStatus(STATUS_INSUFFICIENT_RESOURCES, Caller, "ExAllocatePoolWithQuotaTag");
    return Block;
}

PVOID NTAPI ExAllocatePoolWithQuotaTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return Quota(PoolType, NumberOfBytes, Tag, __builtin_return_address(0));
}

PVOID NTAPI ExAllocatePoolQuotaZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return Zeroed(Quota(PoolType, NumberOfBytes, Tag, __builtin_return_address(0)), NumberOfBytes);
}

PVOID NTAPI ExAllocatePoolQuotaUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return Quota(PoolType, NumberOfBytes, Tag, __builtin_return_address(0));
}

/* ---------------------------------------------------------------------------
 * ExAllocatePool2 and ExAllocatePool3.
 * ------------------------------------------------------------------------- */
#define POOL_FLAGS_KNOWN_REQUIRED (POOL_FLAG_USE_QUOTA | POOL_FLAG_UNINITIALIZED | POOL_FLAG_SESSION | \
                                   POOL_FLAG_CACHE_ALIGNED | POOL_FLAG_RAISE_ON_FAILURE | POOL_FLAG_NON_PAGED | \
                                   POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED)
#define POOL_FLAGS_TYPES (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED)

/* The POOL_TYPE Flags select, or -1 when they are invalid. */
static LONG PoolTypeOfFlags(POOL_FLAGS Flags)
{
    POOL_FLAGS Required = Flags & 0xFFFFFFFFULL;
    if (Required & ~POOL_FLAGS_KNOWN_REQUIRED)
        return -1;
    LONG Type;
    switch (Required & POOL_FLAGS_TYPES) {
    case POOL_FLAG_NON_PAGED: Type = NON_PAGED_POOL_NX; break;
    case POOL_FLAG_NON_PAGED_EXECUTE: Type = NonPagedPool; break;
    case POOL_FLAG_PAGED: Type = PagedPool; break;
    default: return -1; /* none, or more than one */
    }
    /* NonPagedPoolCacheAligned, PagedPoolCacheAligned, NonPagedPoolNxCacheAligned: the type plus 4. */
    return (Required & POOL_FLAG_CACHE_ALIGNED) ? Type + NonPagedPoolCacheAligned : Type;
}

static PVOID Pool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag, BOOLEAN Valid, PVOID Caller,
                   const char *Routine)
{
    LONG Type = PoolTypeOfFlags(Flags);
    PVOID Block = NULL;
    if (Type >= 0 && Tag != 0 && Valid)
        Block = CmhookPoolAllocate((POOL_TYPE)Type, NumberOfBytes, Tag, CmhookModuleBase(Caller));
    if (Block == NULL) {
        if (Flags & POOL_FLAG_RAISE_ON_FAILURE)
            CmhookRaiseStatus(STATUS_INSUFFICIENT_RESOURCES, Caller, Routine);
        return NULL;
    }
    return (Flags & POOL_FLAG_UNINITIALIZED) ? Block : Zeroed(Block, NumberOfBytes);
}

PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return Pool2(Flags, NumberOfBytes, Tag, TRUE, __builtin_return_address(0), "ExAllocatePool2");
}

/* The extended parameters: a priority or a NUMA node is honoured as far as the emulated pool can
 * (it never runs low and has one node); secure pool is not emulated; an unknown type fails unless
 * the parameter is Optional. */
PVOID NTAPI ExAllocatePool3(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag,
                            PCPOOL_EXTENDED_PARAMETER ExtendedParameters, ULONG ExtendedParametersCount)
{
    BOOLEAN Valid = ExtendedParametersCount == 0 || ExtendedParameters != NULL;
    for (ULONG Index = 0; Valid && Index < ExtendedParametersCount; Index++) {
        ULONG64 Type = ExtendedParameters[Index].Type;
        if (Type != PoolExtendedParameterPriority && Type != PoolExtendedParameterNumaNode &&
            !ExtendedParameters[Index].Optional)
            Valid = FALSE;
    }
    return Pool2(Flags, NumberOfBytes, Tag, Valid, __builtin_return_address(0), "ExAllocatePool3");
}

/* ---------------------------------------------------------------------------
 * Lookaside lists (NPaged, Paged and Ex share GENERAL_LOOKASIDE's layout).
 * ------------------------------------------------------------------------- */
static pthread_mutex_t LookasideLock = PTHREAD_MUTEX_INITIALIZER;

static PSLIST_ENTRY FirstEntry(PSLIST_HEADER Head)
{
    return (PSLIST_ENTRY)(ULONG_PTR)(Head->Region & ~(ULONGLONG)0xF);
}

static void SetFirst(PSLIST_HEADER Head, PSLIST_ENTRY Entry, USHORT Depth)
{
    ULONGLONG Sequence = (Head->Alignment >> 16) + 1;
    Head->Alignment = (Sequence << 16) | Depth;
    Head->Region = (ULONGLONG)(ULONG_PTR)Entry | 1; /* HeaderType 1: the 16-byte header */
}

USHORT NTAPI ExQueryDepthSList(PSLIST_HEADER SListHead)
{
    pthread_mutex_lock(&LookasideLock);
    USHORT Depth = (USHORT)(SListHead->Alignment & 0xFFFF);
    pthread_mutex_unlock(&LookasideLock);
    return Depth;
}

static PVOID Pop(PGENERAL_LOOKASIDE_POOL L)
{
    pthread_mutex_lock(&LookasideLock);
    L->TotalAllocates++;
    PSLIST_ENTRY Entry = FirstEntry(&L->ListHead);
    if (Entry != NULL)
        SetFirst(&L->ListHead, Entry->Next, (USHORT)((L->ListHead.Alignment & 0xFFFF) - 1));
    else
        L->AllocateMisses++;
    pthread_mutex_unlock(&LookasideLock);
    return Entry;
}

static BOOLEAN Push(PGENERAL_LOOKASIDE_POOL L, PVOID Block)
{
    pthread_mutex_lock(&LookasideLock);
    L->TotalFrees++;
    USHORT Depth = (USHORT)(L->ListHead.Alignment & 0xFFFF);
    BOOLEAN Cached = Depth < L->Depth;
    if (Cached) {
        PSLIST_ENTRY Entry = Block;
        Entry->Next = FirstEntry(&L->ListHead);
        SetFirst(&L->ListHead, Entry, (USHORT)(Depth + 1));
    } else {
        L->FreeMisses++;
    }
    pthread_mutex_unlock(&LookasideLock);
    return Cached;
}

static void Initialize(PGENERAL_LOOKASIDE_POOL L, POOL_TYPE Type, SIZE_T Size, ULONG Tag, PVOID Allocate,
                       PVOID Free)
{
    memset(L, 0, sizeof(*L));
    L->Depth = MINIMUM_LOOKASIDE_DEPTH;
    L->MaximumDepth = MAXIMUM_LOOKASIDE_DEPTH;
    L->Type = Type;
    L->Tag = Tag;
    L->Size = (ULONG)(Size < LOOKASIDE_MINIMUM_BLOCK_SIZE ? LOOKASIDE_MINIMUM_BLOCK_SIZE : Size);
    L->Allocate = (PALLOCATE_FUNCTION)Allocate;
    L->Free = (PFREE_FUNCTION)Free;
    L->ListEntry.Flink = L->ListEntry.Blink = &L->ListEntry;
}

/* A block for the list: the driver's own Allocate routine, or pool owned by the module at Caller. */
static PVOID Fill(PGENERAL_LOOKASIDE_POOL L, BOOLEAN Ex, ULONG_PTR Caller)
{
    if (L->Allocate != NULL)
        return Ex ? L->AllocateEx(L->Type, L->Size, L->Tag, (PLOOKASIDE_LIST_EX)L) : L->Allocate(L->Type, L->Size, L->Tag);
    return CmhookPoolAllocate(L->Type, L->Size, L->Tag, Caller);
}

static void Drop(PGENERAL_LOOKASIDE_POOL L, PVOID Block, BOOLEAN Ex, ULONG_PTR Caller)
{
    if (L->Free != NULL) {
        if (Ex)
            L->FreeEx(Block, (PLOOKASIDE_LIST_EX)L);
        else
            L->Free(Block);
    } else {
        CmhookPoolFree(Block, 0, FALSE, Caller); /* ExFreePool, the default Free */
    }
}

static void Flush(PGENERAL_LOOKASIDE_POOL L, BOOLEAN Ex, ULONG_PTR Caller)
{
    PVOID Block;
    pthread_mutex_lock(&LookasideLock);
    PSLIST_ENTRY Entry = FirstEntry(&L->ListHead);
    SetFirst(&L->ListHead, NULL, 0);
    pthread_mutex_unlock(&LookasideLock);
    while ((Block = Entry) != NULL) {
        Entry = Entry->Next;
        Drop(L, Block, Ex, Caller);
    }
}

static PVOID Take(PGENERAL_LOOKASIDE_POOL L, BOOLEAN Ex, ULONG_PTR Caller)
{
    PVOID Block = Pop(L);
    return Block != NULL ? Block : Fill(L, Ex, Caller);
}

static void Give(PGENERAL_LOOKASIDE_POOL L, PVOID Block, BOOLEAN Ex, ULONG_PTR Caller)
{
    if (!Push(L, Block))
        Drop(L, Block, Ex, Caller);
}

VOID NTAPI ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                           PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    (void)Depth; /* "reserved, must be zero" */
    POOL_TYPE Type = CmhookDefaultPoolType((POOL_TYPE)(NonPagedPool | (Flags & 0x200)), CALLER());
    Initialize((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, Type, Size, Tag, (PVOID)Allocate, (PVOID)Free);
}

VOID NTAPI ExInitializePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                          PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag, USHORT Depth)
{
    (void)Depth;
    (void)Flags;
    Initialize((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, PagedPool, Size, Tag, (PVOID)Allocate, (PVOID)Free);
}

PVOID NTAPI ExAllocateFromNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    return Take((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, FALSE, CALLER());
}

PVOID NTAPI ExAllocateFromPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    return Take((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, FALSE, CALLER());
}

VOID NTAPI ExFreeToNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    Give((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, Entry, FALSE, CALLER());
}

VOID NTAPI ExFreeToPagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside, PVOID Entry)
{
    Give((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, Entry, FALSE, CALLER());
}

VOID NTAPI ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    Flush((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, FALSE, CALLER());
}

VOID NTAPI ExDeletePagedLookasideList(PPAGED_LOOKASIDE_LIST Lookaside)
{
    Flush((PGENERAL_LOOKASIDE_POOL)&Lookaside->L, FALSE, CALLER());
}

/* LOOKASIDE_LIST_EX: Flags RAISE_ON_FAIL makes a failed allocation raise STATUS_INSUFFICIENT_RESOURCES;
 * its Future[0] keeps the flags (the shim's bookkeeping; Windows' own use of it is private). */
NTSTATUS NTAPI ExInitializeLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PALLOCATE_FUNCTION_EX Allocate,
                                           PFREE_FUNCTION_EX Free, POOL_TYPE PoolType, ULONG Flags, SIZE_T Size,
                                           ULONG Tag, USHORT Depth)
{
    (void)Depth;
    if ((Flags & ~(EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL | EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE)) ||
        (Flags & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL && Flags & EX_LOOKASIDE_LIST_EX_FLAGS_FAIL_NO_RAISE))
        return STATUS_INVALID_PARAMETER;
    Initialize(&Lookaside->L, CmhookDefaultPoolType(PoolType, CALLER()), Size, Tag, (PVOID)Allocate, (PVOID)Free);
    Lookaside->L.Future[0] = Flags;
    return STATUS_SUCCESS;
}

PVOID NTAPI ExAllocateFromLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    PVOID Block = Take(&Lookaside->L, TRUE, CALLER());
    if (Block == NULL && (Lookaside->L.Future[0] & EX_LOOKASIDE_LIST_EX_FLAGS_RAISE_ON_FAIL))
        CmhookRaiseStatus(STATUS_INSUFFICIENT_RESOURCES, __builtin_return_address(0), "ExAllocateFromLookasideListEx");
    return Block;
}

VOID NTAPI ExFreeToLookasideListEx(PLOOKASIDE_LIST_EX Lookaside, PVOID Entry)
{
    Give(&Lookaside->L, Entry, TRUE, CALLER());
}

VOID NTAPI ExFlushLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    Flush(&Lookaside->L, TRUE, CALLER());
}

VOID NTAPI ExDeleteLookasideListEx(PLOOKASIDE_LIST_EX Lookaside)
{
    Flush(&Lookaside->L, TRUE, CALLER());
}
