"""Registry scripts: registry operations a person writes by hand, one per line, run as
user-mode callers against the kernel.

    # comments start with #
    as PID IMAGE                            the calling process from here on (user mode)
    create KEY [access=MASK] [volatile] [link] [class="TEXT"] [as NAME]
    open KEY [access=MASK] [openlink] [as NAME]
    set KEY "name"=DATA                     DATA as regedit writes it: "text", dword:1f, hex:01,02, hex(7):...
    query KEY "name"                        (@ is the default value, in every command)
    enumkeys KEY
    enumvalues KEY
    querykey KEY                            NtQueryKey, KeyFullInformation
      ... [class=NAME] [length=N]           on query, querykey, enumkeys, enumvalues: one call (per index)
                                            with that information class and a buffer of N bytes (default 0)
    deletevalue KEY "name"
    deletekey KEY
    rename KEY NEWNAME
    flush KEY
    close NAME
    import FILE.reg                         applied through the API: filters see every write
    advance TIME                            the emulated clock: 5s, 100ms, 2min, 1.5h, 250us, 300ns
    expect STATUS_NAME                      the status of the operation before (or expect 0xC0000225)
    expect value KEY "name"=DATA            the value exists and holds exactly DATA
    expect novalue KEY "name"
    expect key KEY | expect nokey KEY
    opendevice PATH [access=MASK] as NAME   devices (harness/script_devices.py): CreateFile of \\\\.\\Name
    ioctl NAME CODE [in=hex:..] [out=LEN]   DeviceIoControl: prints status, Information, the output
    closedevice NAME
    start PID IMAGE [parent=PID] [cmdline="TEXT"]   a process starts (notify routines run; status: CreationStatus)
    exit PID                                a process ends

KEY is one of
- a path (HKLM\\..., HKEY_USERS\\..., \\REGISTRY\\...), opened for the one command and closed after it;
- a name bound with `as NAME`: the handle that create or open returned;
- NAME\\SUBPATH: the key SUBPATH under the one bound as NAME, opened through that handle (the call
  gets the bound handle as RootDirectory and SUBPATH as its name, as RegOpenKeyEx(hKey, "Sub") does).
A KEY, an IMAGE or a NEWNAME with spaces is written in double quotes: "HKLM\\SOFTWARE\\My App". Inside
the quotes \\" is a quote and every other character is itself, backslashes included.

MASK is a KEY_* name, GENERIC_* name or a number, combined with |. STATUS_NAME is any status
include/ntddk.h defines. A script with an error is refused whole, naming file and line.

A script file is UTF-8 (a UTF-8 or UTF-16LE byte-order mark is honoured); lines end at CR, LF or
CR LF. A name longer than a UNICODE_STRING holds (32,767 UTF-16 units: a key path, a value name,
a class, a new name, an image) is refused where it is written.

Each command is one class registered with ``@command(name)``: ``parse(args, line)`` turns the
text after the command name into a Step, ``run(runner, step)`` performs it and returns its status.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import ntddk_py
from ntddk_py import (
    KEY_ALL_ACCESS,
    OBJ_CASE_INSENSITIVE,
    OBJ_OPENLINK,
    REG_OPTION_CREATE_LINK,
    REG_OPTION_VOLATILE,
    STATUS_INVALID_CID,
    STATUS_INVALID_HANDLE,
    STATUS_NOT_SUPPORTED,
    STATUS_SUCCESS,
    nt_success,
    ntstatus,
    status_name,
)
from ntddk_py import KEY_INFORMATION_CLASS as KIC
from ntddk_py import KEY_VALUE_INFORMATION_CLASS as KVIC
from registry_core import caller, infoclass, regfile
from registry_core.regfile import RegFileError
from registry_core.registry import MAX_UNICODE_STRING_CHARS, utf16_units

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
# A word: unquoted characters and double-quoted parts (with \" escapes), up to a space.
WORD = re.compile(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+')
# advance's units, in the clock's 100 ns.
TIME_UNITS = {"ns": Fraction(1, 100), "us": Fraction(10), "ms": Fraction(10_000), "s": Fraction(10_000_000),
              "min": Fraction(600_000_000), "h": Fraction(36_000_000_000), "d": Fraction(864_000_000_000)}
# How far a script may move the clock in all: 10,000 years, so a FILETIME (a signed 64-bit count of
# 100 ns, good until the year 30828) never overflows from today's date (cmhook's decision).
MAX_ADVANCE = 10_000 * 365 * TIME_UNITS["d"].numerator
# Process ids as Windows hands them out fit a DWORD (GetProcessId returns one).
MAX_PROCESS_ID = 0xFFFFFFFF
LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ScriptError(Exception):
    """A script that cannot run: the message names file and line."""


@dataclass
class Step:
    line: int
    command: str
    args: dict = field(default_factory=dict)
    text: str = ""


@dataclass
class Outcome:
    """What running a script did: each step's status, the expectations that failed, what was printed."""

    statuses: list[tuple[Step, int]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KeyRef:
    """A key a command names: an absolute \\REGISTRY path (``bound`` is None), or the key ``path``
    under the one bound as ``bound`` (``path`` is "" for the bound key itself)."""

    path: str = ""
    bound: str | None = None

    def __str__(self) -> str:
        if self.bound is None:
            return self.path
        return f"{self.bound}\\{self.path}" if self.path else self.bound


@dataclass(frozen=True)
class Line:
    """One script line as a command's parse sees it."""

    number: int
    command: str
    text: str  # the whole line, stripped
    where: str  # "file:number": what every error message starts with
    base: Path  # the script's folder, where relative file names start

    def step(self, **args) -> Step:
        return Step(self.number, self.command, args, self.text)

    def error(self, message: str) -> ScriptError:
        return ScriptError(f"{self.where}: {message}")


# --- the commands' registry ------------------------------------------------------------

class Command:
    """One script command. Subclasses are registered with ``@command(name)``."""

    name = ""
    usage = ""  # the syntax, for error messages
    operation = True  # a registry operation: its status is what `expect STATUS_...` after it checks

    def parse(self, args: str, line: Line) -> Step:
        """The step for this command's line; ``args`` is the text after the command name."""
        raise NotImplementedError

    def run(self, runner: Runner, step: Step) -> int:
        """Perform the step as the runner's current caller; return its NTSTATUS."""
        raise NotImplementedError


COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[type[Command]], type[Command]]:
    """Register a Command subclass as the script command ``name``."""

    def register(cls: type[Command]) -> type[Command]:
        if name in COMMANDS:
            raise ValueError(f"script command {name!r} is registered twice")
        cls.name = name
        COMMANDS[name] = cls()
        return cls
    return register


# --- reading words -----------------------------------------------------------------------

def _split(text: str, where: str) -> list[str]:
    """Words separated by spaces; a double-quoted part (with \\" escapes) stays in its word."""
    words: list[str] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return words
        match = WORD.match(text, index)
        if match is None or (match.end() < len(text) and not text[match.end()].isspace()):
            raise ScriptError(f"{where}: unterminated quote in {text[index:]!r}")
        words.append(match.group())
        index = match.end()


def _first(text: str, where: str) -> tuple[str, str]:
    """(the first word, the text after it)."""
    text = text.lstrip()
    match = WORD.match(text)
    if match is None:
        if text.startswith('"'):
            raise ScriptError(f"{where}: unterminated quote in {text!r}")
        return "", text
    return match.group(), text[match.end():]


def _unquote(word: str, where: str) -> str:
    """A word with its double quotes taken off: \\" is a quote, every other character itself."""
    if not word.startswith('"'):
        return word
    if re.fullmatch(r'"(?:\\.|[^"\\])*"', word) is None:
        raise ScriptError(f"{where}: a quoted name is one \"...\": {word}")
    return word[1:-1].replace('\\"', '"')


def _mask(text: str, where: str) -> int:
    total = 0
    for part in text.split("|"):
        part = part.strip()
        named = getattr(ntddk_py, part, None) if part.startswith(("KEY_", "GENERIC_")) or part in (
            "DELETE", "MAXIMUM_ALLOWED", "READ_CONTROL") else None
        if re.fullmatch(r"0[xX][0-9A-Fa-f]+", part):
            total |= int(part, 16)
        elif re.fullmatch(r"[0-9]+", part):
            total |= int(part, 10)
        elif isinstance(named, int) and not isinstance(named, bool):
            total |= named
        else:
            raise ScriptError(f"{where}: unknown access right {part!r} (use KEY_READ, KEY_ALL_ACCESS, 0x20019, ...)")
    if total > 0xFFFFFFFF:
        raise ScriptError(f"{where}: access mask {text} does not fit an ACCESS_MASK (32 bits)")
    return total


def _check_length(text: str, what: str, where: str) -> str:
    """The text, if a UNICODE_STRING can hold it; else a ScriptError naming it."""
    units = utf16_units(text)
    if units > MAX_UNICODE_STRING_CHARS:
        raise ScriptError(f"{where}: {what} {text[:20] + '...'!r} is {units} characters long; a name holds at "
                          f"most {MAX_UNICODE_STRING_CHARS} (a UNICODE_STRING's length is a USHORT of bytes)")
    return text


def _key(word: str, where: str) -> KeyRef:
    """A bound name, NAME\\SUBPATH under one, or a \\REGISTRY path (from HKLM\\..., \\REGISTRY\\...)."""
    text = _unquote(word, where)
    first, _, rest = text.partition("\\")
    # HKEY_SOMEWHERE\X is a path with a wrong root, never a key under a name bound as HKEY_SOMEWHERE.
    if NAME.match(first) and first.upper() not in regfile.ROOTS and not (rest and first.upper().startswith("HKEY_")):
        return KeyRef(_check_length(rest.strip("\\"), "the key path", where), bound=first)
    try:
        return KeyRef(_check_length(regfile.native_path(text), "the key path", where))
    except RegFileError as error:
        raise ScriptError(f"{where}: {error}") from None


def _open_options(words: list[str], where: str, allowed: set[str]) -> dict:
    options: dict = {"access": KEY_ALL_ACCESS}
    index = 0
    while index < len(words):
        word = words[index]
        if word.startswith("access=") and "access" in allowed:
            options["access"] = _mask(word[7:], where)
        elif word.startswith("class=") and "class" in allowed:
            text = word[6:]
            text = _unquote(text, where) if text.startswith('"') else text
            options["class"] = _check_length(text, "the class", where)
        elif word in ("volatile", "link", "openlink") and word in allowed:
            options[word] = True
        elif word == "as" and index + 1 < len(words) and NAME.match(words[index + 1]):
            options["bind"] = words[index + 1]
            index += 1
        else:
            raise ScriptError(f"{where}: unexpected {word!r}")
        index += 1
    return options


# --- the commands ----------------------------------------------------------------------

@command("as")
class As(Command):
    usage = "as PID IMAGE, e.g. as 4242 \\Device\\HarddiskVolume1\\x.exe"
    operation = False

    def parse(self, args: str, line: Line) -> Step:
        pid, _, image = args.partition(" ")
        image = image.strip()
        if len(image) >= 2 and image[0] == image[-1] == '"':
            image = _unquote(image, line.where)
        if not re.fullmatch(r"[0-9]+", pid) or not image:
            raise line.error(self.usage)
        if int(pid) > MAX_PROCESS_ID:
            raise line.error(f"process id {pid} does not fit a DWORD (at most {MAX_PROCESS_ID})")
        return line.step(pid=int(pid), image=_check_length(image, "the image name", line.where))

    def run(self, runner: Runner, step: Step) -> int:
        runner.process = caller.Caller(process_id=step.args["pid"], image=step.args["image"])
        return STATUS_SUCCESS


class _OpenOrCreate(Command):
    allowed: set[str] = set()

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if not words:
            raise line.error(f"{self.name} needs a key")
        key = _key(words[0], line.where)
        if key.bound is not None and not key.path:
            raise line.error(f"{self.name} takes a path, not a bound name")
        return line.step(key=key, **_open_options(words[1:], line.where, self.allowed))

    def run(self, runner: Runner, step: Step) -> int:
        a = step.args
        key: KeyRef = a["key"]
        root = 0
        if key.bound is not None:
            if key.bound not in runner.handles:  # its open or create failed
                return STATUS_INVALID_HANDLE
            root = runner.handles[key.bound]
        attributes = OBJ_CASE_INSENSITIVE | (OBJ_OPENLINK if a.get("openlink") else 0)
        status, handle = self.call(runner.registry, key.path, root, attributes, a)
        if nt_success(status):
            if "bind" in a:
                runner.handles[a["bind"]] = handle
            else:
                runner.registry.close(handle)
        return status

    def call(self, registry, path: str, root: int, attributes: int, a: dict) -> tuple[int, int]:
        raise NotImplementedError


@command("create")
class Create(_OpenOrCreate):
    allowed = {"access", "volatile", "link", "class"}

    def call(self, registry, path: str, root: int, attributes: int, a: dict) -> tuple[int, int]:
        options = (REG_OPTION_VOLATILE if a.get("volatile") else 0) | (REG_OPTION_CREATE_LINK if a.get("link") else 0)
        status, handle, _ = registry.create_key(path, a["access"], root=root, options=options,
                                                class_name=a.get("class"), attributes=attributes)
        return status, handle


@command("open")
class Open(_OpenOrCreate):
    allowed = {"access", "openlink"}

    def call(self, registry, path: str, root: int, attributes: int, a: dict) -> tuple[int, int]:
        status, handle = registry.open_key(path, a["access"], root=root, attributes=attributes)
        return status, handle


@command("set")
class Set(Command):
    def parse(self, args: str, line: Line) -> Step:
        key, value = _first(args, line.where)
        step = line.step(key=_key(key, line.where), value=regfile.parse_value(value.strip(), where=line.where))
        if step.args["value"].delete:
            raise line.error("use deletevalue to delete a value")
        return step

    def run(self, runner: Runner, step: Step) -> int:
        value = step.args["value"]
        return runner.with_key(step.args["key"],
                               lambda handle: runner.registry.set_value(handle, value.name, value.type, value.data))


class _KeyAndValueName(Command):
    def parse(self, args: str, line: Line) -> Step:
        key, name = _first(args, line.where)
        return line.step(key=_key(key, line.where), name=regfile.parse_value_name(name, line.where))


# The information-class options of query, querykey, enumkeys and enumvalues: one call (per index)
# with exactly that class and buffer length, as a hostile or careful caller makes it, its status
# the step's. Longest buffer a script may ask for: 16 MiB (the caller's buffer is really allocated).
MAX_QUERY_LENGTH = 16 << 20
_CALL_OPTION = re.compile(r"\s+(class|length)=(\S+)\s*$")


def _call_options(text: str, classes: type, where: str) -> tuple[str, dict]:
    """The text before trailing class=NAME / length=N options, and the options (class as its value)."""
    options: dict = {}
    while (match := _CALL_OPTION.search(text)) is not None:
        name, word = match.groups()
        if name in options:
            raise ScriptError(f"{where}: {name}= given twice")
        if name == "class":
            member = getattr(classes, word, None)
            if member is None:
                raise ScriptError(f"{where}: unknown information class {word!r}; {classes.__name__} has "
                                  f"{', '.join(m.name for m in classes)}")  # type: ignore[attr-defined]
            options[name] = int(member)
        elif re.fullmatch(r"[0-9]{1,9}", word) and int(word) <= MAX_QUERY_LENGTH:
            options[name] = int(word)
        else:
            raise ScriptError(f"{where}: length={word}: a buffer length in bytes, at most {MAX_QUERY_LENGTH}")
        text = text[:match.start()]
    return text, options


def _one_call(call: Callable[[int, int], Any], options: dict, default_class: int) -> int:
    """The status of call(class, length) made once with the step's options."""
    return call(options.get("class", default_class), options.get("length", 0)).status


def _each_index(call: Callable[[int, int, int], Any], options: dict, default_class: int) -> int:
    """Enumerate index 0, 1, ... with the step's class and length until no entries are left: the first
    status that is neither a success nor a buffer too small (STATUS_NO_MORE_ENTRIES at the end: success)."""
    index, status = 0, STATUS_SUCCESS
    while True:
        result = call(index, options.get("class", default_class), options.get("length", 0))
        if result.status == ntddk_py.STATUS_NO_MORE_ENTRIES:
            return status
        if not nt_success(result.status) and result.status not in (ntddk_py.STATUS_BUFFER_TOO_SMALL,
                                                                    ntddk_py.STATUS_BUFFER_OVERFLOW):
            return result.status
        status = result.status if status == STATUS_SUCCESS else status
        index += 1


@command("query")
class Query(_KeyAndValueName):
    def parse(self, args: str, line: Line) -> Step:
        text, options = _call_options(args, KVIC, line.where)
        step = super().parse(text, line)
        if options:
            step.args["call"] = options
        return step

    def run(self, runner: Runner, step: Step) -> int:
        name = step.args["name"]
        if "call" in step.args:
            return runner.with_key(step.args["key"], lambda handle: _one_call(
                lambda cls, length: runner.registry.query_value(handle, name, cls, length), step.args["call"],
                KVIC.KeyValuePartialInformation))
        return runner.with_key(step.args["key"], lambda handle: self._query(runner, handle, name))

    @staticmethod
    def _query(runner: Runner, handle: int, name: str) -> int:
        registry = runner.registry
        sizing = registry.query_value(handle, name, KVIC.KeyValuePartialInformation, 0)
        if sizing.status != ntddk_py.STATUS_BUFFER_TOO_SMALL:
            return sizing.status
        result = registry.query_value(handle, name, KVIC.KeyValuePartialInformation, sizing.result_length)
        if nt_success(result.status):
            info, data = infoclass.decode("KEY_VALUE_PARTIAL_INFORMATION", result.buffer)
            runner.say(regfile.format_value(name, info.Type, data[:info.DataLength]).replace("\r\n", "\n"))
        return result.status


class _OneKey(Command):
    """A command taking one key and doing one call on its handle."""
    classes: type | None = None  # the information classes its class= option names, if it takes one

    def parse(self, args: str, line: Line) -> Step:
        options: dict = {}
        if self.classes is not None:
            args, options = _call_options(args, self.classes, line.where)
        words = _split(args, line.where)
        if len(words) != 1:
            raise line.error(f"{self.name} takes one key")
        step = line.step(key=_key(words[0], line.where))
        if options:
            step.args["call"] = options
        return step

    def run(self, runner: Runner, step: Step) -> int:
        if "call" in step.args:
            return runner.with_key(step.args["key"], lambda handle: self.call_with(runner, handle, step.args["call"]))
        return runner.with_key(step.args["key"], lambda handle: self.call(runner, handle))

    def call(self, runner: Runner, handle: int) -> int:
        raise NotImplementedError

    def call_with(self, runner: Runner, handle: int, options: dict) -> int:
        raise NotImplementedError


@command("querykey")
class QueryKey(_OneKey):
    classes = KIC

    def call(self, runner: Runner, handle: int) -> int:
        return self.call_with(runner, handle, {"length": 4096})

    def call_with(self, runner: Runner, handle: int, options: dict) -> int:
        return _one_call(lambda cls, length: runner.registry.query_key(handle, cls, length), options,
                         KIC.KeyFullInformation)


class _Enumerate(_OneKey):
    keys = True

    def call(self, runner: Runner, handle: int) -> int:
        registry, index = runner.registry, 0
        while True:
            if self.keys:
                result = registry.enumerate_key(handle, index, KIC.KeyBasicInformation, 1024)
                if not nt_success(result.status):
                    break
                info, raw_name = infoclass.decode("KEY_BASIC_INFORMATION", result.buffer)
                runner.say(f"[{raw_name[:info.NameLength].decode('utf-16-le', 'replace')}]")
            else:
                result = registry.enumerate_value(handle, index, KVIC.KeyValueFullInformation, 65536)
                if not nt_success(result.status):
                    break
                info, tail = infoclass.decode("KEY_VALUE_FULL_INFORMATION", result.buffer)
                name = tail[:info.NameLength].decode("utf-16-le", "replace")
                data = result.buffer[info.DataOffset:info.DataOffset + info.DataLength] if info.DataLength else b""
                runner.say(regfile.format_value(name, info.Type, data).replace("\r\n", "\n"))
            index += 1
        return STATUS_SUCCESS if result.status == ntddk_py.STATUS_NO_MORE_ENTRIES else result.status

    def call_with(self, runner: Runner, handle: int, options: dict) -> int:
        registry = runner.registry
        if self.keys:
            return _each_index(lambda index, cls, length: registry.enumerate_key(handle, index, cls, length),
                               options, KIC.KeyBasicInformation)
        return _each_index(lambda index, cls, length: registry.enumerate_value(handle, index, cls, length),
                           options, KVIC.KeyValueFullInformation)

@command("enumkeys")
class EnumKeys(_Enumerate):
    keys = True
    classes = KIC


@command("enumvalues")
class EnumValues(_Enumerate):
    keys = False
    classes = KVIC


@command("deletevalue")
class DeleteValue(_KeyAndValueName):
    def run(self, runner: Runner, step: Step) -> int:
        return runner.with_key(step.args["key"], lambda handle: runner.registry.delete_value(handle, step.args["name"]))


@command("deletekey")
class DeleteKey(_OneKey):
    def call(self, runner: Runner, handle: int) -> int:
        return runner.registry.delete_key(handle)


@command("rename")
class Rename(Command):
    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) != 2:
            raise line.error("rename KEY NEWNAME")
        new = _unquote(words[1], line.where) if words[1].startswith('"') else words[1].strip('"')
        return line.step(key=_key(words[0], line.where), new=_check_length(new, "the new name", line.where))

    def run(self, runner: Runner, step: Step) -> int:
        return runner.with_key(step.args["key"], lambda handle: runner.registry.rename_key(handle, step.args["new"]))


@command("flush")
class Flush(_OneKey):
    def call(self, runner: Runner, handle: int) -> int:
        return runner.registry.flush_key(handle)


@command("close")
class Close(_OneKey):
    def parse(self, args: str, line: Line) -> Step:
        step = super().parse(args, line)
        if step.args["key"].bound is None or step.args["key"].path:
            raise line.error("close takes a name bound with 'as'")
        return step

    def run(self, runner: Runner, step: Step) -> int:
        return runner.registry.close(runner.handles.pop(step.args["key"].bound, 0))


@command("import")
class Import(Command):
    def parse(self, args: str, line: Line) -> Step:
        path = Path(args.strip('"'))
        return line.step(file=regfile.load(path if path.is_absolute() else line.base / path))

    def run(self, runner: Runner, step: Step) -> int:
        failures = regfile.apply(runner.registry, step.args["file"])
        for what, status in failures:
            runner.say(f"import: {what}: {status_name(status)}")
        return failures[-1][1] if failures else STATUS_SUCCESS


@command("advance")
class Advance(Command):
    """Move the emulated clock (KeQuerySystemTime, key last-write times) forward. The first advance
    pins the clock at the current time: from then on it moves only when the script says."""

    usage = f"advance TIME, a number and a unit ({', '.join(TIME_UNITS)}): advance 5s, advance 100ms"
    operation = False

    def parse(self, args: str, line: Line) -> Step:
        match = re.fullmatch(r"([0-9]{1,30}(?:\.[0-9]{1,30})?)\s*([a-z]+)", args.strip())
        if match is None or match.group(2) not in TIME_UNITS:
            raise line.error(self.usage)
        units = Fraction(match.group(1)) * TIME_UNITS[match.group(2)]
        if units.denominator != 1:
            raise line.error(f"advance {args.strip()}: the clock counts whole 100 ns")
        if units > MAX_ADVANCE:
            raise line.error(f"advance {args.strip()}: a script moves the clock at most 10,000 years")
        return line.step(units=int(units))

    def run(self, runner: Runner, step: Step) -> int:
        runner.registry.native.store.clock.advance(step.args["units"])
        return STATUS_SUCCESS


@command("expect")
class Expect(Command):
    usage = 'expect STATUS_NAME | value KEY "name"=DATA | novalue KEY "name" | key KEY | nokey KEY'
    operation = False

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) == 1 and words[0].startswith("STATUS_"):
            if not hasattr(ntddk_py, words[0]):
                known = [name[7:] for name in dir(ntddk_py) if name.startswith("STATUS_")]
                near = [f"STATUS_{name}" for name in difflib.get_close_matches(words[0][7:], known, 3, 0.8)]
                hint = f"; did you mean {' or '.join(near)}?" if near else " (include/ntddk.h has no such status)"
                raise line.error(f"unknown status {words[0]}{hint}")
            return line.step(status=getattr(ntddk_py, words[0]))
        if len(words) == 1 and re.fullmatch(r"0[xX][0-9A-Fa-f]{1,8}", words[0]):
            return line.step(status=ntstatus(int(words[0], 16)))
        kind = words[0] if words else ""
        tail = args.strip()[len(kind):].strip()
        if kind in ("key", "nokey") and len(words) == 2:
            return line.step(kind=kind, key=_key(words[1], line.where))
        if kind in ("value", "novalue"):
            key, spec = _first(tail, line.where)
            if kind == "value":
                return line.step(kind=kind, key=_key(key, line.where),
                                 value=regfile.parse_value(spec.strip(), where=line.where))
            return line.step(kind=kind, key=_key(key, line.where), name=regfile.parse_value_name(spec, line.where))
        raise line.error(self.usage)

    def run(self, runner: Runner, step: Step) -> int:
        a = step.args
        if "status" in a:
            if runner.last != a["status"]:
                runner.fail(step, f"the status was {status_name(runner.last)}")
            return STATUS_SUCCESS
        found = runner.find(a["key"])
        if a["kind"] in ("key", "nokey"):
            if (found is not None) != (a["kind"] == "key"):
                runner.fail(step, "the key exists" if found is not None else "the key does not exist")
            return STATUS_SUCCESS
        name = a["value"].name if a["kind"] == "value" else a["name"]
        value = found.find_value(name) if found is not None else None
        if a["kind"] == "novalue":
            if value is not None:
                runner.fail(step, f"the value exists: {regfile.format_value(name, value.type, value.data)}")
        elif value is None:
            runner.fail(step, "the value does not exist")
        elif (value.type, value.data) != (a["value"].type, a["value"].data):
            runner.fail(step, f"the value is {regfile.format_value(name, value.type, value.data)}")
        return STATUS_SUCCESS


# --- processes: start and exit (harness/processes.py) --------------------------------------

def _process_id(word: str, line: Line, usage: str) -> int:
    if not re.fullmatch(r"[0-9]+", word):
        raise line.error(usage)
    if int(word) > MAX_PROCESS_ID:
        raise line.error(f"process id {word} does not fit a DWORD (at most {MAX_PROCESS_ID})")
    return int(word)


def _processes(runner: Runner, step: Step):
    """The active kernel's processes; None (and the step failed) when the script runs on a registry alone."""
    from .kernel import active_kernel  # the kernel imports nothing of scripts: no cycle at import time

    kernel = active_kernel()
    if kernel is None:
        runner.fail(step, "processes start and end only in a kernel (cmhook run, the kernel fixture)")
    return kernel


@command("start")
class Start(Command):
    """A process starts: the process and thread notify routines run (an Ex one may deny the start);
    its status is the CreationStatus (the trace shows it)."""

    usage = 'start PID IMAGE [parent=PID] [cmdline="TEXT"], e.g. start 4242 \\Device\\HarddiskVolume1\\x.exe'

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) < 2:
            raise line.error(self.usage)
        pid = _process_id(words[0], line, self.usage)
        image = _check_length(_unquote(words[1], line.where), "the image name", line.where)
        parent, command_line = None, None
        for word in words[2:]:
            name, _, value = word.partition("=")
            if name == "parent" and value:
                parent = _process_id(value, line, self.usage)
            elif name == "cmdline" and value:
                command_line = _check_length(_unquote(value, line.where), "the command line", line.where)
            else:
                raise line.error(f"unknown option {word!r}; {self.usage}")
        return line.step(pid=pid, image=image, parent=parent, cmdline=command_line)

    def run(self, runner: Runner, step: Step) -> int:
        kernel = _processes(runner, step)
        if kernel is None:
            return STATUS_NOT_SUPPORTED
        a = step.args
        try:
            return kernel.start_process(a["pid"], a["image"], parent=a["parent"], command_line=a["cmdline"])
        except ValueError as error:
            runner.fail(step, str(error))
            return STATUS_INVALID_CID


@command("exit")
class Exit(Command):
    """A process ends: the thread and process exit notify routines run. STATUS_INVALID_CID when no
    process with that id runs."""

    usage = "exit PID"

    def parse(self, args: str, line: Line) -> Step:
        words = _split(args, line.where)
        if len(words) != 1:
            raise line.error(self.usage)
        return line.step(pid=_process_id(words[0], line, self.usage))

    def run(self, runner: Runner, step: Step) -> int:
        kernel = _processes(runner, step)
        if kernel is None:
            return STATUS_NOT_SUPPORTED
        return STATUS_SUCCESS if kernel.end_process(step.args["pid"]) else STATUS_INVALID_CID


# --- parsing a script ------------------------------------------------------------------

def parse_line(text: str, line: int, where: str, base: Path) -> Step | None:
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    name, *tail = stripped.split(None, 1)
    rest = tail[0] if tail else ""
    handler = COMMANDS.get(name)
    if handler is None:
        raise ScriptError(f"{where}: unknown command {name!r}; commands: {', '.join(COMMANDS)}")
    try:
        return handler.parse(rest.strip(), Line(line, name, stripped, where, base))
    except RegFileError as error:
        message = str(error)
        raise ScriptError(message if message.startswith(where) else f"{where}: {message}") from None


def parse(text: str, filename: str = "<script>") -> list[Step]:
    """Every step of a script, or ScriptError for the first line that cannot run (nothing runs)."""
    base = Path(filename).parent
    steps = []
    for number, line in enumerate(LINE_BREAK.split(text), 1):
        step = parse_line(line, number, f"{filename}:{number}", base)
        if step is not None:
            steps.append(step)
    advanced = 0
    for step in steps:
        advanced += step.args.get("units", 0) if step.command == "advance" else 0
        if advanced > MAX_ADVANCE:
            raise ScriptError(f"{filename}:{step.line}: the script's advances add up to more than 10,000 years")
    bound: set[str] = set()
    for index, step in enumerate(steps):
        where = f"{filename}:{step.line}"
        if step.command == "expect" and "status" in step.args and index == 0:
            raise ScriptError(f"{where}: expect STATUS_... needs an operation before it")
        key = step.args.get("key")
        if isinstance(key, KeyRef) and key.bound is not None and key.bound not in bound:
            hint = f" ({key} names a key under the one bound as {key.bound})" if key.path else ""
            raise ScriptError(f"{where}: {key.bound!r} is not bound: open or create it with 'as {key.bound}' "
                              f"first{hint}")
        if step.command == "close" and isinstance(key, KeyRef) and key.bound is not None:
            bound.discard(key.bound)
        if "bind" in step.args:
            bound.add(step.args["bind"])
    return steps


def decode(raw: bytes, filename: str = "<script>") -> str:
    """A script file's text: UTF-8 (after a UTF-8 byte-order mark, if any) or UTF-16LE after its
    byte-order mark; ScriptError naming the line of the first byte that is neither."""
    if raw.startswith(b"\xff\xfe"):
        body = raw[2:]
        if len(body) % 2:
            line = body[:-1].decode("utf-16-le", "surrogatepass").count("\n") + 1
            raise ScriptError(f"{filename}:{line}: UTF-16 text with an odd number of bytes: the file is cut short")
        return body.decode("utf-16-le", "surrogatepass")
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
        raise ScriptError(f"{filename}:{line}: not UTF-8: byte 0x{body[error.start]:02x} at byte {column} of "
                          "the line (save the script as UTF-8)") from None


def load(path: str | Path) -> list[Step]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ScriptError(f"{path}: {error.strerror or error}") from None
    except ValueError as error:  # a NUL in the file name
        raise ScriptError(f"{str(path)!r}: not a file name: {error}") from None
    return parse(decode(raw, str(path)), str(path))


# --- running -------------------------------------------------------------------------

class Runner:
    """Runs steps against a registry as user-mode callers; reports through callbacks as it goes."""

    def __init__(self, registry, filename: str = "<script>", on_step: Callable[[Step, int], None] | None = None,
                 say: Callable[[str], object] | None = None) -> None:
        self.registry = registry
        self.filename = filename
        self.handles: dict[str, int] = {}
        self.outcome = Outcome()
        self.on_step = on_step
        self.say = say or self.outcome.output.append
        self.process = caller.DEFAULT_CALLER
        self.last = STATUS_SUCCESS  # the status of the last operation, what `expect STATUS_...` checks
        self.devices: dict[str, Any] = {}  # devices: opendevice's handles, by name (harness/script_devices.py)

    def run(self, steps: list[Step]) -> Outcome:
        for step in steps:
            status = self.execute(step)
            if COMMANDS[step.command].operation:
                self.last = status
                self.outcome.statuses.append((step, status))
            if self.on_step is not None:
                self.on_step(step, status)
        return self.outcome

    def execute(self, step: Step) -> int:
        """Run one step as the current caller."""
        with caller.calling_as(self.process):
            return COMMANDS[step.command].run(self, step)

    def fail(self, step: Step, message: str) -> None:
        self.outcome.failed.append(f"{self.filename}:{step.line}: {step.text}: {message}")

    def handle(self, key: KeyRef, access: int = KEY_ALL_ACCESS) -> tuple[int, bool, int]:
        """(handle, whether to close it after, open status) for a path, a bound name or a path under one."""
        root = 0
        if key.bound is not None:
            if key.bound not in self.handles:  # its open or create failed
                return 0, False, STATUS_INVALID_HANDLE
            root = self.handles[key.bound]
            if not key.path:
                return root, False, STATUS_SUCCESS
        status, handle = self.registry.open_key(key.path, access, root=root)
        return handle, nt_success(status), status

    def with_key(self, key: KeyRef, action: Callable[[int], int], access: int = KEY_ALL_ACCESS) -> int:
        """action(handle) on the key's handle, opened for it (and closed after) unless bound."""
        handle, owned, status = self.handle(key, access)
        if not nt_success(status):
            return status
        try:
            return action(handle)
        finally:
            if owned:
                self.registry.close(handle)

    def find(self, key: KeyRef):
        """The store's key for a KeyRef, looked at directly (no call, no callback), or None."""
        native = self.registry.native
        if key.bound is None:
            return native.store.walk(key.path)
        if key.bound not in self.handles:
            return None
        entry = native.handles.lookup(self.handles[key.bound])
        found = entry.obj.key if entry is not None and not entry.obj.key.deleted else None
        for part in key.path.split("\\"):
            if part and found is not None:
                found = found.find_subkey(part)
        return found


# Devices: opendevice, ioctl, closedevice register themselves (after the commands' registry exists).
from . import script_devices  # noqa: E402,F401
