/*
 * cmhook_shim.h - the kernel shim's own declarations: what kernel_shim.c defines for the
 * harness, and what the harness looks up in a driver module.
 *
 * Two readers: kernel_shim.c includes it (so the compiler checks every definition against
 * it), and harness/shim.py hands it to cffi's cdef, which has no preprocessor. shim.py drops
 * every line whose first non-blank character is '#' before cdef sees it, so keep this file
 * plain declarations: one-line directives only (include guard, #include), no macros that
 * declarations depend on, no #if around declarations.
 *
 * The upcall table: CMHOOK_ROUTINE_UPCALLS (generated into cmhook_upcalls.h from
 * include/ntddk.h and harness/routines/; regenerate with `python -m harness.shim`) holds
 * one member per kernel routine implemented in Python; the members below it are the shim's
 * own upcalls, which are no kernel routines. The harness fills every member with a cffi
 * callback before any driver loads.
 */
#ifndef CMHOOK_SHIM_H
#define CMHOOK_SHIM_H

#include <ntddk.h>
#include "cmhook_upcalls.h"

typedef struct _CMHOOK_UPCALLS {
    /* The kernel routines implemented in Python: kernel_shim.c's generated forwarders call these. */
    CMHOOK_ROUTINE_UPCALLS Routines;
    /* Pool: every allocation reported with its size, tag, pool type and the allocating module's base. */
    VOID (*PoolAllocated)(PVOID Block, SIZE_T Size, ULONG Tag, ULONG PoolType, ULONG_PTR Module);
    /* Pool: TRUE when Block is a live allocation (the shim then frees it); FALSE is reported. */
    BOOLEAN (*PoolFreed)(PVOID Block, ULONG Tag, BOOLEAN CheckTag, ULONG_PTR Module);
    /* DbgPrint and DbgPrintEx: the line formatted as Windows formats it, in UTF-8. */
    VOID (*DbgOutput)(ULONG_PTR Module, ULONG ComponentId, ULONG Level, const char *Text);
    /* A verifier finding the shim's C saw (a lock misused, ...): the calling module's base, its kind, the
     * bug check it stands for (0: none) with its first parameter, the kernel routine it is about (NULL:
     * none), its text. */
    VOID (*Finding)(ULONG_PTR Module, const char *Kind, ULONG BugCheck, ULONG_PTR Parameter, const char *Routine,
                    const char *Text);
    /* The dispatcher (kewait, ke_dispatcher.c). ClockPin: pin the emulated clock where it is (it then
     * moves only when advanced; CmhookClockMoved tells the shim). ThreadBegins: a thread the shim
     * made (system thread, worker, DPC thread) starts: its calls are the System process's from now
     * on; returns its emulated thread id. DispatcherFinding: a verifier finding about Module. */
    VOID (*ClockPin)(VOID);
    ULONG_PTR (*ThreadBegins)(VOID);
    VOID (*DispatcherFinding)(ULONG_PTR Module, const char *Kind, const char *Text);
} CMHOOK_UPCALLS;

extern CMHOOK_UPCALLS CmhookUpcalls;

/* Driver Verifier's options (harness/verifier.py names them and says what each checks): bits of
 * CmhookVerifierOptions, which the harness sets before any driver loads. A check whose bit is clear
 * costs one test of this word. */
typedef enum _CMHOOK_VERIFIER_OPTION {
    CmhookVerifySpecialPool = 0x1,
    CmhookVerifyIrql = 0x2,
    CmhookVerifyPoolTracking = 0x4,
    CmhookVerifyHandles = 0x8,
    CmhookVerifyDeadlocks = 0x10,
    CmhookVerifyLowResources = 0x20,
    CmhookVerifyUserBuffers = 0x40
} CMHOOK_VERIFIER_OPTION;
extern ULONG CmhookVerifierOptions;

/* NT's upcase table (RtlUpcaseUnicodeChar), filled in by the harness at start. */
extern WCHAR CmhookUpcaseTable[65536];

/* The base address of the module that contains an address (0 if none). */
ULONG_PTR CmhookModuleBase(PVOID Address);
/* The module base of the caller of the kernel routine now running on this thread. */
ULONG_PTR CmhookCallerBase(VOID);
/* A test hook: format as DbgPrint would, into a caller's buffer. */
ULONG CmhookFormat(char *Target, SIZE_T Room, PCSTR Format, ...);
/* The fault handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL), installed after Python's handlers: a fault in
 * driver code inside a __try lands in its frames (include/ntddk.h's structured exception handling);
 * any other fault, and SIGABRT, fills the machine record's Crash (below) and, unless the record is
 * Isolated, is reported (module and offset) on stderr, before the process dies as it would have (the
 * previous handlers run). Also the CMHOOK_STACK_SIGNAL handler; the calling thread gets an
 * alternate signal stack (every other thread on its first entry into driver code). */
VOID CmhookInstallFaultReporter(VOID);
/* A test hook: how many __try frames this thread has on its chain (none while a Python routine runs). */
ULONG CmhookSehDepth(VOID);

/*
 * The callback walk for one notification, when every registered callback is a C function (and
 * the call of one C callback the harness walks in Python: Count 1). Entries holds three pointers
 * per callback: its function, its context, and its Removed cell. Callback Index is skipped when
 * its Removed cell is set (it is being unregistered), else called with (context, NotifyClass,
 * Argument2) as driver code the machine record's watch slot knows of (ProcessId and ThreadId:
 * the emulated caller's); its status goes to this thread's CmhookWalkStatuses()[Index] and
 * CmhookWalkCalled()[Index] is set. With StopOnFailure (a pre) the first status for which
 * NT_SUCCESS is false ends the walk. Returns that callback's index, or -1; -2 if Count is over
 * the 100 a table holds.
 */
LONG CmhookWalkCallbacks(ULONG Count, PVOID *Entries, ULONG_PTR NotifyClass, PVOID Argument2,
                         BOOLEAN StopOnFailure, ULONG_PTR ProcessId, ULONG_PTR ThreadId);
NTSTATUS *CmhookWalkStatuses(VOID);
UCHAR *CmhookWalkCalled(VOID);
/* The Removed cell of the callback this thread is running inside CmhookWalkCallbacks (NULL if none). */
PLONG CmhookActiveCallback(VOID);
/* The notify class of the innermost callback this thread is running (its watch slot's), -1 if none:
 * what a finding made on this thread names as the notification in flight. */
LONG CmhookCurrentNotifyClass(VOID);

/*
 * The machine record: what the shim tells a watching parent process about driver code, in
 * memory the parent shares (harness/isolation.py maps it before the machine's process starts
 * and hands it over with CmhookUseMachineRecord). Until then the shim writes into a record of
 * its own, and reports faults itself on stderr.
 *
 * - Slots: one per thread that has entered driver code (DriverEntry, DriverUnload, a registry
 *   callback): how deep it is in driver code now, what it entered outermost and since when
 *   (CLOCK_MONOTONIC nanoseconds), the notify class of its innermost callback. The parent's
 *   watchdog reads them to tell a hang.
 * - Crash: filled once, by the first fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) that
 *   no __try frame takes, before the process dies: what, where, the thread's slot, its stack.
 * - Stack: the C stack of thread StackTid, written by that thread when the parent sends it
 *   SIGUSR2 (CMHOOK_STACK_SIGNAL) after setting StackTid; StackReady is set last.
 */
typedef enum _CMHOOK_DRIVER_CALL {
    CmhookOutsideDriver = 0,
    CmhookInDriverEntry = 1,
    CmhookInDriverUnload = 2,
    CmhookInCallback = 3,
    CmhookInDispatch = 4, /* a dispatch routine (DRIVER_OBJECT.MajorFunction) serving an IRP */
    /* Notify routines, called with CmhookCallDriverRoutine (values apart, so other kinds fit before them). */
    CmhookInProcessNotify = 16,
    CmhookInThreadNotify = 17,
    CmhookInImageNotify = 18,
    CmhookInSystemThread = 8,  /* a PsCreateSystemThread start routine */
    CmhookInWorkItem = 9,      /* an IoQueueWorkItem(Ex) or ExQueueWorkItem routine */
    CmhookInDpc = 10,           /* a DPC queued by KeInsertQueueDpc */
    CmhookInTimerDpc = 11       /* a DPC queued by a timer's expiry */
} CMHOOK_DRIVER_CALL;

enum {
    CMHOOK_WATCH_SLOTS = 64,
    CMHOOK_STACK_FRAMES = 32,
    CMHOOK_MODULE_CHARS = 256,
    CMHOOK_SYMBOL_CHARS = 64,
    CMHOOK_STACK_SIGNAL = 12, /* SIGUSR2 */
    CMHOOK_RECORD_MAGIC = 0x44524352 /* "RCRD" */
};

typedef struct _CMHOOK_FRAME {
    ULONG_PTR Address;                   /* frame 0: the faulting instruction; then return addresses */
    ULONG_PTR ModuleBase;                /* the base of the module holding Address (dladdr); 0: none */
    CHAR Module[CMHOOK_MODULE_CHARS];    /* that module's file, as it was loaded */
    CHAR Symbol[CMHOOK_SYMBOL_CHARS];    /* the nearest symbol dladdr knows ("" if none) */
} CMHOOK_FRAME;

typedef struct _CMHOOK_WATCH_SLOT {
    LONG Tid;                 /* the Linux thread owning the slot; 0: free */
    LONG Depth;               /* how many driver calls this thread is inside now (0: none) */
    LONG Kind;                /* CMHOOK_DRIVER_CALL of the outermost one */
    LONG NotifyClass;         /* of the innermost callback running; -1 if none */
    ULONG_PTR Function;       /* the driver routine entered outermost */
    ULONG_PTR ProcessId;      /* the emulated caller's process and thread ids (what PsGetCurrent*Id give) */
    ULONG_PTR ThreadId;
    LONGLONG Since;            /* CLOCK_MONOTONIC ns at which the outermost driver call began */
    ULONGLONG Entries;         /* driver calls this thread has begun: the watchdog sees progress */
} CMHOOK_WATCH_SLOT;

typedef struct _CMHOOK_CRASH {
    LONG Crashed;             /* 0 until the first fatal signal: set first, the rest then filled */
    LONG Signal;
    LONG SignalCode;          /* siginfo's si_code */
    LONG Tid;
    NTSTATUS ExceptionCode;   /* STATUS_ACCESS_VIOLATION, STATUS_INTEGER_DIVIDE_BY_ZERO, ... (0 for SIGABRT,
                                 but for the abort of an exception no __try took: that exception's code) */
    ULONG Access;             /* of an access violation: 0 read, 1 write, 8 execute */
    ULONG_PTR FaultAddress;   /* the data address of an access violation (or of a bus error); else 0 */
    ULONG_PTR Ip;
    ULONG_PTR Sp;
    ULONG_PTR StackLow;       /* the faulting thread's stack (pthread_getattr_np), to tell an overflow */
    ULONG_PTR StackHigh;
    LONG StackOverflow;       /* the fault hit the thread's stack guard */
    LONG Complete;            /* set last: every field above and the frames are written */
    CMHOOK_WATCH_SLOT Thread; /* the faulting thread's slot as it was (Depth 0: outside driver code) */
    ULONG FrameCount;
    CMHOOK_FRAME Frames[CMHOOK_STACK_FRAMES];
} CMHOOK_CRASH;

typedef struct _CMHOOK_MACHINE_RECORD {
    ULONG Magic;              /* CMHOOK_RECORD_MAGIC, written by CmhookUseMachineRecord */
    ULONG Size;               /* sizeof(CMHOOK_MACHINE_RECORD) */
    LONG Isolated;            /* a parent reports what is here: the shim prints no fault text itself */
    LONG StackTid;            /* the thread whose stack the parent asks for */
    LONG StackReady;
    ULONG StackCount;
    CMHOOK_FRAME Stack[CMHOOK_STACK_FRAMES];
    CMHOOK_CRASH Crash;
    CMHOOK_WATCH_SLOT Slots[CMHOOK_WATCH_SLOTS];
} CMHOOK_MACHINE_RECORD;

/* Where the shim writes its record from now on (a parent's shared memory); NULL: its own again. */
VOID CmhookUseMachineRecord(CMHOOK_MACHINE_RECORD *Record);
CMHOOK_MACHINE_RECORD *CmhookMachineRecord(VOID);
/* DriverEntry and DriverUnload, called as driver code the watchdog and the crash record know of. */
NTSTATUS CmhookCallDriverEntry(PDRIVER_INITIALIZE Entry, PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);
VOID CmhookCallDriverUnload(PDRIVER_UNLOAD Unload, PDRIVER_OBJECT DriverObject);
/* A driver routine taking three pointer-sized arguments (a notify routine: Kind says which), called as
 * driver code the watch slot knows of, for the emulated caller ProcessId/ThreadId; returns what it returns
 * (nothing, for a VOID routine). */
ULONG_PTR CmhookCallDriverRoutine(LONG Kind, PVOID Function, ULONG_PTR Argument1, ULONG_PTR Argument2,
                                  ULONG_PTR Argument3, ULONG_PTR ProcessId, ULONG_PTR ThreadId);

/* Devices (harness/devices.py): a dispatch routine called with an IRP, as driver code the watchdog and the
 * crash record know of (ProcessId, ThreadId: the emulated caller's); the I/O manager's default dispatch
 * routine, which completes an IRP with STATUS_INVALID_DEVICE_REQUEST (every MajorFunction entry a driver
 * does not set). */
NTSTATUS CmhookCallDriverDispatch(PDRIVER_DISPATCH Dispatch, PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                  ULONG_PTR ProcessId, ULONG_PTR ThreadId);
PDRIVER_DISPATCH CmhookDefaultDispatch(VOID);

/*
 * The dispatcher (kewait, ke_dispatcher.c; the rules are in that file's opening comment).
 * ClockMoved: the emulated clock now reads Now (FILETIME units): timers due and timeouts passed up
 * to it fire in due-time order, each step settled. DispatcherNow: the shim's emulated time, -1
 * while the clock was never pinned. Settle: return once every thread the shim made is idle
 * (blocked in a wait, or with no DPC or work item to run). Leftovers: what Module left at its
 * unload (threads running, timers set, DPCs and work items queued), as "kind<TAB>text" lines
 * in Text; the timers are cancelled, the DPCs and work items dropped, the threads stopped at
 * their next wait; returns how many. Reset: a new machine starts (a new Kernel); Shutdown: it
 * ends (the worker and DPC threads are joined). KernelHandle*: ZwClose, ObReferenceObjectByHandle
 * on a handle PsCreateSystemThread gave (kernel handles: bit 31 set, sign-extended);
 * ObjectReference: ObReferenceObject (Delta 1) or ObDereferenceObject (-1) on a dispatcher's
 * thread object; FALSE when Object is none.
 */
VOID CmhookClockMoved(LONGLONG Now);
LONGLONG CmhookDispatcherNow(VOID);
VOID CmhookSettle(VOID);
ULONG CmhookDispatcherLeftovers(ULONG_PTR Module, char *Text, SIZE_T Room);
VOID CmhookDispatcherReset(VOID);
VOID CmhookDispatcherShutdown(VOID);
NTSTATUS CmhookKernelHandleClose(ULONG_PTR Handle);
NTSTATUS CmhookKernelHandleReference(ULONG_PTR Handle, PVOID *Object);
BOOLEAN CmhookObjectReference(PVOID Object, LONG Delta);
/* What ObReferenceObjectByHandle compares ObjectType with for a thread handle (wdm.h declares it). */
extern POBJECT_TYPE *PsThreadType;
/* The first of the shim's kernel handles (a system thread's): bit 31 set, sign-extended. */
extern ULONG_PTR CmhookKernelHandleBase;

/* What the loader looks up in a driver module (the shim itself defines no DriverEntry). */
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

#endif /* CMHOOK_SHIM_H */
