"""Elementwise ops: operand preparation, cast/clone and arithmetic here; unary math in
``ember.ops._elementwise_unary``, comparisons and logic in ``ember.ops._elementwise_compare``, clamp, extrema,
where and the fused pointwise helpers in ``ember.ops._elementwise_clamp``; all re-exported here, so
``from ember.ops.elementwise import X`` keeps working.

Binary ops broadcast like NumPy; the engine sums each gradient back to its input's shape, so backwards
here are written for the broadcast shape.  Result dtypes follow PyTorch's promotion (see
``backend.dtypes.result_type``): the public function casts its operands once, then the op runs.
"""
from __future__ import annotations

import math

import numpy as _np

from ..autograd import function as _fn
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..backend import dtypes as _dt
from ..backend import layout as _layout
from ..backend import xp
from ..backend.device import array_module as _xp_of, as_array as _as_array, like as _like, to_device as _to_device
from ..tensor import Tensor, _to_array
from . import _parallel_elementwise as _pe
from ._select import select as _select

_erf = _np.vectorize(math.erf, otypes=[_np.float64])


def _erf_array(a):
    """erf over an array.  SciPy is not a dependency: float64 (and small arrays) use ``math.erf`` per element,
    exact; larger float32 arrays take two polynomials over the whole array at once: for |x| < 1 Cephes'
    ``erff`` fit x P(x^2) (relative error ~2e-7: erf(1e-8) is 1.128e-8, as PyTorch's), elsewhere the Chebyshev
    fit of erfc from Numerical Recipes (absolute error below 5e-7 where erf is at least 0.84)."""
    if a.ndim > 1 and 0 in a.strides:      # an expanded input: a C-ordered result (PyTorch), not K-order's
        a = _xp_of(a).ascontiguousarray(a)
    if a.dtype == _np.float64 or a.size < 64:
        return on_host(_erf, a).astype(a.dtype, copy=False)
    if a.dtype != _np.float32:      # float16: the fits need float32 (1 - p cancels near 0), as PyTorch's opmath
        return _erf_array(a.astype(_np.float32)).astype(a.dtype)
    xp = _xp_of(a)
    inner = xp.abs(a) < 1
    if inner.all():
        return _erf_inner(a)
    if not inner.any():
        return _erf_outer(a)
    # both fits over the whole array, each element's taken by bits (a mask gather/scatter per fit branched per
    # element: 1M float32 elements 14.5 -> 11.6 ms); the inner fit overflows harmlessly where it is not taken
    with _np.errstate(over="ignore", invalid="ignore"):
        return _select(inner, _erf_inner(a), _erf_outer(a))


_ERF_INNER = tuple(_np.float32(c) for c in (
    7.853861353153693e-5, -8.010193625184903e-4, 5.188327685732524e-3, -2.685381193529856e-2,
    1.128358514861418e-1, -3.761262582423300e-1, 1.128379165726710e+0))


def _erf_inner(a):
    """erf(x) for float32 |x| < 1: x P(x^2), Horner's rule in place."""
    z = a * a
    q = z * _ERF_INNER[0]
    for c in _ERF_INNER[1:-1]:
        q += c
        q *= z
    q += _ERF_INNER[-1]
    q *= a
    return q


def _erf_outer(a):
    """erf(x) for float32 |x| >= 1: 1 - erfc(|x|) with the sign of x, erfc from its Chebyshev fit (Horner's
    rule in the input's precision, two buffers updated in place)."""
    p = _erfc_abs(a)
    _np.subtract(1.0, p, out=p)
    return _np.copysign(p, a, out=p)


def _erfc_abs(a):
    """erfc(|x|) for float32 x, from the Chebyshev fit of Numerical Recipes (relative error about 1.2e-7
    everywhere, so it keeps its accuracy where erfc is tiny)."""
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
    return p


def on_host(fn, a, *args):
    """``fn(a, *args)`` for an array function that only runs on NumPy arrays (a Python loop, ``math`` per
    element): a device array takes a host fallback, copied to the CPU and the result copied back.  A NumPy
    array calls ``fn`` directly (one type check)."""
    if type(a) is _np.ndarray:
        return fn(a, *args)
    return _like(fn(_to_device(a, "cpu"), *args), a)      # host fallback


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


def _plain_pair(a, b):
    """Two Tensors of one shape and one dtype, float32 or float64: no promotion, broadcasting, float16 or
    integer rule applies, so add/sub/mul go straight to their op (what ``_prep`` would return unchanged)."""
    if type(a) is Tensor and type(b) is Tensor:
        da, db = a._data, b._data
        dt = da.dtype
        return dt is db.dtype and (dt is _F32 or dt is _F64) and da.shape == db.shape
    return False


_F32, _F64 = _np.dtype(_np.float32), _np.dtype(_np.float64)


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
_nd = _np.ndarray


def _no_graph(uf, a, b):
    """``uf`` of a plain pair (``_plain_pair``) as a new tensor without the Function machinery, where no graph
    can be recorded (grad mode off, nothing tracing or profiling) and both are host arrays below the thread
    split: what the op's ``apply`` returns there, ~0.85 us sooner (no context, node or argument lists; no-grad
    ``a * b`` on 4x4 2.0 -> 1.15 us).  None elsewhere."""
    da, db = a._data, b._data
    if not _graphless(da) or type(db) is not _nd:
        return None
    return _lay(Tensor._make(uf(da, db)), a, b)


def _graphless(d) -> bool:
    """Whether an op on the array ``d`` may skip ``Function.apply`` (``_no_graph``): grad mode off, nothing
    tracing (ember.jit) or profiling, ``d`` a host array below the thread split."""
    return not (_grad.enabled or _fn._tracer is not None or _fn._hooked) and type(d) is _nd \
        and d.size < _pe.SPLIT_FROM


# Add/Sub/Mul/Div.forward split a large left operand's op among threads where the right one is a number or of
# its shape (``_parallel_elementwise``); a small left operand costs one size check


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        if type(a) is _nd and a.size >= _pe.SPLIT_FROM and \
                (r := _pe.par_ufunc(_np.add, a, b)) is not None:
            return r
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        if type(a) is _nd and a.size >= _pe.SPLIT_FROM and \
                (r := _pe.par_ufunc(_np.subtract, a, b)) is not None:
            return r
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
        if type(a) is _nd and a.size >= _pe.SPLIT_FROM and \
                (r := _pe.par_ufunc(_np.multiply, a, b)) is not None:
            return r
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
        if type(a) is _nd and a.size >= _pe.SPLIT_FROM and \
                (r := _pe.par_ufunc(_np.true_divide, a, b)) is not None:
            return r
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = div(g, b) if n[0] else None
        # PyTorch's order, -g * ((a / b) / b): finite where b * b underflows (b = 1e-40 gives -0.0, not nan)
        gb = neg(mul(g, div(div(a, b), b))) if n[1] else None
        return ga, gb


def add(input, other, alpha=1, *, out=None):
    """``input + alpha * other`` with broadcasting (``torch.add``); ``out=`` receives the result."""
    if _plain_pair(input, other) and out is None and type(alpha) is int and alpha == 1:
        if (r := _no_graph(_np.add, input, other)) is not None:
            return r
        return _lay(Add.apply(input, other), input, other)
    if (type(other) is not Tensor and isinstance(other, Tensor) and other.is_sparse) or \
            (type(input) is not Tensor and isinstance(input, Tensor) and input.is_sparse):
        from ..sparse import _ops as _sp     # a sparse COO operand: dense + sparse -> dense, sparse + sparse
        r = _sp.add(input, other, alpha) if input.is_sparse else _sp.radd(input, other, alpha)
        return r if out is None else _write_out(out, r, "add")
    r = _half_alpha(add, input, other, alpha)
    if r is not None:
        return r if out is None else _write_out(out, r, "add")
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


def _half_alpha(fn, input, other, alpha):
    """``add``/``sub`` of tensors with an ``alpha`` and a float16 result: PyTorch converts ``alpha`` to float16
    (it must fit), rounds ``alpha * b`` to float16, then adds (its element-at-a-time kernel, which small tensors
    take; long vectorized runs fuse the two in float32).  None when that rule does not apply."""
    if alpha == 1 or isinstance(alpha, bool) or not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        return None
    if not any(t._data.dtype == _np.float16 for t in (input, other)) or _dt.result_type(input, other) != _np.float16:
        return None
    _dt.checked_float_scalar(alpha, _np.dtype(_np.float16), fn.__name__)
    b = other if other._data.dtype == _np.float16 else cast(other, _np.float16)
    return fn(input, mul(b, Tensor._make(_np.asarray(alpha, _np.float16))))


def _is_bool_tensor(x):
    return isinstance(x, Tensor) and x._data.dtype.kind == "b"


def sub(input, other, alpha=1, *, out=None):
    """``input - alpha * other`` with broadcasting (``torch.sub``); ``out=`` receives the result."""
    if _plain_pair(input, other) and out is None and type(alpha) is int and alpha == 1:
        if (r := _no_graph(_np.subtract, input, other)) is not None:
            return r
        return _lay(Sub.apply(input, other), input, other)
    if _is_bool_tensor(input) or _is_bool_tensor(other) or isinstance(input, bool) or isinstance(other, bool):
        two = (_is_bool_tensor(input) or isinstance(input, bool)) and (_is_bool_tensor(other) or isinstance(other, bool))
        raise _dt.DtypeRuntimeError(
            f"sub: subtraction, the `-` operator, with {'two bool tensors' if two else 'a bool tensor'} is not "
            f"supported; use logical_xor() (or ~ / logical_not() to invert a bool tensor)")
    if (type(other) is not Tensor and isinstance(other, Tensor) and other.is_sparse) or \
            (type(input) is not Tensor and isinstance(input, Tensor) and input.is_sparse):
        return add(input, other, -alpha, out=out)       # a sparse COO operand (ember/sparse)
    r = _half_alpha(sub, input, other, alpha)
    if r is not None:
        return r if out is None else _write_out(out, r, "sub")
    if alpha != 1 or isinstance(alpha, bool):
        other = _scaled(input, other, alpha, "sub")
    input, other = _prep(input, other, "sub")
    r = _lay(Sub.apply(input, other), input, other)
    return r if out is None else _write_out(out, r, "sub")


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting (``torch.mul``); ``out=`` receives the result."""
    if _plain_pair(input, other) and out is None:
        if (r := _no_graph(_np.multiply, input, other)) is not None:
            return r
        return _lay(Mul.apply(input, other), input, other)
    if (type(other) is not Tensor and isinstance(other, Tensor) and other.is_sparse) or \
            (type(input) is not Tensor and isinstance(input, Tensor) and input.is_sparse):
        from ..sparse import _ops as _sp     # a sparse COO operand: the result is sparse
        r = _sp.mul(input, other) if input.is_sparse else _sp.mul(other, input)
        return r if out is None else _write_out(out, r, "mul")
    r = _half_scalar(mul, input, other)
    if r is not None:
        return r if out is None else _write_out(out, r, "mul")
    input, other = _prep(input, other, "mul")
    r = _lay(Mul.apply(input, other), input, other)
    return r if out is None else _write_out(out, r, "mul")


def _half_scalar(fn, a, b):
    """PyTorch's float16 mul/div kernels read a scalar divisor/factor (a number, or any one-element tensor of
    another dtype) at its own precision in float32, not rounded to float16 first: ``half(1e-4) * 100000`` is 10,
    not inf.  Returns ``fn`` computed that way, or None when the rule does not apply."""
    if not (isinstance(a, Tensor) and a._data.dtype == _np.float16):
        return None
    if isinstance(b, Tensor):
        if b._data.dtype == _np.float16 or b._data.size != 1 or _dt.result_type(a, b) != _np.float16:
            return None
        if fn is mul or fn is div:
            return _lay((_HalfDiv if fn is div else _HalfMul).apply(a, b, fn is div), a, b)
        b32 = cast(b, _np.float32)
    elif isinstance(b, (bool, int, float, _np.bool_, _np.integer, _np.floating)):
        b32 = float(b)
    else:
        return None
    return cast(fn(cast(a, _np.float32), b32), _np.float16)


class _HalfScalar(Function):
    """float16 ``a * b`` or ``a / b`` with a one-element tensor ``b`` of another dtype, read in float32.  The
    backward is PyTorch's formulas in float16, each product or quotient rounded to float16 (d/db of a / b is
    -g * ((a / b) / b): 6e4 / 0.5 / 0.5 overflows to inf there), summed to ``b``'s shape in float16, then
    converted to ``b``'s dtype."""

    @staticmethod
    def forward(ctx, a, b, is_div):
        ctx.save_for_backward(a, b)
        ctx.is_div = is_div
        a32, b32 = a.astype(_np.float32), b.astype(_np.float32)
        with _np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (a32 / b32 if is_div else a32 * b32).astype(_np.float16)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        if ctx.is_div:
            return (div(g, b) if n[0] else None), (neg(mul(g, div(div(a, b), b))) if n[1] else None), None
        return (mul(g, b) if n[0] else None), (mul(g, a) if n[1] else None), None


class _HalfDiv(_HalfScalar):
    pass


class _HalfMul(_HalfScalar):
    pass


_HalfDiv.__name__, _HalfMul.__name__ = "Div", "Mul"          # grad_fn: DivBackward0 / MulBackward0, as PyTorch


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
    if isinstance(b, Tensor):
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
    if rounding_mode is not None and rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    r = _half_scalar(div if rounding_mode is None else lambda a, b: div(a, b, rounding_mode=rounding_mode), input,
                     other)
    if r is not None:
        return r
    if rounding_mode is not None:
        op = "floor_divide" if rounding_mode == "floor" else "div"
        input, other, is_int = _int_operands(input, other, op)
        if is_int:
            ad, bd = _arr(input), _arr(other)
            q = _np.floor_divide(ad, bd) if rounding_mode == "floor" else _int_trunc_div(ad, bd)
            return _lay(Tensor._make(_as_array(q, dtype=(input if isinstance(input, Tensor) else other)._data.dtype)),
                        input, other)
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
    out = _as_array(a ** _np.where(neg_e, 0, b))
    r = _np.where(a == 1, 1, _np.where(a == -1, _np.where(b % 2 == 0, 1, -1), 0))
    return _np.where(neg_e, r, out).astype(out.dtype, copy=False)


def _c_pow(a, b):
    """``a ** b`` with C's ``pow`` at a = -inf (PyTorch): +inf for b > 0 and +0 for b < 0 when b is not an odd
    integer (NumPy gives nan for a non-integer b)."""
    out = _np.power(a, b)
    if a.dtype.kind == "f":
        if a.dtype == _np.float16 and isinstance(b, (int, float)):
            b = _np.float16(b)      # PyTorch rounds a scalar exponent to float16 (1e-30 is 0: (-inf) ** 0 = 1)
        with _np.errstate(invalid="ignore"):
            fix = _np.isneginf(a) & (b != _np.floor(b)) & ~_np.isnan(b)
        if fix.any():
            big = (_np.inf if b > 0 else 0.0) if isinstance(b, (int, float)) else _np.where(b > 0, _np.inf, 0.0)
            out = _np.where(fix, big, out).astype(out.dtype, copy=False)
    return out


class PowScalar(Function):
    @staticmethod
    def forward(ctx, a, e):
        ctx.save_for_backward(a)
        ctx.e = e
        if e == 2:
            return a * a
        if e == 0.5 and a.dtype.itemsize >= 4:      # float16 takes pow (PyTorch): (-inf) ** 0.5 = inf, not nan
            return _np.sqrt(a)
        if e == -0.5 and a.dtype.itemsize >= 4:     # PyTorch computes rsqrt: (-0.0) ** -0.5 = -inf
            return _as_array(1.0 / _np.sqrt(a), a.dtype)
        return _c_pow(a, e)         # not a ** e: NumPy turns ** 0.5 into sqrt

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        e = ctx.e
        if e == 2:
            return mul(g, mul(a, 2.0)), None
        if e == 1:
            return g, None
        if e == 0 and not isinstance(e, bool):  # d/da a**0 = 0 everywhere, including a == 0 (torch), not 0 * inf;
            return zeros_like_g(g), None        # a False exponent takes the general 0 * a**-1 (nan at a == 0)
        return mul(g, mul(pow(a, e - 1), e)), None


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b, given=None):
        # _np.power, not a ** b: NumPy turns ** of a 0-d 0.5 into sqrt, PyTorch's pow gives (-inf) ** 0.5 = inf
        out = _int_pow(a, b) if a.dtype.kind in "iu" else _c_pow(a, b)
        ctx.save_for_backward(a, b, out)
        ctx.given = given
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = gb = None
        if n[0]:    # b * a**(b-1), and 0 where b == 0 (torch), not 0 * inf at a == 0
            # PyTorch's formula takes the operands as given, before their cast to the result dtype: a float16
            # exponent's ``b - 1`` is rounded in float16 (6e-8 - 1 == -1)
            ea, eb = (a, b) if ctx.given is None else (Tensor._make(ctx.given[0]), Tensor._make(ctx.given[1]))
            ga = where(eq(eb, 0), 0.0, mul(g, mul(eb, pow(ea, sub(eb, 1)))))
            ga = cast(ga, a.dtype) if ga.dtype != a.dtype else ga
        if n[1]:    # a**b * log(a), and 0 where a == 0 and b >= 0 (torch): inf * -inf = -inf at a == 0, b < 0
            # (here PyTorch casts the base to the result dtype first, as the forward did)
            gb = where(logical_and(eq(a, 0), ge(b, 0)), 0.0, mul(g, mul(out, log(a))))
        return ga, gb, None


class ScalarPow(Function):
    """``s ** x`` for a Python scalar base."""
    @staticmethod
    def forward(ctx, x, s):
        if x.dtype.kind in "iu":
            out = _int_pow(_like(_np.asarray(s).astype(x.dtype), x), x)
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
                    if exponent:
                        return input.clone()
                    return _lay(Tensor._make(_xp_of(input._data).ones(input._data.shape, bool)), input)
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
        elif k == "f" and input._data.dtype == _np.float16:     # the exponent must fit float16 (PyTorch)
            _dt.checked_float_scalar(exponent, input._data.dtype, "pow")
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
    given = input, exponent
    input, exponent = _prep(input, exponent, "pow")
    if (input if isinstance(input, Tensor) else exponent)._data.dtype.kind == "b":
        raise _dt.DtypeNotImplementedError("pow: not implemented for bool tensors (both operands are bool)")
    if given[0] is input and given[1] is exponent or not all(isinstance(t, Tensor) for t in given):
        given = None        # no cast: the backward's formulas use the operands themselves
    else:
        given = given[0]._data, given[1]._data
    return _lay((PowBoolExponent if bool_exp else Pow).apply(input, exponent, given), input, exponent)


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
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)):
        exponent = float(exponent)      # a bool too: PyTorch's float_power takes it as 0.0/1.0 (zero grad at False)
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


def _remainder_array(a, b):
    """PyTorch's float remainder: ``fmod(a, b)``, plus ``b`` where that is non-zero and of the other sign.  NumPy's
    ``remainder`` gives the same values but a zero result the divisor's sign (Python's ``-4.0 % 2.0`` is 0.0);
    PyTorch's keeps fmod's, the dividend's (``torch.remainder(-4., 2.)`` is -0.0)."""
    r = _np.fmod(a, b)
    fix = (r != 0) & ((r < 0) != (b < 0))
    if fix.any():
        r = _np.where(fix, r + b, r)
    return r


def _overflow_nan(out, a, b):
    """fmod/remainder stay exact (NumPy's, and PyTorch's scalar path).  PyTorch's vectorized CPU path (8 floats
    at a time) gives NaN where a / b overflows; that is a documented difference, not reproduced."""
    return out


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _overflow_nan(_remainder_array(a, b), a, b)

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
    r = _half_scalar(floor_divide, input, other)
    if r is not None:
        return r
    input, other, is_int = _int_operands(input, other, "floor_divide")
    if is_int:
        return _lay(Tensor._make(_as_array(_np.floor_divide(_arr(input), _arr(other)),
                                             (input if isinstance(input, Tensor) else other)._data.dtype)), input, other)
    return _lay(FloorDivide.apply(input, other, "floor"), input, other)


def remainder(input, other):
    """Python-style modulus (sign of the divisor), ``torch.remainder``."""
    input, other, is_int = _int_operands(input, other, "remainder")
    if is_int:
        return _lay(Tensor._make(_as_array(_np.remainder(_arr(input), _arr(other)),
                                             (input if isinstance(input, Tensor) else other)._data.dtype)), input, other)
    return _lay(Remainder.apply(input, other), input, other)


def fmod(input, other):
    """C-style modulus (sign of the dividend), ``torch.fmod``; differentiable in both inputs."""
    input, other, is_int = _int_operands(input, other, "fmod")
    if is_int:
        return _lay(Tensor._make(_as_array(_np.fmod(_arr(input), _arr(other)),
                                             (input if isinstance(input, Tensor) else other)._data.dtype)), input, other)
    return _lay(Fmod.apply(input, other), input, other)


from .._out import write_out as _write_out  # noqa: E402 (out= of add/sub/mul)


# moved to sibling modules by family; re-exported so every old import path works
from ._elementwise_unary import (  # noqa: E402,F401
    _no_bool, _sigmoid_fwd, _sign_array, _unary, _zero_grad, _ZeroGradUnary, Abs, abs, absolute, acos, asin,
    atan, Ceil, ceil, cos, cosh, erf, exp, exp2, expm1, fix, Floor, floor, frac, log, log10, log1p, log2,
    reciprocal, relu, Relu, Round, round, rsqrt, sgn, sigmoid, sign, Sign, sin, sinh, sqrt, square, tan, tanh,
    trunc, Trunc)
from ._elementwise_compare import (  # noqa: E402,F401
    _bitwise, _close_operands, _cmp, allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal,
    ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le, less, less_equal, logical_and,
    logical_not, logical_or, logical_xor, lt, nan_to_num, NanToNum, ne, not_equal)
from ._elementwise_clamp import (  # noqa: E402,F401
    _Atan2, _both_tensors, _cast_value, _minmax_grads, addcdiv, addcmul, atan2, clamp, Clamp, clamp_max,
    clamp_min, ClampTensor, clip, copy_into, CopyInto, FMax, fmax, fmin, full_like_op, hypot, Hypot, lerp,
    Lerp, Maximum, maximum, Minimum, minimum, where, Where)
