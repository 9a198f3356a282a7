"""Every bad input is a clear error naming file and line (or the name at fault), never a Python
traceback, and nothing of it is half-applied: .reg files and scripts that break their encoding, names
no UNICODE_STRING holds, key trees deeper than Python's recursion limit, output into a missing folder.
Hypothesis feeds the parsers whatever it likes: only their own errors may come out."""

from __future__ import annotations

import sys

import pytest
from helpers import FILTERS, cmhook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import script
from ntddk_py import KEY_ALL_ACCESS, REG_DWORD, REG_SZ, STATUS_NAME_TOO_LONG, STATUS_SUCCESS
from registry_core import regfile
from registry_core.registry import MAX_UNICODE_STRING_CHARS, Registry

V5 = regfile.HEADER_5
SOFTWARE = "\\REGISTRY\\MACHINE\\SOFTWARE"
DEMO = FILTERS / "run_blocker.c"


def utf16_file(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


# --- .reg files that break their own encoding --------------------------------------------------

def test_odd_length_utf16_names_file_and_line():
    raw = utf16_file(f"{V5}\r\n\r\n[HKLM\\SOFTWARE\\X]\r\n") + b"\x41"
    with pytest.raises(regfile.RegFileError, match=r"^cut\.reg:4: UTF-16 text with an odd number of bytes"):
        regfile.parse(raw, "cut.reg")


def test_a_lone_surrogate_in_utf16_is_a_name_windows_allows_and_is_kept():
    """Names are UTF-16 units: a lone surrogate is legal on Windows and regedit writes it as it is."""
    raw = utf16_file(f'{V5}\r\n\r\n[HKLM\\SOFTWARE\\Half\ud800]\r\n"v\udc01"="\ud83d"\r\n')
    parsed = regfile.parse(raw, "lone.reg")
    assert parsed.keys[0].path == f"{SOFTWARE}\\Half\ud800"
    value = parsed.keys[0].values[0]
    assert (value.name, value.data) == ("v\udc01", "\ud83d\0".encode("utf-16-le", "surrogatepass"))


def test_invalid_utf8_after_a_bom_names_file_line_and_byte():
    raw = b"\xef\xbb\xbf" + f"{V5}\n\n[HKLM\\SOFTWARE\\X]\n\"a\"=\"".encode() + b"\xc3\x28\"\n"
    with pytest.raises(regfile.RegFileError, match=r"^bad\.reg:4: not UTF-8 after the UTF-8 byte-order mark: "
                                                   r"byte 0xc3 at byte 6 of the line"):
        regfile.parse(raw, "bad.reg")


def test_utf16_big_endian_is_refused_by_name():
    with pytest.raises(regfile.RegFileError, match=r"^be\.reg:1: UTF-16 big-endian"):
        regfile.parse(b"\xfe\xff" + V5.encode("utf-16-be"), "be.reg")


def test_a_bad_reg_file_on_the_command_line_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "bad.reg"
    bad.write_bytes(b"\xef\xbb\xbf" + f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"=\"\xff\"\n".encode("latin-1"))
    done = cmhook("export", "HKLM\\SOFTWARE\\X", "--registry", bad)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == f"cmhook export: {bad}:3: not UTF-8 after the UTF-8 byte-order mark: byte 0xff at " \
                          "byte 6 of the line\n"


# --- scripts that are not UTF-8 ---------------------------------------------------------------

def test_a_script_that_is_not_utf8_names_file_line_and_byte(tmp_path):
    path = tmp_path / "latin.script"
    path.write_bytes(b"# caf\xc3\xa9 is fine\ncreate HKLM\\SOFTWARE\\caf\xe9\n")
    with pytest.raises(script.ScriptError, match=rf"^{path}:2: not UTF-8: byte 0xe9 at byte 25 of the line"):
        script.load(path)


def test_a_utf16_script_with_its_bom_is_read(tmp_path):
    path = tmp_path / "notepad.script"
    path.write_bytes(utf16_file("create HKLM\\SOFTWARE\\Caf\u00e9\r\nexpect key HKLM\\SOFTWARE\\Caf\u00e9\r\n"))
    steps = script.load(path)
    assert [step.line for step in steps] == [1, 2] and steps[0].args["key"].path == f"{SOFTWARE}\\Caf\u00e9"


def test_script_lines_end_only_at_cr_and_lf():
    """str.splitlines also splits at \\x0b, \\x1c, U+2028 ...: line numbers would not be the editor's."""
    with pytest.raises(script.ScriptError, match=r"^x\.script:2: unknown command 'bogus'"):
        script.parse('create "HKLM\\SOFTWARE\\a\u2028b\x0bc"\nbogus\n', "x.script")
    (step,) = script.parse('create "HKLM\\SOFTWARE\\a\u2028b\x0bc"\n', "x.script")
    assert step.args["key"].path == f"{SOFTWARE}\\a\u2028b\x0bc"


def test_a_script_that_is_not_utf8_fails_the_run_with_one_line(tmp_path):
    path = tmp_path / "latin.script"
    path.write_bytes(b"create HKLM\\SOFTWARE\\caf\xe9\n")
    done = cmhook("run", DEMO, "--script", path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cmhook run: {path}:1: not UTF-8: byte 0xe9 at byte 25 of the line" in done.stderr


# --- names longer than a UNICODE_STRING holds ----------------------------------------------------

TOO_LONG = "n" * (MAX_UNICODE_STRING_CHARS + 1)


@pytest.mark.parametrize("line, what", [
    (f'"{TOO_LONG}"=dword:1', "the value name"),
    (f'"{TOO_LONG}"=-', "the value name"),
])
def test_a_reg_value_name_over_32767_characters_is_refused_at_its_line(line, what):
    with pytest.raises(regfile.RegFileError, match=rf"^long\.reg:3: {what} 'nnnnnnnnnnnnnnnnnnnn\.\.\.' is "
                                                   rf"32768 characters long; a name holds at most 32767"):
        regfile.parse(f"{V5}\n[HKLM\\SOFTWARE\\X]\n{line}\n", "long.reg")


def test_a_reg_key_name_over_32767_characters_is_refused_at_its_line():
    with pytest.raises(regfile.RegFileError, match=r"^long\.reg:2: the key name 'n{20}\.\.\.' is 32768 "):
        regfile.parse(f"{V5}\n[HKLM\\SOFTWARE\\{TOO_LONG}]\n", "long.reg")


@pytest.mark.parametrize("text, what", [
    (f'set HKLM\\SOFTWARE "{TOO_LONG}"=dword:1', "the value name"),
    (f'query HKLM\\SOFTWARE "{TOO_LONG}"', "the value name"),
    (f"create HKLM\\SOFTWARE\\{TOO_LONG}", "the key path"),
    (f"open HKLM\\{'a' * 32760}", "the key path"),
    (f"create HKLM\\SOFTWARE\\x class=\"{TOO_LONG}\"", "the class"),
    (f"rename HKLM\\SOFTWARE\\x {TOO_LONG}", "the new name"),
    (f"as 4242 \\Device\\{TOO_LONG}", "the image name"),
])
def test_a_script_name_over_32767_characters_is_refused_at_its_line(text, what):
    with pytest.raises(script.ScriptError, match=rf"^s\.script:2: {what} '[^']+\.\.\.' is \d+ characters long"):
        script.parse(f"# first\n{text}\n", "s.script")


def test_the_registry_api_returns_name_too_long_instead_of_raising():
    """RtlInitUnicodeStringEx's answer for such a string (cmhook's decision): statuses are returned."""
    reg = Registry()
    status, handle = reg.open_key(SOFTWARE, KEY_ALL_ACCESS)
    assert reg.set_value(handle, TOO_LONG, REG_DWORD, bytes(4)) == STATUS_NAME_TOO_LONG
    assert reg.delete_value(handle, TOO_LONG) == STATUS_NAME_TOO_LONG
    assert reg.query_value(handle, TOO_LONG).status == STATUS_NAME_TOO_LONG
    assert reg.rename_key(handle, TOO_LONG) == STATUS_NAME_TOO_LONG
    assert reg.create_key(TOO_LONG, root=handle).status == STATUS_NAME_TOO_LONG
    assert reg.open_key(TOO_LONG, root=handle).status == STATUS_NAME_TOO_LONG
    assert reg.query_multiple_values(handle, [TOO_LONG], 64).status == STATUS_NAME_TOO_LONG
    assert reg.close(handle) == STATUS_SUCCESS


# --- trees deeper than Python's recursion limit, paths longer than a UNICODE_STRING ---------------

def _deep(reg: Registry, depth: int, name: str = "k") -> str:
    """A chain of depth keys below SOFTWARE\\Deep, each made relative to the one above; its path."""
    handle = reg.create_path(f"{SOFTWARE}\\Deep")
    for _ in range(depth):
        status, child, _ = reg.create_key(name, root=handle)
        assert status == STATUS_SUCCESS
        reg.close(handle)
        handle = child
    assert reg.set_value(handle, "leaf", REG_DWORD, bytes(4)) == STATUS_SUCCESS
    reg.close(handle)
    return f"{SOFTWARE}\\Deep" + f"\\{name}" * depth


def test_a_tree_deeper_than_the_recursion_limit_exports_imports_and_deletes():
    depth = sys.getrecursionlimit() + 200
    reg = Registry()
    leaf = _deep(reg, depth)
    assert len(reg.tree(f"{SOFTWARE}\\Deep")["subkeys"]) == 1
    exported = regfile.export(reg, "HKLM\\SOFTWARE\\Deep")
    again = Registry()
    assert regfile.apply(again, regfile.parse(exported)) == []
    assert again.get_value(leaf, "leaf") == (REG_DWORD, bytes(4))
    assert regfile.export(again, "HKLM\\SOFTWARE\\Deep") == exported
    assert regfile.apply(again, regfile.parse(f"{V5}\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Deep]\n")) == []
    assert not again.exists(f"{SOFTWARE}\\Deep") and again.exists(SOFTWARE)


def test_a_path_longer_than_a_unicode_string_exports_imports_and_deletes():
    """140 levels of 250 characters: 35,000 characters, more than one NtCreateKey or NtOpenKey can
    name, so import and [-key] go level by level relative to the key above."""
    reg = Registry()
    leaf = _deep(reg, 140, "x" * 250)
    assert len(leaf) > MAX_UNICODE_STRING_CHARS
    exported = regfile.export(reg, "HKLM\\SOFTWARE\\Deep")
    again = Registry()
    assert regfile.apply(again, regfile.parse(exported)) == []
    assert again.exists(leaf) and again.get_value(leaf, "leaf") == (REG_DWORD, bytes(4))
    assert regfile.export(again, "HKLM\\SOFTWARE\\Deep") == exported
    parent = leaf.rsplit("\\", 1)[0]
    deletion = f"{V5}\n[-{regfile.regedit_path(leaf)}]\n"
    assert regfile.apply(again, regfile.parse(deletion)) == []
    assert not again.exists(leaf) and again.exists(parent)


def test_deleting_a_tree_deletes_a_link_in_it_not_what_it_points_to():
    reg = Registry()
    reg.put(f"{SOFTWARE}\\Target", "keep", REG_SZ, "me")
    reg.put(f"{SOFTWARE}\\Tree")
    status, handle, _ = reg.create_key(f"{SOFTWARE}\\Tree\\Link", options=2)  # REG_OPTION_CREATE_LINK
    assert status == STATUS_SUCCESS
    target = f"{SOFTWARE}\\Target".encode("utf-16-le")
    assert reg.set_value(handle, "SymbolicLinkValue", 6, target) == STATUS_SUCCESS  # REG_LINK
    reg.close(handle)
    assert regfile.delete_tree(reg, f"{SOFTWARE}\\Tree") == STATUS_SUCCESS
    assert not reg.exists(f"{SOFTWARE}\\Tree")
    assert reg.get_value(f"{SOFTWARE}\\Target", "keep") == (REG_SZ, "me\0".encode("utf-16-le"))


# --- output into a folder that is not there -------------------------------------------------------

@pytest.mark.parametrize("option", ["--trace", "-o"])
def test_output_into_a_missing_folder_is_refused_before_anything_is_built_or_run(tmp_path, option):
    nowhere = tmp_path / "missing-folder" / "out.file"
    never_built = tmp_path / "never_built.c"  # does not exist: building it would be the first error
    extra = ["--export", "HKLM\\SOFTWARE"] if option == "-o" else []
    done = cmhook("run", never_built, *extra, option, nowhere)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"cmhook run: {option} {nowhere}: No such file or directory\n"


def test_trace_into_a_folder_is_refused(tmp_path):
    done = cmhook("run", tmp_path / "never_built.c", "--trace", tmp_path)
    assert (done.returncode, done.stderr) == (1, f"cmhook run: --trace {tmp_path}: Is a directory\n")


# --- small things the parsers used to let through or trip over --------------------------------

@pytest.mark.parametrize("data", ["hex:+1", "hex:0x1", "hex:_1", "hex:1_"])
def test_hex_data_is_two_digit_bytes_and_nothing_else(data):
    with pytest.raises(regfile.RegFileError, match=r"^h\.reg:3: hex data must be two-digit bytes"):
        regfile.parse(f"{V5}\n[HKLM\\SOFTWARE\\X]\n\"a\"={data}\n", "h.reg")


@pytest.mark.parametrize("text, message", [
    ("as \u00b2 \\x.exe", "as PID IMAGE"),  # a superscript two is a digit to str.isdigit, not to int()
    ("as 99999999999 \\x.exe", "process id 99999999999 does not fit a DWORD"),
    ("create HKLM\\SOFTWARE\\x access=0777", None),
    ("create HKLM\\SOFTWARE\\x access=KEY_INFORMATION_CLASS", "unknown access right"),
    ("create HKLM\\SOFTWARE\\x access=0x100000000", "does not fit an ACCESS_MASK"),
    ("advance 30000d", None),
    ("advance 4000000d", "at most 10,000 years"),
    ("import \"a\x00b.reg\"", "not a file name"),
])
def test_script_arguments_are_checked_not_tripped_over(text, message):
    if message is None:
        assert script.parse(f"create HKLM\\SOFTWARE\\x\n{text}\n", "s.script")
        return
    with pytest.raises(script.ScriptError, match=rf"s\.script:2: .*{message}"):
        script.parse(f"create HKLM\\SOFTWARE\\x\n{text}\n", "s.script")


def test_advances_adding_up_past_a_filetime_are_refused():
    with pytest.raises(script.ScriptError, match=r"^s\.script:3: the script's advances add up to more than "):
        script.parse("create HKLM\\SOFTWARE\\x\nadvance 3000000d\nadvance 1000000d\n", "s.script")


def test_a_quoted_class_keeps_its_quotes_escaped():
    (step,) = script.parse('create HKLM\\SOFTWARE\\x class="say \\"hi\\""\n')
    assert step.args["class"] == 'say "hi"'


# --- hypothesis: only the parsers' own errors come out ------------------------------------------

REG_LINES = st.sampled_from([
    V5, regfile.HEADER_4, "", "; comment", "[HKLM\\SOFTWARE\\X]", "[-HKLM\\SOFTWARE\\X]", "[\"HKLM\\\\A\\u000aB\"]",
    "@=\"x\"", "\"a\"=dword:1", "\"a\"=hex:01,\\", "  02,03", "\"b\"=hex(7):61,00,00,00", "\"c\"=-", "[HKLM",
    "\"\\u12\"=\"x\"", "\"a\"=\"\\u0041\"", "[", "]", "\"", "\\", "=", "@", "hex(", "dword:", "[-\"x\"]",
])
REG_TEXT = st.lists(st.one_of(REG_LINES, st.text(max_size=40)), max_size=12).map("\r\n".join)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(st.binary(max_size=300),
                 REG_TEXT.map(lambda text: b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")),
                 REG_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
                 REG_TEXT.map(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")),
                 st.tuples(REG_TEXT, st.binary(max_size=3)).map(
                     lambda pair: b"\xff\xfe" + pair[0].encode("utf-16-le", "surrogatepass") + pair[1])))
def test_hypothesis_reg_files_never_raise_out_of_the_parser(raw):
    try:
        regfile.parse(raw, "h.reg")
    except regfile.RegFileError as error:
        assert str(error).startswith("h.reg:")


@SETTINGS
@given(REG_TEXT)
def test_hypothesis_reg_text_never_raises_out_of_the_parser(text):
    try:
        regfile.parse(text, "h.reg")
    except regfile.RegFileError as error:
        assert str(error).startswith("h.reg:")


SCRIPT_WORDS = st.sampled_from([
    "create", "open", "set", "query", "enumkeys", "enumvalues", "deletevalue", "deletekey", "rename", "flush",
    "close", "as", "advance", "expect", "HKLM\\SOFTWARE\\X", "\"HKLM\\SOFTWARE\\My App\"", "x", "x\\Sub", "as x",
    "access=KEY_READ", "access=0x1|KEY_WRITE", "access=07", "volatile", "link", "openlink", "class=\"c\"",
    "\"name\"=dword:1", "@=\"v\"", "\"n\"", "@", "4242", "\\Device\\x.exe", "5s", "1.5h", "0.01ns", "STATUS_SUCCESS",
    "STATUS_ACESS_DENIED", "0xC0000022", "value", "novalue", "key", "nokey", "\"", "\\", "=", "#", "\u00b2", "\x00",
])
SCRIPT_LINE = st.lists(st.one_of(SCRIPT_WORDS, st.text(max_size=12)), max_size=6).map(" ".join)
SCRIPT_TEXT = st.lists(st.one_of(SCRIPT_LINE, st.text(max_size=40)), max_size=8).map("\n".join)


@SETTINGS
@given(SCRIPT_TEXT)
def test_hypothesis_scripts_never_raise_out_of_the_parser(text):
    try:
        script.parse(text, "h.script")
    except script.ScriptError as error:
        assert str(error).startswith("h.script:")


@SETTINGS
@given(st.one_of(st.binary(max_size=200), SCRIPT_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass"))))
def test_hypothesis_script_files_never_raise_out_of_the_loader(tmp_path_factory, raw):
    path = tmp_path_factory.getbasetemp() / "h.script"
    path.write_bytes(raw)
    try:
        script.load(path)
    except script.ScriptError as error:
        assert str(error).startswith(str(path))
