"""`cmhook run`, `demo` and `export` as a user runs them: subprocesses on the shipped scenarios
with gcc-built filters; exit status, output, stderr reasons, the JSON-lines trace; scripts refused
with file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import DRIVERS, FILTERS, SCENARIOS, cmhook

from harness import script

BLOCKER = FILTERS / "run_blocker.c"
SCENARIO = SCENARIOS / "persistence.script"


def test_demo_blocks_the_persistence_attempt_and_exits_zero():
    done = cmhook("demo")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "run_blocker: blocked set of Updater under \\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\" \
           "CurrentVersion\\Run" in out
    assert "persistence.script:6: NtSetValueKey \\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion" \
           "\\Run -> STATUS_ACCESS_DENIED" in out
    assert "  RegNtPreSetValueKey [run_blocker+0x" in out
    assert "  blocked operations:  1" in out and "  verifier findings:   0" in out


def test_a_failed_expectation_fails_the_run_with_the_reason(tmp_path):
    scenario = tmp_path / "wrong.script"
    scenario.write_text("as 7 \\Device\\HarddiskVolume1\\Temp\\x.exe\n"
                        "open HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run as run\n"
                        "set run \"X\"=\"y\"\nexpect STATUS_SUCCESS\n")
    done = cmhook("run", BLOCKER, "--script", scenario)
    assert done.returncode == 1
    assert f"expectation failed: {scenario}:4: expect STATUS_SUCCESS: the status was STATUS_ACCESS_DENIED" \
           in done.stderr


def test_the_trace_goes_to_a_json_lines_file(tmp_path):
    trace = tmp_path / "trace.jsonl"
    done = cmhook("run", BLOCKER, "--script", SCENARIO, "--trace", trace)
    assert done.returncode == 0, done.stderr
    assert "NtSetValueKey" not in done.stdout  # not on the screen
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    blocked = [r for r in records if r["status"] == "STATUS_ACCESS_DENIED"]
    assert len(blocked) == 1 and blocked[0]["api"] == "NtSetValueKey" and blocked[0]["line"] == 6
    assert blocked[0]["notifications"][0]["class"] == "RegNtPreSetValueKey"
    assert blocked[0]["notifications"][0]["results"][0]["status"] == "STATUS_ACCESS_DENIED"
    assert blocked[0]["process"] == 4242


def test_registry_files_are_the_initial_state(tmp_path):
    initial = tmp_path / "initial.reg"
    initial.write_text("Windows Registry Editor Version 5.00\n\n[HKLM\\SOFTWARE\\Vendor]\n\"Mode\"=dword:2\n")
    scenario = tmp_path / "check.script"
    scenario.write_text("expect value HKLM\\SOFTWARE\\Vendor \"Mode\"=dword:00000002\nquery HKLM\\SOFTWARE\\Vendor "
                        "\"Mode\"\nexpect STATUS_SUCCESS\n")
    done = cmhook("run", BLOCKER, "--registry", initial, "--script", scenario)
    assert done.returncode == 0, done.stderr
    assert '"Mode"=dword:00000002' in done.stdout


def test_a_leaking_driver_fails_the_run_with_the_verifier_finding():
    done = cmhook("run", DRIVERS / "leaks_pool.c")
    assert done.returncode == 1
    assert "verifier: [leaked-pool] leaks_pool" in done.stderr and "tagged 'Leak'" in done.stderr


def test_a_module_with_unresolvable_imports_fails_the_run():
    done = cmhook("run", DRIVERS / "bad_import.c")
    assert done.returncode == 1 and "does not export: IoAttachDevice, KeBugCheckEx" in done.stderr


def test_a_script_with_an_error_runs_nothing(tmp_path):
    scenario = tmp_path / "broken.script"
    scenario.write_text("open HKLM\\SOFTWARE as sw\nfrobnicate sw\n")
    done = cmhook("run", BLOCKER, "--script", scenario)
    assert done.returncode == 1
    assert f"{scenario}:2: unknown command 'frobnicate'" in done.stderr
    assert "loading from" not in done.stdout  # no driver was loaded


def test_export_writes_a_file_regedit_imports(tmp_path):
    output = tmp_path / "run.reg"
    done = cmhook("export", "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "-o", output)
    assert done.returncode == 0, done.stderr
    text = output.read_bytes()[2:].decode("utf-16-le")
    assert "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]" in text
    assert '"CurrentVersion"="5.2"' in text
    assert cmhook("export", "HKLM\\NOPE").returncode == 1


SCRIPT_ERRORS = [
    ("unknown command", "jump HKLM\\SOFTWARE\n", 1, "unknown command 'jump'"),
    ("unbound name", "set sw \"a\"=dword:1\n", 1, "'sw' is not bound"),
    ("bad access", "open HKLM\\SOFTWARE access=KEY_EVERYTHING as sw\n", 1, "unknown access right"),
    ("bad data", "open HKLM\\SOFTWARE as sw\nset sw \"a\"=dword:xyz\n", 2, "dword: takes"),
    ("unknown status", "open HKLM\\SOFTWARE as sw\nexpect STATUS_MAYBE\n", 2, "unknown status STATUS_MAYBE"),
    ("bad root", "open HKEY_SOMEWHERE\\X as x\n", 1, "unknown root"),
    ("as without image", "as 12\n", 1, "as PID IMAGE"),
    ("import missing file", "import nowhere.reg\n", 1, "nowhere.reg"),
]


@pytest.mark.parametrize("text,line,reason", [e[1:] for e in SCRIPT_ERRORS], ids=[e[0] for e in SCRIPT_ERRORS])
def test_script_errors_name_file_and_line(tmp_path, text, line, reason):
    path = tmp_path / "s.script"
    path.write_text(text)
    with pytest.raises(script.ScriptError) as caught:
        script.load(path)
    assert f"s.script:{line}: " in str(caught.value)
    assert reason in str(caught.value)


def test_every_script_command_runs(kernel, tmp_path):
    (tmp_path / "add.reg").write_text("REGEDIT4\n\n[HKLM\\SOFTWARE\\T\\FromReg]\n\"r\"=\"1\"\n")
    path = tmp_path / "all.script"
    path.write_text("""
create HKLM\\SOFTWARE\\T access=KEY_ALL_ACCESS class="Cls" as t
create HKLM\\SOFTWARE\\T\\Vol volatile
expect STATUS_SUCCESS
set t "s"="text"
set t @=dword:5
query t "s"
query t @
enumvalues t
import add.reg
enumkeys t
rename HKLM\\SOFTWARE\\T\\Vol Renamed
expect key HKLM\\SOFTWARE\\T\\Renamed
deletevalue t "s"
expect novalue t "s"
deletekey HKLM\\SOFTWARE\\T\\Renamed
expect nokey HKLM\\SOFTWARE\\T\\Renamed
flush t
query t "gone"
expect STATUS_OBJECT_NAME_NOT_FOUND
as 99 \\Device\\HarddiskVolume1\\x.exe
open HKLM\\SOFTWARE\\T access=KEY_READ as ro
set ro "x"="y"
expect STATUS_ACCESS_DENIED
close ro
close t
""")
    runner = script.Runner(kernel.registry, str(path))
    outcome = runner.run(script.load(path))
    assert outcome.failed == []
    assert outcome.output[:4] == ['"s"="text"', "@=dword:00000005", '"s"="text"', "@=dword:00000005"]
    assert outcome.output[4:] == ["[FromReg]", "[Vol]"]


def _long_script(tmp_path, count: int) -> Path:
    path = tmp_path / "long.script"
    path.write_text("create HKLM\\SOFTWARE\\Long as k\n" + "".join(
        f'set k "v{i % 10}"=dword:{i:08x}\n' for i in range(count)) + "close k\n")
    return path


def test_a_long_run_is_quiet_in_a_pipe(tmp_path):
    done = cmhook("run", DRIVERS / "no_unload.c", "--script", _long_script(tmp_path, 2100), "--trace",
                  tmp_path / "t.jsonl")
    # no_unload cannot be unloaded: the run fails, but nothing about progress reaches a pipe.
    assert "operations" not in done.stderr
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 2102


def test_a_long_run_shows_progress_on_a_terminal(tmp_path):
    import os
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "harness", "run", str(BLOCKER), "--script",
                               str(_long_script(tmp_path, 2100)), "--trace", str(tmp_path / "t.jsonl")],
                              stdout=subprocess.PIPE, stderr=follower, timeout=300)
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert done.returncode == 0
    assert b"2,000/2,102 operations" in shown


def test_a_crashing_filter_is_named_before_the_process_dies(tmp_path):
    """On Windows a NULL dereference in a callback is a bugcheck; here the machine dies and the run
    reports the bug check naming the driver and the offset (the shim itself prints nothing: its
    machine record tells the watching parent), and the failure is visible in the exit status."""
    scenario = tmp_path / "crash.script"
    scenario.write_text('create HKLM\\SOFTWARE\\Crash as c\nset c "v"=dword:1\n')
    done = cmhook("run", DRIVERS / "crashes.c", "--script", scenario)
    assert done.returncode != 0
    assert "cmhook: bugcheck 0x3B SYSTEM_SERVICE_EXCEPTION: driver crashes crashed" in done.stderr
    assert "STATUS_ACCESS_VIOLATION reading 0x0000000000000000" in done.stderr
    assert "where:         crashes+0x" in done.stderr
    assert "cmhook: access violation (a bugcheck on Windows)" not in done.stderr


def test_the_xp_profile_sends_only_pre_notifications_but_for_create_and_open(tmp_path):
    scenario = tmp_path / "xp.script"
    scenario.write_text('create HKLM\\SOFTWARE\\Xp as k\nset k "v"=dword:1\nclose k\n')
    trace = tmp_path / "t.jsonl"
    done = cmhook("run", EXAMPLES_MONITOR, "--profile", "xp", "--script", scenario, "--trace", trace)
    assert done.returncode == 0, done.stderr
    classes = [[n["class"] for n in json.loads(line)["notifications"]] for line in trace.read_text().splitlines()]
    assert classes == [["RegNtPreCreateKey", "RegNtPostCreateKey"], ["RegNtPreSetValueKey"],
                       ["RegNtPreKeyHandleClose"]]


EXAMPLES_MONITOR = FILTERS / "pairing_monitor.c"
