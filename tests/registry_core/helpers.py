"""What the registry_core tests share: calls that assert their status, decoders of the information
records, a caller's OBJECT_ATTRIBUTES built in user memory, the raw NtCreateKey / NtOpenKey with
*KeyHandle preset to garbage, and the callback tests' key and registration helpers.

Each helper takes the registry it works on as its first argument: a test passes its fixture
(``registry``, ``seeded_registry``, ``traced_registry`` ...).
"""

from __future__ import annotations

import ctypes

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_INFORMATION_CLASS,
    KEY_READ,
    KEY_VALUE_INFORMATION_CLASS,
    OBJ_CASE_INSENSITIVE,
    REG_CREATED_NEW_KEY,
    STATUS_SUCCESS,
    ctypes_types,
    ffi,
)
from registry_core.registry import Registry

SOFTWARE = "\\REGISTRY\\MACHINE\\SOFTWARE"
TEST_KEY = SOFTWARE + "\\Test"
# What a caller leaves in *KeyHandle before the call, to see that a failing call clears it.
GARBAGE_HANDLE = 0xDEADBEEF


# --- pointers and records ---------------------------------------------------------------------

def address(cdata) -> int:
    """A cffi pointer's address as an int."""
    return int(ffi.cast("ULONG_PTR", cdata))


def decode(struct: type[ctypes.Structure], buffer: bytes):
    """A ctypes record over a copy of buffer, padded if the buffer is shorter than the struct."""
    return struct.from_buffer_copy(buffer.ljust(ctypes.sizeof(struct), b"\0"))


def tail(struct: type[ctypes.Structure], buffer: bytes, field: str, length: int) -> bytes:
    """The variable part that starts at a structure's named member."""
    start = getattr(struct, field).offset
    return buffer[start:start + length]


# --- calls that must succeed --------------------------------------------------------------------

def open_ok(registry: Registry, path: str, access: int = KEY_READ, **kwargs) -> int:
    """NtOpenKey through the Python face, asserting STATUS_SUCCESS; the handle."""
    status, handle = registry.open_key(path, access, **kwargs)
    assert status == STATUS_SUCCESS, (path, hex(access), status)
    return handle


def open_or_create(registry: Registry, call: str, path: str, access: int = KEY_READ, **kwargs) -> tuple[int, int]:
    """(status, handle) from NtOpenKey (call "open") or NtCreateKey (call "create") through the Python face."""
    if call == "open":
        status, handle = registry.open_key(path, access, **kwargs)
        return status, handle
    status, handle, _ = registry.create_key(path, access, **kwargs)
    return status, handle


def create_new(registry: Registry, name: str, root: int = 0, **kwargs) -> int:
    """NtCreateKey(KEY_ALL_ACCESS), asserting STATUS_SUCCESS and REG_CREATED_NEW_KEY; the handle."""
    status, handle, disposition = registry.create_key(name, KEY_ALL_ACCESS, root=root, **kwargs)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY), name
    return handle


def key_name(registry: Registry, handle: int) -> str:
    """The full path KeyNameInformation reports for a handle."""
    result = registry.query_key(handle, KEY_INFORMATION_CLASS.KeyNameInformation)
    assert result.status == STATUS_SUCCESS
    info = decode(ctypes_types.KEY_NAME_INFORMATION, result.buffer)
    return tail(ctypes_types.KEY_NAME_INFORMATION, result.buffer, "Name", info.NameLength).decode("utf-16-le")


def is_path(name: str, expected: str) -> bool:
    """name is the path expected: the \\REGISTRY part compared without case (its case is open question Q13),
    the last component exactly as it was created."""
    return name.upper() == expected.upper() and name.endswith("\\" + expected.rsplit("\\", 1)[1])


def read_value(registry: Registry, handle: int, name: str) -> tuple[int, int, bytes]:
    """(status, Type, data) of a value through KeyValuePartialInformation; (status, 0, b"") on a failure."""
    answer = registry.query_value(handle, name, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation, 1 << 21)
    if answer.status != STATUS_SUCCESS:
        return answer.status, 0, b""
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.buffer)
    return answer.status, info.Type, tail(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.buffer, "Data",
                                          info.DataLength)


# --- the raw calls, with the caller's memory built by hand ----------------------------------------

def object_attributes(arena, name, *, root: int = 0, attributes: int = OBJ_CASE_INSENSITIVE, length=None,
                      unicode_string=None):
    """A caller's OBJECT_ATTRIBUTES in user memory (name as a fresh UNICODE_STRING unless one is given)."""
    return arena.new("OBJECT_ATTRIBUTES *", {
        "Length": ffi.sizeof("OBJECT_ATTRIBUTES") if length is None else length,
        "RootDirectory": ffi.cast("HANDLE", root),
        "ObjectName": arena.unicode_string(name) if unicode_string is None else unicode_string,
        "Attributes": attributes})


def raw_call(registry: Registry, call: str, handle_pointer, access: int, attributes_pointer, options: int = 0) -> int:
    """NtOpenKey (call "open") or NtCreateKey (call "create", with options) on the caller's pointers."""
    if call == "open":
        return registry.native.NtOpenKey(handle_pointer, access, attributes_pointer)
    return registry.native.NtCreateKey(handle_pointer, access, attributes_pointer, 0, ffi.NULL, options, ffi.NULL)


def raw_open_or_create(registry: Registry, call: str, name: str, access: int = KEY_READ, *, options: int = 0,
                       **attributes) -> tuple[int, int]:
    """(status, *KeyHandle afterwards) of raw_call, *KeyHandle holding garbage before the call;
    attributes are object_attributes' keywords (root, attributes, length, unicode_string)."""
    with registry.arena() as arena:
        handle = arena.new("HANDLE *", ffi.cast("HANDLE", GARBAGE_HANDLE))
        status = raw_call(registry, call, handle, access, object_attributes(arena, name, **attributes), options)
        return status, address(handle[0])


# --- the callback tests -------------------------------------------------------------------------

def make_key(registry: Registry, name: str) -> int:
    """A KEY_ALL_ACCESS handle to a new key under \\REGISTRY\\MACHINE\\SOFTWARE."""
    status, handle, _ = registry.create_key(f"{SOFTWARE}\\{name}", KEY_ALL_ACCESS)
    assert status == STATUS_SUCCESS, status
    return handle


def register(registry: Registry, flt, context: int = 0) -> int:
    """Register a filter's callback (tests/registry_core/callbacks/filters.py); returns the cookie."""
    status, cookie = registry.native.callbacks.register(flt.callback, context)
    assert status == STATUS_SUCCESS, status
    return cookie


def classes(events) -> list[int]:
    """The notify classes of a filter's recorded events, in order."""
    return [event["class"] for event in events]
