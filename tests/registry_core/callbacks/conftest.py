"""Fixtures for the callback tests: every test runs with a Python filter, with a C one walked
by the dispatcher in Python, and with a C one walked by the kernel shim's CmhookWalkCallbacks
(the walk a Kernel uses when only C callbacks are registered)."""

from __future__ import annotations

import pytest

from registry_core.callbacks import Trace
from registry_core.registry import Registry

from ...compiling import build_module
from .filters import SOURCE, CFilter, PythonFilter


@pytest.fixture(scope="session")
def filter_library(tmp_path_factory):
    """(the recorder filter's module, a folder for the private copy each CFilter loads)."""
    return build_module(SOURCE), tmp_path_factory.mktemp("filters")


@pytest.fixture(scope="session")
def native_walker():
    from harness import shim

    return shim.load_callback_walker()


@pytest.fixture(params=["python", "c", "c-walked-in-c"])
def make_filter(request, filter_library, traced_registry, native_walker):
    """make_filter() -> a new recording filter of this test's kind (call it twice for two)."""
    made = []
    if request.param == "c-walked-in-c":
        traced_registry.native.callbacks.native_walker = native_walker

    def make():
        flt = PythonFilter() if request.param == "python" else CFilter(*filter_library)
        made.append(flt)
        return flt

    yield make
    for flt in made:  # never leave a spinning callback behind
        flt.release()


@pytest.fixture
def traced_registry() -> Registry:
    """A fresh default registry with a Trace on its dispatcher: every operation is recorded."""
    registry = Registry()
    registry.native.dispatcher.trace = Trace()
    return registry
