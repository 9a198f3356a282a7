"""Registry scripts, command by command: the registry of command classes, quoted key names with
spaces, keys relative to a bound name, `advance` for the emulated clock, and `expect` with every
status a filter may return. Scripts run in-process against a plain Registry, with a Python
callback where a filter's view matters."""

from __future__ import annotations

import pytest

import ntddk_py
from harness import script
from ntddk_py import REG_DWORD, STATUS_NOT_FOUND, STATUS_SUCCESS, ffi
from ntddk_py import REG_NOTIFY_CLASS as N
from registry_core.registry import Registry

APP = "\\REGISTRY\\MACHINE\\SOFTWARE\\My App"


def run(text: str, registry: Registry | None = None) -> tuple[Registry, script.Outcome]:
    registry = registry or Registry()
    outcome = script.Runner(registry, "t.script").run(script.parse(text, "t.script"))
    return registry, outcome


def refused(text: str) -> str:
    with pytest.raises(script.ScriptError) as caught:
        script.parse(text, "t.script")
    return str(caught.value)


def _text(unicode_string) -> str:
    if unicode_string == ffi.NULL:
        return ""
    return ffi.buffer(unicode_string.Buffer, unicode_string.Length)[:].decode("utf-16-le")


# --- one class per command --------------------------------------------------------------

def test_every_command_is_one_registered_class_with_parse_and_run():
    assert list(script.COMMANDS) == ["as", "create", "open", "set", "query", "querykey", "enumkeys", "enumvalues",
                                     "deletevalue", "deletekey", "rename", "flush", "close", "import", "advance",
                                     "expect", "start", "exit", "opendevice", "ioctl", "closedevice"]
    for name, handler in script.COMMANDS.items():
        assert isinstance(handler, script.Command) and handler.name == name
        assert type(handler).parse is not script.Command.parse, name
        assert type(handler).run is not script.Command.run, name
    # Only registry operations set the status `expect STATUS_...` checks.
    assert {n for n, h in script.COMMANDS.items() if not h.operation} == {"as", "advance", "expect"}


def test_a_command_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        script.command("create")(type("Again", (script.Command,), {}))


def test_parse_and_run_go_through_the_registered_class(monkeypatch):
    seen = []

    class Ping(script.Command):
        def parse(self, args, line):
            return line.step(word=args)

        def run(self, runner, step):
            seen.append(step.args["word"])
            return STATUS_NOT_FOUND

    monkeypatch.setitem(script.COMMANDS, "ping", Ping())
    _, outcome = run("ping hello\nexpect STATUS_NOT_FOUND\n")
    assert seen == ["hello"] and outcome.failed == []
    assert [(step.command, status) for step, status in outcome.statuses] == [("ping", STATUS_NOT_FOUND)]


def test_advance_and_as_leave_the_status_expect_checks():
    _, outcome = run('open HKLM\\NOPE as n\nadvance 1s\nas 7 \\Device\\x.exe\nexpect STATUS_OBJECT_NAME_NOT_FOUND\n')
    assert outcome.failed == []
    assert [step.command for step, _ in outcome.statuses] == ["open"]


# --- quoted key names ---------------------------------------------------------------

def test_quoted_key_names_with_spaces():
    registry, outcome = run('create "HKLM\\SOFTWARE\\My App" as app\n'
                            'create "HKLM\\SOFTWARE\\My App\\Sub Key"\n'
                            'set "HKLM\\SOFTWARE\\My App\\Sub Key" "a b"="c d"\n'
                            'query "HKLM\\SOFTWARE\\My App\\Sub Key" "a b"\n'
                            'expect value "HKLM\\SOFTWARE\\My App\\Sub Key" "a b"="c d"\n'
                            'expect key "HKLM\\SOFTWARE\\My App"\n'
                            'rename "HKLM\\SOFTWARE\\My App\\Sub Key" "Other Key"\n'
                            'expect key "\\REGISTRY\\MACHINE\\SOFTWARE\\My App\\Other Key"\n'
                            'expect nokey "HKLM\\SOFTWARE\\My App\\Sub Key"\n'
                            'close app\n')
    assert outcome.failed == []
    assert outcome.output == ['"a b"="c d"']
    assert registry.get_value(APP + "\\Other Key", "a b")[1] == "c d\0".encode("utf-16-le")


def test_a_quote_inside_a_quoted_key_name_is_escaped():
    registry, outcome = run('create "HKLM\\SOFTWARE\\say \\"hi\\""\n')
    assert outcome.failed == [] and registry.exists('\\REGISTRY\\MACHINE\\SOFTWARE\\say "hi"')


def test_a_quoted_image_may_hold_spaces():
    steps = script.parse('as 5 "\\Device\\HarddiskVolume1\\Program Files\\x.exe"\n')
    assert steps[0].args["image"] == "\\Device\\HarddiskVolume1\\Program Files\\x.exe"


@pytest.mark.parametrize("text", ['create "HKLM\\SOFTWARE\\My App\n', 'set "HKLM\\SOFTWARE\\A "a"=dword:1\n',
                                  'enumkeys "HKLM\\SOFTWARE\\x\\"\n'])
def test_an_unterminated_quote_is_refused_with_file_and_line(text):
    assert refused("\n" + text).startswith("t.script:2: ")


def test_unquoted_keys_read_as_before():
    steps = script.parse("create HKLM\\SOFTWARE\\A as a\nset a @=dword:1\nquery HKLM\\SOFTWARE\\A @\n")
    assert steps[0].args["key"] == script.KeyRef("\\REGISTRY\\MACHINE\\SOFTWARE\\A")
    assert steps[1].args["key"] == script.KeyRef("", bound="a")
    assert "unknown root 'HKEY_SOMEWHERE'" in refused("open HKEY_SOMEWHERE\\X as x\n")


# --- keys relative to a bound name --------------------------------------------------

def test_open_and_create_relative_to_a_bound_key_pass_its_handle_as_root_directory():
    registry = Registry()
    seen = []

    def callback(context, argument1, argument2) -> int:
        if int(ffi.cast("ULONG_PTR", argument1)) in (N.RegNtPreCreateKeyEx, N.RegNtPreOpenKeyEx):
            info = ffi.cast("PREG_CREATE_KEY_INFORMATION", argument2)
            seen.append((_text(info.CompleteName), int(ffi.cast("ULONG_PTR", info.RootObject))))
        return STATUS_SUCCESS

    status, cookie = registry.native.callbacks.register(callback, ffi.NULL)
    assert status == STATUS_SUCCESS
    _, outcome = run('create "HKLM\\SOFTWARE\\My App" as app\n'
                     'create app\\Settings as settings\n'
                     'create "app\\Settings\\Deep Down"\n'
                     'open app\\Settings access=KEY_READ as again\n'
                     'set settings "v"=dword:2\n'
                     'close app\nclose settings\nclose again\n', registry)
    registry.native.callbacks.unregister(cookie)
    assert outcome.failed == []
    assert [name for name, _ in seen] == [APP, "Settings", "Settings\\Deep Down", "Settings"]
    roots = [root for _, root in seen]
    assert roots[1] == roots[2] == roots[3] != roots[0]  # app's key object, not the \\REGISTRY root's
    assert registry.exists(APP + "\\Settings\\Deep Down")


def test_every_command_takes_a_key_under_a_bound_name():
    registry, outcome = run('create HKLM\\SOFTWARE\\R as r\ncreate r\\A\ncreate r\\A\\B\n'
                            'set r\\A "x"=dword:00000003\nquery r\\A "x"\nexpect value r\\A "x"=dword:00000003\n'
                            'enumkeys r\\A\nenumvalues r\\A\nflush r\\A\nexpect STATUS_SUCCESS\n'
                            'deletevalue r\\A "x"\nexpect novalue r\\A "x"\nexpect key r\\A\\B\n'
                            'rename r\\A\\B C\nexpect key r\\A\\C\ndeletekey r\\A\\C\nexpect nokey r\\A\\C\n'
                            'open r\\Missing as m\nexpect STATUS_OBJECT_NAME_NOT_FOUND\nclose r\n')
    assert outcome.failed == []
    assert outcome.output == ["\"x\"=dword:00000003", "[B]", "\"x\"=dword:00000003"]
    assert registry.get_value("\\REGISTRY\\MACHINE\\SOFTWARE\\R\\A", "x") is None


def test_a_relative_key_needs_its_name_bound():
    reason = refused("create HKLM\\SOFTWARE\\R as r\nclose r\nopen r\\Sub as s\n")
    assert reason.startswith("t.script:3: 'r' is not bound") and "r\\Sub names a key under the one bound as r" \
        in reason
    assert "close takes a name bound with 'as'" in refused("create HKLM\\SOFTWARE\\R as r\nclose r\\Sub\n")
    assert "takes a path, not a bound name" in refused("create HKLM\\SOFTWARE\\R as r\nopen r as again\n")


def test_a_relative_key_under_a_failed_open_gets_an_invalid_handle():
    _, outcome = run("open HKLM\\NOPE as n\nopen n\\Sub as s\nexpect STATUS_INVALID_HANDLE\n"
                     "set n\\Sub \"v\"=dword:1\nexpect STATUS_INVALID_HANDLE\nexpect nokey n\\Sub\n")
    assert outcome.failed == []


# --- advance ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,units", [("5s", 50_000_000), ("100ms", 1_000_000), ("250us", 2_500),
                                        ("300ns", 3), ("2min", 1_200_000_000), ("1.5h", 54_000_000_000),
                                        ("1d", 864_000_000_000), ("0s", 0)])
def test_advance_moves_the_emulated_clock(text, units):
    registry = Registry()
    registry.native.store.clock.set(130_000_000_000_000_000)
    _, outcome = run(f"advance {text}\n", registry)
    assert outcome.failed == [] and outcome.statuses == []
    assert registry.native.store.clock.now() == 130_000_000_000_000_000 + units


def test_advance_shows_in_last_write_times():
    registry = Registry()
    registry.native.store.clock.set(130_000_000_000_000_000)
    run("create HKLM\\SOFTWARE\\A\nadvance 5s\ncreate HKLM\\SOFTWARE\\B\n", registry)
    store = registry.native.store
    first, second = store.walk("\\REGISTRY\\MACHINE\\SOFTWARE\\A"), store.walk("\\REGISTRY\\MACHINE\\SOFTWARE\\B")
    assert second.last_write - first.last_write == 50_000_000


@pytest.mark.parametrize("text", ["advance", "advance 5", "advance 5 parsecs", "advance -1s", "advance 50ns",
                                  "advance s"])
def test_advance_refuses_what_is_no_time(text):
    assert refused(f"\n{text}\n").startswith("t.script:2: ")


# --- expect STATUS_... ----------------------------------------------------------------------

FILTER_STATUSES = {  # Windows' values (ntstatus.h); the ABI tests compare the header's with mingw-w64's
    "STATUS_NOT_FOUND": 0xC0000225, "STATUS_OBJECT_NAME_EXISTS": 0x40000000, "STATUS_NOT_SUPPORTED": 0xC00000BB,
    "STATUS_REPARSE": 0x00000104, "STATUS_MORE_ENTRIES": 0x00000105, "STATUS_TOO_LATE": 0xC0000189,
    "STATUS_PRIVILEGE_NOT_HELD": 0xC0000061, "STATUS_INVALID_DEVICE_REQUEST": 0xC0000010,
    "STATUS_NO_SUCH_FILE": 0xC000000F, "STATUS_DELETE_PENDING": 0xC0000056, "STATUS_REGISTRY_IO_FAILED": 0xC000014D,
    "STATUS_REGISTRY_CORRUPT": 0xC000014C, "STATUS_KEY_HAS_CHILDREN": 0xC0000180,
    "STATUS_CHILD_MUST_BE_VOLATILE": 0xC0000181, "STATUS_CALLBACK_BYPASS": 0xC0000503,
    "STATUS_ACCESS_DENIED": 0xC0000022, "STATUS_CANCELLED": 0xC0000120, "STATUS_MEDIA_WRITE_PROTECTED": 0xC00000A2,
    "STATUS_TIMEOUT": 0x00000102, "STATUS_VIRUS_INFECTED": 0xC0000906, "STATUS_CONTENT_BLOCKED": 0xC0000804,
}


@pytest.mark.parametrize("name", sorted(FILTER_STATUSES))
def test_every_status_a_filter_may_return_is_named_with_its_windows_value(name):
    value = FILTER_STATUSES[name]
    assert ntddk_py.status_name(value) == name
    assert script.parse(f"flush HKLM\\SOFTWARE\nexpect {name}\n")[1].args["status"] == ntddk_py.ntstatus(value)


@pytest.mark.parametrize("name", sorted(n for n, v in FILTER_STATUSES.items() if not ntddk_py.nt_success(v)))
def test_expect_holds_for_the_failure_a_filter_returns(name):
    """A pre-callback's failure is the call's status (a success or informational one lets it go on)."""
    value = FILTER_STATUSES[name]
    registry = Registry()

    def callback(context, argument1, argument2) -> int:
        return value if int(ffi.cast("ULONG_PTR", argument1)) == N.RegNtPreQueryValueKey else STATUS_SUCCESS

    status, cookie = registry.native.callbacks.register(callback, ffi.NULL)
    _, outcome = run(f'query HKLM\\SOFTWARE "x"\nexpect {name}\nexpect 0x{value:08X}\n', registry)
    registry.native.callbacks.unregister(cookie)
    assert outcome.failed == []
    assert outcome.statuses[0][1] == ntddk_py.ntstatus(value)


def test_a_failed_status_expectation_names_the_status():
    _, outcome = run('create HKLM\\SOFTWARE\\A as a\nset a "v"=dword:1\nexpect STATUS_NOT_FOUND\n')
    assert outcome.failed == ['t.script:3: expect STATUS_NOT_FOUND: the status was STATUS_SUCCESS']


def test_a_misspelt_status_is_refused_with_the_names_it_resembles():
    assert "unknown status STATUS_NOT_FOUNDD; did you mean STATUS_NOT_FOUND" in refused(
        "open HKLM\\SOFTWARE as sw\nexpect STATUS_NOT_FOUNDD\n")
    assert "unknown status STATUS_QWERTY (include/ntddk.h has no such status)" in refused(
        "open HKLM\\SOFTWARE as sw\nexpect STATUS_QWERTY\n")


def test_the_persistence_scenario_still_parses_to_the_same_steps():
    from harness.cli import DEMO_SCRIPT

    steps = script.load(DEMO_SCRIPT)
    assert [s.command for s in steps] == ["as", "open", "set", "expect", "create", "create", "set", "expect", "as",
                                          "set", "expect", "expect", "expect", "close", "close"]
    assert steps[2].args["key"] == script.KeyRef("", bound="run")
    assert steps[2].args["value"].name == "Updater" and steps[6].args["value"].type == REG_DWORD
