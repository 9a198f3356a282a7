"""The key tree: keys, their values, the order Windows' hives keep them in, and their maxima.

Owns the in-memory data only (wineserver's `server/registry.c` is the model:
plain nodes, small helpers named for what they do). It knows nothing about
handles, access, callbacks or buffers; the native API validates before it
calls in here, and reads the answers back out. Everything a call reads stays cheap
however large a key grows: lookups and enumeration by index are O(1), and the maxima
KeyFullInformation reports are kept up to date rather than scanned for.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterator

from .clock import Clock
from .names import sort_key, upcase


class Value:
    """A named value: any 32-bit type, data kept exactly as given.

    TitleIndex is not kept: Windows ignores it and reports 0 (docs/registry-facts.md fact 20).
    """

    __slots__ = ("name", "type", "data")

    def __init__(self, name: str, type_: int, data: bytes) -> None:
        self.name = name
        self.type = type_
        self.data = data


# A key with at most this many subkeys (or values) keeps no maxima for them: a query scans so few
# in constant time, and most keys (a value or two, no subkeys) are spared a Widest each.
KEEP_MAXIMA_ABOVE = 8


def utf16_length(text: str) -> int:
    """Bytes the text takes as UTF-16, as the Max*Len fields and NameLength count it."""
    return len(text.encode("utf-16-le", "surrogatepass")) if text else 0


class Widest:
    """The largest of two lengths over a key's subkeys (name, class) or values (name, data).

    Kept as items come and go so that a KeyFullInformation or KeyCachedInformation query does not
    scan a million subkeys. Each maximum carries how many items reach it; only when the last of
    them goes is it unknown (-1), and the next query rescans once. Adding and removing cost O(1);
    a query O(1), or one O(n) rescan if the last item of the widest length went since the one
    before. The results are the exact current maxima, shrinking when the widest item goes, as
    this engine has always reported them.
    """

    __slots__ = ("name", "name_count", "other", "other_count")

    def __init__(self) -> None:
        self.name = self.name_count = self.other = self.other_count = 0

    @classmethod
    def over(cls, names: list[int], others: list[int]) -> Widest:
        """One for the items already there, given their lengths."""
        widest = cls()
        widest.name, widest.name_count = _widest(names)
        widest.other, widest.other_count = _widest(others)
        return widest

    def add(self, name: int, other: int) -> None:
        if self.name >= 0:
            if name > self.name:
                self.name, self.name_count = name, 1
            elif name == self.name:
                self.name_count += 1
        if self.other >= 0:
            if other > self.other:
                self.other, self.other_count = other, 1
            elif other == self.other:
                self.other_count += 1

    def remove(self, name: int, other: int) -> None:
        if name == self.name:
            self.name_count -= 1
            if not self.name_count:
                self.name = -1
        if other == self.other:
            self.other_count -= 1
            if not self.other_count:
                self.other = -1

    def maxima(self, names: Callable[[], list[int]], others: Callable[[], list[int]]) -> tuple[int, int]:
        """(widest name, widest other); an unknown one is rescanned from its lengths, once."""
        if self.name < 0:
            self.name, self.name_count = _widest(names())
        if self.other < 0:
            self.other, self.other_count = _widest(others())
        return self.name, self.other


def _widest(lengths: list[int]) -> tuple[int, int]:
    """The largest length and how many reach it; (0, 0) for none."""
    top = max(lengths, default=0)
    return top, lengths.count(top) if lengths else 0


class Key:
    """A registry key. Subkeys enumerate sorted as Windows' hives keep them; values in insertion order.

    Subkeys live in a dictionary by sort key (names.sort_key) beside a list of those sort keys kept
    sorted at every add and remove, so that finding a subkey and enumerating the index-th one are
    both O(1) however often the key changes between enumerations; an add or a remove is a binary
    search and a list insert or delete. Above KEEP_MAXIMA_ABOVE subkeys (or values) the key keeps
    their maxima for KeyFullInformation in a Widest; below, it scans the few it has when asked.
    """

    __slots__ = ("name", "parent", "_children", "_order", "_values", "_value_list", "_subkey_widest",
                 "_value_widest", "class_name", "last_write", "volatile", "is_link", "deleted", "__weakref__")

    def __init__(self, name: str, parent: Key | None, last_write: int, *, class_name: str = "",
                 volatile: bool = False, is_link: bool = False) -> None:
        self.name = name
        self.parent = parent
        self._children: dict[str, Key] | None = None
        self._order: list[str] | None = None
        self._values: dict[str, Value] | None = None
        self._value_list: list[Value] | None = None
        self._subkey_widest: Widest | None = None
        self._value_widest: Widest | None = None
        self.class_name = class_name
        self.last_write = last_write
        self.volatile = volatile
        self.is_link = is_link
        self.deleted = False

    # --- subkeys ---------------------------------------------------------
    def find_subkey(self, name: str) -> Key | None:
        return self._children.get(sort_key(name)) if self._children else None

    def subkey_count(self) -> int:
        return len(self._children) if self._children else 0

    def subkey_at(self, index: int) -> Key | None:
        """The index-th subkey in hive order (names.sort_key order), or None past the end; O(1)."""
        if not self._children or index >= len(self._children) or index < 0:
            return None
        assert self._order is not None  # kept beside _children
        return self._children[self._order[index]]

    def subkeys(self) -> Iterator[Key]:
        """Every subkey in hive order, as they were when the iteration began."""
        if not self._children or self._order is None:
            return iter(())
        return map(self._children.__getitem__, list(self._order))

    def add_subkey(self, child: Key) -> None:
        if self._children is None or self._order is None:
            self._children, self._order = {}, []
        folded = sort_key(child.name)
        self._children[folded] = child
        insort(self._order, folded)
        if self._subkey_widest is not None:
            self._subkey_widest.add(2 * len(folded), utf16_length(child.class_name))
        elif len(self._children) > KEEP_MAXIMA_ABOVE:
            self._subkey_widest = Widest.over(self._subkey_name_lengths(), self._subkey_class_lengths())

    def remove_subkey(self, child: Key) -> None:
        folded = sort_key(child.name)
        assert self._children is not None and self._order is not None  # child is one of them
        del self._children[folded]
        del self._order[bisect_left(self._order, folded)]
        if self._subkey_widest is not None:
            self._subkey_widest.remove(2 * len(folded), utf16_length(child.class_name))

    def subkey_maxima(self) -> tuple[int, int]:
        """(MaxNameLen, MaxClassLen): the longest subkey name and class, in bytes; 0 without subkeys."""
        if self._subkey_widest is None:
            return max(self._subkey_name_lengths(), default=0), max(self._subkey_class_lengths(), default=0)
        return self._subkey_widest.maxima(self._subkey_name_lengths, self._subkey_class_lengths)

    def _subkey_name_lengths(self) -> list[int]:
        # A sort key has one code point per UTF-16 unit of the name.
        return [2 * len(folded) for folded in self._children] if self._children else []

    def _subkey_class_lengths(self) -> list[int]:
        return [utf16_length(child.class_name) for child in self._children.values()] if self._children else []

    # --- values ----------------------------------------------------------
    def find_value(self, name: str) -> Value | None:
        return self._values.get(upcase(name)) if self._values else None

    def value_count(self) -> int:
        return len(self._values) if self._values else 0

    def value_at(self, index: int) -> Value | None:
        if not self._values or index >= len(self._values) or index < 0:
            return None
        # Dicts keep insertion order, as a hive's value array does; the list for indexing is built
        # on the first enumeration and kept in step from then on.
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
            if self._value_list is not None:
                self._value_list.append(value)
            if self._value_widest is not None:
                self._value_widest.add(utf16_length(value.name), len(value.data))
            elif len(self._values) > KEEP_MAXIMA_ABOVE:
                self._value_widest = Widest.over(self._value_name_lengths(), self._value_data_lengths())
            return True
        if (existing.type, existing.data) == (value.type, value.data):
            return False
        if self._value_widest is not None:
            name_length = utf16_length(existing.name)
            self._value_widest.remove(name_length, len(existing.data))
            self._value_widest.add(name_length, len(value.data))
        existing.type, existing.data = value.type, value.data
        return True

    def delete_value(self, name: str) -> bool:
        folded = upcase(name)
        if not self._values or folded not in self._values:
            return False
        value = self._values.pop(folded)
        if self._value_list is not None:
            self._value_list.remove(value)
        if self._value_widest is not None:
            self._value_widest.remove(utf16_length(value.name), len(value.data))
        return True

    def value_maxima(self) -> tuple[int, int]:
        """(MaxValueNameLen, MaxValueDataLen): the longest value name and data, in bytes; 0 without values."""
        if self._value_widest is None:
            return max(self._value_name_lengths(), default=0), max(self._value_data_lengths(), default=0)
        return self._value_widest.maxima(self._value_name_lengths, self._value_data_lengths)

    def _value_name_lengths(self) -> list[int]:
        return [utf16_length(value.name) for value in self._values.values()] if self._values else []

    def _value_data_lengths(self) -> list[int]:
        return [len(value.data) for value in self._values.values()] if self._values else []

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
        parent = key.parent
        assert parent is not None  # \REGISTRY itself is permanent
        parent.remove_subkey(key)
        self.touch(parent)
        key.deleted = True

    def walk(self, path: str) -> Key | None:
        """The key at an absolute \\REGISTRY\\... path, without following links."""
        parts = [part for part in path.split("\\") if part]
        if not parts or upcase(parts[0]) != "REGISTRY":
            return None
        key: Key | None = self.root
        for part in parts[1:]:
            assert key is not None
            key = key.find_subkey(part)
            if key is None:
                return None
        return key
