/* exit_group(0) in a callback: the machine ends early, which Windows has no way to do: a failure
 * whatever the status, 0 included.
 *
 * Built plain, it makes the system call itself, since the loader takes neither _exit nor
 * syscall as an import; built with -D CALL_LIBC_EXIT it calls _exit(0). */
#include "misbehaving.h"

#ifdef CALL_LIBC_EXIT
void _exit(int Status);
#define ExitGroup _exit
#else
static inline __attribute__((always_inline)) VOID ExitGroup(int Status)
{
    LONG_PTR Result;
    __asm__ volatile("syscall" : "=a"(Result) : "a"(231L /* SYS_exit_group */), "D"((LONG_PTR)Status)
                     : "rcx", "r11", "memory");
}
#endif

static DECLSPEC_NOINLINE VOID EndTheMachine(VOID)
{
    ExitGroup(0);
}

static NTSTATUS OnPreSetValueKey(PREG_SET_VALUE_KEY_INFORMATION Info)
{
    UNREFERENCED_PARAMETER(Info);
    EndTheMachine();
    return STATUS_SUCCESS;
}
