"""``ember.finfo`` / ``ember.iinfo`` equal ``torch.finfo`` / ``torch.iinfo``: attributes, values, reprs, errors."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_equals_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        got, want = getattr(e, attr), getattr(t, attr)
        assert got == want and type(got) is type(want), (attr, got, want)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_equals_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        got, want = getattr(e, attr), getattr(t, attr)
        assert got == want and type(got) is type(want), (attr, got, want)
    assert repr(e) == repr(t)


def test_defaults_python_types_and_equality():
    assert ember.finfo() == ember.finfo(ember.get_default_dtype())
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.finfo().eps == torch.finfo(torch.float64).eps
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.finfo(float).dtype == torch.finfo(float).dtype == "float64"
    assert ember.iinfo(int).max == torch.iinfo(int).max
    assert ember.finfo(ember.float32) == ember.finfo(ember.float32) != ember.finfo(ember.float64)
    x = ember.tensor([1.0])
    assert ember.finfo(x.dtype).eps == 2.0 ** -23


def test_errors_like_torch():
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="requires a floating point input type"):
            lib.finfo(lib.int32)
        with pytest.raises(TypeError, match="requires a floating point input type"):
            lib.finfo(lib.bool)
        with pytest.raises(TypeError, match="requires an integer input type"):
            lib.iinfo(lib.float32)
        with pytest.raises(TypeError, match="bool is not supported by"):
            lib.iinfo(lib.bool)
        with pytest.raises(TypeError, match="argument 'type'"):
            lib.finfo("float32")
        with pytest.raises(TypeError):
            lib.iinfo()
        with pytest.raises(AttributeError, match="not writable"):
            lib.finfo(lib.float32).eps = 1.0
