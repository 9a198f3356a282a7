"""The information-class options of script commands (query, querykey, enumkeys, enumvalues with
class=NAME length=N): one native call (per index) with exactly that class and buffer, its status the
step's, as a careful or hostile caller makes it. What `cmhook fuzz` writes into its reproducers."""

from __future__ import annotations

import pytest

from harness import script
from ntddk_py import (
    STATUS_BUFFER_OVERFLOW,
    STATUS_BUFFER_TOO_SMALL,
    STATUS_SUCCESS,
    ffi,
)
from registry_core.registry import Registry

SETUP = 'create HKLM\\SOFTWARE\\T as t\nset t "name"=dword:00000001\nset t "other"="x"\n'


def statuses(text: str) -> list[int]:
    """The statuses of the steps after the setup's three."""
    outcome = script.Runner(Registry()).run(script.parse(SETUP + text))
    return [status for _, status in outcome.statuses[3:]]


def test_a_buffer_shorter_than_the_fixed_part_is_too_small_and_one_holding_it_overflows():
    """Microsoft's ZwQueryValueKey and ZwQueryKey documentation: STATUS_BUFFER_TOO_SMALL when not even
    the fixed part fits (nothing written), STATUS_BUFFER_OVERFLOW when it does and the rest does not
    (partial data). KEY_VALUE_BASIC_INFORMATION's Name starts at byte 12; KEY_NAME_INFORMATION's at 4."""
    name_at = ffi.offsetof("KEY_VALUE_BASIC_INFORMATION", "Name")
    assert statuses(f'query t "name" class=KeyValueBasicInformation length={name_at - 1}\n'
                    f'query t "name" class=KeyValueBasicInformation length={name_at}\n'
                    f'query t "name" class=KeyValueBasicInformation length={name_at + 8}\n'
                    "querykey t class=KeyNameInformation length=3\n"
                    "querykey t class=KeyNameInformation length=4\n") == [
        STATUS_BUFFER_TOO_SMALL, STATUS_BUFFER_OVERFLOW, STATUS_SUCCESS, STATUS_BUFFER_TOO_SMALL,
        STATUS_BUFFER_OVERFLOW]


def test_an_enumeration_with_options_calls_every_index_and_keeps_the_first_short_buffer_status():
    """enumvalues with length=0 over two values: each index answers STATUS_BUFFER_TOO_SMALL, the step
    too; with a buffer that holds each entry, success (STATUS_NO_MORE_ENTRIES ends the walk)."""
    registry = Registry()
    runner = script.Runner(registry)
    calls: list[int] = []
    original = registry.enumerate_value

    def counting(handle, index, *args, **kwargs):
        calls.append(index)
        return original(handle, index, *args, **kwargs)

    registry.enumerate_value = counting  # type: ignore[method-assign]
    outcome = runner.run(script.parse(SETUP + "enumvalues t length=0\n"
                                      "enumvalues t class=KeyValueBasicInformation length=100\n"))
    assert [status for _, status in outcome.statuses[3:]] == [STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS]
    assert calls == [0, 1, 2, 0, 1, 2]


def test_the_options_are_order_free_and_default_to_the_commands_class_and_a_zero_length():
    assert statuses('query t "name" length=64 class=KeyValueFullInformation\n'
                    'query t "name" length=0\n'
                    "querykey t length=1000\n") == [STATUS_SUCCESS, STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS]


@pytest.mark.parametrize(("line", "message"), [
    ('query t "name" class=KeyValueNope', "unknown information class 'KeyValueNope'"),
    ("querykey t class=KeyValueBasicInformation", "KEY_INFORMATION_CLASS has KeyBasicInformation"),
    ('query t "name" length=16777217', "length=16777217: a buffer length in bytes, at most 16777216"),
    ('query t "name" length=-1', "length=-1"),
    ("enumkeys t length=1 length=2", "length= given twice"),
])
def test_a_bad_option_refuses_the_script_naming_the_line(line, message):
    with pytest.raises(script.ScriptError) as refused:
        script.parse(SETUP + line + "\n", "bad.script")
    assert str(refused.value).startswith("bad.script:4: ") and message in str(refused.value)
