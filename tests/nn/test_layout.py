"""Memory layout of the results of convolution, pooling and resampling ops: ``is_contiguous()`` and ``stride()``
of every output (and of the gradient that reaches an input, seen through a hook) equal PyTorch 2.13's, so that
``y.view(y.size(0), -1)`` after a conv stack works as in PyTorch (issue 11 class 3, issue 12 class 1).  Also:
inputs with channels_last strides (a permuted view) are accepted and give PyTorch's values and gradients."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import assert_close

TF = torch.nn.functional


def _lib(m):
    return F if m is ember else TF


CASES = [
    ("conv2d", lambda L, x, w: L.conv2d(x, w), [(2, 3, 6, 6), (4, 3, 3, 3)]),
    ("conv2d stride pad", lambda L, x, w: L.conv2d(x, w, padding=1, stride=2), [(3, 3, 7, 6), (4, 3, 3, 3)]),
    ("conv2d groups dil", lambda L, x, w: L.conv2d(x, w, groups=3, padding=2, dilation=2),
     [(2, 3, 6, 6), (6, 1, 3, 3)]),
    ("conv2d same", lambda L, x, w: L.conv2d(x, w, padding="same"), [(2, 2, 5, 5), (3, 2, 2, 3)]),
    ("conv2d batch 1", lambda L, x, w: L.conv2d(x, w, padding=1), [(1, 3, 5, 5), (4, 3, 3, 3)]),
    ("conv2d unbatched", lambda L, x, w: L.conv2d(x, w), [(3, 5, 5), (4, 3, 3, 3)]),
    ("conv2d one out channel", lambda L, x, w: L.conv2d(x, w), [(2, 3, 5, 5), (1, 3, 3, 3)]),
    ("conv1d", lambda L, x, w: L.conv1d(x, w, padding=2, stride=2), [(2, 3, 9), (4, 3, 3)]),
    ("conv1d groups", lambda L, x, w: L.conv1d(x, w, groups=2, dilation=2), [(3, 4, 9), (6, 2, 3)]),
    ("conv_transpose2d", lambda L, x, w: L.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
     [(2, 3, 5, 5), (3, 4, 3, 3)]),
    ("conv_transpose2d groups", lambda L, x, w: L.conv_transpose2d(x, w, groups=2, dilation=2),
     [(2, 4, 4, 5), (4, 3, 3, 2)]),
    ("conv_transpose2d outpad>=stride", lambda L, x, w: L.conv_transpose2d(x, w, stride=2, dilation=3,
                                                                            output_padding=2),
     [(2, 3, 4, 4), (3, 2, 2, 2)]),
    ("conv_transpose1d", lambda L, x, w: L.conv_transpose1d(x, w, stride=2, padding=1), [(2, 3, 5), (3, 4, 3)]),
    ("unfold", lambda L, x: L.unfold(x, 2, padding=1), [(2, 3, 5, 5)]),
    ("unfold dil stride", lambda L, x: L.unfold(x, (2, 3), dilation=2, stride=(1, 2)), [(2, 2, 7, 8)]),
    ("fold", lambda L, x: L.fold(x, (4, 4), 2, padding=1), [(2, 12, 25)]),
    ("fold stride", lambda L, x: L.fold(x, (5, 6), (2, 3), stride=2), [(3, 12, 4)]),
    ("max_pool2d", lambda L, x: L.max_pool2d(x, 2), [(2, 3, 6, 6)]),
    ("max_pool2d pad", lambda L, x: L.max_pool2d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 7, 7)]),
    ("max_pool1d", lambda L, x: L.max_pool1d(x, 2), [(2, 3, 6)]),
    ("avg_pool2d", lambda L, x: L.avg_pool2d(x, 3, 2, 1), [(2, 3, 7, 7)]),
    ("adaptive_avg_pool2d", lambda L, x: L.adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 7, 7)]),
    ("adaptive_max_pool2d", lambda L, x: L.adaptive_max_pool2d(x, (3, 2)), [(2, 3, 7, 7)]),
    ("interpolate nearest", lambda L, x: L.interpolate(x, scale_factor=2), [(2, 3, 4, 4)]),
    ("interpolate bilinear", lambda L, x: L.interpolate(x, size=(5, 7), mode="bilinear"), [(2, 3, 4, 4)]),
    ("interpolate linear", lambda L, x: L.interpolate(x, size=7, mode="linear"), [(2, 3, 4)]),
    ("pixel_shuffle", lambda L, x: L.pixel_shuffle(x, 2), [(2, 8, 3, 3)]),
    ("pixel_unshuffle", lambda L, x: L.pixel_unshuffle(x, 2), [(2, 2, 4, 4)]),
]


def _run(lib, fn, arrays, hooks):
    xs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    # a non-leaf copy of each input, so the hook sees the gradient exactly as the op's backward made it
    ys = [x * 1 for x in xs]
    for i, y in enumerate(ys):
        y.register_hook(lambda g, i=i: hooks.__setitem__(i, (tuple(g.shape), g.stride(), g.is_contiguous())))
    return fn(_lib(lib), *ys)


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=[c[0] for c in CASES])
def test_result_and_gradient_layout_match_torch(name, fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    eh, th = {}, {}
    eo = _run(ember, fn, arrays, eh)
    to = _run(torch, fn, arrays, th)
    assert_close(eo, to)
    assert eo.is_contiguous() == to.is_contiguous(), f"{name}: is_contiguous {eo.is_contiguous()}"
    assert eo.stride() == to.stride(), f"{name}: stride {eo.stride()} vs torch {to.stride()}"
    g = rng.standard_normal(tuple(to.shape))
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    assert eh == th, f"{name}: input-gradient layouts {eh} vs torch {th}"


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_layer_outputs_view_flat_for_every_padding_mode(mode):
    ember.manual_seed(0)
    for m in (nn.Conv2d(3, 5, 3, padding=1, padding_mode=mode), nn.Conv1d(3, 5, 3, padding=1, padding_mode=mode)):
        x = ember.randn(4, 3, 6, 6) if isinstance(m, nn.Conv2d) else ember.randn(4, 3, 6)
        y = m(x)
        assert y.is_contiguous()
        assert y.view(y.size(0), -1).shape == (4, y[0].numel())


def test_view_flat_after_a_conv_stack_like_pytorch_examples():
    ember.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2), nn.ReLU(),
                        nn.MaxPool2d(2), nn.ConvTranspose2d(8, 3, 2, stride=2))
    x = ember.randn(5, 1, 14, 14, requires_grad=True)
    y = net(x)
    flat = y.view(y.size(0), -1)          # raised "view size is not compatible" when outputs were (C, N, ...) buffers
    flat.sum().backward()
    assert x.grad.is_contiguous() and x.grad.shape == x.shape


def _channels_last(lib, a):
    t = lib.tensor(np.ascontiguousarray(a.transpose(0, 2, 3, 1))).permute(0, 3, 1, 2)
    return t.detach().requires_grad_(True)


@pytest.mark.parametrize("op,wshape", [
    (lambda L, x, w: L.conv2d(x, w, padding=1), (6, 3, 3, 3)),
    (lambda L, x, w: L.conv2d(x, w, stride=2, groups=3), (6, 1, 3, 3)),
    (lambda L, x, w: L.conv_transpose2d(x, w, stride=2), (3, 2, 3, 3)),
    (lambda L, x, w: L.max_pool2d(x, 2) + L.avg_pool2d(x, 2) + L.adaptive_avg_pool2d(x, 3), None),
    (lambda L, x, w: L.interpolate(x, scale_factor=2, mode="bilinear"), None),
    (lambda L, x, w: L.unfold(x, 2), None),
])
def test_channels_last_inputs_are_accepted(op, wshape):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 6, 6))
    wa = rng.standard_normal(wshape) if wshape else None
    ex, tx = _channels_last(ember, a), _channels_last(torch, a)
    assert not ex.is_contiguous() and ex.stride() == tx.stride()
    eo = op(F, ex, None if wa is None else ember.tensor(wa))
    to = op(TF, tx, None if wa is None else torch.tensor(wa))
    assert_close(eo, to)
    g = rng.standard_normal(tuple(to.shape))
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    assert_close(ex.grad, tx.grad)


@pytest.mark.parametrize("op", [
    lambda L, x: L.max_pool2d(x, 2),
    lambda L, x: L.max_pool2d(x, 2, 1, 0, 2, return_indices=True)[1],
    lambda L, x: L.max_pool2d(x, 3, 2, 1),
    lambda L, x: L.avg_pool2d(x, 2, divisor_override=3),
    lambda L, x: L.avg_pool2d(x, 3, 2, 1),
    lambda L, x: L.pixel_unshuffle(x, 2),
    lambda L, x: L.pixel_shuffle(x, 2),
])
def test_pool_and_shuffle_results_are_contiguous_for_any_input_layout(op):
    a = np.random.default_rng(0).standard_normal((6, 4, 4, 2))
    # a (2, 4, 4, 6) tensor whose memory is reversed (every stride "wrong")
    e, t = ember.tensor(a).permute(3, 2, 1, 0), torch.tensor(a).permute(3, 2, 1, 0)
    eo, to = op(F, e), op(TF, t)
    assert_close(eo, to)
    assert eo.is_contiguous() and eo.stride() == to.stride()


def test_max_pool_nan_argmax_is_the_last_nan_like_torch():
    a = np.arange(36.0).reshape(1, 1, 6, 6)
    for i, j in [(0, 0), (0, 2), (1, 3), (2, 2), (4, 4), (5, 5), (4, 1)]:
        a[0, 0, i, j] = np.nan
    a[0, 0, 1, 1] = np.inf
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
               dict(kernel_size=3, stride=1), dict(kernel_size=2, dilation=2)):
        et, tt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        (eo, ei), (to, ti) = F.max_pool2d(et, return_indices=True, **kw), TF.max_pool2d(tt, return_indices=True, **kw)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        eo.sum().backward()
        to.sum().backward()
        np.testing.assert_array_equal(et.grad.numpy(), tt.grad.numpy())


CL_CASES = [
    ("conv2d", lambda L, x, w: L.conv2d(x, _w(L, w), padding=1)),
    ("conv2d groups stride", lambda L, x, w: L.conv2d(x, _w(L, w[:4, :2]), stride=2, groups=2)),
    ("conv_transpose2d", lambda L, x, w: L.conv_transpose2d(x, _w(L, w.transpose(1, 0, 2, 3)), stride=2)),
    ("max_pool2d", lambda L, x, w: L.max_pool2d(x, 2)),
    ("max_pool2d indices", lambda L, x, w: L.max_pool2d(x, 3, 2, 1, return_indices=True)[1]),
    ("avg_pool2d", lambda L, x, w: L.avg_pool2d(x, 3, 2, 1)),
    ("adaptive_avg_pool2d", lambda L, x, w: L.adaptive_avg_pool2d(x, (4, 5))),
    ("adaptive_avg_pool2d 1", lambda L, x, w: L.adaptive_avg_pool2d(x, 1)),
    ("adaptive_max_pool2d", lambda L, x, w: L.adaptive_max_pool2d(x, 4)),
    ("interpolate bilinear", lambda L, x, w: L.interpolate(x, scale_factor=2, mode="bilinear")),
    ("interpolate nearest", lambda L, x, w: L.interpolate(x, size=(5, 7))),
    ("interpolate area", lambda L, x, w: L.interpolate(x, size=(4, 5), mode="area")),
    ("pixel_shuffle", lambda L, x, w: L.pixel_shuffle(x, 2)),
    ("unfold", lambda L, x, w: L.unfold(x, 2)),
]


def _w(lib, a):
    return (ember if lib is F else torch).tensor(np.ascontiguousarray(a))


@pytest.mark.parametrize("name,op", CL_CASES, ids=[c[0] for c in CL_CASES])
def test_channels_last_input_keeps_pytorch_layout(name, op):
    """PyTorch gives a channels_last input (an NHWC array permuted to NCHW) channels_last results (and, for
    conv and pooling, input gradients); ember has no memory_format, but such inputs arise from permutes."""
    rng = np.random.default_rng(2)
    a, wa = rng.standard_normal((2, 4, 6, 6)), rng.standard_normal((5, 4, 3, 3))
    eh, th = {}, {}
    outs = []
    for L, lib, hooks in ((ember, F, eh), (torch, TF, th)):
        x = _channels_last(L, a)
        y = x * 1
        y.register_hook(lambda g, hooks=hooks: hooks.__setitem__("g", g.stride()))
        out = op(lib, y, wa)
        if out.dtype.is_floating_point if L is torch else out.dtype.kind == "f":
            out.backward(L.tensor(np.random.default_rng(5).standard_normal(tuple(out.shape))))
        outs.append(out)
    assert_close(outs[0], outs[1])
    assert outs[0].stride() == outs[1].stride(), f"{name}: {outs[0].stride()} vs torch {outs[1].stride()}"
    assert eh == th, f"{name}: input-gradient strides {eh} vs torch {th}"


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_result_keeps_the_input_layout_like_torch(p):
    e = ember.tensor(np.ones((4, 3))).t()
    t = torch.ones(4, 3, dtype=torch.float64).t()
    assert F.dropout(e, p).stride() == TF.dropout(t, p).stride()


@pytest.mark.parametrize("op", [
    lambda L, x: L.layer_norm(x, (3,)),
    lambda L, x: L.rms_norm(x, (3,)),
    lambda L, x: L.rrelu(x),
])
def test_fused_norm_and_rrelu_results_are_contiguous_like_torch(op):
    a = np.random.default_rng(0).standard_normal((3, 4))
    e, t = op(F, ember.tensor(a).t()), op(TF, torch.tensor(a).t())
    assert_close(e, t)
    assert e.stride() == t.stride()
