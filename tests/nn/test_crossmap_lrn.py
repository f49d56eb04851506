"""nn.CrossMapLRN2d (PyTorch's legacy cross-channel LRN) against PyTorch: forward and PyTorch's own backward
formula (not the exact derivative of its forward, so no finite-difference check of it), float64 and float32,
every window size against channel counts below and above it, the legacy window rule that keeps channel 0,
errors and the repr."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from tests.helpers import compare


def _layer(m, *a, **kw):
    return (nn if m is ember else torch.nn).CrossMapLRN2d(*a, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [2, 3, 4, 5, 6, 9])
def test_against_torch(size, dtype):
    tol = dict(atol=1e-10, rtol=1e-9) if dtype == np.float64 else dict(atol=2e-6, rtol=1e-5)
    for c in (1, 3, 7, 12):
        compare(lambda m, x: _layer(m, size, alpha=0.3, beta=0.75, k=1.5)(x * 2), [(2, c, 3, 4)], dtype=dtype,
                seed=size * 100 + c, **tol)
    compare(lambda m, x: _layer(m, size)(x), [(2, 5, 3, 3)], dtype=dtype, **tol)          # defaults
    compare(lambda m, x: _layer(m, size, 1e-2, 0.5, 2)(x), [(1, 32, 2, 2)], dtype=dtype, **tol)


def test_size_one_forward_and_backward_failure():
    compare(lambda m, x: _layer(m, 1, alpha=0.5)(x), [(2, 6, 3, 3)], grad=False)
    x = ember.randn(2, 6, 3, 3, requires_grad=True)
    y = nn.CrossMapLRN2d(1)(x)
    with pytest.raises(RuntimeError, match=r"CrossMapLRN2d: backward is undefined for size=1"):
        y.sum().backward()


def test_legacy_window_keeps_channel_zero():
    # size 3 (P = 2): channel c sums x**2 over c-1..c+1, plus channel 0 once c >= 2 (PyTorch's loop never
    # subtracts it); with only channel 0 non-zero, every channel's scale sees it
    x = np.zeros((1, 6, 1, 1))
    x[0, 0] = 2.0
    x[0, 1:] = 1.0
    e = nn.CrossMapLRN2d(3, alpha=3.0, beta=1.0, k=1.0)(ember.tensor(x)).numpy().ravel()
    t = torch.nn.CrossMapLRN2d(3, alpha=3.0, beta=1.0, k=1.0)(torch.tensor(x)).numpy().ravel()
    sq = x.ravel() ** 2
    scale = np.array([sq[0] + sq[1], sq[0] + sq[1] + sq[2], sq[0] + sq[1] + sq[2] + sq[3],
                      sq[0] + sq[2] + sq[3] + sq[4], sq[0] + sq[3] + sq[4] + sq[5], sq[0] + sq[4] + sq[5]])
    np.testing.assert_allclose(t, x.ravel() / (1 + scale), rtol=1e-12)
    np.testing.assert_allclose(e, t, rtol=1e-12)


def test_empty_batch_and_module():
    compare(lambda m, x: _layer(m, 3)(x), [(0, 3, 4, 5)])
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3)) \
        == "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"
    assert list(nn.CrossMapLRN2d(3).state_dict()) == []
    assert nn.modules.normalization.CrossMapLRN2d is nn.CrossMapLRN2d


def test_errors():
    with pytest.raises(ValueError, match=r"CrossMapLRN2d: Expected input to be 4D, got 3D instead"):
        nn.CrossMapLRN2d(3)(ember.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"CrossMapLRN2d: expected a floating point input, got ember.int64"):
        nn.CrossMapLRN2d(3)(ember.ones(2, 3, 4, 5, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"CrossMapLRN2d: size must be a positive int, got 0"):
        nn.CrossMapLRN2d(0)(ember.randn(2, 3, 4, 5))
    x = ember.randn(1, 3, 2, 2, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"CrossMapLRN2d.*once-differentiable"):   # PyTorch's neither
        ember.autograd.grad(nn.CrossMapLRN2d(3)(x).sum(), x, create_graph=True)


def test_device_path():
    """The device path on the NumPy-backed CUDA stand-in (tests/devices/fake_cupy), bit-equal to the CPU."""
    from ember.backend import device as _dev
    from tests.devices import fake_cupy
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 3))
    res = {}
    _dev.register_cuda_module(fake_cupy.module)
    try:
        for dev in ("cpu", "cuda"):
            xt = ember.tensor(x).to(dev).requires_grad_()
            y = nn.CrossMapLRN2d(3, alpha=0.1)(xt)
            y.pow(2).sum().backward()
            assert y.device.type == xt.grad.device.type == dev
            res[dev] = [y.detach().cpu().numpy(), xt.grad.cpu().numpy()]
    finally:
        _dev.register_cuda_module(None)
        _dev._tried = False
    for a, b in zip(res["cpu"], res["cuda"]):
        np.testing.assert_array_equal(a, b)
