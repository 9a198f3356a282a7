"""Cm: registering and unregistering registry callbacks (CmRegisterCallback, CmUnRegisterCallback)."""

from __future__ import annotations

from ntddk_py import STATUS_INVALID_PARAMETER, STATUS_UNSUCCESSFUL, ffi, nt_success
from registry_core.callbacks import VerifierError
from registry_core.native import address

from . import routine


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
