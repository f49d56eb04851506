"""nn.LSTM(proj_size=P) against torch 2.13: parameters, state_dict keys, outputs, states and every gradient
(float64), PackedSequence input, and torch's construction errors."""
import numpy as np
import pytest
import torch

import ember
from ember.ops.rnn_proj import lstm_proj_sequence

CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, num_layers=2),
]


def _pair(input_size, hidden_size, proj_size, **kw):
    t = torch.nn.LSTM(input_size, hidden_size, proj_size=proj_size, dtype=torch.float64, **kw)
    e = ember.nn.LSTM(input_size, hidden_size, proj_size=proj_size, dtype=ember.float64, **kw)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    return t, e


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kw", CONFIGS)
def test_names_shapes_and_order_match_torch(kw):
    t, e = _pair(3, 5, 2, **kw)
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert e._flat_weights_names == t._flat_weights_names
    assert list(e.state_dict()) == list(t.state_dict())
    assert [[tuple(p.shape) for p in g] for g in e.all_weights] == \
           [[tuple(p.shape) for p in g] for g in t.all_weights]
    assert repr(e) == repr(t)


@pytest.mark.parametrize("kw", CONFIGS)
@pytest.mark.parametrize("with_hx", [False, True])
def test_forward_and_gradients_match_torch(kw, with_hx):
    rng = np.random.default_rng(0)
    t, e = _pair(3, 5, 2, **kw)
    D = 2 if kw.get("bidirectional") else 1
    nl = kw.get("num_layers", 1)
    L, N = 4, 3
    x = rng.standard_normal((N, L, 3) if kw.get("batch_first") else (L, N, 3))
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    args_t, args_e = [xt], [xe]
    if with_hx:
        h0, c0 = rng.standard_normal((D * nl, N, 2)), rng.standard_normal((D * nl, N, 5))
        ht, ct = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
        he, ce = ember.tensor(h0, requires_grad=True), ember.tensor(c0, requires_grad=True)
        args_t.append((ht, ct))
        args_e.append((he, ce))
    ot, (hnt, cnt) = t(*args_t)
    oe, (hne, cne) = e(*args_e)
    assert tuple(oe.shape) == tuple(ot.shape) and ot.shape[-1] == D * 2
    assert tuple(hne.shape) == (D * nl, N, 2) and tuple(cne.shape) == (D * nl, N, 5)
    for a, b in ((ot, oe), (hnt, hne), (cnt, cne)):
        _close(a, b)
    w = [rng.standard_normal(tuple(a.shape)) for a in (ot, hnt, cnt)]
    sum((a * torch.tensor(g)).sum() for a, g in zip((ot, hnt, cnt), w)).backward()
    sum((a * ember.tensor(g)).sum() for a, g in zip((oe, hne, cne), w)).backward()
    _close(xt.grad, xe.grad)
    if with_hx:
        _close(ht.grad, he.grad)
        _close(ct.grad, ce.grad)
    pe = dict(e.named_parameters())
    for n, p in t.named_parameters():
        _close(p.grad, pe[n].grad)


def test_unbatched_matches_torch():
    rng = np.random.default_rng(1)
    t, e = _pair(3, 4, 3, bidirectional=True)
    x = rng.standard_normal((5, 3))
    h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    ot, (ht, ct) = t(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    oe, (he, ce) = e(ember.tensor(x), (ember.tensor(h0), ember.tensor(c0)))
    assert tuple(oe.shape) == (5, 6) and tuple(he.shape) == (2, 3) and tuple(ce.shape) == (2, 4)
    for a, b in ((ot, oe), (ht, he), (ct, ce)):
        _close(a, b)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_sequence_matches_torch(bidirectional):
    rng = np.random.default_rng(2)
    t, e = _pair(3, 5, 2, num_layers=2, bidirectional=bidirectional)
    lengths = [2, 4, 1]
    x = rng.standard_normal((4, 3, 3))
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False)
    pe = ember.nn.utils.rnn.pack_padded_sequence(xe, lengths, enforce_sorted=False)
    ot, (ht, ct) = t(pt)
    oe, (he, ce) = e(pe)
    _close(ot.data, oe.data)
    _close(ht, he)
    _close(ct, ce)
    (ot.data.sum() + ht.pow(2).sum() + ct.sum()).backward()
    (oe.data.sum() + he.pow(2).sum() + ce.sum()).backward()
    _close(xt.grad, xe.grad)
    pe_ = dict(e.named_parameters())
    for n, p in t.named_parameters():
        _close(p.grad, pe_[n].grad)


def test_float32_default_init_shapes_and_state_errors():
    e = ember.nn.LSTM(4, 6, proj_size=3)
    out, (h, c) = e(ember.randn(2, 5, 4))
    assert tuple(out.shape) == (2, 5, 3) and tuple(h.shape) == (1, 5, 3) and tuple(c.shape) == (1, 5, 6)
    assert out.dtype == ember.float32
    with pytest.raises(RuntimeError, match=r"h_0.*\(1, 5, 3\)"):
        e(ember.randn(2, 5, 4), (ember.zeros(1, 5, 6), ember.zeros(1, 5, 6)))
    with pytest.raises(RuntimeError, match=r"c_0.*\(1, 5, 6\)"):
        e(ember.randn(2, 5, 4), (ember.zeros(1, 5, 3), ember.zeros(1, 5, 3)))


@pytest.mark.parametrize("ctor, kw", [
    ("LSTM", dict(proj_size=-1)),
    ("LSTM", dict(proj_size=5)),
    ("LSTM", dict(proj_size=7)),
    ("GRU", dict(proj_size=2)),
    ("GRU", dict(proj_size=0)),
    ("RNN", dict(proj_size=2)),
    ("RNN", dict(proj_size=0)),
])
def test_construction_errors_match_torch(ctor, kw):
    with pytest.raises(ValueError) as te:
        getattr(torch.nn, ctor)(3, 5, **kw)
    with pytest.raises(ValueError) as ee:
        getattr(ember.nn, ctor)(3, 5, **kw)
    assert str(te.value).split(" (got")[0].split(", got")[0] in str(ee.value)
    assert ctor in str(ee.value)


def test_no_projection_keeps_fused_path(monkeypatch):
    import ember.ops.rnn_proj as rp

    def boom(*a, **k):
        raise AssertionError("the projection path ran without proj_size")
    monkeypatch.setattr(rp, "lstm_proj_sequence", boom)
    out, (h, c) = ember.nn.LSTM(3, 4, proj_size=0)(ember.randn(2, 1, 3))
    assert tuple(out.shape) == (2, 1, 4)


def test_op_checks_shapes():
    x = ember.zeros(2, 1, 3)
    w_ih, w_hh, w_hr = ember.zeros(16, 3), ember.zeros(16, 2), ember.zeros(2, 4)
    with pytest.raises(ValueError, match="lstm_proj_sequence.*w_hh"):
        lstm_proj_sequence(x, ember.zeros(1, 2), ember.zeros(1, 4), w_ih, ember.zeros(16, 4), None, None, w_hr)
    with pytest.raises(ValueError, match="lstm_proj_sequence.*h0"):
        lstm_proj_sequence(x, ember.zeros(1, 4), ember.zeros(1, 4), w_ih, w_hh, None, None, w_hr)
    out, h, c = lstm_proj_sequence(x, ember.zeros(1, 2), ember.zeros(1, 4), w_ih, w_hh, None, None, w_hr)
    assert tuple(out.shape) == (2, 1, 2)
