/* ntstrsafe's rules at their edges, checked from DriverEntry: an empty or oversized
 * destination, an exact fit, one character too many, a Cat into an unterminated buffer, byte
 * counts that are not whole characters, and the UNICODE_STRING routines' validation and
 * truncation. DriverEntry fails if a check fails. */
#include <ntddk.h>
#include <ntstrsafe.h>

static ULONG Failures;

#define CHECK(e) \
    do { \
        if (!NT_VERIFY(e)) \
            Failures++; \
    } while (0)

static BOOLEAN Same(const WCHAR *a, const WCHAR *b)
{
    while (*a != 0 && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static BOOLEAN Holds(PCUNICODE_STRING s, const WCHAR *Text)
{
    USHORT i;
    for (i = 0; i < s->Length / sizeof(WCHAR); i++)
        if (Text[i] == 0 || s->Buffer[i] != Text[i])
            return FALSE;
    return Text[i] == 0;
}

static VOID Strings(VOID)
{
    WCHAR Four[4], Big[16];
    CHAR Narrow[4];
    size_t Length;

    Four[0] = 'q';
    CHECK(RtlStringCchCopyW(Four, 0, L"abc") == STATUS_INVALID_PARAMETER && Four[0] == 'q'); /* 0: untouched */
    CHECK(RtlStringCchCopyW(Four, (size_t)NTSTRSAFE_MAX_CCH + 1, L"abc") == STATUS_INVALID_PARAMETER && Four[0] == 0);
    CHECK(RtlStringCchCopyW(Four, 4, L"abc") == STATUS_SUCCESS && Same(Four, L"abc")); /* exact fit */
    CHECK(RtlStringCchCopyW(Four, 4, L"abcd") == STATUS_BUFFER_OVERFLOW && Same(Four, L"abc"));
    CHECK(RtlStringCbCopyW(Four, 7, L"abcd") == STATUS_BUFFER_OVERFLOW && Same(Four, L"ab")); /* 7 bytes: 3 chars */
    CHECK(RtlStringCchCopyNW(Four, 4, L"abcdef", 2) == STATUS_SUCCESS && Same(Four, L"ab"));
    CHECK(RtlStringCchCopyNW(Four, 4, L"abcdef", 0) == STATUS_SUCCESS && Four[0] == 0);
    CHECK(RtlStringCbCopyNW(Four, sizeof(Four), L"abcdef", 3 * sizeof(WCHAR)) == STATUS_SUCCESS && Same(Four, L"abc"));

    CHECK(RtlStringCchCopyW(Four, 4, L"ab") == STATUS_SUCCESS);
    CHECK(RtlStringCchCatW(Four, 4, L"c") == STATUS_SUCCESS && Same(Four, L"abc")); /* fills it exactly */
    CHECK(RtlStringCchCatW(Four, 4, L"") == STATUS_SUCCESS && Same(Four, L"abc"));
    CHECK(RtlStringCchCatW(Four, 4, L"d") == STATUS_BUFFER_OVERFLOW && Same(Four, L"abc"));
    Four[0] = Four[1] = Four[2] = Four[3] = 'x'; /* no NUL within its size: a Cat refuses, touching nothing */
    CHECK(RtlStringCchCatW(Four, 4, L"d") == STATUS_INVALID_PARAMETER && Four[3] == 'x');
    CHECK(RtlStringCchCatW(Four, 0, L"d") == STATUS_INVALID_PARAMETER);
    CHECK(RtlStringCchCopyW(Big, ARRAYSIZE(Big), L"key") == STATUS_SUCCESS);
    CHECK(RtlStringCchCatNW(Big, ARRAYSIZE(Big), L"\\valuename", 6) == STATUS_SUCCESS && Same(Big, L"key\\value"));
    CHECK(RtlStringCbCatW(Big, sizeof(Big), L"123456") == STATUS_SUCCESS && Same(Big, L"key\\value123456"));
    CHECK(RtlStringCbCatNW(Big, sizeof(Big), L"7", sizeof(WCHAR)) == STATUS_BUFFER_OVERFLOW);

    CHECK(RtlStringCchLengthW(L"abc", 4, &Length) == STATUS_SUCCESS && Length == 3);
    CHECK(RtlStringCchLengthW(L"abc", 3, &Length) == STATUS_INVALID_PARAMETER && Length == 0); /* no NUL within 3 */
    CHECK(RtlStringCchLengthW(NULL, 3, &Length) == STATUS_INVALID_PARAMETER && Length == 0);
    CHECK(RtlStringCchLengthW(L"abc", (size_t)NTSTRSAFE_MAX_CCH + 1, NULL) == STATUS_INVALID_PARAMETER);
    CHECK(RtlStringCbLengthW(L"abc", 8, &Length) == STATUS_SUCCESS && Length == 6);
    CHECK(RtlStringCbLengthW(L"abc", 7, &Length) == STATUS_INVALID_PARAMETER && Length == 0);

    CHECK(RtlStringCchCopyA(Narrow, 4, "abcd") == STATUS_BUFFER_OVERFLOW && Narrow[3] == 0 && Narrow[2] == 'c');
    CHECK(RtlStringCbCatA(Narrow, 4, "") == STATUS_SUCCESS);
    CHECK(RtlStringCbLengthA(Narrow, 4, &Length) == STATUS_SUCCESS && Length == 3);
}

static VOID CountedStrings(VOID)
{
    WCHAR Buffer[6];
    UNICODE_STRING Dest, Source, Bad;

    CHECK(RtlUnicodeStringInit(&Source, L"abcdefgh") == STATUS_SUCCESS && Source.Length == 16 &&
          Source.MaximumLength == 18);
    CHECK(RtlUnicodeStringInit(&Bad, NULL) == STATUS_SUCCESS && Bad.Length == 0 && Bad.MaximumLength == 0 &&
          Bad.Buffer == NULL);
    CHECK(RtlUnicodeStringValidate(&Source) == STATUS_SUCCESS);
    Bad.Length = 3;
    Bad.MaximumLength = 4;
    Bad.Buffer = Buffer;
    CHECK(RtlUnicodeStringValidate(&Bad) == STATUS_INVALID_PARAMETER); /* odd Length */
    Bad.Length = 6;
    CHECK(RtlUnicodeStringValidate(&Bad) == STATUS_INVALID_PARAMETER); /* Length > MaximumLength */
    Bad.Length = 0;
    Bad.Buffer = NULL;
    CHECK(RtlUnicodeStringValidate(&Bad) == STATUS_INVALID_PARAMETER); /* no Buffer, MaximumLength 4 */

    RtlInitEmptyUnicodeString(&Dest, Buffer, sizeof(Buffer));
    CHECK(RtlUnicodeStringCopy(&Dest, &Source) == STATUS_BUFFER_OVERFLOW && Holds(&Dest, L"abcdef")); /* no NUL */
    CHECK(RtlUnicodeStringCopyString(&Dest, L"xy") == STATUS_SUCCESS && Holds(&Dest, L"xy"));
    CHECK(RtlUnicodeStringCatString(&Dest, L"zw") == STATUS_SUCCESS && Holds(&Dest, L"xyzw"));
    CHECK(RtlUnicodeStringCatString(&Dest, L"123") == STATUS_BUFFER_OVERFLOW && Holds(&Dest, L"xyzw12"));
    CHECK(RtlUnicodeStringCopyString(&Dest, L"") == STATUS_SUCCESS && Dest.Length == 0);
    CHECK(RtlUnicodeStringCat(&Dest, &Source) == STATUS_BUFFER_OVERFLOW && Dest.Length == sizeof(Buffer));
    Dest.Length = 3;
    CHECK(RtlUnicodeStringCat(&Dest, &Source) == STATUS_INVALID_PARAMETER && Dest.Length == 3);
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    Strings();
    CountedStrings();
    DbgPrint("ntstrsafe_edges: %lu failures\n", Failures);
    DriverObject->DriverUnload = DriverUnload;
    return Failures == 0 ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
