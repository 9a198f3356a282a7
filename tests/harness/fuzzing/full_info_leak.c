/* Fuzz target: a callback that allocates a buffer for each KeyValueFullInformation query and never
 * frees it: a pool leak the unload check reports, on one information class only. */
#include <ntddk.h>

static LARGE_INTEGER Cookie;

static NTSTATUS OnRegistry(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreQueryValueKey) {
        PREG_QUERY_VALUE_KEY_INFORMATION Info = (PREG_QUERY_VALUE_KEY_INFORMATION)Argument2;
        if (Info->KeyValueInformationClass == KeyValueFullInformation)
            (void)ExAllocatePoolWithTag(PagedPool, 64, 'kaeL');
    }
    return STATUS_SUCCESS;
}

static VOID Unload(PDRIVER_OBJECT Driver)
{
    UNREFERENCED_PARAMETER(Driver);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    Driver->DriverUnload = Unload;
    return CmRegisterCallback(OnRegistry, NULL, &Cookie);
}
