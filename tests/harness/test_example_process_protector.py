"""examples/filters/process_protector.c: a protector that lets only the processes of one image
(guardian.exe) change its key, learning their ids from a create-process notify routine."""

from __future__ import annotations

from helpers import FILTERS

from ntddk_py import REG_DWORD, STATUS_ACCESS_DENIED, STATUS_SUCCESS
from registry_core import caller

PROTECTED = r"\REGISTRY\MACHINE\SOFTWARE\Protected"
GUARDIAN = r"\Device\HarddiskVolume1\Program Files\Guard\guardian.exe"
INTRUDER = r"\Device\HarddiskVolume1\Users\eve\AppData\Local\Temp\TamperWithTheGuardSettings.exe"


def set_level(reg, path: str, level: int) -> int:
    """Open (or create) the key as the current caller and set its Level: the set's status."""
    status, handle, _ = reg.create_key(path)
    assert status == STATUS_SUCCESS
    try:
        return reg.set_value(handle, "Level", REG_DWORD, level.to_bytes(4, "little"))
    finally:
        reg.close(handle)


def test_an_allowed_process_writes_the_key_and_another_is_denied(kernel, build_filter):
    """The allowed image's process, seen starting, sets a value; another process is denied and the
    driver logs its image: the 15-character PsGetProcessImageFileName and SeLocateProcessImageName's path."""
    reg = kernel.registry
    reg.put(PROTECTED, "Level", REG_DWORD, 1)
    kernel.load_driver(build_filter(FILTERS / "process_protector.c"))
    assert kernel.start_process(4000, GUARDIAN) == STATUS_SUCCESS
    assert kernel.start_process(5000, INTRUDER) == STATUS_SUCCESS
    with caller.as_process(4000, GUARDIAN):
        assert set_level(reg, PROTECTED, 2) == STATUS_SUCCESS
    with caller.as_process(5000, INTRUDER):
        assert set_level(reg, PROTECTED, 0) == STATUS_ACCESS_DENIED
        assert set_level(reg, r"\REGISTRY\MACHINE\SOFTWARE\Elsewhere", 0) == STATUS_SUCCESS
    lines = [line for _, line in kernel.debug_output]
    assert any("allowing process 0000000000000FA0" in line for line in lines)
    assert any(f"denied set-value by TamperWithTheGu (process 0000000000001388, {INTRUDER})" in line
               for line in lines)
    assert kernel.findings == [] and kernel.pool == {}


def test_a_process_that_exited_is_allowed_no_more(kernel, build_filter):
    """The exit notification makes the driver forget the id: a later process with the same id (not seen
    starting as guardian.exe) is denied."""
    reg = kernel.registry
    kernel.load_driver(build_filter(FILTERS / "process_protector.c"))
    assert kernel.start_process(4000, GUARDIAN) == STATUS_SUCCESS
    assert kernel.end_process(4000)
    with caller.as_process(4000, GUARDIAN):
        assert set_level(reg, PROTECTED, 2) == STATUS_ACCESS_DENIED
