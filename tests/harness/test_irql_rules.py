"""Driver Verifier's DDI compliance IRQL rules for the Zw registry routines: a call above the IRQL the
rule allows is a finding naming the routine, the IRQL, the rule and its bug check code, and the
notification the callback was handling; the call itself goes on, as it does without the verifier.

Facts: Microsoft's "IrqlZwPassive rule (wdm)" page (ZwClose, ZwCreateKey, ZwDeleteKey, ZwEnumerateKey,
ZwEnumerateValueKey, ZwFlushKey, ZwOpenKey, ZwQueryKey, ZwQueryValueKey, ZwSetValueKey only at
PASSIVE_LEVEL; bug check 0xC4 with 0x2001F; its example is ZwClose under a fast mutex, at APC_LEVEL) and
"IrqlIoRtlZwPassive rule (wdm)" (ZwDeleteValueKey among others; 0xC4 with 0x20023)."""

from __future__ import annotations

import pytest
from helpers import DRIVERS

from harness import routines, shim
from ntddk_py import REG_DWORD, STATUS_SUCCESS

KEY = "\\REGISTRY\\MACHINE\\SOFTWARE"


@pytest.fixture(params=["gcc", "clang"])
def loaded(request, kernel, build_filter):
    kernel.load_driver(build_filter(DRIVERS / "zw_at_raised_irql.c", request.param), "irql")
    return kernel


def irql_findings(kernel) -> list[str]:
    """The IRQL findings, taken out of the kernel's (the fixture fails a test that leaves findings)."""
    found = [str(finding) for finding in kernel.findings if finding.kind == "irql"]
    kernel.findings.clear()
    return found


def test_zw_calls_under_a_spin_lock_are_two_findings_naming_rule_code_and_notification(loaded):
    registry = loaded.registry
    status, handle, _ = registry.create_key(KEY)
    assert registry.set_value(handle, "x", REG_DWORD, bytes(4)) == STATUS_SUCCESS  # the call goes on
    registry.close(handle)
    rule = "(Driver Verifier's IrqlZwPassive rule: bug check 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, 0x2001F)"
    assert irql_findings(loaded) == [
        f"[irql] irql: {name} called at IRQL 2 (DISPATCH_LEVEL); it may only be called at IRQL <= PASSIVE_LEVEL "
        f"{rule} (during RegNtPreSetValueKey)" for name in ("ZwOpenKey", "ZwClose")]


def test_zw_close_under_a_fast_mutex_is_the_rules_own_example_at_apc_level(loaded):
    registry = loaded.registry
    status, handle, _ = registry.create_key(KEY)
    registry.delete_value(handle, "absent")
    registry.close(handle)
    assert irql_findings(loaded) == [
        "[irql] irql: ZwClose called at IRQL 1 (APC_LEVEL); it may only be called at IRQL <= PASSIVE_LEVEL "
        "(Driver Verifier's IrqlZwPassive rule: bug check 0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, 0x2001F) "
        "(during RegNtPreDeleteValueKey)"]


def test_zw_calls_at_passive_level_are_no_finding(loaded):
    registry = loaded.registry
    status, handle, _ = registry.create_key(KEY)
    registry.query_value(handle, "absent")
    registry.close(handle)
    assert irql_findings(loaded) == []


def test_every_forwarder_of_a_ruled_routine_checks_its_irql_and_no_other_does():
    forwarders = shim.FORWARDERS.read_text()
    for name in routines.ROUTINES:
        body = forwarders.split(f" {name}(", 1)[1].split("\n}\n", 1)[0]
        rule = routines.IRQL_RULES.get(name)
        if rule is None:
            assert "CMHOOK_CHECK_IRQL" not in body, name
        else:
            assert f'CMHOOK_CHECK_IRQL({rule.most}, "{rule.name}", 0x{rule.code:X});' in body, name
    assert set(routines.IRQL_RULES) <= set(routines.ROUTINES)
