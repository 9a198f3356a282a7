"""Symbolic links: docs/registry-facts.md facts 36, 42 and 62-74, including the default registry's
\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet link to ControlSet001.

Each test names the fact it checks and the source the facts file gives for it. A link's target
is written as Windows' callers write it: the full \\REGISTRY path, UTF-16, with no terminating NUL.
"""

from __future__ import annotations

import pytest

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_READ,
    OBJ_CASE_INSENSITIVE,
    OBJ_OPENLINK,
    REG_CREATED_NEW_KEY,
    REG_DWORD,
    REG_LINK,
    REG_OPTION_CREATE_LINK,
    REG_OPTION_VOLATILE,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_NAME_TOO_LONG,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
)
from registry_core.registry import Registry

from .helpers import TEST_KEY, create_new, key_name, open_or_create, raw_open_or_create, read_value

TARGET = TEST_KEY + "\\target"
SYSTEM = "\\REGISTRY\\MACHINE\\SYSTEM"
CURRENT_CONTROL_SET = SYSTEM + "\\CurrentControlSet"
CONTROL_SET_001 = SYSTEM + "\\ControlSet001"
LINK_VALUE = "SymbolicLinkValue"
DWORD_BEEF = (0xBEEF).to_bytes(4, "little")


@pytest.fixture
def root(test_key):
    """A handle to \\REGISTRY\\MACHINE\\SOFTWARE\\Test, the key the links live in."""
    return test_key


def path_data(path: str) -> bytes:
    """A link target as SymbolicLinkValue holds it: UTF-16 with no terminating NUL (fact 63)."""
    return path.encode("utf-16-le")


def make_link(registry: Registry, root: int, name: str = "link", target: bytes | None = None) -> int:
    """Create a link key under root with NtCreateKey(REG_OPTION_CREATE_LINK); set its target if given."""
    handle = create_new(registry, name, root, options=REG_OPTION_CREATE_LINK)
    if target is not None:
        assert registry.set_value(handle, LINK_VALUE, REG_LINK, target) == STATUS_SUCCESS
    return handle


def make_target(registry: Registry) -> int:
    """Create the link target with a REG_DWORD "value" = 0xBEEF in it."""
    status, handle, _ = registry.create_key(TARGET)
    assert status == STATUS_SUCCESS
    assert registry.set_value(handle, "value", REG_DWORD, DWORD_BEEF) == STATUS_SUCCESS
    return handle


def raw_create(registry: Registry, name: str, *, root: int, options: int, attributes: int = OBJ_CASE_INSENSITIVE):
    """(status, *KeyHandle afterwards) from NtCreateKey(KEY_ALL_ACCESS), *KeyHandle holding garbage before the call."""
    return raw_open_or_create(registry, "create", name, KEY_ALL_ACCESS, options=options, root=root,
                              attributes=attributes)


def raw_open(registry: Registry, name: str, *, root: int, attributes: int = 0) -> tuple[int, int]:
    """(status, *KeyHandle afterwards) from NtOpenKey(KEY_ALL_ACCESS), *KeyHandle holding garbage before the call."""
    return raw_open_or_create(registry, "open", name, KEY_ALL_ACCESS, root=root, attributes=attributes)


# --- fact 62: the link value -----------------------------------------------------------------------

def test_link_target_must_be_reg_link(registry, root):
    """Fact 62: in a link key, SymbolicLinkValue set as REG_SZ gives STATUS_ACCESS_DENIED, as REG_LINK it
    succeeds; W-NT test_symlinks ("REG_SZ is not allowed"), R-CM CmSetValueKey."""
    link = make_link(registry, root)
    assert registry.set_value(link, LINK_VALUE, REG_SZ, path_data(TARGET)) == STATUS_ACCESS_DENIED
    assert registry.set_value(link, LINK_VALUE, REG_LINK, path_data(TARGET)) == STATUS_SUCCESS


@pytest.mark.parametrize("name,type_", [("link", REG_LINK), ("value", REG_DWORD), ("", REG_SZ)],
                         ids=["other-name-REG_LINK", "REG_DWORD", "default-value"])
def test_link_key_holds_no_other_value(registry, root, name, type_):
    """Fact 62: setting any value other than SymbolicLinkValue in a link key, even as REG_LINK, gives
    STATUS_ACCESS_DENIED; W-NT test_symlinks ("other values are not allowed"), W-ADV test_symlinks."""
    link = make_link(registry, root, target=path_data(TARGET))
    assert registry.set_value(link, name, type_, path_data(TARGET)) == STATUS_ACCESS_DENIED


def test_link_value_name_is_case_insensitive(registry, root):
    """Fact 62: the SymbolicLinkValue name is compared case-insensitively (R-CM CmSetValueKey symlink check),
    so "symboliclinkvalue" sets the target that opening the link then follows."""
    make_target(registry)
    link = make_link(registry, root)
    assert registry.set_value(link, "symboliclinkvalue", REG_LINK, path_data(TARGET)) == STATUS_SUCCESS
    status, handle = registry.open_key("link", KEY_READ, root=root)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == TARGET.upper()


# --- facts 63, 64: targets that do not resolve -------------------------------------------------------

@pytest.mark.parametrize("target", [
    pytest.param(path_data(TARGET) + b"\0\0", id="terminating-NUL"),
    pytest.param(path_data("target"), id="relative"),
])
def test_unusable_link_target(registry, root, target):
    """Fact 63 (Server 2003): a target whose data includes the terminating NUL, or a relative target with no
    leading "\\", gives STATUS_OBJECT_NAME_NOT_FOUND when the link is opened (even with the target key
    present); W-NT test_symlinks ("target with terminating null doesn't work", "relative symlink")."""
    make_target(registry)
    make_link(registry, root, target=target)
    assert raw_open(registry, "link", root=root) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


def test_link_to_missing_target(registry, root):
    """Facts 64, 36: opening a link whose target does not exist gives STATUS_OBJECT_NAME_NOT_FOUND with
    *KeyHandle = 0; W-NT test_symlinks, W-ADV test_symlinks."""
    make_link(registry, root, target=path_data(TARGET))
    assert raw_open(registry, "link", root=root) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


def test_link_with_no_target_value(registry, root):
    """Facts 36, 64: a link key with no SymbolicLinkValue leads nowhere: NtOpenKey gives
    STATUS_OBJECT_NAME_NOT_FOUND and *KeyHandle = 0; W-NT ok(!key) checks."""
    make_link(registry, root)
    assert raw_open(registry, "link", root=root) == (STATUS_OBJECT_NAME_NOT_FOUND, 0)


# --- facts 65-67: following a link, or opening the link itself ----------------------------------------

@pytest.mark.parametrize("attributes", [0, OBJ_CASE_INSENSITIVE], ids=["attributes-0", "OBJ_CASE_INSENSITIVE"])
@pytest.mark.parametrize("call", ["open", "create"])
def test_open_without_openlink_follows_the_link(registry, root, call, attributes):
    """Fact 65: NtOpenKey/NtCreateKey without OBJ_OPENLINK follow the link: the handle refers to the target
    (its values are visible, KeyNameInformation names it) and SymbolicLinkValue is not visible through it
    (STATUS_OBJECT_NAME_NOT_FOUND); W-NT test_symlinks."""
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))
    status, handle = open_or_create(registry, call, "link", KEY_ALL_ACCESS, root=root, attributes=attributes)
    assert status == STATUS_SUCCESS
    assert read_value(registry, handle, "value") == (STATUS_SUCCESS, REG_DWORD, DWORD_BEEF)
    assert read_value(registry, handle, LINK_VALUE)[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert key_name(registry, handle).upper() == TARGET.upper()


@pytest.mark.parametrize("call", ["open", "create"])
def test_openlink_opens_the_link_itself(registry, root, call):
    """Fact 66: with OBJ_OPENLINK, NtOpenKey and NtCreateKey open the link key itself, and SymbolicLinkValue
    reads back as REG_LINK with the length that was set; W-NT test_symlinks ("now open the symlink itself")."""
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))
    status, handle = open_or_create(registry, call, "link", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    assert read_value(registry, handle, LINK_VALUE) == (STATUS_SUCCESS, REG_LINK, path_data(TARGET))
    assert read_value(registry, handle, "value")[0] == STATUS_OBJECT_NAME_NOT_FOUND


# --- fact 68: REG_LINK values in ordinary keys ----------------------------------------------------------

def test_reg_link_value_in_ordinary_key_has_no_effect(registry, root):
    """Fact 68: REG_LINK values, even one named SymbolicLinkValue, can be stored in an ordinary key with no
    special effect: they read back and delete normally, and the key still opens as itself; W-NT test_symlinks
    ("REG_LINK can be created in non-link keys"), W-ADV test_symlinks."""
    make_target(registry)
    status, plain, _ = registry.create_key("plain", KEY_ALL_ACCESS, root=root)
    assert status == STATUS_SUCCESS
    assert registry.set_value(plain, LINK_VALUE, REG_LINK, path_data(TARGET)) == STATUS_SUCCESS
    assert registry.set_value(plain, "other", REG_LINK, path_data(TARGET)) == STATUS_SUCCESS
    status, again = registry.open_key("plain", KEY_ALL_ACCESS, root=root)
    assert status == STATUS_SUCCESS
    assert key_name(registry, again).upper() == (TEST_KEY + "\\plain").upper()
    assert read_value(registry, again, LINK_VALUE) == (STATUS_SUCCESS, REG_LINK, path_data(TARGET))
    assert registry.delete_value(again, LINK_VALUE) == STATUS_SUCCESS
    assert read_value(registry, again, LINK_VALUE)[0] == STATUS_OBJECT_NAME_NOT_FOUND


# --- fact 69: REG_OPTION_CREATE_LINK on an existing name -------------------------------------------------

def _existing_plain_key(registry, root):
    assert registry.create_key("link", KEY_ALL_ACCESS, root=root).status == STATUS_SUCCESS


def _existing_link_to_target(registry, root):
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))


def _existing_link_with_relative_target(registry, root):
    make_target(registry)
    make_link(registry, root, target=path_data("target"))


def _existing_link_to_missing_target(registry, root):
    make_link(registry, root, target=path_data(TARGET))


@pytest.mark.parametrize("existing", [
    pytest.param(_existing_plain_key, id="ordinary-key"),
    pytest.param(_existing_link_to_target, id="link-to-existing-target"),
    pytest.param(_existing_link_with_relative_target, id="link-with-relative-target"),
    pytest.param(_existing_link_to_missing_target, id="link-to-missing-target"),
])
def test_create_link_on_existing_name_collides(registry, root, existing):
    """Facts 69, 36: NtCreateKey(REG_OPTION_CREATE_LINK) on a name that already exists gives
    STATUS_OBJECT_NAME_COLLISION with *KeyHandle = 0 (W-NT test_symlinks does it on an existing link whose
    target is relative; W-ADV test_symlinks; R-CM cmparse.c CmpDoOpen); nothing is created. That Windows
    answers COLLISION for an unresolvable target shows it does not follow the existing link here, so a link
    whose absolute target is missing must collide too (an inference from the same test)."""
    existing(registry, root)
    before = registry.tree(TEST_KEY)
    assert raw_create(registry, "link", root=root, options=REG_OPTION_CREATE_LINK) == (STATUS_OBJECT_NAME_COLLISION, 0)
    assert registry.tree(TEST_KEY) == before


# --- fact 70: loops -----------------------------------------------------------------------------------

def test_link_loop(registry, root):
    """Fact 70 (Server 2003): a link whose target runs through itself ("target" -> ...\\target\\target) gives
    STATUS_NAME_TOO_LONG when followed; opening it with OBJ_OPENLINK still works; W-NT test_symlinks
    ("symlink loop")."""
    make_link(registry, root, "target", target=path_data(TARGET + "\\target"))
    assert raw_open(registry, "target", root=root) == (STATUS_NAME_TOO_LONG, 0)
    status, handle = registry.open_key("target", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    assert read_value(registry, handle, LINK_VALUE)[1] == REG_LINK


def test_link_to_itself(registry, root):
    """Fact 70: a link whose target is its own path loops too (STATUS_NAME_TOO_LONG on Server 2003);
    W-NT test_symlinks."""
    make_link(registry, root, target=path_data(TEST_KEY + "\\link"))
    assert raw_open(registry, "link", root=root) == (STATUS_NAME_TOO_LONG, 0)


# --- facts 71, 72: deleting links, creating through them ------------------------------------------------

def test_delete_link_key(registry, root):
    """Fact 71: a link key is deleted with NtDeleteKey on a handle opened with OBJ_OPENLINK; the target stays,
    and the link's name no longer opens; W-NT test_symlinks."""
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))
    status, link = registry.open_key("link", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    assert registry.delete_key(link) == STATUS_SUCCESS
    status = registry.open_key("link", KEY_READ, root=root, attributes=OBJ_OPENLINK).status
    assert status == STATUS_OBJECT_NAME_NOT_FOUND
    assert registry.exists(TARGET)


def test_create_through_link_creates_missing_target(registry, root):
    """Fact 72: NtCreateKey through a link whose target is missing creates the target and returns
    STATUS_SUCCESS; the target then opens directly, and the link is still a link; W-NT test_symlinks
    ("delete target and create by NtCreateKey on link")."""
    make_link(registry, root, target=path_data(TARGET))
    assert registry.open_key("link", KEY_ALL_ACCESS, root=root).status == STATUS_OBJECT_NAME_NOT_FOUND
    status, handle, _ = registry.create_key("link", KEY_ALL_ACCESS, root=root, attributes=0)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == TARGET.upper()
    status, target = registry.open_key("target", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    assert read_value(registry, target, LINK_VALUE)[0] == STATUS_OBJECT_NAME_NOT_FOUND
    status, link = registry.open_key("link", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert read_value(registry, link, LINK_VALUE) == (STATUS_SUCCESS, REG_LINK, path_data(TARGET))


# --- fact 42: no subkeys under a link ------------------------------------------------------------------

def test_no_subkey_under_link_key(registry, root):
    """Fact 42: a subkey cannot be created under a symbolic-link key itself (ReactOS: STATUS_ACCESS_DENIED,
    "Don't allow children under symlinks"); R-CM cmparse.c CmpDoCreate."""
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))
    status, link = registry.open_key("link", KEY_ALL_ACCESS, root=root, attributes=OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    status, handle, _ = registry.create_key("child", KEY_ALL_ACCESS, root=link)
    assert (status, handle) == (STATUS_ACCESS_DENIED, 0)
    assert not registry.exists(TARGET + "\\child")


def test_create_below_link_is_redirected(registry, root):
    """Facts 42, 72: a create whose path passes through a link is redirected to the target: "...\\link\\child"
    creates "child" under the target; R-CM cmparse.c CmpDoCreate, W-NT test_symlinks."""
    make_target(registry)
    make_link(registry, root, target=path_data(TARGET))
    status, handle, disposition = registry.create_key(TEST_KEY + "\\link\\child")
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    assert key_name(registry, handle).upper() == (TARGET + "\\child").upper()
    assert registry.exists(TARGET + "\\child")


# --- fact 74: CurrentControlSet in the default registry ----------------------------------------------------

def test_current_control_set_follows_to_control_set_001(registry):
    """Fact 74: \\Registry\\Machine\\System\\CurrentControlSet is a link to ControlSet001: opening it (and a
    path below it) reaches ControlSet001; R-CM cmsysini.c CmpCreateControlSet, W-SRV init_registry."""
    status, handle = registry.open_key(CURRENT_CONTROL_SET, KEY_READ)
    assert status == STATUS_SUCCESS
    assert key_name(registry, handle).upper() == CONTROL_SET_001.upper()
    status, services = registry.open_key(CURRENT_CONTROL_SET + "\\Services", KEY_READ)
    assert status == STATUS_SUCCESS
    assert key_name(registry, services).upper() == (CONTROL_SET_001 + "\\Services").upper()


def test_current_control_set_link_value(registry):
    """Facts 74, 63, 66: opened with OBJ_OPENLINK, CurrentControlSet holds SymbolicLinkValue as REG_LINK:
    "\\Registry\\Machine\\System\\ControlSet001" with no terminating NUL, the number being Select\\Current (1);
    R-CM cmsysini.c CmpCreateControlSet."""
    status, link = registry.open_key(CURRENT_CONTROL_SET, KEY_READ, attributes=OBJ_CASE_INSENSITIVE | OBJ_OPENLINK)
    assert status == STATUS_SUCCESS
    status, type_, data = read_value(registry, link, LINK_VALUE)
    assert (status, type_) == (STATUS_SUCCESS, REG_LINK)
    assert not data.endswith(b"\0\0")
    assert data.decode("utf-16-le").upper() == "\\REGISTRY\\MACHINE\\SYSTEM\\CONTROLSET001"
    assert registry.get_value(SYSTEM + "\\Select", "Current") == (REG_DWORD, (1).to_bytes(4, "little"))


def test_create_through_current_control_set(registry):
    """Facts 74, 42: a key created through CurrentControlSet lands in ControlSet001; R-CM cmsysini.c
    CmpCreateControlSet, R-CM cmparse.c CmpDoCreate."""
    status, handle, disposition = registry.create_key(CURRENT_CONTROL_SET + "\\Services\\MyDriver")
    assert (status, disposition) == (STATUS_SUCCESS, REG_CREATED_NEW_KEY)
    assert registry.set_value(handle, "Start", REG_DWORD, (3).to_bytes(4, "little")) == STATUS_SUCCESS
    start = registry.get_value(CONTROL_SET_001 + "\\Services\\MyDriver", "Start")
    assert start == (REG_DWORD, (3).to_bytes(4, "little"))


def test_current_control_set_cannot_be_recreated(registry):
    """Facts 74, 69: CurrentControlSet already exists, so creating it again with
    REG_OPTION_VOLATILE|REG_OPTION_CREATE_LINK gives STATUS_OBJECT_NAME_COLLISION; W-NT test_symlinks."""
    status, handle = raw_create(registry, CURRENT_CONTROL_SET, root=0,
                                options=REG_OPTION_VOLATILE | REG_OPTION_CREATE_LINK)
    assert (status, handle) == (STATUS_OBJECT_NAME_COLLISION, 0)
