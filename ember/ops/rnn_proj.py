"""An LSTM layer with a projection (PyTorch's ``nn.LSTM(proj_size=P)``), one direction over a sequence.

    gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (i, f, g, o)
    c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)       (N, H)
    h_t = (sigmoid(o) * tanh(c_t)) W_hr^T                   (N, P)

This is the simple path: a Python loop over the steps built from ember's differentiable ops (one GEMM for the
input projection of all steps, then per step one GEMM for the recurrence, the gate nonlinearities and one
GEMM for the projection), so autograd goes through it to any order.  The fused no-projection kernel
(``rnn.rnn_sequence``) is unchanged.

>>> out, h_n, c_n = lstm_proj_sequence(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)   # out (L, N, P)
"""
from __future__ import annotations

from ..tensor import Tensor
from . import nn_linear as _linear
from . import shape as _shape
from .rnn import _check_batch_sizes

__all__ = ["lstm_proj_sequence"]


def _check(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr):
    op = "lstm_proj_sequence"
    if x.ndim != 3:
        raise ValueError(f"{op}: expected input of shape (L, N, input_size), got {tuple(x.shape)}")
    if w_hr.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2:
        raise ValueError(f"{op}: expected 2-D weights, got w_ih {tuple(w_ih.shape)}, w_hh {tuple(w_hh.shape)}, "
                         f"w_hr {tuple(w_hr.shape)}")
    P, H = w_hr.shape
    L, N, I = x.shape
    if tuple(w_ih.shape) != (4 * H, I) or tuple(w_hh.shape) != (4 * H, P):
        raise ValueError(f"{op}: with w_hr of shape (P, H) = {tuple(w_hr.shape)} and input of shape "
                         f"{tuple(x.shape)} expected w_ih of shape {(4 * H, I)} and w_hh of shape {(4 * H, P)}, "
                         f"got {tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{op}: pass both biases or neither")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (4 * H,):
            raise ValueError(f"{op}: expected {name} of shape {(4 * H,)}, got {tuple(b.shape)}")
    if tuple(h0.shape) != (N, P) or tuple(c0.shape) != (N, H):
        raise ValueError(f"{op}: expected h0 of shape {(N, P)} and c0 of shape {(N, H)}, got "
                         f"{tuple(h0.shape)} and {tuple(c0.shape)}")
    dts = {t.dtype for t in (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) if t is not None}
    if len(dts) > 1:
        raise RuntimeError(f"{op}: input, states and weights must share one dtype, got {sorted(map(str, dts))}")


def lstm_proj_sequence(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih, b_hh, w_hr: Tensor,
                       reverse: bool = False, batch_sizes=None):
    """Run one LSTM layer with a projection in one direction over ``x`` (L, N, I).

    ``h0`` (N, P), ``c0`` (N, H); weights as PyTorch's ``weight_ih_l{k}`` (4H, I), ``weight_hh_l{k}`` (4H, P),
    ``bias_ih_l{k}``/``bias_hh_l{k}`` (4H,) or None, ``weight_hr_l{k}`` (P, H).  ``reverse`` runs from the last
    step to the first (outputs stay in time order).  ``batch_sizes`` (L non-increasing ints, a
    ``PackedSequence``'s) updates only rows ``[:batch_sizes[t]]`` at step t; the others keep their states and
    output zeros, as ``rnn.rnn_sequence``.  Returns ``(out (L, N, P), h_n (N, P), c_n (N, H))``.
    """
    _check(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
    L, N, _ = x.shape
    if batch_sizes is not None:
        batch_sizes = _check_batch_sizes("LSTM", batch_sizes, L, N)
    xg = _linear.linear_op(x, w_ih, b_ih)          # every step's input part of the gates, (L, N, 4H)
    h, c = h0, c0
    outs = [None] * L
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        n = N if batch_sizes is None else batch_sizes[t]
        if n == 0:
            outs[t] = h.new_zeros(tuple(h.shape))
            continue
        ha, ca = (h, c) if n == N else (h[:n], c[:n])
        gates = xg[t] if n == N else xg[t, :n]
        gates = gates + _linear.linear_op(ha, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, 1)
        c_new = f.sigmoid() * ca + i.sigmoid() * g.tanh()
        h_new = _linear.linear_op(o.sigmoid() * c_new.tanh(), w_hr)
        if n == N:
            h, c = h_new, c_new
            outs[t] = h_new
        else:
            h = _shape.cat([h_new, h[n:]], 0)
            c = _shape.cat([c_new, c[n:]], 0)
            outs[t] = _shape.cat([h_new, h_new.new_zeros((N - n, h_new.shape[1]))], 0)
    return _shape.stack(outs, 0), h, c
