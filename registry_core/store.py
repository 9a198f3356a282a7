"""The key tree: keys, their values, and the order Windows' hives keep them in.

Owns the in-memory data only (wineserver's `server/registry.c` is the model:
plain nodes, small helpers named for what they do). It knows nothing about
handles, access, callbacks or buffers; the native API validates before it
calls in here, and reads the answers back out.
"""

from __future__ import annotations

from collections.abc import Iterator

from .clock import Clock
from .names import upcase


class Value:
    """A named value: any 32-bit type, data kept exactly as given.

    TitleIndex is not kept: Windows ignores it and reports 0 (docs/registry-facts.md fact 20).
    """

    __slots__ = ("name", "type", "data")

    def __init__(self, name: str, type_: int, data: bytes) -> None:
        self.name = name
        self.type = type_
        self.data = data


class Key:
    """A registry key. Subkeys enumerate sorted by upper-cased name; values in insertion order."""

    __slots__ = ("name", "parent", "_children", "_sorted", "_values", "_value_list", "class_name",
                 "last_write", "volatile", "is_link", "deleted", "__weakref__")

    def __init__(self, name: str, parent: Key | None, last_write: int, *, class_name: str = "",
                 volatile: bool = False, is_link: bool = False) -> None:
        self.name = name
        self.parent = parent
        self._children: dict[str, Key] | None = None
        self._sorted: list[Key] | None = None
        self._values: dict[str, Value] | None = None
        self._value_list: list[Value] | None = None
        self.class_name = class_name
        self.last_write = last_write
        self.volatile = volatile
        self.is_link = is_link
        self.deleted = False

    # --- subkeys ---------------------------------------------------------
    def find_subkey(self, name: str) -> Key | None:
        return self._children.get(upcase(name)) if self._children else None

    def subkey_count(self) -> int:
        return len(self._children) if self._children else 0

    def subkey_at(self, index: int) -> Key | None:
        """The index-th subkey in hive order (sorted by upper-cased name), or None past the end."""
        if not self._children or index >= len(self._children) or index < 0:
            return None
        if self._sorted is None:
            self._sorted = sorted(self._children.values(), key=lambda key: upcase(key.name))
        return self._sorted[index]

    def subkeys(self) -> Iterator[Key]:
        for index in range(self.subkey_count()):
            yield self.subkey_at(index)

    def add_subkey(self, child: Key) -> None:
        if self._children is None:
            self._children = {}
        self._children[upcase(child.name)] = child
        self._sorted = None

    def remove_subkey(self, child: Key) -> None:
        del self._children[upcase(child.name)]
        self._sorted = None

    # --- values ----------------------------------------------------------
    def find_value(self, name: str) -> Value | None:
        return self._values.get(upcase(name)) if self._values else None

    def value_count(self) -> int:
        return len(self._values) if self._values else 0

    def value_at(self, index: int) -> Value | None:
        if not self._values or index >= len(self._values) or index < 0:
            return None
        # Dicts keep insertion order, as a hive's value array does.
        if self._value_list is None:
            self._value_list = list(self._values.values())
        return self._value_list[index]

    def values(self) -> Iterator[Value]:
        return iter(self._values.values()) if self._values else iter(())

    def set_value(self, value: Value) -> bool:
        """Replace in place (keeping the value's position) or append; False if nothing changed."""
        if self._values is None:
            self._values = {}
        folded = upcase(value.name)
        existing = self._values.get(folded)
        if existing is None:
            self._values[folded] = value
            self._value_list = None
            return True
        if (existing.type, existing.data) == (value.type, value.data):
            return False
        existing.type, existing.data = value.type, value.data
        return True

    def delete_value(self, name: str) -> bool:
        folded = upcase(name)
        if not self._values or folded not in self._values:
            return False
        del self._values[folded]
        self._value_list = None
        return True

    # --- names -----------------------------------------------------------
    def path(self) -> str:
        """The full name, \\REGISTRY\\..., as ObQueryNameString reports it."""
        parts = []
        key: Key | None = self
        while key is not None:
            parts.append(key.name)
            key = key.parent
        return "\\" + "\\".join(reversed(parts))


class Store:
    """The whole tree under \\REGISTRY (MACHINE and USER always there) and the clock that stamps its writes."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.root = Key("REGISTRY", None, self.clock.now())
        self._permanent: set[int] = set()
        # The namespace always has its two top keys, even in an otherwise empty registry.
        for name in ("MACHINE", "USER"):
            self.create_subkey(self.root, name)

    def make_permanent(self, key: Key) -> None:
        """Mark a hive root: it can be neither deleted nor renamed."""
        self._permanent.add(id(key))

    def is_permanent(self, key: Key) -> bool:
        return key.parent is None or key.parent is self.root or id(key) in self._permanent

    def touch(self, key: Key) -> None:
        """Advance a key's last write time; every change does, strictly."""
        key.last_write = max(self.clock.now(), key.last_write + 1)

    def create_subkey(self, parent: Key, name: str, **attributes) -> Key:
        child = Key(name, parent, 0, **attributes)
        self.touch(child)
        parent.add_subkey(child)
        self.touch(parent)
        return child

    def delete_key(self, key: Key) -> None:
        key.parent.remove_subkey(key)
        self.touch(key.parent)
        key.deleted = True

    def walk(self, path: str) -> Key | None:
        """The key at an absolute \\REGISTRY\\... path, without following links."""
        parts = [part for part in path.split("\\") if part]
        if not parts or upcase(parts[0]) != "REGISTRY":
            return None
        key = self.root
        for part in parts[1:]:
            key = key.find_subkey(part)
            if key is None:
                return None
        return key
