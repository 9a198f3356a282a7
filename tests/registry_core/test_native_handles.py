"""Handles and access through the native API: facts 86-96 of docs/registry-facts.md.

Handle values, stale and NULL handles, zero access and the WOW64 bits, the access right each
call needs, generic mapping, KeyNameInformation's exemption, kernel-mode callers (whose Zw calls
skip the access check on handles) and a property test that random arguments never raise.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntddk_py import (
    DELETE,
    GENERIC_ALL,
    GENERIC_EXECUTE,
    GENERIC_READ,
    GENERIC_WRITE,
    KEY_ALL_ACCESS,
    KEY_CREATE_LINK,
    KEY_ENUMERATE_SUB_KEYS,
    KEY_EXECUTE,
    KEY_INFORMATION_CLASS,
    KEY_NOTIFY,
    KEY_QUERY_VALUE,
    KEY_READ,
    KEY_SET_INFORMATION_CLASS,
    KEY_SET_VALUE,
    KEY_VALUE_INFORMATION_CLASS,
    KEY_WOW64_32KEY,
    KEY_WOW64_64KEY,
    KEY_WRITE,
    READ_CONTROL,
    REG_CREATED_NEW_KEY,
    REG_DWORD,
    STATUS_ACCESS_DENIED,
    STATUS_INVALID_HANDLE,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ffi,
)
from registry_core import caller
from registry_core.registry import Registry

from .helpers import open_ok, raw_open_or_create

K = KEY_INFORMATION_CLASS
V = KEY_VALUE_INFORMATION_CLASS
SOFTWARE = "\\Registry\\Machine\\Software"
KEY_PATH = SOFTWARE + "\\cmhook-handles"
LEAF_PATH = KEY_PATH + "\\leaf"
DWORD_DATA = (7).to_bytes(4, "little")
WOW64_BOTH = KEY_WOW64_32KEY | KEY_WOW64_64KEY


def granted_access(registry: Registry, handle: int) -> int:
    """The handle's granted access, as NtQueryObject(ObjectBasicInformation).GrantedAccess reports it."""
    return registry.native.handles.lookup(handle).granted_access


@pytest.fixture
def seeded_registry() -> Registry:
    """The default registry plus KEY_PATH (value "v", subkey "leaf"), all handles closed."""
    registry = Registry()
    status, handle, _ = registry.create_key(KEY_PATH)
    assert status == STATUS_SUCCESS
    assert registry.set_value(handle, "v", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    status, leaf, _ = registry.create_key("leaf", root=handle)
    assert status == STATUS_SUCCESS
    registry.close(leaf)
    registry.close(handle)
    return registry


# Every handle-based call, as (name, call(registry, handle) -> status).
HANDLE_CALLS = {
    "NtQueryKey": lambda registry, h: registry.query_key(h, K.KeyBasicInformation).status,
    "NtEnumerateKey": lambda registry, h: registry.enumerate_key(h, 0).status,
    "NtQueryValueKey": lambda registry, h: registry.query_value(h, "v").status,
    "NtEnumerateValueKey": lambda registry, h: registry.enumerate_value(h, 0).status,
    "NtQueryMultipleValueKey": lambda registry, h: registry.query_multiple_values(h, ["v"], 64).status,
    "NtSetValueKey": lambda registry, h: registry.set_value(h, "w", REG_DWORD, DWORD_DATA),
    "NtDeleteValueKey": lambda registry, h: registry.delete_value(h, "v"),
    "NtDeleteKey": lambda registry, h: registry.delete_key(h),
    "NtRenameKey": lambda registry, h: registry.rename_key(h, "renamed"),
    "NtSetInformationKey": lambda registry, h: registry.set_information_key(
        h, KEY_SET_INFORMATION_CLASS.KeyWriteTimeInformation, bytes(8)),
    "NtFlushKey": lambda registry, h: registry.flush_key(h),
    "NtClose": lambda registry, h: registry.close(h),
}


# --- facts 86, 87, 88, 89: handle values ----------------------------------------------------------

def test_handles_are_nonzero_multiples_of_four(seeded_registry):
    """Fact 86: kernel handle values are always multiples of 4 (the low two bits are OBJ_HANDLE_TAGBITS), and a
    successful open never returns NULL (Raymond Chen, "Why are kernel HANDLEs always a multiple of four?";
    W-ADV registry.c IS_HKCR)."""
    handles = [open_ok(seeded_registry, path, KEY_READ) for path in (KEY_PATH, LEAF_PATH, SOFTWARE) * 4]
    handles += [seeded_registry.create_key(KEY_PATH + f"\\new{i}")[1] for i in range(4)]
    assert all(handle and handle % 4 == 0 for handle in handles)
    assert len(set(handles)) == len(handles)


def test_handle_tag_bits_are_ignored(seeded_registry):
    """Fact 86: the low two bits of a handle are ignored by the system and free for tagging, so h|1, h|2 and h|3
    name the same key as h (ntdef.h OBJ_HANDLE_TAGBITS, quoted by Raymond Chen, "Why are kernel HANDLEs always a
    multiple of four?")."""
    handle = open_ok(seeded_registry, KEY_PATH, KEY_READ)
    for tag in (1, 2, 3):
        assert seeded_registry.query_key(handle | tag, K.KeyBasicInformation).status == STATUS_SUCCESS, tag
        assert seeded_registry.query_value(handle | tag, "v").status == STATUS_SUCCESS, tag


def test_two_opens_give_two_handles(seeded_registry):
    """Fact 87: opening the same key twice gives two different handles, each usable on its own: closing one
    leaves the other working (W-ADV registry.c test_reg_open_key, "open same key twice")."""
    first, second = open_ok(seeded_registry, KEY_PATH, KEY_READ), open_ok(seeded_registry, KEY_PATH, KEY_READ)
    assert first != second
    assert seeded_registry.close(first) == STATUS_SUCCESS
    assert seeded_registry.query_value(second, "v").status == STATUS_SUCCESS
    assert seeded_registry.query_value(first, "v").status == STATUS_INVALID_HANDLE


def test_closing_twice_is_invalid_handle(seeded_registry):
    """Fact 88: the second close of a handle gives STATUS_INVALID_HANDLE (W-ADV registry.c test_reg_close_key,
    second RegCloseKey → ERROR_INVALID_HANDLE; MS NtClose)."""
    handle = open_ok(seeded_registry, KEY_PATH, KEY_READ)
    assert seeded_registry.close(handle) == STATUS_SUCCESS
    assert seeded_registry.close(handle) == STATUS_INVALID_HANDLE


@pytest.mark.parametrize("call", list(HANDLE_CALLS))
def test_bad_handle_is_invalid_handle(seeded_registry, call):
    """Facts 88, 89: a NULL, closed or garbage handle gives STATUS_INVALID_HANDLE, for every handle-based call
    (W-NT reg.c test_NtDeleteKey, test_NtFlushKey, test_NtRenameKey; W-ADV registry.c test_reg_query_value,
    test_reg_query_info, test_reg_close_key)."""
    closed = open_ok(seeded_registry, LEAF_PATH, KEY_ALL_ACCESS)
    assert seeded_registry.close(closed) == STATUS_SUCCESS
    for handle in (0, closed, 0x7FFFFFF0):
        assert HANDLE_CALLS[call](seeded_registry, handle) == STATUS_INVALID_HANDLE, hex(handle)
    assert seeded_registry.exists(LEAF_PATH)


# --- fact 90: zero access and the WOW64 bits ---------------------------------------------------------

def native_open(registry: Registry, call: str, access: int) -> tuple[int, int]:
    """NtOpenKey / NtCreateKey on KEY_PATH with *KeyHandle preset to garbage: (status, *KeyHandle after)."""
    return raw_open_or_create(registry, "open" if call == "NtOpenKey" else "create", KEY_PATH, access)


@pytest.mark.parametrize("access", [0, KEY_WOW64_32KEY, KEY_WOW64_64KEY, WOW64_BOTH],
                         ids=["zero", "wow64_32", "wow64_64", "wow64_both"])
@pytest.mark.parametrize("call", ["NtOpenKey", "NtCreateKey"])
def test_no_access_right_is_access_denied(seeded_registry, call, access):
    """Fact 90: an access mask of 0, or of only the WOW64 bits (which are not rights; both together too, on
    Server 2003), gives STATUS_ACCESS_DENIED with *KeyHandle = 0 (W-NT reg.c test_NtOpenKey "Zero accessmask";
    R-T:NtCreateKey.c)."""
    assert native_open(seeded_registry, call, access) == (STATUS_ACCESS_DENIED, 0)


@pytest.mark.parametrize("extra", [0, KEY_WOW64_32KEY, KEY_WOW64_64KEY, WOW64_BOTH],
                         ids=["alone", "wow64_32", "wow64_64", "wow64_both"])
@pytest.mark.parametrize("call", ["NtOpenKey", "NtCreateKey"])
def test_read_control_alone_is_granted_exactly(seeded_registry, call, extra):
    """Fact 90: READ_CONTROL alone opens the key and the granted access is exactly READ_CONTROL; the WOW64 bits
    never appear in the granted access; both WOW64 bits together succeed on Server 2003 (R-T:NtCreateKey.c,
    GrantedAccess read back with NtQueryObject(ObjectBasicInformation))."""
    status, handle = native_open(seeded_registry, call, READ_CONTROL | extra)
    assert status == STATUS_SUCCESS and handle
    assert granted_access(seeded_registry, handle) == READ_CONTROL


# --- facts 91, 92: the access each call needs ------------------------------------------------------

# (call, right needed, an access mask lacking it, path) -- fact 91's table.
ACCESS_TABLE = [
    ("NtQueryValueKey", KEY_QUERY_VALUE, KEY_ALL_ACCESS & ~KEY_QUERY_VALUE, KEY_PATH),
    ("NtEnumerateValueKey", KEY_QUERY_VALUE, KEY_ALL_ACCESS & ~KEY_QUERY_VALUE, KEY_PATH),
    ("NtQueryMultipleValueKey", KEY_QUERY_VALUE, KEY_ALL_ACCESS & ~KEY_QUERY_VALUE, KEY_PATH),
    ("NtQueryKey", KEY_QUERY_VALUE, KEY_ALL_ACCESS & ~KEY_QUERY_VALUE, KEY_PATH),
    ("NtEnumerateKey", KEY_ENUMERATE_SUB_KEYS, KEY_ALL_ACCESS & ~KEY_ENUMERATE_SUB_KEYS, KEY_PATH),
    ("NtSetValueKey", KEY_SET_VALUE, KEY_ALL_ACCESS & ~KEY_SET_VALUE, KEY_PATH),
    ("NtDeleteValueKey", KEY_SET_VALUE, KEY_ALL_ACCESS & ~KEY_SET_VALUE, KEY_PATH),
    ("NtDeleteKey", DELETE, KEY_ALL_ACCESS & ~DELETE, LEAF_PATH),
    ("NtRenameKey", KEY_WRITE, KEY_READ | DELETE, LEAF_PATH),
    ("NtSetInformationKey", KEY_WRITE, KEY_READ | DELETE, LEAF_PATH),
]


@pytest.mark.parametrize("call,needed,lacking,path", ACCESS_TABLE, ids=[row[0] for row in ACCESS_TABLE])
def test_call_needs_its_access_right(seeded_registry, call, needed, lacking, path):
    """Fact 91: each call checks the handle's granted access: without the right it needs the call gives
    STATUS_ACCESS_DENIED and changes nothing; with only that right it succeeds (MS:ZwQueryValueKey,
    ZwEnumerateValueKey, ZwQueryKey, ZwEnumerateKey, ZwSetValueKey, ZwDeleteValueKey, ZwDeleteKey,
    NtQueryMultipleValueKey, NtSetInformationKey; R-API; W-NT reg.c test_NtRenameKey for KEY_READ|DELETE)."""
    denied = open_ok(seeded_registry, path, lacking)
    assert HANDLE_CALLS[call](seeded_registry, denied) == STATUS_ACCESS_DENIED
    assert seeded_registry.exists(path) and seeded_registry.get_value(KEY_PATH, "v") is not None
    allowed = open_ok(seeded_registry, path, needed)
    assert HANDLE_CALLS[call](seeded_registry, allowed) == STATUS_SUCCESS


@pytest.mark.parametrize("cls", [K.KeyBasicInformation, K.KeyNodeInformation, K.KeyFullInformation,
                                 K.KeyCachedInformation], ids=lambda c: c.name)
def test_query_key_classes_need_query_value(seeded_registry, cls):
    """Fact 91: NtQueryKey needs KEY_QUERY_VALUE for every class but KeyNameInformation (MS:ZwQueryKey; R-API
    NtQueryKey)."""
    enumerate_only = open_ok(seeded_registry, KEY_PATH, KEY_ENUMERATE_SUB_KEYS)
    assert seeded_registry.query_key(enumerate_only, cls).status == STATUS_ACCESS_DENIED
    assert seeded_registry.query_key(open_ok(seeded_registry, KEY_PATH, KEY_QUERY_VALUE), cls).status == STATUS_SUCCESS


def test_flush_needs_no_access_right(seeded_registry):
    """Fact 91: NtFlushKey needs no particular access right (R-API NtFlushKey, access mask 0)."""
    assert seeded_registry.flush_key(open_ok(seeded_registry, KEY_PATH, READ_CONTROL)) == STATUS_SUCCESS


@pytest.mark.parametrize("access", [READ_CONTROL, KEY_ENUMERATE_SUB_KEYS, KEY_SET_VALUE, KEY_NOTIFY])
def test_name_information_needs_no_query_value(seeded_registry, access):
    """Fact 92: NtQueryKey(KeyNameInformation) does not need KEY_QUERY_VALUE; any handle with some granted
    access gets the name (MS:ZwQueryKey remarks; R-API NtQueryKey)."""
    handle = open_ok(seeded_registry, KEY_PATH, access)
    answer = seeded_registry.query_key(handle, K.KeyNameInformation)
    assert (answer.status, answer.result_length) == (STATUS_SUCCESS, 4 + 2 * len(KEY_PATH))


def test_create_through_parent_opened_for_notify_only(seeded_registry):
    """Fact 93: a subkey created through a RootDirectory handle opened only with KEY_NOTIFY succeeds: the
    parent handle's access is not checked (W-ADV registry.c test_reg_create_key, "all versions of Windows ignore
    the access rights to the parent handle"; RegCreateKeyEx docs)."""
    parent = open_ok(seeded_registry, KEY_PATH, KEY_NOTIFY)
    status, child, disposition = seeded_registry.create_key("child", KEY_READ, root=parent)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY) and child
    assert seeded_registry.exists(KEY_PATH + "\\child")


# --- fact 94: generic mapping ------------------------------------------------------------------------

@pytest.mark.parametrize("generic,specific", [(GENERIC_READ, KEY_READ), (GENERIC_WRITE, KEY_WRITE),
                                              (GENERIC_EXECUTE, KEY_EXECUTE), (GENERIC_ALL, KEY_ALL_ACCESS)],
                         ids=["read", "write", "execute", "all"])
def test_generic_rights_map_to_key_rights(seeded_registry, generic, specific):
    """Fact 94: the key type maps GENERIC_READ to KEY_READ, GENERIC_WRITE to KEY_WRITE, GENERIC_EXECUTE to
    KEY_EXECUTE (= KEY_READ, without Wine's KEY_CREATE_LINK) and GENERIC_ALL to KEY_ALL_ACCESS; no generic bit is
    left in the granted access (R-CM cmsysini.c CmpKeyMapping; MS "Registry Key Security and Access Rights")."""
    handle = open_ok(seeded_registry, KEY_PATH, generic)
    assert granted_access(seeded_registry, handle) == specific
    if generic == GENERIC_EXECUTE:
        assert specific == KEY_READ and not granted_access(seeded_registry, handle) & KEY_CREATE_LINK


def test_generic_write_handle_cannot_read(seeded_registry):
    """Facts 91, 94: a GENERIC_WRITE handle (KEY_WRITE) may set values but not query them (STATUS_ACCESS_DENIED);
    a GENERIC_READ handle the other way round."""
    writer, reader = open_ok(seeded_registry, KEY_PATH, GENERIC_WRITE), open_ok(seeded_registry, KEY_PATH, GENERIC_READ)
    assert seeded_registry.set_value(writer, "w", REG_DWORD, DWORD_DATA) == STATUS_SUCCESS
    assert seeded_registry.query_value(writer, "w").status == STATUS_ACCESS_DENIED
    assert seeded_registry.query_value(reader, "w").status == STATUS_SUCCESS
    assert seeded_registry.set_value(reader, "w", REG_DWORD, DWORD_DATA) == STATUS_ACCESS_DENIED
    assert seeded_registry.enumerate_key(reader, 0).status == STATUS_SUCCESS


# --- fact 96 -----------------------------------------------------------------------------------------

def test_perfdata_is_not_a_key(seeded_registry):
    """Fact 96: "\\Registry\\PerfData" is not a key: STATUS_OBJECT_NAME_NOT_FOUND (W-ADV registry.c
    test_perflib_key)."""
    assert seeded_registry.open_key("\\Registry\\PerfData").status == STATUS_OBJECT_NAME_NOT_FOUND


# --- kernel-mode callers ------------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["NtQueryValueKey", "NtEnumerateKey", "NtSetValueKey", "NtDeleteValueKey",
                                  "NtQueryKey", "NtDeleteKey"])
def test_kernel_mode_skips_the_access_check(seeded_registry, call):
    """A kernel-mode caller's handle reference skips the granted-access check (MS ObReferenceObjectByHandle:
    with AccessMode KernelMode the requested access is always allowed), so a READ_CONTROL handle that user mode
    is refused with STATUS_ACCESS_DENIED (fact 91) works from a driver's Zw call."""
    path = LEAF_PATH if call == "NtDeleteKey" else KEY_PATH
    handle = open_ok(seeded_registry, path, READ_CONTROL)
    assert HANDLE_CALLS[call](seeded_registry, handle) == STATUS_ACCESS_DENIED
    with caller.kernel_mode():
        assert HANDLE_CALLS[call](seeded_registry, handle) == STATUS_SUCCESS


def test_kernel_mode_still_rejects_bad_handles(seeded_registry):
    """Fact 89 from kernel mode: trusting the caller's access does not make a NULL or closed handle valid
    (STATUS_INVALID_HANDLE)."""
    handle = open_ok(seeded_registry, KEY_PATH, KEY_READ)
    assert seeded_registry.close(handle) == STATUS_SUCCESS
    with caller.kernel_mode():
        assert seeded_registry.query_value(0, "v").status == STATUS_INVALID_HANDLE
        assert seeded_registry.query_value(handle, "v").status == STATUS_INVALID_HANDLE


# --- property: random arguments never raise ----------------------------------------------------------

FUZZ = Registry()
FUZZ_HANDLES = [FUZZ.create_key(SOFTWARE + "\\cmhook-fuzz")[1], FUZZ.open_key(SOFTWARE, KEY_READ)[1],
                FUZZ.open_key(SOFTWARE, READ_CONTROL)[1]]
FUZZ.set_value(FUZZ_HANDLES[0], "v", REG_DWORD, DWORD_DATA)

handles = st.one_of(st.sampled_from([0, *FUZZ_HANDLES, FUZZ_HANDLES[0] | 1]), st.integers(-(2**63), 2**64 - 1))
numbers = st.one_of(st.integers(-8, 300), st.sampled_from([0xFFFFFFFF, 0x80000000, 2**32, 2**64]),
                    st.integers(-(2**63), 2**64 - 1))
pointers = st.one_of(st.sampled_from(["null", "user", "small", "foreign"]), st.integers(0, 2**64 - 1))
names = st.one_of(st.none(), st.sampled_from(["foreign"]),
                  st.tuples(st.binary(max_size=40), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)))
FUZZ_CALLS = ["NtQueryValueKey", "NtEnumerateValueKey", "NtQueryKey", "NtEnumerateKey", "NtSetValueKey",
              "NtDeleteValueKey", "NtQueryMultipleValueKey", "NtFlushKey", "NtSetInformationKey"]


def materialize(arena, kind, keep: list):
    """A pointer argument: NULL, a user block, a 2-byte user block, foreign memory, or a raw address."""
    if isinstance(kind, int):
        return kind
    if kind == "null":
        return ffi.NULL
    if kind == "foreign":
        keep.append(ffi.new("UCHAR[]", 256))
        return keep[-1]
    return arena.new("UCHAR[]", 256 if kind == "user" else 2)


def name_argument(arena, name, keep: list):
    if name is None:
        return ffi.NULL
    if name == "foreign":
        keep.append(ffi.new("UNICODE_STRING *", {"Length": 2, "MaximumLength": 2}))
        return keep[-1]
    data, length, maximum = name
    buffer = ffi.cast("PWSTR", arena.data(data))
    return arena.new("UNICODE_STRING *", {"Length": length, "MaximumLength": maximum, "Buffer": buffer})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(FUZZ_CALLS), handle=handles, cls=numbers, length=numbers, index=numbers,
       name=names, buffer=pointers, result=pointers, extra=pointers, required=pointers)
def test_random_arguments_never_raise(call, handle, cls, length, index, name, buffer, result, extra, required):
    """Whatever a user-mode caller passes (random handles, classes, lengths, indexes, names and pointers), every
    native call returns an int NTSTATUS and never raises: bad arguments are statuses, as a system call's are."""
    keep: list = []
    native = FUZZ.native
    with FUZZ.arena() as arena:
        buf, res, more, need = (materialize(arena, kind, keep) for kind in (buffer, result, extra, required))
        value_name = name_argument(arena, name, keep)
        status = {
            "NtQueryValueKey": lambda: native.NtQueryValueKey(handle, value_name, cls, buf, length, res),
            "NtEnumerateValueKey": lambda: native.NtEnumerateValueKey(handle, index, cls, buf, length, res),
            "NtQueryKey": lambda: native.NtQueryKey(handle, cls, buf, length, res),
            "NtEnumerateKey": lambda: native.NtEnumerateKey(handle, index, cls, buf, length, res),
            "NtSetValueKey": lambda: native.NtSetValueKey(handle, value_name, index, cls, buf, length),
            "NtDeleteValueKey": lambda: native.NtDeleteValueKey(handle, value_name),
            "NtQueryMultipleValueKey": lambda: native.NtQueryMultipleValueKey(handle, buf, index, more, res, need),
            "NtFlushKey": lambda: native.NtFlushKey(handle),
            "NtSetInformationKey": lambda: native.NtSetInformationKey(handle, cls, buf, length),
        }[call]()
    assert isinstance(status, int) and -(2**31) <= status < 2**31  # an NTSTATUS is a signed LONG
