"""examples/filters/ioctl_monitor.c as its user-mode half uses it: registry operations by a user-mode
process, then the records read through \\\\.\\CmhookMonitor with DeviceIoControl; the inverted call
(a request pending until the next record); and the same run from a script under ``cmhook run``."""

from __future__ import annotations

from helpers import FILTERS, SCENARIOS, cmhook

from ntddk_py import (
    FILE_DEVICE_UNKNOWN,
    FILE_READ_ACCESS,
    KEY_ALL_ACCESS,
    METHOD_BUFFERED,
    REG_SZ,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_CANCELLED,
    STATUS_PENDING,
    STATUS_SUCCESS,
)
from registry_core import caller

IOCTL_MONITOR_GET_RECORDS = (FILE_DEVICE_UNKNOWN << 16) | (FILE_READ_ACCESS << 14) | (0x800 << 2) | METHOD_BUFFERED
IOCTL_MONITOR_WAIT_RECORD = (FILE_DEVICE_UNKNOWN << 16) | (FILE_READ_ACCESS << 14) | (0x801 << 2) | METHOD_BUFFERED
KEY = "\\REGISTRY\\MACHINE\\SOFTWARE\\MonitorDemo"


def records(output: bytes) -> list[str]:
    return output.decode("utf-16-le").splitlines()


def test_records_of_a_user_mode_process_read_through_the_device(kernel, build_filter):
    kernel.load_driver(build_filter(FILTERS / "ioctl_monitor.c"))
    registry = kernel.registry
    with caller.as_process(1234, "\\Device\\HarddiskVolume1\\tools\\writer.exe"):
        status, handle, _ = registry.create_key(KEY, KEY_ALL_ACCESS)
        assert status == STATUS_SUCCESS
        assert registry.set_value(handle, "Colour", REG_SZ, "blue\0".encode("utf-16-le")) == STATUS_SUCCESS
        assert registry.delete_value(handle, "Colour") == STATUS_SUCCESS
        assert registry.delete_key(handle) == STATUS_SUCCESS
        registry.close(handle)
    with caller.as_process(77, "\\Device\\HarddiskVolume1\\tools\\reader.exe"):
        with kernel.open_device("\\\\.\\CmhookMonitor") as monitor:
            too_small = monitor.device_io_control(IOCTL_MONITOR_GET_RECORDS, b"", 16)
            result = monitor.device_io_control(IOCTL_MONITOR_GET_RECORDS, b"", 4096)
            empty = monitor.device_io_control(IOCTL_MONITOR_GET_RECORDS, b"", 4096)
    assert too_small == (STATUS_BUFFER_TOO_SMALL, b"", 0)
    assert result.status == STATUS_SUCCESS and result.information == len(result.output)
    assert records(result.output) == [
        f"SetValue pid=1234 {KEY}\\Colour",
        f"DeleteValue pid=1234 {KEY}\\Colour",
        f"DeleteKey pid=1234 {KEY}",
    ]
    assert empty == (STATUS_SUCCESS, b"", 0)
    kernel.verify()


def test_a_waiting_request_completes_at_the_next_record(kernel, build_filter):
    """The inverted call: IOCTL_MONITOR_WAIT_RECORD pends while the ring is empty; the registry
    callback completes it with the record the next set-value makes."""
    kernel.load_driver(build_filter(FILTERS / "ioctl_monitor.c"))
    monitor = kernel.open_device("\\\\.\\CmhookMonitor")
    waiting = monitor.begin_io_control(IOCTL_MONITOR_WAIT_RECORD, b"", 1024)
    assert waiting.returned == STATUS_PENDING and not waiting.done()
    with caller.as_process(500, "\\Device\\HarddiskVolume1\\x.exe"):
        kernel.registry.put(KEY, "Now", REG_SZ, "yes")
    assert waiting.done()
    assert records(waiting.result().output) == [f"SetValue pid=500 {KEY}\\Now"]
    second = monitor.begin_io_control(IOCTL_MONITOR_WAIT_RECORD, b"", 1024)
    monitor.close()  # IRP_MJ_CLEANUP completes the one still waiting
    assert second.result().status == STATUS_CANCELLED
    kernel.verify()


def test_script_driven_run(tmp_path):
    """cmhook run with the example's script: the ioctl command prints the status, Information and the
    records, decoded as UTF-16 text."""
    done = cmhook("run", FILTERS / "ioctl_monitor.c", "--script", SCENARIOS / "ioctl_monitor.script")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "STATUS_SUCCESS" in done.stdout
    assert "SetValue pid=4242 \\REGISTRY\\MACHINE\\SOFTWARE\\MonitorDemo\\Greeting" in done.stdout
    assert "DeleteValue pid=4242 \\REGISTRY\\MACHINE\\SOFTWARE\\MonitorDemo\\Greeting" in done.stdout
