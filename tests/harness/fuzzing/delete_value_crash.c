/* Fuzz target: a callback that dereferences NULL on every value deletion, whatever its name. */
#include <ntddk.h>

static LARGE_INTEGER Cookie;

static NTSTATUS OnRegistry(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument2);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreDeleteValueKey)
        *(volatile LONG *)NULL = 1;
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
