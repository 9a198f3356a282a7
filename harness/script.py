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
    deletevalue KEY "name"
    deletekey KEY
    rename KEY NEWNAME
    flush KEY
    close NAME
    import FILE.reg                         applied through the API: filters see every write
    expect STATUS_NAME                      the status of the operation before
    expect value KEY "name"=DATA            the value exists and holds exactly DATA
    expect novalue KEY "name"
    expect key KEY | expect nokey KEY

KEY is a name bound with `as NAME`, or a path (HKLM\\..., HKEY_USERS\\..., \\REGISTRY\\...), which
is opened for the one command and closed after it. MASK is a KEY_* name, GENERIC_* name or a
number, combined with |. A script with an error is refused whole, naming file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ntddk_py
from ntddk_py import (
    KEY_ALL_ACCESS,
    OBJ_CASE_INSENSITIVE,
    OBJ_OPENLINK,
    REG_OPTION_CREATE_LINK,
    REG_OPTION_VOLATILE,
    STATUS_INVALID_HANDLE,
    STATUS_SUCCESS,
    nt_success,
    status_name,
)
from ntddk_py import KEY_INFORMATION_CLASS as KIC
from ntddk_py import KEY_VALUE_INFORMATION_CLASS as KVIC
from registry_core import caller, infoclass, regfile
from registry_core.regfile import RegFileError

COMMANDS = ("as", "create", "open", "set", "query", "enumkeys", "enumvalues", "deletevalue", "deletekey", "rename",
            "flush", "close", "import", "expect")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


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


# --- parsing -------------------------------------------------------------------------

def _split(text: str) -> list[str]:
    """Words separated by spaces; a double-quoted part (with \\" escapes) stays one word."""
    return re.findall(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+', text)


def _mask(text: str, where: str) -> int:
    total = 0
    for part in text.split("|"):
        part = part.strip()
        if re.fullmatch(r"0[xX][0-9A-Fa-f]+|\d+", part):
            total |= int(part, 0)
        elif (part.startswith(("KEY_", "GENERIC_")) or part in ("DELETE", "MAXIMUM_ALLOWED", "READ_CONTROL")) \
                and hasattr(ntddk_py, part):
            total |= getattr(ntddk_py, part)
        else:
            raise ScriptError(f"{where}: unknown access right {part!r} (use KEY_READ, KEY_ALL_ACCESS, 0x20019, ...)")
    return total


def _key(word: str, where: str) -> str | tuple[str]:
    """A bound name (a 1-tuple) or a \\REGISTRY path."""
    if NAME.match(word) and word.upper() not in regfile.ROOTS:
        return (word,)
    try:
        return regfile.native_path(word)
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
            options["class"] = word[6:].strip('"')
        elif word in ("volatile", "link", "openlink") and word in allowed:
            options[word] = True
        elif word == "as" and index + 1 < len(words) and NAME.match(words[index + 1]):
            options["bind"] = words[index + 1]
            index += 1
        else:
            raise ScriptError(f"{where}: unexpected {word!r}")
        index += 1
    return options


def parse_line(text: str, line: int, where: str, base: Path) -> Step | None:
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    command, _, rest = stripped.partition(" ")
    rest = rest.strip()
    if command not in COMMANDS:
        raise ScriptError(f"{where}: unknown command {command!r}; commands: {', '.join(COMMANDS)}")
    step = Step(line, command, text=stripped)
    words = _split(rest)
    try:
        if command == "as":
            pid, _, image = rest.partition(" ")
            if not pid.isdigit() or not image.strip():
                raise ScriptError(f"{where}: as PID IMAGE, e.g. as 4242 \\Device\\HarddiskVolume1\\x.exe")
            step.args = {"pid": int(pid), "image": image.strip()}
        elif command in ("create", "open"):
            if not words:
                raise ScriptError(f"{where}: {command} needs a key")
            allowed = {"access", "volatile", "link", "class"} if command == "create" else {"access", "openlink"}
            step.args = {"key": _key(words[0], where), **_open_options(words[1:], where, allowed)}
            if isinstance(step.args["key"], tuple):
                raise ScriptError(f"{where}: {command} takes a path, not a bound name")
        elif command == "set":
            key, _, value = rest.partition(" ")
            step.args = {"key": _key(key, where), "value": regfile.parse_value(value.strip(), where=where)}
            if step.args["value"].delete:
                raise ScriptError(f"{where}: use deletevalue to delete a value")
        elif command in ("query", "deletevalue"):
            key, _, name = rest.partition(" ")
            step.args = {"key": _key(key, where), "name": regfile.parse_value_name(name, where)}
        elif command in ("enumkeys", "enumvalues", "deletekey", "flush", "close"):
            if len(words) != 1:
                raise ScriptError(f"{where}: {command} takes one key")
            step.args = {"key": _key(words[0], where)}
            if command == "close" and not isinstance(step.args["key"], tuple):
                raise ScriptError(f"{where}: close takes a name bound with 'as'")
        elif command == "rename":
            if len(words) != 2:
                raise ScriptError(f"{where}: rename KEY NEWNAME")
            step.args = {"key": _key(words[0], where), "new": words[1].strip('"')}
        elif command == "import":
            path = Path(rest.strip('"'))
            path = path if path.is_absolute() else base / path
            step.args = {"file": regfile.load(path)}
        elif command == "expect":
            step.args = _parse_expect(rest, words, where)
    except RegFileError as error:
        message = str(error)
        raise ScriptError(message if message.startswith(where) else f"{where}: {message}") from None
    return step


def _parse_expect(rest: str, words: list[str], where: str) -> dict:
    if len(words) == 1 and words[0].startswith("STATUS_"):
        if not hasattr(ntddk_py, words[0]):
            raise ScriptError(f"{where}: unknown status {words[0]}")
        return {"status": getattr(ntddk_py, words[0])}
    kind = words[0] if words else ""
    tail = rest[len(kind):].strip()
    if kind in ("key", "nokey") and len(words) == 2:
        return {"kind": kind, "key": _key(words[1], where)}
    if kind in ("value", "novalue"):
        key, _, spec = tail.partition(" ")
        if kind == "value":
            return {"kind": kind, "key": _key(key, where), "value": regfile.parse_value(spec.strip(), where=where)}
        return {"kind": kind, "key": _key(key, where), "name": regfile.parse_value_name(spec, where)}
    raise ScriptError(f"{where}: expect STATUS_NAME | value KEY \"name\"=DATA | novalue KEY \"name\" | key KEY | "
                      "nokey KEY")


def parse(text: str, filename: str = "<script>") -> list[Step]:
    """Every step of a script, or ScriptError for the first line that cannot run (nothing runs)."""
    base = Path(filename).parent
    steps = []
    for number, line in enumerate(text.splitlines(), 1):
        step = parse_line(line, number, f"{filename}:{number}", base)
        if step is not None:
            steps.append(step)
    bound: set[str] = set()
    for step in steps:
        where = f"{filename}:{step.line}"
        if step.command == "expect" and "status" in step.args and steps.index(step) == 0:
            raise ScriptError(f"{where}: expect STATUS_... needs an operation before it")
        key = step.args.get("key")
        if isinstance(key, tuple) and key[0] not in bound:
            raise ScriptError(f"{where}: {key[0]!r} is not bound: open or create it with 'as {key[0]}' first")
        if step.command == "close":
            bound.discard(key[0])
        if "bind" in step.args:
            bound.add(step.args["bind"])
    return steps


def load(path: str | Path) -> list[Step]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScriptError(f"{path}: {error.strerror}") from None
    return parse(text, str(path))


# --- running -------------------------------------------------------------------------

class Runner:
    """Runs steps against a registry as user-mode callers; reports through callbacks as it goes."""

    def __init__(self, registry, filename: str = "<script>", on_step: Callable[[Step, int], None] | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        self.registry = registry
        self.filename = filename
        self.handles: dict[str, int] = {}
        self.outcome = Outcome()
        self.on_step = on_step
        self.say = say or self.outcome.output.append
        self.process = caller.DEFAULT_CALLER

    def run(self, steps: list[Step]) -> Outcome:
        last = STATUS_SUCCESS
        for step in steps:
            with caller.calling_as(self.process):
                status = self.execute(step, last)
            if step.command not in ("expect", "as"):
                last = status
                self.outcome.statuses.append((step, status))
            if self.on_step is not None:
                self.on_step(step, status)
        return self.outcome

    def fail(self, step: Step, message: str) -> None:
        self.outcome.failed.append(f"{self.filename}:{step.line}: {step.text}: {message}")

    def _handle(self, key, access: int = KEY_ALL_ACCESS) -> tuple[int, bool, int]:
        """(handle, whether to close it after, open status) for a bound name or a path."""
        if isinstance(key, tuple):
            if key[0] not in self.handles:  # its open or create failed
                return 0, False, STATUS_INVALID_HANDLE
            return self.handles[key[0]], False, STATUS_SUCCESS
        status, handle = self.registry.open_key(key, access)
        return handle, nt_success(status), status

    def _with_key(self, key, action: Callable[[int], int], access: int = KEY_ALL_ACCESS) -> int:
        handle, owned, status = self._handle(key, access)
        if not nt_success(status):
            return status
        try:
            return action(handle)
        finally:
            if owned:
                self.registry.close(handle)

    def execute(self, step: Step, last: int) -> int:
        a, reg = step.args, self.registry
        if step.command == "as":
            self.process = caller.Caller(process_id=a["pid"], image=a["image"])
            return STATUS_SUCCESS
        if step.command in ("create", "open"):
            attributes = OBJ_CASE_INSENSITIVE | (OBJ_OPENLINK if a.get("openlink") else 0)
            if step.command == "create":
                options = (REG_OPTION_VOLATILE if a.get("volatile") else 0) | (
                    REG_OPTION_CREATE_LINK if a.get("link") else 0)
                status, handle, _ = reg.create_key(a["key"], a["access"], options=options, class_name=a.get("class"),
                                                   attributes=attributes)
            else:
                status, handle = reg.open_key(a["key"], a["access"], attributes=attributes)
            if nt_success(status):
                if "bind" in a:
                    self.handles[a["bind"]] = handle
                else:
                    reg.close(handle)
            return status
        if step.command == "set":
            value = a["value"]
            return self._with_key(a["key"], lambda h: reg.set_value(h, value.name, value.type, value.data))
        if step.command == "query":
            return self._with_key(a["key"], lambda h: self._query(h, a["name"]))
        if step.command == "enumkeys":
            return self._with_key(a["key"], lambda h: self._enumerate(h, keys=True))
        if step.command == "enumvalues":
            return self._with_key(a["key"], lambda h: self._enumerate(h, keys=False))
        if step.command == "deletevalue":
            return self._with_key(a["key"], lambda h: reg.delete_value(h, a["name"]))
        if step.command == "deletekey":
            return self._with_key(a["key"], reg.delete_key)
        if step.command == "rename":
            return self._with_key(a["key"], lambda h: reg.rename_key(h, a["new"]))
        if step.command == "flush":
            return self._with_key(a["key"], reg.flush_key)
        if step.command == "close":
            return reg.close(self.handles.pop(a["key"][0], 0))
        if step.command == "import":
            failures = regfile.apply(reg, a["file"])
            for what, status in failures:
                self.say(f"import: {what}: {status_name(status)}")
            return failures[-1][1] if failures else STATUS_SUCCESS
        return self._expect(step, last)

    def _query(self, handle: int, name: str) -> int:
        sizing = self.registry.query_value(handle, name, KVIC.KeyValuePartialInformation, 0)
        if sizing.status != ntddk_py.STATUS_BUFFER_TOO_SMALL:
            return sizing.status
        result = self.registry.query_value(handle, name, KVIC.KeyValuePartialInformation, sizing.result_length)
        if nt_success(result.status):
            info, data = infoclass.decode("KEY_VALUE_PARTIAL_INFORMATION", result.buffer)
            self.say(regfile.format_value(name, info.Type, data[:info.DataLength]).replace("\r\n", "\n"))
        return result.status

    def _enumerate(self, handle: int, keys: bool) -> int:
        index = 0
        while True:
            if keys:
                result = self.registry.enumerate_key(handle, index, KIC.KeyBasicInformation, 1024)
                if not nt_success(result.status):
                    break
                info, name = infoclass.decode("KEY_BASIC_INFORMATION", result.buffer)
                self.say(f"[{name[:info.NameLength].decode('utf-16-le', 'replace')}]")
            else:
                result = self.registry.enumerate_value(handle, index, KVIC.KeyValueFullInformation, 65536)
                if not nt_success(result.status):
                    break
                info, tail = infoclass.decode("KEY_VALUE_FULL_INFORMATION", result.buffer)
                name = tail[:info.NameLength].decode("utf-16-le", "replace")
                data = result.buffer[info.DataOffset:info.DataOffset + info.DataLength] if info.DataLength else b""
                self.say(regfile.format_value(name, info.Type, data).replace("\r\n", "\n"))
            index += 1
        return STATUS_SUCCESS if result.status == ntddk_py.STATUS_NO_MORE_ENTRIES else result.status

    def _expect(self, step: Step, last: int) -> int:
        a = step.args
        if "status" in a:
            if last != a["status"]:
                self.fail(step, f"the status was {status_name(last)}")
            return STATUS_SUCCESS
        store = self.registry.native.store
        found = None
        if not isinstance(a["key"], tuple):
            found = store.walk(a["key"])
        elif a["key"][0] in self.handles:
            entry = self.registry.native.handles.lookup(self.handles[a["key"][0]])
            found = entry.obj.key if entry is not None and not entry.obj.key.deleted else None
        if a["kind"] in ("key", "nokey"):
            if (found is not None) != (a["kind"] == "key"):
                self.fail(step, "the key exists" if found is not None else "the key does not exist")
            return STATUS_SUCCESS
        name = a["value"].name if a["kind"] == "value" else a["name"]
        value = found.find_value(name) if found is not None else None
        if a["kind"] == "novalue":
            if value is not None:
                self.fail(step, f"the value exists: {regfile.format_value(name, value.type, value.data)}")
        elif value is None:
            self.fail(step, "the value does not exist")
        elif (value.type, value.data) != (a["value"].type, a["value"].data):
            self.fail(step, f"the value is {regfile.format_value(name, value.type, value.data)}")
        return STATUS_SUCCESS
