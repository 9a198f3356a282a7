"""Buffer rules of NtQueryValueKey, NtEnumerateValueKey, NtQueryKey and NtEnumerateKey through the native API.

Facts 1-21 of docs/registry-facts.md: every information class at lengths 0, fixed-1, fixed,
needed-1 and needed; ResultLength; nothing NUL-terminated; invalid classes; the lookup before
the buffer check; TitleIndex 0; KeyCachedInformation; KeyNameInformation paths; and the
probing of the caller's buffer and ResultLength. Fixed-part sizes are the ones the facts file
tabulates; everything else is decoded with ntddk_py.ctypes_types.
"""

from __future__ import annotations

import ctypes

import pytest

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_INFORMATION_CLASS,
    KEY_VALUE_INFORMATION_CLASS,
    REG_DWORD,
    REG_SZ,
    STATUS_ACCESS_VIOLATION,
    STATUS_BUFFER_OVERFLOW,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ctypes_types,
    ffi,
)
from registry_core import caller, infoclass
from registry_core.registry import Registry

from .helpers import address, decode

K = KEY_INFORMATION_CLASS
V = KEY_VALUE_INFORMATION_CLASS
FILL = 0xBD
NO_OFFSET = 0xFFFFFFFF
MACHINE = "\\Registry\\Machine"
SOFTWARE = MACHINE + "\\Software"
KEY_PATH = SOFTWARE + "\\cmhook-queries"
STRING_DATA = "string".encode("utf-16-le")  # 12 bytes, no terminator (fact 75)
DWORD_DATA = (0x12345678).to_bytes(4, "little")


def field_offset(struct: type[ctypes.Structure], member: str) -> int:
    return getattr(struct, member).offset


def untouched(length: int) -> bytes:
    return bytes([FILL]) * length


@pytest.fixture
def key(registry: Registry) -> int:
    """A key with class "MyClass", values "stringtest" (REG_SZ, 12 bytes) and "deletetest" (REG_DWORD),
    and one subkey "test_subkey" with class "SubClass"."""
    status, handle, _ = registry.create_key(KEY_PATH, KEY_ALL_ACCESS, class_name="MyClass")
    assert status == STATUS_SUCCESS
    assert registry.set_value(handle, "stringtest", REG_SZ, STRING_DATA) == STATUS_SUCCESS
    assert registry.set_value(handle, "deletetest", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    status, child, _ = registry.create_key("test_subkey", KEY_ALL_ACCESS, root=handle, class_name="SubClass")
    assert status == STATUS_SUCCESS
    registry.close(child)
    return handle


def spacious(registry: Registry, call, length: int, size: int = 256):
    """Run call(arena, buffer, length, result) with a buffer of size bytes but only Length given.

    Returns (status, whole buffer, ResultLength): bytes past Length show whether anything was written there.
    """
    with registry.arena() as arena:
        buffer, result = arena.new("UCHAR[]", untouched(size)), arena.new("ULONG *", 0xFFFFFFFF)
        status = call(arena, buffer, length, result)
        return status, ffi.buffer(buffer, size)[:], result[0]


# --- facts 1, 3, 4, 5, 6: the length matrix ------------------------------------------------

# (call, class, fixed part) -- fixed parts from the facts file's "Fixed-part sizes" table
# (KeyValueFullInformationAlign64 returns KEY_VALUE_FULL_INFORMATION, hence 20).
TARGETS = [
    ("query_value", V.KeyValueBasicInformation, 12),
    ("query_value", V.KeyValueFullInformation, 20),
    ("query_value", V.KeyValuePartialInformation, 12),
    ("query_value", V.KeyValueFullInformationAlign64, 20),
    ("query_value", V.KeyValuePartialInformationAlign64, 8),
    ("enumerate_value", V.KeyValueBasicInformation, 12),
    ("enumerate_value", V.KeyValueFullInformation, 20),
    ("enumerate_value", V.KeyValuePartialInformation, 12),
    ("query_key", K.KeyBasicInformation, 16),
    ("query_key", K.KeyNodeInformation, 24),
    ("query_key", K.KeyFullInformation, 44),
    ("query_key", K.KeyNameInformation, 4),
    ("query_key", K.KeyCachedInformation, 40),
    ("enumerate_key", K.KeyBasicInformation, 16),
    ("enumerate_key", K.KeyNodeInformation, 24),
    ("enumerate_key", K.KeyFullInformation, 44),
]


def run(registry: Registry, key: int, call: str, cls: int, length: int):
    if call == "query_value":
        return registry.query_value(key, "stringtest", cls, length, fill=FILL)
    if call == "enumerate_value":
        return registry.enumerate_value(key, 0, cls, length, fill=FILL)  # "stringtest" was set first
    if call == "query_key":
        return registry.query_key(key, cls, length, fill=FILL)
    return registry.enumerate_key(key, 0, cls, length, fill=FILL)  # "test_subkey"


@pytest.mark.parametrize("call,cls,fixed", TARGETS, ids=[f"{c}-{k.name}" for c, k, _ in TARGETS])
def test_buffer_rules_at_every_length(registry, key, call, cls, fixed):
    """Facts 1, 3, 4, 5: below the fixed part STATUS_BUFFER_TOO_SMALL and nothing written; from the fixed
    part up to one byte short STATUS_BUFFER_OVERFLOW with the bytes that fit; at the needed size
    STATUS_SUCCESS; ResultLength is always the full size (W-NT reg.c test_NtQueryValueKey / test_NtQueryKey;
    R-T:NtQueryKey.c Test_KeyFullInformation; MS:ZwQueryKey). For NtEnumerateValueKey below the fixed part,
    BUFFER_TOO_SMALL is cmhook's decision for open question Q14 (ReactOS); for KeyNameInformation the
    partial copy on OVERFLOW is cmhook's decision for Q12."""
    whole = run(registry, key, call, cls, 4096)
    assert whole.status == STATUS_SUCCESS
    needed, record = whole.result_length, whole.buffer[: whole.result_length]
    # Fact 5: nothing (no terminating NUL) is written past the record, even with room to spare.
    assert whole.buffer[needed:] == untouched(4096 - needed)
    if call == "query_key" and cls == K.KeyCachedInformation:
        assert needed == fixed  # fact 13: no variable part
    else:
        assert needed > fixed  # every target here has variable data, so Length == fixed is OVERFLOW (fact 3)
    for length in sorted({0, fixed - 1, fixed, needed - 1, needed}):
        answer = run(registry, key, call, cls, length)
        assert answer.result_length == needed, length
        if length < fixed:
            assert (answer.status, answer.buffer) == (STATUS_BUFFER_TOO_SMALL, untouched(length)), length
        elif length < needed:
            assert (answer.status, answer.buffer) == (STATUS_BUFFER_OVERFLOW, record[:length]), length
        else:
            assert (answer.status, answer.buffer) == (STATUS_SUCCESS, record), length


# --- fact 1: TOO_SMALL details -------------------------------------------------------------

def test_full_information_below_fixed_part_on_classless_key(registry):
    """Fact 1: KeyFullInformation with Length 43 on a key with no class gives STATUS_BUFFER_TOO_SMALL,
    ResultLength 44, and LastWriteTime is left untouched (R-T:NtQueryKey.c Test_KeyFullInformation)."""
    status, handle = registry.open_key(SOFTWARE)
    assert status == STATUS_SUCCESS
    answer = registry.query_key(handle, K.KeyFullInformation, 43, fill=FILL)
    assert (answer.status, answer.result_length) == (STATUS_BUFFER_TOO_SMALL, 44)
    assert answer.buffer == untouched(43)


@pytest.mark.parametrize("length", [0, 1, 11])
def test_partial_information_too_small_reports_full_size(registry, key, length):
    """Fact 1: KeyValuePartialInformation with Length 0, 1 and FIELD_OFFSET-1 (11) gives
    STATUS_BUFFER_TOO_SMALL with ResultLength the full size, 12 + DataLength
    (W-NT reg.c test_NtQueryValueKey)."""
    answer = registry.query_value(key, "deletetest", V.KeyValuePartialInformation, length, fill=FILL)
    assert (answer.status, answer.result_length, answer.buffer) == (
        STATUS_BUFFER_TOO_SMALL, 12 + 4, untouched(length))


# --- fact 2: sizing with a NULL buffer ------------------------------------------------------

SIZING = [  # class name, ResultLength expected (facts 3, 8, 14: fixed part + variable part)
    ("KeyNameInformation", 4 + 2 * len(KEY_PATH)),
    ("KeyFullInformation", 44 + 14),
    ("KeyValuePartialInformation", 12 + len(STRING_DATA)),
    ("KeyValuePartialInformationAlign64", 8 + len(STRING_DATA)),
]


@pytest.mark.parametrize("name,expected", SIZING, ids=[s[0] for s in SIZING])
def test_null_buffer_length_zero_sizes_the_buffer(registry, key, name, expected):
    """Fact 2: a NULL buffer with Length 0 gives STATUS_BUFFER_TOO_SMALL and ResultLength is still filled in,
    for KeyNameInformation, KeyFullInformation, KeyValuePartialInformation and ...Align64
    (W-NT reg.c test_NtQueryKey / test_NtQueryValueKey; R-T:NtQueryKey.c; R-T:NtQueryValueKey.c)."""
    with registry.arena() as arena:
        result = arena.new("ULONG *", 0xFFFFFFFF)
        if name.startswith("KeyValue"):
            status = registry.native.NtQueryValueKey(key, arena.unicode_string("stringtest"), getattr(V, name),
                                                ffi.NULL, 0, result)
        else:
            status = registry.native.NtQueryKey(key, getattr(K, name), ffi.NULL, 0, result)
        assert (status, result[0]) == (STATUS_BUFFER_TOO_SMALL, expected)


# --- facts 3, 4, 5: OVERFLOW and SUCCESS details --------------------------------------------

VALUE_OVERFLOW = [
    (V.KeyValueBasicInformation, "KEY_VALUE_BASIC_INFORMATION", 12, {"Type": REG_SZ, "NameLength": 20}),
    (V.KeyValuePartialInformation, "KEY_VALUE_PARTIAL_INFORMATION", 12, {"Type": REG_SZ, "DataLength": 12}),
    (V.KeyValueFullInformation, "KEY_VALUE_FULL_INFORMATION", 20,
     {"Type": REG_SZ, "NameLength": 20, "DataLength": 12}),
    (V.KeyValuePartialInformationAlign64, "KEY_VALUE_PARTIAL_INFORMATION_ALIGN64", 8,
     {"Type": REG_SZ, "DataLength": 12}),
]


@pytest.mark.parametrize("cls,struct,fixed,fields", VALUE_OVERFLOW, ids=[v[1] for v in VALUE_OVERFLOW])
def test_value_overflow_at_fixed_length_fills_the_fixed_part(registry, key, cls, struct, fixed, fields):
    """Fact 3: Basic with Length 12, Partial with 12, Full with 20 and PartialAlign64 with 8 all give
    STATUS_BUFFER_OVERFLOW, the fixed fields (NameLength, DataLength) giving the full sizes, and
    ResultLength the full size (W-NT reg.c test_NtQueryValueKey)."""
    answer = registry.query_value(key, "stringtest", cls, fixed, fill=FILL)
    assert answer.status == STATUS_BUFFER_OVERFLOW
    info = decode(getattr(ctypes_types, struct), answer.buffer)
    assert {name: getattr(info, name) for name in fields} == fields
    whole = registry.query_value(key, "stringtest", cls, 4096)
    assert answer.result_length == whole.result_length > fixed


def test_full_information_overflow_at_fixed_length_sets_class_length(registry, key):
    """Fact 3: KeyFullInformation with Length 44 on a key of class "MyClass" gives STATUS_BUFFER_OVERFLOW,
    ClassLength 14 and ResultLength 58 (R-T:NtQueryKey.c Test_KeyFullInformation)."""
    answer = registry.query_key(key, K.KeyFullInformation, 44, fill=FILL)
    info = decode(ctypes_types.KEY_FULL_INFORMATION, answer.buffer)
    assert (answer.status, info.ClassLength, answer.result_length) == (STATUS_BUFFER_OVERFLOW, 14, 58)


@pytest.mark.parametrize("copied", [13, 2])
def test_full_information_overflow_copies_class_bytes_up_to_length(registry, key, copied):
    """Fact 4: with Length 44+13 the first 13 bytes of "MyClass" are copied (half of the last WCHAR) and the
    byte after is untouched; with 44+2 only 'M' is (R-T:NtQueryKey.c Test_KeyFullInformation)."""
    status, buffer, result = spacious(
        registry,
        lambda arena, buf, length, res: registry.native.NtQueryKey(key, K.KeyFullInformation, buf, length, res),
        44 + copied)
    assert (status, result) == (STATUS_BUFFER_OVERFLOW, 58)
    assert buffer[44:44 + copied] == "MyClass".encode("utf-16-le")[:copied]
    assert buffer[44 + copied:] == untouched(len(buffer) - 44 - copied)


def test_full_information_success_adds_no_terminator(registry, key):
    """Facts 5, 6, 11: with Length 44+14+2 KeyFullInformation gives STATUS_SUCCESS, ResultLength 58, the class
    at ClassOffset 44 with no NUL, and the WCHAR after the class untouched (R-T:NtQueryKey.c)."""
    answer = registry.query_key(key, K.KeyFullInformation, 44 + 14 + 2, fill=FILL)
    info = decode(ctypes_types.KEY_FULL_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length) == (STATUS_SUCCESS, 58)
    assert (info.ClassOffset, info.ClassLength) == (44, 14)
    assert answer.buffer[44:58] == "MyClass".encode("utf-16-le")
    assert answer.buffer[58:] == untouched(2)


def test_string_value_gets_no_terminator(registry, key):
    """Facts 5, 75: a REG_SZ stored as 12 bytes without NUL reads back with DataLength 12 and the guard bytes
    after the data in the caller's buffer stay 0xBD (W-NT reg.c test_NtQueryValueKey, "stringtest")."""
    answer = registry.query_value(key, "stringtest", V.KeyValuePartialInformation, 12 + 12 + 4, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length, info.DataLength) == (STATUS_SUCCESS, 24, 12)
    offset = field_offset(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION, "Data")
    assert answer.buffer[offset:offset + 12] == STRING_DATA
    assert answer.buffer[offset + 12:] == untouched(4)


# --- facts 6, 7, 8, 9, 10, 11, 12: record contents ------------------------------------------

def test_key_basic_information_name_in_bytes_without_terminator(registry, key):
    """Fact 6: KEY_BASIC_INFORMATION.NameLength is in bytes and the name is not NUL-terminated
    (MS:KEY_BASIC_INFORMATION)."""
    answer = registry.enumerate_key(key, 0, K.KeyBasicInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_BASIC_INFORMATION, answer.buffer)
    name = "test_subkey".encode("utf-16-le")
    assert (answer.status, info.NameLength, answer.result_length) == (STATUS_SUCCESS, len(name), 16 + len(name))
    assert answer.buffer[16:16 + len(name)] == name
    assert answer.buffer[16 + len(name):] == untouched(4096 - 16 - len(name))


def test_key_node_information_name_and_class(registry, key):
    """Facts 6, 12: KEY_NODE_INFORMATION gives name and class, both in bytes and not NUL-terminated
    (MS:KEY_NODE_INFORMATION). ClassOffset = 24 + NameLength, the class straight after the name, is cmhook's
    decision for open question Q2 (MS wording and Wine; ReactOS rounds up to 4)."""
    answer = registry.enumerate_key(key, 0, K.KeyNodeInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_NODE_INFORMATION, answer.buffer)
    name, class_name = "test_subkey".encode("utf-16-le"), "SubClass".encode("utf-16-le")
    assert (info.NameLength, info.ClassLength) == (len(name), len(class_name))
    assert answer.buffer[24:24 + len(name)] == name
    assert answer.buffer[info.ClassOffset:info.ClassOffset + len(class_name)] == class_name
    assert info.ClassOffset == 24 + len(name)
    assert answer.result_length == 24 + len(name) + len(class_name)
    assert answer.buffer[answer.result_length:] == untouched(4096 - answer.result_length)


def test_key_node_information_without_class(registry, key):
    """Fact 12: with no class, ClassOffset is 0xFFFFFFFF and ClassLength 0 (R-CM cmapi.c CmpQueryKeyData;
    W-NTDLL enumerate_key both use -1)."""
    status, child, _ = registry.create_key("plain", KEY_ALL_ACCESS, root=key)
    assert status == STATUS_SUCCESS
    answer = registry.query_key(child, K.KeyNodeInformation, 4096)
    info = decode(ctypes_types.KEY_NODE_INFORMATION, answer.buffer)
    assert (answer.status, info.ClassOffset, info.ClassLength, answer.result_length) == (
        STATUS_SUCCESS, NO_OFFSET, 0, 24 + 10)


def test_value_basic_information_has_no_data(registry, key):
    """Fact 7: KeyValueBasicInformation's ResultLength is the fixed part plus the name: 12 + 20 = 32 for
    "deletetest"; no data (W-NT reg.c test_NtQueryValueKey)."""
    answer = registry.query_value(key, "deletetest", V.KeyValueBasicInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_BASIC_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length, info.NameLength, info.Type) == (STATUS_SUCCESS, 32, 20, REG_DWORD)
    assert answer.buffer[12:32] == "deletetest".encode("utf-16-le")
    assert answer.buffer[32:] == untouched(4096 - 32)


@pytest.mark.parametrize("cls,struct,expected", [
    (V.KeyValuePartialInformation, "KEY_VALUE_PARTIAL_INFORMATION", 16),
    (V.KeyValuePartialInformationAlign64, "KEY_VALUE_PARTIAL_INFORMATION_ALIGN64", 12),
])
def test_partial_information_result_length_for_dword(registry, key, cls, struct, expected):
    """Facts 8, 18: ResultLength is 12 + DataLength for KeyValuePartialInformation (16 for a REG_DWORD) and
    8 + DataLength for ...Align64 (12), which returns the ALIGN64 layout: Type, DataLength, Data, no TitleIndex
    (W-NT reg.c test_NtQueryValueKey; R-T:NtQueryValueKey.c; MicrosoftDocs/windows-driver-docs-ddi #725)."""
    record = getattr(ctypes_types, struct)
    answer = registry.query_value(key, "deletetest", cls, 4096, fill=FILL)
    info = decode(record, answer.buffer)
    offset = field_offset(record, "Data")
    assert (answer.status, answer.result_length, info.Type, info.DataLength) == (
        STATUS_SUCCESS, expected, REG_DWORD, 4)
    assert answer.buffer[offset:offset + 4] == DWORD_DATA
    assert answer.buffer[expected:] == untouched(4096 - expected)


def test_full_information_for_deletetest(registry, key):
    """Fact 9: KeyValueFullInformation for "deletetest" (20-byte name) with 4 bytes of data has ResultLength
    20 + 20 + 4 = 44 and the data at (char *)info + DataOffset (W-NT reg.c test_NtQueryValueKey)."""
    answer = registry.query_value(key, "deletetest", V.KeyValueFullInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length, info.NameLength, info.DataLength) == (STATUS_SUCCESS, 44, 20, 4)
    assert answer.buffer[20:40] == "deletetest".encode("utf-16-le")
    assert answer.buffer[info.DataOffset:info.DataOffset + 4] == DWORD_DATA


@pytest.mark.parametrize("name", ["a", "ab", "abc", "abcd", "abcde"])
@pytest.mark.parametrize("cls", [V.KeyValueFullInformation, V.KeyValueFullInformationAlign64],
                         ids=lambda c: c.name)
def test_full_information_data_offset_points_at_data_after_name(registry, key, name, cls):
    """Fact 10: DataOffset is the offset from the start of KEY_VALUE_FULL_INFORMATION to the data, which follows
    the name (MS:KEY_VALUE_FULL_INFORMATION); ResultLength covers the data."""
    assert registry.set_value(key, name, REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    answer = registry.query_value(key, name, cls, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, answer.buffer)
    assert answer.status == STATUS_SUCCESS
    assert info.DataOffset >= 20 + info.NameLength == 20 + 2 * len(name)
    assert answer.buffer[info.DataOffset:info.DataOffset + 4] == DWORD_DATA
    assert answer.result_length == info.DataOffset + 4


@pytest.mark.parametrize("cls,alignment", [(V.KeyValueFullInformation, infoclass.DATA_ALIGNMENT),
                                           (V.KeyValueFullInformationAlign64, 8)], ids=["Full", "FullAlign64"])
def test_full_information_data_offset_alignment_choice(registry, key, cls, alignment):
    """Open question Q1 (facts 10, Q3), cmhook's decision: DataOffset is rounded up to a pointer's size
    (8 for ...Align64), the padding counts in ResultLength, and with DataLength 0 DataOffset is 0xFFFFFFFF
    (ReactOS cmvalche.c's "-1, not 0!")."""
    assert registry.set_value(key, "a", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert registry.set_value(key, "empty", REG_DWORD, b"") == STATUS_SUCCESS
    answer = registry.query_value(key, "a", cls, 4096)
    info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, answer.buffer)
    aligned = (20 + 2 + alignment - 1) // alignment * alignment
    assert (info.DataOffset, answer.result_length) == (aligned, aligned + 4)
    empty = registry.query_value(key, "empty", cls, 4096)
    info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, empty.buffer)
    assert (info.DataOffset, info.DataLength, empty.result_length) == (NO_OFFSET, 0, 20 + 10)


@pytest.mark.parametrize("path", [MACHINE, SOFTWARE])
def test_full_information_without_class(registry, path):
    """Fact 11: on HKLM and HKLM\\Software (no class) KeyFullInformation has ClassOffset 0xFFFFFFFF and
    ClassLength 0, and ResultLength 44 (R-T:NtQueryKey.c; R-CM cmapi.c CmpQueryKeyData)."""
    status, handle = registry.open_key(path)
    assert status == STATUS_SUCCESS
    answer = registry.query_key(handle, K.KeyFullInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_FULL_INFORMATION, answer.buffer)
    assert (answer.status, info.ClassOffset, info.ClassLength, answer.result_length) == (
        STATUS_SUCCESS, NO_OFFSET, 0, 44)
    assert answer.buffer[44:] == untouched(4096 - 44)


# --- facts 13, 14, 15: cached, name and counts ---------------------------------------------

def test_cached_information_is_fixed_and_counts_in_bytes(registry):
    """Fact 13: KeyCachedInformation returns only the 40-byte structure (no name copied), ResultLength 40,
    NameLength 22 for "test_subkey", MaxNameLen 24 for a child "test_subkey2", MaxValueNameLen 6 for "val"
    and MaxValueDataLen 4 for a DWORD; 39 bytes is STATUS_BUFFER_TOO_SMALL (W-NT reg.c test_NtQueryKey;
    R-CM cmapi.c CmpQueryKeyDataFromCache)."""
    status, handle, _ = registry.create_key(SOFTWARE + "\\test_subkey")
    assert status == STATUS_SUCCESS
    status, child, _ = registry.create_key("test_subkey2", root=handle)
    assert status == STATUS_SUCCESS
    assert registry.set_value(handle, "val", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    answer = registry.query_key(handle, K.KeyCachedInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_CACHED_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length) == (STATUS_SUCCESS, 40)
    assert answer.buffer[40:] == untouched(4096 - 40)
    assert (info.NameLength, info.SubKeys, info.MaxNameLen, info.Values, info.MaxValueNameLen,
            info.MaxValueDataLen, info.TitleIndex) == (22, 1, 24, 1, 6, 4, 0)
    short = registry.query_key(handle, K.KeyCachedInformation, 39, fill=FILL)
    assert (short.status, short.result_length, short.buffer) == (STATUS_BUFFER_TOO_SMALL, 40, untouched(39))


def test_name_information_is_the_absolute_registry_path(registry):
    """Fact 14: KeyNameInformation returns the full path starting with "\\REGISTRY\\", NameLength the length of
    the path used to open the key (compared case-insensitively): 4 + 34 = 38 for \\Registry\\Machine
    (W-NT reg.c test_NtQueryKey; R-T:NtQueryKey.c Test_KeyNameInformation)."""
    status, handle = registry.open_key(MACHINE)
    assert status == STATUS_SUCCESS
    answer = registry.query_key(handle, K.KeyNameInformation, 4096, fill=FILL)
    info = decode(ctypes_types.KEY_NAME_INFORMATION, answer.buffer)
    assert (answer.status, answer.result_length, info.NameLength) == (STATUS_SUCCESS, 38, 34)
    path = answer.buffer[4:38].decode("utf-16-le")
    assert path.upper() == MACHINE.upper() and path.upper().startswith("\\REGISTRY\\")
    assert answer.buffer[38:] == untouched(4096 - 38)


@pytest.mark.parametrize("length,expected", [(1, STATUS_BUFFER_TOO_SMALL), (3, STATUS_BUFFER_TOO_SMALL),
                                             (4, STATUS_BUFFER_OVERFLOW), (8, STATUS_BUFFER_OVERFLOW)])
def test_name_information_short_lengths(registry, length, expected):
    """Fact 14 (and fact 3): KeyNameInformation with Length 1 or 3 gives STATUS_BUFFER_TOO_SMALL, with 4
    (offsetof Name) or 8 (sizeof KEY_NAME_INFORMATION) STATUS_BUFFER_OVERFLOW with NameLength set; ResultLength
    38 each time (W-NT reg.c test_NtQueryKey)."""
    status, handle = registry.open_key(MACHINE)
    assert status == STATUS_SUCCESS
    answer = registry.query_key(handle, K.KeyNameInformation, length, fill=FILL)
    assert (answer.status, answer.result_length) == (expected, 38)
    if expected == STATUS_BUFFER_OVERFLOW:
        assert decode(ctypes_types.KEY_NAME_INFORMATION, answer.buffer).NameLength == 34
    else:
        assert answer.buffer == untouched(length)


def test_name_information_of_created_key(registry, key):
    """Fact 14: the path of a key created below \\Registry\\Machine\\Software is its whole absolute path,
    equal case-insensitively to the path used to create it (W-NT reg.c test_NtQueryKey)."""
    answer = registry.query_key(key, K.KeyNameInformation, 4096)
    info = decode(ctypes_types.KEY_NAME_INFORMATION, answer.buffer)
    assert (answer.status, info.NameLength, answer.result_length) == (
        STATUS_SUCCESS, 2 * len(KEY_PATH), 4 + 2 * len(KEY_PATH))
    assert answer.buffer[4:4 + info.NameLength].decode("utf-16-le").upper() == KEY_PATH.upper()


@pytest.mark.parametrize("cls", [K.KeyFullInformation, K.KeyCachedInformation], ids=lambda c: c.name)
def test_default_value_is_counted(registry, cls):
    """Fact 15: a key whose only value is the default one reports Values 1, MaxValueNameLen 0 and
    MaxValueDataLen 10 for "data" plus NUL in UTF-16 (W-ADV registry.c test_reg_query_info)."""
    status, handle, _ = registry.create_key(SOFTWARE + "\\cmhook-default")
    assert status == STATUS_SUCCESS
    assert registry.set_value(handle, "", REG_SZ, "data\0".encode("utf-16-le")) == STATUS_SUCCESS
    answer = registry.query_key(handle, cls, 4096)
    struct = ctypes_types.KEY_FULL_INFORMATION if cls == K.KeyFullInformation else ctypes_types.KEY_CACHED_INFORMATION
    info = decode(struct, answer.buffer)
    assert (answer.status, info.Values, info.MaxValueNameLen, info.MaxValueDataLen) == (STATUS_SUCCESS, 1, 0, 10)


# --- fact 16: information classes ----------------------------------------------------------

INVALID_CLASS_CALLS = {
    "NtQueryValueKey": lambda registry, arena, handle, cls: registry.native.NtQueryValueKey(
        handle, arena.unicode_string("stringtest"), cls, arena.new("UCHAR[]", 256), 256, arena.new("ULONG *")),
    "NtEnumerateValueKey": lambda registry, arena, handle, cls: registry.native.NtEnumerateValueKey(
        handle, 0, cls, arena.new("UCHAR[]", 256), 256, arena.new("ULONG *")),
    "NtQueryKey": lambda registry, arena, handle, cls: registry.native.NtQueryKey(
        handle, cls, arena.new("UCHAR[]", 256), 256, arena.new("ULONG *")),
    "NtEnumerateKey": lambda registry, arena, handle, cls: registry.native.NtEnumerateKey(
        handle, 0, cls, arena.new("UCHAR[]", 256), 256, arena.new("ULONG *")),
}
INVALID_CLASSES = [
    ("NtQueryValueKey", 5), ("NtQueryValueKey", 99), ("NtQueryValueKey", 0xFFFFFFFF),
    ("NtEnumerateValueKey", 5), ("NtEnumerateValueKey", 99), ("NtEnumerateValueKey", 0xFFFFFFFF),
    ("NtQueryKey", 99), ("NtQueryKey", 0xFFFFFFFF),
    ("NtEnumerateKey", K.KeyNameInformation), ("NtEnumerateKey", K.KeyCachedInformation),
    ("NtEnumerateKey", K.KeyFlagsInformation), ("NtEnumerateKey", 99), ("NtEnumerateKey", 0xFFFFFFFF),
]


@pytest.mark.parametrize("call,cls", INVALID_CLASSES, ids=[f"{c}-{int(k):#x}" for c, k in INVALID_CLASSES])
def test_invalid_information_class_is_invalid_parameter(registry, key, call, cls):
    """Fact 16: an invalid information class gives STATUS_INVALID_PARAMETER, not STATUS_INVALID_INFO_CLASS;
    NtEnumerateKey takes only Basic, Node and Full (MS:ZwEnumerateKey, MS:ZwQueryKey, MS:ZwQueryValueKey,
    MS:ZwEnumerateValueKey; R-API ntapi.c)."""
    with registry.arena() as arena:
        assert INVALID_CLASS_CALLS[call](registry, arena, key, cls) == STATUS_INVALID_PARAMETER


@pytest.mark.parametrize("call", list(INVALID_CLASS_CALLS))
def test_class_is_checked_before_the_handle(registry, call):
    """Fact 16: the class checks happen before the handle is referenced, so an invalid class with a NULL
    handle is STATUS_INVALID_PARAMETER, not STATUS_INVALID_HANDLE (R-API NtQueryKey, NtEnumerateKey,
    NtEnumerateValueKey; MS:ZwQueryValueKey)."""
    with registry.arena() as arena:
        assert INVALID_CLASS_CALLS[call](registry, arena, 0, 99) == STATUS_INVALID_PARAMETER


@pytest.mark.parametrize("cls", [V.KeyValueFullInformationAlign64, V.KeyValuePartialInformationAlign64],
                         ids=lambda c: c.name)
def test_enumerate_value_rejects_align64_classes(registry, key, cls):
    """Fact 16: NtEnumerateValueKey accepts only Basic, Full and Partial; the Align64 classes give
    STATUS_INVALID_PARAMETER (MS:ZwEnumerateValueKey; R-API NtEnumerateValueKey; Wine agrees; Windows itself
    is unverified, open question Q20)."""
    assert registry.enumerate_value(key, 0, cls).status == STATUS_INVALID_PARAMETER


@pytest.mark.parametrize("cls", [K.KeyBasicInformation, K.KeyNodeInformation, K.KeyFullInformation,
                                 K.KeyNameInformation, K.KeyCachedInformation, K.KeyFlagsInformation],
                         ids=lambda c: c.name)
def test_query_key_accepts_its_classes(registry, key, cls):
    """Fact 16: NtQueryKey accepts Basic, Node, Full, Name, Cached and Flags: none of them is
    STATUS_INVALID_PARAMETER (MS:ZwQueryKey; R-API NtQueryKey)."""
    assert registry.query_key(key, cls).status != STATUS_INVALID_PARAMETER


# --- facts 17, 18: the Align64 classes -------------------------------------------------------

def test_align64_with_buffer_four_mod_eight(registry, key):
    """Facts 17, 18: KeyValuePartialInformationAlign64 into a buffer at an address = 4 (mod 8) behaves as with an
    aligned one: Length 8 gives STATUS_BUFFER_OVERFLOW, Length 12 STATUS_SUCCESS with the data at buffer + 8,
    not realigned (W-NT reg.c test_NtQueryValueKey "+4" blocks; R-T:NtQueryValueKey.c)."""
    with registry.arena() as arena:
        block = arena.new("UCHAR[]", untouched(64))
        start = address(block) + (4 - address(block)) % 8
        assert start % 8 == 4
        name, result = arena.unicode_string("deletetest"), arena.new("ULONG *")
        cls = V.KeyValuePartialInformationAlign64
        assert registry.native.NtQueryValueKey(key, name, cls, start, 8, result) == STATUS_BUFFER_OVERFLOW
        assert result[0] == 12
        assert registry.native.NtQueryValueKey(key, name, cls, start, 12, result) == STATUS_SUCCESS
        assert result[0] == 12
        written = ffi.buffer(ffi.cast("UCHAR *", start), 16)[:]
    info = decode(ctypes_types.KEY_VALUE_PARTIAL_INFORMATION_ALIGN64, written)
    assert (info.Type, info.DataLength) == (REG_DWORD, 4)
    assert written[8:12] == DWORD_DATA and written[12:] == untouched(4)


# --- facts 19, 20 ----------------------------------------------------------------------------

def test_lookup_comes_before_buffer_check(registry, key):
    """Fact 19: NtQueryValueKey on a missing value with a NULL buffer and Length 0 gives
    STATUS_OBJECT_NAME_NOT_FOUND, not STATUS_BUFFER_TOO_SMALL (W-NT reg.c test_long_value_name)."""
    with registry.arena() as arena:
        status = registry.native.NtQueryValueKey(key, arena.unicode_string("no such value"),
                                            V.KeyValuePartialInformation, ffi.NULL, 0, arena.new("ULONG *"))
    assert status == STATUS_OBJECT_NAME_NOT_FOUND


@pytest.mark.parametrize("cls,struct", [
    (V.KeyValueBasicInformation, "KEY_VALUE_BASIC_INFORMATION"),
    (V.KeyValuePartialInformation, "KEY_VALUE_PARTIAL_INFORMATION"),
    (V.KeyValueFullInformation, "KEY_VALUE_FULL_INFORMATION"),
], ids=lambda v: getattr(v, "name", v))
def test_value_title_index_is_zero(registry, key, cls, struct):
    """Fact 20: TitleIndex is returned as 0 in Basic, Partial and Full value information, even when
    NtSetValueKey was given a non-zero TitleIndex (W-NT reg.c test_NtQueryValueKey; R-T:NtSetValueKey.c)."""
    with registry.arena() as arena:
        data = arena.data(DWORD_DATA)
        assert registry.native.NtSetValueKey(key, arena.unicode_string("titled"), 0x1234, REG_DWORD, data,
                                        4) == STATUS_SUCCESS
    for answer in (registry.query_value(key, "titled", cls, 4096, fill=FILL),
                   registry.enumerate_value(key, 2, cls, 4096, fill=FILL)):
        assert answer.status == STATUS_SUCCESS
        assert decode(getattr(ctypes_types, struct), answer.buffer).TitleIndex == 0


def test_key_title_index_is_zero(registry, key):
    """Fact 20: TitleIndex is 0 in KEY_FULL_INFORMATION (R-T:NtQueryKey.c)."""
    answer = registry.query_key(key, K.KeyFullInformation, 4096, fill=FILL)
    assert answer.status == STATUS_SUCCESS
    assert decode(ctypes_types.KEY_FULL_INFORMATION, answer.buffer).TitleIndex == 0


# --- fact 21 and user-mode probing of the output buffers --------------------------------------

OUTPUT_CALLS = {
    "NtQueryValueKey": lambda registry, arena, key, buf, length, res: registry.native.NtQueryValueKey(
        key, arena.unicode_string("stringtest"), V.KeyValuePartialInformation, buf, length, res),
    "NtEnumerateValueKey": lambda registry, arena, key, buf, length, res: registry.native.NtEnumerateValueKey(
        key, 0, V.KeyValueFullInformation, buf, length, res),
    "NtQueryKey": lambda registry, arena, key, buf, length, res: registry.native.NtQueryKey(
        key, K.KeyFullInformation, buf, length, res),
    "NtEnumerateKey": lambda registry, arena, key, buf, length, res: registry.native.NtEnumerateKey(
        key, 0, K.KeyBasicInformation, buf, length, res),
}


@pytest.mark.parametrize("call", list(OUTPUT_CALLS))
def test_null_result_length_is_access_violation(registry, key, call):
    """Fact 21: a NULL ResultLength from user mode is probed for write and fails with STATUS_ACCESS_VIOLATION
    (R-API ProbeForWriteUlong(ResultLength); ReactOS only, no Windows test)."""
    with registry.arena() as arena:
        buffer = arena.new("UCHAR[]", untouched(256))
        assert OUTPUT_CALLS[call](registry, arena, key, buffer, 256, ffi.NULL) == STATUS_ACCESS_VIOLATION


@pytest.mark.parametrize("where", ["buffer", "result_length", "short_buffer", "kernel_address"])
@pytest.mark.parametrize("call", list(OUTPUT_CALLS))
def test_output_outside_user_memory_is_access_violation(registry, key, call, where):
    """Fact 21 and the probing every Nt* call does for a user-mode caller: an output buffer or ResultLength
    outside the caller's memory (or a Length running past the buffer) gives STATUS_ACCESS_VIOLATION, and
    nothing is written to it (R-API ProbeForWrite in NtQueryKey/NtQueryValueKey/NtEnumerate*)."""
    foreign_buffer, foreign_result = ffi.new("UCHAR[]", untouched(256)), ffi.new("ULONG *", 0xFFFFFFFF)
    with registry.arena() as arena:
        buffer, result = arena.new("UCHAR[]", untouched(256)), arena.new("ULONG *", 0xFFFFFFFF)
        args = {"buffer": (foreign_buffer, 256, result), "result_length": (buffer, 256, foreign_result),
                "short_buffer": (arena.new("UCHAR[]", 8), 256, result),
                "kernel_address": (0xFFFFF80000001000, 256, result)}[where]
        assert OUTPUT_CALLS[call](registry, arena, key, *args) == STATUS_ACCESS_VIOLATION
    assert ffi.buffer(foreign_buffer, 256)[:] == untouched(256) and foreign_result[0] == 0xFFFFFFFF


@pytest.mark.parametrize("call", list(OUTPUT_CALLS))
def test_kernel_mode_buffers_are_not_probed(registry, key, call):
    """Kernel-mode callers (a driver's Zw call) are trusted: buffers outside user memory are used as given
    (MS:ZwQueryKey etc. are kernel-mode routines; R-API probes only when PreviousMode != KernelMode)."""
    buffer, result = ffi.new("UCHAR[]", untouched(256)), ffi.new("ULONG *", 0xFFFFFFFF)
    with registry.arena() as arena, caller.kernel_mode():
        assert OUTPUT_CALLS[call](registry, arena, key, buffer, 256, result) == STATUS_SUCCESS
    assert 0 < result[0] <= 256
