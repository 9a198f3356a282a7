/*
 * Windows x64 reference declarations that mingw-w64's DDK headers lack,
 * written from Microsoft's documentation with the Windows typedefs of mingw's
 * headers and laid out by x86_64-w64-mingw32-gcc (so the layout is Windows').
 * Prefixed DOC_ so that a mingw release that adds them does not collide.
 *
 * KEY_NAME_INFORMATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_key_name_information
 * KEY_CACHED_INFORMATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_key_cached_information
 *
 * Values mingw-w64 lacks (or has only in a header that cannot stand beside its DDK's), from
 * Microsoft's documentation, each defined only where mingw does not define it:
 * SYSTEM_SERVICE_EXCEPTION: https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/bug-check-0x3b--system-service-exception
 * DRIVER_OVERRAN_STACK_BUFFER: https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/bug-check-0xf7--driver-overran-stack-buffer
 * DRIVER_VERIFIER_DETECTED_VIOLATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/bug-check-0xc4--driver-verifier-detected-violation
 * DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL: https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/bug-check-0xd5--driver-page-fault-in-freed-special-pool
 * DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/bug-check-0xd6--driver-page-fault-beyond-end-of-allocation
 * MAXDWORD (winnt.h, which mingw's DDK headers cannot include beside them): 0xffffffff
 * DrvRtPoolNxOptIn: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/wdm/nf-wdm-exinitializedriverruntime
 *   (0x00000001, wdm.h's DRIVER_RUNTIME_INIT_FLAGS)
 * ALLOC_PRAGMA, ALLOC_DATA_PRAGMA: 1 in a Windows x64 build (mingw-w64's own wdm.h defines
 * them so under _MSC_VER and _M_AMD64, which its gcc does not define)
 */
#ifndef SYSTEM_SERVICE_EXCEPTION
#define SYSTEM_SERVICE_EXCEPTION ((ULONG)0x0000003B)
#endif
#ifndef DRIVER_OVERRAN_STACK_BUFFER
#define DRIVER_OVERRAN_STACK_BUFFER ((ULONG)0x000000F7)
#endif
#ifndef DRIVER_VERIFIER_DETECTED_VIOLATION
#define DRIVER_VERIFIER_DETECTED_VIOLATION ((ULONG)0x000000C4)
#endif
#ifndef DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL
#define DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL ((ULONG)0x000000D5)
#endif
#ifndef DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION
#define DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION ((ULONG)0x000000D6)
#endif
#ifndef MAXDWORD
#define MAXDWORD 0xffffffff
#endif
typedef struct _DOC_KEY_NAME_INFORMATION {
    ULONG NameLength;
    WCHAR Name[1];
} DOC_KEY_NAME_INFORMATION, *PDOC_KEY_NAME_INFORMATION;

typedef struct _DOC_KEY_CACHED_INFORMATION {
    LARGE_INTEGER LastWriteTime;
    ULONG TitleIndex;
    ULONG SubKeys;
    ULONG MaxNameLen;
    ULONG Values;
    ULONG MaxValueNameLen;
    ULONG MaxValueDataLen;
    ULONG NameLength;
} DOC_KEY_CACHED_INFORMATION, *PDOC_KEY_CACHED_INFORMATION;
#ifndef ALLOC_PRAGMA
#define ALLOC_PRAGMA 1
#endif
#ifndef ALLOC_DATA_PRAGMA
#define ALLOC_DATA_PRAGMA 1
#endif
#ifndef DrvRtPoolNxOptIn
#define DrvRtPoolNxOptIn 0x00000001
#endif
