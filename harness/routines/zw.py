"""Zw: a driver's calls of the native registry API, each the Nt call with previous mode KernelMode."""

from __future__ import annotations

from collections.abc import Callable

from registry_core import caller
from registry_core.operations import OPERATIONS

from . import NATIVE_ROUTINES, routine


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
