"""Vista's layered callback model: the one copy of its rules, run for the profiles with ``layered``.

``NativeApi`` hands a call's notifications here instead of its own flat walk when the profile is
layered (Vista, Windows 7, 8, 10); validation, referencing and the registry work stay the
pipeline's. The rules, each with its source in docs/profiles.md:

- the walk goes by altitude, highest first (``CallbackTable`` orders the snapshot);
- a pre's failure stops the walk: the blocker gets no post, the callbacks above it (those that
  already saw the pre) get the post with the failure, the callbacks below get nothing;
- STATUS_CALLBACK_BYPASS from a pre: no registry work, the caller gets STATUS_SUCCESS, the
  callbacks below and the bypasser's own post are skipped; a create/open takes the object,
  the granted access and the disposition the callback supplied;
- STATUS_CALLBACK_BYPASS from a post: ReturnStatus becomes the call's status (for a create/open,
  an error made a success takes the Object the callback handed back; a success made an error
  leaves the registry's reference on the new object to the callback);
- posts go to the callbacks that saw the pre, lowest first (cmhook's decision: the callback
  nearest the work sees the result first, so an override is what the callbacks above it see);
- a call made inside a callback reaches only the callbacks below that one;
- CallContext flows from each callback's pre to its own post; ObjectContext is each
  registration's context on the key object (CmSetCallbackObjectContext); a context gets
  RegNtCallbackObjectContextCleanup once, when the object's last reference goes or when the
  registration is removed.

The C walk of the shim knows none of this: these profiles always walk in Python, and each C
callback is still entered through the shim, as driver code the machine record watches.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ntddk_py import (
    MODE,
    REG_CREATED_NEW_KEY,
    REG_NOTIFY_CLASS,
    STATUS_CALLBACK_BYPASS,
    STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
    ffi,
    nt_success,
)

from . import caller
from .callbacks import Registration, active_callback
from .memory import ADDRESS_SPACE, GuardedBlock, write_pointer
from .notification import SCRATCH_BYTES, StructBuilder, builder
from .objects import KeyObject

if TYPE_CHECKING:
    from .native import NativeApi
    from .operations import Operation
    from .profiles import Profile

# The values a layered struct is filled from beyond the call's own (all start NULL or 0).
CONTEXT_SOURCES = ("CallContext", "ObjectContext", "Reserved")
OPEN_SOURCES = ("CompleteName", "RootObject", "ObjectType", "CreateOptions", "Options", "Class", "SecurityDescriptor",
                "SecurityQualityOfService", "DesiredAccess", "GrantedAccess", "Disposition", "ResultObject",
                "CallContext", "RootObjectContext", "Transaction", "Reserved", "Version", "RemainingName",
                "Wow64Flags", "Attributes", "CheckAccessMode")
POST_SOURCES = ("Object", "Status", "PreInformation", "ReturnStatus", "CallContext", "ObjectContext", "Reserved")
CLEANUP_STRUCT = "REG_CALLBACK_CONTEXT_CLEANUP_INFORMATION"
CLEANUP_CLASS = int(REG_NOTIFY_CLASS.RegNtCallbackObjectContextCleanup)
# REG_CREATE_KEY_INFORMATION_V1's Version (Microsoft's documentation: 1 for this form).
CREATE_VERSION = 1
_NULL = ffi.NULL


def _value(pointer) -> int:
    return int(ffi.cast("ULONG_PTR", pointer))


def pre_sources(op: Operation) -> tuple[str, ...]:
    """The names a layered pre's struct is filled from: the call's, then the Vista members."""
    return OPEN_SOURCES if op.kind == "open" else (*op.pre_sources, *CONTEXT_SOURCES)


class Plan:
    """One call's notifications under a layered profile: classes, builders and typed views."""

    __slots__ = ("pre_class", "pre", "pre_type", "post_class", "post", "post_type", "open")

    def __init__(self, op: Operation, profile: Profile) -> None:
        pre, post = profile.sends[op.api]
        assert pre is not None  # a layered profile sends a pre for every call it lists
        self.open = op.kind == "open"
        self.pre_class = int(pre.notify_class)
        self.pre: StructBuilder = builder(pre.struct, pre_sources(op))
        self.pre_type = ffi.typeof(pre.struct + " *")
        self.post_class = int(post.notify_class) if post is not None else None
        self.post = builder(post.struct, POST_SOURCES) if post is not None else None
        self.post_type = ffi.typeof(post.struct + " *") if post is not None else None


class Contexts:
    """CmSetCallbackObjectContext's table: (key object address, cookie) -> (object, context)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[int, int], tuple[KeyObject, int]] = {}

    def get(self, obj: KeyObject, registration: Registration) -> int:
        entry = self.entries.get((obj.address, registration.cookie))  # dict.get: atomic under the GIL
        return entry[1] if entry is not None else 0

    def set(self, obj: KeyObject, cookie: int, context: int) -> int:
        """The new context in place; the old one (0 if none) returned."""
        with self.lock:
            old = self.entries.get((obj.address, cookie))
            self.entries[(obj.address, cookie)] = (obj, context)
        return old[1] if old is not None else 0

    def take_object(self, obj: KeyObject) -> list[tuple[int, int]]:
        """(cookie, context) of every context set on obj, taken out."""
        with self.lock:
            keys = [key for key in self.entries if key[0] == obj.address]
            return [(key[1], self.entries.pop(key)[1]) for key in keys]

    def take_registration(self, cookie: int) -> list[tuple[KeyObject, int]]:
        with self.lock:
            keys = [key for key in self.entries if key[1] == cookie]
            return [self.entries.pop(key) for key in keys]


_local = threading.local()


def _blocks(depth: int) -> tuple[GuardedBlock, GuardedBlock]:
    """This thread's pre and post blocks for a call at this nesting depth: a call made inside a
    callback has its own, so the outer struct the callback is still reading stays as it was."""
    levels = getattr(_local, "levels", None)
    if levels is None:
        levels = _local.levels = []
    while len(levels) <= depth:
        levels.append((GuardedBlock(SCRATCH_BYTES), GuardedBlock(SCRATCH_BYTES)))
    return levels[depth]


class Layered:
    """The layered notifications of one NativeApi under one profile."""

    def __init__(self, api: NativeApi, profile: Profile) -> None:
        from .operations import OPERATIONS

        self.api = api
        self.profile = profile
        self.plans = {op.api: Plan(op, profile) if op.api in profile.sends else None for op in OPERATIONS.values()}
        self.contexts = Contexts()
        self.cleanup = builder(CLEANUP_STRUCT, ("Object", "ObjectContext", "Reserved"))

    # --- who is notified ------------------------------------------------------------------
    def recipients(self) -> tuple[tuple[Registration, ...], bool]:
        """(the registrations a call of this thread reaches, nested): all of them, or, for a call
        made inside a callback, those below that callback's altitude."""
        snapshot = self.api.callbacks.snapshot
        active = active_callback()
        if active is None:
            return tuple(snapshot), False
        rank = active[0].rank
        return tuple(r for r in snapshot if r.rank < rank), True

    # --- one call ---------------------------------------------------------------------------
    def run(self, op: Operation, obj: KeyObject, args: tuple, state: Any) -> int:
        api = self.api
        plan = self.plans[op.api]
        recipients, nested = self.recipients()
        trace = api.dispatcher.trace if not nested or recipients else None
        if plan is None or not recipients:
            status = api._finish(op, args, state, api._work(op, obj, args, state, False))
            if plan is not None and trace is not None:
                idle = [(plan.pre_class, (), None)] + ([(plan.post_class, (), None)] if plan.post_class else [])
                api._record(op, obj, args, state, status, idle)
            return status
        depth = getattr(_local, "depth", 0)
        _local.depth = depth + 1
        try:
            return self._notify_and_work(op, plan, obj, args, state, recipients, trace, depth)
        finally:
            _local.depth = depth

    def _notify_and_work(self, op: Operation, plan: Plan, obj: KeyObject, args: tuple, state: Any,
                         recipients: tuple, trace: Any, depth: int) -> int:
        api = self.api
        table = api.callbacks
        pre_block, post_block = _blocks(depth)
        results: list | None = [] if trace is not None else None
        cells = None
        if plan.open:
            cells = (ffi.new("PVOID *"), ffi.new("ULONG *"))  # ResultObject, Disposition
            options = args[5] if state.create else 0
            class_name = args[4] if state.create else 0
            complete_name = state.name_pointer or _value(ffi.cast("PVOID", state.empty_name))
            mode = MODE.UserMode if caller.current().user_mode else MODE.KernelMode
            values: tuple = (complete_name, obj.address, 0, options, options, class_name, 0, 0, args[1], 0,
                             _value(cells[1]), _value(cells[0]), 0, 0, 0, 0, CREATE_VERSION, complete_name, 0,
                             state.attributes, int(mode))
            context_member = "RootObjectContext"
        else:
            values = (obj.address, *args[1:], 0, 0, 0)
            context_member = "ObjectContext"
        info = plan.pre.fill(pre_block, values)
        typed = ffi.cast(plan.pre_type, info)
        called: list[tuple[Registration, int]] = []
        stopper: Registration | None = None
        outcome, status = "", STATUS_SUCCESS
        for registration in recipients:
            typed.CallContext = _NULL
            setattr(typed, context_member, ffi.cast("PVOID", self.contexts.get(obj, registration)))
            returned = table.invoke(registration, plan.pre_class, info)
            if returned is None:
                continue  # being unregistered
            if results is not None:
                results.append((registration.name, returned))
            if op.vetoable and returned < 0:
                stopper = registration
                if returned == STATUS_CALLBACK_BYPASS and self.profile.bypass:
                    outcome = "bypass"
                else:
                    outcome, status = "block", returned
                break
            called.append((registration, _value(typed.CallContext)))
        notes = [(plan.pre_class, tuple(results), stopper.name if stopper else None)] if results is not None else None
        if outcome == "bypass":
            status = self._bypassed_open(state, typed, cells) if plan.open else STATUS_SUCCESS
        elif outcome != "block":
            status = api._work(op, obj, args, state, True)
        if plan.post is not None and called:
            status = self._post(op, plan, obj, state, status, info, called, notes, post_block)
        if outcome == "block":
            if plan.open and state.result is not None:  # a post made the block a success
                status = api._finish(op, args, state, status)
        elif outcome == "bypass" and plan.open:
            status = self._finish_bypassed(args, state, status, typed, cells)
        else:
            status = api._finish(op, args, state, status)
        api._record(op, obj, args, state, status, notes)
        return status

    def _post(self, op: Operation, plan: Plan, obj: KeyObject, state: Any, status: int, info: Any,
              called: list[tuple[Registration, int]], notes: list | None, block: GuardedBlock) -> int:
        """The posts, lowest first, to the callbacks that saw the pre; a bypass from one sets the status."""
        table = self.api.callbacks
        post = plan.post
        assert post is not None and plan.post_class is not None
        target = self._post_object(op, obj, state, status)
        post_info = post.fill(block, (target, status, _value(info), STATUS_SUCCESS, 0, 0, 0))
        typed = ffi.cast(plan.post_type, post_info)
        results: list | None = [] if notes is not None else None
        for registration, call_context in reversed(called):
            typed.Object = ffi.cast("PVOID", self._post_object(op, obj, state, status))
            typed.Status = status
            typed.ReturnStatus = STATUS_SUCCESS
            typed.CallContext = ffi.cast("PVOID", call_context)
            typed.ObjectContext = ffi.cast("PVOID", self.contexts.get(obj, registration))
            returned = table.invoke(registration, plan.post_class, post_info)
            if returned is None:
                continue
            if results is not None:
                results.append((registration.name, returned))
            if returned == STATUS_CALLBACK_BYPASS and self.profile.bypass:
                override = int(typed.ReturnStatus)
                if plan.open:
                    self._override_open(state, status, override, _value(typed.Object))
                status = override
                typed.Status = status  # "the operating system also copies ReturnStatus to Status"
        if notes is not None and results is not None:
            notes.append((plan.post_class, tuple(results), None))
        return status

    @staticmethod
    def _post_object(op: Operation, obj: KeyObject, state: Any, status: int) -> int:
        """A create/open's post names its object only when it succeeded (callback version 1.1's
        rule, kept for 1.0 too: cmhook's decision); the other calls name their key."""
        if op.kind == "open":
            return state.result.address if state.result is not None and nt_success(status) else 0
        return obj.address

    def _adopt(self, address: int) -> KeyObject | None:
        """The live key object a callback handed back, its reference now the registry's."""
        obj = self.api.objects.from_address(address) if address else None
        if obj is not None:
            obj.adopt_driver_reference()
        return obj

    def _override_open(self, state: Any, status: int, override: int, handed_back: int) -> None:
        if nt_success(status) and not nt_success(override) and state.result is not None:
            state.result.pass_to_driver()  # the callback dereferences it (it turned the success down)
            state.result.dereference()
            state.result = None
        elif not nt_success(status) and nt_success(override) and state.result is None:
            state.result = self._adopt(handed_back)
            state.created = False

    def _bypassed_open(self, state: Any, typed: Any, cells: Any) -> int:
        """A pre bypass of a create/open: the callback's ResultObject becomes the caller's object.
        No live key object there is STATUS_INVALID_PARAMETER for the caller (cmhook's decision)."""
        state.result = self._adopt(_value(cells[0][0]))
        return STATUS_SUCCESS if state.result is not None else STATUS_INVALID_PARAMETER

    def _finish_bypassed(self, args: tuple, state: Any, status: int, typed: Any, cells: Any) -> int:
        """The handle to the bypassing callback's object, with the access and disposition it gave."""
        api = self.api
        if state.result is None:
            return status
        from .operations import map_access

        granted = int(typed.GrantedAccess) or map_access(args[1])
        handle = api.handles.insert(state.result, granted, state.attributes)
        write_pointer(ADDRESS_SPACE, args[0], handle)
        if state.create and args[6]:
            api.write_ulong(args[6], int(cells[1][0]) or REG_CREATED_NEW_KEY)
        return status

    # --- contexts ---------------------------------------------------------------------------
    def freed(self, obj: KeyObject) -> None:
        """The object's last reference went: each context on it gets its cleanup, once."""
        if not self.contexts.entries:
            return
        for cookie, context in self.contexts.take_object(obj):
            registration = next((r for r in self.api.callbacks.snapshot if r.cookie == cookie), None)
            if registration is not None:
                self._clean(registration, obj, context)

    def unregistering(self, registration: Registration) -> None:
        for obj, context in self.contexts.take_registration(registration.cookie):
            self._clean(registration, obj, context)

    def _clean(self, registration: Registration, obj: KeyObject, context: int) -> None:
        info = self.cleanup.build((obj.address, context, 0))
        self.api.callbacks.invoke(registration, CLEANUP_CLASS, info)
