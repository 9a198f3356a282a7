"""Registry names as the object manager parses them: where a name starts, its components,
and the walk through them, links included (docs/registry-facts.md facts 22-32, 63-70).

It owns the rules of a name, not the caller's memory (``native`` reads the UNICODE_STRING)
and not the tree's storage (``store``). Every refusal is a Failure with Windows' status.
"""

from __future__ import annotations

from ntddk_py import (
    OBJ_CASE_INSENSITIVE,
    REG_LINK,
    STATUS_KEY_DELETED,
    STATUS_NAME_TOO_LONG,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_OBJECT_TYPE_MISMATCH,
)

from .failure import Failure
from .names import MAX_KEY_NAME_CHARS, SEPARATOR, upcase
from .store import Key, Store

LINK_VALUE_NAME = "SymbolicLinkValue"
ROOT_NAME = "REGISTRY"
# The rest of the object manager's namespace, as far as a registry call can meet it:
# directories and the (non-key) objects in them (fact 24: "\Device\Null" is no key).
OBJECT_DIRECTORIES = {"Device": {"Null", "HarddiskVolume1"}, "ObjectTypes": {"Key", "Directory"},
                      "KernelObjects": set(), "BaseNamedObjects": set()}
# How many links one name may pass through before the walk is called a loop (fact 70).
MAX_LINK_HOPS = 16


class Namespace:
    """Name parsing and walking over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

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
                raise Failure(outside_registry(first, rest, attributes))
            start = self.store.root
        parts = [part for part in rest.split(SEPARATOR) if part]
        if any(len(part) > MAX_KEY_NAME_CHARS for part in parts):
            raise Failure(STATUS_OBJECT_NAME_INVALID)
        return start, parts

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

    def walk(self, start: Key, parts: list[str], open_link: bool,
             create: bool) -> tuple[Key | None, str | None, Key | None]:
        """Follow the components: (parent, last name, key found or None when create may make it).

        The parent is None only for the root of the registry itself.

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


def outside_registry(first: str, rest: str, attributes: int) -> int:
    """The status for an absolute name that leaves \\REGISTRY (fact 24)."""
    fold = upcase if attributes & OBJ_CASE_INSENSITIVE else str
    directory = next((objects for name, objects in OBJECT_DIRECTORIES.items() if fold(name) == fold(first)), None)
    if directory is None:
        return STATUS_OBJECT_PATH_NOT_FOUND if rest else STATUS_OBJECT_NAME_NOT_FOUND
    second, _, more = rest.partition(SEPARATOR)
    if not second or any(fold(name) == fold(second) for name in directory):
        return STATUS_OBJECT_TYPE_MISMATCH  # a directory or a device: an object, but not a key
    return STATUS_OBJECT_PATH_NOT_FOUND if more else STATUS_OBJECT_NAME_NOT_FOUND
