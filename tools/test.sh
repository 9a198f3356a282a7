#!/usr/bin/env bash
# Quick start, second command: install everything, then check types and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
# Types first (the packages' hints are checked, configured in pyproject.toml), then the suite.
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -n auto "$@"
