"""scaled_dot_product_attention, MultiheadAttention and the Transformer layers against PyTorch with the same
weights: outputs, attention weights, and the gradients of every input and parameter; float64 gradcheck of
the fused attention kernel; masks (bool, float, key padding, causal), batch_first, unbatched; errors."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import assert_close, compare

# torch warns about mixing bool and float masks (supported, deprecated) and about its nested-tensor fast path
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _load(e, t):
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return e


def _pair(cls_name, *args, **kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, cls_name)(*args, **kw).double()
    e = getattr(nn, cls_name)(*args, **kw).double()
    return _load(e, t), t


def _check(e_out, t_out, e_in, t_in, e_mod, t_mod, atol=1e-9):
    """Compare outputs (tensors or None), back-propagate the same random cotangents, compare all grads."""
    rng = np.random.default_rng(1)
    pairs = [(a, b) for a, b in zip(e_out, t_out) if b is not None or a is not None]
    for k, (a, b) in enumerate(pairs):
        assert (a is None) == (b is None), f"output {k}: ember {a is None} vs torch {b is None}"
        if a is not None:
            assert_close(a, b, atol=atol, rtol=1e-7, what=f"output {k}")
    pairs = [(a, b) for a, b in pairs if b is not None]
    gs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    sum((b * torch.tensor(g)).sum() for (_, b), g in zip(pairs, gs)).backward()
    sum((a * ember.tensor(g)).sum() for (a, _), g in zip(pairs, gs)).backward()
    for k, (a, b) in enumerate(zip(e_in, t_in)):
        assert a.grad is not None, f"input {k} got no gradient"
        assert_close(a.grad, b.grad, atol=atol, rtol=1e-7, what=f"grad of input {k}")
    tp = dict(t_mod.named_parameters())
    for name, p in e_mod.named_parameters():
        if tp[name].grad is None:
            assert p.grad is None or np.allclose(p.grad.numpy(), 0), name
            continue
        assert p.grad is not None, f"{name} got no gradient"
        assert_close(p.grad, tp[name].grad, atol=atol, rtol=1e-7, what=f"grad of {name}")


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in shapes]
    return ([ember.tensor(a.copy(), requires_grad=True) for a in arrs],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrs])


# -- F.scaled_dot_product_attention ---------------------------------------------------------------------------------
def _sdpa(**kw):
    def fn(m, q, k, v, *mask):
        f = F.scaled_dot_product_attention if m is ember else torch.nn.functional.scaled_dot_product_attention
        if mask:
            kw["attn_mask"] = mask[0]
        return f(q, k, v, **kw)
    return fn


@pytest.mark.parametrize("kw", [{}, {"scale": 0.3}])
def test_sdpa_matches_torch(kw):
    compare(_sdpa(**kw), [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)])


def test_sdpa_causal():
    compare(_sdpa(is_causal=True), [(2, 5, 4), (2, 5, 4), (2, 5, 3)])
    compare(_sdpa(is_causal=True), [(4, 3), (6, 3), (6, 2)])      # L != S: top-left aligned, as PyTorch


def test_sdpa_bool_and_float_masks():
    rng = np.random.default_rng(0)
    m = rng.random((5, 6)) > 0.4
    m[:, 0] = True                         # no fully masked row (both libraries would give NaN)
    compare(lambda M, q, k, v: _sdpa()(M, q, k, v, (ember if M is ember else torch).tensor(m)),
            [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)])
    # float mask with batch dims; torch also differentiates the float mask
    compare(_sdpa(), [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7), (2, 1, 5, 6)])


def test_sdpa_gqa():
    compare(_sdpa(enable_gqa=True), [(1, 4, 3, 2), (1, 2, 5, 2), (1, 2, 5, 2)])


def test_sdpa_gradcheck_and_double_backward():
    def fn(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    rng = np.random.default_rng(2)
    xs = [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4)]]
    assert ember.autograd.gradcheck(fn, xs)
    assert ember.autograd.gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), xs[:3])


def test_sdpa_dropout_is_inverted_and_random():
    q = ember.randn(2, 4, 8)
    k = ember.randn(2, 6, 8)
    v = ember.ones(2, 6, 3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    # rows of the weights sum to 1 before dropout; after inverted dropout they average 1 and vary
    assert not np.allclose(out, 1.0)
    assert abs(out.mean() - 1.0) < 0.4


def test_sdpa_errors():
    with pytest.raises(RuntimeError, match=r"scaled_dot_product_attention.*query \(2, 5, 4\).*key \(2, 6, 3\)"):
        F.scaled_dot_product_attention(ember.randn(2, 5, 4), ember.randn(2, 6, 3), ember.randn(2, 6, 3))
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(ember.randn(5, 4), ember.randn(5, 4), ember.randn(5, 4),
                                       attn_mask=ember.ones(5, 5, dtype=ember.bool), is_causal=True)


# -- MultiheadAttention ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_self_attention(batch_first, need_weights, average):
    e, t = _pair("MultiheadAttention", 8, 2, batch_first=batch_first)
    ei, ti = _inputs((3, 5, 8) if batch_first else (5, 3, 8))
    eo = e(ei[0], ei[0], ei[0], need_weights=need_weights, average_attn_weights=average)
    to = t(ti[0], ti[0], ti[0], need_weights=need_weights, average_attn_weights=average)
    _check(eo, to, ei, ti, e, t)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_cross_attention_with_masks(batch_first):
    e, t = _pair("MultiheadAttention", 8, 4, batch_first=batch_first)
    shp = (lambda L: (3, L, 8)) if batch_first else (lambda L: (L, 3, 8))
    ei, ti = _inputs(shp(4), shp(6), shp(6))
    kpm = np.zeros((3, 6), bool)
    kpm[0, 4:] = True
    kpm[2, 1] = True
    am = np.random.default_rng(3).standard_normal((4, 6))
    eo = e(*ei, key_padding_mask=ember.tensor(kpm), attn_mask=ember.tensor(am))
    to = t(*ti, key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(am))
    _check(eo, to, ei, ti, e, t)


def test_mha_causal_bool_mask_and_key_is_value():
    e, t = _pair("MultiheadAttention", 6, 3)
    ei, ti = _inputs((5, 2, 6), (5, 2, 6))
    causal = np.triu(np.ones((5, 5), bool), 1)     # True = not allowed (MultiheadAttention's convention)
    eo = e(ei[0], ei[1], ei[1], attn_mask=ember.tensor(causal), is_causal=True)
    to = t(ti[0], ti[1], ti[1], attn_mask=torch.tensor(causal), is_causal=True)
    _check(eo, to, ei, ti, e, t)


def test_mha_3d_mask_float_key_padding_and_unbatched():
    e, t = _pair("MultiheadAttention", 4, 2)
    ei, ti = _inputs((3, 2, 4), (5, 2, 4), (5, 2, 4))
    am = np.random.default_rng(4).standard_normal((2 * 2, 3, 5))
    kpm = np.zeros((2, 5))
    kpm[1, 0] = -np.inf
    _check(e(*ei, attn_mask=ember.tensor(am), key_padding_mask=ember.tensor(kpm)),
           t(*ti, attn_mask=torch.tensor(am), key_padding_mask=torch.tensor(kpm)), ei, ti, e, t)
    e.zero_grad()
    t.zero_grad()
    ei, ti = _inputs((3, 4), (5, 4), (5, 4), seed=5)
    _check(e(*ei), t(*ti), ei, ti, e, t)


@pytest.mark.parametrize("kw", [{"add_bias_kv": True}, {"add_zero_attn": True}, {"kdim": 3, "vdim": 5},
                                {"bias": False}])
def test_mha_options(kw):
    e, t = _pair("MultiheadAttention", 6, 2, **kw)
    assert list(e.state_dict()) == list(t.state_dict())
    ei, ti = _inputs((4, 2, 6), (5, 2, kw.get("kdim", 6)), (5, 2, kw.get("vdim", 6)))
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    _check(e(*ei, key_padding_mask=ember.tensor(kpm)), t(*ti, key_padding_mask=torch.tensor(kpm)), ei, ti, e, t)


def test_mha_init_and_dropout():
    e = nn.MultiheadAttention(16, 4, dropout=0.5)
    assert np.all(e.in_proj_bias.detach().numpy() == 0) and np.all(e.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6.0 / (16 + 48))
    w = e.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and w.std() > bound / 3
    x = ember.randn(5, 2, 16)
    e.eval()
    a = e(x, x, x)[0].detach().numpy()
    assert np.array_equal(a, e(x, x, x)[0].detach().numpy())
    e.train()
    assert not np.allclose(a, e(x, x, x)[0].detach().numpy())


def test_mha_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention.*embed_dim=8.*\(5, 2, 6\)"):
        m(ember.randn(5, 2, 6), ember.randn(5, 2, 6), ember.randn(5, 2, 6))
    x = ember.randn(5, 2, 8)
    with pytest.raises(RuntimeError, match="need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"2D attn_mask.*\(4, 4\).*\(5, 5\)"):
        m(x, x, x, attn_mask=ember.zeros(4, 4))


# -- Transformer layers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_eval(norm_first, batch_first):
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=batch_first, norm_first=norm_first)
    e, t = _pair("TransformerEncoderLayer", 8, 2, **kw)
    e.eval()
    t.eval()
    ei, ti = _inputs((3, 5, 8) if batch_first else (5, 3, 8))
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    mask = np.triu(np.full((5, 5), -np.inf), 1)
    eo = e(ei[0], src_mask=ember.tensor(mask), src_key_padding_mask=ember.tensor(kpm))
    to = t(ti[0], src_mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kpm))
    _check([eo], [to], ei, ti, e, t)


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_encoder_layer_activation_and_train_mode_without_dropout(activation):
    e, t = _pair("TransformerEncoderLayer", 8, 4, dim_feedforward=12, dropout=0.0, activation=activation)
    ei, ti = _inputs((4, 2, 8))
    _check([e(ei[0])], [t(ti[0])], ei, ti, e, t)


def test_encoder_stack_with_norm_and_causal():
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    t = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).double()
    from ember.nn.layers.attention import _layer_norm
    e = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=_layer_norm(8, 1e-5, True, None))
    e = _load(e.double(), t)
    assert list(e.state_dict()) == list(t.state_dict())
    # the copies are independent
    assert e.layers[0].linear1.weight is not e.layers[1].linear1.weight
    ei, ti = _inputs((5, 2, 8))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    em = nn.Transformer.generate_square_subsequent_mask(5, dtype=ember.float64)
    assert_close(em, mask)
    _check([e(ei[0], mask=em, is_causal=True)], [t(ti[0], mask=mask, is_causal=True)], ei, ti, e, t)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_eval(norm_first):
    e, t = _pair("TransformerDecoderLayer", 8, 2, dim_feedforward=16, norm_first=norm_first, batch_first=True)
    e.eval()
    t.eval()
    ei, ti = _inputs((2, 4, 8), (2, 6, 8))
    tm = np.triu(np.ones((4, 4), bool), 1)
    mkpm = np.zeros((2, 6), bool)
    mkpm[0, 5] = True
    eo = e(*ei, tgt_mask=ember.tensor(tm), memory_key_padding_mask=ember.tensor(mkpm), tgt_is_causal=True)
    to = t(*ti, tgt_mask=torch.tensor(tm), memory_key_padding_mask=torch.tensor(mkpm), tgt_is_causal=True)
    _check([eo], [to], ei, ti, e, t)


def test_transformer_full_model():
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=12, dropout=0.0)
    t = torch.nn.Transformer(**kw).double()
    e = _load(nn.Transformer(**kw).double(), t)
    assert list(e.state_dict()) == list(t.state_dict())
    ei, ti = _inputs((6, 2, 8), (4, 2, 8))
    tm = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    eo = e(*ei, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=ember.float64))
    _check([eo], [t(*ti, tgt_mask=tm)], ei, ti, e, t)


def test_encoder_layer_error_names_layer():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer.*8.*got \(5, 2, 6\)"):
        layer(ember.randn(5, 2, 6))
    with pytest.raises(RuntimeError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swishy")
