"""`cmhook fuzz`: generated registries and operation sequences run against a filter until it
misbehaves, the failing scenario shrunk to a minimal registry script that `cmhook run` replays.

Three fuzz targets (tests/harness/fuzzing/) each hide one bug behind one input: a crash on a value
name one character past a 20-character buffer, a crash on any value deletion, a pool leak on one
information class. A filter with no bug runs its budget and exits 0."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import FILTERS, cmhook
from hypothesis import HealthCheck, given, settings

from harness import fuzz, script
from registry_core import regfile

TARGETS = Path(__file__).resolve().parent / "fuzzing"


def run_fuzz(tmp_path: Path, target: Path, *options: object):
    """cmhook fuzz TARGET with a fixed seed; (the process, the reproducer's script lines)."""
    done = cmhook("fuzz", target, "--seed", "1", "-o", tmp_path / "repro", *options, timeout=600)
    script_file = tmp_path / "repro.script"
    lines = script_file.read_text().splitlines() if script_file.exists() else []
    return done, lines


def replay(tmp_path: Path, target: Path):
    return cmhook("run", "--registry", tmp_path / "repro.reg", "--script", tmp_path / "repro.script", target)


def test_a_crash_past_a_name_boundary_shrinks_to_one_set_of_a_21_character_name(tmp_path):
    """The minimal reproducer is one operation, its name exactly one character too long; replayed with
    `cmhook run` it crashes the same way (exit 3, bugcheck 0x3B naming the driver and the notification)."""
    target = TARGETS / "long_name_crash.c"
    done, lines = run_fuzz(tmp_path, target, "--examples", "400", "--operations", "set,query,deletevalue")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "SYSTEM_SERVICE_EXCEPTION" in done.stderr and "RegNtPreSetValueKey" in done.stderr
    assert len(lines) == 1, lines
    name = re.fullmatch(r'set "[^"]+" "([^"]*)"=.*', lines[0])
    assert name is not None and len(name.group(1)) == 21, lines
    again = replay(tmp_path, target)
    assert again.returncode == 3
    assert "driver long_name_crash crashed" in again.stderr and "RegNtPreSetValueKey" in again.stderr


def test_a_crash_on_any_value_deletion_shrinks_to_one_deletevalue(tmp_path):
    target = TARGETS / "delete_value_crash.c"
    done, lines = run_fuzz(tmp_path, target, "--examples", "200")
    assert done.returncode == 3, done.stdout + done.stderr
    assert len(lines) == 1 and lines[0].startswith("deletevalue "), lines
    assert f"cmhook run --profile 2003 --registry {tmp_path / 'repro.reg'} --script {tmp_path / 'repro.script'}" \
           in done.stdout
    assert replay(tmp_path, target).returncode == 3


def test_a_leak_on_one_information_class_is_a_verifier_finding_with_that_class_in_the_reproducer(tmp_path):
    """The unload check's pool leak makes the run fail (exit 1); the reproducer's one query names the
    class the filter leaks on, and replaying it reports the leak again."""
    target = TARGETS / "full_info_leak.c"
    done, lines = run_fuzz(tmp_path, target, "--examples", "400", "--operations", "set,query")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "verifier: " in done.stderr and "Leak" in done.stderr
    assert len(lines) == 1 and lines[0].startswith("query ") and "class=KeyValueFullInformation" in lines[0], lines
    again = replay(tmp_path, target)
    assert again.returncode == 1 and "Leak" in again.stderr


def test_a_filter_without_the_bug_runs_its_budget_and_exits_zero(tmp_path):
    done, lines = run_fuzz(tmp_path, FILTERS / "pairing_monitor.c", "--examples", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cmhook fuzz: 30 scenarios, nothing found (seed 1)" in done.stdout
    assert lines == [] and not (tmp_path / "repro.reg").exists()


def test_an_unknown_operation_is_a_usage_error(tmp_path):
    done = cmhook("fuzz", FILTERS / "pairing_monitor.c", "--operations", "set,frobnicate")
    assert done.returncode == 2 and "unknown frobnicate" in done.stderr and "deletevalue" in done.stderr


def test_a_driver_that_does_not_build_is_an_error_before_any_scenario(tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("#include <ntddk.h>\nNTSTATUS DriverEntry(void) { return undefined_thing; }\n")
    done = cmhook("fuzz", broken, "--examples", "5", "-o", tmp_path / "repro")
    assert done.returncode == 1 and "undefined_thing" in done.stderr
    assert not (tmp_path / "repro.script").exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fuzz.scenarios())
def test_every_generated_scenario_is_a_script_and_a_reg_file_the_tools_read_back(scenario):
    """What the fuzzer writes is always valid input of `cmhook run`: the script parses, the .reg file
    parses to exactly the generated keys and values."""
    steps = script.parse(scenario.script_text(), "generated.script")
    assert len(steps) == len(scenario.lines)
    parsed = regfile.parse(scenario.reg_text().encode("utf-16"), "generated.reg")
    assert [(key.path, [(v.name, v.type, v.data) for v in key.values]) for key in parsed.keys] == [
        (regfile.native_path(path), [(name, type_, data) for name, type_, data in values])
        for path, values in scenario.keys]
