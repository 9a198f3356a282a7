#!/usr/bin/env bash
# Installs everything cmhook and its tests need on a Debian machine, then stops.
# Debian packages: the C compilers the harness and the ABI tests drive (gcc,
# clang, and mingw-w64, whose headers are the independent Windows x64 reference),
# and python3-venv (for ./.venv and the fresh venv of tools/wheel_check.sh). Python packages
# go into ./.venv, with cmhook installed editable; that install is redone only when
# pyproject.toml changed since the last one (code changes need none: it is editable).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "bootstrap: cmhook needs Python 3.11 or later; python3 is $(python3 --version 2>&1)" >&2; exit 1; }

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
# toolchain: clang's sanitizer and coverage runtimes (cmhook build --cc clang --sanitize/--coverage),
# and llvm-cov, which reads clang's coverage (gcc's come with gcc: libasan, libubsan, gcov).
{ command -v clang >/dev/null 2>&1 && [ -e "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.asan-x86_64.so" ]; } \
  || need+=(libclang-rt-dev)
command -v llvm-cov >/dev/null 2>&1 || need+=(llvm)
python3 -m ensurepip --version >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
here="$(pwd -P)"
stamp=.venv/.cmhook-installed
want="$here $(sha256sum pyproject.toml | cut -d' ' -f1)"
installed() {  # cmhook imports from this checkout, even when run from elsewhere
  (cd / && "$here/.venv/bin/python" -c 'import pathlib, sys, harness
sys.exit(pathlib.Path(harness.__file__).resolve().parent != pathlib.Path(sys.argv[1], "harness"))' "$here") >/dev/null 2>&1
}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! installed; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" >"$stamp"
fi
