/* ASSERT, NT_ASSERT and their message forms, NT_VERIFY and RTL_SOFT_ASSERT, as drivers use
 * them: a failure is reported and execution goes on; NT_VERIFY's expression is evaluated in
 * every build (DBG=0 too) and its truth returned. */
#include <ntddk.h>

static ULONG Evaluated;

static BOOLEAN Touch(BOOLEAN Result)
{
    Evaluated++;
    return Result;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    ULONG Verified = 0;
    UNREFERENCED_PARAMETER(RegistryPath);
    ASSERT(RegistryPath != NULL);
    ASSERT(RegistryPath->Length == 1);
    NT_ASSERT(DriverObject->DriverUnload == NULL);
    NT_ASSERT(DriverObject == NULL);
    ASSERTMSG("path must be empty: ", RegistryPath->Length == 0);
    NT_ASSERTMSGW(u"wide message: ", 2 + 2 == 5);
    if (NT_VERIFY(Touch(TRUE)))
        Verified++;
    if (!NT_VERIFY(Touch(FALSE)))
        Verified += 10;
    NT_VERIFYMSG("verified with a message", Touch(TRUE));
    RTL_SOFT_ASSERT(Evaluated == 0);
    DbgPrint("assertions: verified %lu evaluated %lu\n", Verified, Evaluated);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
