"""Fused single-step recurrent cells: ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``.

A model that steps a cell in a Python loop (PyTorch's time-sequence-prediction example, seq2seq decoders, the
teaching RNNs) pays one op per step, so the per-step cost is what matters: one op that does both GEMMs, the
gate nonlinearities in place on one ``(N, G*H)`` buffer and the state update, and a hand-derived backward on raw
arrays (two GEMMs for the input gradients, two for the weights; the LSTM cell does one GEMM of ``[x, h, 1]``
each way, see ``LSTMCellFn``).  The autograd engine sums the many gradients of a weight used at every step in
place.  Gate layouts and formulas are PyTorch's:
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


_SCALES: dict = {}


def _lstm_scales(H, dtype, N=None):
    """Per-column constants that turn one ``tanh`` into the four LSTM gate activations (rows i, f, g, o).

    sigmoid(z) = 0.5 * tanh(0.5 z) + 0.5, so with s = (0.5, 0.5, 1, 0.5) and b = (0.5, 0.5, 0, 0.5) per gate
    block, act = s * tanh(s * z) + b is sigmoid for i, f, o and tanh for g; its derivative is
    s^2 - (act - b)^2 for both kinds.  Returns (s, b, s^2), each (4H,) or, given N, repeated to (N, 4H) (an
    operand of the gates' own shape takes NumPy's faster same-shape loops).  Cached (the last few shapes);
    read-only."""
    key = (N, H, dtype)
    v = _SCALES.get(key)
    if v is None:
        if N is None:
            s = xp.full(4 * H, 0.5, dtype)
            s[2 * H:3 * H] = 1.0
            b = xp.full(4 * H, 0.5, dtype)
            b[2 * H:3 * H] = 0.0
            v = (s, b, s * s)
        else:
            v = tuple(xp.broadcast_to(a, (N, 4 * H)).copy() for a in _lstm_scales(H, dtype))
        if len(_SCALES) >= 16:
            try:
                _SCALES.pop(next(iter(_SCALES)))
            except (KeyError, RuntimeError, StopIteration):     # another thread trimmed it meanwhile
                pass
        for a in v:
            a.flags.writeable = False
        _SCALES[key] = v
    return v


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


class _ScratchFn(Function):
    """An op that keeps its internal arrays (not inputs or outputs, so nothing to version-check) in
    ``ctx.scratch``; they are dropped with the saved tensors when the graph is freed."""

    def release(self) -> None:
        Function.release(self)
        self.__dict__.pop("scratch", None)


class LSTMCellFn(_ScratchFn):
    """(h', c') with c' = f c + i g, h' = o tanh(c'); outputs are two tensors.

    One GEMM: ``[x, h, 1] @ [W_ih^T; W_hh^T; b_ih + b_hh]`` gives every gate's pre-activation z (the bias
    rides in the GEMM as a column of ones), then one ``tanh`` over all four gates (sigmoid(z) = 0.5 tanh(z/2)
    + 0.5, see ``_lstm_scales``).  The stacked input ``[x, h, 1]`` is kept for backward, where one GEMM
    against it gives the gradients of both weights and the bias."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        N, I = x.shape
        H = h.shape[1]
        dt = x.dtype
        s, bconst, _ = _lstm_scales(H, dt, N)
        bias = b_ih is not None
        K = I + H + bias
        w = xp.empty((K, 4 * H), dt)
        w[:I] = w_ih.T
        w[I:I + H] = w_hh.T
        if bias:
            xp.add(b_ih, b_hh, out=w[-1])
            xh = xp.concatenate([x, h, xp.ones((N, 1), dt)], 1)
        else:
            xh = xp.concatenate([x, h], 1)
        act = xh @ w                                        # (N, 4H): z for i, f, g, o
        act *= s
        xp.tanh(act, out=act)
        act *= s
        act += bconst                                       # the activated i, f, g, o
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c_new = f * c
        tmp = i * g
        c_new += tmp
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.save_for_backward(x, h, c, w_ih, w_hh)          # (version-checked, as PyTorch's saved inputs)
        ctx.scratch = (xh, act, tc)
        return h_new, c_new

    @staticmethod
    @once_differentiable
    def backward(ctx, gh, gc):
        x, h, c, w_ih, w_hh = (t._data for t in ctx.saved_tensors)
        xh, act, tc = ctx.scratch
        gh, gc = gh._data, gc._data
        H = h.shape[1]
        I = x.shape[1]
        _, bconst, s2 = _lstm_scales(H, act.dtype, act.shape[0])
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        dc = gh * o                                         # dc = gh o (1 - tanh(c')^2) + gc
        tmp = tc * tc
        xp.subtract(1, tmp, out=tmp)
        dc *= tmp
        dc += gc
        dz = xp.empty_like(act)                             # dL/dz: (dc g, dc c, dc i, gh tanh(c')) * act'(z)
        xp.multiply(dc, g, out=dz[:, :H])
        xp.multiply(dc, c, out=dz[:, H:2 * H])
        xp.multiply(dc, i, out=dz[:, 2 * H:3 * H])
        xp.multiply(gh, tc, out=dz[:, 3 * H:])
        deriv = act - bconst                                # act'(z) = s^2 - (act - b)^2 for all four gates
        deriv *= deriv
        xp.subtract(s2, deriv, out=deriv)
        dz *= deriv
        need = ctx.needs_input_grad
        dx = Tensor._make(dz @ w_ih) if need[0] else None
        dh = Tensor._make(dz @ w_hh) if need[1] else None
        dc_prev = Tensor._make(dc * f) if need[2] else None
        dw_ih = dw_hh = db = None
        if need[3] or need[4] or (len(need) > 5 and (need[5] or need[6])):
            dw = dz.T @ xh                                  # (4H, I + H [+ 1]): [dW_ih, dW_hh, db]
            dw_ih = Tensor._make(dw[:, :I]) if need[3] else None
            dw_hh = Tensor._make(dw[:, I:I + H]) if need[4] else None
            db = Tensor._make(dw[:, I + H]) if dw.shape[1] > I + H else None
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
    # the common case in a few comparisons on the raw arrays (this runs once per step of a Python loop)
    try:
        xa, ha, wi, wh = x._data, h._data, w_ih._data, w_hh._data
    except AttributeError:          # not Tensors: the checks one by one
        return _check_slow(op, x, h, w_ih, w_hh, b_ih, b_hh, gates, c)
    if xa.ndim == 2 and wh.ndim == 2 and (b_ih is None) == (b_hh is None):
        H = wh.shape[1]
        GH = gates * H
        dt = xa.dtype
        if (wi.shape == (GH, xa.shape[1]) and wh.shape[0] == GH and ha.shape == (xa.shape[0], H)
                and ha.dtype == dt and wi.dtype == dt and wh.dtype == dt
                and (c is None or (c._data.shape == ha.shape and c._data.dtype == dt))
                and (b_ih is None or (b_ih._data.shape == (GH,) and b_hh._data.shape == (GH,)
                                      and b_ih._data.dtype == dt and b_hh._data.dtype == dt))):
            return
    _check_slow(op, x, h, w_ih, w_hh, b_ih, b_hh, gates, c)


def _check_slow(op, x, h, w_ih, w_hh, b_ih, b_hh, gates, c=None):
    """The same checks one by one, raising the error that names what is wrong."""
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
