"""Backward formulas on raw arrays, for the engine's no-graph case.

Each op's ``backward`` is written with ember ops on Tensors, so that ``create_graph=True`` records it and second
derivatives work.  When no graph is recorded (``create_graph=False``, the usual ``loss.backward()``) that costs a
full op dispatch (``apply``, operand checks, a Tensor per intermediate) for every multiply inside every
backward.  The formulas here compute the same values on the arrays directly: the same NumPy ufuncs in the same
order, each intermediate given PyTorch's strides exactly where the Tensor path's ``_lay`` would, so results are
bit-identical, dtypes and strides included.

``RAW_BACKWARD`` maps an op class (exactly that class: a subclass with its own backward is not matched) to
``fn(ctx, g) -> tuple``, where ``g`` is the incoming gradient Tensor and the tuple holds one gradient per input
(arrays, ``g`` itself, or None).  A formula returns ``NotImplemented`` where it does not cover the case
(float16, complex, integer scalars of other kinds...), and the engine then runs the op's ``backward``.
"""
from __future__ import annotations

import numpy as _np

from ..autograd import engine as _engine
from ..backend import layout as _layout
from . import _elementwise_unary as _U
from . import _ckernels as _ck, _parallel_elementwise as _pe
from . import elementwise as _E
from . import linalg as _L
from . import reduce as _R
from . import shape as _S

_ndarray = _np.ndarray
_FLOATS = (_np.dtype(_np.float32), _np.dtype(_np.float64))
_NUMBERS = (int, float, bool)
_u = _pe.ufunc          # a ufunc, split among threads on large C-contiguous operands (the same values)
_mul_, _div_, _sub_, _neg_ = _np.multiply, _np.true_divide, _np.subtract, _np.negative


def _lay(out, *xs):
    """``elementwise._lay`` on arrays: PyTorch's strides for ``out``, computed from the operands ``xs``."""
    for x in xs:
        if type(x) is _ndarray:
            if x.ndim > 1:
                f = x.flags
                if not f.c_contiguous or (f.f_contiguous and not _layout.canonical(x)):
                    break
            elif x.ndim == 1 and not x.flags.c_contiguous:
                break
    else:
        return out
    if _c_result(out, xs):
        return out
    return _layout.torch_like(out, list(xs))


def _c_result(out, xs):
    """Whether PyTorch's rule gives ``out`` (C-contiguous) its own strides without computing them: every operand
    a number, fully expanded (all strides 0: it orders no dims) or C-contiguous of ``out``'s shape, and no size-1
    dim (whose strides could tie).  The usual case of a gradient expanded from a sum or mean."""
    shape = out.shape
    if not out.flags.c_contiguous or 1 in shape:
        return False
    for x in xs:
        if type(x) is _ndarray and any(x.strides) and not (x.flags.c_contiguous and x.shape == shape):
            return False
    return True


def _ok(g, *saved):
    """Whether the raw formulas apply: a float32/float64 gradient, and every saved value either an array of the
    same dtype or a plain number (the dtype rules of the Tensor path then reduce to NumPy's)."""
    dt = g.dtype
    if dt not in _FLOATS:
        return False
    for s in saved:
        if type(s) is _ndarray:
            if s.dtype != dt:
                return False
        elif s is not None and type(s) not in _NUMBERS:
            return False
    return True


def _a(x):
    # a NumPy ufunc on 0-d arrays returns a NumPy scalar: keep every value an array, as the Tensor path does
    return x if type(x) is _ndarray else _np.asarray(x)


# -- arithmetic ---------------------------------------------------------------------------------------------
def _sub(ctx, g):
    gd = g._data
    if gd.dtype not in _FLOATS:
        return NotImplemented
    return g, (_a(-gd if gd.size < _pe.SPLIT_FROM else _u(_neg_, gd)) if ctx.needs_input_grad[1] else None)


def _mul(ctx, g):
    a, b = ctx._saved_arrays()
    gd = g._data
    if not _ok(gd, a, b):
        return NotImplemented
    n = ctx.needs_input_grad
    if gd.size < _pe.SPLIT_FROM:
        return (_lay(_a(gd * b), gd, b) if n[0] else None), (_lay(_a(gd * a), gd, a) if n[1] else None)
    return ((_lay(_a(_u(_mul_, gd, b)), gd, b) if n[0] else None),
            (_lay(_a(_u(_mul_, gd, a)), gd, a) if n[1] else None))


def _div(ctx, g):
    a, b = ctx._saved_arrays()
    gd = g._data
    if not _ok(gd, a, b):
        return NotImplemented
    n = ctx.needs_input_grad
    ga = _lay(_a(_u(_div_, gd, b)), gd, b) if n[0] else None
    gb = None
    if n[1]:        # neg(mul(g, div(div(a, b), b))), as Div.backward
        q = _lay(_a(_u(_div_, a, b)), a, b)
        q2 = _lay(_a(_u(_div_, q, b)), q, b)
        gb = _a(_u(_neg_, _lay(_a(_u(_mul_, gd, q2)), gd, q2)))
    return ga, gb


def _neg(ctx, g):
    gd = g._data
    if gd.dtype not in _FLOATS:
        return NotImplemented
    return (_a(-gd if gd.size < _pe.SPLIT_FROM else _u(_neg_, gd)),)


# -- unary math (saved output o or input x) ------------------------------------------------------------------
def _unary(formula):
    """The array backward of a ``_unary`` op saving one value (its input or its output): ``formula(g, saved)``."""
    def raw(ctx, g):
        (s,) = ctx._saved_arrays()
        gd = g._data
        if not _ok(gd, s):
            return NotImplemented
        return (formula(gd, s),)
    return raw


def _exp(g, o):                 # mul(g, o)
    return _lay(_a(g * o if g.size < _pe.SPLIT_FROM else _u(_mul_, g, o)), g, o)


def _tanh_into(r, g, o):        # _tanh's steps on one piece, into r
    _mul_(o, o, out=r)
    _sub_(1.0, r, out=r)
    _mul_(g, r, out=r)


def _sigmoid_into(r, g, o):     # _sigmoid's steps on one piece, into r
    _sub_(1.0, o, out=r)
    _mul_(o, r, out=r)
    _mul_(g, r, out=r)


def _tanh(g, o):                # mul(g, sub(1.0, mul(o, o)))
    if g.size >= _pe.SPLIT_FROM and \
            (r := _pe.par_apply(_tanh_into, g.shape, g.dtype, g, o, blocks=True)) is not None:
        return r
    t = _lay(_a(o * o), o, o)
    t = _lay(_a(1.0 - t), 1.0, t)
    return _lay(_a(g * t), g, t)


def _sigmoid(g, o):             # mul(g, mul(o, sub(1.0, o)))
    if g.size >= _pe.SPLIT_FROM and \
            (r := _pe.par_apply(_sigmoid_into, g.shape, g.dtype, g, o, blocks=True)) is not None:
        return r
    t = _lay(_a(1.0 - o), 1.0, o)
    t = _lay(_a(o * t), o, t)
    return _lay(_a(g * t), g, t)


def _log(g, x):                 # div(g, x)
    return _lay(_a(_u(_div_, g, x)), g, x)


def _sqrt(g, o):                # div(g, mul(o, 2.0))
    t = _lay(_a(_u(_mul_, o, 2.0)), o, 2.0)
    return _lay(_a(_u(_div_, g, t)), g, t)


def _relu(ctx, g):              # where(o <= 0, 0, g), as Relu.backward
    (o,) = ctx._saved_arrays()
    gd = g._data
    if not _ok(gd, o):
        return NotImplemented
    if (r := _ck.unary_grad("relu", o, gd)) is not None:      # (the compiled kernel: these bits in one pass)
        return (_lay(r, r, gd),)
    if gd.size >= _pe.SPLIT_FROM and \
            (r := _pe.par_apply(_relu_into, gd.shape, gd.dtype, o, gd)) is not None:
        return (_lay(r, r, gd),)      # (r stands for the mask o <= 0: fresh, C-ordered, of o's shape)
    keep = o != 0
    r = _np.multiply(gd.view(_INT[gd.dtype.itemsize]), keep.view(_np.uint8)).view(gd.dtype)
    return (_lay(_a(r), keep, _np.zeros((), gd.dtype), gd),)


# where(o <= 0, 0, g) for a ReLU output o (never below -0.0): o != 0 is the mask of kept places (NaN != 0
# keeps a NaN input's gradient, as PyTorch's o <= 0 test does), and the gradient's bits times that 0/1 mask in
# integer arithmetic are g's bits or +0.0's: where's result bit for bit (inf, NaN and -0.0 gradients included)
# in two passes instead of np.where's data-dependent branch (~9x slower) or an AND with a widened mask (three
# passes: 1.2M float32 elements 1253 -> 866 us at one thread, rotated minima).
_INT = {4: _np.int32, 8: _np.int64}


def _relu_into(r, o, gd):      # _relu's steps on one piece, into r
    it = _INT[gd.dtype.itemsize]
    _np.multiply(gd.view(it), (o != 0).view(_np.uint8), out=r.view(it))


# -- reductions and shapes -----------------------------------------------------------------------------------
def _expand_grad(gd, shape, axes, keepdim):
    """reduce._expand_grad on arrays (a C-contiguous gradient: the reshape is then a view, as the Tensor's)."""
    if gd.ndim == 0 and shape and 0 not in shape and 1 not in shape:     # a full reduction: every stride 0
        shape = tuple(shape)
        return _ndarray(shape, gd.dtype, gd, 0, (0,) * len(shape))
    if not keepdim and gd.ndim != len(shape):
        gd = gd.reshape(_R._kept_shape(shape, axes))
    shape = tuple(shape)
    if gd.shape == shape:
        return gd
    lead = len(shape) - gd.ndim
    if lead >= 0 and gd.size and 0 not in shape:     # Expand.forward's view, made without as_strided's overhead
        st = (0,) * lead + tuple(0 if (n == 1 and t != 1) else s for n, t, s in zip(gd.shape, shape[lead:], gd.strides))
        return _ndarray(shape, gd.dtype, gd, 0, st)
    return _S.Expand.forward(None, gd, shape)


def _sum(ctx, g):
    gd = g._data
    if gd.dtype not in _FLOATS or not gd.flags.c_contiguous:
        return NotImplemented
    return _expand_grad(gd, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


def _mean(ctx, g):              # div(expand(g), max(n, 1))
    gd = g._data
    if gd.dtype not in _FLOATS or not gd.flags.c_contiguous:
        return NotImplemented
    e = _expand_grad(gd, ctx.shape, ctx.axes, ctx.keepdim)
    n = max(ctx.n, 1)
    return _lay(_a(e / n), e, n), None, None


# -- matrix products -----------------------------------------------------------------------------------------
def _matmul(ctx, g):
    """``MatMul.backward`` for 1-D and 2-D operands (batched ones take the Tensor path): the same ``np.matmul``
    calls on the same views (``.mT``, ``unsqueeze``, ``squeeze``), without a dispatch per view and product
    (the RBM row's ``x @ b_v`` backward, a (784, 64) @ (64, 1) product, 80 us through the Tensor path)."""
    a, b = ctx._saved_arrays()
    gd = g._data
    if not _ok(gd, a, b) or a.ndim > 2 or b.ndim > 2:      # (_ok: NumPy arrays of g's float dtype)
        return NotImplemented
    n = ctx.needs_input_grad
    mm = _np.matmul
    if a.ndim == 1 and b.ndim == 1:     # dot: mul(g, b), mul(g, a)
        return (_lay(_a(gd * b), gd, b) if n[0] else None), (_lay(_a(gd * a), gd, a) if n[1] else None)
    if a.ndim == 1:                     # (k) @ (k, m)
        return (mm(b, gd[:, None])[:, 0] if n[0] else None), (mm(a[:, None], gd[None, :]) if n[1] else None)
    if b.ndim == 1:                     # (n, k) @ (k)
        return (mm(gd[:, None], b[None, :]) if n[0] else None), (mm(a.T, gd[:, None])[:, 0] if n[1] else None)
    return (mm(gd, b.T) if n[0] else None), (mm(a.T, gd) if n[1] else None)


# -- softmax family ------------------------------------------------------------------------------------------
def _softmax_saved(ctx, g):
    """(y, g's array) where the softmax formulas apply: both C-contiguous of one float dtype and shape."""
    (y,) = ctx._saved_arrays()
    gd = g._data
    if not _ok(gd, y) or ctx.axis is None or y.shape != gd.shape or not (y.flags.c_contiguous
                                                                           and gd.flags.c_contiguous):
        return None
    return y, gd


def _softmax(ctx, g):           # mul(y, sub(g, sum(mul(g, y), axis, keepdim))), as Softmax.backward
    r = _softmax_saved(ctx, g)
    if r is None:
        return NotImplemented
    y, gd = r
    t = gd * y
    s = _R._sum_keep(t, ctx.axis)
    _np.subtract(gd, s, out=t)
    _np.multiply(y, t, out=t)
    return t, None


def _log_softmax(ctx, g):       # sub(g, mul(exp(y), sum(g, axis, keepdim))), as LogSoftmax.backward
    r = _softmax_saved(ctx, g)
    if r is None:
        return NotImplemented
    y, gd = r
    e = _np.exp(y)
    _np.multiply(e, _R._sum_keep(gd, ctx.axis), out=e)
    _np.subtract(gd, e, out=e)
    return e, None


RAW_BACKWARD = {
    _E.Sub: _sub,
    _E.Mul: _mul,
    _E.Div: _div,
    _E.Neg: _neg,
    _U.exp.op: _unary(_exp),
    _U.tanh.op: _unary(_tanh),
    _U.sigmoid.op: _unary(_sigmoid),
    _U.log.op: _unary(_log),
    _U.sqrt.op: _unary(_sqrt),
    _U.Relu: _relu,
    _R.Sum: _sum,
    _R.Mean: _mean,
    _R.Softmax: _softmax,
    _R.LogSoftmax: _log_softmax,
    _L.MatMul: _matmul,
}

_engine.RAW_BACKWARD.update(RAW_BACKWARD)
