"""Unary math: ``exp``, ``log``, ``sqrt``/``rsqrt``, the trigonometric and hyperbolic functions,
``reciprocal``, ``erf``, ``sigmoid``, ``relu``, ``abs``, and the rounding family (``floor``, ``ceil``,
``trunc``, ``round``, ``sign``, ``sgn``, ``frac``, ``square``). Re-exported by ``ember.ops.elementwise``.
"""
from __future__ import annotations

import math

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..backend import layout as _layout
from ..backend.device import array_module as _xp_of, as_array as _as_array
from ..tensor import Tensor, _to_array
from . import _bound, _ckernels as _ck, _parallel_elementwise as _pe
from .elementwise import _erf_array, _graphless, add, cast, div, mul, neg, pow, sub, zeros_like_g


# -- unary math ----------------------------------------------------------------------------------------------
_F16 = _np.dtype(_np.float16)


def _unary(name, fwd, bwd, save="input", float_only=True, doc="", par=None, compiled=None):
    """Build a unary op class from a forward on arrays and a backward on Tensors ``bwd(g, x, out)``;
    ``par(a)``, where given, computes the forward of a large array split among threads, and ``compiled(a)``
    with ember's compiled kernel (``_ckernels``); each returns None where it does not apply."""

    def forward(ctx, a):
        out = None if compiled is None else compiled(a)
        if out is None and (par is None or a.size < _pe.SPLIT_FROM or (out := par(a)) is None):
            out = fwd(a)
        if save == "input":
            ctx.save_for_backward(a)
        elif save == "output":
            ctx.save_for_backward(out)
        elif save == "both":
            ctx.save_for_backward(a, out)
        return out

    def backward(ctx, g):
        saved = ctx.saved_tensors
        if save == "input":
            return bwd(g, saved[0], None)
        if save == "output":
            return bwd(g, None, saved[0])
        if save == "both":
            return bwd(g, saved[0], saved[1])
        return bwd(g, None, None)

    cls = type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward),
                                    "__doc__": doc})

    def fn(input):
        if not isinstance(input, Tensor):
            input = Tensor._make(_to_array(input, None))
        if float_only and input._data.dtype.kind != "f":
            input = cast(input, _dt.get_default_dtype())
        return cls.apply(input)

    fn.__name__ = name.lower()
    fn.__doc__ = doc or f"Elementwise {name.lower()} (``torch.{name.lower()}``)."
    fn.op = cls
    return fn


def _zero_grad(g, x, out):
    return zeros_like_g(g)


def _par(ufunc):
    return lambda a: _pe.par_ufunc(ufunc, a)


exp = _unary("Exp", _np.exp, lambda g, x, o: mul(g, o), save="output", par=_par(_np.exp))
exp2 = _unary("Exp2", _np.exp2, lambda g, x, o: mul(g, mul(o, math.log(2.0))), save="output")
log = _unary("Log", _np.log, lambda g, x, o: div(g, x))
log2 = _unary("Log2", _np.log2, lambda g, x, o: div(g, mul(x, math.log(2.0))))
log10 = _unary("Log10", _np.log10, lambda g, x, o: div(g, mul(x, math.log(10.0))))
log1p = _unary("Log1p", _np.log1p, lambda g, x, o: div(g, add(x, 1.0)))
expm1 = _unary("Expm1", _np.expm1, lambda g, x, o: mul(g, add(o, 1.0)), save="output")
sqrt = _unary("Sqrt", _np.sqrt, lambda g, x, o: div(g, mul(o, 2.0)), save="output")
rsqrt = _unary("Rsqrt", lambda a: 1.0 / _np.sqrt(a),
               lambda g, x, o: mul(g, mul(pow(o, 3), -0.5)), save="output")
sin = _unary("Sin", _np.sin, lambda g, x, o: mul(g, cos(x)))
cos = _unary("Cos", _np.cos, lambda g, x, o: neg(mul(g, sin(x))))
tan = _unary("Tan", _np.tan, lambda g, x, o: mul(g, add(mul(o, o), 1.0)), save="output")
asin = _unary("Asin", _np.arcsin, lambda g, x, o: div(g, sqrt(sub(1.0, mul(x, x)))))
acos = _unary("Acos", _np.arccos, lambda g, x, o: neg(div(g, sqrt(sub(1.0, mul(x, x))))))
atan = _unary("Atan", _np.arctan, lambda g, x, o: div(g, add(mul(x, x), 1.0)))
sinh = _unary("Sinh", _np.sinh, lambda g, x, o: mul(g, cosh(x)))
cosh = _unary("Cosh", _np.cosh, lambda g, x, o: mul(g, sinh(x)))
tanh = _unary("Tanh", _np.tanh, lambda g, x, o: mul(g, sub(1.0, mul(o, o))), save="output",
              par=_par(_np.tanh))
reciprocal = _unary("Reciprocal", lambda a: 1.0 / a, lambda g, x, o: neg(mul(g, mul(o, o))), save="output")
erf = _unary("Erf", _erf_array,
             lambda g, x, o: mul(g, mul(exp(neg(mul(x, x))), 2.0 / math.sqrt(math.pi))))


def _sigmoid_fwd(a):
    """PyTorch's CPU kernel: 1 / (1 + exp(-a)), float16 computed in float32 and rounded once.  exp(-a)
    overflows to inf below about -88 (float32) / -709 (float64), which gives PyTorch's limit 0 there (the
    overflow is expected: not warned).  Four passes over the array, none of them data-dependent: 100,352
    float32 elements in 71 us at one thread, where an exp(-|a|)/where formulation took 491 us."""
    if a.dtype == _F16:
        return _sigmoid_fwd(a.astype(_np.float32)).astype(_F16)
    e = _np.negative(a)
    if isinstance(e, _np.generic):    # a 0-d array (or a NumPy scalar) gives a NumPy scalar
        e = _np.array(e)
    _sigmoid_into(e, e)
    return e


def _sigmoid_into(out, a):
    # _sigmoid_fwd's steps (float32/float64) on one piece, written into ``out``: out = 1 / (1 + exp(-a))
    if out is not a:
        _np.negative(a, out=out)
    with _np.errstate(over="ignore"):
        _np.exp(out, out=out)
    out += 1
    _np.reciprocal(out, out=out)


def _sigmoid_par(a):
    if a.dtype.kind != "f" or a.dtype == _F16:
        return None
    return _pe.par_apply(_sigmoid_into, a.shape, a.dtype, a, blocks=True)


sigmoid = _unary("Sigmoid", _sigmoid_fwd, lambda g, x, o: mul(g, mul(o, sub(1.0, o))), save="output",
                 par=_sigmoid_par, compiled=lambda a: _ck.unary("sigmoid", a))


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        # maximum(0, a), not (a, 0): NumPy returns the second operand of a tie, so -0.0 stays -0.0, as PyTorch's
        # relu (x < 0 ? 0 : x) keeps it; NaNs pass either way, sign bit included
        # (_bound: NumPy's float32 maximum with a number is a scalar loop, ~3x slower than on two arrays)
        out = _relu_array(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        from ._elementwise_clamp import where
        (o,) = ctx.saved_tensors
        # PyTorch's threshold_backward, where(out <= 0, 0, grad): +0 there whatever the gradient (not -0, nor
        # inf * 0 = nan), and a NaN input passes its gradient (the compiled kernel: the same in one pass)
        if g.dtype == o.dtype and (r := _ck.unary_grad("relu", o._data, g._data)) is not None:
            return Tensor._make(r)
        return where(Tensor._make(o._data <= 0), Tensor._make(_xp_of(g._data).zeros((), g.dtype)), g)


def _relu_array(a):
    """maximum(0, a) as ``Relu.forward`` computes it: the compiled kernel (its bits, one pass; in pieces over
    ember's threads when large), else ``_bound.maximum`` (split when large)."""
    if (out := _ck.unary("relu", a)) is not None:
        return out
    if a.size < _pe.SPLIT_FROM or (out := _pe.par_ufunc(_bound.maximum, 0, a)) is None:
        out = _bound.maximum(0, a)
    return out


def relu(input: Tensor) -> Tensor:
    """max(input, 0) elementwise."""
    if input._data.dtype.kind == "b":
        raise _dt.DtypeRuntimeError("relu: Boolean inputs not supported for relu")
    d = input._data
    if type(input) is Tensor and _graphless(d):
        return Tensor._make(_relu_array(d))     # no graph to record: what Relu.apply returns, sooner
    return Relu.apply(input)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return mul(g, Tensor._make(_sign_array(a._data)))      # 0 at 0 and at NaN, as PyTorch


def _no_bool(x, op):
    if x._data.dtype.kind == "b":
        raise _dt.DtypeNotImplementedError(f"{op}: not implemented for bool tensors (PyTorch: \"{op}\" not "
                                           f"implemented for 'Bool'); convert with .int() or .float() first")


def abs(input):
    input = input if isinstance(input, Tensor) else Tensor._make(_to_array(input, None))
    _no_bool(input, "abs")
    return Abs.apply(input)


absolute = abs


class _ZeroGradUnary(Function):
    fn = None

    @classmethod
    def forward(cls, ctx, a, *args):
        return cls.fn(a, *args)

    @staticmethod
    def backward(ctx, g):
        return (zeros_like_g(g),) + (None,) * (len(ctx.next_edges) - 1)


class Floor(_ZeroGradUnary):
    fn = staticmethod(_np.floor)


class Ceil(_ZeroGradUnary):
    fn = staticmethod(_np.ceil)


class Trunc(_ZeroGradUnary):
    fn = staticmethod(_np.trunc)


def _sign_array(a):
    if a.dtype.kind == "b":
        # a copy in PyTorch's elementwise layout: the input's stride order, where NumPy's copy(order="K") would
        # put an expanded (stride-0) dim innermost
        out = _layout.torch_like(a, [a])
        return a.copy(order="K") if out is a else out
    out = _as_array(_np.sign(a))
    if a.dtype.kind == "f":
        _np.copyto(out, 0, where=_np.isnan(a))      # PyTorch: sign(nan) = 0
    return out


class Sign(_ZeroGradUnary):
    fn = staticmethod(_sign_array)


def _round_decimals(a, d):
    """PyTorch's round(decimals=d): nearbyint(a * 10**d) / 10**d (a / 10**-d ... * 10**-d for d < 0) in the
    op-math type (float32 for float16, so a float16 input rounds once)."""
    if d == 0:
        return _np.round(a)
    ct = _np.float32 if a.dtype == _np.float16 else a.dtype
    p = ct.type(10.0 ** abs(d)) if hasattr(ct, "type") else _np.dtype(ct).type(10.0 ** abs(d))
    if a.ndim > 1 and 0 in a.strides:      # an expanded input: a C-ordered result (PyTorch), not K-order's
        x = _xp_of(a).ascontiguousarray(a, dtype=ct)
    else:
        x = a.astype(ct, copy=False)
    with _np.errstate(over="ignore", invalid="ignore"):
        r = _np.rint(x / p) * p if d < 0 else _np.rint(x * p) / p
    return r.astype(a.dtype, copy=False)


class Round(_ZeroGradUnary):
    fn = staticmethod(_round_decimals)


def floor(input):
    """Round down; zero gradient.  Integer tensors come back unchanged (a copy), as in PyTorch."""
    _no_bool(input, "floor")
    return input.clone() if input._data.dtype.kind in "iu" else Floor.apply(input)


def ceil(input):
    _no_bool(input, "ceil")
    return input.clone() if input._data.dtype.kind in "iu" else Ceil.apply(input)


def trunc(input):
    _no_bool(input, "trunc")
    return input.clone() if input._data.dtype.kind in "iu" else Trunc.apply(input)


fix = trunc


def sign(input):
    """-1, 0 or 1 elementwise; zero gradient."""
    return Sign.apply(input)


def round(input, decimals: int = 0):
    """Round half to even, like PyTorch; zero gradient."""
    _no_bool(input, "round")
    if input._data.dtype.kind in "iu":
        if decimals != 0:
            raise _dt.DtypeNotImplementedError(f"round: decimals={decimals} is not implemented for {input.dtype} "
                                               f"tensors (PyTorch: \"round_cpu\" not implemented)")
        return input.clone()
    r = Round.apply(input, decimals)
    return r


def square(input):
    return pow(input, 2)


def sgn(input):
    return sign(input)


def frac(input):
    if input._data.dtype.kind != "f":
        raise _dt.DtypeNotImplementedError(f"frac: not implemented for {input.dtype} tensors (PyTorch: \"frac_cpu\" "
                                           f"not implemented); it needs a floating dtype")
    return sub(input, trunc(input))
