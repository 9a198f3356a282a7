"""Processes and threads as kernel objects: the EPROCESS and ETHREAD a driver holds pointers to.

Each emulated process id that a caller acts for (``caller.Caller``) has one process object once
it appeared (the System process, pid 4, from the start), and each (process, emulated thread id)
pair one thread object. Like key objects (``objects``), each is a block of native memory whose
address stays valid while any reference is held: the table holds one while the process lives,
drivers take more (PsLookupProcessByProcessId, ObReferenceObject ...); when the process ends the
table drops its own, and the last dereference frees the block. Blocks are opaque to drivers but
for the image file name (EPROCESS.ImageFileName, what PsGetProcessImageFileName returns a pointer
to): its 15 bytes are written at ``image_name_offset``, followed by a NUL.

References drivers took are counted on their own, as key objects count them, so that a driver's
ObDereferenceObject that gives back a reference no driver took is refused (bug check 0x18 on
Windows). Nothing here knows about keys or the shim.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ntddk_py import STATUS_PENDING, ffi

from .referenced import Referenced

# Size of the opaque blocks: room for the image file name and more; drivers never look inside.
PROCESS_OBJECT_BYTES = 256
THREAD_OBJECT_BYTES = 128
# EPROCESS.ImageFileName is a UCHAR[15]: the image's file name, cut to its first 15 characters.
IMAGE_FILE_NAME_CHARS = 15
SYSTEM_PROCESS_ID = 4


def file_name(image: str) -> str:
    """The last component of an image path (the whole text for "System")."""
    return image.replace("/", "\\").rsplit("\\", 1)[-1]


def image_file_name(image: str) -> bytes:
    """EPROCESS.ImageFileName for an image path: its file name's first 15 characters, in ANSI (a
    character outside Latin-1 becomes '?', as a code page conversion would make it)."""
    return file_name(image)[:IMAGE_FILE_NAME_CHARS].encode("latin-1", "replace")


class _Block(Referenced):
    """A referenced native block: the part process and thread objects share."""

    kind = ""
    size = 0

    def __init__(self, table: ProcessTable) -> None:
        self._memory = ffi.new("UCHAR[]", self.size)
        self.address = int(ffi.cast("ULONG_PTR", self._memory))
        self._references = 1  # the table's
        self._driver_references = 0
        self._table = table


class ProcessObject(_Block):
    """An EPROCESS: the process id, its image (NT path), its parent, command line and times."""

    kind = "process"
    size = PROCESS_OBJECT_BYTES

    def __init__(self, table: ProcessTable, process_id: int, image: str, parent_id: int, command_line: str,
                 create_time: int) -> None:
        super().__init__(table)
        self.process_id = process_id
        self.image = image
        self.parent_id = parent_id
        self.command_line = command_line
        self.create_time = create_time
        self.exit_status = STATUS_PENDING  # what ProcessBasicInformation says of a live process
        self.exited = False
        name = image_file_name(image)
        ffi.memmove(self._memory + table.image_name_offset, name + b"\0", len(name) + 1)

    @property
    def nt_path(self) -> str:
        """The image's NT path as SeLocateProcessImageName and ProcessImageFileName give it; the System
        process has no image file: an empty name (cmhook's decision; Windows gives an empty name too)."""
        return "" if self.process_id == SYSTEM_PROCESS_ID else self.image

    def __str__(self) -> str:
        return f"process {self.process_id} ({file_name(self.image)}) at 0x{self.address:x}"


class ThreadObject(_Block):
    """An ETHREAD: an emulated thread id acting in one process."""

    kind = "thread"
    size = THREAD_OBJECT_BYTES

    def __init__(self, table: ProcessTable, thread_id: int, process: ProcessObject) -> None:
        super().__init__(table)
        self.thread_id = thread_id
        self.process = process.reference()  # a thread keeps its process's object alive, as on Windows

    def dereference(self) -> None:
        super().dereference()
        if self._memory is None and self.process is not None:
            process, self.process = self.process, None
            process.dereference()

    def __str__(self) -> str:
        return f"thread {self.thread_id} at 0x{self.address:x}"


@dataclass(frozen=True)
class ProcessStart:
    """What starting a process is given: what PS_CREATE_NOTIFY_INFO tells a notify routine."""

    process_id: int
    image: str
    parent_id: int
    command_line: str


class ProcessTable:
    """Every live process and thread object, by id and by address. Safe to use from many threads."""

    def __init__(self, clock, image_name_offset: int = 0x10) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.image_name_offset = image_name_offset
        self.by_pid: dict[int, ProcessObject] = {}
        self.threads: dict[tuple[int, int], ThreadObject] = {}
        self.by_address: dict[int, ProcessObject | ThreadObject] = {}

    def create(self, process_id: int, image: str, parent_id: int = 0, command_line: str = "") -> ProcessObject:
        """A new live process (the table holds its reference); ValueError if the id is live already."""
        with self.lock:
            if process_id in self.by_pid:
                raise ValueError(f"process {process_id} is running already")
            process = ProcessObject(self, process_id, image, parent_id, command_line, self.clock.now())
            self.by_pid[process_id] = process
            self.by_address[process.address] = process
            return process

    def process(self, process_id: int) -> ProcessObject | None:
        with self.lock:
            return self.by_pid.get(process_id)

    def ensure(self, process_id: int, image: str) -> ProcessObject:
        """The live process with this id, made now (with this image) if it never appeared or ended."""
        with self.lock:
            found = self.by_pid.get(process_id)
            return found if found is not None else self.create(process_id, image)

    def thread(self, process: ProcessObject, thread_id: int) -> ThreadObject:
        """The thread object of an emulated thread acting in a live process, made on first use."""
        with self.lock:
            key = (process.process_id, thread_id)
            found = self.threads.get(key)
            if found is None:
                found = self.threads[key] = ThreadObject(self, thread_id, process)
                self.by_address[found.address] = found
            return found

    def find_thread(self, thread_id: int, prefer: int | None = None) -> ThreadObject | None:
        """A live thread with this id: the one in process ``prefer`` if there is one, else any (an OS
        thread that acted for several processes has a thread object in each)."""
        with self.lock:
            if prefer is not None and (prefer, thread_id) in self.threads:
                return self.threads[(prefer, thread_id)]
            return next((t for (_, tid), t in self.threads.items() if tid == thread_id), None)

    def end(self, process_id: int, exit_status: int = 0) -> ProcessObject | None:
        """The process ends: it can no longer be looked up; the table's references on it and its
        threads go (the objects live on while drivers hold references). None if it was not live."""
        with self.lock:
            process = self.by_pid.pop(process_id, None)
            if process is None:
                return None
            process.exited, process.exit_status = True, exit_status
            threads = [key for key in self.threads if key[0] == process_id]
            ended = [self.threads.pop(key) for key in threads]
        for thread in ended:
            thread.dereference()
        process.dereference()
        return process

    def from_address(self, address: int) -> ProcessObject | ThreadObject | None:
        with self.lock:
            return self.by_address.get(address)
