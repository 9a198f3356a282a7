"""The native registry API: Nt*Key calls with Windows' statuses and buffer rules.

Every call takes the arguments a system call takes (handles, pointers to
UNICODE_STRINGs, OBJECT_ATTRIBUTES and buffers, as cffi pointers or
addresses) and returns an NTSTATUS; it never raises for a bad argument. Each
call has the same shape: validate and probe (user-mode callers' pointers must
lie in user memory; kernel-mode callers are trusted), resolve the handle to a
referenced key object with the access it needs, then do the registry work
under the registry lock, reading the caller's buffers at that moment (probed,
not captured), then drop the reference.

The facts behind each status are numbered in docs/registry-facts.md.
This module knows nothing of shared objects or of the Python conveniences in
``registry``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

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
    REG_CREATED_NEW_KEY,
    REG_LEGAL_OPTION,
    REG_LINK,
    REG_NOTIFY_CLASS,
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
    STATUS_NAME_TOO_LONG,
    STATUS_NO_MORE_ENTRIES,
    STATUS_NOT_IMPLEMENTED,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ffi,
    nt_success,
)

from . import caller, infoclass
from .callbacks import CallbackTable, Dispatcher, Trace
from .handles import HandleTable
from .memory import UserMemory
from .names import MAX_KEY_NAME_CHARS, MAX_VALUE_NAME_CHARS, SEPARATOR, upcase
from .objects import KeyObject, ObjectTable
from .profiles import PROFILE_2003, Profile
from .store import Key, Store, Value

LINK_VALUE_NAME = "SymbolicLinkValue"
ROOT_NAME = "REGISTRY"
# The rest of the object manager's namespace, as far as a registry call can meet it:
# directories and the (non-key) objects in them (fact 24: "\Device\Null" is no key).
OBJECT_DIRECTORIES = {"Device": {"Null", "HarddiskVolume1"}, "ObjectTypes": {"Key", "Directory"},
                      "KernelObjects": set(), "BaseNamedObjects": set()}
# How many links one name may pass through before the walk is called a loop (fact 70).
MAX_LINK_HOPS = 16
VALID_ATTRIBUTES = (OBJ_INHERIT | OBJ_PERMANENT | OBJ_EXCLUSIVE | OBJ_CASE_INSENSITIVE | OBJ_OPENIF
                    | OBJ_OPENLINK | OBJ_KERNEL_HANDLE | OBJ_FORCE_ACCESS_CHECK)
# The generic mapping of the key object type (fact 94).
KEY_GENERIC_MAPPING = {GENERIC_READ: KEY_READ, GENERIC_WRITE: KEY_WRITE, GENERIC_EXECUTE: KEY_EXECUTE,
                       GENERIC_ALL: KEY_ALL_ACCESS}
ULONG_SIZE = ffi.sizeof("ULONG")
HANDLE_SIZE = ffi.sizeof("HANDLE")
# NtEnumerateValueKey refuses the Align64 classes as Wine and ReactOS do (docs Q20: cmhook's decision).
ENUMERATE_VALUE_CLASSES = {KEY_VALUE_INFORMATION_CLASS.KeyValueBasicInformation,
                           KEY_VALUE_INFORMATION_CLASS.KeyValueFullInformation,
                           KEY_VALUE_INFORMATION_CLASS.KeyValuePartialInformation}
ENUMERATE_KEY_CLASSES = {KEY_INFORMATION_CLASS.KeyBasicInformation, KEY_INFORMATION_CLASS.KeyNodeInformation,
                         KEY_INFORMATION_CLASS.KeyFullInformation}


class Failure(Exception):
    """Raised inside a call to end it with an NTSTATUS; the call returns that status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def address(pointer) -> int:
    """An address from a cffi pointer, an int or None."""
    if pointer is None:
        return 0
    if isinstance(pointer, int):
        return pointer
    return int(ffi.cast("ULONG_PTR", pointer))


def native(function: Callable[..., int]) -> Callable[..., int]:
    """The system-call boundary: Failure becomes its status, a malformed argument INVALID_PARAMETER."""

    @functools.wraps(function)
    def call(*args, **kwargs) -> int:
        try:
            return function(*args, **kwargs)
        except Failure as failure:
            return failure.status
        except (TypeError, OverflowError, ValueError):
            return STATUS_INVALID_PARAMETER

    return call


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


@functools.cache
def _pointer_fields(struct: str) -> dict[str, object]:
    return {name: f.type for name, f in ffi.typeof(struct).fields if f.type.kind == "pointer"}


def notification_struct(struct: str, **fields):
    """A REG_*_INFORMATION in native memory; ints given for pointer members become pointers."""
    info = ffi.new(struct + " *")
    pointers = _pointer_fields(struct)
    for name, value in fields.items():
        setattr(info, name, ffi.cast(pointers[name], value) if name in pointers and isinstance(value, int) else value)
    return info


N = REG_NOTIFY_CLASS


class NativeApi:
    """The Nt*Key system calls over one store, with their callbacks. Safe to use from many threads.

    The registry lock is held only for the registry work of a call, never while a callback runs.
    """

    def __init__(self, store: Store | None = None, memory: UserMemory | None = None,
                 profile: Profile = PROFILE_2003, trace: Trace | None = None) -> None:
        self.store = store or Store()
        self.memory = memory or UserMemory()
        self.objects = ObjectTable()
        self.handles = HandleTable()
        self.lock = threading.RLock()
        self.profile = profile
        self.callbacks = CallbackTable()
        self.dispatcher = Dispatcher(self.callbacks, trace)

    # --- probing and reading the caller's memory -------------------------------
    def probe(self, pointer: int, length: int, alignment: int = 1) -> None:
        """ProbeForRead/Write for user-mode callers; a NULL pointer fails for everyone."""
        if length == 0:
            return
        if pointer == 0:
            raise Failure(STATUS_ACCESS_VIOLATION)
        if caller.current().user_mode:
            status = self.memory.probe(pointer, length, alignment)
            if status != STATUS_SUCCESS:
                raise Failure(status)

    def read_unicode_string(self, pointer: int, odd_length_status: int) -> str:
        """The text of a caller's UNICODE_STRING, read from its own buffer now."""
        self.probe(pointer, ffi.sizeof("UNICODE_STRING"), ULONG_SIZE)
        ustr = ffi.cast("PUNICODE_STRING", pointer)
        length, buffer = ustr.Length, address(ustr.Buffer)
        if length % 2:
            raise Failure(odd_length_status)
        if length > ustr.MaximumLength:
            raise Failure(STATUS_INVALID_PARAMETER)
        self.probe(buffer, length, ffi.sizeof("WCHAR"))  # fact 37: Server 2003 checks the alignment
        return ffi.buffer(ffi.cast("UCHAR *", buffer), length)[:].decode("utf-16-le", "surrogatepass")

    def read_bytes(self, pointer: int, length: int) -> bytes:
        self.probe(pointer, length)
        return ffi.buffer(ffi.cast("UCHAR *", pointer), length)[:] if length else b""

    def write_ulong(self, pointer: int, value: int) -> None:
        self.probe(pointer, ULONG_SIZE, ULONG_SIZE)
        ffi.cast("PULONG", pointer)[0] = value

    def write_bytes(self, pointer: int, data: bytes) -> None:
        if data:
            self.probe(pointer, len(data))
            ffi.memmove(ffi.cast("UCHAR *", pointer), data, len(data))

    # --- handles -----------------------------------------------------------------
    def reference(self, handle, access: int) -> KeyObject:
        """The handle's key object, referenced; user-mode callers need the access on the handle."""
        entry = self.handles.lookup(address(handle))
        if entry is None:
            raise Failure(STATUS_INVALID_HANDLE)
        if caller.current().user_mode and access and (entry.granted_access & access) != access:
            raise Failure(STATUS_ACCESS_DENIED)
        return entry.obj.reference()

    def with_key(self, handle, access: int, api: str, work: Callable[[KeyObject], int],
                 pre_class: N | None = None, pre_info: Callable[[KeyObject], object] | None = None,
                 deleted_status: int = STATUS_KEY_DELETED) -> int:
        """The shape every handle-based call shares.

        Reference the key object; send the pre-notification (a failure is the caller's status,
        with no work and no post); do the work under the registry lock, reading the caller's
        buffers now; send the post with the work's status; drop the reference.
        """
        obj = self.reference(handle, access)
        try:
            quiet = pre_class is None or self.dispatcher.idle() or self.dispatcher.silenced()
            record = None if quiet else self.dispatcher.begin(api, obj.key.path)
            if not quiet:
                info = pre_info(obj)
                status = self.dispatcher.pre(record, pre_class, info)
                if not nt_success(status):
                    return self.dispatcher.end(record, status)
            status = self.locked_work(obj, work, deleted_status)
            post_class = None if quiet else self.profile.post_of(pre_class)
            if post_class is not None:
                post = notification_struct("REG_POST_OPERATION_INFORMATION", Object=obj.pointer, Status=status)
                self.dispatcher.post(record, post_class, post)
            return self.dispatcher.end(record, status)
        finally:
            obj.dereference()

    def locked_work(self, obj: KeyObject, work: Callable[[KeyObject], int], deleted_status: int) -> int:
        try:
            with self.lock:
                if obj.key.deleted:
                    return deleted_status
                return work(obj)
        except Failure as failure:
            return failure.status

    # --- names -------------------------------------------------------------------
    def read_object_attributes(self, pointer: int) -> tuple[KeyObject | None, str, int, int]:
        """(root key object or None, name, its UNICODE_STRING's address, attributes) from OBJECT_ATTRIBUTES."""
        self.probe(pointer, ffi.sizeof("OBJECT_ATTRIBUTES"), ULONG_SIZE)
        attributes = ffi.cast("POBJECT_ATTRIBUTES", pointer)
        if attributes.Length != ffi.sizeof("OBJECT_ATTRIBUTES"):
            raise Failure(STATUS_INVALID_PARAMETER)  # fact 34
        if attributes.Attributes & ~VALID_ATTRIBUTES:
            raise Failure(STATUS_INVALID_PARAMETER)
        name_pointer = address(attributes.ObjectName)
        name = self.read_unicode_string(name_pointer, STATUS_OBJECT_NAME_INVALID) if name_pointer else ""
        root = None
        root_handle = address(attributes.RootDirectory)
        if root_handle:
            entry = self.handles.lookup(root_handle)
            if entry is None:
                raise Failure(STATUS_INVALID_HANDLE)
            root = entry.obj
        return root, name, name_pointer, attributes.Attributes

    def split_name(self, root: Key | None, name: str, attributes: int) -> tuple[Key, list[str]]:
        """The key a walk starts at and the components to walk (facts 22-32)."""
        if root is not None:
            if name.startswith(SEPARATOR):
                raise Failure(STATUS_OBJECT_PATH_SYNTAX_BAD)
            start, rest = root, name
        else:
            if not name.startswith(SEPARATOR):
                raise Failure(STATUS_OBJECT_PATH_SYNTAX_BAD)
            body = name[1:]
            if body == "":
                raise Failure(STATUS_OBJECT_TYPE_MISMATCH)  # the object manager's root is not a key
            if body.startswith(SEPARATOR):
                raise Failure(STATUS_OBJECT_NAME_INVALID)
            first, _, rest = body.partition(SEPARATOR)
            matches = upcase(first) == ROOT_NAME if attributes & OBJ_CASE_INSENSITIVE else first == ROOT_NAME
            if not matches:
                raise Failure(self._outside_registry(first, rest, attributes))
            start = self.store.root
        parts = [part for part in rest.split(SEPARATOR) if part]
        if any(len(part) > MAX_KEY_NAME_CHARS for part in parts):
            raise Failure(STATUS_OBJECT_NAME_INVALID)
        return start, parts

    @staticmethod
    def _outside_registry(first: str, rest: str, attributes: int) -> int:
        """The status for an absolute name that leaves \\REGISTRY (fact 24)."""
        fold = upcase if attributes & OBJ_CASE_INSENSITIVE else str
        directory = next((objects for name, objects in OBJECT_DIRECTORIES.items() if fold(name) == fold(first)), None)
        if directory is None:
            return STATUS_OBJECT_PATH_NOT_FOUND if rest else STATUS_OBJECT_NAME_NOT_FOUND
        second, _, more = rest.partition(SEPARATOR)
        if not second or any(fold(name) == fold(second) for name in directory):
            return STATUS_OBJECT_TYPE_MISMATCH  # a directory or a device: an object, but not a key
        return STATUS_OBJECT_PATH_NOT_FOUND if more else STATUS_OBJECT_NAME_NOT_FOUND

    def link_target(self, link: Key) -> tuple[Key, list[str]]:
        """Where a link key points: an absolute \\REGISTRY path with no terminator (fact 63)."""
        value = link.find_value(LINK_VALUE_NAME)
        if value is None or value.type != REG_LINK:
            raise Failure(STATUS_OBJECT_NAME_NOT_FOUND)
        try:
            target = value.data.decode("utf-16-le")
        except UnicodeDecodeError:
            raise Failure(STATUS_OBJECT_NAME_NOT_FOUND) from None
        if "\0" in target:
            raise Failure(STATUS_OBJECT_NAME_NOT_FOUND)
        try:
            return self.split_name(None, target, OBJ_CASE_INSENSITIVE)
        except Failure:
            raise Failure(STATUS_OBJECT_NAME_NOT_FOUND) from None

    def walk(self, start: Key, parts: list[str], open_link: bool, create: bool) -> tuple[Key, str | None, Key | None]:
        """Follow the components: (parent, last name, key found or None when create may make it).

        Only the last component may be missing, and only when creating (facts 29-30);
        links are followed unless the last component is a link and open_link is set.
        """
        if start.deleted:
            raise Failure(STATUS_KEY_DELETED)  # fact 48: a deleted root directory
        hops = 0
        key, index = start, 0
        parent, last = start.parent, start.name
        while index < len(parts):
            part = parts[index]
            child = key.find_subkey(part)
            is_last = index == len(parts) - 1
            if child is None:
                if is_last and create:
                    return key, part, None
                raise Failure(STATUS_OBJECT_NAME_NOT_FOUND)
            if child.is_link and not (is_last and open_link):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise Failure(STATUS_NAME_TOO_LONG)
                target_start, target_parts = self.link_target(child)
                parts = target_parts + parts[index + 1:]
                key, index = target_start, 0
                if not parts:
                    return key.parent, key.name, key
                continue
            parent, last, key = key, part, child
            index += 1
        return parent, last, key

    # --- NtCreateKey / NtOpenKey ---------------------------------------------------
    def _open_or_create(self, api: str, key_handle, desired_access: int, object_attributes, create: bool,
                        class_pointer=None, create_options: int = 0, disposition=None) -> int:
        handle_pointer, disposition_pointer = address(key_handle), address(disposition)
        self.probe(handle_pointer, HANDLE_SIZE, ULONG_SIZE)
        ffi.cast("PHANDLE", handle_pointer)[0] = ffi.NULL  # fact 36: NULL until it succeeds
        if disposition_pointer:
            self.probe(disposition_pointer, ULONG_SIZE, ULONG_SIZE)
        root, name, name_pointer, attributes = self.read_object_attributes(address(object_attributes))
        if create and create_options & ~REG_LEGAL_OPTION:
            raise Failure(STATUS_INVALID_PARAMETER)
        class_name = ""
        if create and address(class_pointer):
            class_name = self.read_unicode_string(address(class_pointer), STATUS_INVALID_PARAMETER)
        if map_access(desired_access) == 0:
            raise Failure(STATUS_ACCESS_DENIED)  # fact 90
        start, parts = self.split_name(root.key if root else None, name, attributes)
        # The object the name is relative to: the root directory's, or \REGISTRY's for an absolute name.
        root_object = root.reference() if root else self.objects.create(self.store.root)
        try:
            quiet = self.dispatcher.idle() or self.dispatcher.silenced()
            shown = (lambda: name) if root is None else (lambda: root.key.path() + SEPARATOR + name)
            record = None if quiet else self.dispatcher.begin(api, shown)
            empty_name = None if name_pointer else notification_struct("UNICODE_STRING")
            complete_name = name_pointer or empty_name
            pre_class = self.profile.pre_create if create else self.profile.pre_open
            if not quiet:
                if self.profile.xp_structs:
                    info = notification_struct("REG_PRE_CREATE_KEY_INFORMATION", CompleteName=complete_name)
                else:
                    info = notification_struct("REG_CREATE_KEY_INFORMATION", CompleteName=complete_name,
                                               RootObject=root_object.pointer)
                status = self.dispatcher.pre(record, pre_class, info)
                if not nt_success(status):
                    return self.dispatcher.end(record, status)  # decision 8: only the pre can fail it
            obj, created, status = None, False, STATUS_SUCCESS
            try:
                with self.lock:
                    # A create-link never follows an existing link at the last component (fact 69).
                    open_link = bool(attributes & OBJ_OPENLINK or create and create_options & REG_OPTION_CREATE_LINK)
                    parent, leaf, key = self.walk(start, parts, open_link, create)
                    if key is None:
                        key, created = self._create_child(parent, leaf, class_name, create_options), True
                    elif create and create_options & REG_OPTION_CREATE_LINK:
                        raise Failure(STATUS_OBJECT_NAME_COLLISION)  # fact 69
                    obj = self.objects.create(key)
            except Failure as failure:
                status = failure.status
            if not quiet:
                self._post_open(record, create, complete_name, obj, status)
            if obj is not None:
                handle = self.handles.insert(obj, map_access(desired_access), attributes)
                ffi.cast("PHANDLE", handle_pointer)[0] = ffi.cast("HANDLE", handle)
                if disposition_pointer:
                    self.write_ulong(disposition_pointer, REG_CREATED_NEW_KEY if created else REG_OPENED_EXISTING_KEY)
            return self.dispatcher.end(record, status)
        finally:
            root_object.dereference()

    def _post_open(self, record, create: bool, complete_name, obj: KeyObject | None, status: int) -> None:
        """The post of a create/open: Object is NULL when it failed (decision 8)."""
        post_class = self.profile.post_create if create else self.profile.post_open
        pointer = obj.pointer if obj is not None else ffi.NULL
        if self.profile.xp_structs:
            # XP passes the address of the object pointer (specification section 3).
            holder = ffi.new("PVOID *", pointer)
            post = notification_struct("REG_POST_CREATE_KEY_INFORMATION", CompleteName=complete_name,
                                       Object=ffi.cast("PVOID", holder) if obj is not None else ffi.NULL,
                                       Status=status)
        else:
            post = notification_struct("REG_POST_OPERATION_INFORMATION", Object=pointer, Status=status)
        self.dispatcher.post(record, post_class, post)

    def _create_child(self, parent: Key, name: str, class_name: str, options: int) -> Key:
        if parent.is_link:
            raise Failure(STATUS_ACCESS_DENIED)  # fact 42
        volatile = bool(options & REG_OPTION_VOLATILE)
        if parent.volatile and not volatile:
            raise Failure(STATUS_CHILD_MUST_BE_VOLATILE)  # fact 41
        return self.store.create_subkey(parent, name, class_name=class_name, volatile=volatile,
                                        is_link=bool(options & REG_OPTION_CREATE_LINK))

    @native
    def NtCreateKey(self, KeyHandle, DesiredAccess, ObjectAttributes, TitleIndex=0, Class=None,
                    CreateOptions=0, Disposition=None) -> int:
        """NtCreateKey(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, ULONG, PUNICODE_STRING, ULONG, PULONG)."""
        return self._open_or_create("NtCreateKey", KeyHandle, DesiredAccess, ObjectAttributes, True, Class,
                                    CreateOptions, Disposition)

    @native
    def NtOpenKey(self, KeyHandle, DesiredAccess, ObjectAttributes) -> int:
        """NtOpenKey(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES)."""
        return self._open_or_create("NtOpenKey", KeyHandle, DesiredAccess, ObjectAttributes, False)

    # --- keys ----------------------------------------------------------------------
    @native
    def NtDeleteKey(self, KeyHandle) -> int:
        """NtDeleteKey(HANDLE): subkeys forbid it; deleting a deleted key succeeds (facts 43-47)."""

        def work(obj: KeyObject) -> int:
            key = obj.key
            if key.subkey_count() or self.store.is_permanent(key):
                return STATUS_CANNOT_DELETE  # facts 43, 47
            self.store.delete_key(key)
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, DELETE, "NtDeleteKey", work, N.RegNtPreDeleteKey,
                             lambda obj: notification_struct("REG_DELETE_KEY_INFORMATION", Object=obj.pointer),
                             deleted_status=STATUS_SUCCESS)

    @native
    def NtRenameKey(self, KeyHandle, NewName) -> int:
        """NtRenameKey(HANDLE, PUNICODE_STRING): KEY_WRITE; an existing name cannot be taken (facts 55-57)."""
        new_pointer = address(NewName)
        self.probe(new_pointer, ffi.sizeof("UNICODE_STRING"), ULONG_SIZE)

        def work(obj: KeyObject) -> int:
            new_name = self.read_unicode_string(new_pointer, STATUS_INVALID_PARAMETER)
            if not new_name or SEPARATOR in new_name or len(new_name) > MAX_KEY_NAME_CHARS:
                return STATUS_INVALID_PARAMETER
            key = obj.key
            if self.store.is_permanent(key):
                return STATUS_ACCESS_DENIED
            if key.parent.find_subkey(new_name) is not None:
                return STATUS_CANNOT_DELETE
            key.parent.remove_subkey(key)
            key.name = new_name
            key.parent.add_subkey(key)
            self.store.touch(key)
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, KEY_WRITE, "NtRenameKey", work, N.RegNtPreRenameKey,
                             lambda obj: notification_struct("REG_RENAME_KEY_INFORMATION", Object=obj.pointer,
                                                             NewName=new_pointer))

    @native
    def NtSetInformationKey(self, KeyHandle, KeySetInformationClass, KeySetInformation,
                            KeySetInformationLength) -> int:
        """NtSetInformationKey: KEY_WRITE; each class takes exactly its record (fact 58)."""
        records = {KEY_SET_INFORMATION_CLASS.KeyWriteTimeInformation: "KEY_WRITE_TIME_INFORMATION",
                   KEY_SET_INFORMATION_CLASS.KeyWow64FlagsInformation: "KEY_WOW64_FLAGS_INFORMATION"}
        record = records.get(KeySetInformationClass)
        if record is None:
            raise Failure(STATUS_INVALID_PARAMETER)
        if KeySetInformationLength != ffi.sizeof(record):
            raise Failure(STATUS_INFO_LENGTH_MISMATCH)
        data_pointer = address(KeySetInformation)
        self.probe(data_pointer, KeySetInformationLength, ULONG_SIZE)

        def work(obj: KeyObject) -> int:
            data = self.read_bytes(data_pointer, KeySetInformationLength)
            if record == "KEY_WRITE_TIME_INFORMATION":
                obj.key.last_write = int.from_bytes(data, "little")
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, KEY_WRITE, "NtSetInformationKey", work, N.RegNtPreSetInformationKey,
                             lambda obj: notification_struct(
                                 "REG_SET_INFORMATION_KEY_INFORMATION", Object=obj.pointer,
                                 KeySetInformationClass=KeySetInformationClass, KeySetInformation=data_pointer,
                                 KeySetInformationLength=KeySetInformationLength))

    @native
    def NtFlushKey(self, KeyHandle) -> int:
        """NtFlushKey(HANDLE): nothing to write back; a deleted key fails (fact 59). No notification in 2003."""
        return self.with_key(KeyHandle, 0, "NtFlushKey", lambda obj: STATUS_SUCCESS)

    @native
    def NtClose(self, Handle) -> int:
        """NtClose(HANDLE): drops the handle's reference; works on deleted keys (fact 48).

        Callbacks see RegNtPreKeyHandleClose and (2003) RegNtPostKeyHandleClose; the pre cannot
        veto the close (decision 9).
        """
        entry = self.handles.remove(address(Handle))
        if entry is None:
            return STATUS_INVALID_HANDLE
        obj = entry.obj
        try:
            if not (self.dispatcher.idle() or self.dispatcher.silenced()):
                record = self.dispatcher.begin("NtClose", obj.key.path)
                pre = notification_struct("REG_KEY_HANDLE_CLOSE_INFORMATION", Object=obj.pointer)
                self.dispatcher.pre(record, N.RegNtPreKeyHandleClose, pre)
                post_class = self.profile.post_of(N.RegNtPreKeyHandleClose)
                if post_class is not None:
                    post = notification_struct("REG_POST_OPERATION_INFORMATION", Object=obj.pointer,
                                               Status=STATUS_SUCCESS)
                    self.dispatcher.post(record, post_class, post)
                self.dispatcher.end(record, STATUS_SUCCESS)
        finally:
            obj.dereference()
        return STATUS_SUCCESS

    # --- values --------------------------------------------------------------------
    def _value_name(self, pointer: int, strip_nuls: bool = False) -> str:
        name = self.read_unicode_string(pointer, STATUS_INVALID_PARAMETER)  # fact 38
        # Set and query ignore NULs at the end of the name (fact 85; docs Q19: cmhook's decision).
        return name.rstrip("\0") if strip_nuls else name

    @native
    def NtSetValueKey(self, KeyHandle, ValueName, TitleIndex, Type, Data, DataSize) -> int:
        """NtSetValueKey: data stored exactly as given, any type (facts 75-84)."""
        name_pointer, data_pointer = address(ValueName), address(Data)
        if not 0 <= Type <= 0xFFFFFFFF or not 0 <= DataSize <= 0xFFFFFFFF:
            raise Failure(STATUS_INVALID_PARAMETER)
        if len(self._value_name(name_pointer)) > MAX_VALUE_NAME_CHARS:
            raise Failure(STATUS_INVALID_PARAMETER)  # fact 82
        self.probe(data_pointer, DataSize)

        def work(obj: KeyObject) -> int:
            # Probed, not captured: the caller's buffers are read now, after the pre (decision 11).
            name = self._value_name(name_pointer, strip_nuls=True)
            data = self.read_bytes(data_pointer, DataSize)
            key = obj.key
            if key.is_link and (upcase(name) != upcase(LINK_VALUE_NAME) or Type != REG_LINK):
                return STATUS_ACCESS_DENIED  # fact 62
            if key.set_value(Value(name, Type, data)):
                self.store.touch(key)
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, KEY_SET_VALUE, "NtSetValueKey", work, N.RegNtPreSetValueKey,
                             lambda obj: notification_struct(
                                 "REG_SET_VALUE_KEY_INFORMATION", Object=obj.pointer, ValueName=name_pointer,
                                 TitleIndex=TitleIndex & 0xFFFFFFFF, Type=Type, Data=data_pointer, DataSize=DataSize))

    @native
    def NtDeleteValueKey(self, KeyHandle, ValueName) -> int:
        """NtDeleteValueKey: a missing value is STATUS_OBJECT_NAME_NOT_FOUND (fact 80)."""
        name_pointer = address(ValueName)
        self._value_name(name_pointer)

        def work(obj: KeyObject) -> int:
            if not obj.key.delete_value(self._value_name(name_pointer)):
                return STATUS_OBJECT_NAME_NOT_FOUND
            self.store.touch(obj.key)
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, KEY_SET_VALUE, "NtDeleteValueKey", work, N.RegNtPreDeleteValueKey,
                             lambda obj: notification_struct("REG_DELETE_VALUE_KEY_INFORMATION", Object=obj.pointer,
                                                             ValueName=name_pointer))

    # --- queries -----------------------------------------------------------------
    def _answer(self, answer: infoclass.Answer, buffer: int, result_length: int) -> int:
        """Write a query's answer to the caller: the bytes that fit, and the length needed."""
        self.write_bytes(buffer, answer.data)
        self.write_ulong(result_length, answer.result_length)
        return answer.status

    def _probe_output(self, buffer: int, length: int, result_length: int) -> None:
        self.probe(buffer, length)
        self.probe(result_length, ULONG_SIZE, ULONG_SIZE)
        if result_length == 0:
            raise Failure(STATUS_ACCESS_VIOLATION)

    @native
    def NtQueryValueKey(self, KeyHandle, ValueName, KeyValueInformationClass, KeyValueInformation, Length,
                        ResultLength) -> int:
        """NtQueryValueKey: the lookup comes before the buffer check (fact 19)."""
        if KeyValueInformationClass not in infoclass.VALUE_RECORDS:
            raise Failure(STATUS_INVALID_PARAMETER)  # fact 16
        name_pointer, buffer, result = address(ValueName), address(KeyValueInformation), address(ResultLength)
        self._value_name(name_pointer)
        self._probe_output(buffer, Length, result)

        def work(obj: KeyObject) -> int:
            value = obj.key.find_value(self._value_name(name_pointer, strip_nuls=True))
            if value is None:
                return STATUS_OBJECT_NAME_NOT_FOUND
            return self._answer(infoclass.query_value(value, KeyValueInformationClass, Length), buffer, result)

        return self.with_key(KeyHandle, KEY_QUERY_VALUE, "NtQueryValueKey", work, N.RegNtPreQueryValueKey,
                             lambda obj: notification_struct(
                                 "REG_QUERY_VALUE_KEY_INFORMATION", Object=obj.pointer, ValueName=name_pointer,
                                 KeyValueInformationClass=KeyValueInformationClass, KeyValueInformation=buffer,
                                 Length=Length, ResultLength=result))

    @native
    def NtEnumerateValueKey(self, KeyHandle, Index, KeyValueInformationClass, KeyValueInformation, Length,
                            ResultLength) -> int:
        """NtEnumerateValueKey: values in the order they were created (fact 52)."""
        if KeyValueInformationClass not in ENUMERATE_VALUE_CLASSES:
            raise Failure(STATUS_INVALID_PARAMETER)
        buffer, result = address(KeyValueInformation), address(ResultLength)
        self._probe_output(buffer, Length, result)

        def work(obj: KeyObject) -> int:
            value = obj.key.value_at(Index)
            if value is None:
                return STATUS_NO_MORE_ENTRIES  # fact 50
            return self._answer(infoclass.query_value(value, KeyValueInformationClass, Length), buffer, result)

        return self.with_key(KeyHandle, KEY_QUERY_VALUE, "NtEnumerateValueKey", work, N.RegNtPreEnumerateValueKey,
                             lambda obj: notification_struct(
                                 "REG_ENUMERATE_VALUE_KEY_INFORMATION", Object=obj.pointer, Index=Index,
                                 KeyValueInformationClass=KeyValueInformationClass, KeyValueInformation=buffer,
                                 Length=Length, ResultLength=result))

    @native
    def NtQueryKey(self, KeyHandle, KeyInformationClass, KeyInformation, Length, ResultLength) -> int:
        """NtQueryKey: KeyNameInformation needs only some access on the handle (fact 92)."""
        if KeyInformationClass == KEY_INFORMATION_CLASS.KeyFlagsInformation:
            raise Failure(STATUS_NOT_IMPLEMENTED)  # reserved for system use; not emulated
        if KeyInformationClass not in infoclass.KEY_RECORDS:
            raise Failure(STATUS_INVALID_PARAMETER)  # fact 16
        buffer, result = address(KeyInformation), address(ResultLength)
        self._probe_output(buffer, Length, result)
        # Every handle holds some access (a zero mask is refused at open), which is all
        # KeyNameInformation needs.
        access = 0 if KeyInformationClass == KEY_INFORMATION_CLASS.KeyNameInformation else KEY_QUERY_VALUE

        def work(obj: KeyObject) -> int:
            return self._answer(infoclass.query_key(obj.key, KeyInformationClass, Length), buffer, result)

        return self.with_key(KeyHandle, access, "NtQueryKey", work, N.RegNtPreQueryKey,
                             lambda obj: notification_struct(
                                 "REG_QUERY_KEY_INFORMATION", Object=obj.pointer,
                                 KeyInformationClass=KeyInformationClass, KeyInformation=buffer, Length=Length,
                                 ResultLength=result))

    @native
    def NtEnumerateKey(self, KeyHandle, Index, KeyInformationClass, KeyInformation, Length, ResultLength) -> int:
        """NtEnumerateKey: Basic, Node and Full only; subkeys in hive order (facts 16, 51)."""
        if KeyInformationClass not in ENUMERATE_KEY_CLASSES:
            raise Failure(STATUS_INVALID_PARAMETER)
        buffer, result = address(KeyInformation), address(ResultLength)
        self._probe_output(buffer, Length, result)

        def work(obj: KeyObject) -> int:
            child = obj.key.subkey_at(Index)
            if child is None:
                return STATUS_NO_MORE_ENTRIES
            return self._answer(infoclass.query_key(child, KeyInformationClass, Length), buffer, result)

        return self.with_key(KeyHandle, KEY_ENUMERATE_SUB_KEYS, "NtEnumerateKey", work, N.RegNtPreEnumerateKey,
                             lambda obj: notification_struct(
                                 "REG_ENUMERATE_KEY_INFORMATION", Object=obj.pointer, Index=Index,
                                 KeyInformationClass=KeyInformationClass, KeyInformation=buffer, Length=Length,
                                 ResultLength=result))

    @native
    def NtQueryMultipleValueKey(self, KeyHandle, ValueEntries, EntryCount, ValueBuffer, BufferLength,
                                RequiredBufferLength=None) -> int:
        """NtQueryMultipleValueKey: every named value's data packed into one buffer (facts 97-101).

        Data is packed with no padding; KEY_VALUE_ENTRY.DataOffset counts from the buffer's start.
        A buffer too small gets STATUS_BUFFER_OVERFLOW, nothing written but the required length.
        """
        entry_size = ffi.sizeof("KEY_VALUE_ENTRY")
        entries, buffer = address(ValueEntries), address(ValueBuffer)
        length_pointer, required_pointer = address(BufferLength), address(RequiredBufferLength)
        if not 0 <= EntryCount <= 0xFFFFFFFF:
            raise Failure(STATUS_INVALID_PARAMETER)
        self.probe(entries, entry_size * EntryCount, ULONG_SIZE)
        self.probe(length_pointer, ULONG_SIZE, ULONG_SIZE)
        if length_pointer == 0:
            raise Failure(STATUS_ACCESS_VIOLATION)
        if required_pointer:
            self.probe(required_pointer, ULONG_SIZE, ULONG_SIZE)
        capacity = ffi.cast("PULONG", length_pointer)[0]
        self.probe(buffer, capacity)

        def work(obj: KeyObject) -> int:
            table = ffi.cast("PKEY_VALUE_ENTRY", entries)
            found = []
            for index in range(EntryCount):
                value = obj.key.find_value(self._value_name(address(table[index].ValueName)))
                if value is None:
                    return STATUS_OBJECT_NAME_NOT_FOUND
                found.append(value)
            needed = sum(len(value.data) for value in found)
            if required_pointer:
                self.write_ulong(required_pointer, needed)
            if needed > capacity:
                return STATUS_BUFFER_OVERFLOW
            offset = 0
            for index, value in enumerate(found):
                table[index].DataLength = len(value.data)
                table[index].DataOffset = offset
                table[index].Type = value.type
                self.write_bytes(buffer + offset, value.data)
                offset += len(value.data)
            self.write_ulong(length_pointer, needed)
            return STATUS_SUCCESS

        return self.with_key(KeyHandle, KEY_QUERY_VALUE, "NtQueryMultipleValueKey", work,
                             N.RegNtPreQueryMultipleValueKey,
                             lambda obj: notification_struct(
                                 "REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION", Object=obj.pointer,
                                 ValueEntries=entries, EntryCount=EntryCount, ValueBuffer=buffer,
                                 BufferLength=length_pointer, RequiredBufferLength=required_pointer))
