/* A NULL dereference in a callback: 0x3B SYSTEM_SERVICE_EXCEPTION (the callback of a user-mode call). */
#include "misbehaving.h"

static DECLSPEC_NOINLINE ULONG ReadThroughNull(VOID)
{
    PREG_SET_VALUE_KEY_INFORMATION volatile Nothing = NULL;
    return Nothing->DataSize;
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    return ReadThroughNull() ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
}
