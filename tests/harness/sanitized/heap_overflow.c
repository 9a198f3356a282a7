/* heap_overflow.c - copies a set-value's data into an 8-byte pool block, whatever its size:
 * a heap overflow for any value longer than 8 bytes, which AddressSanitizer reports (tests/harness/test_sanitizers.py). */
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey) {
        PREG_SET_VALUE_KEY_INFORMATION Info = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
        PUCHAR Copy = ExAllocatePoolWithTag(PagedPool, 8, 'fOvH');
        if (Copy == NULL) return STATUS_SUCCESS;
        RtlCopyMemory(Copy, Info->Data, Info->DataSize);   /* DataSize may exceed 8 */
        ExFreePoolWithTag(Copy, 'fOvH');
    }
    return STATUS_SUCCESS;
}
static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); CmUnRegisterCallback(Cookie); }
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
