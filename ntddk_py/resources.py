"""Where the files cmhook ships beside its code are, in a clone and in an installed wheel alike.

They are package data, found through ``importlib.resources`` from the package that owns them:

- ``ntddk_py/include/``: ntddk.h, the header filters include, and the header set beside it
  (wdm.h, ntifs.h, ntstrsafe.h ...), with ``variants/``, the case spellings sources use
  (``include/`` in a clone is a relative symlink to it, so ``-I include`` keeps working there);
- ``harness/shim/``: the kernel shim's C source, its headers and the generated upcall files;
- ``harness/examples/``: the example filters and scenarios (``examples/`` in a clone is a
  symlink to it).

This module sits in the lowest package so that ``ntddk_py.header_model`` needs nothing above
it; the harness's locations are named by package, and ``harness`` is imported only when one
of them is asked for. Every answer is a real directory on disk, because the compilers read
these files by path: an install that leaves the packages zipped is refused with a message.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _directory(package: str, name: str) -> Path:
    location = files(package) / name
    if not isinstance(location, Path):
        raise RuntimeError(f"cmhook needs its package data as files on disk, but {package}/{name} is {location!r}: "
                           "install cmhook unzipped (pip install does)")
    return location.resolve()


def include_directory() -> Path:
    """The directory to pass as ``-I`` so that ``#include <ntddk.h>`` finds the header."""
    return _directory("ntddk_py", "include")


def variants_directory() -> Path:
    """The second ``-I`` directory: ``include/variants/``, one forwarder per spelling sources use
    for a header (``Ntifs.h``, ``NtStrSafe.h``, ...), each including the header itself."""
    return include_directory() / "variants"


def header() -> Path:
    """include/ntddk.h, the one source of truth for every type, value and prototype."""
    return include_directory() / "ntddk.h"


def shim_directory() -> Path:
    """The kernel shim's sources: kernel_shim.c, cmhook_shim.h and the generated upcall files."""
    return _directory("harness", "shim")


def examples_directory() -> Path:
    """The shipped examples: ``filters/*.c`` and ``scenarios/*``."""
    return _directory("harness", "examples")
