/* __builtin_trap() (ud2, an illegal instruction) in a callback: 0x3B SYSTEM_SERVICE_EXCEPTION. */
#include "misbehaving.h"

static volatile LONG Reached;

static DECLSPEC_NOINLINE VOID Trap(VOID)
{
    Reached = 1;
    __builtin_trap();
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    Trap();
    return STATUS_SUCCESS;
}
