"""Fused recurrent kernels: a whole sequence of an Elman RNN (tanh/ReLU), LSTM or GRU layer in one op, and the
single-step cells built on it.

Why one op per layer and direction instead of one per step: the input projection ``x @ W_ih.T`` of every
time step is one big GEMM, each step then costs one small GEMM ``h @ W_hh.T`` plus a handful of in-place
elementwise NumPy calls, and the backward (back-propagation through time) is a plain Python loop over the
steps on raw arrays (no recursion, no graph per step), so 1,000-step sequences are fine.  The weight
gradients are accumulated after the loop with one GEMM over all steps (stacking every step's ``h_{t-1}``).

Gate layouts are PyTorch's: LSTM rows of ``W_ih``/``W_hh`` are (i, f, g, o); GRU rows are (r, z, n) with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.  The backward is computed on raw arrays and is therefore
once-differentiable (``create_graph=True`` raises a clear error).

>>> out, h_n, c_n = rnn_sequence("LSTM", x, h0, c0, w_ih, w_hh, b_ih, b_hh)   # x: (L, N, I)
"""
from __future__ import annotations

from ..autograd.function import Function, once_differentiable
from ..backend import xp
from ..tensor import Tensor

__all__ = ["rnn_sequence", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _lstm_scales(H, dtype):
    """The per-row constants that turn one ``tanh`` into the four LSTM gate activations.

    sigmoid(z) = 0.5 * tanh(0.5 z) + 0.5, so with s = (0.5, 0.5, 1, 0.5) per gate block and b = (0.5, 0.5, 0,
    0.5): y = s * tanh(s * z) + b gives sigmoid for i, f, o and tanh for g in three contiguous array calls;
    the ``s * z`` is folded into the weights once per call.  dy/dz = s^2 - (y - b)^2 for both kinds."""
    s = xp.full(4 * H, 0.5, dtype)
    s[2 * H:3 * H] = 1.0
    b = xp.full(4 * H, 0.5, dtype)
    b[2 * H:3 * H] = 0.0
    return s, b


def _prev_states(h0, Hs, reverse):
    """h_{t-1} for every time index t (in time order), for the weight-gradient GEMM."""
    if reverse:
        return xp.concatenate([Hs[1:], h0[None]], axis=0)
    return xp.concatenate([h0[None], Hs[:-1]], axis=0)


class RNNSequence(Function):
    """One layer, one direction, the whole sequence.  Inputs: x (L, N, I), h0 (N, H), c0 (N, H) or None,
    w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H) or None.  Outputs: out (L, N, H), h_n (N, H)[, c_n]."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode="LSTM", reverse=False):
        L, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        order = range(L - 1, -1, -1) if reverse else range(L)
        ctx.mode, ctx.reverse = mode, reverse
        Hs = xp.empty((L, N, H), dt)
        x2 = x.reshape(L * N, I)
        if mode == "LSTM":
            s, bconst = _lstm_scales(H, dt)
            # prescaled weights: the GEMMs directly produce s * z
            xw = x2 @ (w_ih * s[:, None]).T
            if b_ih is not None:
                xw += (b_ih + b_hh) * s
            xw = xw.reshape(L, N, 4 * H)
            whh_t = (w_hh * s[:, None]).T
            C = xp.empty((L, N, H), dt)
            TC = xp.empty((L, N, H), dt)
            h, c = h0, c0
            tmp = xp.empty((N, H), dt)
            for t in order:
                g = xw[t]
                g += h @ whh_t
                xp.tanh(g, out=g)
                g *= s
                g += bconst           # g now holds the activated (i, f, g, o)
                i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
                ct = C[t]
                xp.multiply(f, c, out=ct)
                xp.multiply(i, gg, out=tmp)
                ct += tmp
                xp.tanh(ct, out=TC[t])
                xp.multiply(o, TC[t], out=Hs[t])
                h, c = Hs[t], ct
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, xw, C, TC, Hs)
            return Hs, h.copy(), c.copy()
        if mode == "GRU":
            H2 = 2 * H
            half = xp.ones(3 * H, dt)
            half[:H2] = 0.5
            xw = x2 @ (w_ih * half[:, None]).T
            if b_ih is not None:
                xw += b_ih * half
            xw = xw.reshape(L, N, 3 * H)
            whh_t = (w_hh * half[:, None]).T
            bhh = b_hh * half if b_hh is not None else None
            RZ = xp.empty((L, N, H2), dt)
            NN = xp.empty((L, N, H), dt)
            HN = xp.empty((L, N, H), dt)      # W_hn h + b_hn, needed for dr
            h = h0
            for t in order:
                hh = h @ whh_t
                if bhh is not None:
                    hh += bhh
                rz = RZ[t]
                xp.add(xw[t, :, :H2], hh[:, :H2], out=rz)
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                HN[t] = hh[:, H2:]
                n = NN[t]
                xp.multiply(rz[:, :H], hh[:, H2:], out=n)
                n += xw[t, :, H2:]
                xp.tanh(n, out=n)
                ht = Hs[t]
                xp.subtract(h, n, out=ht)
                ht *= rz[:, H:]
                ht += n
                h = ht
            ctx.save_for_backward(x, h0, w_ih, w_hh, RZ, NN, HN, Hs)
            return Hs, h.copy()
        # Elman RNN
        xw = x2 @ w_ih.T
        if b_ih is not None:
            xw += b_ih + b_hh
        xw = xw.reshape(L, N, H)
        whh_t = w_hh.T
        h = h0
        for t in order:
            ht = Hs[t]
            xp.matmul(h, whh_t, out=ht)
            ht += xw[t]
            if mode == "RNN_TANH":
                xp.tanh(ht, out=ht)
            else:
                xp.maximum(ht, 0, out=ht)
            h = ht
        ctx.save_for_backward(x, h0, w_ih, w_hh, Hs)
        return Hs, h.copy()

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn, g_cn=None):
        mode, reverse = ctx.mode, ctx.reverse
        need = ctx.needs_input_grad
        dout = g_out._data
        dh_next = g_hn._data
        if mode == "LSTM":
            x, h0, c0, w_ih, w_hh, G, C, TC, Hs = (s._data for s in ctx.saved_tensors)
        elif mode == "GRU":
            x, h0, w_ih, w_hh, RZ, NN, HN, Hs = (s._data for s in ctx.saved_tensors)
        else:
            x, h0, w_ih, w_hh, Hs = (s._data for s in ctx.saved_tensors)
        L, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        dout = dout.astype(dt, copy=False)
        dh_next = dh_next.astype(dt, copy=False)
        order = range(L) if reverse else range(L - 1, -1, -1)   # the forward's order, backwards
        dh = xp.empty((N, H), dt)
        dc0 = None
        if mode == "LSTM":
            s, bconst = _lstm_scales(H, dt)
            Fg = G - bconst
            Fg *= Fg
            xp.subtract(s * s, Fg, out=Fg)      # d(activation)/d(pre-activation), all steps at once
            DT = TC * TC
            xp.subtract(1.0, DT, out=DT)
            dZ = xp.empty((L, N, 4 * H), dt)
            dc_next = g_cn._data.astype(dt, copy=False)
            dc = xp.empty((N, H), dt)
            for t in order:
                g = G[t]
                i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
                if reverse:
                    c_prev = C[t + 1] if t + 1 < L else c0
                else:
                    c_prev = C[t - 1] if t > 0 else c0
                xp.add(dout[t], dh_next, out=dh)
                dz = dZ[t]
                xp.multiply(dh, TC[t], out=dz[:, 3 * H:])
                xp.multiply(dh, o, out=dc)
                dc *= DT[t]
                dc += dc_next
                xp.multiply(dc, gg, out=dz[:, :H])
                xp.multiply(dc, c_prev, out=dz[:, H:2 * H])
                xp.multiply(dc, i, out=dz[:, 2 * H:3 * H])
                dz *= Fg[t]
                dh_next = dz @ w_hh
                dc_next = dc * f
            dc0 = dc_next
            dZx = dZh = dZ
        elif mode == "GRU":
            H2 = 2 * H
            Frz = 1.0 - RZ
            Frz *= RZ
            Fn = NN * NN
            xp.subtract(1.0, Fn, out=Fn)
            dZh = xp.empty((L, N, 3 * H), dt)
            dNp = xp.empty((L, N, H), dt)
            tmpz = xp.empty((N, H), dt)
            for t in order:
                if reverse:
                    h_prev = Hs[t + 1] if t + 1 < L else h0
                else:
                    h_prev = Hs[t - 1] if t > 0 else h0
                r, z, n = RZ[t, :, :H], RZ[t, :, H:], NN[t]
                dz = dZh[t]
                xp.add(dout[t], dh_next, out=dh)
                xp.subtract(h_prev, n, out=dz[:, H:H2])
                dz[:, H:H2] *= dh                       # dL/dz
                xp.multiply(dh, z, out=tmpz)            # direct path to h_{t-1}
                dnp = dNp[t]
                xp.subtract(dh, tmpz, out=dnp)
                dnp *= Fn[t]                            # dL/d(pre-tanh n)
                xp.multiply(dnp, HN[t], out=dz[:, :H])  # dL/dr
                dz[:, :H2] *= Frz[t]
                xp.multiply(dnp, r, out=dz[:, H2:])     # dL/d(W_hn h + b_hn)
                dh_next = dz @ w_hh
                dh_next += tmpz
            dZx = xp.concatenate([dZh[:, :, :H2], dNp], axis=2)
        else:
            if mode == "RNN_TANH":
                Fa = Hs * Hs
                xp.subtract(1.0, Fa, out=Fa)
            else:
                Fa = (Hs > 0).astype(dt)
            dZ = xp.empty((L, N, H), dt)
            for t in order:
                dz = dZ[t]
                xp.add(dout[t], dh_next, out=dz)
                dz *= Fa[t]
                dh_next = dz @ w_hh
            dZx = dZh = dZ
        GH = dZx.shape[2]
        dZx2 = dZx.reshape(L * N, GH)
        dZh2 = dZh.reshape(L * N, GH)
        dx = Tensor._make((dZx2 @ w_ih).reshape(L, N, I)) if need[0] else None
        dh0 = Tensor._make(dh_next) if need[1] else None
        dc0 = Tensor._make(dc0) if (need[2] and dc0 is not None) else None
        dw_ih = Tensor._make(dZx2.T @ x.reshape(L * N, I)) if need[3] else None
        dw_hh = None
        if need[4]:
            hp = _prev_states(h0, Hs, reverse).reshape(L * N, H)
            dw_hh = Tensor._make(dZh2.T @ hp)
        db_ih = Tensor._make(dZx2.sum(0)) if need[5] else None
        db_hh = Tensor._make(dZh2.sum(0)) if need[6] else None
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _check(op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, gates):
    if x.ndim != 3:
        raise ValueError(f"{op} expected input of shape (L, N, input_size), got {tuple(x.shape)}")
    GH, I = w_ih.shape
    H = w_hh.shape[1]
    if GH != gates * H or tuple(w_hh.shape) != (GH, H):
        raise ValueError(f"{op} expected w_ih of shape ({gates}*H, I) and w_hh of shape ({gates}*H, H), got "
                         f"{tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    if x.shape[2] != I:
        raise ValueError(f"{op} expected input with {I} features (last dim), got shape {tuple(x.shape)}")
    N = x.shape[1]
    for name, s in (("h0", h0), ("c0", c0)):
        if s is not None and tuple(s.shape) != (N, H):
            raise ValueError(f"{op} expected {name} of shape ({N}, {H}), got {tuple(s.shape)}")
    dts = {t.dtype for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh) if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: input, states and weights must share one dtype, got {sorted(map(str, dts))}")


def rnn_sequence(mode: str, x: Tensor, h0: Tensor, c0, w_ih: Tensor, w_hh: Tensor, b_ih=None, b_hh=None,
                 reverse: bool = False):
    """Run one recurrent layer in one direction over a whole sequence, as one fused op.

    ``mode``: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".  ``x``: (L, N, I); ``h0``/``c0``: (N, H) (``c0`` only
    for LSTM, else None); weights as PyTorch's ``weight_ih_l{k}`` (G*H, I), ``weight_hh_l{k}`` (G*H, H),
    biases (G*H,) or None.  ``reverse`` runs from the last step to the first (the backward direction of a
    bidirectional layer); outputs stay in time order.  Returns ``(out (L, N, H), h_n)`` or, for LSTM,
    ``(out, h_n, c_n)``.

    >>> out, h_n = rnn_sequence("GRU", x, h0, None, w_ih, w_hh, b_ih, b_hh)
    """
    if mode not in _GATES:
        raise ValueError(f"rnn_sequence: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
    _check(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, _GATES[mode])
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{mode}: pass both biases or neither")
    if mode != "LSTM":
        c0 = None
    elif c0 is None:
        raise ValueError("LSTM needs an initial cell state c0")
    return RNNSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=bool(reverse))


def _cell(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    # a cell is a sequence of length one; the op's h_n/c_n outputs are the new states
    if input.ndim != 2:
        raise ValueError(f"{mode.lower()}_cell expected input of shape (N, input_size), got {tuple(input.shape)}")
    outs = rnn_sequence(mode, input.unsqueeze(0), hx, cx, w_ih, w_hh, b_ih, b_hh)
    return outs[1:] if mode == "LSTM" else outs[1]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).  input (N, I), hx (N, H) -> (N, H)."""
    return _cell("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman step with ReLU, h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).  (N, I), (N, H) -> (N, H)."""
    return _cell("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o).  input (N, I), hx = (h, c) each (N, H) -> (h', c')."""
    h, c = hx
    return tuple(_cell("LSTM", input, h, c, w_ih, w_hh, b_ih, b_hh))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n).  input (N, I), hx (N, H) -> h' (N, H)."""
    return _cell("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)
