"""Every type name of an FFI resolved in two parses, not one parse per name.

cffi parses a type given as a string (``ffi.new("UCHAR[]", n)``, ``ffi.cast("PVOID", x)``) once
per FFI and string, but each such parse re-reads a declaration for every typedef the FFI knows:
with ntddk.h's few hundred typedefs, about 60 ms a string. A process that runs the engine asks
for some 80 strings, so its first registry calls spent seconds in cffi's parser: every
`cmhook run`, every pytest worker, every machine that did not inherit a warm parent.

``resolve_all(ffi)`` asks cffi once for a struct with a pointer member per typedef (and per C base
type), and once more for a pointer to an array of each complete type: from the members' types it
has ``T``, ``T *`` and ``T[]`` for every name, and puts them where cffi's own string lookup finds
them first, so every later ``ffi.new("T *")`` is a dictionary hit. That lookup table
(``FFI._parsed_types``, guarded by ``FFI._lock``) is cffi's private state, unchanged since cffi
1.0; if a cffi ever lacks it, nothing is filled and each string is parsed as before (slower,
never wrong). An entry is only ever what cffi itself would have made of that string: the
same ctype, and for a function typedef, as cffi does, its pointer type marked as a function.
"""

from __future__ import annotations

from typing import Any

BASE_TYPES = ("char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int", "long",
              "unsigned long", "long long", "unsigned long long", "float", "double", "void", "_Bool")


def _members(ffi: Any, declarations: list[str]) -> list[Any]:
    """The member types of one struct made of the declarations (``T *m0;`` ...), in order."""
    struct = ffi.typeof("struct { " + " ".join(f"{d.replace('@', f'm{i}')};" for i, d in enumerate(declarations))
                        + " }")
    return [field.type for _, field in struct.fields]


def resolve_all(ffi: Any) -> int:
    """Fill ffi's type-string table with ``T``, ``T *`` and ``T[]`` for every typedef and base type;
    returns how many strings it added (0 when cffi keeps no such table)."""
    table, lock = getattr(ffi, "_parsed_types", None), getattr(ffi, "_lock", None)
    if not isinstance(table, dict) or lock is None:
        return 0
    names = [*ffi.list_types()[0], *BASE_TYPES]
    resolved: dict[str, tuple[Any, bool]] = {}
    arrays = []
    for name, pointer in zip(names, _members(ffi, [f"{name} *@" for name in names]), strict=True):
        if pointer.kind == "function":  # T is a function type: cffi hands back its pointer, marked as a function
            resolved[name] = (pointer, True)
            continue
        item = pointer.item
        resolved[name] = (item, False)
        resolved[f"{name} *"] = (pointer, False)
        if item.kind in ("primitive", "pointer", "enum", "function") or (item.kind in ("struct", "union")
                                                                         and item.fields):
            arrays.append(name)
    for name, pointer in zip(arrays, _members(ffi, [f"{name} (*@)[]" for name in arrays]), strict=True):
        resolved[f"{name}[]"] = (pointer.item, False)
    added = 0
    with lock:
        for text, entry in resolved.items():
            if text not in table:
                table[text] = entry
                added += 1
    return added
