"""The native calls as data: one Operation per Nt*Key call, run by ``native``'s one pipeline.

Each entry says what differs between calls and nothing else: the Zw prototype its
parameters are named by, the access its handle needs, its validation (``prepare``: run before
any callback, raising Failure), its registry work (``work``: run under the registry lock,
after the pre-notification) and, for the calls that do not name their key by handle, how the
object the notifications name is found (``target``) and what happens after the post
(``finish``). Which notifications a call sends is the profile's data (``profiles``).

Adding a call means adding an entry and its two functions here. The facts behind each status
are numbered in docs/registry-facts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ntddk_py import (
    DELETE,
    GENERIC_ALL,
    GENERIC_EXECUTE,
    GENERIC_READ,
    GENERIC_WRITE,
    KEY_ALL_ACCESS,
    KEY_ENUMERATE_SUB_KEYS,
    KEY_EXECUTE,
    KEY_INFORMATION_CLASS,
    KEY_QUERY_VALUE,
    KEY_READ,
    KEY_SET_INFORMATION_CLASS,
    KEY_SET_VALUE,
    KEY_VALUE_INFORMATION_CLASS,
    KEY_WOW64_RES,
    KEY_WRITE,
    MAXIMUM_ALLOWED,
    OBJ_CASE_INSENSITIVE,
    OBJ_EXCLUSIVE,
    OBJ_FORCE_ACCESS_CHECK,
    OBJ_INHERIT,
    OBJ_KERNEL_HANDLE,
    OBJ_OPENIF,
    OBJ_OPENLINK,
    OBJ_PERMANENT,
    PROTOTYPES,
    REG_CREATED_NEW_KEY,
    REG_LEGAL_OPTION,
    REG_LINK,
    REG_OPENED_EXISTING_KEY,
    REG_OPTION_CREATE_LINK,
    REG_OPTION_VOLATILE,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_BUFFER_OVERFLOW,
    STATUS_CANNOT_DELETE,
    STATUS_CHILD_MUST_BE_VOLATILE,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_KEY_DELETED,
    STATUS_NO_MORE_ENTRIES,
    STATUS_NOT_IMPLEMENTED,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ffi,
)

from . import infoclass
from .failure import Failure
from .memory import ADDRESS_SPACE, read_object_attributes, write_pointer
from .names import MAX_KEY_NAME_CHARS, MAX_VALUE_NAME_CHARS, SEPARATOR, upcase
from .namespace import LINK_VALUE_NAME
from .objects import KeyObject
from .store import Key, Value

if TYPE_CHECKING:
    from .native import NativeApi

VALID_ATTRIBUTES = (OBJ_INHERIT | OBJ_PERMANENT | OBJ_EXCLUSIVE | OBJ_CASE_INSENSITIVE | OBJ_OPENIF
                    | OBJ_OPENLINK | OBJ_KERNEL_HANDLE | OBJ_FORCE_ACCESS_CHECK)
# The generic mapping of the key object type (fact 94).
KEY_GENERIC_MAPPING = {GENERIC_READ: KEY_READ, GENERIC_WRITE: KEY_WRITE, GENERIC_EXECUTE: KEY_EXECUTE,
                       GENERIC_ALL: KEY_ALL_ACCESS}
ULONG_SIZE = ffi.sizeof("ULONG")
HANDLE_SIZE = ffi.sizeof("HANDLE")
OBJECT_ATTRIBUTES_SIZE = ffi.sizeof("OBJECT_ATTRIBUTES")
KEY_VALUE_ENTRY_SIZE = ffi.sizeof("KEY_VALUE_ENTRY")
_PULONG = ffi.typeof("PULONG")
_PKEY_VALUE_ENTRY = ffi.typeof("PKEY_VALUE_ENTRY")
# NtEnumerateValueKey refuses the Align64 classes as Wine and ReactOS do (docs Q20: cmhook's decision).
ENUMERATE_VALUE_CLASSES = {KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation,
                           KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation,
                           KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation}
ENUMERATE_KEY_CLASSES = {KEY_INFORMATION_CLASS.KeyBasicInformation, KEY_INFORMATION_CLASS.KeyNodeInformation,
                         KEY_INFORMATION_CLASS.KeyFullInformation}
SET_INFORMATION_RECORDS = {KEY_SET_INFORMATION_CLASS.KeyWriteTimeInformation: "KEY_WRITE_TIME_INFORMATION",
                           KEY_SET_INFORMATION_CLASS.KeyWow64FlagsInformation: "KEY_WOW64_FLAGS_INFORMATION"}

# What prepare returns is the call's own business (a decoded name, an OpenCall, nothing): Any.
Prepare = Callable[["NativeApi", tuple], Any]
Work = Callable[["NativeApi", KeyObject, tuple, Any, bool], int]


@dataclass(frozen=True)
class Operation:
    """One native call. ``work`` gets (api, object, arguments, what prepare returned, reread),
    reread being true when a callback saw the caller's buffers before the work (decision 11)."""

    api: str
    routine: str  # the Zw prototype in include/ntddk.h that names the call's parameters
    access: int | Callable[[tuple], int]
    prepare: Prepare
    work: Work | None
    deleted_status: int = STATUS_KEY_DELETED
    kind: str = "handle"  # "handle": the first parameter is the key's handle; "open"; "close"
    vetoable: bool = True  # can a failing pre fail the call? (not a close: decision 9)
    defaults: int = 0  # how many trailing parameters a Python caller may leave out (0 / NULL)
    # What a trace records beyond the key: (value name, value type or None), from the arguments
    # and what prepare returned (the name it already decoded), for the calls that name a value.
    detail: Callable[[tuple, Any], tuple] | None = None
    parameters: tuple[str, ...] = field(init=False)
    pointers: tuple[int, ...] = field(init=False)  # positions of pointer parameters (HANDLE included)

    def __post_init__(self) -> None:
        prototype = PROTOTYPES[self.routine]
        object.__setattr__(self, "parameters", tuple(name for name, _ in prototype))
        object.__setattr__(self, "pointers", tuple(
            index for index, (_, ctype) in enumerate(prototype) if ffi.typeof(ctype).kind == "pointer"))

    @property
    def pre_sources(self) -> tuple[str, ...]:
        """The names of the values a pre's struct is filled from, in the order the pipeline passes them."""
        if self.kind == "open":
            return ("CompleteName", "RootObject")
        return ("Object", *self.parameters[1:])


# Every post is filled from these, whatever its struct (REG_POST_OPERATION_INFORMATION, XP's).
POST_SOURCES = ("Object", "Status", "CompleteName")


def map_access(desired: int) -> int:
    """The access a key handle is granted for a desired mask (no security descriptors: all allowed)."""
    granted = desired & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED)
    for generic, specific in KEY_GENERIC_MAPPING.items():
        if desired & generic:
            granted |= specific
    if desired & MAXIMUM_ALLOWED:
        granted |= KEY_ALL_ACCESS
    # The WOW64 view bits select a view; they are not rights and are never granted (fact 90).
    return granted & ~KEY_WOW64_RES


def _nothing(api: NativeApi, args: tuple) -> None:
    return None


# --- NtCreateKey / NtOpenKey ---------------------------------------------------------

class OpenCall:
    """What a create or open learns before its callbacks, and what its work makes."""

    __slots__ = ("create", "root", "name", "name_pointer", "attributes", "start", "parts", "class_name",
                 "options", "empty_name", "result", "created")

    def __init__(self, create: bool) -> None:
        self.create = create
        self.root: KeyObject | None = None  # the root directory's object, or None for an absolute name
        self.name = ""
        self.name_pointer = 0
        self.attributes = 0
        self.start: Key | None = None
        self.parts: list[str] = []
        self.class_name = ""
        self.options = 0
        self.empty_name: Any = None  # the empty UNICODE_STRING callbacks get when there is no name
        self.result: KeyObject | None = None
        self.created = False


def _prepare_open(api: NativeApi, args: tuple, create: bool) -> OpenCall:
    handle_pointer, desired_access, attributes_pointer = args[:3]
    call = OpenCall(create)
    api.probe(handle_pointer, HANDLE_SIZE, ULONG_SIZE)
    write_pointer(ADDRESS_SPACE, handle_pointer, 0)  # fact 36: NULL until it succeeds
    disposition_pointer = args[6] if create else 0
    if disposition_pointer:
        api.probe(disposition_pointer, ULONG_SIZE, ULONG_SIZE)
    api.probe(attributes_pointer, OBJECT_ATTRIBUTES_SIZE, ULONG_SIZE)
    length, root_handle, name_pointer, attributes, _, _ = read_object_attributes(ADDRESS_SPACE, attributes_pointer)
    if length != OBJECT_ATTRIBUTES_SIZE:
        raise Failure(STATUS_INVALID_PARAMETER)  # fact 34
    call.attributes = attributes
    if attributes & ~VALID_ATTRIBUTES:
        raise Failure(STATUS_INVALID_PARAMETER)
    call.name_pointer = name_pointer
    call.name = api.read_unicode_string(name_pointer, STATUS_OBJECT_NAME_INVALID) if name_pointer else ""
    root = None
    if root_handle:
        entry = api.handles.lookup(root_handle)
        if entry is None:
            raise Failure(STATUS_INVALID_HANDLE)
        if not isinstance(entry.obj, KeyObject):  # a process or thread handle as RootDirectory
            raise Failure(STATUS_OBJECT_TYPE_MISMATCH)
        root = entry.obj
    call.root = root
    call.options = args[5] if create else 0
    if create and call.options & ~REG_LEGAL_OPTION:
        raise Failure(STATUS_INVALID_PARAMETER)
    if create and args[4]:
        call.class_name = api.read_unicode_string(args[4], STATUS_INVALID_PARAMETER)
    if map_access(desired_access) == 0:
        raise Failure(STATUS_ACCESS_DENIED)  # fact 90
    call.start, call.parts = api.namespace.split_name(root.key if root else None, call.name, call.attributes)
    if not name_pointer:
        call.empty_name = ffi.new("UNICODE_STRING *")  # callbacks get an empty CompleteName, not NULL
    return call


def _open_work(api: NativeApi, root: KeyObject, args: tuple, call: OpenCall, reread: bool) -> int:
    # A create-link never follows an existing link at the last component (fact 69).
    open_link = bool(call.attributes & OBJ_OPENLINK or call.create and call.options & REG_OPTION_CREATE_LINK)
    assert call.start is not None
    parent, leaf, key = api.namespace.walk(call.start, call.parts, open_link, call.create)
    if key is None:
        assert parent is not None and leaf is not None  # a key to create has a parent and a name
        key, call.created = _create_child(api, parent, leaf, call.class_name, call.options), True
    elif call.create and call.options & REG_OPTION_CREATE_LINK:
        raise Failure(STATUS_OBJECT_NAME_COLLISION)  # fact 69
    call.result = api.objects.create(key)
    return STATUS_SUCCESS


def _create_child(api: NativeApi, parent: Key, name: str, class_name: str, options: int) -> Key:
    if parent.is_link:
        raise Failure(STATUS_ACCESS_DENIED)  # fact 42
    volatile = bool(options & REG_OPTION_VOLATILE)
    if parent.volatile and not volatile:
        raise Failure(STATUS_CHILD_MUST_BE_VOLATILE)  # fact 41
    return api.store.create_subkey(parent, name, class_name=class_name, volatile=volatile,
                                   is_link=bool(options & REG_OPTION_CREATE_LINK))


def open_finish(api: NativeApi, args: tuple, call: OpenCall, status: int) -> int:
    """After the post: the caller's handle and disposition (only a success has them, fact 36)."""
    if call.result is not None:
        handle = api.handles.insert(call.result, map_access(args[1]), call.attributes)
        write_pointer(ADDRESS_SPACE, args[0], handle)
        if call.create and args[6]:
            api.write_ulong(args[6], REG_CREATED_NEW_KEY if call.created else REG_OPENED_EXISTING_KEY)
    return status


def open_shown(api: NativeApi, root: KeyObject, call: OpenCall) -> str:
    """The name a trace shows for a create/open: absolute as given, or the root's path joined to it."""
    return call.name if call.root is None else call.root.key.path() + SEPARATOR + call.name


# --- keys --------------------------------------------------------------------------

def _delete_key(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    key = obj.key
    if key.subkey_count() or api.store.is_permanent(key):
        return STATUS_CANNOT_DELETE  # facts 43, 47
    api.store.delete_key(key)
    return STATUS_SUCCESS


def _prepare_rename(api: NativeApi, args: tuple) -> None:
    api.probe(args[1], ffi.sizeof("UNICODE_STRING"), ULONG_SIZE)


def _rename_key(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    new_name = api.read_unicode_string(args[1], STATUS_INVALID_PARAMETER)
    if not new_name or SEPARATOR in new_name or len(new_name) > MAX_KEY_NAME_CHARS:
        return STATUS_INVALID_PARAMETER
    key = obj.key
    if api.store.is_permanent(key):
        return STATUS_ACCESS_DENIED
    parent = key.parent
    assert parent is not None  # only \REGISTRY has none, and it is permanent
    if parent.find_subkey(new_name) is not None:
        return STATUS_CANNOT_DELETE
    parent.remove_subkey(key)
    key.name = new_name
    parent.add_subkey(key)
    api.store.touch(key)
    return STATUS_SUCCESS


def _prepare_set_information(api: NativeApi, args: tuple) -> str:
    _, information_class, data_pointer, length = args
    record = SET_INFORMATION_RECORDS.get(information_class)
    if record is None:
        raise Failure(STATUS_INVALID_PARAMETER)
    if length != ffi.sizeof(record):
        raise Failure(STATUS_INFO_LENGTH_MISMATCH)
    api.probe(data_pointer, length, ULONG_SIZE)
    return record


def _set_information(api: NativeApi, obj: KeyObject, args: tuple, record: str, reread: bool) -> int:
    data = api.read_bytes(args[2], args[3])
    if record == "KEY_WRITE_TIME_INFORMATION":
        obj.key.last_write = int.from_bytes(data, "little")
    return STATUS_SUCCESS


def _flush(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    return STATUS_SUCCESS  # nothing to write back; a deleted key fails before (fact 59)


# --- values --------------------------------------------------------------------------

def _prepare_set_value(api: NativeApi, args: tuple) -> str:
    _, name_pointer, _, type_, data_pointer, size = args
    if not 0 <= type_ <= 0xFFFFFFFF or not 0 <= size <= 0xFFFFFFFF:
        raise Failure(STATUS_INVALID_PARAMETER)
    name = api.read_unicode_string(name_pointer, STATUS_INVALID_PARAMETER)  # odd length: fact 38
    if len(name) > MAX_VALUE_NAME_CHARS:
        raise Failure(STATUS_INVALID_PARAMETER)  # fact 82
    api.probe(data_pointer, size)
    return name


def _set_value(api: NativeApi, obj: KeyObject, args: tuple, name: str, reread: bool) -> int:
    _, name_pointer, _, type_, data_pointer, size = args
    # Probed, not captured: what a callback saw is read again now (decision 11).
    if reread:
        name = api.read_unicode_string(name_pointer, STATUS_INVALID_PARAMETER)
    name = name.rstrip("\0")  # set and query ignore trailing NULs (fact 85; docs Q19)
    data = api.read_bytes(data_pointer, size)
    key = obj.key
    if key.is_link and (upcase(name) != upcase(LINK_VALUE_NAME) or type_ != REG_LINK):
        return STATUS_ACCESS_DENIED  # fact 62
    if key.set_value(Value(name, type_, data)):
        api.store.touch(key)
    return STATUS_SUCCESS


def _prepare_value_name(api: NativeApi, args: tuple) -> str:
    return api.value_name(args[1])


def _delete_value(api: NativeApi, obj: KeyObject, args: tuple, name: str, reread: bool) -> int:
    if reread:
        name = api.value_name(args[1])
    if not obj.key.delete_value(name):
        return STATUS_OBJECT_NAME_NOT_FOUND  # fact 80
    api.store.touch(obj.key)
    return STATUS_SUCCESS


# --- queries -------------------------------------------------------------------------

def _probe_output(api: NativeApi, buffer: int, length: int, result_length: int) -> None:
    api.probe(buffer, length)
    api.probe(result_length, ULONG_SIZE, ULONG_SIZE)
    if result_length == 0:
        raise Failure(STATUS_ACCESS_VIOLATION)


def _answer(api: NativeApi, answer: infoclass.Answer | None, buffer: int, result_length: int) -> int:
    """Write a query's answer to the caller: the bytes that fit, and the length needed."""
    assert answer is not None  # prepare refused the classes that have no record
    api.write_bytes(buffer, answer.data)
    api.write_ulong(result_length, answer.result_length)
    return answer.status


def _prepare_query_value(api: NativeApi, args: tuple) -> str:
    _, name_pointer, information_class, buffer, length, result = args
    if information_class not in infoclass.VALUE_RECORDS:
        raise Failure(STATUS_INVALID_PARAMETER)  # fact 16
    name = api.value_name(name_pointer)
    _probe_output(api, buffer, length, result)
    return name


def _query_value(api: NativeApi, obj: KeyObject, args: tuple, name: str, reread: bool) -> int:
    _, name_pointer, information_class, buffer, length, result = args
    if reread:
        name = api.value_name(name_pointer)
    value = obj.key.find_value(name.rstrip("\0"))  # the lookup comes before the buffer check (fact 19)
    if value is None:
        return STATUS_OBJECT_NAME_NOT_FOUND
    return _answer(api, infoclass.query_value(value, information_class, length), buffer, result)


def _prepare_enumerate_value(api: NativeApi, args: tuple) -> None:
    _, _, information_class, buffer, length, result = args
    if information_class not in ENUMERATE_VALUE_CLASSES:
        raise Failure(STATUS_INVALID_PARAMETER)
    _probe_output(api, buffer, length, result)


def _enumerate_value(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    _, index, information_class, buffer, length, result = args
    value = obj.key.value_at(index)  # values in the order they were created (fact 52)
    if value is None:
        return STATUS_NO_MORE_ENTRIES  # fact 50
    return _answer(api, infoclass.query_value(value, information_class, length), buffer, result)


def _prepare_query_key(api: NativeApi, args: tuple) -> None:
    _, information_class, buffer, length, result = args
    if information_class == KEY_INFORMATION_CLASS.KeyFlagsInformation:
        raise Failure(STATUS_NOT_IMPLEMENTED)  # reserved for system use; not emulated
    if information_class not in infoclass.KEY_RECORDS:
        raise Failure(STATUS_INVALID_PARAMETER)  # fact 16
    _probe_output(api, buffer, length, result)


def _query_key_access(args: tuple) -> int:
    # Every handle holds some access (a zero mask is refused at open), which is all
    # KeyNameInformation needs (fact 92).
    return 0 if args[1] == KEY_INFORMATION_CLASS.KeyNameInformation else KEY_QUERY_VALUE


def _query_key(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    _, information_class, buffer, length, result = args
    return _answer(api, infoclass.query_key(obj.key, information_class, length), buffer, result)


def _prepare_enumerate_key(api: NativeApi, args: tuple) -> None:
    _, _, information_class, buffer, length, result = args
    if information_class not in ENUMERATE_KEY_CLASSES:
        raise Failure(STATUS_INVALID_PARAMETER)  # Basic, Node and Full only (fact 16)
    _probe_output(api, buffer, length, result)


def _enumerate_key(api: NativeApi, obj: KeyObject, args: tuple, state: None, reread: bool) -> int:
    _, index, information_class, buffer, length, result = args
    child = obj.key.subkey_at(index)  # subkeys in hive order (fact 51)
    if child is None:
        return STATUS_NO_MORE_ENTRIES
    return _answer(api, infoclass.query_key(child, information_class, length), buffer, result)


def _prepare_query_multiple(api: NativeApi, args: tuple) -> int:
    _, entries, count, buffer, length_pointer, required_pointer = args
    if not 0 <= count <= 0xFFFFFFFF:
        raise Failure(STATUS_INVALID_PARAMETER)
    api.probe(entries, KEY_VALUE_ENTRY_SIZE * count, ULONG_SIZE)
    api.probe(length_pointer, ULONG_SIZE, ULONG_SIZE)
    if length_pointer == 0:
        raise Failure(STATUS_ACCESS_VIOLATION)
    if required_pointer:
        api.probe(required_pointer, ULONG_SIZE, ULONG_SIZE)
    capacity = ffi.cast(_PULONG, length_pointer)[0]
    api.probe(buffer, capacity)
    return capacity


def _query_multiple(api: NativeApi, obj: KeyObject, args: tuple, capacity: int, reread: bool) -> int:
    """Every named value's data packed with no padding into one buffer (facts 97-101); DataOffset
    counts from the buffer's start; too small a buffer gets STATUS_BUFFER_OVERFLOW and only the
    required length."""
    _, entries, count, buffer, length_pointer, required_pointer = args
    table = ffi.cast(_PKEY_VALUE_ENTRY, entries)
    found = []
    for index in range(count):
        value = obj.key.find_value(api.value_name(api.address(table[index].ValueName)))
        if value is None:
            return STATUS_OBJECT_NAME_NOT_FOUND
        found.append(value)
    needed = sum(len(value.data) for value in found)
    if required_pointer:
        api.write_ulong(required_pointer, needed)
    if needed > capacity:
        return STATUS_BUFFER_OVERFLOW
    offset = 0
    for index, value in enumerate(found):
        table[index].DataLength = len(value.data)
        table[index].DataOffset = offset
        table[index].Type = value.type
        api.write_bytes(buffer + offset, value.data)
        offset += len(value.data)
    api.write_ulong(length_pointer, needed)
    return STATUS_SUCCESS


# --- the table ---------------------------------------------------------------------------

OPERATIONS: dict[str, Operation] = {op.api: op for op in (
    Operation("NtCreateKey", "ZwCreateKey", 0, lambda api, args: _prepare_open(api, args, True), _open_work,
              kind="open", defaults=4),
    Operation("NtOpenKey", "ZwOpenKey", 0, lambda api, args: _prepare_open(api, args, False), _open_work,
              kind="open"),
    Operation("NtDeleteKey", "ZwDeleteKey", DELETE, _nothing, _delete_key,
              deleted_status=STATUS_SUCCESS),  # deleting a deleted key succeeds (facts 43-47)
    Operation("NtRenameKey", "ZwRenameKey", KEY_WRITE, _prepare_rename, _rename_key),  # facts 55-57
    Operation("NtSetInformationKey", "ZwSetInformationKey", KEY_WRITE, _prepare_set_information,
              _set_information),  # fact 58
    Operation("NtFlushKey", "ZwFlushKey", 0, _nothing, _flush),
    Operation("NtClose", "ZwClose", 0, _nothing, None, kind="close", vetoable=False),
    Operation("NtSetValueKey", "ZwSetValueKey", KEY_SET_VALUE, _prepare_set_value, _set_value,  # facts 75-84
              detail=lambda args, name: (name, args[3])),
    Operation("NtDeleteValueKey", "ZwDeleteValueKey", KEY_SET_VALUE, _prepare_value_name, _delete_value,
              detail=lambda args, name: (name, None)),
    Operation("NtQueryValueKey", "ZwQueryValueKey", KEY_QUERY_VALUE, _prepare_query_value, _query_value,
              detail=lambda args, name: (name, None)),
    Operation("NtEnumerateValueKey", "ZwEnumerateValueKey", KEY_QUERY_VALUE, _prepare_enumerate_value,
              _enumerate_value),
    Operation("NtQueryKey", "ZwQueryKey", _query_key_access, _prepare_query_key, _query_key),
    Operation("NtEnumerateKey", "ZwEnumerateKey", KEY_ENUMERATE_SUB_KEYS, _prepare_enumerate_key, _enumerate_key),
    Operation("NtQueryMultipleValueKey", "ZwQueryMultipleValueKey", KEY_QUERY_VALUE, _prepare_query_multiple,
              _query_multiple, defaults=1),
)}
