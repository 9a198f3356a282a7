"""include/ntddk.h builds a filter-shaped source warning-free with gcc and clang,
with and without -fshort-wchar, and with no Linux-specific #ifdef in the filter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ntddk_py import header_model

SMOKE = Path(__file__).parent / "fixtures" / "header_smoke.c"


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("flags", [[], ["-fshort-wchar"]], ids=["default-wchar", "short-wchar"])
def test_filter_source_builds_with_all_warnings_as_errors(cc, flags, tmp_path):
    out = tmp_path / "smoke.so"
    done = subprocess.run([cc, "-Wall", "-Wextra", "-Werror", *flags, "-shared", "-fPIC",
                           f"-I{header_model.HEADER.parent}", "-o", str(out), str(SMOKE)],
                          capture_output=True, text=True)
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
    done = subprocess.run([cc, "-Wall", "-Wextra", "-Werror", "-c", f"-I{header_model.HEADER.parent}",
                           "-o", str(tmp_path / "only.o"), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
