"""Structured exception handling in drivers (include/ntddk.h's __try section, the shim's dispatcher):
faults and raises landing in __except with their codes, __finally on every way a __try ends that it
supports, nested handlers choosing by filter result, EXCEPTION_CONTINUE_EXECUTION, the chain hidden
while Python runs, a callback probing a user-mode caller's buffer, and the bugcheck when nothing
takes an exception. Every case runs from a module built by gcc and by clang, at -O0 and at -O2,
against the session's shim, and a child process runs them against a shim built by each compiler
(drivers bind to the first shim a process loads); what kills the process runs in a child too.

Also DbgPrint's format buffer (the shim's Spec overrun, AddressSanitizer) and its bounded widths.
"""

from __future__ import annotations

import ast
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cffi
import pytest
from helpers import DRIVERS, ROOT

from harness import shim
from ntddk_py import (
    KEY_ALL_ACCESS,
    REG_BINARY,
    REG_NOTIFY_CLASS,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_DATATYPE_MISALIGNMENT,
    STATUS_INTEGER_DIVIDE_BY_ZERO,
    STATUS_INTERNAL_ERROR,
    STATUS_INVALID_DISPOSITION,
    STATUS_NONCONTINUABLE_EXCEPTION,
    STATUS_SUCCESS,
    ffi,
    header_model,
)
from registry_core import caller

SEH_CASES = DRIVERS / "seh_cases.c"
PROBING_FILTER = DRIVERS / "probing_filter.c"
STRICT = ["-Wextra", "-Werror"]
SOFTWARE = "\\REGISTRY\\MACHINE\\SOFTWARE"
CASES = """
NTSTATUS NullWrite(void); NTSTATUS FaultRecord(LONG, ULONG_PTR, ULONG_PTR *, ULONG_PTR *, PVOID *);
LONG DivideBy(LONG); NTSTATUS FaultInShim(void); NTSTATUS FaultInMemcpy(SIZE_T);
NTSTATUS Probe(PVOID, SIZE_T, ULONG, LONG); NTSTATUS Raise(NTSTATUS, PVOID *); NTSTATUS RaiseShorthands(LONG);
LONG FinallyRuns(LONG); LONG LeaveFromLoop(void); LONG NestedFinally(void); LONG ReturnInsideTry(void);
LONG BreakAndContinue(void); LONG NestedChoice(NTSTATUS); LONG NestedFault(void); LONG RaiseInHandler(void);
LONG ContinueAfterRaise(void); NTSTATUS NotContinued(LONG, NTSTATUS *); LONG PrintInsideTry(void);
LONG FaultWithoutTry(void); void RaiseWithoutTry(void); void ProbeWithoutTry(PVOID); LONG FaultDeclined(void);
ULONG SehDepth(void);
"""
PROBING = "void ProbeAlignment(ULONG); LONG CopiedCount(void); LONG CaughtCount(void);"
BUILDS = [pytest.param((cc, level), id=f"{cc}{level}") for cc in ("gcc", "clang") for level in ("-O0", "-O2")]


def status(value: int) -> int:
    """An NTSTATUS as cffi hands it back (signed), from the way Windows writes it."""
    return value - (1 << 32) if value >= 1 << 31 else value


def functions(kernel, driver, declarations: str):
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(declarations)
    return local.dlopen(str(driver.module_path))


@pytest.fixture(params=BUILDS)
def seh(request, kernel, build_filter):
    """seh_cases.c built by this compiler at this level, loaded, with its functions callable."""
    cc, level = request.param
    driver = kernel.load_driver(build_filter(SEH_CASES, cc=cc, extra=[level, *STRICT]), "seh_cases")
    cases = functions(kernel, driver, CASES)
    yield cases
    assert cases.SehDepth() == 0, "a case left a __try frame on this thread's chain"


def in_driver(kernel, address: int) -> bool:
    return kernel.describe_address(int(ffi.cast("ULONG_PTR", address))).startswith("seh_cases+0x")


# --- faults ------------------------------------------------------------------------------------

def test_a_null_write_lands_in_the_handler_with_access_violation(seh):
    assert seh.NullWrite() == STATUS_ACCESS_VIOLATION


@pytest.mark.parametrize(("write", "where"), [(1, 0x10), (0, 0x30)], ids=["write", "read"])
def test_the_access_violation_record_says_read_or_write_where_and_from_where(seh, kernel, write, where):
    kind, address, at = kernel.ffi.new("ULONG_PTR *"), kernel.ffi.new("ULONG_PTR *"), kernel.ffi.new("PVOID *")
    assert seh.FaultRecord(write, where, kind, address, at) == STATUS_ACCESS_VIOLATION
    assert (kind[0], address[0]) == (write, where)  # ExceptionInformation: 0 read / 1 write, the address
    assert in_driver(kernel, at[0])  # ExceptionAddress: the faulting instruction, in the driver


def test_division_by_zero_lands_with_integer_divide_by_zero(seh):
    assert seh.DivideBy(0) == STATUS_INTEGER_DIVIDE_BY_ZERO
    assert seh.DivideBy(4) == 250


def test_a_fault_in_a_shim_routine_or_in_memcpy_is_the_callers(seh):
    """The driver's code called them: RtlCompareUnicodeString (the shim's C) and RtlCopyMemory's memcpy."""
    assert seh.FaultInShim() == STATUS_ACCESS_VIOLATION
    assert seh.FaultInMemcpy(200) == STATUS_ACCESS_VIOLATION


def test_each_thread_has_its_own_chain(seh):
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.extend(seh.NullWrite() for _ in range(50)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [STATUS_ACCESS_VIOLATION] * 150


# --- probes and raises -------------------------------------------------------------------------

@pytest.mark.parametrize("write", [0, 1], ids=["ProbeForRead", "ProbeForWrite"])
def test_probes_raise_misalignment_and_access_violation_into_the_handler(seh, kernel, write):
    memory = kernel.native.memory
    block = memory.alloc("UCHAR[]", 16)  # user-mode memory, as the Python API gives a caller
    start = ffi.cast("UCHAR *", block)
    try:
        assert seh.Probe(start, 16, 8, write) == STATUS_SUCCESS
        assert seh.Probe(start + 1, 4, 4, write) == STATUS_DATATYPE_MISALIGNMENT
        assert seh.Probe(start, 17, 1, write) == STATUS_ACCESS_VIOLATION
        # Misalignment is checked first, and a zero length not at all, as on Windows.
        assert seh.Probe(ffi.cast("PVOID", 0x1001), 4, 4, write) == STATUS_DATATYPE_MISALIGNMENT
        assert seh.Probe(ffi.NULL, 0, 4, write) == STATUS_SUCCESS
        # Memory outside the emulated user space is a kernel address, whatever the previous mode.
        kernel_buffer = ffi.new("UCHAR[]", 16)
        assert seh.Probe(kernel_buffer, 16, 1, write) == STATUS_ACCESS_VIOLATION
        with caller.kernel_mode():
            assert seh.Probe(kernel_buffer, 16, 1, write) == STATUS_ACCESS_VIOLATION
            assert seh.Probe(start, 16, 1, write) == STATUS_SUCCESS
    finally:
        memory.free(block)
    assert seh.Probe(start, 16, 1, write) == STATUS_ACCESS_VIOLATION  # freed: no longer the caller's
    assert kernel.findings == []


def test_ex_raise_status_lands_with_its_code_raised_from_the_callers_address(seh, kernel):
    at = kernel.ffi.new("PVOID *")
    assert seh.Raise(STATUS_ACCESS_DENIED, at) == STATUS_ACCESS_DENIED
    assert in_driver(kernel, at[0])
    assert seh.RaiseShorthands(0) == STATUS_ACCESS_VIOLATION
    assert seh.RaiseShorthands(1) == STATUS_DATATYPE_MISALIGNMENT


# --- __finally ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("how", "steps"), [(0, 1234), (1, 134), (2, 156), (3, 156)],
                         ids=["block-ends", "leave", "ExRaiseStatus", "fault"])
def test_finally_runs_on_the_blocks_end_on_leave_and_on_an_exception(seh, how, steps):
    """Steps: 1 in the block, 2 at its end, 3 the __finally block (5: AbnormalTermination()), 4 after
    the construct, 6 the caller's handler."""
    assert seh.FinallyRuns(how) == steps


def test_leave_inside_a_loop_leaves_the_try_not_the_loop(seh):
    assert seh.LeaveFromLoop() == 113 * 10 + 1  # two turns, the __finally block; the loop stopped at 1


def test_finally_blocks_run_innermost_first_then_the_filter_that_is_no_constant_then_the_handler(seh):
    """1 and 2 the nested __finally blocks, 3 the outer filter, 4 its handler. Windows runs the filter
    first (3124): a filter that is no constant expression runs after the unwind (the header's notes)."""
    assert seh.NestedFinally() == 1234


def test_return_from_a_try_pops_its_frame_and_skips_its_finally(seh):
    """The documented limit: `return` inside __try cannot run __finally with setjmp macros. The frame
    comes off (depth 0 after), the __finally step 9 never happens, and the next fault lands right."""
    assert seh.ReturnInsideTry() == 7 * 10000 + 0 * 1000 + 123


def test_break_and_continue_in_a_try_act_on_the_enclosing_loop(seh):
    assert seh.BreakAndContinue() == 4 * 100 + 5 * 10 + 0  # indices 0, 1, 3, 4 counted; broke at 5; no frame left


# --- filters choosing --------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "taken_by"), [(STATUS_DATATYPE_MISALIGNMENT, 1), (STATUS_ACCESS_VIOLATION, 3)],
                         ids=["inner-takes-misalignment", "outer-takes-access-violation"])
def test_nested_handlers_choose_by_filter_result(seh, code, taken_by):
    """Inner: a filter function taking misalignments; middle: constant CONTINUE_SEARCH; outer: an
    expression taking access violations. The raise passes through a function with no __try."""
    assert seh.NestedChoice(code) == taken_by


def test_a_fault_the_inner_filter_declines_lands_in_the_outer_handler(seh):
    assert seh.NestedFault() == 3


def test_an_exception_raised_in_a_handler_goes_to_the_outer_frames(seh):
    assert seh.RaiseInHandler() == STATUS_ACCESS_DENIED


# --- EXCEPTION_CONTINUE_EXECUTION --------------------------------------------------------------

def test_continue_execution_returns_from_a_continuable_raise(seh):
    assert seh.ContinueAfterRaise() == 12  # RtlRaiseException returned; the handler never ran


@pytest.mark.parametrize(("which", "code", "original"), [
    (0, STATUS_NONCONTINUABLE_EXCEPTION, STATUS_ACCESS_DENIED),
    (1, STATUS_NONCONTINUABLE_EXCEPTION, status(0xE0000002)),
    (2, STATUS_INVALID_DISPOSITION, status(0xE0000002)),
], ids=["ExRaiseStatus-is-noncontinuable", "filter-no-constant", "invalid-disposition"])
def test_what_cannot_continue_raises_a_new_exception_pointing_to_the_first(seh, kernel, which, code, original):
    seen = kernel.ffi.new("NTSTATUS *")
    assert seh.NotContinued(which, seen) == code
    assert seen[0] == original


# --- the chain and Python ----------------------------------------------------------------------

def test_python_routines_run_with_the_chain_hidden(seh, kernel):
    """DbgPrint's upcall reaches Python (the echo) inside a __try: Python sees no frame, and the
    driver has its frame back when DbgPrint returns."""
    depths: list[int] = []
    kernel.echo = lambda driver, line: depths.append(seh.SehDepth())
    assert seh.PrintInsideTry() == 11
    assert depths == [0]


# --- a callback probing a user-mode caller's buffer ----------------------------------------------

def make_key(kernel) -> int:
    status_, handle, _ = kernel.registry.create_key(f"{SOFTWARE}\\Probed", KEY_ALL_ACCESS)
    assert status_ == STATUS_SUCCESS
    return handle


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_a_callback_probing_a_buffer_the_caller_freed_runs_its_except_path(kernel, build_filter, trace, cc):
    """Specification 2.2: the registry probes the parameters before the callbacks but does not capture
    them. A first (Python) callback frees the caller's data block, as another thread of the caller
    could; the C filter's ProbeForRead inside __try then raises STATUS_ACCESS_VIOLATION into its
    __except, which fails the call with that code. Nothing is written."""
    reg = kernel.registry
    handle = make_key(kernel)
    blocks: list = []

    def free_the_callers_data(context, argument1, argument2):
        if int(ffi.cast("ULONG_PTR", argument1)) == REG_NOTIFY_CLASS.RegNtPreSetValueKey and blocks:
            reg.native.memory.free(blocks.pop())
        return STATUS_SUCCESS

    registered, cookie = reg.native.callbacks.register(free_the_callers_data, name="frees the data")
    assert registered == STATUS_SUCCESS
    try:
        driver = kernel.load_driver(build_filter(PROBING_FILTER, cc=cc, extra=STRICT), "probing_filter")
        probe = functions(kernel, driver, PROBING)
        with reg.arena() as arena:
            name, data = arena.unicode_string("Setting"), arena.data(b"abcd")
            blocks.append(data)
            assert reg.native.NtSetValueKey(handle, name, 0, REG_BINARY, data, 4) == STATUS_ACCESS_VIOLATION
    finally:
        reg.native.callbacks.unregister(cookie)
    assert (probe.CaughtCount(), probe.CopiedCount()) == (1, 0)
    (pre,) = trace.last("NtSetValueKey").notifications
    assert pre.results[0] == ("frees the data", STATUS_SUCCESS)
    assert pre.results[1][0].startswith("probing_filter+0x") and pre.results[1][1] == STATUS_ACCESS_VIOLATION
    assert any("probing_filter: Setting: probing" in line and "raised c0000005" in line
               for _, line in kernel.debug_output)
    assert reg.get_value(f"{SOFTWARE}\\Probed", "Setting") is None
    # The same call with the caller's buffer left alone: the probe passes and the value is written.
    with reg.arena() as arena:
        name, data = arena.unicode_string("Setting"), arena.data(b"abcd")
        assert reg.native.NtSetValueKey(handle, name, 0, REG_BINARY, data, 4) == STATUS_SUCCESS
    assert probe.CopiedCount() == 1
    assert reg.get_value(f"{SOFTWARE}\\Probed", "Setting") == (REG_BINARY, b"abcd")
    reg.close(handle)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_a_callback_in_the_shims_walk_catches_a_misaligned_probe(kernel, build_filter, cc):
    """Only C callbacks: the shim walks them with the GIL released; the probe's upcall returns the
    status and the forwarder raises it in C, into the callback's __except."""
    reg = kernel.registry
    handle = make_key(kernel)
    driver = kernel.load_driver(build_filter(PROBING_FILTER, cc=cc, extra=STRICT), "probing_filter")
    probe = functions(kernel, driver, PROBING)
    probe.ProbeAlignment(4)
    with reg.arena() as arena:
        name, data = arena.unicode_string("Odd"), arena.data(b"abcdefgh")
        start = int(ffi.cast("ULONG_PTR", data))
        # Inside the caller's block, so that the native layer's probe passes; not a multiple of 4.
        odd = ffi.cast("UCHAR *", data) + next(offset for offset in (1, 2) if (start + offset) % 4)
        assert reg.native.NtSetValueKey(handle, name, 0, REG_BINARY, odd, 4) == STATUS_DATATYPE_MISALIGNMENT
    assert probe.CaughtCount() == 1
    reg.close(handle)


# --- what no frame takes: a bugcheck, in a child process -------------------------------------------

CHILD = """
import sys
import cffi
from harness.kernel import Kernel
lib = None
kernel = Kernel(cc=sys.argv[3], echo=lambda driver, line: {echo})
driver = kernel.load_driver(sys.argv[1], "seh_cases")
local = cffi.FFI()
local.include(kernel.ffi)
local.cdef(sys.argv[2])
lib = local.dlopen(str(driver.module_path))
print("calling", flush=True)
print("returned", {call}, flush=True)
"""


@pytest.fixture(scope="module")
def gcc_cases() -> Path:
    from harness import build
    return build.build(SEH_CASES, cc="gcc", extra=STRICT).module


def child(module: Path, call: str, echo: str = "None", cc: str = "gcc") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD.format(call=call, echo=echo), str(module), CASES, cc],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_the_shim_built_by_either_compiler_dispatches_the_same(cc):
    """A fresh process whose first (and so only) shim this compiler built, with a module it built."""
    from harness import build
    module = build.build(SEH_CASES, cc=cc, extra=["-O2", *STRICT]).module
    calls = (f"(lib.NullWrite(), lib.DivideBy(0), lib.FinallyRuns(1), lib.FinallyRuns(2), lib.FinallyRuns(3), "
             f"lib.NestedChoice({STATUS_DATATYPE_MISALIGNMENT}), lib.NestedChoice({STATUS_ACCESS_VIOLATION}), "
             f"lib.NestedFault(), lib.NestedFinally(), lib.ContinueAfterRaise(), lib.RaiseInHandler(), "
             f"lib.ReturnInsideTry(), lib.BreakAndContinue(), lib.FaultInMemcpy(100), lib.SehDepth())")
    done = child(module, calls, cc=cc)
    assert done.returncode == 0, done.stderr
    assert ast.literal_eval(done.stdout.split("returned ", 1)[1]) == (
        STATUS_ACCESS_VIOLATION, STATUS_INTEGER_DIVIDE_BY_ZERO, 134, 156, 156, 1, 3, 3, 1234, 12,
        STATUS_ACCESS_DENIED, 70123, 450, STATUS_ACCESS_VIOLATION, 0)


@pytest.mark.parametrize("call", ["lib.FaultWithoutTry()", "lib.FaultDeclined()"], ids=["no-frame", "declined"])
def test_a_fault_no_frame_takes_is_reported_and_kills_the_process(gcc_cases, call):
    done = child(gcc_cases, call)
    assert done.returncode == -signal.SIGSEGV, done.stderr
    assert "returned" not in done.stdout
    assert "cmhook: access violation (a bugcheck on Windows) reading or writing 0x0000000000000000 in " in done.stderr
    assert "seh_cases" in done.stderr.split("access violation")[1].split("\n")[0]


@pytest.mark.parametrize(("call", "report"), [
    ("lib.RaiseWithoutTry()", "unhandled exception 0xc0000022 raised by ExRaiseStatus in "),
    ("lib.ProbeWithoutTry(local.cast('PVOID', 0x10))", "unhandled exception 0xc0000005 raised by ProbeForRead in "),
    ("lib.NestedChoice(-0x3FFFFFDE)", "unhandled exception 0xc0000022 in "),  # STATUS_ACCESS_DENIED
], ids=["ExRaiseStatus", "ProbeForRead", "every-filter-declines"])
def test_a_raise_no_frame_takes_is_a_bugcheck_report(gcc_cases, call, report):
    done = child(gcc_cases, call)
    assert done.returncode == -signal.SIGABRT, done.stderr
    assert "returned" not in done.stdout
    line = next(line for line in done.stderr.splitlines() if line.startswith("cmhook: "))
    assert report in line and "seh_cases" in line
    assert line.endswith(": KMODE_EXCEPTION_NOT_HANDLED (a bugcheck on Windows)")


def test_a_fault_in_c_that_python_called_never_lands_across_python(gcc_cases):
    """The driver is inside a __try when DbgPrint's upcall runs Python, which calls C that faults with
    no frame of its own: that is a bugcheck, not a landing in the outer driver frame (which would
    longjmp across the interpreter's frames)."""
    done = child(gcc_cases, "lib.PrintInsideTry()", echo="lib.FaultWithoutTry()")
    assert done.returncode == -signal.SIGSEGV, done.stderr
    assert "calling" in done.stdout and "returned" not in done.stdout
    assert "cmhook: access violation (a bugcheck on Windows)" in done.stderr


# --- DbgPrint ----------------------------------------------------------------------------------

def _format(kernel, fmt: bytes, *args) -> str:
    out = kernel.ffi.new("char[]", 8192)
    kernel.lib.CmhookFormat(out, 8192, fmt, *args)
    return kernel.ffi.string(out).decode()


INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def test_dbgprint_widths_and_precisions_are_bounded_by_its_buffer(kernel):
    f = kernel.ffi
    narrow = f.new("char[]", b"abc")
    started = time.perf_counter()
    wide = _format(kernel, b"%*s|", f.cast("int", 2_000_000_000), narrow)
    assert time.perf_counter() - started < 0.5  # the C library would pad two billion characters
    assert len(wide) == 4095 and wide.endswith(" abc")  # the width, clamped to the 4,095 characters a line holds
    assert _format(kernel, b"%*d|%-*d|", f.cast("int", 5), f.cast("int", 7), f.cast("int", 3), f.cast("int", 7)) == (
        "    7|7  |")
    assert _format(kernel, b"%*d|", f.cast("int", -3), f.cast("int", 7)) == "7  |"  # negative: left-justified
    assert _format(kernel, b"%.*s|", f.cast("int", -1), narrow) == "abc|"  # negative precision: none
    assert _format(kernel, b"%.*s|%.s|", f.cast("int", 2), narrow, narrow) == "ab||"
    assert len(_format(kernel, b"%*.*d", f.cast("int", INT_MIN), f.cast("int", INT_MAX), f.cast("int", 1))) == 4095
    assert _format(kernel, b"%099999999999d|", f.cast("int", 1)) == "0" * 4094 + "1"  # "|" no longer fits
    assert _format(kernel, b"%--------+5d|%0000008x", f.cast("int", 7), f.cast("unsigned int", 0xBEEF)) == (
        "+7   |0000beef")


def test_dbgprint_spec_buffer_holds_every_format_under_address_sanitizer(tmp_path):
    """The shim's format code built with AddressSanitizer: the flags, widths and precisions that ran
    past Spec[32] by three bytes (seven flags, '*' widths of INT_MIN) now stay inside it."""
    source = tmp_path / "spec_overrun.c"
    source.write_text("""#include <ntddk.h>
#include "cmhook_shim.h"
#include <limits.h>
int main(void)
{
    char Out[8192];
    CmhookFormat(Out, sizeof(Out), "%-------*.*d|", INT_MIN, INT_MIN, 5);
    CmhookFormat(Out, sizeof(Out), "%-+ #0-+ #0*.*llx|%*.*s|%*.*wZ", INT_MIN, INT_MIN, 5ull, INT_MAX, INT_MIN, "abc",
                 INT_MIN, INT_MAX, (void *)0);
    CmhookFormat(Out, sizeof(Out), "%-------2147483647.2147483647d|%------*.*c", 1, INT_MIN, INT_MIN, 'x');
    return 0;
}
""")
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    program = tmp_path / "spec_overrun"
    sources = sorted(str(path) for path in shim.SHIM_DIRECTORY.glob("*.c"))  # the engine is rtl_format.c's
    done = subprocess.run(["gcc", "-fsanitize=address", "-g", "-fshort-wchar", f"-I{header_model.HEADER.parent}",
                           f"-I{shim.SHIM_DIRECTORY}", "-o", str(program), str(source), *sources, "-ldl"],
                          capture_output=True, text=True)
    if done.returncode and "asan" in done.stderr.lower():
        pytest.skip(f"no AddressSanitizer runtime: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr
    ran = subprocess.run([str(program)], capture_output=True, text=True, env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert ran.returncode == 0 and "AddressSanitizer" not in ran.stderr, ran.stderr



# --- the generated raising forwarders ----------------------------------------------------------

def test_a_raising_routines_upcall_returns_the_status_its_forwarder_raises():
    from harness import routines
    assert {"ProbeForRead", "ProbeForWrite"} <= routines.RAISING_ROUTINES
    table = dict(shim.shim_ffi().typeof("CMHOOK_ROUTINE_UPCALLS").fields)
    assert table["ProbeForRead"].type.result == shim.shim_ffi().typeof("NTSTATUS")
    forwarders = shim.FORWARDERS.read_text()
    assert "CMHOOK_RAISE_FAILURE(CmhookUpcalls.Routines.ProbeForRead(Address, Length, Alignment));" in forwarders
    with pytest.raises(ValueError, match="must be VOID: ZwClose"):
        shim.render_all(None, ["ZwClose"], (), ["ZwClose"])


def test_a_probe_whose_python_end_fails_raises_a_failure_never_success(seh, kernel, monkeypatch):
    def broken(*args):
        raise RuntimeError("the emulated memory is gone")

    monkeypatch.setattr(kernel.native.memory, "probe", broken)
    assert seh.Probe(ffi.cast("PVOID", 0x1000), 4, 1, 0) == STATUS_INTERNAL_ERROR
    assert [finding.kind for finding in kernel.findings] == ["upcall-error"]
    kernel.findings.clear()


# --- the shim's callback walk ------------------------------------------------------------------

def test_a_walk_stopped_by_a_failure_reports_no_call_of_an_earlier_walk(kernel, build_filter, trace):
    """Three C filters, the middle one probing with alignment 4: a walk calling all three, then one
    the middle filter stops. The third was not called the second time, whatever the first walk
    left in the shim's per-thread flags."""
    reg = kernel.registry
    handle = make_key(kernel)
    module = build_filter(PROBING_FILTER, extra=STRICT)
    probes = [functions(kernel, kernel.load_driver(module, f"probing_{which}"), PROBING) for which in "abc"]
    probes[1].ProbeAlignment(4)
    before = [probe.CopiedCount() for probe in probes]  # loading wrote the Services keys through them too
    with reg.arena() as arena:
        name, data = arena.unicode_string("Walk"), arena.data(b"abcdefgh")
        start = int(ffi.cast("ULONG_PTR", data))
        aligned = ffi.cast("UCHAR *", data) + (-start) % 4
        odd = aligned + 1
        assert reg.native.NtSetValueKey(handle, name, 0, REG_BINARY, aligned, 4) == STATUS_SUCCESS
        assert len(trace.last("NtSetValueKey").notifications[0].results) == 3
        assert reg.native.NtSetValueKey(handle, name, 0, REG_BINARY, odd, 4) == STATUS_DATATYPE_MISALIGNMENT
    (pre,) = trace.last("NtSetValueKey").notifications
    assert [status_ for _, status_ in pre.results] == [STATUS_SUCCESS, STATUS_DATATYPE_MISALIGNMENT]
    assert [probe.CopiedCount() - count for probe, count in zip(probes, before, strict=True)] == [2, 1, 1]
    reg.close(handle)
