"""The toolchain gives filters the semantics Windows compilers give them, and accepts the MSVC idioms
gcc or clang can be made to accept (README "What each compiler accepts"): each flag's behaviour
difference, observed from a loaded driver's DbgPrint output; each idiom pinned with gcc and clang;
C++ filters built with g++ and clang++, and every header compiling as C++."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cmhook

from harness import build
from harness.build import BuildError
from ntddk_py import header_model

pytestmark = pytest.mark.parametrize("cc", ["gcc", "clang"])

UNLOAD = r"""
static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }
"""


def printed(kernel, driver: str) -> list[str]:
    return [line for name, line in kernel.debug_output if name == driver]


def run_entry(kernel, build_filter, source: str, cc: str, name: str, extra: list[str] | None = None) -> list[str]:
    """Build the source, load it (its DriverEntry prints), and return what it printed."""
    kernel.load_driver(build_filter(source, cc=cc, name=name, extra=extra), name)
    return printed(kernel, name)


# --- -fcommon ----------------------------------------------------------------------------------

COMMON_H = "ULONG SharedCount;\n"  # a definition in a header, as many filters have (MSVC's linker merges them)
COMMON_MAIN = r"""
#include <ntddk.h>
#include "common.h"
VOID Bump(VOID);
""" + UNLOAD + r"""
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    SharedCount++;
    Bump();
    DbgPrint("count %lu\n", SharedCount);
    return STATUS_SUCCESS;
}
"""
COMMON_OTHER = '#include <ntddk.h>\n#include "common.h"\nVOID Bump(VOID) { SharedCount++; }\n'


def test_a_global_defined_in_a_header_two_sources_include_is_one_variable(kernel, build_filter, cc, tmp_path):
    """MSVC's C compiler emits a global defined without initializer as a COMMON symbol, which the
    linker merges (Microsoft's PE format specification: an external symbol in no section, with a
    size in its Value, is a common symbol); -fcommon gives gcc and clang the same, and without it
    (their default since gcc 10 and clang 11) the filter does not link."""
    (tmp_path / "common.h").write_text(COMMON_H)
    (tmp_path / "common_main.c").write_text(COMMON_MAIN)
    (tmp_path / "common_other.c").write_text(COMMON_OTHER)
    sources = (tmp_path / "common_main.c", tmp_path / "common_other.c")
    kernel.load_driver(build_filter(*sources, cc=cc), "common_main")
    assert printed(kernel, "common_main") == ["count 2\n"]
    with pytest.raises(BuildError, match="multiple definition|duplicate symbol"):
        build_filter(*sources, cc=cc, extra=["-fno-common"])


# --- -fno-delete-null-pointer-checks -----------------------------------------------------------

NULL_CHECK = r"""
#include <ntddk.h>
""" + UNLOAD + r"""
/* Not static: nothing about its callers is known where it is compiled. */
__attribute__((noinline)) BOOLEAN CopyAndCheck(PVOID Destination, const VOID *Source, SIZE_T Length)
{
    RtlCopyMemory(Destination, Source, Length);
    return Source == NULL;
}
static const VOID *volatile NoSource;
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UCHAR Buffer[4];
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    DbgPrint("null check %s\n", CopyAndCheck(Buffer, NoSource, 0) ? "kept" : "deleted");
    return STATUS_SUCCESS;
}
"""


def test_a_null_check_after_a_copy_survives_O2(kernel, build_filter, cc):
    """MSVC does not remove a NULL test because the pointer went to memcpy before (Windows drivers
    rely on it; Linux's kernel builds with -fno-delete-null-pointer-checks for the same reason, and
    gcc's manual documents that -O2 otherwise deletes it). gcc without the flag deletes it; clang 14
    keeps it either way, and keeps it with the harness's flags."""
    assert run_entry(kernel, build_filter, NULL_CHECK, cc, "null_check") == ["null check kept\n"]
    if cc == "gcc":
        assert run_entry(kernel, build_filter, NULL_CHECK, cc, "null_deleted",
                         ["-fdelete-null-pointer-checks"]) == ["null check deleted\n"]


# --- -fno-strict-aliasing ----------------------------------------------------------------------

ALIASING = r"""
#include <ntddk.h>
""" + UNLOAD + r"""
__attribute__((noinline)) LONG Alias(LONG *Whole, float *Same)
{
    *Whole = 1;
    *Same = 0.0f;
    return *Whole;
}
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    static LONG Cell;
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    DbgPrint("read back %ld\n", Alias(&Cell, (float *)(PVOID)&Cell));
    return STATUS_SUCCESS;
}
"""


def test_a_store_through_another_type_is_seen(kernel, build_filter, cc):
    """MSVC does no type-based alias analysis: a store through a float * to a LONG's storage is read
    back (0); gcc and clang at -O2 with strict aliasing return the stale 1."""
    assert run_entry(kernel, build_filter, ALIASING, cc, "aliasing") == ["read back 0\n"]
    assert run_entry(kernel, build_filter, ALIASING, cc, "aliasing_strict", ["-fstrict-aliasing"]) == ["read back 1\n"]


# --- MSVC idioms -------------------------------------------------------------------------------

def idiom_driver(body: str, define: str = "") -> str:
    return ("#include <ntddk.h>\n" + define + UNLOAD + "NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, "
            "PUNICODE_STRING RegistryPath)\n{\n    UNREFERENCED_PARAMETER(RegistryPath);\n"
            "    DriverObject->DriverUnload = Unload;\n" + body + "    return STATUS_SUCCESS;\n}\n")


LITERAL_PASTE = idiom_driver('    LOG("pasted %d\\n", 7);\n',
                             '#define LOG(fmt, ...) DbgPrint("[drv] " ## fmt, __VA_ARGS__)\n')
EMPTY_VA_ARGS = idiom_driver('    LOG("no arguments\\n");\n    LOG("one %d\\n", 1);\n',
                             "#define LOG(fmt, ...) DbgPrint(fmt, __VA_ARGS__)\n")
GNU_VA_ARGS = idiom_driver('    LOG("no arguments\\n");\n    LOG("one %d\\n", 1);\n',
                           "#define LOG(fmt, ...) DbgPrint(fmt, ##__VA_ARGS__)\n")
FUNCTION_LITERAL = idiom_driver('    DbgPrint("in " __FUNCTION__ "\\n");\n')
FUNCTION_ARGUMENT = idiom_driver('    DbgPrint("in %s\\n", __FUNCTION__);\n')


def test_pasting_string_literals(kernel, build_filter, cc):
    """MSVC's traditional preprocessor lets `"[drv] " ## fmt` form the two adjacent literals (as
    clang's Microsoft mode models it: its ext_pp_bad_paste_ms diagnostic, an error elsewhere); clang
    does under -fms-compatibility, the warning off; gcc refuses, and the build says what to write."""
    if cc == "clang":
        assert run_entry(kernel, build_filter, LITERAL_PASTE, cc, "paste") == ["[drv] pasted 7\n"]
        return
    with pytest.raises(BuildError) as refused:
        build_filter(LITERAL_PASTE, cc=cc, name="paste")
    assert 'write `"prefix" fmt`' in str(refused.value)


def test_a_comma_before_empty_va_args(kernel, build_filter, cc):
    """MSVC's traditional preprocessor removes the comma before an empty __VA_ARGS__ (Microsoft's
    "MSVC new preprocessor overview", comma elision); clang does under -fms-compatibility; gcc keeps
    it, and the build says to write `, ##__VA_ARGS__`, which all three accept."""
    if cc == "clang":
        assert run_entry(kernel, build_filter, EMPTY_VA_ARGS, cc, "va_empty") == ["no arguments\n", "one 1\n"]
    else:
        with pytest.raises(BuildError) as refused:
            build_filter(EMPTY_VA_ARGS, cc=cc, name="va_empty")
        assert "write `, ##__VA_ARGS__`" in str(refused.value)
    assert run_entry(kernel, build_filter, GNU_VA_ARGS, cc, "va_gnu") == ["no arguments\n", "one 1\n"]


def test_function_name_is_no_string_literal(kernel, build_filter, cc):
    """MSVC makes __FUNCTION__ a string literal (Microsoft's "Predefined macros" documentation), so
    `"in " __FUNCTION__` concatenates; for gcc and clang 14 it is a variable (C99's __func__) and no
    header can make it a literal: the build refuses it and says to print it with %s, which works
    (clang 17's Microsoft mode concatenates it: LLVM review D153914)."""
    try:
        lines = run_entry(kernel, build_filter, FUNCTION_LITERAL, cc, "function_literal")
    except BuildError as refused:
        assert "print it with %s" in str(refused)
    else:  # a later clang's Microsoft mode concatenates it, as MSVC does
        assert cc == "clang" and lines == ["in DriverEntry\n"]
    assert run_entry(kernel, build_filter, FUNCTION_ARGUMENT, cc, "function_argument") == ["in DriverEntry\n"]


DECLSPECS = r"""
#include <ntddk.h>
""" + UNLOAD + r"""
typedef struct _INNER { ULONG Inner; } INNER;
typedef struct _OUTER { INNER; ULONG Outer; } OUTER;      /* an anonymous member of a named type */
__declspec(selectany) ULONG Chosen = 5;
__declspec(noinline) static ULONG Plus(ULONG Value) { return Value + 1; }
static __forceinline ULONG Twice(ULONG Value) { return Value * 2; }
__forceinline ULONG Thrice(ULONG Value) { return Value * 3; }
DECLSPEC_NOINLINE ULONG Four(VOID) { return 4; }
__declspec(align(16)) static UCHAR Aligned[16];
unsigned __int64 Wide = 1;
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OUTER Both;
    UNREFERENCED_PARAMETER(RegistryPath);
    DriverObject->DriverUnload = Unload;
    Both.Inner = 10;
    Both.Outer = 20;
    DbgPrint("%lu %lu %lu %lu %lu %lu %d %d\n", Both.Inner + Both.Outer, Chosen, Plus(1), Twice(2), Thrice(3), Four(),
             (int)(((ULONG_PTR)Aligned) % 16), (int)sizeof(Wide));
    return STATUS_SUCCESS;
}
"""


def test_declspec_forceinline_and_anonymous_members(kernel, build_filter, cc):
    """__declspec(selectany/noinline/align), __forceinline (static and not), DECLSPEC_NOINLINE,
    unsigned __int64 and MSVC's anonymous struct member of a named type (Microsoft's "Anonymous
    structures" C extension, -fms-extensions for gcc and clang) build and mean what MSVC means."""
    assert run_entry(kernel, build_filter, DECLSPECS, cc, "declspecs") == ["30 5 2 4 9 4 0 8\n"]


def test_a_failed_build_names_no_idiom_it_does_not_see(cc):
    """The idiom hints come from the lines the diagnostics point to: an ordinary error gets none."""
    with pytest.raises(BuildError) as refused:
        build.build("#include <ntddk.h>\nint f(void) { return undefined_thing; }\n", cc=cc, name="plain_error")
    assert "MSVC idioms" not in str(refused.value)


# --- C++ filters -------------------------------------------------------------------------------

CXX_FILTER = r"""
#include <ntddk.h>
#include <ntstrsafe.h>

namespace {
/* C++ the filter's own way: a class, a template, a reference, a scoped enum. */
enum class Verdict { Allow, Deny };

template <typename T, size_t N> constexpr size_t CountOf(const T (&)[N]) { return N; }

class ValueGuard {
public:
    explicit ValueGuard(const WCHAR *Name) { RtlInitUnicodeString(&Protected, Name); }
    Verdict Judge(const UNICODE_STRING &Value) const
    {
        return RtlEqualUnicodeString(&Value, &Protected, TRUE) ? Verdict::Deny : Verdict::Allow;
    }
private:
    UNICODE_STRING Protected;
};

LARGE_INTEGER Cookie;
WCHAR NameBuffer[32];
ValueGuard *Guard;
UCHAR GuardStorage[sizeof(ValueGuard)];
}  // namespace

static NTSTATUS Callback(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context);
    if ((REG_NOTIFY_CLASS)(ULONG_PTR)Argument1 != RegNtPreSetValueKey)
        return STATUS_SUCCESS;
    auto *Info = static_cast<PREG_SET_VALUE_KEY_INFORMATION>(Argument2);
    if (Guard->Judge(*Info->ValueName) == Verdict::Deny) {
        DbgPrint("cxx: denied %wZ\n", Info->ValueName);
        return STATUS_ACCESS_DENIED;
    }
    return STATUS_SUCCESS;
}

static VOID Unload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    CmUnRegisterCallback(Cookie);
}

extern "C" NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NTSTATUS Status = RtlStringCchCopyW(NameBuffer, CountOf(NameBuffer), L"Protected");
    if (!NT_SUCCESS(Status))
        return Status;
    Guard = reinterpret_cast<ValueGuard *>(GuardStorage);
    *Guard = ValueGuard(NameBuffer);
    DriverObject->DriverUnload = Unload;
    return CmRegisterCallback(Callback, nullptr, &Cookie);
}
"""


def test_a_cxx_filter_builds_loads_and_blocks(kernel, build_filter, cc, tmp_path):
    """A C++ filter (.cpp) is compiled by g++ or clang++ with MSVC /kernel's rules (no exceptions,
    no RTTI: Microsoft's "/kernel" documentation) against ntddk.h and ntstrsafe.h, its DriverEntry
    extern "C"; loaded, its callback denies a set-value by name."""
    from ntddk_py import REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS

    source = tmp_path / "cxx_guard.cpp"
    source.write_text(CXX_FILTER)
    kernel.load_driver(build_filter(source, cc=cc), "cxx_guard")
    reg = kernel.registry
    status, handle, _ = reg.create_key("\\REGISTRY\\MACHINE\\SOFTWARE\\CxxGuard")
    assert status == STATUS_SUCCESS
    assert reg.set_value(handle, "Protected", REG_SZ, "x\0".encode("utf-16-le")) == STATUS_ACCESS_DENIED
    assert reg.set_value(handle, "Other", REG_SZ, "x\0".encode("utf-16-le")) == STATUS_SUCCESS
    reg.close(handle)
    assert printed(kernel, "cxx_guard") == ["cxx: denied Protected\n"]


def test_cmhook_build_and_run_pick_the_cxx_compiler(cc, tmp_path):
    """`cmhook build filter.cpp` compiles it as C++ (a template and a class only C++ has) into a
    module, and `cmhook run filter.cpp` builds and runs it."""
    source = tmp_path / "cxx_guard.cpp"
    source.write_text(CXX_FILTER)
    done = cmhook("build", source, "--cc", cc, "-o", tmp_path / "guard.so")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "guard.so").is_file()
    script = tmp_path / "guard.script"
    script.write_text('create HKLM\\SOFTWARE\\CxxGuard\nset HKLM\\SOFTWARE\\CxxGuard "Protected"="x"\n'
                      "expect STATUS_ACCESS_DENIED\n")
    done = cmhook("run", source, "--cc", cc, "--script", script)
    assert done.returncode == 0 and "cxx: denied Protected" in done.stdout, done.stdout + done.stderr


# Every header a driver includes; a part of another one (wdm_io.h, wdm.h's I/O objects, refuses to be
# included alone) compiles as part of the header that includes it.
HEADERS = sorted(path.name for path in header_model.HEADER.parent.glob("*.h") if "is a part of" not in path.read_text())


@pytest.mark.parametrize("header", HEADERS)
def test_every_header_compiles_as_cxx(cc, header, tmp_path):
    """Each header of the set, on its own, compiles as C++ with the harness's C++ flags (warnings
    are errors): the WDK's headers are extern "C"-clean and used from C++ drivers."""
    source = tmp_path / "probe.cpp"
    source.write_text(f"#include <{header}>\nextern \"C\" int Probe(void) {{ return 0; }}\n")
    driver, flags = build.source_command(cc, source)
    assert driver == build.CXX_COMPILERS[cc]
    import subprocess

    done = subprocess.run([driver, *flags, *build.HEADER_INCLUDES, "-Werror", "-fsyntax-only", str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_cxx_flags_are_kernel_cxx(cc):
    """What a C++ source is compiled with: MSVC /kernel's no exceptions and no RTTI, and no C-only flag."""
    driver, flags = build.source_command(cc, Path("filter.cpp"))
    assert {"-fno-exceptions", "-fno-rtti"} <= set(flags)
    assert "-Werror=implicit-function-declaration" not in flags
    assert build.source_command(cc, Path("filter.c"))[0] == cc
