"""The cmhook pytest plugin (entry point ``pytest11``): fixtures and reports for testing filters.

Fixtures:

- ``kernel``: a fresh Kernel with the embedded default registry, tracing on; at teardown every
  driver still loaded is unloaded and the verifier's findings fail the test. A test that means
  to provoke findings inspects ``kernel.findings`` and clears it.
- ``build_filter``: ``build_filter("main.c", "util.c", include_dirs=[...], defines={...})`` or a
  C source string -> the built module, cached by content; named after the first source, so
  ``kernel.load_driver`` gives the driver that name. Compiler warnings become ``CompilerWarning``s.
- ``trace``: a ``TraceView`` of the kernel's notification trace, with assertion helpers.

Choosing the machine: ``--cmhook-profile 2003|xp`` and ``--cmhook-cc gcc|clang`` (or the
``cmhook_profile`` and ``cmhook_cc`` ini values) for the session; ``@pytest.mark.cmhook(profile="xp",
cc="clang")`` for a test, class or module (the closest marker naming a setting wins).

Reports: an assertion comparing NTSTATUS values shows them by name; a failing test that used the
kernel carries the drivers' DbgPrint output and the trace as report sections.

Isolation: one Kernel is active per process. A Kernel a test body made and left open is closed at
that test's teardown, with a ``KernelLeftOpenWarning`` on that test; the ``kernel`` fixture closes
any other Kernel still active (``Kernel(replace=True)``), so one careless test or fixture never
makes the next test error.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from ntddk_py import ntstatus, status_name
from registry_core.profiles import PROFILES

from . import build as _build
from .kernel import Kernel, active_kernel
from .testing import TraceView

DEFAULT_PROFILE = "2003"
DEFAULT_CC = "gcc"
# A failure report shows the end of a long test, not all of it.
REPORT_TRACE_CALLS = 200
REPORT_DEBUG_LINES = 500
MARKER_SETTINGS = ("profile", "cc")

# The kernel a test's ``kernel`` fixture made, for its failure report.
kernel_key = pytest.StashKey[Kernel]()
# A Kernel the test body made and had not closed when the body returned.
_body_kernel_key = pytest.StashKey[Kernel]()
# The sections went on one report of the test already (a failed call's teardown repeats none).
_reported_key = pytest.StashKey[bool]()


@dataclass(frozen=True)
class Settings:
    """The Windows profile and the compiler a test's kernel and build_filter use."""

    profile: str
    cc: str


class BuildFilter(Protocol):
    """The ``build_filter`` fixture's callable, for type hints in a user's tests."""

    def __call__(self, *sources: str | os.PathLike[str], cc: str | None = None,
                 include_dirs: Iterable[str | os.PathLike[str]] = (), defines: _build.Defines = None,
                 extra: Sequence[str] | None = None, name: str | None = None) -> Path: ...


# --- configuration -------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cmhook", "cmhook: registry filters against the emulated Windows kernel")
    group.addoption("--cmhook-profile", choices=sorted(PROFILES), default=None,
                    help="Windows version the kernel fixture emulates (default: ini cmhook_profile, else 2003)")
    group.addoption("--cmhook-cc", choices=_build.COMPILERS, default=None,
                    help="compiler of build_filter and the kernel shim (default: ini cmhook_cc, else gcc)")
    parser.addini("cmhook_profile", "Windows version the kernel fixture emulates: 2003 or xp", default=DEFAULT_PROFILE)
    parser.addini("cmhook_cc", "compiler of build_filter and the kernel shim: gcc or clang", default=DEFAULT_CC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cmhook(profile='2003'|'xp', cc='gcc'|'clang'): the Windows profile and compiler of this test's "
        "kernel and build_filter fixtures (overrides --cmhook-profile and --cmhook-cc)")


def pytest_report_header(config: pytest.Config) -> str:
    return (f"cmhook: profile {_option(config, 'profile', DEFAULT_PROFILE)}, "
            f"cc {_option(config, 'cc', DEFAULT_CC)}")


def _option(config: pytest.Config, setting: str, default: str) -> str:
    return str(config.getoption(f"cmhook_{setting}") or config.getini(f"cmhook_{setting}") or default)


def settings(node: pytest.Item) -> Settings:
    """The test's settings: its closest ``cmhook`` markers, else the command line, else the ini file.

    A marker naming something else, or a value no kernel has, fails the test with the reason:
    a typo must not silently test the default instead."""
    chosen = {"profile": _option(node.config, "profile", DEFAULT_PROFILE), "cc": _option(node.config, "cc", DEFAULT_CC)}
    marked: dict[str, object] = {}
    for marker in node.iter_markers("cmhook"):  # closest first
        unknown = sorted(set(marker.kwargs) - set(MARKER_SETTINGS))
        if marker.args or unknown:
            pytest.fail(f"@pytest.mark.cmhook takes only {' and '.join(f'{s}=' for s in MARKER_SETTINGS)}, "
                        f"not {', '.join([*map(repr, marker.args), *unknown])}", pytrace=False)
        for setting, value in marker.kwargs.items():
            marked.setdefault(setting, value)
    chosen.update({setting: str(value) for setting, value in marked.items()})
    if chosen["profile"] not in PROFILES:
        pytest.fail(f"cmhook profile {chosen['profile']!r}: use one of {', '.join(PROFILES)}", pytrace=False)
    if chosen["cc"] not in _build.COMPILERS:
        pytest.fail(f"cmhook cc {chosen['cc']!r}: use one of {', '.join(_build.COMPILERS)}", pytrace=False)
    return Settings(chosen["profile"], chosen["cc"])


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def kernel(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    """A fresh emulated Windows kernel for this test: the embedded default registry, tracing on,
    the test's profile and compiler.

    Fresh per test, so no test sees another's keys, drivers or findings. At teardown every driver
    still loaded is unloaded (DriverUnload) and the verifier's findings (callbacks left
    registered, pool not freed, bad frees, ...) fail the test, as they would crash or leak on
    Windows. A test that provokes findings on purpose inspects ``kernel.findings`` and clears it.
    A Kernel still active from elsewhere is closed first, with a KernelLeftOpenWarning."""
    chosen = settings(request.node)
    machine = Kernel(profile=chosen.profile, cc=chosen.cc, replace=True)
    request.node.stash[kernel_key] = machine
    try:
        yield machine
    finally:
        machine.close()
    machine.verify()


@pytest.fixture
def build_filter(request: pytest.FixtureRequest) -> BuildFilter:
    """Build a filter module: ``build_filter("main.c", "util.c", include_dirs=[...], defines={...},
    extra=["-O0"], cc="clang", name="protect")`` or ``build_filter(C_SOURCE_TEXT)`` -> its path.

    The compiler reads the sources where they are (a relative path is taken from the current
    directory, else from the test file's folder), so local includes resolve and diagnostics name
    the user's files. The module is cached by the content of every source and header it read,
    and named after the first source (or ``name``): ``kernel.load_driver`` names the driver, and
    its RegistryPath, after it. Compiler warnings of a build that succeeded are issued as
    ``harness.build.CompilerWarning`` from the test's line (pytest's warnings summary shows them;
    ``-W error::harness.build.CompilerWarning`` makes them fail the test)."""
    chosen = settings(request.node)
    here = request.path.parent

    def located(source: str | os.PathLike[str], directory: bool = False) -> str | os.PathLike[str]:
        if not directory and not _build.is_source_path(source):
            return source  # C source text
        path = Path(source)
        if not path.is_absolute() and not path.exists() and (here / path).exists():
            return here / path
        return source

    def build_filter(*sources: str | os.PathLike[str], cc: str | None = None,
                     include_dirs: Iterable[str | os.PathLike[str]] = (), defines: _build.Defines = None,
                     extra: Sequence[str] | None = None, name: str | None = None) -> Path:
        items, cc = _build.split_compiler(sources, cc)
        built = _build.build(*(located(source) for source in items), cc=cc or chosen.cc,
                             include_dirs=[located(directory, True) for directory in include_dirs],
                             defines=defines, extra=extra, name=name)
        if built.warnings.strip():
            warnings.warn(_build.CompilerWarning(_build.warning_text(built)), stacklevel=2)
        return built.module

    return build_filter


@pytest.fixture
def trace(kernel: Kernel) -> TraceView:
    """The ``kernel`` fixture's notification trace as a ``TraceView``: ``assert_blocked``,
    ``assert_classes``, ``last``, ``describe``; its failure messages show the trace itself."""
    recorded = kernel.native.dispatcher.trace
    if recorded is None:
        pytest.fail("the trace fixture needs the kernel's tracing on (kernel.native.dispatcher.trace is None)",
                    pytrace=False)
    return TraceView(recorded)


# --- isolation -----------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Note a Kernel the test body made and did not close, for the test's teardown to close."""
    before = active_kernel()
    try:
        return (yield)
    finally:
        after = active_kernel()
        if after is not None and after is not before:
            item.stash[_body_kernel_key] = after


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    """Close the Kernel the test body left open, once its fixtures are torn down: the warning then
    names the test that left it, and the next test starts with no Kernel active."""
    try:
        return (yield)
    finally:
        left = item.stash.get(_body_kernel_key, None)
        if left is not None and active_kernel() is left:
            left.close_left_open(f"at the teardown of {item.nodeid}, so that later tests start with none")


# --- reports -------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """On a failed test that used the kernel: the drivers' DbgPrint output and the trace, as sections."""
    report = yield
    machine = item.stash.get(kernel_key, None)
    if (machine is not None and isinstance(report, pytest.TestReport) and report.failed
            and not item.stash.get(_reported_key, False)):
        item.stash[_reported_key] = True
        report.sections.extend(report_sections(machine, call.when))
    return report


def report_sections(machine: Kernel, when: str = "call") -> list[tuple[str, str]]:
    """The report sections of a failed test: the kernel's DbgPrint output and trace, their newest part."""
    lines = [f"[{driver}] {text}" + ("" if text.endswith("\n") else "\n") for driver, text in machine.debug_output]
    if len(lines) > REPORT_DEBUG_LINES:
        lines = [f"({len(lines) - REPORT_DEBUG_LINES:,} earlier lines not shown)\n", *lines[-REPORT_DEBUG_LINES:]]
    trace = machine.native.dispatcher.trace
    traced = TraceView(trace).describe(last=REPORT_TRACE_CALLS) if trace is not None else "(tracing is off)"
    return [(f"cmhook DbgPrint output ({when})", "".join(lines) or "(no DbgPrint output)\n"),
            (f"cmhook trace ({when})", (traced or "(no registry call traced)") + "\n")]


def _as_status(value: object) -> int | None:
    """value as an NTSTATUS if it can be one: an int (not a bool) of 32 bits, signed or not."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 31) <= value < (1 << 32):
        return None
    return value


def _known(status: int) -> bool:
    return not status_name(status).startswith("0x")


def _looks_like_status(status: int) -> bool:
    """Named by the header, or with a severity (informational, warning, error) in its top bits."""
    return _known(status) or bool(status & 0xC0000000)


_SEVERITY = {0: "success", 1: "informational", 2: "warning", 3: "error"}


def _status_line(status: int) -> str:
    """STATUS_ACCESS_DENIED (0xC0000022 = -1073741790, error): name, both spellings, severity."""
    spelled = f"0x{status & 0xFFFFFFFF:08X}" + (f" = {ntstatus(status)}" if ntstatus(status) < 0 else "")
    severity = _SEVERITY[(status & 0xFFFFFFFF) >> 30]
    if _known(status):
        return f"{status_name(status)} ({spelled}, {severity})"
    return f"{spelled} ({severity}, not a status the header names)"


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object) -> list[str] | None:
    """``assert status == STATUS_SUCCESS`` failing shows STATUS_ACCESS_DENIED, not -1073741790.

    Only when the ints are statuses: one is a nonzero status the header names, or both look like
    statuses (0 alone is just 0, and ``assert count == 0`` stays as pytest shows it)."""
    if op not in ("==", "!="):
        return None
    left_status, right_status = _as_status(left), _as_status(right)
    if left_status is None or right_status is None:
        return None
    distinctive = any(_known(value) and value != 0 for value in (left_status, right_status))
    if not distinctive and not (_looks_like_status(left_status) and _looks_like_status(right_status)):
        return None
    return [f"{status_name(left_status)} {op} {status_name(right_status)}",
            f"left:  {_status_line(left_status)}",
            f"right: {_status_line(right_status)}"]

