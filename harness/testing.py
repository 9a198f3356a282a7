"""Assertion helpers over the notification trace, for tests of filters."""

from __future__ import annotations

from registry_core.callbacks import OperationRecord, Trace, operation_record


class TraceView:
    """Questions a filter test asks of the trace, with failure messages that show the trace."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def operations(self, api: str | None = None) -> list[OperationRecord]:
        """The traced calls, oldest first; only those of api (e.g. "NtSetValueKey") if given."""
        return [op for op in self.trace.operations if api is None or op.api == api]

    def classes(self, api: str | None = None) -> list[str]:
        """Every notification class the calls (of api) raised, in order: what a filter was shown."""
        return [note.class_name for op in self.operations(api) for note in op.notifications]

    def last(self, api: str | None = None) -> OperationRecord:
        """The newest call (of api); an assertion error, not an IndexError, when there is none."""
        found = self.operations(api)
        assert found, f"no {api or 'registry'} call was traced"
        return found[-1]

    def describe(self, last: int | None = None) -> str:
        """The trace as text, one call and its notifications at a time; only the newest ``last`` calls
        if given (a failure report shows the end of a long test, not a million lines)."""
        raw = self.trace.raw()
        dropped = self.trace.dropped
        head = [f"({dropped:,} earlier calls not kept: the trace keeps the newest {self.trace.limit:,})"]
        head = head if dropped else []
        if last is not None and len(raw) > last:
            head.append(f"({len(raw) - last:,} earlier calls not shown)")
            raw = raw[len(raw) - last:]
        return "\n".join(head + [operation_record(record).describe() for record in raw])

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
        """The last call of api raised exactly these notification classes, in this order."""
        got = [note.class_name for note in self.last(api).notifications]
        assert got == expected, f"{api}: notifications {got}, expected {expected}\n{self.describe()}"
