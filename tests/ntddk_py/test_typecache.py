"""ntddk_py.typecache: every typedef's T, T * and T[] resolved in two bulk parses and found by cffi's
own string lookup, each exactly the ctype cffi would have parsed the string into."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cffi
import pytest

from ntddk_py import CDEF, ffi, typecache

SAMPLES = ["ULONG", "PVOID *", "UCHAR[]", "WCHAR[]", "char *", "UNICODE_STRING", "REG_SET_VALUE_KEY_INFORMATION *",
           "KEY_VALUE_INFORMATION_CLASS", "PEX_CALLBACK_FUNCTION", "KEY_VALUE_ENTRY[]", "unsigned long long *"]


@pytest.fixture(scope="module")
def plain() -> cffi.FFI:
    """An FFI of the same header that parses each string itself."""
    fresh = cffi.FFI()
    fresh.cdef(CDEF)
    return fresh


@pytest.mark.parametrize("text", SAMPLES)
def test_a_resolved_string_is_the_ctype_cffi_parses_it_into(plain, text):
    assert text in ffi._parsed_types  # filled at import: no parse of its own
    mine, theirs = ffi.typeof(text), plain.typeof(text)
    assert (mine.cname, mine.kind) == (theirs.cname, theirs.kind)
    if not text.endswith("[]"):  # an open array has no size
        assert ffi.sizeof(mine) == plain.sizeof(theirs)


def test_a_function_typedef_stays_a_function_type_as_cffi_has_it(plain):
    """EX_CALLBACK_FUNCTION names a function type: typeof refuses it the same way, and its pointer is
    PEX_CALLBACK_FUNCTION's type."""
    for one in (ffi, plain):
        with pytest.raises(cffi.CDefError, match="is a function type, not a pointer-to-function type"):
            one.typeof("EX_CALLBACK_FUNCTION")
    assert ffi.typeof("EX_CALLBACK_FUNCTION *") is ffi.typeof("PEX_CALLBACK_FUNCTION")


_WORKLOAD = """
import cffi.api
parses = []
parse = cffi.api.FFI._typeof_locked
cffi.api.FFI._typeof_locked = lambda self, cdecl: parses.append(cdecl) or parse(self, cdecl)
import ntddk_py
from registry_core.registry import Registry
bulk = len(parses)
registry = Registry()
status, handle, _ = registry.create_key("\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE\\\\TypeCache")
registry.set_value(handle, "v", ntddk_py.REG_DWORD, bytes(4))
registry.query_value(handle, "v")
registry.enumerate_key(handle, 0)
registry.close(handle)
print(bulk, parses[bulk:])
"""


def test_a_fresh_process_running_the_engine_parses_only_the_two_bulk_structs():
    """In a new process (nothing inherited), import and a create/set/query/enumerate/close ask cffi's
    parser for the two bulk structs only: every string the engine uses is found in the table."""
    done = subprocess.run([sys.executable, "-c", _WORKLOAD], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.split(maxsplit=1) == ["2", "[]\n"], done.stdout + done.stderr


def test_an_ffi_without_the_table_is_left_as_it_is():
    class Bare:
        def list_types(self):
            raise AssertionError("not asked")
    assert typecache.resolve_all(Bare()) == 0
