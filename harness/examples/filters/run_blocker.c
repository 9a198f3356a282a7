/*
 * run_blocker.c - the specification's section 2.4 routine, made complete.
 *
 * Persistence through ...\Microsoft\Windows\CurrentVersion\Run is the classic way for
 * malware to start at every logon. This filter fails every attempt to set or delete a
 * value under a key named ...\CurrentVersion\Run unless the calling process's image lies
 * under \Windows\ (and kernel-mode callers, which are trusted). It logs every set-value
 * with its key's full name, asked of the object manager with ObQueryNameString.
 *
 * Build and run:  cmhook build run_blocker.c  &&  cmhook run run_blocker.so ...
 */
#include <ntddk.h>

#define TAG 'kBnR'

static LARGE_INTEGER Cookie;
static const WCHAR RunSuffix[] = L"\\Microsoft\\Windows\\CurrentVersion\\Run";
static const WCHAR WindowsDirectory[] = L"\\Windows\\";

/* The key's full name (\REGISTRY\...), from the pool; the caller frees it. */
static POBJECT_NAME_INFORMATION QueryKeyName(PVOID Object)
{
    ULONG Needed = 0;
    POBJECT_NAME_INFORMATION Name;
    if (ObQueryNameString(Object, NULL, 0, &Needed) != STATUS_INFO_LENGTH_MISMATCH || Needed == 0)
        return NULL;
    Name = ExAllocatePoolWithTag(PagedPool, Needed, TAG);
    if (Name != NULL && !NT_SUCCESS(ObQueryNameString(Object, Name, Needed, &Needed))) {
        ExFreePoolWithTag(Name, TAG);
        return NULL;
    }
    return Name;
}

static BOOLEAN EndsWithRun(PCUNICODE_STRING KeyName)
{
    UNICODE_STRING Tail, Suffix;
    USHORT SuffixBytes = (USHORT)(wcslen(RunSuffix) * sizeof(WCHAR));
    if (KeyName->Length < SuffixBytes)
        return FALSE;
    Tail.Buffer = (PWSTR)((PUCHAR)KeyName->Buffer + KeyName->Length - SuffixBytes);
    Tail.Length = Tail.MaximumLength = SuffixBytes;
    RtlInitUnicodeString(&Suffix, RunSuffix);
    return RtlEqualUnicodeString(&Tail, &Suffix, TRUE);
}

/* Whether the calling process's image lies under \Windows\. */
static BOOLEAN CallerIsWindowsComponent(VOID)
{
    UCHAR Buffer[512];
    PUNICODE_STRING Image = (PUNICODE_STRING)Buffer;
    ULONG Needed;
    UNICODE_STRING Directory;
    USHORT Index;
    if (!NT_SUCCESS(ZwQueryInformationProcess(NtCurrentProcess(), ProcessImageFileName, Buffer, sizeof(Buffer),
                                              &Needed)))
        return FALSE;
    RtlInitUnicodeString(&Directory, WindowsDirectory);
    for (Index = 0; Index + Directory.Length <= Image->Length; Index += sizeof(WCHAR)) {
        UNICODE_STRING Window;
        Window.Buffer = (PWSTR)((PUCHAR)Image->Buffer + Index);
        Window.Length = Window.MaximumLength = Directory.Length;
        if (RtlEqualUnicodeString(&Window, &Directory, TRUE))
            return TRUE;
    }
    return FALSE;
}

static NTSTATUS CheckWrite(PVOID Object, PCUNICODE_STRING ValueName, BOOLEAN IsSet)
{
    NTSTATUS Status = STATUS_SUCCESS;
    POBJECT_NAME_INFORMATION KeyName = QueryKeyName(Object);
    if (KeyName == NULL)
        return STATUS_SUCCESS;
    if (IsSet)
        DbgPrint("run_blocker: set-value %wZ\\%wZ by process %p\n", &KeyName->Name, ValueName,
                 PsGetCurrentProcessId());
    if (EndsWithRun(&KeyName->Name) && ExGetPreviousMode() == UserMode && !CallerIsWindowsComponent()) {
        DbgPrint("run_blocker: blocked %s of %wZ under %wZ\n", IsSet ? "set" : "delete", ValueName,
                 &KeyName->Name);
        Status = STATUS_ACCESS_DENIED;
    }
    ExFreePoolWithTag(KeyName, TAG);
    return Status;
}

static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    REG_NOTIFY_CLASS Type = (REG_NOTIFY_CLASS)(ULONG_PTR)Argument1;
    UNREFERENCED_PARAMETER(CallbackContext);

    switch (Type) {
    case RegNtPreSetValueKey: {
        PREG_SET_VALUE_KEY_INFORMATION SetValue = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
        return CheckWrite(SetValue->Object, SetValue->ValueName, TRUE);
    }
    case RegNtPreDeleteValueKey: {
        PREG_DELETE_VALUE_KEY_INFORMATION DeleteValue = (PREG_DELETE_VALUE_KEY_INFORMATION)Argument2;
        return CheckWrite(DeleteValue->Object, DeleteValue->ValueName, FALSE);
    }
    default:
        /* Not of interest: let the call pass through. */
        return STATUS_SUCCESS;
    }
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    DbgPrint("run_blocker: loading from %wZ\n", RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    Status = CmRegisterCallback(RegistryCallback, NULL, &Cookie);
    if (!NT_SUCCESS(Status))
        DbgPrint("run_blocker: CmRegisterCallback failed 0x%08lx\n", Status);
    return Status;
}
