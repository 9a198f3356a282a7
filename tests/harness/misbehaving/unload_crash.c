/* A NULL dereference in DriverUnload: 0x7E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED (a system thread's fault). */
#include <ntddk.h>

typedef struct _SETTINGS {
    ULONG Mode;
} SETTINGS;

static SETTINGS *volatile Settings; /* freed and cleared before the unload */

static __attribute__((noinline)) VOID ForgetSettings(VOID)
{
    Settings->Mode = 0;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    DbgPrint("forgetting the settings\n");
    ForgetSettings();
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
