"""Driver Verifier's options (harness/verifier.py): how a choice reads, the word the shim gets, the
command line's and the plugin's spelling of it, and the bugcheck-style text of a finding."""

from __future__ import annotations

import pytest
from helpers import cmhook

import ntddk_py
from harness import verifier
from harness.kernel import Finding, Kernel


def test_no_choice_is_the_standard_set_and_the_standard_set_leaves_out_what_changes_behaviour():
    assert verifier.parse(None).enabled == verifier.STANDARD
    # Failing allocations on purpose, and faulting on every user-buffer touch, are asked for by name.
    assert "low-resources" not in verifier.STANDARD
    assert "user-buffers" not in verifier.STANDARD
    assert {"irql", "pool-tracking", "handles", "deadlocks", "special-pool"} <= verifier.STANDARD


def test_a_choice_reads_left_to_right_with_sets_names_removals_and_values():
    chosen = verifier.parse("standard,-special-pool,low-resources=10%:7")
    assert chosen.enabled == (verifier.STANDARD - {"special-pool"}) | {"low-resources"}
    assert chosen.values == {"low-resources": "10%:7"}
    assert verifier.parse("all,-all,irql").enabled == {"irql"}
    assert verifier.parse("none").enabled == frozenset()
    # The text form reads back as the same choice: the CLI hands it to the machine so.
    assert verifier.parse(str(chosen)) == chosen


@pytest.mark.parametrize("choice, says", [
    ("irq", "'irq' does not exist"),
    ("irql=2", "irql takes no value"),
    ("-low-resources=5%", "turned on, not off"),
])
def test_a_bad_choice_says_what_is_wrong(choice, says):
    with pytest.raises(verifier.VerifierChoiceError, match=says):
        verifier.parse(choice)


def test_each_option_is_its_own_bit_of_the_shims_word():
    bits = [option.bit for option in verifier.OPTIONS.values()]
    assert len(set(bits)) == len(bits) and all(bit and bit & (bit - 1) == 0 for bit in bits)
    machine = Kernel(verifier="irql,handles", replace=True)
    try:
        assert machine.lib.CmhookVerifierOptions == verifier.OPTIONS["irql"].bit | verifier.OPTIONS["handles"].bit
        assert "irql" in machine.verifier and "special-pool" not in machine.verifier
    finally:
        machine.close()


def test_a_finding_reads_as_a_bugcheck_report_naming_driver_routine_bugcheck_and_notification():
    finding = Finding("irql", "monitor", "called at IRQL 2 (DISPATCH_LEVEL)", "RegNtPreSetValueKey",
                      ntddk_py.DRIVER_VERIFIER_DETECTED_VIOLATION, 0x2001F, "ZwCreateKey")
    assert str(finding) == ("[irql] monitor in ZwCreateKey: called at IRQL 2 (DISPATCH_LEVEL) (bug check 0xC4 "
                            "DRIVER_VERIFIER_DETECTED_VIOLATION, parameter 0x2001F) (during RegNtPreSetValueKey)")


def test_the_command_line_refuses_an_unknown_option_before_running_anything():
    done = cmhook("run", "--verifier", "special-pol", "nothing.so")
    assert done.returncode == 2
    assert "special-pol' does not exist" in done.stderr
