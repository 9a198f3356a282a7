"""cmhook: Windows registry filters, built with gcc or clang, run against an emulated registry.

This package is the command line's own name: ``python -m cmhook`` is the ``cmhook`` command.
The work is done by ``ntddk_py`` (the header's bindings), ``registry_core`` (the emulated
registry and its callbacks) and ``harness`` (the kernel shim, the loader, the command line
and the pytest plugin).
"""

from __future__ import annotations

from harness.cli import main, version

__version__ = version()

__all__ = ["__version__", "main", "version"]
