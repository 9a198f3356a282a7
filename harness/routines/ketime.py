"""Ke time: interrupt time, the clock every other reading of ex_time.c derives from.

Interrupt time is 100 ns since the kernel booted, on the emulated clock (registry_core.clock, which
tests set and a script's `advance` moves): boot is the clock's reading when the Kernel was made.
A clock set earlier than that reads as the boot itself (0): interrupt time never goes negative.
"""

from __future__ import annotations

from . import routine


@routine("KeQueryInterruptTime")
def ke_query_interrupt_time(kernel) -> int:
    return max(0, kernel.native.store.clock.now() - kernel.boot_time)
