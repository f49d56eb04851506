"""RNN, LSTM, GRU and the cells against PyTorch with the same weights: outputs, final states and the
gradients of the input, the initial states and every parameter; float64 gradcheck of the fused kernels;
a 1,000-step backward; the error messages."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.ops import rnn as R
from tests.helpers import assert_close


def _pair(cls_name, *args, **kw):
    """The same layer in torch and ember (float64, same weights)."""
    torch.manual_seed(0)
    t = getattr(torch.nn, cls_name)(*args, **kw).double()
    e = getattr(nn, cls_name)(*args, **kw).double()
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return e, t


def _flatten(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res += _flatten(o)
        return res
    return [out]


def _run_both(e, t, arrays, nested=None, atol=1e-9):
    """Call both layers on copies of ``arrays`` (float64, requiring grad), compare all outputs, back-propagate
    the same random upstream gradients and compare the gradients of every input and parameter."""
    rng = np.random.default_rng(1)
    ei = [ember.tensor(a.copy(), requires_grad=True) for a in arrays]
    ti = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    pack = nested or (lambda xs: xs)
    eo = _flatten(e(*pack(ei)))
    to = _flatten(t(*pack(ti)))
    assert len(eo) == len(to)
    for k, (a, b) in enumerate(zip(eo, to)):
        assert_close(a, b, atol=atol, rtol=1e-7, what=f"output {k}")
    gs = [rng.standard_normal(tuple(o.shape)) for o in to]
    sum((o * torch.tensor(g)).sum() for o, g in zip(to, gs)).backward()
    sum((o * ember.tensor(g)).sum() for o, g in zip(eo, gs)).backward()
    for k, (a, b) in enumerate(zip(ei, ti)):
        assert a.grad is not None, f"input {k} got no gradient"
        assert_close(a.grad, b.grad, atol=atol, rtol=1e-7, what=f"grad of input {k}")
    tp = dict(t.named_parameters())
    for name, p in e.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert_close(p.grad, tp[name].grad, atol=atol, rtol=1e-7, what=f"grad of {name}")


@pytest.mark.parametrize("cls_name,kw", [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {}),
])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_layers_two_layers_match_torch(cls_name, kw, bidirectional, batch_first):
    e, t = _pair(cls_name, 4, 5, num_layers=2, bidirectional=bidirectional, batch_first=batch_first, **kw)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4) if batch_first else (6, 3, 4))
    _run_both(e, t, [x])


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_with_initial_states(cls_name, bidirectional):
    e, t = _pair(cls_name, 3, 4, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(2)
    d = 2 if bidirectional else 1
    x = rng.standard_normal((5, 2, 3))
    h0 = rng.standard_normal((2 * d, 2, 4))
    if cls_name == "LSTM":
        c0 = rng.standard_normal((2 * d, 2, 4))
        _run_both(e, t, [x, h0, c0], nested=lambda xs: (xs[0], (xs[1], xs[2])))
    else:
        _run_both(e, t, [x, h0])


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(cls_name):
    e, t = _pair(cls_name, 3, 4, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3))
    h0 = rng.standard_normal((2, 4))
    if cls_name == "LSTM":
        _run_both(e, t, [x, h0, rng.standard_normal((2, 4))], nested=lambda xs: (xs[0], (xs[1], xs[2])))
    else:
        _run_both(e, t, [x, h0])
    _run_both(e, t, [x])


@pytest.mark.parametrize("cls_name", ["LSTM", "GRU"])
def test_no_bias(cls_name):
    e, t = _pair(cls_name, 3, 4, bias=False)
    assert [n for n, _ in e.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    _run_both(e, t, [np.random.default_rng(4).standard_normal((4, 2, 3))])


def test_float32_matches_torch():
    torch.manual_seed(0)
    t = torch.nn.LSTM(8, 16, batch_first=True)
    e = nn.LSTM(8, 16, batch_first=True)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 10, 8)).astype(np.float32)
    eo, (eh, ec) = e(ember.tensor(x))
    to, (th, tc) = t(torch.tensor(x))
    assert eo.dtype == np.float32
    assert_close(eo, to, atol=1e-5)
    assert_close(ec, tc, atol=1e-5)


def test_parameter_names_shapes_and_init():
    e = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    t = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    es = {k: tuple(v.shape) for k, v in e.state_dict().items()}
    ts = {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert list(es) == list(ts) and es == ts
    bound = 1 / np.sqrt(5)
    for p in e.parameters():
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and a.std() > bound / 4
    # loading back into torch works (same names)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()})
    assert repr(e) == repr(t)


def test_dropout_between_layers_train_only():
    e = nn.GRU(4, 6, num_layers=3, dropout=0.5)
    x = ember.randn(5, 2, 4)
    e.eval()
    a, _ = e(x)
    b, _ = e(x)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    e.train()
    c, _ = e(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    # without dropout train and eval agree
    e2 = nn.GRU(4, 6, num_layers=3)
    assert np.allclose(e2(x)[0].detach().numpy(), e2.eval()(x)[0].detach().numpy())


@pytest.mark.parametrize("cls_name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("with_state", [False, True])
def test_cells_match_torch(cls_name, with_state):
    e, t = _pair(cls_name, 3, 4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3))
    if not with_state:
        _run_both(e, t, [x])
    elif cls_name == "LSTMCell":
        _run_both(e, t, [x, rng.standard_normal((2, 4)), rng.standard_normal((2, 4))],
                  nested=lambda xs: (xs[0], (xs[1], xs[2])))
    else:
        _run_both(e, t, [x, rng.standard_normal((2, 4))])
    # unbatched
    _run_both(e, t, [rng.standard_normal(3)])


def test_relu_cell_matches_torch():
    e, t = _pair("RNNCell", 3, 4, nonlinearity="relu")
    _run_both(e, t, [np.random.default_rng(6).standard_normal((5, 3))])


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_kernel_gradcheck(mode, reverse):
    g = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}[mode]
    H = 2
    rng = np.random.default_rng(7)
    shapes = [(3, 2, 3), (2, H), (2, H), (g * H, 3), (g * H, H), (g * H,), (g * H,)]
    xs = [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]

    def fn(x, h0, c0, wi, wh, bi, bh):
        outs = R.rnn_sequence(mode, x, h0, c0 if mode == "LSTM" else None, wi, wh, bi, bh, reverse=reverse)
        return sum((o * (k + 1.5)).sum() for k, o in enumerate(outs))
    if mode != "LSTM":
        xs[2].requires_grad_(False)
    assert ember.autograd.gradcheck(fn, xs)


def test_long_sequence_backward_no_recursion():
    lstm = nn.LSTM(4, 8)
    x = ember.randn(1000, 2, 4, requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == (1000, 2, 4)
    assert np.isfinite(x.grad.numpy()).all()
    assert lstm.weight_hh_l0.grad is not None


def test_create_graph_is_refused_clearly():
    lstm = nn.LSTM(2, 3)
    x = ember.randn(2, 1, 2, requires_grad=True)
    out, _ = lstm(x)
    with pytest.raises(RuntimeError, match="once-differentiable"):
        ember.autograd.grad(out.sum(), x, create_graph=True)


def test_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(4, 8, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM.*input_size.*4.*got 3"):
        lstm(ember.randn(5, 2, 3))
    with pytest.raises(ValueError, match=r"LSTM.*\(L, N, H_in\).*got \(5,\)"):
        lstm(ember.randn(5))
    with pytest.raises(RuntimeError, match=r"LSTM.*h_0.*\(2, 2, 8\).*got \(1, 2, 8\)"):
        lstm(ember.randn(5, 2, 4), (ember.zeros(1, 2, 8), ember.zeros(2, 2, 8)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, 2, dropout=1.5)
    with pytest.raises(RuntimeError, match="dtype"):
        nn.GRU(3, 4)(ember.randn(2, 1, 3, dtype=ember.float64))
    with pytest.raises(ValueError, match=r"GRUCell.*\(N, 3\)"):
        nn.GRUCell(3, 4)(ember.randn(2, 2, 3))


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
def test_bias_grads_equal_but_not_shared(kind):
    # the fused backward computes the one bias sum once for both biases: their .grad must still be two buffers
    m = getattr(ember.nn, kind)(3, 4)
    x = ember.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    for _ in range(2):              # the second backward accumulates in place into each .grad
        m(x)[0].sum().backward()
    gi, gh = m.bias_ih_l0.grad, m.bias_hh_l0.grad
    assert gi._data.tobytes() == gh._data.tobytes()
    assert not np.shares_memory(gi._data, gh._data)
    gi._data += 1
    assert not np.array_equal(gi._data, gh._data)


@pytest.mark.parametrize("kind", ["LSTM", "LSTMCell"])
def test_lstm_retain_graph_backward_twice_and_buffers_freed_after(kind):
    # backward must not write into what forward kept (a second backward through a retained graph gives the same
    # gradients again), and the kept buffers go when backward frees the graph, while its nodes still live
    import gc
    import weakref
    m = getattr(ember.nn, kind)(3, 4)
    x = ember.tensor(np.random.default_rng(0).standard_normal((5, 2, 3) if kind == "LSTM" else (2, 3)))
    x = x.float().requires_grad_()
    out = m(x)
    h = out[0] if kind == "LSTM" else out[0] + out[1]
    loss = (h * h).sum()
    kept = [weakref.ref(a) for a in out[0].grad_fn.scratch]
    loss.backward(retain_graph=True)
    first = [p.grad.numpy().copy() for p in m.parameters()] + [x.grad.numpy().copy()]
    loss.backward()
    second = [p.grad.numpy() for p in m.parameters()] + [x.grad.numpy()]
    for a, b in zip(first, second):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-6, atol=1e-7)
    gc.collect()
    assert out[0].grad_fn is not None and all(r() is None for r in kept)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kwargs", [
    dict(input_size=0, hidden_size=3), dict(input_size=-1, hidden_size=3), dict(input_size=2.0, hidden_size=3),
    dict(input_size=3, hidden_size=0), dict(input_size=3, hidden_size=2.0), dict(input_size=3, hidden_size=3,
                                                                             num_layers=0),
    dict(input_size=3, hidden_size=3, bias=1), dict(input_size=3, hidden_size=3, batch_first="yes"),
    dict(input_size=3, hidden_size=3, dropout=1.5), dict(input_size=0, hidden_size=0, dropout=2),
])
def test_constructor_checks_are_pytorchs(cls, kwargs):
    """The recurrent layers refuse bad sizes with PyTorch's exception types, in PyTorch's order, and a message
    that carries PyTorch's and names the layer."""
    import torch
    with pytest.raises(Exception) as want:
        getattr(torch.nn, cls)(**kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(ember.nn, cls)(**kwargs)
    assert str(got.value).startswith(f"{cls}: ")
    assert str(want.value).split(",")[0] in str(got.value)
