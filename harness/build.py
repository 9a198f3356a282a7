"""Build filter modules: C against include/ntddk.h into a shared object the loader accepts.

The flags are the ones that make a filter behave as on Windows: position-independent shared
object, 16-bit wchar_t so L"..." literals are WCHAR strings, the header on the include path.
``build_filter`` builds a file or a source string once per content, compiler and flags, and
caches the result (tests call it freely).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from ntddk_py import header_model

from .shim import cache_directory

COMPILERS = ("gcc", "clang")
# -fno-optimize-sibling-calls keeps a kernel routine's return address inside the module that
# called it, which is how the harness tells which driver allocated pool or printed a line.
FILTER_FLAGS = ["-shared", "-fPIC", "-fshort-wchar", "-fno-strict-aliasing", "-fno-optimize-sibling-calls",
                "-O2", "-g", "-Wall"]


class BuildError(Exception):
    """The compiler refused the filter; the message holds its diagnostics."""


def compile_filter(source: Path, output: Path, cc: str = "gcc", extra: list[str] | None = None) -> Path:
    """Compile one filter source to output with the Windows-like flags."""
    if cc not in COMPILERS:
        raise BuildError(f"--cc must be one of {', '.join(COMPILERS)}, not {cc!r}")
    if not source.is_file():
        raise BuildError(f"{source}: no such file")
    argv = [cc, *FILTER_FLAGS, f"-I{header_model.HEADER.parent}", *(extra or []), "-o", str(output), str(source)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"{cc} is not installed (bash tools/bootstrap.sh installs gcc and clang)") from None
    if done.returncode:
        raise BuildError(f"{cc} could not build {source.name}:\n{done.stderr.strip()}")
    return output


def build_filter(source: str | Path, cc: str = "gcc", extra: list[str] | None = None, name: str | None = None) -> Path:
    """A built module for a C file or a C source string, cached by content, compiler and flags."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith(".c")):
        path = Path(source)
        if not path.is_file():
            raise BuildError(f"{path}: no such file")
        text, stem = path.read_text(), path.stem
    else:
        text, stem = source, "filter"
    key = hashlib.sha256("\0".join([text, cc, *(extra or []), *FILTER_FLAGS]).encode()
                         + header_model.HEADER.read_bytes()).hexdigest()[:16]
    directory = cache_directory() / "filters"
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{name or stem}-{cc}-{key}.so"
    if output.exists():
        return output
    source_path = directory / f"{name or stem}-{key}.c"
    source_path.write_text(text)
    partial = output.with_suffix(f".{os.getpid()}.tmp")
    compile_filter(source_path, partial, cc, extra)
    partial.replace(output)
    return output
