"""Ob: references to key objects and their names (ObReferenceObject(ByHandle), ObDereferenceObject,
ObQueryNameString)."""

from __future__ import annotations

from ntddk_py import (
    MODE,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_KEY_DELETED,
    STATUS_NAME_TOO_LONG,
    STATUS_SUCCESS,
    ffi,
)
from registry_core.names import MAX_UNICODE_STRING_BYTES
from registry_core.native import address

from . import bugcheck, ke, routine

PWSTR_TYPE = ffi.typeof("PWSTR")
OBJECT_NAME_INFORMATION_SIZE = ffi.sizeof("OBJECT_NAME_INFORMATION")
WCHAR_SIZE = ffi.sizeof("WCHAR")

# A UNICODE_STRING's Length and MaximumLength are USHORTs of bytes: 65,534 at most, counted in WCHARs.


def _key_object(kernel, Object, routine_name: str):
    obj = kernel.native.objects.from_address(address(Object))
    if obj is None:
        bugcheck(kernel, f"{routine_name} on 0x{address(Object):x}, which is no live key object")
    return obj


@routine("ObReferenceObject")
def ob_reference_object(kernel, Object) -> None:
    """VOID ObReferenceObject(PVOID Object)."""
    if ke.reference_object(kernel, Object, 1):  # a system thread's object (kewait)
        return
    obj = _key_object(kernel, Object, "ObReferenceObject")
    if obj is not None:
        obj.reference(by_driver=True)


@routine("ObDereferenceObject")
def ob_dereference_object(kernel, Object) -> None:
    """VOID ObDereferenceObject(PVOID Object): gives back a reference a driver took. One more than
    drivers took would free the object under the handles and calls that hold it: bug check 0x18,
    REFERENCE_BY_POINTER, on Windows; here a finding naming the driver, and nothing changes."""
    if ke.reference_object(kernel, Object, -1):  # a system thread's object (kewait)
        return
    obj = _key_object(kernel, Object, "ObDereferenceObject")
    if obj is not None and not obj.dereference_by_driver():
        bugcheck(kernel, f"ObDereferenceObject(0x{obj.address:x}) on {obj.key.path()} gives back a reference "
                          "no driver took (ObReferenceObject, ObReferenceObjectByHandle): the object would be "
                          "freed while handles or the call in flight still use it (bug check 0x18, "
                          "REFERENCE_BY_POINTER)")


@routine("ObReferenceObjectByHandle")
def ob_reference_object_by_handle(kernel, Handle, DesiredAccess, ObjectType, AccessMode, Object,
                                  HandleInformation) -> int:
    """NTSTATUS ObReferenceObjectByHandle(HANDLE, ACCESS_MASK, POBJECT_TYPE, KPROCESSOR_MODE, PVOID *,
    POBJECT_HANDLE_INFORMATION): a KernelMode reference skips the access check, as on Windows.
    A NULL Object would be written through: a bug check on Windows, a finding here (and a failure
    status, with no reference taken)."""
    if Object == ffi.NULL:
        bugcheck(kernel, f"ObReferenceObjectByHandle(0x{address(Handle):x}) with Object NULL: the object "
                          "pointer would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    if ke.is_kernel_handle(Handle):  # a system thread's handle (kewait)
        return ke.reference_handle(kernel, Handle, ObjectType, Object)
    entry = kernel.native.handles.lookup(address(Handle))
    if entry is None:
        return STATUS_INVALID_HANDLE
    mode = AccessMode[0] if isinstance(AccessMode, bytes) else AccessMode
    if mode == MODE.UserMode and DesiredAccess & ~entry.granted_access:
        return STATUS_ACCESS_DENIED
    Object[0] = entry.obj.reference(by_driver=True).pointer
    if HandleInformation != ffi.NULL:
        HandleInformation.GrantedAccess = entry.granted_access
        HandleInformation.HandleAttributes = entry.attributes
    return STATUS_SUCCESS


@routine("ObQueryNameString")
def ob_query_name_string(kernel, Object, ObjectNameInfo, Length, ReturnLength) -> int:
    """NTSTATUS ObQueryNameString(PVOID, POBJECT_NAME_INFORMATION, ULONG, PULONG): the full
    \\REGISTRY\\... name, NUL-terminated; a buffer too small gets STATUS_INFO_LENGTH_MISMATCH and,
    in ReturnLength, the size needed (the two-call protocol).

    A name longer than a UNICODE_STRING holds (a key more than 32,767 characters deep) gets
    STATUS_NAME_TOO_LONG and nothing written, before any length check, so that no driver retries
    with a bigger buffer (cmhook's decision). MaximumLength counts the terminator when a USHORT can."""
    obj = _key_object(kernel, Object, "ObQueryNameString")
    if obj is None:
        return STATUS_INVALID_PARAMETER
    if obj.key.deleted:
        return STATUS_KEY_DELETED
    name = obj.key.path().encode("utf-16-le", "surrogatepass")
    if len(name) > MAX_UNICODE_STRING_BYTES:
        return STATUS_NAME_TOO_LONG
    header = OBJECT_NAME_INFORMATION_SIZE
    needed = header + len(name) + WCHAR_SIZE
    if ReturnLength != ffi.NULL:
        ReturnLength[0] = needed
    if Length < needed:
        return STATUS_INFO_LENGTH_MISMATCH
    if ObjectNameInfo == ffi.NULL:
        bugcheck(kernel, f"ObQueryNameString(0x{obj.address:x}) with ObjectNameInfo NULL and Length {Length}: "
                          "the name would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    buffer = ffi.cast(PWSTR_TYPE, address(ObjectNameInfo) + header)
    ffi.memmove(buffer, name + b"\0\0", len(name) + 2)
    ObjectNameInfo.Name.Buffer = buffer
    ObjectNameInfo.Name.Length = len(name)
    ObjectNameInfo.Name.MaximumLength = min(len(name) + 2, MAX_UNICODE_STRING_BYTES)
    return STATUS_SUCCESS
