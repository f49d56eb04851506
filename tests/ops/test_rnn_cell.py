"""The fused single-step cells against torch's functional cells (values and the gradient of every input, in
float64 and float32, with and without biases, with only one of an LSTM's outputs used) and finite differences."""
import numpy as np
import pytest
import torch

import ember
from ember.ops import rnn_cell
from tests.helpers import compare, gradcheck

N, I, H = 5, 3, 4
CELLS = {"rnn_tanh": (1, torch.rnn_tanh_cell, rnn_cell.rnn_tanh_cell),
         "rnn_relu": (1, torch.rnn_relu_cell, rnn_cell.rnn_relu_cell),
         "gru": (3, torch.gru_cell, rnn_cell.gru_cell)}


def _call(name, m, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    fn = CELLS[name][1] if m is torch else CELLS[name][2]
    return fn(x, h, w_ih, w_hh, b_ih, b_hh)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("dtype,atol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_single_output_cells_match_torch(name, bias, dtype, atol):
    g = CELLS[name][0]
    shapes = [(N, I), (N, H), (g * H, I), (g * H, H)] + ([(g * H,), (g * H,)] if bias else [])
    compare(lambda m, *a: _call(name, m, *a), shapes, dtype=dtype, atol=atol, rtol=1e-5 if dtype == np.float32 else 1e-8)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("which", ["both", "h", "c"])
def test_lstm_cell_matches_torch(bias, which):
    def fn(m, x, h, c, w_ih, w_hh, *b):
        f = torch.lstm_cell if m is torch else rnn_cell.lstm_cell
        hn, cn = f(x, (h, c), w_ih, w_hh, *(b or (None, None)))
        return {"both": (hn, cn), "h": hn, "c": cn}[which]
    shapes = [(N, I), (N, H), (N, H), (4 * H, I), (4 * H, H)] + ([(4 * H,), (4 * H,)] if bias else [])
    compare(fn, shapes, atol=1e-10, rtol=1e-8)


def test_relu_cell_gradient_at_zero_is_zero_as_torch():
    x = np.zeros((2, I))
    h = np.zeros((2, H))
    w = np.ones((H, I))
    compare(lambda m, *a: _call("rnn_relu", m, *a), [x, h, w, w[:, :H].copy() if H <= I else np.ones((H, H))])


@pytest.mark.parametrize("name", ["rnn_tanh", "gru", "lstm"])
def test_cells_pass_finite_differences(name):
    if name == "lstm":
        assert gradcheck(lambda x, h, c, wi, wh, bi, bh: rnn_cell.lstm_cell(x, (h, c), wi, wh, bi, bh),
                         [(N, I), (N, H), (N, H), (4 * H, I), (4 * H, H), (4 * H,), (4 * H,)])
        return
    g = CELLS[name][0]
    assert gradcheck(lambda *a: CELLS[name][2](*a), [(N, I), (N, H), (g * H, I), (g * H, H), (g * H,), (g * H,)])


def test_cell_errors_name_the_op_and_shapes():
    x, h = ember.randn(2, I), ember.randn(2, H)
    with pytest.raises(ValueError, match=r"gru_cell expected w_ih of shape \(3\*H, I\)"):
        rnn_cell.gru_cell(x, h, ember.randn(4 * H, I), ember.randn(4 * H, H))
    with pytest.raises(ValueError, match=r"lstm_cell expected cx of shape \(2, 4\), got \(3, 4\)"):
        rnn_cell.lstm_cell(x, (h, ember.randn(3, H)), ember.randn(4 * H, I), ember.randn(4 * H, H))
    with pytest.raises(RuntimeError, match="must share one dtype"):
        rnn_cell.rnn_tanh_cell(x.double(), h, ember.randn(H, I), ember.randn(H, H))


def test_lstm_cell_module_unrolled_equals_torch_over_many_steps():
    torch.manual_seed(0)
    tc = torch.nn.LSTMCell(I, H).double()
    ec = ember.nn.LSTMCell(I, H, dtype=ember.float64)
    ec.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()})
    xs = np.random.default_rng(0).standard_normal((30, N, I))
    outs = []
    for m, cell in ((torch, tc), (ember, ec)):
        h = c = m.zeros(N, H, dtype=m.float64)
        total = 0
        for t in range(30):
            h, c = cell(m.tensor(xs[t]), (h, c))
            total = total + (h * h).sum()
        total.backward()
        outs.append((float(total.detach()), cell.weight_hh.grad.numpy().copy()))
    assert abs(outs[0][0] - outs[1][0]) < 1e-9
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_lstm_cell_backward_matches_textbook_formula(dtype, rtol):
    # the fused backward (one GEMM over [x, h, 1], gate derivatives from the tanh form) gives the textbook
    # products, written out here with NumPy, to rounding
    from ember.ops.rnn_cell import lstm_cell
    rng = np.random.default_rng(5)
    N, I, H = 4, 3, 5
    arrs = [rng.standard_normal(s).astype(dtype) for s in ((N, I), (N, H), (N, H), (4 * H, I), (4 * H, H), (4 * H,),
                                                           (4 * H,), (N, H), (N, H))]
    x, h, c, wi, wh, bi, bh, gh, gc = arrs
    ts = [ember.tensor(a, requires_grad=True) for a in arrs[:7]]
    hn, cn = lstm_cell(ts[0], (ts[1], ts[2]), *ts[3:])
    ember.autograd.backward([hn, cn], [ember.tensor(gh), ember.tensor(gc)])
    a = x @ wi.T
    a += h @ wh.T
    a += bi
    a += bh
    for sl in (slice(0, 2 * H), slice(3 * H, 4 * H)):
        s = a[:, sl]
        s *= 0.5
        np.tanh(s, out=s)
        s *= 0.5
        s += 0.5
    np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
    i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
    cnew = f * c
    cnew += i * g
    tc = np.tanh(cnew)
    dc = gh * o
    dc *= 1 - tc * tc
    dc += gc
    dpre = np.concatenate([dc * g * (i * (1 - i)), dc * c * (f * (1 - f)), dc * i * (1 - g * g),
                           gh * tc * (o * (1 - o))], axis=1)
    expected = [dpre @ wi, dpre @ wh, dc * f, dpre.T @ x, dpre.T @ h, dpre.sum(0), dpre.sum(0)]
    for t, e in zip(ts, expected):
        np.testing.assert_allclose(t.grad._data, e, rtol=rtol, atol=rtol)
        assert t.grad.dtype == ember.tensor(e).dtype


@pytest.mark.parametrize("simd", [False, True])
def test_float64_tanh_of_the_recurrent_kernels(monkeypatch, simd):
    """``rnn_cell._tanh``: float64 without NumPy's AVX-512 kernel goes through one exp; within a few epsilon
    (absolute) of NumPy's tanh everywhere, the limits at +-inf and beyond the exp's range, NaN kept; float32 and
    the AVX-512 case are NumPy's own tanh."""
    from ember.ops import rnn_cell as RC
    monkeypatch.setattr(RC, "_TANH64_SIMD", simd)
    x = np.concatenate([np.linspace(-30, 30, 20001), [0.0, 1e-300, -1e-12, 400.0, -400.0, 800.0, -800.0,
                                                       np.inf, -np.inf, np.nan]])
    with np.errstate(all="raise"):            # (no floating-point warning escapes)
        got = RC._tanh(x)
    ref = np.tanh(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    assert np.abs(got[ok] - ref[ok]).max() <= 4 * np.finfo(np.float64).eps
    assert (got[ok][-2:] == ref[ok][-2:]).all() and (np.abs(got[ok]) <= 1).all()
    if simd:
        np.testing.assert_array_equal(got, ref)
    else:
        assert not np.array_equal(got, ref)       # the exp form rounds otherwise somewhere
    buf = x.copy()
    assert RC._tanh(buf, buf) is buf and np.array_equal(buf, got, equal_nan=True)
    x32 = x.astype(np.float32)
    np.testing.assert_array_equal(RC._tanh(x32), np.tanh(x32))


@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_recurrent_gates_at_extreme_inputs_raise_no_floating_point_error(kind, dtype):
    """The gates' exp overflows to inf and underflows to 0 far from 0 (their limits): silently, even under a
    user's ``np.errstate(all="raise")``, with PyTorch's values."""
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, kind)(3, 4).to(getattr(torch, dtype))
    e_mod = getattr(ember.nn, kind)(3, 4).to(getattr(ember, dtype))
    e_mod.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()})
    x = np.array([[[1e4, -1e4, 0.0]], [[-1e30, 1e30, 5.0]], [[100.0, 0.0, -100.0]]], dtype)
    if kind.endswith("Cell"):
        x = x[:, 0]
    with np.errstate(all="raise"):
        got = e_mod(ember.tensor(x))
    want = t_mod(torch.tensor(x))
    got = got[0] if isinstance(got, tuple) else got
    want = want[0] if isinstance(want, tuple) else want
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-6)
