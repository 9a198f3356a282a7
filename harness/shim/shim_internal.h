/*
 * shim_internal.h - what the shim's C files share among themselves and never export.
 *
 * The shim is several C files, one per subsystem (kernel_shim.c holds the core: the upcall
 * table, the machine record, structured exception handling, faults, pool, locks, the Rtl string
 * basics, DbgPrint). Everything declared here is hidden: a filter module's imports resolve only
 * to kernel routines, never to these helpers (the loader checks imports against the library's
 * dynamic symbols). cffi never reads this file.
 */
#ifndef CMHOOK_SHIM_INTERNAL_H
#define CMHOOK_SHIM_INTERNAL_H

#include <ntddk.h>
#include <stdarg.h>
#include "cmhook_shim.h"

#define CMHOOK_INTERNAL __attribute__((visibility("hidden")))

/* The IRQL of this thread (KeGetCurrentIrql); the lock routines raise and lower it. */
extern __thread KIRQL CmhookIrql CMHOOK_INTERNAL;

/* Every upcall into Python runs with the thread's __try chain hidden (longjmp never crosses Python):
 * CMHOOK_HIDE_FRAMES() declares a scope that hides it until the scope ends. */
CMHOOK_INTERNAL CMHOOK_SEH_FRAME *CmhookHideFrames(void);
CMHOOK_INTERNAL void CmhookShowFrames(CMHOOK_SEH_FRAME **Hidden);
#define CMHOOK_HIDE_FRAMES() \
    CMHOOK_SEH_FRAME *CmhookHidden __attribute__((cleanup(CmhookShowFrames), unused)) = CmhookHideFrames()

/* Raise Status as ExRaiseStatus does, from the driver's call at Address, named Routine in reports. */
CMHOOK_INTERNAL DECLSPEC_NORETURN void CmhookRaiseStatus(NTSTATUS Status, PVOID Address, const char *Routine);

/* Pool: every block the shim hands a driver goes through these, so that the harness tracks it
 * (Caller: the allocating or freeing module's base, CmhookModuleBase(__builtin_return_address(0))). */
CMHOOK_INTERNAL PVOID CmhookPoolAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag, ULONG_PTR Caller);
CMHOOK_INTERNAL VOID CmhookPoolFree(PVOID P, ULONG Tag, BOOLEAN CheckTag, ULONG_PTR Caller);

/* DbgPrint's format (Windows' reading of it) into Target, NUL-terminated and cut to Room bytes and
 * to the 4,095 a line holds; returns the length of the formatted line. rtl_format.c's engine, which the kernel CRT's
 * _vsnprintf and _vsnwprintf (and so ntstrsafe's printf routines) share. */
CMHOOK_INTERNAL ULONG CmhookFormatV(char *Target, SIZE_T Room, PCSTR Format, va_list Args);

/* --- Ex pool, locks and time (ex_pool.c, ex_locks.c, ex_time.c) --- */
/* A verifier finding naming the module at Caller (a module base): Kind and printf's Format. */
CMHOOK_INTERNAL VOID CmhookFinding(ULONG_PTR Caller, const char *Kind, const char *Format, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, standing for a bug check (Driver Verifier's: include/ntddk.h) with its first parameter,
 * about a kernel routine (NULL: none). */
CMHOOK_INTERNAL VOID CmhookVerifierFinding(ULONG_PTR Caller, const char *Kind, ULONG BugCheck, ULONG_PTR Parameter,
                                           const char *Routine, const char *Format, ...)
    __attribute__((format(printf, 6, 7)));
/* The pool type an allocation of PoolType by the module at Caller gets: NonPagedPool becomes
 * NonPagedPoolNx for a module that called ExInitializeDriverRuntime(DrvRtPoolNxOptIn). */
CMHOOK_INTERNAL POOL_TYPE CmhookDefaultPoolType(POOL_TYPE PoolType, ULONG_PTR Caller);
/* --- Driver code the dispatcher enters (kewait: ke_dispatcher.c), through the machine record's watch
 * slots as CmhookCallDriverEntry does: Begin returns the outer notify class End restores; after a
 * longjmp out of driver code (PsTerminateSystemThread) CallsAbandoned sets the slot's depth to 0.
 * A system thread blocked in a wait is idle, not in a driver routine: WaitBegins sets its depth to 0
 * (returning it), WaitEnds restores it with a fresh start time, so the watchdog never calls an idle
 * thread hung. */
CMHOOK_INTERNAL LONG CmhookDriverCallBegin(LONG Kind, PVOID Function, ULONG_PTR ProcessId, ULONG_PTR ThreadId);
CMHOOK_INTERNAL VOID CmhookDriverCallEnd(LONG OuterClass);
CMHOOK_INTERNAL VOID CmhookDriverCallsAbandoned(VOID);
CMHOOK_INTERNAL LONG CmhookWaitBegins(VOID);
CMHOOK_INTERNAL VOID CmhookWaitEnds(LONG Depth);

#endif
