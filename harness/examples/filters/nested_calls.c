/*
 * nested_calls.c - a filter that uses the registry from inside its callback.
 *
 * Before every set-value it reads the value's current data through the Zw API (opening the
 * key by the name ObQueryNameString gives) and logs the old and the new type and size. The
 * specification promises that "callbacks will not be invoked for registry APIs called from
 * inside a callback", so these nested calls reach no callback, this one included.
 */
#include <ntddk.h>

#define TAG 'tseN'

static LARGE_INTEGER Cookie;
static volatile LONG NestedCalls;

static VOID LogOldValue(PREG_SET_VALUE_KEY_INFORMATION SetValue)
{
    ULONG Needed = 0;
    POBJECT_NAME_INFORMATION Name;
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key;
    UCHAR Buffer[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 64];
    PKEY_VALUE_PARTIAL_INFORMATION Old = (PKEY_VALUE_PARTIAL_INFORMATION)Buffer;
    NTSTATUS Status;

    ObQueryNameString(SetValue->Object, NULL, 0, &Needed);
    Name = ExAllocatePoolWithTag(PagedPool, Needed, TAG);
    if (Name == NULL)
        return;
    if (NT_SUCCESS(ObQueryNameString(SetValue->Object, Name, Needed, &Needed))) {
        InitializeObjectAttributes(&Attributes, &Name->Name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
        Status = ZwOpenKey(&Key, KEY_QUERY_VALUE, &Attributes);
        InterlockedIncrement(&NestedCalls);
        if (NT_SUCCESS(Status)) {
            Status = ZwQueryValueKey(Key, SetValue->ValueName, KeyValuePartialInformation, Old, sizeof(Buffer),
                                     &Needed);
            InterlockedIncrement(&NestedCalls);
            if (NT_SUCCESS(Status) || Status == STATUS_BUFFER_OVERFLOW)
                DbgPrint("nested_calls: %wZ was type %lu, %lu bytes; becomes type %lu, %lu bytes\n",
                         SetValue->ValueName, Old->Type, Old->DataLength, SetValue->Type, SetValue->DataSize);
            else
                DbgPrint("nested_calls: %wZ is new (0x%08lx)\n", SetValue->ValueName, Status);
            ZwClose(Key);
            InterlockedIncrement(&NestedCalls);
        }
    }
    ExFreePoolWithTag(Name, TAG);
}

static NTSTATUS RegistryCallback(PVOID CallbackContext, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(CallbackContext);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 == RegNtPreSetValueKey)
        LogOldValue((PREG_SET_VALUE_KEY_INFORMATION)Argument2);
    return STATUS_SUCCESS;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
    DbgPrint("nested_calls: %ld nested registry calls\n", NestedCalls);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return CmRegisterCallback(RegistryCallback, NULL, &Cookie);
}
