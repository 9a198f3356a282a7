"""The cmhook pytest plugin as a filter author's suite meets it, tested with pytester the way
pytest tests its own plugins: each test writes a user's test file, runs pytest on it in a
subprocess (the plugin comes from the entry point) and checks outcomes and output."""

from __future__ import annotations

import pytest
from helpers import DRIVERS, FILTERS

from harness import pytest_plugin, shim

CACHE = shim.cache_directory()  # read at import: inside a pytester test, HOME is pytester's

SERVICES = "\\\\REGISTRY\\\\MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services"

HEADER = f'''
from pathlib import Path

import pytest

from harness.kernel import Kernel
from ntddk_py import KEY_ALL_ACCESS, REG_DWORD, REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS
from registry_core import caller

RUN_BLOCKER = Path(r"{FILTERS / "run_blocker.c"}")
RUN = r"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"
SERVICES = "{SERVICES}"
'''

# Reads its Parameters key under RegistryPath, as real filters do.
PROTECT_C = r"""#include <ntddk.h>
static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING Parameters = RTL_CONSTANT_STRING(L"Parameters"), Mode = RTL_CONSTANT_STRING(L"Mode");
    HANDLE Service, Key;
    UCHAR Buffer[64];
    ULONG Length;
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)Buffer;
    DriverObject->DriverUnload = Unload;
    InitializeObjectAttributes(&Attributes, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Service, KEY_READ, &Attributes)))
        return STATUS_SUCCESS;
    InitializeObjectAttributes(&Attributes, &Parameters, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, Service, NULL);
    if (NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes))) {
        if (NT_SUCCESS(ZwQueryValueKey(Key, &Mode, KeyValuePartialInformation, Info, sizeof(Buffer), &Length)))
            DbgPrint("protect: mode %u\n", *(PULONG)Info->Data);
        ZwClose(Key);
    } else {
        DbgPrint("protect: no Parameters under %wZ\n", RegistryPath);
    }
    ZwClose(Service);
    return STATUS_SUCCESS;
}
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_load_driver_names_the_driver_after_the_source_not_the_cache_file(pytester):
    pytester.makefile(".c", protect=PROTECT_C)
    pytester.makepyfile(HEADER + '''
def test_the_filter_reads_its_own_parameters(kernel, build_filter):
    kernel.registry.put(SERVICES + "\\\\protect\\\\Parameters", "Mode", REG_DWORD, 7)
    driver = kernel.load_driver(build_filter("protect.c"))
    assert driver.name == "protect"
    assert kernel.debug_output == [("protect", "protect: mode 7\\n")]
    assert kernel.registry.exists(SERVICES + "\\\\protect")


def test_name_overrides_the_stem(kernel, build_filter):
    driver = kernel.load_driver(build_filter("protect.c", name="guard"))
    assert driver.name == "guard"
    assert kernel.debug_output == [("guard", "protect: no Parameters under " + SERVICES + "\\\\guard\\n")]
''')
    run(pytester).assert_outcomes(passed=2)


def test_build_filter_takes_several_sources_include_dirs_and_defines_from_the_test_folder(pytester):
    drv = pytester.path / "tests" / "drv"
    (drv / "inc").mkdir(parents=True)
    (drv / "main.c").write_text('#include <ntddk.h>\n#include "config.h"\n#include "shared.h"\n'
                                "static VOID Unload(PDRIVER_OBJECT d) { UNREFERENCED_PARAMETER(d); }\n"
                                "NTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r) {\n"
                                "    UNREFERENCED_PARAMETER(r); d->DriverUnload = Unload;\n"
                                '    DbgPrint("%s %d %d\\n", GREETING, Helper(), ANSWER);\n'
                                "    return STATUS_SUCCESS;\n}\n")
    (drv / "util.c").write_text('#include "shared.h"\nint Helper(void) { return 7; }\n')
    (drv / "config.h").write_text('#define GREETING "hello"\n')
    (drv / "inc" / "shared.h").write_text("int Helper(void);\n")
    (pytester.path / "tests" / "test_multi.py").write_text(HEADER + '''
def test_several_sources(kernel, build_filter):
    module = build_filter("drv/main.c", "drv/util.c", include_dirs=["drv/inc"], defines={"ANSWER": 42})
    assert module.name == "main.so"
    kernel.load_driver(module)
    assert kernel.debug_output == [("main", "hello 7 42\\n")]
''')
    run(pytester).assert_outcomes(passed=1)  # run from the root: the paths are the test file's folder's


def test_compiler_warnings_reach_the_warnings_summary(pytester):
    pytester.makepyfile(HEADER + '''
SOURCE = """#include <ntddk.h>
NTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r) {
    int unused_counter;
    UNREFERENCED_PARAMETER(d); UNREFERENCED_PARAMETER(r);
    return STATUS_SUCCESS;
}
"""

def test_builds_with_a_warning(build_filter):
    build_filter(SOURCE, name="noisy")
''')
    result = run(pytester)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*warnings summary*", "*CompilerWarning: gcc warned building noisy.c:*",
                                 "*unused_counter*"])
    run(pytester, "-W", "error::harness.build.CompilerWarning").assert_outcomes(failed=1)


def test_assertions_show_ntstatus_values_by_name(pytester):
    pytester.makepyfile('''
def test_status():
    assert -1073741790 == 0

def test_unsigned_spelling_and_an_unnamed_error():
    assert 0xC0000034 == 0xC0001234

def test_plain_numbers_stay_plain():
    assert 3 == 0
''')
    result = run(pytester)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines([
        "*assert STATUS_ACCESS_DENIED == STATUS_SUCCESS",
        "*left:  STATUS_ACCESS_DENIED (0xC0000022 = -1073741790, error)",
        "*right: STATUS_SUCCESS (0x00000000, success)",
    ])
    result.stdout.fnmatch_lines(["*assert STATUS_OBJECT_NAME_NOT_FOUND == 0xC0001234",
                                 "*right: 0xC0001234 = -1073737164 (error, not a status the header names)"])
    result.stdout.fnmatch_lines(["*assert 3 == 0"])
    assert "STATUS_SUCCESS (0x00000000" not in result.stdout.str().split("test_plain_numbers_stay_plain")[-1]


def test_a_failing_test_carries_the_dbgprint_output_and_the_trace(pytester):
    pytester.makepyfile(HEADER + '''
def test_fails_after_a_block(kernel, build_filter):
    kernel.load_driver(build_filter(RUN_BLOCKER))
    with caller.as_process(66, r"\\Device\\HarddiskVolume1\\Temp\\x.exe"):
        status, key = kernel.registry.open_key(RUN, KEY_ALL_ACCESS)
        status = kernel.registry.set_value(key, "x", REG_SZ, b"x\\0")
    assert status == STATUS_SUCCESS


def test_passes(kernel, build_filter):
    kernel.load_driver(build_filter(RUN_BLOCKER))


def test_fails_without_a_kernel():
    assert False
''')
    result = run(pytester, "-rA")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*assert STATUS_ACCESS_DENIED == STATUS_SUCCESS",
        "*- cmhook DbgPrint output (call) -*",
        "[[]run_blocker[]] run_blocker: loading from *\\Services\\run_blocker",
        "[[]run_blocker[]] run_blocker: blocked set of x under *CurrentVersion\\Run",
        "*- cmhook trace (call) -*",
        "NtSetValueKey*STATUS_ACCESS_DENIED*",
    ])
    out = result.stdout.str()
    assert out.count("cmhook DbgPrint output") == 1 and out.count("cmhook trace") == 1  # not for the others


def test_a_verifier_failure_at_teardown_carries_the_sections_too(pytester):
    pytester.makepyfile(HEADER + f'''
def test_leaves_a_callback_behind(kernel, build_filter):
    kernel.load_driver(build_filter(Path(r"{DRIVERS / "forgets_unregister.c"}")))
''')
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*VerifierFailure*", "*leaked-callback*", "*- cmhook DbgPrint output (teardown) -*",
                                 "*- cmhook trace (teardown) -*"])


def test_options_ini_and_markers_choose_the_profile_and_the_compiler(pytester):
    pytester.makepyfile(HEADER + '''
import subprocess

SOURCE = """#include <ntddk.h>
NTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r) { UNREFERENCED_PARAMETER(d); UNREFERENCED_PARAMETER(r);
    return STATUS_SUCCESS; }
"""

def compiler(module):
    comment = subprocess.run(["readelf", "-p", ".comment", str(module)], capture_output=True, text=True).stdout
    return "clang" if "clang" in comment else "gcc"

def test_session_settings(kernel, build_filter, request):
    expected = request.config.getoption("expected").split(",")
    assert [kernel.native.profile.name, compiler(build_filter(SOURCE))] == expected

@pytest.mark.cmhook(profile="xp", cc="clang")
def test_marker(kernel, build_filter):
    assert [kernel.native.profile.name, compiler(build_filter(SOURCE))] == ["xp", "clang"]

@pytest.mark.cmhook(cc="gcc")
def test_marker_sets_one_the_session_the_other(kernel, build_filter, request):
    expected = request.config.getoption("expected").split(",")
    assert [kernel.native.profile.name, compiler(build_filter(SOURCE))] == [expected[0], "gcc"]

@pytest.mark.cmhook(cc="clang")
def test_an_explicit_cc_wins(build_filter):
    assert compiler(build_filter(SOURCE, cc="gcc")) == "gcc"
''')
    pytester.makeconftest('''
def pytest_addoption(parser):
    parser.addoption("--expected")
''')
    run(pytester, "--strict-markers", "--expected", "2003,gcc").assert_outcomes(passed=4)
    result = run(pytester, "--cmhook-profile", "xp", "--cmhook-cc", "clang", "--expected", "xp,clang")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["cmhook: profile xp, cc clang"])
    pytester.makeini("[pytest]\ncmhook_profile = xp\n")
    run(pytester, "--expected", "xp,gcc").assert_outcomes(passed=4)


def test_the_verifier_options_come_from_marker_command_line_ini_in_that_order(pytester):
    pytester.makepyfile('''
import pytest

def test_from_the_session(kernel, request):
    assert str(kernel.verifier) == request.config.getoption("--expected")

@pytest.mark.cmhook(verifier="none")
def test_a_marker_wins(kernel):
    assert kernel.lib.CmhookVerifierOptions == 0 and str(kernel.verifier) == "none"
''')
    pytester.makeconftest('''
def pytest_addoption(parser):
    parser.addoption("--expected")
''')
    run(pytester, "--expected", "special-pool,irql,pool-tracking,handles,deadlocks").assert_outcomes(passed=2)
    run(pytester, "--cmhook-verifier", "irql,low-resources", "--expected", "irql,low-resources").assert_outcomes(
        passed=2)
    pytester.makeini("[pytest]\ncmhook_verifier = standard,-special-pool\n")
    run(pytester, "--expected", "irql,pool-tracking,handles,deadlocks").assert_outcomes(passed=2)


def test_a_bad_marker_or_setting_fails_with_the_reason(pytester):
    pytester.makepyfile('''
import pytest

@pytest.mark.cmhook(profil="xp")
def test_typo(kernel):
    pass

@pytest.mark.cmhook(profile="win95")
def test_unknown_profile(kernel):
    pass

@pytest.mark.cmhook(verifier="standard,irq")
def test_unknown_verifier_option(kernel):
    pass
''')
    result = run(pytester)
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*@pytest.mark.cmhook takes only profile=, cc= and verifier=, not profil*",
                                 "*cmhook profile 'win95': use one of 2003, xp, vista, win7, win8, win10*",
                                 "*cmhook verifier: verifier option 'irq' does not exist*"])
    assert "Traceback" not in result.stdout.str()


def test_the_marker_options_and_fixtures_are_documented(pytester):
    result = run(pytester, "--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.cmhook(profile='2003'|'xp'|'vista'|'win7'|'win8'|'win10', cc='gcc'|'clang', "
         "verifier='standard,...'): *"])
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["cmhook: registry filters against the emulated Windows kernel:",
                                 "*--cmhook-profile*", "*--cmhook-cc*", "*--cmhook-isolation*",
                                 "*--cmhook-hang-timeout*", "*--cmhook-verifier*"])
    result = run(pytester, "--fixtures")
    result.stdout.fnmatch_lines(["kernel -- *", "*A fresh emulated Windows kernel for this test*",
                                 "build_filter -- *", "*Build a filter module*",
                                 "trace -- *", "*notification trace*"])


ISOLATED = HEADER + '''
import os
import warnings

STATE = {"changed": False}
LOG = Path(__file__).with_name("fixture.log")


@pytest.fixture(scope="module")
def module_fixture():
    with LOG.open("a") as log:
        log.write(f"setup {os.getpid()}\\n")
    yield
    with LOG.open("a") as log:
        log.write(f"teardown {os.getpid()}\\n")


def test_1_changes_python_state(kernel, module_fixture):
    STATE["changed"] = True
    os.environ["CMHOOK_CHANGED"] = "1"
    warnings.warn(UserWarning("warned in a machine"))


def test_2_ends_its_machine(kernel):
    os._exit(0)  # what a driver's exit_group(0) does


def test_3_sees_nothing_of_that(kernel, module_fixture):
    assert not STATE["changed"] and "CMHOOK_CHANGED" not in os.environ


def test_4_without_the_kernel_runs_in_pytests_process(request):
    assert os.getpid() == request.config.session_pid


@pytest.mark.xfail(reason="known to end its machine")
def test_5_an_expected_end(kernel):
    os._exit(3)
'''


def test_a_test_that_uses_the_kernel_runs_in_a_machine_of_its_own(pytester, monkeypatch):
    """Python state and module fixtures stay in the machine; an ended machine fails its test alone."""
    monkeypatch.setenv("CMHOOK_CACHE", str(CACHE))
    pytester.makeconftest("import os\n\ndef pytest_configure(config):\n    config.session_pid = os.getpid()\n")
    pytester.makepyfile(test_isolated=ISOLATED)
    result = run(pytester, "-p", "no:randomly", "--junitxml=junit.xml")
    result.assert_outcomes(passed=3, failed=1, xfailed=1, warnings=1)
    result.stdout.fnmatch_lines(["*_ test_2_ends_its_machine _*", "cmhook: the machine exited with status 0 before it "
                                 "finished*", "*its machine stopped during the test itself",
                                 "*- cmhook DbgPrint output (call) -*", "(no DbgPrint output)"])
    result.stdout.fnmatch_lines(["*test_1_changes_python_state*", "*UserWarning: warned in a machine"])
    result.stdout.fnmatch_lines(["FAILED test_isolated.py::test_2_ends_its_machine - machine ended early"])
    junit = (pytester.path / "junit.xml").read_text()
    assert 'tests="5"' in junit and 'failures="1"' in junit and 'skipped="1"' in junit
    log = (pytester.path / "fixture.log").read_text().split()
    pids = log[1::2]
    assert log[0::2] == ["setup", "teardown"] * 2 and pids[0] == pids[1] != pids[2] == pids[3], log
    result = run(pytester, "-p", "no:randomly", "--cmhook-isolation=none", "-k", "1 or 3 or 4")
    result.assert_outcomes(passed=2, failed=1)  # in pytest's process: test_1's changes reach test_3
    result.stdout.fnmatch_lines(["FAILED test_isolated.py::test_3_sees_nothing_of_that*"])
    result = run(pytester, "--cmhook-hang-timeout", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cmhook hang timeout '0.0': a number of seconds more than 0*"])


def test_each_fixture_has_a_docstring():
    for fixture in (pytest_plugin.kernel, pytest_plugin.build_filter, pytest_plugin.trace):
        assert (fixture.__doc__ or "").strip(), fixture


def test_a_kernel_left_open_by_a_test_never_breaks_another(pytester):
    pytester.makepyfile(HEADER + '''
def test_1_leaves_one_open():
    Kernel()


def test_2_the_fixture_still_works(kernel, build_filter):
    kernel.load_driver(build_filter(RUN_BLOCKER))


def test_3_and_so_does_a_kernel_of_ones_own():
    with Kernel() as mine:
        assert mine.registry.exists(RUN)


@pytest.fixture
def careless():
    return Kernel()  # a fixture that never closes its Kernel


def test_4_a_careless_fixture(careless):
    pass


def test_5_after_the_careless_fixture(kernel):
    pass
''')
    result = run(pytester, "-p", "no:randomly")
    result.assert_outcomes(passed=5, warnings=2)
    result.stdout.fnmatch_lines([
        "*test_1_leaves_one_open*",
        "*KernelLeftOpenWarning: a Kernel made at *test_a_kernel_left_open_by_a_test_never_breaks_another.py:*"
        "(during *::test_1_leaves_one_open (call)) was left open: closed it at the teardown of "
        "*::test_1_leaves_one_open, so that later tests start with none",
    ])
    result.stdout.fnmatch_lines([
        "*test_5_after_the_careless_fixture*",
        "*KernelLeftOpenWarning: a Kernel made at *(during *::test_4_a_careless_fixture (setup)) was left open: "
        "closed it to start the Kernel made *",
    ])


def test_outside_pytest_a_second_kernel_is_refused_naming_the_first():
    from harness.kernel import Kernel, KernelLeftOpenWarning, active_kernel

    first = Kernel()
    try:
        with pytest.raises(RuntimeError, match=r"another Kernel is active in this process, made at .*test_plugin.py"):
            Kernel()
        with pytest.warns(KernelLeftOpenWarning, match="was left open: closed it to start the Kernel made"):
            second = Kernel(replace=True)
        assert first.closed and active_kernel() is second
        second.close()
        assert active_kernel() is None
    finally:
        first.close()
