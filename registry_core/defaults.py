"""The embedded default registry: the skeleton a Windows Server 2003 machine boots with.

\\REGISTRY\\MACHINE\\{SOFTWARE,SYSTEM,HARDWARE,SAM,SECURITY} (HARDWARE volatile, as Windows
builds it at boot), SYSTEM\\ControlSet001 with Services and Control, SYSTEM\\CurrentControlSet
as a volatile link to ControlSet001 (docs/registry-facts.md fact 74),
SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run, and \\REGISTRY\\USER\\.DEFAULT. Built
straight into the store: these keys exist before any caller or callback does.
"""

from __future__ import annotations

from ntddk_py import REG_DWORD, REG_LINK, REG_SZ

from .native import LINK_VALUE_NAME
from .store import Key, Store, Value

CONTROL_SET = "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001"

# path below \REGISTRY -> values; hive roots are marked permanent.
SKELETON: dict[str, dict[str, tuple[int, str]]] = {
    "MACHINE\\SOFTWARE": {},
    "MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion": {
        "ProgramFilesDir": (REG_SZ, "C:\\Program Files"),
        "CommonFilesDir": (REG_SZ, "C:\\Program Files\\Common Files"),
    },
    "MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run": {},
    "MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion": {
        "ProductName": (REG_SZ, "Microsoft Windows Server 2003"),
        "CurrentVersion": (REG_SZ, "5.2"),
        "CurrentBuildNumber": (REG_SZ, "3790"),
        "SystemRoot": (REG_SZ, "C:\\WINDOWS"),
    },
    "MACHINE\\SYSTEM": {},
    "MACHINE\\SYSTEM\\ControlSet001\\Control": {},
    "MACHINE\\SYSTEM\\ControlSet001\\Services": {},
    "MACHINE\\SYSTEM\\Select": {},
    "MACHINE\\SAM": {},
    "MACHINE\\SECURITY": {},
    "USER\\.DEFAULT": {},
    "USER\\.DEFAULT\\Software\\Microsoft\\Windows\\CurrentVersion\\Run": {},
}
HIVE_ROOTS = ["MACHINE\\SOFTWARE", "MACHINE\\SYSTEM", "MACHINE\\HARDWARE", "MACHINE\\SAM",
              "MACHINE\\SECURITY", "USER\\.DEFAULT"]


def _ensure(store: Store, path: str, **attributes) -> Key:
    key = store.root
    for part in path.split("\\"):
        key = key.find_subkey(part) or store.create_subkey(key, part, **attributes)
    return key


def _encode(type_: int, text: str) -> bytes:
    return (text + "\0").encode("utf-16-le")


def build_default(store: Store) -> None:
    for path, values in SKELETON.items():
        key = _ensure(store, path)
        for name, (type_, text) in values.items():
            key.set_value(Value(name, type_, _encode(type_, text)))
    _ensure(store, "MACHINE\\HARDWARE\\DESCRIPTION\\System", volatile=True)
    select = _ensure(store, "MACHINE\\SYSTEM\\Select")
    for name in ("Current", "Default", "LastKnownGood"):
        select.set_value(Value(name, REG_DWORD, (1).to_bytes(4, "little")))
    system = _ensure(store, "MACHINE\\SYSTEM")
    link = store.create_subkey(system, "CurrentControlSet", volatile=True, is_link=True)
    link.set_value(Value(LINK_VALUE_NAME, REG_LINK, CONTROL_SET.encode("utf-16-le")))
    for path in HIVE_ROOTS:
        store.make_permanent(_ensure(store, path))
