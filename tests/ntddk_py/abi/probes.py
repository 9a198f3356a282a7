"""What each side of the ABI says: gcc, clang, cffi, ctypes, and Windows x64 (mingw-w64).

Every side answers the same questions, keyed the same way:
``("size", T)``, ``("align", T)``, ``("offset", T, member)``, ``("msize", T, member)``
and ``("value", NAME)``. The list of questions comes from the header model
(pycparser's reading of include/ntddk.h), so nothing here lists a type or a
value by hand.

The Windows side never reads our header: it compiles mingw-w64's own DDK
headers with x86_64-w64-mingw32-gcc, plus the specification's appendix (its
era's REG_* structs and REG_NOTIFY_CLASS, which mingw carries only in their
later, longer form; rendered from the facts in ``spec_appendix``) and two
structs from Microsoft's documentation that mingw lacks. Values are read back
from the generated assembly, since a Windows executable cannot run here.

The Linux probes compile with harness.build's flags through tests/compiling.py, as filters are
built. The mingw probes keep their own command lines (-w -S): another compiler, for Windows,
on mingw's headers rather than ours, producing assembly that is read and never linked or run.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import cffi

import ntddk_py
from ntddk_py import ctypes_types, ffi, header_model

from ...compiling import compile_c
from . import spec_appendix as appendix

HERE = Path(__file__).resolve().parent
MINGW = "x86_64-w64-mingw32-gcc"
DOC_TYPES = {"KEY_NAME_INFORMATION", "KEY_CACHED_INFORMATION"}
VISTA_TWIN = "CMHOOK_VISTA_"
VISTA_ONLY = {"REG_CREATE_KEY_INFORMATION_V1", "REG_OPEN_KEY_INFORMATION_V1", "PREG_CREATE_KEY_INFORMATION_V1",
              "PREG_OPEN_KEY_INFORMATION_V1", "REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION",
              "PREG_CALLBACK_CONTEXT_CLEANUP_INFORMATION", "MaxRegNtNotifyClass"}
_SPEC_CLASSES = set(appendix.notify_class_names())

Key = tuple


@cache
def model() -> header_model.HeaderModel:
    return header_model.load()


def _is_object_type(name: str) -> bool:
    try:
        return ffi.typeof(name).kind != "void" and ffi.sizeof(name) >= 0
    except cffi.CDefError:  # cffi refuses to make a ctype of a function type
        return False
    except ValueError:  # an incomplete type (typedef struct _IRP IRP): only its pointers have a size
        return False


def sized_types() -> list[str]:
    """Typedef names that denote complete object types (not functions, not void, not incomplete)."""
    return [name for name in model().typedef_names if _is_object_type(name)]


def named_values() -> list[str]:
    """Every enumerator and every integer constant of the header."""
    enumerators = [name for members in model().enums.values() for name, _ in members]
    return enumerators + list(model().constants)


def questions() -> list[Key]:
    keys: list[Key] = []
    for name in sized_types():
        keys += [("size", name), ("align", name)]
    for name, record in model().records.items():
        for member in record.fields:
            keys += [("offset", name, member.name), ("msize", name, member.name)]
    keys += [("value", name) for name in named_values()]
    return keys


def _c_expression(key: Key, rename=lambda name: name) -> str:
    kind, name = key[0], rename(key[1])
    if kind == "size":
        return f"sizeof({name})"
    if kind == "align":
        return f"_Alignof({name})"
    if kind == "offset":
        return f"__builtin_offsetof({name}, {key[2]})"
    if kind == "msize":
        return f"sizeof((({name} *)0)->{key[2]})"
    return f"(long long)({name})"


def _quads(asm: str) -> list[int]:
    """The 64-bit values of an initialised array in gcc's assembly (.zero runs included)."""
    values: list[int] = []
    for directive, operand in re.findall(r"^\s*\.(quad|zero)\s+(-?\d+)\s*$", asm, re.MULTILINE):
        values += [int(operand)] if directive == "quad" else [0] * (int(operand) // 8)
    return values


def _run(argv: list[str], **kwargs) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise AssertionError(f"{' '.join(argv)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


@cache
def linux(cc: str, flags: tuple[str, ...]) -> dict[Key, int]:
    """The layout and values a Linux compiler gives a filter including our header."""
    if shutil.which(cc) is None:
        raise AssertionError(f"{cc} is not installed: run 'bash tools/bootstrap.sh'")
    keys = questions()
    lines = ["#include <ntddk.h>", "#include <stdio.h>", "int main(void) {"]
    lines += [f'  printf("%lld\\n", (long long){_c_expression(k)});' for k in keys]
    lines += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "probe.c", Path(tmp) / "probe"
        src.write_text("\n".join(lines) + "\n")
        # harness.build's flags (tests/compiling.py), -fshort-wchar only when the question asks for it.
        done = compile_c(cc, [src], exe, *flags, shared=False, short_wchar=False)
        if done.returncode:
            raise AssertionError(f"{cc} could not build the probe:\n{done.stderr[-4000:]}")
        values = [int(v) for v in _run([str(exe)]).split()]
    return dict(zip(keys, values, strict=True))


def cffi_side() -> dict[Key, int]:
    out: dict[Key, int] = {}
    for name in sized_types():
        out[("size", name)] = ffi.sizeof(name)
        out[("align", name)] = ffi.alignof(name)
    for name, record in model().records.items():
        fields = dict(ffi.typeof(name).fields)
        for member in record.fields:
            out[("offset", name, member.name)] = fields[member.name].offset
            out[("msize", name, member.name)] = ffi.sizeof(fields[member.name].type)
    for enum in model().enums:
        for member, value in ffi.typeof(enum).relements.items():
            out[("value", member)] = value
    return out


def ctypes_side() -> dict[Key, int]:
    out: dict[Key, int] = {}
    for name in sized_types():
        cls = getattr(ctypes_types, name)
        out[("size", name)] = ctypes.sizeof(cls)
        out[("align", name)] = ctypes.alignment(cls)
    for name, record in model().records.items():
        cls = getattr(ctypes_types, name)
        for member in record.fields:
            descriptor = getattr(cls, member.name)
            out[("offset", name, member.name)] = descriptor.offset
            out[("msize", name, member.name)] = descriptor.size
    return out


def _as_long_long(value: int) -> int:
    """A value as the C probes read it, cast to long long (MAXULONGLONG is -1 there)."""
    return (value + 2**63) % 2**64 - 2**63


def python_values() -> dict[Key, int]:
    """The module attributes of ntddk_py (constants and IntEnum members), read as the probes read C's."""
    return {("value", name): _as_long_long(int(getattr(ntddk_py, name))) for name in named_values()}


# --- Windows x64, from mingw-w64 ------------------------------------------------

def spec_appendix() -> str:
    """The specification's appendix declarations, renamed SPEC_* / SpecRegNt* to stand beside mingw's."""
    return spec_rename(appendix.render())


spec_rename = appendix.spec_rename


def windows_name(name: str) -> str:
    """The name a type or value of ours has on the Windows side of the probe.

    The engine's CMHOOK_VISTA_ twins are mingw's own REG_* structs (its wdm.h has the Vista form);
    the notify classes after the specification's 30, and the structs only Vista and later have,
    are mingw's own too."""
    if name.startswith(VISTA_TWIN):
        return name[len(VISTA_TWIN):]
    if name in VISTA_ONLY or name.startswith(("RegNt", "PREG_NOTIFY_CLASS")) and name not in _SPEC_CLASSES:
        return name
    bare = name[1:] if name.startswith("P") and name[1:] in DOC_TYPES else name
    if bare in DOC_TYPES:
        return name.replace(bare, "DOC_" + bare)
    return spec_rename(name)


def _mingw_include() -> Path:
    if shutil.which(MINGW) is None:
        raise AssertionError(f"{MINGW} is not installed: run 'bash tools/bootstrap.sh' "
                             "(Debian package gcc-mingw-w64-x86-64)")
    err = subprocess.run([MINGW, "-E", "-v", "-x", "c", "-"], input="", capture_output=True, text=True).stderr
    for line in err.splitlines():
        candidate = Path(line.strip())
        if (candidate / "ddk" / "wdm.h").exists():
            return candidate
    raise AssertionError(f"{MINGW} has no ddk/wdm.h on its include path")


@cache
def windows() -> dict[Key, int]:
    """Windows x64's answer to every question, from mingw-w64 and the specification."""
    keys = questions()
    include = _mingw_include()
    body = [
        "#include <ntddk.h>",
        "#include <ntstatus.h>",
        "#include <excpt.h>",
        # The Win32 names (DWORD, BYTE, LPVOID ...) the DDK headers leave to minwindef.h.
        "#include <minwindef.h>",
        f'#include "{HERE / "windows_doc_types.h"}"',
        spec_appendix(),
        # Our default target is Server 2003; mingw's DDK headers do not compile for it (with
        # _WIN32_WINNT 0x0502 they use types they declare only for Vista), so the values are
        # read for mingw's default target and NTDDI_VERSION is the one a Server 2003 build has.
        "#undef NTDDI_VERSION",
        "#define NTDDI_VERSION NTDDI_WS03",
        "const long long cmhook_probe[] = {",
    ]
    body += [f"  {_c_expression(k, windows_name)}," for k in keys]
    body += ["};"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text("\n".join(body) + "\n")
        asm = _run([MINGW, "-w", "-S", "-O0", f"-I{include / 'ddk'}", "-o", "-", str(src)])
    values = _quads(asm)
    assert len(values) == len(keys), f"mingw probe gave {len(values)} values for {len(keys)} questions"
    return dict(zip(keys, values, strict=True))


def mingw_values(names: list[str]) -> list[int]:
    """Values of mingw-w64's own enumerators or macros of these names."""
    body = ["#include <ntddk.h>", "const long long cmhook_probe[] = {"]
    body += [f"  (long long)({name})," for name in names] + ["};"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text("\n".join(body) + "\n")
        asm = _run([MINGW, "-w", "-S", f"-I{_mingw_include() / 'ddk'}", "-o", "-", str(src)])
    return _quads(asm)
