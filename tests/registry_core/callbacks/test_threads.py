"""Many threads making registry calls while callbacks register and unregister: pre/post pairing
by thread id, nothing lost, no call after unregistration returns, crashes reported."""

from __future__ import annotations

import threading

import pytest

from ntddk_py import KEY_ALL_ACCESS, REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS
from ntddk_py import REG_NOTIFY_CLASS as N
from registry_core.callbacks import FilterCrash

from ..helpers import classes

SOFTWARE = "\\REGISTRY\\MACHINE\\SOFTWARE"
THREADS, WRITES = 6, 150


def test_concurrent_calls_while_callbacks_come_and_go(traced_registry, make_filter):
    steady = make_filter()
    status, steady_cookie = traced_registry.native.callbacks.register(steady.callback, 0)
    assert status == STATUS_SUCCESS
    failures: list[str] = []
    stop = threading.Event()
    churned: list[tuple[object, int]] = []

    def writer(n: int) -> None:
        status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\W{n}", KEY_ALL_ACCESS)
        for i in range(WRITES):
            status = traced_registry.set_value(handle, f"V{i}", REG_SZ, f"{n}:{i}".encode("utf-16-le"))
            if status != STATUS_SUCCESS:
                failures.append(f"thread {n} write {i}: {status}")
        traced_registry.close(handle)

    def churn() -> None:
        while not stop.is_set():
            flt = make_filter()
            status, cookie = traced_registry.native.callbacks.register(flt.callback, 0)
            assert status == STATUS_SUCCESS
            assert traced_registry.native.callbacks.unregister(cookie) == STATUS_SUCCESS
            churned.append((flt, len(flt.events())))  # nothing may be added after this point

    churner = threading.Thread(target=churn)
    churner.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    churner.join(60)
    assert failures == []
    # Nothing lost: every value is there with the data written.
    for n in range(THREADS):
        for i in range(WRITES):
            assert traced_registry.get_value(f"{SOFTWARE}\\W{n}", f"V{i}") == (REG_SZ, f"{n}:{i}".encode("utf-16-le"))
    # No callback ran after its unregistration returned.
    assert churned and all(len(flt.events()) == count for flt, count in churned)
    # The steady callback saw every operation, each pre followed by its own post on the same thread.
    by_thread: dict[int, list[int]] = {}
    for event in steady.events():
        by_thread.setdefault(event["thread_id"], []).append(event["class"])
    writes = [seq for seq in by_thread.values() if N.RegNtPreSetValueKey in seq]
    assert len(writes) == THREADS
    for sequence in writes:
        assert sequence.count(N.RegNtPreSetValueKey) == WRITES
        pairs = list(zip(sequence[::2], sequence[1::2], strict=True))
        assert all(traced_registry.native.profile.post_of(pre) == post for pre, post in pairs)
    assert traced_registry.native.callbacks.unregister(steady_cookie) == STATUS_SUCCESS


def test_a_python_callback_that_raises_is_reported_as_a_filter_crash(traced_registry):
    """A filter that crashes brings Windows down; the harness raises FilterCrash naming it,
    leaves the registry unchanged and keeps no reference behind."""
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Crash", KEY_ALL_ACCESS)

    def broken_filter(context, argument1, argument2):
        raise RuntimeError("bug in the filter")

    status, cookie = traced_registry.native.callbacks.register(broken_filter, 0)
    with pytest.raises(FilterCrash, match="broken_filter handling RegNtPreSetValueKey raised RuntimeError"):
        traced_registry.set_value(handle, "V", REG_SZ, b"x\0")
    assert traced_registry.native.store.walk(f"{SOFTWARE}\\Crash").find_value("V") is None
    assert traced_registry.native.handles.lookup(handle).obj.references == 1
    assert traced_registry.native.callbacks.crashes
    traced_registry.native.callbacks.unregister(cookie)
    assert traced_registry.set_value(handle, "V", REG_SZ, b"x\0") == STATUS_SUCCESS


def test_trace_records_each_notification_with_statuses(traced_registry, make_filter):
    flt = make_filter()
    flt.block(N.RegNtPreDeleteValueKey, 0xC0000022)  # spelled unsigned, as filters often do
    traced_registry.native.callbacks.register(flt.callback, 0)
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Traced", KEY_ALL_ACCESS)
    traced_registry.delete_value(handle, "V")
    trace = traced_registry.native.dispatcher.trace
    create, delete = trace.operations
    assert (create.api, create.key_path, create.status) == ("NtCreateKey", f"{SOFTWARE}\\Traced", STATUS_SUCCESS)
    assert [n.class_name for n in create.notifications] == ["RegNtPreCreateKeyEx", "RegNtPostCreateKeyEx"]
    assert delete.status == STATUS_ACCESS_DENIED
    (note,) = delete.notifications
    assert note.class_name == "RegNtPreDeleteValueKey" and note.blocked_by is not None
    assert [status for _, status in note.results] == [STATUS_ACCESS_DENIED]
    assert classes(flt.events()) == [N.RegNtPreCreateKeyEx, N.RegNtPostCreateKeyEx, N.RegNtPreDeleteValueKey]
