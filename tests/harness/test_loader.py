"""Compiled C filter modules driven by the harness, each built by gcc and by clang in this session:
registration from DriverEntry, blocking, post status, object names, nested calls, unload checks,
refused imports, a failing DriverEntry, two modules at once."""

from __future__ import annotations

import threading

import pytest
from helpers import DRIVERS, FILTERS

from harness.kernel import DriverError
from ntddk_py import KEY_ALL_ACCESS, REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS
from registry_core import caller

RUN = "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"
INTRUDER = (4242, "\\Device\\HarddiskVolume1\\Users\\eve\\Downloads\\evil.exe")
EXPLORER = (1776, "\\Device\\HarddiskVolume1\\Windows\\explorer.exe")

pytestmark = pytest.mark.parametrize("cc", ["gcc", "clang"])


def text(value: str) -> bytes:
    return (value + "\0").encode("utf-16-le")


def lines(kernel, driver: str) -> list[str]:
    return [line for name, line in kernel.debug_output if name == driver]


def test_driver_entry_registers_a_callback(kernel, build_filter, cc):
    driver = kernel.load_driver(build_filter(FILTERS / "run_blocker.c", cc), "run_blocker")
    (registration,) = kernel.native.callbacks.registrations()
    assert registration.name.startswith("run_blocker+0x")
    assert kernel.registry.exists("\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\run_blocker")
    assert lines(kernel, "run_blocker")[0] == (
        "run_blocker: loading from \\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\run_blocker\n")
    assert driver.has_unload


def test_run_blocker_blocks_outsiders_and_lets_windows_components_write(kernel, build_filter, trace, cc):
    kernel.load_driver(build_filter(FILTERS / "run_blocker.c", cc), "run_blocker")
    reg = kernel.registry
    with caller.as_process(*INTRUDER):
        status, handle = reg.open_key(RUN, KEY_ALL_ACCESS)
        assert status == STATUS_SUCCESS
        assert reg.set_value(handle, "Updater", REG_SZ, text("C:\\evil.exe")) == STATUS_ACCESS_DENIED
        trace.assert_blocked("NtSetValueKey", STATUS_ACCESS_DENIED, by="run_blocker")
    with caller.as_process(*EXPLORER):
        assert reg.set_value(handle, "Updater", REG_SZ, text("C:\\Windows\\ok.exe")) == STATUS_SUCCESS
        trace.assert_classes("NtSetValueKey", ["RegNtPreSetValueKey", "RegNtPostSetValueKey"])
    with caller.as_process(*INTRUDER):
        assert reg.delete_value(handle, "Updater") == STATUS_ACCESS_DENIED
    assert reg.get_value(RUN, "Updater") == (REG_SZ, text("C:\\Windows\\ok.exe"))
    # Writes elsewhere are allowed, and every set-value is logged with the key's full name.
    with caller.as_process(*INTRUDER):
        status, other, _ = reg.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor")
        assert reg.set_value(other, "Setting", REG_SZ, text("on")) == STATUS_SUCCESS
    logged = lines(kernel, "run_blocker")
    assert f"run_blocker: blocked set of Updater under {RUN}\n" in logged
    assert f"run_blocker: set-value {RUN}\\Updater by process {INTRUDER[0]:016X}\n" in logged
    assert "run_blocker: set-value \\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\Setting by process " \
           f"{INTRUDER[0]:016X}\n" in logged
    reg.close(handle)
    reg.close(other)


def test_pairing_monitor_sees_each_post_with_its_status(kernel, build_filter, cc):
    kernel.load_driver(build_filter(FILTERS / "pairing_monitor.c", cc), "pairing_monitor")
    reg = kernel.registry
    threads = []
    for n in range(4):
        def work(n=n):
            status, handle, _ = reg.create_key(f"\\REGISTRY\\MACHINE\\SOFTWARE\\P{n}")
            for i in range(10):
                reg.set_value(handle, f"v{i}", REG_SZ, text("x"))
            reg.delete_value(handle, "missing")
            reg.close(handle)
        threads.append(threading.Thread(target=work))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logged = lines(kernel, "pairing_monitor")
    assert sum(" class 1 -> 16 status 0x00000000 " in line for line in logged) == 40
    assert sum(" class 2 -> 17 status 0xc0000034 " in line for line in logged) == 4
    kernel.unload_driver("pairing_monitor")
    assert lines(kernel, "pairing_monitor")[-1] == f"pairing_monitor: {len(logged)} matched, 0 unmatched\n"


def test_nested_calls_reach_no_callback(kernel, build_filter, trace, cc):
    kernel.load_driver(build_filter(FILTERS / "nested_calls.c", cc), "nested_calls")
    reg = kernel.registry
    status, handle, _ = reg.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Nested")
    assert reg.set_value(handle, "Mode", REG_SZ, text("a")) == STATUS_SUCCESS
    assert reg.set_value(handle, "Mode", REG_SZ, text("bbb")) == STATUS_SUCCESS
    assert lines(kernel, "nested_calls")[-2:] == [
        "nested_calls: Mode is new (0xc0000034)\n",
        "nested_calls: Mode was type 1, 4 bytes; becomes type 1, 8 bytes\n"]
    # The callback's own ZwOpenKey/ZwQueryValueKey/ZwClose produced no notification.
    assert [op.api for op in trace.operations()][-2:] == ["NtSetValueKey", "NtSetValueKey"]
    trace.assert_classes("NtSetValueKey", ["RegNtPreSetValueKey", "RegNtPostSetValueKey"])
    kernel.unload_driver("nested_calls")
    assert lines(kernel, "nested_calls")[-1] == "nested_calls: 6 nested registry calls\n"


def test_forgotten_unregistration_is_a_verifier_finding(kernel, build_filter, cc):
    kernel.load_driver(build_filter(DRIVERS / "forgets_unregister.c", cc), "forgetful")
    found = kernel.unload_driver("forgetful")
    assert [f.kind for f in found] == ["leaked-callback"]
    assert "forgetful+0x" in found[0].message and "CmUnRegisterCallback" in found[0].message
    assert kernel.native.callbacks.registrations()  # reported, not silently cleaned
    kernel.findings.clear()
    for registration in kernel.native.callbacks.registrations():
        kernel.native.callbacks.unregister(registration.cookie)


def test_leaked_pool_is_reported_with_tag_and_size(kernel, build_filter, cc):
    kernel.load_driver(build_filter(DRIVERS / "leaks_pool.c", cc), "leaky")
    found = kernel.unload_driver("leaky")
    assert [f.kind for f in found] == ["leaked-pool"]
    assert "100 bytes of pool tagged 'Leak'" in found[0].message
    kernel.findings.clear()


def test_a_module_with_unresolvable_imports_is_refused_before_it_runs(kernel, build_filter, cc):
    with pytest.raises(DriverError, match="does not export: IoAttachDevice, KeBugCheckEx"):
        kernel.load_driver(build_filter(DRIVERS / "bad_import.c", cc), "bad")
    assert kernel.drivers == {} and not kernel.registry.exists(
        "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\bad")


def test_a_failing_driver_entry_unloads_the_module_and_reports_the_status(kernel, build_filter, cc):
    with pytest.raises(DriverError, match="DriverEntry of failing returned STATUS_INSUFFICIENT_RESOURCES"):
        kernel.load_driver(build_filter(DRIVERS / "entry_fails.c", cc), "failing")
    assert kernel.drivers == {} and kernel.native.callbacks.registrations() == []
    assert kernel.findings == []


def test_a_driver_without_driver_unload_cannot_be_unloaded(kernel, build_filter, cc):
    kernel.load_driver(build_filter(DRIVERS / "no_unload.c", cc), "sticky")
    with pytest.raises(DriverError, match="Windows refuses to unload"):
        kernel.unload_driver("sticky")
    kernel.close()
    assert [f.kind for f in kernel.findings] == ["not-unloadable"]
    kernel.findings.clear()


def test_two_modules_at_once_in_any_order(kernel, build_filter, trace, cc):
    kernel.load_driver(build_filter(FILTERS / "pairing_monitor.c", cc), "monitor")
    kernel.load_driver(build_filter(FILTERS / "run_blocker.c", cc), "blocker")
    kernel.load_driver(build_filter(FILTERS / "run_blocker.c", cc), "blocker2")  # the same file twice
    with caller.as_process(*INTRUDER):
        status, handle = kernel.registry.open_key(RUN, KEY_ALL_ACCESS)
        assert kernel.registry.set_value(handle, "X", REG_SZ, text("x")) == STATUS_ACCESS_DENIED
    trace.assert_blocked("NtSetValueKey", STATUS_ACCESS_DENIED, by="blocker+")
    assert kernel.unload_driver("blocker") == []
    with caller.as_process(*INTRUDER):
        assert kernel.registry.set_value(handle, "X", REG_SZ, text("x")) == STATUS_ACCESS_DENIED
    trace.assert_blocked("NtSetValueKey", STATUS_ACCESS_DENIED, by="blocker2+")
    assert kernel.unload_driver("monitor") == []
    kernel.registry.close(handle)


def test_missing_file_is_a_clear_error(kernel, cc):
    with pytest.raises(DriverError, match="no such driver module"):
        kernel.load_driver(f"/nonexistent/{cc}.so")
