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
 * include/ntddk.h and harness/routines.py; regenerate with `python -m harness.shim`) holds
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
} CMHOOK_UPCALLS;

extern CMHOOK_UPCALLS CmhookUpcalls;

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
 * any other fault is reported (module and offset) before the process dies. */
VOID CmhookInstallFaultReporter(VOID);
/* A test hook: how many __try frames this thread has on its chain (none while a Python routine runs). */
ULONG CmhookSehDepth(VOID);

/*
 * The callback walk for one notification, when every registered callback is a C function.
 * Entries holds three pointers per callback: its function, its context, and its Removed
 * cell. Callback Index is skipped when its Removed cell is set (it is being unregistered),
 * else called with (context, NotifyClass, Argument2); its status goes to this thread's
 * CmhookWalkStatuses()[Index] and CmhookWalkCalled()[Index] is set. With StopOnFailure (a
 * pre) the first status for which NT_SUCCESS is false ends the walk. Returns that
 * callback's index, or -1; -2 if Count is over the 100 a table holds.
 */
LONG CmhookWalkCallbacks(ULONG Count, PVOID *Entries, ULONG_PTR NotifyClass, PVOID Argument2,
                         BOOLEAN StopOnFailure);
NTSTATUS *CmhookWalkStatuses(VOID);
UCHAR *CmhookWalkCalled(VOID);
/* The Removed cell of the callback this thread is running inside CmhookWalkCallbacks (NULL if none). */
PLONG CmhookActiveCallback(VOID);

/* What the loader looks up in a driver module (the shim itself defines no DriverEntry). */
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

#endif /* CMHOOK_SHIM_H */
