/*
 * kernel_shim.c - the kernel routines a filter module imports, as a native library.
 *
 * A filter is an ordinary shared object whose undefined references (ZwCreateKey,
 * ExAllocatePoolWithTag, DbgPrint, ...) resolve to this library's exports. Routines
 * with no registry semantics are implemented here in C: Rtl strings and memory, pool
 * (each allocation reported to the harness, which tracks it by tag, size and module),
 * spin locks and fast mutexes that really lock, IRQL bookkeeping, DbgPrint with the
 * Windows meaning of its format. Routines that need the registry (Cm, Zw, Ob, Ps,
 * KeQuerySystemTime, Probe) are implemented in Python (harness/routines/): their
 * exports are forwarders that call up through CmhookUpcalls.Routines. The table is
 * declared in cmhook_shim.h; its routine members (cmhook_upcalls.h) and the forwarders
 * (cmhook_forwarders.inc) are generated from include/ntddk.h's prototypes and committed:
 * regenerate them with `python -m harness.shim`.
 */
#define _GNU_SOURCE
#include <ntddk.h>
#include <ntifs.h> /* the forwarders of routines.NTIFS_ROUTINES */
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

/* The caller of the routine now running on this thread: a return address in its module. */
static __thread PVOID CmhookReturnAddress;
__thread KIRQL CmhookIrql = PASSIVE_LEVEL;
ULONG CmhookVerifierOptions; /* cmhook_shim.h: CMHOOK_VERIFIER_OPTION bits, set by the harness before any driver loads */

static __thread PLONG CmhookActiveCell;

/* ---------------------------------------------------------------------------
 * Structured exception handling, the shim's side (include/ntddk.h's __try section has the
 * keywords and what differs from Windows). Each thread has a chain of the frames its __try
 * blocks pushed, innermost first, each holding the registers CmhookSehSetjmp saved. A raise
 * (ExRaiseStatus, RtlRaiseException, a probe) or a fault in driver code (OnFault) fills the
 * thread's record and searches the chain: a constant filter is read from its frame; a
 * __finally frame is passed over; the first frame that takes the exception, or whose filter
 * must run to say, is the target. The unwind then pops frames down to it: a __finally frame on
 * the way is landed in (longjmp) to run its block, whose end goes on with the unwind; the
 * target is landed in last, to run its filter or its handler. Filters that decline go on with
 * the search from the next outer frame.
 *
 * longjmp never crosses Python: every upcall to a Python routine hides the chain (Top is NULL
 * while Python runs, so C that Python calls starts a chain of its own) and restores it when
 * the upcall returns; a Python routine that raises returns a status, which its forwarder
 * raises after the chain is back (CMHOOK_RAISE_FAILURE).
 * ------------------------------------------------------------------------- */
#define SEH_MAGIC 0x48455343u

typedef struct _SEH_THREAD {
    CMHOOK_SEH_FRAME *Top;      /* the innermost frame; NULL while a Python routine runs */
    LONG Busy;                  /* the dispatcher is reading the chain: a fault now is no exception */
    LONG Signal;                /* the signal Record came from; 0 for a raise */
    LONG SignalCode;            /* siginfo's si_code of the last fault recorded on this thread */
    EXCEPTION_RECORD Record;    /* the exception being dispatched */
    EXCEPTION_RECORD Chained;   /* what a STATUS_NONCONTINUABLE_EXCEPTION raised in a search points to */
    EXCEPTION_RECORD Handled;   /* what the running handler's GetExceptionCode() reads */
    EXCEPTION_POINTERS Pointers;
    CMHOOK_SEH_FINALLY Handoff; /* from a __finally frame's landing to its block: where the unwind goes */
} SEH_THREAD;

static __thread SEH_THREAD Seh;

/* CmhookSehSetjmp(Jump) saves the callee-saved registers, the stack pointer after its return and
 * its return address; CmhookSehLongjmp(Jump, Value) restores them and returns Value there. */
__asm__(".text\n"
        ".globl CmhookSehSetjmp\n"
        ".type CmhookSehSetjmp, @function\n"
        "CmhookSehSetjmp:\n"
        "    .byte 0xf3, 0x0f, 0x1e, 0xfa\n" /* endbr64 */
        "    movq %rbx, 0(%rdi)\n"
        "    movq %rbp, 8(%rdi)\n"
        "    movq %r12, 16(%rdi)\n"
        "    movq %r13, 24(%rdi)\n"
        "    movq %r14, 32(%rdi)\n"
        "    movq %r15, 40(%rdi)\n"
        "    leaq 8(%rsp), %rdx\n"
        "    movq %rdx, 48(%rdi)\n"
        "    movq (%rsp), %rdx\n"
        "    movq %rdx, 56(%rdi)\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        ".size CmhookSehSetjmp, .-CmhookSehSetjmp\n"
        ".globl CmhookSehLongjmp\n"
        ".hidden CmhookSehLongjmp\n"
        ".type CmhookSehLongjmp, @function\n"
        "CmhookSehLongjmp:\n"
        "    .byte 0xf3, 0x0f, 0x1e, 0xfa\n"
        "    cld\n"
        "    movl %esi, %eax\n"
        "    movq 0(%rdi), %rbx\n"
        "    movq 8(%rdi), %rbp\n"
        "    movq 16(%rdi), %r12\n"
        "    movq 24(%rdi), %r13\n"
        "    movq 32(%rdi), %r14\n"
        "    movq 40(%rdi), %r15\n"
        "    movq 48(%rdi), %rsp\n"
        "    jmpq *56(%rdi)\n"
        ".size CmhookSehLongjmp, .-CmhookSehLongjmp\n");
extern void CmhookSehLongjmp(ULONG_PTR *Jump, int Value) __attribute__((noreturn, visibility("hidden")));

CMHOOK_SEH_FRAME *CmhookHideFrames(void)
{
    CMHOOK_SEH_FRAME *Top = Seh.Top;
    Seh.Top = NULL;
    return Top;
}

void CmhookShowFrames(CMHOOK_SEH_FRAME **Hidden)
{
    Seh.Top = *Hidden;
}

/* A forwarder of a routine that raises (harness/routines' RAISING_ROUTINES): the chain back,
 * then the failure its Python end returned raised from the driver's call at Caller. */
static __attribute__((unused)) void RaiseFailure(NTSTATUS Status, CMHOOK_SEH_FRAME **Hidden, PVOID Caller,
                                                 const char *Routine)
{
    CmhookShowFrames(Hidden);
    if (!NT_SUCCESS(Status))
        CmhookRaiseStatus(Status, Caller, Routine);
}

/* A forwarder of a routine with an IRQL rule of Driver Verifier's DDI compliance checking
 * (harness/routines' IRQL_RULES) checks it first: called above Most, the call is a finding naming
 * the rule and its bug check (0xC4 with the rule's code), and then goes on, as it would without
 * the verifier. */
static __attribute__((noinline, unused)) void IrqlRuleBroken(const char *Routine, KIRQL Most, const char *Rule,
                                                              ULONG Code, PVOID Caller)
{
    static const char *const Names[] = {"PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL"};
    KIRQL Now = CmhookIrql;
    CmhookFinding(CmhookModuleBase(Caller), "irql",
                  "%s called at IRQL %u%s%s%s; it may only be called at IRQL <= %s (Driver Verifier's %s rule: "
                  "bug check 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, 0x%X)", Routine, (unsigned)Now,
                  Now < 3 ? " (" : "", Now < 3 ? Names[Now] : "", Now < 3 ? ")" : "", Names[Most], Rule, Code);
}
#define CMHOOK_CHECK_IRQL(Most, Rule, Code) \
    do { \
        if (__builtin_expect(CmhookIrql > (Most), 0)) \
            IrqlRuleBroken(__func__, (Most), (Rule), (Code), __builtin_return_address(0)); \
    } while (0)

/* Every forwarder starts with this: the chain hidden for the upcall, the caller noted. */
#define CMHOOK_NOTE_CALLER() CMHOOK_HIDE_FRAMES(); (CmhookReturnAddress = __builtin_return_address(0))
#define CMHOOK_RAISE_FAILURE(Status) RaiseFailure((Status), &CmhookHidden, __builtin_return_address(0), __func__)

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

/* ---------------------------------------------------------------------------
 * The machine record (cmhook_shim.h): the watch slots written on every entry into driver code,
 * the crash and the stack on request written by the signal handlers further down. The record is
 * the shim's own until the harness hands over a parent's shared one (CmhookUseMachineRecord).
 *
 * Each thread that enters driver code claims a slot once per record (a CAS of its Linux thread id
 * into a free slot's Tid) and gives it back when it ends (a pthread key's destructor). Claiming
 * also prepares the thread for the crash handlers: its stack bounds (pthread_getattr_np, which a
 * signal handler may not call) and an alternate signal stack, so that a handler still runs when
 * the thread's own stack overflowed. The hot path (WatchEnter, WatchLeave) is a few stores and,
 * for an outermost entry, one vDSO clock read: no lock, no system call.
 *
 * The parent reads the slots while this process writes them, with no lock: it reads Depth and then
 * the rest. An outermost entry writes every other field before the store that makes Depth 1, with
 * release order (a plain store on x86-64, whose stores are seen in program order); what the parent
 * reads of a slot whose Depth is 0 means nothing.
 * ------------------------------------------------------------------------- */
#define ALT_STACK_BYTES (64 * 1024)
#define CRASH_WAIT_TRIES 2000 /* a second crashing thread waits up to 2 s (1 ms each) for the first's record */

static CMHOOK_MACHINE_RECORD OwnRecord = {.Magic = CMHOOK_RECORD_MAGIC, .Size = sizeof(CMHOOK_MACHINE_RECORD)};
static CMHOOK_MACHINE_RECORD *Record = &OwnRecord;
static ULONG_PTR ShimBase, LibcBase;

typedef struct _WATCH_THREAD {
    CMHOOK_MACHINE_RECORD *Record; /* the record Slot was claimed in; NULL: claim on the next entry */
    CMHOOK_WATCH_SLOT *Slot;       /* in Record, or Unlisted when every slot was taken */
    CMHOOK_WATCH_SLOT Unlisted;
    LONG Tid;
    BOOLEAN Prepared;              /* stack bounds and alternate stack done */
    PVOID AltStack;                /* the alternate stack this thread got from the shim (NULL: none of ours) */
    ULONG_PTR StackLow, StackHigh; /* the thread's stack, from pthread_getattr_np */
    ULONG_PTR Guard;               /* its guard's size */
    NTSTATUS PendingCode;          /* an exception no __try took: the abort that follows is of it */
    LONG Capturing;                /* the crash handler is reading this thread's stack */
    ULONG_PTR Escape[8];           /* where a fault while Capturing goes back to (CmhookSehSetjmp) */
} WATCH_THREAD;

static __thread WATCH_THREAD Watch;
static pthread_once_t WatchOnce = PTHREAD_ONCE_INIT;
static pthread_key_t WatchKey;

static long PageBytes(void)
{
    static long Page;
    if (Page == 0)
        Page = sysconf(_SC_PAGESIZE);
    return Page;
}

static void ReleaseSlot(void)
{
    CMHOOK_WATCH_SLOT *Slot = Watch.Slot;
    if (Slot != NULL && Slot != &Watch.Unlisted) {
        __atomic_store_n(&Slot->Depth, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&Slot->Tid, 0, __ATOMIC_RELEASE);
    }
    Watch.Slot = NULL;
    Watch.Record = NULL;
}

/* The pthread key's destructor: the thread is ending. Its slot is free again, its alternate stack
 * (if the shim gave it one) unmapped. */
static void ThreadEnds(void *Unused)
{
    (void)Unused;
    ReleaseSlot();
    if (Watch.AltStack != NULL) {
        stack_t Current, Off;
        memset(&Off, 0, sizeof(Off));
        Off.ss_flags = SS_DISABLE;
        if (sigaltstack(NULL, &Current) == 0 && Current.ss_sp == Watch.AltStack && !(Current.ss_flags & SS_ONSTACK))
            sigaltstack(&Off, NULL);
        munmap((char *)Watch.AltStack - PageBytes(), ALT_STACK_BYTES + PageBytes());
        Watch.AltStack = NULL;
    }
    Watch.Prepared = FALSE;
}

/* In the child of a fork: it is another process, and its one thread has another id. The record
 * inherited belongs to the parent's watcher (or is the parent's own): the child writes its own
 * until it is handed one, and every slot in it is the parent's threads'. */
static void ForkedChild(void)
{
    Record = &OwnRecord;
    memset(OwnRecord.Slots, 0, sizeof(OwnRecord.Slots));
    Watch.Slot = NULL;
    Watch.Record = NULL;
    if (Watch.Prepared)
        Watch.Tid = gettid();
}

static void WatchSetup(void)
{
    Dl_info Where;
    if (dladdr((PVOID)WatchSetup, &Where))
        ShimBase = (ULONG_PTR)Where.dli_fbase;
    if (dladdr((PVOID)abort, &Where))
        LibcBase = (ULONG_PTR)Where.dli_fbase;
    pthread_key_create(&WatchKey, ThreadEnds);
    pthread_atfork(NULL, NULL, ForkedChild);
}

/* Once per thread: its stack's bounds and guard, and an alternate signal stack (unless it has one
 * this big already: Python's faulthandler gives the main thread a smaller one, replaced here). */
static void PrepareThread(void)
{
    pthread_attr_t Attributes;
    stack_t Current;
    if (Watch.Prepared)
        return;
    Watch.Prepared = TRUE;
    Watch.Tid = gettid();
    if (pthread_getattr_np(pthread_self(), &Attributes) == 0) {
        void *Low;
        size_t Bytes, Guard;
        if (pthread_attr_getstack(&Attributes, &Low, &Bytes) == 0) {
            Watch.StackLow = (ULONG_PTR)Low;
            Watch.StackHigh = (ULONG_PTR)Low + Bytes;
        }
        if (pthread_attr_getguardsize(&Attributes, &Guard) == 0)
            Watch.Guard = Guard;
        pthread_attr_destroy(&Attributes);
    }
    if (sigaltstack(NULL, &Current) == 0 && ((Current.ss_flags & SS_DISABLE) || Current.ss_size < ALT_STACK_BYTES) &&
        !(Current.ss_flags & SS_ONSTACK)) {
        /* A guard page below it: a handler overflowing it faults instead of writing over memory. */
        char *Memory = mmap(NULL, ALT_STACK_BYTES + PageBytes(), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (Memory != MAP_FAILED) {
            stack_t Alternate;
            memset(&Alternate, 0, sizeof(Alternate));
            mprotect(Memory, PageBytes(), PROT_NONE);
            Alternate.ss_sp = Memory + PageBytes();
            Alternate.ss_size = ALT_STACK_BYTES;
            if (sigaltstack(&Alternate, NULL) == 0)
                Watch.AltStack = Alternate.ss_sp;
            else
                munmap(Memory, ALT_STACK_BYTES + PageBytes());
        }
    }
}

/* This thread's slot in the current record, claimed now: on its first entry into driver code, or
 * its first since the record changed. */
static __attribute__((noinline)) CMHOOK_WATCH_SLOT *ClaimSlot(void)
{
    CMHOOK_MACHINE_RECORD *R = __atomic_load_n(&Record, __ATOMIC_ACQUIRE);
    CMHOOK_WATCH_SLOT *Slot = &Watch.Unlisted;
    ULONG Index;
    pthread_once(&WatchOnce, WatchSetup);
    PrepareThread();
    ReleaseSlot();
    for (Index = 0; Index < CMHOOK_WATCH_SLOTS; Index++) {
        LONG Free = 0;
        if (__atomic_compare_exchange_n(&R->Slots[Index].Tid, &Free, Watch.Tid, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            Slot = &R->Slots[Index];
            break;
        }
    }
    Slot->Tid = Watch.Tid;
    Slot->Depth = 0;
    Slot->Kind = CmhookOutsideDriver;
    Slot->NotifyClass = -1;
    Slot->Function = Slot->ProcessId = Slot->ThreadId = 0;
    Slot->Since = 0;
    Slot->Entries = 0;
    Watch.Slot = Slot;
    Watch.Record = R;
    pthread_setspecific(WatchKey, &Watch); /* any value but NULL: the destructor runs at the thread's end */
    return Slot;
}

static inline CMHOOK_WATCH_SLOT *CurrentSlot(void)
{
    if (__builtin_expect(Watch.Record != __atomic_load_n(&Record, __ATOMIC_RELAXED), 0))
        return ClaimSlot();
    return Watch.Slot;
}

/* An entry into driver code: Function, of this Kind, for the emulated caller ProcessId/ThreadId.
 * NotifyClass >= 0 for a callback (its class), -1 to keep the outer callback's. */
static inline void WatchEnter(CMHOOK_WATCH_SLOT *Slot, LONG Kind, PVOID Function, LONG NotifyClass,
                              ULONG_PTR ProcessId, ULONG_PTR ThreadId)
{
    LONG Depth = Slot->Depth;
    if (Depth == 0) {
        struct timespec Now;
        clock_gettime(CLOCK_MONOTONIC, &Now); /* the vDSO: no system call */
        Slot->Kind = Kind;
        Slot->Function = (ULONG_PTR)Function;
        Slot->ProcessId = ProcessId;
        Slot->ThreadId = ThreadId;
        Slot->Since = (LONGLONG)Now.tv_sec * 1000000000LL + Now.tv_nsec;
    }
    if (NotifyClass >= 0)
        Slot->NotifyClass = NotifyClass;
    __atomic_store_n(&Slot->Entries, Slot->Entries + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&Slot->Depth, Depth + 1, __ATOMIC_RELEASE);
}

static inline void WatchLeave(CMHOOK_WATCH_SLOT *Slot, LONG OuterClass)
{
    __atomic_store_n(&Slot->Depth, Slot->Depth - 1, __ATOMIC_RELEASE);
    Slot->NotifyClass = OuterClass;
}

VOID CmhookUseMachineRecord(CMHOOK_MACHINE_RECORD *Given)
{
    CMHOOK_MACHINE_RECORD *R = Given != NULL ? Given : &OwnRecord;
    R->Magic = CMHOOK_RECORD_MAGIC;
    R->Size = sizeof(CMHOOK_MACHINE_RECORD);
    /* Each thread claims a slot in it on its next entry into driver code (CurrentSlot). */
    __atomic_store_n(&Record, R, __ATOMIC_RELEASE);
}

CMHOOK_MACHINE_RECORD *CmhookMachineRecord(VOID)
{
    return __atomic_load_n(&Record, __ATOMIC_ACQUIRE);
}

NTSTATUS CmhookCallDriverEntry(PDRIVER_INITIALIZE Entry, PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG OuterClass = Slot->NotifyClass;
    NTSTATUS Status;
    WatchEnter(Slot, CmhookInDriverEntry, (PVOID)Entry, -1, 4, 0); /* the System process (4) */
    Status = Entry(DriverObject, RegistryPath);
    WatchLeave(Slot, OuterClass);
    return Status;
}

VOID CmhookCallDriverUnload(PDRIVER_UNLOAD Unload, PDRIVER_OBJECT DriverObject)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG OuterClass = Slot->NotifyClass;
    WatchEnter(Slot, CmhookInDriverUnload, (PVOID)Unload, -1, 4, 0);
    Unload(DriverObject);
    WatchLeave(Slot, OuterClass);
}

/* --- devices (harness/shim/io.c, harness/devices.py): a dispatch routine, entered as driver code --- */
NTSTATUS CmhookCallDriverDispatch(PDRIVER_DISPATCH Dispatch, PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                  ULONG_PTR ProcessId, ULONG_PTR ThreadId)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG OuterClass = Slot->NotifyClass;
    NTSTATUS Status;
    WatchEnter(Slot, CmhookInDispatch, (PVOID)Dispatch, -1, ProcessId, ThreadId);
    Status = Dispatch(DeviceObject, Irp);
    WatchLeave(Slot, OuterClass);
    return Status;
}

ULONG_PTR CmhookCallDriverRoutine(LONG Kind, PVOID Function, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                  ULONG_PTR Argument3, ULONG_PTR ProcessId, ULONG_PTR ThreadId)
{
    /* Every notify routine takes three arguments that travel in registers (pointers, handles, a
     * BOOLEAN widened), so one call shape serves them all on x86-64. */
    typedef ULONG_PTR (*THREE_ARGUMENTS)(ULONG_PTR, ULONG_PTR, ULONG_PTR);
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG OuterClass = Slot->NotifyClass;
    ULONG_PTR Result;
    WatchEnter(Slot, Kind, Function, -1, ProcessId, ThreadId);
    Result = ((THREE_ARGUMENTS)Function)(Argument1, Argument2, Argument3);
    WatchLeave(Slot, OuterClass);
    return Result;
}

/* --- Driver code entered on the dispatcher's threads (kewait: ke_dispatcher.c): system thread start
 * routines, work items, DPCs, through the same watch slots as DriverEntry. */
LONG CmhookDriverCallBegin(LONG Kind, PVOID Function, ULONG_PTR ProcessId, ULONG_PTR ThreadId)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG OuterClass = Slot->NotifyClass;
    WatchEnter(Slot, Kind, Function, -1, ProcessId, ThreadId);
    return OuterClass;
}

VOID CmhookDriverCallEnd(LONG OuterClass)
{
    WatchLeave(CurrentSlot(), OuterClass);
}

VOID CmhookDriverCallsAbandoned(VOID)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    __atomic_store_n(&Slot->Depth, 0, __ATOMIC_RELEASE);
    Slot->NotifyClass = -1;
}

LONG CmhookWaitBegins(VOID)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    LONG Depth = Slot->Depth;
    __atomic_store_n(&Slot->Depth, 0, __ATOMIC_RELEASE);
    return Depth;
}

VOID CmhookWaitEnds(LONG Depth)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    struct timespec Now;
    if (Depth == 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &Now);
    Slot->Since = (LONGLONG)Now.tv_sec * 1000000000LL + Now.tv_nsec;
    __atomic_store_n(&Slot->Entries, Slot->Entries + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&Slot->Depth, Depth, __ATOMIC_RELEASE);
}
/* --- end of the dispatcher's driver calls (kewait) */

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
                         BOOLEAN StopOnFailure, ULONG_PTR ProcessId, ULONG_PTR ThreadId)
{
    /* The walking thread has put the whole walk on its active stack before calling here (the
     * harness's registry_core.callbacks), so an unregistration waits for the walk to end;
     * once it has set a Removed cell, every later load here sees it. */
    PLONG Outer = CmhookActiveCell;
    CMHOOK_WATCH_SLOT *Slot;
    LONG OuterClass;
    ULONG Index;
    if (Count > CMHOOK_MAX_CALLBACKS)
        return -2;
    Slot = CurrentSlot();
    OuterClass = Slot->NotifyClass;
    for (Index = 0; Index < Count; Index++) {
        PEX_CALLBACK_FUNCTION Function = (PEX_CALLBACK_FUNCTION)Entries[3 * Index];
        PLONG Removed = (PLONG)Entries[3 * Index + 2];
        CmhookCalled[Index] = 0;
        if (__atomic_load_n(Removed, __ATOMIC_SEQ_CST))
            continue;
        CmhookActiveCell = Removed;
        WatchEnter(Slot, CmhookInCallback, (PVOID)Function, (LONG)NotifyClass, ProcessId, ThreadId);
        CmhookStatuses[Index] = Function(Entries[3 * Index + 1], (PVOID)NotifyClass, Argument2);
        WatchLeave(Slot, OuterClass);
        CmhookActiveCell = Outer;
        CmhookCalled[Index] = 1;
        if (StopOnFailure && !NT_SUCCESS(CmhookStatuses[Index])) {
            /* The callbacks after it were not called: no flag of an earlier walk may say they were. */
            memset(CmhookCalled + Index + 1, 0, Count - Index - 1);
            return (LONG)Index;
        }
    }
    return -1;
}

PLONG CmhookActiveCallback(VOID)
{
    return CmhookActiveCell;
}

LONG CmhookCurrentNotifyClass(VOID)
{
    CMHOOK_WATCH_SLOT *Slot = CurrentSlot();
    return Slot != NULL && Slot->Depth > 0 ? Slot->NotifyClass : -1;
}

/* The module base of the caller of the routine now running on this thread. */
ULONG_PTR CmhookCallerBase(VOID)
{
    return CmhookModuleBase(CmhookReturnAddress);
}

/* ---------------------------------------------------------------------------
 * Exceptions: the search and the unwind over the thread's __try frames, the raise routines,
 * and faults. A fault no frame takes is what Windows bugchecks on: a line naming the module
 * and offset before the process dies the way it would have anyway (the previous handler runs
 * next); a raise no frame takes is reported the same way and aborts.
 * ------------------------------------------------------------------------- */
static struct sigaction PreviousSegv, PreviousBus, PreviousFpe, PreviousIll, PreviousAbort;

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

static void WriteHex32(ULONG Value)
{
    char Digits[11] = "0x";
    int Index;
    for (Index = 0; Index < 8; Index++)
        Digits[2 + Index] = "0123456789abcdef"[(Value >> (28 - 4 * Index)) & 0xF];
    Digits[10] = 0;
    WriteText(Digits);
}

static void WriteWhere(PVOID Ip)
{
    Dl_info Where;
    if (dladdr(Ip, &Where) && Where.dli_fname != NULL) {
        WriteText(" in ");
        WriteText(Where.dli_fname);
        WriteText(" at offset ");
        WriteHex((ULONG_PTR)Ip - (ULONG_PTR)Where.dli_fbase);
    }
}

static struct sigaction *PreviousAction(int Signal)
{
    switch (Signal) {
    case SIGBUS: return &PreviousBus;
    case SIGFPE: return &PreviousFpe;
    case SIGILL: return &PreviousIll;
    default: return &PreviousSegv;
    }
}

/* The bugcheck line of a fault: what it was, where. */
static void ReportFault(int Signal, ULONG_PTR DataAddress, PVOID Ip)
{
    if (Signal == SIGFPE)
        WriteText("\ncmhook: integer divide by zero (a bugcheck on Windows)");
    else if (Signal == SIGILL)
        WriteText("\ncmhook: illegal instruction (a bugcheck on Windows)");
    else {
        WriteText("\ncmhook: access violation (a bugcheck on Windows) reading or writing ");
        WriteHex(DataAddress);
    }
    WriteWhere(Ip);
    WriteText("\n");
}

/* --- the crash record ---
 *
 * The first fatal signal no __try takes fills the record's Crash, whichever thread it is on:
 * Crashed is set by an atomic exchange, so a second crashing thread leaves the record alone and
 * waits (a while) for the first to set Complete before it dies too. The stack is unwound from the
 * interrupted context (the unwinder follows the kernel's signal frame), so its frames start at the
 * faulting instruction, not in the handler. A fault while unwinding (a smashed stack) ends the
 * unwind with the frames read so far. */

/* A parent reports what the record says: the shim then prints no fault text of its own. */
static BOOLEAN Isolated(void)
{
    return __atomic_load_n(&__atomic_load_n(&Record, __ATOMIC_ACQUIRE)->Isolated, __ATOMIC_RELAXED) != 0;
}

/* A fault as Windows would raise it: its code and, for an access violation, the access and address. */
static void DescribeFault(int Signal, siginfo_t *Info, ucontext_t *Machine, EXCEPTION_RECORD *R)
{
    memset(R, 0, sizeof(*R));
    R->ExceptionAddress = (PVOID)(ULONG_PTR)Machine->uc_mcontext.gregs[REG_RIP];
    switch (Signal) {
    case SIGFPE:
        R->ExceptionCode = Info->si_code == FPE_INTDIV   ? STATUS_INTEGER_DIVIDE_BY_ZERO
                           : Info->si_code == FPE_INTOVF ? STATUS_INTEGER_OVERFLOW
                                                         : STATUS_FLOAT_INVALID_OPERATION;
        break;
    case SIGILL:
        R->ExceptionCode = STATUS_ILLEGAL_INSTRUCTION;
        break;
    case SIGBUS:
        if (Info->si_code == BUS_ADRALN) {
            R->ExceptionCode = STATUS_DATATYPE_MISALIGNMENT;
            break;
        }
        /* fall through */
    default: {
        /* The page-fault error code says write (bit 1) or instruction fetch (bit 4); a general
         * protection fault (a non-canonical address) has no address, which Windows gives as ~0. */
        ULONG_PTR Error = (ULONG_PTR)Machine->uc_mcontext.gregs[REG_ERR];
        R->ExceptionCode = STATUS_ACCESS_VIOLATION;
        R->NumberParameters = 2;
        R->ExceptionInformation[0] = Signal != SIGSEGV ? 0 : (Error & 0x10) ? 8 : (Error & 2) ? 1 : 0;
        R->ExceptionInformation[1] = Info->si_code == SI_KERNEL ? ~(ULONG_PTR)0 : (ULONG_PTR)Info->si_addr;
        break;
    }
    }
}

typedef struct _CRASH_FACTS {
    int Signal;
    int SignalCode;
    NTSTATUS ExceptionCode;
    ULONG Access;
    ULONG_PTR FaultAddress; /* the data address of an access violation or a misaligned access; else 0 */
    ULONG_PTR Ip;
    ULONG_PTR Sp;
} CRASH_FACTS;

static void CopyText(CHAR *Target, SIZE_T Room, const char *Text)
{
    SIZE_T Index = 0;
    if (Text != NULL)
        for (; Index + 1 < Room && Text[Index]; Index++)
            Target[Index] = Text[Index];
    Target[Index] = 0;
}

/* A frame: the address, and the module and symbol dladdr knows for it. A return address is looked
 * up one byte back: a call to a function that does not return may be its function's last instruction. */
static void DescribeFrame(CMHOOK_FRAME *Frame, ULONG_PTR Address, BOOLEAN ReturnAddress)
{
    Dl_info Where;
    Frame->Address = Address;
    Frame->ModuleBase = 0;
    Frame->Module[0] = 0;
    Frame->Symbol[0] = 0;
    if (Address > 1 && dladdr((PVOID)(Address - (ReturnAddress ? 1 : 0)), &Where)) {
        Frame->ModuleBase = (ULONG_PTR)Where.dli_fbase;
        CopyText(Frame->Module, sizeof(Frame->Module), Where.dli_fname);
        CopyText(Frame->Symbol, sizeof(Frame->Symbol), Where.dli_sname);
    }
}

typedef struct _FRAME_WALK {
    ULONG_PTR Addresses[CMHOOK_STACK_FRAMES];
    ULONG Count;
    ULONG Room;
    BOOLEAN FromSignal; /* skip the frames up to the one a signal interrupted; else the shim's own */
    BOOLEAN Started;
} FRAME_WALK;

static _Unwind_Reason_Code NoteFrame(struct _Unwind_Context *Context, void *Argument)
{
    FRAME_WALK *Walk = Argument;
    int BeforeInstruction = 0;
    ULONG_PTR Pc = (ULONG_PTR)_Unwind_GetIPInfo(Context, &BeforeInstruction);
    if (Pc == 0) /* the outermost frame's "return address" */
        return _URC_END_OF_STACK;
    if (!Walk->Started) {
        if (Walk->FromSignal) {
            /* The handler's frames, then the signal trampoline: the unwinder marks the frame the
             * signal interrupted (its address is the interrupted instruction, frame 0, not a return
             * address). The ones after it are the interrupted context's callers. */
            if (BeforeInstruction)
                Walk->Started = TRUE;
            return _URC_NO_REASON;
        }
        if (CmhookModuleBase((PVOID)Pc) == ShimBase)
            return _URC_NO_REASON;
        Walk->Started = TRUE;
    }
    if (Walk->Count >= Walk->Room)
        return _URC_END_OF_STACK;
    Walk->Addresses[Walk->Count++] = Pc;
    return _URC_NO_REASON;
}

/* The stack into Frames (CMHOOK_STACK_FRAMES of them): frame 0 is Ip, the interrupted (or faulting)
 * instruction; the others are return addresses, innermost first. Returns how many. */
static ULONG CollectFrames(CMHOOK_FRAME *Frames, ULONG_PTR Ip, BOOLEAN FromSignal)
{
    FRAME_WALK Walk;
    ULONG Index;
    memset(&Walk, 0, sizeof(Walk));
    Walk.Room = CMHOOK_STACK_FRAMES - 1;
    Walk.FromSignal = FromSignal;
    Watch.Capturing = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (CmhookSehSetjmp(Watch.Escape) == 0) /* a fault in the unwinder comes back here (OnFault) */
        _Unwind_Backtrace(NoteFrame, &Walk);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    Watch.Capturing = 0;
    DescribeFrame(&Frames[0], Ip, FALSE);
    for (Index = 0; Index < Walk.Count; Index++)
        DescribeFrame(&Frames[Index + 1], Walk.Addresses[Index], TRUE);
    return Walk.Count + 1;
}

/* Whether a fault is this thread's stack overflowing: its address in the guard below the stack
 * (or the gap the kernel keeps below a growing main stack, 1 MiB), in the stack's lowest page, or
 * within a page of the stack pointer (a push, a call, a probe of a new frame that did not fit). */
static BOOLEAN StackOverflowed(const CRASH_FACTS *F)
{
    ULONG_PTR Page = (ULONG_PTR)PageBytes(), Fault = F->FaultAddress, Low = Watch.StackLow;
    ULONG_PTR Below = Watch.Guard + (1UL << 20) + Page;
    if (F->Signal != SIGSEGV && F->Signal != SIGBUS)
        return FALSE;
    if (Low != 0 && Fault < Low + Page && Fault >= (Low > Below ? Low - Below : 0))
        return TRUE;
    return F->Sp > Page && Fault >= F->Sp - Page && Fault < F->Sp + Page;
}

/* Fills the record's Crash, if this is the process's first crash; TRUE then. */
static BOOLEAN CaptureCrash(const CRASH_FACTS *F, BOOLEAN FromSignal)
{
    CMHOOK_MACHINE_RECORD *R = __atomic_load_n(&Record, __ATOMIC_ACQUIRE);
    CMHOOK_CRASH *C = &R->Crash;
    LONG Tid = gettid();
    if (__atomic_exchange_n(&C->Crashed, 1, __ATOMIC_ACQ_REL)) {
        /* Another crash came first and its record stands. Unless it is this very thread's (a crash
         * while recording a crash), let it finish before this one takes the process down. */
        struct timespec Pause = {0, 1000000};
        int Tries;
        if (__atomic_load_n(&C->Tid, __ATOMIC_ACQUIRE) == Tid)
            return FALSE;
        for (Tries = 0; Tries < CRASH_WAIT_TRIES && !__atomic_load_n(&C->Complete, __ATOMIC_ACQUIRE); Tries++)
            nanosleep(&Pause, NULL);
        return FALSE;
    }
    __atomic_store_n(&C->Tid, Tid, __ATOMIC_RELEASE);
    C->Signal = F->Signal;
    C->SignalCode = F->SignalCode;
    C->ExceptionCode = F->ExceptionCode;
    C->Access = F->Access;
    C->FaultAddress = F->FaultAddress;
    C->Ip = F->Ip;
    C->Sp = F->Sp;
    C->StackLow = Watch.StackLow;
    C->StackHigh = Watch.StackHigh;
    C->StackOverflow = StackOverflowed(F);
    if (Watch.Record == R && Watch.Slot != NULL) {
        C->Thread = *Watch.Slot;
    } else { /* no driver code entered since the record came: outside driver code */
        memset(&C->Thread, 0, sizeof(C->Thread));
        C->Thread.Tid = Tid;
        C->Thread.NotifyClass = -1;
    }
    C->FrameCount = CollectFrames(C->Frames, F->Ip, FromSignal);
    __atomic_store_n(&C->Complete, 1, __ATOMIC_RELEASE);
    return TRUE;
}

/* No frame took the exception in Seh.Record: the bugcheck. */
static DECLSPEC_NORETURN void Unhandled(const char *Routine)
{
    SEH_THREAD *T = &Seh;
    EXCEPTION_RECORD *R = &T->Record;
    if (T->Signal) {
        /* A fault whose frames all declined once the unwind had begun: die of it, as it would have.
         * Its context is gone: the record's stack is the faulting address, then this stack past the
         * shim's frames (the function whose __try declined, its callers). */
        int Signal = T->Signal;
        CRASH_FACTS F;
        memset(&F, 0, sizeof(F));
        F.Signal = Signal;
        F.SignalCode = T->SignalCode;
        F.ExceptionCode = R->ExceptionCode;
        if (R->ExceptionCode == STATUS_ACCESS_VIOLATION && R->NumberParameters >= 2) {
            F.Access = (ULONG)R->ExceptionInformation[0];
            F.FaultAddress = R->ExceptionInformation[1];
        }
        F.Ip = (ULONG_PTR)R->ExceptionAddress;
        F.Sp = (ULONG_PTR)__builtin_frame_address(0);
        CaptureCrash(&F, FALSE);
        if (!Isolated())
            ReportFault(Signal, R->NumberParameters >= 2 ? R->ExceptionInformation[1] : 0, R->ExceptionAddress);
        sigaction(Signal, PreviousAction(Signal), NULL);
        raise(Signal);
        abort();
    }
    /* The abort's crash record carries this exception's code (OnAbort). */
    Watch.PendingCode = R->ExceptionCode;
    if (!Isolated()) {
        WriteText("\ncmhook: unhandled exception ");
        WriteHex32((ULONG)R->ExceptionCode);
        if (Routine != NULL) {
            WriteText(" raised by ");
            WriteText(Routine);
        }
        WriteWhere(R->ExceptionAddress);
        WriteText(": KMODE_EXCEPTION_NOT_HANDLED (a bugcheck on Windows)\n");
    }
    abort();
}

static DECLSPEC_NORETURN void Die(const char *Why)
{
    WriteText("\ncmhook: ");
    WriteText(Why);
    WriteText(" (a bugcheck on Windows)\n");
    abort();
}

static BOOLEAN Mapped(ULONG_PTR Address)
{
    return MmIsAddressValid((PVOID)Address) && MmIsAddressValid((PVOID)(Address + sizeof(CMHOOK_SEH_FRAME) - 1));
}

/* Every frame mapped, above Sp, marked, in its function's frame (at or above the stack pointer
 * CmhookSehSetjmp saved), and an outer frame's function no deeper than an inner one's (the
 * frames of one function lie in any order): a chain the dispatcher may follow. A buffer overrun
 * that smashed a frame makes this false. */
static BOOLEAN ChainIsSound(CMHOOK_SEH_FRAME *F, ULONG_PTR Sp)
{
    ULONG Count = 0;
    for (; F != NULL; F = F->Next) {
        ULONG_PTR At = (ULONG_PTR)F;
        if (At < Sp || (At & 7) || ++Count > 100000 || !Mapped(At) || F->Magic != SEH_MAGIC ||
            F->Jump[6] < Sp || F->Jump[6] > At ||
            (F->Next != NULL && ((ULONG_PTR)F->Next & 7 || !Mapped((ULONG_PTR)F->Next) ||
                                 F->Next->Jump[6] < F->Jump[6])))
            return FALSE;
    }
    return TRUE;
}

/* Seh.Record becomes a noncontinuable exception Code raised by the search, pointing to what it was. */
static void Chain(NTSTATUS Code)
{
    SEH_THREAD *T = &Seh;
    T->Chained = T->Record;
    T->Chained.ExceptionRecord = NULL;
    memset(&T->Record, 0, sizeof(T->Record));
    T->Record.ExceptionCode = Code;
    T->Record.ExceptionFlags = EXCEPTION_NONCONTINUABLE;
    T->Record.ExceptionRecord = &T->Chained;
    T->Record.ExceptionAddress = T->Chained.ExceptionAddress;
    T->Signal = 0;
}

/* Pops frames down to Target, landing in each __finally frame on the way (its block's end comes
 * back here through CmhookSehFinallyDone), then in Target. */
static DECLSPEC_NORETURN void ContinueUnwind(CMHOOK_SEH_FRAME *Target)
{
    SEH_THREAD *T = &Seh;
    for (;;) {
        CMHOOK_SEH_FRAME *F = T->Top;
        if (F == NULL)
            Die("an unwind lost the __try frame it was going to");
        T->Top = F->Next;
        F->Linked = 0;
        if (F == Target) {
            T->Pointers.ExceptionRecord = &F->Record;
            T->Pointers.ContextRecord = NULL;
            CmhookSehLongjmp(F->Jump, 1);
        }
        if (F->Kind == _CMHOOK_SEH_KIND_FINALLY) {
            F->Phase = _CMHOOK_SEH_UNWIND;
            F->UnwindTarget = Target;
            CmhookSehLongjmp(F->Jump, 1);
        }
    }
}

static DECLSPEC_NORETURN void Unwind(CMHOOK_SEH_FRAME *Target, LONG Phase)
{
    Target->Record = Seh.Record;
    Target->Signal = Seh.Signal;
    Target->Phase = Phase;
    ContinueUnwind(Target);
}

/* The search for Seh.Record, innermost frame first. Returns TRUE to continue execution (a constant
 * EXCEPTION_CONTINUE_EXECUTION for a continuable exception still at its raise point), FALSE when
 * no frame takes it; otherwise unwinds to the frame that takes it or must run its filter. */
static BOOLEAN Dispatch(BOOLEAN AtRaisePoint, ULONG_PTR Sp)
{
    SEH_THREAD *T = &Seh;
    CMHOOK_SEH_FRAME *F;
    T->Busy = 1;
    if (!ChainIsSound(T->Top, Sp)) {
        T->Busy = 0;
        Die("the __try frames of this thread are overwritten");
    }
    for (F = T->Top; F != NULL; F = F->Next) {
        if (F->Kind == _CMHOOK_SEH_KIND_FINALLY)
            continue;
        if (!F->Constant || F->Disposition == EXCEPTION_EXECUTE_HANDLER) {
            T->Busy = 0;
            Unwind(F, F->Constant ? _CMHOOK_SEH_HANDLER : _CMHOOK_SEH_FILTER);
        }
        if (F->Disposition == EXCEPTION_CONTINUE_SEARCH)
            continue;
        if (F->Disposition == EXCEPTION_CONTINUE_EXECUTION && AtRaisePoint &&
            !(T->Record.ExceptionFlags & EXCEPTION_NONCONTINUABLE)) {
            T->Busy = 0;
            return TRUE;
        }
        /* Windows raises these from the dispatcher; the frames searched so far are passed over. */
        Chain(F->Disposition == EXCEPTION_CONTINUE_EXECUTION ? STATUS_NONCONTINUABLE_EXCEPTION
                                                            : STATUS_INVALID_DISPOSITION);
    }
    T->Busy = 0;
    return FALSE;
}

/* Raises a copy of Record from the current thread; returns only when a filter continues it. */
static void Raise(const EXCEPTION_RECORD *Record, const char *Routine)
{
    SEH_THREAD *T = &Seh;
    if (T->Busy)
        Die("an exception was raised while the exception dispatcher ran");
    T->Record = *Record;
    if (T->Record.NumberParameters > EXCEPTION_MAXIMUM_PARAMETERS)
        T->Record.NumberParameters = EXCEPTION_MAXIMUM_PARAMETERS;
    T->Signal = 0;
    T->Pointers.ExceptionRecord = &T->Record;
    T->Pointers.ContextRecord = NULL;
    if (Dispatch(TRUE, (ULONG_PTR)__builtin_frame_address(0)))
        return;
    Unhandled(Routine);
}

DECLSPEC_NORETURN void CmhookRaiseStatus(NTSTATUS Status, PVOID Address, const char *Routine)
{
    EXCEPTION_RECORD Record;
    memset(&Record, 0, sizeof(Record));
    Record.ExceptionCode = Status;
    Record.ExceptionFlags = EXCEPTION_NONCONTINUABLE;
    Record.ExceptionAddress = Address;
    Raise(&Record, Routine);
    abort(); /* the search never continues a noncontinuable exception */
}

VOID NTAPI ExRaiseStatus(NTSTATUS Status)
{
    CmhookRaiseStatus(Status, __builtin_return_address(0), "ExRaiseStatus");
}

VOID NTAPI ExRaiseAccessViolation(VOID)
{
    CmhookRaiseStatus(STATUS_ACCESS_VIOLATION, __builtin_return_address(0), "ExRaiseAccessViolation");
}

VOID NTAPI ExRaiseDatatypeMisalignment(VOID)
{
    CmhookRaiseStatus(STATUS_DATATYPE_MISALIGNMENT, __builtin_return_address(0), "ExRaiseDatatypeMisalignment");
}

VOID NTAPI RtlRaiseException(PEXCEPTION_RECORD ExceptionRecord)
{
    EXCEPTION_RECORD Record = *ExceptionRecord;
    Record.ExceptionAddress = __builtin_return_address(0);
    Raise(&Record, "RtlRaiseException");
}

/* --- the keywords' calls (include/ntddk.h) --- */
LONG CmhookSehEnter(CMHOOK_SEH_FRAME *Frame)
{
    SEH_THREAD *T = &Seh;
    /* A frame of a function deeper than this one is a dead one that a nonlocal exit of the
     * driver's own (longjmp) skipped; CmhookSehSetjmp has just saved this one's stack pointer. */
    while (T->Top != NULL && T->Top->Jump[6] < Frame->Jump[6])
        T->Top = T->Top->Next;
    Frame->Magic = SEH_MAGIC;
    Frame->Phase = _CMHOOK_SEH_BODY;
    Frame->Signal = 0;
    Frame->UnwindTarget = NULL;
    Frame->Next = T->Top;
    Frame->Linked = 1;
    T->Top = Frame;
    return 1;
}

VOID CmhookSehUnlink(CMHOOK_SEH_FRAME *Frame)
{
    SEH_THREAD *T = &Seh;
    CMHOOK_SEH_FRAME *F;
    Frame->Linked = 0;
    /* Frame is the top but for dead frames a nonlocal exit of the driver's own left above it. */
    for (F = T->Top; F != NULL && F->Jump[6] <= Frame->Jump[6]; F = F->Next)
        if (F == Frame) {
            T->Top = Frame->Next;
            return;
        }
}

VOID CmhookSehLanded(CMHOOK_SEH_FRAME *Frame, LONG Disposition)
{
    SEH_THREAD *T = &Seh;
    if (Frame->Phase == _CMHOOK_SEH_FILTER && Disposition != EXCEPTION_EXECUTE_HANDLER) {
        T->Record = Frame->Record;
        T->Signal = Frame->Signal;
        if (Disposition == EXCEPTION_CONTINUE_EXECUTION)
            Chain(STATUS_NONCONTINUABLE_EXCEPTION); /* the raise point is gone */
        else if (Disposition != EXCEPTION_CONTINUE_SEARCH)
            Chain(STATUS_INVALID_DISPOSITION);
        T->Pointers.ExceptionRecord = &T->Record;
        Dispatch(FALSE, (ULONG_PTR)__builtin_frame_address(0));
        Unhandled(NULL);
    }
    T->Handled = Frame->Record;
    T->Pointers.ExceptionRecord = &T->Handled;
    T->Pointers.ContextRecord = NULL;
}

/* A __finally frame landed in by an unwind: its block runs next (CmhookSehFinallyBegin), then the
 * unwind goes on. A __try block that ended normally or by __leave comes to the block directly. */
VOID CmhookSehFinallyLanded(CMHOOK_SEH_FRAME *Frame)
{
    Seh.Handoff.UnwindTarget = Frame->UnwindTarget;
}

CMHOOK_SEH_FINALLY CmhookSehFinallyBegin(VOID)
{
    CMHOOK_SEH_FINALLY Handoff = {Seh.Handoff.UnwindTarget, 1};
    Seh.Handoff.UnwindTarget = NULL;
    return Handoff;
}

VOID CmhookSehFinallyDone(CMHOOK_SEH_FINALLY *Finally)
{
    if (Finally->UnwindTarget != NULL)
        ContinueUnwind(Finally->UnwindTarget);
    Finally->Run = 0;
}

NTSTATUS CmhookSehExceptionCode(VOID)
{
    return Seh.Pointers.ExceptionRecord != NULL ? Seh.Pointers.ExceptionRecord->ExceptionCode : STATUS_SUCCESS;
}

PEXCEPTION_POINTERS CmhookSehExceptionPointers(VOID)
{
    return &Seh.Pointers;
}

ULONG CmhookSehDepth(VOID)
{
    ULONG Depth = 0;
    CMHOOK_SEH_FRAME *F;
    for (F = Seh.Top; F != NULL; F = F->Next)
        Depth++;
    return Depth;
}

/* --- faults --- */

/* Whether a fault at Ip may land in a frame: code of a driver with a frame on the chain, of the
 * shim, or of the C library (a driver's memcpy); never Python's, cffi's or anything else's. */
static BOOLEAN Catchable(PVOID Ip, CMHOOK_SEH_FRAME *Top, ULONG_PTR Sp)
{
    ULONG_PTR Base = CmhookModuleBase(Ip);
    CMHOOK_SEH_FRAME *F;
    if (Base == 0 || !ChainIsSound(Top, Sp))
        return FALSE;
    if (Base == ShimBase || Base == LibcBase)
        return TRUE;
    for (F = Top; F != NULL; F = F->Next)
        if (CmhookModuleBase((PVOID)F->Jump[7]) == Base)
            return TRUE;
    return FALSE;
}

static void RecordFault(int Signal, siginfo_t *Info, ucontext_t *Machine)
{
    EXCEPTION_RECORD *R = &Seh.Record;
    DescribeFault(Signal, Info, Machine, R);
    Seh.Signal = Signal;
    Seh.SignalCode = Info->si_code;
    Seh.Pointers.ExceptionRecord = R;
    Seh.Pointers.ContextRecord = NULL;
}

/* The crash record of a fatal signal from its handler's arguments. */
static void CaptureSignal(int Signal, siginfo_t *Info, ucontext_t *Machine)
{
    CRASH_FACTS F;
    memset(&F, 0, sizeof(F));
    F.Signal = Signal;
    F.SignalCode = Info->si_code;
    F.Ip = (ULONG_PTR)Machine->uc_mcontext.gregs[REG_RIP];
    F.Sp = (ULONG_PTR)Machine->uc_mcontext.gregs[REG_RSP];
    if (Signal == SIGABRT) {
        F.ExceptionCode = Watch.PendingCode; /* an exception no __try took; 0 for any other abort */
    } else {
        EXCEPTION_RECORD R;
        DescribeFault(Signal, Info, Machine, &R);
        F.ExceptionCode = R.ExceptionCode;
        if (R.ExceptionCode == STATUS_ACCESS_VIOLATION) {
            F.Access = (ULONG)R.ExceptionInformation[0];
            F.FaultAddress = R.ExceptionInformation[1];
        } else if (Signal == SIGBUS) {
            F.FaultAddress = (ULONG_PTR)Info->si_addr;
        }
    }
    CaptureCrash(&F, TRUE);
}

static void OnFault(int Signal, siginfo_t *Info, void *Context)
{
    ucontext_t *Machine = Context;
    PVOID Ip = (PVOID)(ULONG_PTR)Machine->uc_mcontext.gregs[REG_RIP];
    ULONG_PTR Sp = (ULONG_PTR)Machine->uc_mcontext.gregs[REG_RSP];
    SEH_THREAD *T = &Seh;
    if (Watch.Capturing)
        CmhookSehLongjmp(Watch.Escape, 1); /* the crash handler's unwind faulted: it ends there */
    if (T->Top != NULL && !T->Busy) {
        BOOLEAN Takes;
        T->Busy = 1;
        Takes = Catchable(Ip, T->Top, Sp);
        T->Busy = 0;
        if (Takes) {
            RecordFault(Signal, Info, Machine);
            if (Dispatch(TRUE, Sp))
                return; /* EXCEPTION_CONTINUE_EXECUTION: the instruction runs again */
            if (!T->Signal)
                Unhandled(NULL); /* the search raised STATUS_INVALID_DISPOSITION, and no frame took it */
        }
    }
    CaptureSignal(Signal, Info, Machine);
    if (!Isolated())
        ReportFault(Signal, (ULONG_PTR)Info->si_addr, Ip);
    /* Die as the process would have: the previous action runs when the instruction faults again,
     * or at once for a signal that was sent, not caused (nothing would fault again). */
    sigaction(Signal, PreviousAction(Signal), NULL);
    if (Info->si_code <= 0)
        raise(Signal);
}

/* abort(), the stack protector's __stack_chk_fail, the C library's heap checks, a raise no __try
 * took: recorded, then the previous action (Python's faulthandler, or the default) runs. */
static void OnAbort(int Signal, siginfo_t *Info, void *Context)
{
    if (Watch.Capturing)
        CmhookSehLongjmp(Watch.Escape, 1);
    CaptureSignal(Signal, Info, Context);
    sigaction(SIGABRT, &PreviousAbort, NULL);
    raise(SIGABRT);
}

/* CMHOOK_STACK_SIGNAL: the parent asks thread StackTid (a hung one) for its stack. */
static void OnStackRequest(int Signal, siginfo_t *Info, void *Context)
{
    ucontext_t *Machine = Context;
    CMHOOK_MACHINE_RECORD *R = __atomic_load_n(&Record, __ATOMIC_ACQUIRE);
    int Saved = errno;
    (void)Signal;
    (void)Info;
    if (__atomic_load_n(&R->StackTid, __ATOMIC_ACQUIRE) == gettid() && !Watch.Capturing) {
        R->StackCount = CollectFrames(R->Stack, (ULONG_PTR)Machine->uc_mcontext.gregs[REG_RIP], TRUE);
        __atomic_store_n(&R->StackReady, 1, __ATOMIC_RELEASE);
    }
    errno = Saved;
}

/* Installed by the harness after Python's own handlers, so that both run. SA_NODEFER: a landing
 * leaves the handler by longjmp with the signal mask as it was at the fault. SA_ONSTACK: every
 * thread that runs driver code has an alternate stack (PrepareThread), so a handler runs even when
 * the stack overflowed. The installing thread is prepared now; the unwinder is run once, so that
 * nothing of it is set up for the first time inside a signal handler. */
VOID CmhookInstallFaultReporter(VOID)
{
    struct sigaction Action;
    FRAME_WALK Walk;
    pthread_once(&WatchOnce, WatchSetup);
    PrepareThread();
    memset(&Walk, 0, sizeof(Walk));
    Walk.FromSignal = TRUE; /* no signal frame: nothing noted */
    _Unwind_Backtrace(NoteFrame, &Walk);
    memset(&Action, 0, sizeof(Action));
    Action.sa_sigaction = OnFault;
    Action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&Action.sa_mask);
    sigaction(SIGSEGV, &Action, &PreviousSegv);
    sigaction(SIGBUS, &Action, &PreviousBus);
    sigaction(SIGFPE, &Action, &PreviousFpe);
    sigaction(SIGILL, &Action, &PreviousIll);
    Action.sa_sigaction = OnAbort;
    sigaction(SIGABRT, &Action, &PreviousAbort);
    Action.sa_sigaction = OnStackRequest;
    Action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(CMHOOK_STACK_SIGNAL, &Action, NULL);
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
PVOID CmhookPoolAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, ULONG_PTR Caller)
{
    CMHOOK_HIDE_FRAMES();
    PVOID Block = malloc(NumberOfBytes ? NumberOfBytes : 1);
    PoolType = CmhookDefaultPoolType(PoolType, Caller); /* ex_pool.c: the driver runtime's NX opt-in */
    if (Block != NULL)
        CmhookUpcalls.PoolAllocated(Block, NumberOfBytes, Tag, (ULONG)PoolType, Caller);
    return Block;
}

VOID CmhookPoolFree(PVOID P, ULONG Tag, BOOLEAN CheckTag, ULONG_PTR Caller)
{
    /* The harness says whether the block is a live allocation (and reports it if not). */
    CMHOOK_HIDE_FRAMES();
    if (CmhookUpcalls.PoolFreed(P, Tag, CheckTag, Caller))
        free(P);
}

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return CmhookPoolAllocate(PoolType, NumberOfBytes, Tag, CmhookModuleBase(__builtin_return_address(0)));
}

PVOID NTAPI ExAllocatePool(POOL_TYPE PoolType, SIZE_T NumberOfBytes)
{
    return CmhookPoolAllocate(PoolType, NumberOfBytes, 'enoN', CmhookModuleBase(__builtin_return_address(0)));
}

VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    /* A zero tag checks no tag: ExFreePool(P) is ExFreePoolWithTag(P, 0) on Windows. */
    CmhookPoolFree(P, Tag, Tag != 0, CmhookModuleBase(__builtin_return_address(0)));
}

VOID NTAPI ExFreePool(PVOID P)
{
    CmhookPoolFree(P, 0, FALSE, CmhookModuleBase(__builtin_return_address(0)));
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
        DestinationString->Buffer = CmhookPoolAllocate(PagedPool, SourceString->Length, 'GrtS',
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
        CmhookPoolFree(UnicodeString->Buffer, 'GrtS', FALSE, CmhookModuleBase(__builtin_return_address(0)));
    UnicodeString->Buffer = NULL;
    UnicodeString->Length = UnicodeString->MaximumLength = 0;
}

/* ---------------------------------------------------------------------------
 * DbgPrint: the format as the Windows kernel reads it.
 * ------------------------------------------------------------------------- */
/* The engine is rtl_format.c's (CmhookFormatV), shared with the printf family; a line is cut at
 * 4095 bytes. */
static ULONG Emit(ULONG_PTR Module, ULONG ComponentId, ULONG Level, PCSTR Format_, va_list Args)
{
    char Text[4096];
    CmhookFormatV(Text, sizeof(Text), Format_, Args);
    {
        CMHOOK_HIDE_FRAMES();
        CmhookUpcalls.DbgOutput(Module, ComponentId, Level, Text);
    }
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
