"""Issue 12 (PyTorch programs run unchanged): the layers PyTorch users reach for that ember lacked -- nn.RMSNorm,
nn.LocalResponseNorm, nn.RReLU, F.conv3d/nn.Conv3d, F.max_pool3d/avg_pool3d with nn.MaxPool3d/AvgPool3d,
nn.BatchNorm3d, F.feature_alpha_dropout/nn.FeatureAlphaDropout and F.dropout3d (and the rest of the 3-D family
they come with: F.conv_transpose3d/nn.ConvTranspose3d, nn.InstanceNorm3d, F.adaptive_avg_pool3d/adaptive_max_pool3d,
F.max_unpool3d, F.lp_pool3d and their layers) -- against
torch 2.13: repr,
state_dict keys (a torch state_dict loads), values and gradients in float32 and float64, float64 finite
differences, training-mode statistics of the random layers, and the errors for wrong input ranks.
(Signatures: tests/compat/test_signatures.py compares every shared name.)"""
import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.helpers import assert_close

TF = torch.nn.functional
TOL = {"float32": (2e-5, 1e-4), "float64": (1e-10, 1e-9)}


def _pair(em, tm, dtype):
    """The torch module in ``dtype`` and the ember module with its state loaded from torch's state_dict."""
    tm, em = tm.to(getattr(torch, dtype)), em.to(getattr(ember, dtype))
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    em.load_state_dict(sd)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    return em, tm


def _run(em, tm, x, dtype, seed=0, check_params=True):
    """Forward both on ``x`` and backward a random upstream gradient; compare output, input and parameter
    gradients."""
    atol, rtol = TOL[dtype]
    x = x.astype(dtype)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = em(ex), tm(tx)
    assert_close(eo, to, atol, rtol, what="output")
    assert eo.dtype == np.dtype(dtype)
    g = np.random.default_rng(seed).standard_normal(tuple(to.shape)).astype(dtype)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    assert_close(ex.grad, tx.grad, atol, rtol, what="input grad")
    if check_params:
        ep, tp = dict(em.named_parameters()), dict(tm.named_parameters())
        assert list(ep) == list(tp)
        for k in tp:
            assert_close(ep[k].grad, tp[k].grad, atol * 10, rtol, what=f"grad of {k}")
    return eo, to


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _gradcheck(fn, *arrays):
    xs = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, xs)


# ------------------------------------------------------------------------------------------------- RMSNorm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kw", [(4, {}), ([3, 4], {"eps": 1e-3}), ((4,), {"elementwise_affine": False}),
                                      ([2, 3, 4], {"eps": 0.5})])
def test_rmsnorm_matches_torch(dtype, shape, kw):
    em, tm = _pair(enn.RMSNorm(shape, **kw), torch.nn.RMSNorm(shape, **kw), dtype)
    if em.weight is not None:       # a non-trivial weight, loaded from torch's state_dict
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_randn(*tm.weight.shape, seed=3)))
        em.load_state_dict({"weight": ember.tensor(tm.weight.detach().numpy().copy())})
    _run(em, tm, _randn(2, 5, 2, 3, 4), dtype)


def test_rmsnorm_state_dict_and_dtype():
    em = enn.RMSNorm([3, 4], dtype=ember.float64)
    assert list(em.state_dict()) == ["weight"] and em.weight.dtype == np.float64
    assert tuple(em.weight.shape) == (3, 4)
    assert list(enn.RMSNorm(3, elementwise_affine=False).state_dict()) == []
    assert em.normalized_shape == (3, 4) and em.eps is None


def test_rmsnorm_gradcheck_and_errors():
    _gradcheck(lambda x, w: EF.rms_norm(x, (3, 4), w, 1e-3), _randn(2, 3, 4), _randn(3, 4, seed=1))
    with pytest.raises(RuntimeError, match=r"RMSNorm expected input of shape \(\*, 3, 4\), got \(2, 4, 3\)"):
        enn.RMSNorm([3, 4])(ember.randn(2, 4, 3))
    with pytest.raises(RuntimeError, match=r"RMSNorm expected input of shape \(\*, 3, 4\), got \(4,\)"):
        enn.RMSNorm([3, 4])(ember.randn(4))


# ------------------------------------------------------------------------------------- LocalResponseNorm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size,kw,shape", [(2, {}, (2, 6, 5, 5)), (3, {"alpha": 0.5, "beta": 0.6, "k": 2.0}, (2, 5, 7)),
                                           (5, {"alpha": 1e-2}, (1, 4, 2, 3, 3)), (1, {}, (2, 3, 4))])
def test_local_response_norm_matches_torch(dtype, size, kw, shape):
    em, tm = _pair(enn.LocalResponseNorm(size, **kw), torch.nn.LocalResponseNorm(size, **kw), dtype)
    _run(em, tm, 3 * _randn(*shape), dtype)
    assert list(em.state_dict()) == []


def test_local_response_norm_gradcheck_and_errors():
    _gradcheck(lambda x: EF.local_response_norm(x, 3, alpha=0.3, beta=0.7, k=1.5), _randn(2, 5, 3, 2))
    with pytest.raises(ValueError, match=r"LocalResponseNorm expected an input of 3 or more dims .* \(4, 5\)"):
        enn.LocalResponseNorm(2)(ember.randn(4, 5))


# ---------------------------------------------------------------------------------------------------- RReLU
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("args", [(), (0.1, 0.3), (0.2, 0.2)])
def test_rrelu_eval_matches_torch(dtype, args):
    em, tm = _pair(enn.RReLU(*args), torch.nn.RReLU(*args), dtype)
    em.eval(), tm.eval()
    _run(em, tm, _randn(3, 4, 5), dtype)


def test_rrelu_training_slopes():
    lower, upper = 0.1, 0.3
    m = enn.RReLU(lower, upper)
    x = ember.tensor(np.concatenate([-np.linspace(0.5, 3, 20000), np.linspace(0.0, 2, 100)]), requires_grad=True)
    y = m(x)
    y.sum().backward()
    xn, yn, gn = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    neg = xn < 0
    slope = yn[neg] / xn[neg]
    assert slope.min() >= lower and slope.max() <= upper               # one slope per element, in [lower, upper]
    assert abs(slope.mean() - (lower + upper) / 2) < 5e-3              # uniform: mean (l+u)/2, sd (u-l)/sqrt(12)
    assert abs(slope.std() - (upper - lower) / np.sqrt(12)) < 5e-3
    assert len(np.unique(slope)) > 1000
    np.testing.assert_allclose(gn[neg], slope, rtol=1e-12)              # the gradient is the element's slope
    np.testing.assert_array_equal(yn[~neg], xn[~neg])
    np.testing.assert_array_equal(gn[~neg], 1.0)


def test_rrelu_inplace_and_repr():
    m = enn.RReLU(0.1, 0.3, inplace=True)
    assert repr(m) == repr(torch.nn.RReLU(0.1, 0.3, inplace=True)) == "RReLU(lower=0.1, upper=0.3, inplace=True)"
    x = ember.tensor([-2.0, 1.0])
    m.eval()
    out = m(x)
    assert out is x and x.tolist() == [-0.4000000059604645, 1.0]
    y = ember.tensor([-1.0, -2.0, 3.0])
    EF.rrelu_(y, 0.2, 0.4, training=True)
    assert (-0.8 <= y[1].item() <= -0.4) and y[2].item() == 3.0


# --------------------------------------------------------------------------------------------------- Conv3d
CONV3D = [
    ((2, 4, 5, 6, 7), (4, 6, (3, 2, 3)), dict(stride=(2, 1, 2), padding=(1, 2, 0), dilation=(2, 1, 1), groups=2)),
    ((2, 3, 4, 5, 5), (3, 4, 3), dict(padding="same")),
    ((3, 4, 5, 5), (3, 2, (1, 2, 2)), dict(padding="valid", bias=False)),       # unbatched
    ((1, 2, 4, 5, 6), (2, 4, 3), dict(padding=1, padding_mode="reflect")),
    ((1, 2, 4, 5, 6), (2, 2, 2), dict(padding=(1, 0, 2), padding_mode="circular", stride=2)),
    ((1, 2, 3, 4, 4), (2, 3, 2), dict(padding=1, padding_mode="replicate")),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,args,kw", CONV3D)
def test_conv3d_module_matches_torch(dtype, xshape, args, kw):
    torch.manual_seed(0)
    em, tm = _pair(enn.Conv3d(*args, **kw), torch.nn.Conv3d(*args, **kw), dtype)
    eo, _ = _run(em, tm, _randn(*xshape), dtype)
    assert eo.is_contiguous()


def test_conv3d_state_dict_and_init():
    m = enn.Conv3d(2, 6, (1, 2, 3), groups=2)
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {"weight": (6, 1, 1, 2, 3), "bias": (6,)}
    bound = 1 / np.sqrt(1 * 2 * 3)             # kaiming_uniform(a=sqrt(5)) over fan_in = 1*1*2*3
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.bias.detach().numpy()).max() <= bound


def test_conv3d_functional_gradcheck():
    _gradcheck(lambda x, w, b: EF.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1)),
               _randn(1, 2, 4, 4, 3), _randn(2, 2, 2, 2, 2, seed=1), _randn(2, seed=2))
    x = ember.tensor(_randn(1, 2, 3, 3, 3), requires_grad=True)
    w = ember.tensor(_randn(2, 1, 2, 2, 2, seed=1), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: EF.conv3d(a, b, groups=2), [x, w])


def test_conv3d_top_level_and_integer_input():
    x = np.arange(2 * 2 * 3 * 3 * 3).reshape(2, 2, 3, 3, 3)
    w = np.ones((3, 2, 2, 2, 2), dtype=np.int64)
    np.testing.assert_array_equal(ember.conv3d(ember.tensor(x), ember.tensor(w)).numpy(),
                                  torch.conv3d(torch.tensor(x), torch.tensor(w)).numpy())


def test_conv3d_errors():
    with pytest.raises(RuntimeError, match=r"Conv3d expected input of shape \(N, 2, D, H, W\) or \(2, D, H, W\), "
                                           r"got \(2, 2, 5\)"):
        enn.Conv3d(2, 4, 3)(ember.randn(2, 2, 5))
    with pytest.raises(RuntimeError, match=r"conv3d: expected 4D \(unbatched\) or 5D \(batched\) input, got input "
                                           r"of shape \(2, 5, 5\)"):
        EF.conv3d(ember.randn(2, 5, 5), ember.randn(4, 2, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv3d: expected weight to be 5-D, got shape \(4, 2, 3, 3\)"):
        EF.conv3d(ember.randn(1, 2, 5, 5, 5), ember.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"conv3d: input of shape \(1, 2, 2, 5, 5\).*smaller than the dilated "
                                           r"kernel size 3"):
        EF.conv3d(ember.randn(1, 2, 2, 5, 5), ember.randn(4, 2, 3, 3, 3))


CONVT3D = [
    ((2, 4, 3, 4, 5), (4, 6, (3, 2, 2)), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 1, 2))),
    ((2, 3, 4, 5, 5), (3, 4, 3), {}),
    ((3, 2, 3, 3), (3, 2, (1, 2, 2)), dict(stride=(3, 2, 1), output_padding=(2, 1, 0), bias=False)),   # unbatched
    ((1, 2, 3, 3, 3), (2, 2, (3, 1, 1)), dict(padding=(2, 0, 0), dilation=2, output_padding=1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,args,kw", CONVT3D)
def test_conv_transpose3d_module_matches_torch(dtype, xshape, args, kw):
    torch.manual_seed(0)
    em, tm = _pair(enn.ConvTranspose3d(*args, **kw), torch.nn.ConvTranspose3d(*args, **kw), dtype)
    eo, _ = _run(em, tm, _randn(*xshape), dtype)
    assert eo.is_contiguous()


def test_conv_transpose3d_output_size_gradcheck_and_errors():
    torch.manual_seed(0)
    em, tm = _pair(enn.ConvTranspose3d(2, 3, 3, stride=2, padding=1), torch.nn.ConvTranspose3d(2, 3, 3, stride=2,
                                                                                            padding=1), "float64")
    x = _randn(1, 2, 3, 4, 2)
    ey, ty = em(ember.tensor(x), output_size=(6, 7, 4)), tm(torch.tensor(x), output_size=(6, 7, 4))
    assert tuple(ey.shape) == (1, 3, 6, 7, 4)
    assert_close(ey, ty, 1e-12, 1e-10)
    _gradcheck(lambda a, w, b: EF.conv_transpose3d(a, w, b, stride=(2, 1, 1), padding=(1, 0, 1),
                                                   output_padding=(1, 0, 0), dilation=(1, 2, 1)),
               _randn(1, 2, 2, 3, 2), _randn(2, 2, 2, 2, 2, seed=1), _randn(2, seed=2))
    xi, wi = np.arange(36).reshape(1, 2, 2, 3, 3), np.ones((2, 1, 2, 2, 2), dtype=np.int64)
    et = ember.conv_transpose3d(ember.tensor(xi), ember.tensor(wi), stride=2, groups=2)
    np.testing.assert_array_equal(et.numpy(), torch.conv_transpose3d(torch.tensor(xi), torch.tensor(wi), stride=2,
                                                                      groups=2).numpy())
    with pytest.raises(RuntimeError, match=r"ConvTranspose3d expected input of shape \(N, 2, D, H, W\) or "
                                           r"\(2, D, H, W\), got \(2, 3, 3\)"):
        em(ember.randn(2, 3, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"conv_transpose3d: output_padding \(2, 0, 0\) must be smaller than "
                                           r"either stride"):
        EF.conv_transpose3d(ember.randn(1, 2, 2, 2, 2), ember.randn(2, 2, 2, 2, 2), output_padding=(2, 0, 0))


# -------------------------------------------------------------------------------------- MaxPool3d/AvgPool3d
POOL3D = [
    ((2, 3, 5, 6, 7), dict(kernel_size=2)),
    ((2, 3, 5, 6, 7), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0), ceil_mode=True)),
    ((3, 6, 7, 5), dict(kernel_size=3, stride=2, padding=1)),                                  # unbatched
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,kw", POOL3D)
@pytest.mark.parametrize("dilation", [1, (1, 2, 1)])
def test_max_pool3d_matches_torch(dtype, xshape, kw, dilation):
    kw = dict(kw, dilation=dilation)
    if dilation != 1:
        kw["padding"] = 0
    x = np.round(_randn(*xshape) * 2)               # many ties: PyTorch's first-maximum winner
    em, tm = _pair(enn.MaxPool3d(**kw, return_indices=True), torch.nn.MaxPool3d(**kw, return_indices=True),
                   dtype)
    (ey, ei), (ty, ti) = em(ember.tensor(x.astype(dtype))), tm(torch.tensor(x.astype(dtype)))
    assert_close(ey, ty, 0, 0) and np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert ei.dtype == np.int64
    em, tm = _pair(enn.MaxPool3d(**kw), torch.nn.MaxPool3d(**kw), dtype)
    _run(em, tm, x, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,kw", POOL3D)
@pytest.mark.parametrize("extra", [{}, {"count_include_pad": False}, {"divisor_override": 5}])
def test_avg_pool3d_matches_torch(dtype, xshape, kw, extra):
    em, tm = _pair(enn.AvgPool3d(**kw, **extra), torch.nn.AvgPool3d(**kw, **extra), dtype)
    _run(em, tm, _randn(*xshape), dtype)


def test_pool3d_nan_integer_and_top_level():
    x = _randn(1, 2, 4, 5, 5)
    x[0, 0, 1, 2, 2] = x[0, 1, 0, 0, 0] = x[0, 1, 1, 0, 1] = np.nan
    ey, ei = EF.max_pool3d(ember.tensor(x), 3, 1, 1, return_indices=True)
    ty, ti = TF.max_pool3d(torch.tensor(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())        # PyTorch's rule: the last NaN of the window
    xi = np.random.default_rng(0).integers(-50, 50, (2, 2, 5, 5, 5))
    for kw in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=2, divisor_override=3),
               dict(kernel_size=3, padding=1, count_include_pad=False)]:
        np.testing.assert_array_equal(EF.avg_pool3d(ember.tensor(xi), **kw).numpy(),
                                      TF.avg_pool3d(torch.tensor(xi), **kw).numpy())
    np.testing.assert_array_equal(ember.max_pool3d(ember.tensor(xi), 2).numpy(),
                                  torch.max_pool3d(torch.tensor(xi), 2).numpy())
    y, i = EF.max_pool3d_with_indices(ember.tensor(x), 2)
    assert tuple(i.shape) == (1, 2, 2, 2, 2)


def test_pool3d_gradcheck():
    _gradcheck(lambda x: EF.avg_pool3d(x, (2, 3, 2), (1, 2, 2), (1, 1, 0), ceil_mode=True,
                                       count_include_pad=False), _randn(1, 2, 4, 5, 4))
    x = np.random.default_rng(0).permutation(2 * 4 * 5 * 4).reshape(1, 2, 4, 5, 4) / 7.0   # distinct values
    _gradcheck(lambda t: EF.max_pool3d(t, (2, 3, 2), (1, 2, 2), (1, 1, 0), dilation=(1, 1, 2)), x)


def test_pool3d_errors():
    with pytest.raises(RuntimeError, match=r"MaxPool3d expected input of shape \(N, C, D, H, W\) or \(C, D, H, W\), "
                                           r"got \(2, 4, 4\)"):
        enn.MaxPool3d(2)(ember.randn(2, 4, 4))
    with pytest.raises(RuntimeError, match=r"AvgPool3d expected input of shape .* got \(2, 1, 1, 4, 4, 4\)"):
        enn.AvgPool3d(2)(ember.randn(2, 1, 1, 4, 4, 4))
    with pytest.raises(RuntimeError, match=r"max_pool3d: expected 4D or 5D \(batch mode\) input .* \(2, 4, 4\)"):
        EF.max_pool3d(ember.randn(2, 4, 4), 2)
    with pytest.raises(RuntimeError, match=r"avg_pool3d: pad should be at most half"):
        EF.avg_pool3d(ember.randn(1, 1, 4, 4, 4), 3, 1, 2)
    with pytest.raises(RuntimeError, match=r"max_pool3d: given input size \(1, 1, 2, 4, 4\).*too small"):
        EF.max_pool3d(ember.randn(1, 1, 2, 4, 4), 3)
    with pytest.raises(ValueError, match=r"avg_pool3d: kernel_size must be an int or a tuple of 3 ints"):
        EF.avg_pool3d(ember.randn(1, 1, 4, 4, 4), (2, 2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,size", [((2, 3, 5, 7, 9), (1, 2, 4)), ((2, 3, 5, 7, 9), 1),
                                         ((3, 6, 4, 5), (None, 3, 2)), ((2, 2, 6, 6, 6), 3),
                                         ((1, 2, 3, 4, 5), (4, 5, 7))])
def test_adaptive_pool3d_matches_torch(dtype, xshape, size):
    x = np.round(_randn(*xshape) * 2)               # ties
    em, tm = _pair(enn.AdaptiveAvgPool3d(size), torch.nn.AdaptiveAvgPool3d(size), dtype)
    _run(em, tm, x, dtype)
    em, tm = _pair(enn.AdaptiveMaxPool3d(size), torch.nn.AdaptiveMaxPool3d(size), dtype)
    _run(em, tm, x, dtype)
    (ey, ei), (ty, ti) = EF.adaptive_max_pool3d_with_indices(ember.tensor(x), size), \
        TF.adaptive_max_pool3d_with_indices(torch.tensor(x), size)
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_adaptive_pool3d_gradcheck_and_errors():
    _gradcheck(lambda x: EF.adaptive_avg_pool3d(x, (2, 3, 2)), _randn(1, 2, 3, 5, 4))
    x = np.random.default_rng(0).permutation(2 * 3 * 5 * 4).reshape(1, 2, 3, 5, 4) / 7.0
    _gradcheck(lambda t: EF.adaptive_max_pool3d(t, (2, 3, 2)), x)
    with pytest.raises(RuntimeError, match=r"AdaptiveAvgPool3d expected input of shape \(N, C, D, H, W\) or "
                                           r"\(C, D, H, W\), got \(2, 4, 4\)"):
        enn.AdaptiveAvgPool3d(1)(ember.randn(2, 4, 4))
    with pytest.raises(RuntimeError, match=r"adaptive_max_pool3d: expected a non-empty 4D or 5D .* \(2, 4, 4\)"):
        EF.adaptive_max_pool3d(ember.randn(2, 4, 4), 1)
    with pytest.raises(NotImplementedError, match=r"adaptive_avg_pool3d: not implemented for ember.int64"):
        EF.adaptive_avg_pool3d(ember.ones(1, 1, 2, 2, 2, dtype=ember.int64), 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape,kw", [((2, 3, 4, 6, 6), dict(kernel_size=2)),
                                       ((3, 5, 4, 6), dict(kernel_size=3, stride=2, padding=1))])
def test_max_unpool3d_matches_torch(dtype, xshape, kw):
    x = _randn(*xshape).astype(dtype)
    ty, ti = TF.max_pool3d(torch.tensor(x), return_indices=True, **kw)
    ey, ei = EF.max_pool3d(ember.tensor(x), return_indices=True, **kw)
    em, tm = _pair(enn.MaxUnpool3d(**kw), torch.nn.MaxUnpool3d(**kw), dtype)
    a, b = torch.tensor(ty.numpy(), requires_grad=True), ember.tensor(ey.numpy(), requires_grad=True)
    to, eo = tm(a, ti, output_size=xshape[-3:]), em(b, ei, output_size=xshape[-3:])
    assert_close(eo, to, 0, 0)
    g = _randn(*to.shape, seed=1).astype(dtype)
    to.backward(torch.tensor(g)), eo.backward(ember.tensor(g))
    assert_close(b.grad, a.grad, 0, 0)
    with pytest.raises(RuntimeError, match=r"max_unpool3d: found an invalid max index"):
        EF.max_unpool3d(ey, ei + 10 ** 6, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [1, 2, 3.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(3, 2, 2), stride=(1, 2, 1), ceil_mode=True)])
def test_lp_pool3d_matches_torch(dtype, p, kw):
    em, tm = _pair(enn.LPPool3d(p, **kw), torch.nn.LPPool3d(p, **kw), dtype)
    _run(em, tm, np.abs(_randn(2, 2, 5, 6, 5)) + 0.1, dtype)


def test_lp_pool_minus_inf_is_min_abs_pooling():
    """Regression: p = -inf is PyTorch's -max_pool(-|x|) (the minimum of |x| per window) in 1-D and 2-D too;
    ember computed x ** -inf with it."""
    x = _randn(2, 2, 6, 6)
    assert_close(EF.lp_pool2d(ember.tensor(x), -float("inf"), 2), TF.lp_pool2d(torch.tensor(x), -float("inf"), 2))
    assert_close(EF.lp_pool1d(ember.tensor(x[0]), -float("inf"), 3),
                 TF.lp_pool1d(torch.tensor(x[0]), -float("inf"), 3))


# ---------------------------------------------------------------------------------------------- BatchNorm3d
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None}, {"track_running_stats": False}])
def test_batchnorm3d_matches_torch(dtype, kw):
    em, tm = _pair(enn.BatchNorm3d(3, **kw), torch.nn.BatchNorm3d(3, **kw), dtype)
    for step in range(2):                       # training: batch statistics and running-stat updates
        _run(em, tm, _randn(2, 3, 2, 3, 4, seed=step) * 2 + 1, dtype, seed=step)
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, *TOL[dtype], what=k)
    em.eval(), tm.eval()
    _run(em, tm, _randn(2, 3, 2, 3, 4, seed=5), dtype)


def test_batchnorm3d_gradcheck_and_errors():
    m = enn.BatchNorm3d(2, dtype=ember.float64)
    _gradcheck(lambda x, w, b: EF.batch_norm(x, None, None, w, b, True), _randn(2, 2, 2, 2, 2),
               _randn(2, seed=1), _randn(2, seed=2))
    with pytest.raises(ValueError, match=r"BatchNorm3d expected 5D input \(got 4D input\): input of shape "
                                         r"\(2, 2, 3, 3\)"):
        m(ember.randn(2, 2, 3, 3, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"BatchNorm3d expected input with 2 channels, got 3"):
        m(ember.randn(2, 3, 2, 2, 2, dtype=ember.float64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True}])
@pytest.mark.parametrize("xshape", [(2, 3, 2, 3, 4), (3, 2, 3, 4)])
def test_instancenorm3d_matches_torch(dtype, kw, xshape):
    em, tm = _pair(enn.InstanceNorm3d(3, **kw), torch.nn.InstanceNorm3d(3, **kw), dtype)
    _run(em, tm, _randn(*xshape) * 2 + 1, dtype)
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, *TOL[dtype], what=k)
    with pytest.raises(ValueError, match=r"InstanceNorm3d expected 4D or 5D input \(got 3D input\)"):
        em(ember.randn(2, 3, 4, dtype=getattr(ember, dtype)))


# ----------------------------------------------------------------------------- FeatureAlphaDropout/dropout3d
_ALPHA = 1.7580993408473766


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_feature_alpha_dropout_eval_and_repr(dtype):
    em, tm = _pair(enn.FeatureAlphaDropout(0.3), torch.nn.FeatureAlphaDropout(0.3), dtype)
    em.eval(), tm.eval()
    _run(em, tm, _randn(2, 3, 4), dtype)
    assert repr(enn.FeatureAlphaDropout(0.2, True)) == repr(torch.nn.FeatureAlphaDropout(0.2, True))
    x = ember.randn(3, 4)
    assert EF.feature_alpha_dropout(x, 0.5) is x                   # training=False by default, as PyTorch


def test_feature_alpha_dropout_training_mask():
    p = 0.3
    x = ember.tensor(_randn(400, 50, 3), requires_grad=True)
    y = enn.FeatureAlphaDropout(p)(x)
    a = 1.0 / np.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
    xn, yn = x.detach().numpy(), y.detach().numpy()
    kept = np.isclose(yn, a * xn + _ALPHA * a * p, atol=1e-12).all(-1)        # whole channels kept ...
    dropped = np.isclose(yn, -_ALPHA * a + _ALPHA * a * p, atol=1e-12).all(-1)  # ... or set to SELU's floor
    assert (kept ^ dropped).all()
    assert abs(dropped.mean() - p) < 0.02
    y.backward(ember.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(np.where(kept, a, 0.0)[..., None], xn.shape))
    # unit-variance input keeps (about) zero mean and unit variance, the point of alpha dropout
    z = EF.feature_alpha_dropout(ember.randn(2000, 40, 8), p, training=True).numpy()
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_feature_alpha_dropout_errors():
    with pytest.raises(RuntimeError, match=r"feature_alpha_dropout: Feature dropout requires at least 2 dimensions "
                                           r"in the input, got shape \(5,\)"):
        EF.feature_alpha_dropout(ember.randn(5), 0.5, training=True)
    with pytest.raises(ValueError, match="probability has to be between 0 and 1, but got 1.5"):
        enn.FeatureAlphaDropout(1.5)
    torch_out = torch.feature_alpha_dropout(torch.ones(2, 3), 0.5, False)
    assert ember.feature_alpha_dropout(ember.ones(2, 3), 0.5, False).tolist() == torch_out.tolist()


@pytest.mark.parametrize("shape,lead", [((20, 30, 2, 3, 2), 2), ((30, 2, 3, 2), 1)])
def test_dropout3d_module_and_functional_agree(shape, lead):
    x = ember.ones(*shape)
    ember.manual_seed(7)
    a = EF.dropout3d(x, 0.4)
    ember.manual_seed(7)
    b = enn.Dropout3d(0.4)(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    an = a.numpy().reshape(shape[:lead] + (-1,))
    assert (an == an[..., :1]).all()                             # one draw per channel
    assert set(np.unique(an)) <= {0.0, np.float32(1 / 0.6)}
    assert abs((an[..., 0] == 0).mean() - 0.4) < 0.15
    assert EF.dropout3d(x, 0.4, training=False) is x


def test_dropout3d_other_ranks_warn_as_torch():
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d"):
        y = EF.dropout3d(ember.ones(4, 3, 2), 0.5)
    assert (y.numpy() == y.numpy()[:, :1, :1]).all()               # unbatched: one draw per entry of dim 0
    with pytest.raises(RuntimeError, match="dropout3d: Feature dropout requires at least 2 dimensions"), \
            pytest.warns(UserWarning):
        EF.dropout3d(ember.tensor(1.0), 0.5)


def test_small_3d_cnn_runs_as_in_torch():
    """A video/volume classifier built from the new layers, with torch's weights: the same logits, loss and
    parameter gradients after one step of SGD."""
    def build(nn):
        return nn.Sequential(nn.Conv3d(2, 4, 3, padding=1), nn.BatchNorm3d(4), nn.RReLU(), nn.MaxPool3d(2),
                             nn.Conv3d(4, 6, (1, 3, 3), padding=(0, 1, 1)), nn.LocalResponseNorm(3),
                             nn.ConvTranspose3d(6, 4, 2, stride=2), nn.AvgPool3d(2), nn.AdaptiveAvgPool3d(1),
                             nn.Flatten(), nn.RMSNorm(4), nn.FeatureAlphaDropout(0.2), nn.Linear(4, 3))
    torch.manual_seed(0)
    tm, em = build(torch.nn).double(), build(enn).to(ember.float64)
    em.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
    tm[2].eval(), em[2].eval(), tm[11].eval(), em[11].eval()       # the random layers in their eval form
    x, y = _randn(3, 2, 4, 6, 6), np.array([0, 2, 1])
    topt, eopt = torch.optim.SGD(tm.parameters(), lr=0.1), ember.optim.SGD(em.parameters(), lr=0.1)
    for _ in range(2):
        tl = TF.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        el = EF.cross_entropy(em(ember.tensor(x)), ember.tensor(y))
        assert abs(tl.item() - el.item()) < 1e-10
        topt.zero_grad(), eopt.zero_grad()
        tl.backward(), el.backward()
        topt.step(), eopt.step()
    for (k, tp), (_, ep) in zip(tm.named_parameters(), em.named_parameters()):
        assert_close(ep, tp, 1e-10, 1e-9, what=k)
