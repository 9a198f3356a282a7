"""Buffer rules of every information class at lengths 0, fixed-1, fixed, needed-1 and needed.

Rules (issue 4, matching Microsoft's ZwQueryValueKey/ZwQueryKey documentation): a buffer
shorter than the fixed part gets STATUS_BUFFER_TOO_SMALL and nothing; one holding the fixed
part but not the whole record gets STATUS_BUFFER_OVERFLOW with the fixed part and as much of
the tail as fits; ResultLength is always the size needed; nothing is NUL-terminated.
"""

from __future__ import annotations

import pytest

from ntddk_py import (
    KEY_INFORMATION_CLASS,
    KEY_VALUE_INFORMATION_CLASS,
    REG_SZ,
    STATUS_BUFFER_OVERFLOW,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_SUCCESS,
    ctypes_types,
)
from registry_core import infoclass
from registry_core.store import Store, Value

from .helpers import decode

VALUE = Value("Shell", REG_SZ, "explorer.exe".encode("utf-16-le"))


def _store_key():
    store = Store()
    key = store.create_subkey(store.root, "Winlogon", class_name="Cls")
    key.set_value(VALUE)
    store.create_subkey(key, "Sub")
    return key


def _cases():
    for cls in KEY_VALUE_INFORMATION_CLASS:
        yield "value", cls
    for cls in KEY_INFORMATION_CLASS:
        if cls in infoclass.KEY_RECORDS:
            yield "key", cls


@pytest.mark.parametrize("kind,cls", list(_cases()), ids=lambda v: getattr(v, "name", v))
def test_buffer_rules(kind, cls):
    query = infoclass.query_value if kind == "value" else infoclass.query_key
    subject = VALUE if kind == "value" else _store_key()
    builder = (infoclass.VALUE_RECORDS if kind == "value" else infoclass.KEY_RECORDS)[cls]
    layout, record = builder(subject)
    fixed, needed = layout.fixed, len(record)
    assert needed >= fixed
    for length in sorted({0, max(fixed - 1, 0), fixed, max(needed - 1, fixed), needed, needed + 10}):
        answer = query(subject, cls, length)
        assert answer.result_length == needed, length
        if length < fixed:
            assert (answer.status, answer.data) == (STATUS_BUFFER_TOO_SMALL, b""), length
        elif length < needed:
            assert answer.status == STATUS_BUFFER_OVERFLOW and answer.data == record[:length], length
        else:
            assert (answer.status, answer.data) == (STATUS_SUCCESS, record), length


def test_value_full_information_layout():
    answer = infoclass.query_value(VALUE, KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation, 1000)
    info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, answer.data)
    assert (info.Type, info.NameLength, info.DataLength) == (REG_SZ, 10, 24)
    assert info.DataOffset % 8 == 0 and info.DataOffset >= 20 + 10
    assert answer.data[20:30] == "Shell".encode("utf-16-le")
    assert answer.data[info.DataOffset:] == VALUE.data  # no terminator added
    assert answer.result_length == info.DataOffset + 24


def test_value_partial_information_layout():
    answer = infoclass.query_value(VALUE, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 1000)
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.data)
    assert (info.Type, info.DataLength, answer.result_length) == (REG_SZ, 24, 12 + 24)
    assert answer.data[12:] == VALUE.data


def test_key_basic_and_name_information():
    key = _store_key()
    basic = infoclass.query_key(key, KEY_INFORMATION_CLASS.KeyBasicInformation, 1000)
    assert basic.result_length == 16 + 2 * len("Winlogon")
    assert basic.data[16:] == "Winlogon".encode("utf-16-le")
    name = infoclass.query_key(key, KEY_INFORMATION_CLASS.KeyNameInformation, 1000)
    assert name.data[4:] == "\\REGISTRY\\Winlogon".encode("utf-16-le")


def test_key_full_information_counts():
    key = _store_key()
    answer = infoclass.query_key(key, KEY_INFORMATION_CLASS.KeyFullInformation, 1000)
    info = decode(ctypes_types.KEY_FULL_INFORMATION, answer.data)
    assert (info.SubKeys, info.MaxNameLen, info.Values, info.MaxValueNameLen, info.MaxValueDataLen) == (
        1, 6, 1, 10, 24)
    assert (info.ClassOffset, info.ClassLength) == (44, 6)
    assert answer.data[44:] == "Cls".encode("utf-16-le")


def test_unknown_class_is_reported_as_such():
    assert infoclass.query_value(VALUE, 99, 100) is None
    assert infoclass.query_key(_store_key(), 99, 100) is None
