/* A FAST_MUTEX acquired twice by one thread: not recursive on Windows, so the thread waits for
 * itself forever, a hang. */
#include "misbehaving.h"

static FAST_MUTEX Lock;

static DECLSPEC_NOINLINE VOID LockTwice(VOID)
{
    ExInitializeFastMutex(&Lock);
    ExAcquireFastMutex(&Lock);
    ExAcquireFastMutex(&Lock);
    ExReleaseFastMutex(&Lock);
    ExReleaseFastMutex(&Lock);
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    LockTwice();
    return STATUS_SUCCESS;
}
