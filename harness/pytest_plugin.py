"""The cmhook pytest plugin (entry point ``pytest11``): fixtures and reports for testing filters.

Fixtures:

- ``kernel``: a fresh Kernel with the embedded default registry, tracing on; at teardown every
  driver still loaded is unloaded and the verifier's findings fail the test. A test that means
  to provoke findings inspects ``kernel.findings`` and clears it.
- ``build_filter``: ``build_filter("main.c", "util.c", include_dirs=[...], defines={...})`` or a
  C source string -> the built module, cached by content; named after the first source, so
  ``kernel.load_driver`` gives the driver that name. Compiler warnings become ``CompilerWarning``s.
- ``trace``: a ``TraceView`` of the kernel's notification trace, with assertion helpers.

Choosing the machine: ``--cmhook-profile 2003|xp|vista|win7|win8|win10`` and ``--cmhook-cc gcc|clang`` (or the
``cmhook_profile`` and ``cmhook_cc`` ini values) for the session; ``@pytest.mark.cmhook(profile="xp",
cc="clang")`` for a test, class or module (the closest marker naming a setting wins).

Reports: an assertion comparing NTSTATUS values shows them by name; a failing test that used the
kernel carries the drivers' DbgPrint output and the trace as report sections.

Isolation: a test that uses the ``kernel`` fixture (directly or through another fixture) runs in a
machine process of its own (harness/isolation.py, as ``cmhook run`` runs its machine): a driver
that crashes, hangs or calls exit() fails that test alone, with the bugcheck (or hang) report as
its failure, the DbgPrint output and trace records its machine had sent, and whatever it wrote
to stdout and stderr; the session and the other tests go on. What isolation means for a test:

- its whole protocol (setup, call, teardown) runs in the machine process, whose reports come back
  to pytest here; a module- or session-scoped fixture it uses is set up inside its machine (again
  for every isolated test, unless a test run outside a machine had already set it up) and torn
  down there at the test's end;
- what it changes in Python (module globals, caches, a fixture's value, ``os.environ``) does not
  outlive it; files, the build cache and other processes it touches do;
- a routine of a driver that runs longer than ``--cmhook-hang-timeout`` seconds (ini
  ``cmhook_hang_timeout``, default isolation.HANG_SECONDS) is a hang: the test fails with the
  thread's stack, and its machine is stopped.

``--cmhook-isolation=none`` (ini ``cmhook_isolation``) runs every test in pytest's own process, for
a debugger; a crash then ends the session. Tests without the ``kernel`` fixture always run there.

One Kernel is active per process. A Kernel a test body made and left open is closed at that
test's teardown, with a ``KernelLeftOpenWarning`` on that test; the ``kernel`` fixture closes any
other Kernel still active (``Kernel(replace=True)``), so one careless test or fixture never makes
the next test error.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import time
import warnings
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from _pytest._code.code import ReprExceptionInfo, ReprFileLocation, ReprTracebackNative
from _pytest.runner import runtestprotocol
from _pytest.skipping import evaluate_xfail_marks

from ntddk_py import ntstatus, status_name
from registry_core.callbacks import RawRecord, Trace, operation_record
from registry_core.profiles import PROFILES

from . import bugcheck, isolation
from . import build as _build
from . import verifier as _verifier
from .kernel import Kernel, active_kernel
from .testing import TraceView

DEFAULT_PROFILE = "2003"
DEFAULT_CC = "gcc"
ISOLATION_MODES = ("test", "none")
DEFAULT_ISOLATION = "test"
# A failure report shows the end of a long test, not all of it.
REPORT_TRACE_CALLS = 200
REPORT_DEBUG_LINES = 500
MARKER_SETTINGS = ("profile", "cc", "verifier")

# The kernel a test's ``kernel`` fixture made, for its failure report.
kernel_key = pytest.StashKey[Kernel]()
# A Kernel the test body made and had not closed when the body returned.
_body_kernel_key = pytest.StashKey[Kernel]()
# The sections went on one report of the test already (a failed call's teardown repeats none).
_reported_key = pytest.StashKey[bool]()
# The session's isolation mode and hang timeout, read and checked once at configure.
_isolation_key = pytest.StashKey[tuple[str, float]]()
# What an isolated test's machine sends its parent, besides isolation's own frames.
_DBGPRINT, _TRACE, _PHASE = "cmhook-dbgprint", "cmhook-trace", "cmhook-phase"


@dataclass(frozen=True)
class Settings:
    """The Windows profile and the compiler a test's kernel and build_filter use, and the Driver
    Verifier options of its kernel (harness/verifier.py's spelling)."""

    profile: str
    cc: str
    verifier: str = str(_verifier.parse(None))


class BuildFilter(Protocol):
    """The ``build_filter`` fixture's callable, for type hints in a user's tests."""

    def __call__(self, *sources: str | os.PathLike[str], cc: str | None = None,
                 include_dirs: Iterable[str | os.PathLike[str]] = (), defines: _build.Defines = None,
                 extra: Sequence[str] | None = None, name: str | None = None,
                 sanitize: str | Iterable[str] | None = None, coverage: bool = False) -> Path: ...


# --- configuration -------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cmhook", "cmhook: registry filters against the emulated Windows kernel")
    group.addoption("--cmhook-profile", choices=sorted(PROFILES), default=None,
                    help="Windows version the kernel fixture emulates (default: ini cmhook_profile, else 2003)")
    group.addoption("--cmhook-cc", choices=_build.COMPILERS, default=None,
                    help="compiler of build_filter and the kernel shim (default: ini cmhook_cc, else gcc)")
    group.addoption("--cmhook-isolation", choices=ISOLATION_MODES, default=None,
                    help="test: a test that uses the kernel fixture runs in a machine process of its own, so a "
                         "crash, hang or exit in a driver fails that test alone; none: in pytest's process, for a "
                         "debugger (default: ini cmhook_isolation, else test)")
    group.addoption("--cmhook-hang-timeout", type=float, default=None, metavar="SECONDS",
                    help="how long a driver routine of an isolated test may run before the test fails as hung "
                         f"(default: ini cmhook_hang_timeout, else {isolation.HANG_SECONDS:g})")
    group.addoption("--cmhook-verifier", default=None, metavar="OPTION,...",
                    help="Driver Verifier options of the kernel fixture, as cmhook run --verifier takes them "
                         "(default: ini cmhook_verifier, else standard: " + _verifier.summary() + ")")
    parser.addini("cmhook_verifier", "Driver Verifier options of the kernel fixture (standard, all, none, names, "
                  "-NAME)",
                  default="standard")
    parser.addini("cmhook_profile", "Windows version the kernel fixture emulates: 2003, xp, vista, win7, win8 or win10",
                  default=DEFAULT_PROFILE)
    parser.addini("cmhook_cc", "compiler of build_filter and the kernel shim: gcc or clang", default=DEFAULT_CC)
    parser.addini("cmhook_isolation", "test (a machine process per test that uses the kernel fixture) or none",
                  default=DEFAULT_ISOLATION)
    parser.addini("cmhook_hang_timeout", "seconds a driver routine of an isolated test may run before it is a hang",
                  default=f"{isolation.HANG_SECONDS:g}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cmhook(profile='2003'|'xp'|'vista'|'win7'|'win8'|'win10', cc='gcc'|'clang', verifier='standard,...'): "
        "the Windows profile and compiler of this test's kernel and build_filter fixtures and its kernel's "
        "Driver Verifier options (overrides --cmhook-profile, --cmhook-cc and --cmhook-verifier)")
    config.stash[_isolation_key] = (_isolation_mode(config), _hang_timeout(config))


def _isolation_mode(config: pytest.Config) -> str:
    """--cmhook-isolation, else the ini value, checked: a typo in the ini must not turn isolation off."""
    mode = _option(config, "isolation", DEFAULT_ISOLATION)
    if mode not in ISOLATION_MODES:
        raise pytest.UsageError(f"cmhook_isolation = {mode!r}: use one of {', '.join(ISOLATION_MODES)}")
    return mode


def _hang_timeout(config: pytest.Config) -> float:
    """--cmhook-hang-timeout, else the ini value: seconds more than 0 (0 would call every test hung)."""
    given = config.getoption("cmhook_hang_timeout")
    text = str(given) if given is not None else str(config.getini("cmhook_hang_timeout") or isolation.HANG_SECONDS)
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise pytest.UsageError(f"cmhook hang timeout {text!r}: a number of seconds more than 0")
    return seconds


def pytest_report_header(config: pytest.Config) -> str:
    return (f"cmhook: profile {_option(config, 'profile', DEFAULT_PROFILE)}, "
            f"cc {_option(config, 'cc', DEFAULT_CC)}")


def _option(config: pytest.Config, setting: str, default: str) -> str:
    return str(config.getoption(f"cmhook_{setting}") or config.getini(f"cmhook_{setting}") or default)


def settings(node: pytest.Item) -> Settings:
    """The test's settings: its closest ``cmhook`` markers, else the command line, else the ini file.

    A marker naming something else, or a value no kernel has, fails the test with the reason:
    a typo must not silently test the default instead."""
    chosen = {"profile": _option(node.config, "profile", DEFAULT_PROFILE), "cc": _option(node.config, "cc", DEFAULT_CC),
              "verifier": _option(node.config, "verifier", "standard")}
    marked: dict[str, object] = {}
    for marker in node.iter_markers("cmhook"):  # closest first
        unknown = sorted(set(marker.kwargs) - set(MARKER_SETTINGS))
        if marker.args or unknown:
            allowed = [f"{s}=" for s in MARKER_SETTINGS]
            pytest.fail(f"@pytest.mark.cmhook takes only {', '.join(allowed[:-1])} and {allowed[-1]}, "
                        f"not {', '.join([*map(repr, marker.args), *unknown])}", pytrace=False)
        for setting, value in marker.kwargs.items():
            marked.setdefault(setting, value)
    chosen.update({setting: str(value) for setting, value in marked.items()})
    if chosen["profile"] not in PROFILES:
        pytest.fail(f"cmhook profile {chosen['profile']!r}: use one of {', '.join(PROFILES)}", pytrace=False)
    if chosen["cc"] not in _build.COMPILERS:
        pytest.fail(f"cmhook cc {chosen['cc']!r}: use one of {', '.join(_build.COMPILERS)}", pytrace=False)
    try:
        verifier = str(_verifier.parse(chosen["verifier"]))
    except _verifier.VerifierChoiceError as error:
        pytest.fail(f"cmhook verifier: {error}", pytrace=False)
    return Settings(chosen["profile"], chosen["cc"], verifier)


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
    sending = isolation.in_machine()  # an isolated test: the parent hears of its DbgPrint and trace as they come
    machine = Kernel(profile=chosen.profile, cc=chosen.cc, replace=True, echo=_send_dbgprint if sending else None,
                     verifier=chosen.verifier)
    if sending and machine.native.dispatcher.trace is not None:
        machine.native.dispatcher.trace = _SentTrace(limit=machine.native.dispatcher.trace.limit)
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
                     extra: Sequence[str] | None = None, name: str | None = None,
                     sanitize: str | Iterable[str] | None = None, coverage: bool = False) -> Path:
        items, cc = _build.split_compiler(sources, cc)
        built = _build.build(*(located(source) for source in items), cc=cc or chosen.cc,
                             include_dirs=[located(directory, True) for directory in include_dirs],
                             defines=defines, extra=extra, name=name, sanitize=sanitize, coverage=coverage)
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

def isolated(item: pytest.Item) -> bool:
    """Whether the item runs in a machine process of its own: it uses the kernel fixture (the
    closure of its fixtures: a fixture of its own that takes ``kernel`` counts) and isolation is on."""
    mode, _ = item.config.stash[_isolation_key]
    return (mode == "test" and "kernel" in getattr(item, "fixturenames", ())
            and not item.config.getoption("setupplan", False))  # a plan runs nothing: nothing to isolate


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run an isolated test's whole protocol in its machine process and log the reports here, as
    pytest-forked does: the terminal, junit and xdist see one test like any other. None (pytest's
    own protocol) for every other test."""
    if not isolated(item):
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in _run_in_machine(item, nextitem):
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _send_dbgprint(driver: str, text: str) -> None:
    """The kernel fixture's echo in a machine process: each DbgPrint line goes to the parent as it is
    printed, so a machine that crashes right after still has it in its test's report."""
    isolation.send(_DBGPRINT, driver, text)


class _SentTrace(Trace):
    """The kernel fixture's trace in a machine process: each record also goes to the watching
    parent, so a test whose machine crashed still shows the calls that came before the crash."""

    def add_raw(self, raw: RawRecord) -> None:
        super().add_raw(raw)
        isolation.send(_TRACE, raw)


class _Received:
    """The parent's side of an isolated test: what its machine sent as it ran (the newest part), for
    the report when the machine stops before it could send its own reports."""

    def __init__(self) -> None:
        self.debug: deque[tuple[str, str]] = deque(maxlen=REPORT_DEBUG_LINES)
        self.debug_total = 0
        self.trace: deque[RawRecord] = deque(maxlen=REPORT_TRACE_CALLS)
        self.trace_total = 0
        self.phase = "setup"

    def deliver(self, method: str, args: tuple) -> None:
        if method == _DBGPRINT:
            self.debug.append((args[0], args[1]))
            self.debug_total += 1
        elif method == _TRACE:
            self.trace.append(args[0])
            self.trace_total += 1
        elif method == _PHASE:
            self.phase = args[0]

    def recent(self) -> list[str]:
        """The newest trace records, a line each, for the bugcheck report's "last trace records"."""
        return [operation_record(raw).describe().split("\n", 1)[0] for raw in list(self.trace)[-bugcheck.RECENT_SHOWN:]]

    def sections(self) -> list[tuple[str, str]]:
        earlier = self.trace_total - len(self.trace)
        traced = ([f"({earlier:,} earlier calls not shown)"] if earlier else []) + \
            [operation_record(raw).describe() for raw in self.trace]
        return _sections(list(self.debug), self.debug_total, "\n".join(traced), "call")


def _note_phase(item: pytest.Item, when: str) -> None:
    """In a machine process, tell the parent which phase runs: a report of a machine that stopped says it."""
    if isolation.in_machine() and isolated(item):
        isolation.send(_PHASE, when)


def _run_in_machine(item: pytest.Item, nextitem: pytest.Item | None) -> list[pytest.TestReport]:
    """The item's reports, from its machine process; a machine that stopped gives one failed call."""
    config = item.config
    _, hang_seconds = config.stash[_isolation_key]
    left = active_kernel()
    if left is not None:  # closed here, not in every machine that inherits it: one warning, on this test
        left.close_left_open(f"to start the Kernel made for {item.nodeid} in its machine process")
    _warm_up(item)
    factory = getattr(config, "_tmp_path_factory", None)  # the tmp_path_factory fixture's value
    if factory is not None and "tmp_path_factory" in getattr(item, "fixturenames", ()):
        factory.getbasetemp()  # made here, once: made in each machine it would be a new folder per test
    received = _Received()
    start = time.time()
    ending = isolation.run(lambda: _machine_work(item), received.deliver, hang_seconds=hang_seconds,
                           recent=received.recent)
    stop = time.time()
    if ending.returned and ending.value[0] == "reports":
        _, serialized, caught = ending.value
        reports = [config.hook.pytest_report_from_serializable(config=config, data=data) for data in serialized]
        _replay_warnings(caught)
    elif ending.returned and ending.value[0] == "exit":
        raise pytest.exit.Exception(ending.value[1], ending.value[2])
    elif ending.returned and ending.value[0] == "interrupted":
        raise KeyboardInterrupt
    else:
        reports = _stopped_reports(item, ending, received, start, stop)
    teardown = _parent_teardown(item, nextitem)
    if teardown is not None:
        reports = [r for r in reports if not (r.when == "teardown" and r.passed)] + [teardown]
    return reports


# The settings a Kernel was started with in this process (see _warm_up).
_warmed: set[Settings] = set()


def _warm_up(item: pytest.Item) -> None:
    """Start and close one Kernel of the test's settings here in pytest's process, once: what a
    process's first Kernel costs (building and loading the shim, cffi parsing the notification
    structs: seconds) is then inherited by every machine instead of paid again in each."""
    try:
        chosen = settings(item)
    except pytest.fail.Exception:  # a bad marker: the test's setup says so, in its machine
        return
    if chosen in _warmed:
        return
    _warmed.add(chosen)
    try:
        with Kernel(profile=chosen.profile, cc=chosen.cc, verifier=chosen.verifier):
            pass
    except Exception:  # what fails here fails again in the machine, reported on the test
        pass


def _machine_work(item: pytest.Item) -> tuple[Any, ...]:
    """In the machine process: the item's protocol, its reports as pytest serializes them for xdist,
    and the warnings it issued (the parent's warnings plugin records them: it cannot see the child's).

    What the child set up it tears down itself (nextitem None), and only that: the finalizers of
    fixtures the parent had set up before the fork are put aside, so that a machine never tears down
    what the parent still owns (a server, a folder); the parent tears those down at its own time."""
    config = item.config
    if faulthandler.is_enabled():
        # pytest's fault handler writes a fatal signal's Python traceback to the terminal; in a machine
        # it goes to the test's captured stderr instead, with the report, not across the session's output.
        faulthandler.enable(file=2, all_threads=True)
    state = item.session._setupstate
    for node, (_, failure) in list(state.stack.items()):
        state.stack[node] = ([], failure)
    with warnings.catch_warnings(record=True) as caught:
        try:
            reports = runtestprotocol(item, log=False, nextitem=None)
        except pytest.exit.Exception as stopping:
            return ("exit", stopping.msg, stopping.returncode)
        except KeyboardInterrupt:
            return ("interrupted",)
    serialized = [config.hook.pytest_report_to_serializable(config=config, report=report) for report in reports]
    return ("reports", serialized, [_portable_warning(message) for message in caught])


def _portable_warning(message: warnings.WarningMessage) -> tuple[bytes | None, str, str, int]:
    """A recorded warning as the parent can re-issue it: the warning pickled if it pickles, its text anyway."""
    try:
        pickled = pickle.dumps(message.message)
        pickle.loads(pickled)
    except Exception:  # a warning class the parent cannot rebuild: its text as a UserWarning
        return None, str(message.message), message.filename, message.lineno
    return pickled, str(message.message), message.filename, message.lineno


def _replay_warnings(caught: list[tuple[bytes | None, str, str, int]]) -> None:
    """Issue the machine's warnings again here, where pytest's warnings plugin records them for the
    item. They passed the filters once already: shown always, never turned into errors a second time."""
    for pickled, text, filename, lineno in caught:
        try:
            warning = pickle.loads(pickled) if pickled is not None else UserWarning(text)
        except Exception:  # its class is not importable here
            warning = UserWarning(text)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn_explicit(warning, type(warning), filename, lineno)


def _parent_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> pytest.TestReport | None:
    """Tear down what the parent had set up (for tests run outside a machine) that nextitem does not
    need, as pytest's own protocol does after each test; a failed report if that failed."""
    call = pytest.CallInfo.from_call(lambda: item.session._setupstate.teardown_exact(nextitem), "teardown")
    if call.excinfo is None:
        return None
    report: pytest.TestReport = item.ihook.pytest_runtest_makereport(item=item, call=call)
    return report


def _stopped_reports(item: pytest.Item, ending: isolation.Ending, received: _Received, start: float,
                     stop: float) -> list[pytest.TestReport]:
    """The reports of a test whose machine crashed, hung, ended early or broke: a passed setup and
    teardown around one failed call (one failure in the terminal and in junit, whatever the phase),
    its text the bugcheck report, with what the machine had sent and written."""
    if ending.report is not None:
        headline, text = ending.report.headline(), ending.report.text
    else:
        headline = "the machine broke (a cmhook bug; please report it)"
        text = f"cmhook: the test's machine raised, outside the test's own protocol:\n{ending.error}"
    phase = {"setup": "its setup", "call": "the test itself", "teardown": "its teardown"}.get(received.phase,
                                                                                           received.phase)
    text += f"\ncmhook: {item.nodeid}: its machine stopped during {phase}\n"
    path, line, _ = item.location
    longrepr = ReprExceptionInfo(reprtraceback=ReprTracebackNative(text.splitlines(keepends=True)),
                                 reprcrash=ReprFileLocation(str(item.path), (line or 0) + 1, headline))
    sections = received.sections()
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        try:
            out, err = capture.read_global_capture()
        except Exception:  # no global capture to read (-s, or another capture plugin)
            out = err = ""
        sections += [(f"Captured {name} call", content) for name, content in (("stdout", out), ("stderr", err))
                     if content]
    keywords: dict[str, Any] = {name: 1 for name in item.keywords}
    properties = list(item.user_properties)
    call = pytest.TestReport(item.nodeid, item.location, keywords, "failed", longrepr, "call", sections,
                             duration=stop - start, start=start, stop=stop, user_properties=properties)
    try:
        xfailed = evaluate_xfail_marks(item)
    except Exception:  # a broken xfail condition already failed the setup in the machine
        xfailed = None
    if xfailed is not None and xfailed.raises is None and not item.config.option.runxfail:
        call.outcome, call.wasxfail = "skipped", xfailed.reason  # a crash an xfail marker expects
    return [pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "setup",
                              start=start, stop=start, user_properties=properties),
            call,
            pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "teardown",
                              start=stop, stop=stop, user_properties=properties)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    _note_phase(item, "setup")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Note a Kernel the test body made and did not close, for the test's teardown to close."""
    _note_phase(item, "call")
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
    _note_phase(item, "teardown")
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
    shown = machine.debug_output[-REPORT_DEBUG_LINES:]
    trace = machine.native.dispatcher.trace
    traced = TraceView(trace).describe(last=REPORT_TRACE_CALLS) if trace is not None else "(tracing is off)"
    return _sections(shown, len(machine.debug_output), traced, when)


def _sections(debug: list[tuple[str, str]], total: int, traced: str, when: str) -> list[tuple[str, str]]:
    """The two sections from the newest DbgPrint lines (of total) and the trace's text."""
    lines = [f"[{driver}] {text}" + ("" if text.endswith("\n") else "\n") for driver, text in debug]
    if total > len(lines):
        lines.insert(0, f"({total - len(lines):,} earlier lines not shown)\n")
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

