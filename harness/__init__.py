"""The harness: kernel shim, module loader, command line and pytest plugin.

It knows nothing about registry semantics (that is ``registry_core``) and
restates nothing the header defines (that is ``ntddk_py``).
"""

# The one place the release number is written: pyproject.toml reads it (dynamic version).
__version__ = "0.1.0"
