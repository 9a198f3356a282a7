"""`cmhook run`: load drivers, run a registry script as user-mode callers, unload, verify, and
show what happened: DbgPrint output as it happens, every operation with each callback's pre and
post status, a summary. The exit status says whether everything held."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import ntddk_py
from ntddk_py import status_name
from registry_core import regfile
from registry_core.callbacks import RawRecord, Trace, notify_class_name

from . import script
from .build import BuildError, build_filter
from .kernel import DriverError, Kernel

PROGRESS_EVERY = 1000
# The header's REG_* value type names by value (REG_DWORD_LITTLE_ENDIAN and the like are aliases).
_VALUE_TYPE_NAMES = {getattr(ntddk_py, name): name for name in reversed(ntddk_py.__all__)
                     if name.startswith("REG_") and name[4:] in {
                         "NONE", "SZ", "EXPAND_SZ", "BINARY", "DWORD", "DWORD_BIG_ENDIAN", "LINK", "MULTI_SZ",
                         "RESOURCE_LIST", "FULL_RESOURCE_DESCRIPTOR", "RESOURCE_REQUIREMENTS_LIST", "QWORD"}}


@dataclass
class JobResult:
    exit_code: int = 0
    problems: list[str] = field(default_factory=list)


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


class Job:
    """One `cmhook run`: the kernel, the drivers and the script, and where the output goes."""

    def __init__(self, drivers: list[str], script_path: str | None = None, registry_files: list[str] | None = None,
                 profile: str = "2003", trace_path: str | None = None, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr, cc: str = "gcc") -> None:
        self.driver_paths = drivers
        self.script_path = script_path
        self.registry_files = registry_files or []
        self.profile = profile
        self.trace_path = trace_path
        self.out, self.err = out, err
        self.cc = cc
        self.result = JobResult()
        self.kernel: Kernel | None = None  # kept after the run: `cmhook run --export` reads its registry
        self.trace_file: TextIO | None = None
        self.formatter = TraceFormatter()
        self.steps_done = 0
        # The summary, kept as records are drained: the trace itself is not kept.
        self.operations = 0
        self.blocked = 0
        self.classes: Counter[int] = Counter()  # by notify class

    def problem(self, message: str) -> None:
        self.result.problems.append(message)
        self.result.exit_code = 1

    def echo(self, driver: str, text: str) -> None:
        self.out.write(f"[{driver}] {text}" + ("" if text.endswith("\n") else "\n"))
        self.out.flush()

    def run(self) -> JobResult:
        try:
            steps = script.load(self.script_path) if self.script_path else []
            initial = [regfile.load(path) for path in self.registry_files]
            modules = [self._module(path) for path in self.driver_paths]
        except (script.ScriptError, regfile.RegFileError, BuildError, DriverError) as error:
            self.problem(str(error))
            return self._finish()
        if self.trace_path:
            try:
                self.trace_file = open(self.trace_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in _finish
            except OSError as error:
                self.problem(f"--trace {self.trace_path}: {error.strerror}")
                return self._finish()
        kernel = self.kernel = Kernel(profile=self.profile, echo=self.echo)
        try:
            for loaded in initial:
                for what, status in regfile.apply(kernel.registry, loaded):
                    self.problem(f"--registry: {what}: {status_name(status)}")
            self._trace(kernel).clear()
            for path, name in modules:
                try:
                    kernel.load_driver(path, name)
                except DriverError as error:
                    self.problem(str(error))
                self._show_trace(kernel, None)  # what DriverEntry did
            if not self.result.problems:
                self._run_script(kernel, steps)
            self._show_trace(kernel, None)
            for driver in reversed(list(kernel.drivers.values())):
                try:
                    kernel.unload_driver(driver)
                except DriverError as error:
                    self.problem(str(error))
                self._show_trace(kernel, None)  # what DriverUnload did
        finally:
            kernel.close()
        for finding in kernel.findings:
            self.problem(f"verifier: {finding}")
        self._summary(kernel)
        return self._finish()

    def _module(self, path: str) -> tuple[Path, str]:
        source = Path(path)
        if not source.exists():
            raise DriverError(f"{path}: no such file")
        if source.suffix == ".c":
            return build_filter(source, self.cc), source.stem
        return source, source.stem

    def _run_script(self, kernel: Kernel, steps: list[script.Step]) -> None:
        progress = self.err.isatty() and len(steps) >= PROGRESS_EVERY

        def after(step: script.Step, status: int) -> None:
            self.steps_done += 1
            self._show_trace(kernel, step.line)
            if progress and self.steps_done % PROGRESS_EVERY == 0:
                self.err.write(f"\r{self.steps_done:,}/{len(steps):,} operations")
                self.err.flush()

        runner = script.Runner(kernel.registry, self.script_path or "<script>", on_step=after,
                               say=lambda text: self.out.write(text + "\n"))
        outcome = runner.run(steps)
        if progress:
            self.err.write("\n")
        for failure in outcome.failed:
            self.problem(f"expectation failed: {failure}")

    def _show_trace(self, kernel: Kernel, line: int | None) -> None:
        """Print (or write as JSON lines) the records made since the last call, and forget them."""
        raws = self._trace(kernel).drain()
        if not raws:
            return
        self.operations += len(raws)
        classes = self.classes
        for raw in raws:
            notes = raw[5]
            if notes and notes[0][2] is not None:
                self.blocked += 1
            for note in notes:
                classes[note[0]] += 1
        if self.trace_file is not None:
            self.trace_file.write("".join(self.formatter.json(raw, line) for raw in raws))
        else:
            where = f"{Path(self.script_path).name}:{line}: " if line and self.script_path else ""
            self.out.write("".join(self.formatter.text(raw, where) for raw in raws))

    @staticmethod
    def _trace(kernel: Kernel) -> Trace:
        trace = kernel.native.dispatcher.trace
        assert trace is not None  # a job's kernel is made with tracing on
        return trace

    def _summary(self, kernel: Kernel) -> None:
        self.out.write("\nsummary\n")
        self.out.write(f"  operations:          {self.operations}\n")
        self.out.write(f"  blocked operations:  {self.blocked}\n")
        for name, count in sorted((notify_class_name(c), n) for c, n in self.classes.items()):
            self.out.write(f"  {name:<32} {count}\n")
        self.out.write(f"  verifier findings:   {len(kernel.findings)}\n")

    def _finish(self) -> JobResult:
        if self.trace_file is not None:
            self.trace_file.close()
        for problem in self.result.problems:
            self.err.write(f"cmhook run: {problem}\n")
        return self.result
