"""Every type, member, enum value and constant of include/ntddk.h is the same to
gcc, clang (each with and without -fshort-wchar), cffi, ctypes and the ntddk_py
attributes, and equal to Windows x64 as mingw-w64 and the specification give it.

The questions come from the header model; see ``probes`` for how each side answers.
"""

from __future__ import annotations

import pytest

from . import probes

COMPILERS = [("gcc", ()), ("gcc", ("-fshort-wchar",)), ("clang", ()), ("clang", ("-fshort-wchar",))]


def _mismatches(side: dict, reference: dict) -> list[str]:
    return [f"{key}: {side[key]} (Windows x64: {reference[key]})"
            for key in side if side[key] != reference[key]]


def _covers(side: dict, kinds: set[str]) -> list[tuple]:
    return [key for key in probes.questions() if key[0] in kinds and key not in side]


@pytest.mark.parametrize("cc,flags", COMPILERS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_linux_compiler_gives_windows_x64_layout_and_values(cc, flags):
    side = probes.linux(cc, flags)
    assert _covers(side, {"size", "align", "offset", "msize", "value"}) == []
    assert _mismatches(side, probes.windows()) == []


def test_cffi_gives_windows_x64_layout_and_enum_values():
    side = probes.cffi_side()
    assert _covers(side, {"size", "align", "offset", "msize"}) == []
    enumerators = {("value", name) for members in probes.model().enums.values() for name, _ in members}
    assert enumerators <= side.keys()
    assert _mismatches(side, probes.windows()) == []


def test_ctypes_gives_windows_x64_layout():
    side = probes.ctypes_side()
    assert _covers(side, {"size", "align", "offset", "msize"}) == []
    assert _mismatches(side, probes.windows()) == []


def test_ntddk_py_attributes_carry_windows_values():
    side = probes.python_values()
    assert _covers(side, {"value"}) == []
    assert _mismatches(side, probes.windows()) == []


def test_the_questions_cover_the_specification_and_what_it_refers_to():
    """The comparison above is only as good as its list: it must reach every spec type."""
    keys = set(probes.questions())
    for name in ["REG_SET_VALUE_KEY_INFORMATION", "REG_POST_OPERATION_INFORMATION",
                 "REG_PRE_CREATE_KEY_INFORMATION", "REG_POST_OPEN_KEY_INFORMATION", "KEY_VALUE_ENTRY",
                 "KEY_VALUE_FULL_INFORMATION", "OBJECT_ATTRIBUTES", "DRIVER_OBJECT", "PEX_CALLBACK_FUNCTION"]:
        assert ("size", name) in keys
    for name in ["RegNtPostOpenKeyEx", "STATUS_ACCESS_DENIED", "KEY_ALL_ACCESS", "REG_QWORD",
                 "REG_OPTION_OPEN_LINK", "REG_OPENED_EXISTING_KEY", "OBJ_OPENLINK", "GENERIC_ALL",
                 "KeyCachedInformation", "KeyValuePartialInformationAlign64", "KeyWriteTimeInformation"]:
        assert ("value", name) in keys


def test_the_questions_cover_the_wdk_header_set():
    """What wdm.h, sdkddkver.h and the base types add is compared too: the model reads the headers
    ntddk.h includes. (fltKernel.h's values, which mingw-w64 lacks, are pinned in test_header_set.)"""
    keys = set(probes.questions())
    for name in ["LIST_ENTRY", "PLIST_ENTRY", "SINGLE_LIST_ENTRY", "DWORD", "BOOL", "BYTE", "WORD", "INT", "UINT",
                 "DWORD_PTR", "INT_PTR", "LONG64", "PIRP", "PDEVICE_OBJECT", "PKDEFERRED_ROUTINE", "PKSTART_ROUTINE",
                 "PIO_WORKITEM_ROUTINE", "PCREATE_PROCESS_NOTIFY_ROUTINE", "PDRIVER_ADD_DEVICE"]:
        assert ("size", name) in keys, name
    for member in ["Flink", "Blink"]:
        assert ("offset", "LIST_ENTRY", member) in keys
    for name in ["NTDDI_VERSION", "NTDDI_WS03", "NTDDI_WINXP", "NTDDI_VISTA", "MAXULONG", "MAXLONGLONG", "PAGE_SIZE",
                 "IRP_MJ_CREATE", "IRP_MJ_PNP", "STATUS_ASSERTION_FAILURE", "ALLOC_PRAGMA"]:
        assert ("value", name) in keys, name
    # Incomplete types have no size to compare: only their pointers do.
    assert ("size", "IO_WORKITEM") not in keys
    # The I/O manager's objects are complete (wdm_io.h), members and all.
    for name in ["IRP", "IO_STACK_LOCATION", "DEVICE_OBJECT", "FILE_OBJECT", "MDL", "KDPC", "IO_STATUS_BLOCK"]:
        assert ("size", name) in keys, name
    assert ("offset", "IRP", "Tail") in keys and ("offset", "IO_STACK_LOCATION", "Parameters") in keys
    # The dispatcher objects a driver declares by value are compared member by member.
    for record, member in [("KDPC", "DeferredRoutine"), ("KTIMER", "Period"), ("DISPATCHER_HEADER", "SignalState")]:
        assert ("offset", record, member) in keys, record


# The issue's own figures, from Windows x64: each side must show them.
PINNED = {
    ("size", "REG_SET_VALUE_KEY_INFORMATION"): 40,
    ("offset", "REG_SET_VALUE_KEY_INFORMATION", "DataSize"): 32,
    ("size", "REG_QUERY_VALUE_KEY_INFORMATION"): 48,
    ("size", "KEY_VALUE_FULL_INFORMATION"): 24,
    ("value", "RegNtPostOpenKeyEx"): 29,
    # Microsoft's DRIVER_OBJECT: DriverUnload at 0x68, 0x150 bytes in all.
    ("offset", "DRIVER_OBJECT", "DriverUnload"): 0x68,
    ("size", "DRIVER_OBJECT"): 0x150,
    # Windows x64's lists: two pointers, one pointer.
    ("size", "LIST_ENTRY"): 16,
    ("offset", "LIST_ENTRY", "Blink"): 8,
    ("size", "SINGLE_LIST_ENTRY"): 8,
    # Windows x64's IRP (0xD0, Tail at 0x78) and IO_STACK_LOCATION (0x48, Parameters at 8), as
    # WinDbg's dt nt!_IRP and nt!_IO_STACK_LOCATION show them.
    ("size", "IRP"): 0xD0,
    ("offset", "IRP", "UserBuffer"): 0x70,
    ("offset", "IRP", "Tail"): 0x78,
    ("size", "IO_STACK_LOCATION"): 0x48,
    ("offset", "IO_STACK_LOCATION", "Parameters"): 8,
    ("offset", "IO_STACK_LOCATION", "FileObject"): 0x30,
}


@pytest.mark.parametrize("side", ["windows", "gcc", "clang -fshort-wchar", "cffi", "ctypes"])
def test_issue_figures(side):
    answers = {
        "windows": probes.windows, "cffi": probes.cffi_side, "ctypes": probes.ctypes_side,
        "gcc": lambda: probes.linux("gcc", ()),
        "clang -fshort-wchar": lambda: probes.linux("clang", ("-fshort-wchar",)),
    }[side]()
    for key, expected in PINNED.items():
        if key[0] == "value" and side == "ctypes":
            continue
        assert answers[key] == expected, key


def test_mingw_own_reg_notify_class_matches_the_specification_numbering():
    """mingw's later REG_NOTIFY_CLASS keeps the 30 spec values where the spec put them."""
    names = [name for name, _ in probes.model().enums["REG_NOTIFY_CLASS"]]
    ours = dict(probes.model().enums["REG_NOTIFY_CLASS"])
    assert probes.mingw_values(names) == [ours[name] for name in names]
