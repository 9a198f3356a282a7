/* Pool, a resource, a lookaside list and time as registry filters use them: zeroed pool by the
 * target's routine (ExAllocatePool2 from Windows 10 2004, ExAllocatePoolZero before), a table of
 * per-value counters under an ERESOURCE taken in a critical region, its entries from a lookaside
 * list, and the time of the first write as local TIME_FIELDS. */
#include <ntddk.h>

#if (NTDDI_VERSION >= NTDDI_WIN10_VB)
#define ALLOCATE_ZEROED(Size, Tag) ExAllocatePool2(POOL_FLAG_PAGED, (Size), (Tag))
#define POOL_ROUTINE "ExAllocatePool2"
#else
#define ALLOCATE_ZEROED(Size, Tag) ExAllocatePoolZero(PagedPool, (Size), (Tag))
#define POOL_ROUTINE "ExAllocatePoolZero"
#endif

#define TAG_TABLE 'lbaT'
#define TAG_ENTRY 'yrtE'

typedef struct _COUNTER {
    LIST_ENTRY Link;
    ULONG Writes;
    USHORT NameLength;
    WCHAR Name[32];
} COUNTER, *PCOUNTER;

typedef struct _TABLE {
    ERESOURCE Lock;
    LIST_ENTRY Counters;
    LARGE_INTEGER FirstWrite;
} TABLE, *PTABLE;

static PTABLE Table;
static PAGED_LOOKASIDE_LIST Entries;
static LARGE_INTEGER Cookie;

static PCOUNTER FindCounter(PCUNICODE_STRING Name)
{
    for (PLIST_ENTRY Link = Table->Counters.Flink; Link != &Table->Counters; Link = Link->Flink) {
        PCOUNTER Counter = CONTAINING_RECORD(Link, COUNTER, Link);
        if (Counter->NameLength == Name->Length && RtlCompareMemory(Counter->Name, Name->Buffer, Name->Length) ==
                                                       Name->Length)
            return Counter;
    }
    return NULL;
}

static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    PREG_SET_VALUE_KEY_INFORMATION Info = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
    PCOUNTER Counter;
    UNREFERENCED_PARAMETER(CallbackContext);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 != RegNtPreSetValueKey || Info->ValueName->Length > sizeof(Counter->Name))
        return STATUS_SUCCESS;
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(&Table->Lock, TRUE);
    Counter = FindCounter(Info->ValueName);
    if (Counter == NULL && (Counter = ExAllocateFromPagedLookasideList(&Entries)) != NULL) {
        RtlZeroMemory(Counter, sizeof(*Counter));
        RtlCopyMemory(Counter->Name, Info->ValueName->Buffer, Info->ValueName->Length);
        Counter->NameLength = Info->ValueName->Length;
        InsertTailList(&Table->Counters, &Counter->Link);
    }
    if (Counter != NULL)
        Counter->Writes++;
    if (Table->FirstWrite.QuadPart == 0)
        KeQuerySystemTime(&Table->FirstWrite);
    ExReleaseResourceLite(&Table->Lock);
    KeLeaveCriticalRegion();
    return STATUS_SUCCESS;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    LARGE_INTEGER Local;
    TIME_FIELDS When;
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    ExSystemTimeToLocalTime(&Table->FirstWrite, &Local);
    RtlTimeToTimeFields(&Local, &When);
    DbgPrint("ex_pool_resource_time: first write %04d-%02d-%02d %02d:%02d:%02d.%03d weekday %d\n", When.Year,
             When.Month, When.Day, When.Hour, When.Minute, When.Second, When.Milliseconds, When.Weekday);
    while (!IsListEmpty(&Table->Counters)) {
        PCOUNTER Counter = CONTAINING_RECORD(RemoveHeadList(&Table->Counters), COUNTER, Link);
        DbgPrint("ex_pool_resource_time: %.*ws written %lu\n", Counter->NameLength / 2, Counter->Name,
                 Counter->Writes);
        ExFreeToPagedLookasideList(&Entries, Counter);
    }
    ExDeletePagedLookasideList(&Entries);
    ExDeleteResourceLite(&Table->Lock);
    ExFreePoolWithTag(Table, TAG_TABLE);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NTSTATUS Status;
    BOOLEAN Zeroed;
    UNREFERENCED_PARAMETER(RegistryPath);
    Table = ALLOCATE_ZEROED(sizeof(*Table), TAG_TABLE);
    if (Table == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    Zeroed = Table->FirstWrite.QuadPart == 0 && Table->Counters.Flink == NULL;
    ExInitializeResourceLite(&Table->Lock);
    InitializeListHead(&Table->Counters);
    ExInitializePagedLookasideList(&Entries, NULL, NULL, 0, sizeof(COUNTER), TAG_ENTRY, 0);
    Status = CmRegisterCallback(RegistryCallback, NULL, &Cookie);
    if (!NT_SUCCESS(Status)) {
        ExDeletePagedLookasideList(&Entries);
        ExDeleteResourceLite(&Table->Lock);
        ExFreePoolWithTag(Table, TAG_TABLE);
        return Status;
    }
    DbgPrint("ex_pool_resource_time: table from " POOL_ROUTINE " zeroed %d\n", Zeroed);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
