"""3x3 stride-1 convolutions by Winograd's F(2x2, 3x3) and F(4x4, 3x3) (ember.ops._conv_winograd): the compiled
transforms against their NumPy twins bit for bit, and conv2d's forward and both gradients against PyTorch: odd
and even sizes (partial tiles), padding 0 to 2 (uneven too), bias or none, channels_last and permuted inputs, an
input without gradient, retain_graph, one and two threads (the batch in parts), finite differences in float64,
non-finite inputs or weights (which the direct path computes instead), and the switch that turns it off
(``ember.backends.nnpack``)."""
import numpy as np
import pytest

import ember
from ember.autograd.gradcheck import gradcheck
from ember.ops import _ckernels, _conv_winograd as W
from tests.ops.test_conv_nhwc import _run      # (conv2d's forward and gradients, as a variant asks)

torch = pytest.importorskip("torch")
needs_kernels = pytest.mark.skipif(not _ckernels.available(), reason="ember's compiled kernels are not built here")

GEOMS = [  # (N, C, H, W), O, ((p0, p1), (q0, q1))
    ((2, 16, 8, 8), 20, ((1, 1), (1, 1))),
    ((3, 17, 7, 6), 16, ((1, 1), (1, 1))),
    ((2, 16, 5, 6), 16, ((0, 0), (0, 0))),
    ((2, 16, 3, 4), 18, ((2, 2), (2, 1))),
    ((1, 16, 2, 2), 16, ((1, 1), (1, 1))),
    ((2, 24, 4, 5), 16, ((1, 0), (0, 2))),
]


def _same(a, b):
    """The same bits, NaN's payload and sign aside (the compiler may swap an addition's operands)."""
    nan = np.isnan(a)
    return a.shape == b.shape and np.array_equal(nan, np.isnan(b)) and a[~nan].tobytes() == b[~nan].tobytes()


@needs_kernels
@pytest.mark.parametrize("m, r", [(2, 3), (4, 3), (2, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", range(len(GEOMS)))
def test_compiled_transforms_are_the_numpy_twins_bits(dtype, geom, m, r):
    (n, c, h, wd), o, pads = GEOMS[geom]
    if r == 5:          # (the 3x3 geometries with two more rows and columns: the same outputs)
        h, wd = h + 2, wd + 2
    rng = np.random.default_rng(geom)
    x = rng.standard_normal((n, c, h, wd)).astype(dtype)
    x.flat[5], x.flat[7] = np.inf, np.nan
    w = rng.standard_normal((o, c, r, r)).astype(dtype)
    w.flat[3] = -np.inf
    b = rng.standard_normal(o).astype(dtype)
    oh, ow, th, tw = W._tiles(h, wd, pads, m, r)
    p = (m + r - 1) ** 2
    mm = W.planes(n * th * tw, o, dtype, p)
    mm[...] = rng.standard_normal(mm.shape)
    g = rng.standard_normal((n, o, oh, ow)).astype(dtype)
    g.flat[2] = np.nan
    du = W.planes(o, c, dtype, p)
    du[...] = rng.standard_normal(du.shape)

    def run():
        return (W.input_transform(x, pads, m, r),
                W.output_transform(mm, np.empty((n, o, oh, ow), dtype), b, th, tw, m, r),
                W.output_transform(mm, np.empty((n, o, oh, ow), dtype), None, th, tw, m, r),
                W.grad_output_transform(g, th, tw, m, r), W.kernel_transform(w, m), W.kernel_transform(w, m, True, False),
                W.kernel_transform(w, m, False, True), W.kernel_transform(w, m, True, True),
                W.weight_grad_transform(du, m, r))
    compiled = run()
    with _ckernels.disabled():
        twins = run()
    for a, t in zip(compiled, twins):
        assert _same(np.ascontiguousarray(a), np.ascontiguousarray(t))


@pytest.mark.parametrize("m, r", [(2, 3), (4, 3), (2, 5)])
def test_transforms_compute_the_convolution(m, r):
    # V, U, the GEMMs and Y against the direct sums, in float64 (the twins; the kernels are their bits above)
    rng = np.random.default_rng(m)
    x, w = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((5, 3, r, r))
    pads = ((1, 2), (0, 1))
    oh, ow, th, tw = W._tiles(9, 7, pads, m, r)
    with _ckernels.disabled():
        mm = W._gemms(W.input_transform(x, pads, m, r), W.kernel_transform(w, m, transpose=True))
        y = W.output_transform(mm, np.empty((2, 5, oh, ow)), None, th, tw, m, r)
    xp = np.pad(x, ((0, 0), (0, 0)) + pads)
    ref = np.einsum("nchwij,ocij->nohw", np.lib.stride_tricks.sliding_window_view(xp, (r, r), (2, 3)), w)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)


@needs_kernels
def test_kernels_refuse_what_they_do_not_take():
    x = np.zeros((2, 16, 4, 4), np.float32)
    v = W.planes(2 * 4, 16, np.float32)
    assert _ckernels.wino_input(x, v, (1, 1, 2, 2, 2, 3))
    assert not _ckernels.wino_input(x, W.planes(2 * 4, 16, np.float64), (1, 1, 2, 2, 2, 3))    # dtypes differ
    assert not _ckernels.wino_input(x, W.planes(2 * 3, 16, np.float32), (1, 1, 2, 2, 2, 3))    # too few tiles
    assert not _ckernels.wino_input(x, v, (4, 1, 2, 2, 2, 3))          # padding beyond the tile grid
    assert not _ckernels.wino_input(x[:, :, ::2], v, (1, 1, 1, 2, 2, 3))                       # not contiguous
    assert not _ckernels.wino_input(x, v, (1, 1, 2, 2, 3, 3))       # F(3x3, 3x3): not built
    assert not _ckernels.wino_input(x, v, (1, 1, 2, 2, 4, 5))       # F(4x4, 5x5): not built
    assert not _ckernels.wino_input(x, W.planes(2, 16, np.float32, 16), (1, 1, 1, 1, 4, 3))   # 16 planes, not 36
    assert _ckernels.wino_input(x, W.planes(2, 16, np.float32, 36), (1, 1, 1, 1, 4, 3))
    y = np.empty((2, 16, 4, 4), np.float32)
    assert not _ckernels.wino_output(v, y, np.zeros(15, np.float32), (2, 2, 2, 3))      # bias of 15
    assert not _ckernels.wino_output(v, y, None, (1, 2, 2, 3))   # output taller than the tiles
    assert not _ckernels.wino_grad_output(y, v, (2, 2, 4, 3))    # 16 planes for F(4x4)
    assert not _ckernels.wino_weight(np.zeros((4, 16, 3, 2), np.float32), W.planes(4, 16, np.float32), 2)
    assert not _ckernels.wino_weight(np.zeros((4, 16, 3, 3), np.float32), W.planes(4, 16, np.float32), 4)  # 16 planes
    assert _ckernels.wino_weight(np.zeros((4, 16, 3, 3), np.float32), W.planes(4, 16, np.float32, 36), 4)


CASES = [  # x shape, w shape, kwargs
    ((3, 16, 6, 7), (20, 16, 3, 3), {"padding": 1}),
    ((2, 17, 5, 5), (16, 17, 3, 3), {"padding": 0}),
    ((2, 16, 4, 3), (18, 16, 3, 3), {"padding": 2}),
    ((2, 16, 7, 5), (16, 16, 3, 3), {"padding": (1, 0)}),
    ((2, 16, 2, 2), (40, 16, 3, 3), {"padding": 1}),
    ((4, 32, 8, 8), (32, 32, 3, 3), {"padding": "same"}),
    ((2, 16, 13, 11), (16, 16, 3, 3), {"padding": 1}),
    ((2, 16, 12, 12), (20, 16, 5, 5), {"padding": 0}),           # F(2x2, 5x5): the triplet network's conv2
    ((3, 17, 6, 7), (16, 17, 5, 5), {"padding": (3, 1)}),
]


def _counting(monkeypatch):
    calls = []
    real = W.forward
    monkeypatch.setattr(W, "forward", lambda *a: calls.append(r := real(*a)) or r)
    return calls


@pytest.mark.parametrize("kernels", [True, False])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_conv2d_matches_torch(monkeypatch, case, kernels):
    calls = _counting(monkeypatch)
    shape, wshape, kw = CASES[case]
    rng = np.random.default_rng(case)
    variants = ["plain", "no_bias", "channels_last", "permuted", "no_x_grad", "retain", "nonfinite_x", "inf_w"]
    for variant in variants:
        x, w, b = rng.standard_normal(shape), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
        b = None if variant == "no_bias" else b
        if variant == "nonfinite_x":
            x[0, 0, 0, 1], x[-1, -1, -1, -1] = np.inf, np.nan
        if variant == "inf_w":
            w[0, 0, 0, 0] = np.inf
        g = rng.standard_normal(tuple(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, **kw).shape))
        if kernels:
            ours = _run(ember, x, w, b, kw, variant, g)[0]
        else:
            with _ckernels.disabled():
                ours = _run(ember, x, w, b, kw, variant, g)[0]
        for a, t in zip(ours, _run(torch, x, w, b, kw, variant, g)[0]):
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)
    # Winograd took every finite case; the non-finite ones came back None and the direct path ran
    assert [r is not None for r in calls] == [True] * 6 + [False] * 2


@pytest.mark.parametrize("threads", [1, 2])
def test_float32_in_parts_against_torch(monkeypatch, threads):
    monkeypatch.setattr(W, "MIN_TILES", 1)          # the batch in parts at 2 threads even when small
    calls = _counting(monkeypatch)
    rng = np.random.default_rng(threads)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for shape, wshape, pad in [((8, 32, 8, 8), (48, 32, 3, 3), 1), ((9, 16, 5, 7), (16, 16, 3, 3), 0),
                                   ((6, 32, 12, 12), (64, 32, 5, 5), 0)]:
            x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (shape, wshape, wshape[:1]))
            r = wshape[2]
            oh, ow = shape[2] + 2 * pad - r + 1, shape[3] + 2 * pad - r + 1
            g = rng.standard_normal((shape[0], wshape[0], oh, ow)).astype(np.float32)
            ours = _run(ember, x, w, b, {"padding": pad}, "plain", g)[0]
            theirs = _run(torch, x, w, b, {"padding": pad}, "plain", g)[0]
            # F(4x4, 3x3) (8x8 outputs) and F(2x2, 5x5) round to a few millionths of the largest value,
            # F(2x2, 3x3) (3x5) to tenths of it
            tol = 2e-5 if r == 5 or oh * ow >= W.F4_FROM else 2e-6
            for a, t in zip(ours, theirs):
                scale = np.abs(t).max()
                np.testing.assert_allclose(a / scale, t / scale, rtol=0, atol=tol)
    finally:
        ember.set_num_threads(before)
    assert len(calls) == 3 and all(c is not None for c in calls)


@pytest.mark.parametrize("chunk_bytes", [1, 120_000])
def test_chunks_of_images_against_torch(monkeypatch, chunk_bytes):
    # one image a chunk, or two, two and one (F(4x4): 36 positions x 4 tiles x (16 + 32) channels x 8 bytes =
    # 55 KB an image)
    monkeypatch.setattr(W, "CHUNK_BYTES", chunk_bytes)
    calls = _counting(monkeypatch)
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((5, 16, 8, 8)), rng.standard_normal((32, 16, 3, 3)), rng.standard_normal(32)
    g = rng.standard_normal((5, 32, 8, 8))
    for a, t in zip(_run(ember, x, w, b, {"padding": 1}, "plain", g)[0],
                    _run(torch, x, w, b, {"padding": 1}, "plain", g)[0]):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-9)
    assert W._chunks(x, 32, ((1, 1), (1, 1)), 4, 3) == (1 if chunk_bytes == 1 else 2)
    assert len(calls) == 1 and calls[0] is not None


@pytest.mark.parametrize("hw, r", [((3, 4), 3), ((6, 7), 3), ((4, 5), 5)])     # F(2x2, 3x3), F(4x4, 3x3), F(2x2, 5x5)
def test_finite_differences_float64(monkeypatch, hw, r):
    calls = _counting(monkeypatch)
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 16) + hw), requires_grad=True)
    w = ember.tensor(rng.standard_normal((16, 16, r, r)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(16), requires_grad=True)
    assert gradcheck(lambda x, w, b: ember.nn.functional.conv2d(x, w, b, padding=1), (x, w, b))
    assert calls and all(r is not None for r in calls)


def test_second_derivatives_take_the_graph_path():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 16, 4, 4)), rng.standard_normal((16, 16, 3, 3))
    res = []
    for lib in (ember, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xs, ws, padding=1)
        (gx,) = lib.autograd.grad((y * y).sum(), xs, create_graph=True)
        (gw,) = lib.autograd.grad(gx.sum(), ws)
        res.append(gw.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-9, atol=1e-9)


def test_applies_only_where_measured():
    f32 = np.float32
    x = np.zeros((2, 16, 8, 8), f32)
    w = np.zeros((16, 16, 3, 3), f32)
    one, pad1 = (1, 1), ((1, 1), (1, 1))
    assert W.applies(x, w, one, pad1, one, 1)
    assert not W.applies(x, w, (2, 2), pad1, one, 1)                         # strided
    assert not W.applies(x, w, one, pad1, (2, 2), 1)                         # dilated
    assert not W.applies(x, np.zeros((16, 8, 3, 3), f32), one, pad1, one, 2)    # grouped
    assert W.applies(x, np.zeros((16, 16, 5, 5), f32), one, ((4, 4), (0, 0)), one, 1)      # 5x5, padding 4
    assert not W.applies(x, np.zeros((16, 16, 5, 5), f32), one, ((5, 0), (0, 0)), one, 1)  # padding 5
    assert not W.applies(x, np.zeros((16, 16, 7, 7), f32), one, pad1, one, 1)   # 7x7
    assert not W.applies(x, np.zeros((16, 16, 3, 5), f32), one, pad1, one, 1)   # 3x5
    assert not W.applies(x, w, one, ((3, 3), (1, 1)), one, 1)               # padding 3
    assert not W.applies(x[:, :8], w[:8, :8], one, pad1, one, 1)             # 8 channels
    assert W.applies(np.zeros((2, 16, 30, 30), f32), w, one, pad1, one, 1)   # no upper limit
    with ember.backends.nnpack.flags(enabled=False):                       # switched off
        assert not W.applies(x, w, one, pad1, one, 1)
    assert W.applies(x, w, one, pad1, one, 1)
    assert [W.tile_size(*hw) for hw in [(2, 2), (4, 4), (5, 7), (6, 6), (26, 26)]] == [2, 2, 2, 4, 4]
    assert W.tile_size(8, 8, 5) == 2
    assert not W.applies(x.astype(np.float16), w.astype(np.float16), one, pad1, one, 1)


def test_nnpack_switch_gives_the_direct_sums(monkeypatch):
    calls = _counting(monkeypatch)
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 16, 8, 8)).astype(np.float32), rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    assert ember.backends.nnpack.is_available() and ember.backends.nnpack.enabled
    with ember.backends.nnpack.flags(enabled=False):
        assert not ember.backends.nnpack.enabled
        y_direct = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    assert ember.backends.nnpack.enabled and not calls
    y_wino = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    assert len(calls) == 1
    assert ember.backends.nnpack.set_flags(False) == (True,)
    try:
        ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
        assert len(calls) == 1
    finally:
        ember.backends.nnpack.set_flags(True)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    scale = np.abs(ref).max()
    assert np.abs(y_direct - ref).max() <= 1e-6 * scale       # the direct sums: PyTorch's rounding class
    assert np.abs(y_wino - ref).max() <= 2e-5 * scale
