"""Convolutions with pixel-major columns (ember.ops._conv_nhwc): 16+ input channels on small images, strided,
dilated, unevenly padded, with and without bias, channels_last or permuted inputs, non-finite values, an input
without gradient, retain_graph, and with the blocked kernels' grid input gradient (stride 1, small weight) or
its own col2im; all against PyTorch."""
import numpy as np
import pytest

import ember
from ember.ops import _conv_nhwc as NH, conv as C

torch = pytest.importorskip("torch")

CASES = [  # x shape, w shape, kwargs
    ((3, 16, 6, 7), (5, 16, 3, 3), {"padding": 1}),
    ((2, 20, 9, 8), (6, 20, 3, 2), {"stride": 2, "padding": (1, 0)}),
    ((2, 16, 7, 7), (4, 16, 3, 3), {"dilation": 2, "padding": 2}),
    ((2, 18, 5, 6), (3, 18, 4, 2), {"padding": "same"}),
    ((3, 24, 4, 4), (7, 24, 1, 1), {"stride": 2}),
    ((2, 16, 2, 2), (40, 16, 3, 3), {"padding": 1}),           # 23 KiB weight: own col2im at 1 thread
    ((2, 32, 3, 3), (48, 32, 3, 3), {"stride": 2, "padding": 1}),
]


def _run(lib, x, w, b, kw, variant, g):
    if variant == "channels_last":
        xs = lib.tensor(x).contiguous(memory_format=lib.channels_last)
    elif variant == "permuted":
        xs = lib.tensor(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3)
    else:
        xs = lib.tensor(x)
    xs.requires_grad_(variant != "no_x_grad")
    ws = lib.tensor(w, requires_grad=True)
    bs = None if b is None else lib.tensor(b, requires_grad=True)
    y = lib.nn.functional.conv2d(xs, ws, bs, **kw)
    y.backward(lib.tensor(g), retain_graph=variant == "retain")
    if variant == "retain":
        y.backward(lib.tensor(g))
    out = [y.detach().numpy(), ws.grad.numpy()]
    out += [] if variant == "no_x_grad" else [xs.grad.numpy()]
    out += [] if b is None else [bs.grad.numpy()]
    return out, y


@pytest.mark.parametrize("case", range(len(CASES)))
def test_pixel_major_columns_match_torch(monkeypatch, case):
    monkeypatch.setattr(C, "_blas_single_threaded", lambda: True)
    monkeypatch.setattr(C._wino, "MAX_PIXELS", 0)          # (this path, not Winograd's: test_conv_winograd.py)
    calls = []
    real = NH.forward
    monkeypatch.setattr(NH, "forward", lambda *a: calls.append(1) or real(*a))
    shape, wshape, kw = CASES[case]
    rng = np.random.default_rng(case)
    variants = ["plain", "no_bias", "channels_last", "permuted", "no_x_grad", "retain", "nonfinite_x", "inf_w"]
    for variant in variants:
        x, w, b = rng.standard_normal(shape), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
        if variant == "no_bias":
            b = None
        if variant == "nonfinite_x":
            x[0, 0, 0, 1], x[-1, -1, -1, -1] = np.inf, np.nan
        if variant == "inf_w":
            w[0, 0, 0, 0] = np.inf
        g = None
        res = []
        for lib in (ember, torch):
            if g is None:
                out_shape = tuple(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, **kw).shape)
                g = rng.standard_normal(out_shape)
            out, y = _run(lib, x, w, b, kw, variant, g)
            res.append(out)
            if variant == "channels_last" and lib is ember:
                assert y.is_contiguous(memory_format=ember.channels_last)
        for a, t in zip(*res):
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)
    assert len(calls) == len(variants)


def test_float32_and_two_blas_threads(monkeypatch):
    """float32 within PyTorch's tolerance; with several BLAS threads the own col2im (no grid kernels)."""
    monkeypatch.setattr(C, "_blas_single_threaded", lambda: False)
    rng = np.random.default_rng(9)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 32, 5, 5), (16, 32, 3, 3), (16,)))
    g = rng.standard_normal((4, 16, 5, 5)).astype(np.float32)
    res = [_run(lib, x, w, b, {"padding": 1}, "plain", g)[0] for lib in (ember, torch)]
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-4)


def test_small_channel_counts_keep_the_general_path():
    c = NH.MIN_CHANNELS - 1
    x, w = np.zeros((2, c, 4, 4), np.float32), np.zeros((3, c, 3, 3), np.float32)
    assert not NH.applies(x, w, 1)
    x, w = np.zeros((2, NH.MIN_CHANNELS, 4, 4), np.float32), np.zeros((4, NH.MIN_CHANNELS // 2, 3, 3), np.float32)
    assert not NH.applies(x, w, 2)
