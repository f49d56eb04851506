"""``ember.ops._log1p_exp.log1p_exp_neg``: log1p(exp(-t)) through ``log`` and the rounding error of 1 + u, and
the softplus ops that use it (with PyTorch's threshold selection left out where it changes no value)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops._log1p_exp import log1p_exp_neg
from ember.ops.activation import _SP_D_SAME_FROM, _SP_SAME_FROM


def _ulps(got, t):
    ref = np.log1p(np.exp(-t.astype(np.float64)))
    return np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(ref.astype(np.float32))).astype(np.float64)


def test_float32_within_a_few_ulp_of_the_exact_value():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.uniform(0, 1, 100_000), rng.uniform(0, 20, 100_000), rng.uniform(0, 110, 50_000),
                        rng.uniform(0, 1e-6, 5_000), np.linspace(0, 30, 100_001)]).astype(np.float32)
    got = log1p_exp_neg(t)
    assert got.dtype == np.float32 and got.shape == t.shape
    e = _ulps(got, t)
    # NumPy's own log1p(exp(-t)) is within 2.6 ulp here (exp's error enters both), this within 4.6
    assert e.max() <= 5.0 and e.mean() < 0.7
    plain = _ulps(np.log1p(np.exp(-t)), t)
    assert e.mean() < plain.mean() + 0.25


def test_special_values_and_shapes():
    t = np.array([[0.0, -0.0, np.inf, np.nan], [1e-30, 88.0, 104.0, 200.0]], np.float32)
    with np.errstate(all="raise"):              # underflow of exp(-t) is expected, and silent
        got = log1p_exp_neg(t)
    want = np.log1p(np.exp(-t.astype(np.float64))).astype(np.float32)
    np.testing.assert_array_equal(got[:, [0, 1, 2]], want[:, [0, 1, 2]])
    assert np.isnan(got[0, 3])
    np.testing.assert_allclose(got[1], want[1], rtol=3e-7, atol=0)
    assert got[1, 3] == 0.0 and got[0, 2] == 0.0
    # float64, 0-d arrays and views: NumPy's log1p(exp(-t)) itself
    d = np.linspace(0, 50, 101)
    np.testing.assert_array_equal(log1p_exp_neg(d), np.log1p(np.exp(-d)))
    z = np.array(0.5, np.float32)
    assert log1p_exp_neg(z) == np.log1p(np.exp(-z))
    v = np.linspace(0, 5, 40, dtype=np.float32).reshape(5, 8)[:, ::2]
    np.testing.assert_array_equal(log1p_exp_neg(v), log1p_exp_neg(np.ascontiguousarray(v)))


def _edge_values(dtype, around):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(5000) * 30, np.linspace(around - 3, around + 40, 20001),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, around, np.nextafter(around, 99, dtype=dtype)]])
    return x.astype(dtype)


@pytest.mark.parametrize("threshold", [16.0, 17.0, 20.0, 50.0])
def test_softplus_without_the_selection_gives_its_values(threshold):
    """Where the threshold is high enough the selection `x > threshold ? x : softplus` is left out: the values
    (forward and gradient) are the selected ones, bit for bit."""
    x = _edge_values(np.float32, threshold)
    xt = ember.tensor(x, requires_grad=True)
    y = F.softplus(xt, threshold=threshold)
    y.backward(ember.ones_like(y))
    sp = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))         # (the selection does not read these there)
    with np.errstate(over="ignore"):
        sig = 1.0 / (1.0 + np.exp(-x))
    big = x > threshold
    if threshold >= _SP_SAME_FROM[np.dtype(np.float32)]:
        assert np.array_equal(y.detach().numpy()[big], x[big])
    if threshold >= _SP_D_SAME_FROM[np.dtype(np.float32)]:
        assert np.all(xt.grad.numpy()[big] == 1.0)
    np.testing.assert_allclose(y.detach().numpy()[~big], sp[~big], rtol=5e-7, atol=0)
    np.testing.assert_allclose(xt.grad.numpy()[~big], sig[~big], rtol=2e-7, atol=0)


@pytest.mark.parametrize("threshold", [1.0, 5.0, 15.5])
def test_softplus_low_thresholds_still_select(threshold):
    x = _edge_values(np.float32, threshold)
    xt = ember.tensor(x, requires_grad=True)
    y = F.softplus(xt, threshold=threshold)
    y.backward(ember.ones_like(y))
    big = x > threshold
    np.testing.assert_array_equal(y.detach().numpy()[big], x[big])
    np.testing.assert_array_equal(xt.grad.numpy()[big], 1.0)


def test_softplus_family_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(4000) * 8, np.linspace(-120, 120, 4001)]).astype(np.float32)
    y = (rng.random(x.size) > 0.5).astype(np.float32)
    # (forward: softplus and log-sigmoid within 4e-7 relative; BCE's (1 - y) x + softplus(-x) sums in another
    # order than PyTorch's.  Gradients (derivatives of size ~1): ember's sigmoid flushes to 0 where PyTorch's
    # gives a subnormal, and Mish's derivative cancels differently near its zero at x = -1.19)
    cases = [
        (lambda m, a: m.nn.functional.softplus(a), 1e-6),
        (lambda m, a: m.nn.functional.softplus(a, beta=2.0, threshold=10.0), 1e-6),
        (lambda m, a: m.nn.functional.logsigmoid(a), 1e-6),
        (lambda m, a: m.nn.functional.mish(a), 3e-6),
        (lambda m, a: m.nn.functional.binary_cross_entropy_with_logits(a, m.tensor(y), reduction="none"), 1e-5),
    ]
    for f, rtol in cases:
        a = ember.tensor(x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        ya, yb = f(ember, a), f(torch, b)
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=rtol, atol=1e-37)
        ya.sum().backward()
        yb.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=5e-5, atol=1e-7)
