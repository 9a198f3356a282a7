"""The harness's own registry writes: done on the store, reaching no callback and no trace.

When Windows loads a driver, its Services key already exists: the installer (or the service
control manager's CreateService) wrote it long before, usually at an earlier boot, and the I/O
manager only reads it. The harness has to write that key at load time, but no filter could have
seen that write on Windows, so cmhook's decision is that it is not a registry *call* at all: the
key and its values are put straight into the store, under the registry lock, with no native API
call, so no callback (of a driver already loaded) and no trace record sees it. Links on the way
(``CurrentControlSet``) are followed as the namespace follows them, so the key lands in
``ControlSet001`` as a call through the link would have put it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ntddk_py import OBJ_CASE_INSENSITIVE
from registry_core.native import NativeApi
from registry_core.store import Key, Value


def ensure_key(native: NativeApi, path: str) -> Key:
    """The key at an absolute ``\\REGISTRY\\...`` path, made with its missing parents, links followed.

    The caller holds ``native.lock``."""
    namespace, store = native.namespace, native.store
    key, parts = namespace.split_name(None, path, OBJ_CASE_INSENSITIVE)
    for part in parts:
        parent, last, found = namespace.walk(key, [part], open_link=False, create=True)
        if found is None:
            assert parent is not None and last is not None  # create=True: only the last part may be missing
            found = store.create_subkey(parent, last)
        key = found
    return key


def put_values(native: NativeApi, path: str, values: Iterable[tuple[str, int, bytes]]) -> None:
    """Make the key at path (and its parents) and set each (name, type, data) on it, bypassing the
    native API: nothing is notified and nothing traced (the module docstring says why)."""
    with native.lock:
        key = ensure_key(native, path)
        for name, type_, data in values:
            if key.set_value(Value(name, type_, data)):
                native.store.touch(key)
