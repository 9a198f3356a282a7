#!/usr/bin/env bash
# The wheel as a user gets it: build it with `pip wheel`, install it into a fresh venv in a
# temporary directory outside the checkout, and from an empty folder run `cmhook demo`,
# `cmhook build` on a copy of a shipped example filter, and a user's pytest file using the
# plugin's kernel, build_filter and trace fixtures. Needs what tools/bootstrap.sh installs
# (gcc, python3 with venv, ./.venv whose pip builds the wheel) and a package index for pip
# (the build backend, the dependencies, pytest).
# Exits non-zero at the first step that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout="$(pwd -P)"
builder="$checkout/.venv/bin/python"
[ -x "$builder" ] || { echo "wheel_check: no ./.venv: run 'bash tools/bootstrap.sh' first" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cmhook-wheel.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
case "$tmp/" in "$checkout"/*) echo "wheel_check: $tmp is inside the checkout" >&2; exit 1 ;; esac
step() { echo "wheel_check: $*" >&2; }

# Build from a copy of the working tree, so that a stale build/ or *.egg-info of the checkout
# cannot add or hide a file, and nothing is written into the checkout.
step "pip wheel ."
mkdir "$tmp/src" "$tmp/dist" "$tmp/empty"
tar --exclude=./.git --exclude=./.venv --exclude=./build --exclude='./*.egg-info' --exclude=./.hypothesis \
    --exclude=./.pytest_cache --exclude=./.ruff_cache -cf - . | tar -xf - -C "$tmp/src"
(cd "$tmp/src" && "$builder" -m pip wheel -q --disable-pip-version-check --no-deps -w "$tmp/dist" .)
wheel=("$tmp"/dist/cmhook-*.whl)

step "fresh venv, pip install ${wheel[0]##*/} pytest"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check "${wheel[0]}" "pytest>=8"

# From here on: an empty folder, no path into the checkout, a cache of its own (so that the
# kernel shim is built from the wheel's sources, not reused from the clone's builds).
cd "$tmp/empty"
unset PYTHONPATH
export CMHOOK_CACHE="$tmp/cache"
export PATH="$tmp/venv/bin:$PATH"

"$tmp/venv/bin/python" - "$checkout" <<'EOF'
import sys
from pathlib import Path

import harness, ntddk_py, registry_core
from ntddk_py import resources

checkout = Path(sys.argv[1])
for module in (harness, ntddk_py, registry_core):
    where = Path(module.__file__).resolve()
    assert checkout not in where.parents, f"{module.__name__} imported from the checkout: {where}"
for path in (resources.header(), resources.shim_directory() / "kernel_shim.c",
             resources.examples_directory() / "filters" / "run_blocker.c"):
    assert path.is_file() and not path.is_symlink(), f"missing from the wheel: {path}"
EOF

if [ -f "$checkout/cmhook/__main__.py" ]; then
  step "python -m cmhook --version"
  version="$("$tmp/venv/bin/python" -m cmhook --version)"
  [ "$version" = "cmhook $(basename "${wheel[0]}" | cut -d- -f2)" ] \
    || { echo "wheel_check: python -m cmhook --version says '$version'" >&2; exit 1; }
fi

step "cmhook demo"
cmhook demo >demo.out || { cat demo.out; echo "wheel_check: cmhook demo failed" >&2; exit 1; }
grep -q "blocked set of Updater" demo.out || { cat demo.out; echo "wheel_check: demo did not block" >&2; exit 1; }

step "cmhook build run_blocker.c"
"$tmp/venv/bin/python" -c 'import importlib.resources as r, shutil
shutil.copy(r.files("harness") / "examples" / "filters" / "run_blocker.c", ".")'
cmhook build run_blocker.c
test -s run_blocker.so

step "cmhook build a source that starts as real filters do: <Ntifs.h>, <NtStrSafe.h>"
cat >wdk_prelude.c <<'EOF'
#include <Ntifs.h>
#include <NtStrSafe.h>

DRIVER_INITIALIZE DriverEntry;

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    WCHAR Name[8];
    UNREFERENCED_PARAMETER(DriverObject);
    UNREFERENCED_PARAMETER(RegistryPath);
    return RtlStringCchCopyW(Name, ARRAYSIZE(Name), L"cmhook");
}
EOF
cmhook build wdk_prelude.c
test -s wdk_prelude.so

step "pytest with the cmhook plugin"
cat >test_user_filter.py <<'EOF'
from ntddk_py import KEY_ALL_ACCESS, REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS
from registry_core import caller

RUN = r"\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"


def test_blocks_persistence(kernel, build_filter, trace):
    kernel.load_driver(build_filter("run_blocker.c"))
    with caller.as_process(4242, r"\Device\HarddiskVolume1\Users\eve\evil.exe"):
        status, key = kernel.registry.open_key(RUN, KEY_ALL_ACCESS)
        assert status == STATUS_SUCCESS
        assert kernel.registry.set_value(key, "x", REG_SZ, b"x\0\0\0") == STATUS_ACCESS_DENIED
        kernel.registry.close(key)
    trace.assert_blocked("NtSetValueKey", STATUS_ACCESS_DENIED)
    assert any("blocked" in line for _, line in kernel.debug_output)
EOF
"$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider test_user_filter.py
step "the wheel works from an empty folder"
