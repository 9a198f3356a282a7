"""Which bug check a crash record becomes (harness/bugcheck.py's decisions), and the bug check
codes themselves against mingw-w64's bugcodes.h, the independent Windows reference."""

from __future__ import annotations

import re
import signal
import subprocess
from types import SimpleNamespace

import pytest

import ntddk_py
from harness import bugcheck

MINGW = "x86_64-w64-mingw32-gcc"


def _crash(signal_number=signal.SIGSEGV, code=ntddk_py.STATUS_ACCESS_VIOLATION, address=0, access=1,
           overflow=0, kind=bugcheck.IN_CALLBACK, process_id=1234, depth=1):
    return SimpleNamespace(Signal=signal_number, ExceptionCode=code, FaultAddress=address, Access=access,
                           Ip=0x7F0000001234, StackOverflow=overflow), bugcheck.Thread(
        tid=77, depth=depth, kind=kind, notify_class=ntddk_py.REG_NOTIFY_CLASS.RegNtPreSetValueKey,
        function=0, process_id=process_id, thread_id=5678, since=0)


@pytest.mark.parametrize(("crash", "symbols", "code"), [
    # A NULL write in a callback of a user-mode process's call: the call is a system service.
    (_crash(), set(), ntddk_py.SYSTEM_SERVICE_EXCEPTION),
    # The same in DriverEntry, DriverUnload, or a call of the System process: a system thread.
    (_crash(kind=bugcheck.IN_DRIVER_ENTRY), set(), ntddk_py.SYSTEM_THREAD_EXCEPTION_NOT_HANDLED),
    (_crash(kind=bugcheck.IN_DRIVER_UNLOAD), set(), ntddk_py.SYSTEM_THREAD_EXCEPTION_NOT_HANDLED),
    (_crash(process_id=4), set(), ntddk_py.SYSTEM_THREAD_EXCEPTION_NOT_HANDLED),
    # An invalid address that is no NULL pointer plus an offset.
    (_crash(address=0x7F00DEAD0000), set(), ntddk_py.PAGE_FAULT_IN_NONPAGED_AREA),
    (_crash(signal_number=signal.SIGFPE, code=ntddk_py.STATUS_INTEGER_DIVIDE_BY_ZERO), set(),
     ntddk_py.SYSTEM_SERVICE_EXCEPTION),
    (_crash(overflow=1, address=0x7FFF0000), set(), ntddk_py.UNEXPECTED_KERNEL_MODE_TRAP),
    (_crash(signal_number=signal.SIGABRT, code=0), {"__stack_chk_fail", "abort"},
     ntddk_py.DRIVER_OVERRAN_STACK_BUFFER),
    (_crash(signal_number=signal.SIGABRT, code=0), {"malloc_printerr", "abort"}, ntddk_py.BAD_POOL_HEADER),
    (_crash(signal_number=signal.SIGABRT, code=0), {"abort"}, ntddk_py.KMODE_EXCEPTION_NOT_HANDLED),
    # Outside driver code: the harness's own fault.
    (_crash(depth=0), set(), ntddk_py.KMODE_EXCEPTION_NOT_HANDLED),
])
def test_a_crash_becomes_the_bug_check_windows_would_give(crash, symbols, code):
    record, thread = crash
    chosen, parameters, what = bugcheck._choose(record, thread, symbols)
    assert chosen == code, bugcheck.BUGCHECK_NAMES[chosen]
    assert len(parameters) == 4 and what


def test_an_access_violation_names_the_access_and_the_address_and_its_parameters():
    record, thread = _crash(address=0x10, access=1)
    code, parameters, what = bugcheck._choose(record, thread, set())
    assert what == "STATUS_ACCESS_VIOLATION writing 0x0000000000000010"
    assert parameters[:2] == (ntddk_py.STATUS_ACCESS_VIOLATION & 0xFFFFFFFF, record.Ip)
    record, thread = _crash(address=0x7F00DEAD0000, access=0)
    code, parameters, what = bugcheck._choose(record, thread, set())
    assert parameters[:3] == (0x7F00DEAD0000, 0, record.Ip)  # PAGE_FAULT_IN_NONPAGED_AREA: address, read, ip


def test_a_stack_overflow_is_a_double_fault_trap():
    record, thread = _crash(overflow=1, address=0x7FFF0000)
    assert bugcheck._choose(record, thread, set())[1][0] == ntddk_py.EXCEPTION_DOUBLE_FAULT == 8


def test_the_bug_check_codes_are_windows_own():
    """mingw-w64's bugcodes.h has most of them; 0x3B and 0xF7 are Microsoft's bug check reference
    ("Bug Check 0x3B: SYSTEM_SERVICE_EXCEPTION", "Bug Check 0xF7: DRIVER_OVERRAN_STACK_BUFFER")."""
    done = subprocess.run([MINGW, "-print-sysroot"], capture_output=True, text=True)
    if done.returncode:
        pytest.skip("mingw-w64 is not installed (tools/bootstrap.sh installs it)")
    probe = subprocess.run([MINGW, "-E", "-dM", "-x", "c", "-"], input="#include <bugcodes.h>\n",
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    theirs = {m[1]: int(m[2], 16) for m in re.finditer(r"#define (\w+)\s+\(\(ULONG\)(0x[0-9a-fA-F]+)\)", probe.stdout)}
    checked = [name for name in bugcheck.BUGCHECK_NAMES.values() if name in theirs]
    assert len(checked) >= 8
    for name in checked:
        assert getattr(ntddk_py, name) == theirs[name], name
    assert ntddk_py.SYSTEM_SERVICE_EXCEPTION == 0x3B and ntddk_py.DRIVER_OVERRAN_STACK_BUFFER == 0xF7
