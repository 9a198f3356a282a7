/*
 * kernel_shim.c - the kernel routines a filter module imports, as a native library.
 *
 * A filter is an ordinary shared object whose undefined references (ZwCreateKey,
 * ExAllocatePoolWithTag, DbgPrint, ...) resolve to this library's exports. Routines
 * with no registry semantics are implemented here in C: Rtl strings and memory, pool
 * (each allocation reported to the harness, which tracks it by tag, size and module),
 * spin locks and fast mutexes that really lock, IRQL bookkeeping, DbgPrint with the
 * Windows meaning of its format. Routines that need the registry (Cm, Zw, Ob, Ps,
 * KeQuerySystemTime, Probe) are implemented in Python (harness/routines.py): their
 * exports are forwarders that call up through CmhookUpcalls.Routines. The table is
 * declared in cmhook_shim.h; its routine members (cmhook_upcalls.h) and the forwarders
 * (cmhook_forwarders.inc) are generated from include/ntddk.h's prototypes and committed:
 * regenerate them with `python -m harness.shim`.
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include "cmhook_shim.h"
#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* The caller of the routine now running on this thread: a return address in its module. */
static __thread PVOID CmhookReturnAddress;
static __thread KIRQL CmhookIrql = PASSIVE_LEVEL;

static __thread PLONG CmhookActiveCell;

#define CMHOOK_NOTE_CALLER() (CmhookReturnAddress = __builtin_return_address(0))

CMHOOK_UPCALLS CmhookUpcalls;

#include "cmhook_forwarders.inc"

/* NT's upcase table (RtlUpcaseUnicodeChar), filled in by the harness at start. */
WCHAR CmhookUpcaseTable[65536];

/* The base address of the module that contains an address (0 if none): how the harness
 * tells which driver called. */
ULONG_PTR CmhookModuleBase(PVOID Address)
{
    Dl_info info;
    if (Address == NULL || !dladdr(Address, &info))
        return 0;
    return (ULONG_PTR)info.dli_fbase;
}

/* The module base of the caller of the routine now running on this thread. */
#define CMHOOK_MAX_CALLBACKS 100
static __thread NTSTATUS CmhookStatuses[CMHOOK_MAX_CALLBACKS];
static __thread UCHAR CmhookCalled[CMHOOK_MAX_CALLBACKS];

NTSTATUS *CmhookWalkStatuses(VOID)
{
    return CmhookStatuses;
}

UCHAR *CmhookWalkCalled(VOID)
{
    return CmhookCalled;
}

LONG CmhookWalkCallbacks(ULONG Count, PVOID *Entries, ULONG_PTR NotifyClass, PVOID Argument2,
                         BOOLEAN StopOnFailure)
{
    /* The walking thread has put the whole walk on its active stack before calling here (the
     * harness's registry_core.callbacks), so an unregistration waits for the walk to end;
     * once it has set a Removed cell, every later load here sees it. */
    PLONG Outer = CmhookActiveCell;
    ULONG Index;
    if (Count > CMHOOK_MAX_CALLBACKS)
        return -2;
    for (Index = 0; Index < Count; Index++) {
        PEX_CALLBACK_FUNCTION Function = (PEX_CALLBACK_FUNCTION)Entries[3 * Index];
        PLONG Removed = (PLONG)Entries[3 * Index + 2];
        CmhookCalled[Index] = 0;
        if (__atomic_load_n(Removed, __ATOMIC_SEQ_CST))
            continue;
        CmhookActiveCell = Removed;
        CmhookStatuses[Index] = Function(Entries[3 * Index + 1], (PVOID)NotifyClass, Argument2);
        CmhookActiveCell = Outer;
        CmhookCalled[Index] = 1;
        if (StopOnFailure && !NT_SUCCESS(CmhookStatuses[Index]))
            return (LONG)Index;
    }
    return -1;
}

PLONG CmhookActiveCallback(VOID)
{
    return CmhookActiveCell;
}

ULONG_PTR CmhookCallerBase(VOID)
{
    return CmhookModuleBase(CmhookReturnAddress);
}

/* ---------------------------------------------------------------------------
 * A fault in a driver: on Windows a bugcheck; here, a line naming the module and offset
 * before the process dies the way it would have anyway (the previous handler runs next).
 * ------------------------------------------------------------------------- */
static struct sigaction PreviousSegv, PreviousBus;

static void WriteText(const char *Text)
{
    ssize_t Ignored = write(2, Text, strlen(Text));
    (void)Ignored;
}

static void WriteHex(ULONG_PTR Value)
{
    char Digits[19] = "0x";
    int Index;
    for (Index = 0; Index < 16; Index++)
        Digits[2 + Index] = "0123456789abcdef"[(Value >> (60 - 4 * Index)) & 0xF];
    Digits[18] = 0;
    WriteText(Digits);
}

static void OnFault(int Signal, siginfo_t *Info, void *Context)
{
    ucontext_t *Machine = Context;
    PVOID Ip = (PVOID)(ULONG_PTR)Machine->uc_mcontext.gregs[REG_RIP];
    Dl_info Where;
    WriteText("\ncmhook: access violation (a bugcheck on Windows) reading or writing ");
    WriteHex((ULONG_PTR)Info->si_addr);
    if (dladdr(Ip, &Where) && Where.dli_fname != NULL) {
        WriteText(" in ");
        WriteText(Where.dli_fname);
        WriteText(" at offset ");
        WriteHex((ULONG_PTR)Ip - (ULONG_PTR)Where.dli_fbase);
    }
    WriteText("\n");
    sigaction(Signal, Signal == SIGSEGV ? &PreviousSegv : &PreviousBus, NULL);
}

/* Installed by the harness after Python's own handlers, so that both run. */
VOID CmhookInstallFaultReporter(VOID)
{
    struct sigaction Action;
    memset(&Action, 0, sizeof(Action));
    Action.sa_sigaction = OnFault;
    Action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&Action.sa_mask);
    sigaction(SIGSEGV, &Action, &PreviousSegv);
    sigaction(SIGBUS, &Action, &PreviousBus);
}

/* ---------------------------------------------------------------------------
 * IRQL: PASSIVE_LEVEL, raised while a spin lock or fast mutex is held.
 * ------------------------------------------------------------------------- */
KIRQL NTAPI KeGetCurrentIrql(VOID)
{
    return CmhookIrql;
}

/* ---------------------------------------------------------------------------
 * Pool.
 * ------------------------------------------------------------------------- */
static PVOID PoolAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, ULONG_PTR Caller)
{
    PVOID Block = malloc(NumberOfBytes ? NumberOfBytes : 1);
    if (Block != NULL)
        CmhookUpcalls.PoolAllocated(Block, NumberOfBytes, Tag, (ULONG)PoolType, Caller);
    return Block;
}

static VOID PoolFree(PVOID P, ULONG Tag, BOOLEAN CheckTag, ULONG_PTR Caller)
{
    /* The harness says whether the block is a live allocation (and reports it if not). */
    if (CmhookUpcalls.PoolFreed(P, Tag, CheckTag, Caller))
        free(P);
}

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return PoolAllocate(PoolType, NumberOfBytes, Tag, CmhookModuleBase(__builtin_return_address(0)));
}

PVOID NTAPI ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return PoolAllocate(PoolType, NumberOfBytes, 'enoN', CmhookModuleBase(__builtin_return_address(0)));
}

VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    PoolFree(P, Tag, TRUE, CmhookModuleBase(__builtin_return_address(0)));
}

VOID NTAPI ExFreePool(PVOID P)
{
    PoolFree(P, 0, FALSE, CmhookModuleBase(__builtin_return_address(0)));
}

/* ---------------------------------------------------------------------------
 * Locks that really lock.
 * ------------------------------------------------------------------------- */
VOID NTAPI KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

VOID NTAPI KeAcquireSpinLock(PKSPIN_LOCK SpinLock, PKIRQL OldIrql)
{
    while (__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(SpinLock, __ATOMIC_RELAXED))
            sched_yield();
    *OldIrql = CmhookIrql;
    CmhookIrql = DISPATCH_LEVEL;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
    CmhookIrql = NewIrql;
}

VOID NTAPI ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    memset(FastMutex, 0, sizeof(*FastMutex));
    __atomic_store_n(&FastMutex->Count, 1, __ATOMIC_RELEASE); /* 1: free, as on Windows */
}

VOID NTAPI ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    LONG Expected = 1;
    while (!__atomic_compare_exchange_n(&FastMutex->Count, &Expected, 0, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        Expected = 1;
        __atomic_add_fetch(&FastMutex->Contention, 1, __ATOMIC_RELAXED);
        sched_yield();
    }
    FastMutex->Owner = (PKTHREAD)(ULONG_PTR)gettid();
    FastMutex->OldIrql = CmhookIrql;
    CmhookIrql = APC_LEVEL;
}

VOID NTAPI ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL Old = (KIRQL)FastMutex->OldIrql;
    FastMutex->Owner = NULL;
    __atomic_store_n(&FastMutex->Count, 1, __ATOMIC_RELEASE);
    CmhookIrql = Old;
}

/* ---------------------------------------------------------------------------
 * Memory.
 * ------------------------------------------------------------------------- */
SIZE_T NTAPI RtlCompareMemory(const VOID *Source1, const VOID *Source2, SIZE_T Length)
{
    const UCHAR *A = Source1, *B = Source2;
    SIZE_T Index = 0;
    while (Index < Length && A[Index] == B[Index])
        Index++;
    return Index;
}

BOOLEAN NTAPI MmIsAddressValid(PVOID VirtualAddress)
{
    long Page = sysconf(_SC_PAGESIZE);
    unsigned char Resident;
    if (VirtualAddress == NULL)
        return FALSE;
    /* mincore fails with ENOMEM for an address that is not mapped: no fault taken. */
    return mincore((void *)((ULONG_PTR)VirtualAddress & ~(ULONG_PTR)(Page - 1)), 1, &Resident) == 0;
}

/* ---------------------------------------------------------------------------
 * Rtl strings. Lengths are in bytes; buffers need not be NUL-terminated.
 * ------------------------------------------------------------------------- */
static SIZE_T WideLength(PCWSTR S)
{
    SIZE_T N = 0;
    while (S[N])
        N++;
    return N;
}

VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    SIZE_T Bytes = SourceString ? WideLength(SourceString) * sizeof(WCHAR) : 0;
    if (Bytes > 0xFFFC)
        Bytes = 0xFFFC;
    DestinationString->Length = (USHORT)Bytes;
    DestinationString->MaximumLength = SourceString ? (USHORT)(Bytes + sizeof(WCHAR)) : 0;
    DestinationString->Buffer = (PWSTR)SourceString;
}

VOID NTAPI RtlInitAnsiString(PANSI_STRING DestinationString, PCSZ SourceString)
{
    SIZE_T Bytes = SourceString ? strlen(SourceString) : 0;
    if (Bytes > 0xFFFE)
        Bytes = 0xFFFE;
    DestinationString->Length = (USHORT)Bytes;
    DestinationString->MaximumLength = SourceString ? (USHORT)(Bytes + 1) : 0;
    DestinationString->Buffer = (PCHAR)SourceString;
}

VOID NTAPI RtlCopyUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString)
{
    USHORT Bytes;
    if (SourceString == NULL) {
        DestinationString->Length = 0;
        return;
    }
    Bytes = SourceString->Length < DestinationString->MaximumLength ? SourceString->Length
                                                                    : DestinationString->MaximumLength;
    memmove(DestinationString->Buffer, SourceString->Buffer, Bytes);
    DestinationString->Length = Bytes;
    if (Bytes + sizeof(WCHAR) <= DestinationString->MaximumLength)
        DestinationString->Buffer[Bytes / sizeof(WCHAR)] = 0;
}

static NTSTATUS AppendBytes(PUNICODE_STRING Destination, const WCHAR *Source, SIZE_T Bytes)
{
    if (Destination->Length + Bytes > Destination->MaximumLength)
        return STATUS_BUFFER_TOO_SMALL;
    memmove((PUCHAR)Destination->Buffer + Destination->Length, Source, Bytes);
    Destination->Length = (USHORT)(Destination->Length + Bytes);
    if (Destination->Length + sizeof(WCHAR) <= Destination->MaximumLength)
        Destination->Buffer[Destination->Length / sizeof(WCHAR)] = 0;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlAppendUnicodeToString(PUNICODE_STRING Destination, PCWSTR Source)
{
    if (Source == NULL)
        return STATUS_SUCCESS;
    return AppendBytes(Destination, Source, WideLength(Source) * sizeof(WCHAR));
}

NTSTATUS NTAPI RtlAppendUnicodeStringToString(PUNICODE_STRING Destination, PCUNICODE_STRING Source)
{
    return AppendBytes(Destination, Source->Buffer, Source->Length);
}

WCHAR NTAPI RtlUpcaseUnicodeChar(WCHAR SourceCharacter)
{
    return CmhookUpcaseTable[SourceCharacter];
}

LONG NTAPI RtlCompareUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    SIZE_T N1 = String1->Length / sizeof(WCHAR), N2 = String2->Length / sizeof(WCHAR);
    SIZE_T N = N1 < N2 ? N1 : N2, I;
    for (I = 0; I < N; I++) {
        WCHAR A = String1->Buffer[I], B = String2->Buffer[I];
        if (CaseInSensitive) {
            A = CmhookUpcaseTable[A];
            B = CmhookUpcaseTable[B];
        }
        if (A != B)
            return (LONG)A - (LONG)B;
    }
    return (LONG)N1 - (LONG)N2;
}

BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    return String1->Length == String2->Length && RtlCompareUnicodeString(String1, String2, CaseInSensitive) == 0;
}

BOOLEAN NTAPI RtlPrefixUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2, BOOLEAN CaseInSensitive)
{
    UNICODE_STRING Head;
    if (String1->Length > String2->Length)
        return FALSE;
    Head.Length = Head.MaximumLength = String1->Length;
    Head.Buffer = String2->Buffer;
    return RtlCompareUnicodeString(String1, &Head, CaseInSensitive) == 0;
}

NTSTATUS NTAPI RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                      BOOLEAN AllocateDestinationString)
{
    USHORT I;
    if (AllocateDestinationString) {
        DestinationString->Buffer = PoolAllocate(PagedPool, SourceString->Length, 'GrtS',
                                                 CmhookModuleBase(__builtin_return_address(0)));
        if (DestinationString->Buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = SourceString->Length;
    } else if (SourceString->Length > DestinationString->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;
    }
    for (I = 0; I < SourceString->Length / sizeof(WCHAR); I++)
        DestinationString->Buffer[I] = CmhookUpcaseTable[SourceString->Buffer[I]];
    DestinationString->Length = SourceString->Length;
    return STATUS_SUCCESS;
}

VOID NTAPI RtlFreeUnicodeString(PUNICODE_STRING UnicodeString)
{
    if (UnicodeString->Buffer != NULL)
        PoolFree(UnicodeString->Buffer, 'GrtS', FALSE, CmhookModuleBase(__builtin_return_address(0)));
    UnicodeString->Buffer = NULL;
    UnicodeString->Length = UnicodeString->MaximumLength = 0;
}

/* ---------------------------------------------------------------------------
 * DbgPrint: the format as the Windows kernel reads it.
 * ------------------------------------------------------------------------- */
typedef struct _OUT {
    char Text[4096];
    SIZE_T Used;
} OUT_BUFFER;

static void Put(OUT_BUFFER *Out, const char *Text, SIZE_T Length)
{
    SIZE_T Room = sizeof(Out->Text) - 1 - Out->Used;
    if (Length > Room)
        Length = Room;
    memcpy(Out->Text + Out->Used, Text, Length);
    Out->Used += Length;
    Out->Text[Out->Used] = 0;
}

static SIZE_T Utf8FromUtf16(const WCHAR *Source, SIZE_T Count, char *Target, SIZE_T Room)
{
    SIZE_T Used = 0, I;
    for (I = 0; I < Count; I++) {
        unsigned Code = Source[I];
        char Bytes[4];
        SIZE_T N;
        if (Code >= 0xD800 && Code < 0xDC00 && I + 1 < Count && Source[I + 1] >= 0xDC00 && Source[I + 1] < 0xE000) {
            Code = 0x10000 + ((Code - 0xD800) << 10) + (Source[I + 1] - 0xDC00);
            I++;
        }
        if (Code < 0x80) {
            Bytes[0] = (char)Code;
            N = 1;
        } else if (Code < 0x800) {
            Bytes[0] = (char)(0xC0 | (Code >> 6));
            Bytes[1] = (char)(0x80 | (Code & 0x3F));
            N = 2;
        } else if (Code < 0x10000) {
            Bytes[0] = (char)(0xE0 | (Code >> 12));
            Bytes[1] = (char)(0x80 | ((Code >> 6) & 0x3F));
            Bytes[2] = (char)(0x80 | (Code & 0x3F));
            N = 3;
        } else {
            Bytes[0] = (char)(0xF0 | (Code >> 18));
            Bytes[1] = (char)(0x80 | ((Code >> 12) & 0x3F));
            Bytes[2] = (char)(0x80 | ((Code >> 6) & 0x3F));
            Bytes[3] = (char)(0x80 | (Code & 0x3F));
            N = 4;
        }
        if (Used + N >= Room)
            break;
        memcpy(Target + Used, Bytes, N);
        Used += N;
    }
    Target[Used] = 0;
    return Used;
}

/* A string argument, converted to UTF-8, then padded/cut by width and precision. */
static void PutString(OUT_BUFFER *Out, const char *Spec, const char *Utf8)
{
    char Formatted[4096];
    snprintf(Formatted, sizeof(Formatted), Spec, Utf8);
    Put(Out, Formatted, strlen(Formatted));
}

/* A width or a precision: digits, or '*' taken from the arguments. */
static void CopyCount(const char **P, char *Spec, SIZE_T *S, SIZE_T Limit, va_list *Args)
{
    if (**P == '*') {
        *S += snprintf(Spec + *S, 32 - *S, "%d", va_arg(*Args, int));
        (*P)++;
        return;
    }
    while (**P >= '0' && **P <= '9' && *S < Limit)
        Spec[(*S)++] = *(*P)++;
}

static ULONG Format(OUT_BUFFER *Out, PCSTR Format, va_list Incoming)
{
    const char *P = Format;
    va_list Args;
    va_copy(Args, Incoming);
    while (*P) {
        char Spec[32], Converted[4096];
        SIZE_T S = 0;
        int Size = 32; /* argument width in bits; 0 for "h", -1 for "hh" */
        int Wide = -1; /* for strings and characters: 1 wide, 0 narrow, -1 as the conversion says */
        char Conversion;
        const char *Start = P;
        if (*P != '%') {
            const char *Next = strchr(P, '%');
            SIZE_T Length = Next ? (SIZE_T)(Next - P) : strlen(P);
            Put(Out, P, Length);
            P += Length;
            continue;
        }
        P++;
        Spec[S++] = '%';
        while (*P && strchr("-+ #0", *P) && S < 8)
            Spec[S++] = *P++;
        CopyCount(&P, Spec, &S, 16, &Args);
        if (*P == '.') {
            Spec[S++] = *P++;
            CopyCount(&P, Spec, &S, 24, &Args);
        }
        if (P[0] == 'I' && P[1] == '6' && P[2] == '4') { Size = 64; P += 3; }
        else if (P[0] == 'I' && P[1] == '3' && P[2] == '2') { Size = 32; P += 3; }
        else if (P[0] == 'I') { Size = 64; P++; }
        else if (P[0] == 'l' && P[1] == 'l') { Size = 64; P += 2; }
        else if (P[0] == 'h' && P[1] == 'h') { Size = -1; P += 2; Wide = 0; }
        else if (P[0] == 'h') { Size = 0; P++; Wide = 0; }
        else if (P[0] == 'l' || P[0] == 'w') { Size = 32; Wide = 1; P++; } /* long is 32 bits on Windows */
        else if (P[0] == 'z' || P[0] == 'j' || P[0] == 't') { Size = 64; P++; }
        Conversion = *P ? *P++ : 0;
        switch (Conversion) {
        case 'd': case 'i': {
            long long Value = Size == 64 ? va_arg(Args, long long) : (long long)va_arg(Args, int);
            if (Size == 0) Value = (short)Value;
            if (Size == -1) Value = (signed char)Value;
            strcpy(Spec + S, "lld");
            snprintf(Converted, sizeof(Converted), Spec, Value);
            Put(Out, Converted, strlen(Converted));
            break;
        }
        case 'u': case 'x': case 'X': case 'o': {
            unsigned long long Value = Size == 64 ? va_arg(Args, unsigned long long)
                                                  : (unsigned long long)va_arg(Args, unsigned int);
            if (Size == 0) Value = (unsigned short)Value;
            if (Size == -1) Value = (unsigned char)Value;
            Spec[S++] = 'l';
            Spec[S++] = 'l';
            Spec[S++] = Conversion;
            Spec[S] = 0;
            snprintf(Converted, sizeof(Converted), Spec, Value);
            Put(Out, Converted, strlen(Converted));
            break;
        }
        case 'p': /* Windows: the full width, upper-case hex, no prefix */
            snprintf(Converted, sizeof(Converted), "%016llX", (unsigned long long)(ULONG_PTR)va_arg(Args, PVOID));
            Put(Out, Converted, strlen(Converted));
            break;
        case 'c': case 'C': {
            int Value = va_arg(Args, int);
            BOOLEAN IsWide = Wide == 1 || (Wide == -1 && Conversion == 'C');
            WCHAR W = (WCHAR)Value;
            if (IsWide)
                Utf8FromUtf16(&W, 1, Converted, sizeof(Converted));
            else {
                Converted[0] = (char)Value;
                Converted[1] = 0;
            }
            strcpy(Spec + S, "s");
            PutString(Out, Spec, Converted);
            break;
        }
        case 's': case 'S': {
            PVOID Value = va_arg(Args, PVOID);
            BOOLEAN IsWide = Wide == 1 || (Wide == -1 && Conversion == 'S');
            if (Value == NULL)
                strcpy(Converted, "(null)");
            else if (IsWide)
                Utf8FromUtf16(Value, WideLength(Value), Converted, sizeof(Converted));
            else
                snprintf(Converted, sizeof(Converted), "%s", (const char *)Value);
            strcpy(Spec + S, "s");
            PutString(Out, Spec, Converted);
            break;
        }
        case 'Z': { /* %Z: PANSI_STRING; %wZ: PUNICODE_STRING */
            PVOID Value = va_arg(Args, PVOID);
            if (Value == NULL)
                strcpy(Converted, "(null)");
            else if (Wide == 1) {
                PCUNICODE_STRING U = Value;
                if (U->Buffer == NULL)
                    strcpy(Converted, "(null)");
                else
                    Utf8FromUtf16(U->Buffer, U->Length / sizeof(WCHAR), Converted, sizeof(Converted));
            } else {
                PCANSI_STRING A = Value;
                if (A->Buffer == NULL)
                    strcpy(Converted, "(null)");
                else
                    snprintf(Converted, sizeof(Converted), "%.*s", (int)A->Length, A->Buffer);
            }
            strcpy(Spec + S, "s");
            PutString(Out, Spec, Converted);
            break;
        }
        case '%':
            Put(Out, "%", 1);
            break;
        default: /* unknown conversion: printed as written */
            Put(Out, Start, (SIZE_T)(P - Start));
            break;
        }
    }
    va_end(Args);
    return STATUS_SUCCESS;
}

static ULONG Emit(ULONG_PTR Module, ULONG ComponentId, ULONG Level, PCSTR Format_, va_list Args)
{
    OUT_BUFFER Out = {.Used = 0};
    Out.Text[0] = 0;
    Format(&Out, Format_, Args);
    CmhookUpcalls.DbgOutput(Module, ComponentId, Level, Out.Text);
    return STATUS_SUCCESS;
}

ULONG DbgPrint(PCSTR Format_, ...)
{
    ULONG Status;
    va_list Args;
    va_start(Args, Format_);
    Status = Emit(CmhookModuleBase(__builtin_return_address(0)), DPFLTR_IHVDRIVER_ID, DPFLTR_INFO_LEVEL, Format_,
                  Args);
    va_end(Args);
    return Status;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format_, ...)
{
    ULONG Status;
    va_list Args;
    va_start(Args, Format_);
    Status = Emit(CmhookModuleBase(__builtin_return_address(0)), ComponentId, Level, Format_, Args);
    va_end(Args);
    return Status;
}

/* A test hook: format as DbgPrint would, into a caller's buffer. */
ULONG CmhookFormat(char *Target, SIZE_T Room, PCSTR Format_, ...)
{
    OUT_BUFFER Out = {.Used = 0};
    va_list Args;
    Out.Text[0] = 0;
    va_start(Args, Format_);
    Format(&Out, Format_, Args);
    va_end(Args);
    snprintf(Target, Room, "%s", Out.Text);
    return (ULONG)Out.Used;
}
