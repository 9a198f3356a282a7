"""Information-class records and the buffer rules every query and enumerate call shares.

A record is a fixed part (the struct up to its variable member: FIELD_OFFSET
of Name, Class or Data) followed by a variable tail. The rules, as Windows
applies them to every class:

- Length below the fixed part: STATUS_BUFFER_TOO_SMALL, nothing written;
- Length below the whole record: STATUS_BUFFER_OVERFLOW, the fixed part and as
  much of the tail as fits written;
- otherwise STATUS_SUCCESS and the whole record;
- ResultLength is the whole record's size in all three cases; nothing is
  NUL-terminated.

Layouts come from ntddk_py's ctypes classes, never from offsets typed here.
This module knows keys and values only through the few attributes it reads.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass

from ntddk_py import (
    KEY_INFORMATION_CLASS,
    KEY_VALUE_INFORMATION_CLASS,
    STATUS_BUFFER_OVERFLOW,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_SUCCESS,
    ctypes_types,
)

from .store import Key, Value

# KEY_VALUE_FULL_INFORMATION.DataOffset is aligned to a pointer's size on x64
# (docs/registry-facts.md fact 10 and open question Q1: unverified on Windows);
# the Align64 classes ask for 8 explicitly.
DATA_ALIGNMENT = ctypes.sizeof(ctypes.c_void_p)
# "No class" and "no data" offsets (facts 10-12).
NO_OFFSET = 0xFFFFFFFF
# Windows returns TitleIndex as 0 in every record (fact 20); the field is unused.
TITLE_INDEX = 0


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le", "surrogatepass")


def _align(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


@dataclass(frozen=True)
class Layout:
    """A record type and the member where its variable tail starts (None: no tail)."""

    type_name: str
    tail: str | None

    @property
    def cls(self) -> type[ctypes.Structure]:
        return getattr(ctypes_types, self.type_name)

    @property
    def fixed(self) -> int:
        """The part a buffer must at least hold: FIELD_OFFSET of the tail, else the struct."""
        if self.tail is None:
            return ctypes.sizeof(self.cls)
        return getattr(self.cls, self.tail).offset

    def encode(self, fields: dict[str, int], tail: bytes = b"") -> bytes:
        record = self.cls()
        for name, value in fields.items():
            if name == "LastWriteTime":
                record.LastWriteTime.QuadPart = value
            else:
                setattr(record, name, value)
        return bytes(record)[: self.fixed] + tail


@dataclass(frozen=True)
class Answer:
    """What a query writes: the status, the bytes to copy into the buffer, ResultLength."""

    status: int
    data: bytes
    result_length: int


def fit(record: bytes, fixed: int, length: int) -> Answer:
    """Apply the buffer rules to a whole record for a caller's Length."""
    if length < fixed:
        return Answer(STATUS_BUFFER_TOO_SMALL, b"", len(record))
    if length < len(record):
        return Answer(STATUS_BUFFER_OVERFLOW, record[:length], len(record))
    return Answer(STATUS_SUCCESS, record, len(record))


# --- key records -----------------------------------------------------------

def _key_basic(key: Key) -> tuple[Layout, bytes]:
    layout = Layout("KEY_BASIC_INFORMATION", "Name")
    name = utf16(key.name)
    return layout, layout.encode({"LastWriteTime": key.last_write, "TitleIndex": TITLE_INDEX,
                                  "NameLength": len(name)}, name)


def _key_node(key: Key) -> tuple[Layout, bytes]:
    layout = Layout("KEY_NODE_INFORMATION", "Name")
    name, class_name = utf16(key.name), utf16(key.class_name)
    # The class follows the name directly (Microsoft's KEY_NODE_INFORMATION page; Q2).
    class_offset = layout.fixed + len(name) if class_name else NO_OFFSET
    return layout, layout.encode({"LastWriteTime": key.last_write, "TitleIndex": TITLE_INDEX,
                                  "ClassOffset": class_offset, "ClassLength": len(class_name),
                                  "NameLength": len(name)}, name + class_name)


def _subkey_and_value_maxima(key: Key) -> dict[str, int]:
    # The key keeps its maxima as subkeys and values come and go: no scan of a million subkeys here.
    max_name, _ = key.subkey_maxima()
    max_value_name, max_value_data = key.value_maxima()
    return {"SubKeys": key.subkey_count(), "MaxNameLen": max_name, "Values": key.value_count(),
            "MaxValueNameLen": max_value_name, "MaxValueDataLen": max_value_data}


def _key_full(key: Key) -> tuple[Layout, bytes]:
    layout = Layout("KEY_FULL_INFORMATION", "Class")
    class_name = utf16(key.class_name)
    fields = {"LastWriteTime": key.last_write, "TitleIndex": TITLE_INDEX,
              "ClassOffset": layout.fixed if class_name else NO_OFFSET, "ClassLength": len(class_name),
              "MaxClassLen": key.subkey_maxima()[1], **_subkey_and_value_maxima(key)}
    return layout, layout.encode(fields, class_name)


def _key_name(key: Key) -> tuple[Layout, bytes]:
    layout = Layout("KEY_NAME_INFORMATION", "Name")
    name = utf16(key.path())
    return layout, layout.encode({"NameLength": len(name)}, name)


def _key_cached(key: Key) -> tuple[Layout, bytes]:
    layout = Layout("KEY_CACHED_INFORMATION", None)
    fields = {"LastWriteTime": key.last_write, "TitleIndex": TITLE_INDEX,
              "NameLength": len(utf16(key.name)), **_subkey_and_value_maxima(key)}
    return layout, layout.encode(fields)


KEY_RECORDS: dict[int, Callable[[Key], tuple[Layout, bytes]]] = {
    KEY_INFORMATION_CLASS.KeyBasicInformation: _key_basic,
    KEY_INFORMATION_CLASS.KeyNodeInformation: _key_node,
    KEY_INFORMATION_CLASS.KeyFullInformation: _key_full,
    KEY_INFORMATION_CLASS.KeyNameInformation: _key_name,
    KEY_INFORMATION_CLASS.KeyCachedInformation: _key_cached,
}


# --- value records ---------------------------------------------------------

def _value_basic(value: Value) -> tuple[Layout, bytes]:
    layout = Layout("KEY_VALUE_BASIC_INFORMATION", "Name")
    name = utf16(value.name)
    return layout, layout.encode({"TitleIndex": TITLE_INDEX, "Type": value.type,
                                  "NameLength": len(name)}, name)


def _value_full(value: Value, alignment: int = DATA_ALIGNMENT) -> tuple[Layout, bytes]:
    layout = Layout("KEY_VALUE_FULL_INFORMATION", "Name")
    name = utf16(value.name)
    data_offset = _align(layout.fixed + len(name), alignment) if value.data else NO_OFFSET
    padding = b"\0" * (data_offset - layout.fixed - len(name)) if value.data else b""
    return layout, layout.encode({"TitleIndex": TITLE_INDEX, "Type": value.type,
                                  "DataOffset": data_offset, "DataLength": len(value.data),
                                  "NameLength": len(name)}, name + padding + value.data)


def _value_partial(value: Value) -> tuple[Layout, bytes]:
    layout = Layout("KEY_VALUE_PARTIAL_INFORMATION", "Data")
    return layout, layout.encode({"TitleIndex": TITLE_INDEX, "Type": value.type,
                                  "DataLength": len(value.data)}, value.data)


def _value_partial_align64(value: Value) -> tuple[Layout, bytes]:
    layout = Layout("KEY_VALUE_PARTIAL_INFORMATION_ALIGN64", "Data")
    return layout, layout.encode({"Type": value.type, "DataLength": len(value.data)}, value.data)


VALUE_RECORDS: dict[int, Callable[[Value], tuple[Layout, bytes]]] = {
    KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation: _value_basic,
    KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation: _value_full,
    KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation: _value_partial,
    KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformationAlign64: lambda value: _value_full(value, 8),
    KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformationAlign64: _value_partial_align64,
}


# The variable member of each record a caller decodes.
TAILS = {"KEY_BASIC_INFORMATION": "Name", "KEY_NODE_INFORMATION": "Name", "KEY_FULL_INFORMATION": "Class",
         "KEY_NAME_INFORMATION": "Name", "KEY_VALUE_BASIC_INFORMATION": "Name", "KEY_VALUE_FULL_INFORMATION": "Name",
         "KEY_VALUE_PARTIAL_INFORMATION": "Data", "KEY_VALUE_PARTIAL_INFORMATION_ALIGN64": "Data"}


def decode(type_name: str, buffer: bytes) -> tuple[ctypes.Structure, bytes]:
    """A record read back from a caller's buffer: its fixed fields, and the bytes from its variable member on."""
    layout = Layout(type_name, TAILS.get(type_name))
    size = ctypes.sizeof(layout.cls)
    record = layout.cls.from_buffer_copy(buffer[:size].ljust(size, b"\0"))
    return record, buffer[layout.fixed:]


def query_key(key: Key, information_class: int, length: int) -> Answer | None:
    """The answer for a key record, or None when the class is not one the header defines."""
    build = KEY_RECORDS.get(information_class)
    if build is None:
        return None
    layout, record = build(key)
    return fit(record, layout.fixed, length)


def query_value(value: Value, information_class: int, length: int) -> Answer | None:
    """The answer for a value record, or None when the class is not one the header defines."""
    build = VALUE_RECORDS.get(information_class)
    if build is None:
        return None
    layout, record = build(value)
    return fit(record, layout.fixed, length)
