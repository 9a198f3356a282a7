/* MSVC's storage words: __declspec(noinline), DECLSPEC_NOINLINE, __declspec(align(n)),
 * DECLSPEC_ALIGN, DECLSPEC_CACHEALIGN, __forceinline, FORCEINLINE, __declspec(selectany),
 * calling-convention words and __declspec(dllexport) on DriverEntry. */
#include <ntddk.h>

__declspec(align(64)) static UCHAR Aligned64[3];
static DECLSPEC_ALIGN(32) UCHAR Aligned32[5];
static DECLSPEC_CACHEALIGN LONG CacheLine;
__declspec(selectany) const ULONG SharedLimit = 7;
static volatile ULONG One = 1, Two = 2, Ten = 10;

__declspec(noinline) static ULONG NotInlinedByDeclspec(ULONG x)
{
    return x + 1;
}

DECLSPEC_NOINLINE static ULONG NotInlinedByMacro(ULONG x)
{
    return x + 2;
}

static __forceinline ULONG AlwaysInlined(ULONG x)
{
    return x * 3;
}

FORCEINLINE ULONG InlinedToo(ULONG x)
{
    return x * 5;
}

static ULONG __stdcall StdCall(ULONG x)
{
    return x - 1;
}

static ULONG __cdecl CDecl(ULONG x)
{
    return x - 2;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

__declspec(dllexport) NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DbgPrint("declspec_inline: aligned %d %d %d values %lu %lu %lu %lu %lu %lu %lu\n",
             ((ULONG_PTR)Aligned64 & 63) == 0, ((ULONG_PTR)Aligned32 & 31) == 0, ((ULONG_PTR)&CacheLine & 63) == 0,
             NotInlinedByDeclspec(One), NotInlinedByMacro(One), AlwaysInlined(Two), InlinedToo(Two), StdCall(Ten),
             CDecl(Ten), SharedLimit);
    Aligned64[0] = Aligned32[0] = (UCHAR)CacheLine;
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
