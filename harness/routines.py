"""The kernel routines the harness implements in Python, one function per routine.

This module owns ``ROUTINES``, the registry of those routines (``@routine(name)``): it maps a
routine's name to its Python end, and it is the list the shim's upcall table is generated
from (harness/shim/cmhook_upcalls.h, ``python -m harness.shim``), one member per entry.
Each routine has the prototype include/ntddk.h gives it and receives the active ``Kernel``
first, with two differences made for speed: a HANDLE arrives as an int, and the Zw registry
routines (``NATIVE_ROUTINES``, whose Python end is the native API, which takes addresses)
get every pointer as an int too; other routines get pointers as cdata. A LARGE_INTEGER
passed by value arrives as its QuadPart. The routines translate between the C calling side
(a driver) and ``registry_core``; they know nothing about loading modules.
"""

from __future__ import annotations

from collections.abc import Callable

from ntddk_py import (
    MODE,
    PROCESSINFOCLASS,
    PROTOTYPES,
    STATUS_ACCESS_DENIED,
    STATUS_ACCESS_VIOLATION,
    STATUS_INFO_LENGTH_MISMATCH,
    STATUS_INVALID_HANDLE,
    STATUS_INVALID_INFO_CLASS,
    STATUS_INVALID_PARAMETER,
    STATUS_KEY_DELETED,
    STATUS_NAME_TOO_LONG,
    STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
    ffi,
    nt_success,
)
from registry_core import caller
from registry_core.callbacks import VerifierError
from registry_core.names import MAX_UNICODE_STRING_BYTES
from registry_core.native import address
from registry_core.operations import OPERATIONS

ROUTINES: dict[str, Callable[..., object]] = {}
# The Zw registry routines, in the header's order: Zw*Key and ZwClose, each NtXxx of the native
# API called as a kernel-mode caller.
NATIVE_ROUTINES: tuple[str, ...] = tuple(name for name in PROTOTYPES
                                         if name == "ZwClose" or name.startswith("Zw") and name.endswith("Key"))
CURRENT_PROCESS = (1 << 64) - 1  # NtCurrentProcess(): (HANDLE)-1
# The cffi types and sizes the routines use, resolved once rather than parsed from a string per call.
HANDLE_TYPE = ffi.typeof("HANDLE")
PWSTR_TYPE = ffi.typeof("PWSTR")
PUNICODE_STRING_TYPE = ffi.typeof("PUNICODE_STRING")
OBJECT_NAME_INFORMATION_SIZE = ffi.sizeof("OBJECT_NAME_INFORMATION")
UNICODE_STRING_SIZE = ffi.sizeof("UNICODE_STRING")
WCHAR_SIZE = ffi.sizeof("WCHAR")


def routine(name: str) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register a function as the Python end of the kernel routine ``name`` of include/ntddk.h."""
    if name not in PROTOTYPES:
        raise ValueError(f"{name} is no routine include/ntddk.h declares")

    def register(function: Callable[..., object]) -> Callable[..., object]:
        if name in ROUTINES:
            raise ValueError(f"{name} is registered twice")
        ROUTINES[name] = function
        return function
    return register


# --- Cm ------------------------------------------------------------------------------

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


# --- Zw: kernel-mode callers of the native API -----------------------------------------

def _zw(name: str) -> Callable:
    operation = OPERATIONS["Nt" + name[2:]]

    def call(kernel, *args) -> int:
        previous = caller.enter_kernel_mode()  # a thread-local save and restore: this is the hot path
        try:
            return kernel.native.call(operation, args)
        finally:
            caller.switch(previous)
    call.__name__ = name
    call.__doc__ = f"{name}: {('Nt' + name[2:])} with previous mode KernelMode (trusted, unprobed)."
    return call


for _name in NATIVE_ROUTINES:
    routine(_name)(_zw(_name))


# --- Rtl -----------------------------------------------------------------------------

@routine("RtlAssert")
def rtl_assert(kernel, VoidFailedAssertion, VoidFileName, LineNumber, MutableMessage) -> None:
    """VOID RtlAssert(PVOID FailedAssertion, PVOID FileName, ULONG LineNumber, PSTR Message): what a
    failed ASSERT calls in a checked build. Windows prints the text below and breaks into the kernel
    debugger; here the text is the driver's debug output, the assertion is a verifier finding, and
    the driver goes on, as it does when the debugger is told to ignore it."""
    def text(pointer) -> str:
        return ffi.string(ffi.cast("char *", pointer)).decode("utf-8", "replace") if pointer else ""

    expression, file, message = text(VoidFailedAssertion), text(VoidFileName), text(MutableMessage)
    shown = f"\n*** Assertion failed: {message}{expression}\n***   Source File: {file}, line {LineNumber}\n\n"
    driver = kernel.calling_driver()
    kernel.dbg_output(driver.base if driver is not None else 0, 0, 0, ffi.new("char[]", shown.encode()))
    kernel.finding("assertion-failed", f"{message}{expression} is false at {file}:{LineNumber}",
                   driver.name if driver is not None else None)


# --- Ob ------------------------------------------------------------------------------

# A UNICODE_STRING's Length and MaximumLength are USHORTs of bytes: 65,534 at most, counted in WCHARs.


def _bugcheck(kernel, message: str) -> None:
    """What Windows would bug check on: a verifier finding naming the calling driver."""
    driver = kernel.calling_driver()
    kernel.finding("bugcheck", message, driver.name if driver is not None else None)


def _key_object(kernel, Object, routine_name: str):
    obj = kernel.native.objects.from_address(address(Object))
    if obj is None:
        _bugcheck(kernel, f"{routine_name} on 0x{address(Object):x}, which is no live key object")
    return obj


@routine("ObReferenceObject")
def ob_reference_object(kernel, Object) -> None:
    """VOID ObReferenceObject(PVOID Object)."""
    obj = _key_object(kernel, Object, "ObReferenceObject")
    if obj is not None:
        obj.reference(by_driver=True)


@routine("ObDereferenceObject")
def ob_dereference_object(kernel, Object) -> None:
    """VOID ObDereferenceObject(PVOID Object): gives back a reference a driver took. One more than
    drivers took would free the object under the handles and calls that hold it: bug check 0x18,
    REFERENCE_BY_POINTER, on Windows; here a finding naming the driver, and nothing changes."""
    obj = _key_object(kernel, Object, "ObDereferenceObject")
    if obj is not None and not obj.dereference_by_driver():
        _bugcheck(kernel, f"ObDereferenceObject(0x{obj.address:x}) on {obj.key.path()} gives back a reference "
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
        _bugcheck(kernel, f"ObReferenceObjectByHandle(0x{address(Handle):x}) with Object NULL: the object "
                          "pointer would be written to address 0")
        return STATUS_ACCESS_VIOLATION
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
        _bugcheck(kernel, f"ObQueryNameString(0x{obj.address:x}) with ObjectNameInfo NULL and Length {Length}: "
                          "the name would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    buffer = ffi.cast(PWSTR_TYPE, address(ObjectNameInfo) + header)
    ffi.memmove(buffer, name + b"\0\0", len(name) + 2)
    ObjectNameInfo.Name.Buffer = buffer
    ObjectNameInfo.Name.Length = len(name)
    ObjectNameInfo.Name.MaximumLength = min(len(name) + 2, MAX_UNICODE_STRING_BYTES)
    return STATUS_SUCCESS


# --- probing -------------------------------------------------------------------------

# The routines that raise on Windows: each one's Python end returns the NTSTATUS the routine raises
# (STATUS_SUCCESS: none), and its generated forwarder raises a failure in C, into the calling
# driver's __except, once the upcall has returned (harness/shim.py; longjmp never crosses Python).
RAISING_ROUTINES: frozenset[str] = frozenset({"ProbeForRead", "ProbeForWrite"})


def _probe(kernel, Address, Length, Alignment) -> int:
    """What ProbeForRead and ProbeForWrite raise, as Windows checks it whatever the previous mode: nothing
    for a zero Length; STATUS_DATATYPE_MISALIGNMENT for an Address not a multiple of Alignment; then
    STATUS_ACCESS_VIOLATION unless the whole range lies in the emulated user address space (where the
    Python API builds a user-mode caller's buffers; Windows compares with MmUserProbeAddress), so a
    driver's own or a kernel-mode caller's buffer fails, as a kernel address does on Windows. The
    range is checked now: a caller's block freed after the native layer's probe fails here."""
    return kernel.native.memory.probe(address(Address), Length, max(Alignment, 1))


@routine("ProbeForRead")
def probe_for_read(kernel, Address, Length, Alignment) -> int:
    """VOID ProbeForRead(const volatile VOID *Address, SIZE_T Length, ULONG Alignment): see _probe."""
    return _probe(kernel, Address, Length, Alignment)


@routine("ProbeForWrite")
def probe_for_write(kernel, Address, Length, Alignment) -> int:
    """VOID ProbeForWrite(volatile VOID *Address, SIZE_T Length, ULONG Alignment): see _probe (the emulated
    user memory is all writable)."""
    return _probe(kernel, Address, Length, Alignment)


# --- Ps, Ex, Ke: who is calling, and when ----------------------------------------------

@routine("ZwQueryInformationProcess")
def zw_query_information_process(kernel, ProcessHandle, ProcessInformationClass, ProcessInformation,
                                 ProcessInformationLength, ReturnLength) -> int:
    """ProcessImageFileName of NtCurrentProcess(): a UNICODE_STRING and the image's NT path after it.

    An image name longer than a UNICODE_STRING holds (no Windows process has one; a Python caller
    can make one) gets STATUS_NAME_TOO_LONG and nothing written (cmhook's decision)."""
    if address(ProcessHandle) != CURRENT_PROCESS:
        return STATUS_INVALID_HANDLE
    if ProcessInformationClass != PROCESSINFOCLASS.ProcessImageFileName:
        return STATUS_INVALID_INFO_CLASS
    image = caller.current().image.encode("utf-16-le", "surrogatepass")
    if len(image) > MAX_UNICODE_STRING_BYTES:
        return STATUS_NAME_TOO_LONG
    header = UNICODE_STRING_SIZE
    needed = header + len(image) + 2
    if ReturnLength != ffi.NULL:
        ReturnLength[0] = needed
    if ProcessInformationLength < needed:
        return STATUS_INFO_LENGTH_MISMATCH
    if ProcessInformation == ffi.NULL:
        _bugcheck(kernel, f"ZwQueryInformationProcess(ProcessImageFileName) with ProcessInformation NULL and "
                          f"length {ProcessInformationLength}: the name would be written to address 0")
        return STATUS_ACCESS_VIOLATION
    string = ffi.cast(PUNICODE_STRING_TYPE, ProcessInformation)
    buffer = ffi.cast(PWSTR_TYPE, address(ProcessInformation) + header)
    ffi.memmove(buffer, image + b"\0\0", len(image) + 2)
    string.Buffer, string.Length = buffer, len(image)
    string.MaximumLength = min(len(image) + 2, MAX_UNICODE_STRING_BYTES)
    return STATUS_SUCCESS


@routine("PsGetCurrentThreadId")
def ps_get_current_thread_id(kernel):
    return ffi.cast(HANDLE_TYPE, caller.thread_id())


@routine("PsGetCurrentProcessId")
def ps_get_current_process_id(kernel):
    return ffi.cast(HANDLE_TYPE, caller.current().process_id)


@routine("ExGetPreviousMode")
def ex_get_previous_mode(kernel) -> bytes:
    return bytes([int(caller.current().mode)])  # KPROCESSOR_MODE is a CCHAR


@routine("KeQuerySystemTime")
def ke_query_system_time(kernel, CurrentTime) -> None:
    CurrentTime.QuadPart = kernel.native.store.clock.now()
