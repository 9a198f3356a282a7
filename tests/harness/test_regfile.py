""".reg files, hand-written in every syntax regedit reads, and malformed ones refused whole."""

from __future__ import annotations

import pytest

from ntddk_py import REG_BINARY, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_QWORD, REG_SZ
from registry_core import regfile
from registry_core.registry import Registry

V5 = "Windows Registry Editor Version 5.00"


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


EVERY_SYNTAX = r"""Windows Registry Editor Version 5.00

; comments and blank lines are ignored
[HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\App]
@="the default"
"Path"="C:\\Program Files\\App"
"Quote"="say \"hi\""
"Empty"=""
"Count"=dword:0000001f
"Small"=dword:7
"Blob"=hex:de,ad,\
  be,ef
"Expand"=hex(2):25,00,50,00,41,00,54,00,48,00,25,00,00,00
"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00
"Quad"=hex(b):01,00,00,00,00,00,00,00
"None"=hex(0):
"Custom"=hex(ffff0001):01

[HKLM\SOFTWARE\Vendor\Short]
"Via"="HKLM"

[HKEY_USERS\.DEFAULT\Software\Vendor]
"User"=dword:00000001

[HKEY_CURRENT_USER\Software\Vendor]
"Current"=dword:00000002

[HKEY_CLASSES_ROOT\.vendor]
@="Vendor.File"
"""


def test_every_value_syntax_of_version_5():
    parsed = regfile.parse(EVERY_SYNTAX, "every.reg")
    app = {v.name: (v.type, v.data) for v in parsed.keys[0].values}
    assert parsed.keys[0].path == "\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\App"
    assert app[""] == (REG_SZ, utf16("the default\0"))
    assert app["Path"] == (REG_SZ, utf16("C:\\Program Files\\App\0"))
    assert app["Quote"] == (REG_SZ, utf16('say "hi"\0'))
    assert app["Empty"] == (REG_SZ, utf16("\0"))
    assert app["Count"] == (REG_DWORD, (0x1F).to_bytes(4, "little"))
    assert app["Small"] == (REG_DWORD, (7).to_bytes(4, "little"))
    assert app["Blob"] == (REG_BINARY, bytes.fromhex("deadbeef"))
    assert app["Expand"] == (REG_EXPAND_SZ, utf16("%PATH%\0"))
    assert app["Multi"] == (REG_MULTI_SZ, utf16("a\0b\0\0"))
    assert app["Quad"] == (REG_QWORD, (1).to_bytes(8, "little"))
    assert app["None"] == (0, b"")
    assert app["Custom"] == (0xFFFF0001, b"\x01")
    assert [k.path for k in parsed.keys[1:]] == [
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\Short", "\\REGISTRY\\USER\\.DEFAULT\\Software\\Vendor",
        "\\REGISTRY\\USER\\.DEFAULT\\Software\\Vendor", "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\.vendor"]


@pytest.mark.parametrize("encoding", ["utf-16-bom", "utf-8", "utf-8-bom"])
def test_version_5_in_each_encoding(encoding):
    text = EVERY_SYNTAX.replace("\n", "\r\n")
    raw = {"utf-16-bom": b"\xff\xfe" + text.encode("utf-16-le"), "utf-8": text.encode("utf-8"),
           "utf-8-bom": b"\xef\xbb\xbf" + text.encode("utf-8")}[encoding]
    assert regfile.parse(raw).keys == regfile.parse(EVERY_SYNTAX).keys


def test_regedit4_is_ansi_and_its_expand_and_multi_strings_too():
    raw = ("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Old]\r\n\"Name\"=\"caf\xe9\"\r\n"
           "\"Expand\"=hex(2):25,50,41,54,48,25,00\r\n\"Multi\"=hex(7):61,00,62,00,00\r\n").encode("cp1252")
    values = {v.name: (v.type, v.data) for v in regfile.parse(raw).keys[0].values}
    assert values["Name"] == (REG_SZ, utf16("café\0"))
    assert values["Expand"] == (REG_EXPAND_SZ, utf16("%PATH%\0"))
    assert values["Multi"] == (REG_MULTI_SZ, utf16("a\0b\0\0"))


def test_deletions_of_keys_and_values_are_applied():
    reg = Registry()
    regfile.apply(reg, regfile.parse(f"{V5}\n[HKLM\\SOFTWARE\\Gone\\Deep\\Deeper]\n\"v\"=dword:1\n"
                                     f"[HKLM\\SOFTWARE\\Kept]\n\"a\"=dword:1\n\"b\"=dword:2\n"))
    failures = regfile.apply(reg, regfile.parse(f"{V5}\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone]\n"
                                                f"[HKLM\\SOFTWARE\\Kept]\n\"a\"=-\n\"never\"=-\n"))
    assert failures == []
    assert not reg.exists("\\REGISTRY\\MACHINE\\SOFTWARE\\Gone")
    assert reg.get_value("\\REGISTRY\\MACHINE\\SOFTWARE\\Kept", "a") is None
    assert reg.get_value("\\REGISTRY\\MACHINE\\SOFTWARE\\Kept", "b") == (REG_DWORD, (2).to_bytes(4, "little"))



def test_a_value_over_thousands_of_continuation_lines_parses_to_its_exact_bytes():
    """Issue: continuation lines were joined by growing one string (quadratic; 16 s for 1 MiB of hex).
    4,000 lines of 16 bytes each, indented and with trailing blanks as editors leave them, in UTF-16
    with CRLF as regedit writes: every byte back, in order, and the value's line number kept."""
    data = bytes((index * 7 + index // 251) % 256 for index in range(4000 * 16))
    rows = [",".join(f"{byte:02x}" for byte in data[start:start + 16]) for start in range(0, len(data), 16)]
    lines = ['"Huge"=hex:' + rows[0] + ",\\"]
    lines += [(" " * (index % 5)) + row + ("," if index < len(rows) - 1 else "") + ("\\ \t" if index % 3 == 0
              else "\\") for index, row in enumerate(rows[1:], 1)]
    lines[-1] = lines[-1].rstrip(" \t\\")  # the last line ends the value
    text = "\r\n".join([V5, "", "[HKLM\\SOFTWARE\\Big]", '"Before"=dword:1', *lines, '"After"=dword:2', ""])
    parsed = regfile.parse(b"\xff\xfe" + text.encode("utf-16-le"), "big.reg")
    values = {v.name: v for v in parsed.keys[0].values}
    assert values["Huge"].type == REG_BINARY and values["Huge"].data == data
    assert (values["Before"].line, values["Huge"].line, values["After"].line) == (4, 5, 5 + len(rows))
    assert values["After"].data == (2).to_bytes(4, "little")


def test_a_blank_line_ends_a_continued_value():
    """As before the linear join: a blank line after "de,\\" adds nothing and does not end with a backslash,
    so the value ends there and the next line is a value of its own."""
    text = f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=hex:de,\\\n   \n\"b\"=hex:ad,\\\n  be,\\\n  ef\n"
    values = {v.name: (v.data, v.line) for v in regfile.parse(text).keys[0].values}
    assert values == {"a": (b"\xde", 3), "b": (bytes.fromhex("adbeef"), 5)}


MALFORMED = [
    ("no header", "[HKLM\\SOFTWARE\\X]\n", 1, "not a .reg file"),
    ("wrong header", "Windows Registry Editor Version 4.00\n", 1, "not a .reg file"),
    ("value before key", f"{V5}\n\"a\"=dword:1\n", 2, "a value before any [key]"),
    ("unknown root", f"{V5}\n[HKEY_NOWHERE\\X]\n", 2, "unknown root"),
    ("key without ]", f"{V5}\n[HKLM\\SOFTWARE\\X\n", 2, "must end with ]"),
    ("missing =", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\" dword:1\n", 3, "expected = after the value name"),
    ("bad escape", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=\"C:\\temp\"\n", 3, "unknown escape"),
    ("unterminated string", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=\"open\n", 3, "unterminated string"),
    ("bad dword", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=dword:123456789\n", 3, "one to eight hex digits"),
    ("bad hex", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=hex:0g,12\n", 3, "two-digit bytes"),
    ("unknown data", f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=qword:1\n", 3, "cannot read value data"),
    ("value under deleted key", f"{V5}\n[-HKLM\\SOFTWARE\\X]\n\"a\"=dword:1\n", 3, "under a key being deleted"),
]


@pytest.mark.parametrize("text,line,reason", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_files_are_refused_with_file_line_and_reason(tmp_path, text, line, reason):
    path = tmp_path / "bad.reg"
    path.write_text(text)
    with pytest.raises(regfile.RegFileError) as caught:
        regfile.load(path)
    assert str(caught.value).startswith(f"{path}:{line}: ") and reason in str(caught.value)


def test_a_malformed_file_applies_nothing(tmp_path):
    """Parsing comes first; an error on the last line means no key of the file was made."""
    reg = Registry()
    path = tmp_path / "half.reg"
    path.write_text(f"{V5}\n[HKLM\\SOFTWARE\\First]\n\"a\"=dword:1\n[HKLM\\SOFTWARE\\Second]\n\"b\"=hex:zz\n")
    with pytest.raises(regfile.RegFileError, match=":5: "):
        regfile.apply(reg, regfile.load(path))
    assert not reg.exists("\\REGISTRY\\MACHINE\\SOFTWARE\\First")


@pytest.mark.parametrize("version", [regfile.HEADER_5, regfile.HEADER_4])
def test_export_import_export_is_identical(version):
    reg = Registry()
    regfile.apply(reg, regfile.parse(EVERY_SYNTAX))
    reg.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor\\App\\Long", "Big", REG_BINARY, bytes(range(256)) * 2)
    first = regfile.export(reg, "HKLM\\SOFTWARE\\Vendor", version)
    again = Registry()
    assert regfile.apply(again, regfile.parse(first)) == []
    assert regfile.export(again, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor", version) == first


def test_export_writes_what_regedit_writes():
    reg = Registry()
    reg.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor", "Name", REG_SZ, "a \"b\" c:\\d")
    reg.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor", "Count", REG_DWORD, 0x1F)
    reg.put("\\REGISTRY\\MACHINE\\SOFTWARE\\Vendor", "Blob", REG_BINARY, bytes(40))
    raw = regfile.export(reg, "HKLM\\SOFTWARE\\Vendor")
    assert raw.startswith(b"\xff\xfe")
    lines = raw[2:].decode("utf-16-le").split("\r\n")
    assert lines[:5] == [V5, "", "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]", '"Name"="a \\"b\\" c:\\\\d"',
                         '"Count"=dword:0000001f']
    blob = [line for line in lines if line.startswith('"Blob"') or line.startswith("  ")]
    assert blob[0].endswith("\\") and all(len(line) <= 80 for line in blob)
    assert len(blob) == 2
