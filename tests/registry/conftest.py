"""Fixtures shared by the registry conformance tests."""

from __future__ import annotations

import pytest

from ntddk_py import STATUS_SUCCESS
from registry_core.registry import Registry

TEST_KEY = "\\REGISTRY\\MACHINE\\SOFTWARE\\Test"


@pytest.fixture
def reg() -> Registry:
    """A fresh default registry (a module may override it, e.g. to pin the clock)."""
    return Registry()


@pytest.fixture
def test_key(reg):
    """A KEY_ALL_ACCESS handle to \\REGISTRY\\MACHINE\\SOFTWARE\\Test, a fresh key to work under."""
    status, handle, _ = reg.create_key(TEST_KEY)
    assert status == STATUS_SUCCESS
    return handle
