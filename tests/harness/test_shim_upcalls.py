"""The shim's upcall table: the committed generated files are what a fresh generation makes, the
table is exactly the routine registry, handles (and the native routines' pointers) cross as
integers, and nothing parses include/ntddk.h at run time."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pycparser import c_parser

import ntddk_py
from harness import kernel as kernel_module
from harness import routines, shim
from ntddk_py import PROTOTYPES, header_model
from registry_core.native import NativeApi

# The shim's own upcalls; the last three are the dispatcher's (kewait).
SHIM_UPCALLS = ["PoolAllocated", "PoolFreed", "DbgOutput", "Finding", "ClockPin", "ThreadBegins", "DispatcherFinding"]


@pytest.fixture(scope="module")
def model() -> header_model.HeaderModel:
    return header_model.load()


def test_committed_shim_files_equal_a_fresh_generation(model):
    assert shim.stale_files(shim.render_all(model)) == [], "run: python -m harness.shim"


def test_generation_is_reproducible(model):
    assert shim.render_all(model) == shim.render_all(header_model.load())


def test_check_command_exits_zero_on_a_fresh_tree():
    done = subprocess.run([sys.executable, "-m", "harness.shim", "--check"], capture_output=True, text=True,
                          cwd=header_model.REPO)
    assert done.returncode == 0, done.stderr


def test_check_mode_reports_a_stale_file(tmp_path, model):
    rendered = shim.render_all(model)
    for name, text in rendered.items():
        (tmp_path / name).write_text(text)
    assert shim.stale_files(rendered, tmp_path) == []
    # A routine registered but not regenerated: the committed table lacks its member.
    grown = shim.render_all(model, [*routines.ROUTINES, "KeGetCurrentIrql"], routines.NATIVE_ROUTINES)
    assert sorted(shim.stale_files(grown, tmp_path)) == sorted(shim.GENERATED)


def test_generation_refuses_what_python_cannot_implement(model):
    with pytest.raises(ValueError, match="does not declare: NoSuchRoutine"):
        shim.render_all(model, ["NoSuchRoutine"], ())
    with pytest.raises(ValueError, match="DbgPrint is variadic"):
        shim.render_all(model, ["DbgPrint"], ())


def test_the_upcall_table_is_exactly_the_routine_registry():
    ffi = shim.shim_ffi()
    members = [name for name, _ in ffi.typeof("CMHOOK_ROUTINE_UPCALLS").fields]
    ntddk = [name for name in PROTOTYPES if name in routines.ROUTINES]  # the header's order
    assert members[:len(ntddk)] == ntddk
    assert set(members[len(ntddk):]) == routines.NTIFS_ROUTINES  # then ntifs.h's, which includes ntddk.h first
    assert set(members) == set(routines.ROUTINES)
    assert [name for name, _ in ffi.typeof("CMHOOK_UPCALLS").fields] == ["Routines", *SHIM_UPCALLS]


def test_handles_and_the_native_routines_pointers_cross_as_integers():
    """HANDLE -> ULONG_PTR everywhere; every pointer of Zw*Key/ZwClose too; LARGE_INTEGER -> its QuadPart."""
    ffi = shim.shim_ffi()
    as_integer, quad = ffi.typeof("ULONG_PTR"), ffi.typeof("LONGLONG")
    for name, member in ffi.typeof("CMHOOK_ROUTINE_UPCALLS").fields:
        if name in routines.NTIFS_ROUTINES:  # not in the bindings (ntifs.h): their HANDLE ids cross as integers
            if name in ("PsLookupProcessByProcessId", "PsLookupThreadByThreadId"):
                assert member.type.args[0] == as_integer, name
            continue
        expected = []
        for _, spelled in PROTOTYPES[name]:
            declared = ffi.typeof(spelled)
            if spelled == "HANDLE" or name in routines.NATIVE_ROUTINES and declared.kind == "pointer":
                expected.append(as_integer)
            else:
                expected.append(quad if spelled == "LARGE_INTEGER" else declared)
        assert list(member.type.args) == expected, name


def test_native_routines_are_the_zw_registry_calls_of_the_native_api():
    assert routines.NATIVE_ROUTINES == tuple(n for n in PROTOTYPES if n.startswith("Zw") and n.endswith("Key")) + (
        "ZwClose",)
    assert all(callable(getattr(NativeApi, "Nt" + name[2:], None)) for name in routines.NATIVE_ROUTINES)
    assert "ZwQueryInformationProcess" in routines.ROUTINES and "ZwQueryInformationProcess" not in (
        routines.NATIVE_ROUTINES)


def test_the_registry_refuses_undeclared_and_repeated_routines():
    with pytest.raises(ValueError, match="no routine include/ntddk.h declares"):
        routines.routine("NoSuchRoutine")
    registered = routines.ROUTINES["ZwClose"]
    with pytest.raises(ValueError, match="ZwClose is registered twice"):
        routines.routine("ZwClose")(lambda kernel, Handle: 0)
    assert routines.ROUTINES["ZwClose"] is registered


def test_binding_names_what_the_table_and_the_registry_disagree_on():
    ctype = shim.shim_ffi().typeof("CMHOOK_UPCALLS")
    with pytest.raises(RuntimeError, match=r"no implementation: \['PoolFreed'\]"):
        kernel_module._upcall_types(ctype, {"PoolAllocated": print, "DbgOutput": print, "Finding": print,
                                            "ClockPin": print, "ThreadBegins": print, "DispatcherFinding": print},
                                    skip="Routines")
    with pytest.raises(RuntimeError, match=r"no upcall in harness/shim/cmhook_upcalls.h: \['Extra'\].*harness.shim"):
        kernel_module._upcall_types(ctype, dict.fromkeys([*SHIM_UPCALLS, "Extra"], print), skip="Routines")


def test_cdef_reads_the_committed_headers_without_their_directives():
    text = shim.cdef_text()
    assert "CMHOOK_ROUTINE_UPCALLS Routines;" in text and "extern CMHOOK_UPCALLS CmhookUpcalls;" in text
    assert not [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_the_running_shim_parses_no_header(monkeypatch):
    """Building, loading and describing the shim read only committed files: no header model, and pycparser
    (which cffi's cdef uses) never sees the header's declarations."""
    parse = c_parser.CParser.parse

    def refuse(*args, **kwargs):
        raise AssertionError("the header was read at run time")

    def parse_no_header(self, text, *args, **kwargs):
        if "struct _UNICODE_STRING" in text:
            refuse()
        return parse(self, text, *args, **kwargs)

    monkeypatch.setattr(header_model, "load", refuse)
    monkeypatch.setattr(header_model, "preprocess", refuse)
    monkeypatch.setattr(c_parser.CParser, "parse", parse_no_header)
    ffi = shim.shim_ffi.__wrapped__()
    library = shim.build_shim()
    lib = ffi.dlopen(str(library))
    assert lib.CmhookModuleBase(ffi.NULL) == 0
    assert set(routines.ROUTINES) <= shim.exported_symbols(library)
    assert ntddk_py.ffi.typeof("HANDLE").kind == "pointer"
