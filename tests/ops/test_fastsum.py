"""Sums over leading dims as GEMV and over trailing dims as einsum (``ember.ops._fastsum``): the values of
NumPy's sum to rounding, NaN/inf propagated, and taken only where the reduced and kept dims are blocks."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.ops import _fastsum as FS


def _data(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axes", [
    ((7, 5), (0,)), ((7, 5), (1,)), ((4, 3, 6), (0, 1)), ((4, 3, 6), (1, 2)), ((4, 3, 6), (0,)),
    ((4, 3, 6), (2,)), ((2, 3, 4, 5), (0, 1, 2)), ((300, 17), (0,)), ((17, 300), (1,)), ((1, 9), (0,)),
    ((9, 1), (1,)), ((0, 4), (1,)), ((4, 0), (0,)),
])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("mean", [False, True])
def test_sum_axes_values(dtype, shape, axes, keepdims, mean):
    a = _data(shape, dtype)
    got = FS.sum_axes(a, axes, keepdims, mean)
    m = int(np.prod([shape[d] for d in axes]))
    if m == 0:
        assert got is None
        return
    want = (a.mean if mean else a.sum)(axes, keepdims=keepdims)
    assert got.shape == want.shape and got.dtype == want.dtype
    exact = a.astype(np.float64).sum(axes, keepdims=keepdims) / (m if mean else 1)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol * np.sqrt(m))


@pytest.mark.parametrize("a,axes", [
    (np.ones((4, 3, 6), np.float32), (0, 2)),                    # not a block
    (np.ones((4, 3), np.float32), (0, 1)),                       # everything: NumPy's pairwise sum
    (np.ones((4, 3), np.float32).T, (0,)),                       # not C-contiguous
    (np.ones((4, 3), np.float16), (0,)),                         # not float32/64
    (np.ones((4, 3), np.int64), (1,)),
    (np.ones((2, FS.MAX_ROW + 1), np.float32), (1,)),            # a row too long for a blocked sum
    (np.ones(5, np.float32), (0,)),
])
def test_sum_axes_declines(a, axes):
    assert FS.sum_axes(a, axes) is None


def test_long_columns_are_taken():
    a = np.ones((FS.MAX_ROW * 4, 3), np.float32)
    np.testing.assert_array_equal(FS.sum_axes(a, (0,)), np.full(3, FS.MAX_ROW * 4, np.float32))


def test_nan_and_inf_propagate():
    a = np.zeros((6, 4), np.float32)
    a[1, 0], a[2, 1], a[3, 1], a[4, 2] = np.nan, np.inf, -np.inf, np.inf
    col = FS.col_sums(a)
    row = FS.sum_axes(a, (1,))
    np.testing.assert_array_equal(col, a.sum(0))
    np.testing.assert_array_equal(row, a.sum(1))


def test_col_sums_of_strided_rows_and_fallback():
    a = _data((10, 8), np.float32)[::2, 1:6]                      # row stride != row length
    np.testing.assert_allclose(FS.col_sums(a), a.sum(0), rtol=1e-6, atol=1e-6)
    i = np.arange(12).reshape(4, 3)
    np.testing.assert_array_equal(FS.col_sums(i), i.sum(0))


def test_fsum_takes_ints_and_negative_axes():
    a = _data((3, 4, 5), np.float32)
    np.testing.assert_allclose(FS.fsum(a, -1, True), a.sum(-1, keepdims=True), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(FS.fsum(a, (0, -2)), a.sum((0, 1)), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(FS.fsum(a, (0, 2), mean=True), a.mean((0, 2)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dim,keepdim", [(0, False), (-1, True), ((0, 1), False), ((1, 2), True), (1, False)])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reductions_against_pytorch(dim, keepdim, op):
    a = _data((6, 5, 33), np.float32)
    x = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    ye, yt = getattr(x, op)(dim, keepdim=keepdim), getattr(t, op)(dim, keepdim=keepdim)
    assert tuple(ye.shape) == tuple(yt.shape) and ye.is_contiguous()
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_linear_and_layer_norm_gradients_against_pytorch():
    g = np.random.default_rng(3)
    x = g.standard_normal((4, 9, 16)).astype(np.float32)
    ln_e, ln_t = ember.nn.LayerNorm(16), torch.nn.LayerNorm(16)
    lin_e, lin_t = ember.nn.Linear(16, 7), torch.nn.Linear(16, 7)
    with torch.no_grad():
        lin_t.weight.copy_(torch.tensor(lin_e.weight.detach().numpy()))
        lin_t.bias.copy_(torch.tensor(lin_e.bias.detach().numpy()))
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = lin_e(ln_e(xe)), lin_t(ln_t(xt))
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    w = g.standard_normal(ye.shape).astype(np.float32)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for a, b in [(xe.grad, xt.grad), (ln_e.weight.grad, ln_t.weight.grad), (ln_e.bias.grad, ln_t.bias.grad),
                 (lin_e.weight.grad, lin_t.weight.grad), (lin_e.bias.grad, lin_t.bias.grad)]:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,one", [((2048, 256), True),       # OpenBLAS would split it, and lose
                                       ((128, 512), False),       # it keeps this on one thread by itself
                                       ((4096, 1000), False)])    # big enough for both threads
def test_column_sums_of_mid_sized_matrices_run_on_one_blas_thread(monkeypatch, shape, one):
    from ember.ops import _parallel
    if not _parallel._controllers():
        pytest.skip("threadpoolctl or a known BLAS is missing: ember cannot change BLAS's threads")
    from threadpoolctl import threadpool_limits
    seen = []
    real = np.matmul

    def spy(x, y, out=None):
        seen.append(_parallel.blas_threads())
        return real(x, y, out=out)
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with threadpool_limits(1, user_api="blas"):
        want = np.ones(shape[0], np.float32) @ a
    monkeypatch.setattr(FS.np, "matmul", spy)
    with threadpool_limits(2, user_api="blas"):
        if _parallel.blas_threads() != 2:
            pytest.skip("BLAS would not take 2 threads here")
        got = FS.col_sums(a)
        assert seen == ([1] if one else [])
        assert _parallel.blas_threads() == 2
    if one:
        np.testing.assert_array_equal(got, want)        # the one-thread sums, whatever BLAS's thread count
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("n", [FS.TOTAL_FROM, FS.TOTAL_FROM + 1, 5 * FS.TOTAL_ROW * 64 + 511, 1 << 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_total_is_as_accurate_as_numpys_sum(n, dtype):
    """Whole-array sums (``total``: einsum rows, then a pairwise sum): within NumPy's own error of the exact
    sum, a tail shorter than a row included; ember's sum and mean take it."""
    rng = np.random.default_rng(n)
    a = (rng.random(n) + 0.5).astype(dtype)
    exact = a.astype(np.float64).sum() if dtype == np.float32 else math.fsum(a.tolist())
    got = FS.total(a)
    assert type(got) is type(a.sum())
    eps = np.finfo(dtype).eps
    assert abs(float(got) - exact) <= 4 * eps * exact + abs(float(a.sum()) - exact)
    t = ember.tensor(a.reshape(-1, 1) if n % 2 else a)
    assert t.sum().item() == float(got) and t.mean().item() == float(np.asarray(got / n, dtype))


def test_total_declines_and_special_values():
    assert FS.total(np.ones(FS.TOTAL_FROM - 1, np.float32)) is None
    assert FS.total(np.ones((FS.TOTAL_FROM, 2), np.float32)[:, 0]) is None        # not contiguous
    assert FS.total(np.ones(FS.TOTAL_FROM, np.int64)) is None
    a = np.ones(FS.TOTAL_FROM + 3, np.float32)
    a[-1] = np.inf
    assert FS.total(a) == np.inf
    a[0] = -np.inf
    assert np.isnan(FS.total(a))
    assert FS.total(-np.zeros(FS.TOTAL_FROM, np.float32)) == 0.0


@pytest.mark.parametrize("shape", [(32, 64, 8, 8), (64, 16, 24, 24), (4, 3, 1024), (2, 3, 4, 5, 100)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("mean", [False, True])
def test_per_channel_sums(shape, keepdims, mean):
    """Sums over every axis but 1 (``_channel_sums``: einsum rows, then GEMV down the batch): NumPy's values to
    rounding, its shapes; ember's sum and mean over (0, 2, ...) take it."""
    a = np.random.default_rng(7).standard_normal(shape).astype(np.float32)
    axes = (0,) + tuple(range(2, a.ndim))
    got = FS.sum_axes(a, axes, keepdims, mean)
    want = (a.astype(np.float64).mean if mean else a.astype(np.float64).sum)(axes, keepdims=keepdims)
    assert got is not None and got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6 * np.abs(a).sum(axes).max() / (1 if not mean else a.size))
    e = (ember.tensor(a).mean if mean else ember.tensor(a).sum)(axes, keepdim=keepdims)
    np.testing.assert_array_equal(e.numpy(), got)


def test_per_channel_sums_decline_small_and_long_rows():
    assert FS.sum_axes(np.ones((2, 3, 4), np.float32), (0, 2)) is None
    assert FS.sum_axes(np.ones((2, 3, FS.MAX_ROW + 1), np.float32), (0, 2)) is None
