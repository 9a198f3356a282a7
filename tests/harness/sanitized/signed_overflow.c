/* signed_overflow.c - adds each set-value's size to a LONG that starts near MAXLONG: a signed
 * overflow at the first set-value, which UndefinedBehaviorSanitizer reports (tests/harness/test_sanitizers.py). */
#include <ntddk.h>
static LARGE_INTEGER Cookie;
static volatile LONG Total = 0x7ffffff0;
static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey) {
        PREG_SET_VALUE_KEY_INFORMATION Info = (PREG_SET_VALUE_KEY_INFORMATION)Argument2;
        Total = Total + (LONG)Info->DataSize;          /* signed overflow once the total passes MAXLONG */
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
