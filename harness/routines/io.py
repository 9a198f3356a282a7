"""Io: devices, symbolic links and completing requests; the I/O manager itself is harness/devices.py.

The C side (harness/shim/io.c) has the MDL routines, the default dispatch routine and wdmsec.lib's
IoCreateDeviceSecure."""

from __future__ import annotations

from ntddk_py import STATUS_INVALID_PARAMETER, ffi

from ..devices import read_unicode
from . import bugcheck, routine

# The WDM version each profile's Windows reports (Microsoft's IoIsWdmVersionAvailable documentation:
# Windows XP 1.20, Windows Server 2003 1.30).
WDM_VERSIONS = {"xp": (0x01, 0x20), "2003": (0x01, 0x30)}


@routine("IoCreateDevice")
def io_create_device(kernel, DriverObject, DeviceExtensionSize, DeviceName, DeviceType, DeviceCharacteristics,
                     Exclusive, DeviceObject) -> int:
    """NTSTATUS IoCreateDevice(...): *DeviceObject is NULL until a device is made (see devices.IoManager)."""
    if DeviceObject == ffi.NULL:
        bugcheck(kernel, "IoCreateDevice with DeviceObject NULL: the new device would be written to address 0")
        return STATUS_INVALID_PARAMETER
    DeviceObject[0] = ffi.NULL
    status, device = kernel.io.create_device(DriverObject, DeviceExtensionSize, read_unicode(DeviceName), DeviceType,
                                             DeviceCharacteristics, bool(Exclusive))
    DeviceObject[0] = device
    return status


@routine("IoDeleteDevice")
def io_delete_device(kernel, DeviceObject) -> None:
    kernel.io.delete_device(DeviceObject)


@routine("IoCreateSymbolicLink")
def io_create_symbolic_link(kernel, SymbolicLinkName, DeviceName) -> int:
    """NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)."""
    if SymbolicLinkName == ffi.NULL or DeviceName == ffi.NULL:
        bugcheck(kernel, "IoCreateSymbolicLink with a NULL name")
        return STATUS_INVALID_PARAMETER
    return kernel.io.create_symbolic_link(read_unicode(SymbolicLinkName) or "", read_unicode(DeviceName) or "")


@routine("IoDeleteSymbolicLink")
def io_delete_symbolic_link(kernel, SymbolicLinkName) -> int:
    if SymbolicLinkName == ffi.NULL:
        bugcheck(kernel, "IoDeleteSymbolicLink with a NULL name")
        return STATUS_INVALID_PARAMETER
    return kernel.io.delete_symbolic_link(read_unicode(SymbolicLinkName) or "")


@routine("IofCompleteRequest")
def iof_complete_request(kernel, Irp, PriorityBoost) -> None:
    """VOID IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost): the boost means nothing here."""
    kernel.io.complete(Irp)


@routine("IoIsWdmVersionAvailable")
def io_is_wdm_version_available(kernel, MajorVersion, MinorVersion) -> int:
    """TRUE when the running Windows (the profile) has at least WDM MajorVersion.MinorVersion."""
    return int((MajorVersion, MinorVersion) <= WDM_VERSIONS.get(kernel.native.profile.name, (0x01, 0x30)))
