"""Keys: create, delete, rename, set-information, flush, enumeration order, last write time, volatile
rules and deleted keys seen through open handles: docs/registry-facts.md facts 28, 39-61.

Each test names the fact it checks and the source the facts file gives for it.
"""

from __future__ import annotations

import pytest

from ntddk_py import (
    DELETE,
    GENERIC_READ,
    KEY_ALL_ACCESS,
    KEY_CREATE_SUB_KEY,
    KEY_INFORMATION_CLASS,
    KEY_READ,
    KEY_SET_INFORMATION_CLASS,
    KEY_WRITE,
    READ_CONTROL,
    REG_CREATED_NEW_KEY,
    REG_DWORD,
    REG_OPENED_EXISTING_KEY,
    REG_OPTION_VOLATILE,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_CANNOT_DELETE,
    STATUS_CHILD_MUST_BE_VOLATILE,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_KEY_DELETED,
    STATUS_NO_MORE_ENTRIES,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ctypes_types,
)
from registry_core.registry import Registry

from .helpers import TEST_KEY, create_new, decode, is_path, key_name, tail

# A pinned FILETIME (2024-01-01) so that last write times are reproducible.
T0 = 133485408000000000
DWORD_1 = (1).to_bytes(4, "little")


@pytest.fixture(autouse=True)
def pinned_clock(registry: Registry) -> None:
    """Every test here runs with `registry`'s clock pinned at T0, set before any fixture makes a key."""
    registry.native.store.clock.set(T0)


def full_info(registry: Registry, handle: int) -> tuple[ctypes_types.KEY_FULL_INFORMATION, bytes]:
    result = registry.query_key(handle, KEY_INFORMATION_CLASS.KeyFullInformation)
    assert result.status == STATUS_SUCCESS
    return decode(ctypes_types.KEY_FULL_INFORMATION, result.buffer), result.buffer


def last_write(registry: Registry, handle: int) -> int:
    result = registry.query_key(handle, KEY_INFORMATION_CLASS.KeyBasicInformation)
    assert result.status == STATUS_SUCCESS
    return decode(ctypes_types.KEY_BASIC_INFORMATION, result.buffer).LastWriteTime.QuadPart


def subkey_names(registry: Registry, handle: int) -> list[str]:
    names = []
    while True:
        result = registry.enumerate_key(handle, len(names), KEY_INFORMATION_CLASS.KeyBasicInformation)
        if result.status == STATUS_NO_MORE_ENTRIES:
            return names
        assert result.status == STATUS_SUCCESS
        info = decode(ctypes_types.KEY_BASIC_INFORMATION, result.buffer)
        names.append(tail(ctypes_types.KEY_BASIC_INFORMATION, result.buffer, "Name", info.NameLength)
                     .decode("utf-16-le"))


def value_names(registry: Registry, handle: int) -> list[str]:
    names = []
    while True:
        result = registry.enumerate_value(handle, len(names))
        if result.status == STATUS_NO_MORE_ENTRIES:
            return names
        assert result.status == STATUS_SUCCESS
        info = decode(ctypes_types.KEY_VALUE_FULL_INFORMATION, result.buffer)
        names.append(tail(ctypes_types.KEY_VALUE_FULL_INFORMATION, result.buffer, "Name", info.NameLength)
                     .decode("utf-16-le"))


# --- facts 39, 40: disposition; opening an existing key through NtCreateKey ------------------------

def test_disposition_new_then_existing(registry, test_key):
    """Fact 39: NtCreateKey reports REG_CREATED_NEW_KEY when it makes the key and REG_OPENED_EXISTING_KEY
    when it opens an existing one; MS ZwCreateKey."""
    assert registry.create_key("Sub", root=test_key)[::2] == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    assert registry.create_key("Sub", root=test_key)[::2] == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    assert registry.create_key(TEST_KEY + "\\Sub")[::2] == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)


def test_existing_key_is_opened_unchanged(registry, test_key):
    """Fact 39: an existing key is opened without being changed: its class and last write time stay as
    they were, although the second NtCreateKey names another class; MS ZwCreateKey."""
    handle = create_new(registry, "Sub", test_key, class_name="First")
    before = last_write(registry, handle)
    registry.native.store.clock.advance(10_000)
    status, again, disposition = registry.create_key("Sub", root=test_key, class_name="Second",
                                                options=REG_OPTION_VOLATILE)
    assert (status, disposition) == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    info, buffer = full_info(registry, again)
    assert tail(ctypes_types.KEY_FULL_INFORMATION, buffer, "Class", info.ClassLength) == "First".encode("utf-16-le")
    assert last_write(registry, again) == before
    # Still a stable key: a non-volatile child can be created under it (fact 41).
    assert registry.create_key("Child", root=again).status == STATUS_SUCCESS


def test_create_existing_key_needs_only_the_access_asked_for(registry):
    """Fact 40: NtCreateKey on the existing "\\REGISTRY\\Machine\\Software\\Classes" with GENERIC_READ
    succeeds (opening needs only the access asked for); W-NT test_NtCreateKey."""
    registry.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Classes")
    status, handle, disposition = registry.create_key("\\REGISTRY\\Machine\\Software\\Classes", GENERIC_READ)
    assert (status, disposition) == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    assert handle != 0


# --- fact 41: volatile parents -------------------------------------------------------------------

def test_stable_child_of_volatile_key_is_refused(registry, test_key):
    """Fact 41: a non-volatile key cannot be created under a volatile parent (STATUS_CHILD_MUST_BE_VOLATILE);
    with REG_OPTION_VOLATILE it can; W-ADV test_reg_create_key, R-CM cmparse.c CmpDoCreate."""
    parent = create_new(registry, "Volatile", test_key, options=REG_OPTION_VOLATILE)
    status, handle, _ = registry.create_key("Stable", root=parent)
    assert (status, handle) == (STATUS_CHILD_MUST_BE_VOLATILE, 0)
    assert not registry.exists(TEST_KEY + "\\Volatile\\Stable")
    create_new(registry, "Child", parent, options=REG_OPTION_VOLATILE)


def test_existing_volatile_child_opens_without_volatile_option(registry, test_key):
    """Fact 41: opening an already existing child of a volatile key through NtCreateKey without
    REG_OPTION_VOLATILE works; W-ADV test_reg_create_key."""
    parent = create_new(registry, "Volatile", test_key, options=REG_OPTION_VOLATILE)
    create_new(registry, "Child", parent, options=REG_OPTION_VOLATILE)
    status, _, disposition = registry.create_key("Child", root=parent, options=0)
    assert (status, disposition) == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)


# --- facts 43-47: NtDeleteKey ---------------------------------------------------------------------

def test_key_with_subkeys_cannot_be_deleted(registry, test_key):
    """Fact 43: NtDeleteKey on a key with a subkey gives STATUS_CANNOT_DELETE even with no handle to the child
    open; once the child is deleted the parent can be; R-T:NtDeleteKey.c, MS ZwDeleteKey, R-CM CmDeleteKey."""
    parent = create_new(registry, "Parent", test_key)
    child = create_new(registry, "Child", parent)
    assert registry.close(child) == STATUS_SUCCESS
    assert registry.delete_key(parent) == STATUS_CANNOT_DELETE
    assert registry.exists(TEST_KEY + "\\Parent\\Child")
    status, child = registry.open_key("Child", KEY_ALL_ACCESS, root=parent)
    assert status == STATUS_SUCCESS
    assert registry.delete_key(child) == STATUS_SUCCESS
    assert registry.delete_key(parent) == STATUS_SUCCESS
    assert not registry.exists(TEST_KEY + "\\Parent")


def test_values_do_not_block_deletion(registry, test_key):
    """Fact 44: a key that still has values can be deleted; MS ZwDeleteKey, R-CM CmDeleteKey."""
    handle = create_new(registry, "WithValues", test_key)
    assert registry.set_value(handle, "value", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    assert registry.set_value(handle, "", REG_SZ, "x\0".encode("utf-16-le")) == STATUS_SUCCESS
    assert registry.delete_key(handle) == STATUS_SUCCESS
    assert not registry.exists(TEST_KEY + "\\WithValues")


def test_deleting_a_deleted_key_succeeds(registry, test_key):
    """Fact 45: a second NtDeleteKey on the same handle returns STATUS_SUCCESS; R-T:NtDeleteKey.c,
    W-NT test_NtDeleteKey."""
    handle = create_new(registry, "Gone", test_key)
    assert registry.delete_key(handle) == STATUS_SUCCESS
    assert registry.delete_key(handle) == STATUS_SUCCESS


def test_delete_null_handle(registry):
    """Facts 46, 89: NtDeleteKey(NULL) gives STATUS_INVALID_HANDLE; W-NT test_NtDeleteKey."""
    assert registry.delete_key(0) == STATUS_INVALID_HANDLE


@pytest.mark.parametrize("contents,path", [
    pytest.param("empty", "\\REGISTRY\\USER", id="USER-top-key"),
    pytest.param("default", "\\REGISTRY\\MACHINE\\SAM", id="SAM-hive-root"),
    pytest.param("default", "\\REGISTRY\\MACHINE\\SECURITY", id="SECURITY-hive-root"),
])
def test_root_and_hive_roots_cannot_be_deleted(contents, path):
    """Fact 47: the root and hive-root keys cannot be deleted, even with no subkeys; ReactOS returns
    STATUS_CANNOT_DELETE for a key with no parent and for no-delete (hive root) keys; R-CM cmapi.c CmDeleteKey."""
    registry = Registry(contents)
    status, handle = registry.open_key(path, KEY_ALL_ACCESS)
    assert status == STATUS_SUCCESS
    assert registry.enumerate_key(handle, 0).status == STATUS_NO_MORE_ENTRIES
    assert registry.delete_key(handle) == STATUS_CANNOT_DELETE
    assert registry.exists(path)


# --- facts 48, 49, 59: a deleted key seen through a handle still open --------------------------------

def _deleted_key_operations():
    info = KEY_INFORMATION_CLASS
    return {
        "NtQueryKey(KeyNameInformation)": lambda registry, h: registry.query_key(h, info.KeyNameInformation).status,
        "NtEnumerateKey": lambda registry, h: registry.enumerate_key(h, 0, info.KeyFullInformation).status,
        "NtQueryValueKey": lambda registry, h: registry.query_value(h, "value").status,
        "NtEnumerateValueKey": lambda registry, h: registry.enumerate_value(h, 0).status,
        "NtSetValueKey": lambda registry, h: registry.set_value(h, "value", REG_SZ, b"test\0"),
        "NtDeleteValueKey": lambda registry, h: registry.delete_value(h, "value"),
        "NtOpenKey(RootDirectory)": lambda registry, h: registry.open_key("subkey", KEY_READ, root=h).status,
        "NtCreateKey(RootDirectory)": lambda registry, h: registry.create_key("subkey", KEY_ALL_ACCESS, root=h).status,
        "NtFlushKey": lambda registry, h: registry.flush_key(h),
    }


@pytest.mark.parametrize("operation", list(_deleted_key_operations()))
def test_operations_on_deleted_key_give_key_deleted(registry, test_key, operation):
    """Facts 48, 59: through a handle to a deleted key, NtQueryKey(KeyNameInformation), NtEnumerateKey,
    NtQueryValueKey, NtEnumerateValueKey, NtSetValueKey, NtDeleteValueKey, NtOpenKey/NtCreateKey with it as
    RootDirectory and NtFlushKey give STATUS_KEY_DELETED; W-NT test_NtDeleteKey, W-ADV test_deleted_key."""
    handle = create_new(registry, "Doomed", test_key)
    assert registry.set_value(handle, "value", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    assert registry.delete_key(handle) == STATUS_SUCCESS
    assert _deleted_key_operations()[operation](registry, handle) == STATUS_KEY_DELETED


def test_deleted_key_handle_closes(registry, test_key):
    """Fact 48: NtClose on a handle to a deleted key returns STATUS_SUCCESS; W-NT test_NtDeleteKey."""
    handle = create_new(registry, "Doomed", test_key)
    assert registry.delete_key(handle) == STATUS_SUCCESS
    assert registry.close(handle) == STATUS_SUCCESS


def test_deleted_key_cannot_be_opened_by_name(registry, test_key):
    """Fact 49: once deleted (and its handle closed) a key can no longer be opened by name from its parent
    (STATUS_OBJECT_NAME_NOT_FOUND) and no longer enumerates; W-ADV test_reg_delete_key."""
    handle = create_new(registry, "Doomed", test_key)
    assert registry.delete_key(handle) == STATUS_SUCCESS
    assert registry.close(handle) == STATUS_SUCCESS
    assert registry.open_key("Doomed", root=test_key) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)
    assert registry.open_key(TEST_KEY + "\\Doomed") == (STATUS_OBJECT_NAME_NOT_FOUND, 0)
    assert subkey_names(registry, test_key) == []


# --- facts 28, 50-52: enumeration --------------------------------------------------------------------

def test_enumeration_past_the_end(registry, test_key):
    """Fact 50: NtEnumerateKey and NtEnumerateValueKey past the last entry give STATUS_NO_MORE_ENTRIES;
    MS ZwEnumerateKey, MS ZwEnumerateValueKey."""
    assert registry.enumerate_key(test_key, 0).status == STATUS_NO_MORE_ENTRIES
    assert registry.enumerate_value(test_key, 0).status == STATUS_NO_MORE_ENTRIES
    create_new(registry, "Only", test_key)
    assert registry.set_value(test_key, "only", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    assert registry.enumerate_key(test_key, 0).status == STATUS_SUCCESS
    assert registry.enumerate_key(test_key, 1).status == STATUS_NO_MORE_ENTRIES
    assert registry.enumerate_value(test_key, 0).status == STATUS_SUCCESS
    assert registry.enumerate_value(test_key, 1).status == STATUS_NO_MORE_ENTRIES


def test_subkeys_enumerate_sorted(registry, test_key):
    """Fact 51: subkeys enumerate in sorted order whatever order they were created in (created C, A, B,
    enumerated A, B, C); W-ADV test_classesroot_enum, R-CM cmindex.c."""
    for name in ("C", "A", "B"):
        create_new(registry, name, test_key)
    assert subkey_names(registry, test_key) == ["A", "B", "C"]


def test_subkey_order_compares_upper_case(registry, test_key):
    """Facts 28, 51: subkeys are ordered by an upper-case, case-insensitive comparison, so "_x" (0x5F) sorts
    after "b" (upper-cased 0x42) although it sorts before it in lower case, and "alpha" precedes "Beta";
    R-CM sdk/lib/cmlib/cmindex.c CmpDoCompareKeyName, CmpCompareCompressedName."""
    for name in ("_x", "b", "Beta", "alpha", "A1"):
        create_new(registry, name, test_key)
    assert subkey_names(registry, test_key) == ["A1", "alpha", "b", "Beta", "_x"]


def test_values_enumerate_in_creation_order(registry, test_key):
    """Fact 52: values enumerate in the order they were created, not sorted (set A, C, D, B, enumerated
    A, C, D, B); W-ADV test_rw_order."""
    for name in ("A", "C", "D", "B"):
        assert registry.set_value(test_key, name, REG_DWORD, DWORD_1) == STATUS_SUCCESS
    assert value_names(registry, test_key) == ["A", "C", "D", "B"]


# --- facts 53, 54: LastWriteTime ------------------------------------------------------------------------

def _set_value(registry, key):
    return registry.set_value(key, "value", REG_DWORD, (2).to_bytes(4, "little"))


def _delete_value(registry, key):
    return registry.delete_value(key, "value")


def _create_subkey(registry, key):
    return registry.create_key("Child", root=key).status


def _delete_subkey(registry, key):
    status, child = registry.open_key("Existing", KEY_ALL_ACCESS, root=key)
    return status if status != STATUS_SUCCESS else registry.delete_key(child)


@pytest.mark.parametrize("change", [_set_value, _delete_value, _create_subkey, _delete_subkey],
                         ids=["set-value", "delete-value", "create-subkey", "delete-subkey"])
def test_changes_update_last_write_time(registry, test_key, change):
    """Fact 53: LastWriteTime is the time of the key's last change: setting or deleting a value updates it
    (MS KEY_BASIC_INFORMATION), and creating or deleting a subkey updates the parent's (R-CM cmapi.c
    CmSetValueKey, CmDeleteValueKey, CmDeleteKey; cmparse.c CmpDoCreate)."""
    key = create_new(registry, "Key", test_key)
    assert registry.set_value(key, "value", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    create_new(registry, "Existing", key)
    before = last_write(registry, key)
    registry.native.store.clock.advance(10_000_000)
    assert change(registry, key) == STATUS_SUCCESS
    assert last_write(registry, key) == registry.native.store.clock.now() > before


def test_setting_identical_value_keeps_last_write_time(registry, test_key):
    """Fact 54: setting a value to exactly its current type and data changes nothing, not even
    LastWriteTime (implementation evidence: R-CM cmapi.c CmSetValueKey, W-SRV set_value)."""
    key = create_new(registry, "Key", test_key)
    assert registry.set_value(key, "value", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    before = last_write(registry, key)
    registry.native.store.clock.advance(10_000_000)
    assert registry.set_value(key, "value", REG_DWORD, DWORD_1) == STATUS_SUCCESS
    assert last_write(registry, key) == before


# --- facts 55-57: NtRenameKey --------------------------------------------------------------------------

@pytest.mark.parametrize("with_handle,new_name,expected", [
    pytest.param(False, None, STATUS_ACCESS_VIOLATION, id="NtRenameKey(NULL,NULL)"),
    pytest.param(True, None, STATUS_ACCESS_VIOLATION, id="NtRenameKey(h,NULL)"),
    pytest.param(False, "NewName", STATUS_INVALID_HANDLE, id="NtRenameKey(NULL,&name)"),
    pytest.param(True, "", STATUS_INVALID_PARAMETER, id="NtRenameKey(h,empty)"),
])
def test_rename_argument_checks(registry, test_key, with_handle, new_name, expected):
    """Fact 55: NtRenameKey(NULL, NULL) and (h, NULL) give STATUS_ACCESS_VIOLATION, (NULL, &name)
    STATUS_INVALID_HANDLE, (h, empty UNICODE_STRING) STATUS_INVALID_PARAMETER; W-NT test_NtRenameKey."""
    handle = create_new(registry, "Old", test_key) if with_handle else 0
    with registry.arena() as arena:
        assert registry.native.NtRenameKey(handle, arena.unicode_string(new_name)) == expected
    assert registry.exists(TEST_KEY + "\\Old") == with_handle


@pytest.mark.parametrize("access,expected", [
    pytest.param(KEY_READ | DELETE, STATUS_ACCESS_DENIED, id="KEY_READ|DELETE"),
    pytest.param(KEY_WRITE | DELETE, STATUS_SUCCESS, id="KEY_WRITE|DELETE"),
])
def test_rename_needs_key_write(registry, test_key, access, expected):
    """Fact 56: NtRenameKey needs KEY_WRITE on the handle: KEY_READ|DELETE gives STATUS_ACCESS_DENIED,
    KEY_WRITE|DELETE works; W-NT test_NtRenameKey, MS RegRenameKey."""
    registry.close(create_new(registry, "Old", test_key))
    status, handle = registry.open_key("Old", access, root=test_key)
    assert status == STATUS_SUCCESS
    assert registry.rename_key(handle, "New") == expected
    assert registry.exists(TEST_KEY + "\\New") == (expected == STATUS_SUCCESS)


def test_rename_to_own_name_is_cannot_delete(registry, test_key):
    """Fact 57: renaming a key to its own current name gives STATUS_CANNOT_DELETE; W-NT test_NtRenameKey
    ("Rename to itself")."""
    handle = create_new(registry, "Same", test_key)
    assert registry.rename_key(handle, "Same") == STATUS_CANNOT_DELETE
    assert is_path(key_name(registry, handle), TEST_KEY + "\\Same")


def test_rename_shows_new_name(registry, test_key):
    """Fact 57: after a successful rename, KeyNameInformation shows the new name; the key opens by the new
    name only; W-NT test_NtRenameKey."""
    handle = create_new(registry, "Old", test_key)
    assert registry.rename_key(handle, "New") == STATUS_SUCCESS
    assert is_path(key_name(registry, handle), TEST_KEY + "\\New")
    assert registry.open_key(TEST_KEY + "\\New").status == STATUS_SUCCESS
    assert registry.open_key(TEST_KEY + "\\Old").status == STATUS_OBJECT_NAME_NOT_FOUND


def test_rename_to_existing_sibling_is_cannot_delete(registry, test_key):
    """Fact 57 / open question Q17 (cmhook's decision for an open question): renaming to the name of an
    existing sibling gives STATUS_CANNOT_DELETE, as renaming to itself does on Windows (Wine's choice,
    W-SRV rename_key; not verified on Windows)."""
    create_new(registry, "Sibling", test_key)
    handle = create_new(registry, "Old", test_key)
    assert registry.rename_key(handle, "Sibling") == STATUS_CANNOT_DELETE
    assert sorted(subkey_names(registry, test_key)) == ["Old", "Sibling"]


# --- fact 58: NtSetInformationKey ----------------------------------------------------------------------

def write_time_record(filetime: int) -> bytes:
    record = ctypes_types.KEY_WRITE_TIME_INFORMATION()
    record.LastWriteTime.QuadPart = filetime
    return bytes(record)


WRITE_TIME = KEY_SET_INFORMATION_CLASS.KeyWriteTimeInformation


def test_set_write_time(registry, test_key):
    """Fact 58: NtSetInformationKey(KeyWriteTimeInformation) with a KEY_WRITE_TIME_INFORMATION (8 bytes,
    absolute system time) sets the key's LastWriteTime; MS NtSetInformationKey, MS KEY_WRITE_TIME_INFORMATION."""
    handle = create_new(registry, "Timed", test_key)
    when = T0 - 5 * 10_000_000
    assert registry.set_information_key(handle, WRITE_TIME, write_time_record(when)) == STATUS_SUCCESS
    assert last_write(registry, handle) == when


def test_set_write_time_needs_key_write(registry, test_key):
    """Facts 58, 91: NtSetInformationKey needs KEY_WRITE; a KEY_READ handle gets STATUS_ACCESS_DENIED;
    MS NtSetInformationKey."""
    registry.close(create_new(registry, "Timed", test_key))
    status, handle = registry.open_key("Timed", KEY_READ, root=test_key)
    assert status == STATUS_SUCCESS
    before = last_write(registry, handle)
    assert registry.set_information_key(handle, WRITE_TIME, write_time_record(1)) == STATUS_ACCESS_DENIED
    assert last_write(registry, handle) == before


def test_set_write_time_short_length(registry, test_key):
    """Fact 58: a length wrong for the class (4 bytes for the 8-byte KEY_WRITE_TIME_INFORMATION) gives
    STATUS_INFO_LENGTH_MISMATCH; MS NtSetInformationKey."""
    handle = create_new(registry, "Timed", test_key)
    assert registry.set_information_key(handle, WRITE_TIME, write_time_record(1)[:4]) == STATUS_INFO_LENGTH_MISMATCH


def test_set_write_time_long_length(registry, test_key):
    """Fact 58 / open question Q11 (cmhook's decision for an open question): the length must be exactly
    sizeof(KEY_WRITE_TIME_INFORMATION), so 16 bytes also gives STATUS_INFO_LENGTH_MISMATCH."""
    handle = create_new(registry, "Timed", test_key)
    record = write_time_record(1) + bytes(8)
    assert registry.set_information_key(handle, WRITE_TIME, record) == STATUS_INFO_LENGTH_MISMATCH


# --- fact 59: NtFlushKey -----------------------------------------------------------------------------

def test_flush_null_handle(registry):
    """Facts 59, 89: NtFlushKey(NULL) gives STATUS_INVALID_HANDLE; W-NT test_NtFlushKey."""
    assert registry.flush_key(0) == STATUS_INVALID_HANDLE


@pytest.mark.parametrize("access", [KEY_ALL_ACCESS, READ_CONTROL, KEY_CREATE_SUB_KEY],
                         ids=["KEY_ALL_ACCESS", "READ_CONTROL", "KEY_CREATE_SUB_KEY"])
def test_flush_valid_handle(registry, access):
    """Fact 59: NtFlushKey on a valid handle returns STATUS_SUCCESS and needs no particular access right
    (W-NT test_NtFlushKey; R-API NtFlushKey references the handle with access 0)."""
    registry.put(TEST_KEY)
    status, handle = registry.open_key(TEST_KEY, access)
    assert status == STATUS_SUCCESS
    assert registry.flush_key(handle) == STATUS_SUCCESS


# --- facts 60, 61: class and KEY_FULL_INFORMATION counts -------------------------------------------------

def test_class_is_stored_and_returned(registry, test_key):
    """Fact 60: the class given at creation is returned through KeyNodeInformation and KeyFullInformation;
    ClassLength is in bytes with no terminator ("MyClass" -> 14) and the parent's MaxClassLen is in bytes;
    R-T:NtQueryKey.c, R-CM CmpQueryKeyData."""
    handle = create_new(registry, "Classy", test_key, class_name="MyClass")
    expected = "MyClass".encode("utf-16-le")
    info, buffer = full_info(registry, handle)
    assert (info.ClassLength, info.ClassOffset) == (14, 44)
    assert buffer[info.ClassOffset:info.ClassOffset + info.ClassLength] == expected
    node = registry.enumerate_key(test_key, 0, KEY_INFORMATION_CLASS.KeyNodeInformation)
    assert node.status == STATUS_SUCCESS
    node_info = decode(ctypes_types.KEY_NODE_INFORMATION, node.buffer)
    assert node_info.ClassLength == 14
    assert node.buffer[node_info.ClassOffset:node_info.ClassOffset + node_info.ClassLength] == expected
    parent_info, _ = full_info(registry, test_key)
    assert parent_info.MaxClassLen == 14


def test_new_key_full_information_is_empty(registry, test_key):
    """Fact 61: a brand-new key reports 0 for SubKeys, MaxNameLen, MaxClassLen, Values, MaxValueNameLen
    and MaxValueDataLen; R-T:NtQueryKey.c."""
    info, _ = full_info(registry, create_new(registry, "Fresh", test_key))
    assert (info.SubKeys, info.MaxNameLen, info.MaxClassLen, info.Values, info.MaxValueNameLen,
            info.MaxValueDataLen) == (0, 0, 0, 0, 0, 0)


def test_full_information_counts_stable_and_volatile_subkeys(registry, test_key):
    """Fact 61: KEY_FULL_INFORMATION.SubKeys counts volatile and stable subkeys together, and MaxNameLen is
    in bytes (longest "VolatileChild" -> 26); R-T:NtQueryKey.c, R-CM CmpQueryKeyData."""
    create_new(registry, "Stable", test_key)
    create_new(registry, "VolatileChild", test_key, options=REG_OPTION_VOLATILE)
    info, _ = full_info(registry, test_key)
    assert (info.SubKeys, info.MaxNameLen) == (2, 26)

