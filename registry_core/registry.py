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
    STATUS_NAME_TOO_LONG,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_SUCCESS,
    ffi,
    nt_success,
    status_name,
)

from . import infoclass
from .memory import UserMemory
from .names import MAX_UNICODE_STRING_BYTES, MAX_UNICODE_STRING_CHARS
from .native import NativeApi
from .store import Store

DEFAULT_LENGTH = 4096
# A UNICODE_STRING's Length is a USHORT of bytes: at most 65,534, 32,767 UTF-16 units.


def utf16_units(text: str) -> int:
    """How many UTF-16 units the text is (a character beyond U+FFFF is two)."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for character in text if character > "\uffff")


class NameTooLong(ValueError):
    """A name no UNICODE_STRING can hold: the helpers turn it into STATUS_NAME_TOO_LONG."""


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
        if len(encoded) > MAX_UNICODE_STRING_BYTES:
            raise NameTooLong(f"a UNICODE_STRING holds at most {MAX_UNICODE_STRING_CHARS} characters, "
                              f"not {len(encoded) // 2}")
        buffer = self.new("UCHAR[]", max(len(encoded), 1))
        ffi.memmove(buffer, encoded, len(encoded))
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
    """One emulated registry: the native API plus the conveniences tests want.

    A name longer than a UNICODE_STRING holds (32,767 UTF-16 units) never reaches the native API:
    the call returns STATUS_NAME_TOO_LONG, what RtlInitUnicodeStringEx gives a caller building such
    a string (cmhook's decision, modelled on that routine)."""

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
            try:
                attributes_ = self._attributes(arena, path, root, attributes)
                class_string = arena.unicode_string(class_name)
            except NameTooLong:
                return CreateResult(STATUS_NAME_TOO_LONG, 0, 0)
            status = self.native.NtCreateKey(handle, access, attributes_, 0, class_string, options, disposition)
            return CreateResult(status, int(ffi.cast("ULONG_PTR", handle[0])), disposition[0])

    def open_key(self, path: str, access: int = KEY_READ, *, root: int = 0,
                 attributes: int = OBJ_CASE_INSENSITIVE) -> OpenResult:
        with self.arena() as arena:
            handle = arena.new("HANDLE *")
            try:
                attributes_ = self._attributes(arena, path, root, attributes)
            except NameTooLong:
                return OpenResult(STATUS_NAME_TOO_LONG, 0)
            status = self.native.NtOpenKey(handle, access, attributes_)
            return OpenResult(status, int(ffi.cast("ULONG_PTR", handle[0])))

    def close(self, handle: int) -> int:
        return self.native.NtClose(handle)

    def delete_key(self, handle: int) -> int:
        return self.native.NtDeleteKey(handle)

    def rename_key(self, handle: int, new_name: str) -> int:
        with self.arena() as arena:
            try:
                string = arena.unicode_string(new_name)
            except NameTooLong:
                return STATUS_NAME_TOO_LONG
            return self.native.NtRenameKey(handle, string)

    def flush_key(self, handle: int) -> int:
        return self.native.NtFlushKey(handle)

    def set_information_key(self, handle: int, information_class: int, data: bytes) -> int:
        with self.arena() as arena:
            return self.native.NtSetInformationKey(handle, information_class, arena.data(data), len(data))

    def set_value(self, handle: int, name: str, type_: int, data: bytes) -> int:
        with self.arena() as arena:
            try:
                string = arena.unicode_string(name)
            except NameTooLong:
                return STATUS_NAME_TOO_LONG
            return self.native.NtSetValueKey(handle, string, 0, type_, arena.data(data), len(data))

    def delete_value(self, handle: int, name: str) -> int:
        with self.arena() as arena:
            try:
                string = arena.unicode_string(name)
            except NameTooLong:
                return STATUS_NAME_TOO_LONG
            return self.native.NtDeleteValueKey(handle, string)

    def _query(self, call, length: int, fill: int) -> QueryResult:
        with self.arena() as arena:
            buffer, result = arena.new("UCHAR[]", bytes([fill]) * max(length, 1)), arena.new("ULONG *", 0xFFFFFFFF)
            try:
                status = call(arena, buffer, result)
            except NameTooLong:
                status = STATUS_NAME_TOO_LONG
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
            try:
                for index, name in enumerate(names):
                    entries[index].ValueName = arena.unicode_string(name)
            except NameTooLong:
                return MultipleResult(STATUS_NAME_TOO_LONG, [], b"", buffer_length, 0)
            buffer = arena.new("UCHAR[]", max(buffer_length, 1))
            length, required = arena.new("ULONG *", buffer_length), arena.new("ULONG *", 0)
            status = self.native.NtQueryMultipleValueKey(handle, entries, len(names), buffer, length, required)
            return MultipleResult(status, [(e.Type, e.DataOffset, e.DataLength) for e in entries[0:len(names)]],
                                  ffi.buffer(buffer, buffer_length)[:], length[0], required[0])

    # --- helpers for test writers ---------------------------------------------------
    def exists(self, path: str) -> bool:
        status, handle = self.open_path(path, KEY_READ)
        if nt_success(status):
            self.close(handle)
        return nt_success(status)

    def get_value(self, path: str, name: str) -> tuple[int, bytes] | None:
        """(type, data) of a value, or None when the key or the value is missing."""
        status, handle = self.open_path(path, KEY_READ)
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
        """A handle to the key at path, creating what is missing, as RegCreateKeyEx does: one
        NtCreateKey of the whole path, which is all it takes when the parent exists; when the parent
        is missing too (STATUS_OBJECT_NAME_NOT_FOUND), each level in turn (NtCreateKey makes one).
        A level is created by its absolute name while that fits a UNICODE_STRING; deeper, by its own
        name relative to the level above (RootDirectory), so a path of any length works."""
        parts = [part for part in path.split("\\") if part]
        if not parts:
            raise RegistryError(f"{path!r} names no key", STATUS_OBJECT_PATH_SYNTAX_BAD)
        whole = "\\" + "\\".join(parts)
        if utf16_units(whole) <= MAX_UNICODE_STRING_CHARS:
            status, handle, _ = self.create_key(whole)
            if nt_success(status):
                return handle
            if status != STATUS_OBJECT_NAME_NOT_FOUND:
                raise RegistryError(f"creating {whole}", status)
        handle, current, units = 0, "", 0
        for part in parts:
            current += "\\" + part
            units += 1 + utf16_units(part)
            if units <= MAX_UNICODE_STRING_CHARS or not handle:
                if handle:
                    self.close(handle)
                status, handle, _ = self.create_key(current)
            else:
                status, child, _ = self.create_key(part, root=handle)
                self.close(handle)
                handle = child
            if not nt_success(status):
                raise RegistryError(f"creating {_shorten(current)}", status)
        return handle

    def open_path(self, path: str, access: int = KEY_READ, *, attributes: int = OBJ_CASE_INSENSITIVE) -> OpenResult:
        """NtOpenKey of an absolute path; one longer than a UNICODE_STRING holds is opened in pieces
        that each fit, every piece relative to the key the one before opened."""
        if utf16_units(path) <= MAX_UNICODE_STRING_CHARS:
            return self.open_key(path, access, attributes=attributes)
        pieces: list[str] = []
        units = 0
        for part in (part for part in path.split("\\") if part):
            if pieces and units + 1 + utf16_units(part) <= MAX_UNICODE_STRING_CHARS:
                pieces[-1] += "\\" + part
                units += 1 + utf16_units(part)
            else:
                pieces.append(("\\" if not pieces else "") + part)
                units = utf16_units(pieces[-1])
        handle = 0
        for piece in pieces:
            status, opened = self.open_key(piece, access, root=handle, attributes=attributes)
            if handle:
                self.close(handle)
            if not nt_success(status):
                return OpenResult(status, 0)
            handle = opened
        return OpenResult(STATUS_SUCCESS, handle)

    def subkey_name(self, handle: int, index: int) -> str | None:
        """The name of the key's subkey at index (NtEnumerateKey), or None past the last one."""
        result = self.enumerate_key(handle, index, KEY_INFORMATION_CLASS.KeyBasicInformation, 1024)
        if not nt_success(result.status):
            return None
        info, name = infoclass.decode("KEY_BASIC_INFORMATION", result.buffer)
        return name[:info.NameLength].decode("utf-16-le", "surrogatepass")

    def subkey_names(self, handle: int) -> list[str]:
        """The names of a key's subkeys, in enumeration order, through NtEnumerateKey."""
        names: list[str] = []
        while (name := self.subkey_name(handle, len(names))) is not None:
            names.append(name)
        return names

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

        def entry(node) -> dict:
            return {"values": {v.name: (v.type, v.data) for v in node.values()}, "subkeys": {}}

        # A loop, not recursion: a tree of any depth.
        top = entry(key)
        stack = [(key, top)]
        while stack:
            node, out = stack.pop()
            for child in node.subkeys():
                out["subkeys"][child.name] = made = entry(child)
                stack.append((child, made))
        return top


def _shorten(text: str, keep: int = 200) -> str:
    """A path for a message: a very long one cut in the middle."""
    return text if len(text) <= keep else f"{text[:keep // 2]}...({len(text)} characters)...{text[-keep // 2:]}"


__all__ = ["Registry", "RegistryError", "NameTooLong", "MAX_UNICODE_STRING_CHARS", "utf16_units",
           "CreateResult", "OpenResult", "QueryResult", "MultipleResult",
           "encode_data"]
