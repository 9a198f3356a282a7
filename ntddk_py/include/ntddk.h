/*
 * ntddk.h - cmhook's portable excerpt of the Windows DDK header.
 *
 * What this header is: the one source of truth for every type, enum value,
 * status code and constant that a registry filter and the cmhook harness
 * exchange. gcc and clang on Linux x86-64 give every type here the Windows x64
 * layout (ULONG is 32 bits, WCHAR 16 bits, pointers 64 bits); the Python
 * bindings in ntddk_py/ are generated from this file, never retyped.
 *
 * The registry-callback part follows the Windows Server 2003 design note
 * (registry callbacks), appendix: REG_NOTIFY_CLASS has the 30 values of that
 * era and each REG_*_INFORMATION struct has exactly the fields listed there;
 * a filter built for Windows Vista or later (NTDDI_VERSION) sees the fields
 * and the notify classes Vista added, as the WDK declares them.
 *
 * Filters are compiled with -fshort-wchar so that L"..." literals are arrays of
 * 16-bit WCHARs; the types themselves do not depend on that flag. Without it an
 * L"..." literal is 32 bits a character, and passing one as a PCWSTR is a
 * compile error (as it should be: the string would be wrong at run time).
 *
 * When ntddk_py's generator reads this file it defines __CMHOOK_BINDGEN__;
 * everything pycparser cannot or need not see (compiler builtins, inline
 * helpers, static assertions) sits behind #ifndef __CMHOOK_BINDGEN__.
 *
 * The header set: this file, and beside it what it includes (sdkddkver.h for
 * NTDDI_VERSION, driverspecs.h/specstrings.h/sal.h for the annotations, and
 * wdm.h for what the WDK's wdm.h adds: lists, assertions, PAGED_CODE, routine
 * role typedefs), the headers that include it (ntifs.h, fltKernel.h), and the
 * stand-alone ntstrsafe.h, ntintsafe.h, wdmsec.h and dontuse.h. The generator
 * reads this file and every header it includes; variants/ holds the case
 * spellings sources use (Ntifs.h, NtStrSafe.h, ...), each forwarding here.
 */
#ifndef _CMHOOK_NTDDK_H_
#define _CMHOOK_NTDDK_H_
#define _NTDDK_

#include "sdkddkver.h"
#include "driverspecs.h"
#ifndef __CMHOOK_BINDGEN__
/* size_t and ptrdiff_t, which Windows code uses as freely as SIZE_T (the WDK's wdm.h brings
 * them in too): the compiler's own stddef.h. */
#include <stddef.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- toolchain: C++ filters (g++, clang++) --------------------------------
 * C11's _Static_assert, which the header's own checks and C_ASSERT use, is
 * static_assert in C++ (clang++ knows both; g++ only the latter). */
#if defined(__cplusplus) && !defined(__clang__) && !defined(_Static_assert)
#define _Static_assert static_assert
#endif
/* --- end toolchain --- */

/* ------------------------------------------------------------------------
 * Annotations and calling-convention words that are empty on Linux.
 * ------------------------------------------------------------------------ */
#define IN
#define OUT
#define OPTIONAL
#define CONST const
#define NTAPI
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define NTHALAPI
#define DDKAPI
#define FORCEINLINE static inline
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#ifndef NULL
#define NULL ((void *)0)
#endif
#define TRUE 1
#define FALSE 0
#define ANYSIZE_ARRAY 1

/* MSVC's words for calling conventions, storage classes and sizes, as gcc and clang
 * read them. Calling conventions mean nothing on x64. __declspec(x) becomes the gcc
 * attribute of the same meaning (dllexport, noinline, noreturn, align(n), selectany,
 * thread, deprecated, nothrow, naked, restrict), or nothing where the meaning is the
 * image's (dllimport, allocate("PAGE"), code_seg, novtable, uuid, safebuffers); one not
 * listed is a compile error naming _CMHOOK_DECLSPEC_ and it. The generator sees them
 * all as nothing. */
#define __stdcall
#define __cdecl
#define __fastcall
#define __thiscall
#define __int8 char
#define __int16 short
#define __int32 int
#define __int64 long long
#define __ptr32
#define __ptr64
#define __w64
#define __unaligned
#define UNALIGNED
#define UNALIGNED64
#define POINTER_32
#define POINTER_64
#define RESTRICTED_POINTER
#define DECLSPEC_IMPORT
#define DECLSPEC_NOVTABLE
#define DECLSPEC_UUID(x)
#define DECLSPEC_ADDRSAFE
#define DECLSPEC_DEPRECATED_DDK
#define SYSTEM_CACHE_ALIGNMENT_SIZE 64
#ifdef __CMHOOK_BINDGEN__
#define __declspec(x)
#define __forceinline
#define DECLSPEC_NOINLINE
#define DECLSPEC_ALIGN(x)
#define DECLSPEC_CACHEALIGN
#define DECLSPEC_SELECTANY
#define DECLSPEC_NOTHROW
#define DECLSPEC_DEPRECATED
#else
#define __declspec(x) _CMHOOK_DECLSPEC_##x
#define _CMHOOK_DECLSPEC_dllexport __attribute__((visibility("default")))
#define _CMHOOK_DECLSPEC_dllimport
#define _CMHOOK_DECLSPEC_noinline __attribute__((noinline))
#define _CMHOOK_DECLSPEC_noreturn __attribute__((noreturn))
#define _CMHOOK_DECLSPEC_nothrow __attribute__((nothrow))
#define _CMHOOK_DECLSPEC_align(x) __attribute__((aligned(x)))
#define _CMHOOK_DECLSPEC_selectany __attribute__((weak))
#define _CMHOOK_DECLSPEC_thread __thread
#define _CMHOOK_DECLSPEC_deprecated __attribute__((deprecated))
#define _CMHOOK_DECLSPEC_naked __attribute__((naked))
#define _CMHOOK_DECLSPEC_restrict __attribute__((malloc))
#define _CMHOOK_DECLSPEC_noalias
#define _CMHOOK_DECLSPEC_novtable
#define _CMHOOK_DECLSPEC_safebuffers
#define _CMHOOK_DECLSPEC_allocate(...)
#define _CMHOOK_DECLSPEC_code_seg(...)
#define _CMHOOK_DECLSPEC_uuid(...)
#define _CMHOOK_DECLSPEC_guard(...)
/* C99 inline, always inlined: `static __forceinline` and a plain `__forceinline`
 * definition in a source both work (the latter as long as nothing takes its address). */
#define __forceinline __inline__ __attribute__((__always_inline__))
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(SYSTEM_CACHE_ALIGNMENT_SIZE)
#define DECLSPEC_SELECTANY __attribute__((weak))
#define DECLSPEC_NOTHROW __attribute__((nothrow))
#define DECLSPEC_DEPRECATED __attribute__((deprecated))
#endif
#ifndef __pragma /* toolchain: clang -fms-extensions has it built in */
#define __pragma(x) _Pragma(#x)
#endif
/* __assume(0) marks a path that cannot be taken, as on Windows. */
#define __assume(e) ((e) ? (void)0 : __builtin_unreachable())

/* ------------------------------------------------------------------------
 * Base types, with the widths they have on Windows x64 (LLP64).
 * Never plain C "long": it is 64 bits on Linux and 32 bits on Windows.
 * ------------------------------------------------------------------------ */
typedef void VOID;
typedef void *PVOID;
typedef char CHAR;
typedef CHAR *PCHAR;
typedef CHAR *PSTR;
typedef const CHAR *PCSTR;
typedef const CHAR *PCSZ;
typedef char CCHAR;
typedef unsigned char UCHAR;
typedef UCHAR *PUCHAR;
typedef short SHORT;
typedef short CSHORT;
typedef SHORT *PSHORT;
typedef unsigned short USHORT;
typedef USHORT *PUSHORT;
#if defined(__cplusplus) /* toolchain: in C++, L"..." is wchar_t, a type of its own: WCHAR is it, as on Windows (16-bit: -fshort-wchar) */
typedef wchar_t WCHAR;
#else
typedef unsigned short WCHAR;
#endif
typedef WCHAR *PWCHAR;
typedef WCHAR *PWSTR;
typedef WCHAR *PWCH;
typedef const WCHAR *PCWSTR;
typedef const WCHAR *PCWCH;
typedef int LONG;
typedef LONG *PLONG;
typedef unsigned int ULONG;
typedef ULONG *PULONG;
typedef long long LONGLONG;
typedef LONGLONG *PLONGLONG;
typedef unsigned long long ULONGLONG;
typedef ULONGLONG *PULONGLONG;
typedef long long LONG_PTR;
typedef LONG_PTR *PLONG_PTR;
typedef unsigned long long ULONG_PTR;
typedef ULONG_PTR *PULONG_PTR;
typedef ULONG_PTR SIZE_T;
typedef SIZE_T *PSIZE_T;
typedef LONG_PTR SSIZE_T;
typedef SSIZE_T *PSSIZE_T;
typedef UCHAR BOOLEAN;
typedef BOOLEAN *PBOOLEAN;

/* The fixed-width and pointer-width names of basetsd.h and ntdef.h. */
typedef signed char SCHAR;
typedef SCHAR *PSCHAR;
typedef signed char INT8;
typedef INT8 *PINT8;
typedef short INT16;
typedef INT16 *PINT16;
typedef int INT32;
typedef INT32 *PINT32;
typedef long long INT64;
typedef INT64 *PINT64;
typedef unsigned char UINT8;
typedef UINT8 *PUINT8;
typedef unsigned short UINT16;
typedef UINT16 *PUINT16;
typedef unsigned int UINT32;
typedef UINT32 *PUINT32;
typedef unsigned long long UINT64;
typedef UINT64 *PUINT64;
typedef int LONG32;
typedef LONG32 *PLONG32;
typedef unsigned int ULONG32;
typedef ULONG32 *PULONG32;
typedef long long LONG64;
typedef LONG64 *PLONG64;
typedef unsigned long long ULONG64;
typedef ULONG64 *PULONG64;
typedef long long INT_PTR;
typedef INT_PTR *PINT_PTR;
typedef unsigned long long UINT_PTR;
typedef UINT_PTR *PUINT_PTR;
typedef ULONG_PTR KAFFINITY;
typedef KAFFINITY *PKAFFINITY;
typedef const UCHAR *PCUCHAR;
typedef const USHORT *PCUSHORT;
typedef const ULONG *PCULONG;
typedef const CHAR *PCCH;
typedef CHAR *PCH;
typedef CHAR *PSZ;
typedef ULONG CLONG;

/* The Win32 names (minwindef.h) driver code uses too, at their Windows widths: DWORD is
 * 32 bits, as ULONG is. */
typedef int INT;
typedef INT *PINT;
typedef unsigned int UINT;
typedef UINT *PUINT;
typedef int BOOL;
typedef BOOL *PBOOL;
typedef unsigned char BYTE;
typedef BYTE *PBYTE;
typedef unsigned short WORD;
typedef WORD *PWORD;
typedef unsigned int DWORD;
typedef DWORD *PDWORD;
typedef unsigned int DWORD32;
typedef DWORD32 *PDWORD32;
typedef unsigned long long DWORD64;
typedef DWORD64 *PDWORD64;
typedef unsigned long long DWORDLONG;
typedef DWORDLONG *PDWORDLONG;
typedef ULONG_PTR DWORD_PTR;
typedef DWORD_PTR *PDWORD_PTR;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef LONG NTSTATUS;
typedef NTSTATUS *PNTSTATUS;
typedef ULONG ACCESS_MASK;
typedef ACCESS_MASK *PACCESS_MASK;
typedef ULONG LOGICAL;
typedef UCHAR KIRQL;
typedef KIRQL *PKIRQL;
typedef CCHAR KPROCESSOR_MODE;
typedef ULONG_PTR KSPIN_LOCK;
typedef KSPIN_LOCK *PKSPIN_LOCK;

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

/* Counted strings: Length and MaximumLength are in bytes, not characters,
 * and Buffer need not be NUL-terminated. */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING;
typedef const STRING *PCANSI_STRING;

#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)

/* ------------------------------------------------------------------------
 * NTSTATUS codes used by the registry, the callbacks and the kernel shim.
 * ------------------------------------------------------------------------ */
#define STATUS_SUCCESS                   ((NTSTATUS)0x00000000)
#define STATUS_WAIT_0                    ((NTSTATUS)0x00000000)
#define STATUS_PENDING                   ((NTSTATUS)0x00000103)
#define STATUS_REPARSE                   ((NTSTATUS)0x00000104)
#define STATUS_MORE_ENTRIES              ((NTSTATUS)0x00000105)
#define STATUS_OBJECT_NAME_EXISTS        ((NTSTATUS)0x40000000)
#define STATUS_PREDEFINED_HANDLE         ((NTSTATUS)0x40000016)
#define STATUS_DATATYPE_MISALIGNMENT     ((NTSTATUS)0x80000002)
#define STATUS_BUFFER_OVERFLOW           ((NTSTATUS)0x80000005)
#define STATUS_NO_MORE_ENTRIES           ((NTSTATUS)0x8000001A)
#define STATUS_UNSUCCESSFUL              ((NTSTATUS)0xC0000001)
#define STATUS_NOT_IMPLEMENTED           ((NTSTATUS)0xC0000002)
#define STATUS_INVALID_INFO_CLASS        ((NTSTATUS)0xC0000003)
#define STATUS_INFO_LENGTH_MISMATCH      ((NTSTATUS)0xC0000004)
#define STATUS_ACCESS_VIOLATION          ((NTSTATUS)0xC0000005)
#define STATUS_INVALID_HANDLE            ((NTSTATUS)0xC0000008)
#define STATUS_INVALID_PARAMETER         ((NTSTATUS)0xC000000D)
#define STATUS_INVALID_DEVICE_REQUEST    ((NTSTATUS)0xC0000010)
#define STATUS_NO_MEMORY                 ((NTSTATUS)0xC0000017)
#define STATUS_ACCESS_DENIED             ((NTSTATUS)0xC0000022)
#define STATUS_BUFFER_TOO_SMALL          ((NTSTATUS)0xC0000023)
#define STATUS_OBJECT_TYPE_MISMATCH      ((NTSTATUS)0xC0000024)
#define STATUS_OBJECT_NAME_INVALID       ((NTSTATUS)0xC0000033)
#define STATUS_OBJECT_NAME_NOT_FOUND     ((NTSTATUS)0xC0000034)
#define STATUS_OBJECT_NAME_COLLISION     ((NTSTATUS)0xC0000035)
#define STATUS_OBJECT_PATH_INVALID       ((NTSTATUS)0xC0000039)
#define STATUS_OBJECT_PATH_NOT_FOUND     ((NTSTATUS)0xC000003A)
#define STATUS_OBJECT_PATH_SYNTAX_BAD    ((NTSTATUS)0xC000003B)
#define STATUS_PRIVILEGE_NOT_HELD        ((NTSTATUS)0xC0000061)
#define STATUS_INSUFFICIENT_RESOURCES    ((NTSTATUS)0xC000009A)
#define STATUS_NOT_SUPPORTED             ((NTSTATUS)0xC00000BB)
#define STATUS_INTERNAL_ERROR            ((NTSTATUS)0xC00000E5)
#define STATUS_NAME_TOO_LONG             ((NTSTATUS)0xC0000106)
#define STATUS_CANNOT_DELETE             ((NTSTATUS)0xC0000121)
#define STATUS_REGISTRY_CORRUPT          ((NTSTATUS)0xC000014C)
#define STATUS_REGISTRY_IO_FAILED        ((NTSTATUS)0xC000014D)
#define STATUS_KEY_DELETED               ((NTSTATUS)0xC000017C)
#define STATUS_KEY_HAS_CHILDREN          ((NTSTATUS)0xC0000180)
#define STATUS_CHILD_MUST_BE_VOLATILE    ((NTSTATUS)0xC0000181)
#define STATUS_DRIVER_ENTRYPOINT_NOT_FOUND ((NTSTATUS)0xC0000263)
#define STATUS_DRIVER_UNABLE_TO_LOAD     ((NTSTATUS)0xC000026C)
#define STATUS_CALLBACK_BYPASS           ((NTSTATUS)0xC0000503)
/* CmRegisterCallbackEx: a registration at an altitude already taken (ntstatus.h's value). */
#define STATUS_FLT_INSTANCE_ALTITUDE_COLLISION ((NTSTATUS)0xC01C0011)

/* NTSTATUS codes a filter's callback may return to fail (or, for the informational ones,
 * complete) a registry call, beyond those above: Windows' values, as ntstatus.h defines them
 * (the ABI tests compare each with mingw-w64's). Registry scripts expect them by name. */
#define STATUS_TIMEOUT                   ((NTSTATUS)0x00000102)
#define STATUS_REGISTRY_RECOVERED        ((NTSTATUS)0x40000009)
#define STATUS_NO_SUCH_FILE              ((NTSTATUS)0xC000000F)
#define STATUS_SHARING_VIOLATION         ((NTSTATUS)0xC0000043)
#define STATUS_DELETE_PENDING            ((NTSTATUS)0xC0000056)
#define STATUS_INVALID_SECURITY_DESCR    ((NTSTATUS)0xC0000079)
#define STATUS_MEDIA_WRITE_PROTECTED     ((NTSTATUS)0xC00000A2)
#define STATUS_CANCELLED                 ((NTSTATUS)0xC0000120)
#define STATUS_NO_LOG_SPACE              ((NTSTATUS)0xC000017D)
#define STATUS_INVALID_DEVICE_STATE      ((NTSTATUS)0xC0000184)
#define STATUS_TOO_LATE                  ((NTSTATUS)0xC0000189)
#define STATUS_NOT_FOUND                 ((NTSTATUS)0xC0000225)
#define STATUS_RETRY                     ((NTSTATUS)0xC000022D)
#define STATUS_REGISTRY_QUOTA_LIMIT      ((NTSTATUS)0xC0000256)
#define STATUS_ACCESS_DISABLED_BY_POLICY_DEFAULT ((NTSTATUS)0xC0000361)
#define STATUS_HIVE_UNLOADED             ((NTSTATUS)0xC0000425)
#define STATUS_CONTENT_BLOCKED           ((NTSTATUS)0xC0000804)
#define STATUS_VIRUS_INFECTED            ((NTSTATUS)0xC0000906)
#define STATUS_VIRUS_DELETED             ((NTSTATUS)0xC0000907)

/* ------------------------------------------------------------------------
 * Access rights.
 * ------------------------------------------------------------------------ */
#define DELETE                   0x00010000u
#define READ_CONTROL             0x00020000u
#define WRITE_DAC                0x00040000u
#define WRITE_OWNER              0x00080000u
#define SYNCHRONIZE              0x00100000u
#define STANDARD_RIGHTS_REQUIRED 0x000F0000u
#define STANDARD_RIGHTS_READ     READ_CONTROL
#define STANDARD_RIGHTS_WRITE    READ_CONTROL
#define STANDARD_RIGHTS_EXECUTE  READ_CONTROL
#define STANDARD_RIGHTS_ALL      0x001F0000u
#define SPECIFIC_RIGHTS_ALL      0x0000FFFFu
#define ACCESS_SYSTEM_SECURITY   0x01000000u
#define MAXIMUM_ALLOWED          0x02000000u
#define GENERIC_READ             0x80000000u
#define GENERIC_WRITE            0x40000000u
#define GENERIC_EXECUTE          0x20000000u
#define GENERIC_ALL              0x10000000u

typedef struct _GENERIC_MAPPING {
    ACCESS_MASK GenericRead;
    ACCESS_MASK GenericWrite;
    ACCESS_MASK GenericExecute;
    ACCESS_MASK GenericAll;
} GENERIC_MAPPING, *PGENERIC_MAPPING;

#define KEY_QUERY_VALUE        0x0001u
#define KEY_SET_VALUE          0x0002u
#define KEY_CREATE_SUB_KEY     0x0004u
#define KEY_ENUMERATE_SUB_KEYS 0x0008u
#define KEY_NOTIFY             0x0010u
#define KEY_CREATE_LINK        0x0020u
#define KEY_WOW64_64KEY        0x0100u
#define KEY_WOW64_32KEY        0x0200u
#define KEY_WOW64_RES          0x0300u
#define KEY_READ  ((STANDARD_RIGHTS_READ | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY) & (~SYNCHRONIZE))
#define KEY_WRITE ((STANDARD_RIGHTS_WRITE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY) & (~SYNCHRONIZE))
#define KEY_EXECUTE ((KEY_READ) & (~SYNCHRONIZE))
#define KEY_ALL_ACCESS ((STANDARD_RIGHTS_ALL | KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY | \
                         KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY | KEY_CREATE_LINK) & (~SYNCHRONIZE))

/* ------------------------------------------------------------------------
 * Registry value types, key options, dispositions.
 * ------------------------------------------------------------------------ */
#define REG_NONE                       0u
#define REG_SZ                         1u
#define REG_EXPAND_SZ                  2u
#define REG_BINARY                     3u
#define REG_DWORD                      4u
#define REG_DWORD_LITTLE_ENDIAN        4u
#define REG_DWORD_BIG_ENDIAN           5u
#define REG_LINK                       6u
#define REG_MULTI_SZ                   7u
#define REG_RESOURCE_LIST              8u
#define REG_FULL_RESOURCE_DESCRIPTOR   9u
#define REG_RESOURCE_REQUIREMENTS_LIST 10u
#define REG_QWORD                      11u
#define REG_QWORD_LITTLE_ENDIAN        11u

#define REG_OPTION_RESERVED       0x00000000u
#define REG_OPTION_NON_VOLATILE   0x00000000u
#define REG_OPTION_VOLATILE       0x00000001u
#define REG_OPTION_CREATE_LINK    0x00000002u
#define REG_OPTION_BACKUP_RESTORE 0x00000004u
#define REG_OPTION_OPEN_LINK      0x00000008u
#define REG_LEGAL_OPTION (REG_OPTION_RESERVED | REG_OPTION_NON_VOLATILE | REG_OPTION_VOLATILE | \
                          REG_OPTION_CREATE_LINK | REG_OPTION_BACKUP_RESTORE | REG_OPTION_OPEN_LINK)

#define REG_CREATED_NEW_KEY     0x00000001u
#define REG_OPENED_EXISTING_KEY 0x00000002u

/* ------------------------------------------------------------------------
 * Object attributes.
 * ------------------------------------------------------------------------ */
#define OBJ_INHERIT            0x00000002u
#define OBJ_PERMANENT          0x00000010u
#define OBJ_EXCLUSIVE          0x00000020u
#define OBJ_CASE_INSENSITIVE   0x00000040u
#define OBJ_OPENIF             0x00000080u
#define OBJ_OPENLINK           0x00000100u
#define OBJ_KERNEL_HANDLE      0x00000200u
#define OBJ_FORCE_ACCESS_CHECK 0x00000400u

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define InitializeObjectAttributes(p, n, a, r, s) \
    do {                                          \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);  \
        (p)->RootDirectory = (r);                 \
        (p)->Attributes = (a);                    \
        (p)->ObjectName = (n);                    \
        (p)->SecurityDescriptor = (s);            \
        (p)->SecurityQualityOfService = NULL;     \
    } while (0)

typedef struct _OBJECT_NAME_INFORMATION {
    UNICODE_STRING Name;
} OBJECT_NAME_INFORMATION, *POBJECT_NAME_INFORMATION;

typedef struct _OBJECT_HANDLE_INFORMATION {
    ULONG HandleAttributes;
    ACCESS_MASK GrantedAccess;
} OBJECT_HANDLE_INFORMATION, *POBJECT_HANDLE_INFORMATION;

/* Opaque kernel objects: filters only ever hold pointers to them. */
typedef struct _OBJECT_TYPE *POBJECT_TYPE;
typedef struct _KPROCESS *PEPROCESS;
typedef struct _KTHREAD *PETHREAD;
typedef struct _KTHREAD *PKTHREAD;

/* ------------------------------------------------------------------------
 * Registry information classes and their records.
 * Every Name/Class/Data member is a variable-length tail, not NUL-terminated.
 * ------------------------------------------------------------------------ */
typedef enum _KEY_INFORMATION_CLASS {
    KeyBasicInformation,
    KeyNodeInformation,
    KeyFullInformation,
    KeyNameInformation,
    KeyCachedInformation,
    KeyFlagsInformation
} KEY_INFORMATION_CLASS;

typedef struct _KEY_BASIC_INFORMATION {
    LARGE_INTEGER LastWriteTime;
    ULONG TitleIndex;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_BASIC_INFORMATION, *PKEY_BASIC_INFORMATION;

typedef struct _KEY_NODE_INFORMATION {
    LARGE_INTEGER LastWriteTime;
    ULONG TitleIndex;
    ULONG ClassOffset;
    ULONG ClassLength;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_NODE_INFORMATION, *PKEY_NODE_INFORMATION;

typedef struct _KEY_FULL_INFORMATION {
    LARGE_INTEGER LastWriteTime;
    ULONG TitleIndex;
    ULONG ClassOffset;
    ULONG ClassLength;
    ULONG SubKeys;
    ULONG MaxNameLen;
    ULONG MaxClassLen;
    ULONG Values;
    ULONG MaxValueNameLen;
    ULONG MaxValueDataLen;
    WCHAR Class[1];
} KEY_FULL_INFORMATION, *PKEY_FULL_INFORMATION;

typedef struct _KEY_NAME_INFORMATION {
    ULONG NameLength;
    WCHAR Name[1];
} KEY_NAME_INFORMATION, *PKEY_NAME_INFORMATION;

typedef struct _KEY_CACHED_INFORMATION {
    LARGE_INTEGER LastWriteTime;
    ULONG TitleIndex;
    ULONG SubKeys;
    ULONG MaxNameLen;
    ULONG Values;
    ULONG MaxValueNameLen;
    ULONG MaxValueDataLen;
    ULONG NameLength;
} KEY_CACHED_INFORMATION, *PKEY_CACHED_INFORMATION;

typedef enum _KEY_VALUE_INFORMATION_CLASS {
    KeyValueBasicInformation,
    KeyValueFullInformation,
    KeyValuePartialInformation,
    KeyValueFullInformationAlign64,
    KeyValuePartialInformationAlign64
} KEY_VALUE_INFORMATION_CLASS;

typedef struct _KEY_VALUE_BASIC_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_VALUE_BASIC_INFORMATION, *PKEY_VALUE_BASIC_INFORMATION;

typedef struct _KEY_VALUE_FULL_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG DataOffset;
    ULONG DataLength;
    ULONG NameLength;
    WCHAR Name[1];
} KEY_VALUE_FULL_INFORMATION, *PKEY_VALUE_FULL_INFORMATION;

typedef struct _KEY_VALUE_PARTIAL_INFORMATION {
    ULONG TitleIndex;
    ULONG Type;
    ULONG DataLength;
    UCHAR Data[1];
} KEY_VALUE_PARTIAL_INFORMATION, *PKEY_VALUE_PARTIAL_INFORMATION;

typedef struct _KEY_VALUE_PARTIAL_INFORMATION_ALIGN64 {
    ULONG Type;
    ULONG DataLength;
    UCHAR Data[1];
} KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, *PKEY_VALUE_PARTIAL_INFORMATION_ALIGN64;

typedef struct _KEY_VALUE_ENTRY {
    PUNICODE_STRING ValueName;
    ULONG DataLength;
    ULONG DataOffset;
    ULONG Type;
} KEY_VALUE_ENTRY, *PKEY_VALUE_ENTRY;

typedef enum _KEY_SET_INFORMATION_CLASS {
    KeyWriteTimeInformation,
    KeyWow64FlagsInformation
} KEY_SET_INFORMATION_CLASS;

typedef struct _KEY_WRITE_TIME_INFORMATION {
    LARGE_INTEGER LastWriteTime;
} KEY_WRITE_TIME_INFORMATION, *PKEY_WRITE_TIME_INFORMATION;

typedef struct _KEY_WOW64_FLAGS_INFORMATION {
    ULONG UserFlags;
} KEY_WOW64_FLAGS_INFORMATION, *PKEY_WOW64_FLAGS_INFORMATION;

/* ------------------------------------------------------------------------
 * Registry kernel-mode callbacks (the specification's appendix).
 * ------------------------------------------------------------------------ */
typedef NTSTATUS NTAPI EX_CALLBACK_FUNCTION(
    IN PVOID CallbackContext,
    IN PVOID Argument1,
    IN PVOID Argument2);
typedef EX_CALLBACK_FUNCTION *PEX_CALLBACK_FUNCTION;

typedef enum _REG_NOTIFY_CLASS {
    RegNtDeleteKey,
    RegNtPreDeleteKey = RegNtDeleteKey,
    RegNtSetValueKey,
    RegNtPreSetValueKey = RegNtSetValueKey,
    RegNtDeleteValueKey,
    RegNtPreDeleteValueKey = RegNtDeleteValueKey,
    RegNtSetInformationKey,
    RegNtPreSetInformationKey = RegNtSetInformationKey,
    RegNtRenameKey,
    RegNtPreRenameKey = RegNtRenameKey,
    RegNtEnumerateKey,
    RegNtPreEnumerateKey = RegNtEnumerateKey,
    RegNtEnumerateValueKey,
    RegNtPreEnumerateValueKey = RegNtEnumerateValueKey,
    RegNtQueryKey,
    RegNtPreQueryKey = RegNtQueryKey,
    RegNtQueryValueKey,
    RegNtPreQueryValueKey = RegNtQueryValueKey,
    RegNtQueryMultipleValueKey,
    RegNtPreQueryMultipleValueKey = RegNtQueryMultipleValueKey,
    RegNtPreCreateKey,
    RegNtPostCreateKey,
    RegNtPreOpenKey,
    RegNtPostOpenKey,
    RegNtKeyHandleClose,
    RegNtPreKeyHandleClose = RegNtKeyHandleClose,
    /* .Net (Server 2003) only */
    RegNtPostDeleteKey,
    RegNtPostSetValueKey,
    RegNtPostDeleteValueKey,
    RegNtPostSetInformationKey,
    RegNtPostRenameKey,
    RegNtPostEnumerateKey,
    RegNtPostEnumerateValueKey,
    RegNtPostQueryKey,
    RegNtPostQueryValueKey,
    RegNtPostQueryMultipleValueKey,
    RegNtPostKeyHandleClose,
    RegNtPreCreateKeyEx,
    RegNtPostCreateKeyEx,
    RegNtPreOpenKeyEx,
    RegNtPostOpenKeyEx,
    /* Windows Vista and later (the later ones as wdm.h numbers them; cmhook's profiles say which
     * version sends which) */
    RegNtPreFlushKey,
    RegNtPostFlushKey,
    RegNtPreLoadKey,
    RegNtPostLoadKey,
    RegNtPreUnLoadKey,
    RegNtPostUnLoadKey,
    RegNtPreQueryKeySecurity,
    RegNtPostQueryKeySecurity,
    RegNtPreSetKeySecurity,
    RegNtPostSetKeySecurity,
    RegNtCallbackObjectContextCleanup,
    RegNtPreRestoreKey,
    RegNtPostRestoreKey,
    RegNtPreSaveKey,
    RegNtPostSaveKey,
    RegNtPreReplaceKey,
    RegNtPostReplaceKey,
    RegNtPreQueryKeyName,
    RegNtPostQueryKeyName,
    MaxRegNtNotifyClass
} REG_NOTIFY_CLASS, *PREG_NOTIFY_CLASS;

/* The REG_* structs, each with the members Server 2003 gives it (the specification's appendix)
 * and, for a filter built for Windows Vista or later (NTDDI_VERSION >= NTDDI_VISTA), the members
 * Vista added (CallContext, ObjectContext, Reserved; the create/open struct's longer tail), as the
 * WDK's wdm.h declares them. Each member list is written once, in a _CMHOOK_*_MEMBERS macro, and
 * used twice: by the WDK name, whose form NTDDI_VERSION selects, and by a CMHOOK_VISTA_ twin with
 * the Vista form always, which the engine packs for the Vista and later profiles (the bindings are
 * generated for the default target, Server 2003, and must see both layouts). A filter never uses
 * the twins. */
#if (NTDDI_VERSION >= NTDDI_VISTA)
#define _CMHOOK_REG_VISTA_TAIL _CMHOOK_REG_CONTEXT_MEMBERS
#define _CMHOOK_REG_CREATE_VISTA_TAIL _CMHOOK_REG_CREATE_CONTEXT_MEMBERS
#define _CMHOOK_REG_POST_VISTA_TAIL _CMHOOK_REG_POST_CONTEXT_MEMBERS
#else
#define _CMHOOK_REG_VISTA_TAIL
#define _CMHOOK_REG_CREATE_VISTA_TAIL
#define _CMHOOK_REG_POST_VISTA_TAIL
#endif
#define _CMHOOK_REG_CONTEXT_MEMBERS \
    PVOID CallContext;              \
    PVOID ObjectContext;            \
    PVOID Reserved;

#define _CMHOOK_DELETE_KEY_INFORMATION_MEMBERS \
    PVOID Object;
typedef struct _REG_DELETE_KEY_INFORMATION {
    _CMHOOK_DELETE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_DELETE_KEY_INFORMATION, *PREG_DELETE_KEY_INFORMATION;
#if (NTDDI_VERSION >= NTDDI_VISTA)
/* A flush's notification names only its key: wdm.h gives the delete struct this second name. */
typedef REG_DELETE_KEY_INFORMATION REG_FLUSH_KEY_INFORMATION, *PREG_FLUSH_KEY_INFORMATION;
#endif
typedef struct _CMHOOK_VISTA_REG_DELETE_KEY_INFORMATION {
    _CMHOOK_DELETE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_DELETE_KEY_INFORMATION;

#define _CMHOOK_SET_VALUE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    PUNICODE_STRING ValueName; \
    ULONG TitleIndex; \
    ULONG Type; \
    PVOID Data; \
    ULONG DataSize;
typedef struct _REG_SET_VALUE_KEY_INFORMATION {
    _CMHOOK_SET_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_SET_VALUE_KEY_INFORMATION, *PREG_SET_VALUE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_SET_VALUE_KEY_INFORMATION {
    _CMHOOK_SET_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_SET_VALUE_KEY_INFORMATION;

#define _CMHOOK_DELETE_VALUE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    PUNICODE_STRING ValueName;
typedef struct _REG_DELETE_VALUE_KEY_INFORMATION {
    _CMHOOK_DELETE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_DELETE_VALUE_KEY_INFORMATION, *PREG_DELETE_VALUE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_DELETE_VALUE_KEY_INFORMATION {
    _CMHOOK_DELETE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_DELETE_VALUE_KEY_INFORMATION;

#define _CMHOOK_SET_INFORMATION_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    KEY_SET_INFORMATION_CLASS KeySetInformationClass; \
    PVOID KeySetInformation; \
    ULONG KeySetInformationLength;
typedef struct _REG_SET_INFORMATION_KEY_INFORMATION {
    _CMHOOK_SET_INFORMATION_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_SET_INFORMATION_KEY_INFORMATION, *PREG_SET_INFORMATION_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_SET_INFORMATION_KEY_INFORMATION {
    _CMHOOK_SET_INFORMATION_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_SET_INFORMATION_KEY_INFORMATION;

#define _CMHOOK_ENUMERATE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    ULONG Index; \
    KEY_INFORMATION_CLASS KeyInformationClass; \
    PVOID KeyInformation; \
    ULONG Length; \
    PULONG ResultLength;
typedef struct _REG_ENUMERATE_KEY_INFORMATION {
    _CMHOOK_ENUMERATE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_ENUMERATE_KEY_INFORMATION, *PREG_ENUMERATE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_ENUMERATE_KEY_INFORMATION {
    _CMHOOK_ENUMERATE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_ENUMERATE_KEY_INFORMATION;

#define _CMHOOK_ENUMERATE_VALUE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    ULONG Index; \
    KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass; \
    PVOID KeyValueInformation; \
    ULONG Length; \
    PULONG ResultLength;
typedef struct _REG_ENUMERATE_VALUE_KEY_INFORMATION {
    _CMHOOK_ENUMERATE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_ENUMERATE_VALUE_KEY_INFORMATION, *PREG_ENUMERATE_VALUE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_ENUMERATE_VALUE_KEY_INFORMATION {
    _CMHOOK_ENUMERATE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_ENUMERATE_VALUE_KEY_INFORMATION;

#define _CMHOOK_QUERY_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    KEY_INFORMATION_CLASS KeyInformationClass; \
    PVOID KeyInformation; \
    ULONG Length; \
    PULONG ResultLength;
typedef struct _REG_QUERY_KEY_INFORMATION {
    _CMHOOK_QUERY_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_QUERY_KEY_INFORMATION, *PREG_QUERY_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_QUERY_KEY_INFORMATION {
    _CMHOOK_QUERY_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_QUERY_KEY_INFORMATION;

#define _CMHOOK_QUERY_VALUE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    PUNICODE_STRING ValueName; \
    KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass; \
    PVOID KeyValueInformation; \
    ULONG Length; \
    PULONG ResultLength;
typedef struct _REG_QUERY_VALUE_KEY_INFORMATION {
    _CMHOOK_QUERY_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_QUERY_VALUE_KEY_INFORMATION, *PREG_QUERY_VALUE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_QUERY_VALUE_KEY_INFORMATION {
    _CMHOOK_QUERY_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_QUERY_VALUE_KEY_INFORMATION;

#define _CMHOOK_QUERY_MULTIPLE_VALUE_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    PKEY_VALUE_ENTRY ValueEntries; \
    ULONG EntryCount; \
    PVOID ValueBuffer; \
    PULONG BufferLength; \
    PULONG RequiredBufferLength;
typedef struct _REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION {
    _CMHOOK_QUERY_MULTIPLE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION, *PREG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION {
    _CMHOOK_QUERY_MULTIPLE_VALUE_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION;

#define _CMHOOK_RENAME_KEY_INFORMATION_MEMBERS \
    PVOID Object; \
    PUNICODE_STRING NewName;
typedef struct _REG_RENAME_KEY_INFORMATION {
    _CMHOOK_RENAME_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_RENAME_KEY_INFORMATION, *PREG_RENAME_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_RENAME_KEY_INFORMATION {
    _CMHOOK_RENAME_KEY_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_RENAME_KEY_INFORMATION;

#define _CMHOOK_KEY_HANDLE_CLOSE_INFORMATION_MEMBERS \
    PVOID Object;
typedef struct _REG_KEY_HANDLE_CLOSE_INFORMATION {
    _CMHOOK_KEY_HANDLE_CLOSE_INFORMATION_MEMBERS
    _CMHOOK_REG_VISTA_TAIL
} REG_KEY_HANDLE_CLOSE_INFORMATION, *PREG_KEY_HANDLE_CLOSE_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_KEY_HANDLE_CLOSE_INFORMATION {
    _CMHOOK_KEY_HANDLE_CLOSE_INFORMATION_MEMBERS
    _CMHOOK_REG_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_KEY_HANDLE_CLOSE_INFORMATION;

/* Server 2003's create/open struct; Vista's adds the rest of the call and the contexts. */
#define _CMHOOK_REG_CREATE_KEY_MEMBERS \
    PUNICODE_STRING CompleteName;   \
    PVOID RootObject;
#define _CMHOOK_REG_CREATE_CONTEXT_MEMBERS \
    PVOID ObjectType;                    \
    ULONG CreateOptions;                 \
    PUNICODE_STRING Class;               \
    PVOID SecurityDescriptor;            \
    PVOID SecurityQualityOfService;      \
    ACCESS_MASK DesiredAccess;           \
    ACCESS_MASK GrantedAccess;           \
    PULONG Disposition;                  \
    PVOID *ResultObject;                 \
    PVOID CallContext;                   \
    PVOID RootObjectContext;             \
    PVOID Transaction;                   \
    PVOID Reserved;
typedef struct _REG_CREATE_KEY_INFORMATION {
    _CMHOOK_REG_CREATE_KEY_MEMBERS
    _CMHOOK_REG_CREATE_VISTA_TAIL
} REG_CREATE_KEY_INFORMATION, REG_OPEN_KEY_INFORMATION,
  *PREG_CREATE_KEY_INFORMATION, *PREG_OPEN_KEY_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_CREATE_KEY_INFORMATION {
    _CMHOOK_REG_CREATE_KEY_MEMBERS
    _CMHOOK_REG_CREATE_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_CREATE_KEY_INFORMATION;

/* Windows 7's create/open struct (Version 1): Vista's, with Options for CreateOptions and, where
 * Vista has Reserved, the version and what follows it. Declared for every target, as wdm.h does. */
typedef struct _REG_CREATE_KEY_INFORMATION_V1 {
    PUNICODE_STRING CompleteName;
    PVOID RootObject;
    PVOID ObjectType;
    ULONG Options;
    PUNICODE_STRING Class;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
    ACCESS_MASK DesiredAccess;
    ACCESS_MASK GrantedAccess;
    PULONG Disposition;
    PVOID *ResultObject;
    PVOID CallContext;
    PVOID RootObjectContext;
    PVOID Transaction;
    ULONG_PTR Version;
    PUNICODE_STRING RemainingName;
    ULONG Wow64Flags;
    ULONG Attributes;
    KPROCESSOR_MODE CheckAccessMode;
} REG_CREATE_KEY_INFORMATION_V1, REG_OPEN_KEY_INFORMATION_V1,
  *PREG_CREATE_KEY_INFORMATION_V1, *PREG_OPEN_KEY_INFORMATION_V1;

#define _CMHOOK_REG_POST_OPERATION_MEMBERS \
    PVOID Object;                          \
    NTSTATUS Status;
#define _CMHOOK_REG_POST_CONTEXT_MEMBERS \
    PVOID PreInformation;                \
    NTSTATUS ReturnStatus;               \
    PVOID CallContext;                   \
    PVOID ObjectContext;                 \
    PVOID Reserved;
typedef struct _REG_POST_OPERATION_INFORMATION {
    _CMHOOK_REG_POST_OPERATION_MEMBERS
    _CMHOOK_REG_POST_VISTA_TAIL
} REG_POST_OPERATION_INFORMATION, *PREG_POST_OPERATION_INFORMATION;
typedef struct _CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION {
    _CMHOOK_REG_POST_OPERATION_MEMBERS
    _CMHOOK_REG_POST_CONTEXT_MEMBERS
} CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION;

/* Vista and later: the notification a registration gets when an object context it set goes away
 * (the key object's last handle closed, or the registration removed). */
typedef struct _REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION {
    PVOID Object;
    PVOID ObjectContext;
    PVOID Reserved;
} REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION, *PREG_CALLBACK_CONTEXT_CLEANUP_INFORMATION;

/* XP only */
typedef struct _REG_PRE_CREATE_KEY_INFORMATION {
    PUNICODE_STRING CompleteName;
} REG_PRE_CREATE_KEY_INFORMATION, REG_PRE_OPEN_KEY_INFORMATION,
  *PREG_PRE_CREATE_KEY_INFORMATION, *PREG_PRE_OPEN_KEY_INFORMATION;

typedef struct _REG_POST_CREATE_KEY_INFORMATION {
    PUNICODE_STRING CompleteName;
    PVOID Object;
    NTSTATUS Status;
} REG_POST_CREATE_KEY_INFORMATION, REG_POST_OPEN_KEY_INFORMATION,
  *PREG_POST_CREATE_KEY_INFORMATION, *PREG_POST_OPEN_KEY_INFORMATION;

NTKERNELAPI NTSTATUS NTAPI CmRegisterCallback(
    IN PEX_CALLBACK_FUNCTION Function,
    IN PVOID Context,
    IN OUT PLARGE_INTEGER Cookie);

NTKERNELAPI NTSTATUS NTAPI CmUnRegisterCallback(IN LARGE_INTEGER Cookie);

/* Windows Vista and later: registration at an altitude, the callback version, object contexts
 * and key object names (wdm.h's prototypes; declared for every target, as mingw-w64 does, and
 * present in the shim whatever the profile). */
NTKERNELAPI NTSTATUS NTAPI CmRegisterCallbackEx(
    IN PEX_CALLBACK_FUNCTION Function,
    IN PCUNICODE_STRING Altitude,
    IN PVOID Driver,
    IN PVOID Context OPTIONAL,
    OUT PLARGE_INTEGER Cookie,
    PVOID Reserved);
NTKERNELAPI VOID NTAPI CmGetCallbackVersion(OUT PULONG Major OPTIONAL, OUT PULONG Minor OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI CmSetCallbackObjectContext(
    IN OUT PVOID Object,
    IN PLARGE_INTEGER Cookie,
    IN PVOID NewContext,
    OUT PVOID *OldContext OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI CmCallbackGetKeyObjectID(
    IN PLARGE_INTEGER Cookie,
    IN PVOID Object,
    OUT PULONG_PTR ObjectID OPTIONAL,
    OUT PCUNICODE_STRING *ObjectName OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI CmCallbackGetKeyObjectIDEx(
    IN PLARGE_INTEGER Cookie,
    IN PVOID Object,
    OUT PULONG_PTR ObjectID OPTIONAL,
    OUT PCUNICODE_STRING *ObjectName OPTIONAL,
    IN ULONG Flags);
NTKERNELAPI VOID NTAPI CmCallbackReleaseKeyObjectIDEx(IN PCUNICODE_STRING ObjectName);
NTKERNELAPI PVOID NTAPI CmGetBoundTransaction(IN PLARGE_INTEGER Cookie, IN PVOID Object);

/* ------------------------------------------------------------------------
 * Drivers: the object the loader hands to DriverEntry.
 * The layout is Windows x64's whole DRIVER_OBJECT, so DriverUnload sits where
 * a Windows driver expects it; the I/O members are opaque pointers.
 * ------------------------------------------------------------------------ */
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

struct _DRIVER_OBJECT;
struct _DEVICE_OBJECT;
struct _DRIVER_EXTENSION;
struct _FAST_IO_DISPATCH;
struct _IRP;

typedef NTSTATUS NTAPI DRIVER_INITIALIZE(
    IN struct _DRIVER_OBJECT *DriverObject,
    IN PUNICODE_STRING RegistryPath);
typedef DRIVER_INITIALIZE *PDRIVER_INITIALIZE;

typedef VOID NTAPI DRIVER_UNLOAD(IN struct _DRIVER_OBJECT *DriverObject);
typedef DRIVER_UNLOAD *PDRIVER_UNLOAD;

typedef VOID NTAPI DRIVER_STARTIO(IN struct _DEVICE_OBJECT *DeviceObject, IN struct _IRP *Irp);
typedef DRIVER_STARTIO *PDRIVER_STARTIO;

typedef NTSTATUS NTAPI DRIVER_DISPATCH(IN struct _DEVICE_OBJECT *DeviceObject, IN struct _IRP *Irp);
typedef DRIVER_DISPATCH *PDRIVER_DISPATCH;

typedef struct _DRIVER_OBJECT {
    CSHORT Type;
    CSHORT Size;
    struct _DEVICE_OBJECT *DeviceObject;
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;
    struct _DRIVER_EXTENSION *DriverExtension;
    UNICODE_STRING DriverName;
    PUNICODE_STRING HardwareDatabase;
    struct _FAST_IO_DISPATCH *FastIoDispatch;
    PDRIVER_INITIALIZE DriverInit;
    PDRIVER_STARTIO DriverStartIo;
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} DRIVER_OBJECT, *PDRIVER_OBJECT;

/* ------------------------------------------------------------------------
 * Execution context, pool, synchronisation, debug output.
 * ------------------------------------------------------------------------ */
typedef enum _MODE {
    KernelMode,
    UserMode,
    MaximumMode
} MODE;

#define PASSIVE_LEVEL  0
#define LOW_LEVEL      0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2

typedef enum _POOL_TYPE {
    NonPagedPool,
    PagedPool,
    NonPagedPoolMustSucceed,
    DontUseThisType,
    NonPagedPoolCacheAligned,
    PagedPoolCacheAligned,
    NonPagedPoolCacheAlignedMustS
} POOL_TYPE;

/* --- Dispatcher objects (kewait): the header every waitable object starts with, Windows x64's
 * layout (wdm.h). The shim's dispatcher (harness/shim/ke_dispatcher.c) keeps an object's state in
 * Type and SignalState; the other members are there for the layout. The other dispatcher objects
 * (KMUTEX, KSEMAPHORE, KTIMER, KDPC) and their routines are in wdm.h. */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *PRLIST_ENTRY;

typedef struct _DISPATCHER_HEADER {
    union {
        struct {
            UCHAR Type;
            union {
                UCHAR Abandoned;
                BOOLEAN Signalling;
            };
            union {
                UCHAR Size;
                UCHAR Hand;
            };
            union {
                BOOLEAN DebugActive;
                BOOLEAN DpcActive;
            };
        };
        volatile LONG Lock;
    };
    LONG SignalState;
    LIST_ENTRY WaitListHead;
} DISPATCHER_HEADER, *PDISPATCHER_HEADER;

typedef struct _KEVENT {
    DISPATCHER_HEADER Header;
} KEVENT, *PKEVENT, *PRKEVENT;
/* --- end of dispatcher objects (kewait) */

typedef struct _FAST_MUTEX {
    volatile LONG Count;
    PKTHREAD Owner;
    ULONG Contention;
    KEVENT Event;
    ULONG OldIrql;
} FAST_MUTEX, *PFAST_MUTEX;

#define DPFLTR_ERROR_LEVEL   0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL   2
#define DPFLTR_INFO_LEVEL    3
#define DPFLTR_IHVDRIVER_ID  77

/* Process queries: a filter asks who is calling (ZwQueryInformationProcess with
 * NtCurrentProcess() and ProcessImageFileName gives the image's NT path). */
typedef enum _PROCESSINFOCLASS {
    ProcessBasicInformation,
    ProcessQuotaLimits,
    ProcessIoCounters,
    ProcessVmCounters,
    ProcessTimes,
    ProcessBasePriority,
    ProcessRaisePriority,
    ProcessDebugPort,
    ProcessExceptionPort,
    ProcessAccessToken,
    ProcessLdtInformation,
    ProcessLdtSize,
    ProcessDefaultHardErrorMode,
    ProcessIoPortHandlers,
    ProcessPooledUsageAndLimits,
    ProcessWorkingSetWatch,
    ProcessUserModeIOPL,
    ProcessEnableAlignmentFaultFixup,
    ProcessPriorityClass,
    ProcessWx86Information,
    ProcessHandleCount,
    ProcessAffinityMask,
    ProcessPriorityBoost,
    ProcessDeviceMap,
    ProcessSessionInformation,
    ProcessForegroundInformation,
    ProcessWow64Information,
    ProcessImageFileName
} PROCESSINFOCLASS;

#define NtCurrentProcess() ((HANDLE)(LONG_PTR)-1)

/* ------------------------------------------------------------------------
 * Kernel routines the cmhook shim exports (the loader resolves a module's
 * imports against them).
 * ------------------------------------------------------------------------ */

/* Zw registry routines: kernel-mode callers of the native registry API. */
NTSYSAPI NTSTATUS NTAPI ZwCreateKey(OUT PHANDLE KeyHandle, IN ACCESS_MASK DesiredAccess,
    IN POBJECT_ATTRIBUTES ObjectAttributes, IN ULONG TitleIndex, IN PUNICODE_STRING Class OPTIONAL,
    IN ULONG CreateOptions, OUT PULONG Disposition OPTIONAL);
NTSYSAPI NTSTATUS NTAPI ZwOpenKey(OUT PHANDLE KeyHandle, IN ACCESS_MASK DesiredAccess,
    IN POBJECT_ATTRIBUTES ObjectAttributes);
NTSYSAPI NTSTATUS NTAPI ZwDeleteKey(IN HANDLE KeyHandle);
NTSYSAPI NTSTATUS NTAPI ZwSetValueKey(IN HANDLE KeyHandle, IN PUNICODE_STRING ValueName,
    IN ULONG TitleIndex OPTIONAL, IN ULONG Type, IN PVOID Data OPTIONAL, IN ULONG DataSize);
NTSYSAPI NTSTATUS NTAPI ZwDeleteValueKey(IN HANDLE KeyHandle, IN PUNICODE_STRING ValueName);
NTSYSAPI NTSTATUS NTAPI ZwQueryKey(IN HANDLE KeyHandle, IN KEY_INFORMATION_CLASS KeyInformationClass,
    OUT PVOID KeyInformation OPTIONAL, IN ULONG Length, OUT PULONG ResultLength);
NTSYSAPI NTSTATUS NTAPI ZwQueryValueKey(IN HANDLE KeyHandle, IN PUNICODE_STRING ValueName,
    IN KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, OUT PVOID KeyValueInformation OPTIONAL,
    IN ULONG Length, OUT PULONG ResultLength);
NTSYSAPI NTSTATUS NTAPI ZwEnumerateKey(IN HANDLE KeyHandle, IN ULONG Index,
    IN KEY_INFORMATION_CLASS KeyInformationClass, OUT PVOID KeyInformation OPTIONAL,
    IN ULONG Length, OUT PULONG ResultLength);
NTSYSAPI NTSTATUS NTAPI ZwEnumerateValueKey(IN HANDLE KeyHandle, IN ULONG Index,
    IN KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass, OUT PVOID KeyValueInformation OPTIONAL,
    IN ULONG Length, OUT PULONG ResultLength);
NTSYSAPI NTSTATUS NTAPI ZwSetInformationKey(IN HANDLE KeyHandle,
    IN KEY_SET_INFORMATION_CLASS KeySetInformationClass, IN PVOID KeySetInformation,
    IN ULONG KeySetInformationLength);
NTSYSAPI NTSTATUS NTAPI ZwRenameKey(IN HANDLE KeyHandle, IN PUNICODE_STRING NewName);
NTSYSAPI NTSTATUS NTAPI ZwQueryMultipleValueKey(IN HANDLE KeyHandle, IN OUT PKEY_VALUE_ENTRY ValueEntries,
    IN ULONG EntryCount, OUT PVOID ValueBuffer, IN OUT PULONG BufferLength,
    OUT PULONG RequiredBufferLength OPTIONAL);
NTSYSAPI NTSTATUS NTAPI ZwFlushKey(IN HANDLE KeyHandle);
NTSYSAPI NTSTATUS NTAPI ZwClose(IN HANDLE Handle);

/* Rtl strings and memory. */
NTSYSAPI VOID NTAPI RtlInitUnicodeString(OUT PUNICODE_STRING DestinationString, IN PCWSTR SourceString OPTIONAL);
NTSYSAPI VOID NTAPI RtlInitAnsiString(OUT PANSI_STRING DestinationString, IN PCSZ SourceString OPTIONAL);
NTSYSAPI VOID NTAPI RtlCopyUnicodeString(IN OUT PUNICODE_STRING DestinationString,
    IN PCUNICODE_STRING SourceString OPTIONAL);
NTSYSAPI NTSTATUS NTAPI RtlAppendUnicodeToString(IN OUT PUNICODE_STRING Destination, IN PCWSTR Source OPTIONAL);
NTSYSAPI NTSTATUS NTAPI RtlAppendUnicodeStringToString(IN OUT PUNICODE_STRING Destination,
    IN PCUNICODE_STRING Source);
NTSYSAPI LONG NTAPI RtlCompareUnicodeString(IN PCUNICODE_STRING String1, IN PCUNICODE_STRING String2,
    IN BOOLEAN CaseInSensitive);
NTSYSAPI BOOLEAN NTAPI RtlEqualUnicodeString(IN PCUNICODE_STRING String1, IN PCUNICODE_STRING String2,
    IN BOOLEAN CaseInSensitive);
NTSYSAPI BOOLEAN NTAPI RtlPrefixUnicodeString(IN PCUNICODE_STRING String1, IN PCUNICODE_STRING String2,
    IN BOOLEAN CaseInSensitive);
NTSYSAPI WCHAR NTAPI RtlUpcaseUnicodeChar(IN WCHAR SourceCharacter);
NTSYSAPI NTSTATUS NTAPI RtlUpcaseUnicodeString(IN OUT PUNICODE_STRING DestinationString,
    IN PCUNICODE_STRING SourceString, IN BOOLEAN AllocateDestinationString);
NTSYSAPI VOID NTAPI RtlFreeUnicodeString(IN OUT PUNICODE_STRING UnicodeString);
/* What a failed ASSERT calls in a checked build: prints the assertion; here also a verifier finding. */
NTSYSAPI VOID NTAPI RtlAssert(IN PVOID VoidFailedAssertion, IN PVOID VoidFileName, IN ULONG LineNumber,
                              IN PSTR MutableMessage OPTIONAL);
NTSYSAPI SIZE_T NTAPI RtlCompareMemory(IN const VOID *Source1, IN const VOID *Source2, IN SIZE_T Length);

/* Rtl: string conversions, numbers and the version (wdm.h's, in the WDK). Conversions use the
 * ANSI code page, taken as ISO-8859-1 (a character above 0xFF becomes '?'); a buffer allocated
 * for the caller is pool tagged 'GrtS', freed with RtlFreeAnsiString or RtlFreeUnicodeString. */
NTSYSAPI NTSTATUS NTAPI RtlUnicodeStringToAnsiString(IN OUT PANSI_STRING DestinationString,
    IN PCUNICODE_STRING SourceString, IN BOOLEAN AllocateDestinationString);
NTSYSAPI NTSTATUS NTAPI RtlAnsiStringToUnicodeString(IN OUT PUNICODE_STRING DestinationString,
    IN PCANSI_STRING SourceString, IN BOOLEAN AllocateDestinationString);
NTSYSAPI VOID NTAPI RtlFreeAnsiString(IN OUT PANSI_STRING AnsiString);
NTSYSAPI NTSTATUS NTAPI RtlUnicodeStringToInteger(IN PCUNICODE_STRING String, IN ULONG Base OPTIONAL,
    OUT PULONG Value);
NTSYSAPI NTSTATUS NTAPI RtlIntegerToUnicodeString(IN ULONG Value, IN ULONG Base OPTIONAL,
    IN OUT PUNICODE_STRING String);
NTSYSAPI NTSTATUS NTAPI RtlInt64ToUnicodeString(IN ULONGLONG Value, IN ULONG Base OPTIONAL,
    IN OUT PUNICODE_STRING String);
NTSYSAPI WCHAR NTAPI RtlDowncaseUnicodeChar(IN WCHAR SourceCharacter);

typedef struct _OSVERSIONINFOW {
    ULONG dwOSVersionInfoSize;
    ULONG dwMajorVersion;
    ULONG dwMinorVersion;
    ULONG dwBuildNumber;
    ULONG dwPlatformId;
    WCHAR szCSDVersion[128];
} OSVERSIONINFOW, *POSVERSIONINFOW, *LPOSVERSIONINFOW, RTL_OSVERSIONINFOW, *PRTL_OSVERSIONINFOW;

typedef struct _OSVERSIONINFOEXW {
    ULONG dwOSVersionInfoSize;
    ULONG dwMajorVersion;
    ULONG dwMinorVersion;
    ULONG dwBuildNumber;
    ULONG dwPlatformId;
    WCHAR szCSDVersion[128];
    USHORT wServicePackMajor;
    USHORT wServicePackMinor;
    USHORT wSuiteMask;
    UCHAR wProductType;
    UCHAR wReserved;
} OSVERSIONINFOEXW, *POSVERSIONINFOEXW, *LPOSVERSIONINFOEXW, RTL_OSVERSIONINFOEXW, *PRTL_OSVERSIONINFOEXW;

#define VER_EQUAL 1
#define VER_GREATER 2
#define VER_GREATER_EQUAL 3
#define VER_LESS 4
#define VER_LESS_EQUAL 5
#define VER_AND 6
#define VER_OR 7
#define VER_CONDITION_MASK 7
#define VER_NUM_BITS_PER_CONDITION_MASK 3
#define VER_MINORVERSION 0x0000001
#define VER_MAJORVERSION 0x0000002
#define VER_BUILDNUMBER 0x0000004
#define VER_PLATFORMID 0x0000008
#define VER_SERVICEPACKMINOR 0x0000010
#define VER_SERVICEPACKMAJOR 0x0000020
#define VER_SUITENAME 0x0000040
#define VER_PRODUCT_TYPE 0x0000080
#define VER_NT_WORKSTATION 0x0000001
#define VER_NT_DOMAIN_CONTROLLER 0x0000002
#define VER_NT_SERVER 0x0000003
#define VER_PLATFORM_WIN32_NT 2
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059)
#define STATUS_INVALID_PARAMETER_2 ((NTSTATUS)0xC00000F0)
#define VER_SET_CONDITION(ConditionMask, TypeBitMask, ComparisonType) \
    ((ConditionMask) = VerSetConditionMask((ConditionMask), (TypeBitMask), (ComparisonType)))

/* The running system's version: the active profile's Windows (registry_core/profiles.py). */
NTSYSAPI NTSTATUS NTAPI RtlGetVersion(IN OUT PRTL_OSVERSIONINFOW lpVersionInformation);
NTSYSAPI NTSTATUS NTAPI RtlVerifyVersionInfo(IN PRTL_OSVERSIONINFOEXW VersionInfo, IN ULONG TypeMask,
    IN ULONGLONG ConditionMask);
NTSYSAPI ULONGLONG NTAPI VerSetConditionMask(IN ULONGLONG ConditionMask, IN ULONG TypeMask, IN UCHAR Condition);

/* Pool. */
NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTag(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes, IN ULONG Tag);
NTKERNELAPI PVOID NTAPI ExAllocatePool(IN POOL_TYPE PoolType, IN SIZE_T NumberOfBytes);
NTKERNELAPI VOID NTAPI ExFreePoolWithTag(IN PVOID P, IN ULONG Tag);
NTKERNELAPI VOID NTAPI ExFreePool(IN PVOID P);

/* Objects and memory probing. */
NTKERNELAPI VOID NTAPI ObReferenceObject(IN PVOID Object);
NTKERNELAPI VOID NTAPI ObDereferenceObject(IN PVOID Object);
NTKERNELAPI NTSTATUS NTAPI ObReferenceObjectByHandle(IN HANDLE Handle, IN ACCESS_MASK DesiredAccess,
    IN POBJECT_TYPE ObjectType OPTIONAL, IN KPROCESSOR_MODE AccessMode, OUT PVOID *Object,
    OUT POBJECT_HANDLE_INFORMATION HandleInformation OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI ObQueryNameString(IN PVOID Object,
    OUT POBJECT_NAME_INFORMATION ObjectNameInfo OPTIONAL, IN ULONG Length, OUT PULONG ReturnLength);
NTKERNELAPI BOOLEAN NTAPI MmIsAddressValid(IN PVOID VirtualAddress);
NTKERNELAPI VOID NTAPI ProbeForRead(IN const volatile VOID *Address, IN SIZE_T Length, IN ULONG Alignment);
NTKERNELAPI VOID NTAPI ProbeForWrite(IN volatile VOID *Address, IN SIZE_T Length, IN ULONG Alignment);

/* Who is calling, and when. */
NTSYSAPI NTSTATUS NTAPI ZwQueryInformationProcess(IN HANDLE ProcessHandle,
    IN PROCESSINFOCLASS ProcessInformationClass, OUT PVOID ProcessInformation,
    IN ULONG ProcessInformationLength, OUT PULONG ReturnLength OPTIONAL);
NTKERNELAPI HANDLE NTAPI PsGetCurrentThreadId(VOID);
NTKERNELAPI HANDLE NTAPI PsGetCurrentProcessId(VOID);
NTKERNELAPI KPROCESSOR_MODE NTAPI ExGetPreviousMode(VOID);
NTKERNELAPI KIRQL NTAPI KeGetCurrentIrql(VOID);
NTKERNELAPI VOID NTAPI KeQuerySystemTime(OUT PLARGE_INTEGER CurrentTime);

/* ------------------------------------------------------------------------
 * Processes and threads as kernel objects (EPROCESS, ETHREAD: opaque), their
 * object types, Ps queries and the process, thread and image notify routines.
 * (The routines the WDK declares in ntifs.h are in cmhook's ntifs.h.)
 * ------------------------------------------------------------------------ */
#ifndef FASTCALL
#define FASTCALL
#endif
typedef LONG KPRIORITY;
typedef struct _PEB *PPEB;
typedef struct _ACCESS_STATE *PACCESS_STATE;

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

typedef struct _PROCESS_BASIC_INFORMATION {
    NTSTATUS ExitStatus;
    PPEB PebBaseAddress;
    ULONG_PTR AffinityMask;
    KPRIORITY BasePriority;
    ULONG_PTR UniqueProcessId;
    ULONG_PTR InheritedFromUniqueProcessId;
} PROCESS_BASIC_INFORMATION, *PPROCESS_BASIC_INFORMATION;

/* What PsSetCreateProcessNotifyRoutineEx's routine gets for a process being created. The WDK
 * puts Flags in a union with its bits FileOpenNameAvailable (bit 0) and IsSubsystemProcess (bit 1);
 * here it is the ULONG alone, at the same offset. */
typedef struct _PS_CREATE_NOTIFY_INFO {
    SIZE_T Size;
    ULONG Flags;
    HANDLE ParentProcessId;
    CLIENT_ID CreatingThreadId;
    struct _FILE_OBJECT *FileObject;
    PCUNICODE_STRING ImageFileName;
    PCUNICODE_STRING CommandLine;
    NTSTATUS CreationStatus;
} PS_CREATE_NOTIFY_INFO, *PPS_CREATE_NOTIFY_INFO;

/* What a load-image notify routine gets: Properties' bits are ImageAddressingMode (0-7),
 * SystemModeImage (8), ImageMappedToAllProcesses (9), ExtendedInfoPresent (10), ... */
typedef struct _IMAGE_INFO {
    ULONG Properties;
    PVOID ImageBase;
    ULONG ImageSelector;
    SIZE_T ImageSize;
    ULONG ImageSectionNumber;
} IMAGE_INFO, *PIMAGE_INFO;
#define IMAGE_ADDRESSING_MODE_32BIT 3

typedef VOID (NTAPI *PCREATE_PROCESS_NOTIFY_ROUTINE)(IN HANDLE ParentId, IN HANDLE ProcessId, IN BOOLEAN Create);
typedef VOID (NTAPI *PCREATE_PROCESS_NOTIFY_ROUTINE_EX)(IN OUT PEPROCESS Process, IN HANDLE ProcessId,
    IN OUT PPS_CREATE_NOTIFY_INFO CreateInfo OPTIONAL);
typedef VOID (NTAPI *PCREATE_THREAD_NOTIFY_ROUTINE)(IN HANDLE ProcessId, IN HANDLE ThreadId, IN BOOLEAN Create);
typedef VOID (NTAPI *PLOAD_IMAGE_NOTIFY_ROUTINE)(IN PUNICODE_STRING FullImageName OPTIONAL, IN HANDLE ProcessId,
    IN PIMAGE_INFO ImageInfo);

#define PROCESS_ALL_ACCESS        0x001FFFFFu
#define THREAD_ALL_ACCESS         0x001FFFFFu
#define STATUS_INVALID_CID        ((NTSTATUS)0xC000000B)
#define STATUS_PROCEDURE_NOT_FOUND ((NTSTATUS)0xC000007A)

#ifndef __CMHOOK_BINDGEN__
/* The object types, as ntoskrnl exports them: a pointer each to the type object. */
extern POBJECT_TYPE *PsProcessType;
extern POBJECT_TYPE *PsThreadType;
extern POBJECT_TYPE *CmKeyObjectType;
/* The WDK's PsGetCurrentProcess is this macro; the shim also exports PsGetCurrentProcess. */
#define PsGetCurrentProcess IoGetCurrentProcess
#endif

NTKERNELAPI PEPROCESS NTAPI IoGetCurrentProcess(VOID);
NTKERNELAPI PETHREAD NTAPI PsGetCurrentThread(VOID);
NTKERNELAPI PKTHREAD NTAPI KeGetCurrentThread(VOID);
NTKERNELAPI HANDLE NTAPI PsGetProcessId(IN PEPROCESS Process);
NTKERNELAPI HANDLE NTAPI PsGetThreadId(IN PETHREAD Thread);
NTKERNELAPI HANDLE NTAPI PsGetThreadProcessId(IN PETHREAD Thread);
NTKERNELAPI LONGLONG NTAPI PsGetProcessCreateTimeQuadPart(IN PEPROCESS Process);
NTSYSAPI NTSTATUS NTAPI ZwOpenProcess(OUT PHANDLE ProcessHandle, IN ACCESS_MASK DesiredAccess,
    IN POBJECT_ATTRIBUTES ObjectAttributes, IN PCLIENT_ID ClientId OPTIONAL);
NTKERNELAPI NTSTATUS NTAPI ObReferenceObjectByPointer(IN PVOID Object, IN ACCESS_MASK DesiredAccess,
    IN POBJECT_TYPE ObjectType OPTIONAL, IN KPROCESSOR_MODE AccessMode);
NTKERNELAPI LONG_PTR FASTCALL ObfReferenceObject(IN PVOID Object);
NTKERNELAPI LONG_PTR FASTCALL ObfDereferenceObject(IN PVOID Object);
NTKERNELAPI PVOID NTAPI MmGetSystemRoutineAddress(IN PUNICODE_STRING SystemRoutineName);
NTKERNELAPI NTSTATUS NTAPI PsSetCreateProcessNotifyRoutine(IN PCREATE_PROCESS_NOTIFY_ROUTINE NotifyRoutine,
    IN BOOLEAN Remove);
NTKERNELAPI NTSTATUS NTAPI PsSetCreateProcessNotifyRoutineEx(IN PCREATE_PROCESS_NOTIFY_ROUTINE_EX NotifyRoutine,
    IN BOOLEAN Remove);
NTKERNELAPI NTSTATUS NTAPI PsSetCreateThreadNotifyRoutine(IN PCREATE_THREAD_NOTIFY_ROUTINE NotifyRoutine);
NTKERNELAPI NTSTATUS NTAPI PsRemoveCreateThreadNotifyRoutine(IN PCREATE_THREAD_NOTIFY_ROUTINE NotifyRoutine);
NTKERNELAPI NTSTATUS NTAPI PsSetLoadImageNotifyRoutine(IN PLOAD_IMAGE_NOTIFY_ROUTINE NotifyRoutine);
NTKERNELAPI NTSTATUS NTAPI PsRemoveLoadImageNotifyRoutine(IN PLOAD_IMAGE_NOTIFY_ROUTINE NotifyRoutine);

/* Locks. */
NTKERNELAPI VOID NTAPI KeInitializeSpinLock(OUT PKSPIN_LOCK SpinLock);
NTKERNELAPI VOID NTAPI KeAcquireSpinLock(IN OUT PKSPIN_LOCK SpinLock, OUT PKIRQL OldIrql);
NTKERNELAPI VOID NTAPI KeReleaseSpinLock(IN OUT PKSPIN_LOCK SpinLock, IN KIRQL NewIrql);
NTKERNELAPI VOID NTAPI ExInitializeFastMutex(OUT PFAST_MUTEX FastMutex);
NTKERNELAPI VOID NTAPI ExAcquireFastMutex(IN OUT PFAST_MUTEX FastMutex);
NTKERNELAPI VOID NTAPI ExReleaseFastMutex(IN OUT PFAST_MUTEX FastMutex);

/* Debug output. */
NTSYSAPI ULONG DbgPrint(IN PCSTR Format, ...);
NTSYSAPI ULONG DbgPrintEx(IN ULONG ComponentId, IN ULONG Level, IN PCSTR Format, ...);
#define KdPrint(_x_) DbgPrint _x_
#define KdPrintEx(_x_) DbgPrintEx _x_

/* ------------------------------------------------------------------------
 * Structured exception handling: the exception codes a fault or a probe
 * raises, the records a filter reads, the filter results, the raise
 * routines. The __try/__except/__finally keywords are at the end of this
 * header, with what differs from Windows.
 * ------------------------------------------------------------------------ */
#ifdef __CMHOOK_BINDGEN__
#define DECLSPEC_NORETURN
#else
#define DECLSPEC_NORETURN __attribute__((noreturn))
#endif

#define STATUS_ILLEGAL_INSTRUCTION       ((NTSTATUS)0xC000001D)
#define STATUS_NONCONTINUABLE_EXCEPTION  ((NTSTATUS)0xC0000025)
#define STATUS_INVALID_DISPOSITION       ((NTSTATUS)0xC0000026)
#define STATUS_FLOAT_INVALID_OPERATION   ((NTSTATUS)0xC0000090)
#define STATUS_INTEGER_DIVIDE_BY_ZERO    ((NTSTATUS)0xC0000094)
#define STATUS_INTEGER_OVERFLOW          ((NTSTATUS)0xC0000095)
#define STATUS_STACK_OVERFLOW            ((NTSTATUS)0xC00000FD)
#define STATUS_STACK_BUFFER_OVERRUN      ((NTSTATUS)0xC0000409)
#define STATUS_FATAL_APP_EXIT            ((NTSTATUS)0x40000015)

/* Bug check codes (bugcodes.h): what Windows stops with when driver code faults or corrupts
 * the kernel; the harness names them in its bugcheck reports. */
#define IRQL_NOT_LESS_OR_EQUAL               ((ULONG)0x0000000A)
#define BAD_POOL_HEADER                      ((ULONG)0x00000019)
#define KMODE_EXCEPTION_NOT_HANDLED          ((ULONG)0x0000001E)
#define SYSTEM_SERVICE_EXCEPTION             ((ULONG)0x0000003B)
#define PAGE_FAULT_IN_NONPAGED_AREA          ((ULONG)0x00000050)
#define SYSTEM_THREAD_EXCEPTION_NOT_HANDLED  ((ULONG)0x0000007E)
#define UNEXPECTED_KERNEL_MODE_TRAP          ((ULONG)0x0000007F)
#define KERNEL_MODE_EXCEPTION_NOT_HANDLED    ((ULONG)0x0000008E)
#define BAD_POOL_CALLER                      ((ULONG)0x000000C2)
#define DRIVER_OVERRAN_STACK_BUFFER          ((ULONG)0x000000F7)
/* Driver Verifier's bug checks (Microsoft's bug check code reference): what a verifier finding
 * stands for. Windows stops with them; the harness reports them as findings and goes on. */
#define IRQL_NOT_GREATER_OR_EQUAL            ((ULONG)0x00000009)
#define INVALID_KERNEL_HANDLE                ((ULONG)0x00000093)
#define SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION ((ULONG)0x000000C1)
#define DRIVER_VERIFIER_DETECTED_VIOLATION   ((ULONG)0x000000C4)
#define DRIVER_CORRUPTED_EXPOOL              ((ULONG)0x000000C5)
#define DRIVER_CAUGHT_MODIFYING_FREED_POOL   ((ULONG)0x000000C6)
#define DRIVER_IRQL_NOT_LESS_OR_EQUAL        ((ULONG)0x000000D1)
#define DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL ((ULONG)0x000000D5)
#define DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION ((ULONG)0x000000D6)
/* UNEXPECTED_KERNEL_MODE_TRAP's first parameter for a double fault: a kernel stack overflow. */
#define EXCEPTION_DOUBLE_FAULT               8

/* What an __except filter evaluates to. */
#define EXCEPTION_EXECUTE_HANDLER     1
#define EXCEPTION_CONTINUE_SEARCH     0
#define EXCEPTION_CONTINUE_EXECUTION  (-1)

#define EXCEPTION_NONCONTINUABLE      0x1
#define EXCEPTION_MAXIMUM_PARAMETERS  15

/* An access violation has two parameters: 0 read, 1 write or 8 execute; the address. */
typedef struct _EXCEPTION_RECORD {
    NTSTATUS ExceptionCode;
    ULONG ExceptionFlags;
    struct _EXCEPTION_RECORD *ExceptionRecord;
    PVOID ExceptionAddress;
    ULONG NumberParameters;
    ULONG_PTR ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} EXCEPTION_RECORD, *PEXCEPTION_RECORD;

/* The processor context is not modelled: ContextRecord is NULL. */
typedef struct _CONTEXT *PCONTEXT;

typedef struct _EXCEPTION_POINTERS {
    PEXCEPTION_RECORD ExceptionRecord;
    PCONTEXT ContextRecord;
} EXCEPTION_POINTERS, *PEXCEPTION_POINTERS;

/* Raise an exception into the innermost __except of this thread. ExRaiseStatus and its two
 * shorthands raise a noncontinuable exception, as on Windows; RtlRaiseException raises the
 * record it is given (ExceptionAddress becomes its caller's address) and returns when a filter
 * continues a continuable one. ProbeForRead and ProbeForWrite raise as ExRaiseStatus does. */
NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI ExRaiseStatus(IN NTSTATUS Status);
NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI ExRaiseAccessViolation(VOID);
NTKERNELAPI DECLSPEC_NORETURN VOID NTAPI ExRaiseDatatypeMisalignment(VOID);
NTSYSAPI VOID NTAPI RtlRaiseException(IN PEXCEPTION_RECORD ExceptionRecord);

#ifndef __CMHOOK_BINDGEN__
/* Pool tags are multi-character constants ('kooH'); gcc and clang give them
 * MSVC's value, so the warning about them is only noise for a driver. */
#pragma GCC diagnostic ignored "-Wmultichar"
/* MSVC's pragmas (#pragma alloc_text(PAGE, Routine), code_seg, warning(disable: 4201),
 * prefast, comment(lib, ...)) name sections and warnings gcc and clang do not have; -Wall
 * would warn about each. They are ignored, silently, from here to the end of the source. */
#pragma GCC diagnostic ignored "-Wunknown-pragmas"

/* ------------------------------------------------------------------------
 * What C needs and the bindings do not: layout guarantees, memory macros,
 * interlocked operations and structured exception handling keywords.
 * ------------------------------------------------------------------------ */
_Static_assert(sizeof(void *) == 8, "cmhook's ntddk.h describes Windows x64: build for x86-64");
_Static_assert(sizeof(WCHAR) == 2 && sizeof(ULONG) == 4 && sizeof(LONGLONG) == 8, "Windows widths");

#define FIELD_OFFSET(type, field) ((LONG)__builtin_offsetof(type, field))
#define CONTAINING_RECORD(address, type, field) \
    ((type *)((PCHAR)(address) - (ULONG_PTR)(&((type *)0)->field)))
#define RTL_CONSTANT_STRING(s) { sizeof(s) - sizeof((s)[0]), sizeof(s), (PWSTR)(s) }

#define RtlZeroMemory(Destination, Length) ((void)__builtin_memset((Destination), 0, (Length)))
#define RtlFillMemory(Destination, Length, Fill) ((void)__builtin_memset((Destination), (Fill), (Length)))
#define RtlCopyMemory(Destination, Source, Length) ((void)__builtin_memcpy((Destination), (Source), (Length)))
#define RtlMoveMemory(Destination, Source, Length) ((void)__builtin_memmove((Destination), (Source), (Length)))
#define RtlEqualMemory(Source1, Source2, Length) (!__builtin_memcmp((Source1), (Source2), (Length)))

FORCEINLINE LONG InterlockedIncrement(volatile LONG *Addend)
{ return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
FORCEINLINE LONG InterlockedDecrement(volatile LONG *Addend)
{ return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
FORCEINLINE LONG InterlockedExchange(volatile LONG *Target, LONG Value)
{ return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST); }
FORCEINLINE LONG InterlockedExchangeAdd(volatile LONG *Addend, LONG Value)
{ return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST); }
FORCEINLINE LONG InterlockedCompareExchange(volatile LONG *Destination, LONG Exchange, LONG Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE LONGLONG InterlockedIncrement64(volatile LONGLONG *Addend)
{ return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
FORCEINLINE LONGLONG InterlockedDecrement64(volatile LONGLONG *Addend)
{ return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
FORCEINLINE PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{ return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST); }
FORCEINLINE PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange, PVOID Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}

/* ------------------------------------------------------------------------
 * The kernel's C runtime (ntoskrnl exports these; a WDK build sees them through the CRT
 * headers wdm.h includes), 16-bit: WCHAR strings, as a filter built with -fshort-wchar spells
 * wchar_t. The C library's wcs* functions work on a 32-bit wchar_t, so a name the C library
 * also defines is bound to the kernel shim's routine under another symbol (the asm label): a
 * filter's wcslen is the shim's whatever the C library's headers say, and a module calling the
 * C library's own (built without this header) is refused at load. The kernel's swprintf is the
 * pre-C99 one, without a count; it cannot be declared beside the C library's <wchar.h>.
 * Case: the C locale's, the kernel's only one ('A'-'Z' and 'a'-'z'). The _s forms return
 * EINVAL (22) or ERANGE (34), and wcsncpy_s with _TRUNCATE STRUNCATE (80), as the CRT's.
 * ------------------------------------------------------------------------ */
#include <stdarg.h>
#if defined(__SIZEOF_WCHAR_T__) && __SIZEOF_WCHAR_T__ != 2
/* Built without -fshort-wchar: the compiler's own wcslen ... take 32-bit strings, so the names
 * are macros for the routines' symbols instead. */
#define _CMHOOK_CRT_NAME(Name) CmhookCrt_##Name
#define _CMHOOK_CRT(Name)
#else
#define _CMHOOK_CRT_NAME(Name) Name
#define _CMHOOK_CRT(Name) __asm__("CmhookCrt_" #Name)
#endif
typedef int errno_t;
typedef size_t rsize_t;
#define _TRUNCATE ((size_t)-1)
#define STRUNCATE 80
size_t __cdecl _CMHOOK_CRT_NAME(wcslen)(const WCHAR *String) _CMHOOK_CRT(wcslen);
size_t __cdecl _CMHOOK_CRT_NAME(wcsnlen)(const WCHAR *String, size_t MaxCount) _CMHOOK_CRT(wcsnlen);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcscpy)(WCHAR *Destination, const WCHAR *Source) _CMHOOK_CRT(wcscpy);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcsncpy)(WCHAR *Destination, const WCHAR *Source, size_t Count) _CMHOOK_CRT(wcsncpy);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcscat)(WCHAR *Destination, const WCHAR *Source) _CMHOOK_CRT(wcscat);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcsncat)(WCHAR *Destination, const WCHAR *Source, size_t Count) _CMHOOK_CRT(wcsncat);
int __cdecl _CMHOOK_CRT_NAME(wcscmp)(const WCHAR *String1, const WCHAR *String2) _CMHOOK_CRT(wcscmp);
int __cdecl _CMHOOK_CRT_NAME(wcsncmp)(const WCHAR *String1, const WCHAR *String2, size_t Count) _CMHOOK_CRT(wcsncmp);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcschr)(const WCHAR *String, WCHAR Character) _CMHOOK_CRT(wcschr);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcsrchr)(const WCHAR *String, WCHAR Character) _CMHOOK_CRT(wcsrchr);
WCHAR *__cdecl _CMHOOK_CRT_NAME(wcsstr)(const WCHAR *String, const WCHAR *Search) _CMHOOK_CRT(wcsstr);
__WINT_TYPE__ __cdecl _CMHOOK_CRT_NAME(towlower)(__WINT_TYPE__ Character) _CMHOOK_CRT(towlower);
__WINT_TYPE__ __cdecl _CMHOOK_CRT_NAME(towupper)(__WINT_TYPE__ Character) _CMHOOK_CRT(towupper);
int __cdecl _CMHOOK_CRT_NAME(swprintf)(WCHAR *Buffer, const WCHAR *Format, ...) _CMHOOK_CRT(swprintf);
int __cdecl _wcsicmp(const WCHAR *String1, const WCHAR *String2);
int __cdecl _wcsnicmp(const WCHAR *String1, const WCHAR *String2, size_t Count);
WCHAR *__cdecl _wcslwr(WCHAR *String);
WCHAR *__cdecl _wcsupr(WCHAR *String);
errno_t __cdecl wcscpy_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source);
errno_t __cdecl wcsncpy_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source, rsize_t Count);
errno_t __cdecl wcscat_s(WCHAR *Destination, rsize_t SizeInWords, const WCHAR *Source);
int __cdecl _stricmp(const char *String1, const char *String2);
int __cdecl _strnicmp(const char *String1, const char *String2, size_t Count);
int __cdecl _vsnprintf(char *Buffer, size_t Count, const char *Format, va_list Arguments);
int __cdecl _snprintf(char *Buffer, size_t Count, const char *Format, ...);
int __cdecl _vsnwprintf(WCHAR *Buffer, size_t Count, const WCHAR *Format, va_list Arguments);
int __cdecl _snwprintf(WCHAR *Buffer, size_t Count, const WCHAR *Format, ...);
#if defined(__SIZEOF_WCHAR_T__) && __SIZEOF_WCHAR_T__ != 2
#define wcslen CmhookCrt_wcslen
#define wcsnlen CmhookCrt_wcsnlen
#define wcscpy CmhookCrt_wcscpy
#define wcsncpy CmhookCrt_wcsncpy
#define wcscat CmhookCrt_wcscat
#define wcsncat CmhookCrt_wcsncat
#define wcscmp CmhookCrt_wcscmp
#define wcsncmp CmhookCrt_wcsncmp
#define wcschr CmhookCrt_wcschr
#define wcsrchr CmhookCrt_wcsrchr
#define wcsstr CmhookCrt_wcsstr
#define towlower CmhookCrt_towlower
#define towupper CmhookCrt_towupper
#define swprintf CmhookCrt_swprintf
#endif

/* ------------------------------------------------------------------------
 * Structured exception handling for gcc and clang: __try/__except(filter),
 * __try/__finally, __leave, GetExceptionCode(), GetExceptionInformation(),
 * AbnormalTermination(), nested to any depth.
 *
 * Each __try puts a frame (the registers setjmp would save) on its thread's
 * chain in the kernel shim and takes it off on every way out. What raises
 * into the innermost frame: a fault in driver code (SIGSEGV and SIGBUS give
 * STATUS_ACCESS_VIOLATION with its two parameters, SIGFPE
 * STATUS_INTEGER_DIVIDE_BY_ZERO, SIGILL STATUS_ILLEGAL_INSTRUCTION),
 * ExRaiseStatus, RtlRaiseException, and ProbeForRead/ProbeForWrite when a
 * range is misaligned (STATUS_DATATYPE_MISALIGNMENT) or not in the caller's
 * user address space (STATUS_ACCESS_VIOLATION). Filters answer as on Windows:
 * EXCEPTION_EXECUTE_HANDLER runs the handler once the __finally blocks inside
 * its __try have run, EXCEPTION_CONTINUE_SEARCH asks the next outer frame,
 * EXCEPTION_CONTINUE_EXECUTION continues. An exception no frame takes is a
 * bugcheck: a line naming the module and offset, and the process dies.
 *
 * What differs from Windows (setjmp/longjmp underneath):
 * - Locals: a local changed inside a __try and read in its filter, its
 *   handler or after it must be volatile when an exception got there.
 * - No unwinding through frames without a __try: a function an exception
 *   passes through is abandoned where it was (a lock it holds stays held, a
 *   cleanup attribute does not run).
 * - Synchronous faults only, of the faulting thread, in a driver's code or in
 *   the shim's or the C library's routines it called (memcpy for
 *   RtlCopyMemory); never across the harness's Python: a Python routine's
 *   upcall hides the caller's frames until it returns.
 * - Filters: one that is an integer constant expression (the three
 *   EXCEPTION_ values) is known before anything unwinds. Any other runs after
 *   the frames inside its __try are gone and their __finally blocks have run
 *   (Windows runs it first); EXCEPTION_CONTINUE_EXECUTION from such a filter
 *   raises STATUS_NONCONTINUABLE_EXCEPTION, the raise point being gone.
 * - EXCEPTION_CONTINUE_EXECUTION re-runs a faulting instruction (which faults
 *   again unless its cause went away), returns from RtlRaiseException of a
 *   continuable record, and for ExRaiseStatus and the probes (noncontinuable,
 *   as on Windows) raises STATUS_NONCONTINUABLE_EXCEPTION to the outer frames.
 * - return, break, continue or goto out of a __try block take its frame off
 *   but skip its __finally block (Windows runs it): leave with __leave or by
 *   reaching the block's end. Leaving a __finally block early ends an unwind
 *   that ran it.
 * - A function ending in __try { return ...; } __finally { ... }, or (gcc
 *   -O0) in nested __try blocks that all return, needs a return after them:
 *   the compilers warn that control reaches the end. gcc's -Wclobbered (in
 *   -Wextra) names locals that the first note is about.
 * - GetExceptionCode() reads the thread's latest exception: in a handler,
 *   read it before anything that may raise and handle another one. The
 *   ContextRecord of GetExceptionInformation() is NULL.
 * - `if (c) __try {...} __except (f) {...} else ...` does not compile.
 * ------------------------------------------------------------------------ */
#define _CMHOOK_SEH_KIND_EXCEPT  0
#define _CMHOOK_SEH_KIND_FINALLY 1
#define _CMHOOK_SEH_BODY     0 /* phases: running the __try block */
#define _CMHOOK_SEH_FILTER   1 /* landed to evaluate the filter */
#define _CMHOOK_SEH_HANDLER  2 /* landed to run the handler */
#define _CMHOOK_SEH_UNWIND   3 /* landed to run the __finally block of an unwind */

typedef struct _CMHOOK_SEH_FRAME {
    struct _CMHOOK_SEH_FRAME *Next;         /* the next outer frame of this thread */
    ULONG_PTR Jump[8];                      /* rbx rbp r12 r13 r14 r15 rsp rip, as CmhookSehSetjmp saves them */
    ULONG Magic;
    LONG Kind;                              /* _CMHOOK_SEH_KIND_EXCEPT or _CMHOOK_SEH_KIND_FINALLY */
    LONG Constant;                          /* the filter is an integer constant expression ... */
    LONG Disposition;                       /* ... of this value */
    LONG Phase;                             /* what the shim landed here for */
    LONG Linked;                            /* on the thread's chain */
    LONG Signal;                            /* the signal the landed exception came from (0: a raise) */
    struct _CMHOOK_SEH_FRAME *UnwindTarget; /* landed for an unwind: the frame it goes on to */
    EXCEPTION_RECORD Record;                /* the exception landed with */
} CMHOOK_SEH_FRAME;

typedef struct _CMHOOK_SEH_FINALLY_STATE {
    CMHOOK_SEH_FRAME *UnwindTarget;         /* NULL: the __try block ended normally or by __leave */
    LONG Run;
} CMHOOK_SEH_FINALLY;

/* The kernel shim's side of the keywords; drivers call them only through the macros below. */
int CmhookSehSetjmp(ULONG_PTR *Jump) __attribute__((returns_twice));
LONG CmhookSehEnter(CMHOOK_SEH_FRAME *Frame);
VOID CmhookSehUnlink(CMHOOK_SEH_FRAME *Frame);
VOID CmhookSehLanded(CMHOOK_SEH_FRAME *Frame, LONG Disposition);
VOID CmhookSehFinallyLanded(CMHOOK_SEH_FRAME *Frame);
CMHOOK_SEH_FINALLY CmhookSehFinallyBegin(VOID);
VOID CmhookSehFinallyDone(CMHOOK_SEH_FINALLY *Finally);
NTSTATUS CmhookSehExceptionCode(VOID);
PEXCEPTION_POINTERS CmhookSehExceptionPointers(VOID);

FORCEINLINE VOID CmhookSehClose(CMHOOK_SEH_FRAME *Frame)
{
    if (Frame->Linked)
        CmhookSehUnlink(Frame);
}

/* 1 when x is an integer constant expression (x is not evaluated), else 0. */
#define _CMHOOK_SEH_CONSTANT(x) \
    __builtin_types_compatible_p(__typeof__(1 ? (int *)0 : (void *)((long)(x) * 0l)), int *)
#define _CMHOOK_SEH_JOIN(a, b) a##b
#define _CMHOOK_SEH_LABEL(a, b) _CMHOOK_SEH_JOIN(a, b)

/* One statement: `if (1) { { frame; setjmp; the __try block; else landing } leave: } else
 * handler:`. The first pass jumps ahead to record the kind of the construct and a constant
 * filter's value in the frame, then back to push the frame and run the block; a landing that
 * runs the handler jumps to it. The frame's cleanup takes it off on every way out of its scope;
 * nothing follows the block inside that scope, so that gcc -O0 sees a block ending in return
 * as not falling through. */
#define __try \
    if (1) { \
        __label__ _cmhook_leave; \
        { \
            __label__ _cmhook_enter, _cmhook_kind; \
            CMHOOK_SEH_FRAME _cmhook_frame __attribute__((cleanup(CmhookSehClose))); \
            goto _cmhook_kind; \
        _cmhook_enter: \
            if (CmhookSehSetjmp(_cmhook_frame.Jump) == 0 && CmhookSehEnter(&_cmhook_frame))

#define __except(...) _CMHOOK_SEH_EXCEPT_AT((__VA_ARGS__), _CMHOOK_SEH_LABEL(_cmhook_handler_, __COUNTER__))
#define _CMHOOK_SEH_EXCEPT_AT(Filter, Handler) \
            else { \
                CmhookSehLanded(&_cmhook_frame, _cmhook_frame.Phase == _CMHOOK_SEH_FILTER ? (LONG)(Filter) : 0); \
                goto Handler; \
            _cmhook_kind: \
                _cmhook_frame.Kind = _CMHOOK_SEH_KIND_EXCEPT; \
                _cmhook_frame.Constant = _CMHOOK_SEH_CONSTANT(Filter); \
                _cmhook_frame.Disposition = _CMHOOK_SEH_CONSTANT(Filter) ? (LONG)(Filter) : 0; \
                _cmhook_frame.Linked = 0; \
                goto _cmhook_enter; \
            } \
        } \
    _cmhook_leave: __attribute__((unused)); \
    } else Handler:

#define __finally _CMHOOK_SEH_FINALLY_AT(_CMHOOK_SEH_LABEL(_cmhook_finally_, __COUNTER__))
#define _CMHOOK_SEH_FINALLY_AT(Finally) \
            else { \
                CmhookSehFinallyLanded(&_cmhook_frame); \
                goto Finally; \
            _cmhook_kind: \
                _cmhook_frame.Kind = _CMHOOK_SEH_KIND_FINALLY; \
                _cmhook_frame.Constant = 0; \
                _cmhook_frame.Linked = 0; \
                goto _cmhook_enter; \
            } \
        } \
    _cmhook_leave: __attribute__((unused)); \
        goto Finally; \
    } else Finally: \
        for (CMHOOK_SEH_FINALLY _cmhook_finally = CmhookSehFinallyBegin(); _cmhook_finally.Run; \
             CmhookSehFinallyDone(&_cmhook_finally))

#define __leave goto _cmhook_leave
#define GetExceptionCode() CmhookSehExceptionCode()
#define GetExceptionInformation() CmhookSehExceptionPointers()
#define AbnormalTermination() (_cmhook_finally.UnwindTarget != NULL)
#define _exception_code() GetExceptionCode()
#define _exception_info() GetExceptionInformation()
#define _abnormal_termination() AbnormalTermination()
#endif /* __CMHOOK_BINDGEN__ */

#ifdef __cplusplus
}
#endif

/* What the WDK's wdm.h adds to the declarations above: lists, limits, assertions,
 * PAGED_CODE(), role typedefs (see wdm.h). */
#include "wdm.h"

#endif /* _CMHOOK_NTDDK_H_ */
