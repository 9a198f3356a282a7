"""Version profiles: which notifications a Windows version sends, and with which structs.

"2003" (Windows Server 2003, the specification's own, the default): a pre and a post for
every operation; create and open send the Ex classes (26-29) with REG_CREATE_KEY_INFORMATION
and REG_POST_OPERATION_INFORMATION. "xp" (specification section 3): only pre-notifications,
except create and open, which send classes 10-13 with the XP structs, and whose post Object
holds the address of the object pointer. Nothing here knows how a notification is delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from ntddk_py import REG_NOTIFY_CLASS as N


@dataclass(frozen=True)
class Profile:
    name: str
    pre_create: N
    post_create: N
    pre_open: N
    post_open: N
    posts: dict[N, N]  # pre class -> post class, for the operations that get a post
    xp_structs: bool  # create/open use REG_PRE/POST_CREATE_KEY_INFORMATION, post Object is PVOID *

    def post_of(self, pre_class: N) -> N | None:
        return self.posts.get(pre_class)


PROFILE_2003 = Profile(
    name="2003",
    pre_create=N.RegNtPreCreateKeyEx, post_create=N.RegNtPostCreateKeyEx,
    pre_open=N.RegNtPreOpenKeyEx, post_open=N.RegNtPostOpenKeyEx,
    posts={
        N.RegNtPreDeleteKey: N.RegNtPostDeleteKey,
        N.RegNtPreSetValueKey: N.RegNtPostSetValueKey,
        N.RegNtPreDeleteValueKey: N.RegNtPostDeleteValueKey,
        N.RegNtPreSetInformationKey: N.RegNtPostSetInformationKey,
        N.RegNtPreRenameKey: N.RegNtPostRenameKey,
        N.RegNtPreEnumerateKey: N.RegNtPostEnumerateKey,
        N.RegNtPreEnumerateValueKey: N.RegNtPostEnumerateValueKey,
        N.RegNtPreQueryKey: N.RegNtPostQueryKey,
        N.RegNtPreQueryValueKey: N.RegNtPostQueryValueKey,
        N.RegNtPreQueryMultipleValueKey: N.RegNtPostQueryMultipleValueKey,
        N.RegNtPreKeyHandleClose: N.RegNtPostKeyHandleClose,
        N.RegNtPreCreateKeyEx: N.RegNtPostCreateKeyEx,
        N.RegNtPreOpenKeyEx: N.RegNtPostOpenKeyEx,
    },
    xp_structs=False,
)

PROFILE_XP = Profile(
    name="xp",
    pre_create=N.RegNtPreCreateKey, post_create=N.RegNtPostCreateKey,
    pre_open=N.RegNtPreOpenKey, post_open=N.RegNtPostOpenKey,
    posts={N.RegNtPreCreateKey: N.RegNtPostCreateKey, N.RegNtPreOpenKey: N.RegNtPostOpenKey},
    xp_structs=True,
)

PROFILES = {profile.name: profile for profile in (PROFILE_2003, PROFILE_XP)}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}: use one of {', '.join(PROFILES)}") from None
