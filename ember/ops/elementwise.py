"""Elementwise ops: arithmetic, the transcendental functions, comparisons and logic.

Binary ops broadcast like NumPy; the engine sums each gradient back to its input's shape, so backwards
here are written for the broadcast shape.  Result dtypes follow PyTorch's promotion (see
``backend.dtypes.result_type``): the public function casts its operands once, then the op runs.
"""
from __future__ import annotations

import math

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..backend import layout as _layout
from ..backend import xp
from ..tensor import Tensor, _to_array

_erf = _np.vectorize(math.erf, otypes=[_np.float64])


def _erf_array(a):
    """erf over an array.  SciPy is not a dependency: float64 (and small arrays) use ``math.erf`` per element,
    exact; larger float32 arrays use the Chebyshev fit of erfc from Numerical Recipes over the whole array at
    once (absolute error below 5e-7)."""
    if a.dtype == _np.float64 or a.size < 64:
        return _erf(a).astype(a.dtype, copy=False)
    # Horner's rule in the input's precision, updating two buffers in place (GELU calls this on every
    # feed-forward activation, so temporaries matter): 4x faster than a float64 round trip, error < 5e-7
    t = _np.abs(a)
    _np.multiply(t, 0.5, out=t)
    t += 1.0
    _np.reciprocal(t, out=t)
    p = t * 0.17087277
    for c in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368):
        p += c
        p *= t
    p -= 1.26551223
    p -= a * a
    _np.exp(p, out=p)
    p *= t
    _np.subtract(1.0, p, out=p)
    return _np.copysign(p, a, out=p)


# -- operand preparation ------------------------------------------------------------------------------------
def _prep(a, b, op: str):
    """Return (a, b) as Tensors or scalars of the promoted dtype, with a clear error if they can't broadcast."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data, b._data
        if da.dtype != db.dtype:
            dt = _dt.result_type(a, b)
            if da.dtype != dt:
                a = cast(a, dt)
            if db.dtype != dt:
                b = cast(b, dt)
        if da.shape != db.shape:
            _check_broadcast(da.shape, db.shape, op)
        return a, b
    if ta:
        b = _scalar_operand(b, a, op)
        if isinstance(b, Tensor):
            return _prep(a, b, op)
        dt = a._data.dtype
        if (dt.kind in "iub" and isinstance(b, float)) or (dt.kind == "b" and isinstance(b, int) and not isinstance(b, bool)):
            a = cast(a, _dt.result_type(a, b))
        elif dt.kind in "iu" and type(b) is int:
            b = _dt.wrap_int(b, dt)         # PyTorch casts the scalar to the tensor's dtype: uint8 + -1 adds 255
        return a, b
    if tb:
        a = _scalar_operand(a, b, op)
        if isinstance(a, Tensor):
            return _prep(a, b, op)
        dt = b._data.dtype
        if (dt.kind in "iub" and isinstance(a, float)) or (dt.kind == "b" and isinstance(a, int) and not isinstance(a, bool)):
            b = cast(b, _dt.result_type(a, b))
        elif dt.kind in "iu" and type(a) is int:
            a = _dt.wrap_int(a, dt)
        return a, b
    return _prep(Tensor._make(_to_array(a, None)), b, op)


def _scalar_operand(s, t, op):
    if isinstance(s, _np.generic) and s.dtype.kind in "biuf":
        return s.item()     # NumPy scalars act as Python numbers (np.float64(2) * float32 tensor stays float32)
    if isinstance(s, (int, float, bool)):
        return s
    if isinstance(s, (_np.ndarray, _np.generic, list, tuple)):
        return Tensor._make(_to_array(s, None))
    if s is None:
        raise TypeError(f"{op}: got None as an operand; expected a Tensor or a number")
    try:
        return float(s)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: unsupported operand of type {type(s).__name__}; expected a Tensor or a number") from None


def _check_broadcast(sa, sb, op):
    for x, y in zip(reversed(sa), reversed(sb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} are not broadcastable (dimension sizes "
                               f"{x} and {y} differ and neither is 1)")


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def _lay_c(t):
    d = t._data
    if d.ndim > 1 and not _layout.canonical(d):
        t._data = _layout.with_strides(d, _layout.c_strides(d.shape))
    return t


def _lay(t, *xs):
    """Give an elementwise result PyTorch's strides.  NumPy and PyTorch agree whenever every tensor operand
    is C-contiguous with canonical strides, which is checked first (cheap); otherwise the result is re-laid
    out (copied) only where PyTorch's rule picks other strides than NumPy did."""
    for x in xs:
        if isinstance(x, Tensor):
            d = x._data
            if d.ndim > 1:
                f = d.flags
                # C- and not F-contiguous: canonical but for odd size-1 strides (which only F-contiguous-looking
                # arrays can hide here, as both flags ignore size-1 dims)
                if not f.c_contiguous or (f.f_contiguous and not _layout.canonical(d)):
                    break
            elif d.ndim == 1 and not d.flags.c_contiguous:
                break
    else:
        return t
    d = t._data
    nd = _layout.torch_like(d, [x._data if isinstance(x, Tensor) else x for x in xs])
    if nd is not d:
        t._data = nd
    return t


# -- cast / clone ---------------------------------------------------------------------------------------------
class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.src = a.dtype
        out = a.astype(dtype)
        if a.ndim > 1 and not _layout.canonical(a):      # PyTorch's preserve_format: a dense input's strides
            out = _layout.preserve(out, a)
        return out

    @staticmethod
    def backward(ctx, g):
        return (cast(g, ctx.src) if ctx.src.kind == "f" else None), None


def cast(x: Tensor, dtype) -> Tensor:
    return Cast.apply(x, _dt.to_dtype(dtype))


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input: Tensor, *, memory_format="preserve_format") -> Tensor:
    """A copy in the graph; keeps a dense input's strides by default, as ``torch.clone`` (see Tensor.clone)."""
    from .shape import _clone
    return _clone(input, memory_format)


# -- arithmetic ---------------------------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return g, (neg(g) if n[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        # save only what the wanted gradients need (x.mul_(3) must not pin x's old value)
        ctx.save_for_backward(a if n[1] else None, b if n[0] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (mul(g, b) if n[0] else None), (mul(g, a) if n[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = div(g, b) if n[0] else None
        gb = neg(div(mul(g, a), mul(b, b))) if n[1] else None
        return ga, gb


def add(input, other, alpha=1, *, out=None):
    """``input + alpha * other`` with broadcasting (``torch.add``); ``out=`` receives the result."""
    if alpha != 1 or isinstance(alpha, bool):
        other = _scaled(input, other, alpha, "add")
    input, other = _prep(input, other, "add")
    r = _lay(Add.apply(input, other), input, other)
    return r if out is None else _write_out(out, r, "add")


def _scaled(input, other, alpha, op):
    """``alpha * other`` for add/sub, with PyTorch's checks: a float alpha needs a floating result, a bool
    alpha a bool one."""
    rt = _dt.result_type(input, other)
    if isinstance(other, Tensor) and other._data.dtype != rt:
        other = cast(other, rt)       # alpha * other in the promoted dtype (no wrap in a narrower operand)
    if rt.kind in "iub" and isinstance(alpha, float):
        raise RuntimeError(f"{op}: for integral input tensors (result {rt}), argument alpha must not be a floating "
                           f"point number, got alpha={alpha}")
    if isinstance(alpha, bool) and rt.kind != "b":
        raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results, got a {rt} result")
    if rt.kind == "b":
        return other if alpha else logical_and(other, False)
    return mul(other, alpha)


def _is_bool_tensor(x):
    return isinstance(x, Tensor) and x._data.dtype.kind == "b"


def sub(input, other, alpha=1, *, out=None):
    """``input - alpha * other`` with broadcasting (``torch.sub``); ``out=`` receives the result."""
    if _is_bool_tensor(input) or _is_bool_tensor(other) or isinstance(input, bool) or isinstance(other, bool):
        two = (_is_bool_tensor(input) or isinstance(input, bool)) and (_is_bool_tensor(other) or isinstance(other, bool))
        raise _dt.DtypeRuntimeError(
            f"sub: subtraction, the `-` operator, with {'two bool tensors' if two else 'a bool tensor'} is not "
            f"supported; use logical_xor() (or ~ / logical_not() to invert a bool tensor)")
    if alpha != 1 or isinstance(alpha, bool):
        other = _scaled(input, other, alpha, "sub")
    input, other = _prep(input, other, "sub")
    r = _lay(Sub.apply(input, other), input, other)
    return r if out is None else _write_out(out, r, "sub")


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting (``torch.mul``); ``out=`` receives the result."""
    input, other = _prep(input, other, "mul")
    r = _lay(Mul.apply(input, other), input, other)
    return r if out is None else _write_out(out, r, "mul")


def _to_float(x):
    if isinstance(x, Tensor) and x._data.dtype.kind in "iub":
        return cast(x, _dt.get_default_dtype())
    return x


def _ints_to_float(a, b):
    """Operands of an op that computes in floating point (true division, atan2): when neither is a floating
    tensor and no float scalar is present, each operand goes straight from its own dtype to the default float
    dtype (PyTorch: ``uint8_tensor / int8_scalar_tensor(-1)`` divides by -1.0, never by a wrapped 255)."""
    if (isinstance(a, Tensor) and a._data.dtype.kind == "f") or (isinstance(b, Tensor) and b._data.dtype.kind == "f"):
        return a, b
    a = _to_float(a) if isinstance(a, Tensor) else a
    b = _to_float(b) if isinstance(b, Tensor) else b
    if isinstance(a, Tensor) and not isinstance(b, Tensor) and isinstance(b, (bool, int, _np.integer, _np.bool_)):
        b = float(b)
    if isinstance(b, Tensor) and not isinstance(a, Tensor) and isinstance(a, (bool, int, _np.integer, _np.bool_)):
        a = float(a)
    return a, b


def _check_int_divisor(b, op):
    """Integer division by zero raises, as in PyTorch (RuntimeError: ZeroDivisionError); floats give inf/nan."""
    bd = b._data if isinstance(b, Tensor) else b
    if isinstance(bd, _np.ndarray):
        if bd.dtype.kind in "iub" and bd.size and not bd.all():
            raise _dt.IntegerDivisionByZero(f"ZeroDivisionError: {op}: integer division by zero (the divisor "
                                            f"of dtype {bd.dtype} holds a zero)")
    elif bd == 0:
        raise _dt.IntegerDivisionByZero(f"ZeroDivisionError: {op}: integer division by zero")


def _int_operands(a, b, op):
    """Promote for an integer-capable op; returns (a, b, is_integer_result).  Bool results are not implemented
    (PyTorch: "div_floor_cpu" not implemented for 'Bool')."""
    a, b = _prep(a, b, op)
    d = (a if isinstance(a, Tensor) else b)._data.dtype
    if d.kind == "b":
        raise _dt.DtypeNotImplementedError(f"{op}: not implemented for bool tensors; convert to an integer or "
                                           f"floating dtype first")
    if d.kind in "iu":
        if all(not isinstance(v, Tensor) or v._data.size for v in (a, b)):    # nothing divided: no error
            _check_int_divisor(b, op)
        return a, b, True
    return a, b, False


def _int_trunc_div(a, b):
    # exact for integers (no float round trip): a - fmod(a, b) is a multiple of b
    return (a - _np.fmod(a, b)) // b


class DivRounding(Function):
    """``div(a, b, rounding_mode=...)`` on floats: the gradient is zero for both inputs, even where b == 0
    (PyTorch), not the 0/0 = nan of differentiating a / b."""

    @staticmethod
    def forward(ctx, a, b, mode):
        if mode == "trunc":
            return _np.trunc(_np.true_divide(a, b))
        return _np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (zeros_like_g(g) if n[0] else None), (zeros_like_g(g) if n[1] else None), None


def div(input, other, rounding_mode=None):
    """True division (``torch.div``); integers divide to the default float dtype.  ``rounding_mode`` may be
    "trunc" or "floor" (integer inputs then stay integer, and an integer zero divisor raises)."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        op = "floor_divide" if rounding_mode == "floor" else "div"
        input, other, is_int = _int_operands(input, other, op)
        if is_int:
            ad, bd = _arr(input), _arr(other)
            q = _np.floor_divide(ad, bd) if rounding_mode == "floor" else _int_trunc_div(ad, bd)
            return Tensor._make(_np.asarray(q, dtype=(input if isinstance(input, Tensor) else other)._data.dtype))
        return _lay(DivRounding.apply(input, other, rounding_mode), input, other)
    input, other = _ints_to_float(input, other)
    input, other = _prep(input, other, "div")
    return _lay(Div.apply(input, other), input, other)


true_divide = divide = div
multiply = mul
subtract = sub


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return neg(g)


def neg(input: Tensor) -> Tensor:
    if input._data.dtype == _np.bool_:
        raise _dt.DtypeRuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported; use ~ or "
                                    "logical_not() instead")
    return Neg.apply(input)


negative = neg


def _int_pow(a, b):
    """Integer power with PyTorch's rule for negative exponents: 1 ** -n = 1, (-1) ** -n = +-1, else 0."""
    neg_e = b < 0
    if not _np.any(neg_e):
        return a ** b
    out = _np.asarray(a ** _np.where(neg_e, 0, b))
    r = _np.where(a == 1, 1, _np.where(a == -1, _np.where(b % 2 == 0, 1, -1), 0))
    return _np.where(neg_e, r, out).astype(out.dtype, copy=False)


class PowScalar(Function):
    @staticmethod
    def forward(ctx, a, e):
        ctx.save_for_backward(a)
        ctx.e = e
        if e == 2:
            return a * a
        if e == 0.5:
            return _np.sqrt(a)
        if e == -0.5 and a.dtype.itemsize >= 4:     # PyTorch computes rsqrt: (-0.0) ** -0.5 = -inf
            return _np.asarray(1.0 / _np.sqrt(a), a.dtype)
        return a ** e

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        e = ctx.e
        if e == 2:
            return mul(g, mul(a, 2.0)), None
        if e == 1:
            return g, None
        if e == 0:      # d/da a**0 = 0 everywhere, including a == 0 (torch), not 0 * inf
            return zeros_like_g(g), None
        return mul(g, mul(pow(a, e - 1), e)), None


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _int_pow(a, b) if a.dtype.kind in "iu" else a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = gb = None
        if n[0]:    # b * a**(b-1), and 0 where b == 0 (torch), not 0 * inf at a == 0
            ga = where(eq(b, 0), 0.0, mul(g, mul(b, pow(a, sub(b, 1)))))
        if n[1]:    # a**b * log(a), and 0 where a == 0 and b >= 0 (torch): inf * -inf = -inf at a == 0, b < 0
            gb = where(logical_and(eq(a, 0), ge(b, 0)), 0.0, mul(g, mul(out, log(a))))
        return ga, gb


class ScalarPow(Function):
    """``s ** x`` for a Python scalar base."""
    @staticmethod
    def forward(ctx, x, s):
        if x.dtype.kind in "iu":
            out = _int_pow(_np.asarray(s).astype(x.dtype), x)
        else:
            out = _np.power(s, x).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.s = s
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        s = ctx.s
        if s == 0:      # 0 ** x: zero gradient where x >= 0, out * log(0) = -inf (or nan) elsewhere (torch)
            return where(ge(x, 0), 0.0, mul(g, mul(out, float("-inf")))), None
        return mul(g, mul(out, math.log(s) if s > 0 else float("nan"))), None


def _neg_int_power_error():
    return RuntimeError("pow: Integers to negative integer powers are not allowed.")


def pow(input, exponent):
    """``a ** e`` for tensor or scalar base and exponent (``torch.pow``)."""
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, Tensor):
        k = input._data.dtype.kind
        if k in "iub":
            if isinstance(exponent, bool):
                if k == "b":            # bool ** bool scalar stays bool: x ** True = x, x ** False = True
                    return input.clone() if exponent else Tensor._make(_np.ones(input._data.shape, bool))
                exponent = int(exponent)
            if isinstance(exponent, float):
                input = cast(input, _dt.get_default_dtype())
            else:
                if exponent < 0:
                    raise _neg_int_power_error()
                if k == "b":
                    input = cast(input, _dt.int64)
                else:
                    exponent = _dt.checked_scalar(exponent, input._data.dtype, "pow")
        return _lay(PowScalar.apply(input, exponent), input)       # a scalar exponent is no operand in PyTorch
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor) and isinstance(input, (int, float)):
        k = exponent._data.dtype.kind
        if k in "iub":
            if isinstance(input, float):
                exponent = cast(exponent, _dt.get_default_dtype())
            elif k == "b":
                if isinstance(input, bool):
                    raise _dt.DtypeNotImplementedError("pow: not implemented for a bool base and a bool exponent")
                exponent = cast(exponent, _dt.int64)
        return _lay_c(ScalarPow.apply(exponent, input))       # PyTorch returns scalar ** tensor C-contiguous
    bool_exp = isinstance(exponent, Tensor) and exponent._data.dtype.kind == "b"
    input, exponent = _prep(input, exponent, "pow")
    if (input if isinstance(input, Tensor) else exponent)._data.dtype.kind == "b":
        raise _dt.DtypeNotImplementedError("pow: not implemented for bool tensors (both operands are bool)")
    return _lay((PowBoolExponent if bool_exp else Pow).apply(input, exponent), input, exponent)


class PowBoolExponent(Pow):
    """``x ** bool_tensor``: PyTorch's backward computes ``exponent - 1`` on the bool tensor and raises."""

    @staticmethod
    def backward(ctx, g):
        raise _dt.DtypeRuntimeError("pow: backward through x ** bool_tensor: subtraction, the `-` operator, with a "
                                    "bool tensor is not supported (as in PyTorch); convert the exponent to float")


def float_power(input, exponent):
    """``a ** e`` computed in float64 whatever the inputs' dtypes (``torch.float_power``)."""
    if isinstance(input, Tensor) and input._data.dtype != _dt.float64:
        input = cast(input, _dt.float64)
    if isinstance(exponent, Tensor) and exponent._data.dtype != _dt.float64:
        exponent = cast(exponent, _dt.float64)
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power: expected a Tensor operand, got {type(input).__name__} and {type(exponent).__name__}")
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        exponent = float(exponent)
    if isinstance(exponent, Tensor) and isinstance(input, (int, float)) and not isinstance(input, bool):
        input = float(input)
    return pow(input, exponent)


class FloorDivide(DivRounding):
    """``floor_divide`` / ``//`` on floats: PyTorch defines no derivative (``div(rounding_mode="floor")`` has
    a zero one), so a backward through it raises."""

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative for floor_divide is not implemented (as in PyTorch); "
                           "use div(a, b, rounding_mode='floor') for a zero gradient")


def _overflow_nan(out, a, b):
    """fmod/remainder stay exact (NumPy's, and PyTorch's scalar path).  PyTorch's vectorized CPU path (8 floats
    at a time) gives NaN where a / b overflows; that is a documented difference, not reproduced."""
    return out


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _overflow_nan(_np.remainder(a, b), a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        gb = mul(neg(g), div(a, b, rounding_mode="floor")) if n[1] else None
        return (g if n[0] else None), gb


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _overflow_nan(_np.fmod(a, b), a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        gb = mul(neg(g), div(a, b, rounding_mode="trunc")) if n[1] else None
        return (g if n[0] else None), gb


def zeros_like_g(g):
    return Tensor._make(xp.zeros_like(g._data))


def floor_divide(input, other):
    """Floor division (Python's ``//``; ``torch.floor_divide``).  Not differentiable (a backward raises)."""
    input, other, is_int = _int_operands(input, other, "floor_divide")
    if is_int:
        return Tensor._make(_np.asarray(_np.floor_divide(_arr(input), _arr(other)), (input if isinstance(input, Tensor) else other)._data.dtype))
    return _lay(FloorDivide.apply(input, other, "floor"), input, other)


def remainder(input, other):
    """Python-style modulus (sign of the divisor), ``torch.remainder``."""
    input, other, is_int = _int_operands(input, other, "remainder")
    if is_int:
        return Tensor._make(_np.asarray(_np.remainder(_arr(input), _arr(other)), (input if isinstance(input, Tensor) else other)._data.dtype))
    return _lay(Remainder.apply(input, other), input, other)


def fmod(input, other):
    """C-style modulus (sign of the dividend), ``torch.fmod``; differentiable in both inputs."""
    input, other, is_int = _int_operands(input, other, "fmod")
    if is_int:
        return Tensor._make(_np.asarray(_np.fmod(_arr(input), _arr(other)), (input if isinstance(input, Tensor) else other)._data.dtype))
    return _lay(Fmod.apply(input, other), input, other)


# -- unary math ----------------------------------------------------------------------------------------------
def _unary(name, fwd, bwd, save="input", float_only=True, doc=""):
    """Build a unary op class from a forward on arrays and a backward on Tensors ``bwd(g, x, out)``."""

    def forward(ctx, a):
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


exp = _unary("Exp", _np.exp, lambda g, x, o: mul(g, o), save="output")
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
tanh = _unary("Tanh", _np.tanh, lambda g, x, o: mul(g, sub(1.0, mul(o, o))), save="output")
reciprocal = _unary("Reciprocal", lambda a: 1.0 / a, lambda g, x, o: neg(mul(g, mul(o, o))), save="output")
erf = _unary("Erf", _erf_array,
             lambda g, x, o: mul(g, mul(exp(neg(mul(x, x))), 2.0 / math.sqrt(math.pi))))


def _sigmoid_fwd(a):
    # stable for large |a|: exp only ever sees non-positive arguments
    out = _np.empty_like(a)
    pos = a >= 0
    ez = _np.exp(-_np.abs(a))
    _np.divide(1.0, 1.0 + ez, out=out, where=pos)
    _np.divide(ez, 1.0 + ez, out=out, where=~pos)
    return out


sigmoid = _unary("Sigmoid", _sigmoid_fwd, lambda g, x, o: mul(g, mul(o, sub(1.0, o))), save="output")


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        out = _np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (o,) = ctx.saved_tensors
        # PyTorch's threshold_backward: zero where out <= 0, so a NaN input passes its gradient
        return mul(g, Tensor._make((~(o._data <= 0)).astype(g.dtype)))


def relu(input: Tensor) -> Tensor:
    """max(input, 0) elementwise."""
    if input._data.dtype.kind == "b":
        raise _dt.DtypeRuntimeError("relu: Boolean inputs not supported for relu")
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
        return a.copy()
    out = _np.asarray(_np.sign(a))
    if a.dtype.kind == "f":
        _np.copyto(out, 0, where=_np.isnan(a))      # PyTorch: sign(nan) = 0
    return out


class Sign(_ZeroGradUnary):
    fn = staticmethod(_sign_array)


class Round(_ZeroGradUnary):
    fn = staticmethod(lambda a, d: _np.round(a, d))


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


# -- clamp, min/max, where --------------------------------------------------------------------------------------
class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        out = _np.clip(a, lo, hi) if (lo is not None or hi is not None) else a.copy()
        if ctx.needs_input_grad[0]:
            mask = _np.ones(a.shape, bool)
            if lo is not None:
                mask &= a >= lo
            if hi is not None:
                mask &= a <= hi
            ctx.mask = mask
        return out

    @staticmethod
    def backward(ctx, g):
        return mul(g, Tensor._make(ctx.mask.astype(g.dtype))), None, None


class ClampTensor(Function):
    """clamp with tensor bounds.  PyTorch's gradients: the input gets it where lo <= x <= hi (so at ties),
    ``min`` where x < lo and lo < hi, ``max`` where x > hi or hi < lo; a NaN anywhere sends it nowhere."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        out = a
        if lo is not None:
            out = _np.maximum(out, lo)
        if hi is not None:
            out = _np.minimum(out, hi)
        ctx.save_for_backward(a, lo, hi)
        return out if out is not a else a.copy()

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        n = ctx.needs_input_grad
        ad = a._data
        ld = None if lo is None else lo._data
        hd = None if hi is None else hi._data
        z = zeros_like_g(g)
        gx = gl = gh = None
        if n[0]:
            m = True
            if ld is not None:
                m = m & (ad >= ld)
            if hd is not None:
                m = m & (ad <= hd)
            gx = where(Tensor._make(_np.asarray(m)), g, z)
        if len(n) > 1 and n[1] and ld is not None:
            m = ad < ld
            if hd is not None:
                m = m & (ld < hd)
            gl = where(Tensor._make(_np.asarray(m)), g, z)
        if len(n) > 2 and n[2] and hd is not None:
            m = ad > hd
            if ld is not None:
                m = m | (hd < ld)
            gh = where(Tensor._make(_np.asarray(m)), g, z)
        return gx, gl, gh


def clamp(input, min=None, max=None):
    """Limit values to [min, max] (``torch.clamp``); the gradient passes where the input is inside."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    for v in (min, max):
        if v is not None and not isinstance(v, (int, float, Tensor, _np.number)):
            raise TypeError(f"clamp: min/max must be numbers or Tensors, got {type(v).__name__}")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        ops = [v for v in (input, min, max) if v is not None]
        dt = _dt.result_type(*ops)
        if dt.kind == "b" and min is not None and max is not None:
            raise _dt.DtypeNotImplementedError("clamp: not implemented for bool tensors with both bounds")
        input = input if input._data.dtype == dt else cast(input, dt)
        lo = None if min is None else (cast(min, dt) if isinstance(min, Tensor) and min._data.dtype != dt
                                       else min if isinstance(min, Tensor) else Tensor._make(_np.asarray(min, dt)))
        hi = None if max is None else (cast(max, dt) if isinstance(max, Tensor) and max._data.dtype != dt
                                       else max if isinstance(max, Tensor) else Tensor._make(_np.asarray(max, dt)))
        shapes = [v._data.shape for v in (input, lo, hi) if v is not None]
        for s in shapes[1:]:
            _check_broadcast(shapes[0], s, "clamp")
        return _lay(ClampTensor.apply(input, lo, hi), *(v for v in (input, lo, hi) if v is not None))
    k = input._data.dtype.kind
    if k in "iub" and (isinstance(min, float) or isinstance(max, float)):
        input = cast(input, _dt.get_default_dtype())
    elif k == "b":
        if all(v is None or isinstance(v, (bool, _np.bool_)) for v in (min, max)):
            raise _dt.DtypeNotImplementedError("clamp: not implemented for a bool tensor with bool bounds")
        input = cast(input, _dt.int64)
    elif k in "iu":
        min = _dt.checked_scalar(min, input._data.dtype, "clamp") if type(min) is int else min
        max = _dt.checked_scalar(max, input._data.dtype, "clamp") if type(max) is int else max
    return _lay(Clamp.apply(input, min, max), input)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # ties split the gradient evenly; a NaN comparison passes it to both (PyTorch's masks)
        return _minmax_grads(ctx, g, a._data, b._data, _np.less, _np.greater)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a._data, b._data, _np.greater, _np.less)


def _minmax_grads(ctx, g, ad, bd, a_loses, b_loses):
    tie = 0.5 * (ad == bd)
    wa = _np.where(a_loses(ad, bd), 0.0, 1.0) - tie
    wb = _np.where(b_loses(ad, bd), 0.0, 1.0) - tie
    n = ctx.needs_input_grad
    return ((mul(g, Tensor._make(wa.astype(g.dtype))) if n[0] else None),
            (mul(g, Tensor._make(wb.astype(g.dtype))) if n[1] else None))


class FMax(Function):
    """fmax/fmin: NaN is ignored (the other value wins).  The first input gets the whole gradient where it
    wins or ties or the other is NaN, the second input gets it elsewhere (PyTorch's masks)."""

    @staticmethod
    def forward(ctx, a, b, is_max):
        ctx.save_for_backward(a, b)
        ctx.is_max = is_max
        return _np.fmax(a, b) if is_max else _np.fmin(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ad, bd = a._data, b._data
        first = ((ad >= bd) if ctx.is_max else (ad <= bd)) | _np.isnan(bd)
        first = Tensor._make(_np.asarray(first))
        z = zeros_like_g(g)
        n = ctx.needs_input_grad
        return (where(first, g, z) if n[0] else None), (where(first, z, g) if n[1] else None), None


def _both_tensors(a, b, op):
    a, b = _prep(a, b, op)
    if not isinstance(a, Tensor):
        a = Tensor._make(xp.asarray(a, b.dtype))
    if not isinstance(b, Tensor):
        b = Tensor._make(xp.asarray(b, a.dtype))
    return a, b


def maximum(input, other):
    """Elementwise maximum; ties split the gradient evenly."""
    input, other = _both_tensors(input, other, "maximum")
    return _lay(Maximum.apply(input, other), input, other)


def minimum(input, other):
    """Elementwise minimum; ties split the gradient evenly."""
    input, other = _both_tensors(input, other, "minimum")
    return _lay(Minimum.apply(input, other), input, other)


def fmax(input, other):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN), ``torch.fmax``."""
    input, other = _both_tensors(input, other, "fmax")
    return _lay(FMax.apply(input, other, True), input, other)


def fmin(input, other):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN), ``torch.fmin``."""
    input, other = _both_tensors(input, other, "fmin")
    return _lay(FMax.apply(input, other, False), input, other)


class Where(Function):
    @staticmethod
    def forward(ctx, c, a, b):
        ctx.c = c
        return _np.where(c, a, b)

    @staticmethod
    def backward(ctx, g):
        c = Tensor._make(ctx.c)
        z = zeros_like_g(g)
        n = ctx.needs_input_grad
        return None, (where(c, g, z) if n[1] else None), (where(c, z, g) if n[2] else None)


def where(condition, input=None, other=None):
    """Pick ``input`` where ``condition`` holds, else ``other`` (``torch.where``); one-argument form = nonzero."""
    x, y = input, other
    if x is None and y is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    c = condition._data if isinstance(condition, Tensor) else _np.asarray(condition)
    if c.dtype.kind == "f":
        raise RuntimeError(f"where: expected condition to be a bool tensor, got dtype {c.dtype}")
    if c.dtype != _np.bool_:
        c = c.astype(bool)
    x, y = _both_tensors(x, y, "where")
    _check_broadcast(c.shape, _np.broadcast_shapes(x._data.shape, y._data.shape), "where")
    return _lay(Where.apply(c, x, y), Tensor._make(c), x, y)


def full_like_op(x: Tensor, value) -> Tensor:
    return Tensor._make(xp.full(x._data.shape, value, x._data.dtype))


class CopyInto(Function):
    """The value of ``dst.copy_(src)`` / ``dst.fill_(v)`` in a graph: ``src`` (a Tensor or a number) broadcast to
    ``dst``'s shape and cast to its dtype.  ``dst``'s old values get a zero gradient, ``src`` gets ``g``."""

    @staticmethod
    def forward(ctx, a, src):
        return _np.array(_np.broadcast_to(_np.asarray(src, dtype=a.dtype), a.shape))

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (zeros_like_g(g) if n[0] else None), (g if n[1] else None)


def copy_into(dst: Tensor, src) -> Tensor:
    """Out-of-place form of ``dst.copy_(src)`` (used by the in-place ``copy_``/``fill_`` in a graph)."""
    s = src._data.shape if isinstance(src, Tensor) else ()
    try:
        _np.broadcast_shapes(s, dst._data.shape)
        if len(s) > dst._data.ndim or _np.broadcast_shapes(s, dst._data.shape) != dst._data.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"copy_: source of shape {tuple(s)} cannot be broadcast to the destination shape "
                           f"{tuple(dst.shape)}") from None
    return CopyInto.apply(dst, src)


# -- fused helpers used by optimizers and users ----------------------------------------------------------------
def addcmul(input, tensor1, tensor2, value=1):
    """``x + value * t1 * t2`` (``torch.addcmul``); ``value`` never changes the result dtype (integer
    inputs truncate a float ``value``, as PyTorch casts it to their dtype)."""
    value = _cast_value(value, input, tensor1, tensor2)
    if isinstance(input, Tensor) and isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor):
        d = input._data.dtype
        if d.kind == "b" and tensor1._data.dtype.kind == "b" and tensor2._data.dtype.kind == "b":
            raise _dt.DtypeNotImplementedError("addcmul: not implemented for bool tensors")
        if not (tensor1._data.dtype == d and tensor2._data.dtype == d):
            d = _dt.result_type(input, tensor1, tensor2)      # the product is computed in the result dtype (no int8 wrap)
            input, tensor1, tensor2 = (v if v._data.dtype == d else cast(v, d) for v in (input, tensor1, tensor2))
    p = mul(tensor1, tensor2)
    return _lay(add(input, p if value == 1 else mul(p, value)), input, tensor1, tensor2)


def addcdiv(input, tensor1, tensor2, value=1):
    """``x + value * t1 / t2`` (``torch.addcdiv``); integer ``t1`` and ``t2`` together are not supported."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError(f"addcdiv: integer division with addcdiv is not supported (t1 is {tensor1.dtype}, t2 is "
                           f"{tensor2.dtype}); use addcmul(x, t1, 1 / t2) or convert t1/t2 to a floating dtype")
    value = _cast_value(value, input, tensor1, tensor2)
    return _lay(add(input, mul(div(tensor1, tensor2), value)), input, tensor1, tensor2)


def _cast_value(value, *ts):
    if isinstance(value, float) and all(not isinstance(t, Tensor) or t._data.dtype.kind in "iub" for t in ts):
        return int(value)
    return value


class Lerp(Function):
    """``start + weight * (end - start)``, evaluated as PyTorch does (from ``end`` when weight >= 0.5, so
    weight == 1 gives ``end`` exactly)."""

    @staticmethod
    def forward(ctx, s, e, w):
        ctx.save_for_backward(s, e, w if isinstance(w, _np.ndarray) else None)
        ctx.w = w
        d = e - s
        lo = _np.abs(w) < 0.5
        out = _np.where(lo, s + w * d, e - d * (1 - w))
        return _np.asarray(out).astype(_np.result_type(s, e), copy=False)

    @staticmethod
    def backward(ctx, g):
        s, e, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        wv = w if w is not None else ctx.w
        gs = (mul(g, sub(1.0, wv)) if w is not None else mul(g, 1.0 - wv)) if n[0] else None
        ge = mul(g, wv) if n[1] else None
        gw = mul(g, sub(e, s)) if len(n) > 2 and n[2] and w is not None else None
        return gs, ge, gw


def lerp(input, end, weight):
    """Linear interpolation ``start + weight * (end - start)`` (``torch.lerp``); floating tensors of one dtype."""
    if not (isinstance(input, Tensor) and isinstance(end, Tensor)):
        raise TypeError(f"lerp: start and end must be Tensors, got {type(input).__name__} and {type(end).__name__}")
    sd, ed = input._data.dtype, end._data.dtype
    if sd != ed:
        raise RuntimeError(f"lerp: expected dtype {sd} for `end` but got dtype {ed}")
    if sd.kind != "f":
        raise _dt.DtypeNotImplementedError(f"lerp: not implemented for {sd} tensors; it needs a floating dtype")
    shapes = [input._data.shape, end._data.shape]
    if isinstance(weight, Tensor):
        if weight._data.dtype != sd and weight._data.ndim:
            raise RuntimeError(f"lerp: expected dtype {sd} for `weight` but got dtype {weight.dtype}")
        if weight._data.dtype != sd:
            weight = cast(weight, sd)
        shapes.append(weight._data.shape)
    else:
        weight = sd.type(weight)        # a scalar weight is used in the tensors' precision, as PyTorch
    for sh in shapes[1:]:
        _check_broadcast(shapes[0], sh, "lerp")
    return _lay(Lerp.apply(input, end, weight), input, end, *((weight,) if isinstance(weight, Tensor) else ()))


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _np.hypot(a, b)       # scaled internally: no overflow at 1e30 in float32
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (mul(g, div(a, out)) if n[0] else None), (mul(g, div(b, out)) if n[1] else None)


def hypot(input, other):
    """``sqrt(a**2 + b**2)`` without overflow or underflow (``torch.hypot``); floating inputs only."""
    input, other = _both_tensors(input, other, "hypot")
    if input._data.dtype.kind != "f":
        raise _dt.DtypeNotImplementedError(f"hypot: not implemented for {input.dtype} tensors (PyTorch: \"hypot_cpu\" "
                                           f"not implemented); convert to a floating dtype first")
    return _lay(Hypot.apply(input, other), input, other)


def atan2(input, other):
    """Elementwise arctangent of ``a / b`` in the right quadrant; integers give the default float dtype."""
    # an integer operand enters the backward as it was (PyTorch saves the uncast tensor: its square and
    # negation wrap there, in its own dtype)
    orig = tuple(x._data if isinstance(x, Tensor) and x._data.dtype.kind in "iub" else None for x in (input, other))
    input, other = _ints_to_float(input, other)
    input, other = _both_tensors(input, other, "atan2")
    return _lay(_Atan2.apply(input, other, None if orig[0] is None and orig[1] is None else orig), input, other)


class _Atan2(Function):
    @staticmethod
    def forward(ctx, a, b, orig=None):
        ctx.save_for_backward(a, b)
        ctx.orig = orig
        return _np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if ctx.orig is not None:
            oa, ob = ctx.orig
            a = a if oa is None else Tensor._make(oa)
            b = b if ob is None else Tensor._make(ob)
        # d/da atan2(a, b) = b / (a² + b²), d/db = -a / (a² + b²); PyTorch's gradient at (0, 0) is 0
        d = add(mul(a, a), mul(b, b))
        zero = eq(d, 0)
        recip = where(zero, 0.0, reciprocal(where(zero, 1.0, d)))
        n = ctx.needs_input_grad
        ga = mul(mul(g, b), recip) if n[0] else None
        gb = mul(mul(g, neg(a)), recip) if n[1] else None
        return ga, gb, None


# -- comparisons and logic (not differentiable) -----------------------------------------------------------------
def _cmp(npf, name):
    def fn(input, other):
        a2, b2 = _prep(input, other, name)
        return _lay(Tensor._make(npf(_arr(a2), _arr(b2))), a2, b2)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` comparison, returning a bool tensor (``torch.{name}``)."
    return fn


eq = _cmp(_np.equal, "eq")
ne = _cmp(_np.not_equal, "ne")
lt = _cmp(_np.less, "lt")
le = _cmp(_np.less_equal, "le")
gt = _cmp(_np.greater, "gt")
ge = _cmp(_np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bitwise(npf, name):
    def fn(input, other):
        a2, b2 = _prep(input, other, name)
        for v in (a2, b2):
            if isinstance(v, Tensor) and v._data.dtype.kind == "f":
                raise _dt.DtypeNotImplementedError(f"{name}: bitwise ops need bool or integer tensors, got {v.dtype}")
        return _lay(Tensor._make(npf(_arr(a2), _arr(b2))), a2, b2)
    fn.__name__ = name
    return fn


bitwise_and = _bitwise(_np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(_np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(_np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    if input._data.dtype.kind == "f":
        raise _dt.DtypeNotImplementedError(f"bitwise_not (~): needs a bool or integer tensor, got {input.dtype}")
    return Tensor._make(_np.invert(input._data))


def logical_and(input, other):
    return _lay(Tensor._make(_np.logical_and(_arr(input), _arr(other))), input, other)


def logical_or(input, other):
    return _lay(Tensor._make(_np.logical_or(_arr(input), _arr(other))), input, other)


def logical_xor(input, other):
    return _lay(Tensor._make(_np.logical_xor(_arr(input), _arr(other))), input, other)


def logical_not(input):
    return Tensor._make(_np.logical_not(_arr(input)))


def isnan(input):
    return Tensor._make(_np.isnan(input._data))


def isinf(input):
    return Tensor._make(_np.isinf(input._data))


def isfinite(input):
    return Tensor._make(_np.isfinite(input._data))


def _close_operands(a, b, op):
    for v in (a, b):
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}(): expected Tensors, got {type(v).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}(): {a.dtype} did not match {b.dtype} (both tensors need the same dtype)")
    _check_broadcast(a._data.shape, b._data.shape, op)
    return a._data, b._data


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` as a bool tensor (``torch.isclose``)."""
    aa, bb = _close_operands(input, other, "isclose")
    return Tensor._make(_np.asarray(_np.isclose(aa, bb, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element of ``a`` is within ``atol + rtol * |b|`` of ``b`` (``torch.allclose``)."""
    aa, bb = _close_operands(input, other, "allclose")
    return bool(_np.allclose(aa, bb, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when ``a`` and ``b`` have the same shape and elements (``torch.equal``)."""
    for v in (input, other):
        if not isinstance(v, Tensor):
            raise TypeError(f"equal(): expected Tensors, got {type(v).__name__}")
    aa, bb = _arr(input), _arr(other)
    return aa.shape == bb.shape and bool(_np.array_equal(aa, bb))


class NanToNum(Function):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.finite = _np.isfinite(a)
        return _np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        return mul(g, Tensor._make(ctx.finite.astype(g.dtype))), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN / +inf / -inf by finite numbers (``torch.nan_to_num``); the gradient is zero there."""
    if input._data.dtype.kind != "f":
        return input.clone()
    return _lay(NanToNum.apply(input, nan, posinf, neginf), input, 0)


from .._out import write_out as _write_out  # noqa: E402 (out= of add/sub/mul)
