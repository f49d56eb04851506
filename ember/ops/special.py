"""Elementwise special functions and small elementwise utilities PyTorch has at the top level: inverse
hyperbolics, ``erfc``/``erfinv``, ``lgamma``/``digamma``/``polygamma``/``mvlgamma``, ``i0``, ``logit``,
``sinc``, ``xlogy``, ``logaddexp(2)``, ``copysign``, ``heaviside``, ``gcd``/``lcm``, bit shifts, ``ldexp``,
``frexp``, ``nextafter``, ``signbit``, ``isposinf``/``isneginf``/``isreal``, ``angle``, ``positive``, ``rsub``,
``deg2rad``/``rad2deg`` and the NumPy-style ``arc*`` aliases.

SciPy is not a dependency: the gamma-family functions are series/recurrence implementations (float64
accuracy), erfc/lgamma use Python's ``math`` per element.  Integer inputs of the float functions compute in the
default float dtype, as PyTorch.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import math

import numpy as _np
from .. import return_types as _rt

from ..autograd.function import Function, once_differentiable
from ..backend import dtypes as _dt, layout as _layout
from ..backend.device import array_module as _xp_of, as_array as _as_array, like as _like
from ..tensor import Tensor, _to_array
from . import elementwise as E
from .elementwise import _unary


def _t(x, ref=None):
    """``x`` as a Tensor; a number or list becomes one on the device of ``ref`` (a Tensor) when given."""
    if isinstance(x, Tensor):
        return x
    a = _to_array(x, None)
    return Tensor._make(a if not isinstance(ref, Tensor) else _like(a, ref._data))


def _need_tensor(x, op, name="other"):
    """These PyTorch functions take no Python numbers for their second argument."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be Tensor, not {type(x).__name__}")


def _vec(fn, a, pole=None):
    """Apply a scalar ``math`` function elementwise (float64 inside), mapping ValueError (a pole) to ``pole``;
    a device array takes a host fallback (``math`` runs on the CPU)."""
    return E.on_host(_vec_host, a, fn, pole)


def _vec_host(a, fn, pole):
    def safe(v):
        try:
            return fn(v)
        except (ValueError, OverflowError):
            return pole(v) if callable(pole) else _np.nan
    flat = a.astype(_np.float64).reshape(-1)
    out = _np.fromiter((safe(float(v)) for v in flat), _np.float64, len(flat))
    return out.reshape(a.shape).astype(a.dtype, copy=False)


# -- inverse hyperbolics, angles ------------------------------------------------------------------------------
acosh = _unary("Acosh", _np.arccosh, lambda g, x, o: E.div(g, E.sqrt(E.sub(E.mul(x, x), 1.0))))
asinh = _unary("Asinh", _np.arcsinh, lambda g, x, o: E.div(g, E.sqrt(E.add(E.mul(x, x), 1.0))))
atanh = _unary("Atanh", _np.arctanh, lambda g, x, o: E.div(g, E.sub(1.0, E.mul(x, x))))
arccosh, arcsinh, arctanh = acosh, asinh, atanh
arccos, arcsin, arctan, arctan2 = E.acos, E.asin, E.atan, E.atan2
deg2rad = _unary("Deg2rad", lambda a: a * a.dtype.type(math.pi / 180),
                 lambda g, x, o: E.mul(g, math.pi / 180))
rad2deg = _unary("Rad2deg", lambda a: a * a.dtype.type(180 / math.pi),
                 lambda g, x, o: E.mul(g, 180 / math.pi))


def angle(input) -> Tensor:
    """Argument of a real number (``torch.angle``): 0 for x >= 0, pi for x < 0, NaN kept; gradient zero."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        x = E.cast(x, _dt.get_default_dtype())
    return _Angle.apply(x)


class _Angle(Function):
    @staticmethod
    def forward(ctx, a):
        return _np.where(a < 0, a.dtype.type(math.pi), _np.where(_np.isnan(a), a, 0)).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        return E.mul(g, 0.0)


# -- error function, gamma family ----------------------------------------------------------------------------
def _erf64(a):
    return _vec(math.erf, a)


erfc = _unary("Erfc", lambda a: _vec(math.erfc, a),
              lambda g, x, o: E.mul(g, E.mul(E.exp(E.neg(E.mul(x, x))), -2.0 / math.sqrt(math.pi))))


def _erfinv_array(a):
    x = a.astype(_np.float64)
    out = _np.full(x.shape, _np.nan)
    inside = _np.abs(x) < 1
    y = x[inside]
    # initial guess (a rational fit of the inverse), then Newton steps on erf(z) - y
    w = -_np.log((1.0 - y) * (1.0 + y))
    z = _np.where(w < 5.0,
                  _np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                               -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], w - 2.5),
                  _np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], _np.sqrt(_np.maximum(w, 5.0)) - 3.0))
    z = z * y
    for _ in range(3):
        err = _erf64(z) - y
        z = z - err / (2.0 / math.sqrt(math.pi) * _np.exp(-z * z))
    out[inside] = z
    out[x == 1] = _np.inf
    out[x == -1] = -_np.inf
    return out.astype(a.dtype)


erfinv = _unary("Erfinv", lambda a: E.on_host(_erfinv_array, a),      # host fallback: math.erf per element
                lambda g, x, o: E.mul(g, E.mul(E.exp(E.mul(o, o)), math.sqrt(math.pi) / 2)), save="output")


def _lgamma_array(a):
    return _vec(math.lgamma, a, pole=lambda v: _np.inf)


def _digamma_array(a):
    x = a.astype(_np.float64)
    out = _np.empty_like(x)
    res = _np.zeros_like(x)
    # reflection for x < 0.5: psi(x) = psi(1 - x) - pi / tan(pi x)
    neg = x < 0.5
    xr = _np.where(neg, 1.0 - x, x)
    with _np.errstate(divide="ignore", invalid="ignore"):
        # tan has period pi: reduce x by the nearest integer first (exact), so pi * x's rounding near a pole
        # does not cost digits
        refl = _np.where(neg, math.pi / _np.tan(math.pi * (x - _np.round(x))), 0.0)
    # recurrence up to x >= 6, then the asymptotic series
    z = xr.copy()
    for _ in range(10):
        small = z < 10
        res = res - _np.where(small, 1.0 / _np.where(small, z, 1.0), 0.0)
        z = _np.where(small, z + 1, z)
    z2 = 1.0 / (z * z)
    series = _np.log(z) - 0.5 / z - z2 * (1 / 12 - z2 * (1 / 120 - z2 * (1 / 252 - z2 * (1 / 240 - z2 / 132))))
    out = series + res - refl
    out = _np.where(x == 0, _np.copysign(_np.inf, -x), out)             # PyTorch: digamma(+-0) = -+inf
    out = _np.where((x < 0) & (x == _np.floor(x)), _np.nan, out)         # poles at negative integers
    out = _np.where(_np.isposinf(x), _np.inf, out)
    return out.astype(a.dtype)


def _hurwitz_zeta(s, x):
    """zeta(s, x) = sum_k (x + k)^-s for integer s >= 2: shift x past 10, then Euler-Maclaurin."""
    x = x.astype(_np.float64).copy()
    acc = _np.zeros_like(x)
    for _ in range(64):
        small = x < 10
        if not small.any():
            break
        acc = acc + _np.where(small, _np.power(_np.where(small, x, 1.0), -float(s)), 0.0)
        x = _np.where(small, x + 1, x)
    tail = _np.power(x, 1.0 - s) / (s - 1) + 0.5 * _np.power(x, -float(s))
    bern = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
    fact = 1.0
    rising = float(s)                                                     # s (s+1) ... (s + 2j - 2)
    for j, b in enumerate(bern, 1):
        fact *= (2 * j - 1) * (2 * j) if j > 1 else 2
        tail = tail + b / fact * rising * _np.power(x, -float(s) - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return acc + tail


def _polygamma_array(n, a):
    if n == 0:
        return _digamma_array(a)
    x = a.astype(_np.float64)
    if n == 1:
        # trigamma: the reflection psi1(x) = pi^2 / sin(pi x)^2 - psi1(1 - x) below 1/2 (so at the poles, as in
        # PyTorch, the value is pi^2 over sin's rounding error: huge but finite; nan at -inf)
        low = x < 0.5
        with _np.errstate(divide="ignore", invalid="ignore"):
            direct = _hurwitz_zeta(2, _np.where(low, 1.0 - x, x))
            pi = a.dtype.type(math.pi)                                # in the input's precision, as PyTorch
            refl = (pi * pi / _np.sin(pi * a) ** 2).astype(_np.float64)
        out = _np.where(low, refl - direct, direct)
        out = _np.where(_np.isneginf(x), _np.nan, out)
        return out.astype(a.dtype)
    out = (-1) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(n + 1, x)
    pole = ((x <= 0) & (x == _np.floor(x))) | _np.isneginf(x)
    out = _np.where(pole, (-1) ** (n + 1) * _np.inf, out)
    out = _np.where(_np.isposinf(x), _np.nan, out)                     # PyTorch's value at +inf
    return out.astype(a.dtype)


class _Polygamma(Function):
    @staticmethod
    def forward(ctx, a, n):
        ctx.n = n
        ctx.save_for_backward(a)
        return _polygamma_array(n, a)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return E.mul(g, polygamma(ctx.n + 1, x)), None


def _float(x):
    x = _t(x)
    return E.cast(x, _dt.get_default_dtype()) if x._data.dtype.kind != "f" else x


def polygamma(n: int, input) -> Tensor:
    """The n-th derivative of digamma (``torch.polygamma``)."""
    if int(n) < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n}")
    return _Polygamma.apply(_float(input), int(n))


def digamma(input) -> Tensor:
    """Logarithmic derivative of the gamma function (``torch.digamma``; -inf at 0, nan at negative integers)."""
    return _Polygamma.apply(_float(input), 0)


lgamma = _unary("Lgamma", _lgamma_array, lambda g, x, o: E.mul(g, digamma(x)))


def mvlgamma(input, p: int) -> Tensor:
    """Multivariate log-gamma of dimension ``p`` (``torch.mvlgamma``): ``sum_i lgamma(x - i/2)`` plus the
    constant; like PyTorch (2.13) it does not check the domain (a pole gives inf)."""
    if _t(input)._data.dtype == _np.bool_:
        raise RuntimeError("mvlgamma: The input tensor may not be a boolean tensor.")
    x = _float(input)
    if p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    out = E.mul(E.add(E.mul(x, 0.0), 1.0), p * (p - 1) / 4 * math.log(math.pi))
    for i in range(p):
        out = E.add(out, lgamma(E.sub(x, i / 2)))
    return out


def _i0_array(a, order=0):
    """I_0(a) (or I_1 with ``order=1``), in ``a``'s dtype: the power series and asymptotic expansion of
    ``ember._special_kernels.bessel_i`` (shared with ``ember.special``)."""
    from .._special_kernels import bessel_i
    return bessel_i(a, order, False).astype(a.dtype)


class _I0(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _i0_array(a)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return Tensor._make(g._data * _i0_array(x._data, 1))


def i0(input) -> Tensor:
    """Modified Bessel function of the first kind, order 0 (``torch.i0``)."""
    return _I0.apply(_float(input))


# -- small float functions -----------------------------------------------------------------------------------
class _Logit(Function):
    @staticmethod
    def forward(ctx, a, eps):
        z = a if eps is None else _np.clip(a, eps, 1 - eps)
        ctx.eps = eps
        ctx.save_for_backward(a)
        return _np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        den = E.mul(x, E.sub(1.0, x))
        gx = E.div(g, E.where(E.eq(x, 0), 0.0, den))          # +0 at x = -0.0 too: +-inf by g's sign only
        if ctx.eps is not None:       # zero outside [eps, 1 - eps] (the clamp), as PyTorch
            inside = E.logical_and(E.ge(x, ctx.eps), E.le(x, 1 - ctx.eps))
            gx = E.where(inside, gx, 0.0)
        else:                         # nan outside the domain [0, 1]
            gx = E.where(E.logical_or(E.lt(x, 0), E.gt(x, 1)), float("nan"), gx)
        return gx, None


def logit(input, eps=None) -> Tensor:
    """``log(p / (1 - p))`` (``torch.logit``); with ``eps``, p is clamped to [eps, 1 - eps] first."""
    return _Logit.apply(_float(input), None if eps is None else float(eps))


def _sinc_array(a):
    with _np.errstate(invalid="ignore", divide="ignore"):
        px = a * a.dtype.type(math.pi)
        out = _np.sin(px) / px
    return _np.where(a == 0, a.dtype.type(1), out).astype(a.dtype)


def _sinc_grad(g, x, o):
    # PyTorch's sinc_backward, step by step (near 0 its float32 cancellation gives its numbers, which ours match):
    # g * ((pi x cos(pi x) - sin(pi x)) / (pi x^2)), and 0 where pi x^2 is 0 (x = 0, or x^2 underflowing)
    px = E.mul(x, math.pi)
    sq = E.mul(E.mul(x, x), math.pi)
    out = E.mul(g, E.div(E.sub(E.mul(px, E.cos(px)), E.sin(px)), sq))
    return E.where(E.eq(sq, 0), 0.0, out)


sinc = _unary("Sinc", _sinc_array, _sinc_grad)


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (unless other is NaN) (``torch.xlogy``)."""
    scalar_other = not isinstance(other, Tensor)
    a, b = E._ints_to_float(input, other)
    a, b = E._both_tensors(a, b, "xlogy")
    # the backward's "input == 0" mask reads the input as given, before its cast to the result dtype (a float32
    # 7e-36 cast to float16 is 0, but PyTorch's gradient there is log(other), not 0)
    given = input._data if isinstance(input, Tensor) and input._data.dtype != a._data.dtype else None
    return _XLogY.apply(a, b, scalar_other, given)


class _XLogY(Function):
    @staticmethod
    def forward(ctx, a, b, scalar_other=False, given=None):
        ctx.save_for_backward(a, b)
        ctx.scalar_other = scalar_other
        ctx.given = given
        with _np.errstate(divide="ignore", invalid="ignore"):
            out = a * _np.log(b)
        return _np.where((a == 0) & ~_np.isnan(b), out.dtype.type(0), out)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # d/dx = log(y), zeroed where x == 0 and y <= 0 (PyTorch's rule); with a number for y (PyTorch's
        # xlogy.Scalar_Other) also where x == 0 and y is NaN
        a0 = a if ctx.given is None else Tensor._make(ctx.given)
        zero = E.logical_and(E.eq(a0, 0), E.logical_or(E.le(b, 0), E.isnan(b)) if ctx.scalar_other else E.le(b, 0))
        ga = E.where(zero, 0.0, xlogy(g, b)) if ctx.needs_input_grad[0] else None
        gb = E.div(E.mul(g, a), b) if ctx.needs_input_grad[1] else None    # PyTorch's grad * self / other
        return ga, gb, None, None


class _LogAddExp(Function):
    @staticmethod
    def forward(ctx, a, b, base2):
        out = _np.logaddexp2(a, b) if base2 else _np.logaddexp(a, b)
        ctx.base2 = base2
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        # PyTorch's formulas, g / (1 + e^(b - a)) and g / (1 + e^(a - b)): finite where one side is infinite
        f = (lambda t: E.pow(2.0, t)) if ctx.base2 else E.exp
        return E.div(g, E.add(f(E.sub(b, a)), 1)), E.div(g, E.add(f(E.sub(a, b)), 1)), None


def _logaddexp(a, b, base2, op):
    _need_tensor(b, op)
    a, b = E._both_tensors(a, b, op)
    if a._data.dtype.kind != "f":
        raise _dt.DtypeNotImplementedError(f'"{op}_cpu" not implemented for \'{str(a.dtype)}\'')
    return _LogAddExp.apply(a, b, base2)


def logaddexp(input, other) -> Tensor:
    """``log(exp(a) + exp(b))`` computed stably (``torch.logaddexp``); floating inputs only."""
    return _logaddexp(input, other, False, "logaddexp")


def logaddexp2(input, other) -> Tensor:
    """``log2(2**a + 2**b)`` computed stably (``torch.logaddexp2``)."""
    return _logaddexp(input, other, True, "logaddexp2")


class _CopySign(Function):
    @staticmethod
    def forward(ctx, a, b, given=None):
        out = _np.copysign(a, b)
        ctx.save_for_backward(a, out)
        ctx.given_nz = None if given is None else given != 0
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        # d/da |a| sgn(b) = out / a, taken as 0 where a == 0 (PyTorch's rule); no gradient for the sign source.
        # PyTorch tests a == 0 on the input as given and divides by it in the result dtype: a float64 1e-300
        # with a float16 tensor gives 0 / 0 = nan
        nz = E.ne(a, 0) if ctx.given_nz is None else Tensor._make(ctx.given_nz)
        return (E.mul(g, E.where(nz, E.div(out, E.where(nz, a, 1.0)), 0.0)),
                E.mul(g, 0.0) if ctx.needs_input_grad[1] else None, None)


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign bit of ``other`` (``torch.copysign``); integers give floats."""
    a, b = E._ints_to_float(input, other)
    a, b = E._both_tensors(a, b, "copysign")
    given = None
    if isinstance(input, Tensor) and input._data.dtype.kind == "f" and input._data.dtype != a._data.dtype:
        given = input._data          # a float input cast to the result dtype: its zeros decide the gradient's mask
    # PyTorch's strides: its iterator lays the result out from the operands after their cast to float
    return E._lay(_CopySign.apply(a, b, given), a, b)


def ldexp(input, other) -> Tensor:
    """``input * 2**other`` (``torch.ldexp``), in the promoted floating dtype."""
    _need_tensor(other, "ldexp")
    a, b = _t(input), other
    if a._data.dtype.kind == "f" and b._data.dtype == _np.bool_:
        raise _dt.DtypeNotImplementedError('"ldexp_cpu_exp" not implemented for \'Bool\'')
    dt = _dt.result_type(a, b)
    dt = dt if dt.kind == "f" else _dt.get_default_dtype()
    a, b = E.cast(a, dt) if a._data.dtype != dt else a, E.cast(b, dt) if b._data.dtype != dt else b
    return E.mul(a, E.pow(2.0, b))


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent`` (``torch.frexp``; exponent int32)."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes, got {x.dtype}")
    e = Tensor._make(_np.frexp(x._data)[1].astype(_np.int32))
    return _FrexpResult(_Frexp.apply(x), e)


_FrexpResult = _rt.frexp


class _Frexp(Function):
    @staticmethod
    def forward(ctx, a):
        m, e = _np.frexp(a)
        # PyTorch: grad / exponent.exp2(), the int32 exponent's exp2 in float32 (0 below 2**-149, so a float64
        # input's tiny values get an infinite gradient; 2**-132 stays a float32 subnormal)
        with _np.errstate(over="ignore", under="ignore"):
            ctx.pow2 = _np.ldexp(_np.float32(1), e)
        return m

    @staticmethod
    def backward(ctx, g):
        r = E.div(g, Tensor._make(ctx.pow2))
        return E.cast(r, g.dtype) if r.dtype != g.dtype else r


def nextafter(input, other) -> Tensor:
    """The next representable float after ``input`` towards ``other`` (``torch.nextafter``)."""
    _need_tensor(other, "nextafter")
    a, b = E._both_tensors(_t(input), other, "nextafter")
    if a._data.dtype.kind != "f":
        raise _dt.DtypeNotImplementedError(f'"nextafter_cpu" not implemented for \'{a.dtype}\'')
    # PyTorch's strides: its iterator lays the result out from the operands after their cast (as copysign)
    return E._lay(_NextAfter.apply(a, b), a, b)


class _NextAfter(Function):
    """The gradient passes to ``input`` unchanged (a step of one ulp), none to ``other`` (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, b):
        return _np.nextafter(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, None


# -- integer and bit functions -------------------------------------------------------------------------------
def _int_pair(a, b, op):
    _need_tensor(b, op)
    a, b = E._both_tensors(_t(a, b), b, op)
    if a._data.dtype.kind not in "iu":
        raise _dt.DtypeNotImplementedError(f'"{op}_cpu" not implemented for \'{a.dtype}\'')
    return a, b


def gcd(input, other) -> Tensor:
    """Greatest common divisor, elementwise, of integer tensors (``torch.gcd``)."""
    a, b = _int_pair(input, other, "gcd")
    return Tensor._make(_np.gcd(a._data, b._data))


def lcm(input, other) -> Tensor:
    """Least common multiple, elementwise, of integer tensors (``torch.lcm``)."""
    a, b = _int_pair(input, other, "lcm")
    return Tensor._make(_np.lcm(a._data, b._data))


def _shift(a, b, left, op):
    a, b = E._both_tensors(_t(a, b), b, op)
    if a._data.dtype.kind not in "iu":
        raise _dt.DtypeNotImplementedError(f'"{op}_cpu" not implemented for \'{a.dtype}\'')
    x, s = a._data, b._data.astype(_np.int64)
    bits = x.dtype.itemsize * 8
    big = (s >= bits) | (s < 0)
    sc = _np.where(big, 0, s).astype(x.dtype)
    if left:
        out = _np.where(big, x.dtype.type(0), _np.left_shift(x, sc))
    else:
        fill = _np.where(x < 0, x.dtype.type(-1), x.dtype.type(0)) if x.dtype.kind == "i" else 0
        out = _np.where(big, fill, _np.right_shift(x, sc))
    return Tensor._make(_as_array(out, x.dtype))


def bitwise_left_shift(input, other) -> Tensor:
    """``input << other`` (``torch.bitwise_left_shift``); shifts past the width give 0."""
    return _shift(input, other, True, "lshift")


def bitwise_right_shift(input, other) -> Tensor:
    """``input >> other`` (arithmetic for signed types) (``torch.bitwise_right_shift``)."""
    return _shift(input, other, False, "rshift")


# -- predicates and trivial ops ------------------------------------------------------------------------------
def signbit(input) -> Tensor:
    """True where the sign bit is set (negative numbers and -0.0) (``torch.signbit``)."""
    x = _t(input)
    return Tensor._make(_np.signbit(x._data) if x._data.dtype.kind != "b" else _xp_of(x._data).zeros(x._data.shape, bool))


def isposinf(input) -> Tensor:
    """True where the element is +inf (``torch.isposinf``)."""
    x = _t(input)
    return Tensor._make(_np.isposinf(x._data) if x._data.dtype.kind == "f" else _xp_of(x._data).zeros(x._data.shape, bool))


def isneginf(input) -> Tensor:
    """True where the element is -inf (``torch.isneginf``)."""
    x = _t(input)
    return Tensor._make(_np.isneginf(x._data) if x._data.dtype.kind == "f" else _xp_of(x._data).zeros(x._data.shape, bool))


def isreal(input) -> Tensor:
    """True everywhere for real dtypes (``torch.isreal``)."""
    x = _t(input)
    return Tensor._make(_xp_of(x._data).ones(x._data.shape, bool))


def positive(input) -> Tensor:
    """The input itself (``torch.positive``); bool tensors are rejected as in PyTorch."""
    x = _t(input)
    if x._data.dtype == _np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


def heaviside(input, values) -> Tensor:
    """Step function: 0 for x < 0, ``values`` at 0, 1 for x > 0 (``torch.heaviside``); both operands need the
    same dtype."""
    _need_tensor(values, "heaviside", "values")
    x, v = _t(input, values), values
    if x._data.dtype != v._data.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({x.dtype} and "
                           f"{v.dtype})")
    a, b = _np.broadcast_arrays(x._data, v._data)
    out = _as_array(_np.where(a == 0, b, (a > 0).astype(a.dtype)), a.dtype)   # NaN compares false: 0
    if x.requires_grad or v.requires_grad:          # PyTorch: requires grad, derivative not implemented
        from .algorithms import _NoGrad
        return _NoGrad.apply(x if x.requires_grad else v, out, "heaviside")
    return Tensor._make(out)


@_named(lambda input, other, **k: "RsubBackward0" if hasattr(other, "grad_fn") else "RsubBackward1")
def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (``torch.rsub``)."""
    x = _t(input)
    return E.sub(other if isinstance(other, Tensor) else other, E.mul(x, alpha) if alpha != 1 else x)


__all__ = ["acosh", "asinh", "atanh", "arccosh", "arcsinh", "arctanh", "arccos", "arcsin", "arctan", "arctan2",
           "deg2rad", "rad2deg", "angle", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "mvlgamma", "i0",
           "logit", "sinc", "xlogy", "logaddexp", "logaddexp2", "copysign", "ldexp", "frexp", "nextafter", "gcd",
           "lcm", "bitwise_left_shift", "bitwise_right_shift", "signbit", "isposinf", "isneginf", "isreal",
           "positive", "heaviside", "rsub"]


def _follow_inputs(fn):
    """Give ``fn``'s element-wise result PyTorch's layout: the stride order of its tensor inputs (a permuted
    input gives a permuted result), as TensorIterator does (``elementwise._lay``)."""
    import functools

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        r = fn(*args, **kwargs)
        ts = [a for a in args if isinstance(a, Tensor)]
        if isinstance(r, Tensor) and ts and r._data.ndim > 0 and all(r is not t for t in ts):
            E._lay(r, *(_after_cast(t, r) if len(ts) > 1 else t for t in ts))
        return r
    return wrapped


def _after_cast(t, r):
    """What PyTorch's iterator sees of operand ``t`` once it is cast to the result's dtype ``r.dtype``: the
    cast (``Tensor.to``, preserve_format) keeps a dense operand's strides but lays an expanded or gapped one
    out densely, so such an operand stops deciding the result's strides.  Only the strides matter here, so
    the stand-in is a small uint8 array."""
    d = t._data
    if d.dtype == r._data.dtype or d.ndim < 2 or _layout._dense(d.shape, _layout.elem_strides(d)):
        return t
    return Tensor._make(_layout.preserve(_np.empty(d.shape, _np.uint8), d))


# (not ldexp: PyTorch computes it as x * 2 ** e, whose scalar-base power is C-contiguous; not copysign and
# nextafter: they lay themselves out from their operands after their cast, as PyTorch's iterator does)
for _name in ("erfc", "erfinv", "lgamma", "digamma", "i0", "signbit", "isposinf", "isneginf", "isreal", "xlogy",
              "logaddexp", "logaddexp2", "heaviside", "gcd", "lcm", "bitwise_left_shift",
              "bitwise_right_shift", "polygamma"):
    globals()[_name] = _follow_inputs(globals()[_name])
