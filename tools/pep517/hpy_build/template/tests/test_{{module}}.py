"""Tests of {{module}}: `pip install -e .` builds and installs it, then run `pytest`."""
import sys

import pytest

import {{module}}

# The universal build loads {{module}}.hpy0.so through the hpy runtime; the native build is an
# ordinary extension module.
UNIVERSAL = {{module}}.__spec__.origin.endswith((".hpy0.so", ".hpy0.pyd"))

# hpy 0.9.0's runtime crashes when an HPy class is instantiated on CPython 3.13+ (an upstream bug,
# hpy PR #490/#494); the native build (abi = "native" in pyproject.toml) has no HPy runtime.
classes_crash = pytest.mark.skipif(
    UNIVERSAL and sys.implementation.name == "cpython" and sys.version_info >= (3, 13),
    reason="hpy 0.9.0's runtime crashes instantiating HPy classes on CPython 3.13+",
)


def test_hello():
    assert {{module}}.hello("world") == "Hello, world!"
    assert {{module}}.hello("world", punctuation="?") == "Hello, world?"


def test_hello_errors():
    with pytest.raises(ValueError, match="needs a name"):
        {{module}}.hello("")
    with pytest.raises(TypeError):
        {{module}}.hello(42)


@classes_crash
def test_counter():
    counter = {{module}}.Counter()
    assert counter.count == 0
    assert counter.increment() == 1
    assert counter.increment(step=41) == 42
    assert repr(counter) == "Counter(42)"
    with pytest.raises(OverflowError):
        {{module}}.Counter(2**63 - 1).increment()
