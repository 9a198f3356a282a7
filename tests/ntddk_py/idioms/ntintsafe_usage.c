/* Safe integer arithmetic as a filter sizes its buffers: the count of records times their
 * size (RtlSizeTMult, with SIZE_T and size_t results), a name's length plus a header
 * (RtlULongAdd), a 64-bit size that must fit a ULONG (RtlULongLongToULong), a LONG that
 * must not be negative (RtlLongToULong), a USHORT Length (RtlULongToUShort). */
#include <ntddk.h>
#include <ntintsafe.h>

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    SIZE_T Bytes;
    size_t Total;
    ULONG Sum, Narrow, Unsigned;
    USHORT Length;
    NTSTATUS Status[8];
    PVOID Records;

    UNREFERENCED_PARAMETER(RegistryPath);
    Status[0] = RtlSizeTMult(100, sizeof(KEY_VALUE_PARTIAL_INFORMATION), &Bytes);
    Status[1] = RtlSizeTMult((SIZE_T)1 << 40, (SIZE_T)1 << 30, &Bytes);
    Status[2] = RtlSizeTAdd(40, 2, &Total);
    Status[3] = RtlULongAdd(0xFFFFFFF0u, 0x20u, &Sum);
    Status[4] = RtlULongLongToULong(0x100000000ull, &Narrow);
    Status[5] = RtlLongToULong(-5, &Unsigned);
    Status[6] = RtlULongToUShort(70000, &Length);
    Status[7] = RtlSizeTMult(3, 4, &Bytes);
    Records = ExAllocatePoolWithTag(PagedPool, Bytes, 'tnIS');
    if (Records == NULL)
        return STATUS_INSUFFICIENT_RESOURCES;
    ExFreePoolWithTag(Records, 'tnIS');
    DbgPrint("ntintsafe_usage: %08lx %08lx %08lx %08lx %08lx %08lx %08lx %08lx\n", Status[0], Status[1], Status[2],
             Status[3], Status[4], Status[5], Status[6], Status[7]);
    DbgPrint("ntintsafe_usage: bytes %Iu total %Iu sum %lx narrow %lx unsigned %lx length %x\n", Bytes, (SIZE_T)Total,
             Sum, Narrow, Unsigned, Length);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
