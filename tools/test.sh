#!/usr/bin/env bash
# Quick start, second command: install everything, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
exec .venv/bin/python -m pytest -n auto "$@"
