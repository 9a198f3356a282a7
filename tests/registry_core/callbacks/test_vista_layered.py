"""Vista's layered callback model, rule by rule, on every profile that has it (vista, win7, win8,
win10), with Python callbacks; the sources of each rule are in docs/profiles.md. The C filters'
version of the regfltr scenarios is tests/harness/test_vista_filters.py."""

from __future__ import annotations

import pytest

from ntddk_py import (
    KEY_ALL_ACCESS,
    KEY_READ,
    REG_CREATED_NEW_KEY,
    REG_SZ,
    STATUS_ACCESS_DENIED,
    STATUS_CALLBACK_BYPASS,
    STATUS_FLT_INSTANCE_ALTITUDE_COLLISION,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_SUCCESS,
    ffi,
)
from ntddk_py import REG_NOTIFY_CLASS as N
from registry_core.callbacks import Trace
from registry_core.profiles import PROFILES, profile_named
from registry_core.registry import Registry

from ..helpers import SOFTWARE, make_key

LAYERED = [name for name, profile in PROFILES.items() if profile.layered]
DATA = "x".encode("utf-16-le")
POST = "CMHOOK_VISTA_REG_POST_OPERATION_INFORMATION *"
SET_VALUE = "CMHOOK_VISTA_REG_SET_VALUE_KEY_INFORMATION *"


@pytest.fixture(params=LAYERED)
def vista(request) -> Registry:
    """A registry under one of the layered profiles, traced."""
    registry = Registry()
    registry.native.profile = profile_named(request.param)
    registry.native.dispatcher.trace = Trace()
    return registry


class Stack:
    """Python callbacks at altitudes, each logging (its name, the class) and doing what it is told."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.log: list[tuple[str, int]] = []
        self.cookies: dict[str, int] = {}
        self._keep: list = []

    def add(self, name: str, altitude: str | None, act=None) -> int:
        def callback(context, argument1, argument2):
            notify_class = int(ffi.cast("ULONG_PTR", argument1))
            self.log.append((name, notify_class))
            return act(notify_class, argument2) if act is not None else STATUS_SUCCESS

        callback.__qualname__ = name
        self._keep.append(callback)
        status, cookie = self.registry.native.callbacks.register(callback, 0, name=name, altitude=altitude)
        assert status == STATUS_SUCCESS, status
        self.cookies[name] = cookie
        return cookie

    def seen(self, notify_class: int) -> list[str]:
        return [name for name, seen in self.log if seen == notify_class]


def _when(notify_class: int, status: int, then=None):
    def act(seen: int, argument2) -> int:
        if seen != notify_class:
            return STATUS_SUCCESS
        if then is not None:
            then(argument2)
        return status
    return act


def test_higher_altitude_sees_the_pre_first(vista):
    """Microsoft's "Supporting layered registry filtering drivers": highest altitude to lowest."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    for name, altitude in [("low", "100"), ("high", "300"), ("mid", "200")]:
        stack.add(name, altitude)
    assert vista.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert stack.seen(N.RegNtPreSetValueKey) == ["high", "mid", "low"]


def test_altitudes_compare_as_decimal_numbers(vista):
    """An altitude is a decimal number as text: "1000" is above "999", "200.5" above "200"
    (Microsoft's "Load order groups and altitudes for minifilter drivers")."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    for name, altitude in [("a999", "999"), ("a1000", "1000"), ("a200", "200"), ("a200.5", "200.5")]:
        stack.add(name, altitude)
    vista.set_value(handle, "V", REG_SZ, DATA)
    assert stack.seen(N.RegNtPreSetValueKey) == ["a1000", "a999", "a200.5", "a200"]


def test_an_altitude_taken_is_a_collision(vista):
    """CmRegisterCallbackEx: an altitude already registered is STATUS_FLT_INSTANCE_ALTITUDE_COLLISION
    (Microsoft's CmRegisterCallbackEx documentation); "200.0" is the same number as "200" (cmhook);
    text that is no decimal number is STATUS_INVALID_PARAMETER (cmhook)."""
    table = vista.native.callbacks
    function = ffi.callback("PEX_CALLBACK_FUNCTION", lambda c, a, b: 0)
    assert table.register(function, 0, altitude="200")[0] == STATUS_SUCCESS
    assert table.register(function, 0, altitude="200") == (STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, 0)
    assert table.register(function, 0, altitude="200.0") == (STATUS_FLT_INSTANCE_ALTITUDE_COLLISION, 0)
    assert table.register(function, 0, altitude="2x0") == (STATUS_INVALID_PARAMETER, 0)
    assert table.register(function, 0, altitude="201")[0] == STATUS_SUCCESS


def test_cmregistercallback_stands_above_every_altitude_in_registration_order(vista):
    """Drivers without an altitude go near the top of the stack, in the order they register
    (Microsoft's "Supporting layered registry filtering drivers")."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    stack.add("ex", "400000")
    stack.add("legacy1", None)
    stack.add("legacy2", None)
    vista.set_value(handle, "V", REG_SZ, DATA)
    assert stack.seen(N.RegNtPreSetValueKey) == ["legacy1", "legacy2", "ex"]


def test_block_in_pre_posts_to_those_above_only(vista):
    """A failing pre: the blocker gets no post, the callbacks above it get the post with the
    failure, the ones below nothing; the caller gets the blocker's status (the issue's sample
    "multiple altitudes, block during pre", as regfltr shows it)."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    statuses = []
    stack.add("top", "300", lambda c, a2: statuses.append(ffi.cast(POST, a2).Status) or 0
              if c == N.RegNtPostSetValueKey else 0)
    stack.add("mid", "200", _when(N.RegNtPreSetValueKey, STATUS_ACCESS_DENIED))
    stack.add("bottom", "100")
    assert vista.set_value(handle, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    assert stack.seen(N.RegNtPreSetValueKey) == ["top", "mid"]
    assert stack.seen(N.RegNtPostSetValueKey) == ["top"]
    assert statuses == [STATUS_ACCESS_DENIED]
    assert vista.query_value(handle, "V")[0] == STATUS_OBJECT_NAME_NOT_FOUND


def test_bypass_in_pre_skips_the_work_the_lower_callbacks_and_its_own_post(vista):
    """STATUS_CALLBACK_BYPASS from a pre: not done, the caller gets STATUS_SUCCESS, callbacks below
    and the bypasser's post skipped, those above get the post (Microsoft's "Handling notifications")."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    stack.add("top", "300")
    stack.add("bypasser", "200", _when(N.RegNtPreSetValueKey, STATUS_CALLBACK_BYPASS))
    stack.add("bottom", "100")
    assert vista.set_value(handle, "V", REG_SZ, DATA) == STATUS_SUCCESS
    assert vista.query_value(handle, "V")[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert stack.seen(N.RegNtPreSetValueKey) == ["top", "bypasser"]
    assert stack.seen(N.RegNtPostSetValueKey) == ["top"]


def test_bypass_of_a_create_hands_the_caller_the_callbacks_object(vista):
    """A create bypassed in its pre: the caller's handle names the object the callback put in
    ResultObject, with its GrantedAccess and Disposition (Microsoft's REG_CREATE_KEY_INFORMATION)."""
    status, elsewhere, _ = vista.create_key(f"{SOFTWARE}\\Elsewhere")
    assert status == STATUS_SUCCESS
    vista.set_value(elsewhere, "Mark", REG_SZ, DATA)
    target = vista.native.handles.lookup(elsewhere).obj

    def redirect(info) -> None:
        create = ffi.cast("REG_CREATE_KEY_INFORMATION_V1 *", info)  # Vista's is its prefix
        create.ResultObject[0] = target.reference(by_driver=True).pointer
        create.GrantedAccess = KEY_READ
        create.Disposition[0] = REG_CREATED_NEW_KEY

    stack = Stack(vista)
    stack.add("redirector", "200", _when(N.RegNtPreCreateKeyEx, STATUS_CALLBACK_BYPASS, redirect))
    status, handle, disposition = vista.create_key(f"{SOFTWARE}\\Asked")
    assert status == STATUS_SUCCESS
    assert not vista.exists(f"{SOFTWARE}\\Asked")
    assert vista.query_value(handle, "Mark")[0] == STATUS_SUCCESS
    assert vista.native.handles.lookup(handle).granted_access == KEY_READ
    assert disposition == REG_CREATED_NEW_KEY
    assert target.driver_references == 0  # the reference passed to the caller's handle


def test_post_bypass_turns_success_into_error(vista):
    """STATUS_CALLBACK_BYPASS from a post: ReturnStatus is the caller's status and is copied to
    Status for the callbacks after it (Microsoft's REG_POST_OPERATION_INFORMATION)."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    seen = []
    stack.add("top", "300", lambda c, a2: seen.append(ffi.cast(POST, a2).Status) or 0
              if c == N.RegNtPostSetValueKey else 0)

    def deny(info) -> None:
        ffi.cast(POST, info).ReturnStatus = STATUS_ACCESS_DENIED

    stack.add("overrider", "100", _when(N.RegNtPostSetValueKey, STATUS_CALLBACK_BYPASS, deny))
    assert vista.set_value(handle, "V", REG_SZ, DATA) == STATUS_ACCESS_DENIED
    assert seen == [STATUS_ACCESS_DENIED]


def test_post_bypass_turns_error_into_success(vista):
    """Error to success: a query of a missing value reports STATUS_SUCCESS to its caller."""
    handle = make_key(vista, "A")
    stack = Stack(vista)

    def accept(info) -> None:
        ffi.cast(POST, info).ReturnStatus = STATUS_SUCCESS

    stack.add("overrider", "100", _when(N.RegNtPostQueryValueKey, STATUS_CALLBACK_BYPASS, accept))
    assert vista.query_value(handle, "Missing")[0] == STATUS_SUCCESS


def test_post_bypass_of_a_failed_open_hands_back_an_object(vista):
    """An open that failed made a success by its post: the caller's handle names the Object the
    callback handed back."""
    status, elsewhere, _ = vista.create_key(f"{SOFTWARE}\\Elsewhere")
    vista.set_value(elsewhere, "Mark", REG_SZ, DATA)
    target = vista.native.handles.lookup(elsewhere).obj

    def rescue(info) -> None:
        post = ffi.cast(POST, info)
        assert post.Object == ffi.NULL and post.Status == STATUS_OBJECT_NAME_NOT_FOUND
        post.Object = target.reference(by_driver=True).pointer
        post.ReturnStatus = STATUS_SUCCESS

    stack = Stack(vista)
    stack.add("rescuer", "100", _when(N.RegNtPostOpenKeyEx, STATUS_CALLBACK_BYPASS, rescue))
    status, handle = vista.open_key(f"{SOFTWARE}\\Missing")[:2]
    assert status == STATUS_SUCCESS
    assert vista.query_value(handle, "Mark")[0] == STATUS_SUCCESS


def test_call_context_flows_from_each_pre_to_its_own_post(vista):
    """CallContext set in a callback's pre is in that callback's post (Microsoft's
    REG_POST_OPERATION_INFORMATION), and each callback has its own."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    got: dict[str, int] = {}

    def marker(name: str, value: int):
        def act(notify_class: int, info) -> int:
            if notify_class == N.RegNtPreSetValueKey:
                ffi.cast(SET_VALUE, info).CallContext = ffi.cast("PVOID", value)
            elif notify_class == N.RegNtPostSetValueKey:
                post = ffi.cast(POST, info)
                got[name] = int(ffi.cast("ULONG_PTR", post.CallContext))
                assert post.PreInformation != ffi.NULL
            return STATUS_SUCCESS
        return act

    stack.add("one", "300", marker("one", 0x1111))
    stack.add("two", "200", marker("two", 0x2222))
    vista.set_value(handle, "V", REG_SZ, DATA)
    assert got == {"one": 0x1111, "two": 0x2222}


def test_object_context_is_in_later_notifications_and_cleaned_up_once_on_last_close(vista):
    """CmSetCallbackObjectContext's context is ObjectContext in every later notification on that
    key object, for that registration only; RegNtCallbackObjectContextCleanup comes once, when
    the object's last handle closes (Microsoft's CmSetCallbackObjectContext documentation)."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    contexts: dict[str, list] = {"owner": [], "other": []}
    cleanups = []

    def recorder(name: str):
        def act(notify_class: int, info) -> int:
            if notify_class == N.RegNtPreSetValueKey:
                contexts[name].append(int(ffi.cast("ULONG_PTR", ffi.cast(SET_VALUE, info).ObjectContext)))
            if notify_class == N.RegNtCallbackObjectContextCleanup:
                cleanup = ffi.cast("REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION *", info)
                cleanups.append((name, int(ffi.cast("ULONG_PTR", cleanup.ObjectContext))))
            return STATUS_SUCCESS
        return act

    owner = stack.add("owner", "300", recorder("owner"))
    stack.add("other", "200", recorder("other"))
    obj = vista.native.handles.lookup(handle).obj
    assert vista.native.layered.contexts.set(obj, owner, 0xC0DE) == 0
    vista.set_value(handle, "V", REG_SZ, DATA)
    vista.set_value(handle, "W", REG_SZ, DATA)
    assert contexts == {"owner": [0xC0DE, 0xC0DE], "other": [0, 0]}
    assert cleanups == []
    assert vista.close(handle) == STATUS_SUCCESS
    assert cleanups == [("owner", 0xC0DE)]
    assert stack.seen(N.RegNtCallbackObjectContextCleanup) == ["owner"]


def test_unregistering_delivers_the_cleanups_still_due(vista):
    """CmUnRegisterCallback sends each context the registration still has its cleanup."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    owner = stack.add("owner", "300")
    obj = vista.native.handles.lookup(handle).obj
    vista.native.layered.contexts.set(obj, owner, 0x77)
    assert vista.native.callbacks.unregister(owner) == STATUS_SUCCESS
    assert stack.seen(N.RegNtCallbackObjectContextCleanup) == ["owner"]
    vista.close(handle)
    assert stack.seen(N.RegNtCallbackObjectContextCleanup) == ["owner"]  # once


def test_a_call_made_inside_a_callback_reaches_only_the_callbacks_below(vista):
    """A nested registry call is seen by lower altitudes only: the stack is not restarted at its
    top (Microsoft's "Supporting layered registry filtering drivers")."""
    handle = make_key(vista, "A")
    other = make_key(vista, "B")
    stack = Stack(vista)
    nested = []

    def reenter(notify_class: int, info) -> int:
        if notify_class == N.RegNtPreSetValueKey and not nested:
            nested.append(vista.query_value(other, "Missing")[0])
        return STATUS_SUCCESS

    stack.add("top", "300")
    stack.add("middle", "200", reenter)
    stack.add("bottom", "100")
    vista.set_value(handle, "V", REG_SZ, DATA)
    assert nested == [STATUS_OBJECT_NAME_NOT_FOUND]
    assert stack.seen(N.RegNtPreQueryValueKey) == ["bottom"]
    assert stack.seen(N.RegNtPreSetValueKey) == ["top", "middle", "bottom"]


def test_post_of_a_failed_create_has_no_object(vista):
    """Post-create/open Object is NULL when Status is an error (Microsoft's CmGetCallbackVersion
    documentation, version 1.1; cmhook keeps it for Vista's 1.0 too)."""
    stack = Stack(vista)
    objects = []
    stack.add("watch", "100", lambda c, a2: objects.append(ffi.cast(POST, a2).Object) or 0
              if c == N.RegNtPostOpenKeyEx else 0)
    assert vista.open_key(f"{SOFTWARE}\\Missing")[0] == STATUS_OBJECT_NAME_NOT_FOUND
    assert objects == [ffi.NULL]


@pytest.mark.parametrize("name", LAYERED)
def test_create_struct_is_the_profiles_version(name):
    """Windows 7 and later send REG_CREATE_KEY_INFORMATION_V1 (Version 1); Vista its shorter form
    (Microsoft's REG_CREATE_KEY_INFORMATION_V1 documentation)."""
    registry = Registry()
    registry.native.profile = profile_named(name)
    stack = Stack(registry)
    versions = []

    def look(notify_class: int, info) -> int:
        if notify_class == N.RegNtPreCreateKeyEx:
            create = ffi.cast("REG_CREATE_KEY_INFORMATION_V1 *", info)
            versions.append((create.DesiredAccess, create.Version if name != "vista" else None))
        return STATUS_SUCCESS

    stack.add("look", "100", look)
    registry.create_key(f"{SOFTWARE}\\V1", KEY_ALL_ACCESS)
    assert versions == [(KEY_ALL_ACCESS, None if name == "vista" else 1)]


def test_before_vista_bypass_is_an_ordinary_failure_and_nesting_reaches_nobody():
    """Server 2003 keeps its rules: STATUS_CALLBACK_BYPASS fails the call (decision 13)."""
    registry = Registry()
    handle = make_key(registry, "A")
    stack = Stack(registry)
    stack.add("bypasser", None, _when(N.RegNtPreSetValueKey, STATUS_CALLBACK_BYPASS))
    assert registry.set_value(handle, "V", REG_SZ, DATA) == STATUS_CALLBACK_BYPASS


def test_a_flush_is_notified_from_vista_on(vista):
    """RegNtPreFlushKey and RegNtPostFlushKey, with REG_FLUSH_KEY_INFORMATION (Object and the
    contexts), are Vista's (Microsoft's REG_NOTIFY_CLASS documentation); 2003 sends none."""
    handle = make_key(vista, "A")
    stack = Stack(vista)
    objects = []
    stack.add("watch", "100", lambda c, a2: objects.append(
        int(ffi.cast("ULONG_PTR", ffi.cast("CMHOOK_VISTA_REG_DELETE_KEY_INFORMATION *", a2).Object))) or 0
        if c == N.RegNtPreFlushKey else 0)
    assert vista.flush_key(handle) == STATUS_SUCCESS
    assert stack.seen(N.RegNtPreFlushKey) == ["watch"] and stack.seen(N.RegNtPostFlushKey) == ["watch"]
    assert objects == [vista.native.handles.lookup(handle).obj.address]
    old = Registry()
    old_handle = make_key(old, "A")
    old_stack = Stack(old)
    old_stack.add("watch", None)
    old.flush_key(old_handle)
    assert old_stack.log == []
