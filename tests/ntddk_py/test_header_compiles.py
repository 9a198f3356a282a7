"""include/ntddk.h builds a filter-shaped source warning-free with gcc and clang,
with and without -fshort-wchar, and with no Linux-specific #ifdef in the filter.

Compiled with harness.build's flags (tests/compiling.py) plus -Wextra -Werror; the default-wchar
case drops the one flag it is about."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..compiling import compile_c

SMOKE = Path(__file__).resolve().parents[1] / "fixtures" / "header_smoke.c"


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("flags", [[], ["-fshort-wchar"]], ids=["default-wchar", "short-wchar"])
def test_filter_source_builds_with_all_warnings_as_errors(cc, flags, tmp_path):
    out = tmp_path / "smoke.so"
    done = compile_c(cc, [SMOKE], out, *flags, short_wchar=False)
    assert done.returncode == 0, done.stderr
    undefined = subprocess.run(["nm", "-u", "--format=just-symbols", str(out)], capture_output=True,
                               text=True, check=True).stdout.split()
    # The kernel routines stay imports, for the loader to resolve against the shim.
    assert {"CmRegisterCallback", "CmUnRegisterCallback", "ZwCreateKey", "ExAllocatePoolWithTag"} <= set(undefined)
    # Memory macros and interlocked helpers are inline: no import of them.
    assert not {"RtlZeroMemory", "InterlockedIncrement"} & set(undefined)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_header_alone_is_self_contained(cc, tmp_path):
    source = tmp_path / "only.c"
    source.write_text("#include <ntddk.h>\n")
    done = compile_c(cc, [source], tmp_path / "only.o", "-c", shared=False, short_wchar=False)
    assert done.returncode == 0, done.stderr
