/*
 * ntifs.h - cmhook's ntifs.h: the WDK's header for file systems and filters, which many
 * registry filters include first (for the process, token and security routines it declares).
 *
 * As in the WDK, it includes ntddk.h (and so wdm.h): a source that starts with
 * `#include <ntifs.h>` gets every type, constant and routine cmhook has. It declares nothing
 * of its own yet: the routines filters take from it (PsLookupProcessByProcessId,
 * ObOpenObjectByPointer, SeQueryInformationToken, ZwQueryInformationToken,
 * RtlConvertSidToUnicodeString ...) are not in the harness, and declaring one would only move
 * the error from the compiler, which names the routine, to the loader.
 */
#ifndef _NTIFS_
#define _NTIFS_
#define _NTIFS_INCLUDED_

#include "ntddk.h"

#endif /* _NTIFS_ */
