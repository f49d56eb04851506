"""Fused activation ops: one graph node per activation, forward on raw arrays, hand-written derivative.

Each derivative is written once against a small namespace ``M`` that is either NumPy (the fast path,
``create_graph=False``: the gradient is computed on raw arrays) or ember's ops (``create_graph=True``: the
backward is itself recorded, so second derivatives work).  Masks are turned into 0/1 floats of the
input's dtype and combined arithmetically, so the formulas read the same in both namespaces.
"""
from __future__ import annotations

import math

import numpy as _np

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..backend import dtypes as _dt
from ..backend import layout as _layout
from ..backend.device import as_array as _as_array
from ..tensor import Tensor, _to_array
from . import elementwise as E
from . import _bound, _ckernels as _ck, _parallel_elementwise as _pe
from ._log1p_exp import log1p_exp_neg as _log1p_exp_neg
from ._select import select as _select
from .elementwise import _sigmoid_fwd, _erf_array, _erfc_abs

__all__: list = []   # internal: the public forms live in ember.nn.functional


class _NumpyNS:
    exp = staticmethod(_np.exp)
    tanh = staticmethod(_np.tanh)
    abs = staticmethod(_np.abs)
    log1p = staticmethod(_np.log1p)
    log1p_exp_neg = staticmethod(_log1p_exp_neg)
    sigmoid = staticmethod(_sigmoid_fwd)
    erf = staticmethod(_erf_array)

    @staticmethod
    def f(cond, like):
        return cond.astype(like.dtype)

    @staticmethod
    def neg_part(x):          # min(x, 0)
        return _bound.minimum(0, x)

    @staticmethod
    def pos_part(x):          # max(x, 0)
        return _bound.maximum(0, x)

    @staticmethod
    def where(cond, a, b):              # (a mask that is mostly one way: np.where's branch predicts well)
        return _np.where(cond, a, b)

    select = staticmethod(_select)      # np.where's values without its per-element branch (~50/50 masks)
    cdf2 = staticmethod(lambda x: _cdf2(x))


class _EmberNS:
    exp = staticmethod(E.exp)
    tanh = staticmethod(E.tanh)
    abs = staticmethod(E.abs)
    log1p = staticmethod(E.log1p)
    sigmoid = staticmethod(E.sigmoid)
    erf = staticmethod(E.erf)

    @staticmethod
    def log1p_exp_neg(t):
        return E.log1p(E.exp(E.neg(t)))

    @staticmethod
    def f(cond, like):
        return cond.to(like.dtype)

    @staticmethod
    def neg_part(x):
        return E.clamp(x, max=0)

    @staticmethod
    def pos_part(x):
        return E.relu(x)

    @staticmethod
    def where(cond, a, b):
        return E.where(cond, a, b)

    select = where

    @staticmethod
    def cdf2(x):
        return E.erf(x * (1.0 / _SQRT2)) + 1.0


def _plain(p):
    """Whether an activation's parameters are all numbers (or strings): its kernels are then elementwise and
    may run on pieces of a large array at once (``_parallel_elementwise``)."""
    return all(v is None or type(v) in (int, float, bool, str) for v in p.values())


def make_activation(name: str, fwd, deriv, ints: str = "error", int_check=None, int_fn=None, c_out=False,
                    scalar_operand=False, into=None, compiled=None, compiled_grad=None):
    """Build a one-node activation op: ``fwd(a, **p)`` on arrays, ``deriv(M, x, **p)`` its elementwise
    derivative.  Returns ``apply(x, **p)``.

    ``ints`` says what a bool or integer input does, as in PyTorch: "error" (the kernel is float-only: a
    NotImplementedError), "cast" (integers are computed in the default float dtype, bool raises), "cast_all"
    (bool too) or "keep" (computed in the input's integer dtype after ``int_check(x, **p)``).  ``into(out, a,
    **p)``, where given, writes ``fwd(a, **p)`` into ``out`` (a fresh float array of ``a``'s shape and dtype):
    the pieces of a large input are then computed in place instead of each into a temporary that is copied,
    and not in cache-sized blocks (an ``into`` kernel is a pass or two, which blocks slow down: leaky ReLU's
    forward, one thread, 300K / 1.2M float32 elements, blocked 154 / 431 us, whole 107 / 382).

    ``compiled(a, **p)`` and ``compiled_grad(x, g, **p)``, where given, are the op's compiled kernels
    (``ember.ops._ckernels``): each returns its array (the forward's, or ``g`` times the derivative) or None
    where it does not apply, and then the NumPy formulas run."""
    piece = (lambda o, x, **p: o.__setitem__(..., fwd(x, **p))) if into is None else into
    blocks = into is None

    def forward(ctx, a, **p):
        ctx.save_for_backward(a)
        ctx.p = p
        out = None if compiled is None else compiled(a, **p)
        if out is None and (a.size < _pe.SPLIT_FROM or a.dtype.kind != "f" or a.dtype == _np.float16 or
                            not _plain(p) or (out := _pe.par_apply(lambda o, x: piece(o, x, **p), a.shape,
                                                                   a.dtype, a, blocks=blocks)) is None):
            # float16 is computed in float32 and rounded once, as PyTorch's CPU kernels do
            out = fwd(a.astype(_np.float32) if a.dtype == _np.float16 else a, **p)
        out = out.astype(a.dtype, copy=False) if out.dtype != a.dtype else out
        if a.ndim > 1 and not _layout.canonical(a):      # PyTorch keeps a dense input's strides
            out = _layout.with_strides(out, _layout.c_strides(out.shape)) if c_out else \
                _layout.torch_like(out, [a, 0] if scalar_operand else [a])
        return out

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if _grad.create_graph:
            return E.mul(g, deriv(_EmberNS, x, **ctx.p))
        gd = g._data
        if compiled_grad is not None and (r := compiled_grad(x._data, gd, **ctx.p)) is not None:
            return Tensor._make(r)
        if gd.size >= _pe.SPLIT_FROM and gd.dtype.kind == "f" and gd.dtype == x._data.dtype and \
                _plain(ctx.p):
            def piece(o, xs, gs):
                _np.multiply(gs, deriv(_NumpyNS, xs, **ctx.p), out=o)
            r = _pe.par_apply(piece, gd.shape, gd.dtype, x._data, gd, blocks=True)
            if r is not None:
                return Tensor._make(r)      # (pieces of what follows: the same values, elementwise)
        d = deriv(_NumpyNS, x._data, **ctx.p)
        gd = g._data * d
        return Tensor._make(gd.astype(g._data.dtype, copy=False) if gd.dtype != g._data.dtype else gd)

    cls = type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    def apply(x, **p):
        if not isinstance(x, Tensor):
            x = Tensor._make(_to_array(x, None))
        k = x._data.dtype.kind
        if k != "f":
            if int_fn is not None and k != "b":
                return int_fn(x, **p)
            if ints == "cast_all" or (ints == "cast" and k != "b"):
                x = E.cast(x, _dt.get_default_dtype())
            elif ints == "keep":
                p = int_check(x, **p) or p
                return Tensor._make(_as_array(fwd(x._data, **p)).astype(x._data.dtype, copy=False))
            else:
                raise _dt.DtypeNotImplementedError(
                    f"{name.lower()}: not implemented for {x.dtype} inputs (PyTorch's kernel is floating point "
                    f"only); convert with .float() first")
        return cls.apply(x, **p)

    apply.op = cls
    return apply


_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SIXTH_F32 = float(_np.float32(1.0 / 6.0))     # PyTorch's hardsigmoid backward uses 1/6 rounded to float32


def _softplus_arr(z):
    return _bound.maximum(0, z) + _log1p_exp_neg(_np.abs(z))


def _threshold_ints(x, threshold, value):
    if x._data.dtype.kind == "b":
        raise _dt.DtypeNotImplementedError("threshold: not implemented for bool inputs")
    d = x._data.dtype          # both scalars converted to the input's dtype (range-checked), compared exactly
    return {"threshold": _dt.checked_scalar(threshold, d, "threshold"), "value": _dt.checked_scalar(value, d, "threshold")}


def _hardtanh_ints(x, lo, hi):
    if x._data.dtype.kind == "b":
        raise RuntimeError("hardtanh: Bool inputs not supported for hardtanh")
    if x._data.dtype.kind == "u" and (lo < 0 or hi < 0):
        raise RuntimeError(f"hardtanh: cannot do hardtanh on an unsigned type ({x.dtype}) with negative limits "
                           f"(min_val={lo}, max_val={hi})")
    d = x._data.dtype
    return {"lo": _dt.checked_scalar(lo, d, "hardtanh"), "hi": _dt.checked_scalar(hi, d, "hardtanh")}


threshold = make_activation(
    # PyTorch: x <= threshold -> value, else x (so NaN passes through, with its gradient)
    "Threshold", lambda a, threshold, value: _select(a <= threshold, value, a),
    lambda M, x, threshold, value: 1.0 - M.f(x <= threshold, x), ints="keep", int_check=_threshold_ints)
step = make_activation(
    "Step", lambda a, threshold: (a >= threshold).astype(a.dtype),
    lambda M, x, threshold: x * 0, ints="cast_all")
heaviside = make_activation(
    "Heaviside", lambda a, value: _select(a > 0, 1.0, _select(a < 0, 0.0, value)),
    lambda M, x, value: x * 0, ints="cast_all")
def _leaky_fwd(a, slope):
    """where(a > 0, a, a * slope) (PyTorch's), computed as max(a, a * slope) for a slope <= 1 (negative ones
    too) and min(a, a * slope) for a slope > 1: the same bits (NaN, inf and -0.0 included: checked against
    torch), without the data-dependent select (1M float32 elements: 4.2 ms -> 0.49 ms at one thread).  A zero
    or NaN slope keeps the select (inf * 0 is NaN, silently as in PyTorch)."""
    if slope == 0:
        with _np.errstate(invalid="ignore"):
            r = a * slope
        return _np.where(a > 0, a, r)
    r = a * slope
    if type(r) is _np.ndarray and r.dtype.kind == "f" and slope == slope:
        (_np.maximum if slope <= 1 else _np.minimum)(a, r, out=r)
        return r
    return _np.where(a > 0, a, r)


def _leaky_into(out, a, slope):
    if slope == slope and slope != 0:       # _leaky_fwd's max/min, written into ``out``
        _np.multiply(a, slope, out=out)
        (_np.maximum if slope <= 1 else _np.minimum)(a, out, out=out)
    else:
        out[...] = _leaky_fwd(a, slope)


leaky_relu = make_activation(
    "LeakyRelu", _leaky_fwd,
    lambda M, x, slope: M.f(x > 0, x) * (1.0 - slope) + slope, into=_leaky_into)
hardtanh = make_activation(
    "Hardtanh", lambda a, lo, hi: _np.clip(a, lo, hi),
    # PyTorch: 0 where x <= lo or x >= hi, else the gradient (so NaN passes it, in small tensors)
    # (as a 0/1 mask, not nested where: relu6's x <= 0 is a coin flip per element, 1M: 6.4 -> 0.65 ms)
    lambda M, x, lo, hi: 1.0 - M.f((x <= lo) | (x >= hi), x), ints="keep", int_check=_hardtanh_ints,
    scalar_operand=True)      # laid out like a binary op with a scalar, as PyTorch's hardtanh


def _expm1_nonpos(t):
    """expm1(t) for t <= 0 (NaN passes), the ELU family's negative branch.  float32: ``2h / (1 - h)`` with
    h = tanh(t / 2), four NumPy passes around a vectorized tanh, where NumPy's float32 ``expm1`` is a scalar
    loop on x86 (65K elements: 11.4 ns an element against tanh's 2.6 and a pass's 0.17).  Within 2.8 ulp of
    the exact value (NumPy's expm1 0.8, PyTorch's 1.0), relative everywhere (1 - h >= 1: nothing cancels),
    -1 exactly where expm1 rounds to it, -0.0 at -0.0.  Other dtypes: ``expm1`` itself."""
    if t.dtype != _np.float32:
        return _np.expm1(t)
    if t.ndim == 0:                 # (a ufunc on 0-d arrays gives a NumPy scalar, which takes no out=)
        return _expm1_nonpos(t.reshape(1)).reshape(())
    h = t * _np.float32(0.5)
    _np.tanh(h, out=h)
    d = _np.subtract(_np.float32(1.0), h)
    h += h
    _np.divide(h, d, out=h)
    # below -25 ln 2, expm1 rounds to -1; there tanh(t / 2) still rounds to -1 + 2^-24 for a while, whose
    # quotient is the float just above -1: the limit set exactly, as PyTorch's expm1 gives it
    sat = t < _EXPM1_SATURATED
    return _select(sat, _np.float32(-1.0), h) if sat.any() else h


_EXPM1_SATURATED = _np.float32(-25 * math.log(2))


elu = make_activation(
    # (minimum(0, a): a tie returns a, so expm1(-0.0) = -0.0 as PyTorch's expm1(x) branch gives)
    "Elu", lambda a, alpha: _select(a > 0, a, alpha * _expm1_nonpos(_bound.minimum(0, a))),
    lambda M, x, alpha: _elu_d(M, x, alpha, 1.0))
selu = make_activation(
    "Selu", lambda a: _SELU_SCALE * _select(a > 0, a, _SELU_ALPHA * _expm1_nonpos(_bound.minimum(0, a))),
    lambda M, x: _elu_d(M, x, _SELU_ALPHA, 1.0) * _SELU_SCALE)
celu = make_activation(
    "Celu", lambda a, alpha: _select(a > 0, a, alpha * _expm1_nonpos(_bound.minimum(0, a) / alpha)),
    lambda M, x, alpha: _elu_d(M, x, 1.0, 1.0 / alpha))


def _elu_d(M, x, alpha, inv):
    # PyTorch: x <= 0 ? alpha * exp(x * inv) : 1, so a NaN input gets the positive slope (small tensors; its
    # vectorized path over long inputs gives NaN there)
    return M.select(x <= 0, M.exp(M.neg_part(x) * inv) * alpha, 1.0)


def _gelu_fwd(a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1.0 + _np.tanh(_K * (a + 0.044715 * a * a * a)))
    return 0.5 * a * _cdf2(a)


def _cdf2(a):
    """1 + erf(x / sqrt 2), twice the normal CDF.  float32 arrays: ``erfc(-x / sqrt 2)`` from the erfc fit
    alone (``2 - erfc(z)`` for z > 0), ~30 NumPy passes where erf's two fits take ~50, and accurate where
    ``1 + erf`` cancels: gelu(-5) is -1.4333e-06 here against -1.4901e-06 through 1 + erf and -1.1921e-06 in
    PyTorch (exact: -1.43326e-06).  Elsewhere (float64, small arrays) 1 + erf."""
    if a.dtype != _np.float32 or a.size < 64:          # (device arrays too: the CPU's numbers there)
        return 1.0 + _erf_array(a / _SQRT2)
    z = a * _np.float32(1.0 / _SQRT2)
    e = _erfc_abs(z)
    return _select(z > 0, _np.subtract(_np.float32(2.0), e), e)


def _gelu_d(M, x, approximate):
    if approximate == "tanh":
        t = M.tanh((x + x * x * x * 0.044715) * _K)
        return (t + 1.0) * 0.5 + x * (1.0 - t * t) * (x * x * (3 * 0.044715) + 1.0) * (0.5 * _K)
    return M.cdf2(x) * 0.5 + x * M.exp(x * x * -0.5) * _INV_SQRT_2PI


gelu = make_activation(
    "Gelu", _gelu_fwd, _gelu_d, compiled=lambda a, approximate: _ck.gelu(a, approximate == "tanh"),
    compiled_grad=lambda x, g, approximate: _ck.gelu_grad(x, g, approximate == "tanh"))


# From these thresholds up, softplus(x) rounds to x and sigmoid(x) to 1 wherever x > threshold (float32:
# exp(-16) is below half an ulp of 16, and 1 + exp(-17) rounds to 1), so PyTorch's `x > threshold` selection
# changes no value there and is left out (two passes forward, four backward)
_SP_SAME_FROM = {_np.dtype(_np.float32): 16.0}
_SP_D_SAME_FROM = {_np.dtype(_np.float32): 17.0}


def _softplus_fwd(a, beta, threshold):
    if beta == 1:           # (x * 1 and / 1 are x: two passes fewer, the same values)
        if threshold >= _SP_SAME_FROM.get(a.dtype, _np.inf):
            return _softplus_arr(a)
        return _np.where(a > threshold, a, _softplus_arr(a))
    z = a * beta
    return _np.where(z > threshold, a, _softplus_arr(z) / beta)


softplus = make_activation(
    "Softplus", _softplus_fwd, lambda M, x, beta, threshold: _softplus_d(M, x, beta, threshold))


def _softplus_d(M, x, beta, threshold):
    z = x * beta if beta != 1 else x
    if M is _NumpyNS and threshold >= _SP_D_SAME_FROM.get(z.dtype, _np.inf):
        return M.sigmoid(z)
    m = M.f(z > threshold, x)
    return m + (1.0 - m) * M.sigmoid(z)


swish = make_activation(
    # (at beta = 1, SiLU, the x * 1 and * 1 passes are left out: the same values)
    "Swish", lambda a, beta: a * _sigmoid_fwd(a * beta if beta != 1 else a),
    lambda M, x, beta: _swish_d(M, x, beta),
    compiled=lambda a, beta: _ck.unary("silu", a) if beta == 1 else None,
    compiled_grad=lambda x, g, beta: _ck.unary_grad("silu", x, g) if beta == 1 else None)


def _swish_d(M, x, beta):
    if beta != 1:
        s = M.sigmoid(x * beta)
        return s + x * s * (1.0 - s) * beta
    s = M.sigmoid(x)
    return s + x * s * (1.0 - s)


def _mish_fwd(a):
    return a * _np.tanh(_softplus_arr(a))


def _mish_d(M, x):
    sp = M.pos_part(x) + M.log1p_exp_neg(M.abs(x))
    t = M.tanh(sp)
    return t + x * M.sigmoid(x) * (1.0 - t * t)


mish = make_activation("Mish", _mish_fwd, _mish_d)
hardsigmoid = make_activation(
    "Hardsigmoid", lambda a: _np.clip(a / 6.0 + 0.5, 0, 1),
    lambda M, x: M.f(x > -3.0, x) * M.f(x < 3.0, x) * _SIXTH_F32)
hardswish = make_activation(
    "Hardswish", lambda a: a * _np.clip(a + 3.0, 0, 6) / 6.0,
    # PyTorch's corners: 0 at x = -3, 1 at x = 3 (open interval for the middle piece)
    lambda M, x: M.where(x <= -3.0, 0.0, M.where(x < 3.0, x * (1.0 / 3.0) + 0.5, 1.0)))
softsign = make_activation(
    "Softsign", lambda a: a / (1.0 + _np.abs(a)),
    # PyTorch differentiates x / (1 + |x|) as a composite: nan at +-inf, like it
    lambda M, x: 1.0 / (M.abs(x) + 1.0) - (M.abs(x) / (M.abs(x) + 1.0)) / (M.abs(x) + 1.0), ints="cast",
    # integers: x / (1 + |x|) with the sum in the input's dtype (it wraps, as in PyTorch)
    int_fn=lambda x: E.div(x, E.add(E.abs(x), 1)))
logsigmoid = make_activation(
    "LogSigmoid", lambda a: _bound.minimum(0, a) - _log1p_exp_neg(_np.abs(a)),
    lambda M, x: M.sigmoid(-x), c_out=True)      # PyTorch's log_sigmoid returns a contiguous result
tanhshrink = make_activation(
    "Tanhshrink", lambda a: a - _np.tanh(a),
    lambda M, x: M.tanh(x) * M.tanh(x), ints="cast")
softshrink = make_activation(
    "Softshrink", lambda a, lambd: _np.where(a > lambd, a - lambd, _np.where(a < -lambd, a + lambd, a * 0)),
    lambda M, x, lambd: _shrink_d(M, x, lambd))
hardshrink = make_activation(
    "Hardshrink", lambda a, lambd: _np.where((a >= -lambd) & (a <= lambd), 0, a),
    lambda M, x, lambd: _shrink_d(M, x, lambd))


def _shrink_d(M, x, lambd):
    # PyTorch: 0 where -lambd <= x <= lambd, else the gradient (NaN passes it)
    return 1.0 - M.f((x >= -lambd) & (x <= lambd), x)
