"""Running the machine in a watched child (harness/isolation.py): how each way of ending is told
apart, and that what the child reported before it ended reaches the parent."""

from __future__ import annotations

import os
import signal
import tempfile
import time

import pytest

from harness import bugcheck, isolation, shim


def _collect():
    delivered: list[tuple[str, tuple]] = []
    return delivered, lambda method, args: delivered.append((method, args))


def test_what_work_returns_comes_back_pickled():
    delivered, deliver = _collect()
    ending = isolation.run(lambda: {"answer": 42}, deliver)
    assert ending.kind == "returned" and ending.value == {"answer": 42} and delivered == []


def test_reports_reach_the_parent_in_order():
    delivered, deliver = _collect()

    def work():
        assert isolation.in_machine()
        for n in range(1000):
            isolation.send("line", n, f"text {n}")

    ending = isolation.run(work, deliver)
    assert ending.returned
    assert delivered == [("line", (n, f"text {n}")) for n in range(1000)]
    assert not isolation.in_machine()  # only the child is a machine


def test_a_raising_work_is_a_harness_error_with_its_traceback():
    def work():
        raise ValueError("the harness broke")

    ending = isolation.run(work, _collect()[1])
    assert ending.kind == "raised" and "ValueError: the harness broke" in ending.error and ending.report is None


def test_an_exit_with_status_0_is_a_failure_and_what_came_before_is_kept():
    delivered, deliver = _collect()

    def work():
        isolation.send("before", 1)
        os._exit(0)  # what a driver's exit_group(0) does

    ending = isolation.run(work, deliver, recent=lambda: ["script:3: NtSetValueKey -> STATUS_SUCCESS"])
    assert ending.kind == "ended" and not ending.returned
    assert delivered == [("before", (1,))]
    assert ending.report is not None and "exited with status 0 before it finished" in ending.report.text
    assert "whatever the status" in ending.report.text
    assert "script:3: NtSetValueKey -> STATUS_SUCCESS" in ending.report.text


def test_a_kill_from_outside_is_told_as_such():
    ending = isolation.run(lambda: os.kill(os.getpid(), signal.SIGKILL), _collect()[1])
    assert ending.kind == "ended" and "killed by signal 9 (SIGKILL)" in ending.report.text


def test_a_thread_in_driver_code_past_the_limit_is_a_hang_and_the_machine_is_stopped():
    """The watchdog reads the watch slots the shim keeps; here the child writes one itself, as the
    shim does on entering a driver routine, and then never returns."""
    ffi = shim.shim_ffi()

    def work():
        record = ffi.cast("CMHOOK_MACHINE_RECORD *", isolation.shared_record())
        slot = record.Slots[0]
        slot.Depth, slot.Kind, slot.NotifyClass, slot.ProcessId = 1, bugcheck.IN_CALLBACK, -1, 1234
        slot.Since = time.monotonic_ns()
        slot.Tid = os.getpid()
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # a thread that cannot answer for its stack
        time.sleep(60)

    started = time.monotonic()
    ending = isolation.run(work, _collect()[1], hang_seconds=0.3)
    assert time.monotonic() - started < 10
    assert ending.kind == "hang" and os.WIFSIGNALED(ending.wait_status)
    text = ending.report.text
    assert "did not return within 0.3 s" in text and "registry callback" in text and "process 1234" in text
    assert "the thread did not answer" in text


def test_the_childs_temporary_files_live_in_a_folder_the_parent_removes():
    ending = isolation.run(tempfile.gettempdir, _collect()[1])
    folder = ending.value
    assert os.path.basename(folder).startswith("cmhook-machine-") and not os.path.exists(folder)


@pytest.mark.parametrize("hang", [0.0, -1.0])
def test_the_command_line_refuses_a_hang_timeout_that_is_not_positive(hang):
    from harness import cli

    with pytest.raises(SystemExit) as stopped:
        cli.build_parser().parse_args(["run", "x.so", "--hang-timeout", str(hang)])
    assert stopped.value.code == 2
