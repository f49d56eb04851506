"""``ember.ops._select.select``: np.where's result bit for bit (NaN payloads, signed zeros, infinities,
broadcasting, number operands, dtypes), as bit operations on float32/float64, np.where itself elsewhere."""
import numpy as np
import pytest
import torch

import ember
from ember.ops import _select as S


def _special(shape, dtype, seed=0):
    g = np.random.default_rng(seed)
    a = g.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, np.finfo(dtype).tiny / 4]
    flat[6] = np.frombuffer(np.array([0x7FC00123 if dtype == np.float32 else 0x7FF8000000000123],
                                     np.uint32 if dtype == np.float32 else np.uint64).tobytes(), dtype)[0]
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5000,), (70, 90), (3, 40, 50)])
def test_bitwise_np_where(dtype, shape, monkeypatch):
    monkeypatch.setattr(S, "MIN_SIZE", 1)
    a, b = _special(shape, dtype, 0), _special(shape, dtype, 1)
    cond = np.random.default_rng(2).random(shape) > 0.5
    zero, one_zero = np.zeros((), dtype), np.zeros(1, dtype)
    for x, y in [(a, b), (a, 1.5), (0.0, b), (a[..., :1], b), (np.float32(2.0), b),
                 (a, 0.0), (a, zero), (zero, b), (a, one_zero), (a, -0.0), (-0.0, b)]:     # +0: one AND
        want = np.where(cond, x, y)
        got = S.select(cond, x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_falls_back_to_np_where():
    c = np.array([True, False] * 3000)
    i = np.arange(6000)
    np.testing.assert_array_equal(S.select(c, i, -i), np.where(c, i, -i))              # integers
    np.testing.assert_array_equal(S.select(c[:10], 1.0, 2.0), np.where(c[:10], 1.0, 2.0))   # small
    h = np.ones(6000, np.float16)
    assert S.select(c, h, h * 2).dtype == np.float16


@pytest.mark.parametrize("name,kw", [("elu", {}), ("selu", {}), ("celu", {"alpha": 0.7}), ("gelu", {}),
                                     ("threshold", {"threshold": 0.1, "value": -2.0})])
def test_activations_taking_it_match_pytorch(name, kw):
    x = np.random.default_rng(3).standard_normal((128, 100)).astype(np.float32) * 3
    x.reshape(-1)[:4] = [np.nan, np.inf, -np.inf, -0.0]
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = getattr(ember.nn.functional, name)(xe, **kw), getattr(torch.nn.functional, name)(xt, **kw)
    fin = np.isfinite(x)    # (gelu(inf): a known difference, PyTorch's vectorized erf gives NaN there)
    np.testing.assert_allclose(ye.detach().numpy()[fin], yt.detach().numpy()[fin], rtol=2e-6, atol=1e-6)
    assert np.isnan(ye.detach().numpy()[0, 0])
    g = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    ge, gt = xe.grad.numpy(), xt.grad.numpy()      # (PyTorch's NaN gradients differ between its own paths)
    np.testing.assert_allclose(ge[fin], gt[fin], rtol=2e-5, atol=1e-6)


def test_gelu_accurate_where_one_plus_erf_cancels():
    """float32 GELU from erfc(-x / sqrt 2): accurate for very negative x, where 1 + erf(x / sqrt 2) loses its
    digits (PyTorch's own float32 gelu(-5) is 17% off there); equal to PyTorch's to float32 rounding
    elsewhere, gradients included."""
    import math
    x = np.linspace(-5.5, -3, 1001).astype(np.float32)
    exact = np.array([0.5 * float(v) * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    got = ember.nn.functional.gelu(ember.tensor(x)).numpy()
    np.testing.assert_allclose(got, exact, rtol=1e-5)
    y = np.linspace(-2.5, 6, 5001).astype(np.float32)
    ye, yt = ember.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    oe, ot = ember.nn.functional.gelu(ye), torch.nn.functional.gelu(yt)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=3e-6, atol=3e-7)
    oe.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(ye.grad.numpy(), yt.grad.numpy(), rtol=3e-6, atol=3e-7)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_ember_where_is_np_where_bit_for_bit(dtype):
    """``ember.where`` (and the backward passes built on it) selects by bits on large float arrays: the values
    are np.where's, NaN payloads and signed zeros included."""
    nd = np.float32 if dtype == ember.float32 else np.float64
    a, b = _special((80, 90), nd, 0), _special((80, 90), nd, 1)
    cond = np.random.default_rng(3).random((80, 90)) > 0.5
    c = ember.tensor(cond)
    for x, y in [(a, b), (a, 0.0), (0.0, b), (a, -0.0)]:
        tx = ember.tensor(x) if isinstance(x, np.ndarray) else x
        ty = ember.tensor(y) if isinstance(y, np.ndarray) else y
        got = ember.where(c, tx, ty).numpy()
        want = np.where(cond, x, y).astype(nd)
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
