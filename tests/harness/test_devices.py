"""The I/O manager as a driver and a user-mode program meet it: IoCreateDevice's names, symbolic
links, CreateFile's resolution, each IOCTL method's buffers as the driver sees them, completion
and its misuses, pending requests, and what a driver leaves at unload.

The driver is tests/fixtures/drivers/io_device.c. Windows' facts are from Microsoft's driver
documentation: "Buffer Descriptions for I/O Control Codes" (what each METHOD_* gives the driver),
IoCreateDevice, IoCreateSymbolicLink, IoCompleteRequest, "Defining I/O Control Codes" (the
required access), and bug check 0x44 MULTIPLE_IRP_COMPLETE_REQUESTS.
"""

from __future__ import annotations

import struct

import pytest
from helpers import DRIVERS, cmhook

from harness.cli import EXIT_CRASHED
from harness.devices import IoError
from ntddk_py import (
    FILE_ANY_ACCESS,
    FILE_DEVICE_UNKNOWN,
    FILE_READ_ACCESS,
    GENERIC_READ,
    GENERIC_WRITE,
    IRP_BUFFERED_IO,
    IRP_INPUT_OPERATION,
    IRP_MJ_DEVICE_CONTROL,
    METHOD_BUFFERED,
    METHOD_IN_DIRECT,
    METHOD_NEITHER,
    METHOD_OUT_DIRECT,
    MODE,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_BUFFER_OVERFLOW,
    STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER,
    STATUS_NO_SUCH_DEVICE,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_PENDING,
    STATUS_SUCCESS,
    ffi,
)

FIELDS = ("Method InputLength OutputLength RequestorMode SystemBuffer Type3InputBuffer UserBuffer MdlAddress "
          "MdlVirtualAddress MdlSystemAddress MdlByteCount InputSum ProbeInput ProbeOutput FsContext FileNameLength "
          "Flags StackCount CurrentLocation MajorFunction FileObjectMatches").split()
DESCRIPTION = struct.Struct(f"<{len(FIELDS)}Q")


def ctl_code(function: int, method: int = METHOD_BUFFERED, access: int = FILE_ANY_ACCESS) -> int:
    """CTL_CODE as the header defines it."""
    return (FILE_DEVICE_UNKNOWN << 16) | (access << 14) | (function << 2) | method


def describe(method: int) -> int:
    return ctl_code(0x900 + method, method)


IOCTL_COMPLETE_WITH = ctl_code(0x810)
IOCTL_PEND = ctl_code(0x820)
IOCTL_RELEASE = ctl_code(0x821)
IOCTL_PEND_UNMARKED = ctl_code(0x822)
IOCTL_NO_COMPLETE = ctl_code(0x830)
IOCTL_DOUBLE_COMPLETE = ctl_code(0x831)
IOCTL_NEEDS_READ = ctl_code(0x840, access=FILE_READ_ACCESS)
IOCTL_NAMES = ctl_code(0x850)
IOCTL_LEAK_ON_UNLOAD = ctl_code(0x860)


@pytest.fixture
def device(kernel, build_filter):
    """io_device loaded; the kernel's findings are the test's to check."""
    return kernel.load_driver(build_filter(DRIVERS / "io_device.c"), "io_device")


def seen(output: bytes) -> dict[str, int]:
    return dict(zip(FIELDS, DESCRIPTION.unpack(output), strict=False))


def test_ctl_code_matches_the_header(kernel):
    """CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) is 0x222000, as winioctl.h's
    IOCTLs of FILE_DEVICE_UNKNOWN start."""
    assert ctl_code(0x800) == 0x222000


def test_method_buffered_one_system_buffer_holding_the_input(kernel, device):
    """METHOD_BUFFERED: SystemBuffer, a kernel buffer (not the caller's: ProbeForRead of it fails),
    holds the input; the driver's output there is copied back to the caller's buffer (UserBuffer)."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        result = handle.device_io_control(describe(METHOD_BUFFERED), bytes(range(10)), 400)
    assert result.status == STATUS_SUCCESS and result.information == DESCRIPTION.size
    got = seen(result.output)
    assert got["InputLength"] == 10 and got["OutputLength"] == 400 and got["InputSum"] == sum(range(10))
    assert got["SystemBuffer"] != 0 and got["MdlAddress"] == 0 and got["UserBuffer"] != 0
    assert got["ProbeInput"] == STATUS_ACCESS_VIOLATION & 0xFFFFFFFF
    assert got["ProbeOutput"] == STATUS_SUCCESS  # the caller's own output buffer is a user address
    assert got["Flags"] & IRP_BUFFERED_IO and got["Flags"] & IRP_INPUT_OPERATION
    assert got["RequestorMode"] == MODE.UserMode and got["MajorFunction"] == IRP_MJ_DEVICE_CONTROL
    assert got["StackCount"] == 1 == got["CurrentLocation"] and got["FileObjectMatches"] == 1
    kernel.verify()


@pytest.mark.parametrize("method", [METHOD_IN_DIRECT, METHOD_OUT_DIRECT])
def test_direct_methods_input_in_system_buffer_output_through_an_mdl(kernel, device, method):
    """METHOD_IN_DIRECT / METHOD_OUT_DIRECT: the input in SystemBuffer, the output buffer described by
    Irp->MdlAddress, whose system address is where the driver writes."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        request = handle.begin_io_control(describe(method), b"\x05\x06", 300)
    result = request.result()
    assert result.status == STATUS_SUCCESS
    got = seen(result.output)
    assert got["SystemBuffer"] != 0 and got["InputSum"] == 11
    assert got["ProbeInput"] == STATUS_ACCESS_VIOLATION & 0xFFFFFFFF
    assert got["MdlAddress"] != 0 and got["MdlByteCount"] == 300
    caller_buffer = int(ffi.cast("ULONG_PTR", request.user_output))
    assert got["MdlVirtualAddress"] == caller_buffer == got["MdlSystemAddress"]
    kernel.verify()


def test_method_neither_hands_over_the_callers_own_pointers(kernel, device):
    """METHOD_NEITHER: Type3InputBuffer and UserBuffer are the caller's user-mode pointers (probing them
    succeeds); no SystemBuffer, no MDL."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        request = handle.begin_io_control(describe(METHOD_NEITHER), b"\x01\x02\x03", 200)
    result = request.result()
    got = seen(result.output)
    assert got["SystemBuffer"] == 0 and got["MdlAddress"] == 0
    assert got["UserBuffer"] == int(ffi.cast("ULONG_PTR", request.user_output))
    assert got["Type3InputBuffer"] != 0 and got["InputSum"] == 6
    assert got["ProbeInput"] == STATUS_SUCCESS == got["ProbeOutput"]
    kernel.verify()


def test_information_bounds_the_copy_back(kernel, device):
    """Buffered: only IoStatus.Information bytes reach the caller; the rest of its buffer is untouched."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        request = handle.begin_io_control(IOCTL_COMPLETE_WITH, struct.pack("<iI", STATUS_SUCCESS, 4), 16)
    assert request.result() == (STATUS_SUCCESS, b"\xab" * 4, 4)
    assert bytes(ffi.buffer(request.user_output, 16)) == b"\xab" * 4 + bytes(12)
    kernel.verify()


def test_error_status_copies_nothing_a_warning_copies(kernel, device):
    """The copy back happens unless the status is an error (NT_ERROR): STATUS_BUFFER_OVERFLOW, a warning,
    brings its partial data; STATUS_INVALID_PARAMETER brings none."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        warning = handle.device_io_control(IOCTL_COMPLETE_WITH, struct.pack("<iI", STATUS_BUFFER_OVERFLOW, 8), 8)
        error = handle.begin_io_control(IOCTL_COMPLETE_WITH, struct.pack("<iI", STATUS_INVALID_PARAMETER, 8), 8)
    assert warning == (STATUS_BUFFER_OVERFLOW, b"\xab" * 8, 8)
    assert error.result().status == STATUS_INVALID_PARAMETER and error.result().output == b""
    assert bytes(ffi.buffer(error.user_output, 8)) == bytes(8)
    kernel.verify()


def test_information_beyond_the_output_buffer_is_a_finding(kernel, device):
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        result = handle.device_io_control(IOCTL_COMPLETE_WITH, struct.pack("<iI", STATUS_SUCCESS, 64), 8)
    assert result.output == b"\xab" * 8 and result.information == 64
    assert [f.kind for f in kernel.findings] == ["irp-information-overrun"]
    kernel.findings.clear()


def test_unset_major_function_gets_the_default_dispatch(kernel, device):
    """A MajorFunction entry the driver did not set is the I/O manager's, which completes the IRP with
    STATUS_INVALID_DEVICE_REQUEST (io_device sets no IRP_MJ_READ)."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        assert handle.read(16).status == STATUS_INVALID_DEVICE_REQUEST
        assert handle.write(b"abc") == (STATUS_SUCCESS, b"", 3)
    kernel.verify()


def test_no_such_device_and_link_resolution(kernel, device):
    """\\\\.\\X is \\??\\X, a link's target is resolved at the open: the link made as \\DosDevices\\CmhookTest
    and one made as \\??\\CmhookExclusive both open, as does the device's own name; an unknown name is
    STATUS_OBJECT_NAME_NOT_FOUND. Each open gets its own file object (FsContext set by the driver)."""
    with pytest.raises(IoError) as missing:
        kernel.open_device("\\\\.\\NoSuchDevice")
    assert missing.value.status == STATUS_OBJECT_NAME_NOT_FOUND
    contexts = []
    for name in ("\\\\.\\CmhookTest", "\\??\\cmhooktest", "\\DosDevices\\CmhookTest", "\\Device\\CmhookTest"):
        with kernel.open_device(name) as handle:
            contexts.append(seen(handle.device_io_control(describe(METHOD_BUFFERED), b"", 400).output)["FsContext"])
    assert len(set(contexts)) == 4
    with kernel.open_device("\\\\.\\CmhookTest\\sub") as handle:
        assert seen(handle.device_io_control(describe(METHOD_BUFFERED), b"", 400).output)["FileNameLength"] == 8
    kernel.verify()


def names(handle, what: int, name: str) -> int:
    output = handle.device_io_control(IOCTL_NAMES, struct.pack("<I", what) + name.encode("utf-16-le"), 4).output
    return struct.unpack("<i", output)[0]


def test_name_collisions(kernel, device):
    """IoCreateDevice of a name taken, and IoCreateSymbolicLink of a link taken (under either spelling),
    are STATUS_OBJECT_NAME_COLLISION; a new name succeeds; a device outside \\Device is
    STATUS_OBJECT_PATH_NOT_FOUND here (cmhook's namespace has no other directory)."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        assert names(handle, 1, "\\Device\\CmhookTest") == STATUS_OBJECT_NAME_COLLISION
        assert names(handle, 1, "\\Device\\cmhooktest") == STATUS_OBJECT_NAME_COLLISION
        assert names(handle, 1, "\\Device\\Another") == STATUS_SUCCESS
        assert names(handle, 1, "\\Nowhere\\Another") == STATUS_OBJECT_PATH_NOT_FOUND
        assert names(handle, 2, "\\??\\CmhookTest") == STATUS_OBJECT_NAME_COLLISION
        assert names(handle, 2, "\\DosDevices\\CmhookExclusive") == STATUS_OBJECT_NAME_COLLISION
        assert names(handle, 2, "\\DosDevices\\Another") == STATUS_SUCCESS
    kernel.verify()


def test_exclusive_device_opens_once(kernel, device):
    """An exclusive device (IoCreateDevice's Exclusive) refuses a second open with STATUS_ACCESS_DENIED
    while the first is open; after it closes, it opens again."""
    first = kernel.open_device("\\\\.\\CmhookExclusive")
    with pytest.raises(IoError) as second:
        kernel.open_device("\\\\.\\CmhookExclusive")
    assert second.value.status == STATUS_ACCESS_DENIED
    first.close()
    kernel.open_device("\\\\.\\CmhookExclusive").close()
    kernel.verify()


def test_ioctl_required_access_is_checked_against_the_handle(kernel, device):
    """An IOCTL defined with FILE_READ_ACCESS needs a handle granted read: a write-only handle gets
    STATUS_ACCESS_DENIED and the driver sees nothing."""
    with kernel.open_device("\\\\.\\CmhookTest", access=GENERIC_WRITE) as handle:
        assert handle.device_io_control(IOCTL_NEEDS_READ).status == STATUS_ACCESS_DENIED
    with kernel.open_device("\\\\.\\CmhookTest", access=GENERIC_READ) as handle:
        assert handle.device_io_control(IOCTL_NEEDS_READ).status == STATUS_SUCCESS
    kernel.verify()


def test_pending_request_completed_later(kernel, device):
    """The inverted call: a request the driver marks pending stays open (STATUS_PENDING returned) until
    the driver completes it, here while serving another request; its output arrives then."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        request = handle.begin_io_control(IOCTL_PEND, b"", 16)
        assert request.pending and request.returned == STATUS_PENDING and not request.done()
        with pytest.raises(RuntimeError):
            request.result()
        assert handle.device_io_control(IOCTL_RELEASE).status == STATUS_SUCCESS
        assert request.done() and request.result() == (STATUS_SUCCESS, b"released", 8)
        assert request.irp.PendingReturned == 1
    kernel.verify()


def test_close_waits_for_pending_requests(kernel, device):
    """IRP_MJ_CLOSE waits until no request of the handle is pending (an outstanding IRP holds the file
    object); completing the last one sends it."""
    waiting = kernel.open_device("\\\\.\\CmhookTest")
    request = waiting.begin_io_control(IOCTL_PEND, b"", 16)
    waiting.close()
    assert waiting.device.opened == 1  # cleaned up, not closed
    with kernel.open_device("\\\\.\\CmhookTest") as other:
        other.device_io_control(IOCTL_RELEASE)
    assert request.done() and waiting.device.opened == 0
    kernel.verify()


def test_double_completion_is_bug_check_0x44(kernel, device):
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        handle.device_io_control(IOCTL_DOUBLE_COMPLETE)
    assert [f.kind for f in kernel.findings] == ["bugcheck"]
    assert "MULTIPLE_IRP_COMPLETE_REQUESTS" in kernel.findings[0].message and "0x44" in kernel.findings[0].message
    assert kernel.findings[0].driver == "io_device"
    kernel.findings.clear()


def test_returning_without_completing_is_a_finding(kernel, device):
    """A dispatch routine that neither completes the IRP nor marks it pending: on Windows the caller
    waits forever; the harness returns the routine's status and reports it."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        assert handle.device_io_control(IOCTL_NO_COMPLETE).status == STATUS_SUCCESS
    assert [f.kind for f in kernel.findings] == ["irp-not-completed"]
    assert "IRP_MJ_DEVICE_CONTROL" in kernel.findings[0].message
    kernel.findings.clear()


def test_pending_without_iomarkirppending_then_left_at_unload(kernel, device):
    handle = kernel.open_device("\\\\.\\CmhookTest")
    request = handle.begin_io_control(IOCTL_PEND_UNMARKED)
    assert request.pending and not request.done()
    kernel.unload_driver(device)
    assert [f.kind for f in kernel.findings] == ["irp-pending-not-marked", "pending-irp"]
    handle.close()  # its driver is gone: no IRP goes anywhere
    assert handle.closed and len(kernel.findings) == 2
    kernel.findings.clear()


def test_devices_and_links_left_at_unload(kernel, device):
    """Windows does not unload a driver that still has devices: a device and a symbolic link its
    DriverUnload did not delete are findings; the link keeps its name taken."""
    with kernel.open_device("\\\\.\\CmhookTest") as handle:
        handle.device_io_control(IOCTL_LEAK_ON_UNLOAD)
    found = kernel.unload_driver(device)
    assert sorted(f.kind for f in found) == ["leaked-device", "leaked-symbolic-link"]
    assert any("\\Device\\CmhookTest" in f.message for f in found)
    with pytest.raises(IoError) as gone:
        kernel.open_device("\\\\.\\CmhookTest")
    assert gone.value.status == STATUS_OBJECT_NAME_NOT_FOUND
    kernel.findings.clear()


def test_device_initializing_until_driver_entry_returns(kernel, device):
    """The I/O manager clears DO_DEVICE_INITIALIZING of DriverEntry's devices when it returns; a device
    still initializing does not open (STATUS_NO_SUCH_DEVICE)."""
    target = kernel.io.names["\\DEVICE\\CMHOOKTEST"]
    assert not target.pointer.Flags & 0x80
    target.pointer.Flags |= 0x80
    with pytest.raises(IoError) as initializing:
        kernel.open_device("\\\\.\\CmhookTest")
    assert initializing.value.status == STATUS_NO_SUCH_DEVICE
    target.pointer.Flags &= ~0x80
    kernel.verify()


def test_wdm_version_of_the_profile(kernel):
    """IoIsWdmVersionAvailable: Windows Server 2003 is WDM 1.30 (Microsoft's documentation of the routine)."""
    assert kernel.routines.IoIsWdmVersionAvailable(1, 0x30) == 1
    assert kernel.routines.IoIsWdmVersionAvailable(1, 0x20) == 1
    assert kernel.routines.IoIsWdmVersionAvailable(1, 0x31) == 0
    assert kernel.routines.IoIsWdmVersionAvailable(6, 0) == 0


def test_io_allocate_mdl_describes_a_buffer(kernel):
    """IoAllocateMdl: StartVa is the page, ByteOffset the offset in it, ByteCount the length; after
    MmBuildMdlForNonPagedPool the mapped address is the buffer. A zero length gets no MDL."""
    buffer = ffi.new("UCHAR[]", 0x3000)
    start = int(ffi.cast("ULONG_PTR", buffer)) + 0x123
    mdl = kernel.routines.IoAllocateMdl(ffi.cast("PVOID", start), 0x1800, 0, 0, ffi.NULL)
    assert int(ffi.cast("ULONG_PTR", mdl.StartVa)) == start & ~0xFFF
    assert mdl.ByteOffset == start & 0xFFF and mdl.ByteCount == 0x1800
    kernel.routines.MmBuildMdlForNonPagedPool(mdl)
    assert int(ffi.cast("ULONG_PTR", mdl.MappedSystemVa)) == start and mdl.MdlFlags & 0x4
    kernel.routines.IoFreeMdl(mdl)
    assert kernel.routines.IoAllocateMdl(ffi.cast("PVOID", start), 0, 0, 0, ffi.NULL) == ffi.NULL


def test_open_and_close_send_create_cleanup_close_in_the_callers_process(kernel, device):
    """Every request of a user-mode caller has RequestorMode UserMode; the handle's GENERIC rights are
    mapped to the file rights (FILE_READ_DATA, FILE_WRITE_DATA)."""
    handle = kernel.open_device("\\\\.\\CmhookTest", access=GENERIC_READ | GENERIC_WRITE)
    assert handle.access & 0x3 == 0x3 and handle.device.opened == 1
    handle.close()
    assert handle.device.opened == 0
    with pytest.raises(ValueError):
        handle.device_io_control(IOCTL_RELEASE)
    kernel.verify()


def test_a_crash_in_a_dispatch_routine_is_a_bug_check_naming_it(tmp_path):
    """Driver code entered for an IRP is watched as every driver call is: a fault there, in a user-mode
    caller's DeviceIoControl, is SYSTEM_SERVICE_EXCEPTION (0x3B), named with the driver and its
    dispatch routine."""
    script = tmp_path / "crash.script"
    script.write_text("opendevice \\\\.\\CmhookTest as test\nioctl test 0x2221C0\n")
    done = cmhook("run", DRIVERS / "io_device.c", "--script", script, timeout=120)
    assert done.returncode == EXIT_CRASHED, done.stdout + done.stderr
    assert "bugcheck 0x3B SYSTEM_SERVICE_EXCEPTION" in done.stderr
    assert "dispatch routine" in done.stderr and "DispatchControl" in done.stderr and "io_device" in done.stderr


def test_device_script_commands_parse_and_refuse():
    """The script's device commands: CTL_CODE(...) with the header's names is the number; in=hex: and
    in="text" give the input bytes; a malformed line is refused naming file and line."""
    from harness import script

    steps = script.parse('opendevice \\\\.\\CmhookTest access=GENERIC_READ as t\n'
                         'ioctl t CTL_CODE(FILE_DEVICE_UNKNOWN,0x800,METHOD_BUFFERED,FILE_READ_ACCESS) '
                         'in=hex:01,ff out=16\n'
                         'ioctl t 0x222000 in="ab"\nclosedevice t\n', "s.script")
    assert steps[0].args == {"path": "\\\\.\\CmhookTest", "access": GENERIC_READ, "bind": "t"}
    assert steps[1].args == {"device": "t", "code": 0x226000, "input": b"\x01\xff", "out": 16}
    assert steps[2].args["input"] == "ab".encode("utf-16-le") and steps[2].args["out"] == 0
    for bad in ("opendevice \\\\.\\X", "ioctl t", "ioctl t 0x222000 out=big", "ioctl t CTL_CODE(1,2,3)",
                "closedevice"):
        with pytest.raises(script.ScriptError, match="s.script:1"):
            script.parse(bad + "\n", "s.script")
