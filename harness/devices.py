"""The I/O manager: device objects and symbolic links by name, the handles a user-mode caller
opens on a device, and the IRPs each request becomes, built as Windows builds them.

A driver makes a device (IoCreateDevice, routines/io.py) and a symbolic link to it; a test or a
script opens it as CreateFile does (``kernel.open_device("\\\\.\\Name")``: the link resolved, an
IRP_MJ_CREATE sent) and talks to it (``handle.device_io_control(code, input, output_length)``,
``read``, ``write``, ``close``: IRP_MJ_CLEANUP then IRP_MJ_CLOSE). Every request runs in the
calling emulated process (``registry_core.caller``), with RequestorMode UserMode for a user-mode
caller, and enters the driver's dispatch routine through the shim (CmhookCallDriverDispatch), so
a crash there is a bug check report naming the driver and the routine.

IOCTL buffers, by the code's method (Microsoft's "Buffer Descriptions for I/O Control Codes"):
METHOD_BUFFERED gives the driver one SystemBuffer of max(input, output) bytes holding the input,
and copies IoStatus.Information bytes of it back to the caller's output buffer at completion
(not for an NT_ERROR status); METHOD_IN_DIRECT and METHOD_OUT_DIRECT put the input in
SystemBuffer and describe the caller's output buffer with an MDL (Irp->MdlAddress); METHOD_NEITHER
hands the driver the caller's own pointers (Parameters.DeviceIoControl.Type3InputBuffer,
Irp->UserBuffer), which lie in the emulated user address space, so ProbeForRead/ProbeForWrite
accept them and reject a kernel address. The caller's buffers live until the request completes.

Pending requests (the "inverted call" monitors use): a dispatch routine that marks the IRP
pending and returns STATUS_PENDING leaves the request open; ``handle.begin_io_control`` returns
its ``IoRequest`` at once, and the driver completes it later (another thread, a registry
callback), after which ``request.result()`` has the output. ``device_io_control`` is the
synchronous call: it waits for the completion, as DeviceIoControl without OVERLAPPED does.

What the verifier reports (``kernel.finding``): an IRP completed twice (bug check 0x44,
MULTIPLE_IRP_COMPLETE_REQUESTS), a dispatch routine returning without completing an IRP it did
not mark pending, STATUS_PENDING returned without IoMarkIrpPending, a returned status that is
not the completed one, IoStatus.Information beyond the output buffer of a buffered request, and
at DriverUnload devices not deleted, symbolic links not deleted and requests still pending.
Windows refuses to unload a driver that has devices; the harness reports the finding and drops
the devices (the module is about to be unmapped), keeping the links, which outlive a driver on
Windows too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import ntddk_py
from ntddk_py import (
    DO_BUFFERED_IO,
    DO_DEVICE_INITIALIZING,
    DO_DIRECT_IO,
    DO_EXCLUSIVE,
    FILE_ALL_ACCESS,
    FILE_GENERIC_EXECUTE,
    FILE_GENERIC_READ,
    FILE_GENERIC_WRITE,
    FILE_OPEN,
    FILE_READ_ACCESS,
    FILE_READ_DATA,
    FILE_SHARE_READ,
    FILE_SHARE_WRITE,
    FILE_WRITE_ACCESS,
    FILE_WRITE_DATA,
    GENERIC_ALL,
    GENERIC_EXECUTE,
    GENERIC_READ,
    GENERIC_WRITE,
    IO_TYPE_DEVICE,
    IO_TYPE_FILE,
    IO_TYPE_IRP,
    IRP_BUFFERED_IO,
    IRP_CREATE_OPERATION,
    IRP_DEALLOCATE_BUFFER,
    IRP_INPUT_OPERATION,
    IRP_MJ_CLEANUP,
    IRP_MJ_CLOSE,
    IRP_MJ_CREATE,
    IRP_MJ_DEVICE_CONTROL,
    IRP_MJ_MAXIMUM_FUNCTION,
    IRP_MJ_READ,
    IRP_MJ_WRITE,
    IRP_SYNCHRONOUS_API,
    MDL_MAPPED_TO_SYSTEM_VA,
    MDL_PAGES_LOCKED,
    METHOD_BUFFERED,
    METHOD_NEITHER,
    PAGE_SIZE,
    SL_PENDING_RETURNED,
    STATUS_ACCESS_DENIED,
    STATUS_INVALID_PARAMETER,
    STATUS_NO_SUCH_DEVICE,
    STATUS_OBJECT_NAME_COLLISION,
    STATUS_OBJECT_NAME_INVALID,
    STATUS_OBJECT_NAME_NOT_FOUND,
    STATUS_OBJECT_PATH_NOT_FOUND,
    STATUS_OBJECT_PATH_SYNTAX_BAD,
    STATUS_PENDING,
    STATUS_SUCCESS,
    ffi,
    nt_success,
    status_name,
)
from registry_core import caller
from registry_core.names import upcase
from registry_core.native import address

if TYPE_CHECKING:
    from .kernel import Driver, Finding, Kernel

DEVICE_DIRECTORY = "\\Device\\"
DOS_DEVICES = "\\??\\"
# The names of \??\ (Windows: \DosDevices is a symbolic link to \??, \GLOBAL?? its global form).
_DOS_ALIASES = ("\\DosDevices\\Global\\", "\\DosDevices\\", "\\GLOBAL??\\", "\\??\\Global\\")
_MAX_LINK_DEPTH = 32  # symbolic links followed in one name, at most (Windows: 32 reparses)
_COMPLETED_KEPT = 1024  # completed IRPs remembered, to tell a second completion
_MAJOR_NAMES = {getattr(ntddk_py, name): name for name in dir(ntddk_py)
                if name.startswith("IRP_MJ_") and name != "IRP_MJ_MAXIMUM_FUNCTION"}
# What CreateFile callers mostly ask for.
DEFAULT_ACCESS = GENERIC_READ | GENERIC_WRITE
DEFAULT_SHARE = FILE_SHARE_READ | FILE_SHARE_WRITE
_EXTENSION_ALIGNMENT = 16  # MEMORY_ALLOCATION_ALIGNMENT: the extension follows the object at this alignment
# GENERIC_* rights as the I/O manager maps them for a file object (IoFileObjectType's generic mapping).
_GENERIC_MAPPING = ((GENERIC_READ, FILE_GENERIC_READ), (GENERIC_WRITE, FILE_GENERIC_WRITE),
                    (GENERIC_EXECUTE, FILE_GENERIC_EXECUTE), (GENERIC_ALL, FILE_ALL_ACCESS))


def nt_error(status: int) -> bool:
    """NT_ERROR: the status' severity is an error (not a success, information or warning)."""
    return ((status & 0xFFFFFFFF) >> 30) == 3


def major_name(major: int) -> str:
    return _MAJOR_NAMES.get(major, f"IRP_MJ 0x{major:x}")


def map_generic(access: int) -> int:
    """A desired access with its GENERIC_* bits replaced by the file rights they stand for."""
    for generic, specific in _GENERIC_MAPPING:
        if access & generic:
            access = (access & ~generic) | specific
    return access


class IoError(Exception):
    """An open the I/O manager failed (CreateFile's failure): ``status`` is the NTSTATUS."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: {status_name(status)}")
        self.status = status


class IoResult(NamedTuple):
    """What a request ended with: its status, the output the caller got, IoStatus.Information."""

    status: int
    output: bytes
    information: int


def _unicode(text: str) -> tuple[Any, Any]:
    """A UNICODE_STRING over a new buffer holding text, and the buffer (keep both alive)."""
    data = text.encode("utf-16-le", "surrogatepass")
    buffer = ffi.new("WCHAR[]", len(data) // 2 + 1)
    ffi.memmove(buffer, data, len(data))
    string = ffi.new("UNICODE_STRING *", {"Length": len(data), "MaximumLength": len(data) + 2, "Buffer": buffer})
    return string, buffer


def read_unicode(string: Any) -> str | None:
    """The text of a PUNICODE_STRING (None for NULL)."""
    if string == ffi.NULL:
        return None
    if string.Length == 0 or string.Buffer == ffi.NULL:
        return ""
    return bytes(ffi.buffer(string.Buffer, string.Length & ~1)).decode("utf-16-le", "surrogatepass")


def dos_name(name: str) -> str:
    """A name under \\DosDevices, \\GLOBAL?? or \\??, spelled under \\??\\ (others unchanged)."""
    for alias in _DOS_ALIASES:
        if name[:len(alias)].upper() == alias.upper():
            return DOS_DEVICES + name[len(alias):]
    return name


def win32_to_nt(path: str) -> str:
    """CreateFile's name as the object manager sees it: \\\\.\\X and \\\\?\\X are \\??\\X."""
    if path.startswith(("\\\\.\\", "\\\\?\\")):
        return DOS_DEVICES + path[4:]
    return dos_name(path)


def _split(name: str) -> tuple[str, str]:
    """(the directory and first component, e.g. \\Device\\X; the rest, with its backslash, or "")."""
    second = name.find("\\", 1)
    third = name.find("\\", second + 1) if second > 0 else -1
    return (name, "") if third < 0 else (name[:third], name[third:])


@dataclass(eq=False)
class Device:
    """A device object IoCreateDevice made, and what the I/O manager keeps about it."""

    name: str | None
    driver: Driver
    block: Any  # the memory holding DEVICE_OBJECT and its extension
    pointer: Any  # PDEVICE_OBJECT
    exclusive: bool
    opened: int = 0
    deleted: bool = False

    @property
    def address(self) -> int:
        return address(self.pointer)

    def describe(self) -> str:
        return self.name or f"an unnamed device at 0x{self.address:x}"


@dataclass(eq=False)
class Link:
    name: str  # as created, under \??\ for a DOS device name
    target: str
    creator: str | None  # the driver that created it


@dataclass(eq=False)
class IoRequest:
    """One IRP, from the I/O manager's building it to its completion."""

    manager: IoManager
    handle: DeviceHandle
    major: int
    irp: Any  # PIRP
    stack: Any  # PIO_STACK_LOCATION
    keep: list = field(default_factory=list)
    user_blocks: list = field(default_factory=list)
    user_output: Any = None  # the caller's output buffer (cdata), if any
    output_length: int = 0
    system_buffer: Any = None
    copy_back: bool = False  # a buffered read: SystemBuffer goes back to the caller at completion
    completed: bool = False
    pending: bool = False  # the dispatch routine returned STATUS_PENDING
    returned: int | None = None  # what the dispatch routine returned
    outcome: IoResult | None = None
    event: threading.Event = field(default_factory=threading.Event)
    on_done: list[Callable[[IoRequest], None]] = field(default_factory=list)

    @property
    def irp_address(self) -> int:
        return address(self.irp)

    def done(self) -> bool:
        """Whether the request has ended: completed, or returned without being completed."""
        return self.event.is_set()

    def wait(self) -> IoResult:
        """Block until the driver completes the request (no timeout: a request nobody completes
        hangs its caller, as on Windows; the watchdog of an isolated run reports it)."""
        self.event.wait()
        return self.result()

    def result(self) -> IoResult:
        """The request's outcome; a RuntimeError while it is still pending."""
        if self.outcome is None:
            raise RuntimeError(f"the {major_name(self.major)} request is still pending: the driver has not "
                               "completed it (IoCompleteRequest)")
        return self.outcome

    def user_block(self, data: bytes) -> Any:
        """A block of the caller's user address space holding data (freed at completion)."""
        block = self.manager.kernel.native.memory.alloc("UCHAR[]", len(data))
        ffi.memmove(block, data, len(data))
        self.user_blocks.append(block)
        self.keep.append(block)
        return block


    def kernel_block(self, data: bytes) -> Any:
        """Nonpaged memory of the I/O manager's (SystemBuffer), holding data: not in the user address space."""
        block = ffi.new("UCHAR[]", max(len(data), 1))
        ffi.memmove(block, data, len(data))
        self.keep.append(block)
        return block


    def mdl(self, buffer: Any, length: int) -> Any:
        """The MDL the I/O manager makes for a direct transfer: the caller's buffer, probed, locked and
        (here) already mapped, so MmGetSystemAddressForMdlSafe gives the buffer."""
        where = address(buffer)
        pages = ((where & (PAGE_SIZE - 1)) + length + PAGE_SIZE - 1) // PAGE_SIZE
        size = ffi.sizeof("MDL") + pages * ffi.sizeof("PFN_NUMBER")
        block = ffi.new("UCHAR[]", size)
        mdl = ffi.cast("PMDL", block)
        mdl.Size = size
        mdl.MdlFlags = MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA
        mdl.StartVa = ffi.cast("PVOID", where & ~(PAGE_SIZE - 1))
        mdl.ByteOffset = where & (PAGE_SIZE - 1)
        mdl.ByteCount = length
        mdl.MappedSystemVa = ffi.cast("PVOID", where)
        self.keep.append(block)
        return mdl

    def finish(self) -> None:
        """IoCompleteRequest's part after the driver: the output copied back, the caller's buffers released."""
        irp = self.irp
        status = irp.IoStatus.Status
        information = int(irp.IoStatus.Information)
        output = b""
        if not nt_error(status) and self.output_length:
            length = information
            if information > self.output_length:
                self.manager.kernel.finding(
                    "irp-information-overrun",
                    f"{major_name(self.major)} completed with IoStatus.Information {information}, more than the "
                    f"{self.output_length}-byte output buffer: Windows would copy {information} bytes into the "
                    f"caller's buffer and overrun it", self.handle.device.driver.name)
                length = self.output_length
            if self.copy_back:
                ffi.memmove(self.user_output, self.system_buffer, length)
            output = bytes(ffi.buffer(self.user_output, length))
        self.outcome = IoResult(status, output, information)
        for block in self.user_blocks:
            self.manager.kernel.native.memory.free(block)
        self.event.set()
        for action in self.on_done:
            action(self)


class DeviceHandle:
    """A user-mode handle to a device: its FILE_OBJECT, and the requests sent through it."""

    def __init__(self, manager: IoManager, device: Device, file_object: Any, access: int, keep: list) -> None:
        self.manager = manager
        self.device = device
        self.file_object = file_object
        self.access = access
        self.keep = keep
        self.closed = False
        self.in_flight: set[IoRequest] = set()  # its requests not yet ended (CLEANUP and CLOSE aside)
        self._cleaned = False
        self._close_sent = False

    @property
    def file_object_address(self) -> int:
        return address(self.file_object)

    # --- requests ---------------------------------------------------------------------
    def begin_io_control(self, code: int, input: bytes = b"", output_length: int = 0) -> IoRequest:
        """DeviceIoControl with OVERLAPPED: the request built and sent; returns it pending or ended.

        An IOCTL whose required access (CTL_CODE's Access) the handle was not granted ends with
        STATUS_ACCESS_DENIED before any IRP, as NtDeviceIoControlFile checks a user-mode caller."""
        self._check_open()
        required = (code >> 14) & 3
        if caller.current().user_mode and (
                (required & FILE_READ_ACCESS and not self.access & FILE_READ_DATA)
                or (required & FILE_WRITE_ACCESS and not self.access & FILE_WRITE_DATA)):
            return self.manager.refused(self, IRP_MJ_DEVICE_CONTROL, STATUS_ACCESS_DENIED)
        request = self.manager.new_request(self, IRP_MJ_DEVICE_CONTROL)
        parameters = request.stack.Parameters.DeviceIoControl
        parameters.IoControlCode = code
        parameters.InputBufferLength = len(input)
        parameters.OutputBufferLength = output_length
        user_input = request.user_block(input) if input else ffi.NULL
        request.user_output = request.user_block(bytes(output_length)) if output_length else ffi.NULL
        request.output_length = output_length
        method = code & 3
        if method == METHOD_BUFFERED:
            size = max(len(input), output_length)
            if size:
                request.system_buffer = request.kernel_block(input + bytes(size - len(input)))
                request.irp.AssociatedIrp.SystemBuffer = request.system_buffer
                request.irp.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER
                if output_length:
                    request.irp.Flags |= IRP_INPUT_OPERATION
                    request.copy_back = True
            request.irp.UserBuffer = request.user_output
        elif method == METHOD_NEITHER:
            parameters.Type3InputBuffer = user_input
            request.irp.UserBuffer = request.user_output
        else:  # METHOD_IN_DIRECT, METHOD_OUT_DIRECT
            if input:
                request.system_buffer = request.kernel_block(input)
                request.irp.AssociatedIrp.SystemBuffer = request.system_buffer
                request.irp.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER
            if output_length:
                request.irp.MdlAddress = request.mdl(request.user_output, output_length)
        return self.manager.send(request)

    def device_io_control(self, code: int, input: bytes = b"", output_length: int = 0) -> IoResult:
        """DeviceIoControl: (status, output bytes, IoStatus.Information), waiting for a pending request."""
        return self.begin_io_control(code, input, output_length).wait()

    def begin_read(self, length: int) -> IoRequest:
        """ReadFile with OVERLAPPED: the buffer handed over as the device's Flags say (DO_BUFFERED_IO,
        DO_DIRECT_IO, else the caller's pointer in Irp->UserBuffer)."""
        self._check_open()
        request = self.manager.new_request(self, IRP_MJ_READ)
        request.stack.Parameters.Read.Length = length
        request.stack.Parameters.Read.ByteOffset.QuadPart = self.file_object.CurrentByteOffset.QuadPart
        request.user_output = request.user_block(bytes(length)) if length else ffi.NULL
        request.output_length = length
        self._transfer(request, request.user_output, bytes(length), length, reading=True)
        return self.manager.send(request)

    def read(self, length: int) -> IoResult:
        return self.begin_read(length).wait()

    def begin_write(self, data: bytes) -> IoRequest:
        self._check_open()
        request = self.manager.new_request(self, IRP_MJ_WRITE)
        request.stack.Parameters.Write.Length = len(data)
        request.stack.Parameters.Write.ByteOffset.QuadPart = self.file_object.CurrentByteOffset.QuadPart
        user_data = request.user_block(data) if data else ffi.NULL
        self._transfer(request, user_data, data, len(data), reading=False)
        return self.manager.send(request)

    def write(self, data: bytes) -> IoResult:
        return self.begin_write(data).wait()

    def _transfer(self, request: IoRequest, user_buffer: Any, data: bytes, length: int, reading: bool) -> None:
        flags = self.device.pointer.Flags
        if flags & DO_BUFFERED_IO:
            if length:
                request.system_buffer = request.kernel_block(data)
                request.irp.AssociatedIrp.SystemBuffer = request.system_buffer
                request.irp.Flags |= IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | (IRP_INPUT_OPERATION if reading else 0)
                request.copy_back = reading
        elif flags & DO_DIRECT_IO:
            if length:
                request.irp.MdlAddress = request.mdl(user_buffer, length)
        else:
            request.irp.UserBuffer = user_buffer

    def close(self) -> None:
        """CloseHandle: IRP_MJ_CLEANUP now; IRP_MJ_CLOSE once no request of this handle is pending
        (an outstanding IRP keeps its file object referenced)."""
        if self.closed:
            return
        self.closed = True
        if not self.device.driver.loaded:  # its driver is gone: there is nobody to send the IRPs to
            self._close_sent = True
            self.manager.closed(self)
            return
        self.manager.send(self.manager.new_request(self, IRP_MJ_CLEANUP))
        self._cleaned = True
        if not self.in_flight:
            self.send_close()

    def send_close(self) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        self.manager.send(self.manager.new_request(self, IRP_MJ_CLOSE))
        self.manager.closed(self)

    def request_done(self, request: IoRequest) -> None:
        """A request of this handle ended; the last one of a cleaned-up handle lets IRP_MJ_CLOSE go."""
        if request.major in (IRP_MJ_CLEANUP, IRP_MJ_CLOSE):
            return
        self.in_flight.discard(request)
        if self._cleaned and not self.in_flight:
            self.manager.close_later(self)

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"the handle to {self.device.describe()} is closed")

    def __enter__(self) -> DeviceHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _new_request(manager: IoManager, handle: DeviceHandle, major: int) -> IoRequest:
    size = ffi.sizeof("IRP") + ffi.sizeof("IO_STACK_LOCATION")
    block = ffi.new("UCHAR[]", size)
    irp = ffi.cast("PIRP", block)
    stack = ffi.cast("PIO_STACK_LOCATION", address(block) + ffi.sizeof("IRP"))
    irp.Type = IO_TYPE_IRP
    irp.Size = size
    irp.StackCount = b"\x01"
    irp.CurrentLocation = b"\x01"
    irp.RequestorMode = bytes([int(caller.current().mode)])
    irp.Tail.Overlay.CurrentStackLocation = stack
    irp.Tail.Overlay.OriginalFileObject = handle.file_object
    irp.ThreadListEntry.Flink = irp.ThreadListEntry.Blink = ffi.addressof(irp.ThreadListEntry)
    stack.MajorFunction = major
    stack.DeviceObject = handle.device.pointer
    stack.FileObject = handle.file_object
    return IoRequest(manager, handle, major, irp, stack, keep=[block])


class IoManager:
    """Devices and symbolic links by name, and the requests in flight. Safe to use from many threads."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.devices: dict[int, Device] = {}  # by DEVICE_OBJECT address
        self.names: dict[str, Device] = {}  # upcased \Device\X -> device
        self.links: dict[str, Link] = {}  # upcased link name -> link
        self.handles: set[DeviceHandle] = set()
        self._in_flight: dict[int, IoRequest] = {}  # by IRP address
        self._completed: OrderedDict[int, IoRequest] = OrderedDict()
        self._lock = threading.RLock()
        # Per thread: how deep in dispatch routines it is, and the IRP_MJ_CLOSEs due when it leaves the
        # outermost (a completion inside a dispatch routine never re-enters the driver with another IRP).
        self._local = threading.local()

    # --- the driver's side ---------------------------------------------------------------
    def prepare_driver_object(self, driver_object: Any) -> None:
        """Every MajorFunction entry the I/O manager's default (STATUS_INVALID_DEVICE_REQUEST), before DriverEntry."""
        default = self.kernel.lib.CmhookDefaultDispatch()
        for major in range(IRP_MJ_MAXIMUM_FUNCTION + 1):
            driver_object.MajorFunction[major] = default

    def driver_entry_returned(self, driver: Driver) -> None:
        """The I/O manager clears DO_DEVICE_INITIALIZING of the devices DriverEntry made."""
        with self._lock:
            for device in self.devices.values():
                if device.driver is driver:
                    device.pointer.Flags &= ~DO_DEVICE_INITIALIZING

    def driver_of(self, driver_object: Any) -> Driver | None:
        where = address(driver_object)
        return next((d for d in self.kernel.drivers.values() if address(d.driver_object) == where), None)

    def create_device(self, driver_object: Any, extension_size: int, name: str | None, device_type: int,
                      characteristics: int, exclusive: bool) -> tuple[int, Any]:
        """IoCreateDevice: (status, PDEVICE_OBJECT or NULL)."""
        driver = self.driver_of(driver_object)
        if driver is None:
            self.kernel.finding("bugcheck", f"IoCreateDevice with DriverObject 0x{address(driver_object):x}, which "
                                            "is no loaded driver's DRIVER_OBJECT", self.kernel.calling_driver_name())
            return STATUS_INVALID_PARAMETER, ffi.NULL
        key = None
        if name is not None:
            status = self._check_device_name(name)
            if status != STATUS_SUCCESS:
                return status, ffi.NULL
            key = upcase(name)
        object_size = ffi.sizeof("DEVICE_OBJECT")
        extension_at = -(-object_size // _EXTENSION_ALIGNMENT) * _EXTENSION_ALIGNMENT
        block = ffi.new("UCHAR[]", extension_at + extension_size)
        pointer = ffi.cast("PDEVICE_OBJECT", block)
        pointer.Type = IO_TYPE_DEVICE
        pointer.Size = (object_size + extension_size) & 0xFFFF
        pointer.DriverObject = driver_object
        pointer.Flags = DO_DEVICE_INITIALIZING | (DO_EXCLUSIVE if exclusive else 0)
        pointer.Characteristics = characteristics
        pointer.DeviceType = device_type
        pointer.StackSize = b"\x01"
        pointer.DeviceExtension = ffi.cast("PVOID", address(block) + extension_at) if extension_size else ffi.NULL
        pointer.Queue.ListEntry.Flink = pointer.Queue.ListEntry.Blink = ffi.addressof(pointer.Queue.ListEntry)
        device = Device(name, driver, block, pointer, exclusive)
        with self._lock:
            if key is not None and (key in self.names or key in self.links):
                return STATUS_OBJECT_NAME_COLLISION, ffi.NULL
            if key is not None:
                self.names[key] = device
            self.devices[device.address] = device
            pointer.NextDevice = driver_object.DeviceObject  # at the head of the driver's list
            driver_object.DeviceObject = pointer
        return STATUS_SUCCESS, pointer

    @staticmethod
    def _check_device_name(name: str) -> int:
        if not name.startswith("\\"):
            return STATUS_OBJECT_PATH_SYNTAX_BAD
        if name.endswith("\\") or "\\\\" in name:
            return STATUS_OBJECT_NAME_INVALID
        directory = name[:name.rfind("\\") + 1]
        if upcase(directory) != upcase(DEVICE_DIRECTORY):
            return STATUS_OBJECT_PATH_NOT_FOUND  # cmhook's object namespace has \Device and \?? only
        return STATUS_SUCCESS

    def delete_device(self, pointer: Any) -> None:
        """IoDeleteDevice: the name goes now (no new opens), the object when its last handle closes."""
        where = address(pointer)
        with self._lock:
            device = self.devices.pop(where, None)
            if device is None:
                self.kernel.finding("bugcheck", f"IoDeleteDevice(0x{where:x}), which is no device object (or one "
                                                "already deleted)", self.kernel.calling_driver_name())
                return
            device.deleted = True
            if device.name is not None:
                self.names.pop(upcase(device.name), None)
            self._unlink(device)

    @staticmethod
    def _unlink(device: Device) -> None:
        driver_object = device.driver.driver_object
        cursor = driver_object.DeviceObject
        previous = None
        while cursor != ffi.NULL:
            if address(cursor) == device.address:
                if previous is None:
                    driver_object.DeviceObject = cursor.NextDevice
                else:
                    previous.NextDevice = cursor.NextDevice
                return
            previous, cursor = cursor, cursor.NextDevice

    def create_symbolic_link(self, name: str, target: str) -> int:
        if not name.startswith("\\") or not target:
            return STATUS_OBJECT_PATH_SYNTAX_BAD if not name.startswith("\\") else STATUS_OBJECT_NAME_INVALID
        name = dos_name(name)
        key = upcase(name)
        with self._lock:
            if key in self.links or key in self.names:
                return STATUS_OBJECT_NAME_COLLISION
            self.links[key] = Link(name, target, self.kernel.calling_driver_name())
        return STATUS_SUCCESS

    def delete_symbolic_link(self, name: str) -> int:
        with self._lock:
            return STATUS_SUCCESS if self.links.pop(upcase(dos_name(name)), None) else STATUS_OBJECT_NAME_NOT_FOUND

    def complete(self, irp: Any) -> None:
        """IofCompleteRequest: the request ends; a second completion is bug check 0x44."""
        where = address(irp)
        with self._lock:
            request = self._in_flight.pop(where, None)
            if request is None:
                again = self._completed.get(where)
            else:
                self._completed[where] = request
                while len(self._completed) > _COMPLETED_KEPT:
                    self._completed.popitem(last=False)
        if request is None:
            what = "no IRP in flight"
            if again is not None:
                what = f"an IRP already completed (an {major_name(again.major)} to {again.handle.device.describe()})"
            self.kernel.finding("bugcheck", f"IoCompleteRequest(0x{where:x}) of {what}: Windows stops with bug check "
                                            f"0x{ntddk_py.MULTIPLE_IRP_COMPLETE_REQUESTS:X} "
                                            "MULTIPLE_IRP_COMPLETE_REQUESTS", self.kernel.calling_driver_name())
            return
        if irp.IoStatus.Status == STATUS_PENDING:
            self.kernel.finding("irp-completed-pending", f"IoCompleteRequest of an {major_name(request.major)} IRP "
                                "with IoStatus.Status STATUS_PENDING: a completed request needs its final status",
                                request.handle.device.driver.name)
        request.completed = True
        if request.stack.Control & SL_PENDING_RETURNED:
            irp.PendingReturned = 1
        request.finish()

    # --- the caller's side ---------------------------------------------------------------
    def resolve(self, path: str) -> tuple[Device, str]:
        """The device a name reaches, following symbolic links, and the rest of the name (FileName)."""
        name = win32_to_nt(path)
        for _ in range(_MAX_LINK_DEPTH):
            if not name.startswith("\\"):
                raise IoError(f"open {path!r}", STATUS_OBJECT_NAME_NOT_FOUND)
            head, rest = _split(name)
            with self._lock:
                device = self.names.get(upcase(head))
                link = self.links.get(upcase(head))
            if device is not None:
                return device, rest
            if link is None:
                raise IoError(f"open {path!r}", STATUS_OBJECT_NAME_NOT_FOUND)
            name = dos_name(link.target) + rest
        raise IoError(f"open {path!r}: more than {_MAX_LINK_DEPTH} symbolic links", STATUS_OBJECT_NAME_NOT_FOUND)

    def open(self, path: str, access: int = DEFAULT_ACCESS, share: int = DEFAULT_SHARE,
             options: int = 0) -> DeviceHandle:
        """CreateFile / NtCreateFile of a device: the name resolved, IRP_MJ_CREATE sent; IoError with the
        status when the open fails (no such name: STATUS_OBJECT_NAME_NOT_FOUND; an exclusive device
        already open: STATUS_ACCESS_DENIED; a device still initializing or deleted: STATUS_NO_SUCH_DEVICE;
        the driver's create dispatch failing: its status)."""
        device, rest = self.resolve(path)
        granted = map_generic(access)
        with self._lock:
            if device.deleted or device.pointer.Flags & DO_DEVICE_INITIALIZING:
                raise IoError(f"open {path!r}", STATUS_NO_SUCH_DEVICE)
            if device.exclusive and device.opened:
                raise IoError(f"open {path!r} (an exclusive device, already open)", STATUS_ACCESS_DENIED)
            device.opened += 1  # counted now: a second exclusive open racing this one is refused
        file_name, buffer = _unicode(rest)
        file_object = ffi.new("FILE_OBJECT *")
        file_object.Type = IO_TYPE_FILE
        file_object.Size = ffi.sizeof("FILE_OBJECT")
        file_object.DeviceObject = device.pointer
        file_object.FileName = file_name[0]
        file_object.ReadAccess = bool(granted & FILE_READ_DATA)
        file_object.WriteAccess = bool(granted & FILE_WRITE_DATA)
        file_object.SharedRead = bool(share & FILE_SHARE_READ)
        file_object.SharedWrite = bool(share & FILE_SHARE_WRITE)
        file_object.IrpList.Flink = file_object.IrpList.Blink = ffi.addressof(file_object.IrpList)
        handle = DeviceHandle(self, device, file_object, granted, [file_name, buffer])
        request = self.new_request(handle, IRP_MJ_CREATE)
        security = ffi.new("IO_SECURITY_CONTEXT *", {"DesiredAccess": granted, "FullCreateOptions": options})
        request.keep.append(security)
        request.irp.Flags |= IRP_CREATE_OPERATION | IRP_SYNCHRONOUS_API
        create = request.stack.Parameters.Create
        create.SecurityContext = security
        create.Options = (FILE_OPEN << 24) | (options & 0xFFFFFF)
        create.ShareAccess = share
        status = self.send(request).wait().status
        if not nt_success(status):
            with self._lock:
                device.opened -= 1
            raise IoError(f"open {path!r}: the driver's IRP_MJ_CREATE", status)
        with self._lock:
            device.pointer.ReferenceCount += 1
            self.handles.add(handle)
        return handle

    def closed(self, handle: DeviceHandle) -> None:
        with self._lock:
            handle.device.opened -= 1
            handle.device.pointer.ReferenceCount -= 1
            self.handles.discard(handle)

    def new_request(self, handle: DeviceHandle, major: int) -> IoRequest:
        request = _new_request(self, handle, major)
        if major == IRP_MJ_CLOSE:
            request.irp.Flags |= ntddk_py.IRP_CLOSE_OPERATION | IRP_SYNCHRONOUS_API
        return request

    def refused(self, handle: DeviceHandle, major: int, status: int) -> IoRequest:
        """A request the I/O manager ends before building an IRP."""
        request = IoRequest(self, handle, major, ffi.NULL, ffi.NULL, returned=status,
                            outcome=IoResult(status, b"", 0))
        request.event.set()
        return request

    def close_later(self, handle: DeviceHandle) -> None:
        """IRP_MJ_CLOSE for a handle whose last request ended: now, or once this thread's dispatch routine returns."""
        local = self._local
        if getattr(local, "depth", 0):
            local.due = [*getattr(local, "due", []), handle]
        else:
            handle.send_close()

    def send(self, request: IoRequest) -> IoRequest:
        """The IRP to the device's driver: its dispatch routine for the major function, entered through the shim.
        A driver already unloaded gets nothing: the request ends with STATUS_NO_SUCH_DEVICE."""
        handle, device = request.handle, request.handle.device
        if not device.driver.loaded:
            request.returned = STATUS_NO_SUCH_DEVICE
            request.outcome = IoResult(STATUS_NO_SUCH_DEVICE, b"", 0)
            request.event.set()
            return request
        with self._lock:
            self._in_flight[request.irp_address] = request
            if request.major not in (IRP_MJ_CLEANUP, IRP_MJ_CLOSE):
                handle.in_flight.add(request)
        request.on_done.append(handle.request_done)
        dispatch = device.driver.driver_object.MajorFunction[request.major]
        process_id, thread_id = caller.ids()
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        try:
            status = self.kernel.lib.CmhookCallDriverDispatch(dispatch, device.pointer, request.irp, process_id,
                                                              thread_id)
        finally:
            local.depth -= 1
        if local.depth == 0 and getattr(local, "due", None):
            due, local.due = local.due, []
            for waiting in due:
                waiting.send_close()
        request.returned = status
        routine = f"the {major_name(request.major)} dispatch routine {self.kernel.describe_address(address(dispatch))}"
        if status == STATUS_PENDING:
            request.pending = True
            if not request.stack.Control & SL_PENDING_RETURNED:
                self.kernel.finding("irp-pending-not-marked", f"{routine} returned STATUS_PENDING without "
                                    "IoMarkIrpPending: the I/O manager would not wait for the completion",
                                    device.driver.name)
            return request
        if not request.completed:
            self.kernel.finding("irp-not-completed", f"{routine} returned {status_name(status)} without completing "
                                "the IRP (IoCompleteRequest) or marking it pending: on Windows the caller would wait "
                                "forever", device.driver.name)
            with self._lock:
                self._in_flight.pop(request.irp_address, None)
            request.outcome = IoResult(status, b"", 0)
            request.event.set()
            handle.request_done(request)
        elif request.outcome is not None and request.outcome.status != status:
            self.kernel.finding("irp-status-mismatch", f"{routine} returned {status_name(status)}, but completed the "
                                f"IRP with {status_name(request.outcome.status)}: a dispatch routine returns the "
                                "status it completed with", device.driver.name)
        return request

    # --- unload -------------------------------------------------------------------------
    def leftovers(self, driver: Driver, when: str) -> list[Finding]:
        """What a driver left behind in the I/O manager: devices, symbolic links, pending requests."""
        from .kernel import Finding

        found: list[Finding] = []
        with self._lock:
            devices = [d for d in self.devices.values() if d.driver is driver]
            names = {upcase(d.name) for d in self.devices.values() if d.driver is driver and d.name}
            links = [link for link in self.links.values()
                     if link.creator == driver.name or upcase(dos_name(link.target)) in names]
            pending = [r for r in self._in_flight.values() if r.handle.device.driver is driver]
        for device in devices:
            found.append(Finding("leaked-device", driver.name,
                                 f"{when} {device.describe()} is not deleted: Windows does not unload a driver that "
                                 "has devices (call IoDeleteDevice in DriverUnload)"))
        for link in links:
            found.append(Finding("leaked-symbolic-link", driver.name,
                                 f"{when} the symbolic link {link.name} -> {link.target} is not deleted: the name "
                                 "stays taken, and the next IoCreateSymbolicLink of it fails "
                                 "(call IoDeleteSymbolicLink)"))
        for request in pending:
            found.append(Finding("pending-irp", driver.name,
                                 f"{when} an {major_name(request.major)} request to {request.handle.device.describe()} "
                                 "is still pending: complete or cancel every IRP before unloading"))
        with self._lock:
            for device in devices:
                self.devices.pop(device.address, None)
                device.deleted = True
                if device.name is not None:
                    self.names.pop(upcase(device.name), None)
            for request in pending:
                self._in_flight.pop(request.irp_address, None)
        return found
