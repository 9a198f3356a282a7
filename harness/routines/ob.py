"""Ob: references to objects of every kind the harness has (key, process, thread objects) and their
names (ObReferenceObject(ByHandle, ByPointer), ObfReferenceObject, ObDereferenceObject,
ObfDereferenceObject, ObOpenObjectByPointer, ObQueryNameString)."""

from __future__ import annotations

from ntddk_py import (
    MODE,
    PROCESS_ALL_ACCESS,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER,
    STATUS_KEY_DELETED,
    STATUS_NAME_TOO_LONG,
    STATUS_OBJECT_TYPE_MISMATCH,
    STATUS_SUCCESS,
    ffi,
)
from registry_core.names import MAX_UNICODE_STRING_BYTES
from registry_core.native import address
from registry_core.operations import map_access

from . import bugcheck, ke, routine

PWSTR_TYPE = ffi.typeof("PWSTR")
OBJECT_NAME_INFORMATION_SIZE = ffi.sizeof("OBJECT_NAME_INFORMATION")
CURRENT_PROCESS = (1 << 64) - 1  # NtCurrentProcess(): (HANDLE)-1
CURRENT_THREAD = (1 << 64) - 2  # NtCurrentThread(): (HANDLE)-2
WCHAR_SIZE = ffi.sizeof("WCHAR")

# A UNICODE_STRING's Length and MaximumLength are USHORTs of bytes: 65,534 at most, counted in WCHARs.


def _object(kernel, Object, routine_name: str):
    """The live object of any kind at Object; a bugcheck finding (None) when there is none."""
    obj = kernel.processes.object_at(address(Object))
    if obj is None:
        bugcheck(kernel, f"{routine_name} on 0x{address(Object):x}, which is no live object (key, process or "
                          "thread)")
    return obj


def _described(obj) -> str:
    key = getattr(obj, "key", None)
    return key.path() if key is not None else str(obj)


def _type_matches(kernel, obj, ObjectType) -> bool:
    """Whether an optional POBJECT_TYPE (*PsProcessType, *PsThreadType, *CmKeyObjectType) names obj's kind;
    an address that is none of them matches nothing."""
    if ObjectType == ffi.NULL:
        return True
    return kernel.processes.types.get(address(ObjectType)) == kernel.processes.kind_of(obj)


def _mode(AccessMode) -> int:
    return AccessMode[0] if isinstance(AccessMode, bytes) else AccessMode  # KPROCESSOR_MODE is a CCHAR


def _dereference(kernel, Object, routine_name: str) -> int:
    """Give back a reference a driver took. One more than drivers took would free the object under the
    handles and calls that hold it: bug check 0x18, REFERENCE_BY_POINTER, on Windows; here a finding
    naming the driver, and nothing changes. Returns the references left."""
    obj = _object(kernel, Object, routine_name)
    if obj is None:
        return 0
    if not obj.dereference_by_driver():
        bugcheck(kernel, f"{routine_name}(0x{obj.address:x}) on {_described(obj)} gives back a reference "
                          "no driver took (ObReferenceObject, ObReferenceObjectByHandle, PsLookupProcessByProcessId "
                          "...): the object would be freed while handles or the call in flight still use it "
                          "(bug check 0x18, REFERENCE_BY_POINTER)")
    return obj.references


@routine("ObReferenceObject")
def ob_reference_object(kernel, Object) -> None:
    """VOID ObReferenceObject(PVOID Object): on an object of any kind."""
    if ke.reference_object(kernel, Object, 1):  # a system thread's object (kewait)
        return
    obj = _object(kernel, Object, "ObReferenceObject")
    if obj is not None:
        obj.reference(by_driver=True)


@routine("ObfReferenceObject")
def obf_reference_object(kernel, Object) -> int:
    """LONG_PTR ObfReferenceObject(PVOID Object): what the WDK's ObReferenceObject macro calls; returns
    the new reference count."""
    obj = _object(kernel, Object, "ObfReferenceObject")
    return obj.reference(by_driver=True).references if obj is not None else 0


@routine("ObDereferenceObject")
def ob_dereference_object(kernel, Object) -> None:
    """VOID ObDereferenceObject(PVOID Object): on an object of any kind; see _dereference."""
    if ke.reference_object(kernel, Object, -1):  # a system thread's object (kewait)
        return
    _dereference(kernel, Object, "ObDereferenceObject")


@routine("ObfDereferenceObject")
def obf_dereference_object(kernel, Object) -> int:
    """LONG_PTR ObfDereferenceObject(PVOID Object): ObDereferenceObject, returning the new count."""
    return _dereference(kernel, Object, "ObfDereferenceObject")


@routine("ObReferenceObjectByPointer")
def ob_reference_object_by_pointer(kernel, Object, DesiredAccess, ObjectType, AccessMode) -> int:
    """NTSTATUS ObReferenceObjectByPointer(PVOID, ACCESS_MASK, POBJECT_TYPE, KPROCESSOR_MODE): a reference on
    an object the caller already holds; STATUS_OBJECT_TYPE_MISMATCH when ObjectType is not its type."""
    obj = _object(kernel, Object, "ObReferenceObjectByPointer")
    if obj is None:
        return STATUS_INVALID_PARAMETER
    if not _type_matches(kernel, obj, ObjectType):
        return STATUS_OBJECT_TYPE_MISMATCH
    obj.reference(by_driver=True)
    return STATUS_SUCCESS


@routine("ObOpenObjectByPointer")
def ob_open_object_by_pointer(kernel, Object, HandleAttributes, PassedAccessState, DesiredAccess, ObjectType,
                              AccessMode, Handle) -> int:
    """NTSTATUS ObOpenObjectByPointer(PVOID, ULONG, PACCESS_STATE, ACCESS_MASK, POBJECT_TYPE, KPROCESSOR_MODE,
    PHANDLE): a new handle to a key, process or thread object, in the one handle table (a kernel handle
    with OBJ_KERNEL_HANDLE in HandleAttributes); the handle holds a reference of its own, which ZwClose
    drops. STATUS_OBJECT_TYPE_MISMATCH when ObjectType is not the object's type."""
    obj = _object(kernel, Object, "ObOpenObjectByPointer")
    if obj is None:
        return STATUS_INVALID_PARAMETER
    if not _type_matches(kernel, obj, ObjectType):
        return STATUS_OBJECT_TYPE_MISMATCH
    if Handle == ffi.NULL:
        bugcheck(kernel, "ObOpenObjectByPointer with Handle NULL: the handle would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    access = map_access(DesiredAccess) if kernel.processes.kind_of(obj) == "key" else DesiredAccess
    Handle[0] = ffi.cast("HANDLE", kernel.native.handles.insert(obj.reference(), access, HandleAttributes))
    return STATUS_SUCCESS


@routine("ObReferenceObjectByHandle")
def ob_reference_object_by_handle(kernel, Handle, DesiredAccess, ObjectType, AccessMode, Object,
                                  HandleInformation) -> int:
    """NTSTATUS ObReferenceObjectByHandle(HANDLE, ACCESS_MASK, POBJECT_TYPE, KPROCESSOR_MODE, PVOID *,
    POBJECT_HANDLE_INFORMATION): a KernelMode reference skips the access check, as on Windows; an
    ObjectType that is not the type of the handle's object is STATUS_OBJECT_TYPE_MISMATCH (NULL takes
    any). NtCurrentProcess() and NtCurrentThread() name the caller's process and thread.
    A NULL Object would be written through: a bug check on Windows, a finding here (and a failure
    status, with no reference taken)."""
    if Object == ffi.NULL:
        bugcheck(kernel, f"ObReferenceObjectByHandle(0x{address(Handle):x}) with Object NULL: the object "
                          "pointer would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    if ke.is_kernel_handle(kernel, Handle):  # a system thread's handle (kewait)
        return ke.reference_handle(kernel, Handle, ObjectType, Object)
    handle = address(Handle)
    if handle in (CURRENT_PROCESS, CURRENT_THREAD):
        obj = kernel.processes.current_process() if handle == CURRENT_PROCESS else kernel.processes.current_thread()
        granted, attributes = PROCESS_ALL_ACCESS, 0
    else:
        entry = kernel.native.handles.lookup(handle)
        if entry is None:
            return STATUS_INVALID_HANDLE
        obj, granted, attributes = entry.obj, entry.granted_access, entry.attributes
    if not _type_matches(kernel, obj, ObjectType):
        return STATUS_OBJECT_TYPE_MISMATCH
    if _mode(AccessMode) == MODE.UserMode and DesiredAccess & ~granted:
        return STATUS_ACCESS_DENIED
    Object[0] = obj.reference(by_driver=True).pointer
    if HandleInformation != ffi.NULL:
        HandleInformation.GrantedAccess = granted
        HandleInformation.HandleAttributes = attributes
    return STATUS_SUCCESS


@routine("ObQueryNameString")
def ob_query_name_string(kernel, Object, ObjectNameInfo, Length, ReturnLength) -> int:
    """NTSTATUS ObQueryNameString(PVOID, POBJECT_NAME_INFORMATION, ULONG, PULONG): the full
    \\REGISTRY\\... name, NUL-terminated; a buffer too small gets STATUS_INFO_LENGTH_MISMATCH and,
    in ReturnLength, the size needed (the two-call protocol).

    A name longer than a UNICODE_STRING holds (a key more than 32,767 characters deep) gets
    STATUS_NAME_TOO_LONG and nothing written, before any length check, so that no driver retries
    with a bigger buffer (cmhook's decision). MaximumLength counts the terminator when a USHORT can."""
    obj = _object(kernel, Object, "ObQueryNameString")
    if obj is None:
        return STATUS_INVALID_PARAMETER
    key = getattr(obj, "key", None)
    if key is not None and key.deleted:
        return STATUS_KEY_DELETED
    # Process and thread objects have no name: an empty one, as Windows gives for unnamed objects.
    name = key.path().encode("utf-16-le", "surrogatepass") if key is not None else b""
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
