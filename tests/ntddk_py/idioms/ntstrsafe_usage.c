/* Bounded strings as a registry filter builds a key path: copy and append into a fixed
 * buffer (truncation is STATUS_BUFFER_OVERFLOW), measure, describe with RtlUnicodeStringInit,
 * copy into a small UNICODE_STRING, and the A forms for a log line. */
#include <ntifs.h>
#include <ntstrsafe.h>

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WCHAR Path[64], Small[8];
    CHAR Line[12];
    WCHAR ShortBuffer[4];
    UNICODE_STRING Whole, Short;
    size_t Cch;
    SIZE_T Cb;
    NTSTATUS Status[9];

    Status[0] = RtlStringCchCopyW(Path, ARRAYSIZE(Path), L"\\REGISTRY\\MACHINE");
    Status[1] = RtlStringCchCatW(Path, ARRAYSIZE(Path), L"\\SOFTWARE");
    Status[2] = RtlStringCchLengthW(Path, ARRAYSIZE(Path), &Cch);
    Status[3] = RtlStringCbLengthW(Path, sizeof(Path), &Cb);
    Status[4] = RtlStringCbCopyW(Small, sizeof(Small), L"truncated!");
    Status[5] = RtlUnicodeStringInit(&Whole, Path);
    RtlInitEmptyUnicodeString(&Short, ShortBuffer, sizeof(ShortBuffer));
    Status[6] = RtlUnicodeStringCopy(&Short, &Whole);
    Status[7] = RtlStringCchCopyA(Line, ARRAYSIZE(Line), "loaded from ");
    Status[8] = RtlStringCchCopyNW(Small, 0, L"x", 1);
    DbgPrint("ntstrsafe_usage: %08lx %08lx %08lx %08lx %08lx %08lx %08lx %08lx %08lx\n", Status[0], Status[1],
             Status[2], Status[3], Status[4], Status[5], Status[6], Status[7], Status[8]);
    DbgPrint("ntstrsafe_usage: %ws cch %Iu cb %Iu small %ws whole %wZ short %wZ line [%s] %wZ\n", Path, (SIZE_T)Cch, Cb,
             Small, &Whole, &Short, Line, RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
