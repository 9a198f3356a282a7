/* An abort in a callback: 0x1E KMODE_EXCEPTION_NOT_HANDLED (STATUS_FATAL_APP_EXIT).
 *
 * Built plain, it raises SIGABRT in the calling thread with system calls of its own, as the C
 * library's abort() does, since the loader does not take abort as an import; built with
 * -D CALL_LIBC_ABORT it calls abort() itself. */
#include "misbehaving.h"

#ifdef CALL_LIBC_ABORT
void abort(void);
#define Abort abort
#else
static inline __attribute__((always_inline)) LONG_PTR SystemCall(LONG_PTR Number, LONG_PTR First, LONG_PTR Second,
                                                                  LONG_PTR Third)
{
    LONG_PTR Result;
    __asm__ volatile("syscall" : "=a"(Result) : "a"(Number), "D"(First), "S"(Second), "d"(Third)
                     : "rcx", "r11", "memory");
    return Result;
}

static inline __attribute__((always_inline)) VOID Abort(VOID)
{
    enum { SYS_getpid = 39, SYS_gettid = 186, SYS_tgkill = 234, SIGNAL_ABORT = 6 };
    SystemCall(SYS_tgkill, SystemCall(SYS_getpid, 0, 0, 0), SystemCall(SYS_gettid, 0, 0, 0), SIGNAL_ABORT);
}
#endif

static DECLSPEC_NOINLINE VOID GiveUp(VOID)
{
    Abort();
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    GiveUp();
    return STATUS_SUCCESS;
}
