"""`cmhook fuzz`: explore filters with generated registries and operation sequences until one
misbehaves, then hand back the smallest registry and script that still show it.

The search engine is hypothesis: it draws a scenario (an initial registry under the explored
keys, and a script of operations from user-mode processes with different ids and images, with
hostile arguments: boundary and odd-sized names, unusual characters, every information class
with odd buffer lengths, data of every type and size), runs it, and on a finding shrinks it. A
scenario is exactly what `cmhook run --registry F.reg --script F.script DRIVER...` runs: each one
is written as those two files and run by the same Job, in its own watched machine
(harness/isolation.py), so the reproducer is not a translation of what failed but the thing
itself. A finding is anything `cmhook run` would not end with status 0 for: a verifier finding,
a bugcheck, a hang, an early end, a driver failing to load or unload.

Seeded and time-bounded: hypothesis runs batches of examples, each batch seeded from --seed and
its number, until --time runs out or --examples are done. This module knows scenarios and the
search; running one is job.py's, the registry's rules are registry_core's.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from ntddk_py import (
    KEY_INFORMATION_CLASS,
    KEY_VALUE_INFORMATION_CLASS,
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_NONE,
    REG_QWORD,
    REG_SZ,
)
from registry_core import regfile
from registry_core.names import MAX_KEY_NAME_CHARS, MAX_VALUE_NAME_CHARS

from . import isolation
from .job import Job, Remote, Reporter
from .kernel import DriverError, module_imports

DEFAULT_KEYS = ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Fuzz",)
DEFAULT_IMAGES = ("\\Device\\HarddiskVolume1\\Windows\\explorer.exe",
                  "\\Device\\HarddiskVolume1\\Windows\\System32\\svchost.exe",
                  "\\Device\\HarddiskVolume1\\Users\\Public\\Downloads\\setup.exe",
                  "\\Device\\HarddiskVolume1\\Program Files\\App\\app.exe")
BATCH = 25  # examples per hypothesis run: the time limit is checked between batches
# The longest key name component and value name the registry takes (registry_core.names): the
# generated names sit on both sides of these.
KEY_NAME_LIMIT = MAX_KEY_NAME_CHARS
VALUE_NAME_LIMIT = MAX_VALUE_NAME_CHARS
_NAME_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='\\"')
_PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.-", min_size=1,
                 max_size=10)
_LENGTHS = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 7, 8, 12, 15, 16, 20, 24, 32, 64, 4096]),
                     st.integers(0, 600))


@dataclass(frozen=True)
class Scenario:
    """An initial registry (keys and their values) and the script run over it."""

    keys: tuple[tuple[str, tuple[tuple[str, int, bytes], ...]], ...]
    lines: tuple[str, ...]

    def reg_text(self) -> str:
        blocks = [regfile.HEADER_5, ""]
        for path, values in self.keys:
            blocks.append(regfile.key_line(regfile.native_path(path)))
            blocks.extend(regfile.format_value(name, type_, data) for name, type_, data in values)
            blocks.append("")
        return "\r\n".join(blocks) + "\r\n"

    def script_text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


@dataclass
class Verdict:
    """How one scenario's run ended: clean, or what went wrong, as `cmhook run` would report it."""

    clean: bool
    kind: str = ""  # "finding", "bugcheck", "hang", "ended", "problem"
    text: str = ""

    def headline(self) -> str:
        return self.text.strip().splitlines()[0] if self.text.strip() else self.kind


class FoundProblem(AssertionError):
    """Raised in the property when a scenario is not clean: what hypothesis shrinks."""


# --- what a scenario is made of ------------------------------------------------------------

def _quoted(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _value_name_text(name: str) -> str:
    """A value name as scripts and .reg files write it ("name" with escapes, @ for the default)."""
    return regfile.format_value(name, REG_DWORD, bytes(4)).rsplit("=dword:", 1)[0]


def _repeated(low: int, high: int) -> st.SearchStrategy[str]:
    """Names of one character repeated, of a length from low to high: they shrink to the shortest that fails."""
    return st.builds(lambda character, count: character * count, st.sampled_from("nX\u00e9"), st.integers(low, high))


def _long_names(limit: int) -> st.SearchStrategy[str]:
    """Names of up to 302 characters, or of limit - 299 to limit + 2: the two halves share the count
    drawn, so a failing name near the limit can shrink to a short one, and a short one to the shortest."""
    return st.builds(lambda character, offset, count: character * (offset + count), st.sampled_from("nX\u00e9"),
                     st.sampled_from([0, limit - 300]), st.integers(1, 302))


# The strategies, built once (hypothesis works out each strategy's properties when first used).
_VALID_KEY_NAMES = st.one_of(
    _PLAIN, st.text(alphabet=_NAME_CHARACTERS, min_size=1, max_size=6), _repeated(1, KEY_NAME_LIMIT),
    st.sampled_from(["Run", "RunOnce", "Services", "Image File Execution Options"])).filter(lambda n: n.strip() != "")
_HOSTILE_KEY_NAMES = st.one_of(_VALID_KEY_NAMES, _repeated(KEY_NAME_LIMIT, KEY_NAME_LIMIT + 2),
                               st.sampled_from([" ", "..", "\u00df" * 3, "\U0001f600"]))
_VALUE_NAMES = st.one_of(st.just(""), _PLAIN, st.text(alphabet=_NAME_CHARACTERS, min_size=1, max_size=8),
                         _long_names(VALUE_NAME_LIMIT),
                         st.sampled_from(["ImagePath", "Start", "Debugger"]))
_STORED_VALUE_NAMES = _VALUE_NAMES.filter(lambda name: len(name) <= VALUE_NAME_LIMIT)


def _text_data(type_: int) -> st.SearchStrategy[tuple[int, bytes]]:
    return _PLAIN.map(lambda s: (type_, (s + "\0").encode("utf-16-le")))


_VALUE_DATA = st.one_of(
    st.integers(0, 0xFFFFFFFF).map(lambda n: (REG_DWORD, n.to_bytes(4, "little"))),
    st.integers(0, (1 << 64) - 1).map(lambda n: (REG_QWORD, n.to_bytes(8, "little"))),
    _text_data(REG_SZ), _text_data(REG_EXPAND_SZ),
    st.lists(_PLAIN, max_size=3).map(lambda items: (REG_MULTI_SZ, "".join(
        item + "\0" for item in items).encode("utf-16-le") + b"\0\0")),
    st.binary(max_size=64).map(lambda raw: (REG_BINARY, raw)),
    st.sampled_from([(REG_BINARY, bytes(70000)), (REG_DWORD, b"\x01\x02\x03"), (REG_SZ, b"a"), (REG_NONE, b""),
                     (REG_SZ, b"\0" * 6)]))
_VALUES = st.lists(st.tuples(_STORED_VALUE_NAMES, _VALUE_DATA), max_size=3, unique_by=lambda item: item[0].lower())


def _class_options(classes: type) -> st.SearchStrategy[str]:
    members = st.sampled_from(list(classes))  # type: ignore[call-overload]
    return st.one_of(st.just(""), st.builds(lambda member, length: f" class={member.name} length={length}",
                                            members, _LENGTHS))


_VALUE_CLASS_OPTIONS = _class_options(KEY_VALUE_INFORMATION_CLASS)
_KEY_CLASS_OPTIONS = _class_options(KEY_INFORMATION_CLASS)
_PROCESS_IDS = st.one_of(st.sampled_from([4, 8, 4242, 0xFFFFFFFF]), st.integers(8, 70000))
_ACCESS = st.sampled_from(["KEY_READ", "KEY_ALL_ACCESS", "KEY_QUERY_VALUE", "KEY_SET_VALUE", "0"])


def _set_line(key: str, name: str, data: tuple[int, bytes]) -> str:
    return f"set {_quoted(key)} {regfile.format_value(name, *data)}".replace("\\\r\n  ", "")


# Each operation: its script line, drawn for a key (quoted when written). One entry per script command.
OPERATIONS: dict[str, Callable[[st.DrawFn, str], str]] = {
    "create": lambda draw, key: f"create {_quoted(key)}{' volatile' if draw(st.booleans()) else ''}",
    "open": lambda draw, key: f"open {_quoted(key)} access={draw(_ACCESS)}",
    "set": lambda draw, key: _set_line(key, draw(_VALUE_NAMES), draw(_VALUE_DATA)),
    "query": lambda draw, key: f"query {_quoted(key)} {_value_name_text(draw(_VALUE_NAMES))}"
                               f"{draw(_VALUE_CLASS_OPTIONS)}",
    "querykey": lambda draw, key: f"querykey {_quoted(key)}{draw(_KEY_CLASS_OPTIONS)}",
    "enumkeys": lambda draw, key: f"enumkeys {_quoted(key)}{draw(_KEY_CLASS_OPTIONS)}",
    "enumvalues": lambda draw, key: f"enumvalues {_quoted(key)}{draw(_VALUE_CLASS_OPTIONS)}",
    "deletevalue": lambda draw, key: f"deletevalue {_quoted(key)} {_value_name_text(draw(_VALUE_NAMES))}",
    "deletekey": lambda draw, key: f"deletekey {_quoted(key)}",
    "rename": lambda draw, key: f"rename {_quoted(key)} {_quoted(draw(_HOSTILE_KEY_NAMES))}",
    "flush": lambda draw, key: f"flush {_quoted(key)}",
    "advance": lambda draw, key: "advance 1s",
}


@st.composite
def _operation(draw: st.DrawFn, known: tuple[str, ...], images: tuple[str, ...], operations: tuple[str, ...]) -> str:
    """One script line: an `as PID IMAGE` switch, or an operation on a known key or a (hostile) name under one."""
    kind = draw(st.sampled_from(("as", *operations)))
    if kind == "as":
        return f"as {draw(_PROCESS_IDS)} {_quoted(draw(st.sampled_from(images)))}"
    key = draw(st.sampled_from(known))
    if draw(st.booleans()):  # half the time a key that may not exist, with a hostile name
        key = f"{key}\\{draw(_HOSTILE_KEY_NAMES)}"
    return OPERATIONS[kind](draw, key)


@st.composite
def scenarios(draw: st.DrawFn, roots: tuple[str, ...] = DEFAULT_KEYS, images: tuple[str, ...] = DEFAULT_IMAGES,
              operations: tuple[str, ...] = tuple(OPERATIONS)) -> Scenario:
    """A registry under the roots, and 1 to 12 operations (of the kinds named) on it and around it,
    with `as PID IMAGE` switches between them."""
    keys: list[tuple[str, tuple[tuple[str, int, bytes], ...]]] = [(root, ()) for root in roots]
    for _ in range(draw(st.integers(0, 5))):
        path = f"{draw(st.sampled_from([known for known, _ in keys]))}\\{draw(_VALID_KEY_NAMES)}"
        values = draw(_VALUES)
        if all(path.lower() != known.lower() for known, _ in keys):
            keys.append((path, tuple((name, type_, data) for name, (type_, data) in values)))
    lines = draw(st.lists(_operation(tuple(path for path, _ in keys), images, operations), min_size=1, max_size=12))
    return Scenario(tuple(keys), tuple(lines))


# What the warm-up runs: a callback that passes everything, and every command once.
WARM_UP_FILTER = """#include <ntddk.h>
static LARGE_INTEGER Cookie;
static NTSTATUS Pass(PVOID Context, PVOID Argument1, PVOID Argument2)
{
    UNREFERENCED_PARAMETER(Context); UNREFERENCED_PARAMETER(Argument1); UNREFERENCED_PARAMETER(Argument2);
    return STATUS_SUCCESS;
}
static VOID Unload(PDRIVER_OBJECT Driver) { UNREFERENCED_PARAMETER(Driver); CmUnRegisterCallback(Cookie); }
NTSTATUS DriverEntry(PDRIVER_OBJECT Driver, PUNICODE_STRING Path)
{
    UNREFERENCED_PARAMETER(Path);
    Driver->DriverUnload = Unload;
    return CmRegisterCallback(Pass, NULL, &Cookie);
}
"""
_WARM = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Fuzz\\w"
_W, _WS, _WT = _quoted(_WARM), _quoted(_WARM + "\\s"), _quoted(_WARM + "\\t")
WARM_UP = Scenario(
    keys=((_WARM, (("a", REG_SZ, "x\0".encode("utf-16-le")), ("b", REG_DWORD, bytes(4)))),),
    lines=(f"as 4242 {_quoted(DEFAULT_IMAGES[0])}", f"create {_WS} volatile", f"open {_W} access=KEY_READ",
           f'set {_W} "c"=hex:01', f'query {_W} "a"', f'query {_W} "a" class=KeyValueFullInformation length=8',
           f"querykey {_W}", f"querykey {_W} class=KeyNameInformation length=4", f"enumkeys {_W}",
           f"enumvalues {_W}", f"enumvalues {_W} class=KeyValueBasicInformation length=3",
           f'deletevalue {_W} "c"', f'rename {_WS} "t"', f"flush {_W}", f"deletekey {_WT}", "advance 1s"))


# --- running one ---------------------------------------------------------------------------

class Fuzzer:
    """Runs scenarios against the drivers, each in its own machine, and keeps the first problem."""

    def __init__(self, drivers: list[str], workdir: Path, profile: str = "2003", cc: str = "gcc",
                 hang_seconds: float = 5.0, verifier: str | None = None) -> None:
        self.drivers, self.profile, self.cc, self.hang_seconds = drivers, profile, cc, hang_seconds
        self.verifier = verifier
        self.script_path, self.reg_path = workdir / "scenario.script", workdir / "scenario.reg"
        self.runs = 0

    def warm_up(self) -> None:
        """One scenario run here, in this process, with a trusted filter of cmhook's own (it registers a
        callback that lets everything pass) instead of the drivers: every machine forked after inherits
        what a process's first run costs (cffi parsing the types each step uses: seconds), and pays
        only for its own scenario. The drivers under test never run outside a machine."""
        source = self.script_path.parent / "cmhook_warm_up.c"
        source.write_text(WARM_UP_FILTER)
        self.script_path.write_text(WARM_UP.script_text(), encoding="utf-8")
        self.reg_path.write_text(WARM_UP.reg_text(), encoding="utf-16")
        reporter = Reporter(io.StringIO(), io.StringIO(), None, str(self.script_path))
        Job([str(source)], str(self.script_path), [str(self.reg_path)], self.profile, reporter, self.cc).run()
        if reporter.problems:
            raise RuntimeError("; ".join(reporter.problems))
        for driver in self.drivers:
            with contextlib.suppress(OSError, DriverError):  # the machine reports it, naming the driver
                module_imports(driver)

    def run(self, scenario: Scenario) -> Verdict:
        self.runs += 1
        self.script_path.write_text(scenario.script_text(), encoding="utf-8")
        self.reg_path.write_text(scenario.reg_text(), encoding="utf-16")
        out, err = io.StringIO(), io.StringIO()
        reporter = Reporter(out, err, None, str(self.script_path))
        work = Job(self.drivers, str(self.script_path), [str(self.reg_path)], self.profile, Remote(), self.cc,
                   verifier=self.verifier)
        ending = isolation.run(work.run, reporter.deliver, hang_seconds=self.hang_seconds,
                               recent=reporter.recent_lines)
        if ending.report is not None:
            return Verdict(False, ending.report.kind, ending.report.text)
        if ending.kind == "raised":
            return Verdict(False, "problem", f"internal error in the machine (a cmhook bug):\n{ending.error}")
        findings = [problem for problem in reporter.problems if problem.startswith("verifier: ")]
        if findings:
            return Verdict(False, "finding", "\n".join(findings))
        if reporter.problems:
            return Verdict(False, "problem", "\n".join(reporter.problems))
        return Verdict(True)


@dataclass
class Result:
    """What a fuzzing session found: the minimal scenario and its verdict, or nothing."""

    examples: int
    scenario: Scenario | None = None
    verdict: Verdict | None = None


def fuzz(fuzzer: Fuzzer, *, seconds: float, examples: int | None, base_seed: int,
         roots: tuple[str, ...] = DEFAULT_KEYS, images: tuple[str, ...] = DEFAULT_IMAGES,
         operations: tuple[str, ...] = tuple(OPERATIONS)) -> Result:
    """Run batches of generated scenarios until a problem (shrunk by hypothesis), the time or the examples run out."""
    deadline = time.monotonic() + seconds
    found: list[tuple[Scenario, Verdict]] = []
    batch = 0
    while time.monotonic() < deadline and (examples is None or fuzzer.runs < examples):
        size = BATCH if examples is None else max(1, min(BATCH, examples - fuzzer.runs))

        @seed(base_seed * 1_000_003 + batch)
        @settings(max_examples=size, deadline=None, database=None, verbosity=Verbosity.quiet, derandomize=False,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
                  report_multiple_bugs=False)
        @given(scenarios(roots, images, operations))
        def property_holds(scenario: Scenario) -> None:
            verdict = fuzzer.run(scenario)
            if not verdict.clean:
                found.append((scenario, verdict))  # the last one appended is the shrunk one
                raise FoundProblem(verdict.kind)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", HypothesisWarning)  # long names make long reprs: expected here
                property_holds()
        except FoundProblem:
            scenario, verdict = found[-1]
            return Result(fuzzer.runs, scenario, verdict)
        batch += 1
    return Result(fuzzer.runs)


def write_reproducer(result: Result, prefix: Path) -> tuple[Path, Path]:
    """The minimal scenario as PREFIX.reg and PREFIX.script."""
    assert result.scenario is not None
    reg, script_file = prefix.with_suffix(".reg"), prefix.with_suffix(".script")
    reg.write_text(result.scenario.reg_text(), encoding="utf-16")
    script_file.write_text(result.scenario.script_text(), encoding="utf-8")
    return reg, script_file
