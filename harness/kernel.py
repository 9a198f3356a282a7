"""The emulated kernel: the shim loaded, its upcalls bound, drivers loaded and unloaded, and
the verifier's findings about what they did.

``Kernel.load_driver(path)`` refuses a module with imports the shim does not export, makes
its DRIVER_OBJECT and RegistryPath, and calls DriverEntry as the System process;
``unload_driver`` calls DriverUnload and reports callbacks left registered and pool not
freed. Registry semantics live in ``registry_core``; the kernel routines in ``routines``.

One Kernel is active per process, because the shim is one library whose upcalls reach "the"
kernel. A Kernel that is never closed would keep that place forever, so each Kernel records
where it was made (``origin``), and ``Kernel(replace=True)`` closes one still active, with a
``KernelLeftOpenWarning`` naming that origin, instead of refusing (the pytest plugin's
``kernel`` fixture does this, and closes one a test body left open at that test's teardown).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ntddk_py import (
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_SZ,
    STATUS_INTERNAL_ERROR,
    STATUS_SUCCESS,
    ffi,
    nt_success,
    status_name,
)
from registry_core import caller
from registry_core.callbacks import Trace, notify_class_name
from registry_core.names import upcase
from registry_core.profiles import profile_named
from registry_core.registry import Registry, encode_data

from . import bookkeeping, coverage, devices, isolation, routines, sanitizers, shim
from . import verifier as verifier_options
from .processes import Processes

if TYPE_CHECKING:
    import cffi

SERVICES = "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services"
SYSTEM = caller.SYSTEM
# C runtime routines ntoskrnl exports too, with the same meaning as the C library's.
RUNTIME_EXPORTS = frozenset("""
memcpy memmove memset memcmp memchr strlen strnlen strcmp strncmp strcpy strncpy strcat strncat strchr strrchr
strstr strspn strcspn strtol strtoul atoi atol abs labs qsort bsearch toupper tolower isalpha isdigit isspace
isupper islower isalnum isxdigit sprintf snprintf vsprintf vsnprintf sscanf __isoc99_sscanf __stack_chk_fail
__memcpy_chk __memset_chk __strcpy_chk __sprintf_chk __snprintf_chk __vsnprintf_chk
""".split()) | frozenset("""
abort __assert_fail exit _exit
""".split())  # not ntoskrnl's: what a filter built on Linux reaches through assert() and the like. abort
# and a failed assert stop the machine as a bugcheck report; an exit ends it, which is always a failure.

# How many calls a kernel's trace keeps (the newest); `cmhook run` drains it as it prints.
TRACE_LIMIT = 100_000

_active: Kernel | None = None
_active_lock = threading.Lock()
_bound: dict[str, object] = {}


class KernelLeftOpenWarning(UserWarning):
    """A Kernel was still active, never closed, and was closed so that another could start."""


def active_kernel() -> Kernel | None:
    """The Kernel the shim's upcalls reach now, if one is open."""
    return _active


def _origin() -> tuple[str, str, int]:
    """Where a Kernel is being made, said and as (file, line): the first caller outside this module,
    and the pytest test and phase then running, if any."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    filename, line = frame.f_code.co_filename, frame.f_lineno
    try:
        shown = os.path.relpath(filename) if filename.startswith(os.getcwd() + os.sep) else filename
    except OSError:  # the current directory is gone
        shown = filename
    test = os.environ.get("PYTEST_CURRENT_TEST")
    return f"at {shown}:{line}" + (f" (during {test})" if test else ""), filename, line


class DriverError(Exception):
    """A driver could not be loaded or unloaded; the message says why and what to do."""


class VerifierFailure(AssertionError):
    """What the verifier found: things that would hang or crash Windows."""


@dataclass
class Finding:
    """What the verifier found, as a bugcheck-style report: the driver, what it did, the bug check
    Windows (with Driver Verifier) stops with for it, the kernel routine it is about and the
    notification its thread was handling. The harness goes on after a finding; Windows would not."""

    kind: str  # leaked-callback, leaked-pool, bad-free, bugcheck, deadlock, upcall-error, irql, ...
    driver: str | None
    message: str
    during: str | None = None  # the notification the finding's thread was in a callback for, if any
    bugcheck: int | None = None  # the bug check code it stands for (include/ntddk.h's), if any
    parameter: int | None = None  # the bug check's first parameter (Driver Verifier's rule or subcode)
    routine: str | None = None  # the kernel routine it is about, if any

    def __str__(self) -> str:
        routine = f" in {self.routine}" if self.routine and self.routine not in self.message else ""
        during = f" (during {self.during})" if self.during and self.during not in self.message else ""
        return f"[{self.kind}] {self.driver or 'kernel'}{routine}: {self.message}{self.stop_text}{during}"

    @property
    def stop_text(self) -> str:
        """How the bug check reads in the report, empty when there is none (or the message names it)."""
        if self.bugcheck is None or f"0x{self.bugcheck:X}" in self.message:
            return ""
        name = bugcheck_name(self.bugcheck)
        parameter = f", parameter 0x{self.parameter:X}" if self.parameter else ""
        return f" (bug check 0x{self.bugcheck:X} {name}{parameter})"


def bugcheck_name(code: int) -> str:
    """A bug check code's name, from the header's definitions."""
    from . import bugcheck
    return bugcheck.BUGCHECK_NAMES.get(code, "")


@dataclass
class Allocation:
    size: int
    tag: int
    pool_type: int
    module: int

    @property
    def tag_text(self) -> str:
        return tag_text(self.tag)


def tag_text(tag: int) -> str:
    """A pool tag's four characters in memory order, as Windows' pool tools show it (the literal
    'kaeL' reads "Leak"); a byte outside printable ASCII shows as \\xNN, never raw."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in tag.to_bytes(4, "little"))


def tag_shown(tag: int) -> str:
    """A tag as a finding names it: quoted, or the zero tag as such."""
    return "0 (no tag)" if tag == 0 else f"'{tag_text(tag)}'"


@dataclass
class Driver:
    name: str
    path: Path
    lib: Any  # cffi's library and cdata objects: their members are the C ones
    base: int
    driver_object: Any
    registry_path: Any
    keepalive: list = field(default_factory=list)
    module_path: Path | None = None  # the private copy actually loaded
    loaded: bool = True

    @property
    def has_unload(self) -> bool:
        return self.driver_object.DriverUnload != ffi.NULL


@functools.lru_cache(maxsize=256)
def _imports(path: str, size: int, mtime_ns: int) -> tuple[str, ...]:
    """A module's undefined symbols (weak references excepted), read once per file content: a
    process that forks machines asks once, and every machine inherits the answer."""
    done = subprocess.run(["nm", "-D", "--undefined-only", "--format=posix", path], capture_output=True, text=True)
    if done.returncode:
        raise DriverError(f"{path} is not a shared object nm can read: {done.stderr.strip()}")
    return tuple(parts[0].split("@")[0] for parts in map(str.split, done.stdout.splitlines())
                 if len(parts) >= 2 and parts[1] == "U")


def module_imports(path: str | Path) -> tuple[str, ...]:
    """A module's undefined symbols (weak references excepted), asked of nm once per file content."""
    stat = Path(path).stat()
    return _imports(str(path), stat.st_size, stat.st_mtime_ns)


def _route(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The upcall's Python end: the routine called with the active kernel first."""
    def upcall(*args: Any) -> Any:
        kernel = _active
        if kernel is None:
            raise RuntimeError(f"{name} called with no active Kernel")
        return function(kernel, *args)
    return upcall


def _on_upcall_error(name: str, error: int | None = None) -> Callable[..., None]:
    """What runs when an upcall's Python end raises: a finding naming the routine, the exception and
    the calling driver. The C caller then gets ``error``, the upcall's failure value."""
    returned = f"; the call returned {status_name(error)}" if error is not None else ""

    def report(exception_type: type[BaseException], exception: BaseException, traceback: object) -> None:
        kernel = _active
        if kernel is not None:
            try:
                driver = kernel.calling_driver()
            except Exception:  # the report itself must not fail
                driver = None
            kernel.finding("upcall-error", f"{name} raised {exception_type.__name__}: {exception}{returned}",
                           driver.name if driver is not None else None)
    return report


# What an NTSTATUS upcall returns when its Python end raises: a failure, never cffi's default 0,
# STATUS_SUCCESS, which would let the driver read half-written output as if it were the answer.
UPCALL_FAILURE = STATUS_INTERNAL_ERROR
# Each bound upcall's failure value (None: cffi's default, for upcalls returning no NTSTATUS).
UPCALL_ERRORS: dict[str, int | None] = {}


def ntstatus_upcalls() -> frozenset[str]:
    """The upcalls returning an NTSTATUS, as the shim's generated tables declare them: what C gets
    back, which for a raising routine (routines.RAISING_ROUTINES, the status its forwarder raises)
    is not the header's VOID."""
    return frozenset(re.findall(r"\bNTSTATUS\s*\(\s*\*\s*(\w+)\s*\)", shim.cdef_text()))


def _upcall_types(ctype: Any, handlers: dict[str, Callable[..., Any]], skip: str | None = None) -> dict[str, Any]:
    """The function-pointer type of each member of an upcall table; each member needs a handler."""
    types = {name: f.type for name, f in ctype.fields if name != skip}
    missing, unknown = sorted(set(types) - set(handlers)), sorted(set(handlers) - set(types))
    if missing:
        raise RuntimeError(f"kernel shim upcalls with no implementation: {missing}")
    if unknown:
        raise RuntimeError(f"routines with no upcall in harness/shim/{shim.UPCALLS_HEADER.name}: {unknown} "
                           "(run: python -m harness.shim)")
    return types


def _bind(lib: Any, ffi_: cffi.FFI) -> None:
    """Fill the shim's upcall table once per process with routes to the active kernel.

    ``CmhookUpcalls.Routines`` gets exactly ``routines.ROUTINES``; the table's other members are
    the shim's own upcalls (cmhook_shim.h), implemented by ``Kernel``."""
    if _bound:
        return
    table = ffi_.addressof(lib, "CmhookUpcalls")
    own: dict[str, Callable[..., Any]] = {"PoolAllocated": Kernel.pool_allocated, "PoolFreed": Kernel.pool_freed,
                                          "DbgOutput": Kernel.dbg_output, "Finding": Kernel.shim_finding}
    own.update(routines.ke.SHIM_UPCALLS)  # the dispatcher's (kewait)
    routine_types = _upcall_types(ffi_.typeof("CMHOOK_ROUTINE_UPCALLS"), routines.ROUTINES)
    own_types = _upcall_types(ffi_.typeof("CMHOOK_UPCALLS"), own, skip="Routines")
    members: list[tuple[Any, dict[str, Callable[..., Any]], dict[str, Any]]] = [
        (table.Routines, routines.ROUTINES, routine_types), (table, own, own_types)]
    lib.CmhookInstallFaultReporter()
    returns_status = ntstatus_upcalls()
    for target, handlers, types in members:
        for name, function in handlers.items():
            error = UPCALL_FAILURE if name in returns_status else None
            options = {"error": error} if error is not None else {}
            callback = ffi_.callback(types[name], _route(name, function), onerror=_on_upcall_error(name, error),
                                     **options)
            setattr(target, name, callback)
            _bound[name] = callback
            UPCALL_ERRORS[name] = error
    upcase_table = ffi_.cast(ffi_.typeof("WCHAR *"), ffi_.addressof(lib, "CmhookUpcaseTable"))
    for code in range(0x10000):
        upcase_table[code] = ord(upcase(chr(code))) if not 0xD800 <= code <= 0xDFFF else code


class Kernel:
    """One emulated machine: registry, callbacks, loaded drivers and the verifier. One active at a time."""

    def __init__(self, registry: Registry | None = None, *, profile: str = "2003", trace: bool = True,
                 echo: Callable[[str, str], None] | None = None, cc: str = "gcc", replace: bool = False,
                 verifier: str | Iterable[str] | verifier_options.Verifier | None = None) -> None:
        """A new machine, made the active one. With replace, a Kernel still active is closed first
        (KernelLeftOpenWarning) instead of this one refusing to start. ``verifier``: the Driver
        Verifier options (harness/verifier.py; default its standard set)."""
        global _active
        self.origin, self._origin_file, self._origin_line = _origin()
        self.registry = registry or Registry()
        self.native = self.registry.native
        self.native.profile = profile_named(profile)
        if trace:
            # Bounded: a test making a million calls keeps the newest TRACE_LIMIT, not 700 MB.
            self.native.dispatcher.trace = Trace(limit=TRACE_LIMIT)
        self.ffi = shim.shim_ffi()
        self.shim_path = shim.build_shim(cc)
        self.lib = self.ffi.dlopen(str(self.shim_path), self.ffi.RTLD_NOW | self.ffi.RTLD_GLOBAL)
        self.kernel_handle_base = int(self.lib.CmhookKernelHandleBase)  # read once: ZwClose asks it each call
        self.verifier = verifier_options.parse(verifier)
        self.lib.CmhookVerifierOptions = self.verifier.mask
        record = isolation.shared_record()
        if record is not None:  # a machine a parent watches: the shim writes the record it shares
            self.lib.CmhookUseMachineRecord(self.ffi.cast("CMHOOK_MACHINE_RECORD *", record))
        # The kernel routines themselves, callable from Python as ntddk.h declares them.
        self.routines = ffi.dlopen(str(self.shim_path), ffi.RTLD_NOW | ffi.RTLD_GLOBAL)
        self.exports = shim.exported_symbols(self.shim_path) | RUNTIME_EXPORTS
        self.drivers: dict[str, Driver] = {}
        self.pool: dict[int, Allocation] = {}
        self.findings: list[Finding] = []
        self.debug_output: list[tuple[str, str]] = []
        self.cookie_owner: dict[int, Driver | None] = {}
        # Ex pool, locks, time: interrupt time counts from here (harness/routines/ketime.py).
        self.boot_time = self.native.store.clock.now()
        self.echo = echo
        self.closed = False
        self._lock = threading.Lock()
        while True:
            with _active_lock:
                stale = _active
                if stale is None:
                    _bind(self.lib, self.ffi)
                    _active = self
                    break
            if not replace:
                raise RuntimeError(f"another Kernel is active in this process, made {stale.origin}: close() it "
                                   "first (or use `with Kernel() as kernel:`)")
            stale.close_left_open(f"to start the Kernel made {self.origin}")
        self._workdir = Path(tempfile.mkdtemp(prefix="cmhook-drivers-"))
        # With only C callbacks registered, the shim walks them in one call per notification.
        self.native.callbacks.native_walker = shim.callback_walker(self.lib)
        self.io = devices.IoManager(self)  # devices: the I/O manager (harness/devices.py)
        # Processes and threads as objects, the System process's from the start (harness/processes.py).
        self.processes = Processes(self)
        caller.appeared = self.processes.appeared
        # The dispatcher starts afresh and keeps the emulated clock once a driver pins it (kewait).
        routines.ke.attach_clock(self)

    # --- who called ---------------------------------------------------------------------
    def module_of(self, address_: int) -> Driver | None:
        base = self.lib.CmhookModuleBase(self.ffi.cast("PVOID", address_))
        return next((d for d in self.drivers.values() if d.base == base), None)

    def calling_driver(self) -> Driver | None:
        base = self.lib.CmhookCallerBase()
        return next((d for d in self.drivers.values() if d.base == base), None)

    def calling_driver_name(self) -> str:
        driver = self.calling_driver()
        return driver.name if driver else "an unknown module"

    def describe_address(self, address_: int) -> str:
        driver = self.module_of(address_)
        return f"{driver.name}+0x{address_ - driver.base:x}" if driver else f"0x{address_:x}"

    def finding(self, kind: str, message: str, driver: str | None = None, *, bugcheck: int | None = None,
                parameter: int | None = None, routine: str | None = None) -> Finding:
        """Record a verifier finding, with the notification a callback on this thread is handling, if any."""
        notify_class = self.lib.CmhookCurrentNotifyClass()
        during = notify_class_name(notify_class) if notify_class >= 0 else None
        made = Finding(kind, driver, message, during, bugcheck, parameter, routine)
        with self._lock:
            self.findings.append(made)
        return made

    # --- pool and debug output (called from the shim) ----------------------------------
    def pool_allocated(self, block, size: int, tag: int, pool_type: int, module: int) -> None:
        with self._lock:
            self.pool[int(self.ffi.cast("ULONG_PTR", block))] = Allocation(size, tag, pool_type, module)

    def pool_freed(self, block, tag: int, check_tag: int, module: int) -> int:
        where = int(self.ffi.cast("ULONG_PTR", block))
        owner = next((d.name for d in self.drivers.values() if d.base == module), None)
        with self._lock:
            allocation = self.pool.pop(where, None)
        if allocation is None:
            self.finding("bad-free", f"freed 0x{where:x}, which is not a live pool allocation (BAD_POOL_CALLER)",
                         owner)
            return 0
        if check_tag and tag != allocation.tag:
            self.finding("bad-free", f"ExFreePoolWithTag(0x{where:x}) with tag {tag_shown(tag)}, allocated with "
                                     f"{tag_shown(allocation.tag)} (BAD_POOL_CALLER)", owner)
        return 1

    def shim_finding(self, module: int, kind, bugcheck: int, parameter: int, routine, text) -> None:
        """A finding the shim's C made (a lock misused, an IRQL gone wrong), naming the calling module."""
        owner = next((d.name for d in self.drivers.values() if d.base == module), None)
        self.finding(self.ffi.string(kind).decode(), self.ffi.string(text).decode("utf-8", "replace"), owner,
                     bugcheck=bugcheck or None, parameter=parameter or None,
                     routine=self.ffi.string(routine).decode() if routine else None)

    def dbg_output(self, module: int, component: int, level: int, text) -> None:
        driver = next((d.name for d in self.drivers.values() if d.base == module), "kernel")
        line = self.ffi.string(text).decode("utf-8", "replace")
        with self._lock:
            self.debug_output.append((driver, line))
        if self.echo is not None:
            self.echo(driver, line)

    # --- loading ------------------------------------------------------------------------
    def missing_imports(self, path: Path) -> list[str]:
        """The module's undefined symbols the shim does not export (weak references excepted)."""
        missing = sorted(set(module_imports(path)) - self.exports)
        # --- toolchain: a sanitizer's or coverage runtime's own imports (harness/sanitizers.py) ---
        if missing:
            missing = sorted(set(missing) - sanitizers.runtime_imports(path, missing))
        return missing

    def load_driver(self, path: str | Path, name: str | None = None) -> Driver:
        """Load a filter module and run its DriverEntry; a failure status unloads it and raises.

        The driver is named ``name``, else after the module's stem, which ``build`` makes the first
        source's (``.../<hash>/protect.so``): the name is the driver's RegistryPath
        (``...\\Services\\protect``), where a filter looks for its Parameters."""
        path = Path(path)
        name = name or path.stem
        if not path.is_file():
            raise DriverError(f"{path}: no such driver module (build one with: cmhook build FILTER.c)")
        if name in self.drivers:
            raise DriverError(f"a driver named {name!r} is already loaded; give this one another name")
        missing = self.missing_imports(path)
        if missing:
            raise DriverError(f"{path.name} imports routines the kernel shim does not export: "
                              f"{', '.join(missing)}")
        if not sanitizers.asan_loaded() and (why := sanitizers.refused_load(path)):  # toolchain: ASan's
            raise DriverError(f"{path.name} cannot be loaded here: {why}")  # dlopen would end the process
        private = self._workdir / f"{name}-{len(self.drivers)}-{path.name}"
        shutil.copyfile(path, private)  # a module of its own: its own globals, even for the same file
        try:
            lib = self.ffi.dlopen(str(private), self.ffi.RTLD_NOW | self.ffi.RTLD_LOCAL)
            entry = self.ffi.cast("PDRIVER_INITIALIZE",
                                  self.ffi.cast("ULONG_PTR", self.ffi.addressof(lib, "DriverEntry")))
        except (OSError, AttributeError) as error:
            raise DriverError(f"{path.name} cannot be loaded: {error}") from None
        driver = Driver(name, path, lib, self.lib.CmhookModuleBase(entry), *self._driver_objects(name, path, entry),
                        module_path=private)
        self.drivers[name] = driver
        isolation.note_module(name, str(private), driver.base)  # a watching parent's reports name the driver
        self.processes.image_loaded(driver, str(path.resolve()), private.stat().st_size)
        with caller.calling_as(SYSTEM):  # called by the shim, as driver code the machine record watches
            status = self.lib.CmhookCallDriverEntry(entry, driver.driver_object, driver.registry_path)
        if not nt_success(status):
            self._check_leftovers(driver, "DriverEntry failed and")
            driver.loaded = False
            del self.drivers[name]
            raise DriverError(f"DriverEntry of {name} returned {status_name(status)}; the module was unloaded")
        self.io.driver_entry_returned(driver)  # devices: DO_DEVICE_INITIALIZING cleared
        return driver

    def _driver_objects(self, name: str, path: Path, entry) -> tuple[object, object, list]:
        """DRIVER_OBJECT and RegistryPath as the I/O manager makes them, and the Services key."""
        keep = []
        service = f"{SERVICES}\\{name}"
        # --- toolchain: the harness's own bookkeeping writes (harness/bookkeeping.py) ---
        # On Windows the installer wrote the Services key before the boot: straight into the store,
        # so that no callback of a driver already loaded and no trace record sees it.
        bookkeeping.put_values(self.native, service, [
            ("Type", REG_DWORD, encode_data(REG_DWORD, 1)), ("Start", REG_DWORD, encode_data(REG_DWORD, 3)),
            ("ImagePath", REG_EXPAND_SZ, encode_data(REG_EXPAND_SZ, f"\\??\\{path.resolve()}")),
            ("DisplayName", REG_SZ, encode_data(REG_SZ, name))])
        driver_object = self.ffi.new("DRIVER_OBJECT *")
        driver_object.Type = 4
        driver_object.Size = self.ffi.sizeof("DRIVER_OBJECT")
        driver_object.DriverInit = entry
        self.io.prepare_driver_object(driver_object)  # devices: MajorFunction's defaults
        for target, text in ((driver_object.DriverName, f"\\Driver\\{name}"), (None, service)):
            data = encode_data(REG_SZ, text)
            buffer = self.ffi.new("WCHAR[]", len(data) // 2)
            self.ffi.memmove(buffer, data, len(data))
            keep.append(buffer)
            string = target if target is not None else self.ffi.new("UNICODE_STRING *")
            string.Buffer, string.Length, string.MaximumLength = buffer, len(data) - 2, len(data)
            if target is None:
                registry_path = string
        return driver_object, registry_path, keep

    # --- devices: a user-mode caller's side of the I/O manager (harness/devices.py) ------
    def open_device(self, path: str, access: int = devices.DEFAULT_ACCESS,
                    share: int = devices.DEFAULT_SHARE) -> devices.DeviceHandle:
        """CreateFile of a device (``"\\\\.\\Name"``, ``"\\??\\Name"`` or ``"\\Device\\Name"``) by the
        calling emulated process: the symbolic link resolved, IRP_MJ_CREATE sent to the driver. Raises
        devices.IoError with the status when the open fails (no such name: STATUS_OBJECT_NAME_NOT_FOUND)."""
        return self.io.open(path, access, share)

    # --- unloading and checks -----------------------------------------------------------
    def unload_driver(self, driver: Driver | str) -> list[Finding]:
        """DriverUnload, then what the module left behind. Refused when it has no DriverUnload."""
        driver = self.drivers[driver] if isinstance(driver, str) else driver
        if not driver.loaded:
            raise DriverError(f"{driver.name} is not loaded")
        if not driver.has_unload:
            raise DriverError(f"{driver.name} set no DriverUnload in DriverEntry: Windows refuses to unload such a "
                              "driver (set DriverObject->DriverUnload)")
        with caller.calling_as(SYSTEM):
            self.lib.CmhookCallDriverUnload(driver.driver_object.DriverUnload, driver.driver_object)
        if driver.module_path is not None:  # toolchain: a --coverage build's counts, written now
            coverage.dump(driver.module_path)
        found = self._check_leftovers(driver, "after DriverUnload")
        driver.loaded = False
        del self.drivers[driver.name]
        return found

    def _check_leftovers(self, driver: Driver, when: str) -> list[Finding]:
        found = []
        for registration in self.native.callbacks.registrations():
            owner = self.cookie_owner.get(registration.cookie)
            if owner is driver or self.module_of(int(self.ffi.cast("ULONG_PTR", registration.function))) is driver:
                found.append(Finding("leaked-callback", driver.name,
                                     f"{when} the callback {registration.name} is still registered: on Windows "
                                     "the next registry call would run unloaded code and crash the machine "
                                     "(call CmUnRegisterCallback in DriverUnload)"))
        found.extend(Finding("leaked-notify-routine", driver.name, f"{when} {text}")
                     for text in self.processes.leftovers(driver))
        # Threads, timers, DPCs and work items it left to the dispatcher (kewait): stopped, cancelled, dropped.
        for kind, text in routines.ke.leftovers(self, driver):
            found.append(Finding(kind, driver.name, f"{when} {text} (bug check 0xCE, "
                                                    "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS)"))
        with self._lock:
            leaks = [(where, a) for where, a in self.pool.items() if a.module == driver.base]
        for where, allocation in leaks:
            found.append(Finding("leaked-pool", driver.name,
                                 f"{when} {allocation.size} bytes of pool tagged {tag_shown(allocation.tag)} at "
                                 f"0x{where:x} are not freed"))
        found.extend(self.io.leftovers(driver, when))  # devices: devices, links, pending IRPs
        with self._lock:
            self.findings.extend(found)
        return found

    def close(self) -> list[Finding]:
        """Unload every driver (last loaded first) and stop being the active kernel."""
        global _active
        if self.closed:
            return self.findings
        self.closed = True
        try:
            for driver in reversed(list(self.drivers.values())):
                if driver.has_unload:
                    self.unload_driver(driver)
                else:
                    self.finding("not-unloadable", f"{driver.name} has no DriverUnload and stays loaded",
                                 driver.name)
                    if driver.module_path is not None:  # toolchain: its coverage counts all the same
                        coverage.dump(driver.module_path)
        finally:
            routines.ke.detach_clock(self)  # the worker and DPC threads end (kewait)
            with _active_lock:
                if _active is self:
                    _active = None
            if caller.appeared == self.processes.appeared:
                caller.appeared = None
            # The private copies can go: a module still mapped keeps working without its file.
            shutil.rmtree(self._workdir, ignore_errors=True)
        return self.findings

    # --- processes (harness/processes.py) ----------------------------------------------------
    def start_process(self, pid: int, image: str, *, parent: int | None = None,
                      command_line: str | None = None) -> int:
        """A process starts (its parent: the current caller's process unless given): the process and
        thread notify routines run; returns the CreationStatus (a failure: a routine denied the start,
        and the process does not exist). ValueError if pid is running already or parent is not."""
        status = self.processes.start(pid, image, parent, command_line)
        self._trace_process("ProcessStart", pid, image, status)
        return status

    def end_process(self, pid: int, exit_status: int = 0) -> bool:
        """A process ends: the thread and process exit notify routines run; False if it was not running."""
        process = self.processes.table.process(pid)
        ended = self.processes.end(pid, exit_status)
        if process is not None:
            self._trace_process("ProcessExit", pid, process.image, STATUS_SUCCESS)
        return ended

    def _trace_process(self, api: str, pid: int, image: str, status: int) -> None:
        trace = self.native.dispatcher.trace
        if trace is not None:
            trace.add_raw((api, caller.thread_id(), caller.current().process_id, f"{pid} {image}", status, (), None))

    def close_left_open(self, why: str) -> None:
        """Close a Kernel its maker left open, warning where it was made; it stops being active even if
        a DriverUnload fails, since a kernel nobody closes must not keep every later one from starting."""
        global _active
        trouble = ""
        try:
            self.close()
        except Exception as error:  # reported in the warning: the point is to make room for the next
            trouble = f"; closing it raised {type(error).__name__}: {error}"
        finally:
            with _active_lock:
                if _active is self:
                    _active = None
        found = f"; it has {len(self.findings)} verifier finding(s)" if self.findings else ""
        # Reported at the line that made it: that is the line to fix.
        warnings.warn_explicit(KernelLeftOpenWarning(f"a Kernel made {self.origin} was left open: closed it {why}"
                                                     f"{found}{trouble}"),
                               KernelLeftOpenWarning, self._origin_file, self._origin_line)

    # --- the dispatcher's threads (kewait) -------------------------------------------------
    def settle(self) -> None:
        """Return once every thread the shim made (system threads, the worker and DPC threads) is idle:
        blocked in a wait, or with no work item or DPC to run. What a queued work item or a woken
        thread does is then done."""
        self.lib.CmhookSettle()

    def advance(self, hundred_ns: int) -> None:
        """Move the emulated clock forward: timers and timeouts due on the way fire in due-time order,
        the machine settling after each (harness/shim/ke_dispatcher.c)."""
        self.native.store.clock.advance(hundred_ns)

    def verify(self) -> None:
        """Raise VerifierFailure listing every finding, if there is any."""
        if self.findings:
            raise VerifierFailure("the verifier found:\n" + "\n".join(f"  {f}" for f in self.findings))

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

