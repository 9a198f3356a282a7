/* Unbounded recursion with a 4 KiB local in a callback: the stack overflows,
 * 0x7F UNEXPECTED_KERNEL_MODE_TRAP (EXCEPTION_DOUBLE_FAULT). */
#include "misbehaving.h"

static volatile ULONG Never = 0xFFFFFFFF; /* a depth no stack reaches: the compiler sees a way out */

static DECLSPEC_NOINLINE ULONG Recurse(ULONG Depth)
{
    volatile UCHAR Frame[4096];
    Frame[0] = (UCHAR)Depth;
    if (Depth == Never)
        return Frame[0];
    return Recurse(Depth + 1) + Frame[0];
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    return Recurse(0) ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
}
