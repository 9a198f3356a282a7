/*
 * Windows x64 reference declarations that mingw-w64's DDK headers lack,
 * written from Microsoft's documentation with the Windows typedefs of mingw's
 * headers and laid out by x86_64-w64-mingw32-gcc (so the layout is Windows').
 * Prefixed DOC_ so that a mingw release that adds them does not collide.
 *
 * KEY_NAME_INFORMATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_key_name_information
 * KEY_CACHED_INFORMATION: https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntddk/ns-ntddk-_key_cached_information
 */
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
