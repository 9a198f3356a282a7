"""Filters built with AddressSanitizer, UndefinedBehaviorSanitizer or gcov coverage: their flags,
the runtime imports the loader allows them, and the process environment each runtime needs.

How the runtimes get into the machine (the choices, for gcc and clang alike):

- **The runtime is a shared library.** gcc links libasan.so/libubsan.so into a sanitized module
  (DT_NEEDED); clang is told to with ``-shared-libsan`` (its default for a shared object is no
  runtime at all). The filter's ``__asan_*``/``__ubsan_*`` imports resolve to it, and the loader
  allows exactly those prefixes (``runtime_imports``), nothing else of the runtime's (it exports
  ``malloc`` too, which a filter must not call).
- **ASan must be first in the process's library list** (it intercepts malloc and friends before
  anything allocates), and Python is not built with it: the process needs ``LD_PRELOAD`` of the
  runtime before it starts. ``cmhook run`` therefore re-executes itself once with ``LD_PRELOAD`` set
  (``reexec_environment``) when a DRIVER is an ASan build and the runtime is not already loaded;
  the forked machine inherits it. A pytest session must be started so
  (``LD_PRELOAD=$(gcc -print-file-name=libasan.so) pytest``); a module refused at load says how.
  gcc's and clang's ASan runtimes cannot share a process.
- **A report stops the machine where it is.** ``-fno-sanitize-recover=all`` and
  ``abort_on_error=1`` make every ASan and UBSan report end in abort() on the reporting thread,
  inside the driver's routine: the shim's crash record then knows the driver, the routine and the
  notification in flight, and the bugcheck report says them. The runtime's own text is written to
  ``log_path`` in a folder the parent reads after the machine ended, and printed with the report.
- **UBSan alone needs no preload**, but its options (as ASan's) are read from the environment the
  process *started* with (/proc/self/environ), so ``cmhook run`` starts itself again for it too.
- **Coverage** (``--coverage``, gcov's format from gcc and from clang) links its runtime statically
  into the module; the loader allows that runtime's own C library imports (the archive's undefined
  symbols) for a module that carries it. See ``harness/coverage.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

SANITIZERS = ("address", "undefined")
# What the sanitizers' instrumentation imports from their runtime.
RUNTIME_PREFIXES = ("__asan_", "__ubsan_", "__sanitizer_", "__lsan_")
# The runtimes' options: stop at the first report (abort, so the crash record names the routine), no
# leak check of Python's own memory at exit, ASan's stacks with symbols.
ASAN_OPTIONS = "abort_on_error=1:detect_leaks=0:halt_on_error=1:symbolize=1:handle_abort=0"
UBSAN_OPTIONS = "abort_on_error=1:halt_on_error=1:print_stacktrace=1"
LOG_VARIABLE = "CMHOOK_SANITIZER_LOG"  # the folder the runtimes' reports go to, for the parent to print
STARTED_VARIABLE = "CMHOOK_SANITIZER_STARTED"  # set in a process started again with the runtimes' environment
_ASAN_RUNTIME = {"gcc": "libasan.so", "clang": "libclang_rt.asan-x86_64.so"}
_COVERAGE_RUNTIME = {"gcc": "libgcov.a", "clang": "libclang_rt.profile-x86_64.a"}


class SanitizerError(Exception):
    """A sanitizer option cannot be honoured; the message says why and what to do."""


def parse(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"address,undefined"`` (or a list) as the sanitizers in a fixed order; unknown names refused."""
    if not text:
        return ()
    names = [name.strip() for part in ([text] if isinstance(text, str) else text) for name in part.split(",")]
    unknown = [name for name in names if name and name not in SANITIZERS]
    if unknown:
        raise SanitizerError(f"--sanitize {','.join(unknown)}: cmhook supports {', '.join(SANITIZERS)}")
    return tuple(name for name in SANITIZERS if name in names)


def compile_flags(sanitize: Sequence[str], coverage: bool) -> list[str]:
    """Flags for compiling each source."""
    flags = []
    if sanitize:
        flags += [f"-fsanitize={','.join(sanitize)}", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    if coverage:
        flags.append("--coverage")
    return flags


def link_flags(cc: str, sanitize: Sequence[str], coverage: bool) -> list[str]:
    """Flags for linking the module: the runtimes as shared libraries (clang: -shared-libsan)."""
    flags = []
    if sanitize:
        flags.append(f"-fsanitize={','.join(sanitize)}")
        if cc == "clang":  # the runtime as a shared library, found where clang keeps it (not on the search path)
            flags += ["-shared-libsan", f"-Wl,-rpath,{_runtime_directory()}"]
    if coverage:
        flags.append("--coverage")
    return flags


@cache
def _runtime_directory() -> str:
    return subprocess.run(["clang", "--print-runtime-dir"], capture_output=True, text=True).stdout.strip()


def _symbols(path: Path, *options: str) -> list[str]:
    done = subprocess.run(["nm", *options, "--format=posix", str(path)], capture_output=True, text=True)
    return [line.split()[0].split("@")[0] for line in done.stdout.splitlines() if line.strip()]


@cache
def _archive_imports(cc: str) -> frozenset[str]:
    """The C library symbols a statically linked coverage runtime calls (the archive's undefined ones)."""
    archive = subprocess.run([cc, f"-print-file-name={_COVERAGE_RUNTIME[cc]}"], capture_output=True,
                             text=True).stdout.strip()
    if not archive or not Path(archive).is_file():
        return frozenset()
    return frozenset(_symbols(Path(archive), "--undefined-only"))


def runtime_imports(path: Path, undefined: Iterable[str]) -> frozenset[str]:
    """Which of a module's undefined symbols its sanitizer or coverage runtime provides or needs."""
    names = set(undefined)
    allowed = {name for name in names if name.startswith(RUNTIME_PREFIXES)}
    if allowed:
        allowed.add("__cxa_finalize")  # the runtime's module destructors
    defined = set(_symbols(path, "--defined-only"))
    if any(name.startswith(("__gcov_", "__llvm_gcov", "__llvm_profile")) for name in defined):
        runtime = _archive_imports("clang" if any(name.startswith("__llvm_") for name in defined) else "gcc")
        allowed |= names & (runtime | {"__cxa_finalize", "__cxa_atexit"})
    return frozenset(allowed)


def needed_libraries(path: Path) -> list[str]:
    """The module's DT_NEEDED entries."""
    done = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", done.stdout)


def asan_runtime_of(path: Path) -> str | None:
    """"gcc" or "clang" when the module is an ASan build (by the runtime it needs), else None."""
    try:
        if b"asan" not in path.read_bytes():  # the common case, without running readelf
            return None
    except OSError:
        return None
    for library in needed_libraries(path):
        if library.startswith("libasan."):
            return "gcc"
        if library.startswith("libclang_rt.asan"):
            return "clang"
    return None


def asan_library(cc: str) -> str:
    """The path of that compiler's ASan runtime, for LD_PRELOAD."""
    name = _ASAN_RUNTIME[cc]
    found = subprocess.run([cc, f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    if not found or not Path(found).is_file():
        hint = " (Debian: apt-get install libclang-rt-dev)" if cc == "clang" else ""
        raise SanitizerError(f"{cc}'s AddressSanitizer runtime {name} is not installed{hint}")
    return found


def asan_loaded() -> bool:
    """Whether an ASan runtime is in this process (preloaded, as it must be)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    return "libasan." in maps or "libclang_rt.asan" in maps


def sanitizer_environment(log_folder: str | None = None) -> dict[str, str]:
    """The runtimes' options (the user's own ASAN_OPTIONS/UBSAN_OPTIONS come after, and win)."""
    log = f":log_path={log_folder}/report" if log_folder else ""
    environment = {}
    for variable, ours in (("ASAN_OPTIONS", ASAN_OPTIONS), ("UBSAN_OPTIONS", UBSAN_OPTIONS)):
        own = os.environ.get(variable, "")
        environment[variable] = ours + log + (f":{own}" if own else "")
    return environment


def reexec_environment(modules: Iterable[Path], log_folder: str | None) -> dict[str, str] | None:
    """The environment this process must be started again with for these modules, or None when it
    is already the one: an ASan build needs its runtime preloaded, and every runtime reads its
    options from the environment the process started with (/proc/self/environ), never from a
    variable set later."""
    modules = list(modules)
    runtimes = {runtime for runtime in map(asan_runtime_of, modules) if runtime is not None}
    if len(runtimes) > 1:
        raise SanitizerError("drivers built with gcc's and with clang's AddressSanitizer cannot run in one "
                             "machine: build them with one compiler")
    if os.environ.get(STARTED_VARIABLE) == "1" and (not runtimes or asan_loaded()):
        return None
    environment = dict(os.environ)
    if runtimes and not asan_loaded():
        preload = asan_library(runtimes.pop())
        environment["LD_PRELOAD"] = " ".join(filter(None, [preload, os.environ.get("LD_PRELOAD", "")]))
    environment.update(sanitizer_environment(log_folder))
    environment[STARTED_VARIABLE] = "1"
    if log_folder:
        environment[LOG_VARIABLE] = log_folder
    return environment


def reports(log_folder: str | None) -> str:
    """The runtimes' reports written to the log folder, oldest first."""
    if not log_folder or not Path(log_folder).is_dir():
        return ""
    files = sorted(Path(log_folder).glob("report*"), key=lambda path: path.stat().st_mtime)
    return "".join(path.read_text(errors="replace") for path in files)


def refused_load(path: Path) -> str:
    """Why an ASan module cannot be loaded in this process, and how to start one that can."""
    runtime = asan_runtime_of(path)
    if runtime is None:
        return ""
    try:
        library = asan_library(runtime)
    except SanitizerError as error:
        return str(error)
    return (f"{path.name} is built with AddressSanitizer, whose runtime must be the first library of the "
            f"process: start it with LD_PRELOAD={library} ASAN_OPTIONS={ASAN_OPTIONS} (cmhook run does this "
            "itself)")
