"""Ops of the conv / pool / norm / loss / rnn / attention / dropout / init / embedding code on "cuda" that the
fuzz specs leave out (other options, other paths): each must give the CPU result (values, dtype, strides,
gradients of the inputs), bit for bit on the NumPy-backed stand-in, and keep its results on the device."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from ember.nn.utils import rnn as rnn_utils
from ember.ops import rnn as rnn_ops

_RNG = np.random.default_rng(7)


def _f32(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


def _run(fn, arrays, dev, grad):
    ts = [ember.tensor(a, device=dev, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray)
          else a for a in arrays]
    out = fn(*ts)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if isinstance(o, ember.Tensor)]
    for o in outs:
        assert o.device.type == dev, f"an output is on {o.device}, expected {dev}"
    diff = [o for o in outs if o.requires_grad]
    if grad and diff:
        seeds = [ember.tensor(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape)).astype(
            o.detach().cpu().numpy().dtype), device=dev) for o in diff]
        ember.autograd.backward(diff, seeds)
    grads = [t.grad for t in ts if isinstance(t, ember.Tensor) and t.requires_grad]
    for g in grads:
        assert g is None or g.device.type == dev
    return ([(o.detach().cpu().numpy(), o.stride()) for o in outs],
            [None if g is None else g.cpu().numpy() for g in grads])


def check(fn, *arrays, grad=True, exact=True):
    """``fn(*tensors)`` on cuda equals ``fn`` on the CPU (values, strides, input gradients)."""
    ember.manual_seed(0)
    c_out, c_grads = _run(fn, arrays, "cpu", grad)
    ember.manual_seed(0)
    d_out, d_grads = _run(fn, arrays, "cuda", grad)
    assert len(c_out) == len(d_out)
    cmp = np.testing.assert_array_equal if exact else \
        (lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6))
    for (c, cs), (d, ds) in zip(c_out, d_out):
        assert c.dtype == d.dtype and c.shape == d.shape and cs == ds
        cmp(d, c)
    for c, d in zip(c_grads, d_grads):
        assert (c is None) == (d is None)
        if c is not None:
            cmp(d, c)


def test_conv_options(cuda, exact):
    x, w = _f32(2, 4, 9, 9), _f32(6, 2, 3, 3)
    check(lambda x, w: F.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2), x, w, exact=exact)
    check(lambda x, w: F.conv2d(x, w, padding="same", groups=2), x, w, exact=exact)
    # images large enough for the CPU's cache-blocked kernels (a device takes the whole-batch GEMMs)
    big, wb = _f32(2, 3, 16, 16), _f32(4, 3, 3, 3)
    check(lambda x, w: F.conv2d(x, w, padding=1), big, wb, exact=False)
    # channels_last input: result and gradient keep it, as on the CPU
    check(lambda x, w: F.conv2d(x.contiguous(memory_format=ember.channels_last), w, padding=1), big, wb,
          exact=False)
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2),
          _f32(2, 4, 5, 5), _f32(4, 3, 3, 3), exact=exact)
    check(lambda x, w: F.conv1d(x, w, padding=1), _f32(4, 50), _f32(3, 4, 3), exact=exact)   # unbatched


def test_conv_double_backward(cuda, exact):
    def fn(x, w):
        y = F.conv2d(x, w, padding=1)
        (gx,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)
        return gx
    check(fn, _f32(1, 2, 5, 5), _f32(3, 2, 3, 3), exact=exact)


def test_pool_options(cuda, exact):
    x = _f32(2, 3, 9, 8)
    check(lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True, return_indices=True), x, exact=exact)
    check(lambda x: F.max_pool2d(x, 3, 1, 1), x, exact=exact)         # overlapping windows: scatter-add
    check(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=4), x,
          exact=exact)
    check(lambda x: F.adaptive_max_pool2d(x, (4, 3), return_indices=True), x, exact=exact)
    check(lambda x: F.lp_pool1d(x[0], 2, 3), x, exact=exact)
    check(lambda x: F.pixel_unshuffle(F.pixel_shuffle(x[:, :, :4, :4].repeat(1, 4, 1, 1), 2), 2), x,
          exact=exact)

    def unpool(x):
        y, i = F.max_pool2d(x, 2, return_indices=True)
        return F.max_unpool2d(y, i, 2, output_size=x.shape[-2:])
    check(unpool, x, exact=exact)
    # an all -inf window in the padding (PyTorch's arg-max index rule)
    neg = np.full((1, 1, 3, 3), -np.inf, np.float32)
    check(lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2, return_indices=True), neg, grad=False, exact=exact)


@pytest.mark.parametrize("mode,kw", [("bilinear", {"align_corners": True}), ("bicubic", {}),
                                     ("bilinear", {"antialias": True}), ("nearest-exact", {}), ("area", {})])
def test_interpolate_modes(cuda, exact, mode, kw):
    x = _f32(1, 2, 7, 6)
    size = (3, 4) if kw.get("antialias") else (11, 5)
    check(lambda x: F.interpolate(x, size=size, mode=mode, **kw), x, exact=exact)
    # an inf stays local (the gathers, not the dense matrix)
    xi = x.copy()
    xi[0, 0, 3, 2] = np.inf
    check(lambda x: F.interpolate(x, size=size, mode=mode, **kw), xi, grad=False, exact=exact)


def test_interpolate_3d_and_5d(cuda, exact):
    check(lambda x: F.interpolate(x, scale_factor=2.5, mode="linear"), _f32(2, 3, 5), exact=exact)
    check(lambda x: F.interpolate(x, size=(3, 4, 5), mode="trilinear"), _f32(1, 1, 2, 3, 4), exact=exact)
    check(lambda x: F.interpolate(x, size=(3, 4, 5), mode="area"), _f32(1, 1, 6, 8, 5), exact=exact)


def test_norms(cuda, exact):
    x = _f32(4, 3, 5, 5)
    w, b = _f32(3), _f32(3)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)

    def bn(x, w, b):
        m, v = ember.tensor(rm, device=x.device), ember.tensor(rv, device=x.device)
        y = F.batch_norm(x, m, v, w, b, training=True, momentum=0.3)
        return y, m, v
    check(bn, x, w, b, exact=exact)
    check(lambda x, w, b: F.batch_norm(x, ember.tensor(rm, device=x.device), ember.tensor(rv, device=x.device),
                                       w, b, training=False), x, w, b, exact=exact)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, b, exact=exact)
    check(lambda x: F.layer_norm(x, (5, 5)), x, exact=exact)
    check(lambda x: F.normalize(x, dim=1), x, exact=exact)
    # create_graph through batch norm
    def double(x, w, b):
        y = F.batch_norm(x, None, None, w, b, training=True)
        (gx,) = ember.autograd.grad((y ** 3).sum(), x, create_graph=True)
        return gx
    check(double, x, w, b, exact=exact)


def test_losses_more(cuda, exact):
    x, t = _f32(5, 4), _RNG.integers(0, 4, 5)
    check(lambda x: F.cross_entropy(x, ember.tensor(t, device=x.device), label_smoothing=0.2,
                                    weight=ember.tensor(np.arange(1, 5, dtype=np.float32), device=x.device)),
          x, exact=exact)
    check(lambda x: F.cross_entropy(x, ember.tensor(t, device=x.device), ignore_index=2, reduction="none"), x,
          exact=exact)

    def ce_double(x):
        loss = F.cross_entropy(x, ember.tensor(t, device=x.device))
        (g,) = ember.autograd.grad(loss, x, create_graph=True)
        return g
    check(ce_double, x, exact=exact)
    p = 1 / (1 + np.exp(-_f32(6)))
    y = (_RNG.random(6) > 0.5).astype(np.float32)
    check(lambda p, y: F.binary_cross_entropy(p, y), p, y, exact=exact)
    check(lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=ember.full((6,), 2.0,
                                                                                   device=x.device)),
          _f32(6), y, exact=exact)
    check(lambda a, b: F.poisson_nll_loss(a, b.abs(), full=True), _f32(6), _f32(6), exact=exact)
    check(lambda a, b: F.gaussian_nll_loss(a, b, 0.5), _f32(6), _f32(6), exact=exact)
    check(lambda a, b: F.kl_div(F.log_softmax(a, -1), F.softmax(b, -1), reduction="batchmean"), _f32(3, 4),
          _f32(3, 4), exact=exact)
    check(lambda a: F.multilabel_margin_loss(a, ember.tensor([[3, 0, -1, 1], [1, 2, 3, -1]], device=a.device)),
          _f32(2, 4), exact=exact)
    check(lambda a, b: F.log_cosh_loss(a, b), _f32(6), _f32(6), exact=exact)
    check(lambda a: F.focal_loss(a, ember.tensor(t, device=a.device), alpha=[0.1, 0.2, 0.3, 0.4]), x,
          exact=exact)
    check(lambda a, b, c: F.triplet_margin_with_distance_loss(a, b, c, swap=True), _f32(3, 4), _f32(3, 4),
          _f32(3, 4), exact=exact)
    check(lambda a, b: F.contrastive_loss(a, b, ember.tensor([1.0, 0.0, 1.0], device=a.device)), _f32(3, 4),
          _f32(3, 4), exact=exact)
    check(lambda a, b: F.mse_loss(a, 0.5 * b), _f32(6), _f32(6), exact=exact)
    check(lambda a: F.pdist(a, p=3.0), _f32(5, 3), exact=exact)


def test_rnn_options(cuda, exact):
    x = _f32(5, 3, 2)

    def run(x, kind, **kw):
        ember.manual_seed(1)
        m = getattr(nn, kind)(2, 4, **kw).to(x.device)
        return m(x)
    for kind in ("RNN", "GRU", "LSTM"):
        check(lambda x: run(x, kind, num_layers=2, bidirectional=True), x, exact=exact)
    check(lambda x: run(x, "RNN", nonlinearity="relu", bias=False), x, exact=exact)

    def packed(x, kind):
        ember.manual_seed(2)
        m = getattr(nn, kind)(2, 3, bidirectional=True).to(x.device)
        seq = rnn_utils.pack_padded_sequence(x, [5, 3, 2])
        out, _ = m(seq)
        return rnn_utils.pad_packed_sequence(out)[0]
    for kind in ("GRU", "LSTM", "RNN"):
        check(lambda x: packed(x, kind), x, exact=exact)
    check(lambda x: rnn_ops.select_rows(x.reshape(15, 2), [3, -1, 0, 7], fill=9.0), x, exact=exact)


def test_attention_and_embedding(cuda, exact):
    def mha(q, k):
        ember.manual_seed(4)
        m = nn.MultiheadAttention(4, 2, bias=True, add_bias_kv=True, add_zero_attn=True).to(q.device)
        kpm = ember.tensor([[False, False, True], [False, True, True]], device=q.device)
        return m(q, k, k, key_padding_mask=kpm, attn_mask=nn.Transformer.generate_square_subsequent_mask(
            2, device=q.device)[:, :1].expand(2, 3).contiguous())
    check(mha, _f32(2, 2, 4), _f32(3, 2, 4), exact=exact)
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.3), _f32(2, 3, 4), _f32(2, 5, 4),
          _f32(2, 5, 4), exact=exact)
    keep = _RNG.random((3, 5)) > 0.3
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=ember.tensor(keep, device=q.device)),
          _f32(2, 3, 4), _f32(2, 5, 4), _f32(2, 5, 4), exact=exact)
    w = _f32(6, 3)
    check(lambda w: F.embedding(ember.tensor([[1, 4, 1], [0, 5, 1]], device=w.device), w, padding_idx=0,
                                scale_grad_by_freq=True), w, exact=exact)
    check(lambda w: F.embedding(ember.tensor([1, 4, 1], device=w.device), w.detach().clone(), max_norm=0.5), w,
          grad=False, exact=exact)


def test_dropout_and_random_masks(cuda, exact):
    x = _f32(4, 3, 2, 2)
    check(lambda x: F.dropout(x, 0.4), x, exact=exact)
    check(lambda x: F.dropout2d(x, 0.5), x, exact=exact)
    check(lambda x: F.dropout1d(x[0], 0.5), x, exact=exact)
    check(lambda x: F.alpha_dropout(x, 0.3, training=True), x, exact=exact)
    check(lambda x: F.dropout(x.clone(), 0.4, inplace=True), x, exact=exact)


def test_init_functions(cuda, exact):
    inits = ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
             "trunc_normal_", "orthogonal_", "eye_", "zeros_", "ones_", "lecun_normal_"]
    for name in inits:
        vals = []
        for dev in ("cpu", "cuda"):
            ember.manual_seed(5)
            t = ember.empty(4, 6, device=dev)
            getattr(nn.init, name)(t)
            assert t.device.type == dev
            vals.append(t.cpu().numpy())
        (np.testing.assert_array_equal if exact else np.testing.assert_allclose)(vals[1], vals[0], err_msg=name)
    for dev in ("cpu", "cuda"):
        w = ember.empty(3, 2, 3, 3, device=dev)
        nn.init.dirac_(w[:2])
        nn.init.constant_(w[2], 0.5)
        nn.init.sparse_(ember.empty(5, 4, device=dev), 0.5)


def test_linear_and_layers(cuda, exact):
    check(lambda x, w, b: F.linear(x, w, b), _f32(2, 3, 4), _f32(5, 4), _f32(5), exact=exact)
    check(lambda x, w, b: F.linear(x.transpose(0, 1), w, b), _f32(3, 2, 4), _f32(5, 4), _f32(5), exact=exact)
    check(lambda a, b, w, c: F.bilinear(a, b, w, c), _f32(3, 2), _f32(3, 4), _f32(5, 2, 4), _f32(5), exact=exact)

    def layers(x):
        ember.manual_seed(6)
        m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.PReLU(),
                          nn.MaxPool2d(2), nn.GroupNorm(2, 4), nn.Upsample(scale_factor=2, mode="bilinear"),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).to(x.device)
        return m(x)
    check(layers, _f32(2, 2, 6, 6), exact=exact)


def test_more_paths(cuda, exact):
    def convt_double(x, w):
        y = F.conv_transpose2d(x, w, stride=2)
        gx, gw = ember.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return gx, gw
    check(convt_double, _f32(1, 2, 3, 3), _f32(2, 3, 2, 2), exact=exact)

    def fold_double(x):
        y = F.fold(F.unfold(x, 2, padding=1), (4, 5), 2, padding=1)
        (gx,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)
        return gx
    check(fold_double, _f32(1, 2, 4, 5), exact=exact)
    check(lambda x: F.batch_norm(x, None, None, training=True), _f32(6, 3), exact=exact)      # 2-D input

    def inorm(x):
        m, v = ember.zeros(3, device=x.device), ember.ones(3, device=x.device)
        return F.instance_norm(x, m, v, use_input_stats=True, momentum=0.2), m, v
    check(inorm, _f32(2, 3, 4), exact=exact)

    def unpool1d(x):
        y, i = F.max_pool1d(x, 2, return_indices=True)
        return F.max_unpool1d(y, i, 2)
    check(unpool1d, _f32(2, 3, 8), exact=exact)
    check(lambda x: F.adaptive_avg_pool2d(x.contiguous(memory_format=ember.channels_last), 1), _f32(2, 3, 4, 4),
          exact=exact)
    check(lambda x: F.local_response_norm(x, 3), _f32(2, 5, 3, 3), exact=exact)
    check(lambda x, y: F.cosine_embedding_loss(x, y, ember.tensor([1.0, -1.0], device=x.device), margin=0.2),
          _f32(2, 4), _f32(2, 4), exact=exact)
