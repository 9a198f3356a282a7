"""cmhook's test suite: a folder per package it tests (ntddk_py/, registry_core/, harness/), the
checks of the whole repository (packaging, style) at this level, the C fixtures in fixtures/, and
compiling.py, the one way the suite compiles C.

tests/ is a package so that tests/ntddk_py and tests/registry_core are ``tests.ntddk_py`` and
``tests.registry_core``, never the packages they test. tests/harness has no ``__init__.py``: pytest
imports its modules by their own names, with that folder on sys.path.
"""

import pytest

# The shared helpers assert; pytest explains their failures as it does a test's own asserts.
pytest.register_assert_rewrite("tests.compiling", "tests.registry_core.helpers")
