"""`cmhook abi`: the layout table, as a user runs it."""

from __future__ import annotations

import json

from helpers import cmhook


def test_abi_prints_the_spec_structs_with_windows_offsets():
    done = cmhook("abi")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "REG_SET_VALUE_KEY_INFORMATION  (size 40, struct, align 8)" in lines
    datasize = [line.split() for line in lines if line.split()[2:3] == ["DataSize"]]
    assert datasize == [["32", "4", "DataSize", "ULONG"]]
    assert "REG_QUERY_VALUE_KEY_INFORMATION  (size 48, struct, align 8)" in lines
    assert any(line.split() == ["29", "RegNtPostOpenKeyEx"] for line in lines)


def test_abi_json_for_one_type():
    done = cmhook("abi", "--json", "KEY_VALUE_FULL_INFORMATION")
    rows = json.loads(done.stdout)
    assert rows[0] == {"type": "KEY_VALUE_FULL_INFORMATION", "member": None, "offset": 0, "size": 24,
                       "ctype": "struct, align 4"}
    assert [(r["member"], r["offset"]) for r in rows[1:]] == [
        ("TitleIndex", 0), ("Type", 4), ("DataOffset", 8), ("DataLength", 12), ("NameLength", 16), ("Name", 20)]


def test_abi_unknown_type_is_a_clear_error():
    done = cmhook("abi", "NOT_A_TYPE")
    assert done.returncode == 2
    assert "NOT_A_TYPE is not a struct or union of include/ntddk.h" in done.stderr
    assert done.stdout == ""
