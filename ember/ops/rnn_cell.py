"""Fused single-step recurrent cells: ``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``.

A model that steps a cell in a Python loop (PyTorch's time-sequence-prediction example, seq2seq decoders, the
teaching RNNs) pays one op per step, so the per-step cost is what matters: one op that does the GEMMs, the
gate nonlinearities in place on contiguous buffers and the state update, and a hand-derived backward on raw
arrays.
The autograd engine sums the many gradients of a weight used at every step in place, and runs the backward of
the one-output cells on arrays (``RAW_BACKWARD``, registered at the end of this file).

* Elman and LSTM cells do one GEMM each way: ``[x, h, 1] @ [W_ih^T; W_hh^T; b_ih + b_hh]`` gives every gate's
  pre-activation (the bias rides in the GEMM as a column of ones; both operands contiguous, the fast GEMM
  kind), and ``dz^T @ [x, h, 1]`` gives the gradients of both weights and the bias at once.
* The GRU cell works on transposed ``(gates*H, N)`` buffers (``W @ x^T``), where every gate is a contiguous
  block of rows: its many per-gate products then run on contiguous memory instead of column slices.

Gate layouts and formulas are PyTorch's: LSTM rows (i, f, g, o); GRU rows (r, z, n) with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.  The backward is once-differentiable, like the sequence
op's.
"""
from __future__ import annotations

from ..autograd import engine as _engine
from ..autograd.function import Function, once_differentiable
from ..backend import xp
from ..backend.device import array_module as _xp_of
from ..tensor import Tensor
from . import _ckernels as _ck
from ._small_gemm import mm as _mm

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]

_F64 = xp.dtype(xp.float64)
_EXP_GATES = (_F64, xp.dtype(xp.float32))      # the dtypes whose LSTM gates take one exp (``_lstm_gates_``)
try:        # whether NumPy runs float64 tanh in its AVX-512 kernel (without it: a scalar loop, ``_tanh``)
    _TANH64_SIMD = bool(xp._core._multiarray_umath.__cpu_features__.get("AVX512_SKX"))
except AttributeError:
    _TANH64_SIMD = False


def _stack_xh(x, h, bias):
    """``[x, h, 1]`` (N, I + H + 1), or ``[x, h]`` without a bias: the left operand of the forward GEMM."""
    N, I = x.shape
    H = h.shape[1]
    xh = _xp_of(x).empty((N, I + H + bias), x.dtype)
    xh[:, :I] = x
    xh[:, I:I + H] = h
    if bias:
        xh[:, I + H] = 1
    return xh


def _stack_w(w_ih, w_hh, b_ih, b_hh):
    """``[W_ih^T; W_hh^T; b_ih + b_hh]`` (I + H [+ 1], G*H), C-contiguous: the right operand of the forward
    GEMM (``h @ W_hh.T`` on the weight as stored is the slower transposed GEMM kind at these sizes)."""
    I = w_ih.shape[1]
    H = w_hh.shape[1]
    w = _xp_of(w_ih).empty((I + H + (b_ih is not None), w_ih.shape[0]), w_ih.dtype)
    w[:I] = w_ih.T
    w[I:I + H] = w_hh.T
    if b_ih is not None:
        xp.add(b_ih, b_hh, out=w[I + H])
    return w


_SCALES: dict = {}


def _lstm_scales(H, dtype, N=None, mod=xp):
    """Per-column constants that turn one ``tanh`` into the four LSTM gate activations (rows i, f, g, o).

    sigmoid(z) = 0.5 * tanh(0.5 z) + 0.5, so with s = (0.5, 0.5, 1, 0.5) and b = (0.5, 0.5, 0, 0.5) per gate
    block, act = s * tanh(s * z) + b is sigmoid for i, f, o and tanh for g; its derivative is
    s^2 - (act - b)^2 for both kinds.  Returns (s, b, s^2), each (4H,) or, given N, repeated to (N, 4H) (an
    operand of the gates' own shape takes NumPy's faster same-shape loops).  Cached (the last few shapes, per
    array module ``mod``: NumPy, or CuPy for CUDA inputs); read-only."""
    def make():
        if N is not None:
            return tuple(mod.broadcast_to(a, (N, 4 * H)).copy() for a in _lstm_scales(H, dtype, None, mod))
        s = mod.full(4 * H, 0.5, dtype)
        s[2 * H:3 * H] = 1.0
        b = mod.full(4 * H, 0.5, dtype)
        b[2 * H:3 * H] = 0.0
        return s, b, s * s
    return _cached((N, H, dtype, mod), make, mod)


def _lstm_exp_scales(H, dtype, N, mod=xp):
    """float64's gate constants (``_lstm_gates_``): -1 for the i, f, o columns and -2 for g, repeated to
    (N, 4H) (same-shape operands take NumPy's faster loops); cached as ``_lstm_scales``' and read-only."""
    def make():
        v = mod.full((N, 4 * H), -1.0, dtype)
        v[:, 2 * H:3 * H] = -2.0
        return (v,)
    return _cached(("exp", N, H, dtype, mod), make, mod)[0]


def _cached(key, make, mod):
    """``_SCALES[key]``, made by ``make()`` (a tuple of arrays, made read-only) on first use; the cache keeps
    the last 16 keys."""
    v = _SCALES.get(key)
    if v is None:
        v = make()
        if len(_SCALES) >= 16:
            try:
                _SCALES.pop(next(iter(_SCALES)))
            except (KeyError, RuntimeError, StopIteration):     # another thread trimmed it meanwhile
                pass
        if mod is xp:                       # (CuPy's flags are read-only, its arrays always writable)
            for a in v:
                a.flags.writeable = False
        _SCALES[key] = v
    return v


def _lstm_gates_(z, H):
    """The activated gates i, f, g, o, in place of their scaled pre-activations ``z`` (N, 4H): -z for i, f,
    o and -2z for g (``_lstm_exp_scales``, or weights scaled so); one ``exp`` over every column gives
    sigmoid(z) = 1 / (1 + exp(-z)), and g = 2 sigmoid(2z) - 1 = tanh(z).  For float64 and float32
    (``_EXP_GATES``), where NumPy's ``exp`` costs about half its ``tanh`` (on an AMD EPYC without NumPy's
    AVX-512 kernels: the gates of a float64 (97, 204) cell 285 -> 145 us; float32 (64, 512) gates 101-107 ->
    75 us, one tanh and two passes against this, contiguous).  Overflow gives the right limits (exp = inf:
    sigmoid 0, g -1); g near 0 is exact to about one epsilon absolute rather than relative (it enters
    c' = f c + i g).  Against a float64 reference, float32 LSTM outputs (40 steps, batch 64, hidden 128) are
    as close this way as with one tanh (max abs 2.1e-7 against 2.3e-7; PyTorch's 0.8e-7)."""
    with xp.errstate(over="ignore", under="ignore"):
        xp.exp(z, out=z)
    z += 1.0
    xp.reciprocal(z, out=z)
    g = z[:, 2 * H:3 * H]
    g *= 2.0
    g -= 1.0
    return z


def _tanh(a, out=None):
    """tanh of ``a`` into ``out`` (a new array when None; ``out`` may be ``a``), for the recurrent cells and
    layers.  float64 on a CPU without AVX-512, where NumPy's float64 ``tanh`` is a scalar loop (13 ns an
    element on an AMD EPYC: a (97, 51) cell state 66 us) and its ``exp`` is not: 2 / (1 + exp(-2a)) - 1 (31-35
    us), exact to about one epsilon absolute rather than relative near 0, as the LSTM gates' g
    (``_lstm_gates_``); exp(-2a) = inf below -354 gives the limit -1, NaN stays NaN.  Otherwise NumPy's tanh.
    The same formula on a CUDA device (CuPy arrays), whose results are then the CPU's."""
    if a.dtype != _F64 or _TANH64_SIMD:
        return xp.tanh(a) if out is None else xp.tanh(a, out=out)
    if out is None:
        out = _xp_of(a).empty_like(a)
    xp.multiply(a, -2.0, out=out)
    with xp.errstate(over="ignore", under="ignore"):
        xp.exp(out, out=out)
    out += 1.0
    xp.divide(2.0, out, out=out)
    out -= 1.0
    return out


def _sigmoid_(a):
    """sigmoid in place on a contiguous array.  float64: 1 / (1 + exp(-a)) (NumPy's float64 ``exp`` and a
    division cost less than its float64 ``tanh``; exp(-a) = inf for a < -709 gives the right limit 0); other
    dtypes: 0.5 * tanh(0.5 a) + 0.5 (one transcendental call, no overflow)."""
    if a.dtype == _F64:
        xp.negative(a, out=a)
        with xp.errstate(over="ignore", under="ignore"):
            xp.exp(a, out=a)
        a += 1.0
        xp.reciprocal(a, out=a)
        return a
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class _ScratchFn(Function):
    """An op that keeps its internal arrays (not inputs or outputs, so nothing to version-check) in
    ``ctx.scratch``; they are dropped with the saved tensors when the graph is freed."""

    def release(self) -> None:
        Function.release(self)
        self.__dict__.pop("scratch", None)


def _tensors(grads):
    return tuple(None if g is None else Tensor._make(g) for g in grads)


class RNNCellFn(_ScratchFn):
    """h' = tanh(a) or relu(a), a = [x, h, 1] @ [W_ih^T; W_hh^T; b_ih + b_hh] (one GEMM, see ``_stack_w``)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, relu=False):
        xh = _stack_xh(x, h, b_ih is not None)
        a = _mm(xh, _stack_w(w_ih, w_hh, b_ih, b_hh))
        if relu:
            xp.maximum(0, a, out=a)     # (-0.0 kept, as relu)
        else:
            _tanh(a, a)
        ctx.relu = relu
        ctx.save_for_backward(x, h, w_ih, w_hh, a)      # (inputs and output version-checked, as PyTorch's)
        ctx.scratch = xh
        return a

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        return _tensors(_rnn_backward(ctx, g._data))


def _rnn_backward(ctx, g):
    x, h, w_ih, w_hh, out = ctx._saved_arrays()
    if ctx.relu:
        da = g * (out > 0)
    else:
        da = out * out                                      # da = g (1 - h'^2)
        xp.subtract(1, da, out=da)
        da *= g
    need = ctx.needs_input_grad
    dx = _mm(da, w_ih) if need[0] else None
    dh = _mm(da, w_hh) if need[1] else None
    dw_ih = dw_hh = db = None
    if need[2] or need[3] or need[4] or need[5]:
        I = x.shape[1]
        H = h.shape[1]
        dw = _mm(da.T, ctx.scratch)                            # (H, I + H [+ 1]): [dW_ih, dW_hh, db]
        dw_ih = dw[:, :I] if need[2] else None
        dw_hh = dw[:, I:I + H] if need[3] else None
        db = dw[:, I + H] if dw.shape[1] > I + H else None
    return dx, dh, dw_ih, dw_hh, db if need[4] else None, db if need[5] else None


def _lstm_state(act, c, H, c_new=None, tc=None, h_new=None):
    """c' = f c + i g, tanh(c') and h' = o tanh(c') from the activated gates ``act`` (into the arrays given)."""
    i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    c_new = xp.multiply(f, c, out=c_new)
    c_new += i * g
    tc = _tanh(c_new, tc)
    return c_new, tc, xp.multiply(o, tc, out=h_new)


class LSTMCellFn(_ScratchFn):
    """(h', c') with c' = f c + i g, h' = o tanh(c'); outputs are two tensors.

    One GEMM, ``[x, h, 1] @ [W_ih^T; W_hh^T; b_ih + b_hh]``, gives every gate's pre-activation z, then one
    ``tanh`` over all four gates (sigmoid(z) = 0.5 tanh(z/2) + 0.5, see ``_lstm_scales``), or for float64 one
    ``exp`` (``_lstm_gates_``).  The stacked input
    ``[x, h, 1]`` is kept for backward, where one GEMM against it gives the gradients of both weights and the
    bias."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        N = x.shape[0]
        H = h.shape[1]
        xh = _stack_xh(x, h, b_ih is not None)
        act = _mm(xh, _stack_w(w_ih, w_hh, b_ih, b_hh))       # (N, 4H): z for i, f, g, o
        if act.dtype in _EXP_GATES:                         # one exp (see _lstm_gates_)
            act *= _lstm_exp_scales(H, act.dtype, N, _xp_of(x))
            h_new, c_new, tc = (_xp_of(x).empty((N, H), act.dtype) for _ in range(3))
            if not _ck.lstm_pointwise(act, c, c_new, tc, h_new):      # (the compiled kernel: all below, one pass)
                _lstm_gates_(act, H)
                _lstm_state(act, c, H, c_new, tc, h_new)
        else:                                               # one tanh
            s, bconst, _ = _lstm_scales(H, x.dtype, N, _xp_of(x))
            act *= s
            xp.tanh(act, out=act)
            act *= s
            act += bconst                                   # the activated i, f, g, o
            c_new, tc, h_new = _lstm_state(act, c, H)
        ctx.save_for_backward(x, h, c, w_ih, w_hh)          # (version-checked, as PyTorch's saved inputs)
        ctx.scratch = (xh, act, tc)
        return h_new, c_new

    @staticmethod
    @once_differentiable
    def backward(ctx, gh, gc):
        x, h, c, w_ih, w_hh = ctx._saved_arrays()
        xh, act, tc = ctx.scratch
        gh, gc = gh._data, gc._data
        H = h.shape[1]
        I = x.shape[1]
        _, bconst, s2 = _lstm_scales(H, act.dtype, act.shape[0], _xp_of(act))
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
        dx = Tensor._make(_mm(dz, w_ih)) if need[0] else None
        dh = Tensor._make(_mm(dz, w_hh)) if need[1] else None
        dc_prev = Tensor._make(dc * f) if need[2] else None
        dw_ih = dw_hh = db = None
        if need[3] or need[4] or (len(need) > 5 and (need[5] or need[6])):
            dw = _mm(dz.T, xh)                                 # (4H, I + H [+ 1]): [dW_ih, dW_hh, db]
            dw_ih = Tensor._make(dw[:, :I]) if need[3] else None
            dw_hh = Tensor._make(dw[:, I:I + H]) if need[4] else None
            db = Tensor._make(dw[:, I + H]) if dw.shape[1] > I + H else None
        return dx, dh, dc_prev, dw_ih, dw_hh, db, db


class GRUCellFn(_ScratchFn):
    """h' = (1 - z) n + z h, with r, z = sigmoid(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn)).

    Computed transposed: ``W_ih @ x^T`` and ``W_hh @ h^T`` are (3H, N), each gate a contiguous block of H
    rows, so every gate product runs on contiguous memory; the last one writes h' in its (N, H) layout."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        N, H = h.shape
        hT = h.T.copy()                                     # (H, N), C-contiguous
        pi = _mm(w_ih, x.T.copy())                              # (3H, N): W_ir x, W_iz x, W_in x (rows)
        ph = _mm(w_hh, hT)
        if b_ih is not None:
            pi += b_ih[:, None]
            ph += b_hh[:, None]
        rz = pi[:2 * H]
        rz += ph[:2 * H]
        _sigmoid_(rz)
        r, z = rz[:H], rz[H:]
        hn = ph[2 * H:]                                     # W_hn h + b_hn
        n = pi[2 * H:]
        tmp = r * hn
        n += tmp
        _tanh(n, n)
        xp.subtract(hT, n, out=tmp)                         # h' = n + z (h - n)
        tmp *= z
        out = _xp_of(h).empty((N, H), h.dtype)
        xp.add(tmp, n, out=out.T)
        ctx.save_for_backward(x, h, w_ih, w_hh)             # (version-checked, as PyTorch's saved inputs)
        ctx.scratch = (hT, pi, hn)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        return _tensors(_gru_backward(ctx, g._data))


def _gru_backward(ctx, g):
    x, h, w_ih, w_hh = ctx._saved_arrays()
    hT, act, hn = ctx.scratch                               # act: r, z, n (3H, N)
    H = hT.shape[0]
    r, z, n = act[:H], act[H:2 * H], act[2 * H:]
    gT = g.T
    dgi = xp.empty_like(act)                                # dL/d(W_ih x + b_ih), transposed
    dr, dz, dn = dgi[:H], dgi[H:2 * H], dgi[2 * H:]
    tmp = n * n
    xp.subtract(1, tmp, out=tmp)
    xp.subtract(1, z, out=dn)
    dn *= gT
    dn *= tmp                                               # g (1 - z) (1 - n^2)
    xp.multiply(dn, hn, out=dr)
    xp.subtract(1, r, out=tmp)
    tmp *= r
    dr *= tmp                                               # dn (W_hn h + b_hn) r (1 - r)
    xp.subtract(hT, n, out=dz)
    dz *= gT
    xp.subtract(1, z, out=tmp)
    tmp *= z
    dz *= tmp                                               # g (h - n) z (1 - z)
    need = ctx.needs_input_grad
    dgh = None
    if need[1] or need[3] or need[5]:
        dgh = xp.empty_like(dgi)                            # dL/d(W_hh h + b_hh): the same but r dn for n
        dgh[:2 * H] = dgi[:2 * H]
        xp.multiply(dn, r, out=dgh[2 * H:])
    dx = _mm(dgi.T, w_ih) if need[0] else None
    dh = None
    if need[1]:
        dh = _mm(dgh.T, w_hh)
        xp.multiply(gT, z, out=tmp)
        dh += tmp.T
    dw_ih = _mm(dgi, x) if need[2] else None
    dw_hh = _mm(dgh, h) if need[3] else None
    db_ih = dgi.sum(1) if need[4] else None
    db_hh = dgh.sum(1) if need[5] else None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def check_weights(op, w_ih, w_hh, gates):
    """``(I, H)`` from a recurrent layer's or cell's weights, checked: w_ih (G*H, I), w_hh (G*H, H)."""
    GH, I = w_ih.shape
    H = w_hh.shape[1]
    if GH != gates * H or tuple(w_hh.shape) != (GH, H):
        raise ValueError(f"{op} expected w_ih of shape ({gates}*H, I) and w_hh of shape ({gates}*H, H), got "
                         f"{tuple(w_ih.shape)} and {tuple(w_hh.shape)}")
    return I, H


def _valid(x, h, w_ih, w_hh, b_ih, b_hh, gates, c=None) -> bool:
    """The common case in a few comparisons on the raw arrays (this runs once per step of a Python loop):
    Tensors, a 2-D input, states, weights and biases of matching shapes and one dtype."""
    try:
        xa, ha, wi, wh = x._data, h._data, w_ih._data, w_hh._data
        if xa.ndim == 2 and wh.ndim == 2 and (b_ih is None) == (b_hh is None):
            H = wh.shape[1]
            GH = gates * H
            dt = xa.dtype
            return (wi.shape == (GH, xa.shape[1]) and wh.shape[0] == GH and ha.shape == (xa.shape[0], H)
                    and ha.dtype == dt and wi.dtype == dt and wh.dtype == dt
                    and (c is None or (c._data.shape == ha.shape and c._data.dtype == dt))
                    and (b_ih is None or (b_ih._data.shape == (GH,) and b_hh._data.shape == (GH,)
                                          and b_ih._data.dtype == dt and b_hh._data.dtype == dt)))
    except AttributeError:          # not Tensors
        pass
    return False


def _check(op, x, h, w_ih, w_hh, b_ih, b_hh, gates, c=None):
    if not _valid(x, h, w_ih, w_hh, b_ih, b_hh, gates, c):
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
        raise RuntimeError(f"{op}: input, states and weights must share one dtype, "
                           f"got {sorted(map(str, dts))}")


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


def cell_step(kind, input, hx, w_ih, w_hh, b_ih, b_hh):
    """The cell modules' batched call (a 2-D input and its states, all valid) in one op, or None where the
    module's own checks and conversions are needed (unbatched input, no state, anything to report).  ``kind``:
    "tanh", "relu", "lstm" or "gru"; ``hx`` an (h, c) tuple for "lstm"."""
    if kind == "lstm":
        if type(hx) is not tuple or len(hx) != 2:
            return None
        h, c = hx
        if _valid(input, h, w_ih, w_hh, b_ih, b_hh, 4, c):
            return LSTMCellFn.apply(input, h, c, w_ih, w_hh, b_ih, b_hh)
    elif kind == "gru":
        if _valid(input, hx, w_ih, w_hh, b_ih, b_hh, 3):
            return GRUCellFn.apply(input, hx, w_ih, w_hh, b_ih, b_hh)
    elif (kind == "tanh" or kind == "relu") and _valid(input, hx, w_ih, w_hh, b_ih, b_hh, 1):
        return RNNCellFn.apply(input, hx, w_ih, w_hh, b_ih, b_hh, relu=kind == "relu")
    return None


def _raw(backward):
    def raw(ctx, g):        # the engine's no-graph path: the gradient in, arrays out (no Tensor per value)
        return backward(ctx, g._data)
    return raw


_engine.RAW_BACKWARD[RNNCellFn] = _raw(_rnn_backward)
_engine.RAW_BACKWARD[GRUCellFn] = _raw(_gru_backward)
