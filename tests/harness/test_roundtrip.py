"""Export -> import -> export gives the same bytes for every name and value Windows allows: what a
.reg line cannot hold is escaped (``\\uXXXX`` in quotes, a quoted ``["..."]`` key line, ``hex(1):`` for
such strings), nothing at a line's end is dropped, and REGEDIT4 refuses, by name, what ANSI cannot hold."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntddk_py import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    nt_success,
)
from registry_core import regfile
from registry_core.registry import Registry, encode_data

V5, V4 = regfile.HEADER_5, regfile.HEADER_4
BASE = "\\REGISTRY\\MACHINE\\SOFTWARE\\Round"


def round_trip(reg: Registry, version: str = V5) -> bytes:
    """The export of BASE, after checking that importing it elsewhere exports the same bytes."""
    first = regfile.export(reg, "HKLM\\SOFTWARE\\Round", version)
    again = Registry()
    assert regfile.apply(again, regfile.parse(first, "first.reg")) == []
    assert regfile.export(again, "HKLM\\SOFTWARE\\Round", version) == first
    return first


def text_of(raw: bytes, version: str) -> str:
    return raw[2:].decode("utf-16-le", "surrogatepass") if version == V5 else regfile.ansi_decode(raw)


@pytest.mark.parametrize("version", [V5, V4])
def test_line_breaks_in_names_and_strings(version):
    reg = Registry()
    reg.put(f"{BASE}\\two\r\nlines", "a\nb", REG_SZ, "one\r\ntwo")
    reg.put(f"{BASE}\\cr\ronly", "@", REG_SZ, "x\ry")
    text = text_of(round_trip(reg, version), version)
    assert '["HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Round\\\\two\\u000d\\u000alines"]' in text.split("\r\n")
    assert '"a\\u000ab"=hex(1):6f,00,6e,00,65,00,0d,00,0a,00,74,00,77,00,6f,00,00,00' in text.split("\r\n")
    assert '"@"=hex(1):78,00,0d,00,79,00,00,00' in text.split("\r\n")


@pytest.mark.parametrize("version", [V5, V4])
def test_a_trailing_space_in_a_key_name_is_kept(version):
    reg = Registry()
    reg.put(f"{BASE}\\ends in a space ", "v", REG_DWORD, 1)
    reg.put(f"{BASE}\\ends in a space", "w", REG_DWORD, 2)
    text = text_of(round_trip(reg, version), version)
    assert "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Round\\ends in a space ]" in text.split("\r\n")
    parsed = regfile.parse(f"{V5}\n[HKLM\\SOFTWARE\\Round\\x \t]\n")
    assert parsed.keys[0].path == f"{BASE}\\x \t"


@pytest.mark.parametrize("character", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_characters_python_splits_lines_at_are_ordinary_in_names(character):
    """str.splitlines() ends a line at each of these; a .reg line ends only at CR and LF."""
    reg = Registry()
    reg.put(f"{BASE}\\a{character}b", f"n{character}", REG_SZ, f"s{character}")
    round_trip(reg, V5)


def test_regedit4_escapes_names_ansi_lacks_and_writes_such_strings_as_bytes():
    reg = Registry()
    reg.put(f"{BASE}\\\u65e5\u672c", "\u540d", REG_SZ, "\u8a9e")
    reg.put(f"{BASE}\\caf\u00e9", "caf\u00e9", REG_SZ, "caf\u00e9")  # ANSI has these: written as they are
    text = text_of(round_trip(reg, V4), V4)
    lines = text.split("\r\n")
    assert '["HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Round\\\\\\u65e5\\u672c"]' in lines
    assert '"\\u540d"=hex(1):9e,8a,00,00' in lines
    assert "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Round\\caf\u00e9]" in lines and '"caf\u00e9"="caf\u00e9"' in lines


def test_regedit4_reads_every_byte_and_a_file_that_happens_to_be_utf8_as_ansi():
    """0x81 (unassigned in cp1252) is U+0081; "\u00c3\u00a9" in ANSI is the bytes C3 A9, valid UTF-8 for
    "\u00e9": a REGEDIT4 file without a byte-order mark is ANSI, as regedit reads it."""
    reg = Registry()
    reg.put(f"{BASE}\\c1\x81", "\u00c3\u00a9", REG_SZ, "\x8d\x90")
    raw = round_trip(reg, V4)
    assert b"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Round\\c1\x81]" in raw and b'"\xc3\xa9"="\x8d\x90"' in raw


@pytest.mark.parametrize("type_", [REG_EXPAND_SZ, REG_MULTI_SZ])
def test_regedit4_refuses_an_expand_or_multi_string_ansi_cannot_hold_naming_it(type_):
    reg = Registry()
    reg.put(f"{BASE}\\Sub", "Japanese", type_, "\u65e5\0\0".encode("utf-16-le"))
    with pytest.raises(regfile.RegFileError, match=r"^HKEY_LOCAL_MACHINE\\SOFTWARE\\Round\\Sub: the REG_\w+ "
                                                   r"value 'Japanese' holds text ANSI cannot.*version 5\.00"):
        regfile.export(reg, "HKLM\\SOFTWARE\\Round", V4)
    round_trip(reg, V5)


def test_an_odd_length_expand_string_is_refused_by_regedit4_and_kept_by_version_5():
    reg = Registry()
    reg.put(f"{BASE}", "Odd", REG_EXPAND_SZ, b"a\0b")
    with pytest.raises(regfile.RegFileError, match=r"'Odd' is an odd number of bytes"):
        regfile.export(reg, "HKLM\\SOFTWARE\\Round", V4)
    round_trip(reg, V5)


def test_escapes_read_back_as_units_and_a_pair_as_one_character():
    parsed = regfile.parse(f'{V5}\n["HKLM\\\\SOFTWARE\\\\a\\u000ab"]\n"\\ud83d\\ude00\\u0041"="\\u00e9"\n')
    key = parsed.keys[0]
    assert key.path == f"{regfile.ROOTS['HKLM']}\\SOFTWARE\\a\nb"
    assert (key.values[0].name, key.values[0].data) == ("\U0001f600A", "\u00e9\0".encode("utf-16-le"))
    with pytest.raises(regfile.RegFileError, match=r"unknown escape \\u"):
        regfile.parse(f'{V5}\n[HKLM\\SOFTWARE\\X]\n"C:\\users"="x"\n')
    deletion = regfile.parse(f'{V5}\n[-"HKLM\\\\SOFTWARE\\\\a\\u000ab"]\n').keys[0]
    assert deletion.delete and deletion.path == key.path


# --- hypothesis: whatever the registry accepts, the round trip keeps ---------------------------

CHARACTERS = st.one_of(st.characters(blacklist_characters="\\"), st.sampled_from(
    ["\r", "\n", "\r\n", " ", "\t", '"', "]", "[", "=", "@", ";", "-", "\0", "\x81", "\u2028", "\ud800", "\udfff",
     "\U0001f600", "\u00e9", "\uffff"]))
KEY_NAMES = st.lists(CHARACTERS, min_size=1, max_size=12).map("".join)
VALUE_NAMES = st.one_of(st.just(""), st.lists(CHARACTERS, max_size=12).map("".join))
TEXT = st.lists(CHARACTERS, max_size=12).map("".join)
DATA = st.one_of(
    st.tuples(st.just(REG_SZ), TEXT.map(lambda text: encode_data(REG_SZ, text))),
    st.tuples(st.sampled_from([REG_EXPAND_SZ, REG_MULTI_SZ]), TEXT.map(lambda text: encode_data(REG_SZ, text))),
    st.tuples(st.sampled_from([REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_BINARY, REG_DWORD, REG_QWORD, 0, 0xFFFF0001,
                               0xFFFFFFFF]), st.binary(max_size=24)),
)
VALUES = st.lists(st.tuples(VALUE_NAMES, DATA), max_size=4)
TREES = st.lists(st.tuples(st.lists(KEY_NAMES, min_size=1, max_size=3), VALUES), max_size=5)


def build(tree) -> Registry:
    """The registry holding what it accepted of the tree: each key (made with its parents) and values."""
    reg = Registry()
    reg.put(BASE)
    for names, values in tree:
        path = BASE + "".join(f"\\{name}" for name in names)
        try:
            handle = reg.create_path(path)
        except Exception:  # a name the registry refuses (RegistryError): not a name Windows allows
            continue
        for name, (type_, data) in values:
            reg.set_value(handle, name, type_, data)  # a refused one is simply not there
        assert nt_success(reg.close(handle))
    return reg


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_hypothesis_version_5_export_import_export_is_byte_identical(tree):
    round_trip(build(tree), V5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_hypothesis_regedit4_round_trips_or_refuses_by_name(tree):
    reg = build(tree)
    try:
        round_trip(reg, V4)
    except regfile.RegFileError as error:
        assert "REGEDIT4" in str(error) and ": the REG_" in str(error)
