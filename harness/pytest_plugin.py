"""The cmhook pytest plugin (entry point ``pytest11``): fixtures for testing filters.

- ``kernel``: a fresh Kernel with the embedded default registry, tracing on; at teardown every
  driver still loaded is unloaded and the verifier's findings fail the test. A test that means
  to provoke findings inspects ``kernel.findings`` and clears it.
- ``build_filter``: ``build_filter(source_or_path, cc="gcc", extra=None)`` -> a built module,
  cached by content.
- ``trace``: a ``TraceView`` of the kernel's notification trace, with assertion helpers.
"""

from __future__ import annotations

import pytest

from .build import build_filter as _build_filter
from .kernel import Kernel
from .testing import TraceView


@pytest.fixture
def kernel():
    machine = Kernel()
    try:
        yield machine
    finally:
        machine.close()
    machine.verify()


@pytest.fixture
def build_filter():
    return _build_filter


@pytest.fixture
def trace(kernel) -> TraceView:
    return TraceView(kernel.native.dispatcher.trace)
