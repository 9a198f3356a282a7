/* counted.c - denies set-values named "Deny" and counts the others: a script that never sets
 * "Deny" leaves the denying branch unexecuted, which coverage shows (tests/harness/test_sanitizers.py). */
#include <ntddk.h>

static LARGE_INTEGER Cookie;
static ULONG Allowed;

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    PREG_SET_VALUE_KEY_INFORMATION Info;
    UNICODE_STRING Deny;
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 != RegNtPreSetValueKey)
        return STATUS_SUCCESS;
    Info = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
    RtlInitUnicodeString(&Deny, L"Deny");
    if (RtlEqualUnicodeString(Info->ValueName, &Deny, TRUE)) {
        DbgPrint("counted: denied\n");
        return STATUS_ACCESS_DENIED;
    }
    Allowed++;
    return STATUS_SUCCESS;
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("counted: %lu allowed\n", Allowed);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
