"""Rtl routines that need the harness (RtlAssert: its text and its verifier finding); the rest are C."""

from __future__ import annotations

from ntddk_py import ffi

from . import routine


@routine("RtlAssert")
def rtl_assert(kernel, VoidFailedAssertion, VoidFileName, LineNumber, MutableMessage) -> None:
    """VOID RtlAssert(PVOID FailedAssertion, PVOID FileName, ULONG LineNumber, PSTR Message): what a
    failed ASSERT calls in a checked build. Windows prints the text below and breaks into the kernel
    debugger; here the text is the driver's debug output, the assertion is a verifier finding, and
    the driver goes on, as it does when the debugger is told to ignore it."""
    def text(pointer) -> str:
        return ffi.string(ffi.cast("char *", pointer)).decode("utf-8", "replace") if pointer else ""

    expression, file, message = text(VoidFailedAssertion), text(VoidFileName), text(MutableMessage)
    shown = f"\n*** Assertion failed: {message}{expression}\n***   Source File: {file}, line {LineNumber}\n\n"
    driver = kernel.calling_driver()
    kernel.dbg_output(driver.base if driver is not None else 0, 0, 0, ffi.new("char[]", shown.encode()))
    kernel.finding("assertion-failed", f"{message}{expression} is false at {file}:{LineNumber}",
                   driver.name if driver is not None else None)
