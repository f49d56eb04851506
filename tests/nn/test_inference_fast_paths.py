"""The per-call shortcuts of batch-1 / inference calls give PyTorch's results: max pooling without arg-max under
no_grad, the cached argument checks of convolution and pooling (a bad call after good ones still raises),
F.linear's fast path, and backend.device.as_strided's direct view (with its as_strided fallback)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.backend.device import as_strided


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("args", [((2, 3, 9, 9), 2, 2, 0, 1, False), ((2, 3, 9, 9), 3, 2, 1, 1, True),
                                  ((1, 4, 8, 7), 2, 1, 1, 2, False), ((3, 5, 6), 2, 2, 0, 1, True),
                                  ((2, 2, 5, 5), 1, 1, 0, 1, False)])
def test_max_pool_without_grad_matches_torch(dtype, args):
    shape, k, s, p, d, ceil = args
    x = (np.random.default_rng(0).standard_normal(shape) * 5).astype(dtype)
    if dtype != np.int32:
        x.flat[3], x.flat[7] = np.nan, -np.inf
    with torch.no_grad():
        want = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, d, ceil).numpy()
    with ember.no_grad():
        got = F.max_pool2d(ember.tensor(x), k, s, p, d, ceil).numpy()
    assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)
    # with a gradient wanted the arg-max path runs: same values
    xe = ember.tensor(x.astype(np.float64), requires_grad=True)
    np.testing.assert_array_equal(F.max_pool2d(xe, k, s, p, d, ceil).detach().numpy(), want.astype(np.float64))


def test_max_pool_channels_last_without_grad_keeps_torch_strides():
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    tx = torch.tensor(x).contiguous(memory_format=torch.channels_last)
    ex = ember.tensor(x).contiguous(memory_format=ember.channels_last)
    with torch.no_grad():
        want = torch.nn.functional.max_pool2d(tx, 2)
    with ember.no_grad():
        got = F.max_pool2d(ex, 2)
    assert got.stride() == want.stride()
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_cached_conv_and_pool_checks_still_refuse_bad_calls():
    conv = ember.nn.Conv2d(3, 4, 3)
    good = ember.randn(2, 3, 8, 8)
    for _ in range(2):
        assert conv(good).shape == (2, 4, 6, 6)
        assert conv(ember.randn(3, 8, 8)).shape == (4, 6, 6)           # unbatched, cached as well
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 3, H, W\)"):
        conv(ember.randn(2, 2, 8, 8))
    with pytest.raises(RuntimeError, match="expected input.*to have 3 channels, but got 2"):
        F.conv2d(ember.randn(2, 2, 8, 8), conv.weight)
    with pytest.raises(RuntimeError, match="smaller than the dilated kernel size"):
        conv(ember.randn(2, 3, 2, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        conv(good.double())
    assert F.conv2d(good, ember.randn(4, 3, 3, 3), None, [1, 1], [1, 1]).shape == (2, 4, 8, 8)   # list args
    for _ in range(2):
        assert F.max_pool2d(good, 2).shape == (2, 3, 4, 4)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(good, 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.max_pool2d(ember.randn(2, 3, 1, 1), 2)


def test_linear_fast_path_matches_torch_and_checks():
    r = np.random.default_rng(2)
    x, w, b = (r.standard_normal(s).astype(np.float32) for s in ((5, 3), (4, 3), (4,)))
    want = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b)).numpy()
    # to float32 rounding: PyTorch's GEMM (MKL) and NumPy's (OpenBLAS) round K=3 products in different orders
    # on some CPUs (AMD Zen); they agree bitwise on others
    np.testing.assert_allclose(F.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b)).numpy(), want,
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(RuntimeError, match="to match weight of shape"):
        F.linear(ember.tensor(x), ember.tensor(w.T.copy()))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(ember.tensor(x), ember.tensor(w.astype(np.float64)))
    with pytest.raises(RuntimeError, match="bias broadcastable"):
        F.linear(ember.tensor(x), ember.tensor(w), ember.tensor(b[:3]))
    with pytest.raises(TypeError, match="must be an ember Tensor"):
        F.linear(x, ember.tensor(w))


def test_as_strided_direct_view_and_fallback():
    a = np.arange(10.0)
    v = as_strided(a, (3, 3), (8, 8), writeable=False)
    np.testing.assert_array_equal(v, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    assert not v.flags.writeable and np.shares_memory(v, a)
    np.testing.assert_array_equal(as_strided(a[2:], (3,), (-8,)), [2, 1, 0])   # outside the view: as_strided
    w = as_strided(a, (2,), (16,))
    w[1] = 99
    assert a[2] == 99
