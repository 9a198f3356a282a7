"""A filter built for Windows Vista or later (NTDDI_VERSION) sees the REG_* structs of that era:
each WDK name has the layout mingw-w64's wdm.h gives it (the Vista form), the same layout as the
engine's CMHOOK_VISTA_ twin; a filter built for Server 2003 keeps the specification's form."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from ntddk_py import ffi

from ...compiling import compile_c
from . import probes

TWIN = probes.VISTA_TWIN
TWINS = [name for name in probes.model().records if name.startswith(TWIN)]


def _layout(cc: str, define: str, names: list[str], members: bool = True) -> dict[tuple, int]:
    """(size, T) and (offset, T, member) for each WDK name, as a filter built with ``define`` sees them."""
    keys: list[tuple] = []
    for twin in names:
        wdk = twin[len(TWIN):]
        keys.append(("size", wdk))
        if members:
            keys += [("offset", wdk, field.name) for field in probes.model().records[twin].fields]
    lines = ["#include <ntddk.h>", "#include <stdio.h>", "int main(void) {"]
    for key in keys:
        expression = f"sizeof({key[1]})" if key[0] == "size" else f"__builtin_offsetof({key[1]}, {key[2]})"
        lines.append(f'  printf("%lld\\n", (long long){expression});')
    lines += ["  return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "probe.c", Path(tmp) / "probe"
        src.write_text("\n".join(lines) + "\n")
        done = compile_c(cc, [src], exe, define, shared=False)
        assert done.returncode == 0, done.stderr[-3000:]
        values = [int(v) for v in probes._run([str(exe)]).split()]
    return dict(zip(keys, values, strict=True))


def test_every_struct_vista_changed_has_a_twin():
    """The eleven per-call structs, the create/open struct and the post struct."""
    assert len(TWINS) == 13
    assert "CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION" in TWINS


@pytest.mark.parametrize("cc", ["gcc", "clang"])
@pytest.mark.parametrize("target", ["NTDDI_VISTA", "NTDDI_WIN7", "NTDDI_WIN10"])
def test_a_vista_build_sees_mingw_wdm_layout(cc, target):
    """mingw-w64's wdm.h (the Windows side of the probes) is the reference for the Vista form."""
    seen = _layout(cc, f"-DNTDDI_VERSION={target}", TWINS)
    windows = probes.windows()
    for key, value in seen.items():
        twin_key = (key[0], TWIN + key[1], *key[2:])
        assert value == windows[twin_key], key


def test_a_server_2003_build_keeps_the_specification_form():
    seen = _layout("gcc", "-DNTDDI_VERSION=NTDDI_WS03", ["CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION"],
                   members=False)
    assert seen[("size", "REG_POST_OPERATION_INFORMATION")] == ffi.sizeof("REG_POST_OPERATION_INFORMATION") == 16


def test_the_pinned_vista_figures():
    """Microsoft's REG_POST_OPERATION_INFORMATION (Vista): 56 bytes on x64, ReturnStatus at 24;
    REG_CREATE_KEY_INFORMATION_V1's Version where Vista's Reserved is, at 104."""
    assert ffi.sizeof("CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION") == 56
    assert ffi.offsetof("CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION", "ReturnStatus") == 24
    assert ffi.offsetof("REG_CREATE_KEY_INFORMATION_V1", "Version") == 104
    assert ffi.offsetof("CMHOOK_VISTA_REG_CREATE_KEY_INFORMATION", "Reserved") == 104
