/*
 * What the misbehaving filters share: DriverEntry registers Callback and DriverUnload
 * unregisters it, as any well-behaved filter does. Callback says so in DbgPrint, then hands
 * RegNtPreSetValueKey to the filter's own OnPreSetValueKey, which misbehaves in a function of
 * its own (never inlined, so that the report names that function).
 */
#include <ntddk.h>

#ifndef DECLSPEC_NOINLINE
#define DECLSPEC_NOINLINE __attribute__((noinline))
#endif

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info);

static LARGE_INTEGER Cookie;

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 != RegNtPreSetValueKey)
        return STATUS_SUCCESS;
    DbgPrint("about to misbehave in RegNtPreSetValueKey\n");
    return OnPreSetValueKey((PREG_SET_VALUE_KEY_INFORMATION)Argument2);
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    DbgPrint("loaded\n");
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
