"""Fused single-step recurrent cells: ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``.

A model that steps a cell in a Python loop (PyTorch's time-sequence-prediction example, seq2seq decoders, the
teaching RNNs) pays one op per step, so the per-step cost is what matters: one op that does both GEMMs, the
gate nonlinearities in place on one ``(N, G*H)`` buffer and the state update, and a hand-derived backward on raw
arrays (two GEMMs for the input gradients, two for the weights).  Gate layouts and formulas are PyTorch's:
LSTM rows (i, f, g, o); GRU rows (r, z, n) with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.  The backward
is once-differentiable, like the sequence op's.
"""
from __future__ import annotations

from ..autograd.function import Function, once_differentiable
from ..backend import xp
from ..tensor import Tensor

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


def _affine(x, h, w_ih, w_hh, b_ih, b_hh):
    """x @ w_ih.T + b_ih + h @ w_hh.T + b_hh in one fresh buffer."""
    out = x @ w_ih.T
    out += h @ w_hh.T
    if b_ih is not None:
        out += b_ih
        out += b_hh
    return out


def _sigmoid_(a):
    """sigmoid in place, as 0.5 * tanh(0.5 a) + 0.5 (one transcendental call, no overflow)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _grads(ctx, dpre_x, dpre_h, x, h, w_ih, w_hh):
    """The input, state, weight and bias gradients from the pre-activation gradients of the two GEMMs."""
    need = ctx.needs_input_grad
    dx = Tensor._make(dpre_x @ w_ih) if need[0] else None
    dh = dpre_h @ w_hh if need[1] else None
    dw_ih = Tensor._make(dpre_x.T @ x) if need[2] else None
    dw_hh = Tensor._make(dpre_h.T @ h) if need[3] else None
    db_ih = Tensor._make(dpre_x.sum(0)) if len(need) > 4 and need[4] else None
    db_hh = Tensor._make(dpre_h.sum(0)) if len(need) > 5 and need[5] else None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


class RNNCellFn(Function):
    """h' = tanh(a) or relu(a), a = x W_ih^T + b_ih + h W_hh^T + b_hh."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, relu=False):
        a = _affine(x, h, w_ih, w_hh, b_ih, b_hh)
        if relu:
            xp.maximum(a, 0, out=a)
        else:
            xp.tanh(a, out=a)
        ctx.relu = relu
        ctx.save_for_backward(x, h, w_ih, w_hh, a)
        return a

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, h, w_ih, w_hh, out = (t._data for t in ctx.saved_tensors)
        g = g._data
        da = g * (out > 0) if ctx.relu else g * (1 - out * out)
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _grads(ctx, da, da, x, h, w_ih, w_hh)
        return dx, None if dh is None else Tensor._make(dh), dw_ih, dw_hh, db_ih, db_hh


class LSTMCellFn(Function):
    """(h', c') with c' = f c + i g, h' = o tanh(c'); outputs are two tensors."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        H = h.shape[1]
        act = _affine(x, h, w_ih, w_hh, b_ih, b_hh)         # (N, 4H): i, f, g, o, activated in place
        _sigmoid_(act[:, :2 * H])
        xp.tanh(act[:, 2 * H:3 * H], out=act[:, 2 * H:3 * H])
        _sigmoid_(act[:, 3 * H:])
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c_new = f * c
        c_new += i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.save_for_backward(x, h, c, w_ih, w_hh, act, tc)
        return h_new, c_new

    @staticmethod
    @once_differentiable
    def backward(ctx, gh, gc):
        x, h, c, w_ih, w_hh, act, tc = (t._data for t in ctx.saved_tensors)
        gh, gc = gh._data, gc._data
        H = h.shape[1]
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        # the same products as dpre_i = dc * g * (i * (1 - i)) etc., with one scratch buffer for the factors
        tmp = xp.multiply(tc, tc)
        xp.subtract(1, tmp, out=tmp)
        dc = gh * o
        dc *= tmp
        dc += gc
        dpre = xp.empty_like(act)
        for k, (a, b, gate) in enumerate(((dc, g, i), (dc, c, f), (dc, i, None), (gh, tc, o))):
            d = dpre[:, k * H:(k + 1) * H]
            xp.multiply(a, b, out=d)
            if gate is None:            # tanh gate g: 1 - g * g
                xp.multiply(g, g, out=tmp)
                xp.subtract(1, tmp, out=tmp)
            else:                       # sigmoid gates: s * (1 - s)
                xp.subtract(1, gate, out=tmp)
                xp.multiply(gate, tmp, out=tmp)
            d *= tmp
        need = ctx.needs_input_grad
        dx = Tensor._make(dpre @ w_ih) if need[0] else None
        dh = Tensor._make(dpre @ w_hh) if need[1] else None
        dc_prev = Tensor._make(dc * f) if need[2] else None
        dw_ih = Tensor._make(dpre.T @ x) if need[3] else None
        dw_hh = Tensor._make(dpre.T @ h) if need[4] else None
        db = Tensor._make(dpre.sum(0)) if (len(need) > 5 and (need[5] or need[6])) else None
        return dx, dh, dc_prev, dw_ih, dw_hh, db, db


class GRUCellFn(Function):
    """h' = (1 - z) n + z h, with r, z = sigmoid(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        H = h.shape[1]
        gi = x @ w_ih.T
        gh = h @ w_hh.T
        if b_ih is not None:
            gi += b_ih
            gh += b_hh
        rz = gi[:, :2 * H]
        rz += gh[:, :2 * H]
        _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        hn = gh[:, 2 * H:]
        n = r * hn
        n += gi[:, 2 * H:]
        xp.tanh(n, out=n)
        h_new = h - n
        h_new *= z
        h_new += n
        ctx.save_for_backward(x, h, w_ih, w_hh, rz, n, hn)
        return h_new

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, h, w_ih, w_hh, rz, n, hn = (t._data for t in ctx.saved_tensors)
        g = g._data
        H = h.shape[1]
        r, z = rz[:, :H], rz[:, H:]
        dgi = xp.empty((g.shape[0], 3 * H), g.dtype)
        dpre_n = g * (1 - z)
        dpre_n *= 1 - n * n
        dgi[:, 2 * H:] = dpre_n
        xp.multiply(dpre_n, hn, out=dgi[:, :H])                 # dr, then through the sigmoid
        dgi[:, :H] *= r * (1 - r)
        xp.multiply(g, h - n, out=dgi[:, H:2 * H])              # dz, then through the sigmoid
        dgi[:, H:2 * H] *= z * (1 - z)
        dgh = dgi.copy()
        dgh[:, 2 * H:] *= r
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _grads(ctx, dgi, dgh, x, h, w_ih, w_hh)
        if dh is not None:
            dh += g * z
            dh = Tensor._make(dh)
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def check_weights(op, w_ih, w_hh, gates):
    """``(I, H)`` from a recurrent layer's or cell's weights, checked: w_ih (G*H, I), w_hh (G*H, H)."""
    GH, I = w_ih.shape
    H = w_hh.shape[1]
    if GH != gates * H or tuple(w_hh.shape) != (GH, H):
        raise ValueError(f"{op} expected w_ih of shape ({gates}*H, I) and w_hh of shape ({gates}*H, H), got "
                         f"{tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    return I, H


def _check(op, x, h, w_ih, w_hh, b_ih, b_hh, gates, c=None):
    if x.ndim != 2:
        raise ValueError(f"{op} expected input of shape (N, input_size), got {tuple(x.shape)}")
    I, H = check_weights(op, w_ih, w_hh, gates)
    GH = gates * H
    if x.shape[1] != I:
        raise ValueError(f"{op} expected input with {I} features, got shape {tuple(x.shape)}")
    for name, s in (("hx", h), ("cx", c)):
        if s is not None and tuple(s.shape) != (x.shape[0], H):
            raise ValueError(f"{op} expected {name} of shape ({x.shape[0]}, {H}), got {tuple(s.shape)}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: pass both biases or neither")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (GH,):
            raise ValueError(f"{op} expected {name} of shape ({GH},), got {tuple(b.shape)}")
    dts = {t.dtype for t in (x, h, c, w_ih, w_hh, b_ih, b_hh) if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: input, states and weights must share one dtype, got {sorted(map(str, dts))}")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (N, I), hx (N, H) -> (N, H)."""
    _check("rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih, b_hh, 1)
    return RNNCellFn.apply(input, hx, w_ih, w_hh, b_ih, b_hh, relu=False)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with ReLU, h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).  (N, I), (N, H) -> (N, H)."""
    _check("rnn_relu_cell", input, hx, w_ih, w_hh, b_ih, b_hh, 1)
    return RNNCellFn.apply(input, hx, w_ih, w_hh, b_ih, b_hh, relu=True)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o).  input (N, I), hx = (h, c) each (N, H) -> (h', c')."""
    h, c = hx
    _check("lstm_cell", input, h, w_ih, w_hh, b_ih, b_hh, 4, c)
    return tuple(LSTMCellFn.apply(input, h, c, w_ih, w_hh, b_ih, b_hh))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n).  input (N, I), hx (N, H) -> h' (N, H)."""
    _check("gru_cell", input, hx, w_ih, w_hh, b_ih, b_hh, 3)
    return GRUCellFn.apply(input, hx, w_ih, w_hh, b_ih, b_hh)
