/* wdmsec.h as drivers use it: an SDDL string for a control device's security, and
 * RtlInitUnicodeStringEx, which refuses a string too long for a UNICODE_STRING. */
#include <ntddk.h>
#include <wdmsec.h>

static WCHAR Long[40000];

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING Name, TooLong;
    NTSTATUS Fits, Refused;
    ULONG i;
    UNREFERENCED_PARAMETER(RegistryPath);
    for (i = 0; i < ARRAYSIZE(Long) - 1; i++)
        Long[i] = 'x';
    Fits = RtlInitUnicodeStringEx(&Name, L"\\Device\\RegFilter");
    if (!NT_SUCCESS(Fits))
        return Fits;
    TooLong.Length = 7;
    TooLong.MaximumLength = 9;
    TooLong.Buffer = NULL;
    Refused = RtlInitUnicodeStringEx(&TooLong, Long);
    DbgPrint("wdmsec_sddl: %wZ %wZ %08lx %u/%u %08lx untouched %d\n", &SDDL_DEVOBJ_SYS_ALL_ADM_ALL, &Name, Fits,
             Name.Length, Name.MaximumLength, Refused,
             TooLong.Length == 7 && TooLong.MaximumLength == 9 && TooLong.Buffer == NULL);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
