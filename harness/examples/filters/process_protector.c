/*
 * process_protector.c - a process-aware registry protector.
 *
 * Security products keep their configuration under a key that only their own service may
 * change. This filter protects \REGISTRY\MACHINE\SOFTWARE\Protected (and every key under it):
 * setting or deleting a value there, deleting or renaming a key there, fails with
 * STATUS_ACCESS_DENIED for every user-mode caller except a process of the allowed image,
 * guardian.exe. Kernel-mode callers are trusted.
 *
 * Which processes are allowed is learnt as they start: a create-process notify routine
 * (PsSetCreateProcessNotifyRoutineEx) records the id of every process whose image file is
 * ...\guardian.exe, and forgets it when the process exits. A process that was running before
 * the driver loaded is not allowed, whatever its image: the filter never trusts an image name
 * it did not see at the start. A denied write is logged with the caller's image, asked with
 * PsGetCurrentProcess and SeLocateProcessImageName (the full NT path, from the pool, freed
 * with ExFreePool) and PsGetProcessImageFileName (the 15-character name kept in the EPROCESS).
 *
 * Build and run:  cmhook build process_protector.c  &&  cmhook run process_protector.so --script ...
 * with a script that starts processes:  start 4000 \Device\HarddiskVolume1\Program Files\Guard\guardian.exe
 */
#include <ntifs.h>

/* Undocumented, exported by ntoskrnl; the WDK declares no prototype, so drivers declare it. */
NTKERNELAPI PUCHAR NTAPI PsGetProcessImageFileName(PEPROCESS Process);

#define TAG 'tPrP'
#define MAX_ALLOWED 64

static LARGE_INTEGER Cookie;
static BOOLEAN NotifyRegistered;
static KSPIN_LOCK AllowedLock;
static HANDLE Allowed[MAX_ALLOWED];
static const WCHAR ProtectedKey[] = L"\\REGISTRY\\MACHINE\\SOFTWARE\\Protected";
static const WCHAR AllowedImage[] = L"\\guardian.exe";

static BOOLEAN EndsWith(PCUNICODE_STRING Text, PCWSTR Suffix)
{
    UNICODE_STRING Tail, Wanted;
    RtlInitUnicodeString(&Wanted, Suffix);
    if (Text == NULL || Text->Length < Wanted.Length)
        return FALSE;
    Tail.Buffer = (PWSTR)((PUCHAR)Text->Buffer + Text->Length - Wanted.Length);
    Tail.Length = Tail.MaximumLength = Wanted.Length;
    return RtlEqualUnicodeString(&Tail, &Wanted, TRUE);
}

/* Remember (or forget) an allowed process id. */
static VOID SetAllowed(HANDLE ProcessId, BOOLEAN Allow)
{
    KIRQL Irql;
    ULONG Index;
    KeAcquireSpinLock(&AllowedLock, &Irql);
    for (Index = 0; Index < MAX_ALLOWED; Index++) {
        if (Allow && Allowed[Index] == NULL) {
            Allowed[Index] = ProcessId;
            break;
        }
        if (!Allow && Allowed[Index] == ProcessId)
            Allowed[Index] = NULL;
    }
    KeReleaseSpinLock(&AllowedLock, Irql);
}

static BOOLEAN IsAllowed(HANDLE ProcessId)
{
    KIRQL Irql;
    ULONG Index;
    BOOLEAN Found = FALSE;
    KeAcquireSpinLock(&AllowedLock, &Irql);
    for (Index = 0; Index < MAX_ALLOWED && !Found; Index++)
        Found = Allowed[Index] == ProcessId;
    KeReleaseSpinLock(&AllowedLock, Irql);
    return Found;
}

/* Process starts and exits: record the allowed image's processes. */
static VOID ProcessNotify(PEPROCESS Process, HANDLE ProcessId, PPS_CREATE_NOTIFY_INFO CreateInfo)
{
    UNREFERENCED_PARAMETER(Process);
    if (CreateInfo == NULL) {
        SetAllowed(ProcessId, FALSE);
        return;
    }
    if (EndsWith(CreateInfo->ImageFileName, AllowedImage)) {
        DbgPrint("process_protector: allowing process %p (%wZ)\n", ProcessId, CreateInfo->ImageFileName);
        SetAllowed(ProcessId, TRUE);
    }
}

/* Whether a key object is the protected key or lies under it. */
static BOOLEAN IsProtected(PVOID Object)
{
    ULONG Needed = 0;
    POBJECT_NAME_INFORMATION Name;
    UNICODE_STRING Prefix;
    BOOLEAN Protected = FALSE;
    if (ObQueryNameString(Object, NULL, 0, &Needed) != STATUS_INFO_LENGTH_MISMATCH || Needed == 0)
        return FALSE;
    Name = ExAllocatePoolWithTag(PagedPool, Needed, TAG);
    if (Name == NULL)
        return FALSE;
    if (NT_SUCCESS(ObQueryNameString(Object, Name, Needed, &Needed))) {
        RtlInitUnicodeString(&Prefix, ProtectedKey);
        Protected = RtlPrefixUnicodeString(&Prefix, &Name->Name, TRUE) &&
                    (Name->Name.Length == Prefix.Length ||
                     Name->Name.Buffer[Prefix.Length / sizeof(WCHAR)] == L'\\');
    }
    ExFreePoolWithTag(Name, TAG);
    return Protected;
}

static NTSTATUS Check(PVOID Object, const char *What)
{
    PEPROCESS Process;
    PUNICODE_STRING Image = NULL;
    if (ExGetPreviousMode() == KernelMode || IsAllowed(PsGetCurrentProcessId()) || !IsProtected(Object))
        return STATUS_SUCCESS;
    Process = PsGetCurrentProcess();
    if (NT_SUCCESS(SeLocateProcessImageName(Process, &Image))) {
        DbgPrint("process_protector: denied %s by %s (process %p, %wZ)\n", What, PsGetProcessImageFileName(Process),
                 PsGetCurrentProcessId(), Image);
        ExFreePool(Image);
    }
    return STATUS_ACCESS_DENIED;
}

static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(CallbackContext);
    switch ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1) {
    case RegNtPreSetValueKey:
        return Check(((PREG_SET_VALUE_KEY_INFORMATION)Argument2)->Object, "set-value");
    case RegNtPreDeleteValueKey:
        return Check(((PREG_DELETE_VALUE_KEY_INFORMATION)Argument2)->Object, "delete-value");
    case RegNtPreDeleteKey:
        return Check(((PREG_DELETE_KEY_INFORMATION)Argument2)->Object, "delete-key");
    case RegNtPreRenameKey:
        return Check(((PREG_RENAME_KEY_INFORMATION)Argument2)->Object, "rename-key");
    default:
        return STATUS_SUCCESS;
    }
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    if (NotifyRegistered)
        PsSetCreateProcessNotifyRoutineEx(ProcessNotify, TRUE);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    UNREFERENCED_PARAMETER(RegistryPath);
    KeInitializeSpinLock(&AllowedLock);
    DriverObject->DriverUnload = DriverUnload;
    Status = PsSetCreateProcessNotifyRoutineEx(ProcessNotify, FALSE);
    if (!NT_SUCCESS(Status)) {
        /* On Windows: STATUS_ACCESS_DENIED unless the driver was linked with /INTEGRITYCHECK. */
        DbgPrint("process_protector: PsSetCreateProcessNotifyRoutineEx failed 0x%08lx\n", Status);
        return Status;
    }
    NotifyRegistered = TRUE;
    Status = CmRegisterCallback(RegistryCallback, NULL, &Cookie);
    if (!NT_SUCCESS(Status)) {
        PsSetCreateProcessNotifyRoutineEx(ProcessNotify, TRUE);
        NotifyRegistered = FALSE;
    }
    return Status;
}
