"""Tests of ntddk_py: the header, the generated bindings, and ABI conformance (abi/)."""
