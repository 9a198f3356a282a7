"""Cm: registering and unregistering registry callbacks (CmRegisterCallback, CmUnRegisterCallback) and,
from Windows Vista, CmRegisterCallbackEx, CmGetCallbackVersion, object contexts and key object names."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from ntddk_py import (
    STATUS_INVALID_PARAMETER,
    STATUS_NOT_IMPLEMENTED,
    STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
    ffi,
    nt_success,
)
from registry_core.callbacks import VerifierError
from registry_core.native import address

from . import bugcheck, routine


@routine("CmRegisterCallback")
def cm_register_callback(kernel, Function, Context, Cookie) -> int:
    """NTSTATUS CmRegisterCallback(PEX_CALLBACK_FUNCTION Function, PVOID Context, PLARGE_INTEGER Cookie)."""
    if Function == ffi.NULL or Cookie == ffi.NULL:
        return STATUS_INVALID_PARAMETER
    driver = kernel.calling_driver()
    name = kernel.describe_address(address(Function))
    status, cookie = kernel.native.callbacks.register(Function, Context, name=name)
    if nt_success(status):
        Cookie.QuadPart = cookie
        kernel.cookie_owner[cookie] = driver
    return status


@routine("CmUnRegisterCallback")
def cm_unregister_callback(kernel, Cookie: int) -> int:
    """NTSTATUS CmUnRegisterCallback(LARGE_INTEGER Cookie): the shim passes Cookie.QuadPart.

    Unregistering from inside the same callback would deadlock Windows: the harness records a
    verifier finding naming the callback and the notification, and fails the call."""
    try:
        status = kernel.native.callbacks.unregister(Cookie)
    except VerifierError as error:
        kernel.finding("deadlock", str(error), kernel.calling_driver_name())
        return STATUS_UNSUCCESSFUL
    if nt_success(status):
        kernel.cookie_owner.pop(Cookie, None)
    return status


# --- Windows Vista and later (docs/profiles.md) -------------------------------------------------

@dataclass
class _Names:
    """A kernel's key object names for CmCallbackGetKeyObjectID(Ex): ids per key, the names it handed out."""

    ids: dict[int, tuple[object, int]] = field(default_factory=dict)  # id(key) -> (key, its id)
    by_object: dict[int, object] = field(default_factory=dict)  # key object address -> its UNICODE_STRING
    loose: dict[int, object] = field(default_factory=dict)  # the Ex variant's, until released
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))


_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Kernel -> _Names
# Key ids are opaque pointer-sized values; these never repeat in a kernel's life.
_ID_BASE = 0xFFFF_C000_0000_0000
_ID_STEP = 0x40


def _layered(kernel, routine_name: str):
    """The layered model of the kernel's profile; before Vista the routine does not exist: a finding."""
    layered = kernel.native.layered
    if layered is None:
        kernel.finding("unsupported", f"{routine_name} is not exported before Windows Vista (profile "
                       f"{kernel.native.profile.name}): the driver would not load there",
                       kernel.calling_driver_name())
    return layered


def _text(string) -> str | None:
    if string == ffi.NULL or (string.Length and string.Buffer == ffi.NULL) or string.Length % 2:
        return None
    return bytes(ffi.buffer(string.Buffer, string.Length)).decode("utf-16-le", "surrogatepass")


def _registration(kernel, Cookie):
    if Cookie == ffi.NULL:
        return None
    cookie = Cookie.QuadPart
    return next((r for r in kernel.native.callbacks.snapshot if r.cookie == cookie), None)


@routine("CmRegisterCallbackEx")
def cm_register_callback_ex(kernel, Function, Altitude, Driver, Context, Cookie, Reserved) -> int:
    """NTSTATUS CmRegisterCallbackEx(PEX_CALLBACK_FUNCTION, PCUNICODE_STRING Altitude, PVOID Driver,
    PVOID Context, PLARGE_INTEGER Cookie, PVOID Reserved): registration at an altitude (a decimal
    number as text; registry_core.callbacks.altitude_rank); an altitude taken is
    STATUS_FLT_INSTANCE_ALTITUDE_COLLISION."""
    if _layered(kernel, "CmRegisterCallbackEx") is None:
        return STATUS_NOT_IMPLEMENTED
    if Function == ffi.NULL or Cookie == ffi.NULL or Altitude == ffi.NULL:
        return STATUS_INVALID_PARAMETER
    altitude = _text(Altitude)
    if altitude is None:
        return STATUS_INVALID_PARAMETER
    driver = kernel.calling_driver()
    name = f"{kernel.describe_address(address(Function))} at altitude {altitude}"  # the trace shows it
    status, cookie = kernel.native.callbacks.register(Function, Context, name=name, altitude=altitude)
    if nt_success(status):
        Cookie.QuadPart = cookie
        kernel.cookie_owner[cookie] = driver
    return status


@routine("CmGetCallbackVersion")
def cm_get_callback_version(kernel, Major, Minor) -> None:
    """VOID CmGetCallbackVersion(PULONG Major, PULONG Minor): 1.0 on Vista, 1.1 from Windows 7
    (Microsoft's CmGetCallbackVersion documentation); either pointer may be NULL."""
    version = kernel.native.profile.callback_version
    if version is None:
        _layered(kernel, "CmGetCallbackVersion")
        return
    if Major != ffi.NULL:
        Major[0] = version[0]
    if Minor != ffi.NULL:
        Minor[0] = version[1]


@routine("CmSetCallbackObjectContext")
def cm_set_callback_object_context(kernel, Object, Cookie, NewContext, OldContext) -> int:
    """NTSTATUS CmSetCallbackObjectContext(PVOID Object, PLARGE_INTEGER Cookie, PVOID NewContext,
    PVOID *OldContext): the registration's context on that key object, in every later notification
    on it as ObjectContext, until RegNtCallbackObjectContextCleanup."""
    layered = _layered(kernel, "CmSetCallbackObjectContext")
    if layered is None:
        return STATUS_NOT_IMPLEMENTED
    obj = kernel.native.objects.from_address(address(Object))
    registration = _registration(kernel, Cookie)
    if obj is None or registration is None:
        return STATUS_INVALID_PARAMETER
    old = layered.contexts.set(obj, registration.cookie, address(NewContext))
    if OldContext != ffi.NULL:
        OldContext[0] = ffi.cast("PVOID", old)
    return STATUS_SUCCESS


def _key_name(kernel, Object, routine_name: str):
    """(the key object, its key's id) or None for no live key object."""
    if _layered(kernel, routine_name) is None:
        return None
    obj = kernel.native.objects.from_address(address(Object))
    if obj is None:
        return None
    names = _names.setdefault(kernel, _Names())
    entry = names.ids.get(id(obj.key))
    if entry is None or entry[0] is not obj.key:
        entry = names.ids[id(obj.key)] = (obj.key, _ID_BASE + next(names.counter) * _ID_STEP)
    return obj, entry[1], names


def _unicode_string(text: str):
    data = text.encode("utf-16-le", "surrogatepass")
    buffer = ffi.new("WCHAR[]", len(data) // 2 + 1)
    ffi.memmove(buffer, data, len(data))
    string = ffi.new("UNICODE_STRING *")
    string.Buffer, string.Length, string.MaximumLength = buffer, len(data), len(data) + 2
    return string, buffer


@routine("CmCallbackGetKeyObjectID")
def cm_callback_get_key_object_id(kernel, Cookie, Object, ObjectID, ObjectName) -> int:
    """NTSTATUS CmCallbackGetKeyObjectID(PLARGE_INTEGER Cookie, PVOID Object, PULONG_PTR ObjectID,
    PCUNICODE_STRING *ObjectName): an id the same for every key object of one key, and the key's
    absolute \\REGISTRY\\... name (usable for ZwOpenKey), owned by the kernel while the object lives."""
    found = _key_name(kernel, Object, "CmCallbackGetKeyObjectID")
    if found is None or _registration(kernel, Cookie) is None:
        return STATUS_INVALID_PARAMETER
    obj, object_id, names = found
    if ObjectID != ffi.NULL:
        ObjectID[0] = object_id
    if ObjectName != ffi.NULL:
        held = names.by_object.get(obj.address)
        if held is None or held[2] is not obj:
            held = names.by_object[obj.address] = (*_unicode_string(obj.key.path()), obj)
        ObjectName[0] = held[0]
    return STATUS_SUCCESS


@routine("CmCallbackGetKeyObjectIDEx")
def cm_callback_get_key_object_id_ex(kernel, Cookie, Object, ObjectID, ObjectName, Flags) -> int:
    """NTSTATUS CmCallbackGetKeyObjectIDEx(..., ULONG Flags): as CmCallbackGetKeyObjectID, the name a
    new string each time that the driver gives back with CmCallbackReleaseKeyObjectIDEx; Flags must be 0
    (Microsoft's CmCallbackGetKeyObjectIDEx documentation)."""
    found = _key_name(kernel, Object, "CmCallbackGetKeyObjectIDEx")
    if found is None or _registration(kernel, Cookie) is None or Flags:
        return STATUS_INVALID_PARAMETER
    obj, object_id, names = found
    if ObjectID != ffi.NULL:
        ObjectID[0] = object_id
    if ObjectName != ffi.NULL:
        string, buffer = _unicode_string(obj.key.path())
        names.loose[address(string)] = (string, buffer)
        ObjectName[0] = string
    return STATUS_SUCCESS


@routine("CmCallbackReleaseKeyObjectIDEx")
def cm_callback_release_key_object_id_ex(kernel, ObjectName) -> None:
    """VOID CmCallbackReleaseKeyObjectIDEx(PCUNICODE_STRING): gives back a name the Ex call made; any
    other pointer is a bug check on Windows, a finding here."""
    names = _names.get(kernel)
    if names is None or names.loose.pop(address(ObjectName), None) is None:
        bugcheck(kernel, f"CmCallbackReleaseKeyObjectIDEx(0x{address(ObjectName):x}): no name "
                          "CmCallbackGetKeyObjectIDEx handed out, or one already released")


@routine("CmGetBoundTransaction")
def cm_get_bound_transaction(kernel, Cookie, Object):
    """PVOID CmGetBoundTransaction(PLARGE_INTEGER, PVOID): no key is bound to a transaction (cmhook has
    none yet): NULL."""
    _layered(kernel, "CmGetBoundTransaction")
    return ffi.NULL
