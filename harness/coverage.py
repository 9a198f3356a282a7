"""A filter's own line coverage, through gcov (gcc) or llvm-cov gcov (clang).

A coverage build (``--coverage``, gcov's format from both compilers) keeps its object files and
their ``.gcno`` notes in a folder beside the module, ``<module>.coverage/``; running the module
writes ``.gcda`` counts there. The counts are written when the kernel unloads the driver
(``dump``): the machine ends with ``os._exit``, which runs no exit handler, so the runtime's own
write at exit would never happen. Each build links ``DUMP_SOURCE``, not instrumented, which
exports ``CmhookCoverageDump``: the runtime's ``__gcov_dump`` then ``__gcov_reset`` (so an exit
handler that does run later, in a process that ends normally, adds nothing twice).

``summary`` reads the counts as gcov reports them, one line per source of the filter's own
(the header set's inline routines and system headers are left out): lines executed of lines that
can be. ``reset`` removes the counts, so that a run's summary is that run's.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ntddk_py import header_model

DUMP_SYMBOL = "CmhookCoverageDump"
COMPILER_FILE = "compiler"  # in the folder: which compiler built it, so which gcov reads it
CWD_FILE = "cwd"  # and where it ran, which relative source names in the notes are relative to
DUMP_SOURCE = f"""/* cmhook: writes this module's coverage counts (harness/coverage.py). Not instrumented. */
extern void __gcov_dump(void);
extern void __gcov_reset(void);
__attribute__((visibility("default"))) void {DUMP_SYMBOL}(void) {{ __gcov_dump(); __gcov_reset(); }}
"""
_FILE = re.compile(r"^File '(.+)'$")
_LINES = re.compile(r"^Lines executed:\s*([\d.]+)% of (\d+)$")


@dataclass(frozen=True)
class FileCoverage:
    """One source's lines executed of the lines that can be."""

    source: str
    executed: int
    lines: int

    @property
    def percent(self) -> float:
        return 100.0 * self.executed / self.lines if self.lines else 100.0

    def __str__(self) -> str:
        return f"{self.source}: {self.executed} of {self.lines} lines ({self.percent:.1f}%)"


def folder_of(module: Path) -> Path:
    """Where a coverage build keeps its objects, notes and counts."""
    return module.with_name(f"{module.stem}.coverage")


def dump(module_path: Path) -> bool:
    """Write the counts of the loaded module at this path; False when it is no coverage build."""
    try:
        library = ctypes.CDLL(str(module_path))  # the loaded module itself: dlopen of a loaded path
        routine = getattr(library, DUMP_SYMBOL)
    except (OSError, AttributeError):
        return False
    routine()
    return True


def reset(module: Path) -> None:
    """Forget the counts of earlier runs of the module."""
    for counts in folder_of(module).glob("*.gcda"):
        counts.unlink(missing_ok=True)


def _tool(cc: str) -> list[str]:
    if cc == "clang":
        tool = shutil.which("llvm-cov")
        if tool is None:
            raise FileNotFoundError("llvm-cov is not installed (Debian: apt-get install llvm)")
        return [tool, "gcov"]
    tool = shutil.which("gcov")
    if tool is None:
        raise FileNotFoundError("gcov is not installed (it comes with gcc)")
    return [tool]


def compiler_of(folder: Path) -> str:
    """Which compiler wrote the notes, as the build recorded it (their formats differ by version)."""
    try:
        return (folder / COMPILER_FILE).read_text().strip() or "gcc"
    except OSError:
        return "gcc"


def _own(path: Path) -> bool:
    """A source of the filter's own: not the header set, not a system header."""
    include = header_model.HEADER.parent.resolve()
    return not (str(path).startswith("/usr/") or include in path.resolve().parents)


def _shown(path: Path) -> str:
    """A source as the summary names it: from the current directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def summary(module: Path, cc: str | None = None) -> list[FileCoverage]:
    """Each own source's line coverage from the module's counts (none when it never ran)."""
    folder = folder_of(module)
    counts = sorted(folder.glob("*.gcda"))
    if not counts:
        return []
    command = _tool(cc or compiler_of(folder))
    results: dict[str, FileCoverage] = {}
    with tempfile.TemporaryDirectory(prefix="cmhook-gcov-") as scratch:
        done = subprocess.run([*command, "-n", *map(str, counts)], capture_output=True, text=True, cwd=scratch)
    try:  # gcov names a source as the compiler was given it, relative to where it ran
        compiled_in = Path((folder / CWD_FILE).read_text())
    except OSError:
        compiled_in = Path.cwd()
    current: Path | None = None
    for line in done.stdout.splitlines():
        if match := _FILE.match(line.strip()):
            current = compiled_in / match.group(1)
        elif (match := _LINES.match(line.strip())) and current is not None:
            name = _shown(Path(os.path.normpath(current)))
            if _own(current) and name not in results:
                total = int(match.group(2))
                results[name] = FileCoverage(name, round(float(match.group(1)) * total / 100), total)
            current = None
    return sorted(results.values(), key=lambda item: item.source)


def text(modules: Iterable[tuple[str, Path]]) -> str:
    """The summary `cmhook run --coverage` prints: per driver, per own source."""
    lines = []
    for name, module in modules:
        files = summary(module)
        if not files:
            lines.append(f"coverage of {name}: no counts (not a --coverage build, or it never ran)")
            continue
        lines.append(f"coverage of {name}:")
        lines += [f"  {item}" for item in files]
    return "\n".join(lines) + ("\n" if lines else "")
