"""Assertion helpers over the notification trace, for tests of filters."""

from __future__ import annotations

from registry_core.callbacks import OperationRecord, Trace


class TraceView:
    """Questions a filter test asks of the trace, with failure messages that show the trace."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def operations(self, api: str | None = None) -> list[OperationRecord]:
        return [op for op in self.trace.operations if api is None or op.api == api]

    def classes(self, api: str | None = None) -> list[str]:
        return [note.class_name for op in self.operations(api) for note in op.notifications]

    def last(self, api: str | None = None) -> OperationRecord:
        found = self.operations(api)
        assert found, f"no {api or 'registry'} call was traced"
        return found[-1]

    def describe(self) -> str:
        dropped = self.trace.dropped
        head = [f"({dropped:,} earlier calls not kept: the trace keeps the newest {self.trace.limit:,})"]
        head = head if dropped else []
        return "\n".join(head + [op.describe() for op in self.trace.operations])

    def assert_blocked(self, api: str, status: int, by: str | None = None) -> None:
        """The last call of api failed in its pre-notification with status (optionally: by that callback)."""
        op = self.last(api)
        pre = op.notifications[0] if op.notifications else None
        assert op.status == status and pre is not None and pre.blocked_by is not None, (
            f"expected {api} blocked with {status:#x}, trace:\n{self.describe()}")
        if by is not None:
            assert by in pre.blocked_by, f"blocked by {pre.blocked_by}, not {by}"
        assert len(op.notifications) == 1, f"a blocked call gets no post:\n{op.describe()}"

    def assert_classes(self, api: str, expected: list[str]) -> None:
        got = [note.class_name for note in self.last(api).notifications]
        assert got == expected, f"{api}: notifications {got}, expected {expected}\n{self.describe()}"
