""".reg files: parse, apply through the registry API, and export, as regedit writes them.

Both formats: "Windows Registry Editor Version 5.00" (UTF-16LE with a BOM, or UTF-8) and
"REGEDIT4" (ANSI). Keys `[ROOT\\path]` and deletions `[-ROOT\\path]`; values `"name"=...` and
`@=...` as strings, `dword:`, `hex:` and `hex(N):`, deletions `"name"=-`, line continuations.
REG_EXPAND_SZ and REG_MULTI_SZ data are UTF-16 in version 5 and ANSI in REGEDIT4 (regedit
converts on the way in and out). A malformed file is refused whole, naming file, line and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ntddk_py import (
    KEY_ALL_ACCESS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    STATUS_OBJECT_NAME_NOT_FOUND,
    nt_success,
)

from .names import upcase

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
    """\\REGISTRY\\... for a regedit-style (HKLM\\..., HKEY_USERS\\...) or native path."""
    path = path.strip().strip("\\") if not path.startswith("\\") else path.rstrip("\\")
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

def decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(ANSI, "replace")


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
    for number, line in enumerate(text.splitlines(), 1):
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


def _quoted(text: str, where: str) -> tuple[str, str]:
    """(the unescaped string, the rest) for text starting with a double quote."""
    out, index = [], 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text):
                break
            following = text[index + 1]
            if following not in '\\"':
                raise RegFileError(f"{where}: unknown escape \\{following} (only \\\\ and \\\" are allowed)")
            out.append(following)
            index += 2
        elif char == '"':
            return "".join(out), text[index + 1:]
        else:
            out.append(char)
            index += 1
    raise RegFileError(f"{where}: unterminated string")


def _hex_bytes(text: str, where: str) -> bytes:
    text = re.sub(r"\s", "", text)
    if not text:
        return b""
    parts = text.split(",")
    if parts[-1] == "":
        parts.pop()
    try:
        values = [int(part, 16) for part in parts]
    except ValueError:
        raise RegFileError(f"{where}: hex data must be two-digit bytes separated by commas") from None
    if any(not 0 <= value <= 0xFF or len(part) > 2 for value, part in zip(values, parts, strict=True)):
        raise RegFileError(f"{where}: hex data must be two-digit bytes separated by commas")
    return bytes(values)


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
            raw = raw.decode(ANSI, "replace").encode("utf-16-le")  # REGEDIT4 writes these in ANSI
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
            return name
    raise RegFileError(f"{where}: expected a value name: \"name\" or @")


def parse(raw: bytes | str, filename: str = "<reg>") -> RegFile:
    """The keys and values of a .reg file; RegFileError (file:line: reason) if malformed."""
    text = decode(raw) if isinstance(raw, bytes) else raw
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
            try:
                keys.append(RegKey(native_path(name[1:] if delete else name), delete, [], number))
            except RegFileError as error:
                raise RegFileError(f"{where}: {error}") from None
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
        raise RegFileError(f"{path}: {error.strerror}") from None
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
        except Exception as error:  # a blocked or impossible create: RegistryError carries the status
            failures.append((f"create {key.path}", getattr(error, "status", 0)))
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
    """Delete a key and everything below it, deepest first, through the API."""
    status, handle = registry.open_key(path, KEY_ALL_ACCESS)
    if not nt_success(status):
        return status
    try:
        for child in registry.subkey_names(handle):
            delete_tree(registry, f"{path}\\{child}")
        return registry.delete_key(handle)
    finally:
        registry.close(handle)


# --- exporting ---------------------------------------------------------------------------

def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


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
    head = "@=" if name == "" else f'"{_escape(name)}"='
    if type_ == REG_SZ and len(data) % 2 == 0 and data.endswith(b"\0\0"):
        text = data[:-2].decode("utf-16-le", "surrogatepass")
        ansi_ok = version != HEADER_4 or text.encode(ANSI, "ignore").decode(ANSI) == text
        if "\0" not in text and ansi_ok and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            return head + f'"{_escape(text)}"'
    if type_ == REG_DWORD and len(data) == 4:
        return head + f"dword:{int.from_bytes(data, 'little'):08x}"
    if version == HEADER_4 and type_ in (REG_EXPAND_SZ, REG_MULTI_SZ) and len(data) % 2 == 0:
        data = data.decode("utf-16-le", "replace").encode(ANSI, "replace")
    prefix = head + ("hex:" if type_ == REG_BINARY else f"hex({type_:x}):")
    return _hex_lines(prefix, data)


def export(registry, path: str, version: str = HEADER_5) -> bytes:
    """A .reg file of the subtree at path, as regedit writes it."""
    key = registry.native.store.walk(native_path(path))
    if key is None:
        raise RegFileError(f"{path} does not exist")
    blocks = [version, ""]

    def walk(node, name: str) -> None:
        blocks.append(f"[{regedit_path(name)}]")
        blocks.extend(format_value(v.name, v.type, v.data, version) for v in node.values())
        blocks.append("")
        for child in node.subkeys():
            walk(child, f"{name}\\{child.name}")

    walk(key, key.path())
    text = "\r\n".join(blocks) + "\r\n"
    if version == HEADER_4:
        return text.encode(ANSI, "replace")
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


__all__ = ["RegFile", "RegKey", "RegValue", "RegFileError", "parse", "load", "apply", "export", "native_path",
           "regedit_path"]
