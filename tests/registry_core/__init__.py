"""Tests of registry_core: the native calls against docs/registry-facts.md, the store, the
operation table, and the callbacks (callbacks/)."""
