"""Fixtures shared by the registry conformance tests."""

from __future__ import annotations

import pytest

from ntddk_py import STATUS_SUCCESS
from registry_core.registry import Registry

from .helpers import TEST_KEY


@pytest.fixture
def registry() -> Registry:
    """A fresh default registry (the embedded one): the registry every test here works on."""
    return Registry()


@pytest.fixture
def test_key(registry):
    """A KEY_ALL_ACCESS handle to \\REGISTRY\\MACHINE\\SOFTWARE\\Test, a fresh key to work under."""
    status, handle, _ = registry.create_key(TEST_KEY)
    assert status == STATUS_SUCCESS
    return handle
