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

from ntddk_py import status_name
from registry_core import regfile
from registry_core.callbacks import OperationRecord

from . import script
from .build import BuildError, build_filter
from .kernel import DriverError, Kernel

PROGRESS_EVERY = 1000


@dataclass
class JobResult:
    exit_code: int = 0
    problems: list[str] = field(default_factory=list)


def _record_json(record: OperationRecord, line: int | None) -> str:
    return json.dumps({
        "line": line, "api": record.api, "thread": record.thread_id, "process": record.process_id,
        "key": record.key_path, "status": status_name(record.status or 0),
        "notifications": [{"class": note.class_name, "blocked_by": note.blocked_by,
                           "results": [{"callback": name, "status": status_name(status)}
                                       for name, status in note.results]} for note in record.notifications],
    })


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
        self.shown = 0
        self.trace_file: TextIO | None = None
        self.operations = 0

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
        kernel = Kernel(profile=self.profile, echo=self.echo)
        try:
            for loaded in initial:
                for what, status in regfile.apply(kernel.registry, loaded):
                    self.problem(f"--registry: {what}: {status_name(status)}")
            kernel.native.dispatcher.trace.clear()
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
        if self.trace_path:
            self.trace_file = open(self.trace_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in _finish
        progress = self.err.isatty() and len(steps) >= PROGRESS_EVERY

        def after(step: script.Step, status: int) -> None:
            self.operations += 1
            self._show_trace(kernel, step.line)
            if progress and self.operations % PROGRESS_EVERY == 0:
                self.err.write(f"\r{self.operations:,}/{len(steps):,} operations")
                self.err.flush()

        runner = script.Runner(kernel.registry, self.script_path or "<script>", on_step=after,
                               say=lambda text: self.out.write(text + "\n"))
        outcome = runner.run(steps)
        if progress:
            self.err.write("\n")
        for failure in outcome.failed:
            self.problem(f"expectation failed: {failure}")

    def _show_trace(self, kernel: Kernel, line: int | None) -> None:
        operations = kernel.native.dispatcher.trace.operations
        for record in operations[self.shown:]:
            if self.trace_file is not None:
                self.trace_file.write(_record_json(record, line) + "\n")
            elif self.trace_path is None:
                where = f"{Path(self.script_path).name}:{line}: " if line and self.script_path else ""
                self.out.write(f"{where}{record.describe()}\n")
        self.shown = len(operations)

    def _summary(self, kernel: Kernel) -> None:
        operations = kernel.native.dispatcher.trace.operations
        blocked = [op for op in operations if op.notifications and op.notifications[0].blocked_by]
        classes = Counter(note.class_name for op in operations for note in op.notifications)
        self.out.write("\nsummary\n")
        self.out.write(f"  operations:          {len(operations)}\n")
        self.out.write(f"  blocked operations:  {len(blocked)}\n")
        for name, count in sorted(classes.items()):
            self.out.write(f"  {name:<32} {count}\n")
        self.out.write(f"  verifier findings:   {len(kernel.findings)}\n")

    def _finish(self) -> JobResult:
        if self.trace_file is not None:
            self.trace_file.close()
        for problem in self.result.problems:
            self.err.write(f"cmhook run: {problem}\n")
        return self.result
