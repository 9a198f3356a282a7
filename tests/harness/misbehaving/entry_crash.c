/* A NULL dereference in DriverEntry: 0x7E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (a system thread's fault). */
#include <ntddk.h>

typedef struct _SETTINGS {
    ULONG Mode;
} SETTINGS;

static SETTINGS *volatile Settings; /* never allocated */

static __attribute__((noinline)) ULONG ReadSettings(VOID)
{
    return Settings->Mode;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    DbgPrint("reading the settings\n");
    return ReadSettings() ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
