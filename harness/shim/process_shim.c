/*
 * process_shim.c - the process routines that are data or layout rather than calls into Python:
 * the object types ntoskrnl exports as variables (*PsProcessType, *PsThreadType, *CmKeyObjectType),
 * PsGetProcessImageFileName (a pointer into the EPROCESS block, where registry_core.processes
 * writes EPROCESS.ImageFileName) and the PsGetCurrentProcess export behind the header's macro.
 * The rest of the process routines are Python (harness/routines/processes.py).
 */
#include <ntddk.h>
#include "shim_internal.h"

/* An object type as drivers see it: an address to compare. The harness reads the three addresses
 * (harness/processes.py) to tell which type a driver asks for. */
struct _OBJECT_TYPE {
    CHAR Name[16];
};

static struct _OBJECT_TYPE ProcessTypeObject = {"Process"};
static struct _OBJECT_TYPE ThreadTypeObject = {"Thread"};
static struct _OBJECT_TYPE KeyTypeObject = {"Key"};
static POBJECT_TYPE ProcessTypeCell = &ProcessTypeObject;
static POBJECT_TYPE ThreadTypeCell = &ThreadTypeObject;
static POBJECT_TYPE KeyTypeCell = &KeyTypeObject;
POBJECT_TYPE *PsProcessType = &ProcessTypeCell;
POBJECT_TYPE *PsThreadType = &ThreadTypeCell;
POBJECT_TYPE *CmKeyObjectType = &KeyTypeCell;

/* Where in an EPROCESS block its ImageFileName (15 bytes and a NUL) is: the harness reads this
 * value, so the layout is said once. */
const ULONG CmhookImageFileNameOffset = 0x10;

/* The WDK declares no prototype for it (drivers declare it themselves, as PUCHAR or PCHAR). */
PUCHAR NTAPI PsGetProcessImageFileName(PEPROCESS Process);
PUCHAR NTAPI PsGetProcessImageFileName(PEPROCESS Process)
{
    return (PUCHAR)Process + CmhookImageFileNameOffset;
}

#undef PsGetCurrentProcess
PEPROCESS NTAPI PsGetCurrentProcess(VOID);
PEPROCESS NTAPI PsGetCurrentProcess(VOID)
{
    return IoGetCurrentProcess();
}
