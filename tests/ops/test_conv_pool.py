"""The conv column buffers are reused between steps (ember.ops.conv._COLS) without ever being handed out
while a live graph still needs them (the general path: strided convolutions; stride 1 takes the blocked
kernels of ember.ops._conv_blocked, which keep no columns between forward and backward)."""
import gc

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops import conv as C
from ember.backend import memory as M


@pytest.fixture(autouse=True)
def _pool_every_size(monkeypatch):
    """These tests use small arrays: pool them too (by default only sizes malloc would map afresh are)."""
    monkeypatch.setattr(C._COLS, "pool_from", 0)


def _weight_grad(x, w):
    w = w.detach().requires_grad_()
    F.conv2d(x, w, padding=1, stride=2).square().sum().backward()
    return w.grad.numpy().copy()


def test_buffers_are_reused_after_backward_and_not_while_a_graph_lives():
    ember.manual_seed(0)
    C._COLS.clear()
    xs = [ember.randn(4, 3, 9, 9) for _ in range(3)]
    w0 = ember.randn(5, 3, 3, 3)
    want = [_weight_grad(x, w0) for x in xs]           # each graph freed before the next forward
    assert sum(len(v) for v in C._COLS._idle.values()) == 1      # one buffer, reused every time

    # interleaved: graphs A and B alive together; A's backward frees its buffer, C reuses it; B is intact
    ws = [w0.detach().requires_grad_() for _ in range(3)]
    outs = [F.conv2d(xs[i], ws[i], padding=1, stride=2).square().sum() for i in range(2)]
    outs[0].backward()
    outs.append(F.conv2d(xs[2], ws[2], padding=1, stride=2).square().sum())
    outs[2].backward()
    outs[1].backward()
    for i in range(3):
        np.testing.assert_allclose(ws[i].grad.numpy(), want[i], rtol=1e-5, atol=1e-5)


def test_retain_graph_keeps_the_columns_and_no_grad_returns_them_at_once():
    ember.manual_seed(1)
    C._COLS.clear()
    x, w = ember.randn(2, 2, 6, 6), ember.randn(3, 2, 3, 3, requires_grad=True)
    loss = F.conv2d(x, w, stride=2).sum()
    loss.backward(retain_graph=True)
    g1 = w.grad.numpy().copy()
    with ember.no_grad():
        for _ in range(3):
            F.conv2d(ember.randn(2, 2, 6, 6), w, stride=2)  # same shapes: would reuse a buffer if one were idle
    w.grad = None
    loss.backward()                                     # the retained columns must be the original ones
    np.testing.assert_array_equal(w.grad.numpy(), g1)
    del loss
    gc.collect()
    assert C._COLS._idle_bytes > 0


def test_idle_memory_is_capped():
    pool = C._BufferPool(max_idle_bytes=1000)
    pool.pool_from = 0
    a = pool.empty((100,), np.float32)                  # 400 bytes
    b = pool.empty((300,), np.float32)                  # 1200 bytes: over the cap, not kept
    del a, b
    gc.collect()
    assert pool._idle_bytes == 400 and list(pool._idle) == [((100,), "<f4")]
    c = pool.empty((100,), np.float32)
    assert pool._idle_bytes == 0 and c.shape == (100,)


def test_weight_gradient_of_few_input_channels_on_a_large_batch_matches_torch():
    """Few input channels and many output pixels take the panel-summed weight-gradient GEMM (strided; stride 1
    goes through the blocked kernels): it must equal torch's (float64, so that the different summation order
    shows nowhere above 1e-10)."""
    import pytest
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape, wshape, pad, st in [((16, 1, 28, 28), (6, 1, 5, 5), 2, 2), ((40, 3, 20, 20), (8, 3, 3, 3), 0, 2),
                                   ((16, 1, 28, 28), (6, 1, 5, 5), 2, 1), ((12, 3, 20, 20), (8, 3, 3, 3), 0, 1)]:
        x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
        g = rng.standard_normal((shape[0], wshape[0], (shape[2] + 2 * pad - wshape[2]) // st + 1,
                                 (shape[3] + 2 * pad - wshape[3]) // st + 1))
        if st > 1:
            assert wshape[1] * 9 <= 64 < g.shape[0] * g.shape[2] * g.shape[3] // 2     # the panel path is taken
        ew = ember.tensor(w, requires_grad=True)
        F.conv2d(ember.tensor(x), ew, padding=pad, stride=st).backward(ember.tensor(g))
        tw = torch.tensor(w, requires_grad=True)
        torch.nn.functional.conv2d(torch.tensor(x), tw, padding=pad, stride=st).backward(torch.tensor(g))
        np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_blocked_stride_one_kernels_match_torch(monkeypatch):
    """Stride-1 convolutions run a few images at a time (ember.ops._conv_blocked): several blocks, padding
    ('same' with an even kernel: uneven), dilation, a permuted input, an expanded output gradient (a sum's),
    inf/NaN in the input, and an inf in the weight (whose input gradient takes the general col2im)."""
    import pytest
    torch = pytest.importorskip("torch")
    from ember.ops import _conv_blocked
    monkeypatch.setattr(C, "_blas_single_threaded", lambda: True)     # the path runs with one BLAS thread
    calls = []
    real_forward = _conv_blocked.forward
    monkeypatch.setattr(_conv_blocked, "forward", lambda *a: calls.append(1) or real_forward(*a))
    rng = np.random.default_rng(3)
    cases = [((5, 3, 40, 40), (4, 3, 3, 3), {}), ((5, 3, 40, 40), (4, 3, 4, 2), {"padding": "same"}),
             ((4, 2, 17, 13), (3, 2, 3, 3), {"padding": 2, "dilation": (2, 1)}),
             ((3, 6, 12, 12), (5, 6, 1, 1), {"padding": 1})]
    geo = _conv_blocked._Geometry(cases[0][0], cases[0][1], ((0, 0), (0, 0)), (1, 1), 8)
    assert 1 < geo.nb < cases[0][0][0]                  # several blocks, of several images
    for shape, wshape, kw in cases:
        for variant in ("plain", "permuted", "nonfinite_x", "inf_w"):
            x, w, b = rng.standard_normal(shape), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
            if variant == "nonfinite_x":
                x[0, 0, 1, 2], x[-1, -1, -1, -1] = np.inf, np.nan
            if variant == "inf_w":
                w[0, 0, 0, 0] = np.inf
            res = []
            for lib in (ember, torch):
                xs = lib.tensor(x.transpose(0, 1, 3, 2).copy()).transpose(2, 3) if variant == "permuted" \
                    else lib.tensor(x)
                xs.requires_grad_(True)
                ws, bs = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
                y = lib.nn.functional.conv2d(xs, ws, bs, **kw)
                (y.sum() + (y * y).sum() if variant == "plain" else y.sum()).backward()
                res.append([t.detach().numpy() for t in (y, xs.grad, ws.grad, bs.grad)])
            for a, t in zip(*res):
                np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)
    assert len(calls) == 16                             # every case took the blocked kernels


def _conv_matches_torch(torch, x, w, kw):
    """conv2d's output and the gradients of sum(y^2) for x and w: ember's equal torch's (float64)."""
    res = []
    for lib in (ember, torch):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, **kw)
        (y * y).sum().backward()
        res.append([t.detach().numpy() for t in (y, xt.grad, wt.grad)])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)


def test_kernel_taps_that_only_see_padding_are_left_out_and_match_torch():
    """A 3x3 conv with padding 1 on a 1x1 image (ResNet's last stage at 32x32 input) only uses the centre
    tap: ember convolves with the live part of the kernel (C._live_taps) and gives the rest of the weight a
    zero gradient.  Results, gradients and double backward equal torch's; a non-finite weight keeps the full
    kernel (inf times the padding's zeros is NaN)."""
    import pytest
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    cases = [((3, 4, 1, 1), (5, 4, 3, 3), {"padding": 1}), ((2, 3, 2, 1), (4, 3, 5, 5), {"padding": 2}),
             ((2, 4, 1, 3), (6, 2, 3, 3), {"padding": (1, 1), "groups": 2}),
             ((2, 2, 1, 1), (3, 2, 3, 3), {"padding": 1, "stride": 2})]
    for shape, wshape, kw in cases:
        x, w, b = rng.standard_normal(shape), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
        pad = kw["padding"] if isinstance(kw["padding"], tuple) else (kw["padding"],) * 2
        st = (kw.get("stride", 1),) * 2
        dl = kw.get("dilation", (1, 1))
        assert C._live_taps(shape, w, st, tuple((p, p) for p in pad), dl) is not None
        for bad in (False, True):
            if bad:
                w = w.copy()
                w[0, 0, 0, 0] = np.inf
            res = []
            for lib in (ember, torch):
                xt = lib.tensor(x, requires_grad=True)
                wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
                y = lib.nn.functional.conv2d(xt, wt, bt, **kw)
                gx, gw = lib.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
                (ggw,) = lib.autograd.grad((gx * gx).sum() + gw.sum(), wt)
                xt.grad = wt.grad = None
                lib.nn.functional.conv2d(xt, wt, bt, **kw).square().sum().backward()
                res.append([t.detach().numpy() for t in (y, gx, gw, ggw, xt.grad, wt.grad, bt.grad)])
            for a, t in zip(*res):
                np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)


def test_overlapping_max_pool_gradient_is_torchs_scatter_add():
    """Overlapping windows (3x3 stride 2 padding 1, as ResNet's stem; dilated 2x2 stride 1) send each
    output's gradient to its winner with one scatter-add in output order: with many ties (after ReLU) and
    inputs shared by several windows the float32 sums equal PyTorch's exactly; NaN/inf gradients too."""
    import pytest
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = np.maximum(rng.standard_normal((3, 4, 11, 10)), 0).astype(np.float32)
    for kw in ({"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 2, "stride": 1, "dilation": 2},
               {"kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 0), "ceil_mode": True}):
        shape = tuple(torch.nn.functional.max_pool2d(torch.tensor(x), **kw).shape)
        g = rng.standard_normal(shape).astype(np.float32) * 1e3
        g[0, 0, 0, :2] = (np.inf, np.nan)
        res = []
        for lib in (ember, torch):
            xt = lib.tensor(x, requires_grad=True)
            lib.nn.functional.max_pool2d(xt, **kw).backward(lib.tensor(g))
            res.append(xt.grad.numpy())
        np.testing.assert_array_equal(res[0], res[1])


def test_small_image_conv_input_gradient_by_the_grid_kernels_matches_torch(monkeypatch):
    """Stride-1 convolutions of small images (general forward) with a small weight take their input gradient
    from the blocked grid kernels (ember.ops._conv_blocked.grid_input_grad_applies); an inf weight does not."""
    import pytest
    torch = pytest.importorskip("torch")
    from ember.ops import _conv_blocked
    monkeypatch.setattr(C, "_blas_single_threaded", lambda: True)
    calls = []
    real_backward = _conv_blocked.backward
    monkeypatch.setattr(_conv_blocked, "backward", lambda *a: calls.append(a[5:7]) or real_backward(*a))
    rng = np.random.default_rng(8)
    for shape, wshape, kw in [((3, 6, 9, 9), (4, 6, 5, 5), {"padding": 1}),
                              ((2, 3, 6, 5), (5, 3, 3, 2), {"padding": (2, 0), "dilation": (2, 1)})]:
        for bad in (False, True):
            x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
            if bad:
                w[0, 0, 0, 0] = -np.inf
            _conv_matches_torch(torch, x, w, kw)
    assert calls == [(True, False)] * 2                 # finite weights only


def test_with_the_allocator_tuned_only_sizes_malloc_would_map_afresh_are_pooled(monkeypatch):
    monkeypatch.setattr(C._COLS, "pool_from", None)
    monkeypatch.setattr(M, "tuned", True)
    C._COLS.clear()
    small = C._COLS.empty((1024, 1024), np.float32)                  # 4 MiB: from malloc's heap
    assert small.base is None
    del small
    gc.collect()
    assert C._COLS._idle_bytes == 0
    big = C._COLS.empty((M.MMAP_THRESHOLD // 4,), np.float32)        # 32 MiB: pooled
    assert big.base is not None
    del big
    gc.collect()
    assert C._COLS._idle_bytes == M.MMAP_THRESHOLD
    C._COLS.clear()
    monkeypatch.setattr(M, "tuned", False)                           # no tuning (macOS, EMBER_MALLOC_TUNING=0)
    tiny = C._COLS.empty((4, 4), np.float32)
    assert tiny.base is not None
    del tiny
    gc.collect()
    assert C._COLS._idle_bytes == 64
    C._COLS.clear()


def test_cropped_weight_on_the_pixel_major_path_is_a_view_and_matches_torch(monkeypatch):
    """With 16+ channels the cropped convolutions take the pixel-major path, which gathers its weight rows
    from a view of the live taps (no contiguous crop is made or kept); at one thread and split among
    threads, the results and gradients equal torch's."""
    import pytest
    torch = pytest.importorskip("torch")
    from ember.ops import _conv_parallel as CP
    rng = np.random.default_rng(7)
    cases = [((8, 32, 1, 1), (8, 32, 3, 3), {"padding": 1}),                # (8 images: 2 parts of 4)
             ((10, 32, 2, 2), (16, 32, 3, 3), {"padding": 1, "stride": 2}),
             ((8, 16, 1, 3), (24, 16, 3, 3), {"padding": 1}),
             ((8, 64, 1, 1), (128, 64, 3, 3), {"padding": 1})]          # 288 KiB: no grid input gradient
    sections = []
    real = CP.in_parallel
    monkeypatch.setattr(CP, "in_parallel", lambda fns, t: sections.append(len(fns)) or real(fns, t))
    monkeypatch.setattr(C, "_SPLIT_MACS", 1)
    monkeypatch.setattr(C, "_SPLIT_PIXELS", 1)
    for threads in (1, 2):
        monkeypatch.setattr(CP, "blas_threads", lambda t=threads: t)
        for shape, wshape, kw in cases:
            x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
            sections.clear()
            _conv_matches_torch(torch, x, w, kw)
            assert sections == ([] if threads == 1 else [2, 2])   # the split ran forward and backward
    fn = ember.nn.functional.conv2d(ember.randn(4, 32, 1, 1, dtype=ember.float64),
                                    ember.randn(8, 32, 3, 3, dtype=ember.float64, requires_grad=True),
                                    padding=1).grad_fn
    assert fn.crop is not None and fn.w_live is None                # no copy kept for the backward
