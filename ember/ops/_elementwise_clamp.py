"""Clamping, elementwise extrema and selection: ``clamp``/``clip``, ``clamp_min``/``clamp_max``,
``maximum``/``minimum``, ``fmax``/``fmin``, ``where``, ``copy_into`` (the in-place copy's op), and the fused
pointwise helpers ``addcmul``, ``addcdiv``, ``lerp``, ``hypot`` and ``atan2``. Re-exported by
``ember.ops.elementwise``.
"""
from __future__ import annotations

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp_of, as_array as _as_array, like as _like
from ..tensor import Tensor
from .elementwise import (_check_broadcast, _ints_to_float, _lay, _prep, add, cast, div, mul, neg, sub,
                          zeros_like_g)
from ._elementwise_unary import reciprocal
from . import _bound
from ._select import select as _select
from ._elementwise_compare import eq, ge


# -- clamp, min/max, where --------------------------------------------------------------------------------------
class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        # one bound: maximum(lo, a) / minimum(hi, a), whose ties return the second operand, a itself (PyTorch's
        # clamp keeps -0.0 against a bound of 0.0; np.clip with one bound returns the bound); both: np.clip
        if hi is None:
            out = _bound.maximum(lo, a) if lo is not None else a.copy()
        elif lo is None:
            out = _bound.minimum(hi, a)
        else:
            out = _np.clip(a, lo, hi)
        if ctx.needs_input_grad[0]:
            mask = _xp_of(a).ones(a.shape, bool)
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
            gx = where(Tensor._make(_as_array(m)), g, z)
        if len(n) > 1 and n[1] and ld is not None:
            m = ad < ld
            if hd is not None:
                m = m & (ld < hd)
            gl = where(Tensor._make(_as_array(m)), g, z)
        if len(n) > 2 and n[2] and hd is not None:
            m = ad > hd
            if ld is not None:
                m = m | (hd < ld)
            gh = where(Tensor._make(_as_array(m)), g, z)
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
    nan_bound = any(isinstance(v, float) and v != v for v in (min, max))    # PyTorch: all NaN, no check
    if input._data.dtype.kind == "f" and not nan_bound:     # a float16/float32 bound must fit (PyTorch: 1e6
        for v in (min, max):                                  # "cannot be converted to type Half")
            if v is not None:
                _dt.checked_float_scalar(v, input._data.dtype, "clamp")
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
        first = Tensor._make(_as_array(first))
        z = zeros_like_g(g)
        n = ctx.needs_input_grad
        return (where(first, g, z) if n[0] else None), (where(first, z, g) if n[1] else None), None


def _both_tensors(a, b, op):
    a, b = _prep(a, b, op)
    if not isinstance(a, Tensor):
        a = Tensor._make(_xp_of(b._data).asarray(a, b.dtype))       # a number: a 0-d tensor on b's device
    if not isinstance(b, Tensor):
        b = Tensor._make(_xp_of(a._data).asarray(b, a.dtype))
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
        return _select(c, a, b)         # np.where's values, without its branch per element

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
    if type(c) is not _np.ndarray:      # a device condition: numbers for both values join its device
        if not isinstance(input, Tensor) and type(x._data) is _np.ndarray:
            x = Tensor._make(_like(x._data, c))
        if not isinstance(other, Tensor) and type(y._data) is _np.ndarray:
            y = Tensor._make(_like(y._data, c))
    _check_broadcast(c.shape, _np.broadcast_shapes(x._data.shape, y._data.shape), "where")
    return _lay(Where.apply(c, x, y), Tensor._make(c), x, y)


def full_like_op(x: Tensor, value) -> Tensor:
    return Tensor._make(_xp_of(x._data).full(x._data.shape, value, x._data.dtype))


class CopyInto(Function):
    """The value of ``dst.copy_(src)`` / ``dst.fill_(v)`` in a graph: ``src`` (a Tensor or a number) broadcast to
    ``dst``'s shape and cast to its dtype.  ``dst``'s old values get a zero gradient, ``src`` gets ``g``."""

    @staticmethod
    def forward(ctx, a, src):
        m = _xp_of(a)
        return m.array(m.broadcast_to(m.asarray(src, dtype=a.dtype), a.shape))

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
    r = _half_in_float32(addcmul, input, tensor1, tensor2, value)
    if r is not None:
        return r
    if _same_float(input, tensor1, tensor2):
        return _lay(_Addcmul.apply(input, tensor1, tensor2, value), input, tensor1, tensor2)
    p = mul(tensor1, tensor2)
    return _lay(add(input, p if value == 1 else mul(p, value)), input, tensor1, tensor2)


def _same_float(*ts):
    return all(isinstance(t, Tensor) for t in ts) and ts[0]._data.dtype.kind == "f" and \
        all(t._data.dtype == ts[0]._data.dtype for t in ts)


# the wider float that emulates a fused multiply-add of each dtype (none where long double is float64)
_FMA_WIDE = {_np.dtype(_np.float32): _np.dtype(_np.float64)}
if _np.finfo(_np.longdouble).nmant > 52:
    _FMA_WIDE[_np.dtype(_np.float64)] = _np.dtype(_np.longdouble)


class _Addcmul(Function):
    """``x + value * t1 * t2`` in PyTorch's order ((value * t1) * t2: no overflow of t1 * t2 when value is
    small) and with its gradients ``g * (t2 * value)``, ``g * (t1 * value)``."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        n = ctx.needs_input_grad
        ctx.save_for_backward(t1 if n[2] else None, t2 if n[1] else None)
        ctx.value = value
        wide = _FMA_WIDE.get(x.dtype)
        if wide is not None and (type(x) is _np.ndarray or wide == _np.float64):     # (CuPy has no long double)
            # PyTorch's kernel is a fused multiply-add, x + (value * t1) * t2 rounded once.  A float32 product is
            # exact in float64, so one float64 sum rounded to float32 gives the same numbers; float64 takes
            # the x87 long double (64-bit mantissa: the same result but in rare double-rounding cases).  Both
            # also keep inf + 1e30 * -1e30 = inf, where the product in the input's dtype overflows to nan.
            vt1 = t1 if value == 1 else value * t1
            xp = _xp_of(x)
            return xp.add(x, xp.multiply(vt1, t2, dtype=wide), dtype=wide).astype(x.dtype)
        return x + value * t1 * t2

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        n, v = ctx.needs_input_grad, ctx.value
        return g, (mul(g, mul(t2, v)) if n[1] else None), (mul(g, mul(t1, v)) if n[2] else None), None


class _Addcdiv(Function):
    """``x + value * t1 / t2`` in PyTorch's order ((value * t1) / t2) and with its gradients
    ``g * (value / t2)`` and ``-g * ((value * t1) / (t2 * t2))`` (nan where t2 * t2 underflows to 0 at t1 = 0)."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        ctx.save_for_backward(t1 if ctx.needs_input_grad[2] else None, t2)
        ctx.value = value
        return x + value * t1 / t2

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        n, v = ctx.needs_input_grad, ctx.value
        g1 = mul(g, div(v, t2)) if n[1] else None
        g2 = neg(mul(g, div(mul(t1, v), mul(t2, t2)))) if n[2] else None
        return g, g1, g2, None


def _half_in_float32(fn, input, t1, t2, value):
    """addcmul/addcdiv of float16 tensors: PyTorch's kernel computes ``x + value * t1 op t2`` in float32 and
    rounds once; ember does the same through float32 copies.  None when not all three are float16 tensors."""
    ts = (input, t1, t2)
    if not all(isinstance(t, Tensor) and t._data.dtype == _np.float16 for t in ts):
        return None
    r = fn(*(cast(t, _np.float32) for t in ts), value=value)
    return _lay(cast(r, _np.float16), *ts)


def addcdiv(input, tensor1, tensor2, value=1):
    """``x + value * t1 / t2`` (``torch.addcdiv``); integer ``t1`` and ``t2`` together are not supported."""
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError(f"addcdiv: integer division with addcdiv is not supported (t1 is {tensor1.dtype}, t2 is "
                           f"{tensor2.dtype}); use addcmul(x, t1, 1 / t2) or convert t1/t2 to a floating dtype")
    value = _cast_value(value, input, tensor1, tensor2)
    r = _half_in_float32(addcdiv, input, tensor1, tensor2, value)
    if r is not None:
        return r
    if _same_float(input, tensor1, tensor2):
        return _lay(_Addcdiv.apply(input, tensor1, tensor2, value), input, tensor1, tensor2)
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
        w_arr = not isinstance(w, _np.generic)       # a weight tensor's array (of either module), or a scalar
        ctx.save_for_backward(s, e, w if w_arr else None)
        ctx.w = w
        rt = _np.result_type(s.dtype, e.dtype)
        if rt == _np.float16:       # PyTorch's float16 kernel computes in float32 (its opmath type)
            s, e = s.astype(_np.float32), e.astype(_np.float32)
            w = w.astype(_np.float32) if w_arr else _np.float32(w)
        d = e - s
        lo = _np.abs(w) < 0.5
        omw = 1 - w
        wide = _FMA_WIDE.get(d.dtype)
        if wide is not None and (type(d) is _np.ndarray or wide == _np.float64):
            # PyTorch's kernel: fma(w, d, s) below 0.5, fma(-d, 1 - w, e) above, each rounded once (as addcmul)
            xp = _xp_of(d)
            dw = d.astype(wide)
            out = xp.where(lo, xp.add(s, xp.multiply(w, dw, dtype=wide), dtype=wide),
                           xp.subtract(e, xp.multiply(dw, omw, dtype=wide), dtype=wide)).astype(d.dtype)
        else:
            out = _np.where(lo, s + w * d, e - d * omw)
        return _as_array(out).astype(rt, copy=False)

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
    else:       # a scalar weight is used in the tensors' precision (float32 for float16 tensors), as PyTorch
        weight = (_np.float32 if sd == _np.float16 else sd.type)(weight)
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
        # PyTorch's order, grad * x / result: (g * 1e-40) / 1e-40 rounds in the subnormal range as it does
        return (div(mul(g, a), out) if n[0] else None), (div(mul(g, b), out) if n[1] else None)


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
    raw = (input, other)
    input, other = _ints_to_float(input, other)
    input, other = _both_tensors(input, other, "atan2")
    # so does a floating operand promoted to the result dtype: a float16 1e-4 squares to 0 in float16 there
    orig = tuple(o if o is not None or not isinstance(r, Tensor) or r._data.dtype == x._data.dtype else r._data
                 for o, r, x in zip(orig, raw, (input, other)))
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
        if ctx.orig is not None:        # a wider saved operand (float64 0-d) widens the terms: back to g's dtype
            ga = ga if ga is None or ga._data.dtype == g._data.dtype else cast(ga, g._data.dtype)
            gb = gb if gb is None or gb._data.dtype == g._data.dtype else cast(gb, g._data.dtype)
        return ga, gb, None
