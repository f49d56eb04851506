"""Operators and methods a PyTorch program uses that ember lacked (found by the compat corpus, helper
judge-corpus): ``<<``/``>>`` and their in-place forms, in-place ``^=``/``%=``/``//=`` that keep aliases in
step, ``element in x``, Tensor methods whose function is at ember's top level, and the dtype in a tensor's
repr while the compat hook is installed."""
import numpy as np
import pytest
import torch

import ember
from ember.tensor import Size


def _both(fn):
    e, t = fn(ember), fn(torch)
    assert np.asarray(e.tolist() if hasattr(e, "tolist") else e).tolist() == \
        np.asarray(t.tolist() if hasattr(t, "tolist") else t).tolist(), (e, t)
    return e, t


def test_shift_operators_as_torch():
    _both(lambda m: m.tensor([1, -8, 3]) << 2)
    _both(lambda m: m.tensor([1, -8, 3]) >> 1)
    _both(lambda m: 3 << m.tensor([1, 2]))
    _both(lambda m: 64 >> m.tensor([1, 2]))
    _both(lambda m: m.tensor([1, 2], dtype=m.uint8) << 7)
    _both(lambda m: m.tensor([1, -8, 3]).bitwise_left_shift(m.tensor([1, 0, 2])))
    e, t = _both(lambda m: m.tensor([1, 2], dtype=m.int32) << m.tensor([3, 1], dtype=m.int32))
    assert e.dtype == ember.int32


@pytest.mark.parametrize("op", ["^=", "%=", "//=", "<<=", ">>=", "&=", "|="])
def test_inplace_operators_update_aliases_as_torch(op):
    def run(m):
        a = m.tensor([7, 9, -5])
        b = a
        exec(f"b {op} m.tensor([3, 2, 1])", {"b": b, "m": m})
        return a
    e, _ = _both(run)


def test_contains_as_torch():
    for m in (ember, torch):
        t = m.tensor([[1, 2], [3, 4]])
        assert (3 in t, 5 in t, m.tensor([2]) in t, 2.0 in t.float()) == (True, False, True, True)
    with pytest.raises(RuntimeError, match="Tensor or scalar"):
        [1] in ember.tensor([1])


def test_toplevel_function_methods_as_torch():
    _both(lambda m: m.tensor([-1.5, 0.0, 2.0]).heaviside(m.tensor([0.5])))
    _both(lambda m: m.tensor([-1.5, 0.0, 2.0]).signbit())
    _both(lambda m: m.tensor([-1.5, 0.0, 2.0]).hardshrink(1.0))
    _both(lambda m: m.tensor([0.0, 1.0, 0.0]).multinomial(2, replacement=True))
    _both(lambda m: m.tensor([0.0, 1.0]).bernoulli())
    assert ember.tensor([1]).is_nonzero() and ember.tensor([1.0]).is_signed() and not ember.ones(1).is_complex()


def test_repr_names_the_dtype_with_the_hooks_prefix():
    assert repr(ember.tensor([1, 2], dtype=ember.uint8)) == "tensor([1, 2], dtype=ember.uint8)"
    old = Size._prefix
    Size._prefix = "torch"          # what ember.compat.install() sets
    try:
        assert repr(ember.tensor([1, 2], dtype=ember.uint8)) == repr(torch.tensor([1, 2], dtype=torch.uint8))
    finally:
        Size._prefix = old
