"""dtypes: defaults, names, promotion (result_type/promote_types) against PyTorch, and set_default_dtype."""
import numpy as np
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_defaults_and_aliases():
    assert ember.get_default_dtype() == ember.float32
    assert ember.tensor([1.0]).dtype == ember.float32 and ember.tensor([1]).dtype == ember.int64
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.long is ember.int64
    assert ember.int is ember.int32 and ember.half is ember.float16


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES)
def test_promote_types_matches_torch(a, b):
    e = ember.promote_types(getattr(ember, a), getattr(ember, b))
    t = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert str(e).replace("ember.", "") == str(t).replace("torch.", "")


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES + ["py_int", "py_float", "py_bool"])
@pytest.mark.parametrize("a0d", [False, True])
def test_binary_result_dtype_matches_torch(a, b, a0d):
    """tensor (dimensioned or 0-d) op tensor/0-d/Python scalar -> torch's result dtype, via add."""
    def make(m, name, zero_d):
        if name == "py_int":
            return 2
        if name == "py_float":
            return 2.5
        if name == "py_bool":
            return True
        val = 1 if name != "bool" else True
        return m.tensor(val if zero_d else [val, val], dtype=getattr(m, name))
    ea, ta = make(ember, a, a0d), make(torch, a, a0d)
    eb, tb = make(ember, b, True), make(torch, b, True)
    for f in (lambda x, y: x + y if not (isinstance(y, bool) or (hasattr(y, "dtype") and str(y.dtype).endswith("bool"))) or True else x,
              lambda x, y: x * y):
        e, t = f(ea, eb), f(ta, tb)
        assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", ""), (a, b, a0d, e.dtype, t.dtype)


def test_specific_promotions_from_issue():
    f32 = ember.ones(2)
    assert (f32 * 2.5).dtype == ember.float32
    assert (ember.ones(2, dtype=ember.int64) + 1.5).dtype == ember.float32
    assert (ember.tensor([1, 2]) / ember.tensor([2, 2])).dtype == ember.float32
    assert (ember.tensor([1, 2]) / ember.tensor([2, 2])).tolist() == [0.5, 1.0]
    assert (f32 + ember.tensor(1.0, dtype=ember.float64)).dtype == ember.float32
    assert (ember.tensor([1, 2]) + f32).dtype == ember.float32
    assert (f32 < 1).dtype == ember.bool and (ember.tensor([1]) == ember.tensor([1.0])).dtype == ember.bool
    assert (ember.tensor([1, 2]) // 2).dtype == ember.int64 and (ember.tensor([3]) % 2).dtype == ember.int64
    assert (ember.tensor([1, 2]) * True).dtype == ember.int64


def test_set_default_dtype():
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor([1.0]).dtype == ember.float64 and ember.zeros(2).dtype == ember.float64
        assert ember.rand(2).dtype == ember.float64 and (ember.tensor([1, 2]) / 2).dtype == ember.float64
        assert ember.arange(0.0, 1.0, 0.5).dtype == ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="floating"):
        ember.set_default_dtype(ember.int64)


def test_unary_int_inputs_promote_to_float():
    for name in ("exp", "sqrt", "sin", "sigmoid", "tanh", "log1p"):
        e = getattr(ember, name)(ember.tensor([1, 2]))
        t = getattr(torch, name)(torch.tensor([1, 2]))
        assert _same(e, t), name
    for name in ("abs", "neg", "relu", "sign", "floor", "round", "clamp"):
        args = (0, 1) if name == "clamp" else ()
        e = getattr(ember, name)(ember.tensor([-1, 2]), *args)
        t = getattr(torch, name)(torch.tensor([-1, 2]), *args)
        assert _same(e, t), name
        assert e.tolist() == t.tolist(), name


def _same(e, t):
    return str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")


def test_numpy_scalars_act_as_python_numbers():
    for s in (np.float64(2.0), np.float32(2.0), np.int64(3), np.int32(3)):
        for base in ("float32", "int32", "int64", "float16"):
            e = ember.ones(2, dtype=getattr(ember, base)) * s
            t = torch.ones(2, dtype=getattr(torch, base)) * s
            assert _same(e, t), (s, base, e.dtype, t.dtype)
            e2 = s + ember.ones(2, dtype=getattr(ember, base))
            assert isinstance(e2, ember.Tensor) and e2.dtype == e.dtype
