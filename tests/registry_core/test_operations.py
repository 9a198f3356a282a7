"""The operation table and the structs its notifications are filled from.

Each REG_* struct is filled by name from the call's values (``registry_core.notification``).
These tests pin, for every call and profile, which value lands in which member: the member
lists are the Server 2003 specification's appendix and its section 3 (XP), written here as
facts; the values are checked end to end through a struct built in native memory.
"""

from __future__ import annotations

import pytest

from ntddk_py import PROTOTYPES, ffi
from registry_core import layered
from registry_core.notification import builder
from registry_core.operations import OPERATIONS, POST_SOURCES
from registry_core.profiles import PROFILE_2003, PROFILE_XP, PROFILES

# The appendix: each handle-based call's REG_*_INFORMATION members, in order.
APPENDIX_MEMBERS = {
    "NtDeleteKey": ("Object",),
    "NtSetValueKey": ("Object", "ValueName", "TitleIndex", "Type", "Data", "DataSize"),
    "NtDeleteValueKey": ("Object", "ValueName"),
    "NtSetInformationKey": ("Object", "KeySetInformationClass", "KeySetInformation", "KeySetInformationLength"),
    "NtRenameKey": ("Object", "NewName"),
    "NtEnumerateKey": ("Object", "Index", "KeyInformationClass", "KeyInformation", "Length", "ResultLength"),
    "NtEnumerateValueKey": ("Object", "Index", "KeyValueInformationClass", "KeyValueInformation", "Length",
                            "ResultLength"),
    "NtQueryKey": ("Object", "KeyInformationClass", "KeyInformation", "Length", "ResultLength"),
    "NtQueryValueKey": ("Object", "ValueName", "KeyValueInformationClass", "KeyValueInformation", "Length",
                        "ResultLength"),
    "NtQueryMultipleValueKey": ("Object", "ValueEntries", "EntryCount", "ValueBuffer", "BufferLength",
                                "RequiredBufferLength"),
    "NtClose": ("Object",),
}
# The appendix's create/open structs (2003) and section 3's (XP), pre then post.
OPEN_MEMBERS = {
    "2003": (("CompleteName", "RootObject"), ("Object", "Status")),
    "xp": (("CompleteName",), ("CompleteName", "Object", "Status")),
}
HANDLE_CALLS = sorted(APPENDIX_MEMBERS)


def test_every_native_call_is_in_the_table():
    """The fourteen Nt*Key calls the native API offers, each named by its Zw prototype."""
    assert set(OPERATIONS) == set(APPENDIX_MEMBERS) | {"NtCreateKey", "NtOpenKey", "NtFlushKey"}
    for op in OPERATIONS.values():
        assert op.routine == "Zw" + op.api[2:] and op.routine in PROTOTYPES


@pytest.mark.parametrize("api", HANDLE_CALLS)
def test_a_handle_calls_struct_is_its_parameters_after_the_handle(api):
    """For every handle-based call, the members after Object are the prototype's parameters after
    the handle, in order; so the struct is filled from the call's own arguments."""
    op = OPERATIONS[api]
    members = builder(PROFILE_2003.pre(api).struct, op.pre_sources).members
    assert members == APPENDIX_MEMBERS[api]
    assert members[1:] == op.parameters[1:]


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("api", HANDLE_CALLS)
def test_each_member_gets_the_value_of_its_name(profile, api):
    """Built in native memory from distinct values, each member reads back the value its name names."""
    op = OPERATIONS[api]
    pre = PROFILES[profile].pre(api)
    # Vista and later fill the Vista members too (registry_core.layered).
    sources = layered.pre_sources(op) if PROFILES[profile].layered else op.pre_sources
    made = builder(pre.struct, sources)
    values = tuple(0x1000 + 8 * index for index in range(len(sources)))
    info = made.typed(made.build(values))
    members = APPENDIX_MEMBERS[api] + (layered.CONTEXT_SOURCES if PROFILES[profile].layered else ())
    assert made.members == members
    for member in members:
        got = getattr(info, member)
        got = int(ffi.cast("ULONG_PTR", got)) if isinstance(got, ffi.CData) else got
        assert got == values[sources.index(member)], member


@pytest.mark.parametrize("profile", sorted(OPEN_MEMBERS))
@pytest.mark.parametrize("api", ["NtCreateKey", "NtOpenKey"])
def test_create_and_open_structs_per_profile(profile, api):
    pre, post = PROFILES[profile].sends[api]
    assert builder(pre.struct, OPERATIONS[api].pre_sources).members == OPEN_MEMBERS[profile][0]
    assert builder(post.struct, POST_SOURCES).members == OPEN_MEMBERS[profile][1]


@pytest.mark.parametrize("api", HANDLE_CALLS)
def test_posts_carry_object_and_status_in_2003_and_are_not_sent_by_xp(api):
    """Section 2.2: the post gets the object and the status; section 3: XP sends no post but
    for create and open."""
    assert builder(PROFILE_2003.post(api).struct, POST_SOURCES).members == ("Object", "Status")
    assert PROFILE_XP.post(api) is None


def test_a_negative_status_is_stored_as_c_stores_it():
    made = builder("REG_POST_OPERATION_INFORMATION", POST_SOURCES)
    info = made.typed(made.build((0x2000, -0x3FFFFFDE, 0)))
    assert info.Status == -0x3FFFFFDE


def test_flush_sends_nothing_in_either_profile():
    """NtFlushKey has no notify class in the 2003 appendix (XP and 2003); Vista's RegNtPreFlushKey
    is tested in tests/registry_core/callbacks/test_vista_layered.py."""
    assert all(profile.pre("NtFlushKey") is None for profile in PROFILES.values() if not profile.layered)
