/* The first lines of many real filters: ntifs.h (which includes ntddk.h and wdm.h) and
 * ntstrsafe.h, spelt as the sources spell them on a case-insensitive Windows. */
#include <Ntifs.h>
#include <NtStrSafe.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD DriverUnload;

VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
#if defined(_NTIFS_) && defined(_NTDDK_) && defined(_WDMDDK_) && defined(_NTSTRSAFE_H_INCLUDED_)
    DbgPrint("ntifs_prelude: ntifs ntddk wdm ntstrsafe\n");
#endif
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
