#!/usr/bin/env bash
# Quick start, first command: install everything, then run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
exec .venv/bin/cmhook demo "$@"
