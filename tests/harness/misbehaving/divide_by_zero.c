/* An integer division by zero in a callback: 0x3B SYSTEM_SERVICE_EXCEPTION. */
#include "misbehaving.h"

static DECLSPEC_NOINLINE ULONG Divide(ULONG Dividend)
{
    volatile ULONG Zero = 0;
    return Dividend / Zero;
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    return Divide(Info->DataSize) ? STATUS_ACCESS_DENIED : STATUS_SUCCESS;
}
