"""The Python face of the registry: every native call with Windows-shaped inputs and outputs.

A test writes ``reg.set_value(handle, "Shell", REG_SZ, data)`` and gets the
NTSTATUS back (never an exception for a registry error). Each call builds the
caller's own UNICODE_STRINGs, OBJECT_ATTRIBUTES and buffers in user memory, as
a user-mode program would, calls ``NativeApi`` and reads the answers out:
query and enumerate calls take a Length and return the raw buffer and
ResultLength. Helpers for test writers (``exists``, ``get_value``, ``put``,
``tree``, ``load``) sit on top. Safe to use from many threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_INFORMATION_CLASS,
    KEY_READ,
    KEY_VALUE_INFORMATION_CLASS,
    OBJ_CASE_INSENSITIVE,
    REG_QWORD,
    REG_SZ,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    ffi,
    nt_success,
    status_name,
)

from . import infoclass
from .memory import UserMemory
from .native import NativeApi
from .store import Store

DEFAULT_LENGTH = 4096


class CreateResult(NamedTuple):
    status: int
    handle: int
    disposition: int


class OpenResult(NamedTuple):
    status: int
    handle: int


class QueryResult(NamedTuple):
    """What the caller's buffer holds after the call, and the ResultLength written."""

    status: int
    buffer: bytes
    result_length: int


class MultipleResult(NamedTuple):
    status: int
    entries: list[tuple[int, int, int]]  # (Type, DataOffset, DataLength) per KEY_VALUE_ENTRY
    buffer: bytes
    buffer_length: int
    required_length: int


class RegistryError(Exception):
    """A helper (not a native call) met a status it cannot go on from."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: {status_name(status)}")
        self.status = status


class Arena:
    """The user-mode memory one call uses; freed when the call returns."""

    def __init__(self, memory: UserMemory) -> None:
        self.memory = memory
        self.blocks: list = []

    def new(self, ctype: str, init=None):
        block = self.memory.alloc(ctype, init)
        self.blocks.append(block)
        return block

    def unicode_string(self, text: str | None):
        """A UNICODE_STRING over a buffer holding text (no terminator), or NULL for None."""
        if text is None:
            return ffi.NULL
        encoded = text.encode("utf-16-le", "surrogatepass")
        buffer = self.new("UCHAR[]", max(len(encoded), 1))
        ffi.memmove(buffer, encoded, len(encoded))
        if len(encoded) > 0xFFFE:
            raise ValueError(f"a UNICODE_STRING holds at most 32767 characters, not {len(encoded) // 2}")
        return self.new("UNICODE_STRING *", {"Length": len(encoded), "MaximumLength": len(encoded),
                                             "Buffer": ffi.cast("PWSTR", buffer)})

    def data(self, data: bytes):
        block = self.new("UCHAR[]", max(len(data), 1))
        ffi.memmove(block, data, len(data))
        return block

    def free(self) -> None:
        for block in self.blocks:
            self.memory.free(block)
        self.blocks.clear()


def encode_data(type_: int, data: bytes | str | int | Iterable[str]) -> bytes:
    """Bytes for a value as regedit would store it: strings UTF-16 with one terminator."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return (data + "\0").encode("utf-16-le", "surrogatepass")
    if isinstance(data, int):
        return data.to_bytes(8 if type_ == REG_QWORD else 4, "little")
    return ("".join(item + "\0" for item in data) + "\0").encode("utf-16-le", "surrogatepass")


class Registry:
    """One emulated registry: the native API plus the conveniences tests want."""

    def __init__(self, contents: str | dict | None = "default", store: Store | None = None) -> None:
        self.native = NativeApi(store)
        if contents == "default":
            from .defaults import build_default
            build_default(self.native.store)
        elif isinstance(contents, dict):
            self.load(contents)
        elif contents not in (None, "empty"):
            raise ValueError(f"contents is 'default', 'empty' or a dict, not {contents!r}")

    @contextmanager
    def arena(self) -> Iterator[Arena]:
        arena = Arena(self.native.memory)
        try:
            yield arena
        finally:
            arena.free()

    # --- the native calls ---------------------------------------------------------
    def _attributes(self, arena: Arena, path: str | None, root: int, attributes: int):
        return arena.new("OBJECT_ATTRIBUTES *", {
            "Length": ffi.sizeof("OBJECT_ATTRIBUTES"), "RootDirectory": ffi.cast("HANDLE", root),
            "ObjectName": arena.unicode_string(path), "Attributes": attributes})

    def create_key(self, path: str, access: int = KEY_ALL_ACCESS, *, root: int = 0, options: int = 0,
                   class_name: str | None = None, attributes: int = OBJ_CASE_INSENSITIVE) -> CreateResult:
        with self.arena() as arena:
            handle, disposition = arena.new("HANDLE *"), arena.new("ULONG *")
            status = self.native.NtCreateKey(handle, access, self._attributes(arena, path, root, attributes), 0,
                                             arena.unicode_string(class_name), options, disposition)
            return CreateResult(status, int(ffi.cast("ULONG_PTR", handle[0])), disposition[0])

    def open_key(self, path: str, access: int = KEY_READ, *, root: int = 0,
                 attributes: int = OBJ_CASE_INSENSITIVE) -> OpenResult:
        with self.arena() as arena:
            handle = arena.new("HANDLE *")
            status = self.native.NtOpenKey(handle, access, self._attributes(arena, path, root, attributes))
            return OpenResult(status, int(ffi.cast("ULONG_PTR", handle[0])))

    def close(self, handle: int) -> int:
        return self.native.NtClose(handle)

    def delete_key(self, handle: int) -> int:
        return self.native.NtDeleteKey(handle)

    def rename_key(self, handle: int, new_name: str) -> int:
        with self.arena() as arena:
            return self.native.NtRenameKey(handle, arena.unicode_string(new_name))

    def flush_key(self, handle: int) -> int:
        return self.native.NtFlushKey(handle)

    def set_information_key(self, handle: int, information_class: int, data: bytes) -> int:
        with self.arena() as arena:
            return self.native.NtSetInformationKey(handle, information_class, arena.data(data), len(data))

    def set_value(self, handle: int, name: str, type_: int, data: bytes) -> int:
        with self.arena() as arena:
            return self.native.NtSetValueKey(handle, arena.unicode_string(name), 0, type_, arena.data(data),
                                             len(data))

    def delete_value(self, handle: int, name: str) -> int:
        with self.arena() as arena:
            return self.native.NtDeleteValueKey(handle, arena.unicode_string(name))

    def _query(self, call, length: int, fill: int) -> QueryResult:
        with self.arena() as arena:
            buffer, result = arena.new("UCHAR[]", bytes([fill]) * max(length, 1)), arena.new("ULONG *", 0xFFFFFFFF)
            status = call(arena, buffer, result)
            return QueryResult(status, ffi.buffer(buffer, length)[:], result[0])

    def query_value(self, handle: int, name: str,
                    information_class: int = KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation,
                    length: int = DEFAULT_LENGTH, *, fill: int = 0) -> QueryResult:
        return self._query(lambda arena, buffer, result: self.native.NtQueryValueKey(
            handle, arena.unicode_string(name), information_class, buffer, length, result), length, fill)

    def enumerate_value(self, handle: int, index: int,
                        information_class: int = KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation,
                        length: int = DEFAULT_LENGTH, *, fill: int = 0) -> QueryResult:
        return self._query(lambda arena, buffer, result: self.native.NtEnumerateValueKey(
            handle, index, information_class, buffer, length, result), length, fill)

    def query_key(self, handle: int, information_class: int = KEY_INFORMATION_CLASS.KeyFullInformation,
                  length: int = DEFAULT_LENGTH, *, fill: int = 0) -> QueryResult:
        return self._query(lambda arena, buffer, result: self.native.NtQueryKey(
            handle, information_class, buffer, length, result), length, fill)

    def enumerate_key(self, handle: int, index: int,
                      information_class: int = KEY_INFORMATION_CLASS.KeyBasicInformation,
                      length: int = DEFAULT_LENGTH, *, fill: int = 0) -> QueryResult:
        return self._query(lambda arena, buffer, result: self.native.NtEnumerateKey(
            handle, index, information_class, buffer, length, result), length, fill)

    def query_multiple_values(self, handle: int, names: list[str], buffer_length: int) -> MultipleResult:
        with self.arena() as arena:
            entries = arena.new("KEY_VALUE_ENTRY[]", max(len(names), 1))
            for index, name in enumerate(names):
                entries[index].ValueName = arena.unicode_string(name)
            buffer = arena.new("UCHAR[]", max(buffer_length, 1))
            length, required = arena.new("ULONG *", buffer_length), arena.new("ULONG *", 0)
            status = self.native.NtQueryMultipleValueKey(handle, entries, len(names), buffer, length, required)
            return MultipleResult(status, [(e.Type, e.DataOffset, e.DataLength) for e in entries[0:len(names)]],
                                  ffi.buffer(buffer, buffer_length)[:], length[0], required[0])

    # --- helpers for test writers ---------------------------------------------------
    def exists(self, path: str) -> bool:
        status, handle = self.open_key(path, KEY_READ)
        if nt_success(status):
            self.close(handle)
        return nt_success(status)

    def get_value(self, path: str, name: str) -> tuple[int, bytes] | None:
        """(type, data) of a value, or None when the key or the value is missing."""
        status, handle = self.open_key(path, KEY_READ)
        if not nt_success(status):
            return None
        try:
            sizing = self.query_value(handle, name, length=0)
            if sizing.status != STATUS_BUFFER_TOO_SMALL:
                return None
            full = self.query_value(handle, name, length=sizing.result_length)
            if not nt_success(full.status):
                return None
            info, data = infoclass.decode("KEY_VALUE_PARTIAL_INFORMATION", full.buffer)
            return info.Type, data[:info.DataLength]
        finally:
            self.close(handle)

    def put(self, path: str, name: str | None = None, type_: int = REG_SZ,
            data: bytes | str | int | Iterable[str] = b"") -> None:
        """Create a key and any missing parents, then (if name is given) set one value."""
        handle = self.create_path(path)
        try:
            if name is not None:
                status = self.set_value(handle, name, type_, encode_data(type_, data))
                if not nt_success(status):
                    raise RegistryError(f"setting {path}\\{name}", status)
        finally:
            self.close(handle)

    def create_path(self, path: str) -> int:
        """A handle to the key at path, creating each missing level in turn (NtCreateKey makes one)."""
        parts = [part for part in path.split("\\") if part]
        if not parts:
            raise RegistryError(f"{path!r} names no key", STATUS_OBJECT_PATH_SYNTAX_BAD)
        handle, current = 0, ""
        for part in parts:
            current += "\\" + part
            if handle:
                self.close(handle)
            status, handle, _ = self.create_key(current)
            if not nt_success(status):
                raise RegistryError(f"creating {current}", status)
        return handle

    def subkey_names(self, handle: int) -> list[str]:
        """The names of a key's subkeys, in enumeration order, through NtEnumerateKey."""
        names: list[str] = []
        index = 0
        while True:
            result = self.enumerate_key(handle, index, KEY_INFORMATION_CLASS.KeyBasicInformation, 1024)
            if not nt_success(result.status):
                return names
            info, name = infoclass.decode("KEY_BASIC_INFORMATION", result.buffer)
            names.append(name[:info.NameLength].decode("utf-16-le", "surrogatepass"))
            index += 1

    def load(self, contents: dict) -> None:
        """Build keys and values from {path: {name: (type, data)}} (an empty dict: just the key)."""
        for path, values in contents.items():
            self.put(path)
            for name, (type_, data) in values.items():
                self.put(path, name, type_, data)

    def tree(self, path: str = "\\REGISTRY") -> dict:
        """{name: {"values": {name: (type, data)}, "subkeys": {...}}} below a key, read without the API."""
        key = self.native.store.walk(path)
        if key is None:
            raise RegistryError(f"{path} does not exist", 0)

        def dump(node) -> dict:
            return {"values": {v.name: (v.type, v.data) for v in node.values()},
                    "subkeys": {child.name: dump(child) for child in node.subkeys()}}

        return dump(key)


__all__ = ["Registry", "RegistryError", "CreateResult", "OpenResult", "QueryResult", "MultipleResult",
           "encode_data"]
