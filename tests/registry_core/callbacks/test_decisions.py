"""One test per behaviour decision of docs/architecture.md where the specification is silent,
each run with a Python callback and with a C callback built by gcc in this session."""

from __future__ import annotations

import threading

import pytest

from ntddk_py import (
    KEY_READ,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_CALLBACK_BYPASS,
    STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_EXISTS,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ffi,
)
from ntddk_py import REG_NOTIFY_CLASS as N
from registry_core.callbacks import MAX_CALLBACKS, VerifierError

from ..helpers import SOFTWARE, classes, make_key, register

DATA = "x".encode("utf-16-le")




def test_decision_1_slots_are_taken_first_free_and_walked_in_slot_order(traced_registry, make_filter):
    """Decision 1: after an unregistration frees an early slot, a new callback runs first."""
    handle = make_key(traced_registry, "D")
    a, b, c = make_filter(), make_filter(), make_filter()
    cookie_a = register(traced_registry, a)
    register(traced_registry, b)
    traced_registry.native.callbacks.unregister(cookie_a)
    register(traced_registry, c)  # takes slot 0
    c.block(N.RegNtPreSetValueKey, STATUS_ACCESS_DENIED)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    assert classes(c.events()) == [N.RegNtPreSetValueKey] and b.events() == []


def test_decision_1_a_full_table_refuses_with_insufficient_resources(traced_registry, make_filter):
    """Decision 1: 100 slots; the 101st registration gets STATUS_INSUFFICIENT_RESOURCES."""
    flt = make_filter()
    cookies = [register(traced_registry, flt) for _ in range(MAX_CALLBACKS)]
    assert traced_registry.native.callbacks.register(flt.callback, 0) == (STATUS_INSUFFICIENT_RESOURCES, 0)
    assert traced_registry.native.callbacks.unregister(cookies[50]) == STATUS_SUCCESS
    assert traced_registry.native.callbacks.register(flt.callback, 0)[0] == STATUS_SUCCESS


def test_decision_2_cookies_are_unique_and_unknown_ones_are_invalid(traced_registry, make_filter):
    """Decision 2: cookies are never reused; unknown or used-up cookies: STATUS_INVALID_PARAMETER."""
    flt = make_filter()
    seen = set()
    for _ in range(5):
        cookie = register(traced_registry, flt)
        assert cookie not in seen
        seen.add(cookie)
        assert traced_registry.native.callbacks.unregister(cookie) == STATUS_SUCCESS
        assert traced_registry.native.callbacks.unregister(cookie) == STATUS_INVALID_PARAMETER
    assert traced_registry.native.callbacks.unregister(12345) == STATUS_INVALID_PARAMETER


def test_decision_3_unregistration_waits_for_a_running_invocation(traced_registry, make_filter):
    """Decision 3: CmUnRegisterCallback returns only after invocations on other threads return,
    and the routine is never called after it returns."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    flt.spin(N.RegNtPreQueryValueKey)
    cookie = register(traced_registry, flt)
    caller = threading.Thread(target=traced_registry.query_value, args=(handle, "V"))
    caller.start()
    assert flt.wait_spinning()
    done = []
    unregistering = threading.Thread(target=lambda: done.append(traced_registry.native.callbacks.unregister(cookie)))
    unregistering.start()
    unregistering.join(0.2)
    assert unregistering.is_alive() and done == []  # still waiting for the spinning callback
    flt.release()
    unregistering.join(10)
    caller.join(10)
    assert done == [STATUS_SUCCESS]
    count = len(flt.events())
    traced_registry.query_value(handle, "V")
    assert len(flt.events()) == count


def test_decision_3_unregistering_from_inside_the_same_callback_is_a_verifier_error(traced_registry, make_filter):
    """Decision 3: on Windows this deadlocks; the harness raises an error naming the callback
    and the notification instead of hanging."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    cookie = register(traced_registry, flt)
    errors = []

    def unregister_self():
        try:
            traced_registry.native.callbacks.unregister(cookie)
        except VerifierError as error:
            errors.append(str(error))

    flt.nest(N.RegNtPreSetValueKey, unregister_self)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    assert len(errors) == 1
    assert "RegNtPreSetValueKey" in errors[0] and "deadlock" in errors[0]
    assert traced_registry.native.callbacks.unregister(cookie) == STATUS_SUCCESS  # still registered, and removable


def test_decision_4_a_success_status_other_than_success_lets_the_operation_continue(traced_registry, make_filter):
    """Decision 4: NT_SUCCESS(0x40000000) is true: the walk goes on and the caller sees the
    operation's own status."""
    handle = make_key(traced_registry, "D")
    first, second = make_filter(), make_filter()
    first.block(N.RegNtPreSetValueKey, STATUS_OBJECT_NAME_EXISTS)
    register(traced_registry, first)
    register(traced_registry, second)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert classes(second.events()) == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey]


def test_decision_4_no_callback_gets_a_post_when_a_pre_fails(traced_registry, make_filter):
    """Decision 4: neither the blocking callback nor the ones before it get a post."""
    handle = make_key(traced_registry, "D")
    first, second = make_filter(), make_filter()
    second.block(N.RegNtPreDeleteValueKey, STATUS_ACCESS_DENIED)
    register(traced_registry, first)
    register(traced_registry, second)
    assert traced_registry.delete_value(handle, "V") == STATUS_ACCESS_DENIED
    assert classes(first.events()) == [N.RegNtPreDeleteValueKey]
    assert classes(second.events()) == [N.RegNtPreDeleteValueKey]


def test_decision_5_every_callback_gets_the_post_even_after_one_returns_an_error(traced_registry, make_filter):
    """Decision 5: post return values are ignored, and no post failure stops the walk."""
    handle = make_key(traced_registry, "D")
    first, second = make_filter(), make_filter()
    first.block(N.RegNtPostSetValueKey, STATUS_ACCESS_DENIED)
    register(traced_registry, first)
    register(traced_registry, second)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert classes(second.events()) == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey]


def test_decision_6_the_in_callback_flag_is_per_thread(traced_registry, make_filter):
    """Decision 6: while one thread is inside a callback, other threads' calls still reach callbacks."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    flt.spin(N.RegNtPreQueryKey)
    register(traced_registry, flt)
    blocked = threading.Thread(target=traced_registry.query_key, args=(handle,))
    blocked.start()
    try:
        assert flt.wait_spinning()
        traced_registry.set_value(handle, "V", REG_SZ, DATA)
        assert [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey] == [
            c for c in classes(flt.events()) if c in (N.RegNtPreSetValueKey, N.RegNtPostSetValueKey)]
    finally:
        flt.release()
        blocked.join(10)


@pytest.mark.parametrize("case", ["invalid handle", "access denied", "bad parameter"])
def test_decision_7_calls_failing_validation_send_nothing(traced_registry, make_filter, case):
    """Decision 7: handle validation, access checks and parameter validation come before any callback."""
    status, read_only = traced_registry.open_key(SOFTWARE, KEY_READ)
    flt = make_filter()
    register(traced_registry, flt)
    if case == "invalid handle":
        assert traced_registry.set_value(0x7FF0, "V", REG_SZ, DATA) == STATUS_INVALID_HANDLE
    elif case == "access denied":
        assert traced_registry.set_value(read_only, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    else:
        assert traced_registry.query_value(read_only, "V", 99).status == STATUS_INVALID_PARAMETER
    assert flt.events() == []


def test_decision_7_the_object_is_valid_in_pre_and_post(traced_registry, make_filter):
    """Decision 7: the object is referenced before the pre and released after the post, so a
    callback can use it (here: look up its name) in both."""
    handle = make_key(traced_registry, "Named")
    names = []
    watchers = {N.RegNtPreDeleteKey: make_filter(), N.RegNtPostDeleteKey: make_filter()}
    for notify_class, flt in watchers.items():
        def look(flt=flt):
            obj = traced_registry.native.objects.from_address(flt.events()[-1]["object"])
            names.append(obj.key.path())

        flt.nest(notify_class, look)
        register(traced_registry, flt)
    assert traced_registry.delete_key(handle) == STATUS_SUCCESS
    assert names == [f"{SOFTWARE}\\Named", f"{SOFTWARE}\\Named"]


def test_decision_8_create_and_open_fail_only_in_the_pre(traced_registry, make_filter):
    """Decision 8: a failing pre-create fails the create (nothing made); the post's status is ignored."""
    flt = make_filter()
    flt.block(N.RegNtPreCreateKeyEx, STATUS_ACCESS_DENIED)
    register(traced_registry, flt)
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Blocked")
    assert (status, handle) == (STATUS_ACCESS_DENIED, 0)
    assert classes(flt.events()) == [N.RegNtPreCreateKeyEx]
    assert not traced_registry.native.store.walk(f"{SOFTWARE}\\Blocked")


def test_decision_9_key_handle_close_cannot_be_vetoed(traced_registry, make_filter):
    """Decision 9: RegNtPreKeyHandleClose is sent, and its failure does not keep the handle open."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    flt.block(N.RegNtPreKeyHandleClose, STATUS_ACCESS_DENIED)
    register(traced_registry, flt)
    assert traced_registry.close(handle) == STATUS_SUCCESS
    assert classes(flt.events()) == [N.RegNtPreKeyHandleClose, N.RegNtPostKeyHandleClose]
    assert traced_registry.close(handle) == STATUS_INVALID_HANDLE


def test_decision_11_a_buffer_changed_between_pre_and_work_is_read_at_the_work(traced_registry, make_filter):
    """Decision 11: parameters are probed, not captured (see also test_2_2_parameters_are_probed_not_captured):
    a change made by a callback to the caller's value name retargets the write."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    register(traced_registry, flt)
    with traced_registry.arena() as arena:
        name = arena.unicode_string("A")

        def rename_buffer():
            ffi.cast("WCHAR *", name.Buffer)[0] = ord("B")

        flt.nest(N.RegNtPreSetValueKey, rename_buffer)
        status = traced_registry.native.NtSetValueKey(handle, name, 0, REG_SZ, arena.data(DATA), len(DATA))
        assert status == STATUS_SUCCESS
    assert traced_registry.get_value(f"{SOFTWARE}\\D", "B") == (REG_SZ, DATA)
    assert traced_registry.get_value(f"{SOFTWARE}\\D", "A") is None


def test_decision_13_callback_bypass_is_an_ordinary_failure_before_vista(traced_registry, make_filter):
    """Decision 13: STATUS_CALLBACK_BYPASS (0xC0000503) fails the call like any error status."""
    handle = make_key(traced_registry, "D")
    flt = make_filter()
    flt.block(N.RegNtPreSetValueKey, STATUS_CALLBACK_BYPASS)
    register(traced_registry, flt)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_CALLBACK_BYPASS
    assert traced_registry.get_value(f"{SOFTWARE}\\D", "V") is None
    assert traced_registry.query_value(handle, "V").status == STATUS_OBJECT_NAME_NOT_FOUND


def test_an_absolute_names_root_object_is_the_registry_key_every_time(traced_registry, make_filter):
    """Microsoft's REG_CREATE_KEY_INFORMATION page: an absolute CompleteName has the \\REGISTRY key
    as its RootObject. cmhook has one such object for the kernel's life, as Windows has one root key."""
    flt = make_filter()
    register(traced_registry, flt)
    make_key(traced_registry, "RootA")
    make_key(traced_registry, "RootB")
    roots = {e["object"] for e in flt.events() if e["class"] == N.RegNtPreCreateKeyEx}
    assert len(roots) == 1
    (root,) = roots
    assert traced_registry.native.objects.from_address(root).key is traced_registry.native.store.root
