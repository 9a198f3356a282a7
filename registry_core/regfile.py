""".reg files: parse, apply through the registry API, and export, as regedit writes them.

Both formats: "Windows Registry Editor Version 5.00" (UTF-16LE with a BOM, or UTF-8) and
"REGEDIT4" (ANSI). Keys `[ROOT\\path]` and deletions `[-ROOT\\path]`; values `"name"=...` and
`@=...` as strings, `dword:`, `hex:` and `hex(N):`, deletions `"name"=-`, line continuations.
REG_EXPAND_SZ and REG_MULTI_SZ data are UTF-16 in version 5 and ANSI in REGEDIT4 (regedit
converts on the way in and out). A malformed file is refused whole, naming file, line and reason.

What regedit's syntax cannot hold, cmhook escapes on export so that export -> import -> export gives
the same bytes for every name and value Windows allows (cmhook's extension; regedit reads neither):
- inside double quotes, ``\\uXXXX`` is one UTF-16 unit (four hex digits), besides ``\\\\`` and ``\\"``:
  an export writes it for a carriage return or a line feed in a name (which would end the line), and
  in REGEDIT4 for every character ANSI (code page 1252) has no byte for;
- a key whose path needs such an escape is written quoted, as one string,
  ``["HKEY_LOCAL_MACHINE\\\\A\\u000aB"]`` (the backslashes between its components doubled, as in every
  quoted string);
- a REG_SZ string holding a line break, a NUL or a lone surrogate (or, in REGEDIT4, a character ANSI
  lacks) is written as its bytes, ``hex(1):``, as regedit does for data it cannot show as text.
REGEDIT4 cannot hold a REG_EXPAND_SZ or REG_MULTI_SZ whose text ANSI lacks: exporting one is refused,
naming it. Lines end at CR, LF or CR LF only, and nothing else in a line (a trailing space in a key
name included) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ntddk_py import (
    KEY_ALL_ACCESS,
    OBJ_CASE_INSENSITIVE,
    OBJ_OPENLINK,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    STATUS_OBJECT_NAME_NOT_FOUND,
    nt_success,
)

from .names import upcase
from .registry import MAX_UNICODE_STRING_CHARS, RegistryError, utf16_units

HEADER_5 = "Windows Registry Editor Version 5.00"
HEADER_4 = "REGEDIT4"
# Root names as regedit writes them, their short forms, and where they live under \REGISTRY.
ROOTS = {
    "HKEY_LOCAL_MACHINE": "\\REGISTRY\\MACHINE", "HKLM": "\\REGISTRY\\MACHINE",
    "HKEY_USERS": "\\REGISTRY\\USER", "HKU": "\\REGISTRY\\USER",
    "HKEY_CURRENT_USER": "\\REGISTRY\\USER\\.DEFAULT", "HKCU": "\\REGISTRY\\USER\\.DEFAULT",
    "HKEY_CLASSES_ROOT": "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes", "HKCR": "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes",
}
EXPORT_ROOTS = [("\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"), ("\\REGISTRY\\USER", "HKEY_USERS")]
ANSI = "cp1252"
WRAP = 80
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class RegFileError(Exception):
    """A .reg file or a registry path that cannot be used; the message names file and line."""


@dataclass
class RegValue:
    name: str  # "" is the default value (@)
    type: int = REG_SZ
    data: bytes = b""
    delete: bool = False
    line: int = 0


@dataclass
class RegKey:
    path: str  # the \REGISTRY\... name
    delete: bool = False
    values: list[RegValue] = field(default_factory=list)
    line: int = 0


@dataclass
class RegFile:
    version: str
    keys: list[RegKey]


# --- names ---------------------------------------------------------------------------

def native_path(path: str) -> str:
    """\\REGISTRY\\... for a regedit-style (HKLM\\..., HKEY_USERS\\...) or native path.

    Blanks before the root go; every other character is the name's, trailing blanks included (a key
    name may end in a space). Trailing backslashes add no component."""
    path = path.lstrip().strip("\\") if not path.startswith("\\") else path.rstrip("\\")
    if upcase(path).startswith("\\REGISTRY"):
        return path
    root, _, rest = path.partition("\\")
    base = ROOTS.get(root.upper())
    if base is None:
        raise RegFileError(f"unknown root {root!r}: use one of {', '.join(sorted(ROOTS))} or \\REGISTRY\\...")
    return f"{base}\\{rest}" if rest else base


def regedit_path(path: str) -> str:
    """HKEY_LOCAL_MACHINE\\... for a \\REGISTRY\\... name (what an export writes)."""
    for prefix, root in EXPORT_ROOTS:
        if upcase(path) == prefix or upcase(path).startswith(prefix + "\\"):
            return root + path[len(prefix):]
    raise RegFileError(f"{path} is outside HKEY_LOCAL_MACHINE and HKEY_USERS")


# --- parsing -------------------------------------------------------------------------

def _ansi_table() -> str:
    """The character of each byte in code page 1252. Its five unassigned bytes (0x81, 0x8D, 0x8F,
    0x90, 0x9D) stand for the C1 controls of the same number, so that every byte has a character and
    back (cmhook's decision, as Windows' own 1252 table maps them to our knowledge)."""
    characters = []
    for byte in range(256):
        try:
            characters.append(bytes([byte]).decode(ANSI))
        except UnicodeDecodeError:
            characters.append(chr(byte))
    return "".join(characters)


ANSI_CHARACTERS = _ansi_table()
_ANSI_DECODE = {byte: character for byte, character in enumerate(ANSI_CHARACTERS) if ord(character) != byte}
_ANSI_ENCODE = {character: byte for byte, character in enumerate(ANSI_CHARACTERS)}


def ansi_decode(raw: bytes) -> str:
    """ANSI (code page 1252) bytes as text; every byte has a character."""
    return raw.decode("latin-1").translate(_ANSI_DECODE)


def ansi_encodable(text: str) -> bool:
    return all(character in _ANSI_ENCODE for character in text)


def ansi_encode(text: str) -> bytes:
    """Text as ANSI bytes; every character must be one ANSI has (see ansi_encodable)."""
    return bytes(_ANSI_ENCODE[character] for character in text)


def decode(raw: bytes, filename: str = "<reg>") -> str:
    """The text of a .reg file: UTF-16LE after its byte-order mark, UTF-8 after its one, ANSI for a
    REGEDIT4 file without one (as regedit reads it); a version 5 file without one is UTF-8, or ANSI
    if it is not valid UTF-8. A file that breaks its own encoding is a RegFileError naming the line."""
    if raw.startswith(b"\xff\xfe"):
        body = raw[2:]
        if len(body) % 2:
            line = body[:-1].decode("utf-16-le", "surrogatepass").count("\n") + 1
            raise RegFileError(f"{filename}:{line}: UTF-16 text with an odd number of bytes ({len(raw)} in "
                               "all, the byte-order mark included): the file is cut short or is not UTF-16")
        # A lone surrogate is a name Windows allows (names are UTF-16 units): kept as it is.
        return body.decode("utf-16-le", "surrogatepass")
    if raw.startswith(b"\xfe\xff"):
        raise RegFileError(f"{filename}:1: UTF-16 big-endian text: a .reg file is UTF-16 little-endian "
                           "(regedit's \"Unicode\"), UTF-8 or ANSI")
    if raw.startswith(b"\xef\xbb\xbf"):
        body = raw[3:]
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            line = body.count(b"\n", 0, error.start) + 1
            column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
            raise RegFileError(f"{filename}:{line}: not UTF-8 after the UTF-8 byte-order mark: byte "
                               f"0x{body[error.start]:02x} at byte {column} of the line") from None
    if raw.lstrip().startswith(HEADER_4.encode()):
        return ansi_decode(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ansi_decode(raw)


def _continues(line: str) -> bool:
    """A first line that goes on: a value line (not a [key]) whose last non-blank character is a backslash."""
    stripped = line.rstrip()
    return stripped.endswith("\\") and not stripped.lstrip().startswith("[") and "=" in stripped


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with continuation lines (ending in a backslash) joined.

    A continued line's pieces are collected and joined once, so a 1 MiB hex value over tens of
    thousands of lines costs linear time, not the quadratic of growing one string. Once a line
    continues, it is a value line for good (its first piece holds the '=' and decides the '['), so
    each further line only needs its own end looked at. Continuation lines lose their leading blanks.
    """
    out: list[tuple[int, str]] = []
    pieces: list[str] = []  # the logical line so far, while a continuation is pending
    start = 0
    for number, line in enumerate(LINE_BREAK.split(text), 1):
        if not pieces:
            if _continues(line):
                start, pieces = number, [line.rstrip()[:-1]]
            else:
                out.append((number, line))
            continue
        piece = line.lstrip()
        if not piece:
            # A blank line: the text so far, without its trailing blanks, decides whether it goes on.
            while not pieces[-1].rstrip():
                pieces.pop()  # never the first piece: it holds the '='
            pieces[-1] = pieces[-1].rstrip()
            if pieces[-1].endswith("\\"):
                pieces[-1] = pieces[-1][:-1]
                continue
        else:
            tail = piece.rstrip()
            if tail.endswith("\\"):
                pieces.append(tail[:-1])
                continue
            pieces.append(piece)
        out.append((start, "".join(pieces)))
        pieces = []
    if pieces:
        out.append((start, "".join(pieces)))
    return out


_UNIT = re.compile(r"[0-9A-Fa-f]{4}")


def _quoted(text: str, where: str) -> tuple[str, str]:
    """(the unescaped string, the rest) for text starting with a double quote.

    Escapes: \\\\, \\" and \\uXXXX (one UTF-16 unit; a pair of surrogates is one character)."""
    out, index = [], 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text):
                break
            following = text[index + 1]
            if following == "u" and _UNIT.fullmatch(text, index + 2, index + 6):
                out.append(chr(int(text[index + 2:index + 6], 16)))
                index += 6
                continue
            if following not in '\\"':
                raise RegFileError(f"{where}: unknown escape \\{following} (only \\\\, \\\" and \\uXXXX are allowed)")
            out.append(following)
            index += 2
        elif char == '"':
            joined = "".join(out)
            if any("\ud800" <= c <= "\udfff" for c in joined):  # escaped halves of a pair: one character
                joined = joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
            return joined, text[index + 1:]
        else:
            out.append(char)
            index += 1
    raise RegFileError(f"{where}: unterminated string")


def _check_name(name: str, what: str, where: str) -> str:
    """The name, if a UNICODE_STRING can hold it (32,767 UTF-16 units); else a RegFileError."""
    units = utf16_units(name)
    if units > MAX_UNICODE_STRING_CHARS:
        shown = name[:20] + "..."
        raise RegFileError(f"{where}: {what} {shown!r} is {units} characters long; a name holds at most "
                           f"{MAX_UNICODE_STRING_CHARS} (a UNICODE_STRING's length is a USHORT of bytes)")
    return name


def _hex_bytes(text: str, where: str) -> bytes:
    text = re.sub(r"\s", "", text)
    if not text:
        return b""
    parts = text.split(",")
    if parts[-1] == "":
        parts.pop()
    if not all(_HEX_BYTE.fullmatch(part) for part in parts):
        raise RegFileError(f"{where}: hex data must be two-digit bytes separated by commas")
    return bytes(int(part, 16) for part in parts)


_HEX_BYTE = re.compile(r"[0-9A-Fa-f]{1,2}")


def _value_data(data: str, version: str, where: str) -> tuple[int, bytes] | None:
    """(type, bytes) for the part after '=', or None for a deletion ('-')."""
    data = data.strip()
    if data == "-":
        return None
    if data.startswith('"'):
        text, rest = _quoted(data, where)
        if rest.strip():
            raise RegFileError(f"{where}: unexpected text after the string: {rest.strip()!r}")
        return REG_SZ, (text + "\0").encode("utf-16-le", "surrogatepass")
    match = re.fullmatch(r"dword:([0-9A-Fa-f]{1,8})", data)
    if match:
        return REG_DWORD, int(match.group(1), 16).to_bytes(4, "little")
    if data.lower().startswith("dword:"):
        raise RegFileError(f"{where}: dword: takes one to eight hex digits")
    match = re.fullmatch(r"hex(?:\(([0-9A-Fa-f]{1,8})\))?:(.*)", data, re.S)
    if match:
        type_ = int(match.group(1), 16) if match.group(1) else REG_BINARY
        raw = _hex_bytes(match.group(2), where)
        if version == HEADER_4 and type_ in (REG_EXPAND_SZ, REG_MULTI_SZ):
            raw = ansi_decode(raw).encode("utf-16-le", "surrogatepass")  # REGEDIT4 writes these in ANSI
        return type_, raw
    raise RegFileError(f"{where}: cannot read value data {data[:40]!r} (expected \"text\", dword:, hex: or hex(N):)")


def parse_value(line: str, version: str = HEADER_5, where: str = "<value>") -> RegValue:
    """One value line as regedit writes it: "name"=data, @=data or "name"=- (a deletion)."""
    if line.startswith("@"):
        name, rest = "", line[1:]
    elif line.startswith('"'):
        name, rest = _quoted(line, where)
    else:
        raise RegFileError(f"{where}: expected \"name\"=data or @=data")
    _check_name(name, "the value name", where)
    rest = rest.lstrip()
    if not rest.startswith("="):
        raise RegFileError(f"{where}: expected = after the value name")
    data = _value_data(rest[1:], version, where)
    if data is None:
        return RegValue(name, delete=True)
    return RegValue(name, data[0], data[1])


def parse_value_name(text: str, where: str = "<value>") -> str:
    """A value name alone: "name" or @ (the default value)."""
    text = text.strip()
    if text == "@":
        return ""
    if text.startswith('"'):
        name, rest = _quoted(text, where)
        if not rest.strip():
            return _check_name(name, "the value name", where)
    raise RegFileError(f"{where}: expected a value name: \"name\" or @")


def parse(raw: bytes | str, filename: str = "<reg>") -> RegFile:
    """The keys and values of a .reg file; RegFileError (file:line: reason) if malformed."""
    text = decode(raw, filename) if isinstance(raw, bytes) else raw
    content = [(n, line.strip()) for n, line in _logical_lines(text)
               if line.strip() and not line.strip().startswith(";")]
    if not content or content[0][1] not in (HEADER_5, HEADER_4):
        first = content[0][0] if content else 1
        raise RegFileError(f"{filename}:{first}: not a .reg file: the first line must be "
                           f"'{HEADER_5}' or '{HEADER_4}'")
    version = content[0][1]
    keys: list[RegKey] = []
    for number, line in content[1:]:
        where = f"{filename}:{number}"
        if line.startswith("["):
            if not line.endswith("]"):
                raise RegFileError(f"{where}: a key line must end with ]")
            name = line[1:-1]
            delete = name.startswith("-")
            if delete:
                name = name[1:]
            if name.startswith('"'):  # a quoted path: what a plain [key] line cannot hold, escaped
                name, rest = _quoted(name, where)
                if rest:
                    raise RegFileError(f"{where}: unexpected text after the quoted key name: {rest!r}")
            try:
                path = native_path(name)
            except RegFileError as error:
                raise RegFileError(f"{where}: {error}") from None
            for component in path.split("\\"):
                _check_name(component, "the key name", where)
            keys.append(RegKey(path, delete, [], number))
            continue
        if not keys:
            raise RegFileError(f"{where}: a value before any [key]")
        if keys[-1].delete:
            raise RegFileError(f"{where}: a value under a key being deleted")
        if not line.startswith(("@", '"')):
            raise RegFileError(f"{where}: expected [key], \"name\"=data or @=data")
        value = parse_value(line, version, where)
        value.line = number
        keys[-1].values.append(value)
    return RegFile(version, keys)


def load(path: str | Path) -> RegFile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegFileError(f"{path}: {error.strerror or error}") from None
    except ValueError as error:  # a NUL in the file name
        raise RegFileError(f"{str(path)!r}: not a file name: {error}") from None
    return parse(raw, str(path))


# --- applying, through the API (filters see every write) ---------------------------------

def apply(registry, regfile: RegFile) -> list[tuple[str, int]]:
    """Create, set and delete as the file says; returns (what, status) for every call that failed."""
    failures: list[tuple[str, int]] = []
    for key in regfile.keys:
        if key.delete:
            status = delete_tree(registry, key.path)
            if not nt_success(status) and status != STATUS_OBJECT_NAME_NOT_FOUND:
                failures.append((f"delete {key.path}", status))
            continue
        try:
            handle = registry.create_path(key.path)
        except RegistryError as error:  # a blocked or impossible create
            failures.append((f"create {key.path}", error.status))
            continue
        for value in key.values:
            if value.delete:
                status = registry.delete_value(handle, value.name)
                ok = nt_success(status) or status == STATUS_OBJECT_NAME_NOT_FOUND
            else:
                status = registry.set_value(handle, value.name, value.type, value.data)
                ok = nt_success(status)
            if not ok:
                failures.append((f"{'delete' if value.delete else 'set'} {key.path}\\{value.name}", status))
        registry.close(handle)
    return failures


def delete_tree(registry, path: str) -> int:
    """Delete a key and everything below it, deepest first, through the API; the status of the
    key's own NtDeleteKey (or of its open).

    A loop with a stack of open handles, not recursion: a tree of any depth. Each subkey is opened
    through its parent's handle (relative, so no path grows past what a UNICODE_STRING holds) with
    OBJ_OPENLINK: a symbolic link in the tree is deleted as the link, never what it points to. A
    subkey that cannot be opened or deleted (a filter said no) is stepped over and stays, and so do
    the keys above it (their delete fails with STATUS_KEY_HAS_CHILDREN... or what a filter says)."""
    status, top = registry.open_path(path, KEY_ALL_ACCESS)
    if not nt_success(status):
        return status
    stack = [[top, 0]]  # [handle, the index of the next subkey to try]
    while True:
        frame = stack[-1]
        child = registry.subkey_name(frame[0], frame[1])
        if child is not None:
            status, handle = registry.open_key(child, KEY_ALL_ACCESS, root=frame[0],
                                               attributes=OBJ_CASE_INSENSITIVE | OBJ_OPENLINK)
            if nt_success(status):
                stack.append([handle, 0])
            else:
                frame[1] += 1
            continue
        stack.pop()
        status = registry.delete_key(frame[0])
        registry.close(frame[0])
        if not stack:
            return status
        if not nt_success(status):
            stack[-1][1] += 1  # it stays: the parent's next subkey is one further on


# --- exporting ---------------------------------------------------------------------------

def _needs_escape(character: str, version: str) -> bool:
    """A character a quoted string of this version cannot hold as itself."""
    return character in "\r\n" or version == HEADER_4 and character not in _ANSI_ENCODE


def _unit_escapes(character: str) -> str:
    units = character.encode("utf-16-le", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'little'):04x}" for i in range(0, len(units), 2))


def _escape(text: str, version: str = HEADER_5) -> str:
    """Text for inside double quotes: \\ and " escaped, and \\uXXXX for what the file cannot hold."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    if any(_needs_escape(character, version) for character in text):
        text = "".join(_unit_escapes(c) if _needs_escape(c, version) else c for c in text)
    return text


def key_line(path: str, version: str = HEADER_5) -> str:
    """[HKEY_...\\path] for a \\REGISTRY\\... name; quoted, ["..."], when a name holds what the plain
    form cannot (a line break; in REGEDIT4, a character ANSI lacks)."""
    shown = regedit_path(path)
    if any(_needs_escape(character, version) for character in shown):
        return f'["{_escape(shown, version)}"]'
    return f"[{shown}]"


def _hex_lines(prefix: str, data: bytes) -> str:
    """prefix + comma-separated bytes, wrapped below WRAP columns with backslash continuations."""
    items = [f"{byte:02x}" for byte in data]
    lines, current = [], prefix
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        if len(current) + len(piece) > WRAP - 2 and current.strip():
            lines.append(current + "\\")
            current = "  "
        current += piece
    lines.append(current)
    return "\r\n".join(lines)


def format_value(name: str, type_: int, data: bytes, version: str = HEADER_5) -> str:
    """One value as regedit writes it; RegFileError for what REGEDIT4 cannot hold (a REG_EXPAND_SZ or
    REG_MULTI_SZ whose text ANSI lacks, which REGEDIT4 writes in ANSI)."""
    head = "@=" if name == "" else f'"{_escape(name, version)}"='
    if type_ == REG_SZ and len(data) % 2 == 0 and data.endswith(b"\0\0"):
        text = data[:-2].decode("utf-16-le", "surrogatepass")
        if not any(c in "\0\r\n" or "\ud800" <= c <= "\udfff" for c in text) and (
                version != HEADER_4 or ansi_encodable(text)):
            return head + f'"{_escape(text, version)}"'
    if type_ == REG_DWORD and len(data) == 4:
        return head + f"dword:{int.from_bytes(data, 'little'):08x}"
    if version == HEADER_4 and type_ in (REG_EXPAND_SZ, REG_MULTI_SZ):
        kind = "REG_EXPAND_SZ" if type_ == REG_EXPAND_SZ else "REG_MULTI_SZ"
        if len(data) % 2:
            raise RegFileError(f"the {kind} value {name[:40]!r} is an odd number of bytes, which REGEDIT4 (ANSI "
                               "text) cannot hold; export it as version 5.00 (without --regedit4)")
        ansi_text = data.decode("utf-16-le", "surrogatepass")
        if not ansi_encodable(ansi_text):
            raise RegFileError(f"the {kind} value {name[:40]!r} holds text ANSI cannot: REGEDIT4 writes it in "
                               "ANSI and would change it; export it as version 5.00 (without --regedit4)")
        data = ansi_encode(ansi_text)
    prefix = head + ("hex:" if type_ == REG_BINARY else f"hex({type_:x}):")
    return _hex_lines(prefix, data)


def export(registry, path: str, version: str = HEADER_5) -> bytes:
    """A .reg file of the subtree at path, as regedit writes it."""
    key = registry.native.store.walk(native_path(path))
    if key is None:
        raise RegFileError(f"{path} does not exist")
    blocks = [version, ""]
    # Depth first, parents before children, subkeys in enumeration order: a loop over a stack of
    # iterators, not recursion, so a tree of any depth exports.

    def emit(node, name: str) -> None:
        blocks.append(key_line(name, version))
        for value in node.values():
            try:
                blocks.append(format_value(value.name, value.type, value.data, version))
            except RegFileError as error:
                raise RegFileError(f"{regedit_path(name)}: {error}") from None
        blocks.append("")

    emit(key, key.path())
    stack = [(key.subkeys(), key.path())]
    while stack:
        children, parent = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        name = f"{parent}\\{child.name}"
        emit(child, name)
        stack.append((child.subkeys(), name))
    text = "\r\n".join(blocks) + "\r\n"
    if version == HEADER_4:
        return ansi_encode(text)  # escaped above: every character has its byte
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


__all__ = ["RegFile", "RegKey", "RegValue", "RegFileError", "parse", "load", "apply", "export", "native_path",
           "regedit_path", "key_line", "delete_tree", "ansi_decode", "ansi_encode"]
