"""The command line's own options, as a user runs them (subprocesses): `--version` and
`python -m cmhook`, `cmhook run --export KEY -o FILE.reg` (the registry after the script and the
drivers' unload), errors on stderr, and the documented exit statuses."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from helpers import FILTERS, ROOT, cmhook

import harness
from harness import cli

MONITOR = FILTERS / "pairing_monitor.c"

# Writes a value in its DriverUnload: the export must see it.
UNLOAD_WRITES = r"""
#include <ntddk.h>

static VOID NTAPI Unload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING Path = RTL_CONSTANT_STRING(L"\\Registry\\Machine\\SOFTWARE\\Export Test\\Unloaded");
    UNICODE_STRING Name = RTL_CONSTANT_STRING(L"By");
    OBJECT_ATTRIBUTES Attributes;
    HANDLE Key;
    ULONG Data = 7;
    UNREFERENCED_PARAMETER(DriverObject);
    InitializeObjectAttributes(&Attributes, &Path, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (NT_SUCCESS(ZwCreateKey(&Key, KEY_ALL_ACCESS, &Attributes, 0, NULL, REG_OPTION_NON_VOLATILE, NULL))) {
        ZwSetValueKey(Key, &Name, 0, REG_DWORD, &Data, sizeof(Data));
        ZwClose(Key);
    }
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    return STATUS_SUCCESS;
}
"""

SCRIPT = ('create "HKLM\\SOFTWARE\\Export Test" as t\n'
          'create "t\\From Script" as s\n'
          'set s "Mode"=dword:00000002\n'
          'close s\nclose t\n')


def reg_text(path: Path) -> str:
    raw = path.read_bytes()
    assert raw.startswith(b"\xff\xfe")
    return raw[2:].decode("utf-16-le")


@pytest.fixture
def unload_writes(tmp_path) -> Path:
    source = tmp_path / "unload_writes.c"
    source.write_text(UNLOAD_WRITES)
    return source


# --- the version and python -m cmhook --------------------------------------------------------

@pytest.mark.parametrize("module", ["harness", "cmhook"])
def test_version_is_printed_by_both_entry_points(module):
    done = cmhook("--version", module=module)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cmhook {cli.version()}"


def test_the_version_comes_from_the_distribution_or_else_the_package(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    try:
        installed = metadata.version("cmhook")
    except metadata.PackageNotFoundError:
        installed = None
    if installed is not None:
        assert cli.version() == installed
    monkeypatch.setattr(metadata, "version", missing)
    monkeypatch.setattr(harness, "__version__", "9.8.7", raising=False)
    assert cli.version() == "9.8.7"
    monkeypatch.delattr(harness, "__version__")
    assert cli.version() == "unknown"


def test_python_m_cmhook_is_the_command_line(tmp_path):
    import cmhook as package

    assert package.__version__ == cli.version() and package.main is cli.main
    output = tmp_path / "run.reg"
    done = cmhook("export", "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", "-o", output,
                  module="cmhook")
    assert done.returncode == 0, done.stderr
    assert "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]" in reg_text(output)


# --- cmhook run --export ---------------------------------------------------------------------

def test_run_exports_the_registry_after_the_script_and_the_drivers_unload(tmp_path, unload_writes):
    scenario = tmp_path / "s.script"
    scenario.write_text(SCRIPT)
    output = tmp_path / "after.reg"
    done = cmhook("run", unload_writes, "--script", scenario, "--export", "HKLM\\SOFTWARE\\Export Test", "-o", output)
    assert done.returncode == 0, done.stderr
    assert reg_text(output).split("\r\n") == [
        "Windows Registry Editor Version 5.00", "",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Export Test]", "",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Export Test\\From Script]", '"Mode"=dword:00000002', "",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Export Test\\Unloaded]", '"By"=dword:00000007', "", ""]


def test_run_export_as_regedit4_with_the_long_option(tmp_path):
    scenario = tmp_path / "s.script"
    scenario.write_text('create "HKLM\\SOFTWARE\\Four Key" as k\nset k "s"="text"\nclose k\n')
    output = tmp_path / "four.reg"
    done = cmhook("run", MONITOR, "--script", scenario, "--export", "\\REGISTRY\\MACHINE\\SOFTWARE\\Four Key",
                  "--export-file", output, "--regedit4")
    assert done.returncode == 0, done.stderr
    assert output.read_bytes() == b'REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Four Key]\r\n"s"="text"\r\n\r\n'


def test_run_exports_even_when_an_expectation_fails(tmp_path):
    scenario = tmp_path / "s.script"
    scenario.write_text('create "HKLM\\SOFTWARE\\Half Done" as k\nset k "v"=dword:1\nexpect STATUS_NOT_FOUND\n'
                        'close k\n')
    output = tmp_path / "half.reg"
    done = cmhook("run", MONITOR, "--script", scenario, "--export", "HKLM\\SOFTWARE\\Half Done", "-o", output)
    assert done.returncode == 1
    assert "expect STATUS_NOT_FOUND: the status was STATUS_SUCCESS" in done.stderr
    assert '"v"=dword:00000001' in reg_text(output)


def test_run_export_of_a_key_that_does_not_exist_fails_on_stderr(tmp_path):
    output = tmp_path / "none.reg"
    done = cmhook("run", MONITOR, "--export", "HKLM\\SOFTWARE\\Nowhere", "-o", output)
    assert done.returncode == 1
    assert "cmhook run: --export: HKLM\\SOFTWARE\\Nowhere does not exist" in done.stderr
    assert "cmhook run" not in done.stdout and not output.exists()


def test_run_export_writes_nothing_when_nothing_ran(tmp_path):
    scenario = tmp_path / "bad.script"
    scenario.write_text("frobnicate\n")
    output = tmp_path / "never.reg"
    done = cmhook("run", MONITOR, "--script", scenario, "--export", "HKLM\\SOFTWARE", "-o", output)
    assert done.returncode == 1
    assert "unknown command 'frobnicate'" in done.stderr and f"{output} not written" in done.stderr
    assert not output.exists()


@pytest.mark.parametrize("args", [["-o", "x.reg"], ["--export", "HKLM\\SOFTWARE"]])
def test_export_and_its_file_go_together(args):
    done = cmhook("run", MONITOR, *args)
    assert done.returncode == cli.EXIT_USAGE == 2
    assert "--export KEY and -o FILE.reg go together" in done.stderr and done.stdout == ""


# --- errors and exit statuses --------------------------------------------------------------

def test_a_usage_error_exits_2_on_stderr():
    done = cmhook("run")
    assert done.returncode == 2 and "the following arguments are required: DRIVER" in done.stderr
    assert done.stdout == ""
    done = cmhook("export", "HKLM\\SOFTWARE", "--frobnicate")
    assert done.returncode == 2 and "unrecognized arguments: --frobnicate" in done.stderr


def test_exit_statuses_are_one_set():
    assert (cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_CRASHED, cli.EXIT_HUNG) == (0, 1, 2, 3, 4)


@pytest.mark.parametrize("command", [[], ["run"]])
def test_the_help_documents_the_exit_statuses(command):
    done = cmhook(*command, "--help")
    assert done.returncode == 0
    text = done.stdout
    assert "exit status:" in text
    for code, words in [(0, "everything held"), (1, "something failed"), (2, "usage error"),
                        (3, "a driver crashed the machine"), (4, "a driver hung")]:
        assert re.search(rf"^  {code}  {words}", text, re.M), (code, text)


def test_the_readme_documents_the_exit_statuses_and_the_new_options():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The command line"):readme.index("### Registry scripts")]
    for code in ("`0`", "`1`", "`2`", "`3`", "`4`", "--hang-timeout", "--in-process"):
        assert code in section
    assert "--export KEY -o FILE.reg" in section and "--version" in section and "python -m cmhook" in section
    scripts = readme[readme.index("### Registry scripts"):]
    assert "advance" in scripts and '"HKLM\\SOFTWARE\\My App"' in scripts and "NAME\\SUBPATH" in scripts


def test_an_unwritable_output_file_is_an_error_on_stderr_not_a_traceback(tmp_path):
    nowhere = tmp_path / "missing-folder" / "x.reg"
    done = cmhook("export", "HKLM\\SOFTWARE", "-o", nowhere)
    assert done.returncode == 1 and done.stderr == f"cmhook export: -o {nowhere}: No such file or directory\n"
    done = cmhook("run", MONITOR, "--export", "HKLM\\SOFTWARE", "-o", nowhere)
    assert done.returncode == 1 and f"cmhook run: -o {nowhere}: No such file or directory" in done.stderr
    assert "Traceback" not in done.stderr
