"""Registry names as NT compares and limits them.

Owns case folding (NT's simple, per-UTF-16-unit upper-casing), the order
subkey names sort in, and the limits on key-name components and value names.
It knows nothing about keys, handles or statuses beyond the name checks themselves.
"""

from __future__ import annotations

import re
import sys

from ntddk_py import STATUS_OBJECT_NAME_INVALID, STATUS_SUCCESS, ffi

# Longest key-name component, in characters; a longer one is invalid.
MAX_KEY_NAME_CHARS = 256
# Longest value name, in characters.
MAX_VALUE_NAME_CHARS = 16383
SEPARATOR = "\\"
# The most bytes a UNICODE_STRING can count: its Length is a USHORT of bytes (as the header
# declares it), and a WCHAR takes two, so the largest even value of that type.
MAX_UNICODE_STRING_BYTES = ((1 << (8 * ffi.sizeof(dict(ffi.typeof("UNICODE_STRING").fields)["Length"].type))) - 1) & ~1
MAX_UNICODE_STRING_CHARS = MAX_UNICODE_STRING_BYTES // ffi.sizeof("WCHAR")


def _build_upcase_table() -> dict[int, int]:
    """Code point -> upper-case code point, for BMP characters with a one-character mapping.

    RtlUpcaseUnicodeChar maps one UTF-16 unit to one unit: a character whose full
    Unicode upper case is longer (U+00DF -> "SS") keeps its case, and the halves of
    a surrogate pair are never folded, so characters beyond U+FFFF keep theirs.
    """
    table = {}
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        upper = chr(code).upper()
        if len(upper) == 1 and ord(upper) != code and ord(upper) <= 0xFFFF:
            table[code] = ord(upper)
    return table


_UPCASE = _build_upcase_table()


def upcase(name: str) -> str:
    """The form NT compares key and value names in (their case is kept for display)."""
    return sys.intern(name.translate(_UPCASE)) if len(name) < 64 else name.translate(_UPCASE)


def _as_units(match: re.Match[str]) -> str:
    """A character beyond U+FFFF as its UTF-16 surrogate pair: two code points, one per unit."""
    offset = ord(match.group()) - 0x10000
    return chr(0xD800 | offset >> 10) + chr(0xDC00 | offset & 0x3FF)


_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


def sort_key(name: str) -> str:
    """What subkeys are ordered and looked up by: the upper-cased name, one code point per UTF-16 unit.

    Windows compares upper-cased names one UTF-16 unit at a time (CmpCompareCompressedName), so a
    character beyond U+FFFF (a surrogate pair, 0xD800-0xDBFF first) sorts before U+E000-U+FFFF,
    unlike Python's code-point order. Spelling such a character as its two surrogates makes Python's
    string comparison exactly that unit order (a shorter name before every longer one it begins;
    lone surrogates, which names decoded with surrogatepass may hold, stay the units they are). It
    compares as upcase(name).encode("utf-16-be", "surrogatepass") does bytewise, but a name within
    the BMP, nearly every one, is its own key: the same interned string upcase returns, no bytes
    object per subkey. Equal keys are equal names, and len(key) is the name's length in UTF-16 units.
    """
    folded = upcase(name)
    if folded.isascii() or max(folded) <= "\uffff":
        return folded
    return _BEYOND_BMP.sub(_as_units, folded)


def check_component(component: str) -> int:
    """STATUS_SUCCESS for a usable key-name component, else the status Windows gives."""
    if len(component) > MAX_KEY_NAME_CHARS:
        return STATUS_OBJECT_NAME_INVALID
    return STATUS_SUCCESS


def split(path: str) -> list[str]:
    """Components of a backslash-separated path; repeated and trailing separators add none."""
    return [part for part in path.split(SEPARATOR) if part]
