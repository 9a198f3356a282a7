"""`cmhook build` as a user runs it, and the pytest plugin as a filter author's test suite meets it."""

from __future__ import annotations

import pytest
from helpers import DRIVERS, FILTERS, cmhook


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_build_makes_a_module_the_loader_accepts(tmp_path, kernel, cc):
    output = tmp_path / f"blocker-{cc}.so"
    done = cmhook("build", str(FILTERS / "run_blocker.c"), "-o", str(output), "--cc", cc, "-Werror")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(output) and output.exists()
    kernel.load_driver(output, "blocker")
    assert len(kernel.native.callbacks.registrations()) == 1


def test_build_reports_compiler_errors(tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("#include <ntddk.h>\nNTSTATUS DriverEntry(void) { return Oops; }\n")
    done = cmhook("build", str(broken))
    assert done.returncode == 1
    assert "cmhook build: gcc could not build broken.c" in done.stderr and "Oops" in done.stderr


def test_build_refuses_an_unknown_compiler(tmp_path):
    done = cmhook("build", str(FILTERS / "run_blocker.c"), "--cc", "tcc")
    assert done.returncode == 2 and "invalid choice: 'tcc'" in done.stderr


PLUGIN_TEST = f'''
from ntddk_py import REG_SZ, STATUS_ACCESS_DENIED, KEY_ALL_ACCESS
from registry_core import caller

RUN = r"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"


def test_blocks(kernel, build_filter, trace):
    kernel.load_driver(build_filter(r"{FILTERS / 'run_blocker.c'}"))
    with caller.as_process(66, r"\\Device\\HarddiskVolume1\\Temp\\x.exe"):
        status, key = kernel.registry.open_key(RUN, KEY_ALL_ACCESS)
        assert kernel.registry.set_value(key, "x", REG_SZ, b"x\\0") == STATUS_ACCESS_DENIED
    trace.assert_blocked("NtSetValueKey", STATUS_ACCESS_DENIED)


def test_leaves_a_callback_behind(kernel, build_filter):
    kernel.load_driver(build_filter(r"{DRIVERS / 'forgets_unregister.c'}"))
'''


def test_the_plugin_fixtures_and_teardown_verification(pytester):
    """A user's suite gets kernel/build_filter/trace from the entry point; a driver that leaves a
    callback registered fails its test at teardown with the verifier's finding."""
    pytester.makepyfile(test_user=PLUGIN_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*VerifierFailure*", "*leaked-callback*forgets_unregister*"])
