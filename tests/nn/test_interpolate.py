"""F.interpolate against PyTorch 2.13: every mode (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area), align_corners both ways, size and scale_factor, recompute_scale_factor; values, dtypes, strides and
gradients, including inputs with inf and NaN (one inf must stay local: no resampling by dense matrix products,
issue 11 class 4) and the exact tie cases where an output lands on an input (a zero weight times inf)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from tests.helpers import compare, gradcheck

TF = torch.nn.functional


def _lib(m):
    return F if m is ember else TF


def _both(a, kw, g_seed=1):
    """Run interpolate in both libraries on array ``a``; compare values (NaN where torch has NaN), dtype,
    stride and the gradient of a random upstream gradient."""
    et, tt = ember.tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    eo, to = F.interpolate(et, **kw), TF.interpolate(tt, **kw)
    tol = 1e-5 if a.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=tol, atol=tol, equal_nan=True,
                               err_msg=str(kw))
    assert eo.dtype == np.dtype(str(to.dtype)[6:]) and eo.stride() == to.stride(), kw
    g = np.random.default_rng(g_seed).standard_normal(tuple(to.shape)).astype(a.dtype)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(et.grad.numpy(), tt.grad.numpy(), rtol=tol, atol=tol, equal_nan=True,
                               err_msg=f"grad {kw}")


MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 1),
         ("area", 2), ("area", 3)]


@pytest.mark.parametrize("mode,nd", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_modes_sizes_and_scales_match_torch(mode, nd, dtype):
    rng = np.random.default_rng(nd)
    spatial = [(5,), (4, 5), (3, 4, 2)][nd - 1]
    a = rng.standard_normal((2, 2) + spatial).astype(dtype)
    interp = mode in ("linear", "bilinear", "bicubic", "trilinear")
    for ac in ([None, False, True] if interp else [None]):
        for kw in (dict(size=(7, 3, 5)[:nd]), dict(size=4), dict(scale_factor=2), dict(scale_factor=(1.5, 0.5, 3.0)[:nd]),
                   dict(scale_factor=1.7, recompute_scale_factor=True),
                   dict(scale_factor=(2.5, 1.3, 1.1)[:nd], recompute_scale_factor=False)):
            _both(a, dict(kw, mode=mode, align_corners=ac))


@pytest.mark.parametrize("mode,nd", MODES)
def test_one_inf_or_nan_stays_local(mode, nd):
    """PyTorch reads only an output's neighbours, so one inf spreads to a few outputs (NaN only where a
    neighbour's weight is exactly 0); a dense resampling matrix made every output of its row NaN."""
    spatial = [(6,), (4, 5), (3, 4, 3)][nd - 1]
    for v in (np.inf, -np.inf, np.nan):
        for scale in (2.0, 3.0, 0.5):
            a = np.random.default_rng(0).standard_normal((1, 2) + spatial)
            a[(0, 1) + tuple(s // 2 for s in spatial)] = v
            kw = dict(mode=mode, scale_factor=scale)
            _both(a, kw)
            out = F.interpolate(ember.tensor(a), **kw).numpy()
            assert np.isfinite(out[0, 0]).all()              # the other channel is untouched
            if scale > 1:
                assert np.isfinite(out[0, 1]).mean() > 0.2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode,nd", [("linear", 1), ("bicubic", 2)])
def test_outputs_landing_exactly_on_an_input(mode, nd, dtype):
    """Sizes where source positions are (nearly) integers: whether the neighbour with weight 0 is read (and
    0 * inf gives NaN) depends on PyTorch's rounding (fused multiply-add, float32 floor); probe every input."""
    for n_in, n_out in [(1, 5), (2, 6), (3, 9), (4, 12), (2, 10), (3, 7), (5, 15)]:
        for j in range(n_in):
            shape = (1, 1, n_in) if nd == 1 else (1, 1, n_in, 1)
            a = np.ones(shape, dtype)
            a.reshape(-1)[j] = np.inf
            size = n_out if nd == 1 else (n_out, 1)
            for ac in (False, True):
                _both(a, dict(mode=mode, size=size, align_corners=ac))


def test_size_unchanged_and_scale_given():
    # nearest copies an unchanged dim in its 4-D forward and every backward; bicubic's backward copies when no
    # size changes; linear modes copy (weights 1 and 0 on the same input: inf * 0 is NaN there, as in PyTorch)
    rng = np.random.default_rng(3)
    for shape, sf in [((1, 2, 3), 1.3), ((1, 2, 3, 3), 1.3), ((1, 1, 2, 2, 2), 1.2), ((1, 2, 3, 6), (1.1, 1.0))]:
        a = rng.standard_normal(shape)
        a.reshape(-1)[1] = np.inf
        nd = len(shape) - 2
        for mode in ["nearest", "nearest-exact", {1: "linear", 2: "bicubic", 3: "trilinear"}[nd]]:
            _both(a, dict(mode=mode, scale_factor=sf))
            _both(a, dict(mode=mode, size=shape[2:]))


def test_bicubic_and_trilinear_gradcheck_and_double_backward():
    assert gradcheck(lambda x: F.interpolate(x, scale_factor=1.7, mode="bicubic"), [(1, 2, 3, 4)])
    assert gradcheck(lambda x: F.interpolate(x, size=(3, 5, 2), mode="trilinear", align_corners=True),
                     [(1, 1, 2, 3, 4)])
    assert gradcheck(lambda x: F.interpolate(x, size=5, mode="area"), [(1, 2, 7)])
    # second derivative through the resampling (linear in x, so d/dx of a product with x)
    compare(lambda m, x: (_lib(m).interpolate(x, scale_factor=2, mode="bicubic") ** 2).sum(), [(1, 1, 3, 3)])


def test_integer_images_nearest_only():
    a = np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4)
    for kw in (dict(scale_factor=2), dict(size=(5, 3), mode="nearest-exact")):
        e, t = F.interpolate(ember.tensor(a), **kw), TF.interpolate(torch.tensor(a), **kw)
        assert e.dtype == ember.uint8
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_empty_batch_and_zero_area_output():
    _both(np.ones((0, 2, 3, 3)), dict(scale_factor=2, mode="bilinear"))
    e = F.interpolate(ember.ones(1, 2, 4), size=0, mode="area")
    assert tuple(e.shape) == tuple(TF.interpolate(torch.ones(1, 2, 4), size=0, mode="area").shape)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda L, x: L.interpolate(x), ValueError, "either size or scale_factor"),
    (lambda L, x: L.interpolate(x, size=2, scale_factor=2), ValueError, "only one of size"),
    (lambda L, x: L.interpolate(x, size=2, recompute_scale_factor=True), ValueError, "not meaningful"),
    (lambda L, x: L.interpolate(x, size=2, mode="nearest", align_corners=True), ValueError, "align_corners"),
    (lambda L, x: L.interpolate(x, size=2, mode="linear"), NotImplementedError, "linear"),
    (lambda L, x: L.interpolate(x, size=2, mode="trilinear"), NotImplementedError, "trilinear"),
    (lambda L, x: L.interpolate(x, size=(2, 3, 4)), ValueError, "same number of spatial dimensions"),
    (lambda L, x: L.interpolate(x, size=0), RuntimeError, "greater than 0"),
    (lambda L, x: L.interpolate(x, size=2, mode="bogus"), NotImplementedError, "bogus"),
])
def test_errors_like_torch(call, exc, msg):
    a = np.ones((1, 1, 4, 4))
    with pytest.raises(exc, match=msg):
        call(TF, torch.tensor(a))
    with pytest.raises(exc, match=msg):
        call(F, ember.tensor(a))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_antialias_matches_torch(mode, dtype):
    """antialias=True (PIL-style filter stretched by the downscale factor, as torchvision's Resize uses):
    values and gradients, down- and upsampling, align_corners both ways, one inf staying local."""
    rng = np.random.default_rng(7)
    for shape, kw in [((2, 3, 9, 11), dict(size=(4, 5))), ((1, 2, 8, 8), dict(scale_factor=0.3)),
                      ((1, 2, 5, 6), dict(size=(9, 3), align_corners=True)), ((1, 1, 6, 7), dict(size=(6, 3))),
                      ((1, 2, 4, 4), dict(scale_factor=2.0))]:
        a = rng.standard_normal(shape).astype(dtype)
        _both(a, dict(kw, mode=mode, antialias=True))
        a.reshape(-1)[5] = np.inf
        _both(a, dict(kw, mode=mode, antialias=True))


def test_antialias_only_for_bilinear_and_bicubic_4d():
    with pytest.raises(ValueError, match="Anti-alias"):
        F.interpolate(ember.ones(1, 1, 4), size=2, mode="linear", antialias=True)
    with pytest.raises(ValueError, match="Anti-alias"):
        TF.interpolate(torch.ones(1, 1, 4), size=2, mode="linear", antialias=True)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsample_functions_warn_like_torch(name):
    kw = dict(scale_factor=2)
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        e = getattr(F, name)(ember.ones(1, 1, 2, 2), **kw)
    with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
        t = getattr(TF, name)(torch.ones(1, 1, 2, 2), **kw)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
