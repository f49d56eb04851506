"""The cells' fast paths (issue 12): the module's one-op batched step, the stacked-GEMM Elman cell, the
transposed GRU cell and the engine's array backward of the one-output cells, against PyTorch (unrolled loops,
every gradient, float32 and float64), float64 gradcheck, and the checks the fast paths must keep."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.autograd import engine
from ember.ops import rnn_cell

KINDS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("GRUCell", {}), ("LSTMCell", {})]


def _pair(name, I, H, dtype, **kw):
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(I, H, **kw).to(getattr(torch, dtype))
    e = getattr(nn, name)(I, H, dtype=getattr(ember, dtype), **kw)
    e.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return e, t


def _unrolled(m, cell, head, x, steps, lstm):
    """The time-sequence example's loop: a column of x per step (a strided view), state fed back, a read-out."""
    xs = m.tensor(x)
    h = m.zeros(x.shape[0], cell.hidden_size, dtype=xs.dtype, requires_grad=True)
    c = m.zeros(x.shape[0], cell.hidden_size, dtype=xs.dtype, requires_grad=True)
    state, total = ((h, c) if lstm else h), 0
    for xt in xs.split(1, dim=1)[:steps]:
        state = cell(xt, state)
        out = state[0] if lstm else state
        total = total + (head(out) ** 2).sum()
    total.backward()
    return [total, h.grad, c.grad if lstm else None] + [p.grad for p in cell.parameters()]


@pytest.mark.parametrize("name,kw", KINDS)
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 2e-4)])
@pytest.mark.parametrize("bias", [True, False])
def test_unrolled_cell_loop_matches_torch(name, kw, dtype, tol, bias):
    e, t = _pair(name, 1, 6, dtype, bias=bias, **kw)
    torch.manual_seed(1)
    th = torch.nn.Linear(6, 1).to(getattr(torch, dtype))
    eh = nn.Linear(6, 1, dtype=getattr(ember, dtype))
    eh.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 9)).astype(dtype)
    lstm = name == "LSTMCell"
    got = _unrolled(ember, e, eh, x, 7, lstm)
    want = _unrolled(torch, t, th, x, 7, lstm)
    for g, w in zip(got, want):
        if w is None:
            continue
        assert g.dtype == getattr(ember, dtype)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,kw", KINDS)
def test_stacked_cell_second_layer_matches_torch(name, kw):
    # input of the state's width (the example's second cell) and every input requiring grad
    e, t = _pair(name, 4, 3, "float64", **kw)
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal((5, 4)), rng.standard_normal((5, 3)), rng.standard_normal((5, 3))]
    outs = []
    for m, cell in ((ember, e), (torch, t)):
        x, h, c = (m.tensor(a, requires_grad=True) for a in arrs)
        out = cell(x, (h, c)) if name == "LSTMCell" else cell(x, h)
        out = out if isinstance(out, tuple) else (out,)
        sum(((o * (k + 2)) ** 2).sum() for k, o in enumerate(out)).backward()
        outs.append([*out, x.grad, h.grad] + ([c.grad] if name == "LSTMCell" else [])
                    + [p.grad for p in cell.parameters()])
    for g, w in zip(*outs):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert tuple(g.stride()) == tuple(w.stride())


@pytest.mark.parametrize("name,kw", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_cells_pass_float64_gradcheck(name, kw, bias):
    e, _ = _pair(name, 3, 4, "float64", bias=bias, **kw)
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((5, 8))[:, 2:5], requires_grad=True)      # a strided input
    h = ember.tensor(rng.standard_normal((5, 4)) + 0.1, requires_grad=True)
    c = ember.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    params = list(e.parameters())
    names = [n for n, _ in e.named_parameters()]

    def fn(x, h, c, *ps):
        saved = {n: getattr(e, n) for n in names}
        for n, p in zip(names, ps):
            e._parameters[n] = p
        try:
            out = e(x, (h, c)) if name == "LSTMCell" else e(x, h)
        finally:
            for n in names:
                e._parameters[n] = saved[n]
        return out
    assert ember.autograd.gradcheck(fn, [x, h, c] + [p.detach().requires_grad_() for p in params])


@pytest.mark.parametrize("name,kw", [k for k in KINDS if k[0] != "LSTMCell"])
def test_array_backward_equals_tensor_backward(name, kw):
    # the engine runs the one-output cells' backward on arrays; a node hook makes it call .backward instead:
    # both give the same gradients, bit for bit
    cls = {"RNNCell": rnn_cell.RNNCellFn, "GRUCell": rnn_cell.GRUCellFn}[name]
    assert cls in engine.RAW_BACKWARD
    e, _ = _pair(name, 3, 4, "float32", **kw)
    x = ember.randn(6, 3, requires_grad=True)
    h = ember.randn(6, 4, requires_grad=True)
    grads = []
    for hook in (False, True):
        for t in [x, h, *e.parameters()]:
            t.grad = None
        out = e(x, h)
        assert type(out.grad_fn) is cls
        if hook:
            out.grad_fn.register_hook(lambda gi, go: None)
        (out * out).sum().backward()
        grads.append([t.grad.numpy().copy() for t in [x, h, *e.parameters()]])
    for a, b in zip(*grads):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name,kw", KINDS)
def test_in_place_change_of_a_saved_input_is_reported(name, kw):
    e, _ = _pair(name, 3, 4, "float64", **kw)
    h = ember.randn(2, 4, dtype=ember.float64, requires_grad=True) * 1.0
    x = ember.randn(2, 3, dtype=ember.float64)
    out = e(x, (h, h * 1.0)) if name == "LSTMCell" else e(x, h)
    out = out[0] if isinstance(out, tuple) else out
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("name,kw", KINDS)
def test_fast_path_keeps_the_module_errors_and_fallbacks(name, kw):
    e, _ = _pair(name, 3, 4, "float32", **kw)
    lstm = name == "LSTMCell"
    state = (ember.zeros(2, 4), ember.zeros(2, 4)) if lstm else ember.zeros(2, 4)
    with pytest.raises(ValueError, match=rf"{name}: expected input with 3 features"):
        e(ember.randn(2, 5), state)
    with pytest.raises(RuntimeError, match=rf"{name}: input dtype"):
        e(ember.randn(2, 3, dtype=ember.float64), state)
    bad = (ember.zeros(3, 4), ember.zeros(3, 4)) if lstm else ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match=rf"{name}: expected hidden state of shape \(2, 4\)"):
        e(ember.randn(2, 3), bad)
    # the slow path's conversions still apply: unbatched input, no state, a list for LSTM's state
    out = e(ember.randn(3))
    assert (out[0] if lstm else out).shape == (4,)
    if lstm:
        h, c = e(ember.randn(2, 3), [ember.zeros(2, 4), ember.zeros(2, 4)])
        assert h.shape == c.shape == (2, 4)


def test_bias_grads_of_a_cell_equal_but_not_shared():
    # the one GEMM gives one bias gradient for both biases: their .grad are still two buffers
    for name in ("RNNCell", "LSTMCell"):
        cell = getattr(nn, name)(2, 3)
        h = (ember.zeros(4, 3), ember.zeros(4, 3)) if name == "LSTMCell" else ember.zeros(4, 3)
        for _ in range(2):
            out = cell(ember.randn(4, 2), h)
            (out[0] if isinstance(out, tuple) else out).sum().backward()
        gi, gh = cell.bias_ih.grad, cell.bias_hh.grad
        assert gi.numpy().tobytes() == gh.numpy().tobytes()
        assert not np.shares_memory(gi._data, gh._data)


def test_gru_float64_sigmoid_saturates_without_warnings():
    # the float64 sigmoid is 1 / (1 + exp(-z)); exp overflows to inf for very negative z: 0, no warning
    cell = nn.GRUCell(1, 2, dtype=ember.float64)
    with ember.no_grad():
        cell.bias_ih.fill_(-1000.0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = cell(ember.ones(3, 1, dtype=ember.float64), ember.ones(3, 2, dtype=ember.float64))
    # r = z = 0: h' = n = tanh(-1000 + 0) = -1
    np.testing.assert_array_equal(h.detach().numpy(), -np.ones((3, 2)))


@pytest.mark.parametrize("layer", [False, True])
def test_lstm_float64_exp_gates_saturate_and_match_torch(layer):
    # float64 LSTM gates come from one exp (sigmoid(z) = 1 / (1 + exp(-z)), g = 2 sigmoid(2z) - 1): huge
    # pre-activations overflow exp to inf without a warning and give PyTorch's limits; moderate ones its values
    import warnings
    torch.manual_seed(0)
    t = (torch.nn.LSTM(2, 3) if layer else torch.nn.LSTMCell(2, 3)).double()
    with torch.no_grad():      # i saturated either way, f and g both ways, o moderate
        (t.bias_ih_l0 if layer else t.bias_ih).copy_(torch.tensor([-1e3, 1e3, 0, 0, 1e3, -1e3, 1e3, -1e3, 0, 0, 0, 0.]))
    e = (nn.LSTM(2, 3) if layer else nn.LSTMCell(2, 3)).double()
    e.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4, 2) if layer else (4, 2)) * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eo = e(ember.tensor(x, requires_grad=True))
        (eo[0].sum() + eo[1][1].sum() if layer else eo[0].sum() + eo[1].sum()).backward()
    to = t(torch.tensor(x, requires_grad=True))
    (to[0].sum() + to[1][1].sum() if layer else to[0].sum() + to[1].sum()).backward()
    flat = (lambda o: [o[0], o[1][0], o[1][1]]) if layer else (lambda o: list(o))
    for a, b in zip(flat(eo), flat(to)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    for (name, pe), pt in zip(e.named_parameters(), t.parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_fast_weight_read_follows_attribute_lookup_where_it_differs():
    # the cells read their weights from the parameter dict; a name moved off it (pruning-style: the parameter
    # deleted, a plain attribute set) or defined by a subclass still wins, as ordinary attribute lookup
    x, h = ember.randn(2, 3), ember.randn(2, 4)
    cell = nn.RNNCell(3, 4)
    w = cell.weight_hh.detach() * 0
    del cell.weight_hh
    cell.__dict__["weight_hh"] = w
    want = ember.tanh(x @ cell.weight_ih.t() + cell.bias_ih + cell.bias_hh)
    np.testing.assert_allclose(cell(x, h).detach().numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6)

    class Tied(nn.GRUCell):
        @property
        def weight_hh(self):
            if "weight_hh" not in self._parameters:       # (not registered yet: __init__ is registering it)
                raise AttributeError("weight_hh")
            return self._parameters["weight_hh"] * 0

    tied = Tied(3, 4)
    ref = nn.GRUCell(3, 4)
    ref.load_state_dict(tied.state_dict())
    with ember.no_grad():
        ref.weight_hh.zero_()
    np.testing.assert_allclose(tied(x, h).detach().numpy(), ref(x, h).detach().numpy(), rtol=1e-6, atol=1e-6)
