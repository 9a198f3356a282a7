"""The machine record the kernel shim writes for a watching parent (harness/shim/cmhook_shim.h's
CMHOOK_MACHINE_RECORD): the watch slots of threads in driver code, the crash of a fatal signal no
__try takes, and a hung thread's stack on request.

Each case forks a machine: a child that makes a Kernel writing into a record shared with this
process (an anonymous shared mapping made before the fork, handed over as isolation's record
address), loads a small filter and makes it misbehave; this process reads the record once the
child is dead (or, for a hang, while it spins). The child's stderr goes to a file, Python's own
fault handler to /dev/null: with the record Isolated, the shim writes no text of its own.
"""

from __future__ import annotations

import ctypes
import faulthandler
import mmap
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import build, isolation, shim
from harness.kernel import Kernel, active_kernel
from ntddk_py import (
    REG_DWORD,
    REG_NOTIFY_CLASS,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_ILLEGAL_INSTRUCTION,
    STATUS_INTEGER_DIVIDE_BY_ZERO,
)
from registry_core import caller

KEY = "\\REGISTRY\\MACHINE\\SOFTWARE\\MachineRecord"
SYS_TGKILL = 234  # x86-64
IN_DRIVER_ENTRY, IN_DRIVER_UNLOAD, IN_CALLBACK = 1, 2, 3
SYSTEM_PROCESS = 4
USER_PROCESS = 0x1F0  # caller.DEFAULT_CALLER's
CHILD_SECONDS = 20

# The callback misbehaves in a function of its own, chosen by the REG_DWORD a set writes (0: none).
# Built with -fstack-protector-all, so that Overrun's check fails.
FILTER = r"""
#include <ntddk.h>

void abort(void);

enum { CALM, NULL_WRITE, DIVIDE, TRAP, RECURSE, ABORT, OVERRUN, SPIN, RAISE, BROKEN_FRAME };

/* A NULL write in a function whose unwind information says its caller's frame is at %rbp, which
 * it has just set to 0x10: unwinding past it reads unmapped memory. */
VOID BrokenFrame(VOID);
__asm__(".text\n"
        ".type BrokenFrame, @function\n"
        "BrokenFrame:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        "    movq $0x10, %rbp\n"
        "    movl $1, 0\n"
        "    .cfi_endproc\n"
        ".size BrokenFrame, .-BrokenFrame\n");

static LARGE_INTEGER Cookie;
static volatile ULONG Zero;
static volatile ULONG Never = 0xFFFFFFFF;
static volatile ULONG Count = 64;
static volatile ULONG Spins;

static __attribute__((noinline)) NTSTATUS NullWrite(VOID)
{
    *(volatile ULONG *)(ULONG_PTR)Zero = 1;
    return STATUS_SUCCESS;
}

static __attribute__((noinline)) NTSTATUS Divide(VOID)
{
    return (NTSTATUS)(100 / (LONG)Zero);
}

static __attribute__((noinline)) NTSTATUS Trap(VOID)
{
    if (Zero == 0)
        __builtin_trap();
    return STATUS_SUCCESS;
}

static __attribute__((noinline)) ULONG Recurse(ULONG Depth)
{
    volatile UCHAR Frame[4096];
    Frame[0] = (UCHAR)Depth;
    if (Depth == Never)
        return Frame[0];
    return Recurse(Depth + 1) + Frame[0];
}

static __attribute__((noinline)) NTSTATUS GiveUp(VOID)
{
    if (Zero == 0)
        abort();
    return STATUS_SUCCESS;
}

static __attribute__((noinline)) ULONG Overrun(VOID)
{
    CHAR Name[8];
    volatile CHAR *Cursor = Name;
    ULONG Index;
    for (Index = 0; Index < Count; Index++)
        Cursor[Index] = 'A';
    return (ULONG)Name[0];
}

static __attribute__((noinline)) VOID Spin(VOID)
{
    for (;;)
        Spins++;
}

static __attribute__((noinline)) NTSTATUS Raise(VOID)
{
    ExRaiseStatus(STATUS_ACCESS_DENIED);
    return STATUS_SUCCESS;
}

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    PREG_SET_VALUE_KEY_INFORMATION Info = Argument2;
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 != RegNtPreSetValueKey || Info->Type != REG_DWORD ||
        Info->DataSize != sizeof(ULONG))
        return STATUS_SUCCESS;
    switch (*(ULONG *)Info->Data) {
    case NULL_WRITE: return NullWrite();
    case DIVIDE: return Divide();
    case TRAP: return Trap();
    case RECURSE: return Recurse(0) ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
    case ABORT: return GiveUp();
    case OVERRUN: return Overrun() ? STATUS_SUCCESS : STATUS_ACCESS_DENIED;
    case SPIN: Spin(); return STATUS_SUCCESS;
    case RAISE: return Raise();
    case BROKEN_FRAME: BrokenFrame(); return STATUS_SUCCESS;
    default: return STATUS_SUCCESS;
    }
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return CmRegisterCallback(Callback, NULL, &Cookie);
}
"""
CALM, NULL_WRITE, DIVIDE, TRAP, RECURSE, ABORT, OVERRUN, SPIN, RAISE, BROKEN_FRAME = range(10)

ENTRY_CRASH = r"""
#include <ntddk.h>

static volatile ULONG_PTR Settings; /* never allocated */

static __attribute__((noinline)) ULONG ReadSettings(VOID)
{
    return *(volatile ULONG *)Settings;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return ReadSettings() ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
"""

UNLOAD_CRASH = r"""
#include <ntddk.h>

static volatile ULONG_PTR State; /* freed, as it were */

static __attribute__((noinline)) VOID ForgetState(VOID)
{
    *(volatile ULONG *)State = 0;
}

static VOID DriverUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    ForgetState();
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = DriverUnload;
    return STATUS_SUCCESS;
}
"""


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    """The three filters, built once (harness.build's cache)."""
    built = {"filter": build.build(FILTER, name="misbehaves", extra=["-fstack-protector-all"]).module,
             "entry": build.build(ENTRY_CRASH, name="entrycrash").module,
             "unload": build.build(UNLOAD_CRASH, name="unloadcrash").module}
    if active_kernel() is None:  # upcalls bound once here: each machine inherits them and starts fast
        Kernel(trace=False).close()
    return built


@dataclass
class Machine:
    """A forked machine and the record it shares with this process."""

    pid: int
    record: Any  # cdata CMHOOK_MACHINE_RECORD *
    stderr_path: Path
    keep: tuple  # the mapping and cffi's buffer over it
    status: int | None = None

    @property
    def crash(self) -> Any:
        return self.record.Crash

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self, seconds: float = CHILD_SECONDS) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
                return status
            time.sleep(0.005)
        self.kill()
        pytest.fail(f"the machine did not end within {seconds} s; its stderr:\n{self.stderr}")

    def kill(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)

    def signal(self) -> int | None:
        assert self.status is not None
        return os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None


def start(body: Callable[[Kernel], object], workdir: Path, *, isolated: bool = True) -> Machine:
    """Fork a machine that runs body(kernel) with the shim writing into a record this process reads."""
    ffi = shim.shim_ffi()
    memory = mmap.mmap(-1, ffi.sizeof("CMHOOK_MACHINE_RECORD"))  # MAP_SHARED: the child writes, we read
    buffer = ffi.from_buffer(memory)
    record = ffi.cast("CMHOOK_MACHINE_RECORD *", buffer)
    record.Isolated = int(isolated)
    address = int(ffi.cast("ULONG_PTR", buffer))
    stderr_path = workdir / "machine-stderr.txt"
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        _machine(body, address, stderr_path, workdir)
    return Machine(pid, record, stderr_path, (memory, buffer))


def _machine(body: Callable[[Kernel], object], address: int, stderr_path: Path, workdir: Path) -> None:
    status = 70
    try:
        descriptor = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(descriptor, 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        if faulthandler.is_enabled():
            # Python's traceback of a fatal signal is not the shim's text: only the output goes elsewhere
            # (enable() again keeps the handlers as installed, which the shim's chain to).
            faulthandler.enable(file=open(os.devnull, "w"))  # open as long as the child lives
        warnings.simplefilter("ignore")
        isolation._record_address = address
        tempfile.tempdir = str(workdir)  # the drivers' private copies stay for addr2line, and are cleaned up
        kernel = Kernel(trace=False, replace=True)
        # The loader refuses abort as an import (ntoskrnl exports none); the filter's abort case calls
        # the C library's own, as a filter that got past the loader would.
        kernel.exports = kernel.exports | {"abort"}
        body(kernel)
        status = 0
    except BaseException:
        os.write(2, traceback.format_exc().encode())  # into the machine's stderr file, for the failure
    finally:
        os._exit(status)


def set_mode(module: Path, mode: int, process: tuple[int, str] | None = None) -> Callable[[Kernel], None]:
    """A body: load the filter, then a user-mode set of a REG_DWORD its callback acts on (as process)."""
    def body(kernel: Kernel) -> None:
        kernel.load_driver(module)
        if process is None:
            kernel.registry.put(KEY, "Mode", REG_DWORD, mode)
        else:
            with caller.as_process(*process):
                kernel.registry.put(KEY, "Mode", REG_DWORD, mode)
    return body


def frames(ffi: Any, array: Any, count: int) -> list[tuple[int, int, str, str]]:
    return [(int(array[i].Address), int(array[i].ModuleBase), ffi.string(array[i].Module).decode(),
             ffi.string(array[i].Symbol).decode()) for i in range(count)]


def function_at(module: str, offset: int) -> str:
    """What addr2line says the function at a module offset is."""
    done = subprocess.run(["addr2line", "-f", "-e", module, f"0x{offset:x}"], capture_output=True, text=True,
                          check=True)
    return done.stdout.splitlines()[0]


def driver_frames(stack: list[tuple[int, int, str, str]], stem: str) -> list[tuple[int, str]]:
    """(index, function) of each frame in the driver module named after stem; return addresses
    (every frame but frame 0) are looked up one byte back, as a debugger does."""
    return [(index, function_at(module, address - base - (1 if index else 0)))
            for index, (address, base, module, _) in enumerate(stack) if Path(module).name.endswith(f"{stem}.so")]


def crashed(machine: Machine, signal_number: int, stderr: str = "") -> list[tuple[int, int, str, str]]:
    """The machine died of signal_number with a complete crash record, its stderr as given (the shim
    wrote nothing); its frames."""
    machine.wait()
    crash = machine.crash
    assert machine.signal() == signal_number, machine.stderr
    assert machine.record.Magic == shim.shim_ffi().dlopen(None).CMHOOK_RECORD_MAGIC
    assert machine.record.Size == shim.shim_ffi().sizeof("CMHOOK_MACHINE_RECORD")
    assert crash.Crashed == 1 and crash.Complete == 1 and crash.Signal == signal_number
    assert crash.Tid == machine.pid  # the machine's main thread
    assert crash.StackLow < crash.StackHigh and crash.StackLow <= crash.Sp < crash.StackHigh or crash.StackOverflow
    assert machine.stderr == stderr
    stack = frames(shim.shim_ffi(), crash.Frames, crash.FrameCount)
    assert stack[0][0] == crash.Ip
    return stack


def in_callback(machine: Machine, process_id: int = USER_PROCESS) -> None:
    thread = machine.crash.Thread
    assert thread.Tid == machine.pid and thread.Depth == 1 and thread.Kind == IN_CALLBACK
    assert thread.NotifyClass == REG_NOTIFY_CLASS.RegNtPreSetValueKey
    assert thread.ProcessId == process_id and thread.ThreadId != 0
    assert thread.Entries >= 1 and 0 < thread.Since <= time.monotonic_ns()


def entered(machine: Machine, stack: list[tuple[int, int, str, str]], name: str) -> None:
    """The slot's Function is the driver's routine called name."""
    base, module = next((base, module) for _, base, module, _ in stack if Path(module).name.endswith(".so")
                        and "cmhook-drivers-" in module)
    assert function_at(module, int(machine.crash.Thread.Function) - base) == name


# --- crashes in a callback -------------------------------------------------------------------------

def test_a_null_write_in_a_callback(modules, tmp_path):
    tool = (0x7A0, "\\Device\\HarddiskVolume1\\tool.exe")
    machine = start(set_mode(modules["filter"], NULL_WRITE, tool), tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    crash = machine.crash
    assert crash.ExceptionCode == STATUS_ACCESS_VIOLATION and crash.Access == 1 and crash.FaultAddress == 0
    assert not crash.StackOverflow
    in_callback(machine, process_id=0x7A0)
    entered(machine, stack, "Callback")
    found = driver_frames(stack, "misbehaves")
    assert found[0] == (0, "NullWrite") and (1, "Callback") in found
    assert "CmhookWalkCallbacks" in [symbol for *_, symbol in stack]


def test_a_division_by_zero_in_a_callback(modules, tmp_path):
    machine = start(set_mode(modules["filter"], DIVIDE), tmp_path)
    stack = crashed(machine, signal.SIGFPE)
    assert machine.crash.ExceptionCode == STATUS_INTEGER_DIVIDE_BY_ZERO and not machine.crash.StackOverflow
    in_callback(machine)
    assert driver_frames(stack, "misbehaves")[0] == (0, "Divide")


def test_a_trap_in_a_callback(modules, tmp_path):
    machine = start(set_mode(modules["filter"], TRAP), tmp_path)
    stack = crashed(machine, signal.SIGILL)
    assert machine.crash.ExceptionCode == STATUS_ILLEGAL_INSTRUCTION
    in_callback(machine)
    assert driver_frames(stack, "misbehaves")[0] == (0, "Trap")


def test_unbounded_recursion_in_a_callback_is_a_stack_overflow(modules, tmp_path):
    machine = start(set_mode(modules["filter"], RECURSE), tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    crash = machine.crash
    assert crash.StackOverflow == 1 and crash.ExceptionCode == STATUS_ACCESS_VIOLATION
    assert crash.StackLow - (2 << 20) <= crash.FaultAddress < crash.StackLow + 4096 or \
        abs(crash.FaultAddress - crash.Sp) <= 4096
    in_callback(machine)
    found = driver_frames(stack, "misbehaves")
    assert found[0] == (0, "Recurse") and all(name == "Recurse" for _, name in found)
    assert len(stack) == shim.shim_ffi().dlopen(None).CMHOOK_STACK_FRAMES


def test_a_stack_overflow_on_another_thread_is_recorded_from_its_own_alternate_stack(modules, tmp_path):
    def body(kernel: Kernel) -> None:
        kernel.load_driver(modules["filter"])
        thread = threading.Thread(target=kernel.registry.put, args=(KEY, "Mode", REG_DWORD, RECURSE))
        thread.start()
        thread.join()

    machine = start(body, tmp_path)
    machine.wait()
    crash = machine.crash
    assert machine.signal() == signal.SIGSEGV and crash.Complete == 1 and machine.stderr == ""
    assert crash.StackOverflow == 1 and crash.Tid != machine.pid and crash.Thread.Tid == crash.Tid
    assert crash.Thread.Kind == IN_CALLBACK and crash.Thread.Depth == 1
    stack = frames(shim.shim_ffi(), crash.Frames, crash.FrameCount)
    assert driver_frames(stack, "misbehaves")[0] == (0, "Recurse")


def test_abort_in_a_callback(modules, tmp_path):
    machine = start(set_mode(modules["filter"], ABORT), tmp_path)
    stack = crashed(machine, signal.SIGABRT)
    assert machine.crash.ExceptionCode == 0 and not machine.crash.StackOverflow
    in_callback(machine)
    assert "abort" in [symbol for *_, symbol in stack]
    found = driver_frames(stack, "misbehaves")
    assert found[0][1] == "GiveUp" and (found[0][0] + 1, "Callback") in found


def test_a_stack_protector_failure_in_a_callback(modules, tmp_path):
    machine = start(set_mode(modules["filter"], OVERRUN), tmp_path)
    stack = crashed(machine, signal.SIGABRT, stderr="*** stack smashing detected ***: terminated\n")  # the C library's
    in_callback(machine)
    symbols = [symbol for *_, symbol in stack]
    assert "__stack_chk_fail" in symbols and "abort" in symbols
    assert driver_frames(stack, "misbehaves")[0][1] == "Overrun"


def test_a_raise_no_frame_takes_aborts_with_its_code(modules, tmp_path):
    machine = start(set_mode(modules["filter"], RAISE), tmp_path)
    stack = crashed(machine, signal.SIGABRT)
    assert machine.crash.ExceptionCode == STATUS_ACCESS_DENIED
    in_callback(machine)
    assert "ExRaiseStatus" in [symbol for *_, symbol in stack]
    assert driver_frames(stack, "misbehaves")[0][1] == "Raise"


def test_a_fault_while_unwinding_a_broken_stack_ends_the_stack_there(modules, tmp_path):
    """The crash handler's unwind faults on a frame whose unwind information points at unmapped
    memory: the record is complete all the same, its stack the faulting instruction alone."""
    machine = start(set_mode(modules["filter"], BROKEN_FRAME), tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    assert machine.crash.ExceptionCode == STATUS_ACCESS_VIOLATION and machine.crash.Access == 1
    in_callback(machine)
    (frame,) = stack
    assert Path(frame[2]).name.endswith("misbehaves.so") and frame[3] == ""


def test_a_c_callback_walked_in_python_is_watched_too(modules, tmp_path):
    """A Python callable registered beside the C one sends the walk to Python, which has the shim
    call the C callback: the crash still names the callback and its notification."""
    def body(kernel: Kernel) -> None:
        kernel.load_driver(modules["filter"])
        kernel.native.callbacks.register(lambda context, argument1, argument2: 0, name="python")
        assert kernel.native.callbacks.snapshot.native is None
        kernel.registry.put(KEY, "Mode", REG_DWORD, NULL_WRITE)

    machine = start(body, tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    in_callback(machine)
    assert driver_frames(stack, "misbehaves")[0] == (0, "NullWrite")


def test_without_a_watching_parent_the_shim_still_prints_its_line(modules, tmp_path):
    machine = start(set_mode(modules["filter"], NULL_WRITE), tmp_path, isolated=False)
    machine.wait()
    assert machine.signal() == signal.SIGSEGV
    assert machine.crash.Complete == 1 and machine.crash.ExceptionCode == STATUS_ACCESS_VIOLATION
    line = next(line for line in machine.stderr.splitlines() if line.startswith("cmhook: "))
    assert line.startswith("cmhook: access violation (a bugcheck on Windows) reading or writing 0x0000000000000000 in ")
    assert "misbehaves" in line


# --- DriverEntry and DriverUnload ------------------------------------------------------------------

def test_a_crash_in_driver_entry(modules, tmp_path):
    machine = start(lambda kernel: kernel.load_driver(modules["entry"]), tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    thread = machine.crash.Thread
    assert thread.Kind == IN_DRIVER_ENTRY and thread.Depth == 1 and thread.ProcessId == SYSTEM_PROCESS
    assert thread.NotifyClass == -1
    entered(machine, stack, "DriverEntry")
    found = driver_frames(stack, "entrycrash")
    assert found[0] == (0, "ReadSettings") and (1, "DriverEntry") in found
    assert "CmhookCallDriverEntry" in [symbol for *_, symbol in stack]


def test_a_crash_in_driver_unload(modules, tmp_path):
    def body(kernel: Kernel) -> None:
        kernel.unload_driver(kernel.load_driver(modules["unload"]))

    machine = start(body, tmp_path)
    stack = crashed(machine, signal.SIGSEGV)
    thread = machine.crash.Thread
    assert thread.Kind == IN_DRIVER_UNLOAD and thread.Depth == 1 and thread.ProcessId == SYSTEM_PROCESS
    assert thread.Entries == 2  # DriverEntry, then DriverUnload
    entered(machine, stack, "DriverUnload")
    assert driver_frames(stack, "unloadcrash")[0] == (0, "ForgetState")


# --- the watch slots -------------------------------------------------------------------------------

def test_slots_outside_driver_code_and_after_a_thread_ends(modules, tmp_path):
    """Back from driver code a slot has Depth 0 and counts its entries; a thread's slot is free again
    once the thread ends; a crash outside driver code says so (Depth 0)."""
    def body(kernel: Kernel) -> None:
        record = kernel.lib.CmhookMachineRecord()
        assert int(kernel.ffi.cast("ULONG_PTR", record)) == isolation.shared_record()

        def owner(tid: int) -> list[int]:
            return [i for i in range(len(record.Slots)) if record.Slots[i].Tid == tid]

        def other_thread() -> None:
            kernel.registry.put(KEY, "Calm", REG_DWORD, CALM)
            slots.append(owner(threading.get_native_id()))

        slots: list[list[int]] = []
        kernel.load_driver(modules["filter"])
        kernel.registry.put(KEY, "Calm", REG_DWORD, CALM)
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        assert len(slots[0]) == 1 and owner(machine_pid := os.getpid()) != slots[0]
        # join() returns once Python is done with the thread, a moment before the thread's end frees it.
        deadline = time.monotonic() + 5
        while owner(thread.native_id or 0) and time.monotonic() < deadline:
            time.sleep(0.001)
        assert not owner(thread.native_id or 0) and owner(machine_pid)
        ctypes.string_at(0)  # a crash in Python's own code, outside any driver

    machine = start(body, tmp_path)
    machine.wait()
    assert machine.signal() == signal.SIGSEGV and machine.stderr == ""
    record = machine.record
    claimed = [record.Slots[i] for i in range(len(record.Slots)) if record.Slots[i].Tid]
    assert [slot.Tid for slot in claimed] == [machine.pid]
    (slot,) = claimed
    assert slot.Depth == 0 and slot.Entries >= 3 and slot.NotifyClass == -1  # DriverEntry, a pre and a post
    crash = machine.crash
    assert crash.Complete == 1 and crash.Thread.Depth == 0 and crash.Thread.Entries == slot.Entries
    assert crash.ExceptionCode == STATUS_ACCESS_VIOLATION and not crash.StackOverflow


# --- a hang: the stack on request ------------------------------------------------------------------

def test_a_spinning_callback_shows_in_its_slot_and_gives_its_stack_on_request(modules, tmp_path):
    machine = start(set_mode(modules["filter"], SPIN), tmp_path)
    record = machine.record
    try:
        deadline = time.monotonic() + CHILD_SECONDS
        slot = None
        while slot is None:  # the watchdog's view: a thread in one callback for a while (here 0.2 s)
            assert time.monotonic() < deadline, machine.stderr
            assert os.waitpid(machine.pid, os.WNOHANG)[0] == 0, machine.stderr
            time.sleep(0.01)
            slot = next((record.Slots[i] for i in range(len(record.Slots))
                         if record.Slots[i].Depth > 0 and record.Slots[i].Kind == IN_CALLBACK
                         and record.Slots[i].NotifyClass == REG_NOTIFY_CLASS.RegNtPreSetValueKey
                         and time.monotonic_ns() - record.Slots[i].Since > 200_000_000), None)
        assert slot.Tid == machine.pid and slot.Depth == 1 and slot.ProcessId == USER_PROCESS
        entries = slot.Entries
        record.StackReady = 0
        record.StackTid = slot.Tid
        libc = ctypes.CDLL(None, use_errno=True)
        assert libc.syscall(SYS_TGKILL, machine.pid, slot.Tid, shim.shim_ffi().dlopen(None).CMHOOK_STACK_SIGNAL) == 0
        while not record.StackReady:
            assert time.monotonic() < deadline, "the spinning thread never wrote its stack"
            time.sleep(0.005)
        stack = frames(shim.shim_ffi(), record.Stack, record.StackCount)
        found = driver_frames(stack, "misbehaves")
        assert found[0] == (0, "Spin") and (1, "Callback") in found
        assert "CmhookWalkCallbacks" in [symbol for *_, symbol in stack]
        assert os.waitpid(machine.pid, os.WNOHANG)[0] == 0  # the request does not disturb the spin
        assert slot.Depth == 1 and slot.Entries == entries and not machine.crash.Crashed
    finally:
        machine.kill()
    assert machine.signal() == signal.SIGKILL and machine.stderr == ""
