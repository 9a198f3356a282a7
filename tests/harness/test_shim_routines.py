"""The kernel shim's routines as a filter meets them: exports, wide strings, Rtl strings, locks,
pool, DbgPrint's Windows format, ObQueryNameString's two-call protocol, who is calling."""

from __future__ import annotations

import threading

import cffi
import pytest
from helpers import DRIVERS

from ntddk_py import (
    APC_LEVEL,
    DISPATCH_LEVEL,
    KEY_ALL_ACCESS,
    KEY_READ,
    MODE,
    PASSIVE_LEVEL,
    PROCESSINFOCLASS,
    PROTOTYPES,
    STATUS_ACCESS_DENIED,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_SUCCESS,
    ffi,
)
from registry_core import caller

IMAGE_FILE_NAME = PROCESSINFOCLASS.ProcessImageFileName


def test_every_kernel_routine_the_header_declares_is_exported(kernel):
    """A filter may call any routine ntddk.h declares; the loader resolves each against the shim."""
    assert set(PROTOTYPES) <= kernel.exports


_CHECKS = """
int CheckWideStrings(void); int CheckRtlStrings(void); void LockedIncrements(LONG, int);
LONG ReadCounter(void); LONG ReadIrqlWhileHeld(void); LONG ReadIrqlNow(void);
"""


@pytest.fixture(params=["gcc", "clang"])
def checks(request, kernel, build_filter):
    """The runtime_checks module, loaded as a driver, with its Check* exports callable."""
    driver = kernel.load_driver(build_filter(DRIVERS / "runtime_checks.c", request.param), "runtime")
    local = cffi.FFI()
    local.include(kernel.ffi)
    local.cdef(_CHECKS)
    return local.dlopen(str(driver.module_path))


def test_wide_string_routines_are_16_bit(checks):
    """wcslen, wcscmp, _wcsicmp, wcsstr, wcschr, wcsncpy ... on L"" literals, source unchanged."""
    assert checks.CheckWideStrings() == 1


def test_rtl_string_routines(checks):
    assert checks.CheckRtlStrings() == 1


@pytest.mark.parametrize("use_mutex", [0, 1], ids=["spin-lock", "fast-mutex"])
def test_locks_really_lock(checks, use_mutex):
    """Threads incrementing an unprotected counter under the lock lose no increment."""
    before = checks.ReadCounter()
    threads = [threading.Thread(target=checks.LockedIncrements, args=(20000, use_mutex)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert checks.ReadCounter() - before == 80000
    assert checks.ReadIrqlWhileHeld() == (APC_LEVEL if use_mutex else DISPATCH_LEVEL)
    assert checks.ReadIrqlNow() == PASSIVE_LEVEL


def _format(kernel, fmt: bytes, *args) -> str:
    out = kernel.ffi.new("char[]", 512)
    kernel.lib.CmhookFormat(out, 512, fmt, *args)
    return kernel.ffi.string(out).decode()


def test_dbgprint_reads_the_format_as_windows_does(kernel):
    f = kernel.ffi
    text = "Run\\é"
    wide = f.new("WCHAR[]", [ord(c) for c in text] + [0])
    unicode = f.new("UNICODE_STRING *", {"Length": 2 * len(text), "MaximumLength": 2 * len(text) + 2,
                                         "Buffer": wide})
    narrow = f.new("char[]", b"ansi")
    ansi = f.new("ANSI_STRING *", {"Length": 4, "MaximumLength": 5, "Buffer": narrow})
    assert _format(kernel, b"%wZ|%Z", unicode, ansi) == "Run\\é|ansi"
    assert _format(kernel, b"%ws|%ls|%S|%hs|%s", wide, wide, wide, narrow, narrow) == f"{text}|{text}|{text}|ansi|ansi"
    # long is 32 bits on Windows: %lu/%lx take the low 32 bits; %I64x and %llx take 64.
    assert _format(kernel, b"%lu %lx", f.cast("unsigned long long", 0x1_0000_0005),
                   f.cast("unsigned long long", 0xFFFF_FFFF_DEAD_BEEF)) == "5 deadbeef"
    big = f.cast("unsigned long long", 0x1234_5678_9ABC_DEF0)
    assert _format(kernel, b"%I64x %llx %I64d", big, big, f.cast("long long", -2)) == (
        "123456789abcdef0 123456789abcdef0 -2")
    assert _format(kernel, b"%p", f.cast("void *", 0xABC)) == "0000000000000ABC"
    assert _format(kernel, b"%08lx|%-4d|%5.2s|%%", f.cast("unsigned int", 0xBEEF), f.cast("int", 7),
                   narrow) == "0000beef|7   |   an|%"
    assert _format(kernel, b"%wZ %ws", f.NULL, f.NULL) == "(null) (null)"


def test_pool_is_tracked_by_tag_size_and_module(kernel, build_filter):
    kernel.load_driver(build_filter(DRIVERS / "leaks_pool.c"), "leaky")
    (allocation,) = [a for a in kernel.pool.values() if a.tag_text == "Leak"]
    assert (allocation.size, allocation.module) == (100, kernel.drivers["leaky"].base)
    kernel.unload_driver("leaky")
    kernel.findings.clear()


def test_freeing_what_was_never_allocated_is_reported(kernel):
    block = kernel.ffi.new("char[]", 16)
    kernel.routines.ExFreePoolWithTag(block, 0x676E6F72)
    assert [f.kind for f in kernel.findings] == ["bad-free"]
    kernel.findings.clear()


def test_ob_query_name_string_two_call_protocol(kernel):
    reg = kernel.registry
    status, handle = reg.open_key("\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services", KEY_READ)
    obj = reg.native.handles.lookup(handle).obj
    needed = kernel.ffi.new("ULONG *")
    assert kernel.routines.ObQueryNameString(obj.pointer, kernel.ffi.NULL, 0, needed) == STATUS_INFO_LENGTH_MISMATCH
    name = "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services"  # the real path, not the link's
    assert needed[0] == ffi.sizeof("OBJECT_NAME_INFORMATION") + 2 * len(name) + 2
    buffer = kernel.ffi.new("UCHAR[]", needed[0])
    info = kernel.ffi.cast("POBJECT_NAME_INFORMATION", buffer)
    assert kernel.routines.ObQueryNameString(obj.pointer, info, needed[0] - 1, needed) == STATUS_INFO_LENGTH_MISMATCH
    assert kernel.routines.ObQueryNameString(obj.pointer, info, needed[0], needed) == STATUS_SUCCESS
    assert ffi.buffer(info.Name.Buffer, info.Name.Length + 2)[:] == (name + "\0").encode("utf-16-le")
    assert (info.Name.Length, info.Name.MaximumLength) == (2 * len(name), 2 * len(name) + 2)
    reg.close(handle)


def test_ob_reference_object_by_handle_checks_access_only_for_user_mode(kernel):
    reg = kernel.registry
    status, handle = reg.open_key("\\REGISTRY\\MACHINE\\SOFTWARE", KEY_READ)
    obj = reg.native.handles.lookup(handle).obj
    out = kernel.ffi.new("PVOID *")
    h = kernel.ffi.cast("HANDLE", handle)
    assert kernel.routines.ObReferenceObjectByHandle(h, KEY_ALL_ACCESS, kernel.ffi.NULL, bytes([MODE.UserMode]), out,
                                                kernel.ffi.NULL) == STATUS_ACCESS_DENIED
    assert kernel.routines.ObReferenceObjectByHandle(h, KEY_ALL_ACCESS, kernel.ffi.NULL, bytes([MODE.KernelMode]), out,
                                                kernel.ffi.NULL) == STATUS_SUCCESS
    assert int(kernel.ffi.cast("ULONG_PTR", out[0])) == obj.address and obj.references == 2
    kernel.routines.ObDereferenceObject(out[0])
    assert obj.references == 1
    assert kernel.routines.ObReferenceObjectByHandle(kernel.ffi.cast("HANDLE", 0x7777), 0, kernel.ffi.NULL,
                                                bytes([0]), out, kernel.ffi.NULL) == STATUS_INVALID_HANDLE
    reg.close(handle)


def test_who_is_calling(kernel):
    with caller.as_process(1234, "\\Device\\HarddiskVolume1\\Tools\\x.exe"):
        assert int(kernel.ffi.cast("ULONG_PTR", kernel.routines.PsGetCurrentProcessId())) == 1234
        assert int(kernel.ffi.cast("ULONG_PTR", kernel.routines.PsGetCurrentThreadId())) == caller.thread_id()
        assert kernel.routines.ExGetPreviousMode() == bytes([MODE.UserMode])
        buffer = kernel.ffi.new("UCHAR[]", 256)
        needed = kernel.ffi.new("ULONG *")
        current = kernel.ffi.cast("HANDLE", -1)
        query = kernel.routines.ZwQueryInformationProcess
        assert query(current, IMAGE_FILE_NAME, buffer, 8, needed) == STATUS_INFO_LENGTH_MISMATCH
        assert query(current, IMAGE_FILE_NAME, buffer, 256, needed) == STATUS_SUCCESS
        image = kernel.ffi.cast("PUNICODE_STRING", buffer)
        assert ffi.buffer(image.Buffer, image.Length)[:].decode("utf-16-le") == (
            "\\Device\\HarddiskVolume1\\Tools\\x.exe")
    with caller.kernel_mode():
        assert kernel.routines.ExGetPreviousMode() == bytes([MODE.KernelMode])


def test_ke_query_system_time_follows_the_clock_tests_set(kernel):
    clock = kernel.native.store.clock
    clock.set(133_000_000_000_000_000)
    clock.advance(10_000_000)
    now = kernel.ffi.new("LARGE_INTEGER *")
    kernel.routines.KeQuerySystemTime(now)
    assert now.QuadPart == 133_000_000_010_000_000


def test_mm_is_address_valid(kernel):
    assert kernel.routines.MmIsAddressValid(kernel.ffi.new("char[]", 8)) == 1
    assert kernel.routines.MmIsAddressValid(kernel.ffi.NULL) == 0
    assert kernel.routines.MmIsAddressValid(kernel.ffi.cast("void *", 0x10)) == 0
