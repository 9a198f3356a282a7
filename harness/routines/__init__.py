"""The kernel routines the harness implements in Python, one function per routine, one module per subsystem.

This package owns ``ROUTINES``, the registry of those routines (``@routine(name)``): it maps a
routine's name to its Python end, and it is the list the shim's upcall table is generated
from (harness/shim/cmhook_upcalls.h, ``python -m harness.shim``), one member per entry.
Each routine has the prototype include/ntddk.h gives it and receives the active ``Kernel``
first, with two differences made for speed: a HANDLE arrives as an int, and the Zw registry
routines (``NATIVE_ROUTINES``, whose Python end is the native API, which takes addresses)
get every pointer as an int too; other routines get pointers as cdata. A LARGE_INTEGER
passed by value arrives as its QuadPart. The routines translate between the C calling side
(a driver) and ``registry_core``; they know nothing about loading modules.

The subsystems' modules (``cm``, ``zw``, ``rtl``, ``ob``, ``probe``, ``ps``, ``ketime``, ...) register their
routines when this package is imported; a new routine goes in its subsystem's module, a new
subsystem in a module of its own listed at the end of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ntddk_py import PROTOTYPES

ROUTINES: dict[str, Callable[..., object]] = {}
# The Zw registry routines, in the header's order: Zw*Key and ZwClose, each NtXxx of the native
# API called as a kernel-mode caller.
NATIVE_ROUTINES: tuple[str, ...] = tuple(name for name in PROTOTYPES
                                         if name == "ZwClose" or name.startswith("Zw") and name.endswith("Key"))
# The routines that raise on Windows: each one's Python end returns the NTSTATUS the routine raises
# (STATUS_SUCCESS: none), and its generated forwarder raises a failure in C, into the calling
# driver's __except, once the upcall has returned (harness/shim.py; longjmp never crosses Python).
RAISING_ROUTINES: frozenset[str] = frozenset({"ProbeForRead", "ProbeForWrite"})
# Routines the WDK declares in ntifs.h, not ntddk.h (so are they in cmhook's headers): the bindings
# (PROTOTYPES) do not know them; the shim's generation reads their prototypes from ntifs.h.
NTIFS_ROUTINES: frozenset[str] = frozenset({"PsLookupProcessByProcessId", "PsLookupThreadByThreadId",
                                            "SeLocateProcessImageName", "PsIsSystemThread",
                                            "ObOpenObjectByPointer"})


# Driver Verifier's DDI compliance IRQL rules (Microsoft's "IrqlZwPassive rule (wdm)" and "IrqlIoRtlZwPassive
# rule (wdm)" pages): the rule, its bug check 0xC4 code, the highest IRQL it allows, and the routines it covers.
# The generated forwarder of each such routine implemented in Python checks the caller's IRQL first.
@dataclass(frozen=True)
class IrqlRule:
    name: str
    code: int
    most: str  # PASSIVE_LEVEL, APC_LEVEL or DISPATCH_LEVEL


_ZW_PASSIVE = IrqlRule("IrqlZwPassive", 0x2001F, "PASSIVE_LEVEL")
_IO_RTL_ZW_PASSIVE = IrqlRule("IrqlIoRtlZwPassive", 0x20023, "PASSIVE_LEVEL")
IRQL_RULES: dict[str, IrqlRule] = {
    **{name: _ZW_PASSIVE for name in ("ZwClose", "ZwCreateKey", "ZwDeleteKey", "ZwEnumerateKey", "ZwEnumerateValueKey",
                                      "ZwFlushKey", "ZwOpenKey", "ZwQueryKey", "ZwQueryValueKey", "ZwSetValueKey")},
    "ZwDeleteValueKey": _IO_RTL_ZW_PASSIVE,
}


def routine(name: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register a function as the Python end of the kernel routine ``name`` of include/ntddk.h."""
    if name not in PROTOTYPES and name not in NTIFS_ROUTINES:
        raise ValueError(f"{name} is no routine include/ntddk.h declares (nor one of NTIFS_ROUTINES)")

    def register(function: Callable[..., object]) -> Callable[..., object]:
        if name in ROUTINES:
            raise ValueError(f"{name} is registered twice")
        ROUTINES[name] = function
        return function
    return register


def bugcheck(kernel, message: str) -> None:
    """What Windows would bug check on: a verifier finding naming the calling driver."""
    driver = kernel.calling_driver()
    kernel.finding("bugcheck", message, driver.name if driver is not None else None)


# The subsystems register their routines on import (after ``routine`` exists).
from . import cm, io, ke, ketime, mm, notify, ob, probe, processes, ps, rtl, zw  # noqa: E402,F401
