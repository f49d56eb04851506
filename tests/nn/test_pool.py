"""Pooling, unpooling, interpolation and pixel shuffle against PyTorch: values, indices and gradients for each
option (stride, padding, dilation, ceil_mode, count_include_pad, divisor_override, return_indices, adaptive
sizes, interpolation modes/align_corners), ties after ReLU, gradcheck, layers and reprs."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import compare, gradcheck
from tests.nn._layer_check import check_layer


def _lib(m):
    return F if m is ember else torch.nn.functional


POOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, ceil_mode=True),
        dict(kernel_size=2, ceil_mode=True), dict(kernel_size=3, stride=1, padding=1),
        dict(kernel_size=(2, 3), stride=(1, 2))]


@pytest.mark.parametrize("kw", POOL + [dict(kernel_size=(2, 3), stride=1, dilation=2), dict(kernel_size=3, padding=1, dilation=2, ceil_mode=True)])
def test_max_pool2d(kw):
    compare(lambda m, x: _lib(m).max_pool2d(x, **kw, return_indices=True), [(2, 3, 7, 9)])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1)])
def test_max_pool2d_ties_after_relu(kw):
    # many exact zeros: the gradient must go to the first maximum in each window, as in PyTorch
    compare(lambda m, x: _lib(m).max_pool2d(x.relu(), **kw), [(2, 3, 8, 8)])
    compare(lambda m, x: _lib(m).max_pool2d(x.relu(), **kw), [(2, 3, 8, 8)], dtype=np.float32)


def _one(kw):
    return {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items()}


@pytest.mark.parametrize("kw", POOL + [dict(kernel_size=3, dilation=2)])
def test_max_pool1d(kw):
    compare(lambda m, x: _lib(m).max_pool1d(x, **_one(kw), return_indices=True), [(2, 3, 11)])


@pytest.mark.parametrize("kw", POOL)
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d(kw, cip):
    compare(lambda m, x: _lib(m).avg_pool2d(x, **kw, count_include_pad=cip), [(2, 3, 7, 9)])


@pytest.mark.parametrize("kw", POOL[:3])
def test_avg_pool_divisor_override_and_1d(kw):
    compare(lambda m, x: _lib(m).avg_pool2d(x, **kw, divisor_override=3), [(2, 3, 7, 9)])
    compare(lambda m, x: _lib(m).avg_pool1d(x, **_one(kw), count_include_pad=False), [(2, 3, 9)])


@pytest.mark.parametrize("size", [1, 3, (2, 4), (7, 9), (None, 2), (5, 4), (14, 3)])
def test_adaptive_pool2d(size):
    compare(lambda m, x: _lib(m).adaptive_avg_pool2d(x, size), [(2, 3, 7, 9)])
    compare(lambda m, x: _lib(m).adaptive_max_pool2d(x, size, return_indices=True), [(2, 3, 7, 9)])


def test_adaptive_pool1d():
    compare(lambda m, x: _lib(m).adaptive_avg_pool1d(x, 4), [(2, 3, 9)])
    compare(lambda m, x: _lib(m).adaptive_max_pool1d(x, 4, return_indices=True), [(2, 3, 9)])


def test_max_unpool():
    def f(m, x):
        y, i = _lib(m).max_pool2d(x, 2, return_indices=True)
        return _lib(m).max_unpool2d(y * 2, i, 2, output_size=(7, 9))
    compare(f, [(2, 3, 7, 9)])

    def f1(m, x):
        y, i = _lib(m).max_pool1d(x, 3, stride=2, padding=1, return_indices=True)
        return _lib(m).max_unpool1d(y, i, 3, stride=2, padding=1, output_size=[8])
    compare(f1, [(2, 3, 8)])


INTERP = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True), ("area", None)]


@pytest.mark.parametrize("mode,ac", INTERP)
@pytest.mark.parametrize("kw", [dict(size=(5, 13)), dict(scale_factor=2), dict(scale_factor=(1.7, 0.6)),
                                dict(scale_factor=1.5, recompute_scale_factor=True), dict(size=(7, 9))])
def test_interpolate_2d(mode, ac, kw):
    compare(lambda m, x: _lib(m).interpolate(x, mode=mode, align_corners=ac, **kw), [(2, 3, 7, 9)])


@pytest.mark.parametrize("mode,ac", [("nearest", None), ("linear", False), ("linear", True)])
def test_interpolate_1d(mode, ac):
    compare(lambda m, x: _lib(m).interpolate(x, mode=mode, align_corners=ac, scale_factor=2.5), [(2, 3, 7)])


def test_interpolate_float32_and_upsample_aliases():
    compare(lambda m, x: _lib(m).interpolate(x, scale_factor=2, mode="bilinear"), [(1, 2, 5, 5)], dtype=np.float32)
    e = F.upsample_bilinear(ember.ones(1, 1, 2, 2), scale_factor=2)
    t = torch.nn.functional.upsample_bilinear(torch.ones(1, 1, 2, 2), scale_factor=2)
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_pixel_shuffle():
    compare(lambda m, x: _lib(m).pixel_shuffle(x, 2), [(2, 8, 3, 4)])
    compare(lambda m, x: _lib(m).pixel_unshuffle(x, 2), [(2, 3, 4, 6)])
    compare(lambda m, x: _lib(m).pixel_shuffle(x, 3), [(9, 2, 2)])


def test_gradcheck_pool_family():
    x = [(1, 2, 5, 6)]
    assert gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1), x)
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), x)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (2, 4)), x)
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (2, 4)), x)
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), x)
    assert gradcheck(lambda x: F.pixel_shuffle(x, 2), [(1, 4, 2, 3)])


def test_pool_errors():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(ember.randn(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.max_pool2d(ember.randn(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match=r"MaxPool2d expected input of shape \(N, C, H, W\)"):
        nn.MaxPool2d(2)(ember.randn(5, 5))
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(ember.randn(1, 1, 4, 4))
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(ember.randn(1, 1, 4, 4), size=2, scale_factor=2)
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(ember.randn(1, 3, 2, 2), 2)


LAYERS = [
    (lambda L: L.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8)),
    (lambda L: L.MaxPool2d(2, return_indices=True), (2, 3, 8, 8)),
    (lambda L: L.MaxPool1d(2), (2, 3, 8)),
    (lambda L: L.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 8, 8)),
    (lambda L: L.AvgPool1d(2), (2, 3, 8)),
    (lambda L: L.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5)),
    (lambda L: L.AdaptiveAvgPool2d(3), (2, 3, 7, 5)),
    (lambda L: L.AdaptiveAvgPool1d(3), (2, 3, 7)),
    (lambda L: L.AdaptiveMaxPool2d((2, 3), return_indices=True), (2, 3, 7, 5)),
    (lambda L: L.Upsample(scale_factor=2), (2, 3, 4, 4)),
    (lambda L: L.Upsample(size=(5, 7), mode="bilinear", align_corners=True), (2, 3, 4, 4)),
    (lambda L: L.UpsamplingNearest2d(scale_factor=3), (1, 2, 3, 3)),
    (lambda L: L.UpsamplingBilinear2d(size=6), (1, 2, 3, 3)),
    (lambda L: L.PixelShuffle(2), (1, 8, 3, 3)),
    (lambda L: L.PixelUnshuffle(2), (1, 2, 4, 6)),
]


@pytest.mark.parametrize("make,shape", LAYERS)
def test_pool_layers(make, shape):
    em, tm = make(nn), make(torch.nn)
    assert repr(em) == repr(tm)
    check_layer(em, tm, shape, copy=False)


def test_max_unpool_layer():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    tpool, tunpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(tunpool)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    y, i = pool(ember.tensor(x))
    ty, ti = tpool(torch.tensor(x))
    np.testing.assert_array_equal(unpool(y, i).numpy(), tunpool(ty, ti).numpy())


MORE_LAYERS = [
    (lambda L: L.LPPool2d(2, 3), (1, 2, 6, 6)),
    (lambda L: L.LPPool1d(1.5, 2, 1), (1, 2, 6)),
    (lambda L: L.ChannelShuffle(2), (1, 4, 2, 2)),
    (lambda L: L.ZeroPad2d(1), (1, 2, 3, 3)),
    (lambda L: L.ZeroPad2d((1, 2, 0, 3)), (1, 2, 3, 3)),
    (lambda L: L.ZeroPad1d(2), (2, 3)),
    (lambda L: L.ConstantPad1d(2, 3.5), (1, 2, 3)),
    (lambda L: L.ConstantPad2d((1, 0, 2, 0), 1.0), (1, 2, 3, 3)),
    (lambda L: L.ConstantPad3d(1, 0.0), (1, 2, 3, 3, 3)),
    (lambda L: L.ReflectionPad1d(2), (1, 2, 4)),
    (lambda L: L.ReflectionPad2d((1, 1, 2, 0)), (1, 2, 3, 3)),
    (lambda L: L.ReflectionPad3d(1), (1, 2, 3, 3, 3)),
    (lambda L: L.ReplicationPad1d((1, 2)), (1, 2, 3)),
    (lambda L: L.ReplicationPad2d(1), (1, 2, 3, 3)),
    (lambda L: L.ReplicationPad3d(1), (1, 2, 3, 3, 3)),
    (lambda L: L.CircularPad1d(1), (1, 2, 3)),
    (lambda L: L.CircularPad2d(1), (1, 2, 3, 3)),
    (lambda L: L.CircularPad3d(1), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("make,shape", MORE_LAYERS)
def test_lp_pool_channel_shuffle_and_padding_layers(make, shape):
    em, tm = make(nn), make(torch.nn)
    assert repr(em) == repr(tm)
    check_layer(em, tm, shape, copy=False)
