"""One test per sentence of the specification's sections 2.1-2.4 and 3 (registry-callbacks.txt),
each run with a Python callback and with a C callback built by gcc in this session."""

from __future__ import annotations

import pytest

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_READ,
    REG_BINARY,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
    ffi,
)
from ntddk_py import REG_NOTIFY_CLASS as N
from registry_core.profiles import PROFILE_XP

from ..helpers import SOFTWARE, address, classes, make_key, register

DATA = "hello".encode("utf-16-le")




# --- 2.1 Callback prototype ------------------------------------------------------

def test_2_1_callback_context_is_the_value_given_at_registration(traced_registry, make_filter):
    """'CallbackContext ... is passed in at registration time and then passed to the callback
    procedure every time the callback is invoked.'"""
    flt = make_filter()
    register(traced_registry, flt, context=0xC0FFEE)
    traced_registry.close(make_key(traced_registry, "Filtered"))
    assert flt.events() and {e["context"] for e in flt.events()} == {0xC0FFEE}


def test_2_1_argument1_is_the_reg_notify_class(traced_registry, make_filter):
    """'Argument1 is a type selector ... of type REG_NOTIFY_CLASS.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    assert classes(flt.events()) == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey]


def test_2_1_argument2_points_to_the_struct_of_the_class(traced_registry, make_filter):
    """'Argument2 is a pointer to a structure where the actual parameters are packed together.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    register(traced_registry, flt)
    traced_registry.set_value(handle, "Shell", REG_BINARY, b"\x01\x02\x03")
    pre = flt.events()[0]
    # The struct lived for the duration of the call; the recorder kept its fields' addresses.
    assert pre["class"] == N.RegNtPreSetValueKey and pre["argument2"] != 0
    assert pre["name_buffer"] != 0 and pre["object"] != 0


def test_2_1_callbacks_get_the_object_pointer_not_the_handle(traced_registry, make_filter):
    """'instead of a handle, the callback procedure is passed the object pointer.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    objects = {e["object"] for e in flt.events()}
    assert len(objects) == 1
    (address,) = objects
    assert address != handle
    entry = traced_registry.native.handles.lookup(handle)
    assert address == entry.obj.address and traced_registry.native.objects.from_address(address).key.name == "Filtered"


def test_2_1_object_is_referenced_while_the_callback_runs(traced_registry, make_filter):
    """'the object manager takes a reference on the object before passing the pointer to the
    callback, and releases the reference after the callback returns.'"""
    handle = make_key(traced_registry, "Filtered")
    obj = traced_registry.native.handles.lookup(handle).obj
    seen = []
    flt = make_filter()
    flt.nest(N.RegNtPreSetValueKey, lambda: seen.append(obj.references))
    register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    assert seen == [2]  # the handle's reference and the operation's
    assert obj.references == 1
    traced_registry.close(handle)
    assert traced_registry.native.objects.from_address(obj.address) is None


# --- 2.2 Invocation of callbacks ---------------------------------------------------

def test_2_2_callbacks_run_before_any_registry_work(traced_registry, make_filter):
    """'Callbacks will be invoked before any internal registry work is done'."""
    handle = make_key(traced_registry, "Filtered")
    key = traced_registry.native.handles.lookup(handle).obj.key
    state = []
    flt = make_filter()
    flt.nest(N.RegNtPreSetValueKey, lambda: state.append(key.find_value("V")))
    register(traced_registry, flt)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert state == [None] and key.find_value("V").data == DATA


def test_2_2_parameters_are_probed_not_captured(traced_registry, make_filter):
    """'The registry will probe the API parameters ... However, the registry does not capture
    them': the callback sees the caller's own buffer, and the registry reads it after the pre."""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    flt.overwrite(ord("X"))
    register(traced_registry, flt)
    with traced_registry.arena() as arena:
        name, data = arena.unicode_string("V"), arena.data(b"abc")
        status = traced_registry.native.NtSetValueKey(handle, name, 0, REG_BINARY, data, 3)
        assert status == STATUS_SUCCESS
        assert flt.events()[0]["name_buffer"] == address(name)
        assert bytes(data[0:3]) == b"Xbc"  # the caller's buffer itself was changed
    assert traced_registry.get_value(f"{SOFTWARE}\\Filtered", "V") == (REG_BINARY, b"Xbc")


def test_2_2_no_lock_is_held_while_callbacks_run(traced_registry, make_filter):
    """'The registry does not hold any locks within the current thread while invoking the
    callbacks': a callback that waits does not stop other threads' registry calls."""
    import threading

    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    flt.spin(N.RegNtPreQueryValueKey)
    register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    waiting = threading.Thread(target=traced_registry.query_value, args=(handle, "V"))
    waiting.start()
    try:
        assert flt.wait_spinning()
        # Another thread creates, writes and deletes a key while the callback is still running.
        status, other, _ = traced_registry.create_key(f"{SOFTWARE}\\Meanwhile")
        assert status == STATUS_SUCCESS
        assert traced_registry.set_value(other, "W", REG_SZ, DATA) == STATUS_SUCCESS
        assert traced_registry.delete_key(other) == STATUS_SUCCESS
        assert waiting.is_alive()
    finally:
        flt.release()
        waiting.join(10)
    assert not waiting.is_alive()


def test_2_2_each_operation_invokes_the_callback_twice_pre_and_post(traced_registry, make_filter):
    """'For each registry operation, callback routine will be invoked twice.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    traced_registry.query_value(handle, "V")
    traced_registry.enumerate_value(handle, 0)
    traced_registry.query_key(handle)
    traced_registry.enumerate_key(handle, 0)
    traced_registry.delete_value(handle, "V")
    traced_registry.rename_key(handle, "Renamed")
    traced_registry.set_information_key(handle, 0, (5).to_bytes(8, "little"))
    traced_registry.query_multiple_values(handle, [], 0)
    traced_registry.delete_key(handle)
    traced_registry.close(handle)
    got = classes(flt.events())
    assert got == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey, N.RegNtPreQueryValueKey, N.RegNtPostQueryValueKey,
                   N.RegNtPreEnumerateValueKey, N.RegNtPostEnumerateValueKey, N.RegNtPreQueryKey, N.RegNtPostQueryKey,
                   N.RegNtPreEnumerateKey, N.RegNtPostEnumerateKey, N.RegNtPreDeleteValueKey,
                   N.RegNtPostDeleteValueKey, N.RegNtPreRenameKey, N.RegNtPostRenameKey, N.RegNtPreSetInformationKey,
                   N.RegNtPostSetInformationKey, N.RegNtPreQueryMultipleValueKey, N.RegNtPostQueryMultipleValueKey,
                   N.RegNtPreDeleteKey, N.RegNtPostDeleteKey, N.RegNtPreKeyHandleClose, N.RegNtPostKeyHandleClose]


def test_2_2_a_failing_pre_stops_the_walk_and_is_returned_without_registry_work(traced_registry, make_filter):
    """The pseudo code: 'if ( !NT_SUCCESS(status ) ) { return status to the registry API caller
    without doing any registry work }' - later callbacks are not called."""
    handle = make_key(traced_registry, "Filtered")
    first, second = make_filter(), make_filter()
    first.block(N.RegNtPreSetValueKey, STATUS_UNSUCCESSFUL)
    register(traced_registry, first)
    register(traced_registry, second)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_UNSUCCESSFUL
    assert classes(first.events()) == [N.RegNtPreSetValueKey]
    assert classes(second.events()) == []
    assert traced_registry.get_value(f"{SOFTWARE}\\Filtered", "V") is None


def test_2_2_post_gets_the_status_and_object_and_its_return_is_ignored(traced_registry, make_filter):
    """'For post notification, the operation type, status of the operation and the object upon
    which it was performed will be fed to the callback. Callback return code will be ignored.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    flt.block(N.RegNtPostDeleteValueKey, STATUS_ACCESS_DENIED)
    register(traced_registry, flt)
    assert traced_registry.delete_value(handle, "Missing") == STATUS_OBJECT_NAME_NOT_FOUND
    post = flt.events()[1]
    assert post["class"] == N.RegNtPostDeleteValueKey and post["status"] == STATUS_OBJECT_NAME_NOT_FOUND
    assert post["object"] == traced_registry.native.handles.lookup(handle).obj.address
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    # the post's STATUS_ACCESS_DENIED changes nothing
    assert traced_registry.delete_value(handle, "V") == STATUS_SUCCESS


def test_2_2_pre_and_post_match_by_thread_id(traced_registry, make_filter):
    """'Callback writers can match pre and post calls by recording the thread ID in the pre
    notification and match against it in the post notification.'"""
    import threading

    flt = make_filter()
    register(traced_registry, flt)

    def work(n):
        status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\T{n}")
        for i in range(20):
            traced_registry.set_value(handle, f"V{i}", REG_SZ, DATA)
        traced_registry.close(handle)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_thread: dict[int, list[int]] = {}
    for event in flt.events():
        by_thread.setdefault(event["thread_id"], []).append(event["class"])
    assert len(by_thread) == 4
    for sequence in by_thread.values():
        # Within one thread every pre is followed by its own post before the next pre.
        assert sequence == ([N.RegNtPreCreateKeyEx, N.RegNtPostCreateKeyEx]
                            + [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey] * 20
                            + [N.RegNtPreKeyHandleClose, N.RegNtPostKeyHandleClose])


def test_2_2_registry_calls_from_inside_a_callback_reach_no_callback(traced_registry, make_filter):
    """'Callback procedures may use any registry API. However, callbacks will not be invoked for
    registry APIs called from inside a callback.'"""
    handle = make_key(traced_registry, "Filtered")
    traced_registry.set_value(handle, "Other", REG_SZ, DATA)
    inner = []

    def nested():
        status, other = traced_registry.open_key(f"{SOFTWARE}\\Filtered", KEY_READ)
        inner.append((status, traced_registry.query_value(other, "Other").status, traced_registry.close(other)))

    flt, watcher = make_filter(), make_filter()
    flt.nest(N.RegNtPreSetValueKey, nested)
    register(traced_registry, flt)
    register(traced_registry, watcher)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert inner == [(STATUS_SUCCESS, STATUS_SUCCESS, STATUS_SUCCESS)]
    assert classes(flt.events()) == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey]
    assert classes(watcher.events()) == [N.RegNtPreSetValueKey, N.RegNtPostSetValueKey]


def test_2_2_post_create_and_open_object_is_null_on_error(traced_registry, make_filter):
    """'For NtCreateKey and NtOpenKey post callbacks the Object field is NULL on error.'"""
    flt = make_filter()
    register(traced_registry, flt)
    assert traced_registry.open_key(f"{SOFTWARE}\\Missing").status == STATUS_OBJECT_NAME_NOT_FOUND
    assert traced_registry.create_key(f"{SOFTWARE}\\Missing\\Deeper").status == STATUS_OBJECT_NAME_NOT_FOUND
    posts = [e for e in flt.events() if e["class"] in (N.RegNtPostOpenKeyEx, N.RegNtPostCreateKeyEx)]
    assert [(e["class"], e["object"], e["status"]) for e in posts] == [
        (N.RegNtPostOpenKeyEx, 0, STATUS_OBJECT_NAME_NOT_FOUND),
        (N.RegNtPostCreateKeyEx, 0, STATUS_OBJECT_NAME_NOT_FOUND)]
    status, handle = traced_registry.open_key(SOFTWARE)
    assert flt.events()[-1]["object"] == traced_registry.native.handles.lookup(handle).obj.address


# --- 2.3 Registration ----------------------------------------------------------------

def test_2_3_register_gives_a_cookie_that_unregisters_the_callback(traced_registry, make_filter):
    """'Cookie is used to un-register the callback ... Cookie should be the same as returned by
    the register API.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    cookie = register(traced_registry, flt)
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    assert traced_registry.native.callbacks.unregister(cookie) == STATUS_SUCCESS
    count = len(flt.events())
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    assert len(flt.events()) == count == 2


# --- 2.4 Writing a callback routine ------------------------------------------------

def test_2_4_success_for_operations_not_of_interest_lets_them_through(traced_registry, make_filter):
    """'A callback routine should immediately return STATUS_SUCCESS for any Registry operation
    that is not of interest.'"""
    handle = make_key(traced_registry, "Filtered")
    flt = make_filter()
    register(traced_registry, flt)
    assert traced_registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert traced_registry.get_value(f"{SOFTWARE}\\Filtered", "V") == (REG_SZ, DATA)


@pytest.mark.parametrize("operation", ["set", "delete_value", "delete_key", "rename", "create"])
def test_2_4_an_error_status_fails_the_call_with_no_change(traced_registry, make_filter, operation):
    """'When an error status is returned the corresponding registry API call is immediately
    failed without any changes being made to the registry.'"""
    handle = make_key(traced_registry, "Filtered")
    traced_registry.set_value(handle, "V", REG_SZ, DATA)
    before = traced_registry.tree(SOFTWARE)
    flt = make_filter()
    pre = {"set": N.RegNtPreSetValueKey, "delete_value": N.RegNtPreDeleteValueKey, "delete_key": N.RegNtPreDeleteKey,
           "rename": N.RegNtPreRenameKey, "create": N.RegNtPreCreateKeyEx}[operation]
    flt.block(pre, STATUS_ACCESS_DENIED)
    register(traced_registry, flt)
    result = {"set": lambda: traced_registry.set_value(handle, "V", REG_SZ, b"changed"),
              "delete_value": lambda: traced_registry.delete_value(handle, "V"),
              "delete_key": lambda: traced_registry.delete_key(handle),
              "rename": lambda: traced_registry.rename_key(handle, "Other"),
              "create": lambda: traced_registry.create_key(f"{SOFTWARE}\\Filtered\\New").status}[operation]()
    assert result == STATUS_ACCESS_DENIED
    assert traced_registry.tree(SOFTWARE) == before


def test_2_4_post_create_status_is_ignored_create_fails_only_in_pre(traced_registry, make_filter):
    """'(Except for the status code for post-create operations, which is ignored: the create/open
    registry APIs can only be failed in the pre-create callback).'"""
    flt = make_filter()
    flt.block(N.RegNtPostCreateKeyEx, STATUS_ACCESS_DENIED)
    register(traced_registry, flt)
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Made")
    assert status == STATUS_SUCCESS and handle != 0
    assert traced_registry.exists(f"{SOFTWARE}\\Made")


# --- 3 Compatibility notes (the "xp" profile) ------------------------------------------

@pytest.fixture
def xp_registry(traced_registry):
    """The traced registry switched to the XP profile (registry_core.profiles.PROFILE_XP)."""
    traced_registry.native.profile = PROFILE_XP
    return traced_registry


def test_3_xp_sends_only_pre_notifications_except_create_and_open(xp_registry, make_filter):
    """'Windows XP gold and service packs send only pre notifications with the exception of
    NtCreateKey and NtOpenKey where both pre and post notifications are sent.'"""
    flt = make_filter()
    register(xp_registry, flt)
    status, handle, _ = xp_registry.create_key(f"{SOFTWARE}\\Xp")
    xp_registry.set_value(handle, "V", REG_SZ, DATA)
    xp_registry.query_value(handle, "V")
    xp_registry.close(handle)
    status, handle = xp_registry.open_key(f"{SOFTWARE}\\Xp", KEY_ALL_ACCESS)
    xp_registry.delete_key(handle)
    assert classes(flt.events()) == [N.RegNtPreCreateKey, N.RegNtPostCreateKey, N.RegNtPreSetValueKey,
                                     N.RegNtPreQueryValueKey, N.RegNtPreKeyHandleClose, N.RegNtPreOpenKey,
                                     N.RegNtPostOpenKey, N.RegNtPreDeleteKey]


def test_3_xp_create_and_open_pass_the_complete_name(xp_registry, make_filter):
    """'(RegNtPreCreateKey, REG_PRE_CREATE_KEY_INFORMATION) ... (RegNtPostOpenKey,
    REG_POST_OPEN_KEY_INFORMATION)': CompleteName is the caller's name."""
    flt = make_filter()
    register(xp_registry, flt)
    with xp_registry.arena() as arena:
        name = arena.unicode_string(f"{SOFTWARE}\\Xp")
        attributes = arena.new("OBJECT_ATTRIBUTES *", {"Length": ffi.sizeof("OBJECT_ATTRIBUTES"),
                                                       "ObjectName": name, "Attributes": 0x40})
        handle = arena.new("HANDLE *")
        status = xp_registry.native.NtCreateKey(handle, KEY_ALL_ACCESS, attributes, 0, ffi.NULL, 0, ffi.NULL)
        assert status == STATUS_SUCCESS
        name_address = address(name)
    pre, post = flt.events()
    assert (pre["class"], pre["name_buffer"]) == (N.RegNtPreCreateKey, name_address)
    assert (post["class"], post["name_buffer"], post["status"]) == (N.RegNtPostCreateKey, name_address, STATUS_SUCCESS)


def test_3_2003_sends_the_ex_classes_instead_of_the_xp_ones(traced_registry, make_filter):
    """'Windows .Net server doesn't send the above pre/post notifications in the create/open case
    ... Instead it send the new Ex versions'."""
    flt = make_filter()
    register(traced_registry, flt)
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Net")
    traced_registry.close(handle)
    status, handle = traced_registry.open_key(f"{SOFTWARE}\\Net")
    got = classes(flt.events())
    assert got[:2] == [N.RegNtPreCreateKeyEx, N.RegNtPostCreateKeyEx]
    assert got[-2:] == [N.RegNtPreOpenKeyEx, N.RegNtPostOpenKeyEx]
    assert not set(got) & {N.RegNtPreCreateKey, N.RegNtPostCreateKey, N.RegNtPreOpenKey, N.RegNtPostOpenKey}


def test_3_xp_post_object_is_the_address_of_the_object_pointer(xp_registry, make_filter):
    """'In the post create/open notifications Windows XP sets the Object filed to the address of
    the pointer to the object instead of the pointer to the object (PVOID * instead of PVOID).'"""
    flt = make_filter()
    register(xp_registry, flt)
    status, handle, _ = xp_registry.create_key(f"{SOFTWARE}\\Xp")
    post = flt.events()[1]
    real = xp_registry.native.handles.lookup(handle).obj.address
    assert post["object"] != real and post["object_target"] == real


def test_3_2003_post_object_is_the_object_pointer_itself(traced_registry, make_filter):
    """'This has been fixed in .Net': the 2003 post Object is the object pointer."""
    flt = make_filter()
    register(traced_registry, flt)
    status, handle, _ = traced_registry.create_key(f"{SOFTWARE}\\Net")
    assert flt.events()[1]["object"] == traced_registry.native.handles.lookup(handle).obj.address
