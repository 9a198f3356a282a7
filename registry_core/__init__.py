"""The registry engine: keys, values, handles, key objects, the native API and callbacks.

It knows nothing about shared objects or the C side beyond ntddk_py's types.
(The engine arrives with the registry-engine issue; this package is its home.)
"""
