"""Zw: a driver's calls of the native registry API, each the Nt call with previous mode KernelMode."""

from __future__ import annotations

from collections.abc import Callable

from registry_core import caller
from registry_core.operations import OPERATIONS

from . import NATIVE_ROUTINES, ke, routine


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
    if name == "ZwClose":
        return _or_kernel_handle(call)
    return call


def _or_kernel_handle(close: Callable) -> Callable:
    """ZwClose of a system thread's handle (kewait) goes to the shim's dispatcher, any other to the registry."""
    def zw_close(kernel, Handle) -> int:
        if ke.is_kernel_handle(kernel, Handle):
            return ke.close_handle(kernel, Handle)
        return close(kernel, Handle)
    zw_close.__doc__ = close.__doc__
    return zw_close


for _name in NATIVE_ROUTINES:
    routine(_name)(_zw(_name))
