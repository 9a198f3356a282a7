"""The suite's one way to compile C, with harness.build's flags: a flag changes in harness/build.py alone.

Filters and fixture drivers are built by harness.build itself (``harness.build.build``, or the
plugin's ``build_filter``), so what the suite loads is built exactly as a user's filter is;
``build_module`` is that build with the suite's STRICT warnings. What harness.build does not
make is compiled by ``compile_c`` from the same lists: a module built without -fshort-wchar (the
header must compile either way), an object file, an executable probe. Its flags are
harness.build.FILTER_FLAGS for a shared object, harness.build.COMPILE_FLAGS otherwise, then STRICT
and the header's folder.

The mingw-w64 probes in tests/ntddk_py/abi/probes.py keep their own command lines: they compile
mingw's DDK headers (never ours) with another compiler, for Windows, into assembly that is read
and never run, so the Linux flags of a filter mean nothing there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from harness import build

# The suite's own C (fixtures, probes, the recorder filter) compiles warning-free.
STRICT = ("-Wextra", "-Werror")
SHORT_WCHAR = "-fshort-wchar"


def flags(*, shared: bool = True, short_wchar: bool = True) -> list[str]:
    """harness.build's flags for a shared object (else for any other output), with or without
    -fshort-wchar, then STRICT and harness.build's -I for the header set (include/, include/variants/)."""
    chosen = build.FILTER_FLAGS if shared else build.COMPILE_FLAGS
    return [flag for flag in chosen if short_wchar or flag != SHORT_WCHAR] + [*STRICT, *build.HEADER_INCLUDES]


def compile_c(cc: str, sources: Iterable[Path | str], output: Path, *extra: str, shared: bool = True,
              short_wchar: bool = True) -> subprocess.CompletedProcess[str]:
    """Run cc on the sources with ``flags(...)`` and extra (``-c``, ``-S``, ``-fshort-wchar`` ...) into output."""
    argv = [cc, *flags(shared=shared, short_wchar=short_wchar), *extra, "-o", str(output), *map(str, sources)]
    return subprocess.run(argv, capture_output=True, text=True)


def build_module(source: Path, cc: str = "gcc") -> Path:
    """A filter module built by harness.build (its flags, its cache) with STRICT: a warning fails the build."""
    return build.build(source, cc=cc, extra=list(STRICT)).module
