"""The kernel's processes: their objects, the object types drivers name, the notify routines drivers
register, and the starts and ends a test or a script makes happen.

``Processes`` belongs to one ``Kernel`` (``kernel.processes``). The objects themselves are
``registry_core.processes``; this module adds what needs the shim: the type objects' addresses,
the ImageFileName offset, calling a driver's notify routine through the shim's watch slot
(``CmhookCallDriverRoutine``: a crash there is reported naming the driver and the routine), the
pool SeLocateProcessImageName allocates for a driver, and the verifier's check at DriverUnload.

A process appears when a caller acting for it first appears (``caller.calling_as``: a script's
``as PID IMAGE``, a test's ``caller.as_process``) or when a test or a script starts it
(``start_process``, which runs the process notify routines and returns the CreationStatus a
PsSetCreateProcessNotifyRoutineEx routine may set to deny the start). Windows refuses
PsSetCreateProcessNotifyRoutineEx with STATUS_ACCESS_DENIED to a driver whose image was not linked
with /INTEGRITYCHECK; a Linux module has no such flag, so the harness accepts every driver.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ntddk_py import MODE, STATUS_SUCCESS, ffi, nt_success
from registry_core import caller
from registry_core.processes import SYSTEM_PROCESS_ID, ProcessObject, ProcessTable, ThreadObject, file_name

from . import isolation

if TYPE_CHECKING:
    from .kernel import Driver, Kernel

# The notify routines Windows keeps per kind (PSP_MAX_CREATE_PROCESS_NOTIFY and its siblings, 64
# since Vista; 8 before).
NOTIFY_LIMIT = 64
# What the kinds are called in findings and which routine removes each.
KINDS = {"process": ("create-process notify routine", "PsSetCreateProcessNotifyRoutine(Routine, TRUE)"),
         "process-ex": ("create-process notify routine (Ex)", "PsSetCreateProcessNotifyRoutineEx(Routine, TRUE)"),
         "thread": ("create-thread notify routine", "PsRemoveCreateThreadNotifyRoutine"),
         "image": ("load-image notify routine", "PsRemoveLoadImageNotifyRoutine")}
_CALL_KINDS = {"process": "CmhookInProcessNotify", "process-ex": "CmhookInProcessNotify",
               "thread": "CmhookInThreadNotify", "image": "CmhookInImageNotify"}


@dataclass(frozen=True)
class Registration:
    kind: str
    function: int
    driver: Driver | None
    name: str


class Processes:
    """One kernel's processes, threads, object types and notify routines."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        library = ctypes.CDLL(str(kernel.shim_path))
        offset = ctypes.c_uint32.in_dll(library, "CmhookImageFileNameOffset").value
        self.table = ProcessTable(kernel.native.store.clock, offset)
        # Each exported POBJECT_TYPE * variable points to a cell holding the type object's address.
        self.types: dict[int, str] = {}
        self.type_of_kind: dict[str, int] = {}
        for variable, kind in (("PsProcessType", "process"), ("PsThreadType", "thread"), ("CmKeyObjectType", "key")):
            cell = ctypes.c_void_p.in_dll(library, variable).value
            address = ctypes.c_void_p.from_address(cell).value if cell else 0
            self.types[address or 0] = kind
            self.type_of_kind[kind] = address or 0
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []
        self._enums = kernel.ffi.typeof("CMHOOK_DRIVER_CALL").relements
        self.appeared(caller.SYSTEM)
        self.appeared(caller.DEFAULT_CALLER)

    # --- which process and thread ------------------------------------------------------------
    def appeared(self, who: caller.Caller) -> ProcessObject:
        """A caller acts for its process: the process exists from now on (made with its image; a live
        process with that id but another image ended, as when Windows reuses an id)."""
        process = self.table.process(who.process_id)
        if process is not None and process.image != who.image and who.process_id != SYSTEM_PROCESS_ID:
            self.table.end(who.process_id)  # the id was reused by another image: a new process
            process = None
        if process is None:
            process = self.table.ensure(who.process_id, who.image)
            isolation.note_process(process.process_id, file_name(process.image))
        return process

    def current_process(self) -> ProcessObject:
        return self.appeared(caller.current())

    def current_thread(self) -> ThreadObject:
        return self.table.thread(self.current_process(), caller.thread_id())

    def object_at(self, address: int):
        """The live object of any kind at an address (key, process, thread), or None."""
        return self.kernel.native.objects.from_address(address) or self.table.from_address(address)

    def kind_of(self, obj: Any) -> str:
        return getattr(obj, "kind", "key")

    # --- notify routines ----------------------------------------------------------------------
    def register(self, kind: str, function: int, unique: bool = True) -> bool:
        """Add a notify routine; False if the table is full or (unique) it is registered already for this kind."""
        driver = self.kernel.calling_driver()
        with self._lock:
            same = [r for r in self.registrations if r.kind == kind]
            if unique and any(r.function == function for r in same) or len(same) >= NOTIFY_LIMIT:
                return False
            self.registrations.append(Registration(kind, function, driver, self.kernel.describe_address(function)))
        return True

    def unregister(self, kind: str, function: int) -> bool:
        with self._lock:
            for registration in self.registrations:
                if registration.kind == kind and registration.function == function:
                    self.registrations.remove(registration)
                    return True
        return False

    def _registered(self, *kinds: str) -> list[Registration]:
        with self._lock:
            return [r for r in self.registrations if r.kind in kinds]

    def _call(self, registration: Registration, arguments: tuple[int, int, int], context: ProcessObject) -> None:
        """Call a notify routine as driver code the watch slot knows of, in the context of a process's
        thread (kernel mode), as Windows calls it."""
        who = caller.Caller(mode=MODE.KernelMode, process_id=context.process_id, image=context.image)
        with caller.calling_as(who):
            self.kernel.lib.CmhookCallDriverRoutine(self._enums[_CALL_KINDS[registration.kind]],
                                                    self.kernel.ffi.cast("PVOID", registration.function),
                                                    *arguments, context.process_id, caller.thread_id())

    def leftovers(self, driver: Driver) -> list[str]:
        """What a driver leaves registered at its unload, one text each: Windows bug checks when it next
        calls the routine, since the code is gone (DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS)."""
        left = []
        for registration in self._registered(*KINDS):
            owner = registration.driver
            if owner is driver or self.kernel.module_of(registration.function) is driver:
                what, remove = KINDS[registration.kind]
                left.append(f"the {what} {registration.name} is still registered: the next process or thread "
                            f"start would run unloaded code and crash the machine (call {remove} in "
                            "DriverUnload)")
                self.unregister(registration.kind, registration.function)
        return left

    # --- starts and ends ------------------------------------------------------------------------
    def start(self, process_id: int, image: str, parent: int | None = None, command_line: str | None = None) -> int:
        """Start a process: the create-process notify routines, then the thread notify routines for its
        first thread, each in the creator's context. Returns the CreationStatus; a denied process never
        runs (it does not exist afterwards).

        cmhook's decisions where Microsoft's documentation is silent: the Ex routines run first, in
        registration order; the first that sets a failing CreationStatus ends the start, and no routine
        after it (Ex or not) hears of the process, nor does any get an exit for it."""
        if self.table.process(process_id) is not None:
            raise ValueError(f"process {process_id} is running already")
        creator = self.current_process() if parent is None else self.table.process(parent)
        if creator is None:
            raise ValueError(f"the parent process {parent} is not running")
        line = command_line if command_line is not None else f'"{image}"'
        process = self.table.create(process_id, image, creator.process_id, line)
        isolation.note_process(process_id, file_name(image))
        status = STATUS_SUCCESS
        keep: list = []
        for registration in self._registered("process-ex"):
            info = ffi.new("PS_CREATE_NOTIFY_INFO *")
            names = [_unicode_string(image, keep), _unicode_string(line, keep)]
            info.Size = ffi.sizeof("PS_CREATE_NOTIFY_INFO")
            info.Flags = 1  # FileOpenNameAvailable: ImageFileName is the name the file was opened by
            info.ParentProcessId = ffi.cast("HANDLE", creator.process_id)
            info.CreatingThreadId.UniqueProcess = ffi.cast("HANDLE", creator.process_id)
            info.CreatingThreadId.UniqueThread = ffi.cast("HANDLE", caller.thread_id())
            info.ImageFileName, info.CommandLine = names
            info.CreationStatus = STATUS_SUCCESS
            keep.extend(names)
            self._call(registration, (process.address, process_id, _address(info)), creator)
            if not nt_success(info.CreationStatus):
                status = info.CreationStatus
                break
        if not nt_success(status):
            self.table.end(process_id, status)
            return status
        for registration in self._registered("process"):
            self._call(registration, (creator.process_id, process_id, 1), creator)
        thread = self.table.thread(process, caller.thread_id())
        for registration in self._registered("thread"):
            self._call(registration, (process_id, thread.thread_id, 1), creator)
        return status

    def end(self, process_id: int, exit_status: int = 0) -> bool:
        """A process ends: thread exit notifications, then process exit ones (Ex routines get a NULL
        CreateInfo), in the context of the exiting process; False if it was not running."""
        process = self.table.process(process_id)
        if process is None:
            return False
        threads = [t for (pid, _), t in list(self.table.threads.items()) if pid == process_id]
        for thread in threads:
            for registration in self._registered("thread"):
                self._call(registration, (process_id, thread.thread_id, 0), process)
        for registration in self._registered("process-ex"):
            self._call(registration, (process.address, process_id, 0), process)
        for registration in self._registered("process"):
            self._call(registration, (process.parent_id, process_id, 0), process)
        self.table.end(process_id, exit_status)
        return True

    def image_loaded(self, driver: Driver, path: str, size: int) -> None:
        """A driver image was loaded: the load-image notify routines get its name, process id 0 and an
        IMAGE_INFO saying a kernel-mode image (SystemModeImage) at its base."""
        registrations = self._registered("image")
        if not registrations:
            return
        keep: list = []
        name = _unicode_string(f"\\??\\{path}", keep)
        info = ffi.new("IMAGE_INFO *")
        info.Properties = 1 << 8  # SystemModeImage
        info.ImageBase = ffi.cast("PVOID", driver.base)
        info.ImageSize = size
        system = self.table.ensure(SYSTEM_PROCESS_ID, caller.SYSTEM.image)
        for registration in registrations:
            self._call(registration, (_address(name), 0, _address(info)), system)


def _unicode_string(text: str, keep: list):
    """A UNICODE_STRING of text, NUL-terminated; keep holds its memory while a routine reads it."""
    data = text.encode("utf-16-le", "surrogatepass")
    buffer = ffi.new("WCHAR[]", len(data) // 2 + 1)
    ffi.memmove(buffer, data, len(data))
    string = ffi.new("UNICODE_STRING *")
    string.Buffer, string.Length, string.MaximumLength = buffer, len(data), len(data) + 2
    keep.extend((buffer, string))
    return string


def _address(pointer) -> int:
    return int(ffi.cast("ULONG_PTR", pointer))
