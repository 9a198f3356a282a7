/* Compile-time checks and counts: C_ASSERT at file and block scope, ARRAYSIZE and
 * RTL_NUMBER_OF over a table, RTL_FIELD_SIZE, FIELD_OFFSET, RTL_SIZEOF_THROUGH_FIELD,
 * CONTAINING_RECORD, the ALIGN_ and page macros, min/max and the integer limits. */
#include <ntddk.h>

typedef struct _RULE {
    ULONG Flags;
    WCHAR Name[20];
    LIST_ENTRY Link;
} RULE, *PRULE;

static const PCWSTR Watched[] = {u"Run", u"RunOnce", u"Services", u"Winlogon"};

C_ASSERT(sizeof(LIST_ENTRY) == 16);
C_ASSERT(FIELD_OFFSET(DRIVER_OBJECT, DriverUnload) == 0x68);
C_ASSERT(RTL_FIELD_SIZE(RULE, Name) == 40);
C_ASSERT(ARRAYSIZE(Watched) == 4);

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    RULE Rule;
    PLIST_ENTRY Link = &Rule.Link;
    UCHAR Buffer[100];
    C_ASSERT(RTL_NUMBER_OF(Rule.Name) == 20);
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("sizes_and_counts: %ws watched %lu %lu %lu name %lu through %lu offset %ld back %d\n",
             Watched[ARRAYSIZE(Watched) - 1], (ULONG)ARRAYSIZE(Watched), (ULONG)RTL_NUMBER_OF(Watched), (ULONG)_countof(Buffer),
             (ULONG)RTL_FIELD_SIZE(RULE, Name), (ULONG)RTL_SIZEOF_THROUGH_FIELD(RULE, Name),
             FIELD_OFFSET(RULE, Link), CONTAINING_RECORD(Link, RULE, Link) == &Rule);
    DbgPrint("sizes_and_counts: align %lu %lu pages %lu %lu min %d max %d\n",
             (ULONG)ALIGN_UP_BY(13, 8), (ULONG)ALIGN_DOWN_BY(13, 8), (ULONG)BYTES_TO_PAGES(4097),
             (ULONG)ROUND_TO_PAGES(1), min(3, -2), max(3, -2));
    DbgPrint("sizes_and_counts: limits %lx %lx %I64x %x\n", (ULONG)MAXULONG, (ULONG)MAXLONG,
             (ULONGLONG)MAXULONGLONG, (ULONG)MAXUSHORT);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
