"""Fixtures for the callback tests: every test runs once with a Python filter and once with a C one."""

from __future__ import annotations

import pytest

from registry_core.callbacks import Trace
from registry_core.registry import Registry

from .filters import SOURCE, CFilter, PythonFilter, build


@pytest.fixture(scope="session")
def filter_library(tmp_path_factory):
    directory = tmp_path_factory.mktemp("filters")
    return build(SOURCE, directory), directory


@pytest.fixture(params=["python", "c"])
def make_filter(request, filter_library):
    """make_filter() -> a new recording filter of this test's kind (call it twice for two)."""
    made = []

    def make():
        flt = PythonFilter() if request.param == "python" else CFilter(*filter_library)
        made.append(flt)
        return flt

    yield make
    for flt in made:  # never leave a spinning callback behind
        flt.release()


@pytest.fixture
def reg():
    registry = Registry()
    registry.native.dispatcher.trace = Trace()
    return registry
