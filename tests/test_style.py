"""The code base stays ruff-clean (rules in pyproject.toml)."""

import shutil
import subprocess
import sys

from ntddk_py import header_model


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff") or f"{sys.executable} -m ruff"
    done = subprocess.run([*ruff.split(), "check", "."], cwd=header_model.REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
