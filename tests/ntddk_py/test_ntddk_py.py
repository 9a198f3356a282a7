"""ntddk_py's Python surface: constants, enums, status helpers, cffi and ctypes agreeing on memory."""

from __future__ import annotations

import ctypes
from enum import IntEnum

import pytest

import ntddk_py
from ntddk_py import ctypes_types, ffi


@pytest.mark.parametrize("status,success", [
    (ntddk_py.STATUS_SUCCESS, True), (ntddk_py.STATUS_REPARSE, True), (ntddk_py.STATUS_OBJECT_NAME_EXISTS, True),
    (ntddk_py.STATUS_BUFFER_OVERFLOW, False), (ntddk_py.STATUS_ACCESS_DENIED, False),
    (0xC0000022, False), (0x40000000, True), (0x7FFFFFFF, True), (0x80000000, False),
])
def test_nt_success_is_true_for_success_and_informational_severities(status, success):
    assert ntddk_py.nt_success(status) is success


def test_status_name_accepts_signed_and_unsigned_spellings():
    assert ntddk_py.status_name(ntddk_py.STATUS_ACCESS_DENIED) == "STATUS_ACCESS_DENIED"
    assert ntddk_py.status_name(0xC0000022) == "STATUS_ACCESS_DENIED"
    assert ntddk_py.status_name(0) == "STATUS_SUCCESS"
    assert ntddk_py.status_name(0xC0DEC0DE) == "0xC0DEC0DE"


def test_ntstatus_constants_are_the_signed_values_c_returns():
    assert ntddk_py.STATUS_ACCESS_DENIED < 0
    assert ntddk_py.ntstatus(0xC0000022) == ntddk_py.STATUS_ACCESS_DENIED
    assert ffi.cast("NTSTATUS", 0xC0000022) == ntddk_py.STATUS_ACCESS_DENIED


def test_reg_notify_class_is_an_intenum_with_the_spec_aliases():
    rnc = ntddk_py.REG_NOTIFY_CLASS
    assert issubclass(rnc, IntEnum)
    assert rnc.RegNtPreDeleteKey is rnc.RegNtDeleteKey
    assert rnc.RegNtPreKeyHandleClose is rnc.RegNtKeyHandleClose
    # The specification's 30 values, Vista's 19 later classes and MaxRegNtNotifyClass (49), as
    # mingw-w64's wdm.h numbers them.
    assert len(set(rnc)) == 50
    assert rnc.MaxRegNtNotifyClass == 49 and rnc.RegNtCallbackObjectContextCleanup == 40
    assert ntddk_py.RegNtPostOpenKeyEx is rnc.RegNtPostOpenKeyEx


def test_every_enum_of_the_header_is_an_intenum():
    for name in ["KEY_INFORMATION_CLASS", "KEY_VALUE_INFORMATION_CLASS", "KEY_SET_INFORMATION_CLASS",
                 "POOL_TYPE", "MODE"]:
        assert issubclass(getattr(ntddk_py, name), IntEnum)


def test_cffi_and_ctypes_read_the_same_bytes_the_same_way():
    """A struct written through ctypes reads back identically through cffi at the same address."""
    name = ctypes.create_unicode_buffer("Run")  # storage only; we fill UNICODE_STRING by hand
    info = ctypes_types.REG_SET_VALUE_KEY_INFORMATION()
    info.Object = 0x1000
    info.TitleIndex = 7
    info.Type = ntddk_py.REG_DWORD
    info.DataSize = 4
    info.ValueName = ctypes.cast(ctypes.addressof(name), ctypes_types.PUNICODE_STRING)
    view = ffi.cast("PREG_SET_VALUE_KEY_INFORMATION", ctypes.addressof(info))
    assert int(ffi.cast("uintptr_t", view.Object)) == 0x1000
    assert (view.TitleIndex, view.Type, view.DataSize) == (7, ntddk_py.REG_DWORD, 4)
    assert int(ffi.cast("uintptr_t", view.ValueName)) == ctypes.addressof(name)


def test_unicode_string_from_cffi_holds_utf16():
    text = "Software\\Run"
    buffer = ffi.new("WCHAR[]", [ord(c) for c in text])
    ustr = ffi.new("UNICODE_STRING *", {"Length": 2 * len(text), "MaximumLength": 2 * len(text) + 2,
                                        "Buffer": buffer})
    raw = ffi.buffer(ustr.Buffer, ustr.Length)[:]
    assert raw.decode("utf-16-le") == text


def test_callback_type_round_trips_through_cffi():
    seen = []

    @ffi.callback("PEX_CALLBACK_FUNCTION")
    def callback(context, argument1, argument2):
        seen.append(int(ffi.cast("uintptr_t", argument1)))
        return ntddk_py.STATUS_ACCESS_DENIED

    status = callback(ffi.NULL, ffi.cast("PVOID", ntddk_py.RegNtPreSetValueKey), ffi.NULL)
    assert status == ntddk_py.STATUS_ACCESS_DENIED
    assert seen == [ntddk_py.RegNtPreSetValueKey]
