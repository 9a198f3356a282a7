"""The WDK header set beside include/ntddk.h: wdm.h, ntifs.h, fltKernel.h, ntstrsafe.h,
ntintsafe.h, wdmsec.h, dontuse.h, sdkddkver.h and the annotation headers, with the case
spellings real sources use (include/variants/).

A corpus of one-idiom filters (``idioms/``), each written as real filters write that idiom,
builds warning-free (-Wextra -Werror) with gcc and clang through harness.build, and those with
behaviour at run time load into a kernel and report through DbgPrint. The layouts and values
the headers add are in the ABI tests (they come from the header model); here: what compiles,
what runs, what the preprocessor makes of the annotations, what ships.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness import build
from ntddk_py import generate, header_model, resources

from ..compiling import STRICT, build_module, compile_c
from ..test_packaging import _shipped

IDIOMS = Path(__file__).resolve().parent / "idioms"
SOURCES = sorted(IDIOMS.glob("*.c"))
COMPILERS = ["gcc", "clang"]
INCLUDE = resources.include_directory()
STANDALONE = ["ntddk.h", "wdm.h", "ntifs.h", "fltKernel.h", "ntstrsafe.h", "ntintsafe.h", "wdmsec.h", "dontuse.h",
              "sdkddkver.h", "driverspecs.h", "specstrings.h", "sal.h"]

STATUS_SUCCESS = "00000000"
STATUS_BUFFER_OVERFLOW = "80000005"
STATUS_INVALID_PARAMETER = "c000000d"
STATUS_INTEGER_OVERFLOW = "c0000095"


def lines(kernel, driver: str) -> list[str]:
    return [line for name, line in kernel.debug_output if name == driver]


def line_of(idiom: str, text: str) -> int:
    """The number of the first line of idioms/<idiom>.c that holds text."""
    source = (IDIOMS / f"{idiom}.c").read_text().splitlines()
    return next(number for number, line in enumerate(source, 1) if text in line)


def run(kernel, idiom: str, cc: str, defines: dict[str, object] | None = None) -> list[str]:
    """Build idioms/<idiom>.c with -Wextra -Werror, load it (DriverEntry runs), return its DbgPrint lines."""
    module = build.build(IDIOMS / f"{idiom}.c", cc=cc, extra=list(STRICT), defines=defines).module
    kernel.load_driver(module, idiom)
    return lines(kernel, idiom)


# --- every idiom builds, with both compilers, warning-free ---------------------------------------

@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_each_idiom_builds_warning_free(source, cc):
    module = build_module(source, cc)
    assert module.is_file()


def test_the_corpus_covers_the_headers():
    text = "\n".join(source.read_text() for source in SOURCES)
    for include in ["<Ntifs.h>", "<NtStrSafe.h>", "<ntstrsafe.h>", "<fltKernel.h>", "<wdm.h>", "<ntintsafe.h>",
                    "<wdmsec.h>", "<ntifs.h>"]:
        assert f"#include {include}" in text, include


# --- what the idioms do at run time -------------------------------------------------------------

@pytest.mark.parametrize("cc", COMPILERS)
def test_ntifs_prelude_brings_ntddk_wdm_and_ntstrsafe(kernel, cc):
    assert run(kernel, "ntifs_prelude", cc) == ["ntifs_prelude: ntifs ntddk wdm ntstrsafe\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_list_routines_have_windows_semantics(kernel, cc):
    assert run(kernel, "list_self_check", cc) == ["list_self_check: 0 failures\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_annotated_driver_runs_as_its_plain_c(kernel, cc):
    assert run(kernel, "sal_annotated", cc) == [
        "sal_annotated: 2 strings\n",
        "sal_annotated: written 2 calls 1 filled 4 locked 1 copy 2 total 2 last bc\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_routines_declared_by_role_typedefs(kernel, cc):
    from ntddk_py import KEY_ALL_ACCESS, REG_DWORD

    assert run(kernel, "role_typedefs", cc) == ["role_typedefs: started 2\n"]
    status, handle, _ = kernel.registry.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\Roles", KEY_ALL_ACCESS)
    kernel.registry.set_value(handle, "A", REG_DWORD, b"\1\0\0\0")
    kernel.registry.set_value(handle, "B", REG_DWORD, b"\2\0\0\0")
    kernel.registry.close(handle)
    kernel.unload_driver("role_typedefs")
    assert lines(kernel, "role_typedefs")[1:] == [
        "role_typedefs: first set-value, context 0000000000005EED\n",
        "role_typedefs: unloaded after 2 set-value notifications\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_sizes_counts_and_limits(kernel, cc):
    assert run(kernel, "sizes_and_counts", cc) == [
        "sizes_and_counts: Winlogon watched 4 4 100 name 40 through 44 offset 48 back 1\n",
        "sizes_and_counts: align 16 8 pages 2 4096 min -2 max 3\n",
        "sizes_and_counts: limits ffffffff 7fffffff ffffffffffffffff ffff\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_win32_types(kernel, cc):
    checksum = 0
    for byte in b"cmhook":
        checksum = ((checksum << 1 | checksum >> 31) & 0xFFFFFFFF) ^ byte
    assert run(kernel, "win32_types", cc) == [
        f"win32_types: checksum {checksum:08x} found 1 low 5678 count 6 negative -1 big ffffffffffffffff aligned 1\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_msvc_pragmas_are_silent_and_paged_code_runs(kernel, cc):
    assert run(kernel, "alloc_text_pragmas", cc) == ["alloc_text_pragmas: loaded 42\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_declspecs_become_gcc_attributes(kernel, cc):
    assert run(kernel, "declspec_inline", cc) == ["declspec_inline: aligned 1 1 1 values 2 3 6 10 9 8 7\n"]
    module = build_module(IDIOMS / "declspec_inline.c", cc)
    symbols = subprocess.run(["nm", str(module)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1].split(".")[0] for line in symbols.splitlines()}  # gcc's clones: Name.isra.0
    assert {"NotInlinedByDeclspec", "NotInlinedByMacro", "DriverEntry"} <= names  # noinline kept them
    assert "AlwaysInlined" not in names  # __forceinline: inlined, no body of its own


@pytest.mark.parametrize("cc", COMPILERS)
def test_paged_code_reports_a_call_above_apc_level(kernel, cc):
    out = run(kernel, "paged_code", cc)
    assert out[0] == "paged_code: passive 2\n"
    assert out[1] == "EX: Pageable code called at IRQL 2\n"
    assert _failures(out[2:3]) == [("FALSE", "paged_code.c", line_of("paged_code", "PAGED_CODE();"))]
    assert out[3:] == ["paged_code: dispatch 3\n"]
    assert [(f.kind, f.driver) for f in kernel.findings] == [("assertion-failed", "paged_code")]
    kernel.findings.clear()


@pytest.mark.parametrize("cc", COMPILERS)
def test_paged_code_is_silent_in_a_free_build(kernel, cc):
    assert run(kernel, "paged_code", cc, defines={"DBG": 0}) == ["paged_code: passive 2\n", "paged_code: dispatch 3\n"]


def _failures(out: list[str]) -> list[tuple[str, str, int]]:
    found = []
    for line in out:
        m = re.fullmatch(r"\n\*\*\* Assertion failed: (.*)\n\*\*\*   Source File: (\S+), line (\d+)\n\n", line, re.S)
        if m:
            found.append((m.group(1), Path(m.group(2)).name, int(m.group(3))))
    return found


@pytest.mark.parametrize("cc", COMPILERS)
def test_failed_assertions_are_reported_and_execution_goes_on(kernel, cc):
    out = run(kernel, "assertions", cc)
    at = lambda text: line_of("assertions", text)  # noqa: E731
    assert _failures(out) == [
        ("RegistryPath->Length == 1", "assertions.c", at("ASSERT(RegistryPath->Length == 1)")),
        ("DriverObject == NULL", "assertions.c", at("NT_ASSERT(DriverObject == NULL)")),
        ("path must be empty: RegistryPath->Length == 0", "assertions.c", at("ASSERTMSG(")),
        ("wide message: 2 + 2 == 5", "assertions.c", at("NT_ASSERTMSGW(")),
        ("Touch(FALSE)", "assertions.c", at("NT_VERIFY(Touch(FALSE))")),
    ]
    soft = [line for line in out if "Soft assertion failed" in line]
    assert len(soft) == 1 and soft[0].endswith(
        f"assertions.c({at('RTL_SOFT_ASSERT(')}): Soft assertion failed\n   Expression: Evaluated == 0\n")
    assert out[-1] == "assertions: verified 11 evaluated 3\n"
    # Each failed assertion went through RtlAssert: a verifier finding naming the driver and the place.
    found = [(f.kind, f.driver, f.message) for f in kernel.findings]
    assert [kind for kind, _, _ in found] == ["assertion-failed"] * 5
    assert {driver for _, driver, _ in found} == {"assertions"}
    first = found[0][2]
    assert first.startswith("RegistryPath->Length == 1 is false at ")
    assert first.endswith(f"assertions.c:{at('ASSERT(RegistryPath->Length == 1)')}")
    kernel.findings.clear()


@pytest.mark.parametrize("cc", COMPILERS)
def test_a_free_build_checks_nothing_but_still_evaluates_nt_verify(kernel, cc):
    assert run(kernel, "assertions", cc, defines={"DBG": 0}) == ["assertions: verified 11 evaluated 3\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_ntintsafe_in_a_filter(kernel, cc):
    overflow, ok = STATUS_INTEGER_OVERFLOW, STATUS_SUCCESS
    assert run(kernel, "ntintsafe_usage", cc) == [
        f"ntintsafe_usage: {ok} {overflow} {ok} {overflow} {overflow} {overflow} {overflow} {ok}\n",
        "ntintsafe_usage: bytes 12 total 42 sum ffffffff narrow ffffffff unsigned ffffffff length ffff\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_ntstrsafe_in_a_filter(kernel, cc):
    ok, overflow, invalid = STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER
    out = run(kernel, "ntstrsafe_usage", cc)
    assert out[0] == f"ntstrsafe_usage: {ok} {ok} {ok} {ok} {overflow} {ok} {overflow} {overflow} {invalid}\n"
    assert out[1] == ("ntstrsafe_usage: \\REGISTRY\\MACHINE\\SOFTWARE cch 26 cb 52 small truncat "
                      "whole \\REGISTRY\\MACHINE\\SOFTWARE short \\REG line [loaded from] "
                      "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ntstrsafe_usage\n")


@pytest.mark.parametrize("cc", COMPILERS)
def test_ntstrsafe_at_its_edges(kernel, cc):
    assert run(kernel, "ntstrsafe_edges", cc) == ["ntstrsafe_edges: 0 failures\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_ntstrsafe_printf_in_a_filter(kernel, cc):
    """The printf routines with Windows' formats (%wZ, %ws in a narrow format, %Iu, %I64x), a
    truncation (STATUS_BUFFER_OVERFLOW) and the Ex form's end and remaining count (Microsoft's
    RtlStringCbPrintfW, RtlUnicodeStringPrintf and RtlStringCchPrintfExW documentation)."""
    ok, overflow = STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW
    path = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\ntstrsafe_printf\\Parameters"
    assert run(kernel, "ntstrsafe_printf", cc) == [
        f"ntstrsafe_printf: {ok} {ok} {ok} {overflow} {ok}\n",
        f"ntstrsafe_printf: {path} | Instance07 | {path} has {len(path)} characters | trunc | "
        "pid 4/10000000000 27 12\n"]


@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("defines,expected", [
    (None, "Server 2003 ntddi 05020000 winnt 0502 sp 0 ws03+ 1"),
    ({"NTDDI_VERSION": "NTDDI_WINXPSP2"}, "XP ntddi 05010200 winnt 0501 sp 2 ws03+ 0"),
    ({"_WIN32_WINNT": "0x0600"}, "Vista or later ntddi 06000000 winnt 0600 sp 0 ws03+ 1"),
], ids=["default", "ntddi-xp-sp2", "winnt-vista"])
def test_the_target_version_defaults_to_server_2003(kernel, cc, defines, expected):
    assert run(kernel, "ntddi_version", cc, defines) == [f"ntddi_version: {expected}\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_filter_manager_types_and_status_values(kernel, cc):
    # FLT_PREOP_CALLBACK_STATUS and FLT_POSTOP_CALLBACK_STATUS as Microsoft documents them:
    # https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/fltkernel/nc-fltkernel-pflt_pre_operation_callback
    assert run(kernel, "fltkernel_types", cc) == [
        "fltkernel_types: pre 1 post 0 unload 00000000 connect 00000000 filter 0000000000000000 "
        "port 0000000000000000\n",
        "fltkernel_types: preop 0 1 2 3 4 5 postop 0 1\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_wdmsec_strings_and_init_unicode_string_ex(kernel, cc):
    assert run(kernel, "wdmsec_sddl", cc) == [
        "wdmsec_sddl: D:P(A;;GA;;;SY)(A;;GA;;;BA) \\Device\\RegFilter 00000000 34/36 c0000106 untouched 1\n"]


@pytest.mark.parametrize("cc", COMPILERS)
def test_wdm_h_alone_is_enough_for_a_registry_filter(kernel, cc):
    assert run(kernel, "wdm_only", cc) == [
        "wdm_only: \\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\wdm_only empty 1\n"]


def test_flt_mgr_win8_values_appear_for_a_win8_target(tmp_path):
    source = tmp_path / "win8.c"
    source.write_text("#include <fltKernel.h>\n"
                      "_Static_assert(FLT_PREOP_DISALLOW_FSFILTER_IO == 6, \"pre\");\n"
                      "_Static_assert(FLT_POSTOP_DISALLOW_FSFILTER_IO == 2, \"post\");\n")
    done = compile_c("gcc", [source], tmp_path / "win8.o", "-c", "-DNTDDI_VERSION=NTDDI_WIN8", shared=False)
    assert done.returncode == 0, done.stderr
    done = compile_c("gcc", [source], tmp_path / "ws03.o", "-c", shared=False)
    assert "FLT_PREOP_DISALLOW_FSFILTER_IO" in done.stderr  # not before Windows 8


def test_a_call_without_its_headers_include_names_the_header(tmp_path):
    source = tmp_path / "forgot.c"
    source.write_text("#include <ntddk.h>\n"
                      "NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)\n"
                      "{\n    WCHAR Name[4];\n    ULONG Sum;\n"
                      "    UNREFERENCED_PARAMETER(DriverObject);\n    UNREFERENCED_PARAMETER(RegistryPath);\n"
                      "    RtlULongAdd(1, 2, &Sum);\n"
                      "    return RtlStringCchCopyW(Name, ARRAYSIZE(Name), L\"x\");\n}\n")
    with pytest.raises(build.BuildError) as failed:
        build.build(source)
    message = str(failed.value)
    assert "RtlStringCchCopyW: <ntstrsafe.h> defines it (inline or as a macro, as the WDK does): " \
           "#include <ntstrsafe.h> before the call" in message
    assert "RtlULongAdd: <ntintsafe.h> defines it" in message


# --- ntintsafe: every routine at the boundaries of its types --------------------------------------

_WIDTH = {  # type: (bits, signed), Windows x64
    "UINT8": (8, False), "INT8": (8, True), "BYTE": (8, False), "CHAR": (8, True), "UCHAR": (8, False),
    "USHORT": (16, False), "WORD": (16, False), "SHORT": (16, True), "UINT16": (16, False), "INT16": (16, True),
    "UINT": (32, False), "ULONG": (32, False), "DWORD": (32, False), "LONG": (32, True), "INT": (32, True),
    "UINT_PTR": (64, False), "INT_PTR": (64, True), "ptrdiff_t": (64, True), "LONG_PTR": (64, True),
    "SSIZE_T": (64, True), "size_t": (64, False), "ULONG_PTR": (64, False), "DWORD_PTR": (64, False),
    "ULONGLONG": (64, False), "INT64": (64, True), "LONGLONG": (64, True),
}


def _range(ctype: str) -> tuple[int, int]:
    bits, signed = _WIDTH[ctype]
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def _literal(value: int) -> str:
    return f"({value + 1}LL - 1)" if value < 0 else f"{value}ULL"


def _boundaries(*types: str) -> list[int]:
    """Values at and around the limits of each type (clamped to the first type's range)."""
    low, high = _range(types[0])
    values = {low, low + 1, -1, 0, 1, 2, high - 1, high}
    for ctype in types:
        lo, hi = _range(ctype)
        values |= {lo - 1, lo, hi, hi + 1, hi // 2, (hi + 1) // 2}
    return sorted(v for v in values if low <= v <= high)


def _intsafe_cases() -> tuple[str, int]:
    """A filter checking every ntintsafe routine against Python's arithmetic, and its case count."""
    header = (INCLUDE / "ntintsafe.h").read_text()
    conversions = re.findall(r"^_CMHOOK_INTSAFE_CONVERT\((\w+), (\w+), (\w+), (-?\d)\)$", header, re.M)
    math = re.findall(r"^_CMHOOK_INTSAFE_MATH\((\w+), (\w+), (\w+)\)$", header, re.M)
    assert len(conversions) > 250 and len(math) == 60
    body, count = [], 0

    def case(call: str, result_type: str, expected: int | None, error: int) -> None:
        nonlocal count
        count += 1
        low, high = _range(result_type)
        status = "STATUS_SUCCESS" if expected is not None else "STATUS_INTEGER_OVERFLOW"
        value = expected if expected is not None else (error if error == 0 else (-1 if low < 0 else high))
        body.append(f"    {{ {result_type} r = ({result_type})0x5a; NTSTATUS s = {call.format(r='&r')}; "
                    f"Check({count}, s, (ULONGLONG)r, {status}, (ULONGLONG)({result_type}){_literal(value)}); }}")

    for name, source, target, _ in conversions:
        low, high = _range(target)
        error = 0 if re.search(r"To(UChar|Char)$", name) else -1  # UCHAR_ERROR and CHAR_ERROR are '\0'
        for value in _boundaries(source, target):
            fits = value if low <= value <= high else None
            case(f"Rtl{name}(({source}){_literal(value)}, {{r}})", target, fits, error)
    for name, ctype, operation in math:
        low, high = _range(ctype)
        operands = _boundaries(ctype)[::2] + [3, 7]
        for a in operands:
            for b in operands:
                exact = {"add": a + b, "sub": a - b, "mul": a * b}[operation]
                fits = exact if low <= exact <= high else None
                case(f"Rtl{name}(({ctype}){_literal(a)}, ({ctype}){_literal(b)}, {{r}})", ctype, fits, -1)
    source = "\n".join([
        "#define ENABLE_INTSAFE_SIGNED_FUNCTIONS",
        "#include <ntddk.h>",
        "#include <ntintsafe.h>",
        "static ULONG Checked, Wrong;",
        "static VOID Check(ULONG Case, NTSTATUS Status, ULONGLONG Result, NTSTATUS WantStatus, ULONGLONG Want)",
        "{",
        "    Checked++;",
        "    if (Status != WantStatus || Result != Want) {",
        "        if (++Wrong <= 20)",
        '            DbgPrint("case %lu: %08lx %I64x, not %08lx %I64x\\n", Case, Status, Result, WantStatus, Want);',
        "    }",
        "}",
        "static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }",
        "NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)",
        "{",
        "    UNREFERENCED_PARAMETER(RegistryPath);",
        *body,
        '    DbgPrint("checked %lu wrong %lu\\n", Checked, Wrong);',
        "    DriverObject->DriverUnload = Unload;",
        "    return STATUS_SUCCESS;",
        "}",
        "",
    ])
    return source, count


@pytest.mark.parametrize("cc", COMPILERS)
def test_every_ntintsafe_routine_at_its_boundaries(kernel, cc, tmp_path):
    text, count = _intsafe_cases()
    source = tmp_path / "intsafe_boundaries.c"
    source.write_text(text)
    # -O0: thousands of checks compile quickly; the idiom above runs the routines at -O2.
    module = build.build(source, cc=cc, extra=[*STRICT, "-O0"]).module
    kernel.load_driver(module, "intsafe_boundaries")
    assert lines(kernel, "intsafe_boundaries") == [f"checked {count} wrong 0\n"]


# --- the headers themselves -----------------------------------------------------------------------

@pytest.mark.parametrize("cc", COMPILERS)
@pytest.mark.parametrize("wchar", [[], ["-fshort-wchar"]], ids=["default-wchar", "short-wchar"])
@pytest.mark.parametrize("header", STANDALONE)
def test_each_header_is_self_contained(header, wchar, cc, tmp_path):
    source = tmp_path / "only.c"
    source.write_text(f"#include <{header}>\n")
    done = compile_c(cc, [source], tmp_path / "only.o", "-c", *wchar, shared=False, short_wchar=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("cc", COMPILERS)
def test_the_c_library_still_compiles_after_every_header(cc, tmp_path):
    """The kernel shim, and filters, include C library headers after ours: no annotation or
    compiler word of ours may break them."""
    ours = "".join(f"#include <{header}>\n" for header in STANDALONE)
    theirs = "".join(f"#include <{header}>\n" for header in [
        "stddef.h", "stdint.h", "stdarg.h", "stdbool.h", "limits.h", "stdio.h", "stdlib.h", "string.h", "errno.h",
        "signal.h", "setjmp.h", "time.h", "ctype.h", "assert.h", "inttypes.h", "unistd.h", "pthread.h", "sched.h",
        "dlfcn.h", "link.h", "ucontext.h", "regex.h", "grp.h", "search.h", "sys/mman.h", "sys/stat.h", "sys/types.h",
        "x86intrin.h"])
    source = tmp_path / "libc.c"
    source.write_text("#define ENABLE_INTSAFE_SIGNED_FUNCTIONS\n" + ours + theirs + "int cmhook_probe;\n")
    done = compile_c(cc, [source], tmp_path / "libc.o", "-c", "-D_GNU_SOURCE", shared=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("cc", COMPILERS)
def test_every_case_spelling_forwards_to_its_header(cc, tmp_path):
    guards = {"ntddk.h": "_NTDDK_", "wdm.h": "_WDMDDK_", "ntifs.h": "_NTIFS_", "fltKernel.h": "__FLTKERNEL__",
              "ntstrsafe.h": "_NTSTRSAFE_H_INCLUDED_", "ntintsafe.h": "_NTINTSAFE_H_INCLUDED_",
              "wdmsec.h": "_WDMSEC_H_", "dontuse.h": "_DONTUSE_H_INCLUDED_", "driverspecs.h": "_CMHOOK_DRIVERSPECS_H_",
              "specstrings.h": "_CMHOOK_SPECSTRINGS_H_", "sdkddkver.h": "_INC_SDKDDKVER"}
    assert set(generate.HEADER_SPELLINGS) <= set(guards)
    source = tmp_path / "spellings.c"
    text = []
    for target, spellings in generate.HEADER_SPELLINGS.items():
        for spelling in spellings:
            text += [f"#include <{spelling}>"]
        text += [f"#ifndef {guards[target]}", f'#error "{target} not reached"', "#endif"]
    source.write_text("\n".join(text) + "\nint cmhook_probe;\n")
    done = compile_c(cc, [source], tmp_path / "spellings.o", "-c", shared=False)
    assert done.returncode == 0, done.stderr


def test_variants_are_generated_and_harness_build_finds_them():
    rendered = generate.render_variants()
    assert sorted(p.name for p in resources.variants_directory().iterdir()) == sorted(
        Path(name).name for name in rendered)
    assert generate.unexpected_files(generate.render_all()) == []
    assert f"-I{resources.variants_directory()}" in build.HEADER_INCLUDES
    assert build.HEADER_INCLUDES[0] == f"-I{header_model.HEADER.parent}"  # the headers themselves first


def test_every_header_and_variant_ships_in_the_wheel():
    shipped = _shipped("ntddk_py")
    files = [p.resolve() for p in INCLUDE.rglob("*") if p.is_file()]
    assert len(files) > 40
    assert [str(p.relative_to(INCLUDE)) for p in files if p not in shipped] == []


# --- annotations --------------------------------------------------------------------------------

# The issue's list, and mingw-w64's names beyond it are in sal.h/specstrings.h/driverspecs.h.
ANNOTATIONS = [
    "_In_", "_Out_", "_Inout_", "_In_opt_", "_Out_opt_", "_Inout_opt_", "_In_reads_(n)", "_In_reads_bytes_(n)",
    "_Out_writes_(n)", "_Out_writes_bytes_(n)", "_Out_writes_to_(a, b)", "_Outptr_", "_Outptr_result_maybenull_",
    "_Ret_maybenull_", "_Must_inspect_result_", "_Use_decl_annotations_", "_Dispatch_type_(IRP_MJ_CREATE)",
    "_IRQL_requires_(PASSIVE_LEVEL)", "_IRQL_requires_max_(APC_LEVEL)", "_IRQL_raises_(DISPATCH_LEVEL)",
    "_IRQL_saves_", "_IRQL_restores_", "_When_(return >= 0, _Out_writes_(n))", "_Success_(return != 0)",
    "_Function_class_(DRIVER_UNLOAD)", "_Printf_format_string_", "_Field_size_(n)", "_Field_size_bytes_(n)",
    "_Null_terminated_", "_NullNull_terminated_", "_Kernel_requires_resource_held_(Resource)",
    "_Acquires_lock_(Lock)", "_Releases_lock_(Lock)", "_Requires_lock_held_(Lock)", "_Inout_updates_(n)",
    "_Inout_updates_bytes_(n)", "_Check_return_", "_Guarded_by_(Lock)", "_Interlocked_", "_Post_z_", "_Pre_z_",
    "_At_(p, _Post_null_)", "_Out_range_(0, 10)", "__drv_allocatesMem(Mem)", "__drv_freesMem(Mem)",
    "__drv_maxIRQL(DISPATCH_LEVEL)", "__drv_requiresIRQL(PASSIVE_LEVEL)", "__drv_aliasesMem",
    "__drv_dispatchType(IRP_MJ_READ)", "__drv_when(a, b)", "__in", "__out", "__inout", "__in_opt", "__out_opt",
    "__inout_opt", "__in_bcount(n)", "__out_ecount(n)", "__out_bcount_part(n, m)", "__deref_out", "__checkReturn",
    "__success(x)", "__nullterminated", "__reserved", "__callback", "__field_bcount(n)",
]


@pytest.mark.parametrize("cc", COMPILERS)
def test_annotations_expand_to_nothing(cc, tmp_path):
    source = tmp_path / "sal.c"
    source.write_text("#include <ntddk.h>\n" + "".join(f"@@ {annotation} int x;\n" for annotation in ANNOTATIONS))
    done = subprocess.run([cc, "-E", "-P", *build.HEADER_INCLUDES, str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    expanded = [" ".join(line.split()) for line in done.stdout.splitlines() if line.startswith("@@")]
    assert expanded == ["@@ int x;"] * len(ANNOTATIONS)


def test_every_function_like_annotation_takes_any_arguments():
    """Variadic: an annotation with a comma in its argument (or an extra one) still vanishes."""
    for name in ["sal.h", "specstrings.h", "driverspecs.h"]:
        for line in (INCLUDE / name).read_text().splitlines():
            m = re.match(r"#define (\w+)(\(.*?\))?(.*)$", line)
            if m and not m.group(1).startswith("_CMHOOK_"):
                assert m.group(2) in (None, "(...)") and m.group(3).strip() == "", line


def test_the_bindings_see_the_new_declarations():
    import ctypes

    import ntddk_py
    from ntddk_py import ctypes_types, ffi

    assert ffi.sizeof("LIST_ENTRY") == 16 and ffi.sizeof("SINGLE_LIST_ENTRY") == 8
    assert ffi.sizeof("DWORD") == 4 and ffi.sizeof("BOOL") == 4 and ffi.sizeof("DWORD_PTR") == 8
    assert ntddk_py.NTDDI_VERSION == ntddk_py.NTDDI_WS03 == 0x05020000
    assert ntddk_py.IRP_MJ_PNP == 0x1B == ntddk_py.IRP_MJ_MAXIMUM_FUNCTION
    assert ctypes_types.IO_WORKITEM is None and ctypes_types.PIO_WORKITEM is ctypes.c_void_p
    assert ctypes.sizeof(ctypes_types.IRP) == ffi.sizeof("IRP") == 0xD0
    assert "EX_CALLBACK_FUNCTION" in ntddk_py.ctypes_types.__all__
