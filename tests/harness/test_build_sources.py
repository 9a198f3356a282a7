"""Real drivers are several files: `cmhook build`, `cmhook run` and `harness.build` compile the
user's sources where they live (local includes resolve, diagnostics and debug info name the
user's files), take -I, -D and pass-through flags, always show warnings, refuse implicit
declarations saying whether the harness lacks the routine, cache by every file the compiler
read, and name the module after its first source, so the driver's RegistryPath is its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import cmhook

from harness import build
from harness.build import BuildError
from ntddk_py import REG_DWORD

SERVICES = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services"

# Reads its Parameters key under the RegistryPath DriverEntry gets, as real filters do.
PROTECT_C = r"""#include <ntddk.h>
#include "config.h"

static VOID Unload(PDRIVER_OBJECT DriverObject) { UNREFERENCED_PARAMETER(DriverObject); }

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    OBJECT_ATTRIBUTES Attributes;
    UNICODE_STRING Parameters = RTL_CONSTANT_STRING(L"Parameters"), Mode = RTL_CONSTANT_STRING(L"Mode");
    HANDLE Service, Key;
    UCHAR Buffer[64];
    ULONG Length;
    PKEY_VALUE_PARTIAL_INFORMATION Info = (PKEY_VALUE_PARTIAL_INFORMATION)Buffer;
    DriverObject->DriverUnload = Unload;
    DbgPrint("%s: service %wZ, helper %d\n", GREETING, RegistryPath, Helper());
    InitializeObjectAttributes(&Attributes, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&Service, KEY_READ, &Attributes)))
        return STATUS_SUCCESS;
    InitializeObjectAttributes(&Attributes, &Parameters, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, Service, NULL);
    if (NT_SUCCESS(ZwOpenKey(&Key, KEY_READ, &Attributes))) {
        if (NT_SUCCESS(ZwQueryValueKey(Key, &Mode, KeyValuePartialInformation, Info, sizeof(Buffer), &Length)))
            DbgPrint("%s: mode %u\n", GREETING, *(PULONG)Info->Data);
        ZwClose(Key);
    } else {
        DbgPrint("%s: no Parameters\n", GREETING);
    }
    ZwClose(Service);
    return STATUS_SUCCESS;
}
"""
CONFIG_H = '#define GREETING "protect"\nint Helper(void);\n'
UTIL_C = '#include "config.h"\nint Helper(void) { return HELPER_VALUE; }\n'
WARNS_C = ("#include <ntddk.h>\nstatic VOID Unload(PDRIVER_OBJECT d) { UNREFERENCED_PARAMETER(d); }\n"
           "NTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r) {\n"
           "    int unused_counter;\n    UNREFERENCED_PARAMETER(r);\n    d->DriverUnload = Unload;\n"
           "    return STATUS_SUCCESS;\n}\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A driver as real ones are laid out: main and a helper source, a header next to them, an include dir."""
    drv = tmp_path / "drv"
    (drv / "inc").mkdir(parents=True)
    (drv / "protect.c").write_text(PROTECT_C)
    (drv / "config.h").write_text(CONFIG_H)
    (drv / "inc" / "util.h").write_text("#define HELPER_VALUE 42\n")
    (drv / "util.c").write_text('#include "util.h"\n' + UTIL_C)
    return drv


def debug_names(module: Path) -> str:
    return subprocess.run(["readelf", "--debug-dump=info", str(module)], capture_output=True, text=True).stdout


# --- cmhook build -------------------------------------------------------------------------

def test_cli_build_compiles_several_sources_where_they_live(project, kernel):
    done = cmhook("build", "protect.c", "util.c", "-I", "inc", "-DEXTRA=1", "-O0", "-Werror", cwd=project)
    assert done.returncode == 0, done.stderr
    module = project / "protect.so"
    assert done.stdout.strip() == "protect.so" and module.exists()
    info = debug_names(module)
    # the compile units are the user's files, compiled in the user's folder: no copy anywhere
    assert "protect.c" in info and "util.c" in info and str(project) in info
    assert "cmhook-build-" not in info and "/filters/" not in info
    driver = kernel.load_driver(module)
    assert driver.name == "protect"
    assert kernel.debug_output[0] == ("protect", f"protect: service {SERVICES}\\protect, helper 42\n")


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_cli_build_shows_warnings_when_the_build_succeeds(tmp_path, cc):
    (tmp_path / "warns.c").write_text(WARNS_C)
    done = cmhook("build", tmp_path / "warns.c", "--cc", cc)
    assert done.returncode == 0, done.stderr
    assert "unused_counter" in done.stderr and "warns.c:4" in done.stderr
    assert done.stdout.strip() == str(tmp_path / "warns.so")


def test_cli_build_takes_defines_with_and_without_values(tmp_path):
    (tmp_path / "d.c").write_text("#if !defined(BARE) || VALUE != 7\n#error defines did not arrive\n#endif\n"
                                  "#include <ntddk.h>\nNTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r)"
                                  " { UNREFERENCED_PARAMETER(d); UNREFERENCED_PARAMETER(r); return 0; }\n")
    assert cmhook("build", tmp_path / "d.c", "-D", "BARE", "-DVALUE=7").returncode == 0
    done = cmhook("build", tmp_path / "d.c", "-DVALUE=8")
    assert done.returncode == 1 and "defines did not arrive" in done.stderr


def test_cli_build_passes_an_option_with_a_separate_value_through(tmp_path):
    (tmp_path / "forced.h").write_text('#define FORCED "yes"\n')
    (tmp_path / "f.c").write_text('#include <ntddk.h>\nconst char *Forced = FORCED;\n'
                                  "NTSTATUS DriverEntry(PDRIVER_OBJECT d, PUNICODE_STRING r)"
                                  " { UNREFERENCED_PARAMETER(d); UNREFERENCED_PARAMETER(r); return 0; }\n")
    done = cmhook("build", "f.c", "-include", "forced.h", "-o", "f.so", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_cli_build_refuses_a_mistyped_long_option_and_a_non_c_source(tmp_path):
    (tmp_path / "warns.c").write_text(WARNS_C)
    (tmp_path / "config.h").write_text(CONFIG_H)
    done = cmhook("build", tmp_path / "warns.c", "--outptu", "x.so")
    assert done.returncode == 2 and "unrecognized arguments: --outptu" in done.stderr
    done = cmhook("build", tmp_path / "warns.c", tmp_path / "config.h")
    assert done.returncode == 1 and "config.h is not a C source" in done.stderr


# --- cmhook run ---------------------------------------------------------------------------

def test_cli_run_builds_a_driver_with_a_header_next_to_it(tmp_path):
    """The issue's check: `cmhook run drv/main.c` with `#include "config.h"` next to main.c."""
    drv = tmp_path / "drv"
    drv.mkdir()
    (drv / "config.h").write_text('#define GREETING "from config.h"\n')
    (drv / "main.c").write_text(WARNS_C.replace("    return STATUS_SUCCESS;",
                                                '    DbgPrint("%s\\n", GREETING);\n    return STATUS_SUCCESS;')
                                .replace("#include <ntddk.h>", '#include <ntddk.h>\n#include "config.h"'))
    done = cmhook("run", "drv/main.c", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[main] from config.h" in done.stdout
    assert "unused_counter" in done.stderr and str(drv / "main.c") in done.stderr  # the user's file, not a copy


def test_cli_run_builds_one_driver_from_several_sources(project):
    done = cmhook("run", "protect.c+util.c", "-I", "inc", "-O0", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"[protect] protect: service {SERVICES}\\protect, helper 42" in done.stdout


def test_cli_run_reports_a_build_failure_and_refuses_flags_without_a_c_driver(tmp_path):
    (tmp_path / "bad.c").write_text("#include <ntddk.h>\nint x = Oops;\n")
    done = cmhook("run", tmp_path / "bad.c")
    assert done.returncode == 1 and "cmhook run: gcc could not build bad.c" in done.stderr and "Oops" in done.stderr
    done = cmhook("run", tmp_path / "some.so", "-O0")
    assert done.returncode == 2 and "no DRIVER is a C source" in done.stderr


# --- implicit declarations ------------------------------------------------------------------

@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_an_implicit_declaration_is_an_error_saying_whether_the_harness_lacks_the_routine(tmp_path, cc):
    source = tmp_path / "implicit.c"
    source.write_text("#include <ntddk.h>\nint f(PVOID p) { ZwMadeUpRoutine(p); memcpy(p, p, 1); return 0; }\n")
    with pytest.raises(BuildError) as refused:
        build.build(source, cc=cc)
    message = str(refused.value)
    assert f"{cc} could not build implicit.c" in message
    assert "ZwMadeUpRoutine: the harness does not export it" in message
    assert "memcpy: the harness exports it" in message and "<ntddk.h> does not declare it" in message


def test_a_routine_the_header_declares_but_the_source_did_not_include(tmp_path):
    (tmp_path / "noheader.c").write_text("int f(void) { return (int)ZwClose(0); }\n")
    done = cmhook("build", tmp_path / "noheader.c")
    assert done.returncode == 1
    assert "ZwClose: the harness exports it and <ntddk.h> declares it: #include <ntddk.h>" in done.stderr


# --- the cache ------------------------------------------------------------------------------

def test_the_cache_covers_every_header_the_compiler_read(project, kernel):
    first = build.build(project / "protect.c", project / "util.c", include_dirs=[project / "inc"])
    again = build.build(project / "protect.c", project / "util.c", include_dirs=[project / "inc"])
    assert not first.cached and again.cached and again.module == first.module
    assert {project / "config.h", project / "inc" / "util.h"} <= set(first.dependencies)
    (project / "inc" / "util.h").write_text("#define HELPER_VALUE 43\n")  # a header two folders away
    changed = build.build(project / "protect.c", project / "util.c", include_dirs=[project / "inc"])
    assert not changed.cached
    kernel.load_driver(changed.module)
    assert kernel.debug_output[0][1].endswith("helper 43\n")


def test_a_cached_build_still_shows_its_warnings(tmp_path):
    (tmp_path / "warns.c").write_text(WARNS_C)
    shown: list[str] = []
    for _ in range(2):
        build.build_filter(tmp_path / "warns.c", on_warnings=shown.append)
    assert len(shown) == 2 and all("unused_counter" in text for text in shown)
    assert shown[0].startswith("gcc warned building warns.c:")
    with pytest.warns(build.CompilerWarning, match="unused_counter"):
        build.build_filter(tmp_path / "warns.c")


def test_defines_and_include_dirs_are_part_of_the_key(project):
    one = build.build(project / "protect.c", project / "util.c", include_dirs=[project / "inc"], defines={"X": 1})
    two = build.build(project / "protect.c", project / "util.c", include_dirs=[project / "inc"], defines=["X=2"])
    assert one.module != two.module and not two.cached


# --- the driver's name ------------------------------------------------------------------------

def test_a_cached_module_is_named_after_its_source_so_the_driver_finds_its_parameters(project, kernel):
    module = build.build_filter(project / "protect.c", project / "util.c", include_dirs=[project / "inc"])
    assert module.name == "protect.so"
    kernel.registry.put(f"{SERVICES}\\protect\\Parameters", "Mode", REG_DWORD, 7)
    driver = kernel.load_driver(module)
    assert driver.name == "protect"
    assert kernel.debug_output == [("protect", f"protect: service {SERVICES}\\protect, helper 42\n"),
                                   ("protect", "protect: mode 7\n")]


def test_name_and_source_strings_name_the_module(tmp_path):
    text = WARNS_C.replace("int unused_counter;", "")
    assert build.build_filter(text).stem == "filter"
    assert build.build_filter(text, name="policy").stem == "policy"
    with pytest.raises(BuildError, match="cannot name a driver"):
        build.build_filter(text, name="../x")


def test_the_earlier_signature_still_names_the_compiler_second(tmp_path):
    (tmp_path / "warns.c").write_text(WARNS_C)
    built = build.build(tmp_path / "warns.c", "clang")
    assert built.cc == "clang" and built.sources == (tmp_path / "warns.c",)
    comment = subprocess.run(["readelf", "-p", ".comment", str(built.module)], capture_output=True, text=True)
    assert "clang" in comment.stdout


def test_define_flags_spelling():
    assert build.define_flags({"A": None, "B": 1, "C": True, "F(x)": "x"}) == ["-DA", "-DB=1", "-DC", "-DF(x)=x"]
    assert build.define_flags(["A", "B=2"]) == ["-DA", "-DB=2"]
    with pytest.raises(BuildError):
        build.define_flags(["1BAD"])
