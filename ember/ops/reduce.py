"""Reductions (sum, mean, var/std, max/min with indices, prod, logsumexp, norm, cumsum) and the stable
softmax / log_softmax.

``dim`` is an int, a tuple of ints, or None (all dims), and ``keepdim`` keeps reduced dims as size 1, as in
PyTorch.  Backwards first restore the reduced dims (``_unsqueeze_to``) so the gradient broadcasts back.
"""
from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as _np
from .. import return_types as _rt

from ..autograd.function import Function
from ..autograd._torch_names import named as _named
from ..backend import dtypes as _dt
from ..backend import layout as _layout
from ..backend import device as _dev
from ..backend.device import array_module as _xp, as_array as _as_array
from ..tensor import Tensor, _wrap_dim
from . import _ckernels as _ck, elementwise as E
from ._fastsum import sum_axes, total


def _reduce(ufunc, a, axis, keepdim, dtype=None):
    """``a.sum``/``a.prod`` (``ufunc`` add/multiply) as the ufunc's own reduce on host arrays, which is what
    those methods call: an overflow's RuntimeWarning is then raised from ember's frame, where ember's filter
    silences it as PyTorch is silent (the methods raise it from NumPy's ``_methods`` module, where it
    leaked)."""
    if type(a) is _np.ndarray:
        return ufunc.reduce(a, axis=axis, dtype=dtype, keepdims=keepdim)
    return (a.sum if ufunc is _np.add else a.prod)(axis=axis, keepdims=keepdim, dtype=dtype)


def _c(a):
    """PyTorch returns reductions, scans and softmax C-contiguous with canonical strides; NumPy may keep the
    input's dim order.  A copy only when they differ."""
    if (isinstance(a, _np.ndarray) or _dev.is_device_array(a)) and not _layout.canonical(a):
        return _layout.with_strides(a, _layout.c_strides(a.shape))
    return a


def _dims(dim, ndim: int, op: str):
    """Normalize ``dim`` to a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        axes = tuple(sorted({_wrap_dim(int(d), ndim, op) for d in dim}))
        if len(axes) != len(dim):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
        return axes if ndim else ()
    d = _wrap_dim(int(dim), ndim, op)
    return (d,) if ndim else ()    # a 0-d tensor accepts dim 0/-1 (as PyTorch) and reduces nothing


def _kept_shape(shape, axes):
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unsqueeze_to(g: Tensor, shape, axes, keepdim: bool) -> Tensor:
    """Reshape a reduced gradient so that it broadcasts against the input of shape ``shape``."""
    if keepdim or g.ndim == len(shape):
        return g
    return g.reshape(_kept_shape(shape, axes))


def _expand_grad(g, shape, axes, keepdim):
    return _unsqueeze_to(g, shape, axes, keepdim).expand(shape)


# -- sum / mean ---------------------------------------------------------------------------------------------
class ArrayCtx:
    """A stand-in ``ctx`` for calling ``Sum.forward`` / ``Mean.forward`` on arrays from inside another op's
    forward (they only set attributes on it)."""


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        if a.dtype == _np.float16 and dtype is None:     # accumulated in float32, as PyTorch
            return _c(_as_array(_reduce(_np.add, a, axes, keepdim, _np.float32)).astype(_np.float16))
        if dtype is None and axes is not None and (out := sum_axes(a, axes, keepdim)) is not None:
            return out
        if dtype is None and axes is None and not keepdim and (out := total(a)) is not None:
            return _as_array(out)
        out = _reduce(_np.add, a, axes, keepdim, dtype)
        return _c(out) if isinstance(out, _np.ndarray) or _dev.is_device_array(out) else _as_array(out)

    @staticmethod
    def backward(ctx, g):
        return _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims if None).  Bool and integer tensors sum to int64, like PyTorch."""
    axes = _dims(dim, input._data.ndim, "sum")
    if dtype is None and input._data.dtype.kind in "biu":
        dtype = _dt.int64
    elif dtype is not None:
        _no_int_grad(input, dtype, "sum")
    return Sum.apply(input, axes, keepdim, None if dtype is None else _dt.to_dtype(dtype))


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        n = a.size if axes is None else int(_np.prod([a.shape[i] for i in axes]))
        ctx.n = n
        if n and axes is not None and (out := sum_axes(a, axes, keepdim, mean=True)) is not None:
            return out
        if axes is None and not keepdim and (out := total(a)) is not None:
            with _np.errstate(over="ignore", invalid="ignore"):
                return _as_array(out / n, dtype=a.dtype)        # (NumPy's mean: the sum over the count)
        if n and type(a) is _np.ndarray:
            with _np.errstate(over="ignore", invalid="ignore"):     # (NumPy's mean warns from its own module)
                out = a.mean(axis=axes, keepdims=keepdim)
        else:
            out = a.mean(axis=axes, keepdims=keepdim) if n else _xp(a).full(
                _kept_shape(a.shape, axes) if keepdim else tuple(s for i, s in enumerate(a.shape)
                                                                 if axes is not None and i not in axes),
                _np.nan, a.dtype)
        return _c(_as_array(out, dtype=a.dtype))

    @staticmethod
    def backward(ctx, g):
        return E.div(_expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim), builtins.max(ctx.n, 1)), None, None


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim``; needs a floating tensor (as in PyTorch) unless ``dtype`` is given."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating point, got "
                           f"{input.dtype}; use x.float().mean() or pass dtype=")
    return Mean.apply(input, _dims(dim, input._data.ndim, "mean"), keepdim)


def _no_int_grad(x, dtype, op):
    """An integer result of a tensor that requires grad: PyTorch refuses ("Autograd not support dtype")."""
    from ..autograd.grad_mode import state as _grad
    d = _dt.to_dtype(dtype)
    if d.kind != "f" and x.requires_grad and _grad.enabled:
        raise RuntimeError(f"{op}(): Autograd not support dtype: {d} (the input requires grad); compute it under "
                           f"no_grad() or on x.detach()")


@_named("NansumBackward0")
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero (``torch.nansum``); integer and bool inputs sum to int64 like ``sum``."""
    if input._data.dtype.kind != "f":
        return sum(input, dim, keepdim, dtype=dtype)
    return sum(_NanToZero.apply(input), dim, keepdim, dtype=dtype)


class _NanToZero(Function):
    """x with NaN replaced by 0; the gradient is g * (x is not NaN), PyTorch's nansum backward (a product, so an
    infinite g at a NaN gives NaN, as in nanmean of all-NaN values)."""

    @staticmethod
    def forward(ctx, a):
        nan = _np.isnan(a)
        ctx.keep = ~nan
        return _np.where(nan, _xp(a).zeros((), a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        return E.mul(g, Tensor._make(ctx.keep.astype(g._data.dtype)))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype}")
    if input._data.dtype == _np.float16:     # the count may not fit float16: divide in float32, as PyTorch
        return E.cast(nanmean(E.cast(input, _dt.float32), dim, keepdim), _dt.float16)
    ok = E.logical_not(E.isnan(input))
    return E.div(nansum(input, dim, keepdim), sum(ok, dim, keepdim))


# -- var / std ----------------------------------------------------------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


_ACC = {_dt.float16: _dt.float32, _dt.float32: _dt.float64, _dt.float64: _dt.float64}


class Var(Function):
    """var/std in one node, accumulated in a wider dtype (float32 -> float64, float16 -> float32) like
    PyTorch's CPU kernel, so std of values near 1e30 in float32 stays finite where squares overflow."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, c, take_sqrt):
        n = a.size if axes is None else int(_np.prod([a.shape[i] for i in axes]))
        acc = a.astype(_ACC.get(a.dtype, _dt.float64), copy=False)
        with _np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            mu = acc.mean(axis=axes, keepdims=True) if n else _xp(a).full(_kept_shape(a.shape, axes), _np.nan,
                                                                           acc.dtype)
            if a.dtype == _dt.float32 and (axes is None or len(axes) == a.ndim):
                # PyTorch's all-elements path takes the mean in float32, then sums squares in float64
                mu = mu.astype(a.dtype).astype(acc.dtype)
            d = acc - mu
            v = _as_array((d * d).sum(axis=axes, keepdims=keepdim) / float(builtins.max(n - c, 0)))
            if n > 1 and n > c:
                # a slice of equal finite values has variance exactly 0, as PyTorch's Welford kernel gives; a
                # rounded mean (float64 sums of n copies) would leave ~1e-16 and std's gradient O(1) instead of 0
                hi, lo = acc.max(axis=axes, keepdims=keepdim), acc.min(axis=axes, keepdims=keepdim)
                v = _np.where((hi == lo) & _np.isfinite(hi), _xp(v).zeros((), v.dtype), v)
            out = _np.sqrt(v) if take_sqrt else v
        ctx.axes, ctx.keepdim, ctx.dof, ctx.take_sqrt = axes, keepdim, float(n - c), take_sqrt
        out = _c(out.astype(a.dtype))
        ctx.save_for_backward(a, out if take_sqrt else None)
        return out

    @staticmethod
    def backward(ctx, g):
        # PyTorch's var_backward (std_backward first divides by 2 * std, 0 where std == 0):
        # 2 / (n - correction) * g * (x - mean), the factor negative when correction > n; over all elements
        # (no dim, or a 0-d input) with n <= correction it is g * (nan where x == mean, else inf)
        a, out = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        g = _unsqueeze_to(g, a.shape, axes, keepdim)
        if ctx.take_sqrt:
            o = _unsqueeze_to(out, a.shape, axes, keepdim)
            g = E.where(E.eq(o, 0), 0.0, E.div(g, E.mul(o, 2)))
        m = mean(a, axes, keepdim=True)
        dof = ctx.dof
        if dof <= 0 and (axes is None or a.ndim == 0):
            return E.mul(g, E.where(E.eq(a, m), float("nan"), float("inf"))), None, None, None, None
        factor = 2.0 / dof if dof else float("inf")
        return E.mul(E.mul(g, factor), E.sub(a, m)), None, None, None, None


def _var_std(x, dim, unbiased, keepdim, correction, take_sqrt, op):
    if isinstance(dim, bool):     # torch.var(x, False): the old positional `unbiased`
        unbiased, dim = dim, None
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): std and var only support floating point dtypes, got {x.dtype}")
    c = _correction(unbiased, correction)
    return Var.apply(x, _dims(dim, x._data.ndim, op), keepdim, c, take_sqrt)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0), ``torch.var``."""
    return _var_std(input, dim, unbiased, keepdim, correction, False, "var")


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation, the square root of ``var`` (same arguments); the gradient at a zero std is 0."""
    return _var_std(input, dim, unbiased, keepdim, correction, True, "std")


class _VarMean(NamedTuple):
    var: Tensor
    mean: Tensor


@_named("VarMeanBackward0")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


@_named("StdMeanBackward0")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


# -- max / min ----------------------------------------------------------------------------------------------------
_MinMax = _rt.max            # (min's results are _rt.min)


class AMax(Function):
    """amax/amin: the gradient is split evenly between tied maxima (PyTorch's rule for amax; a NaN result
    gives NaN gradients).  ``max()``/``min()`` with no dim (``nan_ties``) split it between the NaNs instead."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max, nan_ties=False):
        out = a.max(axis=axes, keepdims=True) if is_max else a.min(axis=axes, keepdims=True)
        mask = a == out
        if nan_ties and out.dtype.kind == "f" and _np.isnan(out).any():
            mask = _np.isnan(a)
        ctx.mask = mask
        ctx.count = mask.sum(axis=axes, keepdims=True)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.is_max, ctx.overall = is_max, nan_ties     # grad_fn.name(): Max/Min (no dim) or Amax/Amin
        return _c(out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if axes is not None and i not in axes]))

    @staticmethod
    def backward(ctx, g):
        g = _unsqueeze_to(g, ctx.shape, ctx.axes, ctx.keepdim)
        with _np.errstate(divide="ignore", invalid="ignore"):
            w = Tensor._make((ctx.mask / ctx.count).astype(g.dtype))
        return E.mul(g, w), None, None, None, None


def _check_nonempty(x, axes, op):
    """A reduction with no identity (max, argmax, ...) over an empty tensor: PyTorch's errors."""
    if x._data.size == 0:
        if axes is None:
            cls = IndexError if op in ("argmax", "argmin") else RuntimeError
            raise cls(f"{op}(): expected reduction dim to be specified for an input with no elements (shape "
                      f"{tuple(x.shape)}); specify the reduction dim with the 'dim' argument")
        for ax in axes:
            if x._data.shape[ax] == 0:
                raise IndexError(f"{op}(): expected reduction dim {ax} to have non-zero size (shape "
                                 f"{tuple(x.shape)})")


def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum values over ``dim`` (no indices); ties share the gradient."""
    axes = _dims(dim, input._data.ndim, "amax")
    _check_nonempty(input, axes, "amax")
    if input._data.ndim == 0:
        axes = None
    return AMax.apply(input, axes, keepdim, True)


def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _dims(dim, input._data.ndim, "amin")
    _check_nonempty(input, axes, "amin")
    if input._data.ndim == 0:
        axes = None
    return AMax.apply(input, axes, keepdim, False)


class MaxDim(Function):
    """max/min along one dim: values and indices; the gradient goes to the arg (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, axis, keepdim, is_max):
        idx = a.argmax(axis=axis) if is_max else a.argmin(axis=axis)
        idx_k = _np.expand_dims(idx, axis)
        vals = _np.take_along_axis(a, idx_k, axis)
        ctx.idx, ctx.axis, ctx.shape, ctx.keepdim, ctx.is_max = idx_k, axis, a.shape, keepdim, is_max
        if not keepdim:
            vals = vals.squeeze(axis)
        else:
            idx = idx_k
        return _c(vals), _c(idx.astype(_np.int64))

    @staticmethod
    def backward(ctx, g, gi):
        from .index import _scatter_into_zeros
        g = g if ctx.keepdim else g.unsqueeze(ctx.axis)
        return _scatter_into_zeros(g, ctx.idx, ctx.axis, ctx.shape), None, None, None


def _max_min(x, dim, keepdim, is_max, name, other=None):
    if isinstance(dim, Tensor):       # torch.max(a, b): elementwise
        return E.maximum(x, dim) if is_max else E.minimum(x, dim)
    if other is not None:
        return E.maximum(x, other) if is_max else E.minimum(x, other)
    if dim is None:
        _check_nonempty(x, None, name)
        return AMax.apply(x, None, False, is_max, True)
    axis = _wrap_dim(int(dim), x._data.ndim, name)
    if x._data.ndim == 0:
        return (_rt.max if is_max else _rt.min)(x, Tensor._make(_xp(x._data).zeros((), _np.int64)))
    _check_nonempty(x, (axis,), name)
    out = MaxDim.apply(x, axis, keepdim, is_max)
    if isinstance(out, tuple):
        v, i = out
    else:
        v, i = out, None
    i._rg = False
    i.grad_fn = None
    return (_rt.max if is_max else _rt.min)(v, i)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``max(x)`` -> the largest value; ``max(x, dim)`` -> (values, indices); ``max(x, y)`` -> elementwise."""
    return _max_min(input, dim, keepdim, True, "max", other)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """``min(x)`` -> the smallest value; ``min(x, dim)`` -> (values, indices); ``min(x, y)`` -> elementwise."""
    return _max_min(input, dim, keepdim, False, "min", other)


def _no_bool_arg(x, op):
    if x._data.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input; convert with .int() first")


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (first one on ties), over the flattened tensor when ``dim`` is None."""
    _no_bool_arg(input, "argmax")
    _check_nonempty(input, None if dim is None else _dims(dim, input._data.ndim, "argmax"), "argmax")
    if dim is None:
        r = _as_array(input._data.argmax(), _np.int64)
        return Tensor._make(r.reshape((1,) * input._data.ndim) if keepdim else r)
    axis = _wrap_dim(int(dim), input._data.ndim, "argmax")
    return Tensor._make(_c(input._data.argmax(axis=axis, keepdims=keepdim).astype(_np.int64)))


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    _no_bool_arg(input, "argmin")
    _check_nonempty(input, None if dim is None else _dims(dim, input._data.ndim, "argmin"), "argmin")
    if dim is None:
        r = _as_array(input._data.argmin(), _np.int64)
        return Tensor._make(r.reshape((1,) * input._data.ndim) if keepdim else r)
    axis = _wrap_dim(int(dim), input._data.ndim, "argmin")
    return Tensor._make(_c(input._data.argmin(axis=axis, keepdims=keepdim).astype(_np.int64)))


_AMinMax = _rt.aminmax


def aminmax(input, *, dim=None, keepdim=False):
    if input._data.size == 0 and (dim is None or input._data.shape[_wrap_dim(int(dim), input._data.ndim, "aminmax")] == 0):
        raise RuntimeError(f"aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           f"identity (shape {tuple(input.shape)})")
    return _AMinMax(amin(input, dim, keepdim), amax(input, dim, keepdim))


# -- prod / logsumexp / cumsum / norm -------------------------------------------------------------------------------
class Prod(Function):
    """prod with PyTorch's gradient: ``g * (out / x)`` when the input holds no zero; otherwise the product of
    the other elements (exclusive cumprods), and, over all elements, zero when two or more are zero."""

    @staticmethod
    def forward(ctx, a, axis, keepdim):
        out = _c(_as_array(_reduce(_np.multiply, a, axis, keepdim)))
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.zeros = int(a.size - _np.count_nonzero(a))
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        axis = ctx.axis
        axes = None if axis is None else (axis,)
        g = _unsqueeze_to(g, a.shape, axes, ctx.keepdim)
        if a.ndim == 0:
            return g, None, None
        if ctx.zeros == 0:
            # g * (out / x), in PyTorch's order: g * out first can round in the subnormal range (a tiny product)
            return E.mul(g, E.div(_unsqueeze_to(out, a.shape, axes, ctx.keepdim), a)), None, None
        if axis is None:
            if ctx.zeros > 1:
                return E.mul(g, E.zeros_like_g(a)), None, None
            others = _exclusive_prod(a.reshape(-1), 0).reshape(a.shape)
        else:
            others = _exclusive_prod(a, axis)
        return E.mul(g, others), None, None


def _exclusive_prod(a: Tensor, axis: int) -> Tensor:
    from .shape import cat, narrow, flip
    n = a.shape[axis]
    if n == 0:
        return a
    ones_shape = list(a.shape)
    ones_shape[axis] = 1
    one = Tensor._make(_xp(a._data).ones(ones_shape, a.dtype))
    left = cat([one, narrow(cumprod(a, axis), axis, 0, n - 1)], axis)
    fa = flip(a, [axis])
    right = flip(cat([one, narrow(cumprod(fa, axis), axis, 0, n - 1)], axis), [axis])
    return E.mul(left, right)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one dim (or all); the gradient is exact even with zeros present."""
    if dtype is not None:
        _no_int_grad(input, dtype, "prod")
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != _dt.int64:
        input = E.cast(input, _dt.int64)        # bool and integer products are int64, as sums
    axis = None if dim is None else _wrap_dim(int(dim), input._data.ndim, "prod")
    if input._data.ndim == 0:
        axis = None
    return Prod.apply(input, axis, keepdim)


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        m = a.max(axis=axes, keepdims=True) if a.size else _xp(a).zeros(_kept_shape(a.shape, axes), a.dtype)
        m = _np.where(_np.isfinite(m), m, 0)
        s = _np.log(_np.exp(a - m).sum(axis=axes, keepdims=True)) + m
        ctx.axes, ctx.keepdim = axes, keepdim
        if not keepdim:
            s = s.reshape([d for i, d in enumerate(s.shape) if axes is not None and i not in axes])
        s = _c(s)
        ctx.save_for_backward(a, s)     # the returned array itself, so double backward sees it as the output
        return s

    @staticmethod
    def backward(ctx, g):
        a, s = ctx.saved_tensors
        if not ctx.keepdim:
            s = s.reshape(_kept_shape(a.shape, ctx.axes))
        g = _unsqueeze_to(g, a.shape, ctx.axes, ctx.keepdim)
        return E.mul(g, E.exp(E.sub(a, s))), None, None


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably (max-shifted)."""
    if input._data.dtype.kind != "f":
        input = input.float()
    return LogSumExp.apply(input, _dims(dim, input._data.ndim, "logsumexp"), keepdim)


# PyTorch's CPU cumsum/cumprod accumulate float16 in float32 and float32 in float64 (its acc_type), rounding each
# running value once: cumprod([1e20, 1e20, 1e-20]) is [1e20, inf, 1e20] in float32
_CUM_ACC = {_np.dtype(_np.float16): _np.float32, _np.dtype(_np.float32): _np.float64}


class CumSum(Function):
    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        if a.ndim == 0:
            return a.astype(a.dtype if a.dtype.kind == "f" else _np.int64)
        # (ember's compiled kernel where it applies: the same float64 running sums, their bits; NumPy's runs a
        # scalar chain and two casts)
        if a.dtype.kind == "f" and (out := _ck.cumsum(a, axis)) is not None:
            return out
        if a.dtype in _CUM_ACC:         # accumulated in a wider dtype, as PyTorch's CPU scan
            with _np.errstate(over="ignore"):
                return _c(_np.cumsum(a, axis=axis, dtype=_CUM_ACC[a.dtype]).astype(a.dtype))
        return _c(_np.cumsum(a, axis=axis, dtype=a.dtype if a.dtype.kind == "f" else _np.int64))

    @staticmethod
    def backward(ctx, g):
        from .shape import flip
        return flip(cumsum(flip(g, [ctx.axis]), ctx.axis), [ctx.axis]), None


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``."""
    if dtype is not None:
        _no_int_grad(input, dtype, "cumsum")
        input = input.to(dtype)
    r = CumSum.apply(input, _wrap_dim(int(dim), input._data.ndim, "cumsum"))
    return r if dtype is None or r._data.dtype == _dt.to_dtype(dtype) else E.cast(r, dtype)


class CumProd(Function):
    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        if a.ndim == 0:
            out = a.copy()
        elif a.dtype in _CUM_ACC:       # accumulated in a wider dtype, as PyTorch's CPU scan
            with _np.errstate(over="ignore", invalid="ignore"):
                out = _np.cumprod(a, axis=axis, dtype=_CUM_ACC[a.dtype]).astype(a.dtype)
        else:
            out = _np.cumprod(a, axis=axis)
        out = _c(out)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from .shape import flip
        a, out = ctx.saved_tensors
        ax = ctx.axis
        if a.ndim == 0 or a.shape[ax] == 1:
            return g, None
        iszero = a._data == 0
        if not iszero.any():
            return E.div(flip(cumsum(flip(E.mul(g, out), [ax]), ax), [ax]), a), None
        # PyTorch's rule per slice: before the first zero, the division formula over the terms before that zero;
        # at the first zero, the exact sum of products up to the second zero; 0 after it (kept as the exact
        # product there, finite values only, so that double backward stays right)
        # The restricted sums equal the full ones wherever those are finite; the full ones are used there, as
        # they also differentiate right (double backward), the restricted ones only where inf/NaN got in.
        c = _np.cumsum(iszero, axis=ax)
        before = Tensor._make(c == 0)
        rev = flip(cumsum(flip(E.mul(g, out), [ax]), ax), [ax])
        if not _np.isfinite(rev._data).all():
            w = E.where(before, E.mul(g, out), 0.0)
            rev = E.where(Tensor._make(_np.isfinite(rev._data)), rev, flip(cumsum(flip(w, [ax]), ax), [ax]))
        exact = _cumprod_backward_with_zeros(g, a, ax, None)
        if not _np.isfinite(exact._data).all():
            exact = E.where(Tensor._make(_np.isfinite(exact._data)), exact, _cumprod_backward_with_zeros(g, a, ax, c))
        after_bad = Tensor._make((c >= 1) & ~(iszero & (c == 1)) & ~_np.isfinite(exact._data))   # 0 * inf: torch: 0
        exact = E.where(after_bad, 0.0, exact)
        return E.where(before, E.div(rev, E.where(before, a, 1.0)), exact), None


def _cumprod_backward_with_zeros(g: Tensor, a: Tensor, ax: int, c) -> Tensor:
    """sum_j g_j * d out_j / d a_i, with d out_j / d a_i = prod_{k <= j, k != i} a_k for j >= i (O(n^2) along
    ``ax``, exact with zeros); given the running zero count ``c``, for i at a slice's first zero only the j
    before its second zero count (PyTorch's value when inf/NaN follow the second zero)."""
    n = a.shape[ax]
    am, gm = a.movedim(ax, -1), g.movedim(ax, -1)
    cm = None if c is None else _np.moveaxis(c, ax, -1)
    xp = _xp(a._data)
    eye = Tensor._make(xp.eye(n, dtype=bool))
    others = cumprod(E.where(eye, 1.0, am.unsqueeze(-2)), -1)        # [..., i, j]
    keep = xp.triu(xp.ones((n, n), bool))
    if c is not None:
        first = (am._data == 0) & (cm == 1)
        keep = keep & ~(first[..., :, None] & (cm[..., None, :] >= 2))
    terms = E.where(Tensor._make(keep), E.mul(others, gm.unsqueeze(-2)), 0.0)
    return sum(terms, -1).movedim(-1, ax)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    if dtype is not None:
        _no_int_grad(input, dtype, "cumprod")
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != _dt.int64:
        input = E.cast(input, _dt.int64)
    r = CumProd.apply(input, _wrap_dim(int(dim), input._data.ndim, "cumprod"))
    return r if dtype is None or r._data.dtype == _dt.to_dtype(dtype) else E.cast(r, dtype)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element along ``dim`` is nonzero; bool result (uint8 for a uint8 input, as PyTorch)."""
    axes = _dims(dim, input._data.ndim, "all")
    r = _c(_as_array(input._data.all(axis=axes, keepdims=keepdim)))
    return Tensor._make(r.astype(_np.uint8) if input._data.dtype == _np.uint8 else r)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element along ``dim`` is nonzero; bool result (uint8 for a uint8 input, as PyTorch)."""
    axes = _dims(dim, input._data.ndim, "any")
    r = _c(_as_array(input._data.any(axis=axes, keepdims=keepdim)))
    return Tensor._make(r.astype(_np.uint8) if input._data.dtype == _np.uint8 else r)


def count_nonzero(input, dim=None):
    axes = _dims(dim, input._data.ndim, "count_nonzero")
    return Tensor._make(_c(_as_array(_np.count_nonzero(input._data, axis=axes), _np.int64)))


# -- softmax family ----------------------------------------------------------------------------------------------------
def _sum_keep(a, axis, from_size=0):
    """``a.sum(axis, keepdims=True)`` as ``Sum`` computes it (a GEMV or ``einsum`` over trailing or leading
    axes, ``_fastsum.sum_axes``: rows of 64 floats 271 -> 67 us for 8192 of them), or NumPy's sum below
    ``from_size`` elements (5.3 against 4.4 us on 64 rows of 128); None sums everything."""
    if axis is not None and a.size >= from_size and (out := sum_axes(a, (axis,), True)) is not None:
        return out
    return _reduce(_np.add, a, axis, True)


_SOFTMAX_GEMV_FROM = 1 << 15


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis):
        if a.ndim == 0:
            axis = None
        if a.size == 0:
            z = a.copy()
            ctx.save_for_backward(z)
            ctx.axis = axis
            return z
        z = _ck.softmax(a, axis, False)          # (ember's compiled kernel: the steps below, a row at a time)
        if z is None:
            z = _as_array(a - a.max(axis=axis, keepdims=True))
            _np.exp(z, out=z)
            z /= _sum_keep(z, axis, _SOFTMAX_GEMV_FROM)
            z = _c(z)
        ctx.save_for_backward(z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # y * (g - sum(g * y)), PyTorch's order (no cancellation between two products)
        return E.mul(y, E.sub(g, sum(E.mul(g, y), ctx.axis, keepdim=True))), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, axis):
        if a.ndim == 0:
            axis = None
        if a.size == 0:
            z = a.copy()
            ctx.save_for_backward(z)
            ctx.axis = axis
            return z
        z = _ck.softmax(a, axis, True)
        if z is None:
            z = _as_array(a - a.max(axis=axis, keepdims=True))
            z -= _np.log(_sum_keep(_np.exp(z), axis, _SOFTMAX_GEMV_FROM))
            z = _c(z)
        ctx.save_for_backward(z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return E.sub(g, E.mul(E.exp(y), sum(g, ctx.axis, keepdim=True))), None


def _softmax_dim(x, dim, op):
    if dim is None:   # PyTorch's legacy implicit choice
        dim = 0 if x._data.ndim in (0, 1, 3) else 1
    return _wrap_dim(int(dim), x._data.ndim, op)


def _softmax_input(x, dtype, op):
    if dtype is not None:
        return x.to(dtype)
    if x._data.dtype.kind != "f":
        if x._data.size == 0:           # PyTorch returns an empty tensor of the input's dtype
            return None
        raise _dt.DtypeNotImplementedError(f"{op}: not implemented for {x.dtype} inputs; pass dtype= or convert "
                                           f"with .float() first")
    return x


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, one stable op (max-shifted: no overflow at inputs of 1e4)."""
    xf = _softmax_input(input, dtype, "softmax")
    if xf is None:
        _softmax_dim(input, dim, "softmax")
        return input.clone()
    input = xf
    return Softmax.apply(input, _softmax_dim(input, dim, "softmax"))


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, one stable op."""
    xf = _softmax_input(input, dtype, "log_softmax")
    if xf is None:
        _softmax_dim(input, dim, "log_softmax")
        return input.clone()
    input = xf
    return LogSoftmax.apply(input, _softmax_dim(input, dim, "log_softmax"))


def softmin(input: Tensor, dim=None, dtype=None) -> Tensor:
    return softmax(E.neg(input), dim, dtype)


# the norms live in a sibling module; re-exported so every old import path works
from ._reduce_norm import NormInf, PNorm, _NonZero, _SafeSqrt, dist, norm  # noqa: E402,F401
