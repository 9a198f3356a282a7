"""Values through the native API: NtSetValueKey, NtQueryValueKey, NtDeleteValueKey, NtQueryMultipleValueKey.

Facts 75-85 (data stored as given, any 32-bit type, zero-length and NULL data, the default value,
missing values, long names, replacement, size, trailing NULs) and 97-102 (NtQueryMultipleValueKey)
of docs/registry-facts.md, plus the user-mode probing of value names and data.
"""

from __future__ import annotations

import pytest

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_INFORMATION_CLASS,
    KEY_QUERY_VALUE,
    KEY_VALUE_INFORMATION_CLASS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_LINK,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_BUFFER_OVERFLOW,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER,
    STATUS_NO_MORE_ENTRIES,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ctypes_types,
    ffi,
    nt_success,
)
from registry_core import caller
from registry_core.registry import Registry

from .helpers import decode, read_value

K = KEY_INFORMATION_CLASS
V = KEY_VALUE_INFORMATION_CLASS
FILL = 0xBD
KEY_PATH = "\\Registry\\Machine\\Software\\cmhook-values"
DWORD_DATA = (0x12345678).to_bytes(4, "little")
PARTIAL_DATA = ctypes_types.KEY_VALUE_PARTIAL_INFORMATION.Data.offset


def foreign_text(text: str):
    """UTF-16 text in memory that is not the caller's (ffi.new, not the user arena)."""
    return ffi.new("UCHAR[]", text.encode("utf-16-le"))


def set_raw(registry: Registry, handle: int, name: str, type_: int, data, size: int) -> int:
    """NtSetValueKey with a name in user memory and whatever data pointer and DataSize are given."""
    with registry.arena() as arena:
        return registry.native.NtSetValueKey(handle, arena.unicode_string(name), 0, type_, data, size)


@pytest.fixture
def key(registry: Registry) -> int:
    status, handle, _ = registry.create_key(KEY_PATH, KEY_ALL_ACCESS)
    assert status == STATUS_SUCCESS
    return handle


# --- fact 75: data stored exactly as given ----------------------------------------------------

@pytest.mark.parametrize("type_,data", [
    (REG_SZ, "string".encode("utf-16-le")),  # no terminator
    (REG_SZ, b"abc"),  # odd length
    (REG_EXPAND_SZ, "%x%\0\0\0junk".encode("utf-16-le")),
    (REG_MULTI_SZ, "a\0b".encode("utf-16-le")),  # no final terminators
    (REG_DWORD, b"\x01\x02\x03\x04\x05\x06\x07"),  # not 4 bytes
    (REG_QWORD, b"\x01"),
    (REG_BINARY, bytes(range(256))),
], ids=["sz-no-nul", "sz-odd", "expand-sz-junk", "multi-sz-short", "dword-7", "qword-1", "binary"])
def test_data_is_stored_exactly_as_given(registry, key, type_, data):
    """Fact 75: data is stored exactly as given, with no terminator added and no check of REG_SZ (or other
    types') content or length; DataLength equals DataSize and the byte after the data is untouched
    (W-NT reg.c test_NtSetValueKey / test_NtQueryValueKey; R-T:NtSetValueKey.c)."""
    assert registry.set_value(key, "v", type_, data) == STATUS_SUCCESS
    answer = registry.query_value(key, "v", V.KeyValuePartialInformation, PARTIAL_DATA + len(data) + 2, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.buffer)
    assert (answer.status, info.Type, info.DataLength) == (STATUS_SUCCESS, type_, len(data))
    assert answer.buffer[PARTIAL_DATA:PARTIAL_DATA + len(data)] == data
    assert answer.buffer[PARTIAL_DATA + len(data):] == bytes([FILL, FILL])


# --- facts 76, 77, 78: types, zero-length and NULL data -------------------------------------------

@pytest.mark.parametrize("type_", [0xFF00FF00, 0xFFFFFFFF, 0x80000000, 12])
def test_any_32_bit_type_is_accepted(registry, key, type_):
    """Fact 76: any 32-bit type is accepted: type 0xFF00FF00 with NULL data and size 0 gives STATUS_SUCCESS and
    reads back with that Type and DataLength 0 (W-NT reg.c test_NtQueryValueKey, "custtest")."""
    assert set_raw(registry, key, "custtest", type_, ffi.NULL, 0) == STATUS_SUCCESS
    answer = registry.query_value(key, "custtest", V.KeyValuePartialInformation, 64, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.buffer)
    assert (answer.status, info.Type, info.DataLength, answer.result_length) == (STATUS_SUCCESS, type_, 0, 12)


@pytest.mark.parametrize("type_", [REG_NONE, REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD,
                                   REG_LINK])
def test_zero_length_data_ignores_the_pointer(registry, key, type_):
    """Fact 77: zero-length data is allowed for every type; with DataSize 0 the data pointer is ignored, even if
    it is NULL or a kernel address (R-T:NtSetValueKey.c rows with size 0; R-API NtSetValueKey)."""
    foreign = ffi.new("UCHAR[]", 4)
    with registry.arena() as arena:
        for data in (ffi.NULL, 0xFFFFF80000001000, foreign, arena.new("UCHAR[]", 4)):
            assert registry.set_value(key, "empty", REG_BINARY, b"\x01") == STATUS_SUCCESS
            status = registry.native.NtSetValueKey(key, arena.unicode_string("empty"), 0, type_, data, 0)
            assert status == STATUS_SUCCESS, data
            assert read_value(registry, key, "empty") == (STATUS_SUCCESS, type_, b""), data


@pytest.mark.parametrize("size", [1, 2, 4])
def test_null_data_with_size_is_access_violation(registry, key, size):
    """Fact 78: a NULL data pointer with DataSize 1, 2 or 4 gives STATUS_ACCESS_VIOLATION and the existing value
    is left unchanged (R-T:NtSetValueKey.c)."""
    assert registry.set_value(key, "v", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert set_raw(registry, key, "v", REG_BINARY, ffi.NULL, size) == STATUS_ACCESS_VIOLATION
    assert read_value(registry, key, "v") == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)


@pytest.mark.parametrize("size", [0x1000, 0x100000, 0x80000001, 0xFFFFFFFF])
def test_null_data_with_large_size_fails(registry, key, size):
    """Facts 78, 84: a NULL data pointer with a large DataSize fails with STATUS_INVALID_PARAMETER,
    STATUS_ACCESS_VIOLATION or STATUS_INSUFFICIENT_RESOURCES (the status depends on size and version), and the
    existing value is unchanged (R-T:NtSetValueKey.c; R-API NtSetValueKey)."""
    assert registry.set_value(key, "v", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    status = set_raw(registry, key, "v", REG_BINARY, ffi.NULL, size)
    assert status in (STATUS_INVALID_PARAMETER, STATUS_ACCESS_VIOLATION, STATUS_INSUFFICIENT_RESOURCES)
    assert read_value(registry, key, "v") == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)


@pytest.mark.parametrize("where", ["foreign", "kernel", "short"])
def test_data_outside_user_memory_is_access_violation(registry, key, where):
    """User-mode probing (fact 78's ProbeForRead of Data): data outside the caller's memory, or a DataSize
    running past the caller's buffer, gives STATUS_ACCESS_VIOLATION and nothing is stored (R-API NtSetValueKey)."""
    foreign = ffi.new("UCHAR[]", DWORD_DATA)
    with registry.arena() as arena:
        data = {"foreign": foreign, "kernel": 0xFFFFF80000001000, "short": arena.data(b"\x01\x02")}[where]
        status = registry.native.NtSetValueKey(key, arena.unicode_string("v"), 0, REG_DWORD, data, 4)
    assert status == STATUS_ACCESS_VIOLATION
    assert read_value(registry, key, "v")[0] == STATUS_OBJECT_NAME_NOT_FOUND


def test_kernel_mode_data_is_not_probed(registry, key):
    """Kernel-mode callers (a driver's ZwSetValueKey) are trusted: data outside user memory is read as given
    (R-API probes only when PreviousMode != KernelMode)."""
    foreign = ffi.new("UCHAR[]", DWORD_DATA)
    with caller.kernel_mode():
        assert set_raw(registry, key, "v", REG_DWORD, foreign, 4) == STATUS_SUCCESS
    assert read_value(registry, key, "v") == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)


@pytest.mark.parametrize("where", ["string", "buffer", "short_buffer"])
@pytest.mark.parametrize("call", ["NtSetValueKey", "NtQueryValueKey", "NtDeleteValueKey"])
def test_value_name_outside_user_memory_is_access_violation(registry, key, call, where):
    """User-mode probing: a value-name UNICODE_STRING, or its Buffer, outside the caller's memory (or a Length
    past the buffer) gives STATUS_ACCESS_VIOLATION and never a crash (R-API probes ValueName in NtSetValueKey,
    NtQueryValueKey and NtDeleteValueKey)."""
    assert registry.set_value(key, "v", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    text = foreign_text("v")
    with registry.arena() as arena:
        if where == "string":
            user_text = ffi.cast("PWSTR", arena.data("v".encode("utf-16-le")))
            name = ffi.new("UNICODE_STRING *", {"Length": 2, "MaximumLength": 2, "Buffer": user_text})
        elif where == "buffer":
            name = arena.new("UNICODE_STRING *", {"Length": 2, "MaximumLength": 2,
                                                  "Buffer": ffi.cast("PWSTR", text)})
        else:
            name = arena.new("UNICODE_STRING *", {"Length": 200, "MaximumLength": 200,
                                                  "Buffer": ffi.cast("PWSTR", arena.data(b"v\0"))})
        native = registry.native
        status = {
            "NtSetValueKey": lambda: native.NtSetValueKey(key, name, 0, REG_DWORD, arena.data(DWORD_DATA), 4),
            "NtQueryValueKey": lambda: native.NtQueryValueKey(key, name, V.KeyValuePartialInformation,
                                                              arena.new("UCHAR[]", 64), 64, arena.new("ULONG *")),
            "NtDeleteValueKey": lambda: native.NtDeleteValueKey(key, name),
        }[call]()
    assert status == STATUS_ACCESS_VIOLATION
    assert read_value(registry, key, "v") == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)


@pytest.mark.parametrize("call", ["NtSetValueKey", "NtQueryValueKey", "NtDeleteValueKey"])
def test_null_value_name_is_access_violation(registry, key, call):
    """User-mode probing: a NULL ValueName pointer gives STATUS_ACCESS_VIOLATION, never a crash
    (R-API ProbeForRead of ValueName)."""
    with registry.arena() as arena:
        native = registry.native
        status = {
            "NtSetValueKey": lambda: native.NtSetValueKey(key, ffi.NULL, 0, REG_DWORD, arena.data(DWORD_DATA), 4),
            "NtQueryValueKey": lambda: native.NtQueryValueKey(key, ffi.NULL, V.KeyValuePartialInformation,
                                                              arena.new("UCHAR[]", 64), 64, arena.new("ULONG *")),
            "NtDeleteValueKey": lambda: native.NtDeleteValueKey(key, ffi.NULL),
        }[call]()
    assert status == STATUS_ACCESS_VIOLATION


# --- fact 79: the default value --------------------------------------------------------------

def test_default_value_is_an_ordinary_value(registry, key):
    """Fact 79: the empty name is the key's default value: set, queried, counted in Values, enumerated with
    NameLength 0, and deleted like any other; afterwards it is STATUS_OBJECT_NAME_NOT_FOUND
    (W-ADV registry.c test_delete_value, test_reg_query_info; MS:ZwDeleteValueKey)."""
    data = "default\0".encode("utf-16-le")
    assert registry.set_value(key, "", REG_SZ, data) == STATUS_SUCCESS
    assert read_value(registry, key, "") == (STATUS_SUCCESS, REG_SZ, data)
    full = registry.query_key(key, K.KeyFullInformation)
    assert decode(ctypes_types.KEY_FULL_INFORMATION, full.buffer).Values == 1
    listed = registry.enumerate_value(key, 0, V.KeyValueBasicInformation, 64, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_BASIC_INFORMATION, listed.buffer)
    assert (listed.status, info.NameLength, info.Type, listed.result_length) == (STATUS_SUCCESS, 0, REG_SZ, 12)
    assert registry.delete_value(key, "") == STATUS_SUCCESS
    assert read_value(registry, key, "")[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert registry.delete_value(key, "") == STATUS_OBJECT_NAME_NOT_FOUND


# --- facts 80, 81, 82: missing values and long names -------------------------------------------

@pytest.mark.parametrize("name", ["missing", "", "x" * 300])
def test_missing_value(registry, key, name):
    """Facts 80, 81: NtQueryValueKey and NtDeleteValueKey on a value that does not exist give
    STATUS_OBJECT_NAME_NOT_FOUND (MS:ZwQueryValueKey; MS:ZwDeleteValueKey; W-NT reg.c test_long_value_name)."""
    assert read_value(registry, key, name)[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert registry.delete_value(key, name) == STATUS_OBJECT_NAME_NOT_FOUND


def test_value_name_of_32765_characters(registry, key):
    """Fact 82: with a name of 32765 characters (Length 0xFFFA), NtSetValueKey gives STATUS_INVALID_PARAMETER
    while NtQueryValueKey and NtDeleteValueKey give STATUS_OBJECT_NAME_NOT_FOUND (W-NT reg.c
    test_long_value_name)."""
    name = "a" * 32765
    assert len(name.encode("utf-16-le")) == 0xFFFA
    assert registry.set_value(key, name, REG_DWORD, DWORD_DATA) == STATUS_INVALID_PARAMETER
    assert read_value(registry, key, name)[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert registry.delete_value(key, name) == STATUS_OBJECT_NAME_NOT_FOUND
    assert registry.enumerate_value(key, 0).status == STATUS_NO_MORE_ENTRIES


def test_value_name_limit_boundary(registry, key):
    """Open question Q5 (fact 82), cmhook's decision: Microsoft's documented limit of 16,383 characters is the
    boundary: 16383 characters are stored and read back, 16384 give STATUS_INVALID_PARAMETER as the Windows
    test's 32765 does (MS "Registry element size limits")."""
    longest = "n" * 16383
    assert registry.set_value(key, longest, REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert read_value(registry, key, longest) == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)
    assert registry.set_value(key, longest + "n", REG_DWORD, DWORD_DATA) == STATUS_INVALID_PARAMETER
    assert registry.delete_value(key, longest) == STATUS_SUCCESS


# --- facts 83, 84, 85 ---------------------------------------------------------------------------

def test_setting_existing_name_replaces_type_and_data(registry, key):
    """Fact 83: setting a value with an existing name replaces its type and data; names are unique within a key
    (MS:ZwSetValueKey)."""
    assert registry.set_value(key, "v", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert registry.set_value(key, "v", REG_BINARY, b"\xAA\xBB\xCC") == STATUS_SUCCESS
    assert read_value(registry, key, "v") == (STATUS_SUCCESS, REG_BINARY, b"\xAA\xBB\xCC")
    assert registry.enumerate_value(key, 0).status == STATUS_SUCCESS
    assert registry.enumerate_value(key, 1).status == STATUS_NO_MORE_ENTRIES
    full = registry.query_key(key, K.KeyFullInformation)
    assert decode(ctypes_types.KEY_FULL_INFORMATION, full.buffer).Values == 1


def test_one_megabyte_value_round_trips(registry, key):
    """Fact 84: value data up to the standard format's 1 MB limit ("available memory" in the latest format) is
    stored and read back whole (MS "Registry element size limits")."""
    data = bytes(range(256)) * 4096
    assert len(data) == 1 << 20
    assert registry.set_value(key, "big", REG_BINARY, data) == STATUS_SUCCESS
    assert read_value(registry, key, "big") == (STATUS_SUCCESS, REG_BINARY, data)
    sizing = registry.query_value(key, "big", V.KeyValuePartialInformation, 0)
    assert sizing.result_length == PARTIAL_DATA + len(data)


def test_trailing_nuls_in_value_names_are_stripped(registry, key):
    """Fact 85: trailing NUL WCHARs in a value name are stripped before lookup and storage by NtQueryValueKey and
    NtSetValueKey, so "abc\\0" names "abc" (R-API NtQueryValueKey, NtSetValueKey; ReactOS behaviour, not
    verified on Windows: open question Q19)."""
    assert registry.set_value(key, "abc", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert read_value(registry, key, "abc\0") == (STATUS_SUCCESS, REG_DWORD, DWORD_DATA)
    assert registry.set_value(key, "abc\0\0", REG_BINARY, b"\x01") == STATUS_SUCCESS
    assert read_value(registry, key, "abc") == (STATUS_SUCCESS, REG_BINARY, b"\x01")
    assert registry.enumerate_value(key, 1).status == STATUS_NO_MORE_ENTRIES


# --- facts 97-102: NtQueryMultipleValueKey -------------------------------------------------------

MULTI = {"a": (REG_DWORD, DWORD_DATA), "b": (REG_SZ, "hello\0".encode("utf-16-le")), "c": (REG_BINARY, b"\x01\x02\x03")}
MULTI_TOTAL = sum(len(data) for _, data in MULTI.values())


@pytest.fixture
def multi(registry: Registry, key: int) -> int:
    for name, (type_, data) in MULTI.items():
        assert registry.set_value(key, name, type_, data) == STATUS_SUCCESS
    return key


def test_query_multiple_values_fills_entries_and_buffer(registry, multi):
    """Facts 97, 98, 100: each KEY_VALUE_ENTRY gets Type, DataLength and DataOffset, a byte offset from the start
    of ValueBuffer; BufferLength comes back as the bytes written and RequiredBufferLength as the total needed
    (MS NtQueryMultipleValueKey; MS KEY_VALUE_ENTRY). Packing the data with no padding, so that the total is
    the sum of the data lengths, is cmhook's decision for open question Q10."""
    names = ["c", "a", "b"]
    result = registry.query_multiple_values(multi, names, 256)
    assert result.status == STATUS_SUCCESS
    assert result.buffer_length == result.required_length == MULTI_TOTAL  # Q10: packed
    for name, (type_, offset, length) in zip(names, result.entries, strict=True):
        assert (type_, length) == (MULTI[name][0], len(MULTI[name][1]))
        assert offset + length <= result.buffer_length
        assert result.buffer[offset:offset + length] == MULTI[name][1]


@pytest.mark.parametrize("length", [0, 1, MULTI_TOTAL - 1])
def test_query_multiple_values_too_small_is_buffer_overflow(registry, multi, length):
    """Fact 99: a buffer too small for all the values gives STATUS_BUFFER_OVERFLOW, not
    STATUS_BUFFER_TOO_SMALL, and RequiredBufferLength gets the size needed (MS NtQueryMultipleValueKey;
    MS RegQueryMultipleValuesA, ERROR_MORE_DATA)."""
    result = registry.query_multiple_values(multi, list(MULTI), length)
    assert (result.status, result.required_length) == (STATUS_BUFFER_OVERFLOW, MULTI_TOTAL)
    exact = registry.query_multiple_values(multi, list(MULTI), result.required_length)
    assert exact.status == STATUS_SUCCESS


def test_query_multiple_values_required_length_is_optional(registry, multi):
    """Fact 97: RequiredBufferLength is optional: NULL is accepted and the call still succeeds
    (MS NtQueryMultipleValueKey)."""
    with registry.arena() as arena:
        entries = arena.new("KEY_VALUE_ENTRY[]", 1)
        entries[0].ValueName = arena.unicode_string("a")
        buffer, length = arena.new("UCHAR[]", 64), arena.new("ULONG *", 64)
        status = registry.native.NtQueryMultipleValueKey(multi, entries, 1, buffer, length, ffi.NULL)
        assert (status, length[0], entries[0].DataLength, entries[0].Type) == (STATUS_SUCCESS, 4, 4, REG_DWORD)
        assert ffi.buffer(buffer, 64)[entries[0].DataOffset:entries[0].DataOffset + 4] == DWORD_DATA


def test_query_multiple_values_missing_value_fails_the_call(registry, multi):
    """Fact 101: if any named value does not exist the whole call fails (MS RegQueryMultipleValuesA;
    ntinternals KEY_MULTIPLE_VALUE_INFORMATION). STATUS_OBJECT_NAME_NOT_FOUND is cmhook's decision for open
    question Q10."""
    result = registry.query_multiple_values(multi, ["a", "no such value", "b"], 256)
    assert not nt_success(result.status)
    assert result.status == STATUS_OBJECT_NAME_NOT_FOUND


def test_query_multiple_values_needs_query_value(registry, multi):
    """Facts 91, 97: NtQueryMultipleValueKey needs KEY_QUERY_VALUE on the handle; without it
    STATUS_ACCESS_DENIED (MS NtQueryMultipleValueKey)."""
    for access, expected in ((KEY_ALL_ACCESS & ~KEY_QUERY_VALUE, STATUS_ACCESS_DENIED),
                             (KEY_QUERY_VALUE, STATUS_SUCCESS)):
        status, handle = registry.open_key(KEY_PATH, access)
        assert status == STATUS_SUCCESS
        assert registry.query_multiple_values(handle, ["a"], 64).status == expected
        assert registry.close(handle) == STATUS_SUCCESS


@pytest.mark.parametrize("where", ["entries", "buffer", "buffer_length", "null_buffer_length"])
def test_query_multiple_values_probes_user_pointers(registry, multi, where):
    """User-mode probing for NtQueryMultipleValueKey (fact 97's parameters): the entry array, ValueBuffer or
    BufferLength outside the caller's memory gives STATUS_ACCESS_VIOLATION, never a crash."""
    foreign_entries = ffi.new("KEY_VALUE_ENTRY[]", 1)
    foreign_buffer, foreign_length = ffi.new("UCHAR[]", 64), ffi.new("ULONG *", 64)
    with registry.arena() as arena:
        entries = arena.new("KEY_VALUE_ENTRY[]", 1)
        for table in (entries, foreign_entries):
            table[0].ValueName = arena.unicode_string("a")
        table = foreign_entries if where == "entries" else entries
        buffer = foreign_buffer if where == "buffer" else arena.new("UCHAR[]", 64)
        length = {"buffer_length": foreign_length, "null_buffer_length": ffi.NULL}.get(
            where, arena.new("ULONG *", 64))
        status = registry.native.NtQueryMultipleValueKey(multi, table, 1, buffer, length, arena.new("ULONG *"))
    assert status == STATUS_ACCESS_VIOLATION


def test_query_multiple_values_from_kernel_mode(registry, multi):
    """Kernel-mode callers are trusted: entries, buffer and lengths outside user memory are used as given."""
    entries = ffi.new("KEY_VALUE_ENTRY[]", 2)
    names = [foreign_text("a"), foreign_text("c")]
    strings = [ffi.new("UNICODE_STRING *", {"Length": 2, "MaximumLength": 2, "Buffer": ffi.cast("PWSTR", text)})
               for text in names]
    for index, string in enumerate(strings):
        entries[index].ValueName = string
    buffer, length, required = ffi.new("UCHAR[]", 64), ffi.new("ULONG *", 64), ffi.new("ULONG *")
    with caller.kernel_mode():
        status = registry.native.NtQueryMultipleValueKey(multi, entries, 2, buffer, length, required)
    assert (status, length[0], required[0]) == (STATUS_SUCCESS, 7, 7)
    data = ffi.buffer(buffer, 64)
    assert data[entries[0].DataOffset:entries[0].DataOffset + 4] == DWORD_DATA
    assert data[entries[1].DataOffset:entries[1].DataOffset + 3] == b"\x01\x02\x03"

