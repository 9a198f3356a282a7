/*
 * pairing_monitor.c - matches each post-notification with its pre by thread id, as the
 * specification suggests ("Callback writers can match pre and post calls by recording the
 * thread ID in the pre notification and match against it in the post notification").
 *
 * For every operation it remembers (thread id, notify class, time) at the pre, finds that
 * record at the post, and logs the operation's status and how long the registry took. A post
 * with no pre (the callback was registered in between) is counted, not logged. The table is
 * shared by all threads and guarded by a spin lock.
 */
#include <ntddk.h>

#define SLOTS 64

typedef struct _PENDING {
    HANDLE ThreadId;
    REG_NOTIFY_CLASS PreClass;
    LARGE_INTEGER Started;
} PENDING;

static LARGE_INTEGER Cookie;
static KSPIN_LOCK Lock;
static PENDING Pending[SLOTS];
static volatile LONG Matched, Unmatched;

static BOOLEAN IsPost(REG_NOTIFY_CLASS Class)
{
    return (Class >= RegNtPostDeleteKey && Class <= RegNtPostKeyHandleClose) || Class == RegNtPostCreateKeyEx ||
           Class == RegNtPostOpenKeyEx;
}

static VOID RememberPre(REG_NOTIFY_CLASS Class)
{
    KIRQL OldIrql;
    ULONG Index;
    LARGE_INTEGER Now;
    KeQuerySystemTime(&Now);
    KeAcquireSpinLock(&Lock, &OldIrql);
    for (Index = 0; Index < SLOTS; Index++) {
        if (Pending[Index].ThreadId == NULL) {
            Pending[Index].ThreadId = PsGetCurrentThreadId();
            Pending[Index].PreClass = Class;
            Pending[Index].Started = Now;
            break;
        }
    }
    KeReleaseSpinLock(&Lock, OldIrql);
}

static VOID MatchPost(REG_NOTIFY_CLASS Class, PREG_POST_OPERATION_INFORMATION Post)
{
    KIRQL OldIrql;
    ULONG Index;
    BOOLEAN Found = FALSE;
    PENDING Record = {0};
    HANDLE Me = PsGetCurrentThreadId();
    KeAcquireSpinLock(&Lock, &OldIrql);
    for (Index = 0; Index < SLOTS; Index++) {
        if (Pending[Index].ThreadId == Me) {
            Record = Pending[Index];
            Pending[Index].ThreadId = NULL;
            Found = TRUE;
            break;
        }
    }
    KeReleaseSpinLock(&Lock, OldIrql);
    if (!Found) {
        InterlockedIncrement(&Unmatched);
        return;
    }
    InterlockedIncrement(&Matched);
    {
        LARGE_INTEGER Now;
        KeQuerySystemTime(&Now);
        DbgPrint("pairing_monitor: thread %p class %lu -> %lu status 0x%08lx in %I64d00ns\n", Me,
                 (ULONG)Record.PreClass, (ULONG)Class, Post->Status, Now.QuadPart - Record.Started.QuadPart);
    }
}

static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    REG_NOTIFY_CLASS Class = (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1;
    UNREFERENCED_PARAMETER(CallbackContext);
    if (IsPost(Class))
        MatchPost(Class, (PREG_POST_OPERATION_INFORMATION)Argument2);
    else
        RememberPre(Class);
    return STATUS_SUCCESS;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    DbgPrint("pairing_monitor: %ld matched, %ld unmatched\n", Matched, Unmatched);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&Lock);
    DriverObject->DriverUnload = DriverUnload;
    return CmRegisterCallback(RegistryCallback, NULL, &Cookie);
}
