"""``ember.special``: PyTorch's ``torch.special`` namespace.

    import ember
    ember.special.expit(x)                 # sigmoid
    ember.special.log_ndtr(x)              # log of the normal CDF, stable far in the lower tail
    ember.special.xlog1py(p, q)            # p * log1p(q), 0 where p == 0

The aliases (``expit``, ``erf``, ``gammaln``, ``psi``, ``multigammaln``, ``softmax``...) call ember's own ops;
the functions ember had not got (``ndtr``, ``log_ndtr``, ``ndtri``, ``entr``, ``erfcx``, ``i0e``, ``i1``,
``i1e``, ``xlog1py``, ``zeta``, ``gammainc``, ``gammaincc``) compute in float64 (``ember/_special_kernels.py``)
and return the input's dtype.  Each is differentiable where PyTorch's is, with PyTorch's gradient formulas;
``zeta`` w.r.t. its first argument and ``gammainc``/``gammaincc`` w.r.t. ``input`` raise PyTorch's
NotImplementedError when backward reaches them.  Every function but ``softmax``/``log_softmax`` takes ``out=``.

The orthogonal polynomials (Chebyshev, Hermite, Laguerre, Legendre) are in ``ember/_special_poly.py``; the Airy
function ``airy_ai`` and the Bessel functions ``bessel_j0/j1/y0/y1`` in ``ember/_special_bessel.py``, computed
in the input's dtype as PyTorch's (values only, no gradient, as PyTorch).
"""
from __future__ import annotations

import math as _math

import numpy as _np

from . import _special_bessel as _BK
from . import _special_kernels as _K
from .autograd.function import Function as _Function
from .backend import dtypes as _dt
from .ops import elementwise as _E
from .ops import reduce as _R
from .ops import special as _S
from .ops._elementwise_unary import _unary
from .tensor import Tensor as _Tensor

__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "multigammaln",
           "ndtr", "ndtri", "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "sinc", "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]

# torch.special's names that ember does not implement (the module __getattr__ below names them in its error);
# none at present
_NOT_IMPLEMENTED = frozenset()


def __getattr__(name):
    if name in _NOT_IMPLEMENTED:
        raise AttributeError(f"ember.special.{name} is not implemented (torch.special.{name} has no ember "
                             f"counterpart yet; the implemented functions are listed in ember.special.__all__)")
    raise AttributeError(f"module 'ember.special' has no attribute '{name}'")


def __dir__():
    return sorted(__all__)


# -- aliases of ember's ops -------------------------------------------------------------------------------------
def _alias(fn, name, doc):
    def f(input):
        return fn(input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


expit = _alias(_E.sigmoid, "expit", "The logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.special.expit``).")
erf = _alias(_E.erf, "erf", "The error function (``torch.special.erf``).")
erfc = _alias(_S.erfc, "erfc", "``1 - erf(x)`` without cancellation (``torch.special.erfc``).")
erfinv = _alias(_S.erfinv, "erfinv", "The inverse error function (``torch.special.erfinv``).")
exp2 = _alias(_E.exp2, "exp2", "``2 ** x`` (``torch.special.exp2``).")
expm1 = _alias(_E.expm1, "expm1", "``exp(x) - 1`` accurate near 0 (``torch.special.expm1``).")
log1p = _alias(_E.log1p, "log1p", "``log(1 + x)`` accurate near 0 (``torch.special.log1p``).")
gammaln = _alias(_S.lgamma, "gammaln", "``log |Gamma(x)|`` (``torch.special.gammaln``).")
digamma = _alias(_S.digamma, "digamma", "The logarithmic derivative of Gamma (``torch.special.digamma``).")
psi = _alias(_S.digamma, "psi", "Alias of ``digamma`` (``torch.special.psi``).")
i0 = _alias(_S.i0, "i0", "The modified Bessel function of the first kind, order 0 (``torch.special.i0``).")
sinc = _alias(_S.sinc, "sinc", "The normalized sinc ``sin(pi x) / (pi x)``, 1 at 0 (``torch.special.sinc``).")


def round(input, *, decimals=0):           # noqa: A001 - PyTorch's name
    """Round half to even (``torch.special.round``, an alias of ``torch.round`` that, unlike it, refuses integer
    tensors as PyTorch's does)."""
    if isinstance(input, _Tensor) and input._data.dtype.kind in "iu":
        _refuse(input._data.dtype, "round_vml_cpu")
    return _E.round(input, decimals)


def logit(input, eps=None):
    """``log(p / (1 - p))``, p clamped to [eps, 1 - eps] when ``eps`` is given (``torch.special.logit``)."""
    return _S.logit(input, eps)


def polygamma(n, input):
    """The n-th derivative of digamma (``torch.special.polygamma``)."""
    return _S.polygamma(n, input)


def multigammaln(input, p):
    """The multivariate log-gamma function of dimension ``p`` (``torch.special.multigammaln``)."""
    return _S.mvlgamma(input, p)


def xlogy(input, other):
    """``input * log(other)``, 0 where input is 0 (``torch.special.xlogy``)."""
    return _S.xlogy(input, other)


def softmax(input, dim, *, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``torch.special.softmax``)."""
    return _R.softmax(input, dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably (``torch.special.log_softmax``)."""
    return _R.log_softmax(input, dim, dtype)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably (``torch.special.logsumexp``)."""
    return _R.logsumexp(input, dim, keepdim)


# -- new unary functions ----------------------------------------------------------------------------------------
_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def _refuse(dtype, kernel):
    raise _dt.DtypeNotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_NAMES.get(str(dtype), dtype)}\'')


def _no_half(fn, kernel):
    """PyTorch's CPU kernel of ``fn`` has no float16 version: a float16 tensor raises (even an empty one)."""
    def wrapped(input):
        if isinstance(input, _Tensor) and input._data.dtype == _np.float16:
            _refuse(input._data.dtype, kernel)
        return fn(input)
    wrapped.__name__ = wrapped.__qualname__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _in_dtype(kernel):
    """An array forward from a float64 kernel: the input's dtype back, a host fallback for device arrays."""
    def host(a):
        with _np.errstate(all="ignore"):
            return kernel(a.astype(_np.float64)).astype(a.dtype, copy=False)
    return lambda a: _E.on_host(host, a)


def _new_unary(name, kernel, grad, save, doc, half=True):
    f = _unary(name, kernel, grad, save=save, doc=doc)

    def fn(input):
        return _E._lay(f(input), input)          # PyTorch's strides: the input's layout
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn if half else _no_half(fn, f"{name}_cpu")


def _entr_array(a):
    with _np.errstate(divide="ignore", invalid="ignore"):
        out = -a * _np.log(a)
    out = _np.where(a == 0, a.dtype.type(0), out)
    return _np.where(a < 0, a.dtype.type(-_np.inf), out).astype(a.dtype, copy=False)


_SQRT_2PI = _math.sqrt(2.0 * _math.pi)

entr = _new_unary("entr", _entr_array, lambda g, x, o: _E.mul(g, _E.neg(_E.add(_E.log(x), 1.0))), "input",
                  "Elementwise entropy ``-x log x`` (0 at 0, -inf for x < 0) (``torch.special.entr``).")
erfcx = _new_unary("erfcx", _in_dtype(_K.erfcx),
                   lambda g, x, o: _E.mul(g, _E.sub(_E.mul(_E.mul(x, o), 2.0), 2.0 / _math.sqrt(_math.pi))),
                   "both", "The scaled complementary error function ``exp(x^2) erfc(x)``, finite for large x "
                           "(``torch.special.erfcx``).", half=False)
ndtr = _new_unary("ndtr", lambda a: _E.on_host(lambda h: _K.ndtr(h, h.dtype), a),
                  lambda g, x, o: _E.mul(g, _E.div(_E.exp(_E.mul(_E.mul(x, x), -0.5)), _SQRT_2PI)), "input",
                  "The standard normal CDF ``(1 + erf(x / sqrt 2)) / 2``, computed as PyTorch does "
                  "(``torch.special.ndtr``).")
log_ndtr = _new_unary("log_ndtr", _in_dtype(_K.log_ndtr),
                      lambda g, x, o: _E.mul(_E.div(g, _SQRT_2PI),
                                             _E.exp(_E.neg(_E.add(o, _E.div(_E.mul(x, x), 2.0))))),
                      "both", "The log of the standard normal CDF, accurate far in the lower tail "
                              "(``torch.special.log_ndtr``).", half=False)
ndtri = _new_unary("ndtri", _in_dtype(_K.ndtri),
                   lambda g, x, o: _E.mul(_E.mul(g, _SQRT_2PI), _E.exp(_E.div(_E.mul(o, o), 2.0))), "output",
                   "The inverse of the standard normal CDF (``torch.special.ndtri``).", half=False)


def _sgn(x):
    return _E.sign(x)


def _i1_grad(scaled):
    def grad(g, x, o):
        eps = float(_np.finfo(x._data.dtype).eps)
        big = _E.gt(_E.abs(x), eps)
        safe = _E.where(big, x, eps)
        if scaled:
            d = _E.sub(i0e(safe), _E.mul(o, _E.add(_sgn(safe), _E.reciprocal(safe))))
        else:
            d = _E.sub(_S.i0(safe), _E.mul(o, _E.reciprocal(safe)))
        return _E.mul(g, _E.where(big, d, 0.5))
    return grad


i0e = _new_unary("i0e", _in_dtype(lambda a: _K.bessel_i(a, 0, True)),
                 lambda g, x, o: _E.mul(g, _E.sub(i1e(x), _E.mul(_sgn(x), o))), "both",
                 "The exponentially scaled Bessel function ``exp(-|x|) I0(x)`` (``torch.special.i0e``).")
i1 = _new_unary("i1", _in_dtype(lambda a: _K.bessel_i(a, 1, False)), _i1_grad(False), "both",
                "The modified Bessel function of the first kind, order 1 (``torch.special.i1``).")
i1e = _new_unary("i1e", _in_dtype(lambda a: _K.bessel_i(a, 1, True)), _i1_grad(True), "both",
                 "The exponentially scaled Bessel function ``exp(-|x|) I1(x)`` (``torch.special.i1e``).")


# -- value-only functions (PyTorch defines no derivative: the result never requires grad) -----------------------
def _values_only(name, kernel, doc, native=False):
    """``native``: the kernel computes in the input's own dtype (float32 or float64) rather than in float64."""
    forward = (lambda a: _E.on_host(kernel, a)) if native else _in_dtype(kernel)

    def fn(input):
        x = input if isinstance(input, _Tensor) else _Tensor._make(_np.asarray(input))
        if x._data.dtype.kind != "f":
            x = _E.cast(x, _dt.get_default_dtype())
        return _E._lay(_Tensor._make(forward(x._data)), x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return _no_half(fn, f"{name}_cpu")


def _spherical_j0_array(x):
    small = _np.abs(x) < 0.5
    x2 = x * x
    series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0 * (1.0 - x2 / 110.0))))
    out = _np.where(small, series, _np.sin(x) / _np.where(small, 1.0, x))
    return _np.where(_np.isinf(x), 0.0, out)


modified_bessel_i0 = _values_only(
    "modified_bessel_i0", lambda a: _K.bessel_i(a, 0, False),
    "The modified Bessel function of the first kind, order 0 (``torch.special.modified_bessel_i0``; as ``i0``, "
    "but without a gradient, as PyTorch).")
modified_bessel_i1 = _values_only(
    "modified_bessel_i1", lambda a: _K.bessel_i(a, 1, False),
    "The modified Bessel function of the first kind, order 1 (``torch.special.modified_bessel_i1``; as ``i1``, "
    "but without a gradient, as PyTorch).")
modified_bessel_k0 = _values_only(
    "modified_bessel_k0", lambda a: _K.bessel_k(a, 0, False),
    "The modified Bessel function of the second kind, order 0 (``torch.special.modified_bessel_k0``; no "
    "gradient, as PyTorch).")
modified_bessel_k1 = _values_only(
    "modified_bessel_k1", lambda a: _K.bessel_k(a, 1, False),
    "The modified Bessel function of the second kind, order 1 (``torch.special.modified_bessel_k1``; no "
    "gradient, as PyTorch).")
scaled_modified_bessel_k0 = _values_only(
    "scaled_modified_bessel_k0", lambda a: _K.bessel_k(a, 0, True),
    "``exp(x) K0(x)`` (``torch.special.scaled_modified_bessel_k0``; no gradient, as PyTorch).")
scaled_modified_bessel_k1 = _values_only(
    "scaled_modified_bessel_k1", lambda a: _K.bessel_k(a, 1, True),
    "``exp(x) K1(x)`` (``torch.special.scaled_modified_bessel_k1``; no gradient, as PyTorch).")
spherical_bessel_j0 = _values_only(
    "spherical_bessel_j0", _spherical_j0_array,
    "The spherical Bessel function of the first kind, order 0: ``sin(x) / x`` (1 at 0, 0 at +-inf) "
    "(``torch.special.spherical_bessel_j0``; no gradient, as PyTorch).")
airy_ai = _values_only(
    "airy_ai", _BK.airy_ai,
    "The Airy function Ai (``torch.special.airy_ai``; NaN at +-inf, 0 above 103.892; no gradient, as PyTorch).",
    native=True)
bessel_j0 = _values_only(
    "bessel_j0", _BK.bessel_j0,
    "The Bessel function of the first kind, order 0 (``torch.special.bessel_j0``; no gradient, as PyTorch).",
    native=True)
bessel_j1 = _values_only(
    "bessel_j1", _BK.bessel_j1,
    "The Bessel function of the first kind, order 1 (``torch.special.bessel_j1``; no gradient, as PyTorch).",
    native=True)
bessel_y0 = _values_only(
    "bessel_y0", _BK.bessel_y0,
    "The Bessel function of the second kind, order 0 (``torch.special.bessel_y0``; -inf at 0, NaN below; no "
    "gradient, as PyTorch).", native=True)
bessel_y1 = _values_only(
    "bessel_y1", _BK.bessel_y1,
    "The Bessel function of the second kind, order 1 (``torch.special.bessel_y1``; -inf at 0, NaN below; no "
    "gradient, as PyTorch).", native=True)


# -- new binary functions ---------------------------------------------------------------------------------------
def _binary(a, b, op):
    a, b = _E._ints_to_float(a, b)
    a, b = _E._both_tensors(a, b, op)
    if a._data.dtype.kind != "f":
        a, b = _E.cast(a, _dt.get_default_dtype()), _E.cast(b, _dt.get_default_dtype())
    return a, b


def _binary_array(kernel, a, b):
    def host(x, y):
        dt = _np.result_type(x, y)
        with _np.errstate(all="ignore"):
            return _np.asarray(kernel(x.astype(_np.float64), y.astype(_np.float64))).astype(dt, copy=False)
    if type(a) is _np.ndarray and type(b) is _np.ndarray:
        return host(a, b)
    from .backend.device import like
    from .backend.device import to_device
    return like(host(to_device(a, "cpu"), to_device(b, "cpu")), a)


def _not_implemented(what):
    raise NotImplementedError(f"the derivative for '{what}' is not implemented.")


class _XLog1Py(_Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _np.errstate(divide="ignore", invalid="ignore"):
            out = a * _np.log1p(b)
        return _np.where((a == 0) & ~_np.isnan(b), out.dtype.type(0), out)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:            # PyTorch: xlog1py(grad, other), 0 where self == 0 and other <= -1
            ga = _E.where(_E.logical_and(_E.eq(a, 0), _E.le(b, -1)), 0.0, xlog1py(g, b))
        if ctx.needs_input_grad[1]:
            gb = _E.div(_E.mul(g, a), _E.add(b, 1.0))
        return ga, gb


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where input is 0 (unless other is NaN) (``torch.special.xlog1py``)."""
    a, b = _binary(input, other, "xlog1py")
    return _E._lay(_XLog1Py.apply(a, b), a, b)


class _Zeta(_Function):
    @staticmethod
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        return _binary_array(_K.zeta, s, q)

    @staticmethod
    def backward(ctx, g):
        s, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            _not_implemented("zeta")
        return None, _E.mul(g, _E.mul(_E.neg(s), zeta(_E.add(s, 1.0), q)))


def zeta(input, other):
    """The Hurwitz zeta function ``sum_k (other + k) ** -input`` (``torch.special.zeta``); differentiable in
    ``other`` only, as PyTorch."""
    s, q = _binary(input, other, "zeta")
    if s._data.dtype == _np.float16:
        _refuse(s._data.dtype, "zeta_cpu")
    return _E._lay(_Zeta.apply(s, q), s, q)


class _GammaInc(_Function):
    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        return _binary_array(lambda u, v: _K.gammainc(u, v, upper), a, x)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            _not_implemented("igammac: input" if ctx.upper else "igamma: input")
        # PyTorch: grad * exp((a - 1) * log(x) - x - lgamma(a)), negated for the upper function
        d = _E.exp(_E.sub(_E.sub(_E.mul(_E.sub(a, 1.0), _E.log(x)), x), _S.lgamma(a)))
        return None, _E.mul(g, _E.neg(d) if ctx.upper else d), None


def _gammainc(input, other, upper):
    op = "gammaincc" if upper else "gammainc"
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, _Tensor):
            raise TypeError(f"special_{op}(): argument '{name}' must be Tensor, not {type(v).__name__}")
    dt = _dt.result_type(input, other)
    if dt.kind != "f":                     # PyTorch does not promote integers here
        _refuse(dt, "igammac_cpu" if upper else "igamma_cpu")
    a, x = _binary(input, other, op)
    return _E._lay(_GammaInc.apply(a, x, upper), a, x)


def gammainc(input, other):
    """The regularized lower incomplete gamma function P(input, other) (``torch.special.gammainc``);
    differentiable in ``other`` only, as PyTorch."""
    return _gammainc(input, other, False)


def gammaincc(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P (``torch.special.gammaincc``);
    differentiable in ``other`` only, as PyTorch."""
    return _gammainc(input, other, True)


# -- orthogonal polynomials (values only, as PyTorch) -----------------------------------------------------------
def _polynomial(name):
    from . import _special_poly

    def fn(input, n):
        x, m = _binary(input, n, name)
        if x._data.dtype == _np.float16:
            _refuse(x._data.dtype, f"{name}_cpu")

        def host(a, b):
            with _np.errstate(all="ignore"):
                a, b = _np.broadcast_arrays(a.astype(_np.float64), b.astype(_np.float64))
                deg = _np.where(_np.isfinite(b), _np.trunc(b), -1.0).astype(_np.int64)      # n is truncated
                return _special_poly.KERNELS[name](a, deg)
        out = _binary_array(lambda a, b: host(a, b), x._data, m._data)
        return _E._lay(_Tensor._make(out), x, m)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.special.{name}(input, n)``: the polynomial of degree ``n`` (truncated to an integer; "
                  f"0 for n < 0) at ``input``; no gradient, as PyTorch.")
    return fn


for _name in ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
              "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
              "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
              "laguerre_polynomial_l", "legendre_polynomial_p"):
    globals()[_name] = _polynomial(_name)
    __all__.append(_name)
del _name


def _install_out():
    from ._out import install
    install(globals(), " ".join(n for n in __all__ if n not in ("softmax", "log_softmax")))
    for n in __all__:
        globals()[n].__module__ = __name__


_install_out()
del _install_out
