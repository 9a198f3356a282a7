#!/usr/bin/env bash
# Installs everything cmhook and its tests need on a Debian machine, then stops.
# Debian packages: the C compilers the harness and the ABI tests drive (gcc,
# clang, and mingw-w64, whose headers are the independent Windows x64 reference),
# and python3-venv. Python packages go into ./.venv, with cmhook installed editable.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
[ -x .venv/bin/python ] || python3 -m ensurepip --version >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
