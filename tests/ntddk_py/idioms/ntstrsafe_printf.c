/* Formatted names as registry filters make them: the Parameters key under RegistryPath with
 * RtlStringCbPrintfW and %wZ, a value name with RtlUnicodeStringPrintf, a log line with
 * RtlStringCchPrintfA and %ws, a truncated one, the Ex form's end and remaining count, and the
 * kernel CRT's _snwprintf and wcslen on the result. */
#include <ntifs.h>
#include <ntstrsafe.h>

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WCHAR Parameters[128], NameBuffer[16], Tiny[6], Counted[32];
    CHAR Line[160];
    UNICODE_STRING Name;
    PWSTR End;
    size_t Remaining;
    NTSTATUS Status[5];
    int Written;

    DriverObject->DriverUnload = DriverUnload;
    Status[0] = RtlStringCbPrintfW(Parameters, sizeof(Parameters), L"%wZ\\Parameters", RegistryPath);
    RtlInitEmptyUnicodeString(&Name, NameBuffer, sizeof(NameBuffer));
    Status[1] = RtlUnicodeStringPrintf(&Name, L"Instance%02u", 7u);
    Status[2] = RtlStringCchPrintfA(Line, ARRAYSIZE(Line), "%ws has %Iu characters", Parameters,
                                    (size_t)wcslen(Parameters));
    Status[3] = RtlStringCchPrintfW(Tiny, ARRAYSIZE(Tiny), L"%s", L"truncated");
    Status[4] = RtlStringCchPrintfExW(Counted, ARRAYSIZE(Counted), &End, &Remaining, 0, L"pid %lu", 4ul);
    Written = _snwprintf(Counted + (End - Counted), Remaining, L"/%I64x", 0x10000000000ull);
    DbgPrint("ntstrsafe_printf: %08x %08x %08x %08x %08x\n", Status[0], Status[1], Status[2], Status[3], Status[4]);
    DbgPrint("ntstrsafe_printf: %ws | %wZ | %s | %ws | %ws %Iu %d\n", Parameters, &Name, Line, Tiny, Counted,
             Remaining, Written);
    return STATUS_SUCCESS;
}
