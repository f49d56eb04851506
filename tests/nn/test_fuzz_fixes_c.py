"""Regressions for the differences the differential fuzzer (tests/fuzz) found in the activation, loss, pool,
conv, norm and rnn families: each case compares ember with PyTorch 2.13 on the exact input that differed."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F

INF = float("inf")


def _run(m, fn, *arrays, grad=True):
    ts = [m.tensor(a, requires_grad=grad and np.asarray(a).dtype.kind == "f") for a in arrays]
    out = fn(m, *ts)
    outs = out if isinstance(out, tuple) else (out,)
    if grad:
        outs[0].sum().backward() if outs[0].numel() else None
    vals = [o.detach().numpy() for o in outs]
    grads = [t.grad.numpy() if t.grad is not None else None for t in ts]
    return vals, grads


def _same(fn, *arrays, grad=True):
    ve, ge = _run(ember, fn, *arrays, grad=grad)
    vt, gt = _run(torch, fn, *arrays, grad=grad)
    for a, b in zip(ve + ge, vt + gt):
        if a is None or b is None:
            assert a is None and b is None
            continue
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def _nnf(m):
    return F if m is ember else torch.nn.functional


# ------------------------------------------------------------------------------------------ max pooling
@pytest.mark.parametrize("nd", [1, 2])
def test_max_pool_all_minus_inf_window_points_at_first_element_inside_input(nd):
    # PyTorch's arg-max starts at the window's first element inside the input, not in the -inf padding
    x = np.array([[[-INF, -INF, 1.0]]], dtype=np.float32)
    if nd == 2:
        x = x[:, None]
    _same(lambda m, t: getattr(_nnf(m), f"max_pool{nd}d")(t, 2, stride=1, padding=1, return_indices=True), x)
    _same(lambda m, t: getattr(_nnf(m), f"max_pool{nd}d")(t, 2, stride=1, padding=1, dilation=2,
                                                          return_indices=True), x)


def test_max_pool_dilated_minus_inf_length_2():
    x = np.array([[-1.28, -INF]], dtype=np.float32)
    _same(lambda m, t: _nnf(m).max_pool1d(t, 2, padding=1, dilation=2, return_indices=True), x)


def test_max_pool_int_lowest_value_window():
    x = np.array([[[-2 ** 31, -2 ** 31, -2 ** 31, 5]]], dtype=np.int32)
    _same(lambda m, t: _nnf(m).max_pool1d(t, 3, stride=1, padding=1, return_indices=True), x, grad=False)


def test_max_pool_window_entirely_in_padding_uses_torch_index():
    # a dilated window over a size-1 dim reads only padding: -inf, and PyTorch's index (and gradient) is the
    # position its loop starts at, here the next row's element
    x = np.array([[[0.5], [-1.0], [2.0]]], dtype=np.float32)
    _same(lambda m, t: _nnf(m).max_pool2d(t, 2, padding=1, dilation=2, return_indices=True), x)
    _same(lambda m, t: _nnf(m).max_pool2d(t, 2, padding=1, dilation=2), x)


# ------------------------------------------------------------------------------------------ activations
def test_prelu_inf_input_zero_weight_grad():
    x = np.array(INF, dtype=np.float32)
    _same(lambda m, t, w: _nnf(m).prelu(t, w), x, np.array([0.0], dtype=np.float32))
    x = np.array([[INF, -2.0], [3.0, -INF]], dtype=np.float32)
    _same(lambda m, t, w: _nnf(m).prelu(t, w), x, np.array([INF, 0.5], dtype=np.float32))


# ------------------------------------------------------------------------------------------ padding
@pytest.mark.parametrize("shape,pad", [((1, 1), (-1, -1)), ((1, 3), (-4, 1)), ((1, 3), (1, -4)),
                                       ((2, 3), (0, 0, -2, -1))])
def test_pad_negative_past_size_raises(shape, pad):
    x = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.tensor(x), pad)
    with pytest.raises(RuntimeError, match=r"pad: negative padding .* crops more than the size"):
        F.pad(ember.tensor(x), pad)


def test_pad_negative_to_empty_is_fine():
    _same(lambda m, t: _nnf(m).pad(t, (-1, -1)), np.zeros((1, 2), dtype=np.float32))
    _same(lambda m, t: _nnf(m).pad(t, (-3, 0)), np.zeros((1, 3), dtype=np.float32))


# ------------------------------------------------------------------------------------------ losses
@pytest.mark.parametrize("name", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_loss_empty_mean_is_nan(name):
    # PyTorch 2.13 returns uninitialized memory here (known difference margin-loss-empty-mean); ember the mean
    # of no values, NaN, as PyTorch's other losses
    x = ember.zeros(0, 3, requires_grad=True)
    t = ember.zeros(0, dtype=ember.int64) if name == "multi_margin_loss" else ember.zeros(0, 3, dtype=ember.int64)
    out = getattr(F, name)(x, t)
    assert math.isnan(out.item())
    out.backward()
    assert x.grad.shape == (0, 3)
    assert getattr(F, name)(x, t, reduction="sum").item() == 0.0


@pytest.mark.parametrize("nd", [1, 2])
def test_adaptive_max_pool_last_nan_wins(nd):
    # PyTorch's loop takes every NaN it meets (val > maxval || isnan(val)): the LAST NaN of a window wins
    x = np.array([[1.0, np.nan, 2.0, np.nan, 0.5, np.nan, np.nan]], dtype=np.float32)
    if nd == 2:
        x = x[None]
    _same(lambda m, t: getattr(_nnf(m), f"adaptive_max_pool{nd}d")(t, 2, return_indices=True), x)


@pytest.mark.parametrize("mode,pad", [("reflect", (-3, 0)), ("replicate", (-2, -1)), ("reflect", (-4, 0)),
                                      ("circular", (-4, 0))])
def test_pad_nonconstant_negative_too_small_raises(mode, pad):
    with pytest.raises(RuntimeError):
        torch.nn.functional.pad(torch.ones(1, 1, 3), pad, mode=mode)
    with pytest.raises(RuntimeError, match=rf"pad \({mode}\): input of shape .* is too small"):
        F.pad(ember.ones(1, 1, 3), pad, mode=mode)


@pytest.mark.parametrize("mode,pad", [("reflect", (-2, 0)), ("replicate", (-1, -1)), ("circular", (-3, 0)),
                                      ("circular", (-2, -1))])
def test_pad_nonconstant_negative_ok(mode, pad):
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    _same(lambda m, t: _nnf(m).pad(t, pad, mode=mode), x)


@pytest.mark.parametrize("name,r,shape", [("pixel_shuffle", 2, (4, 1, 1)), ("pixel_shuffle", 1, (1, 2, 3, 3)),
                                          ("pixel_unshuffle", 1, (1, 2, 4, 4)), ("pixel_unshuffle", 2, (3, 2, 2))])
def test_pixel_shuffle_returns_new_tensor(name, r, shape):
    # where the permute is a no-op (size-1 dims, r == 1) the result must still not alias the input, as PyTorch
    x = ember.zeros(shape)
    y = getattr(F, name)(x, r)
    y.add_(1)
    assert x.sum().item() == 0


@pytest.mark.parametrize("swap", [True, False])
def test_triplet_margin_loss_kink_rounding(swap):
    # margin + d_pos - d_neg in PyTorch's order: here it rounds to a tiny positive number and gradient flows
    a, p, n = (np.array([[v]], dtype=np.float64) for v in (0.0, -1.0, -3.0 if swap else -2.0))
    _same(lambda m, x, y, z: _nnf(m).triplet_margin_loss(x, y, z, swap=swap), a, p, n)
    _same(lambda m, x, y, z: _nnf(m).triplet_margin_with_distance_loss(x, y, z, swap=swap), a, p, n)
