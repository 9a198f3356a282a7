/* PAGED_CODE() in a pageable routine: silent at PASSIVE_LEVEL, a report when the routine is
 * called at DISPATCH_LEVEL (here: under a spin lock), as a checked build reports it. */
#include <ntddk.h>

static KSPIN_LOCK Lock;

static ULONG Pageable(ULONG Value)
{
    PAGED_CODE();
    return Value + 1;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    KIRQL OldIrql;
    ULONG Value;
    UNREFERENCED_PARAMETER(RegistryPath);
    Value = Pageable(1);
    DbgPrint("paged_code: passive %lu\n", Value);
    KeInitializeSpinLock(&Lock);
    KeAcquireSpinLock(&Lock, &OldIrql);
    Value = Pageable(Value);
    KeReleaseSpinLock(&Lock, OldIrql);
    DbgPrint("paged_code: dispatch %lu\n", Value);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
