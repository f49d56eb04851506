"""Fractional max pooling (F.fractional_max_pool2d/3d, their _with_indices forms, nn.FractionalMaxPool2d/3d)
against PyTorch with the same ``_random_samples``: values, indices, gradients (float64 and float32), the
float32 rounding of the window starts, ties and NaN, output_ratio, unbatched input, errors, gradcheck."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import assert_close, compare, gradcheck
from tests.nn._layer_check import check_layer


def _lib(m):
    return F if m is ember else torch.nn.functional


def _samples(n, c, nd, dtype, seed=1):
    return np.random.default_rng(seed).random((n, c, nd)).astype(dtype)


CASES_2D = [((2, 3, 9, 11), 2, (4, 5)), ((2, 3, 9, 11), (3, 2), (5, 7)), ((3, 10, 10), 3, (4, 4)),
            ((2, 2, 25, 31), 3, (11, 13)), ((1, 2, 6, 7), 1, (6, 7)), ((2, 1, 8, 8), 2, (1, 1)),
            ((1, 1, 5, 9), (5, 2), (1, 8))]
CASES_3D = [((2, 2, 7, 8, 9), 2, (3, 4, 5)), ((2, 7, 8, 9), (2, 3, 1), (4, 4, 4)), ((1, 3, 6, 6, 6), 3, (2, 3, 2))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nd,shape,k,out", [(2,) + c for c in CASES_2D] + [(3,) + c for c in CASES_3D])
def test_against_torch(nd, shape, k, out, dtype):
    n = shape[0] if len(shape) == nd + 2 else 1
    s = _samples(n, shape[-nd - 1], nd, dtype)
    name = f"fractional_max_pool{nd}d"
    tol = dict(atol=1e-6, rtol=1e-5) if dtype == np.float64 else dict(atol=1e-5, rtol=1e-4)
    got = compare(lambda m, x: getattr(_lib(m), name)(x, k, output_size=out, return_indices=True,
                                                      _random_samples=m.tensor(s)), [shape], dtype=dtype, **tol)
    assert got[1].dtype == ember.int64 and not got[1].requires_grad
    compare(lambda m, x: getattr(_lib(m), name + "_with_indices")(x, k, out, None, False, m.tensor(s)),
            [shape], dtype=dtype, **tol)
    compare(lambda m, x: getattr(_lib(m), name)(x, k, out, _random_samples=m.tensor(s)), [shape], dtype=dtype, **tol)


def test_window_starts_round_in_float32():
    # alpha = 98/29 and u = 0.9795918 give a start of 51 for window 15 in float32 arithmetic (ATen's), 50 in
    # float64: the float32 input must follow float32
    u, size, out = np.float32(0.9795918), 100, 30
    alpha64 = (size - 2) / (out - 1)
    assert int((15 + float(u)) * alpha64) - int(float(u) * alpha64) == 50
    x = np.arange(size * 3, dtype=np.float32).reshape(1, 1, size, 3)     # increasing: the window's last row wins
    s = np.array([[[0.5, u]]], dtype=np.float32)
    _, ti = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), (2, 1), output_size=(out, 3),
                                                      return_indices=True, _random_samples=torch.tensor(s))
    _, ei = F.fractional_max_pool2d(ember.tensor(x), (2, 1), output_size=(out, 3), return_indices=True,
                                    _random_samples=ember.tensor(s))
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert int(ei[0, 0, 15, 0]) // 3 == 51 + 1


def test_samples_beyond_unit_interval_and_extra_batch_rows():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 10))
    for s in (np.full((2, 3, 2), 1.0), np.full((2, 3, 2), 1.5), np.full((2, 3, 2), -0.5),
              np.random.default_rng(2).random((5, 3, 2))):
        compare(lambda m, x: _lib(m).fractional_max_pool2d(x, 2, output_size=(3, 6), return_indices=True,
                                                           _random_samples=m.tensor(s)), [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ties_nan_and_inf(dtype):
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((2, 2, 9, 9)), 0).astype(dtype)     # many exact zeros: first max wins
    x[0, 0, 2, 3] = np.nan
    x[0, 1, 4, 4] = np.nan
    x[0, 1, 4, 5] = np.nan                                                 # two NaN in a window: the last
    x[1, 0, :4, :4] = -np.inf
    s = _samples(2, 2, 2, dtype)
    e = F.fractional_max_pool2d(ember.tensor(x), 3, output_size=(4, 4), return_indices=True,
                                _random_samples=ember.tensor(s))
    t = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 3, output_size=(4, 4), return_indices=True,
                                                  _random_samples=torch.tensor(s))
    np.testing.assert_array_equal(e[0].numpy(), t[0].numpy())
    np.testing.assert_array_equal(e[1].numpy(), t[1].numpy())
    x2 = np.full((1, 1, 6, 6), -np.inf, dtype=dtype)                       # all -inf: the window's first element
    s2 = _samples(1, 1, 2, dtype)
    e = F.fractional_max_pool2d(ember.tensor(x2), 2, output_size=3, return_indices=True,
                                _random_samples=ember.tensor(s2))
    t = torch.nn.functional.fractional_max_pool2d(torch.tensor(x2), 2, output_size=3, return_indices=True,
                                                  _random_samples=torch.tensor(s2))
    np.testing.assert_array_equal(e[1].numpy(), t[1].numpy())
    compare(lambda m, x: _lib(m).fractional_max_pool2d(x.relu(), 2, output_size=(5, 5),
                                                       _random_samples=m.tensor(_samples(2, 3, 2, dtype))),
            [(2, 3, 10, 10)], dtype=dtype, atol=1e-5)


def test_output_ratio():
    s2, s3 = _samples(2, 3, 2, np.float64), _samples(2, 3, 3, np.float64)
    for r in ((0.5, 0.7), [0.3, 0.9]):
        compare(lambda m, x: _lib(m).fractional_max_pool2d(x, 2, output_ratio=r, _random_samples=m.tensor(s2)),
                [(2, 3, 11, 13)])
    for r in (0.5, (0.5, 0.6, 0.7)):
        compare(lambda m, x: _lib(m).fractional_max_pool3d(x, 2, output_ratio=r, _random_samples=m.tensor(s3)),
                [(2, 3, 7, 8, 9)])
    # a bare number for the 2-D ratio: documented by PyTorch, rejected by its functional form (len() of a
    # float); ember takes it as (r, r)
    y = F.fractional_max_pool2d(ember.randn(2, 3, 11, 13), 2, output_ratio=0.5)
    assert y.shape == (2, 3, 5, 6)
    # output_size wins when both are given (the functional form, as PyTorch)
    y = F.fractional_max_pool2d(ember.randn(2, 3, 11, 13), 2, output_size=3, output_ratio=0.5)
    assert y.shape == (2, 3, 3, 3)


def test_default_samples_pick_window_maxima():
    ember.manual_seed(0)
    x = ember.randn(2, 3, 10, 12)
    y, idx = F.fractional_max_pool2d(x, 3, output_size=(4, 5), return_indices=True)
    assert y.shape == idx.shape == (2, 3, 4, 5) and y.dtype == x.dtype
    np.testing.assert_array_equal(y.numpy(), np.take_along_axis(x.numpy().reshape(2, 3, -1),
                                                                idx.numpy().reshape(2, 3, -1), 2).reshape(y.shape))
    # rows used by each output row are a run of 3 consecutive rows starting in order, covering 0 and 7
    rows = idx.numpy() // 12
    assert rows.min() >= 0 and rows.max() <= 9
    y16 = F.fractional_max_pool2d(ember.randn(1, 2, 8, 8, dtype=ember.float16), 2, output_size=3)
    assert y16.dtype == ember.float16


def test_empty_output_and_batch():
    s = _samples(2, 3, 2, np.float64)
    compare(lambda m, x: _lib(m).fractional_max_pool2d(x, 2, output_size=(0, 4), return_indices=True,
                                                       _random_samples=m.tensor(s)), [(2, 3, 7, 8)])
    compare(lambda m, x: _lib(m).fractional_max_pool2d(x, 2, output_size=3, _random_samples=m.tensor(s)),
            [(0, 3, 7, 8)])
    compare(lambda m, x: _lib(m).fractional_max_pool3d(x, 2, output_size=3,
                                                       _random_samples=m.tensor(_samples(1, 3, 3, np.float64))),
            [(0, 3, 5, 6, 7)])


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_errors():
    x = ember.randn(2, 3, 7, 8)
    s = ember.rand(2, 3, 2)
    f2 = F.fractional_max_pool2d
    _raises(RuntimeError, r"pool height 3 too large relative to input height 7",
            lambda: f2(x, 3, output_size=(6, 6), _random_samples=s))
    _raises(RuntimeError, r"kernel size should be greater than zero, but got 0x0",
            lambda: f2(x, 0, output_size=(5, 6), _random_samples=s))
    _raises(RuntimeError, r"kernel_size must either be a single Int or tuple of Ints",
            lambda: f2(x, (2, 2, 2), output_size=(5, 6), _random_samples=s))
    _raises(RuntimeError, r"output_size must either be a single Int or tuple of Ints",
            lambda: f2(x, 2, output_size=(5, 6, 3), _random_samples=s))
    _raises(RuntimeError, r"output_size must be non-negative", lambda: f2(x, 2, output_size=(-1, 6)))
    _raises(RuntimeError, r"same dtype as input", lambda: f2(x, 2, output_size=3, _random_samples=s.double()))
    _raises(RuntimeError, r"size\(0\) no less then input batch size",
            lambda: f2(x, 2, output_size=3, _random_samples=ember.rand(1, 3, 2)))
    _raises(RuntimeError, r"size\(1\) equals to input channel size",
            lambda: f2(x, 2, output_size=3, _random_samples=ember.rand(2, 4, 2)))
    _raises(RuntimeError, r"size\(2\) equals to 2; got 3",
            lambda: f2(x, 2, output_size=3, _random_samples=ember.rand(2, 3, 3)))
    _raises(RuntimeError, r"to have 3 dimensions, got 2",
            lambda: f2(x, 2, output_size=3, _random_samples=ember.rand(6, 2)))
    _raises(ValueError, r"requires specifying either an output_size or an output_ratio", lambda: f2(x, 2))
    _raises(ValueError, r"output_ratio to either be a single Int or tuple",
            lambda: f2(x, 2, output_ratio=(0.5, 0.5, 0.5)))
    _raises(RuntimeError, r"Expected 3D or 4D tensor, but got: \[7, 8\]", lambda: f2(ember.randn(7, 8), 2, 3))
    _raises(RuntimeError, r"non-zero size for non-batch dimensions.*dimension 1 being empty",
            lambda: f2(ember.randn(2, 0, 7, 8), 2, output_size=3))
    _raises(NotImplementedError, r"not implemented for ember.int64",
            lambda: f2(ember.ones(2, 3, 7, 8, dtype=ember.int64), 2, output_size=3))
    x3 = ember.randn(2, 3, 5, 6, 7)
    f3 = F.fractional_max_pool3d
    # the 3-D check is PyTorch's stricter one (o + k - 1 < I)
    _raises(RuntimeError, r"pool time 2 too large relative to input time 5", lambda: f3(x3, 2, (4, 5, 6)))
    _raises(RuntimeError, r"pool width 2 too large relative to input width 7", lambda: f3(x3, 2, (3, 5, 6)))
    _raises(RuntimeError, r"tuple of three Ints", lambda: f3(x3, (2, 2), (3, 4, 5)))
    _raises(RuntimeError, r"Expected 4D or 5D tensor, but got: \[5, 6, 7\]", lambda: f3(x3[0, 0], 2, (3, 4, 5)))
    _raises(RuntimeError, r"size\(2\) equals to 3; got 2",
            lambda: f3(x3, 2, (3, 4, 5), _random_samples=ember.rand(2, 3, 2)))


def test_gradcheck_and_double_backward():
    s2 = ember.tensor(_samples(2, 2, 2, np.float64))
    s3 = ember.tensor(_samples(1, 2, 3, np.float64))
    assert gradcheck(lambda x: F.fractional_max_pool2d(x, 2, output_size=(3, 4), _random_samples=s2),
                     [(2, 2, 6, 7)])
    assert gradcheck(lambda x: F.fractional_max_pool3d(x, 2, output_size=(2, 3, 2), _random_samples=s3),
                     [(1, 2, 5, 6, 4)])
    x = ember.randn(2, 2, 6, 7, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda t: F.fractional_max_pool2d(t, 2, output_size=(3, 4), _random_samples=s2), [x])


def test_unpool_round_trip():
    s = _samples(2, 3, 2, np.float64)
    compare(lambda m, x: _lib(m).max_unpool2d(*_lib(m).fractional_max_pool2d(
        x, 2, output_size=(4, 4), return_indices=True, _random_samples=m.tensor(s)), 2, output_size=(8, 9)),
        [(2, 3, 8, 9)])


def test_modules():
    s = _samples(2, 3, 2, np.float32)
    em = nn.FractionalMaxPool2d(3, output_size=(4, 5), _random_samples=ember.tensor(s))
    tm = torch.nn.FractionalMaxPool2d(3, output_size=(4, 5), _random_samples=torch.tensor(s))
    check_layer(em, tm, (2, 3, 10, 12))
    assert list(em.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    assert repr(em) == repr(tm) == "FractionalMaxPool2d()"
    em = nn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.4), return_indices=True,
                                _random_samples=ember.tensor(s))
    tm = torch.nn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.4), return_indices=True,
                                      _random_samples=torch.tensor(s))
    check_layer(em, tm, (2, 3, 10, 12))
    assert em.kernel_size == tm.kernel_size and em.output_ratio == tm.output_ratio and em.output_size is None
    s3 = _samples(2, 2, 3, np.float32)
    em = nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=ember.tensor(s3))
    tm = torch.nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=torch.tensor(s3))
    check_layer(em, tm, (2, 2, 6, 7, 8))
    m = nn.FractionalMaxPool2d(2, output_ratio=0.5)
    assert m._random_samples is None and list(m.state_dict()) == []
    assert m(ember.randn(3, 8, 8)).shape == (3, 4, 4)
    assert nn.modules.pooling.FractionalMaxPool3d is nn.FractionalMaxPool3d


def test_module_errors():
    _raises(ValueError, r"FractionalMaxPool2d requires specifying either an output size, or a pooling ratio",
            lambda: nn.FractionalMaxPool2d(2))
    _raises(ValueError, r"only one of output_size and output_ratio may be specified",
            lambda: nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5))
    _raises(ValueError, r"output_ratio must be between 0 and 1 \(got 1.0\)",
            lambda: nn.FractionalMaxPool2d(2, output_ratio=1.0))
    _raises(ValueError, r"kernel_size must be greater than 0, but got \(1, 0, 1\)",
            lambda: nn.FractionalMaxPool3d((1, 0, 1), output_ratio=0.5))
    _raises(ValueError, r"output_ratio must be between 0 and 1",
            lambda: nn.FractionalMaxPool3d(2, output_ratio=(0.5, 1.0, 0.5)))


def test_float32_layer_matches_values_exactly():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 8, 33, 29)).astype(np.float32)
    s = rng.random((4, 8, 2)).astype(np.float32)
    e = F.fractional_max_pool2d(ember.tensor(x), 2, output_size=(16, 14), return_indices=True,
                                _random_samples=ember.tensor(s))
    t = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 2, output_size=(16, 14), return_indices=True,
                                                  _random_samples=torch.tensor(s))
    np.testing.assert_array_equal(e[1].numpy(), t[1].numpy())
    assert_close(e[0], t[0], 0, 0)


@pytest.fixture()
def fake_cuda():
    """The device path on the NumPy-backed CUDA stand-in (tests/devices/fake_cupy), bit-equal to the CPU."""
    from ember.backend import device as _dev
    from tests.devices import fake_cupy
    _dev.register_cuda_module(fake_cupy.module)
    yield
    _dev.register_cuda_module(None)
    _dev._tried = False


@pytest.mark.parametrize("nd", [2, 3])
def test_device_path(fake_cuda, nd):
    rng = np.random.default_rng(0)
    shape = (2, 3, 9, 11) if nd == 2 else (2, 3, 6, 7, 8)
    x, s = rng.standard_normal(shape), rng.random((2, 3, nd))
    res = {}
    for dev in ("cpu", "cuda"):
        xt = ember.tensor(x).to(dev).requires_grad_()
        y, i = getattr(F, f"fractional_max_pool{nd}d")(xt, 2, output_size=3, return_indices=True,
                                                        _random_samples=ember.tensor(s).to(dev))
        y.pow(2).sum().backward()
        assert y.device.type == i.device.type == xt.grad.device.type == dev
        res[dev] = [t.detach().cpu().numpy() for t in (y, i, xt.grad)]
    for a, b in zip(res["cpu"], res["cuda"]):
        np.testing.assert_array_equal(a, b)
