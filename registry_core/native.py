"""The native registry API: Nt*Key calls with Windows' statuses and buffer rules, and the one
pipeline every call runs through.

Every call takes the arguments a system call takes (handles, pointers to UNICODE_STRINGs,
OBJECT_ATTRIBUTES and buffers, as cffi pointers or addresses) and returns an NTSTATUS; it
never raises for a bad argument. The calls are described as data in ``operations``; here
each runs the same steps:

    validate and probe -> reference the key object -> pre-notification -> registry work
    under the lock -> post-notification -> dereference -> status

User-mode callers' pointers must lie in user memory; kernel-mode callers are trusted. The
caller's buffers are read at the work (probed, not captured, decision 11). The fast paths
(no callback registered, no trace) are branches of this pipeline, never a second copy of a
call. This module knows nothing of shared objects or of the Python conveniences in
``registry``.
"""

from __future__ import annotations

import threading
from codecs import utf_16_le_decode as _decode_utf16  # the C decoder itself: str(view, codec) goes through Python
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ntddk_py import (
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ffi,
)

from . import caller
from .callbacks import CallbackTable, Dispatcher, Trace, inside_callback
from .failure import Failure
from .handles import HandleTable
from .layered import Layered
from .memory import ADDRESS_SPACE, GuardedBlock, UserMemory, read_unicode_string_header, write_ulong
from .namespace import LINK_VALUE_NAME, Namespace
from .notification import SCRATCH_BYTES, builder
from .objects import KeyObject, ObjectTable
from .operations import OPERATIONS, POST_SOURCES, Operation, map_access, open_finish, open_shown
from .profiles import PROFILE_2003, Profile
from .store import Store

__all__ = ["Failure", "LINK_VALUE_NAME", "NativeApi", "address", "map_access"]

ULONG_SIZE = ffi.sizeof("ULONG")
WCHAR_SIZE = ffi.sizeof("WCHAR")
UNICODE_STRING_SIZE = ffi.sizeof("UNICODE_STRING")
_ULONG_PTR = ffi.typeof("ULONG_PTR")
_PVOID_P = ffi.typeof("PVOID *")
_scratch = threading.local()


def address(pointer) -> int:
    """An address from a cffi pointer, an int or None."""
    if pointer.__class__ is int:
        return pointer
    if pointer is None:
        return 0
    if isinstance(pointer, int):
        return int(pointer)
    return int(ffi.cast(_ULONG_PTR, pointer))


class NativeApi:
    """The Nt*Key system calls over one store, with their callbacks. Safe to use from many threads.

    The registry lock is held only for the registry work of a call, never while a callback runs.
    """

    def __init__(self, store: Store | None = None, memory: UserMemory | None = None,
                 profile: Profile = PROFILE_2003, trace: Trace | None = None) -> None:
        self.store = store or Store()
        self.memory = memory or UserMemory()
        self.namespace = Namespace(self.store)
        self.objects = ObjectTable()
        self.handles = HandleTable()
        self.lock = threading.RLock()
        self.profile = profile  # also makes the plans
        self.callbacks = CallbackTable()
        self.dispatcher = Dispatcher(self.callbacks, trace)
        # The key object absolute names are parsed from (RootObject of their create/open), one
        # for the kernel's life, as Windows has one root key object; its reference is never dropped.
        self.root_object = self.objects.create(self.store.root)
        self._wire_layered()

    address = staticmethod(address)

    if TYPE_CHECKING:
        # NtCreateKey ... NtClose: made from the operation table below the class.
        def __getattr__(self, name: str) -> Callable[..., int]: ...

    @property
    def profile(self) -> Profile:
        """The Windows version whose notifications the calls send; setting it switches them all."""
        return self._profile

    @profile.setter
    def profile(self, profile: Profile) -> None:
        # Each call's notifications with their struct builders, resolved once per profile. The
        # classes are plain ints: they go into trace records, which cross to a watching parent.
        plans = {}
        for op in OPERATIONS.values():
            pre, post = profile.sends.get(op.api, (None, None))
            plans[op.api] = None if pre is None or profile.layered else (
                int(pre.notify_class), builder(pre.struct, op.pre_sources),
                int(post.notify_class) if post else None, builder(post.struct, POST_SOURCES) if post else None)
        self._profile, self._plans = profile, plans
        # --- Vista and later: the layered model has its own walk (registry_core.layered) ---
        self._layered = Layered(self, profile) if profile.layered else None
        if "callbacks" in self.__dict__:
            self._wire_layered()

    def _wire_layered(self) -> None:
        """Point the callback table and the object table at the profile's model."""
        layered = self._layered
        self.callbacks.set_layered(layered is not None)
        self.callbacks.before_unregister = layered.unregistering if layered is not None else None
        self.objects.freed = layered.freed if layered is not None else None

    @property
    def layered(self) -> Layered | None:
        """The layered model's state (object contexts) under a Vista or later profile, else None."""
        return self._layered

    # --- probing and reading the caller's memory -------------------------------
    def probe(self, pointer: int, length: int, alignment: int = 1) -> None:
        """ProbeForRead/Write for user-mode callers; a NULL pointer fails for everyone."""
        if length == 0:
            return
        if pointer == 0:
            raise Failure(STATUS_ACCESS_VIOLATION)
        if caller.current().user_mode:
            status = self.memory.probe(pointer, length, alignment)
            if status != STATUS_SUCCESS:
                raise Failure(status)

    def read_unicode_string(self, pointer: int, odd_length_status: int) -> str:
        """The text of a caller's UNICODE_STRING, read from its own buffer now, in one decode."""
        user = caller.current().user_mode  # asked once: kernel-mode pointers are not probed
        if user:
            self.probe(pointer, UNICODE_STRING_SIZE, ULONG_SIZE)
        elif not pointer:
            raise Failure(STATUS_ACCESS_VIOLATION)
        length, maximum, buffer = read_unicode_string_header(ADDRESS_SPACE, pointer)
        if length % 2:
            raise Failure(odd_length_status)
        if length > maximum:
            raise Failure(STATUS_INVALID_PARAMETER)
        if not length:
            return ""
        if user:
            self.probe(buffer, length, WCHAR_SIZE)  # fact 37: Server 2003 checks the alignment
        elif not buffer:
            raise Failure(STATUS_ACCESS_VIOLATION)
        return _decode_utf16(ADDRESS_SPACE[buffer:buffer + length], "surrogatepass", True)[0]

    def value_name(self, pointer: int, odd_length_status: int = STATUS_INVALID_PARAMETER) -> str:
        """A value name: an odd length is STATUS_INVALID_PARAMETER (fact 38)."""
        return self.read_unicode_string(pointer, odd_length_status)

    def read_bytes(self, pointer: int, length: int) -> bytes:
        if not length:
            return b""
        if caller.current().user_mode:
            self.probe(pointer, length)
        elif not pointer:
            raise Failure(STATUS_ACCESS_VIOLATION)
        return ADDRESS_SPACE[pointer:pointer + length].tobytes()

    def write_ulong(self, pointer: int, value: int) -> None:
        self.probe(pointer, ULONG_SIZE, ULONG_SIZE)
        write_ulong(ADDRESS_SPACE, pointer, value & 0xFFFFFFFF)

    def write_bytes(self, pointer: int, data: bytes) -> None:
        if data:
            self.probe(pointer, len(data))
            ADDRESS_SPACE[pointer:pointer + len(data)] = data

    # --- handles -----------------------------------------------------------------
    def reference(self, handle: int, access: int) -> KeyObject:
        """The handle's key object, referenced; user-mode callers need the access on the handle."""
        entry = self.handles.lookup(handle)
        if entry is None:
            raise Failure(STATUS_INVALID_HANDLE)
        if not isinstance(entry.obj, KeyObject):  # a process or thread handle (ObReferenceObjectByHandle's check)
            raise Failure(STATUS_OBJECT_TYPE_MISMATCH)
        if access and (entry.granted_access & access) != access and caller.current().user_mode:
            raise Failure(STATUS_ACCESS_DENIED)
        return entry.obj.reference()

    def _target(self, op: Operation, args: tuple, state: Any) -> KeyObject:
        """The referenced object a close's or a create/open's notifications name (a handle call's:
        ``reference``)."""
        if op.kind == "close":
            entry = self.handles.remove(args[0])
            if entry is None:
                raise Failure(STATUS_INVALID_HANDLE)
            if not isinstance(entry.obj, KeyObject):
                # A process or thread handle: closed with no registry notification, not traced.
                entry.obj.dereference()
                raise Failure(STATUS_SUCCESS)
            return entry.obj  # the handle's reference passes to the call, which drops it
        return (state.root or self.root_object).reference()

    # --- the pipeline --------------------------------------------------------------
    @staticmethod
    def arguments(op: Operation, args: tuple) -> tuple:
        """A Python caller's arguments as the pipeline takes them: every pointer an address, and
        the trailing optional ones given as 0. (The shim's upcalls already pass addresses.)"""
        if len(args) != len(op.parameters):
            missing = len(op.parameters) - len(args)
            if not 0 < missing <= op.defaults:
                raise TypeError(f"{op.api} takes {len(op.parameters)} arguments, not {len(args)}")
            args = args + (0,) * missing
        if op.pointers:
            converted = list(args)
            for index in op.pointers:
                converted[index] = address(converted[index])
            args = tuple(converted)
        return args

    def call(self, op: Operation, args: tuple) -> int:
        """Run one native call: the system-call boundary, where Failure becomes its status.

        ``args`` are the prototype's parameters in order, pointers as addresses (``arguments``)."""
        try:
            state = op.prepare(self, args)
            if op.kind == "handle":
                access = op.access
                obj = self.reference(args[0], access if isinstance(access, int) else access(args))
            else:
                obj = self._target(op, args, state)
            try:
                return self._notify_and_work(op, obj, args, state)
            finally:
                obj.dereference()
        except Failure as failure:
            return failure.status
        except (TypeError, OverflowError, ValueError):
            return STATUS_INVALID_PARAMETER

    def _work(self, op: Operation, obj: KeyObject, args: tuple, state: Any, reread: bool) -> int:
        if op.work is None:
            return STATUS_SUCCESS
        try:
            with self.lock:
                if op.kind != "open" and obj.key.deleted:
                    return op.deleted_status
                return op.work(self, obj, args, state, reread)
        except Failure as failure:
            return failure.status

    def _finish(self, op: Operation, args: tuple, state: Any, status: int) -> int:
        return open_finish(self, args, state, status) if op.kind == "open" else status

    def _notify_and_work(self, op: Operation, obj: KeyObject, args: tuple, state: Any) -> int:
        if self._layered is not None:
            return self._layered.run(op, obj, args, state)
        trace = self.dispatcher.trace
        snapshot = self.callbacks.snapshot
        plan = self._plans[op.api]
        if plan is None or (not snapshot and trace is None) or inside_callback():
            # Nothing to tell anybody: no struct, no walk, no record. A call made from inside a
            # callback reaches no callback and is not traced (decision 6).
            status = self._work(op, obj, args, state, False)
            return open_finish(self, args, state, status) if op.kind == "open" else status
        pre_class, pre_builder, post_class, post_builder = plan
        if not snapshot:
            # Traced with no callback registered: the notifications are recorded, none is built.
            status = self._work(op, obj, args, state, False)
            status = self._finish(op, args, state, status)
            idle = [(pre_class, (), None)] + ([(post_class, (), None)] if post_class is not None else [])
            self._record(op, obj, args, state, status, idle)
            return status
        results: list | None = [] if trace is not None else None
        complete_name = (state.name_pointer or address(state.empty_name)) if op.kind == "open" else 0
        values = (complete_name, obj.address) if op.kind == "open" else (obj.address, *args[1:])
        pre_block, post_block = self._scratch()
        info = pre_builder.fill(pre_block, values)
        status, blocker = self.dispatcher.walk(snapshot, pre_class, info, op.vetoable, results)
        notes = [(pre_class, tuple(results), blocker)] if results is not None else None
        if blocker is not None and op.vetoable:
            self._record(op, obj, args, state, status, notes)
            return status  # decision 4: the caller gets the pre's status; no work, no post
        status = self._work(op, obj, args, state, True)
        if post_class is not None:
            self._post(op, obj, state, post_class, post_builder, status, complete_name, notes, post_block)
        status = self._finish(op, args, state, status)
        self._record(op, obj, args, state, status, notes)
        return status

    def _post(self, op: Operation, obj: KeyObject, state: Any, post_class: int, post_builder, status: int,
              complete_name: int, notes: list | None, block: GuardedBlock) -> None:
        """Every callback gets the post with the work's status; what they return is ignored (decision 5).

        A create/open's post names the key it reached, or NULL when it failed (decision 8); XP
        passes the address of the object pointer instead (specification section 3)."""
        holder = None
        if op.kind == "open":
            target = state.result.address if state.result is not None else 0
            if target and self.profile.post_object_indirect:
                holder = ffi.new(_PVOID_P, ffi.cast("PVOID", target))
                target = address(holder)
        else:
            target = obj.address
        info = post_builder.fill(block, (target, status, complete_name))
        results: list | None = [] if notes is not None else None
        self.dispatcher.walk(self.callbacks.snapshot, post_class, info, False, results)
        if notes is not None and results is not None:
            notes.append((post_class, tuple(results), None))

    @staticmethod
    def _scratch() -> tuple[GuardedBlock, GuardedBlock]:
        """This thread's two blocks for a call's pre and post structs, each ending at a guard page.

        Reused call after call, as Windows builds these structs on the kernel stack: a callback
        must not keep Argument2 past its return. Calls made inside a callback send nothing, so
        a block is never overwritten while a callback of this thread can still read it."""
        try:
            return _scratch.blocks
        except AttributeError:
            _scratch.blocks = (GuardedBlock(SCRATCH_BYTES), GuardedBlock(SCRATCH_BYTES))
            return _scratch.blocks

    def _record(self, op: Operation, obj: KeyObject, args: tuple, state: Any, status: int, notes: list | None) -> None:
        trace = self.dispatcher.trace
        if trace is None or notes is None:
            return
        shown = open_shown(self, obj, state) if op.kind == "open" else obj.key.path()
        detail = op.detail(args, state) if op.detail is not None else None
        trace.add_raw((op.api, caller.thread_id(), caller.current().process_id, shown, status, tuple(notes),
                       detail))


def _system_call(op: Operation):
    def system_call(self: NativeApi, *args) -> int:
        try:
            args = self.arguments(op, args)
        except (TypeError, OverflowError, ValueError):
            return STATUS_INVALID_PARAMETER
        return self.call(op, args)

    system_call.__name__ = system_call.__qualname__ = op.api
    system_call.__doc__ = f"{op.api}({', '.join(op.parameters)}): see operations.OPERATIONS[{op.api!r}]."
    return system_call


for _op in OPERATIONS.values():
    setattr(NativeApi, _op.api, _system_call(_op))
