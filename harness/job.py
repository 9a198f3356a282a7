"""`cmhook run`: load drivers, run a registry script as user-mode callers, unload, verify, and
show what happened: DbgPrint output as it happens, every operation with each callback's pre and
post status, a summary. The exit status says whether everything held.

Two halves, one per process (``run_job``): ``Job`` is the machine's work (the kernel, the
drivers, the script) and runs in the watched child (harness/isolation.py); ``Reporter`` formats
and counts what the Job tells it, and runs in the parent, so a crashing or hanging driver still
gets everything traced before it, the summary and its bugcheck report. With ``--in-process``
the Job talks to the Reporter directly; the calls are the same either way (``Remote`` turns
them into ring frames).
"""

from __future__ import annotations

import json
import sys
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import ntddk_py
from ntddk_py import status_name
from registry_core import regfile
from registry_core.callbacks import RawRecord, Trace, notify_class_name

from . import bugcheck, isolation, script
from .build import BuildError, build_filter
from .cli import EXIT_CRASHED, EXIT_FAILED, EXIT_HUNG, EXIT_OK
from .kernel import DriverError, Kernel

PROGRESS_EVERY = 1000
# The header's REG_* value type names by value (REG_DWORD_LITTLE_ENDIAN and the like are aliases).
_VALUE_TYPE_NAMES = {getattr(ntddk_py, name): name for name in reversed(ntddk_py.__all__)
                     if name.startswith("REG_") and name[4:] in {
                         "NONE", "SZ", "EXPAND_SZ", "BINARY", "DWORD", "DWORD_BIG_ENDIAN", "LINK", "MULTI_SZ",
                         "RESOURCE_LIST", "FULL_RESOURCE_DESCRIPTOR", "RESOURCE_REQUIREMENTS_LIST", "QWORD"}}


class TraceFormatter:
    """Turns raw trace records into lines of text or JSON. A run repeats the same notification
    with the same results over and over, so each distinct one is formatted once and cached."""

    def __init__(self) -> None:
        self._text: dict[tuple, str] = {}
        self._json: dict[tuple, dict] = {}

    def text(self, raw: RawRecord, where: str) -> str:
        api, _, _, key_path, status, notes, _ = raw
        lines = [f"{where}{api} {key_path or ''} -> {status_name(status or 0)}\n"]
        for note in notes:
            line = self._text.get(note)
            if line is None:
                notify_class, results, _ = note
                shown = ", ".join(f"{name}={status_name(result)}" for name, result in results)
                line = self._text[note] = f"  {notify_class_name(notify_class)} [{shown}]\n"
            lines.append(line)
        return "".join(lines)

    def json(self, raw: RawRecord, line: int | None) -> str:
        api, thread_id, process_id, key_path, status, notes, detail = raw
        notifications = []
        for note in notes:
            shown = self._json.get(note)
            if shown is None:
                notify_class, results, blocked_by = note
                shown = self._json[note] = {
                    "class": notify_class_name(notify_class), "blocked_by": blocked_by,
                    "results": [{"callback": name, "status": status_name(result)} for name, result in results]}
            notifications.append(shown)
        record = {"line": line, "api": api, "thread": thread_id, "process": process_id, "key": key_path,
                  "status": status_name(status or 0), "notifications": notifications}
        if detail is not None:
            record["value"] = detail[0]
            if detail[1] is not None:
                record["type"] = self._type_name(detail[1])
        return json.dumps(record) + "\n"

    @staticmethod
    def _type_name(value_type: int) -> str:
        """REG_SZ, REG_DWORD, ... as the header names them; other types as their number."""
        return _VALUE_TYPE_NAMES.get(value_type, str(value_type))


class Reporter:
    """What a run shows: DbgPrint lines, the trace (text or JSON lines), progress, problems, the
    summary and the exit status. It runs in the watching parent and receives the machine's
    reports as ``deliver(method, args)`` calls (``cmhook run --in-process``: called directly).
    The summary is kept as records arrive, so a machine that crashes still gets one."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr, trace_file: TextIO | None = None,
                 script_name: str | None = None) -> None:
        self.out, self.err = out, err
        self.trace_file = trace_file
        self.script_name = script_name
        self.formatter = TraceFormatter()
        self.problems: list[str] = []
        self.operations = 0
        self.blocked = 0
        self.classes: Counter[int] = Counter()  # by notify class
        self.findings: int | None = None  # None: the machine never got to check
        self.recent: deque[tuple[RawRecord, int | None]] = deque(maxlen=bugcheck.RECENT_SHOWN)
        self.progress_shown = False

    def deliver(self, method: str, args: tuple) -> None:
        """A report from the machine: one of the methods below, by name."""
        getattr(self, method)(*args)

    def echo(self, driver: str, text: str) -> None:
        self.out.write(f"[{driver}] {text}" + ("" if text.endswith("\n") else "\n"))
        self.out.flush()

    def say(self, text: str) -> None:
        self.out.write(text + "\n")

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def verified(self, findings: list[str]) -> None:
        self.findings = len(findings)
        for finding in findings:
            self.problem(f"verifier: {finding}")

    def progress(self, done: int, total: int) -> None:
        if self.err.isatty() and total >= PROGRESS_EVERY:
            self.err.write(f"\r{done:,}/{total:,} operations" + ("\n" if done == total else ""))
            self.err.flush()

    def records(self, line: int | None, raws: list[RawRecord]) -> None:
        """Print (or write as JSON lines) a batch of trace records, and count them for the summary."""
        self.operations += len(raws)
        classes = self.classes
        for raw in raws:
            notes = raw[5]
            if notes and notes[0][2] is not None:
                self.blocked += 1
            for note in notes:
                classes[note[0]] += 1
        self.recent.extend((raw, line) for raw in raws[-bugcheck.RECENT_SHOWN:])
        if self.trace_file is not None:
            self.trace_file.write("".join(self.formatter.json(raw, line) for raw in raws))
        else:
            self.out.write("".join(self.formatter.text(raw, self._where(line)) for raw in raws))

    def _where(self, line: int | None) -> str:
        return f"{Path(self.script_name).name}:{line}: " if line and self.script_name else ""

    def recent_lines(self) -> list[str]:
        """The newest records, one line each (without their notifications), for a crash report."""
        self.out.flush()
        return [self.formatter.text(raw, self._where(line)).split("\n", 1)[0] for raw, line in self.recent]

    def summary(self) -> None:
        self.out.write("\nsummary\n")
        self.out.write(f"  operations:          {self.operations}\n")
        self.out.write(f"  blocked operations:  {self.blocked}\n")
        for name, count in sorted((notify_class_name(c), n) for c, n in self.classes.items()):
            self.out.write(f"  {name:<32} {count}\n")
        shown = self.findings if self.findings is not None else "not checked (the machine stopped)"
        self.out.write(f"  verifier findings:   {shown}\n")

    def stopped(self, report: bugcheck.Report) -> None:
        """The machine crashed, hung or ended early: the report on stderr, a line in the summary and the trace."""
        self.out.flush()
        self.err.write(report.text)
        self.out.write(f"\nthe machine stopped: {report.headline()}\n")
        if self.trace_file is not None:
            self.trace_file.write(json.dumps({"stopped": report.kind, "code": report.code, "name": report.name,
                                              "driver": report.driver, **report.details}) + "\n")

    def finish(self) -> None:
        if self.trace_file is not None:
            self.trace_file.close()
        for problem in self.problems:
            self.err.write(f"cmhook run: {problem}\n")
        self.out.flush()
        self.err.flush()


class Job:
    """One `cmhook run`: the kernel, the drivers and the script. It runs in the machine's process
    and tells ``report`` (the parent's Reporter, or ``Remote`` standing for it) what happens."""

    def __init__(self, drivers: list[str], script_path: str | None = None, registry_files: list[str] | None = None,
                 profile: str = "2003", report: Any = None, cc: str = "gcc",
                 export: tuple[str, str, bool] | None = None, verifier: str | None = None) -> None:
        self.driver_paths = drivers
        self.verifier = verifier
        self.script_path = script_path
        self.registry_files = registry_files or []
        self.profile = profile
        self.report = report if report is not None else Reporter(script_name=script_path)
        self.cc = cc
        self.export = export  # (KEY, FILE.reg, as REGEDIT4): written after the unload
        self.kernel: Kernel | None = None
        self.steps_done = 0

    def run(self) -> None:
        try:
            steps = script.load(self.script_path) if self.script_path else []
            initial = [regfile.load(path) for path in self.registry_files]
            modules = [self._module(path) for path in self.driver_paths]
        except (script.ScriptError, regfile.RegFileError, BuildError, DriverError) as error:
            self.report.problem(str(error))
            if self.export is not None:
                self.report.problem(f"--export: nothing ran, {self.export[1]} not written")
            return
        kernel = self.kernel = Kernel(profile=self.profile, echo=self.report.echo, verifier=self.verifier)
        failed = False
        try:
            for loaded in initial:
                for what, status in regfile.apply(kernel.registry, loaded):
                    self.report.problem(f"--registry: {what}: {status_name(status)}")
                    failed = True
            self._trace(kernel).clear()
            for path, name in modules:
                try:
                    kernel.load_driver(path, name)
                except DriverError as error:
                    self.report.problem(str(error))
                    failed = True
                self._show_trace(kernel, None)  # what DriverEntry did
            if not failed:
                self._run_script(kernel, steps)
            self._show_trace(kernel, None)
            for driver in reversed(list(kernel.drivers.values())):
                try:
                    kernel.unload_driver(driver)
                except DriverError as error:
                    self.report.problem(str(error))
                self._show_trace(kernel, None)  # what DriverUnload did
        finally:
            kernel.close()
        self.report.verified([str(finding) for finding in kernel.findings])
        if self.export is not None:
            self._export(kernel, *self.export)

    def _module(self, path: str) -> tuple[Path, str]:
        source = Path(path)
        if not source.exists():
            raise DriverError(f"{path}: no such file")
        if source.suffix == ".c":
            return build_filter(source, self.cc), source.stem
        return source, source.stem

    def _run_script(self, kernel: Kernel, steps: list[script.Step]) -> None:
        total = len(steps)

        def after(step: script.Step, status: int) -> None:
            self.steps_done += 1
            self._show_trace(kernel, step.line)
            if total >= PROGRESS_EVERY and (self.steps_done % PROGRESS_EVERY == 0 or self.steps_done == total):
                self.report.progress(self.steps_done, total)

        runner = script.Runner(kernel.registry, self.script_path or "<script>", on_step=after, say=self.report.say)
        outcome = runner.run(steps)
        for failure in outcome.failed:
            self.report.problem(f"expectation failed: {failure}")

    def _show_trace(self, kernel: Kernel, line: int | None) -> None:
        """Send the records made since the last call, and forget them."""
        raws = self._trace(kernel).drain()
        if raws:
            self.report.records(line, raws)

    @staticmethod
    def _trace(kernel: Kernel) -> Trace:
        trace = kernel.native.dispatcher.trace
        assert trace is not None  # a job's kernel is made with tracing on
        return trace

    def _export(self, kernel: Kernel, key: str, target: str, regedit4: bool) -> None:
        """--export: the registry as the script and the drivers' unload left it, written as a .reg file."""
        try:
            data = regfile.export(kernel.registry, key, regfile.HEADER_4 if regedit4 else regfile.HEADER_5)
            Path(target).write_bytes(data)
        except regfile.RegFileError as error:
            self.report.problem(f"--export: {error}")
        except OSError as error:
            self.report.problem(f"-o {target}: {error.strerror}")


class Remote:
    """The parent's Reporter as the machine's process sees it: each call is sent, not made."""

    def __getattr__(self, method: str) -> Callable[..., None]:
        def call(*args: Any) -> None:
            isolation.send(method, *args)
        return call


def run_job(drivers: list[str], script_path: str | None = None, registry_files: list[str] | None = None,
            profile: str = "2003", trace_path: str | None = None, cc: str = "gcc",
            export: tuple[str, str, bool] | None = None, isolated: bool = True,
            hang_seconds: float = isolation.HANG_SECONDS, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
            verifier: str | None = None) -> int:
    """A whole `cmhook run`: the machine in a child process (unless not isolated), the report here.
    Returns the exit status."""
    trace_file = None
    if trace_path:
        try:
            trace_file = open(trace_path, "w", encoding="utf-8")  # noqa: SIM115 - closed by Reporter.finish
        except OSError as error:
            err.write(f"cmhook run: --trace {trace_path}: {error.strerror}\n")
            return EXIT_FAILED
    reporter = Reporter(out, err, trace_file, script_path)
    status = EXIT_OK
    if not isolated:
        Job(drivers, script_path, registry_files, profile, reporter, cc, export, verifier).run()
    else:
        ending = isolation.run(lambda: Job(drivers, script_path, registry_files, profile, Remote(), cc, export,
                                           verifier).run(),
                               reporter.deliver, hang_seconds=hang_seconds, recent=reporter.recent_lines)
        if ending.report is not None:
            reporter.summary()
            reporter.stopped(ending.report)
            status = EXIT_HUNG if ending.kind == "hang" else EXIT_CRASHED
        elif ending.kind == "raised":
            reporter.problem(f"internal error in the machine (a cmhook bug; please report it):\n{ending.error}")
    if status == EXIT_OK and reporter.findings is not None:  # no summary when nothing ran (a bad input)
        reporter.summary()
    reporter.finish()
    return status or (EXIT_FAILED if reporter.problems else EXIT_OK)
