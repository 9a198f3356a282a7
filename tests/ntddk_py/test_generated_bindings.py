"""The committed bindings are exactly what the generator makes from the header now."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ntddk_py
from ntddk_py import generate, header_model


def test_committed_bindings_equal_a_fresh_generation():
    assert generate.stale_files(generate.render_all()) == [], "run: python -m ntddk_py.generate"


def test_generation_is_reproducible():
    assert generate.render_all() == generate.render_all()


def test_bindings_record_the_header_they_came_from():
    assert ntddk_py.HEADER_SHA256 == header_model.digest()


def test_the_header_is_ntddk_h_and_what_it_includes_beside_it():
    names = [path.name for path in header_model.headers()]
    assert names[0] == "ntddk.h"
    assert {"wdm.h", "sdkddkver.h", "driverspecs.h", "specstrings.h", "sal.h"} <= set(names)
    # Headers that include ntddk.h, or stand alone, are not part of what the bindings read.
    assert not {"ntifs.h", "fltKernel.h", "ntstrsafe.h", "ntintsafe.h"} & set(names)


def test_the_digest_covers_every_included_header(tmp_path):
    (tmp_path / "inner.h").write_text("#define INNER 1\n")
    (tmp_path / "outer.h").write_text('#include "inner.h"\ntypedef int LONG;\n')
    before = header_model.digest(tmp_path / "outer.h")
    assert [p.name for p in header_model.headers(tmp_path / "outer.h")] == ["outer.h", "inner.h"]
    assert "INNER" in dict(header_model.macro_definitions(tmp_path / "outer.h"))
    (tmp_path / "inner.h").write_text("#define INNER 2\n")
    assert header_model.digest(tmp_path / "outer.h") != before
    assert header_model.load(tmp_path / "outer.h").constants["INNER"].value == 2


def test_check_mode_reports_a_stale_file(tmp_path):
    rendered = generate.render_all()
    for name, text in rendered.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert generate.stale_files(rendered, tmp_path) == []
    (tmp_path / "constants.py").write_text(rendered["constants.py"].replace("STATUS_SUCCESS = 0", "STATUS_SUCCESS = 1"))
    assert generate.stale_files(rendered, tmp_path) == ["constants.py"]


def test_check_command_exits_zero_on_a_fresh_tree():
    done = subprocess.run([sys.executable, "-m", "ntddk_py.generate", "--check"], capture_output=True, text=True,
                          cwd=header_model.REPO)
    assert done.returncode == 0, done.stderr


def _model_of(tmp_path, text: str) -> header_model.HeaderModel:
    header = tmp_path / "h.h"
    header.write_text(text)
    return header_model.load(header)


def test_macro_values_come_from_the_compiler_with_their_c_type(tmp_path):
    model = _model_of(tmp_path, "typedef int LONG;\ntypedef LONG NTSTATUS;\n"
                                "#define S ((NTSTATUS)0xC0000022)\n#define U 0x80000000u\n"
                                "#define SHIFTED (1u << 4 | U)\n#define EMPTY\n#define FN(x) (x)\n"
                                "#define PTR ((void *)0)\n")
    assert {name: (c.value, c.signed, c.size) for name, c in model.constants.items()} == {
        "S": (-0x3FFFFFDE, True, 4), "U": (0x80000000, False, 4), "SHIFTED": (0x80000010, False, 4)}


def test_enum_values_come_from_the_compiler(tmp_path):
    model = _model_of(tmp_path, "typedef enum _E { A, B = 5, C, D = A } E;\n")
    assert model.enums["E"] == [("A", 0), ("B", 5), ("C", 6), ("D", 0)]


def test_generator_refuses_plain_long(tmp_path):
    """long is 64 bits on Linux and 32 on Windows: a header using it cannot be bound."""
    model = _model_of(tmp_path, "typedef long BAD;\n")
    with pytest.raises(ValueError, match="no fixed Windows x64 width"):
        generate.render_ctypes(model)
