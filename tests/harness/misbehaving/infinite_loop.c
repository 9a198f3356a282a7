/* A callback that never returns: a hang, which the watchdog reports with the thread's stack. */
#include "misbehaving.h"

static volatile ULONG Spins;

static DECLSPEC_NOINLINE VOID Spin(VOID)
{
    for (;;)
        Spins++;
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    Spin();
    return STATUS_SUCCESS;
}
