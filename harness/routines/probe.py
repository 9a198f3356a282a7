"""ProbeForRead and ProbeForWrite: they raise, so their Python ends return the status to raise."""

from __future__ import annotations

from registry_core.native import address

from . import routine


def _probe(kernel, Address, Length, Alignment) -> int:
    """What ProbeForRead and ProbeForWrite raise, as Windows checks it whatever the previous mode: nothing
    for a zero Length; STATUS_DATATYPE_MISALIGNMENT for an Address not a multiple of Alignment; then
    STATUS_ACCESS_VIOLATION unless the whole range lies in the emulated user address space (where the
    Python API builds a user-mode caller's buffers; Windows compares with MmUserProbeAddress), so a
    driver's own or a kernel-mode caller's buffer fails, as a kernel address does on Windows. The
    range is checked now: a caller's block freed after the native layer's probe fails here."""
    return kernel.native.memory.probe(address(Address), Length, max(Alignment, 1))


@routine("ProbeForRead")
def probe_for_read(kernel, Address, Length, Alignment) -> int:
    """VOID ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment): see _probe."""
    return _probe(kernel, Address, Length, Alignment)


@routine("ProbeForWrite")
def probe_for_write(kernel, Address, Length, Alignment) -> int:
    """VOID ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment): see _probe (the emulated
    user memory is all writable)."""
    return _probe(kernel, Address, Length, Alignment)
