/* Version tests as drivers write them: NTDDI_VERSION against the NTDDI_ constants,
 * _WIN32_WINNT against _WIN32_WINNT_ ones, the service-pack field. */
#include <ntddk.h>

#if (NTDDI_VERSION >= NTDDI_VISTA)
#define TARGET "Vista or later"
#elif (NTDDI_VERSION >= NTDDI_WS03)
#define TARGET "Server 2003"
#elif (NTDDI_VERSION >= NTDDI_WINXP)
#define TARGET "XP"
#else
#define TARGET "older"
#endif

#if _WIN32_WINNT >= _WIN32_WINNT_WS03
#define WINNT_AT_LEAST_WS03 1
#else
#define WINNT_AT_LEAST_WS03 0
#endif

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("ntddi_version: %s ntddi %08lx winnt %04lx sp %lu ws03+ %d\n", TARGET, (ULONG)NTDDI_VERSION,
             (ULONG)_WIN32_WINNT, (ULONG)SPVER(NTDDI_VERSION), WINNT_AT_LEAST_WS03);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
