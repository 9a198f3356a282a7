"""Mm: MmGetSystemRoutineAddress, how a driver finds a kernel routine at run time (to call one that
older Windows versions lack)."""

from __future__ import annotations

import ctypes
from functools import cache

from ntddk_py import ffi

from .. import shim
from . import routine


@cache
def _library(path: str) -> ctypes.CDLL:
    return ctypes.CDLL(path)


@routine("MmGetSystemRoutineAddress")
def mm_get_system_routine_address(kernel, SystemRoutineName):
    """PVOID MmGetSystemRoutineAddress(PUNICODE_STRING): the address of the routine (or exported variable:
    PsProcessType ...) the kernel shim exports under that name, as dlsym finds it; NULL for any other
    name, as Windows gives for a name ntoskrnl and the HAL do not export. The shim's own hooks (Cmhook*)
    are no kernel exports."""
    if SystemRoutineName == ffi.NULL or SystemRoutineName.Buffer == ffi.NULL:
        return ffi.NULL
    raw = ffi.buffer(SystemRoutineName.Buffer, SystemRoutineName.Length)[:]
    name = raw.decode("utf-16-le", "replace")
    if name.startswith("Cmhook") or name not in shim.exported_symbols(kernel.shim_path):
        return ffi.NULL
    try:
        symbol = _library(str(kernel.shim_path))[name]
    except AttributeError:
        return ffi.NULL
    return ffi.cast("PVOID", ctypes.cast(symbol, ctypes.c_void_p).value or 0)
