/* A filter that includes only wdm.h, as WDM drivers do: the registry callback routines,
 * counted strings and lists all come with it. */
#include <wdm.h>

static LARGE_INTEGER Cookie;
static LIST_ENTRY Seen;

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Argument1);
    UNREFERENCED_PARAMETER(Argument2);
    return STATUS_SUCCESS;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    InitializeListHead(&Seen);
    DbgPrint("wdm_only: %wZ empty %d\n", RegistryPath, IsListEmpty(&Seen));
    DriverObject->DriverUnload = DriverUnload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
