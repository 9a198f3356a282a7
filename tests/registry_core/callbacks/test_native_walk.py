"""The callback walk done by the kernel shim (CmhookWalkCallbacks): taken exactly when every
registered callback is a C function, with the same results as the walk in Python.

The spec and decision tests already run against it (the ``c-walked-in-c`` filters); these pin
when it is used and the cases only a walk over several callbacks at once can get wrong."""

from __future__ import annotations

import threading

import pytest

from ntddk_py import REG_NOTIFY_CLASS as N
from ntddk_py import REG_SZ, STATUS_ACCESS_DENIED, STATUS_SUCCESS

from ..helpers import classes, make_key, register
from .filters import CFilter, PythonFilter

DATA = "x\0".encode("utf-16-le")


@pytest.fixture
def walked_in_c(traced_registry, native_walker):
    traced_registry.native.callbacks.native_walker = native_walker
    return traced_registry


def c_filter(filter_library) -> CFilter:
    return CFilter(*filter_library)


def test_only_c_callbacks_give_a_snapshot_the_shim_can_walk(walked_in_c, filter_library):
    """A Python callable among them sends the walk back to Python: the shim cannot call it safely
    and report its exception."""
    registry = walked_in_c
    first = c_filter(filter_library)
    register(registry, first)
    assert registry.native.callbacks.snapshot.native is not None
    cookie = register(registry, PythonFilter())
    assert registry.native.callbacks.snapshot.native is None
    assert registry.native.callbacks.unregister(cookie) == STATUS_SUCCESS
    assert registry.native.callbacks.snapshot.native is not None


def test_a_blocking_pre_stops_the_c_walk_and_the_trace_names_the_blocker(walked_in_c, filter_library):
    """Decision 4 over three C callbacks: the first gets the pre, the second blocks it, the third
    is never called; nobody gets a post; the trace shows the two statuses and the blocker."""
    registry = walked_in_c
    handle = make_key(registry, "CWalk")
    filters = [c_filter(filter_library) for _ in range(3)]
    for flt in filters:
        register(registry, flt)
    filters[1].block(N.RegNtPreSetValueKey, STATUS_ACCESS_DENIED)
    registry.native.dispatcher.trace.clear()
    assert registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    assert classes(filters[0].events())[-1:] == [N.RegNtPreSetValueKey]
    assert classes(filters[1].events())[-1:] == [N.RegNtPreSetValueKey]
    assert N.RegNtPreSetValueKey not in classes(filters[2].events())
    (operation,) = registry.native.dispatcher.trace.operations
    (pre,) = operation.notifications
    assert [status for _, status in pre.results] == [STATUS_SUCCESS, STATUS_ACCESS_DENIED]
    assert pre.blocked_by == pre.results[1][0]
    assert registry.get_value("\\REGISTRY\\MACHINE\\SOFTWARE\\CWalk", "V") is None


def test_a_callback_may_unregister_another_one_in_the_same_walk(walked_in_c, filter_library):
    """Unregistering a callback that is not running (here: later in the same walk, on the same
    thread) returns at once, and the walk then skips it, as Windows' own walk does."""
    registry = walked_in_c
    handle = make_key(registry, "CWalkOther")
    first, second = c_filter(filter_library), c_filter(filter_library)
    register(registry, first)
    second_cookie = register(registry, second)
    statuses = []
    first.nest(N.RegNtPreSetValueKey, lambda: statuses.append(registry.native.callbacks.unregister(second_cookie)))
    assert registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert statuses == [STATUS_SUCCESS]
    assert second.events() == []


def test_each_shim_s_walk_reports_from_its_own_result_arrays(walked_in_c, filter_library):
    """Two shims in one process (built by gcc and by clang) keep their results in arrays of their
    own; a thread that walked with one and then walks with the other reads the other's."""
    from harness import shim

    reg = walked_in_c
    gcc_walker = reg.native.callbacks.native_walker
    clang_walker = shim.load_callback_walker("clang")
    assert clang_walker[2]() != gcc_walker[2]()  # two libraries, two sets of arrays
    handle = make_key(reg, "TwoShims")
    flt = c_filter(filter_library)
    register(reg, flt)
    # The same thread walks with gcc's shim (the callback lets the call through), then with
    # clang's (it blocks): the second status must come from clang's arrays, not gcc's.
    for walker, status in ((gcc_walker, STATUS_SUCCESS), (clang_walker, STATUS_ACCESS_DENIED)):
        flt.block(N.RegNtPreSetValueKey, status)
        reg.native.callbacks.native_walker = walker
        reg.native.dispatcher.trace.clear()
        assert reg.set_value(handle, "V", REG_SZ, DATA) == status
        (operation,) = reg.native.dispatcher.trace.operations
        assert [result for _, result in operation.notifications[0].results] == [status]


def test_a_c_callback_beside_a_python_one_is_called_by_the_shim(walked_in_c, filter_library, native_walker):
    """A Python callable among them walks the table in Python; each C callback is still called by the
    shim (a walk of one), as driver code the machine record watches: its status comes back through
    the shim's result array, and its block stops the walk as before."""
    registry = walked_in_c
    handle = make_key(registry, "Beside")
    flt = c_filter(filter_library)
    register(registry, PythonFilter())
    register(registry, flt)
    assert registry.native.callbacks.snapshot.native is None
    flt.block(N.RegNtPreSetValueKey, STATUS_ACCESS_DENIED)
    statuses = native_walker[2]()  # this thread's, in the session's shim
    statuses[0] = STATUS_SUCCESS
    registry.native.dispatcher.trace.clear()
    assert registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    assert statuses[0] == STATUS_ACCESS_DENIED  # the shim called it, and its status came from there
    (operation,) = registry.native.dispatcher.trace.operations
    (pre,) = operation.notifications
    assert [status for _, status in pre.results] == [STATUS_SUCCESS, STATUS_ACCESS_DENIED]
    assert pre.blocked_by == pre.results[1][0]
    assert classes(flt.events())[-1:] == [N.RegNtPreSetValueKey]


def test_unregistering_waits_for_a_c_callback_the_python_walk_has_the_shim_call(walked_in_c, filter_library):
    """Decision 3 for a C callback walked in Python through the shim: its registration is on the
    walking thread's active stack while the shim runs it."""
    registry = walked_in_c
    handle = make_key(registry, "BesideSpin")
    flt = c_filter(filter_library)
    register(registry, PythonFilter())
    flt.spin(N.RegNtPreQueryValueKey)
    cookie = register(registry, flt)
    querying = threading.Thread(target=registry.query_value, args=(handle, "V"))
    querying.start()
    done: list[int] = []
    unregistering = threading.Thread(target=lambda: done.append(registry.native.callbacks.unregister(cookie)))
    try:
        assert flt.wait_spinning()
        unregistering.start()
        unregistering.join(0.2)
        assert unregistering.is_alive() and done == []  # still waiting for the spinning callback
    finally:
        flt.release()
    unregistering.join(10)
    querying.join(10)
    assert done == [STATUS_SUCCESS]
