"""The blocked stride-1 kernels' shortcuts (ember.ops._conv_blocked): the bias added and summed by the GEMMs
(a row of ones in the columns), the input gradient's zero-margined grid and the weight gradient in separate
passes; an inf in the input at a pixel that some kernel taps never read (whose padded-row neighbours the grid
trick touches) must leave PyTorch's finite weight-gradient entries finite."""
import numpy as np
import pytest

import ember
from ember.ops import _conv_blocked as B, conv as C

torch = pytest.importorskip("torch")


def _both(x, w, b, **kw):
    """(y, grad x, grad w[, grad b]) of both libraries, from a fixed random output gradient."""
    res = []
    g = None
    for lib in (ember, torch):
        xs = lib.tensor(x, requires_grad=True)
        ws = lib.tensor(w, requires_grad=True)
        bs = None if b is None else lib.tensor(b, requires_grad=True)
        y = lib.nn.functional.conv2d(xs, ws, bs, **kw)
        g = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(x.dtype) if g is None else g
        y.backward(lib.tensor(g))
        res.append([t.detach().numpy() for t in (y, xs.grad, ws.grad) + (() if b is None else (bs.grad,))])
    return res


@pytest.fixture
def one_thread(monkeypatch):
    monkeypatch.setattr(C, "_blas_single_threaded", lambda: True)
    calls = []
    real = B.backward
    monkeypatch.setattr(B, "backward", lambda *a: calls.append(a[5:]) or real(*a))
    return calls


@pytest.mark.parametrize("where", [(0, 1, 5, 13), (1, 0, 13, 12), (0, 0, 6, 0)])
def test_inf_read_only_between_output_rows_keeps_torchs_finite_weight_grad(one_thread, where):
    """14x14 input, 3x3 kernel, no padding: an inf in the last or first column of a row is read by some
    taps only; torch gives an inf/NaN only in those taps' weight gradient, and so must ember."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 14, 14))
    x[where] = np.inf
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    (ey, egx, egw, egb), (ty, tgx, tgw, tgb) = _both(x, w, b)
    assert one_thread and one_thread[0][:2] == (True, True)        # the blocked backward, both gradients
    assert np.isfinite(tgw).any() and not np.isfinite(tgw).all()
    for a, t in ((ey, ty), (egx, tgx), (egw, tgw), (egb, tgb)):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_through_the_gemms_matches_torch(one_thread, dtype):
    """Padding, dilation, several blocks of images and a last partial block; the bias's gradient from the
    weight-gradient GEMM (and from a plain sum when only the bias and input need one)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5, 30, 30)).astype(dtype)
    w, b = rng.standard_normal((6, 5, 3, 3)).astype(dtype), rng.standard_normal(6).astype(dtype)
    geo = B._Geometry(x.shape, w.shape, ((1, 1), (2, 2)), (1, 2), x.itemsize)
    assert 1 < geo.nb < x.shape[0] and x.shape[0] % geo.nb
    tol = 2e-4 if dtype == np.float32 else 1e-9
    for a, t in zip(*_both(x, w, b, padding=(1, 2), dilation=(1, 2))):
        np.testing.assert_allclose(a, t, rtol=tol, atol=tol)
    res = []
    for lib in (ember, torch):
        xs, bs = lib.tensor(x, requires_grad=True), lib.tensor(b, requires_grad=True)
        lib.nn.functional.conv2d(xs, lib.tensor(w), bs, padding=1).sum().backward()
        res.append((xs.grad.numpy(), bs.grad.numpy()))
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=tol, atol=tol)
