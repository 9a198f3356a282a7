/* Fuzz target: a callback that copies a set value's name into a 20-character buffer without a
 * bound, and faults (on purpose, at once) when the name is longer: the boundary a fuzzer must find. */
#include <ntddk.h>

static LARGE_INTEGER Cookie;

static NTSTATUS OnRegistry(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey) {
        PREG_SET_VALUE_KEY_INFORMATION Info = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
        if (Info->ValueName->Length > 20 * sizeof(WCHAR))
            *(volatile LONG *)NULL = 1;
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
