"""Names and paths in NtCreateKey / NtOpenKey: docs/registry-facts.md facts 22-38.

Each test names the fact it checks and the source the facts file gives for it. Pointer-level
cases (NULL pointers, a wrong OBJECT_ATTRIBUTES.Length, *KeyHandle on failure, misaligned or
odd-length names) build the caller's memory in the registry's user arena, as a user-mode
program would.
"""

from __future__ import annotations

import pytest

from ntddk_py import (
    GENERIC_ALL,
    GENERIC_READ,
    KEY_ALL_ACCESS,
    KEY_READ,
    KEY_VALUE_INFORMATION_CLASS,
    OBJ_CASE_INSENSITIVE,
    REG_CREATED_NEW_KEY,
    REG_DWORD,
    REG_OPENED_EXISTING_KEY,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_DATATYPE_MISALIGNMENT,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ctypes_types,
    ffi,
)

from .helpers import (
    GARBAGE_HANDLE,
    TEST_KEY,
    address,
    is_path,
    key_name,
    object_attributes,
    open_or_create,
    raw_call,
    raw_open_or_create,
)

CLASSES = "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes"
CALLS = ["open", "create"]


# --- fact 22, 23: names with no RootDirectory must be absolute ---------------------------------

@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["Machine", "Machine\\Software\\Classes", ""],
                         ids=["Machine", "Machine-Software-Classes", "empty"])
def test_relative_name_without_root_is_path_syntax_bad(registry, call, name):
    """Facts 22, 23, 36: with no RootDirectory, "Machine", "Machine\\Software\\Classes" and "" give
    STATUS_OBJECT_PATH_SYNTAX_BAD and *KeyHandle = 0; W-NT dlls/ntdll/tests/reg.c test_NtOpenKey,
    test_NtCreateKey."""
    assert raw_open_or_create(registry, call, name) == (STATUS_OBJECT_PATH_SYNTAX_BAD, 0)


# --- fact 24: absolute names that leave \REGISTRY ------------------------------------------------

OUTSIDE_REGISTRY = [
    pytest.param("\\", STATUS_OBJECT_TYPE_MISMATCH, id="object-manager-root"),
    pytest.param("\\Device\\Null", STATUS_OBJECT_TYPE_MISMATCH, id="Device-Null"),
    pytest.param("\\\\\\", STATUS_OBJECT_NAME_INVALID, id="three-backslashes"),
    pytest.param("\\Foobar", STATUS_OBJECT_NAME_NOT_FOUND, id="Foobar"),
    pytest.param("\\Foobar\\Machine", STATUS_OBJECT_PATH_NOT_FOUND, id="Foobar-Machine"),
    pytest.param("\\Machine\\Software\\Classes", STATUS_OBJECT_PATH_NOT_FOUND, id="Machine-Software-Classes"),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name,expected", OUTSIDE_REGISTRY)
def test_absolute_name_outside_registry(registry, call, name, expected):
    """Fact 24: with OBJ_CASE_INSENSITIVE, "\\" and "\\Device\\Null" are not keys (OBJECT_TYPE_MISMATCH),
    "\\\\\\" is OBJECT_NAME_INVALID, "\\Foobar" OBJECT_NAME_NOT_FOUND, "\\Foobar\\Machine" and
    "\\Machine\\Software\\Classes" OBJECT_PATH_NOT_FOUND; W-NT test_NtOpenKey, test_NtCreateKey."""
    status, _ = open_or_create(registry, call, name, GENERIC_ALL)
    assert status == expected


# --- fact 25: \Registry itself ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["\\Registry", "\\Registry\\", "\\Registry\\\\"])
def test_registry_root_opens(registry, name):
    """Fact 25: "\\Registry", "\\Registry\\" and "\\Registry\\\\" open with KEY_READ and STATUS_SUCCESS;
    W-NT test_NtOpenKey."""
    status, handle = registry.open_key(name, KEY_READ)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == "\\REGISTRY"


def test_create_on_registry_root_opens_it(registry):
    """Facts 25, 39: NtCreateKey on "\\Registry" opens the existing root (STATUS_SUCCESS with KEY_READ; Windows
    may refuse GENERIC_ALL for lack of rights), disposition REG_OPENED_EXISTING_KEY; W-NT test_NtCreateKey,
    MS ZwCreateKey."""
    status, handle, disposition = registry.create_key("\\Registry", KEY_READ)
    assert (status, disposition) == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    assert key_name(registry, handle).upper() == "\\REGISTRY"


# --- fact 26: the \Registry part is case-sensitive without OBJ_CASE_INSENSITIVE ------------------

@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["\\Registry\\Machine", "\\Registry\\Machine\\Software\\Classes"])
def test_registry_part_is_case_sensitive_without_flag(registry, call, name):
    """Fact 26 (Server 2003, before Win10 1607): "\\Registry\\..." opened without OBJ_CASE_INSENSITIVE
    gives STATUS_OBJECT_PATH_NOT_FOUND; W-NT test_NtOpenKey, test_NtCreateKey ("the REGISTRY part is
    case-sensitive unless OBJ_CASE_INSENSITIVE is specified")."""
    registry.put(CLASSES)
    status, handle = open_or_create(registry, call, name, GENERIC_READ, attributes=0)
    assert (status, handle) == (STATUS_OBJECT_PATH_NOT_FOUND, 0)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["\\REGISTRY\\Machine\\Software\\Classes", "\\REGISTRY\\MACHINE\\SOFTWARE\\CLASSES"])
def test_upper_case_registry_part_needs_no_flag(registry, call, name):
    """Fact 26: "\\REGISTRY\\Machine\\Software\\Classes" and "\\REGISTRY\\MACHINE\\SOFTWARE\\CLASSES"
    succeed without OBJ_CASE_INSENSITIVE on every version; W-NT test_NtCreateKey."""
    registry.put(CLASSES)
    status, handle = open_or_create(registry, call, name, GENERIC_READ, attributes=0)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == CLASSES.upper()


@pytest.mark.parametrize("call", CALLS)
def test_registry_part_matches_any_case_with_flag(registry, call):
    """Fact 26: with OBJ_CASE_INSENSITIVE, "\\Registry\\Machine" opens; W-NT test_NtOpenKey."""
    status, handle = open_or_create(registry, call, "\\Registry\\Machine", KEY_READ, attributes=OBJ_CASE_INSENSITIVE)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == "\\REGISTRY\\MACHINE"


# --- fact 27: names below \Registry always match case-insensitively -------------------------------

def test_key_names_fold_case_without_flag(registry, test_key):
    """Fact 27: below \\Registry, names match case-insensitively without OBJ_CASE_INSENSITIVE, covering
    Latin-1, Latin Extended and Greek (created "\\xf6\\xf3\\u014d\\u0371...", opened "\\xd6\\xd3\\u014c\\u0370...");
    W-NT test_NtOpenKey ("keys are case insensitive even without OBJ_CASE_INSENSITIVE")."""
    created = "\xf6\xf3\u014d\u0371\U00010400"
    status, _, disposition = registry.create_key(created, KEY_ALL_ACCESS, root=test_key, attributes=0)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    status, handle = registry.open_key("\xd6\xd3\u014c\u0370\U00010400", KEY_ALL_ACCESS, root=test_key, attributes=0)
    assert status == STATUS_SUCCESS
    assert is_path(key_name(registry, handle), TEST_KEY + "\\" + created)


def test_surrogate_pairs_do_not_fold_case(registry, test_key):
    """Fact 27: characters outside the BMP (a Deseret capital/small pair, as surrogates) are not case-folded,
    so the other case gives STATUS_OBJECT_NAME_NOT_FOUND; W-NT test_NtOpenKey ("surrogates not supported")."""
    status, _, _ = registry.create_key("\xf6\xf3\u014d\u0371\U00010400", KEY_ALL_ACCESS, root=test_key, attributes=0)
    assert status == STATUS_SUCCESS
    status, handle = registry.open_key("\xd6\xd3\u014c\u0370\U00010428", KEY_ALL_ACCESS, root=test_key, attributes=0)
    assert (status, handle) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


# --- facts 29, 30: one level per create; which "not found" ----------------------------------------

@pytest.mark.parametrize("name", ["test\\sub\\key", "test\\subkey", "test\\\\subkey", "test\\subkey\\"])
def test_create_needs_existing_intermediate_keys(registry, test_key, name):
    """Fact 29: NtCreateKey relative to a RootDirectory creates one level only; with "test" missing,
    "test\\sub\\key", "test\\subkey", "test\\\\subkey" and "test\\subkey\\" give STATUS_OBJECT_NAME_NOT_FOUND
    (not OBJECT_PATH_NOT_FOUND); W-NT test_NtCreateKey, MS ZwCreateKey."""
    status, handle, _ = registry.create_key(name, KEY_ALL_ACCESS, root=test_key)
    assert (status, handle) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)
    assert not registry.exists(TEST_KEY + "\\test")


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name", ["\\REGISTRY\\MACHINE\\SOFTWARE\\Missing\\Deeper",
                                  "\\REGISTRY\\MACHINE\\SOFTWARE\\Missing\\Deeper\\Still"])
def test_missing_key_below_registry_is_name_not_found(registry, call, name):
    """Facts 29, 30: a missing key below an existing registry key gives STATUS_OBJECT_NAME_NOT_FOUND even
    when more path follows; OBJECT_PATH_NOT_FOUND is only for the object-manager part; W-NT test_NtOpenKey,
    test_NtCreateKey; W-ADV test_reg_open_key."""
    status, handle = open_or_create(registry, call, name, KEY_ALL_ACCESS)
    assert (status, handle) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


def test_open_missing_leaf_is_name_not_found(registry):
    """Fact 30: NtOpenKey on a missing last component under an existing key gives
    STATUS_OBJECT_NAME_NOT_FOUND; W-ADV test_reg_open_key (ERROR_FILE_NOT_FOUND)."""
    assert registry.open_key(TEST_KEY + "\\Missing") == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


# --- fact 31: trailing and doubled backslashes -----------------------------------------------------

def test_trailing_backslashes_are_ignored(registry, test_key):
    """Fact 31: "test_subkey\\" creates, then reopens, "test_subkey"; W-NT test_NtCreateKey."""
    status, handle, disposition = registry.create_key("test_subkey\\", KEY_ALL_ACCESS, root=test_key)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    assert is_path(key_name(registry, handle), TEST_KEY + "\\test_subkey")
    status, _, disposition = registry.create_key("test_subkey\\", KEY_ALL_ACCESS, root=test_key)
    assert (status, disposition) == (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    assert registry.open_key(TEST_KEY + "\\test_subkey\\\\").status == STATUS_SUCCESS


def test_doubled_backslash_between_components_is_accepted(registry, test_key):
    """Fact 31: "test_subkey2\\\\" creates test_subkey2, then "test_subkey2\\\\test\\\\" creates "test"
    under it; W-NT test_NtCreateKey."""
    status, _, _ = registry.create_key("test_subkey2\\\\", KEY_ALL_ACCESS, root=test_key)
    assert status == STATUS_SUCCESS
    status, handle, disposition = registry.create_key("test_subkey2\\\\test\\\\", KEY_ALL_ACCESS, root=test_key)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    assert is_path(key_name(registry, handle), TEST_KEY + "\\test_subkey2\\test")


# --- fact 32: component length -----------------------------------------------------------------

def test_component_of_256_characters_is_accepted(registry, test_key):
    """Fact 32: a 256-character component is created and enumerated (NameLength 512 bytes);
    CPython Lib/test/test_winreg.py test_long_key."""
    name = "x" * 256
    status, _, disposition = registry.create_key(name, KEY_ALL_ACCESS, root=test_key)
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    result = registry.enumerate_key(test_key, 0)
    assert result.status == STATUS_SUCCESS
    info = ctypes_types.KEY_BASIC_INFORMATION.from_buffer_copy(result.buffer)
    start = ctypes_types.KEY_BASIC_INFORMATION.Name.offset
    assert info.NameLength == 512
    assert result.buffer[start:start + info.NameLength].decode("utf-16-le") == name


@pytest.mark.parametrize("call", CALLS)
def test_component_of_257_characters_is_rejected(registry, test_key, call):
    """Fact 32 / open question Q4 (cmhook's decision for an open question): a component longer than
    256 characters is refused with STATUS_OBJECT_NAME_INVALID; Wine and ReactOS reject it too
    (W-SRV key_lookup_name, R-CM cmparse.c CmpGetNextName), and Windows was not tested at 257."""
    status, handle = open_or_create(registry, call, "x" * 257, KEY_ALL_ACCESS, root=test_key)
    assert (status, handle) == (STATUS_OBJECT_NAME_INVALID, 0)


# --- fact 34, 35: OBJECT_ATTRIBUTES.Length and NULL pointers ----------------------------------------

@pytest.mark.parametrize("call", CALLS)
def test_object_attributes_length_twice_the_size(registry, call):
    """Fact 34: OBJECT_ATTRIBUTES.Length = 2 * sizeof(OBJECT_ATTRIBUTES) gives STATUS_INVALID_PARAMETER
    for NtOpenKey and NtCreateKey; W-NT test_NtOpenKey, test_NtCreateKey."""
    status, _ = raw_open_or_create(registry, call, TEST_KEY, GENERIC_ALL, length=2 * ffi.sizeof("OBJECT_ATTRIBUTES"))
    assert status == STATUS_INVALID_PARAMETER
    assert not registry.exists(TEST_KEY)


NULL_ARGUMENTS = [
    # (call, KeyHandle given, DesiredAccess, ObjectAttributes given, statuses Windows returns)
    pytest.param("open", False, 0, False, {STATUS_ACCESS_VIOLATION}, id="NtOpenKey(NULL,0,NULL)"),
    pytest.param("open", True, 0, False, {STATUS_ACCESS_VIOLATION}, id="NtOpenKey(&h,0,NULL)"),
    pytest.param("open", False, KEY_READ, True, {STATUS_ACCESS_VIOLATION}, id="NtOpenKey(NULL,KEY_READ,&attr)"),
    pytest.param("create", True, GENERIC_ALL, False, {STATUS_ACCESS_VIOLATION}, id="NtCreateKey(&h,GENERIC_ALL,NULL)"),
    pytest.param("create", True, 0, False, {STATUS_ACCESS_VIOLATION}, id="NtCreateKey(&h,0,NULL)"),
    pytest.param("create", False, 0, True, {STATUS_ACCESS_VIOLATION}, id="NtCreateKey(NULL,0,&attr)"),
    pytest.param("create", False, 0, False, {STATUS_ACCESS_VIOLATION, STATUS_INVALID_PARAMETER},
                 id="NtCreateKey(NULL,0,NULL)"),
    pytest.param("create", False, GENERIC_ALL, False, {STATUS_ACCESS_VIOLATION, STATUS_INVALID_PARAMETER},
                 id="NtCreateKey(NULL,GENERIC_ALL,NULL)"),
]


@pytest.mark.parametrize("call,with_handle,access,with_attributes,expected", NULL_ARGUMENTS)
def test_null_pointer_arguments(registry, call, with_handle, access, with_attributes, expected):
    """Fact 35: NULL KeyHandle or ObjectAttributes pointers give STATUS_ACCESS_VIOLATION (Server 2003;
    NtCreateKey(NULL, x, NULL) may also give INVALID_PARAMETER); W-NT test_NtOpenKey, test_NtCreateKey."""
    with registry.arena() as arena:
        handle = arena.new("HANDLE *") if with_handle else ffi.NULL
        attributes = object_attributes(arena, TEST_KEY) if with_attributes else ffi.NULL
        assert raw_call(registry, call, handle, access, attributes) in expected
    assert not registry.exists(TEST_KEY)


# --- fact 36: *KeyHandle is NULL after a failure ---------------------------------------------------

@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("name,access,expected", [
    pytest.param(TEST_KEY, 0, STATUS_ACCESS_DENIED, id="zero-access"),
    pytest.param("Machine", KEY_READ, STATUS_OBJECT_PATH_SYNTAX_BAD, id="path-syntax-bad"),
    pytest.param("\\REGISTRY\\MACHINE\\SOFTWARE\\Missing\\Deeper", KEY_READ, STATUS_OBJECT_NAME_NOT_FOUND,
                 id="name-not-found"),
])
def test_failed_open_or_create_clears_key_handle(registry, call, name, access, expected):
    """Fact 36: when NtOpenKey or NtCreateKey fails, *KeyHandle is set to NULL (zero access, PATH_SYNTAX_BAD
    seen on Windows); W-NT ok(!key) checks, R-API NtOpenKey/NtCreateKey."""
    assert raw_open_or_create(registry, call, name, access) == (expected, 0)


# --- fact 37: misaligned name buffer ----------------------------------------------------------------

def test_misaligned_name_buffer(registry):
    """Fact 37 (Server 2003): NtOpenKey with the name's UNICODE_STRING.Buffer at an odd address gives
    STATUS_DATATYPE_MISALIGNMENT (later Windows versions succeed); R-T:NtOpenKey.c."""
    encoded = "\\Registry\\Machine".encode("utf-16-le")
    with registry.arena() as arena:
        block = arena.new("UCHAR[]", len(encoded) + 2)
        ffi.memmove(block + 1, encoded, len(encoded))
        name = arena.new("UNICODE_STRING *", {"Length": len(encoded), "MaximumLength": len(encoded),
                                              "Buffer": ffi.cast("PWSTR", block + 1)})
        handle = arena.new("HANDLE *")
        status = registry.native.NtOpenKey(handle, KEY_READ, object_attributes(arena, None, unicode_string=name))
    assert status == STATUS_DATATYPE_MISALIGNMENT


# --- fact 38: odd-byte name lengths ------------------------------------------------------------------

def odd_length_string(arena, text: str):
    """A UNICODE_STRING for text whose Length is one byte short of the whole text."""
    ustr = arena.unicode_string(text)
    ustr.Length -= 1
    return ustr


@pytest.mark.parametrize("call", CALLS)
def test_odd_key_name_length(registry, call):
    """Fact 38 / open question Q6 (cmhook's decision for an open question): a key name whose
    UNICODE_STRING.Length is odd gives STATUS_OBJECT_NAME_INVALID, as Wine's NtOpenKeyEx does (W-NTDLL);
    no Windows test exists."""
    with registry.arena() as arena:
        handle = arena.new("HANDLE *", ffi.cast("HANDLE", GARBAGE_HANDLE))
        name = odd_length_string(arena, "\\Registry\\Machine")
        status = raw_call(registry, call, handle, KEY_READ, object_attributes(arena, None, unicode_string=name))
        assert (status, address(handle[0])) == (STATUS_OBJECT_NAME_INVALID, 0)


@pytest.mark.parametrize("operation", ["query", "set", "delete"])
def test_odd_value_name_length(registry, test_key, operation):
    """Fact 38: an odd UNICODE_STRING.Length for a value name gives STATUS_INVALID_PARAMETER in
    NtQueryValueKey, NtSetValueKey and NtDeleteValueKey (ReactOS R-API Length & (sizeof(WCHAR)-1) checks;
    no Windows test)."""
    assert registry.set_value(test_key, "value", REG_DWORD, b"\1\0\0\0") == STATUS_SUCCESS
    native = registry.native
    with registry.arena() as arena:
        name = odd_length_string(arena, "value")
        if operation == "query":
            buffer, result = arena.new("UCHAR[]", 64), arena.new("ULONG *")
            status = native.NtQueryValueKey(test_key, name, KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation,
                                            buffer, 64, result)
        elif operation == "set":
            data = arena.data(b"\2\0\0\0")
            status = native.NtSetValueKey(test_key, name, 0, REG_DWORD, data, 4)
        else:
            status = native.NtDeleteValueKey(test_key, name)
    assert status == STATUS_INVALID_PARAMETER
    assert registry.get_value(TEST_KEY, "value") == (REG_DWORD, b"\1\0\0\0")
