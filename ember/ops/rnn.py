"""Fused recurrent kernels: a whole sequence of an Elman RNN (tanh/ReLU), LSTM or GRU layer in one op (the
single-step cells are in ``rnn_cell.py``).

Why one op per layer and direction instead of one per step: each step costs one small GEMM plus a handful
of in-place elementwise NumPy calls, and the backward (back-propagation through time) is a plain Python loop
over the steps on raw arrays (no recursion, no graph per step), so 1,000-step sequences are fine; the weight
gradients are one GEMM over all steps after the loop.  GRU and Elman: the input projection ``x @ W_ih.T`` of
every step is one big GEMM before the loop, each step adds ``h @ W_hh.T``.  LSTM (``_lstm_forward``): each
step is one GEMM of the row ``[x_t, h_{t-1}, 1]`` against the stacked weights and summed biases, the rows of
all steps kept in one array that doubles as the weight-gradient GEMM's operand.

The batch rows of a layer are independent, so with several BLAS threads (``ember.ops._parallel``) each thread
runs the whole forward and backward loop over its own rows (``_split_rows``): one hand-off per loop, not per
step, and every row's numbers are the one-thread ones.  The LSTM's loops (unmasked, float32/float64) run
compiled whole where the kernels and NumPy's BLAS allow (``_ck.lstm_forward_loop`` / ``lstm_backward_loop``:
the same GEMM calls and pointwise kernels as the Python loops, their bits, in one call that releases the
GIL), so split parts do not queue for the GIL at every step and split from smaller sizes (``MIN_SPLIT_LOOP``).

Gate layouts are PyTorch's: LSTM rows of ``W_ih``/``W_hh`` are (i, f, g, o); GRU rows are (r, z, n) with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.  The backward is computed on raw arrays and is therefore
once-differentiable (``create_graph=True`` raises a clear error).

>>> out, h_n, c_n = rnn_sequence("LSTM", x, h0, c0, w_ih, w_hh, b_ih, b_hh)   # x: (L, N, I)
"""
from __future__ import annotations

import queue

from ..autograd.function import Function, once_differentiable
from ..backend import xp
from ..backend.device import array_module as _xp, like as _like
from ..backend.layout import c_copy
from ..tensor import Tensor
from . import _blas_spin as _spin, _ckernels as _ck, _parallel as _par
from ._fastsum import col_sums
# the single-step cells are fused ops of their own (one op per step matters in Python loops)
from .rnn_cell import (_EXP_GATES, _F64, _ScratchFn, _tanh, _lstm_exp_scales, _lstm_gates_, _lstm_scales,  # noqa: F401
                       check_weights, rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell)

__all__ = ["rnn_sequence", "select_rows", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _prev_states(h0, Hs, reverse, lo=0, hi=None):
    """h_{t-1} for the time indices t in lo..hi-1 (all by default; in time order), for the weight-gradient
    GEMM: a view of the states where h0 is not among them."""
    L = Hs.shape[0]
    hi = L if hi is None else hi
    if reverse:
        return Hs[lo + 1:hi + 1] if hi < L else xp.concatenate([Hs[lo + 1:], h0[None]], axis=0)
    return Hs[lo - 1:hi - 1] if lo > 0 else xp.concatenate([h0[None], Hs[:hi - 1]], axis=0)


def _masked_out(Hs, batch_sizes):
    """The layer output: the states, with zeros where a row is inactive (padding)."""
    if batch_sizes is None:
        return Hs
    out = Hs.copy()
    for t, b in enumerate(batch_sizes):
        out[t, b:] = 0
    return out


def _runs(order, sizes, N):
    """The steps of ``order`` grouped into runs of one batch size: [(b, [t, ...]), ...].  Each run works on
    prefix views [:, :b] made once, so its steps index exactly like the unmasked loop; empty runs are left out
    (nothing moves in them)."""
    if sizes is None:
        return [(N, order)] if len(order) else []
    runs = []
    for t in order:
        b = sizes[t]
        if runs and runs[-1][0] == b:
            runs[-1][1].append(t)
        elif b:
            runs.append((b, [t]))
    return runs


def _fill_inactive(A, init, sizes, reverse):
    """Write the carried state into the inactive (step, row) places of A (L, N, H): ``init`` where a row has
    not started (reverse: before the loop, so a joining row reads it), else its last active state (forward:
    after the loop)."""
    L = A.shape[0]
    if reverse:
        for t in range(L):
            A[t, sizes[t]:] = init[sizes[t]:]
        return
    A[:, sizes[0]:] = init[sizes[0]:]
    for t in range(1, L):
        if sizes[t] < sizes[t - 1]:
            A[t:, sizes[t]:sizes[t - 1]] = A[t - 1, sizes[t]:sizes[t - 1]]


def _merge(part, full):
    """A full (N, H) state gradient: ``part`` for the rows that just ran, ``full`` passed through below."""
    b = part.shape[0]
    return part if b == full.shape[0] else xp.concatenate([part, full[b:]], axis=0)


class RNNSequence(_ScratchFn):
    """One layer, one direction, the whole sequence.  Inputs: x (L, N, I), h0 (N, H), c0 (N, H) or None,
    w_ih (G*H, I), w_hh (G*H, H), b_ih, b_hh (G*H) or None.  Outputs: out (L, N, H), h_n (N, H)[, c_n].

    ``batch_sizes`` (a tuple of L ints, or None for all N rows at every step) restricts step t to the rows
    ``[:batch_sizes[t]]``: the other rows carry their state over unchanged (h_t = h_{t-1}, c likewise) and
    output zeros, and in backward their state gradient passes straight through while their gates get none.
    The saved states hold the carried values in their inactive places, so h_n, the reverse direction's start
    and the weight-gradient GEMM need no special case; the per-step work shrinks to the active rows."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode="LSTM", reverse=False, batch_sizes=None):
        L, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        order = range(L - 1, -1, -1) if reverse else range(L)
        runs = _runs(order, batch_sizes, N)
        t_last = runs[-1][1][-1] if runs else None     # the last step that ran (h_n is its state)
        m = _xp(x)                      # the array module of the inputs' device
        # masked: zeros keep the never-written places finite for backward's all-steps arithmetic
        alloc = m.empty if batch_sizes is None else m.zeros
        ctx.mode, ctx.reverse, ctx.batch_sizes = mode, reverse, batch_sizes
        if mode == "LSTM":
            return _lstm_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, batch_sizes)
        Hs = alloc((L, N, H), dt)
        fill_before = batch_sizes is not None and reverse
        fill_after = batch_sizes is not None and not reverse
        if fill_before:
            _fill_inactive(Hs, h0, batch_sizes, True)
        x2 = x.reshape(L * N, I)
        if mode == "GRU":
            H2 = 2 * H
            # r and z: sigmoid(z) = 1 / (1 + exp(-z)) from weights scaled by -1 (float32/64: NumPy's exp costs
            # about half its tanh, see _lstm_gates_), else 0.5 tanh(z / 2) + 0.5 from weights scaled by 0.5
            exp_gates = dt in _EXP_GATES
            scale = m.ones(3 * H, dt)
            scale[:H2] = -1.0 if exp_gates else 0.5
            xw = x2 @ (w_ih * scale[:, None]).T
            if b_ih is not None:
                xw += b_ih * scale
            xw = xw.reshape(L, N, 3 * H)
            whh_t = c_copy((w_hh * scale[:, None]).T)   # a C-order operand: faster GEMMs
            bhh = b_hh * scale if b_hh is not None else None
            RZ = alloc((L, N, H2), dt)
            NN = alloc((L, N, H), dt)
            HN = alloc((L, N, H), dt)      # W_hn h + b_hn, needed for dr

            def part(r):
                _gru_forward_rows(xw[:, r], whh_t, bhh, RZ[:, r], NN[:, r], HN[:, r], Hs[:, r], h0[r], order,
                                  batch_sizes, exp_gates)
            _split_rows(part, x, N, H, batch_sizes, 3)
            if fill_after:
                _fill_inactive(Hs, h0, batch_sizes, False)
            ctx.save_for_backward(x, h0, w_ih, w_hh, RZ, NN, HN, Hs)
            return _masked_out(Hs, batch_sizes), (h0 if t_last is None else Hs[t_last]).copy()
        # Elman RNN
        xw = x2 @ w_ih.T
        if b_ih is not None:
            xw += b_ih + b_hh
        xw = xw.reshape(L, N, H)
        whh_t = c_copy(w_hh.T)

        def part(r):
            _elman_forward_rows(xw[:, r], whh_t, Hs[:, r], h0[r], order, batch_sizes, mode)
        _split_rows(part, x, N, H, batch_sizes, 1)
        if fill_after:
            _fill_inactive(Hs, h0, batch_sizes, False)
        ctx.save_for_backward(x, h0, w_ih, w_hh, Hs)
        return _masked_out(Hs, batch_sizes), (h0 if t_last is None else Hs[t_last]).copy()

    @staticmethod
    @once_differentiable
    def backward(ctx, g_out, g_hn, g_cn=None):
        mode, reverse, batch_sizes = ctx.mode, ctx.reverse, ctx.batch_sizes
        need = ctx.needs_input_grad
        dout = g_out._data
        dh_full = g_hn._data
        if mode == "LSTM":
            dt = ctx.scratch[0].dtype
            return _lstm_backward(ctx, dout.astype(dt, copy=False), dh_full.astype(dt, copy=False),
                                  g_cn._data.astype(dt, copy=False))
        if mode == "GRU":
            x, h0, w_ih, w_hh, RZ, NN, HN, Hs = (s._data for s in ctx.saved_tensors)
        else:
            x, h0, w_ih, w_hh, Hs = (s._data for s in ctx.saved_tensors)
        L, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        dout = dout.astype(dt, copy=False)
        dh_full = dh_full.astype(dt, copy=False)
        order = range(L) if reverse else range(L - 1, -1, -1)   # the forward's order, backwards
        m = _xp(x)
        alloc = m.empty if batch_sizes is None else m.zeros     # inactive places get no gate gradient
        if mode == "GRU":
            dZh = alloc((L, N, 3 * H), dt)
            dNp = alloc((L, N, H), dt)

            def part(r, done=None):
                return _gru_backward_rows(RZ[:, r], NN[:, r], HN[:, r], Hs[:, r], dZh[:, r], dNp[:, r],
                                          dout[:, r], h0[r], dh_full[r], w_hh, order,
                                          batch_sizes, reverse, done)
            gates = 3
        else:
            dZh = alloc((L, N, H), dt)

            def part(r, done=None):
                return _elman_backward_rows(Hs[:, r], dZh[:, r], dout[:, r], dh_full[r], w_hh, order,
                                            batch_sizes, mode, done)
            gates = 1
        dx = m.empty((L, N, I), dt) if need[0] else None
        same_b = mode != "GRU" and need[5] and need[6]      # Elman: both biases get the same sum

        def grads(lo, hi):
            """Of the steps lo..hi-1: their rows of dx, and their sums of dW_ih, dW_hh, db_ih, db_hh."""
            dzh = dZh[lo:hi]
            dzx = xp.concatenate([dzh[:, :, :2 * H], dNp[lo:hi]], axis=2) if mode == "GRU" else dzh
            dzx2, dzh2 = dzx.reshape(-1, dzx.shape[2]), dzh.reshape(-1, dzh.shape[2])
            if dx is not None:
                xp.matmul(dzx2, w_ih, out=dx[lo:hi].reshape((hi - lo) * N, I))
            return (dzx2.T @ x[lo:hi].reshape((hi - lo) * N, I) if need[3] else None,
                    dzh2.T @ _prev_states(h0, Hs, reverse, lo, hi).reshape(-1, H) if need[4] else None,
                    col_sums(dzx2) if need[5] else None,
                    col_sums(dzh2) if need[6] and not same_b else None)
        parts, (dw_ih, dw_hh, db_ih, db_hh) = _loop_and_grads(part, grads, x, N, H, batch_sizes, gates)
        dh_full = parts[0] if len(parts) == 1 else m.concatenate(parts, axis=0)
        if same_b:
            db_hh = db_ih.copy()
        wrap = Tensor._make
        dx, dh0 = (wrap(dx) if need[0] else None), (wrap(dh_full) if need[1] else None)
        dw_ih, dw_hh, db_ih, db_hh = (None if a is None else wrap(a) for a in (dw_ih, dw_hh, db_ih, db_hh))
        return dx, dh0, None, dw_ih, dw_hh, db_ih, db_hh


def _gru_forward_rows(xw, whh_t, bhh, RZ, NN, HN, Hs, h_full, order, sizes, exp_gates=False):
    """The GRU forward loop over some batch rows (views of the layer's arrays: the rows ``[:n]`` of each
    step); ``exp_gates``: r and z from one exp (their weights scaled by -1), else from one tanh (by 0.5)."""
    with xp.errstate(over="ignore", under="ignore"):     # exp(-z): inf or 0 far out, the limits
        _gru_forward_loop(xw, whh_t, bhh, RZ, NN, HN, Hs, h_full, order, sizes, exp_gates)


def _gru_forward_loop(xw, whh_t, bhh, RZ, NN, HN, Hs, h_full, order, sizes, exp_gates):
    H = Hs.shape[2]
    H2 = 2 * H
    for b, steps in _runs(order, sizes, xw.shape[1]):
        xwb, RZb, NNb, HNb, Hb = xw[:, :b], RZ[:, :b], NN[:, :b], HN[:, :b], Hs[:, :b]
        h = h_full[:b]
        for t in steps:
            hh = h @ whh_t
            if bhh is not None:
                hh += bhh
            rz = RZb[t]
            xp.add(xwb[t, :, :H2], hh[:, :H2], out=rz)
            if exp_gates:
                xp.exp(rz, out=rz)
                rz += 1.0
                xp.reciprocal(rz, out=rz)
            else:
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
            HNb[t] = hh[:, H2:]
            n = NNb[t]
            xp.multiply(rz[:, :H], hh[:, H2:], out=n)
            n += xwb[t, :, H2:]
            _tanh(n, n)
            ht = Hb[t]
            xp.subtract(h, n, out=ht)
            ht *= rz[:, H:]
            ht += n
            h = ht
        h_full = Hs[t]


def _gru_backward_rows(RZ, NN, HN, Hs, dZh, dNp, dout, h0, dh_full, w_hh, order, sizes, reverse, done=None):
    """The GRU backward loop over some batch rows (views): fills their rows of dZh and dNp and returns their
    dh0 (``done(t)`` after each step, when given)."""
    L, n, H = Hs.shape
    H2 = 2 * H
    m = _xp(Hs)
    Frz = 1.0 - RZ
    Frz *= RZ
    Fn = NN * NN
    xp.subtract(1.0, Fn, out=Fn)
    dh_buf = m.empty((n, H), Hs.dtype)
    tmpz_buf = m.empty((n, H), Hs.dtype)
    for b, steps in _runs(order, sizes, n):
        RZb, NNb, HNb, Hb, Frzb, Fnb, dZhb, dNpb, doutb = (A[:, :b] for A in (RZ, NN, HN, Hs, Frz, Fn, dZh,
                                                                             dNp, dout))
        h0b, dh, tmpz = h0[:b], dh_buf[:b], tmpz_buf[:b]
        dh_next = dh_full[:b]
        for t in steps:
            if reverse:
                h_prev = Hb[t + 1] if t + 1 < L else h0b
            else:
                h_prev = Hb[t - 1] if t > 0 else h0b
            r, z, nn = RZb[t, :, :H], RZb[t, :, H:], NNb[t]
            dz = dZhb[t]
            xp.add(doutb[t], dh_next, out=dh)
            xp.subtract(h_prev, nn, out=dz[:, H:H2])
            dz[:, H:H2] *= dh                       # dL/dz
            xp.multiply(dh, z, out=tmpz)            # direct path to h_{t-1}
            dnp = dNpb[t]
            xp.subtract(dh, tmpz, out=dnp)
            dnp *= Fnb[t]                           # dL/d(pre-tanh n)
            xp.multiply(dnp, HNb[t], out=dz[:, :H])  # dL/dr
            dz[:, :H2] *= Frzb[t]
            xp.multiply(dnp, r, out=dz[:, H2:])     # dL/d(W_hn h + b_hn)
            dh_next = dz @ w_hh
            dh_next += tmpz
            if done is not None:
                done(t)
        dh_full = _merge(dh_next, dh_full)
    return dh_full


def _elman_forward_rows(xw, whh_t, Hs, h_full, order, sizes, mode):
    """The Elman RNN's forward loop over some batch rows (views)."""
    for b, steps in _runs(order, sizes, xw.shape[1]):
        xwb, Hb = xw[:, :b], Hs[:, :b]
        h = h_full[:b]
        for t in steps:
            ht = Hb[t]
            xp.matmul(h, whh_t, out=ht)
            ht += xwb[t]
            if mode == "RNN_TANH":
                _tanh(ht, ht)
            else:
                xp.maximum(0, ht, out=ht)      # (-0.0 kept, as relu)
            h = ht
        h_full = Hs[t]


def _elman_backward_rows(Hs, dZ, dout, dh_full, w_hh, order, sizes, mode, done=None):
    """The Elman RNN's backward loop over some batch rows (views): fills their rows of dZ and returns their
    dh0 (``done(t)`` after each step, when given)."""
    if mode == "RNN_TANH":
        Fa = Hs * Hs
        xp.subtract(1.0, Fa, out=Fa)
    else:
        Fa = (Hs > 0).astype(Hs.dtype)
    for b, steps in _runs(order, sizes, Hs.shape[1]):
        dZb, Fab, doutb = dZ[:, :b], Fa[:, :b], dout[:, :b]
        dh_next = dh_full[:b]
        for t in steps:
            dz = dZb[t]
            xp.add(doutb[t], dh_next, out=dz)
            dz *= Fab[t]
            dh_next = dz @ w_hh
            if done is not None:
                done(t)
        dh_full = _merge(dh_next, dh_full)
    return dh_full


def _lstm_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, sizes):
    """The LSTM layer's forward.  One GEMM per step, ``[x_t, h_{t-1}, 1] @ W`` with W = s * [W_ih^T; W_hh^T;
    b_ih + b_hh] (float32, float64: s = -1 for i, f, o and -2 for g, then one exp, ``_lstm_gates_``; other
    dtypes: ``_lstm_scales``, one tanh), straight into the step's gate buffer; the rows ``[x_t, h_{t-1}, 1]``
    of every step live in one array XH, the step writing its h_t into the next row, so the weight gradients
    are one GEMM over XH in backward.  Forward order: step t reads XH[t] and writes XH[t + 1]; reverse:
    reads XH[t + 1] and writes XH[t].  The batch rows are independent, so with several BLAS threads each
    thread runs the whole loop over its own rows (``_split_rows``)."""
    L, N, I = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    m = _xp(x)
    exp_gates = dt in _EXP_GATES              # one exp per step instead of one tanh (``_lstm_gates_``)
    s = _lstm_exp_scales(H, dt, 1, m)[0] if exp_gates else _lstm_scales(H, dt, None, m)[0]
    S, B, _ = _lstm_scales(H, dt, N, m)       # same-shape operands: NumPy's fast contiguous loops
    bias = b_ih is not None
    K = I + H + bias
    alloc = m.empty if sizes is None else m.zeros       # masked: never-written places stay finite
    W = m.empty((K, 4 * H), dt)
    W[:I] = w_ih.T
    W[I:I + H] = w_hh.T
    if bias:
        xp.add(b_ih, b_hh, out=W[I + H])
    W *= s
    XH = alloc((L + 1, N, K), dt)
    xo = 1 if reverse else 0                  # step t reads row t + xo and writes its h_t into row t + 1 - xo
    XH[xo:xo + L, :, :I] = x
    if bias:
        XH[:, :, I + H] = 1
    XH[L if reverse else 0, :, I:I + H] = h0
    Hv = XH[1 - xo:1 - xo + L, :, I:I + H]    # h_t, step by step (a strided view)
    G = alloc((L, N, 4 * H), dt)              # the activated gates i, f, g, o
    C = alloc((L, N, H), dt)
    TC = alloc((L, N, H), dt)
    if sizes is not None and reverse:
        _fill_inactive(Hv, h0, sizes, True)
        _fill_inactive(C, c0, sizes, True)
    rows = XH[xo:xo + L]
    order = range(L - 1, -1, -1) if reverse else range(L)
    runs = _runs(order, sizes, N)
    t = runs[-1][1][-1] if runs else None     # the last step that ran (h_n, c_n are its states)

    Hs = m.empty((L, N, H), dt)               # h_t, contiguous: the output

    loops = sizes is None and exp_gates        # the whole loop compiled (``_ck.lstm_forward_loop``) may apply

    def part(r):
        if not (loops and _ck.lstm_forward_loop(rows[:, r], W, G[:, r], C[:, r], TC[:, r], Hv[:, r], c0[r],
                                                reverse)):
            _lstm_forward_rows(rows[:, r], W, G[:, r], C[:, r], TC[:, r], Hv[:, r], c0[r],
                               None if exp_gates else S[r], B[r], order, sizes, H)
        Hs[:, r] = Hv[:, r]
    _split_rows(part, x, N, H, sizes, min_split=_min_split(x, sizes))
    if sizes is not None and not reverse:
        _fill_inactive(Hs, h0, sizes, False)
        _fill_inactive(C, c0, sizes, False)
    h_n = h0 if t is None else Hs[t]
    c_n = c0 if t is None else C[t]
    ctx.save_for_backward(x, h0, c0, w_ih, w_hh)
    ctx.scratch = (XH, G, C, TC)
    return _masked_out(Hs, sizes), h_n.copy(), c_n.copy()


def _lstm_forward_rows(rows, W, G, C, TC, Hv, c_full, S, B, order, sizes, H):
    """The forward loop over some batch rows (views of the layer's arrays, the rows ``[:n]`` of each step).
    ``S`` None: ``W`` is scaled for ``_lstm_gates_`` (float64), else for one tanh and ``S``, ``B``."""
    n = rows.shape[1]
    tmp_full = _xp(G).empty((n, H), G.dtype)
    for b, steps in _runs(order, sizes, n):
        Rb, Gb, Cb, TCb, Hb = rows[:, :b], G[:, :b], C[:, :b], TC[:, :b], Hv[:, :b]
        Sb, Bb, tmp = None if S is None else S[:b], B[:b], tmp_full[:b]
        c = c_full[:b]
        for t in steps:
            g = Gb[t]
            xp.matmul(Rb[t], W, out=g)        # s * z, bias included
            ct = Cb[t]
            if Sb is None and _ck.lstm_pointwise(g, c, ct, TCb[t], Hb[t]):     # the steps below, in one pass
                c = ct
                continue
            if Sb is None:
                _lstm_gates_(g, H)
            else:
                xp.tanh(g, out=g)
                g *= Sb
                g += Bb                       # the activated (i, f, g, o)
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            xp.multiply(f, c, out=ct)
            xp.multiply(i, gg, out=tmp)
            ct += tmp
            _tanh(ct, TCb[t])
            xp.multiply(o, TCb[t], out=Hb[t])
            c = ct
        c_full = C[t]


def _lstm_backward(ctx, dout, dh_full, dc_full):
    """Back-propagation through time for ``_lstm_forward``: per step a handful of NumPy calls on the step's
    rows (the gate derivatives s^2 - (act - b)^2 from the saved activations, while they are in cache) and
    one GEMM for the state gradient; after the loop one GEMM over XH gives every weight and bias gradient.
    The loop splits over batch rows as the forward's."""
    reverse, sizes, need = ctx.reverse, ctx.batch_sizes, ctx.needs_input_grad
    x, h0, c0, w_ih, w_hh = (t._data for t in ctx.saved_tensors)
    XH, G, C, TC = ctx.scratch
    L, N, I = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    m = _xp(x)
    _, B, S2 = _lstm_scales(H, dt, N, m)
    dZ = (m.empty if sizes is None else m.zeros)((L, N, 4 * H), dt)
    order = range(L) if reverse else range(L - 1, -1, -1)
    if dout.strides[-1] != dout.itemsize:
        dout = m.ascontiguousarray(dout)    # (a broadcast gradient, of a sum: the compiled steps read rows)

    def part(r, done=None):
        if sizes is None and done is None:
            dh, dc = c_copy(dh_full[r]), c_copy(dc_full[r])     # (c_copy: a new array, dh_full is g_hn's)
            if _ck.lstm_backward_loop(G[:, r], C[:, r], TC[:, r], dout[:, r], c0[r], w_hh, dZ[:, r], dh, dc,
                                      m.empty_like(dc), reverse):
                return dh, dc
        return _lstm_backward_rows(G[:, r], C[:, r], TC[:, r], dZ[:, r], dout[:, r], c0[r], B[r], S2[r],
                                   dh_full[r], dc_full[r], w_hh, order, sizes, reverse, done)
    K = XH.shape[2]
    rows = XH[1:] if reverse else XH[:L]            # step t's row [x_t, h_{t-1}, 1]
    dx = m.empty((L, N, I), dt) if need[0] else None
    want_w = need[3] or need[4] or need[5] or need[6]

    def grads(lo, hi):
        """Of the steps lo..hi-1: their rows of dx and their sum of dW^T (I + H [+ 1], 4H) (OpenBLAS runs
        this orientation ~3% faster than dW's; bitwise the same sums)."""
        d = dZ[lo:hi].reshape(-1, 4 * H)
        if dx is not None:
            xp.matmul(d, w_ih, out=dx[lo:hi].reshape((hi - lo) * N, I))
        return (rows[lo:hi].reshape(-1, K).T @ d if want_w else None,)
    parts, (dWt,) = _loop_and_grads(part, grads, x, N, H, sizes, 4, overlap=False,    # (see MIN_OVERLAP)
                                    min_split=_min_split(x, sizes))
    if len(parts) == 1:
        dh_full, dc_full = parts[0]
    else:
        dh_full = m.concatenate([p[0] for p in parts], axis=0)
        dc_full = m.concatenate([p[1] for p in parts], axis=0)
    dw_ih = dw_hh = db_ih = db_hh = None
    dx = Tensor._make(dx) if need[0] else None
    if want_w:
        dw_ih = Tensor._make(c_copy(dWt[:I].T)) if need[3] else None
        dw_hh = Tensor._make(c_copy(dWt[I:I + H].T)) if need[4] else None
        if K > I + H:
            db_ih = Tensor._make(dWt[I + H].copy()) if need[5] else None
            db_hh = Tensor._make(dWt[I + H].copy()) if need[6] else None
    dh0 = Tensor._make(dh_full) if need[1] else None
    dc0 = Tensor._make(dc_full) if need[2] else None
    return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh


def _lstm_backward_rows(G, C, TC, dZ, dout, c0, B, S2, dh_full, dc_full, w_hh, order, sizes, reverse,
                        done=None):
    """The backward loop over some batch rows (views, as ``_lstm_forward_rows``): fills their rows of dZ and
    returns their (dh0, dc0) (``done(t)`` after each step, when given)."""
    L, n, H = C.shape
    m = _xp(G)
    dh_buf = m.empty((n, H), G.dtype)
    dt_buf = m.empty((n, H), G.dtype)
    dc_buf = m.empty((n, H), G.dtype)
    d_buf = m.empty((n, 4 * H), G.dtype)
    dhn_buf = m.empty((n, H), G.dtype)         # the state gradients for the step before (each step reads
    dcn_buf = m.empty((n, H), G.dtype)         # them before it writes them; the compiled kernel's dc goes to
    dcn_buf2 = m.empty((n, H), G.dtype)        # the buffer it did not read)
    for b, steps in _runs(order, sizes, n):
        Gb, Cb, TCb, dZb, doutb = (A[:, :b] for A in (G, C, TC, dZ, dout))
        c0b, dh, dc, d, Bb, S2b, dtc = c0[:b], dh_buf[:b], dc_buf[:b], d_buf[:b], B[:b], S2[:b], dt_buf[:b]
        dhn, dcn, dcn2 = dhn_buf[:b], dcn_buf[:b], dcn_buf2[:b]
        dh_next, dc_next = dh_full[:b], dc_full[:b]
        for t in steps:
            g = Gb[t]
            i, f, gg, o = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            if reverse:
                c_prev = Cb[t + 1] if t + 1 < L else c0b
            else:
                c_prev = Cb[t - 1] if t > 0 else c0b
            dz = dZb[t]
            tc = TCb[t]
            if _ck.lstm_backward_pointwise(g, c_prev, tc, doutb[t], dh_next, dc_next, dz, dcn):
                dc_next = dcn                 # (the steps below, in one pass: their bits)
                dcn, dcn2 = dcn2, dcn         # (the next step writes the other buffer)
                dh_next = xp.matmul(dz, w_hh, out=dhn)
                if done is not None:
                    done(t)
                continue
            xp.add(doutb[t], dh_next, out=dh)
            xp.multiply(dh, tc, out=dz[:, 3 * H:])
            xp.multiply(tc, tc, out=dtc)
            xp.subtract(1.0, dtc, out=dtc)    # 1 - tanh(c_t)^2
            xp.multiply(dh, o, out=dc)
            dc *= dtc
            dc += dc_next
            xp.multiply(dc, gg, out=dz[:, :H])
            xp.multiply(dc, c_prev, out=dz[:, H:2 * H])
            xp.multiply(dc, i, out=dz[:, 2 * H:3 * H])
            xp.subtract(g, Bb, out=d)         # the gate derivatives s^2 - (act - b)^2
            d *= d
            xp.subtract(S2b, d, out=d)
            dz *= d
            dh_next = xp.matmul(dz, w_hh, out=dhn)
            dc_next = xp.multiply(dc, f, out=dcn)
            dcn, dcn2 = dcn2, dcn
            if done is not None:
                done(t)
        dh_full, dc_full = _merge(dh_next, dh_full), _merge(dc_next, dc_full)
    return dh_full, dc_full


# A part of a split loop gets at least this many multiply-adds in each step's GEMM (rows x G*H x H): a
# thread hand-off costs tens of microseconds, and parts above ~10^6 keep OpenBLAS on its blocked kernels (it
# takes other kernels for smaller products), so on Intel CPUs each row's numbers are the unsplit ones
# (OpenBLAS's float32 kernels on AMD Zen round a row differently by the product's row count: there the last
# bits move).  Measured at 2 threads (idle machine; LSTM training steps, split / unsplit): batch 64 hidden
# 128 (4.2M per half) 10.93 / 10.50 ms, the GRU there 12.00 / 11.57; batch 64 hidden 256 (8.4M) 19.0 / 18.6;
# batch 128 hidden 256 (16.8M) 29.4 / 33.6; batch 256 hidden 256 52.3 / 64.5; batch 512 hidden 512 370 / 431.
# So parts start at 2^24 (16.8M).
MIN_SPLIT = 1 << 24
# The LSTM layer's loops compiled whole (``_ck.lstm_forward_loop`` / ``lstm_backward_loop``: one call a loop,
# the GIL released throughout) split from this many multiply-adds a part and step: a part is one hand-off for
# the whole loop, and its steps no longer wait for the GIL between their GEMM and pointwise calls (the Python
# loops split lost most of their gain there).  Measured on the AMD EPYC virtual machine at 2 threads (hand-off
# scale 2 after the cap, so parts from 2^17), LSTM training steps of 40 steps, input 28, unsplit / split ms
# (best blocks of two runs): batch 64 hidden 128 11.4 / 10.1, 32x128 6.1 / 5.9, 16x128 3.7 / 2.4, 64x64 3.8 /
# 3.1, 32x64 2.1 / 1.6, 64x32 1.8 / 1.5, 128x256 60.9 / 58.8.
MIN_SPLIT_LOOP = 1 << 16


def _min_split(x, sizes):
    """The LSTM layer's split threshold: ``MIN_SPLIT_LOOP`` where its loops run compiled, else ``MIN_SPLIT``."""
    if sizes is None and x.dtype in _EXP_GATES and _par.is_host(x) and _ck.blas_gemm() is not None \
            and _ck.available():
        return MIN_SPLIT_LOOP
    return MIN_SPLIT


def _split_rows(part, x, N, H, sizes, gates=4, min_split=None):
    """``part(rows)`` over the batch rows, split among BLAS's threads when each part is large enough
    (``min_split`` multiply-adds a step, ``MIN_SPLIT`` by default); the parts' results in row order.  A packed batch (``sizes``) is one part (all rows, so
    the parts take ``sizes`` as they are): split, its parts' steps would shrink to a few active rows, where
    BLAS's small-product kernels round differently.  A loop not split whose per-step GEMM is below
    ``ONE_THREAD_BELOW`` runs with BLAS at one thread (``_par.on_one_blas_thread``), unless OpenBLAS's idle
    threads spin long enough to find the next step's GEMM (``_blas_spin.threads_stay_awake``)."""
    per_row = gates * H * H
    threads = 1
    min_split = MIN_SPLIT if min_split is None else min_split
    if sizes is None and _par.is_host(x):
        threads = _par.threads_for(N, N * per_row, min_split, -(-min_split // per_row))
    if (threads <= 1 and N * gates * H * (x.shape[2] + H) < ONE_THREAD_BELOW and _par.is_host(x)
            and not _spin.threads_stay_awake()):
        return [_par.on_one_blas_thread(part, slice(0, N))]
    return _par.run_split(part, N, threads)


# A loop that is not split runs its per-step GEMMs (N x (I + H) x G*H multiply-adds) with BLAS at one thread
# below this size: OpenBLAS splits each of them between its threads, and the step's other NumPy calls
# between two GEMMs outlast its idle spin, so every step wakes the other core's thread again.  On the Intel
# machine the LSTM layer's loops took as long at 2 BLAS threads as at 1 (the step's 11.84 -> 10.68 ms at 2
# threads was the weight-gradient GEMM after the loop, 2.8 -> 1.4 ms); on an AMD EPYC virtual machine, where a
# wake-up takes 40-80 us, the layer took 30.7 ms at 2 threads against 29.5 at 1 (PyTorch 16.9).  There ember
# now lets OpenBLAS's threads spin ~0.2 ms (``_blas_spin.SLOW_WAKE_SPIN_LOG2``), so they are still awake at the
# next step's GEMM, and the loop keeps BLAS's threads: the LSTM step at 2 threads 0.82x (0.80-0.87), GRU 0.91x.
ONE_THREAD_BELOW = 1 << 23


# The GRU and Elman backward's work over finished steps (GEMMs, the gate-gradient concatenation, bias sums)
# runs beside its loop at 2+ BLAS threads from this many multiply-adds in all, in chunks of about
# L / OVERLAP_CHUNKS steps.  Measured at 2 threads, idle, the layer's backward (loop and gradients) for 40
# steps, batch 64, input 28, hidden 128 (overlapped / after the loop): GRU 5.0-5.2 / 6.5-7.2 ms, Elman tanh
# 1.35-1.6 / 2.0 ms.  Not the LSTM: its one weight-gradient GEMM runs at 2 BLAS threads in 1.4 ms after the
# loop, and beside it, at one, in 2.8 ms, while slowing the loop from 4.9 to 5.7 ms (6.2 against 6.3 ms).
MIN_OVERLAP = 1 << 22
OVERLAP_CHUNKS = 8


class _Chunks:
    """The backward loop's finished steps, handed to the GEMM thread in ranges of ``size`` steps: the loop
    calls ``done(t)`` after each step (t falls or rises by one each time), ``close()`` at its end; the GEMM
    thread ``get()``s (lo, hi) ranges of t until None."""

    def __init__(self, size):
        self.q = queue.SimpleQueue()
        self.size, self.n, self.lo, self.hi = size, 0, 0, 0

    def done(self, t):
        if self.n == 0:
            self.lo, self.hi = t, t + 1
        else:
            self.lo, self.hi = min(self.lo, t), max(self.hi, t + 1)
        self.n += 1
        if self.n == self.size:
            self.q.put((self.lo, self.hi))
            self.n = 0

    def close(self):
        if self.n:
            self.q.put((self.lo, self.hi))
            self.n = 0
        self.q.put(None)


def _loop_and_grads(part, grads, x, N, H, sizes, gates, overlap=True, min_split=None):
    """The backward loop, ``part(rows, done)`` over the batch rows as ``_split_rows`` runs it, and the
    gradients that follow from its finished steps, ``grads(lo, hi)`` -> a tuple of sums over the steps
    lo..hi-1 (arrays or None; it writes per-step results itself).  Returns (the parts' results, the sums).

    With ``overlap``, 2+ BLAS threads, the loop in one part (not split by rows) and enough work
    (``MIN_OVERLAP``), ``grads`` runs on a second thread over chunks of finished steps while the loop goes on,
    its sums added up chunk by chunk (rounded otherwise than one GEMM over all steps, as PyTorch's sums change with its
    thread count); both at one BLAS thread, which the per-step GEMMs of these sizes run no slower at."""
    L = x.shape[0]
    per_row = gates * H * H
    work = L * N * gates * H * (x.shape[2] + H)
    if (not overlap or sizes is not None or L < 4 or work < MIN_OVERLAP or not _par.is_host(x) or _par.blas_threads() < 2
            or _par.threads_for(N, N * per_row, MIN_SPLIT, -(-MIN_SPLIT // per_row)) > 1):
        return _split_rows(part, x, N, H, sizes, gates, min_split), grads(0, L)
    chunks = _Chunks(-(-L // OVERLAP_CHUNKS))

    def loop():
        try:
            return part(slice(0, N), chunks.done)
        finally:
            chunks.close()

    def sums():
        acc = None
        while (r := chunks.q.get()) is not None:
            s = grads(*r)
            if acc is None:
                acc = list(s)
            else:
                for a, b in zip(acc, s):
                    if a is not None:
                        a += b
        return tuple(acc)
    res, acc = _par.in_parallel([loop, sums], 2)
    return [res], acc


def _check(op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, gates):
    if x.ndim != 3:
        raise ValueError(f"{op} expected input of shape (L, N, input_size), got {tuple(x.shape)}")
    I, H = check_weights(op, w_ih, w_hh, gates)
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
                 reverse: bool = False, batch_sizes=None):
    """Run one recurrent layer in one direction over a whole sequence, as one fused op.

    ``mode``: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".  ``x``: (L, N, I); ``h0``/``c0``: (N, H) (``c0`` only
    for LSTM, else None); weights as PyTorch's ``weight_ih_l{k}`` (G*H, I), ``weight_hh_l{k}`` (G*H, H),
    biases (G*H,) or None.  ``reverse`` runs from the last step to the first (the backward direction of a
    bidirectional layer); outputs stay in time order.  Returns ``(out (L, N, H), h_n)`` or, for LSTM,
    ``(out, h_n, c_n)``.

    ``batch_sizes`` (L non-increasing ints in [0, N], PyTorch's ``PackedSequence.batch_sizes``) runs a batch of
    sequences sorted by decreasing length: step t updates only rows ``[:batch_sizes[t]]``; the others keep
    their state and output zeros.  So ``h_n`` holds each sequence's state after its own last step and the
    reverse direction starts at each sequence's own last element.

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
    if batch_sizes is not None:
        batch_sizes = _check_batch_sizes(mode, batch_sizes, x.shape[0], x.shape[1])
    return RNNSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode=mode, reverse=bool(reverse),
                             batch_sizes=batch_sizes)


def _check_batch_sizes(op, batch_sizes, L, N):
    """batch_sizes as a tuple of Python ints, checked: L of them, non-increasing, each in [0, N]."""
    arr = batch_sizes._data if isinstance(batch_sizes, Tensor) else xp.asarray(batch_sizes)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(f"{op}: batch_sizes must be a 1-D sequence of integers, got {arr.dtype} of shape "
                        f"{tuple(arr.shape)}")
    sizes = tuple(int(b) for b in arr.tolist())
    if len(sizes) != L:
        raise ValueError(f"{op}: expected {L} batch_sizes (one per time step), got {len(sizes)}")
    if sizes and (min(sizes) < 0 or max(sizes) > N or any(a < b for a, b in zip(sizes, sizes[1:]))):
        raise ValueError(f"{op}: batch_sizes must be non-increasing and within [0, {N}] (the batch), got "
                         f"{list(sizes)}")
    return None if all(b == N for b in sizes) else sizes


class SelectRows(Function):
    """out[k] = x[index[k]] where index[k] >= 0, else ``fill``.  No row of x is picked twice, so the gradient
    is the same op with the inverse map: exact, and differentiable to any order."""

    @staticmethod
    def forward(ctx, x, index=None, fill=0.0):
        ctx.index, ctx.n = index, x.shape[0]
        valid = index >= 0
        if valid.all():
            return xp.take(x, index, axis=0)
        out = _xp(x).full((index.size,) + x.shape[1:], fill, x.dtype)
        out[valid] = x[index[valid]]
        return out

    @staticmethod
    def backward(ctx, g):
        inv = _xp(ctx.index).full(ctx.n, -1, xp.int64)
        k = xp.flatnonzero(ctx.index >= 0)
        inv[ctx.index[k]] = k
        return SelectRows.apply(g, index=inv, fill=0.0)


def select_rows(x: Tensor, index, fill=0.0) -> Tensor:
    """Rows of ``x`` (R, *) picked by a 1-D integer ``index`` (M,) -> (M, *); an index of -1 gives a row of
    ``fill``.  No row may be picked twice.  This is the packing and padding op of variable-length sequences
    (``ember.nn.utils.rnn``): a padded (T*N, *) batch and the packed rows map one-to-one.

    >>> select_rows(ember.arange(3.0), [2, -1, 0], fill=9.0)     # tensor([2., 9., 0.])
    """
    ia = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if ia.ndim != 1 or (ia.size and ia.dtype.kind not in "iu"):
        raise TypeError(f"select_rows: expected a 1-D integer index, got {ia.dtype} of shape {tuple(ia.shape)}")
    if x.ndim == 0:
        raise ValueError("select_rows: expected a tensor with at least one dimension, got a 0-d tensor")
    ia = ia.astype(xp.int64, copy=False)
    picked = ia[ia >= 0]
    R = x.shape[0]
    if ia.size and (ia.min() < -1 or (picked.size and picked.max() >= R)):
        raise IndexError(f"select_rows: index out of range for {R} rows (or below -1)")
    if picked.size and xp.bincount(picked, minlength=R).max() > 1:
        raise ValueError("select_rows: index picks a row more than once")
    return SelectRows.apply(x, index=_like(ia, x._data) if _xp(ia) is not _xp(x._data) else ia, fill=fill)

