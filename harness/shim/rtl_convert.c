/*
 * rtl_convert.c - Rtl string conversions, duplicates and numbers, with Windows' statuses (the
 * facts: Microsoft's documentation of each routine; where it is silent, Wine's and ReactOS's
 * behaviour, which agree). The ANSI code page is taken as ISO-8859-1: a CHAR is the WCHAR of the
 * same value, a WCHAR above 0xFF becomes '?' (the default character). Buffers allocated for the
 * caller come from the shim's pool, tagged 'GrtS' as RtlUpcaseUnicodeString's, so the harness
 * tracks them and RtlFreeUnicodeString / RtlFreeAnsiString free them.
 */
#include <ntifs.h>
#include "cmhook_shim.h"
#include "shim_internal.h"
#include <pthread.h>

#define STRING_TAG 'GrtS'

static PVOID AllocateString(SIZE_T Bytes, ULONG_PTR Caller)
{
    return CmhookPoolAllocate(PagedPool, Bytes, STRING_TAG, Caller);
}

/* RtlUnicodeStringToAnsiSize: the characters and the NUL. */
NTSTATUS NTAPI RtlUnicodeStringToAnsiString(PANSI_STRING DestinationString, PCUNICODE_STRING SourceString,
                                            BOOLEAN AllocateDestinationString)
{
    SIZE_T Count = SourceString->Length / sizeof(WCHAR), Size = Count + 1, I;
    NTSTATUS Status = STATUS_SUCCESS;
    if (Size > 0xFFFF)
        return STATUS_INVALID_PARAMETER_2;
    DestinationString->Length = (USHORT)Count;
    if (AllocateDestinationString) {
        DestinationString->Buffer = AllocateString(Size, CmhookModuleBase(__builtin_return_address(0)));
        if (DestinationString->Buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = (USHORT)Size;
    } else if (DestinationString->Length >= DestinationString->MaximumLength) {
        /* What fits is converted, and terminated: the rest is lost, and said so. */
        if (DestinationString->MaximumLength == 0)
            return STATUS_BUFFER_OVERFLOW;
        Status = STATUS_BUFFER_OVERFLOW;
        DestinationString->Length = (USHORT)(DestinationString->MaximumLength - 1);
    }
    for (I = 0; I < DestinationString->Length; I++) {
        WCHAR C = SourceString->Buffer[I];
        DestinationString->Buffer[I] = (CHAR)(C <= 0xFF ? C : '?');
    }
    DestinationString->Buffer[DestinationString->Length] = 0;
    return Status;
}

/* RtlAnsiStringToUnicodeSize: two bytes per character and the NUL's. */
NTSTATUS NTAPI RtlAnsiStringToUnicodeString(PUNICODE_STRING DestinationString, PCANSI_STRING SourceString,
                                            BOOLEAN AllocateDestinationString)
{
    SIZE_T Size = (SourceString->Length + 1) * sizeof(WCHAR), I;
    if (Size > 0xFFFF)
        return STATUS_INVALID_PARAMETER_2;
    DestinationString->Length = (USHORT)(Size - sizeof(WCHAR));
    if (AllocateDestinationString) {
        DestinationString->Buffer = AllocateString(Size, CmhookModuleBase(__builtin_return_address(0)));
        if (DestinationString->Buffer == NULL)
            return STATUS_NO_MEMORY;
        DestinationString->MaximumLength = (USHORT)Size;
    } else if (DestinationString->Length >= DestinationString->MaximumLength) {
        return STATUS_BUFFER_OVERFLOW;
    }
    for (I = 0; I < SourceString->Length; I++)
        DestinationString->Buffer[I] = (UCHAR)SourceString->Buffer[I];
    DestinationString->Buffer[SourceString->Length] = 0;
    return STATUS_SUCCESS;
}

VOID NTAPI RtlFreeAnsiString(PANSI_STRING AnsiString)
{
    if (AnsiString->Buffer != NULL)
        CmhookPoolFree(AnsiString->Buffer, STRING_TAG, FALSE, CmhookModuleBase(__builtin_return_address(0)));
    AnsiString->Buffer = NULL;
    AnsiString->Length = AnsiString->MaximumLength = 0;
}

BOOLEAN NTAPI RtlCreateUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    SIZE_T Count = 0, Size;
    while (SourceString[Count])
        Count++;
    Size = (Count + 1) * sizeof(WCHAR);
    if (Size > 0xFFFE)
        return FALSE;
    DestinationString->Buffer = AllocateString(Size, CmhookModuleBase(__builtin_return_address(0)));
    if (DestinationString->Buffer == NULL)
        return FALSE;
    __builtin_memcpy(DestinationString->Buffer, SourceString, Size);
    DestinationString->Length = (USHORT)(Size - sizeof(WCHAR));
    DestinationString->MaximumLength = (USHORT)Size;
    return TRUE;
}

/* Flags: RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE (1) adds a NUL; with it,
 * ..._ALLOCATE_NULL_STRING (2) allocates one even for an empty source (2 alone, or any other bit,
 * is STATUS_INVALID_PARAMETER); an empty source otherwise gives an empty string, no buffer. */
NTSTATUS NTAPI RtlDuplicateUnicodeString(ULONG Flags, PCUNICODE_STRING StringIn, PUNICODE_STRING StringOut)
{
    SIZE_T Size;
    if (StringIn == NULL || StringOut == NULL || StringIn->Length > StringIn->MaximumLength ||
        (StringIn->Length == 0 && StringIn->MaximumLength > 0 && StringIn->Buffer == NULL) ||
        Flags == RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING || Flags >= 4)
        return STATUS_INVALID_PARAMETER;
    if (StringIn->Length == 0 && Flags != (RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE |
                                           RTL_DUPLICATE_UNICODE_STRING_ALLOCATE_NULL_STRING)) {
        StringOut->Length = StringOut->MaximumLength = 0;
        StringOut->Buffer = NULL;
        return STATUS_SUCCESS;
    }
    Size = StringIn->Length + ((Flags & RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE) ? sizeof(WCHAR) : 0);
    if (Size > 0xFFFF)
        return STATUS_NAME_TOO_LONG;
    StringOut->Buffer = AllocateString(Size, CmhookModuleBase(__builtin_return_address(0)));
    if (StringOut->Buffer == NULL)
        return STATUS_NO_MEMORY;
    __builtin_memcpy(StringOut->Buffer, StringIn->Buffer, StringIn->Length);
    if (Flags & RTL_DUPLICATE_UNICODE_STRING_NULL_TERMINATE)
        StringOut->Buffer[StringIn->Length / sizeof(WCHAR)] = 0;
    StringOut->Length = StringIn->Length;
    StringOut->MaximumLength = (USHORT)Size;
    return STATUS_SUCCESS;
}

/* Leading characters up to ' ' are skipped, then one sign; Base 0 reads a 0x, 0o or 0b prefix
 * (else 10); digits are read up to the first that is not one of Base's, and none is no error. */
NTSTATUS NTAPI RtlUnicodeStringToInteger(PCUNICODE_STRING String, ULONG Base, PULONG Value)
{
    const WCHAR *P = String->Buffer;
    SIZE_T Left = String->Length / sizeof(WCHAR);
    ULONG Total = 0;
    BOOLEAN Minus = FALSE;
    while (Left && *P <= ' ') {
        P++;
        Left--;
    }
    if (Left && (*P == '+' || *P == '-')) {
        Minus = *P == '-';
        P++;
        Left--;
    }
    if (Base == 0) {
        Base = 10;
        if (Left >= 2 && P[0] == '0') {
            if (P[1] == 'b') Base = 2;
            else if (P[1] == 'o') Base = 8;
            else if (P[1] == 'x') Base = 16;
            if (Base != 10) {
                P += 2;
                Left -= 2;
            }
        }
    } else if (Base != 2 && Base != 8 && Base != 10 && Base != 16) {
        return STATUS_INVALID_PARAMETER;
    }
    if (Value == NULL)
        return STATUS_ACCESS_VIOLATION;
    for (; Left; P++, Left--) {
        ULONG Digit;
        if (*P >= '0' && *P <= '9') Digit = *P - '0';
        else if (*P >= 'A' && *P <= 'Z') Digit = *P - 'A' + 10;
        else if (*P >= 'a' && *P <= 'z') Digit = *P - 'a' + 10;
        else break;
        if (Digit >= Base)
            break;
        Total = Total * Base + Digit;
    }
    *Value = Minus ? 0u - Total : Total;
    return STATUS_SUCCESS;
}

/* Digits in upper case; Length is set to the text's, and STATUS_BUFFER_OVERFLOW when the text
 * and a NUL do not fit in MaximumLength (then nothing is written). */
static NTSTATUS NumberToString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    WCHAR Digits[65];
    SIZE_T Count = 0, I;
    if (Base == 0)
        Base = 10;
    if (Base != 2 && Base != 8 && Base != 10 && Base != 16)
        return STATUS_INVALID_PARAMETER;
    do {
        Digits[Count++] = (WCHAR)"0123456789ABCDEF"[Value % Base];
        Value /= Base;
    } while (Value);
    String->Length = (USHORT)(Count * sizeof(WCHAR));
    if (String->Length >= String->MaximumLength)
        return STATUS_BUFFER_OVERFLOW;
    for (I = 0; I < Count; I++)
        String->Buffer[I] = Digits[Count - 1 - I];
    String->Buffer[Count] = 0;
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlIntegerToUnicodeString(ULONG Value, ULONG Base, PUNICODE_STRING String)
{
    return NumberToString(Value, Base, String);
}

NTSTATUS NTAPI RtlInt64ToUnicodeString(ULONGLONG Value, ULONG Base, PUNICODE_STRING String)
{
    return NumberToString(Value, Base, String);
}

/* The inverse of the upcase table (RtlUpcaseUnicodeChar's): a character some other upcases to
 * downcases to the first such (so 'S' to 's'); any other is itself. Built once, on first use. */
static WCHAR DowncaseTable[65536];

static void BuildDowncaseTable(void)
{
    ULONG C;
    for (C = 0; C < 65536; C++)
        DowncaseTable[C] = (WCHAR)C;
    for (C = 65535; C > 0; C--) /* downwards, so the lowest source is the one kept */
        if (CmhookUpcaseTable[C] != C)
            DowncaseTable[CmhookUpcaseTable[C]] = (WCHAR)C;
}

WCHAR NTAPI RtlDowncaseUnicodeChar(WCHAR SourceCharacter)
{
    static pthread_once_t Once = PTHREAD_ONCE_INIT;
    pthread_once(&Once, BuildDowncaseTable);
    return DowncaseTable[SourceCharacter];
}

/* ---------------------------------------------------------------------------
 * Version conditions: three bits per type, at the type bit's index (Microsoft's
 * VerSetConditionMask documentation).
 * ------------------------------------------------------------------------- */
ULONGLONG NTAPI VerSetConditionMask(ULONGLONG ConditionMask, ULONG TypeMask, UCHAR Condition)
{
    ULONG Index;
    if (TypeMask == 0)
        return ConditionMask;
    Condition &= VER_CONDITION_MASK;
    for (Index = 0; Index < 8; Index++) /* one type is documented; each bit set gets it, as Wine has it */
        if (TypeMask & (1u << Index))
            ConditionMask |= (ULONGLONG)Condition << (Index * VER_NUM_BITS_PER_CONDITION_MASK);
    return ConditionMask;
}
