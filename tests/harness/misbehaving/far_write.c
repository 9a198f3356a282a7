/* A write far past the notification's struct (1 MiB from Argument2): 0x50 PAGE_FAULT_IN_NONPAGED_AREA. */
#include "misbehaving.h"

static DECLSPEC_NOINLINE VOID FillPastTheEnd(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    RtlFillMemory(Info, 1 << 20, 0xCC);
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    FillPastTheEnd(Info);
    return STATUS_SUCCESS;
}
