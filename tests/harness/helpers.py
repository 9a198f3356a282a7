"""What the harness tests share: the repository's files they drive, and ``cmhook``, the command line
run as a user runs it (a subprocess, output captured as text).

tests/harness has no ``__init__.py``, so its modules import this one as ``helpers``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILTERS = ROOT / "examples" / "filters"
SCENARIOS = ROOT / "examples" / "scenarios"
DRIVERS = ROOT / "tests" / "fixtures" / "drivers"


def cmhook(*args: object, module: str = "harness", cwd: Path | None = ROOT,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS...`` (or ``-m cmhook``) in cwd, the repository unless told."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
