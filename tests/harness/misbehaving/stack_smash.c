/* A local buffer overrun, built with -fstack-protector-all: the stack protector's check fails,
 * 0xF7 DRIVER_OVERRAN_STACK_BUFFER. */
#include "misbehaving.h"

static volatile ULONG Count = 64; /* bytes written into an 8-byte buffer */

static DECLSPEC_NOINLINE ULONG Overrun(VOID)
{
    CHAR Name[8];
    volatile CHAR *Cursor = Name;
    ULONG Index;
    for (Index = 0; Index < Count; Index++)
        Cursor[Index] = 'A';
    return (ULONG)Name[0];
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    return Overrun() ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}
