"""The layout table a filter author checks their assumptions against.

Offsets and sizes come from cffi (``ntddk_py.ffi``), which the ABI tests hold
equal to gcc, clang, ctypes and Windows x64; member spellings come from the
generated record list. This module only formats; it computes no layout.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from . import ffi
from ._cdef import RECORDS
from .constants import REG_NOTIFY_CLASS


@dataclass
class Row:
    """One line of the table: a record's member, or the record itself (member None)."""

    type: str
    member: str | None
    offset: int
    size: int
    ctype: str


def spec_types() -> list[str]:
    """The specification's appendix structs and the records they point to."""
    refs = ["UNICODE_STRING", "LARGE_INTEGER", "KEY_VALUE_ENTRY"]
    return [name for name in RECORDS if name.startswith("REG_")] + refs


def rows(types: list[str]) -> list[Row]:
    """Record and member rows for the named records, in the order given."""
    out: list[Row] = []
    for name in types:
        if name not in RECORDS:
            raise KeyError(f"{name} is not a struct or union of include/ntddk.h; "
                           f"known: {', '.join(RECORDS)}")
        ctype = ffi.typeof(name)
        out.append(Row(name, None, 0, ffi.sizeof(ctype), f"{ctype.kind}, align {ffi.alignof(ctype)}"))
        fields = dict(ctype.fields)
        for member, spelled in RECORDS[name]:
            cfield = fields[member]
            out.append(Row(name, member, cfield.offset, ffi.sizeof(cfield.type), spelled))
    return out


def render_text(table: list[Row]) -> str:
    lines = []
    for row in table:
        if row.member is None:
            lines.append(f"\n{row.type}  (size {row.size}, {row.ctype})")
            lines.append(f"  {'offset':>6}  {'size':>4}  member")
        else:
            lines.append(f"  {row.offset:>6}  {row.size:>4}  {row.member:<28} {row.ctype}")
    return "\n".join(lines).lstrip("\n") + "\n"


def render_notify_classes() -> str:
    lines = ["\nREG_NOTIFY_CLASS"]
    for name, member in REG_NOTIFY_CLASS.__members__.items():
        lines.append(f"  {member.value:>6}  {name}")
    return "\n".join(lines) + "\n"


def render_json(table: list[Row]) -> str:
    return json.dumps([asdict(row) for row in table], indent=1) + "\n"
