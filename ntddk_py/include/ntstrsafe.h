/*
 * ntstrsafe.h - bounded string routines, inline as in the WDK's ntstrsafe.h.
 *
 * What is here, each with the WDK's semantics (the W routines take WCHAR strings, 16 bits:
 * build with -fshort-wchar for L"..." literals, as cmhook build does):
 *
 *   RtlStringCchCopy{W,A}, RtlStringCbCopy{W,A}, RtlStringCchCopyN{W,A}, RtlStringCbCopyN{W,A}
 *   RtlStringCchCat{W,A},  RtlStringCbCat{W,A},  RtlStringCchCatN{W,A},  RtlStringCbCatN{W,A}
 *   RtlStringCchLength{W,A}, RtlStringCbLength{W,A}
 *   RtlUnicodeStringInit, RtlUnicodeStringValidate, RtlUnicodeStringCopy,
 *   RtlUnicodeStringCopyString, RtlUnicodeStringCat, RtlUnicodeStringCatString
 *   RtlStringCchPrintf{W,A}, RtlStringCbPrintf{W,A}, RtlStringCchVPrintf{W,A}, RtlStringCbVPrintf{W,A},
 *   RtlUnicodeStringPrintf, RtlUnicodeStringVPrintf
 *   the Ex forms: RtlStringCchCopyEx{W,A}, RtlStringCchCopyNEx{W,A}, RtlStringCbCopyEx{W,A},
 *   RtlStringCchCatEx{W,A}, RtlStringCbCatEx{W,A}, RtlStringCchPrintfEx{W,A},
 *   RtlStringCbPrintfEx{W,A}, RtlStringCchVPrintfEx{W,A}, RtlStringCbVPrintfEx{W,A}
 *
 * A destination of 0 characters, or of more than NTSTRSAFE_MAX_CCH, is STATUS_INVALID_PARAMETER
 * (a copy or a printf then writes an empty string where it can); a result that does not fit is
 * truncated, NUL-terminated, and STATUS_BUFFER_OVERFLOW; a Cat whose destination has no NUL within
 * its size is STATUS_INVALID_PARAMETER and leaves it as it was. The UNICODE_STRING routines keep
 * to NTSTRSAFE_UNICODE_STRING_MAX_CCH characters and set Length even when they truncate; they
 * never NUL-terminate, except RtlUnicodeStringPrintf, which (as _vsnwprintf) writes a NUL when
 * room is left after the text.
 *
 * The printf routines call the kernel CRT's _vsnprintf and _vsnwprintf (declared by ntddk.h,
 * implemented by the kernel shim), as the WDK's do, so the format is Windows': in the W routines
 * %s and %c are WCHAR and %S and %C CHAR (the other way round in the A routines), %hs %ls %ws are
 * explicit, %wZ takes a PUNICODE_STRING, %Z a PANSI_STRING, l is 32 bits, %I64d 64, and %p prints
 * 16 upper-case hex digits.
 *
 * The Ex forms take the STRSAFE_* flags and report the end pointer and the remaining count (see
 * their section below). Not here: RtlStringCbCopyNEx, RtlStringCchCatNEx, RtlStringCbCatNEx, the
 * UNICODE_STRING Ex forms (RtlUnicodeStringCopyEx ...) and the gets/length-only workers; a source
 * calling one fails to compile, naming it.
 *
 * size_t: the counts are size_t as in the WDK; a routine writing a count (RtlStringCchLengthW)
 * accepts a SIZE_T * as well (SIZE_T and size_t are one type on Windows, two here).
 */
#ifndef _NTSTRSAFE_H_INCLUDED_
#define _NTSTRSAFE_H_INCLUDED_

#include "ntddk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef CHAR *NTSTRSAFE_PSTR;
typedef const CHAR *NTSTRSAFE_PCSTR;
typedef WCHAR *NTSTRSAFE_PWSTR;
typedef const WCHAR *NTSTRSAFE_PCWSTR;
typedef const WCHAR UNALIGNED *NTSTRSAFE_PCUWSTR;

#define NTSTRSAFEDDI FORCEINLINE NTSTATUS NTAPI
#define NTSTRSAFE_INLINE_API FORCEINLINE NTSTATUS NTAPI

#define NTSTRSAFE_MAX_CCH 2147483647
#define NTSTRSAFE_MAX_LENGTH (NTSTRSAFE_MAX_CCH - 1)
#define NTSTRSAFE_UNICODE_STRING_MAX_CCH (0xffff / sizeof(WCHAR))

#define STRSAFE_IGNORE_NULLS     0x00000100
#define STRSAFE_FILL_BEHIND_NULL 0x00000200
#define STRSAFE_FILL_ON_FAILURE  0x00000400
#define STRSAFE_NULL_ON_FAILURE  0x00000800
#define STRSAFE_NO_TRUNCATION    0x00001000
#define STRSAFE_ZERO_LENGTH_ON_FAILURE STRSAFE_NULL_ON_FAILURE
#define STRSAFE_VALID_FLAGS (0x000000FF | STRSAFE_IGNORE_NULLS | STRSAFE_FILL_BEHIND_NULL | \
                             STRSAFE_FILL_ON_FAILURE | STRSAFE_NULL_ON_FAILURE | STRSAFE_NO_TRUNCATION)
#define STRSAFE_FILL_BYTE(x) ((ULONG)(((x) & 0x000000FF) | STRSAFE_FILL_BEHIND_NULL))
#define STRSAFE_FAILURE_BYTE(x) ((ULONG)(((x) & 0x000000FF) | STRSAFE_FILL_ON_FAILURE))
#define STRSAFE_GET_FILL_PATTERN(dwFlags) ((int)((dwFlags) & 0x000000FF))

/* A SIZE_T * where a size_t * is asked for (see above). */
#define _CMHOOK_STRSAFE_SIZE_T(p) _Generic((p), SIZE_T *: (size_t *)(void *)(p), default: (p))

/* The workers and the public routines, once for WCHAR (W) and once for CHAR (A). */
#define _CMHOOK_STRSAFE_ROUTINES(S, T) \
    FORCEINLINE NTSTATUS CmhookStrsafeLength##S(const T *Psz, size_t CchMax, size_t *PcchLength) \
    { \
        size_t Original = CchMax; \
        NTSTATUS Status = STATUS_SUCCESS; \
        while (CchMax && *Psz != 0) { \
            Psz++; \
            CchMax--; \
        } \
        if (CchMax == 0) \
            Status = STATUS_INVALID_PARAMETER; \
        if (PcchLength != NULL) \
            *PcchLength = NT_SUCCESS(Status) ? Original - CchMax : 0; \
        return Status; \
    } \
    FORCEINLINE NTSTATUS CmhookStrsafeCopy##S(T *Dest, size_t CchDest, const T *Src, size_t CchToCopy) \
    { \
        NTSTATUS Status = STATUS_SUCCESS; \
        while (CchDest && CchToCopy && *Src != 0) { \
            *Dest++ = *Src++; \
            CchDest--; \
            CchToCopy--; \
        } \
        if (CchDest == 0) { \
            Dest--; /* truncated: the last character gives way to the NUL */ \
            Status = STATUS_BUFFER_OVERFLOW; \
        } \
        *Dest = 0; \
        return Status; \
    } \
    FORCEINLINE NTSTATUS CmhookStrsafeCopyN##S(T *Dest, size_t CchDest, const T *Src, size_t CchToCopy) \
    { \
        if (CchDest == 0 || CchDest > NTSTRSAFE_MAX_CCH) { \
            if (CchDest > 0) \
                *Dest = 0; \
            return STATUS_INVALID_PARAMETER; \
        } \
        if (CchToCopy > NTSTRSAFE_MAX_LENGTH) { \
            *Dest = 0; \
            return STATUS_INVALID_PARAMETER; \
        } \
        return CmhookStrsafeCopy##S(Dest, CchDest, Src, CchToCopy); \
    } \
    FORCEINLINE NTSTATUS CmhookStrsafeCatN##S(T *Dest, size_t CchDest, const T *Src, size_t CchToAppend) \
    { \
        size_t CchDestLength; \
        NTSTATUS Status; \
        if (CchDest == 0 || CchDest > NTSTRSAFE_MAX_CCH) \
            return STATUS_INVALID_PARAMETER; \
        Status = CmhookStrsafeLength##S(Dest, CchDest, &CchDestLength); \
        if (!NT_SUCCESS(Status)) \
            return Status; \
        if (CchToAppend > NTSTRSAFE_MAX_LENGTH) \
            return STATUS_INVALID_PARAMETER; \
        return CmhookStrsafeCopy##S(Dest + CchDestLength, CchDest - CchDestLength, Src, CchToAppend); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCopy##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc) \
    { return CmhookStrsafeCopyN##S(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_LENGTH); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCopy##S(OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc) \
    { return CmhookStrsafeCopyN##S(pszDest, cbDest / sizeof(T), pszSrc, NTSTRSAFE_MAX_LENGTH); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCopyN##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc, \
                                                   IN size_t cchToCopy) \
    { return CmhookStrsafeCopyN##S(pszDest, cchDest, pszSrc, cchToCopy); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCopyN##S(OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc, \
                                                  IN size_t cbToCopy) \
    { return CmhookStrsafeCopyN##S(pszDest, cbDest / sizeof(T), pszSrc, cbToCopy / sizeof(T)); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCat##S(IN OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc) \
    { return CmhookStrsafeCatN##S(pszDest, cchDest, pszSrc, NTSTRSAFE_MAX_LENGTH); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCat##S(IN OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc) \
    { return CmhookStrsafeCatN##S(pszDest, cbDest / sizeof(T), pszSrc, NTSTRSAFE_MAX_LENGTH); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCatN##S(IN OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc, \
                                                  IN size_t cchToAppend) \
    { return CmhookStrsafeCatN##S(pszDest, cchDest, pszSrc, cchToAppend); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCatN##S(IN OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc, \
                                                 IN size_t cbToAppend) \
    { return CmhookStrsafeCatN##S(pszDest, cbDest / sizeof(T), pszSrc, cbToAppend / sizeof(T)); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchLength##S(IN const T *psz, IN size_t cchMax, \
                                                    OUT size_t *pcchLength OPTIONAL) \
    { \
        if (psz == NULL || cchMax > NTSTRSAFE_MAX_CCH) { \
            if (pcchLength != NULL) \
                *pcchLength = 0; \
            return STATUS_INVALID_PARAMETER; \
        } \
        return CmhookStrsafeLength##S(psz, cchMax, pcchLength); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbLength##S(IN const T *psz, IN size_t cbMax, \
                                                   OUT size_t *pcbLength OPTIONAL) \
    { \
        size_t CchLength = 0; \
        NTSTATUS Status = STATUS_INVALID_PARAMETER; \
        if (psz != NULL && cbMax / sizeof(T) <= NTSTRSAFE_MAX_CCH) \
            Status = CmhookStrsafeLength##S(psz, cbMax / sizeof(T), &CchLength); \
        if (pcbLength != NULL) \
            *pcbLength = NT_SUCCESS(Status) ? CchLength * sizeof(T) : 0; \
        return Status; \
    }

_CMHOOK_STRSAFE_ROUTINES(W, WCHAR)
_CMHOOK_STRSAFE_ROUTINES(A, CHAR)
#undef _CMHOOK_STRSAFE_ROUTINES

#define RtlStringCchLengthW(psz, cchMax, pcchLength) RtlStringCchLengthW((psz), (cchMax), _CMHOOK_STRSAFE_SIZE_T(pcchLength))
#define RtlStringCbLengthW(psz, cbMax, pcbLength) RtlStringCbLengthW((psz), (cbMax), _CMHOOK_STRSAFE_SIZE_T(pcbLength))
#define RtlStringCchLengthA(psz, cchMax, pcchLength) RtlStringCchLengthA((psz), (cchMax), _CMHOOK_STRSAFE_SIZE_T(pcchLength))
#define RtlStringCbLengthA(psz, cbMax, pcbLength) RtlStringCbLengthA((psz), (cbMax), _CMHOOK_STRSAFE_SIZE_T(pcbLength))

/* ------------------------------------------------------------------------
 * printf: the WDK's workers, over the kernel CRT's _vsnprintf and _vsnwprintf (ntddk.h; the
 * shim's format engine, with Windows' reading of the format: %s is WCHAR in the W routines and
 * CHAR in the A ones, %S the other width, %hs %ls %ws explicit, %wZ a PUNICODE_STRING, %Z a
 * PANSI_STRING, %I64x, %p as 16 upper-case hex digits). Text that does not fit is cut,
 * NUL-terminated, and STATUS_BUFFER_OVERFLOW.
 * ------------------------------------------------------------------------ */
#define _CMHOOK_STRSAFE_PRINTF(S, T, VPRINTF) \
    FORCEINLINE NTSTATUS CmhookStrsafeVPrintf##S(T *Dest, size_t CchDest, size_t *CchNewLength, const T *Format, \
                                                 va_list Args) \
    { \
        size_t CchMax = CchDest - 1; \
        int Written = VPRINTF(Dest, CchMax, Format, Args); \
        if (Written < 0 || (size_t)Written >= CchMax) { \
            Dest[CchMax] = 0; /* cut to fit, or exactly full: terminated here */ \
            if (CchNewLength != NULL) \
                *CchNewLength = CchMax; \
            return Written < 0 || (size_t)Written > CchMax ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS; \
        } \
        if (CchNewLength != NULL) \
            *CchNewLength = (size_t)Written; \
        return STATUS_SUCCESS; \
    } \
    FORCEINLINE NTSTATUS CmhookStrsafeVPrintfChecked##S(T *Dest, size_t CchDest, const T *Format, va_list Args) \
    { \
        if (CchDest == 0 || CchDest > NTSTRSAFE_MAX_CCH) { \
            if (CchDest > 0) \
                *Dest = 0; \
            return STATUS_INVALID_PARAMETER; \
        } \
        return CmhookStrsafeVPrintf##S(Dest, CchDest, NULL, Format, Args); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchVPrintf##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszFormat, \
                                                     IN va_list argList) \
    { return CmhookStrsafeVPrintfChecked##S(pszDest, cchDest, pszFormat, argList); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbVPrintf##S(OUT T *pszDest, IN size_t cbDest, IN const T *pszFormat, \
                                                    IN va_list argList) \
    { return CmhookStrsafeVPrintfChecked##S(pszDest, cbDest / sizeof(T), pszFormat, argList); } \
    FORCEINLINE NTSTATUS __cdecl RtlStringCchPrintf##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszFormat, ...) \
    { \
        NTSTATUS Status; \
        va_list Args; \
        va_start(Args, pszFormat); \
        Status = CmhookStrsafeVPrintfChecked##S(pszDest, cchDest, pszFormat, Args); \
        va_end(Args); \
        return Status; \
    } \
    FORCEINLINE NTSTATUS __cdecl RtlStringCbPrintf##S(OUT T *pszDest, IN size_t cbDest, IN const T *pszFormat, ...) \
    { \
        NTSTATUS Status; \
        va_list Args; \
        va_start(Args, pszFormat); \
        Status = CmhookStrsafeVPrintfChecked##S(pszDest, cbDest / sizeof(T), pszFormat, Args); \
        va_end(Args); \
        return Status; \
    }

_CMHOOK_STRSAFE_PRINTF(W, WCHAR, _vsnwprintf)
_CMHOOK_STRSAFE_PRINTF(A, CHAR, _vsnprintf)
#undef _CMHOOK_STRSAFE_PRINTF

/* ------------------------------------------------------------------------
 * The Ex forms: the same work, then *ppszDestEnd (the NUL at the end) and *pcchRemaining (the
 * characters left, that NUL's included; *pcbRemaining the bytes, an odd byte of cbDest too),
 * written on success and on STATUS_BUFFER_OVERFLOW; and dwFlags: STRSAFE_IGNORE_NULLS (a NULL
 * source or format is "", a NULL destination with size 0 is accepted), STRSAFE_FILL_BEHIND_NULL
 * (on success, the rest of the buffer is filled with the low byte), and on failure
 * STRSAFE_FILL_ON_FAILURE (the whole buffer filled, terminated unless the fill is 0),
 * STRSAFE_NULL_ON_FAILURE (an empty string) and STRSAFE_NO_TRUNCATION (a copy or printf leaves
 * an empty string, a Cat the destination as it was). An unknown flag is STATUS_INVALID_PARAMETER.
 * ------------------------------------------------------------------------ */
#define _CMHOOK_STRSAFE_EX(S, T) \
    FORCEINLINE NTSTATUS CmhookStrsafeExValidate##S(T *Dest, size_t CchDest, ULONG Flags) \
    { \
        if (Flags & STRSAFE_IGNORE_NULLS) \
            return (Dest == NULL && CchDest != 0) || CchDest > NTSTRSAFE_MAX_CCH ? STATUS_INVALID_PARAMETER \
                                                                              : STATUS_SUCCESS; \
        return CchDest == 0 || CchDest > NTSTRSAFE_MAX_CCH ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS; \
    } \
    /* Flags' fills, then the outputs. Extra: cbDest's odd byte (0 for the Cch forms). Original: \
     * the length a Cat found, which STRSAFE_NO_TRUNCATION restores. */ \
    FORCEINLINE NTSTATUS CmhookStrsafeExFinish##S(NTSTATUS Status, T *Dest, size_t CchDest, size_t Extra, \
                                                  size_t Original, ULONG Flags, T *End, size_t Remaining, \
                                                  T **PEnd, size_t *PRemaining) \
    { \
        if (NT_SUCCESS(Status) && (Flags & STRSAFE_FILL_BEHIND_NULL) && Remaining > 1) \
            __builtin_memset(End + 1, STRSAFE_GET_FILL_PATTERN(Flags), (Remaining - 1) * sizeof(T) + Extra); \
        if (!NT_SUCCESS(Status) && CchDest != 0) { \
            if (Flags & STRSAFE_NO_TRUNCATION) { \
                Dest[Original] = 0; \
                End = Dest + Original; \
                Remaining = CchDest - Original; \
            } \
            if (Flags & STRSAFE_FILL_ON_FAILURE) { \
                __builtin_memset(Dest, STRSAFE_GET_FILL_PATTERN(Flags), CchDest * sizeof(T) + Extra); \
                if (STRSAFE_GET_FILL_PATTERN(Flags) == 0) { \
                    End = Dest; \
                    Remaining = CchDest; \
                } else { \
                    End = Dest + CchDest - 1; \
                    *End = 0; \
                    Remaining = 1; \
                } \
            } \
            if (Flags & STRSAFE_NULL_ON_FAILURE) { \
                *Dest = 0; \
                End = Dest; \
                Remaining = CchDest; \
            } \
        } \
        if (NT_SUCCESS(Status) || Status == STATUS_BUFFER_OVERFLOW) { \
            if (PEnd != NULL) \
                *PEnd = End; \
            if (PRemaining != NULL) \
                *PRemaining = Remaining; \
        } \
        return Status; \
    } \
    /* Kind: 0 copy, 1 cat. */ \
    FORCEINLINE NTSTATUS CmhookStrsafeCopyEx##S(int Kind, T *Dest, size_t CchDest, size_t Extra, const T *Src, \
                                                size_t CchToCopy, T **PEnd, size_t *PRemaining, ULONG Flags) \
    { \
        size_t Original = 0, Copied = 0; \
        T *End = Dest; \
        NTSTATUS Status = CmhookStrsafeExValidate##S(Dest, CchDest, Flags); \
        if (!NT_SUCCESS(Status)) \
            return Status; \
        if (Kind == 1 && CchDest != 0) { \
            Status = CmhookStrsafeLength##S(Dest, CchDest, &Original); \
            if (!NT_SUCCESS(Status)) \
                return CmhookStrsafeExFinish##S(Status, Dest, CchDest, Extra, 0, Flags & ~STRSAFE_NO_TRUNCATION, \
                                                Dest, CchDest, PEnd, PRemaining); \
        } \
        if (Src == NULL && (Flags & STRSAFE_IGNORE_NULLS)) \
            Src = (const T *)L"" /* one NUL of either width */; \
        if (Flags & ~STRSAFE_VALID_FLAGS) { \
            Status = STATUS_INVALID_PARAMETER; \
            if (CchDest != 0) \
                *Dest = 0; \
        } else if (CchToCopy > NTSTRSAFE_MAX_LENGTH) { \
            Status = STATUS_INVALID_PARAMETER; \
        } else if (CchDest - Original <= (size_t)(Kind == 1 ? 1 : 0) || CchDest == 0) { \
            if (CchToCopy != 0 && *Src != 0) \
                Status = Dest == NULL ? STATUS_INVALID_PARAMETER : STATUS_BUFFER_OVERFLOW; \
            End = Dest + Original; \
        } else { \
            Status = CmhookStrsafeCopy##S(Dest + Original, CchDest - Original, Src, CchToCopy); \
            while (Dest[Original + Copied] != 0) \
                Copied++; \
            End = Dest + Original + Copied; \
        } \
        return CmhookStrsafeExFinish##S(Status, Dest, CchDest, Extra, Original, Flags, End, \
                                        CchDest - (size_t)(End - Dest), PEnd, PRemaining); \
    } \
    FORCEINLINE NTSTATUS CmhookStrsafeVPrintfEx##S(T *Dest, size_t CchDest, size_t Extra, T **PEnd, \
                                                   size_t *PRemaining, ULONG Flags, const T *Format, va_list Args) \
    { \
        size_t Length = 0; \
        NTSTATUS Status = CmhookStrsafeExValidate##S(Dest, CchDest, Flags); \
        if (!NT_SUCCESS(Status)) \
            return Status; \
        if (Format == NULL && (Flags & STRSAFE_IGNORE_NULLS)) \
            Format = (const T *)L""; \
        if (Flags & ~STRSAFE_VALID_FLAGS) { \
            Status = STATUS_INVALID_PARAMETER; \
            if (CchDest != 0) \
                *Dest = 0; \
        } else if (CchDest == 0) { \
            if (*Format != 0) \
                Status = Dest == NULL ? STATUS_INVALID_PARAMETER : STATUS_BUFFER_OVERFLOW; \
        } else { \
            Status = CmhookStrsafeVPrintf##S(Dest, CchDest, &Length, Format, Args); \
        } \
        return CmhookStrsafeExFinish##S(Status, Dest, CchDest, Extra, 0, Flags, Dest + Length, CchDest - Length, \
                                        PEnd, PRemaining); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCopyEx##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc, \
                                                    OUT T **ppszDestEnd OPTIONAL, OUT size_t *pcchRemaining OPTIONAL, \
                                                    IN ULONG dwFlags) \
    { return CmhookStrsafeCopyEx##S(0, pszDest, cchDest, 0, pszSrc, NTSTRSAFE_MAX_LENGTH, ppszDestEnd, pcchRemaining, \
                                    dwFlags); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCopyNEx##S(OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc, \
                                                     IN size_t cchToCopy, OUT T **ppszDestEnd OPTIONAL, \
                                                     OUT size_t *pcchRemaining OPTIONAL, IN ULONG dwFlags) \
    { return CmhookStrsafeCopyEx##S(0, pszDest, cchDest, 0, pszSrc, cchToCopy, ppszDestEnd, pcchRemaining, dwFlags); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchCatEx##S(IN OUT T *pszDest, IN size_t cchDest, IN const T *pszSrc, \
                                                   OUT T **ppszDestEnd OPTIONAL, OUT size_t *pcchRemaining OPTIONAL, \
                                                   IN ULONG dwFlags) \
    { return CmhookStrsafeCopyEx##S(1, pszDest, cchDest, 0, pszSrc, NTSTRSAFE_MAX_LENGTH, ppszDestEnd, pcchRemaining, \
                                    dwFlags); } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCchVPrintfEx##S(OUT T *pszDest, IN size_t cchDest, OUT T **ppszDestEnd OPTIONAL, \
                                                       OUT size_t *pcchRemaining OPTIONAL, IN ULONG dwFlags, \
                                                       IN const T *pszFormat, IN va_list argList) \
    { return CmhookStrsafeVPrintfEx##S(pszDest, cchDest, 0, ppszDestEnd, pcchRemaining, dwFlags, pszFormat, argList); } \
    FORCEINLINE NTSTATUS __cdecl RtlStringCchPrintfEx##S(OUT T *pszDest, IN size_t cchDest, OUT T **ppszDestEnd OPTIONAL, \
                                                        OUT size_t *pcchRemaining OPTIONAL, IN ULONG dwFlags, \
                                                        IN const T *pszFormat, ...) \
    { \
        NTSTATUS Status; \
        va_list Args; \
        va_start(Args, pszFormat); \
        Status = CmhookStrsafeVPrintfEx##S(pszDest, cchDest, 0, ppszDestEnd, pcchRemaining, dwFlags, pszFormat, Args); \
        va_end(Args); \
        return Status; \
    } \
    /* The Cb forms: counts in bytes, the remaining bytes including cbDest's odd one. */ \
    FORCEINLINE NTSTATUS CmhookStrsafeCbRemaining##S(NTSTATUS Status, size_t cbDest, size_t CchRemaining, \
                                                     size_t *PcbRemaining) \
    { \
        if (PcbRemaining != NULL && (NT_SUCCESS(Status) || Status == STATUS_BUFFER_OVERFLOW)) \
            *PcbRemaining = CchRemaining * sizeof(T) + cbDest % sizeof(T); \
        return Status; \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCopyEx##S(OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc, \
                                                   OUT T **ppszDestEnd OPTIONAL, OUT size_t *pcbRemaining OPTIONAL, \
                                                   IN ULONG dwFlags) \
    { \
        size_t Remaining = 0; \
        NTSTATUS Status = CmhookStrsafeCopyEx##S(0, pszDest, cbDest / sizeof(T), cbDest % sizeof(T), pszSrc, \
                                                 NTSTRSAFE_MAX_LENGTH, ppszDestEnd, &Remaining, dwFlags); \
        return CmhookStrsafeCbRemaining##S(Status, cbDest, Remaining, pcbRemaining); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbCatEx##S(IN OUT T *pszDest, IN size_t cbDest, IN const T *pszSrc, \
                                                  OUT T **ppszDestEnd OPTIONAL, OUT size_t *pcbRemaining OPTIONAL, \
                                                  IN ULONG dwFlags) \
    { \
        size_t Remaining = 0; \
        NTSTATUS Status = CmhookStrsafeCopyEx##S(1, pszDest, cbDest / sizeof(T), cbDest % sizeof(T), pszSrc, \
                                                 NTSTRSAFE_MAX_LENGTH, ppszDestEnd, &Remaining, dwFlags); \
        return CmhookStrsafeCbRemaining##S(Status, cbDest, Remaining, pcbRemaining); \
    } \
    FORCEINLINE NTSTATUS NTAPI RtlStringCbVPrintfEx##S(OUT T *pszDest, IN size_t cbDest, OUT T **ppszDestEnd OPTIONAL, \
                                                      OUT size_t *pcbRemaining OPTIONAL, IN ULONG dwFlags, \
                                                      IN const T *pszFormat, IN va_list argList) \
    { \
        size_t Remaining = 0; \
        NTSTATUS Status = CmhookStrsafeVPrintfEx##S(pszDest, cbDest / sizeof(T), cbDest % sizeof(T), ppszDestEnd, \
                                                    &Remaining, dwFlags, pszFormat, argList); \
        return CmhookStrsafeCbRemaining##S(Status, cbDest, Remaining, pcbRemaining); \
    } \
    FORCEINLINE NTSTATUS __cdecl RtlStringCbPrintfEx##S(OUT T *pszDest, IN size_t cbDest, OUT T **ppszDestEnd OPTIONAL, \
                                                       OUT size_t *pcbRemaining OPTIONAL, IN ULONG dwFlags, \
                                                       IN const T *pszFormat, ...) \
    { \
        NTSTATUS Status; \
        va_list Args; \
        va_start(Args, pszFormat); \
        Status = RtlStringCbVPrintfEx##S(pszDest, cbDest, ppszDestEnd, pcbRemaining, dwFlags, pszFormat, Args); \
        va_end(Args); \
        return Status; \
    }

_CMHOOK_STRSAFE_EX(W, WCHAR)
_CMHOOK_STRSAFE_EX(A, CHAR)
#undef _CMHOOK_STRSAFE_EX

#ifndef NTSTRSAFE_NO_UNICODE_STRING_FUNCTIONS
/* ------------------------------------------------------------------------
 * Counted strings. A valid UNICODE_STRING has even Length and MaximumLength, Length no more
 * than MaximumLength, MaximumLength no more than NTSTRSAFE_UNICODE_STRING_MAX_CCH characters,
 * and a Buffer unless both are 0.
 * ------------------------------------------------------------------------ */
FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringValidate(IN PCUNICODE_STRING SourceString)
{
    if ((SourceString->Length % sizeof(WCHAR)) != 0 || (SourceString->MaximumLength % sizeof(WCHAR)) != 0 ||
        SourceString->Length > SourceString->MaximumLength ||
        SourceString->MaximumLength > NTSTRSAFE_UNICODE_STRING_MAX_CCH * sizeof(WCHAR))
        return STATUS_INVALID_PARAMETER;
    if (SourceString->Buffer == NULL && (SourceString->Length != 0 || SourceString->MaximumLength != 0))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

/* DestinationString describes pszSrc (not copied): Length without the NUL, MaximumLength with it. */
FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringInit(OUT PUNICODE_STRING DestinationString, IN NTSTRSAFE_PCWSTR pszSrc OPTIONAL)
{
    size_t CchSrcLength;
    NTSTATUS Status;
    DestinationString->Length = 0;
    DestinationString->MaximumLength = 0;
    DestinationString->Buffer = NULL;
    if (pszSrc == NULL)
        return STATUS_SUCCESS;
    Status = CmhookStrsafeLengthW(pszSrc, NTSTRSAFE_UNICODE_STRING_MAX_CCH, &CchSrcLength);
    if (NT_SUCCESS(Status)) {
        DestinationString->Length = (USHORT)(CchSrcLength * sizeof(WCHAR));
        DestinationString->MaximumLength = (USHORT)((CchSrcLength + 1) * sizeof(WCHAR));
        DestinationString->Buffer = (PWSTR)pszSrc;
    }
    return Status;
}

/* Copies Cch characters (a counted copy: NULs are characters); STATUS_BUFFER_OVERFLOW when
 * fewer fit. *Copied: how many went. */
FORCEINLINE NTSTATUS CmhookStrsafeArrayCopy(PWSTR Dest, size_t CchDest, size_t *Copied, const WCHAR *Src,
                                            size_t Cch)
{
    size_t N = 0;
    while (CchDest && Cch) {
        *Dest++ = *Src++;
        CchDest--;
        Cch--;
        N++;
    }
    *Copied = N;
    return Cch != 0 ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

/* Copies a NUL-terminated string, without its NUL. */
FORCEINLINE NTSTATUS CmhookStrsafeArrayCopyString(PWSTR Dest, size_t CchDest, size_t *Copied,
                                                  const WCHAR *Src, size_t CchToCopy)
{
    size_t N = 0;
    while (CchDest && CchToCopy && *Src != 0) {
        *Dest++ = *Src++;
        CchDest--;
        CchToCopy--;
        N++;
    }
    *Copied = N;
    return (CchDest == 0 && CchToCopy != 0 && *Src != 0) ? STATUS_BUFFER_OVERFLOW : STATUS_SUCCESS;
}

FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringCopy(OUT PUNICODE_STRING DestinationString, IN PCUNICODE_STRING SourceString)
{
    size_t Copied = 0;
    NTSTATUS Status = RtlUnicodeStringValidate(DestinationString);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = RtlUnicodeStringValidate(SourceString);
    if (NT_SUCCESS(Status))
        Status = CmhookStrsafeArrayCopy(DestinationString->Buffer, DestinationString->MaximumLength / sizeof(WCHAR),
                                        &Copied, SourceString->Buffer, SourceString->Length / sizeof(WCHAR));
    DestinationString->Length = (USHORT)(Copied * sizeof(WCHAR));
    return Status;
}

FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringCopyString(OUT PUNICODE_STRING DestinationString, IN NTSTRSAFE_PCWSTR pszSrc)
{
    size_t Copied = 0;
    NTSTATUS Status = RtlUnicodeStringValidate(DestinationString);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = CmhookStrsafeArrayCopyString(DestinationString->Buffer, DestinationString->MaximumLength / sizeof(WCHAR),
                                          &Copied, pszSrc, NTSTRSAFE_UNICODE_STRING_MAX_CCH);
    DestinationString->Length = (USHORT)(Copied * sizeof(WCHAR));
    return Status;
}

FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringCat(IN OUT PUNICODE_STRING DestinationString, IN PCUNICODE_STRING SourceString)
{
    size_t Copied = 0, Have;
    NTSTATUS Status = RtlUnicodeStringValidate(DestinationString);
    if (!NT_SUCCESS(Status))
        return Status;
    Status = RtlUnicodeStringValidate(SourceString);
    if (!NT_SUCCESS(Status))
        return Status;
    Have = DestinationString->Length / sizeof(WCHAR);
    Status = CmhookStrsafeArrayCopy(DestinationString->Buffer + Have, DestinationString->MaximumLength / sizeof(WCHAR) - Have,
                                    &Copied, SourceString->Buffer, SourceString->Length / sizeof(WCHAR));
    DestinationString->Length = (USHORT)((Have + Copied) * sizeof(WCHAR));
    return Status;
}

FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringCatString(IN OUT PUNICODE_STRING DestinationString, IN NTSTRSAFE_PCWSTR pszSrc)
{
    size_t Copied = 0, Have;
    NTSTATUS Status = RtlUnicodeStringValidate(DestinationString);
    if (!NT_SUCCESS(Status))
        return Status;
    Have = DestinationString->Length / sizeof(WCHAR);
    Status = CmhookStrsafeArrayCopyString(DestinationString->Buffer + Have,
                                          DestinationString->MaximumLength / sizeof(WCHAR) - Have, &Copied, pszSrc,
                                          NTSTRSAFE_UNICODE_STRING_MAX_CCH);
    DestinationString->Length = (USHORT)((Have + Copied) * sizeof(WCHAR));
    return Status;
}

/* Formats into the whole of MaximumLength (no NUL is kept room for; one is written when there is
 * room left) and sets Length, also when the text was cut (STATUS_BUFFER_OVERFLOW). */
FORCEINLINE NTSTATUS NTAPI RtlUnicodeStringVPrintf(OUT PUNICODE_STRING DestinationString, IN NTSTRSAFE_PCWSTR pszFormat,
                                                   IN va_list argList)
{
    size_t CchDest;
    int Written;
    NTSTATUS Status = RtlUnicodeStringValidate(DestinationString);
    if (!NT_SUCCESS(Status))
        return Status;
    CchDest = DestinationString->MaximumLength / sizeof(WCHAR);
    Written = _vsnwprintf(DestinationString->Buffer, CchDest, pszFormat, argList);
    if (Written < 0 || (size_t)Written > CchDest) {
        DestinationString->Length = (USHORT)(CchDest * sizeof(WCHAR));
        return STATUS_BUFFER_OVERFLOW;
    }
    DestinationString->Length = (USHORT)((size_t)Written * sizeof(WCHAR));
    return STATUS_SUCCESS;
}

FORCEINLINE NTSTATUS __cdecl RtlUnicodeStringPrintf(OUT PUNICODE_STRING DestinationString, IN NTSTRSAFE_PCWSTR pszFormat,
                                                    ...)
{
    NTSTATUS Status;
    va_list Args;
    va_start(Args, pszFormat);
    Status = RtlUnicodeStringVPrintf(DestinationString, pszFormat, Args);
    va_end(Args);
    return Status;
}
#endif /* NTSTRSAFE_NO_UNICODE_STRING_FUNCTIONS */

#ifdef __cplusplus
}
#endif

#endif /* _NTSTRSAFE_H_INCLUDED_ */
