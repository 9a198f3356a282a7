/*
 * ntifs.h - cmhook's ntifs.h: the WDK's header for file systems and filters, which many
 * registry filters include first (for the process, token and security routines it declares).
 *
 * As in the WDK, it includes ntddk.h (and so wdm.h): a source that starts with
 * `#include <ntifs.h>` gets every type, constant and routine cmhook has. It declares the
 * process routines the WDK declares here (PsLookupProcessByProcessId, PsLookupThreadByThreadId,
 * SeLocateProcessImageName, PsIsSystemThread, ObOpenObjectByPointer): the harness implements
 * them in Python (harness/routines/processes.py; routines.NTIFS_ROUTINES). The token and security
 * routines (SeQueryInformationToken, ZwQueryInformationToken, RtlConvertSidToUnicodeString ...)
 * are not in the harness, and declaring one would only move the error from the compiler, which
 * names the routine, to the loader. It also declares RtlCreateUnicodeString and
 * RtlDuplicateUnicodeString, whose C is in the kernel shim.
 */
#ifndef _NTIFS_
#define _NTIFS_
#define _NTIFS_INCLUDED_

#include "ntddk.h"

/* ------------------------------------------------------------------------
 * Counted strings the kernel allocates (pool tag 'GrtS'; free with RtlFreeUnicodeString).
 * ------------------------------------------------------------------------ */
#define RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE 1
#define RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING 2
NTSYSAPI BOOLEAN NTAPI RtlCreateUnicodeString(OUT PUNICODE_STRING DestinationString, IN PCWSTR SourceString);
NTSYSAPI NTSTATUS NTAPI RtlDuplicateUnicodeString(IN ULONG Flags, IN PCUNICODE_STRING StringIn,
                                                  OUT PUNICODE_STRING StringOut);

#ifdef __cplusplus
extern "C" {
#endif

/* Processes and threads (see ntddk.h's section on them). */
NTKERNELAPI NTSTATUS NTAPI PsLookupProcessByProcessId(IN HANDLE ProcessId, OUT PEPROCESS *Process);
NTKERNELAPI NTSTATUS NTAPI PsLookupThreadByThreadId(IN HANDLE ThreadId, OUT PETHREAD *Thread);
NTKERNELAPI NTSTATUS NTAPI SeLocateProcessImageName(IN OUT PEPROCESS Process, OUT PUNICODE_STRING *pImageFileName);
NTKERNELAPI BOOLEAN NTAPI PsIsSystemThread(IN PETHREAD Thread);
NTKERNELAPI NTSTATUS NTAPI ObOpenObjectByPointer(IN PVOID Object, IN ULONG HandleAttributes,
    IN PACCESS_STATE PassedAccessState OPTIONAL, IN ACCESS_MASK DesiredAccess, IN POBJECT_TYPE ObjectType OPTIONAL,
    IN KPROCESSOR_MODE AccessMode, OUT PHANDLE Handle);

#ifdef __cplusplus
}
#endif

#endif /* _NTIFS_ */
