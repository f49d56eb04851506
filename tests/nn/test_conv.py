"""Convolutions (ember.ops.conv, F.conv*, nn.Conv*/ConvTranspose*) against PyTorch: values and every gradient
for each option (stride, padding incl. same/valid, dilation, groups, bias, output_padding, padding_mode),
float32 and float64, gradcheck and double backward, unfold/fold, errors, reprs, state_dict keys and default init."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import compare, gradcheck, assert_close
from tests.nn._layer_check import check_layer


def _lib(m):
    return F if m is ember else torch.nn.functional


CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(2, 1), padding=(0, 2)),
    dict(padding="same"),
    dict(padding="same", dilation=2),
    dict(padding="valid", dilation=(2, 1)),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2),               # depthwise
]


@pytest.mark.parametrize("kw", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_functional(kw, bias):
    g = kw.get("groups", 1)
    shapes = [(2, 4, 7, 8), (6 if g != 4 else 8, 4 // g, 3, 3)] + ([(6 if g != 4 else 8,)] if bias else [])
    compare(lambda m, x, w, *b: _lib(m).conv2d(x, w, b[0] if b else None, **kw), shapes)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2), dict(padding="same", dilation=3),
                                dict(groups=2), dict(padding="valid")])
def test_conv1d_functional(kw):
    g = kw.get("groups", 1)
    compare(lambda m, x, w, b: _lib(m).conv1d(x, w, b, **kw), [(2, 4, 11), (6, 4 // g, 4), (6,)])


def test_conv2d_even_kernel_same_padding():
    # the odd total pad goes to the right/bottom, as in PyTorch
    compare(lambda m, x, w: _lib(m).conv2d(x, w, padding="same"), [(1, 2, 6, 5), (3, 2, 4, 2)])


def test_conv2d_unbatched_and_1x1():
    compare(lambda m, x, w: _lib(m).conv2d(x, w), [(3, 5, 5), (4, 3, 1, 1)])


def test_conv2d_float32_lenet_shapes():
    compare(lambda m, x, w, b: _lib(m).conv2d(x, w, b), [(4, 1, 28, 28), (6, 1, 5, 5), (6,)],
            dtype=np.float32, atol=1e-4, rtol=1e-4)


CONVT = [dict(), dict(stride=2, padding=1, output_padding=1), dict(dilation=2, groups=2),
         dict(stride=3, padding=2, output_padding=2), dict(stride=2, dilation=2, output_padding=1)]


@pytest.mark.parametrize("kw", CONVT)
def test_conv_transpose2d_functional(kw):
    g = kw.get("groups", 1)
    compare(lambda m, x, w, b: _lib(m).conv_transpose2d(x, w, b, **kw), [(2, 4, 5, 6), (4, 3, 3, 2), (3 * g,)])


@pytest.mark.parametrize("kw", CONVT)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_transpose2d_batch_inner_path(kw, dtype, monkeypatch):
    """A batch of at least twice the input's width takes ``_convT_batch_inner`` (the batch innermost): it must
    give PyTorch's numbers for every stride, padding, output padding, dilation and group count."""
    from ember.ops import conv as C
    calls = []
    real = C._convT_batch_inner
    monkeypatch.setattr(C, "_convT_batch_inner", lambda *a: calls.append(1) or real(*a))
    g = kw.get("groups", 1)
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == np.float32 else {}
    compare(lambda m, x, w, b: _lib(m).conv_transpose2d(x, w, b, **kw), [(12, 4, 5, 3), (4, 3, 3, 2), (3 * g,)],
            dtype=dtype, **tol)
    assert calls, "the batch-inner path was not taken"


def test_conv_transpose2d_batch_inner_path_not_for_small_batches(monkeypatch):
    from ember.ops import conv as C
    monkeypatch.setattr(C, "_convT_batch_inner", lambda *a: pytest.fail("batch-inner path taken"))
    F.conv_transpose2d(ember.randn(4, 8, 7, 7), ember.randn(8, 4, 3, 3), stride=2)      # batch < 2 * width
    F.conv_transpose2d(ember.randn(64, 16, 4, 4), ember.randn(16, 1, 2, 2), stride=2)   # 4 taps < 2 * 16 channels


@pytest.mark.parametrize("kw", CONVT)
def test_conv_transpose1d_functional(kw):
    g = kw.get("groups", 1)
    compare(lambda m, x, w, b: _lib(m).conv_transpose1d(x, w, b, **kw), [(2, 4, 5), (4, 3, 3), (3 * g,)])


def test_gradcheck_conv_family():
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2), [(1, 4, 5, 5), (2, 2, 3, 3), (2,)])
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=2), [(1, 2, 6), (3, 2, 3)])
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, output_padding=1), [(1, 2, 3, 3), (2, 2, 2, 2), (2,)])
    assert gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1), [(1, 2, 4), (2, 3, 3)])


def test_unfold_fold():
    kw = dict(padding=1, stride=2, dilation=(1, 2))
    compare(lambda m, x: _lib(m).unfold(x, 3, **kw), [(2, 3, 7, 8)])
    compare(lambda m, x: _lib(m).fold(x, (7, 8), 3, **kw), [(2, 27, 12)])
    # each is the other's backward, so they are differentiable twice
    assert ember.autograd.gradgradcheck(lambda x: F.unfold(x, 2) ** 2, [ember.randn(1, 1, 3, 3, dtype=ember.float64, requires_grad=True)])


def test_conv_backward_twice_with_retain_graph():
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    w = ember.randn(3, 2, 3, 3, requires_grad=True)
    y = F.conv2d(x, w).sum()
    y.backward(retain_graph=True)
    g1 = w.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * g1, rtol=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(groups=2, dilation=2, padding=(1, 2)),
                                dict(stride=3)])
def test_conv_double_backward(kw):
    g = kw.get("groups", 1)
    r = lambda *s: ember.randn(*s, dtype=ember.float64, requires_grad=True)  # noqa: E731
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [r(1, 2, 6, 7), r(4, 2 // g, 3, 3), r(4)])


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2),
                                dict(stride=2, dilation=2, output_padding=1)])
def test_conv_transpose_double_backward(kw):
    g = kw.get("groups", 1)
    r = lambda *s: ember.randn(*s, dtype=ember.float64, requires_grad=True)  # noqa: E731
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
                                        [r(1, 2, 3, 4), r(2, 2, 3, 2), r(2 * g)])


def test_conv_second_derivative_matches_torch():
    # gradient penalty style: d/dw of ||d(out)/dx||^2
    def f(m, x, w):
        x = x * 1.0
        y = _lib(m).conv2d(x, w, stride=2, padding=1)
        (gx,) = (ember.autograd.grad if m is ember else torch.autograd.grad)((y * y).sum(), x, create_graph=True)
        return (gx * gx).sum()
    compare(f, [(1, 2, 5, 5), (3, 2, 3, 3)])


def test_conv_errors():
    with pytest.raises(RuntimeError, match=r"expected input\[8, 1, 28, 28\] to have 3 channels"):
        F.conv2d(ember.randn(8, 1, 28, 28), ember.randn(6, 3, 5, 5))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(ember.randn(1, 1, 5, 5), ember.randn(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="kernel size"):
        F.conv2d(ember.randn(1, 1, 2, 2), ember.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        F.conv2d(ember.randn(1, 1, 5, 5), ember.randn(1, 1, 3, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"Conv2d expected input of shape \(N, 3, H, W\)"):
        nn.Conv2d(3, 6, 5)(ember.randn(8, 1, 28, 28))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(RuntimeError, match="output_padding"):
        F.conv_transpose2d(ember.randn(1, 2, 3, 3), ember.randn(2, 2, 3, 3), stride=2, output_padding=2)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_padding_modes(mode):
    torch.manual_seed(0)
    em = nn.Conv2d(4, 6, 3, stride=(1, 2), padding=(1, 2), padding_mode=mode)
    tm = torch.nn.Conv2d(4, 6, 3, stride=(1, 2), padding=(1, 2), padding_mode=mode)
    check_layer(em, tm, (2, 4, 6, 7))
    em.eval()
    tm.eval()
    check_layer(em, tm, (2, 4, 6, 7))


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_conv2d_layer_same_groups(mode):
    em = nn.Conv2d(4, 8, (3, 4), padding="same", groups=2, dilation=2, padding_mode=mode, bias=False)
    tm = torch.nn.Conv2d(4, 8, (3, 4), padding="same", groups=2, dilation=2, padding_mode=mode, bias=False)
    check_layer(em, tm, (2, 4, 9, 9))


@pytest.mark.parametrize("mode", ["zeros", "replicate", "circular"])
def test_conv1d_layer(mode):
    check_layer(nn.Conv1d(3, 5, 3, padding=1, padding_mode=mode), torch.nn.Conv1d(3, 5, 3, padding=1, padding_mode=mode), (2, 3, 10))


def test_conv_transpose_layers():
    check_layer(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 5))
    check_layer(nn.ConvTranspose1d(4, 2, 3, stride=2, dilation=2), torch.nn.ConvTranspose1d(4, 2, 3, stride=2, dilation=2),
                (2, 4, 6))


def test_conv_transpose_output_size():
    em, tm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    check_layer(em, tm, (1, 3, 4, 4), forward_args=([8, 8],))
    with pytest.raises(ValueError, match="output size"):
        em(ember.randn(1, 3, 4, 4), output_size=[10, 10])


@pytest.mark.parametrize("args,kw", [((3, 6, 5), {}), ((3, 6, 3), dict(padding="same", bias=False)),
                                     ((4, 8, (3, 2)), dict(stride=2, dilation=2, groups=2, padding_mode="reflect", padding=1))])
def test_conv_repr_state_dict_and_init(args, kw):
    em, tm = nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert tuple(em.state_dict()[k].shape) == tuple(v.shape)
    fan_in = math.prod(em.weight.shape[1:])
    bound = 1 / math.sqrt(fan_in)           # kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = em.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    ct, tt = nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1), torch.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1)
    assert repr(ct) == repr(tt)
    assert tuple(ct.weight.shape) == tuple(tt.weight.shape)
    c1, t1 = nn.Conv1d(2, 3, 4, padding="valid"), torch.nn.Conv1d(2, 3, 4, padding="valid")
    assert repr(c1) == repr(t1)


@pytest.mark.parametrize("make,shape", [
    (lambda L: L.Unfold(2, padding=1), (2, 3, 4, 4)),
    (lambda L: L.Unfold((2, 3), dilation=2, stride=(1, 2)), (1, 2, 7, 8)),
    (lambda L: L.Fold((4, 4), 2), (2, 12, 9)),
    (lambda L: L.Fold((5, 6), (2, 3), stride=2, padding=1), (1, 12, 9)),
])
def test_fold_unfold_layers(make, shape):
    em, tm = make(nn), make(torch.nn)
    assert repr(em) == repr(tm)
    check_layer(em, tm, shape, copy=False)
