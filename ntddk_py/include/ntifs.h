/*
 * ntifs.h - cmhook's ntifs.h: the WDK's header for file systems and filters, which many
 * registry filters include first (for the process, token and security routines it declares).
 *
 * As in the WDK, it includes ntddk.h (and so wdm.h): a source that starts with
 * `#include <ntifs.h>` gets every type, constant and routine cmhook has. Of its own it declares
 * RtlCreateUnicodeString and RtlDuplicateUnicodeString (their C is in the kernel shim); the
 * other routines filters take from it (PsLookupProcessByProcessId,
 * ObOpenObjectByPointer, SeQueryInformationToken, ZwQueryInformationToken,
 * RtlConvertSidToUnicodeString ...) are not in the harness, and declaring one would only move
 * the error from the compiler, which names the routine, to the loader.
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

#endif /* _NTIFS_ */
