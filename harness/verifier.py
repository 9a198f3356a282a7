"""Driver Verifier's options: their names, what each checks, which are on unless chosen otherwise,
and the reading of a ``--verifier`` choice.

The options are bits of the shim's ``CmhookVerifierOptions`` (cmhook_shim.h's
CMHOOK_VERIFIER_OPTION, the one source of their values); a Kernel sets the word before any
driver loads, and each check, in C or in Python, tests its bit. This module knows no check's
workings: each check lives beside the routines it watches, and registers its option here with
``option(...)`` so the command line, the pytest plugin and the docs list it.

The standard set is on in the pytest plugin's ``kernel`` fixture and in ``cmhook run`` unless
chosen otherwise: checks that cost little and change no behaviour a correct filter sees. The
others (low-resources simulation fails allocations on purpose; the unprobed-buffer check faults
on a filter's every touch of a user buffer) are picked by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import shim

_BITS = shim.shim_ffi().typeof("CMHOOK_VERIFIER_OPTION").relements


@dataclass(frozen=True)
class Option:
    """One verifier option: its command-line name, its bit, and what it checks (for --help)."""

    name: str
    bit: int
    checks: str
    standard: bool


OPTIONS: dict[str, Option] = {}


def option(name: str, member: str, checks: str, *, standard: bool) -> Option:
    """Register a verifier option named ``name`` (as ``--verifier`` spells it) for the
    CMHOOK_VERIFIER_OPTION member ``member``."""
    if name in OPTIONS:
        raise ValueError(f"verifier option {name!r} is registered twice")
    made = OPTIONS[name] = Option(name, _BITS[member], checks, standard)
    return made


option("special-pool", "CmhookVerifySpecialPool", "driver allocations and the structs, names and data handed to "
       "callbacks end at a page boundary with a guard page after them; freed blocks stay unmapped for a while",
       standard=True)
option("irql", "CmhookVerifyIrql", "routines called above the IRQL Windows allows them; a callback, DriverEntry or "
       "DriverUnload returning at a raised IRQL or holding a spin lock or a fast mutex", standard=True)
option("pool-tracking", "CmhookVerifyPoolTracking", "every allocation's site (function, file:line) for the leaks "
       "at unload, and the per-tag totals in the summary", standard=True)
option("handles", "CmhookVerifyHandles", "kernel handles left open at unload, kernel handles used from user mode, "
       "handles used in another process than their own", standard=True)
option("deadlocks", "CmhookVerifyDeadlocks", "lock-order inversions between a driver's locks and recursive "
       "acquires of locks that are not recursive", standard=True)
option("low-resources", "CmhookVerifyLowResources", "fail a seeded fraction of pool allocations and of routines "
       "that can fail with STATUS_INSUFFICIENT_RESOURCES (low-resources=PERCENT[:SEED], default 5%:0)",
       standard=False)
option("user-buffers", "CmhookVerifyUserBuffers", "touching a user-mode caller's buffer outside a probe and a "
       "__try", standard=False)


class VerifierChoiceError(ValueError):
    """A --verifier choice names no option, or gives a value to an option that takes none."""


@dataclass(frozen=True)
class Verifier:
    """The options a machine runs with, and the values some take (``low-resources=10%:7``)."""

    enabled: frozenset[str] = field(default_factory=lambda: standard())
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def mask(self) -> int:
        """The CmhookVerifierOptions word."""
        bits = 0
        for name in self.enabled:
            bits |= OPTIONS[name].bit
        return bits

    def __contains__(self, name: str) -> bool:
        if name not in OPTIONS:
            raise KeyError(f"no verifier option {name!r}: the options are {', '.join(OPTIONS)}")
        return name in self.enabled

    def __str__(self) -> str:
        if not self.enabled:
            return "none"
        return ",".join(f"{name}={self.values[name]}" if name in self.values else name
                        for name in OPTIONS if name in self.enabled)


def standard() -> frozenset[str]:
    """The standard set: the options marked so."""
    return frozenset(name for name, each in OPTIONS.items() if each.standard)


STANDARD = standard()
ALL = frozenset(OPTIONS)
_SETS = {"standard": STANDARD, "all": ALL, "none": frozenset()}
TAKES_VALUE = frozenset({"low-resources"})


def parse(choice: str | Iterable[str] | Verifier | None) -> Verifier:
    """A ``--verifier`` choice: comma-separated option names, the sets ``standard``, ``all`` and
    ``none``, and ``-NAME`` to take one away (``standard,-special-pool,low-resources=10%``).
    Read left to right; None is the standard set."""
    if isinstance(choice, Verifier):
        return choice
    if choice is None:
        return Verifier()
    words = choice.split(",") if isinstance(choice, str) else list(choice)
    enabled: set[str] = set()
    values: dict[str, str] = {}
    for word in (w.strip() for w in words):
        if not word:
            continue
        removing = word.startswith("-")
        name, has_value, value = word.lstrip("-").partition("=")
        if name in _SETS and not has_value:
            enabled = enabled - _SETS[name] if removing else enabled | _SETS[name]
            continue
        if name not in OPTIONS:
            raise VerifierChoiceError(f"verifier option {name!r} does not exist: use {', '.join(OPTIONS)}, or "
                                      f"the sets {', '.join(_SETS)}")
        if has_value and (removing or name not in TAKES_VALUE):
            raise VerifierChoiceError(f"verifier option {word!r}: {name} takes no value"
                                      if name not in TAKES_VALUE else f"verifier option {word!r}: a value "
                                      "goes with an option turned on, not off")
        if removing:
            enabled.discard(name)
            values.pop(name, None)
        else:
            enabled.add(name)
            if has_value:
                values[name] = value
    return Verifier(frozenset(enabled), values)


def summary() -> str:
    """The options' names, the standard ones marked, as a line of --help."""
    return ", ".join(f"{name}{'*' if each.standard else ''}" for name, each in OPTIONS.items()) + " (*: standard)"


def describe() -> str:
    """The options as --help lists them."""
    return "\n".join(f"  {each.name}{' (standard)' if each.standard else ''}: {each.checks}"
                     for each in OPTIONS.values())
