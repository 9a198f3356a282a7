"""The misbehaving filters: each C filter in misbehaving/ does one thing that stops a Windows
machine (a NULL dereference, a write far past the notification's struct, an illegal instruction,
a division by zero, a stack overflow, a stack-protector failure, an abort, a crash in DriverEntry
or in DriverUnload), hangs it (an endless loop, a FAST_MUTEX acquired twice) or ends it early
(exit_group(0)). The frame they share is misbehaving.h: DriverEntry registers a callback that
hands RegNtPreSetValueKey to the filter's own misbehaving function. The abort and the exit_group
make their system calls themselves; their [libc] variants call the C library's abort() and
_exit(), which the loader takes as imports (harness/kernel.py RUNTIME_EXPORTS).

Each is run twice, as a user meets it:

- by ``cmhook run``: the exit status (3 for a crash or an early end, 4 for a hang), the report on
  stderr naming the bug check, the driver, the C function and what was running (the notification
  class, DriverEntry, DriverUnload), and on stdout the DbgPrint lines and trace records from
  before the stop, then the summary;
- under pytest, by the plugin's per-test isolation: in a file where the misbehaving test sits
  between two healthy ones, only it fails, its failure is the report, and the junit file has the
  three testcases and the one failure. One pytest run takes every file (and a second, with
  ``-n 2``, two of them): a pytest start costs more than the tests.

The pytest runs share this session's build cache (CMHOOK_CACHE): pytester gives them a HOME of
their own, which would rebuild the shim and every filter.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import cmhook

from harness import shim
from harness.cli import EXIT_CRASHED, EXIT_HUNG

MISBEHAVING = Path(__file__).parent / "misbehaving"
CACHE = shim.cache_directory()  # read now: inside a pytester test, HOME is pytester's
HANG_SECONDS = "1"
KEY = r"\REGISTRY\MACHINE\SOFTWARE\Misbehaving"
SCRIPT = f'create "{KEY}" as k\nset k "Trigger"=dword:00000001\nclose k\n'


@dataclass(frozen=True)
class Misbehaviour:
    """One filter and what its stop looks like."""

    name: str  # the C file's stem (the driver's name), and [variant] if built another way
    status: int  # cmhook run's exit status
    stop: str  # Report.headline() without " in DRIVER": the bug check, "hang" or "machine ended early"
    function: str  # the C function the report names, as driver+offset function (file:line)
    doing: str = "RegNtPreSetValueKey"  # the routine, or the notification class, in flight
    dbgprint: str = "about to misbehave in RegNtPreSetValueKey"  # the driver's last DbgPrint line before
    flags: tuple[str, ...] = ()  # compiler flags
    script_ran: bool = True  # whether the script's operations were traced before the stop

    @property
    def driver(self) -> str:
        return self.name.split("[")[0]

    @property
    def source(self) -> Path:
        return MISBEHAVING / f"{self.driver}.c"

    @property
    def headline(self) -> str:
        """The summary's "the machine stopped:" line, and junit's failure message."""
        return f"{self.stop} in {self.driver}"

    @property
    def title(self) -> str:
        """The report's own words for what happened."""
        return {"hang": f"did not return within {HANG_SECONDS} s",
                "machine ended early": "the machine exited with status 0 before it finished"}.get(self.stop, self.stop)


SERVICE = "bugcheck 0x3B SYSTEM_SERVICE_EXCEPTION"  # a fault in a callback of a user-mode call
THREAD = "bugcheck 0x7E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"  # a fault in DriverEntry or DriverUnload
ABORT = "bugcheck 0x1E KMODE_EXCEPTION_NOT_HANDLED"
ENDED = "machine ended early"

CASES = [
    Misbehaviour("null_deref", EXIT_CRASHED, SERVICE, "ReadThroughNull"),
    Misbehaviour("far_write", EXIT_CRASHED, "bugcheck 0x50 PAGE_FAULT_IN_NONPAGED_AREA", "FillPastTheEnd"),
    Misbehaviour("trap", EXIT_CRASHED, SERVICE, "Trap"),
    Misbehaviour("divide_by_zero", EXIT_CRASHED, SERVICE, "Divide"),
    Misbehaviour("stack_overflow", EXIT_CRASHED, "bugcheck 0x7F UNEXPECTED_KERNEL_MODE_TRAP", "Recurse"),
    Misbehaviour("stack_smash", EXIT_CRASHED, "bugcheck 0xF7 DRIVER_OVERRAN_STACK_BUFFER", "Overrun",
                 flags=("-fstack-protector-all",)),
    Misbehaviour("aborts", EXIT_CRASHED, ABORT, "GiveUp"),
    Misbehaviour("aborts[libc]", EXIT_CRASHED, ABORT, "GiveUp", flags=("-DCALL_LIBC_ABORT",)),
    Misbehaviour("infinite_loop", EXIT_HUNG, "hang", "Spin"),
    Misbehaviour("recursive_mutex", EXIT_HUNG, "hang", "LockTwice"),
    Misbehaviour("entry_crash", EXIT_CRASHED, THREAD, "ReadSettings", doing="DriverEntry",
                 dbgprint="reading the settings", script_ran=False),
    Misbehaviour("unload_crash", EXIT_CRASHED, THREAD, "ForgetSettings", doing="DriverUnload",
                 dbgprint="forgetting the settings"),
    # An early end leaves no stack: the function its report names is the routine the driver was in.
    Misbehaviour("exit_group", EXIT_CRASHED, ENDED, "Callback"),
    Misbehaviour("exit_group[libc]", EXIT_CRASHED, ENDED, "Callback", flags=("-DCALL_LIBC_EXIT",)),
]


def _params(cases: list[Misbehaviour]) -> list:
    return [pytest.param(case, id=case.name) for case in cases]


def _placed(case: Misbehaviour) -> str:
    """The report's spelling of a place in the driver: driver+0x... function (file:line)."""
    return rf"{re.escape(case.driver)}\+0x[0-9a-f]+ {re.escape(case.function)} \([^()\s]*\.[ch]:\d+\)"


def _report_problems(case: Misbehaviour, text: str) -> list[str]:
    """What a report (cmhook run's stderr, or a pytest failure) lacks of what it must say."""
    problems = []
    if case.title not in text:
        problems.append(f"no {case.title!r}")
    if f"driver {case.driver}" not in text:
        problems.append(f"does not name driver {case.driver}")
    if not re.search(_placed(case), text):
        problems.append(f"does not place the stop in {case.function} as {_placed(case)}")
    doing = re.search(r"^  doing: +(.*)$", text, re.MULTILINE)
    if doing is None or case.doing not in doing.group(1):
        problems.append(f"its doing: line does not say {case.doing}")
    if case.script_ran and "NtCreateKey" not in text.split("last trace records", 1)[-1]:
        problems.append("no NtCreateKey among the last trace records")
    return problems


# --- cmhook run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("misbehaving") / "trigger.script"
    path.write_text(SCRIPT)
    return path


@pytest.mark.parametrize("case", _params(CASES))
def test_cmhook_run_reports_the_stop_and_keeps_what_came_before(case: Misbehaviour, script: Path) -> None:
    hang = ["--hang-timeout", HANG_SECONDS] if case.status == EXIT_HUNG else []
    done = cmhook("run", case.source, "--script", script, *hang, *case.flags, module="cmhook", timeout=120)
    assert done.returncode == case.status, done.stdout + done.stderr
    assert _report_problems(case, done.stderr) == [], done.stderr
    out = done.stdout
    assert f"[{case.driver}] {case.dbgprint}" in out, out  # the DbgPrint lines, as they came
    if case.script_ran:
        assert f"trigger.script:1: NtCreateKey {KEY} -> STATUS_SUCCESS" in out, out
    stopped = out.index(f"the machine stopped: {case.headline}")
    assert out.index("\nsummary\n") < stopped and "verifier findings:   not checked" in out, out


# --- under pytest ----------------------------------------------------------------------------

USER_TEST = '''
from pathlib import Path

from ntddk_py import REG_DWORD
from registry_core import caller

KEY = r"{key}"


def test_healthy_before(kernel):
    kernel.registry.put(KEY, "Before", REG_DWORD, 1)


def test_{test}(kernel, build_filter):
    driver = kernel.load_driver(build_filter(Path(r"{source}"), extra={flags!r}))
    with caller.as_process(4242, r"\\Device\\HarddiskVolume1\\misbehave.exe"):
        kernel.registry.put(KEY, "Trigger", REG_DWORD, 1)
    kernel.unload_driver(driver)


def test_healthy_after(kernel):
    assert not kernel.registry.exists(KEY)  # nothing of the machines before outlived them
'''


def _test_name(case: Misbehaviour) -> str:
    return re.sub(r"\W", "_", case.name).strip("_")


def _run_users_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, cases: list[Misbehaviour],
                     *args: str) -> tuple[pytest.RunResult, dict[str, dict[str, str | None]]]:
    """A user's suite with one file per case, run by pytest: its result, and the junit file's testcases
    by file: {file: {test: failure message or None}}."""
    monkeypatch.setenv("CMHOOK_CACHE", str(CACHE))
    for case in cases:
        pytester.makepyfile(**{f"test_{_test_name(case)}": USER_TEST.format(
            key=KEY, test=_test_name(case), source=case.source, flags=list(case.flags))})
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "--cmhook-hang-timeout",
                                           HANG_SECONDS, f"--junitxml={junit}", *args, timeout=300)
    testcases: dict[str, dict[str, str | None]] = {}
    for testcase in ElementTree.parse(junit).getroot().iter("testcase"):
        failure = testcase.find("failure")
        testcases.setdefault(testcase.get("classname", ""), {})[testcase.get("name", "")] = (
            None if failure is None else failure.get("message"))
    return result, testcases


def _failure_text(output: str, test: str) -> str:
    """One failure's text in pytest's terminal output: from its ___ test ___ header to the next header."""
    found = re.search(rf"^_+ {re.escape(test)} _+$(.*?)(?=^_{{3,}} |^={{3,}} )", output, re.MULTILINE | re.DOTALL)
    return found.group(1) if found else ""


def _suite_problems(result: pytest.RunResult, testcases: dict[str, dict[str, str | None]],
                    cases: list[Misbehaviour]) -> list[str]:
    output = result.stdout.str()
    problems = []
    for case in cases:
        test = _test_name(case)
        expected = {"test_healthy_before": None, f"test_{test}": case.headline, "test_healthy_after": None}
        if testcases.get(f"test_{test}") != expected:
            problems.append(f"{case.name}: junit has {testcases.get(f'test_{test}')}, not {expected}")
        failure = _failure_text(output, f"test_{test}")
        problems += [f"{case.name}: the failure {problem}" for problem in _report_problems(case, failure)]
        for section in (f"[{case.driver}] {case.dbgprint}", "- cmhook DbgPrint output (call) -",
                        "- cmhook trace (call) -"):
            if section not in failure:
                problems.append(f"{case.name}: the failure has no {section!r}")
    return problems


def test_under_pytest_a_misbehaving_test_fails_alone_with_the_report(pytester: pytest.Pytester,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [case for case in CASES if not case.name.endswith("[libc]")]  # the same reports as their plain forms
    result, testcases = _run_users_suite(pytester, monkeypatch, cases)
    result.assert_outcomes(passed=2 * len(cases), failed=len(cases))
    assert _suite_problems(result, testcases, cases) == [], result.stdout.str()


def test_under_pytest_xdist_a_misbehaving_test_fails_alone_with_the_report(pytester: pytest.Pytester,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [case for case in CASES if case.name in ("null_deref", "infinite_loop")]
    result, testcases = _run_users_suite(pytester, monkeypatch, cases, "-n", "2")
    result.assert_outcomes(passed=4, failed=2)
    assert _suite_problems(result, testcases, cases) == [], result.stdout.str()
