"""Build filter modules: C against include/ntddk.h into a shared object the loader accepts.

The flags are the ones that make a filter behave as on Windows: position-independent shared
object, 16-bit wchar_t so L"..." literals are WCHAR strings, the header on the include path, and
a call to an undeclared routine refused (on x64 C assumes it returns ``int``, which truncates a
returned pointer; the driver would crash far from the mistake).

A filter is one or several C sources (or C++ ones, .cpp/.cc/.cxx, compiled by g++ or clang++ with
MSVC /kernel's rules; a source given as text is C). The compiler always reads them where they live, by the
user's own paths: ``#include "config.h"`` next to ``main.c`` resolves, and warnings and debug
info point at the user's files, not at a copy. ``compile_filter`` builds into a given file (what
``cmhook build`` does); ``build`` and ``build_filter`` build into the cache, once per content.
Their cache key covers the compiler, the flags and every source's path and content; the
``-MMD`` dependency list of the last build then says which headers it read, and a change to any
of them rebuilds (the check ccache calls direct mode: no preprocessing on a hit).

A cached module lives in a directory of its own per key, under the name of its first source
(``.../filters/<key>/protect.so``): the loader names a driver after the module's stem, so the
driver's RegistryPath is ``...\\Services\\protect`` whether or not it came from the cache.

The compiler's warnings of a build that succeeded are kept with the cached module and handed
back on every call (``Built.warnings``): a warning does not go away because the module was
already built.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ntddk_py import header_model, resources

from . import coverage as _coverage
from . import sanitizers as _sanitizers
from .shim import cache_directory

COMPILERS = ("gcc", "clang")
# -fno-optimize-sibling-calls keeps a kernel routine's return address inside the module that
# called it, which is how the harness tells which driver allocated pool or printed a line.
# -Werror=implicit-function-declaration: an undeclared routine is assumed to return int, which
# truncates pointers; the user learns it here, by name, not as a crash or a "missing routine".
# -Wno-unknown-pragmas: MSVC's pragmas (alloc_text, code_seg, warning) mean nothing to gcc and clang,
# also before the first #include, where the header's own silencing does not reach yet.
COMPILE_FLAGS = ["-fPIC", "-fshort-wchar", "-fno-strict-aliasing", "-fno-optimize-sibling-calls",
                 "-O2", "-g", "-Wall", "-Wno-unknown-pragmas", "-Werror=implicit-function-declaration"]
# --- toolchain: the semantics Windows compilers give a driver (README "What each compiler accepts") ---
# -fno-delete-null-pointer-checks: MSVC never drops a NULL test because the pointer was passed to memcpy
# (or dereferenced) before it; -fcommon: a global defined in a header two sources include is one variable,
# as MSVC's linker merges them; -fms-extensions: MSVC's anonymous struct members of a named type.
COMPILE_FLAGS[2:2] = ["-fno-delete-null-pointer-checks", "-fcommon", "-fms-extensions"]
# clang's Microsoft mode also takes MSVC's preprocessor: the comma before an empty __VA_ARGS__ goes,
# and `"prefix" ## fmt` pastes two string literals as the adjacent literals they become (MSVC is silent);
# an anonymous member of a named struct type is the extension the WDK's own headers use (MSVC's C4201,
# which drivers disable), not worth a warning.
CLANG_FLAGS = ["-fms-compatibility", "-Wno-invalid-token-paste", "-Wno-microsoft-anon-tag"]
# A C++ filter (.cpp, .cc, .cxx) is built as MSVC's /kernel builds one: no exceptions, no RTTI, no
# thread-safe statics (each would need the C++ runtime, which a kernel does not have).
CXX_FLAGS = ["-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics"]
CXX_SUFFIXES = (".cpp", ".cc", ".cxx")
CXX_COMPILERS = {"gcc": "g++", "clang": "clang++"}
_C_ONLY = ("-Werror=implicit-function-declaration",)  # C++ has no implicit declarations: g++ warns at the flag
# --- end toolchain ---
# Where the compiler finds the header set: include/, then include/variants/.
HEADER_INCLUDES = [f"-I{header_model.HEADER.parent}", f"-I{resources.variants_directory()}"]
# Only the link reads -shared (clang warns that a compile step does not use it).
FILTER_FLAGS = ["-shared", *COMPILE_FLAGS]
# Bumped when the layout of the cache or the meaning of its key changes.
_CACHE_VERSION = "filters-3"
# Flags only the link step reads; every other pass-through flag goes to both steps.
_LINK_ONLY = ("-l", "-L", "-Wl,", "-Xlinker", "-T", "-static", "-rdynamic", "-shared", "-nostdlib", "-nodefaultlibs")
# Flags whose value may be the next argument (-include config.h): the two travel together.
_SEPARATE_VALUE = frozenset({"-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-iprefix", "-iwithprefix",
                             "-iwithprefixbefore", "-isysroot", "-U", "-A", "-Xpreprocessor", "-Xassembler",
                             "-Xclang", "-Xlinker", "-T", "-L", "-l", "-MT", "-MQ"})
_IMPLICIT = re.compile(r"(?:implicit declaration of function|call to undeclared (?:library )?function|"
                       r"implicitly declaring library function) ['\"\u2018](\w+)['\"\u2019]")
_DEFINE = re.compile(r"[A-Za-z_]\w*(\([^)]*\))?")

Source = str | os.PathLike[str]
Defines = Mapping[str, object] | Iterable[str] | None


class BuildError(Exception):
    """The compiler refused the filter; the message holds its diagnostics."""


class CompilerWarning(UserWarning):
    """A filter compiled, and the compiler warned: the message is its diagnostics, verbatim."""


@dataclass(frozen=True)
class Built:
    """A built filter module and what its build said.

    ``name`` is the driver name the loader gives it (the module's stem); ``warnings`` the
    compiler's diagnostics of a build that succeeded (also for a module taken from the cache);
    ``dependencies`` every file the compiler read apart from system headers."""

    module: Path
    name: str
    sources: tuple[Path, ...]
    warnings: str = ""
    dependencies: tuple[Path, ...] = ()
    cached: bool = False
    cc: str = "gcc"
    sanitize: tuple[str, ...] = ()  # toolchain: --sanitize's runtimes, and whether it counts coverage
    coverage: bool = False


def define_flags(defines: Defines) -> list[str]:
    """``-D`` flags from ``{"NAME": value}`` (None or True: defined bare) or ``["NAME", "NAME=VALUE"]``."""
    if defines is None:
        return []
    if isinstance(defines, Mapping):
        items = [(str(name), None if value is None or value is True else str(value))
                 for name, value in defines.items()]
    elif isinstance(defines, str):
        raise BuildError(f"defines must be a mapping or a list of NAME[=VALUE], not the string {defines!r}")
    else:
        items = [(text.partition("=")[0], text.partition("=")[2] if "=" in text else None) for text in defines]
    flags = []
    for name, value in items:
        if not _DEFINE.fullmatch(name):
            raise BuildError(f"-D {name!r}: a macro name is a C identifier (optionally with (parameters))")
        flags.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return flags


def _split_extra(extra: Sequence[str]) -> tuple[list[str], list[str]]:
    """Pass-through flags as (for compiling, for linking): link-only flags and files (objects,
    archives) go to the link alone; a flag keeps a separate value with it (-include config.h)."""
    groups: list[list[str]] = []
    for argument in extra:
        if groups and groups[-1][0] in _SEPARATE_VALUE and len(groups[-1]) == 1:
            groups[-1].append(argument)
        else:
            groups.append([argument])
    compile_flags, link_flags = [], []
    for group in groups:
        link_flags += group
        if not (group[0].startswith(_LINK_ONLY) or not group[0].startswith("-")):
            compile_flags += group
    return compile_flags, link_flags


def _run(argv: list[str], cc: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    except FileNotFoundError:
        raise BuildError(f"{cc} is not installed (bash tools/bootstrap.sh installs gcc and clang)") from None


def _make_dependencies(text: str) -> list[str]:
    """The prerequisites of a make rule as gcc and clang write it with -MMD (escaped spaces, continuations)."""
    text = text.replace("\\\n", " ")
    _, _, prerequisites = text.partition(": ")
    names, current, escaped = [], [], False
    for char in prerequisites:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if current:
                names.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        names.append("".join(current))
    return [name.replace("$$", "$") for name in names]


@cache
def header_texts(cc: str = "gcc") -> tuple[tuple[str, str], ...]:
    """(header, its text) for ntddk.h and for every other header of include/ a source includes on
    its own (ntstrsafe.h, ntintsafe.h, ...): the files as written, then as the preprocessor expands
    them (the headers' own macros make some of their routines' names, RtlStringCchCopyW among them).
    ntddk.h stands for what it includes (wdm.h ...)."""
    core = header_model.headers()
    groups = [("ntddk.h", core)] + [(path.name, [path])
                                    for path in sorted(set(header_model.HEADER.parent.glob("*.h")) - set(core))]
    texts = []
    for name, paths in groups:
        written = "\n".join(path.read_text() for path in paths)
        done = subprocess.run([cc, "-E", "-P", "-fshort-wchar", *HEADER_INCLUDES, "-x", "c", "-"],
                              input=f"#include <{name}>\n", capture_output=True, text=True)
        texts.append((name, written + "\n" + (done.stdout if done.returncode == 0 else "")))
    return tuple(texts)


def explain_implicit_declarations(diagnostics: str, cc: str = "gcc") -> str:
    """For each routine the compiler found called undeclared: does the harness lack it, or does
    only a declaration lack? The two need different fixes, and the compiler cannot tell them apart."""
    names = list(dict.fromkeys(_IMPLICIT.findall(diagnostics)))
    if not names:
        return ""
    from . import shim
    from .kernel import RUNTIME_EXPORTS

    try:
        exports: frozenset[str] | None = shim.exported_symbols(shim.build_shim(cc)) | RUNTIME_EXPORTS
    except (RuntimeError, OSError, subprocess.CalledProcessError):
        exports = None
    texts = header_texts(cc)
    lines = ["implicit function declarations are errors here (C would assume the routine returns int, "
             "truncating a returned pointer):"]
    for name in names:
        called = re.compile(rf"\b{re.escape(name)}\s*\(")
        header = next((header for header, text in texts if called.search(text)), None)
        # A routine a header defines (ntstrsafe.h's, wdm.h's lists) or makes a macro of (RtlZeroMemory).
        defined = re.compile(rf"#\s*define\s+{re.escape(name)}\(|\b{re.escape(name)}\s*\([^;{{}}#]*\)\s*\{{")
        inline = next((header for header, text in texts if defined.search(text)), None)
        if exports is None:
            why = "could not check the harness's exports (the kernel shim did not build)"
        elif name not in exports and inline is not None:
            why = f"<{inline}> defines it (inline or as a macro, as the WDK does): #include <{inline}> before the call"
        elif name not in exports:
            why = ("the harness does not export it, so a driver calling it would not load; if it is your own "
                   "routine from another source, declare it in a header both sources include")
        elif header is not None:
            why = f"the harness exports it and <{header}> declares it: #include <{header}> before the call"
        elif name in RUNTIME_EXPORTS:
            why = ("the harness exports it (a C runtime routine ntoskrnl exports too), but <ntddk.h> does "
                   "not declare it: include the C library header that does (such as <string.h>)")
        else:
            why = "the harness exports it, but <ntddk.h> does not declare it: write its prototype"
        lines.append(f"  {name}: {why}")
    return "\n".join(lines)


# --- toolchain: per-source compiler and flags, and what an MSVC idiom the compiler refused needs ---
def is_cxx(source: Path) -> bool:
    """Whether a source is C++ by its suffix, as MSVC, gcc and clang all decide."""
    return source.suffix.lower() in CXX_SUFFIXES


def source_command(cc: str, source: Path) -> tuple[str, list[str]]:
    """The compiler driver and the Windows-like flags for one source: g++/clang++ for C++."""
    flags = [*COMPILE_FLAGS, *(CLANG_FLAGS if cc == "clang" else [])]
    if is_cxx(source):
        return CXX_COMPILERS[cc], [flag for flag in flags if flag not in _C_ONLY] + CXX_FLAGS
    return cc, flags


_LOCATION = re.compile(r"^([^\s:][^:\n]*):(\d+):(?:\d+:)? ", re.MULTILINE)
_EMPTY_VA = re.compile(r",\s*__VA_ARGS__")  # `, ##__VA_ARGS__` has the ## in between
_NAME_LITERAL = re.compile(r"\"\s*(__FUNCTION__|__func__|__FUNCSIG__|__FUNCDNAME__)\b|"
                           r"\b(__FUNCTION__|__func__|__FUNCSIG__|__FUNCDNAME__)\s*(?:L?\")")
_LITERAL_PASTE = re.compile(r"\"\s*##|##\s*L?\"|pasting \"\"|pasting formed '\"")


def explain_msvc_idioms(diagnostics: str, cc: str, cwd: Path | None = None) -> str:
    """For MSVC-only idioms at the lines a failed build's diagnostics point to: what each compiler
    accepts and the spelling every compiler takes (README "What each compiler accepts")."""
    lines: list[str] = []
    for file, number in dict.fromkeys(_LOCATION.findall(diagnostics)):
        path = Path(file) if cwd is None or Path(file).is_absolute() else cwd / file
        try:
            lines.append(path.read_text(errors="replace").splitlines()[int(number) - 1])
        except (OSError, IndexError, ValueError):
            continue
    text = "\n".join(lines)
    hints = []
    if _LITERAL_PASTE.search(text) or _LITERAL_PASTE.search(diagnostics):
        hints.append("`\"prefix\" ## fmt` pastes string literals, which only MSVC (and clang, --cc clang) "
                     "accepts: write `\"prefix\" fmt` (adjacent literals are joined), which every compiler takes")
    if _EMPTY_VA.search(text) and cc == "gcc":
        hints.append("`, __VA_ARGS__` with no variable arguments leaves a comma only MSVC (and clang, --cc "
                     "clang) removes: write `, ##__VA_ARGS__`, which gcc, clang and MSVC all accept")
    if _NAME_LITERAL.search(text):
        hints.append("`\"...\" __FUNCTION__`: only MSVC makes __FUNCTION__ a string literal; for gcc and "
                     "clang it is a variable: print it with %s (`DbgPrint(\"in %s\\n\", __FUNCTION__)`)")
    return "MSVC idioms this compiler does not accept:\n" + "\n".join(f"  {hint}" for hint in hints) if hints else ""
# --- end toolchain ---


def _names(sources: Sequence[Path]) -> str:
    return ", ".join(source.name for source in sources)


def compile_filter(sources: Path | Sequence[Path], output: Path, cc: str = "gcc", extra: Sequence[str] | None = None,
                   *, include_dirs: Iterable[Source] = (), defines: Defines = None,
                   cwd: Path | None = None, sanitize: str | Iterable[str] | None = None,
                   coverage: bool = False) -> Built:
    """Compile the sources, each where it lives, into one module at output with the Windows-like flags.

    Each source is compiled on its own (so that each gets its own -MMD dependency list) and the
    objects linked; output is replaced only by a complete module. Raises BuildError with the
    compiler's diagnostics, and for implicit declarations what the harness knows of each routine."""
    sources = [Path(sources)] if isinstance(sources, str | os.PathLike) else [Path(source) for source in sources]
    if cc not in COMPILERS:
        raise BuildError(f"--cc must be one of {', '.join(COMPILERS)}, not {cc!r}")
    if not sources:
        raise BuildError("no source to build")
    for source in sources:
        if source.suffix != ".c" and not is_cxx(source):
            raise BuildError(f"{source} is not a C source (.c) or a C++ one ({', '.join(CXX_SUFFIXES)}): a header "
                             "is found through #include and -I")
        if not (source if cwd is None or source.is_absolute() else cwd / source).is_file():
            raise BuildError(f"{source}: no such file")
    # The harness's include/ first: <ntddk.h> is always the header the harness and its ABI tests agree on;
    # then its variants/ (<Ntifs.h>, <NtStrSafe.h>: the spellings sources use on a case-insensitive Windows).
    includes = [*HEADER_INCLUDES, *(f"-I{directory}" for directory in include_dirs)]
    compile_extra, link_extra = _split_extra(list(extra or []))
    definitions = define_flags(defines)
    try:
        sanitizers = _sanitizers.parse(sanitize)
    except _sanitizers.SanitizerError as error:
        raise BuildError(str(error)) from None
    # --- toolchain: sanitizers and coverage (harness/sanitizers.py, harness/coverage.py) ---
    instrument = _sanitizers.compile_flags(sanitizers, coverage)
    runtime_link = _sanitizers.link_flags(cc, sanitizers, coverage)
    kept = _coverage.folder_of(output) if coverage else None  # the objects stay: their notes and counts
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        (kept / _coverage.COMPILER_FILE).write_text(cc)
        (kept / _coverage.CWD_FILE).write_text(str((cwd or Path.cwd()).resolve()))
    base = cwd or Path.cwd()
    diagnostics: list[str] = []
    failed = False
    dependencies: dict[Path, None] = {}
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cmhook-build-") as scratch:
        objects = []
        for index, source in enumerate(sources):
            obj = (kept or Path(scratch)) / f"{index}-{source.stem}.o"
            depfile = obj.with_suffix(".d")
            # Ours before the user's: a flag at the end missing its value cannot swallow -c or -o.
            driver, flags = source_command(cc, source)
            done = _run([driver, *flags, *instrument, *includes, *definitions, "-c", "-MMD", "-MF", str(depfile),
                         "-o", str(obj), *compile_extra, str(source)], driver, cwd)
            if done.stderr.strip():
                diagnostics.append(done.stderr.rstrip("\n") + "\n")
            if done.returncode:
                failed = True
                continue
            objects.append(str(obj))
            if depfile.exists():
                for name in _make_dependencies(depfile.read_text()):
                    dependencies[Path(os.path.abspath(base / name))] = None
        if failed:
            text = "".join(diagnostics).strip()
            explanation = "\n".join(part for part in (explain_implicit_declarations(text, cc),
                                                       explain_msvc_idioms(text, cc, cwd)) if part)
            raise BuildError(f"{cc} could not build {_names(sources)}:\n{text}"
                             + (f"\n{explanation}" if explanation else ""))
        if coverage:  # the routine that writes the counts, itself not counted
            dumper = Path(scratch) / "cmhook_coverage_dump.c"
            dumper.write_text(_coverage.DUMP_SOURCE)
            done = _run([cc, "-fPIC", "-O2", "-c", "-o", str(dumper.with_suffix(".o")), str(dumper)], cc)
            if done.returncode:
                raise BuildError(f"{cc} could not build the coverage dump routine:\n{done.stderr.strip()}")
            objects.append(str(dumper.with_suffix(".o")))
        partial = output.with_name(f"{output.name}.{os.getpid()}.tmp")
        done = _run([cc, *FILTER_FLAGS, *runtime_link, "-o", str(partial), *objects, *link_extra], cc, cwd)
        if done.returncode:
            partial.unlink(missing_ok=True)
            raise BuildError(f"{cc} could not link {_names(sources)}:\n{done.stderr.strip()}")
        if done.stderr.strip():
            diagnostics.append(done.stderr.rstrip("\n") + "\n")
        partial.replace(output)
    return Built(output, output.stem, tuple(sources), "".join(diagnostics), tuple(dependencies), cc=cc,
                 sanitize=sanitizers, coverage=coverage)


@cache
def _compiler_identity(cc: str) -> str:
    """Which compiler ``cc`` is: an upgraded compiler is a different compiler for the cache."""
    where = shutil.which(cc)
    if where is None:
        return cc
    done = subprocess.run([cc, "--version"], capture_output=True, text=True)
    return f"{os.path.realpath(where)}\0{done.stdout.splitlines()[0] if done.stdout else ''}"


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_source_path(source: object) -> bool:
    """A Path, or a string naming a .c (or C++) file; any other string is the source text itself."""
    return isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                               and source.endswith((".c", *CXX_SUFFIXES)))


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(path)


def split_compiler(sources: Sequence[Source], cc: str | None) -> tuple[list[Source], str | None]:
    """The sources, and the compiler: the earlier signature ``build_filter(source, "clang")`` named it
    second, and callers still do; no C source is called gcc or clang, so the reading is unambiguous."""
    items = list(sources)
    if cc is None and len(items) > 1 and isinstance(items[-1], str) and items[-1] in COMPILERS:
        cc = str(items.pop())
    return items, cc


def build(*sources: Source, cc: str | None = None, include_dirs: Iterable[Source] = (), defines: Defines = None,
          extra: Sequence[str] | None = None, name: str | None = None,
          sanitize: str | Iterable[str] | None = None, coverage: bool = False) -> Built:
    """The module for these sources (paths, or C source strings), built once per content and cached.

    The driver is named ``name``, else after the first source file's stem, else "filter". A
    string source lives in the cache, and is compiled there. For the earlier signature
    ``build_filter(source, "clang")``, a last positional that names a compiler is the compiler."""
    items, cc = split_compiler(sources, cc)
    cc = cc or "gcc"
    if not items:
        raise BuildError("no source to build")
    if cc not in COMPILERS:
        raise BuildError(f"cc must be one of {', '.join(COMPILERS)}, not {cc!r}")
    files = [Path(os.path.abspath(source)) for source in items if is_source_path(source)]
    for path in files:
        if not path.is_file():
            raise BuildError(f"{path}: no such file")
    stem = name or (files[0].stem if files else "filter")
    if not stem or Path(stem).name != stem or stem.startswith("."):
        raise BuildError(f"{stem!r} cannot name a driver: it becomes a file name and a registry key name")
    includes = [Path(os.path.abspath(directory)) for directory in include_dirs]
    extra = list(extra or [])
    try:
        sanitizers = _sanitizers.parse(sanitize)
    except _sanitizers.SanitizerError as error:
        raise BuildError(str(error)) from None
    key = hashlib.sha256()
    parts = [_CACHE_VERSION, _compiler_identity(cc), *FILTER_FLAGS, *CLANG_FLAGS, *CXX_FLAGS, "\1",
             *([_compiler_identity(CXX_COMPILERS[cc])] if any(is_cxx(path) for path in files) else []),
             *map(str, includes), "\1",
             *define_flags(defines), "\1", *extra, "\1", stem, "\1", *_sanitizers.compile_flags(sanitizers, coverage),
             *_sanitizers.link_flags(cc, sanitizers, coverage)]
    if extra:
        parts.append(os.getcwd())  # a relative path in a pass-through flag means something else elsewhere
    for source in items:
        if is_source_path(source):
            path = Path(os.path.abspath(source))
            parts += ["file", str(path), _digest(path) or ""]
        else:
            parts += ["text", str(source)]
    key.update("\0".join(parts).encode())
    directory = cache_directory() / "filters" / key.hexdigest()[:20]
    directory.mkdir(parents=True, exist_ok=True)
    module, manifest = directory / f"{stem}.so", directory / "build.json"

    # The source strings get files of their own in the key's directory, where they are compiled.
    paths, texts = [], 0
    for source in items:
        if is_source_path(source):
            paths.append(Path(os.path.abspath(source)))
            continue
        path = directory / (f"{stem}.c" if not files and texts == 0 else f"{stem}-part{texts}.c")
        texts += 1
        data = str(source).encode()
        if _digest(path) != hashlib.sha256(data).hexdigest():
            _write_atomically(path, data)
        paths.append(path)

    try:
        recorded = json.loads(manifest.read_text())
        if module.exists() and all(_digest(Path(dep)) == digest for dep, digest in recorded["dependencies"].items()):
            return Built(module, stem, tuple(paths), recorded["warnings"],
                         tuple(Path(dep) for dep in recorded["dependencies"]), cached=True, cc=cc,
                         sanitize=sanitizers, coverage=coverage)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    built = compile_filter(paths, module, cc, extra, include_dirs=includes, defines=defines, sanitize=sanitizers,
                           coverage=coverage)
    depends = {str(dep): _digest(dep) for dep in dict.fromkeys([*paths, *built.dependencies])}
    _write_atomically(manifest, json.dumps({"dependencies": depends, "warnings": built.warnings},
                                           indent=1).encode())
    return built


def warning_text(built: Built) -> str:
    """The compiler's warnings for a built module, introduced by what was built."""
    return f"{built.cc} warned building {_names(built.sources)}:\n{built.warnings.rstrip()}"


def build_filter(*sources: Source, cc: str | None = None, include_dirs: Iterable[Source] = (),
                 defines: Defines = None, extra: Sequence[str] | None = None, name: str | None = None,
                 on_warnings: Callable[[str], object] | None = None,
                 sanitize: str | Iterable[str] | None = None, coverage: bool = False) -> Path:
    """``build(...)``'s module path; its compiler warnings go to on_warnings, else warnings.warn.

    Warnings are shown on every call, from the cache too: a build that warned keeps warning."""
    built = build(*sources, cc=cc, include_dirs=include_dirs, defines=defines, extra=extra, name=name,
                  sanitize=sanitize, coverage=coverage)
    if built.warnings.strip():
        text = warning_text(built)
        if on_warnings is not None:
            on_warnings(text)
        else:
            warnings.warn(CompilerWarning(text), stacklevel=2)
    return built.module
