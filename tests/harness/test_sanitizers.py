"""Filters built with --sanitize address,undefined and --coverage (harness/sanitizers.py,
harness/coverage.py): the loader takes their runtime imports, `cmhook run` starts the runtimes
the process needs, a report stops the machine naming the driver, the routine and the
notification, with the sanitizer's own text; coverage gives the filter's own lines hit per run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import cmhook

from harness import coverage, sanitizers
from harness.kernel import DriverError

HERE = Path(__file__).parent / "sanitized"
EXIT_CRASHED = 3

pytestmark = pytest.mark.parametrize("cc", ["gcc", "clang"])


def script(tmp_path: Path, *names: str) -> Path:
    lines = ["create HKLM\\SOFTWARE\\Sanitized"]
    lines += [f'set HKLM\\SOFTWARE\\Sanitized "{name}"="a value longer than eight bytes"' for name in names]
    path = tmp_path / "steps.script"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_heap_overflow_is_reported_naming_the_driver_and_the_notification(cc, tmp_path):
    """AddressSanitizer (gcc's libasan, clang's libclang_rt.asan) catches an 8-byte pool block
    overrun in a pre-set-value callback: the run ends as a crash (exit 3) whose report names the
    driver, the callback and RegNtPreSetValueKey, and carries ASan's own report."""
    done = cmhook("run", HERE / "heap_overflow.c", "--cc", cc, "--sanitize", "address",
                  "--script", script(tmp_path, "Long"))
    assert done.returncode == EXIT_CRASHED, done.stdout + done.stderr
    assert "driver heap_overflow crashed" in done.stderr
    assert re.search(r"doing: +registry callback heap_overflow\+0x[0-9a-f]+ Callback .*for RegNtPreSetValueKey "
                     r"\(NtSetValueKey\)", done.stderr), done.stderr
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in done.stderr
    assert "heap_overflow.c:12" in done.stderr  # ASan's stack, symbolized: the RtlCopyMemory line


def test_a_signed_overflow_is_reported(cc, tmp_path):
    """UndefinedBehaviorSanitizer's signed-overflow check, with recovery off: the report stops the
    machine in the callback, named as for a crash, with UBSan's runtime error line."""
    done = cmhook("run", HERE / "signed_overflow.c", "--cc", cc, "--sanitize", "undefined",
                  "--script", script(tmp_path, "Any"))
    assert done.returncode == EXIT_CRASHED, done.stdout + done.stderr
    assert "driver signed_overflow crashed" in done.stderr
    assert "for RegNtPreSetValueKey (NtSetValueKey)" in done.stderr
    assert re.search(r"signed_overflow\.c:11:\d+: runtime error: signed integer overflow", done.stderr), done.stderr


def test_a_clean_run_of_a_sanitized_filter_succeeds(cc, tmp_path):
    """The same ASan build with data that fits: no report, exit 0 (the runtime and its preload cost
    the run nothing else)."""
    path = tmp_path / "short.script"
    path.write_text('create HKLM\\SOFTWARE\\Sanitized\nset HKLM\\SOFTWARE\\Sanitized "S"="abc"\n')
    done = cmhook("run", HERE / "heap_overflow.c", "--cc", cc, "--sanitize", "address,undefined", "--script", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sanitizer" not in done.stderr


def lines_hit(output: str, source: str) -> tuple[int, int]:
    match = re.search(rf"{re.escape(source)}: (\d+) of (\d+) lines", output)
    assert match, output
    return int(match.group(1)), int(match.group(2))


def test_coverage_shows_the_lines_each_run_hit(cc, tmp_path):
    """`cmhook run --coverage` prints the filter's own line coverage for that run (gcov for gcc,
    llvm-cov gcov for clang), not the header's: a script that never sets "Deny" leaves the denying
    branch out; one that sets it too hits more lines; the counts of one run are not in the next's."""
    first = cmhook("run", HERE / "counted.c", "--cc", cc, "--coverage", "--script", script(tmp_path, "Allow"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "coverage of counted:" in first.stdout and "ntddk.h" not in first.stdout
    hit, total = lines_hit(first.stdout, "counted.c")
    assert 0 < hit < total
    again = cmhook("run", HERE / "counted.c", "--cc", cc, "--coverage", "--script", script(tmp_path, "Allow"))
    assert lines_hit(again.stdout, "counted.c") == (hit, total)  # per run: nothing carried over
    both = cmhook("run", HERE / "counted.c", "--cc", cc, "--coverage", "--script", script(tmp_path, "Allow", "Deny"))
    assert "counted: denied" in both.stdout
    more, same_total = lines_hit(both.stdout, "counted.c")
    assert same_total == total and more > hit  # the denying branch's lines too


def test_the_loader_takes_the_runtimes_imports(kernel, build_filter, cc):
    """A module of each kind imports its runtime's symbols (__asan_*, __ubsan_*; coverage's C
    library calls): none is a missing import. The ASan build cannot be loaded in a process without
    its runtime first (pytest's own), and says how to start one that can."""
    for options in ({"sanitize": "address"}, {"sanitize": "undefined"}, {"coverage": True}):
        module = build_filter(HERE / "counted.c", cc=cc, **options)
        assert kernel.missing_imports(module) == [], options
    module = build_filter(HERE / "counted.c", cc=cc, sanitize="address")
    if not sanitizers.asan_loaded():
        with pytest.raises(DriverError, match="LD_PRELOAD="):
            kernel.load_driver(module)


def test_a_coverage_build_still_refuses_the_filters_own_libc_call(kernel, build_filter, cc):
    """Coverage's runtime may call the C library; the filter's own code still may not: a call to
    puts (no kernel routine) is refused at load, named."""
    source = ('#include <ntddk.h>\nint puts(const char *);\n'
              'NTSTATUS DriverEntry(PDRIVER_OBJECT D, PUNICODE_STRING R)\n'
              '{ UNREFERENCED_PARAMETER(D); UNREFERENCED_PARAMETER(R); puts("x"); return STATUS_SUCCESS; }\n')
    module = build_filter(source, cc=cc, name="own_puts", coverage=True)
    assert kernel.missing_imports(module) == ["puts"]


def test_a_coverage_build_keeps_its_notes_beside_the_module(kernel, build_filter, cc):
    """The objects and their notes live in <module>.coverage/, where a run's counts go; a module
    loaded and unloaded in a test writes them, and the summary reads them."""
    module = build_filter(HERE / "counted.c", cc=cc, name="counted_here", coverage=True)
    coverage.reset(module)
    assert list(coverage.folder_of(module).glob("*.gcno"))
    kernel.unload_driver(kernel.load_driver(module))
    (own,) = coverage.summary(module)
    assert own.source.endswith("counted.c") and 0 < own.executed < own.lines


def test_the_demo_prints_the_shipped_filters_coverage(cc):
    """`cmhook demo --coverage`: the shipped example filter's own line coverage for the demo scenario."""
    done = cmhook("demo", "--cc", cc, "--coverage")
    assert done.returncode == 0, done.stdout + done.stderr
    hit, total = lines_hit(done.stdout, "run_blocker.c")
    assert 0 < hit < total
