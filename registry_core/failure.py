"""How a registry call ends early: raise Failure(status) anywhere below the system-call boundary.

The boundary (``native.NativeApi``'s pipeline) turns it into the call's NTSTATUS; nothing
above it ever sees the exception.
"""

from __future__ import annotations


class Failure(Exception):
    """Raised inside a call to end it with an NTSTATUS; the call returns that status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
