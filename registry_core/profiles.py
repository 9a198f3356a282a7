"""Version profiles: which notifications a Windows version sends for each call, and with which structs.

A profile is data: for every native call, the (notify class, REG_* struct) of its pre and of
its post, or None where that version sends nothing. The operation pipeline (``native``)
reads it and never branches on a version.

"2003" (Windows Server 2003, the specification's own, the default): a pre and a post for
every operation; create and open send the Ex classes (26-29) with REG_CREATE_KEY_INFORMATION
and REG_POST_OPERATION_INFORMATION. "xp" (specification section 3): only pre-notifications,
except create and open, which send classes 10-13 with the XP structs, and whose post Object
holds the address of the object pointer. Nothing here knows how a notification is delivered.

"vista", "win7", "win8", "win10": the layered model of callback version 1.x (``layered``): the
same classes as 2003 with the structs' Vista form (the header's CMHOOK_VISTA_ twins), Windows 7 on
with REG_CREATE_KEY_INFORMATION_V1 for create and open; registrations ordered by altitude;
STATUS_CALLBACK_BYPASS meaning bypass. docs/profiles.md gives each difference with its source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ntddk_py import REG_NOTIFY_CLASS as N


@dataclass(frozen=True)
class Notification:
    """One notification a call sends: its class and the struct Argument2 points to."""

    notify_class: N
    struct: str


@dataclass(frozen=True)
class WindowsVersion:
    """What RtlGetVersion reports for a profile: the release's version numbers (Microsoft's
    OSVERSIONINFOEXW documentation: XP is 5.1, build 2600; Server 2003 5.2, build 3790), its
    product type (VER_NT_WORKSTATION 1, VER_NT_SERVER 3) and no service pack."""

    major: int
    minor: int
    build: int
    product_type: int
    service_pack_major: int = 0
    service_pack_minor: int = 0
    suite_mask: int = 0
    csd_version: str = ""


WINDOWS_2003 = WindowsVersion(5, 2, 3790, product_type=3)
WINDOWS_XP = WindowsVersion(5, 1, 2600, product_type=1)
# The Vista-era releases as first shipped (their RTM builds), as workstations: Vista 6.0.6000,
# Windows 7 6.1.7600, Windows 8 6.2.9200, Windows 10 version 2004 10.0.19041 (Microsoft's
# OSVERSIONINFOEXW and Windows release information pages).
WINDOWS_VISTA = WindowsVersion(6, 0, 6000, product_type=1)
WINDOWS_7 = WindowsVersion(6, 1, 7600, product_type=1)
WINDOWS_8 = WindowsVersion(6, 2, 9200, product_type=1)
WINDOWS_10 = WindowsVersion(10, 0, 19041, product_type=1)


@dataclass(frozen=True)
class Profile:
    name: str
    sends: dict[str, tuple[Notification | None, Notification | None]]  # native call -> (pre, post)
    # The post of a create/open carries the address of the object pointer, not the pointer (XP).
    post_object_indirect: bool = False
    # The Windows version the kernel reports (RtlGetVersion, RtlVerifyVersionInfo).
    version: WindowsVersion = WINDOWS_2003
    # --- Vista and later (docs/profiles.md) ---
    # The layered model: registrations walked by altitude, highest first; a failing pre posts to
    # the callbacks above it; a call made inside a callback reaches the callbacks below it;
    # CallContext and ObjectContext; walked in Python (registry_core.layered), never by the C walk.
    layered: bool = False
    # STATUS_CALLBACK_BYPASS from a pre or a post means bypass; before Vista an ordinary failure.
    bypass: bool = False
    # What CmGetCallbackVersion reports; None: the routine does not exist in that version.
    callback_version: tuple[int, int] | None = None

    def pre(self, api: str) -> Notification | None:
        return self.sends.get(api, (None, None))[0]

    def post(self, api: str) -> Notification | None:
        return self.sends.get(api, (None, None))[1]

    def post_of(self, pre_class: N) -> N | None:
        """The class of the post that follows a pre of this class, if this version sends one."""
        for pre, post in self.sends.values():
            if pre is not None and pre.notify_class == pre_class:
                return post.notify_class if post is not None else None
        return None


_POST = "REG_POST_OPERATION_INFORMATION"
# Calls that name their key by handle: (pre class, post class, the pre's struct), as 2003 sends them.
_HANDLE_CALLS = {
    "NtDeleteKey": (N.RegNtPreDeleteKey, N.RegNtPostDeleteKey, "REG_DELETE_KEY_INFORMATION"),
    "NtSetValueKey": (N.RegNtPreSetValueKey, N.RegNtPostSetValueKey, "REG_SET_VALUE_KEY_INFORMATION"),
    "NtDeleteValueKey": (N.RegNtPreDeleteValueKey, N.RegNtPostDeleteValueKey, "REG_DELETE_VALUE_KEY_INFORMATION"),
    "NtSetInformationKey": (N.RegNtPreSetInformationKey, N.RegNtPostSetInformationKey,
                            "REG_SET_INFORMATION_KEY_INFORMATION"),
    "NtRenameKey": (N.RegNtPreRenameKey, N.RegNtPostRenameKey, "REG_RENAME_KEY_INFORMATION"),
    "NtEnumerateKey": (N.RegNtPreEnumerateKey, N.RegNtPostEnumerateKey, "REG_ENUMERATE_KEY_INFORMATION"),
    "NtEnumerateValueKey": (N.RegNtPreEnumerateValueKey, N.RegNtPostEnumerateValueKey,
                            "REG_ENUMERATE_VALUE_KEY_INFORMATION"),
    "NtQueryKey": (N.RegNtPreQueryKey, N.RegNtPostQueryKey, "REG_QUERY_KEY_INFORMATION"),
    "NtQueryValueKey": (N.RegNtPreQueryValueKey, N.RegNtPostQueryValueKey, "REG_QUERY_VALUE_KEY_INFORMATION"),
    "NtQueryMultipleValueKey": (N.RegNtPreQueryMultipleValueKey, N.RegNtPostQueryMultipleValueKey,
                                "REG_QUERY_MULTIPLE_VALUE_KEY_INFORMATION"),
    "NtClose": (N.RegNtPreKeyHandleClose, N.RegNtPostKeyHandleClose, "REG_KEY_HANDLE_CLOSE_INFORMATION"),
}

PROFILE_2003 = Profile(
    name="2003",
    sends={
        **{api: (Notification(pre, struct), Notification(post, _POST)) for api, (pre, post, struct)
           in _HANDLE_CALLS.items()},
        "NtCreateKey": (Notification(N.RegNtPreCreateKeyEx, "REG_CREATE_KEY_INFORMATION"),
                        Notification(N.RegNtPostCreateKeyEx, _POST)),
        "NtOpenKey": (Notification(N.RegNtPreOpenKeyEx, "REG_OPEN_KEY_INFORMATION"),
                      Notification(N.RegNtPostOpenKeyEx, _POST)),
    },
    version=WINDOWS_2003,
)

PROFILE_XP = Profile(
    name="xp",
    sends={
        **{api: (Notification(pre, struct), None) for api, (pre, _, struct) in _HANDLE_CALLS.items()},
        "NtCreateKey": (Notification(N.RegNtPreCreateKey, "REG_PRE_CREATE_KEY_INFORMATION"),
                        Notification(N.RegNtPostCreateKey, "REG_POST_CREATE_KEY_INFORMATION")),
        "NtOpenKey": (Notification(N.RegNtPreOpenKey, "REG_PRE_OPEN_KEY_INFORMATION"),
                      Notification(N.RegNtPostOpenKey, "REG_POST_OPEN_KEY_INFORMATION")),
    },
    post_object_indirect=True,
    version=WINDOWS_XP,
)

_VISTA = "CMHOOK_VISTA_"  # the header's twins: the Vista form of each struct, whatever the bindings' target


def _layered(name: str, version: tuple[int, int], create_struct: str, windows: WindowsVersion) -> Profile:
    """A Vista-era profile: 2003's classes, every struct in its Vista form (create/open: ``create_struct``)."""
    return Profile(
        name=name,
        sends={
            **{api: (Notification(pre, _VISTA + struct), Notification(post, _VISTA + _POST))
               for api, (pre, post, struct) in _HANDLE_CALLS.items()},
            "NtCreateKey": (Notification(N.RegNtPreCreateKeyEx, create_struct),
                            Notification(N.RegNtPostCreateKeyEx, _VISTA + _POST)),
            "NtOpenKey": (Notification(N.RegNtPreOpenKeyEx, create_struct),
                          Notification(N.RegNtPostOpenKeyEx, _VISTA + _POST)),
            # Vista's new class for a call 2003 did not notify: REG_FLUSH_KEY_INFORMATION is wdm.h's
            # second name for REG_DELETE_KEY_INFORMATION.
            "NtFlushKey": (Notification(N.RegNtPreFlushKey, _VISTA + "REG_DELETE_KEY_INFORMATION"),
                           Notification(N.RegNtPostFlushKey, _VISTA + _POST)),
        },
        layered=True,
        bypass=True,
        callback_version=version,
        version=windows,
    )


# CmGetCallbackVersion: 1.0 on Vista, 1.1 from Windows 7 (Microsoft's CmGetCallbackVersion
# documentation). REG_CREATE_KEY_INFORMATION_V1 from Windows 7 (Microsoft's
# REG_CREATE_KEY_INFORMATION_V1 documentation: "available starting with Windows 7").
PROFILE_VISTA = _layered("vista", (1, 0), _VISTA + "REG_CREATE_KEY_INFORMATION", WINDOWS_VISTA)
PROFILE_WIN7 = _layered("win7", (1, 1), "REG_CREATE_KEY_INFORMATION_V1", WINDOWS_7)
PROFILE_WIN8 = _layered("win8", (1, 1), "REG_CREATE_KEY_INFORMATION_V1", WINDOWS_8)
PROFILE_WIN10 = _layered("win10", (1, 1), "REG_CREATE_KEY_INFORMATION_V1", WINDOWS_10)

PROFILES = {profile.name: profile for profile in (PROFILE_2003, PROFILE_XP, PROFILE_VISTA, PROFILE_WIN7,
                                                   PROFILE_WIN8, PROFILE_WIN10)}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: use one of {', '.join(PROFILES)}") from None
