/* Win32 names in kernel code: DWORD, BOOL, BYTE, WORD, INT, UINT, LONG_PTR, DWORD_PTR,
 * SIZE_T, PCHAR, LPCWSTR and MSVC's __int64, at their Windows x64 widths. */
#include <ntddk.h>

C_ASSERT(sizeof(DWORD) == 4 && sizeof(BOOL) == 4 && sizeof(BYTE) == 1 && sizeof(WORD) == 2);
C_ASSERT(sizeof(INT) == 4 && sizeof(UINT) == 4 && sizeof(LONG) == 4 && sizeof(ULONG) == 4);
C_ASSERT(sizeof(LONG_PTR) == 8 && sizeof(DWORD_PTR) == 8 && sizeof(SIZE_T) == 8 && sizeof(ULONG_PTR) == 8);
C_ASSERT(sizeof(unsigned __int64) == 8 && sizeof(__int32) == 4 && sizeof(DWORD64) == 8 && sizeof(UINT8) == 1);

static DWORD Checksum(CONST BYTE *Data, SIZE_T Length)
{
    DWORD Sum = 0;
    SIZE_T i;
    for (i = 0; i < Length; i++)
        Sum = (Sum << 1 | Sum >> 31) ^ Data[i];
    return Sum;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    static const CHAR Text[] = "cmhook";
    PCHAR Cursor = (PCHAR)Text;
    LPCWSTR Wide = u"kooH";
    BOOL Found = FALSE;
    WORD Low = (WORD)0x12345678;
    DWORD_PTR Address = (DWORD_PTR)DriverObject;
    LONG_PTR Negative = -1;
    unsigned __int64 Big = 0xFFFFFFFFFFFFFFFFull;
    INT Count = 0;
    UNREFERENCED_PARAMETER(RegistryPath);
    while (*Cursor != 0) {
        Count++;
        Cursor++;
    }
    Found = Wide[3] == 'H';
    DbgPrint("win32_types: checksum %08lx found %d low %04x count %d negative %I64d big %I64x aligned %d\n",
             Checksum((CONST BYTE *)Text, sizeof(Text) - 1), Found, Low, Count, Negative, Big,
             (Address & 7) == 0);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
