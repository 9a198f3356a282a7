/* Section placement as WDK samples write it: #pragma alloc_text under ALLOC_PRAGMA, code_seg,
 * data_seg, warning and prefast pragmas, and PAGED_CODE() in the pageable routines. gcc and
 * clang have no such sections: the pragmas are ignored without a warning. */
#pragma warning(push)
#pragma warning(disable: 4201) /* nameless struct/union, in the headers too */
#include <ntddk.h>

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD DriverUnload;
static NTSTATUS ReadParameters(PUNICODE_STRING RegistryPath);

#ifdef ALLOC_PRAGMA
#pragma alloc_text(INIT, DriverEntry)
#pragma alloc_text(INIT, ReadParameters)
#pragma alloc_text(PAGE, DriverUnload)
#endif

#ifdef ALLOC_DATA_PRAGMA
#pragma data_seg("PAGEDATA")
#endif
static ULONG Loaded;
#ifdef ALLOC_DATA_PRAGMA
#pragma data_seg()
#endif

#pragma code_seg("PAGE")
static ULONG PagedHelper(ULONG Value)
{
    PAGED_CODE();
    return Value * 2;
}
#pragma code_seg()

#pragma prefast(suppress: 28101, "a DriverEntry by another name")
static NTSTATUS ReadParameters(PUNICODE_STRING RegistryPath)
{
    PAGED_CODE();
    return RegistryPath->Length != 0 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    PAGED_CODE();
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status = ReadParameters(RegistryPath);
    if (!NT_SUCCESS(Status))
        return Status;
    Loaded = PagedHelper(21);
    DbgPrint("alloc_text_pragmas: loaded %lu\n", Loaded);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
#pragma warning(pop)
