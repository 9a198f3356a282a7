/*
 * crt_wide.c - the kernel's C runtime string routines, on 16-bit WCHAR strings (and the narrow
 * case-insensitive compares the C library does not have). ntddk.h declares them; a name the C
 * library also defines gets its symbol from ntddk.h's asm label (CmhookCrt_wcslen ...), so that no
 * filter call reaches the C library's 32-bit wchar_t routines. The printf family is in
 * rtl_format.c, on the shim's one format engine.
 *
 * Case is the C locale's, the kernel's only one: 'A'-'Z' and 'a'-'z' alone (Microsoft's towlower
 * documentation: in the "C" locale only ASCII letters change). The _s routines return what the
 * CRT's do (Microsoft's wcscpy_s, wcsncpy_s and wcscat_s documentation): EINVAL for a NULL or
 * 0-sized destination or a NULL source, ERANGE when the result does not fit (the destination
 * then holds an empty string), STRUNCATE when wcsncpy_s with _TRUNCATE cut it.
 */
#include <ntddk.h>
#include "cmhook_shim.h"
#include "shim_internal.h"

#define CRT_EINVAL 22
#define CRT_ERANGE 34

static unsigned Lower(unsigned C)
{
    return C >= 'A' && C <= 'Z' ? C + ('a' - 'A') : C;
}

static unsigned Upper(unsigned C)
{
    return C >= 'a' && C <= 'z' ? C - ('a' - 'A') : C;
}

size_t __cdecl wcslen(const WCHAR *String)
{
    const WCHAR *P = String;
    while (*P)
        P++;
    return (size_t)(P - String);
}

size_t __cdecl wcsnlen(const WCHAR *String, size_t MaxCount)
{
    size_t N = 0;
    while (N < MaxCount && String[N])
        N++;
    return N;
}

WCHAR *__cdecl wcscpy(WCHAR *Destination, const WCHAR *Source)
{
    WCHAR *D = Destination;
    while ((*D++ = *Source++) != 0)
        ;
    return Destination;
}

WCHAR *__cdecl wcsncpy(WCHAR *Destination, const WCHAR *Source, size_t Count)
{
    size_t I = 0;
    for (; I < Count && Source[I]; I++)
        Destination[I] = Source[I];
    for (; I < Count; I++) /* the rest is NULs, as C's wcsncpy; none when Source is as long */
        Destination[I] = 0;
    return Destination;
}

WCHAR *__cdecl wcscat(WCHAR *Destination, const WCHAR *Source)
{
    wcscpy(Destination + wcslen(Destination), Source);
    return Destination;
}

WCHAR *__cdecl wcsncat(WCHAR *Destination, const WCHAR *Source, size_t Count)
{
    WCHAR *D = Destination + wcslen(Destination);
    while (Count-- && *Source)
        *D++ = *Source++;
    *D = 0;
    return Destination;
}

int __cdecl wcscmp(const WCHAR *String1, const WCHAR *String2)
{
    while (*String1 && *String1 == *String2) {
        String1++;
        String2++;
    }
    return *String1 < *String2 ? -1 : *String1 > *String2;
}

int __cdecl wcsncmp(const WCHAR *String1, const WCHAR *String2, size_t Count)
{
    for (; Count; Count--, String1++, String2++)
        if (*String1 != *String2 || !*String1)
            return *String1 < *String2 ? -1 : *String1 > *String2;
    return 0;
}

int __cdecl _wcsnicmp(const WCHAR *String1, const WCHAR *String2, size_t Count)
{
    for (; Count; Count--, String1++, String2++) {
        unsigned A = Lower(*String1), B = Lower(*String2);
        if (A != B || !A)
            return (int)A - (int)B;
    }
    return 0;
}

int __cdecl _wcsicmp(const WCHAR *String1, const WCHAR *String2)
{
    return _wcsnicmp(String1, String2, (size_t)-1);
}

WCHAR *__cdecl wcschr(const WCHAR *String, WCHAR Character)
{
    for (;; String++) {
        if (*String == Character)
            return (WCHAR *)String;
        if (!*String)
            return NULL;
    }
}

WCHAR *__cdecl wcsrchr(const WCHAR *String, WCHAR Character)
{
    const WCHAR *Last = NULL;
    for (;; String++) {
        if (*String == Character)
            Last = String;
        if (!*String)
            return (WCHAR *)Last;
    }
}

WCHAR *__cdecl wcsstr(const WCHAR *String, const WCHAR *Search)
{
    size_t N = wcslen(Search);
    if (N == 0)
        return (WCHAR *)String;
    for (; *String; String++)
        if (wcsncmp(String, Search, N) == 0)
            return (WCHAR *)String;
    return NULL;
}

__WINT_TYPE__ __cdecl towlower(__WINT_TYPE__ Character)
{
    return Lower(Character);
}

__WINT_TYPE__ __cdecl towupper(__WINT_TYPE__ Character)
{
    return Upper(Character);
}

WCHAR *__cdecl _wcslwr(WCHAR *String)
{
    WCHAR *P;
    for (P = String; *P; P++)
        *P = (WCHAR)Lower(*P);
    return String;
}

WCHAR *__cdecl _wcsupr(WCHAR *String)
{
    WCHAR *P;
    for (P = String; *P; P++)
        *P = (WCHAR)Upper(*P);
    return String;
}

errno_t __cdecl wcscpy_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source)
{
    rsize_t I;
    if (Destination == NULL || SizeInWords == 0)
        return CRT_EINVAL;
    if (Source == NULL) {
        Destination[0] = 0;
        return CRT_EINVAL;
    }
    for (I = 0; I < SizeInWords; I++)
        if ((Destination[I] = Source[I]) == 0)
            return 0;
    Destination[0] = 0;
    return CRT_ERANGE;
}

errno_t __cdecl wcsncpy_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source, rsize_t Count)
{
    rsize_t I;
    if (Count == 0 && Destination == NULL && SizeInWords == 0)
        return 0; /* nothing asked, nothing to write to */
    if (Destination == NULL || SizeInWords == 0)
        return CRT_EINVAL;
    if (Count == 0) {
        Destination[0] = 0;
        return 0;
    }
    if (Source == NULL) {
        Destination[0] = 0;
        return CRT_EINVAL;
    }
    for (I = 0; I < SizeInWords; I++) {
        if (I == Count || Source[I] == 0) {
            Destination[I] = 0;
            return 0;
        }
        Destination[I] = Source[I];
    }
    if (Count == _TRUNCATE) {
        Destination[SizeInWords - 1] = 0;
        return STRUNCATE;
    }
    Destination[0] = 0;
    return CRT_ERANGE;
}

errno_t __cdecl wcscat_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source)
{
    rsize_t End = 0, I;
    if (Destination == NULL || SizeInWords == 0)
        return CRT_EINVAL;
    if (Source == NULL) {
        Destination[0] = 0;
        return CRT_EINVAL;
    }
    while (End < SizeInWords && Destination[End])
        End++;
    if (End == SizeInWords) { /* the destination is not terminated within its size */
        Destination[0] = 0;
        return CRT_EINVAL;
    }
    for (I = 0; End + I < SizeInWords; I++)
        if ((Destination[End + I] = Source[I]) == 0)
            return 0;
    Destination[0] = 0;
    return CRT_ERANGE;
}

int __cdecl _strnicmp(const char *String1, const char *String2, size_t Count)
{
    for (; Count; Count--, String1++, String2++) {
        unsigned A = Lower((unsigned char)*String1), B = Lower((unsigned char)*String2);
        if (A != B || !A)
            return (int)A - (int)B;
    }
    return 0;
}

int __cdecl _stricmp(const char *String1, const char *String2)
{
    return _strnicmp(String1, String2, (size_t)-1);
}
