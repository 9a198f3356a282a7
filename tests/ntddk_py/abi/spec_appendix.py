"""The type definitions of the specification's appendix, as facts the tests check against.

The specification (registry callbacks, Windows XP / Server 2003, section 4) closes with the
C declarations a callback receives. The suite needs only their facts, written down here once:

- ``REG_NOTIFY_CLASS``: every enumerator in declaration order, each with the aliases that
  share its value (``RegNtPreDeleteKey`` is ``RegNtDeleteKey``); 30 distinct values;
- each ``REG_*_INFORMATION`` struct: its tag, every typedef name and pointer typedef the
  appendix gives it, its members (type and name, in order), and the releases that pass it.

``test_spec_appendix`` checks include/ntddk.h against these facts; ``probes.windows`` renders
them as C (``render``) under ``SPEC_*`` / ``SpecRegNt*`` names, so that mingw-w64 lays the
era's structs out beside its own, later and longer, ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Enumerators of REG_NOTIFY_CLASS in the order they are declared. Each row takes the next value;
# names after the first on a row are aliases with the same value.
REG_NOTIFY_CLASS: list[tuple[str, ...]] = [
    ("RegNtDeleteKey", "RegNtPreDeleteKey"),
    ("RegNtSetValueKey", "RegNtPreSetValueKey"),
    ("RegNtDeleteValueKey", "RegNtPreDeleteValueKey"),
    ("RegNtSetInformationKey", "RegNtPreSetInformationKey"),
    ("RegNtRenameKey", "RegNtPreRenameKey"),
    ("RegNtEnumerateKey", "RegNtPreEnumerateKey"),
    ("RegNtEnumerateValueKey", "RegNtPreEnumerateValueKey"),
    ("RegNtQueryKey", "RegNtPreQueryKey"),
    ("RegNtQueryValueKey", "RegNtPreQueryValueKey"),
    ("RegNtQueryMultipleValueKey", "RegNtPreQueryMultipleValueKey"),
    ("RegNtPreCreateKey",),
    ("RegNtPostCreateKey",),
    ("RegNtPreOpenKey",),
    ("RegNtPostOpenKey",),
    ("RegNtKeyHandleClose", "RegNtPreKeyHandleClose"),
    # from here on: Server 2003 only
    ("RegNtPostDeleteKey",),
    ("RegNtPostSetValueKey",),
    ("RegNtPostDeleteValueKey",),
    ("RegNtPostSetInformationKey",),
    ("RegNtPostRenameKey",),
    ("RegNtPostEnumerateKey",),
    ("RegNtPostEnumerateValueKey",),
    ("RegNtPostQueryKey",),
    ("RegNtPostQueryValueKey",),
    ("RegNtPostQueryMultipleValueKey",),
    ("RegNtPostKeyHandleClose",),
    ("RegNtPreCreateKeyEx",),
    ("RegNtPostCreateKeyEx",),
    ("RegNtPreOpenKeyEx",),
    ("RegNtPostOpenKeyEx",),
]

BOTH, SERVER_2003, XP = "XP and Server 2003", "Server 2003 only", "XP only"


@dataclass(frozen=True)
class Struct:
    """One struct of the appendix: ``typedef struct TAG { members } NAMES, *POINTERS;``."""

    tag: str
    names: tuple[str, ...]
    pointers: tuple[str, ...]
    members: tuple[tuple[str, str], ...]  # (type, name), in order
    releases: str


def _struct(names: str, members: str, releases: str = BOTH) -> Struct:
    """``names``: the typedef names, space-separated (the first gives the tag and the pointer names);
    ``members``: "TYPE NAME" pairs separated by commas."""
    typedefs = tuple(names.split())
    pairs = tuple((ctype, name) for ctype, name in (member.split() for member in members.split(",")))
    return Struct("_" + typedefs[0], typedefs, tuple("P" + name for name in typedefs), pairs, releases)


STRUCTS: list[Struct] = [
    _struct("REG_DELETE_KEY_INFORMATION", "PVOID Object"),
    _struct("REG_SET_VALUE_KEY_INFORMATION",
            "PVOID Object, PUNICODE_STRING ValueName, ULONG TitleIndex, ULONG Type, PVOID Data, ULONG DataSize"),
    _struct("REG_DELETE_VALUE_KEY_INFORMATION", "PVOID Object, PUNICODE_STRING ValueName"),
    _struct("REG_SET_INFORMATION_KEY_INFORMATION",
            "PVOID Object, KEY_SET_INFORMATION_CLASS KeySetInformationClass, PVOID KeySetInformation,"
            " ULONG KeySetInformationLength"),
    _struct("REG_ENUMERATE_KEY_INFORMATION",
            "PVOID Object, ULONG Index, KEY_INFORMATION_CLASS KeyInformationClass, PVOID KeyInformation,"
            " ULONG Length, PULONG ResultLength"),
    _struct("REG_ENUMERATE_VALUE_KEY_INFORMATION",
            "PVOID Object, ULONG Index, KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,"
            " PVOID KeyValueInformation, ULONG Length, PULONG ResultLength"),
    _struct("REG_QUERY_KEY_INFORMATION",
            "PVOID Object, KEY_INFORMATION_CLASS KeyInformationClass, PVOID KeyInformation, ULONG Length,"
            " PULONG ResultLength"),
    _struct("REG_QUERY_VALUE_KEY_INFORMATION",
            "PVOID Object, PUNICODE_STRING ValueName, KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,"
            " PVOID KeyValueInformation, ULONG Length, PULONG ResultLength"),
    _struct("REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION",
            "PVOID Object, PKEY_VALUE_ENTRY ValueEntries, ULONG EntryCount, PVOID ValueBuffer,"
            " PULONG BufferLength, PULONG RequiredBufferLength"),
    _struct("REG_RENAME_KEY_INFORMATION", "PVOID Object, PUNICODE_STRING NewName"),
    _struct("REG_KEY_HANDLE_CLOSE_INFORMATION", "PVOID Object"),
    _struct("REG_CREATE_KEY_INFORMATION REG_OPEN_KEY_INFORMATION",
            "PUNICODE_STRING CompleteName, PVOID RootObject", SERVER_2003),
    _struct("REG_POST_OPERATION_INFORMATION", "PVOID Object, NTSTATUS Status", SERVER_2003),
    _struct("REG_PRE_CREATE_KEY_INFORMATION REG_PRE_OPEN_KEY_INFORMATION", "PUNICODE_STRING CompleteName", XP),
    _struct("REG_POST_CREATE_KEY_INFORMATION REG_POST_OPEN_KEY_INFORMATION",
            "PUNICODE_STRING CompleteName, PVOID Object, NTSTATUS Status", XP),
]


def notify_class_names() -> list[str]:
    """Every enumerator name of REG_NOTIFY_CLASS, aliases included, in declaration order."""
    return [name for row in REG_NOTIFY_CLASS for name in row]


def struct_members() -> dict[str, list[str]]:
    """typedef name -> member names, for every typedef name of every struct."""
    return {name: [member for _, member in struct.members] for struct in STRUCTS for name in struct.names}


def pointer_names() -> list[str]:
    return [pointer for struct in STRUCTS for pointer in struct.pointers]


def spec_rename(text: str) -> str:
    """Our names as they stand beside mingw's: REG_*_INFORMATION -> SPEC_REG_*, RegNt* -> SpecRegNt*."""
    return re.sub(r"RegNt", "SpecRegNt", re.sub(r"REG_(?=[A-Z_]*(INFORMATION|NOTIFY_CLASS))", "SPEC_REG_", text))


def render() -> str:
    """The appendix as C declarations, written from the facts above with the original names."""
    enumerators = []
    for first, *aliases in REG_NOTIFY_CLASS:
        enumerators += [f"    {first},"] + [f"    {alias} = {first}," for alias in aliases]
    lines = ["typedef enum _REG_NOTIFY_CLASS {", *enumerators, "} REG_NOTIFY_CLASS;", ""]
    for struct in STRUCTS:
        lines += [f"/* {struct.releases} */", f"typedef struct {struct.tag} {{"]
        lines += [f"    {ctype} {name};" for ctype, name in struct.members]
        lines += [f"}} {', '.join([*struct.names, *('*' + p for p in struct.pointers)])};", ""]
    return "\n".join(lines)
