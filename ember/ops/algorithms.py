"""Order statistics, scans, set operations, histograms, grids and small matrix builders: PyTorch's top-level
``kthvalue``, ``median``/``nanmedian``, ``mode``, ``quantile``, ``cummax``/``cummin``, ``logcumsumexp``,
``msort``, ``unique``/``unique_consecutive``, ``isin``, ``diff``, ``histc``/``histogram``, ``bincount``,
``bucketize``/``searchsorted``, ``meshgrid``, ``cartesian_prod``, ``combinations``, ``tril_indices``/
``triu_indices``, ``cdist``, ``cross``, ``vander``, ``block_diag``, ``diag_embed``/``diagflat``,
``atleast_1d/2d/3d``, ``cov``/``corrcoef``, ``trapezoid``, and the matrix aliases ``svd``, ``qr``, ``cholesky``,
``pinverse``, ``matrix_power``, ``chain_matmul``, ``cholesky_solve``, ``cholesky_inverse``.

Selections (median, kthvalue, mode, cummax, ...) return PyTorch's ``(values, indices)`` named tuples with its
tie and NaN rules, and send the gradient to the selected element, as PyTorch does.  Counting and set
operations are not differentiable.
"""
from __future__ import annotations

import builtins
import itertools
import math
import warnings
from typing import NamedTuple

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..tensor import Tensor, _wrap_dim, _to_array
from . import elementwise as E
from . import reduce as R
from .index import gather, scatter_add
from .shape import cat, stack, pad
from .linalg import matmul, _as_t, _float_input


def _t(x):
    return _as_t(x)


def _canon(a):
    """A C-contiguous copy with canonical strides (NumPy keeps odd strides on size-1 dims of a moved array)."""
    out = _np.empty(a.shape, a.dtype)
    out[...] = a
    return out


_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def _no_bool(x, kernel, allow_scalar=False, size=None):
    """PyTorch's CPU kernels without a bool version raise once they run (not for empty inputs)."""
    n = x._data.size if size is None else size
    if x._data.dtype == _np.bool_ and n and not (allow_scalar and x._data.ndim == 0):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _no_int(x, kernel):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_NAMES.get(str(x._data.dtype))}\'')


def _axis(x, dim, op):
    return _wrap_dim(int(dim), x._data.ndim, op)


class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


def _select(x, idx, axis, keepdim):
    """values = x gathered at ``idx`` (keepdim shape) along ``axis``; the gradient goes to those elements."""
    if x._data.ndim == 0:
        return _ValuesIndices(E.mul(x, 1) if x.requires_grad else Tensor._make(x._data.copy()),
                              Tensor._make(_np.zeros((), _np.int64)))
    vals = gather(x, axis, Tensor._make(idx))
    if not keepdim:
        vals = vals.squeeze(axis)
        idx = idx.squeeze(axis)
    return _ValuesIndices(vals, Tensor._make(_np.array(idx, _np.int64, order="C")))


def _check_len(x, axis, op):
    if x._data.ndim and x._data.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size (shape {tuple(x.shape)})")


# -- order statistics ----------------------------------------------------------------------------------------
def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False) -> _ValuesIndices:
    """The ``k``-th smallest element along ``dim`` (1-based) and its index (``torch.kthvalue``); NaN sorts
    last."""
    x = _t(input)
    _no_bool(x, "kthvalue_cpu", allow_scalar=True, size=1)
    axis = _axis(x, dim, "kthvalue")
    n = x._data.shape[axis] if x._data.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k = {k} out of range for dimension {axis} of size {n} "
                         f"(shape {tuple(x.shape)})")
    if x._data.ndim == 0:
        return _select(x, None, 0, keepdim)
    order = _np.argsort(x._data, axis=axis, kind="stable")
    idx = _np.take(order, [k - 1], axis=axis)
    return _select(x, idx, axis, keepdim)


def _median_index(a, axis, ignore_nan):
    """Index (keepdim shape) of the lower median along ``axis``: with NaN present, the first NaN (median) or
    the median of the other values (nanmedian; index 0 when all are NaN)."""
    n = a.shape[axis]
    order = _np.argsort(a, axis=axis, kind="stable")           # NaN last, in their original order
    nan_count = _np.isnan(a).sum(axis=axis, keepdims=True) if a.dtype.kind == "f" else \
        _np.zeros_like(_np.take(a, [0], axis=axis), dtype=_np.int64)
    valid = n - nan_count
    if ignore_nan:
        pos = _np.where(valid > 0, (valid - 1) // 2, 0)
    else:
        pos = _np.where(nan_count > 0, valid, (n - 1) // 2)
    return _np.take_along_axis(order, pos.astype(_np.int64), axis=axis)


def _median(x, dim, keepdim, ignore_nan, op):
    x = _t(x)
    _no_bool(x, "median_cpu", size=None) if dim is None else _no_bool(x, "median_out", size=1)
    if dim is None:
        if x._data.size == 0:       # PyTorch: nan, or the lowest value of an integer dtype
            fill = _np.nan if x._data.dtype.kind == "f" else True if x._data.dtype == _np.bool_ else \
                _np.iinfo(x._data.dtype).min
            if x.requires_grad:                                 # nan that still requires grad (as PyTorch)
                return E.add(E.mul(R.sum(x), 0), fill)
            return Tensor._make(_np.asarray(fill, x._data.dtype))
        flat = x.reshape(-1)
        idx = _median_index(flat._data, 0, ignore_nan)
        # the median of all elements shares its gradient evenly among the elements equal to it (NaN equal
        # to NaN), as PyTorch; the dim= form sends it to the one index
        return _MedianAll.apply(x, flat._data[idx[0]])
    axis = _axis(x, dim, op)
    _check_len(x, axis, op)
    if x._data.ndim == 0:
        return _select(x, None, 0, keepdim)
    return _select(x, _median_index(x._data, axis, ignore_nan), axis, keepdim)


class _MedianAll(Function):
    @staticmethod
    def forward(ctx, a, value):
        ctx.mask = (a == value) | (_np.isnan(a) & _np.isnan(value)) if a.dtype.kind == "f" else a == value
        return _np.asarray(value, a.dtype)

    @staticmethod
    def backward(ctx, g):
        w = ctx.mask / max(int(ctx.mask.sum()), 1)
        return E.mul(g, Tensor._make(w.astype(g._data.dtype))), None


def median(input, dim=None, keepdim: bool = False):
    """The lower median (``torch.median``): of all elements (a 0-d tensor), or along ``dim`` as
    ``(values, indices)``.  A NaN makes the median NaN (its index is the first NaN's)."""
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim: bool = False):
    """``median`` ignoring NaN (``torch.nanmedian``); NaN only where every value is NaN."""
    return _median(input, dim, keepdim, True, "nanmedian")


def mode(input, dim: int = -1, keepdim: bool = False) -> _ValuesIndices:
    """The most frequent value along ``dim`` and the index of its last occurrence (``torch.mode``); ties in
    frequency go to the smallest value."""
    x = _t(input)
    axis = _axis(x, dim, "mode")
    _check_len(x, axis, "mode")
    if x._data.ndim == 0:
        return _select(x, None, 0, keepdim)
    a = _np.moveaxis(x._data, axis, -1)
    flat = a.reshape(-1, a.shape[-1])
    out_idx = _np.empty(len(flat), _np.int64)
    for r, row in enumerate(flat):
        vals, counts = _np.unique(row, return_counts=True, equal_nan=False)
        best = vals[_np.argmax(counts)]                 # first maximum = smallest value among the ties
        hits = _np.nonzero(row == best)[0] if best == best else _np.nonzero(row != row)[0]
        out_idx[r] = hits[-1]
    idx = _np.expand_dims(out_idx.reshape(a.shape[:-1]), axis)
    return _select(x, idx, axis, keepdim)


def msort(input) -> Tensor:
    """Sort along dim 0 (``torch.msort``): ``sort(input, dim=0).values``."""
    from .index import sort
    return sort(_t(input), 0).values


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan, op):
    x = _float_input(x, op, 0)
    scalar_q = not isinstance(q, Tensor)
    qa = _np.asarray(q._data if isinstance(q, Tensor) else q, dtype=x._data.dtype)
    if qa.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {qa.shape}")
    if _np.any((qa < 0) | (qa > 1)):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1], got {qa.tolist()}")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    if dim is None:
        src, axis = x.reshape(-1), 0
    else:
        axis = _axis(x, dim, op)
        src = x if x._data.ndim else x.reshape(1)
    n = src._data.shape[axis]
    if n == 0 or x._data.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty (shape {tuple(x.shape)})")
    from .index import sort
    s = sort(src, axis).values                                         # NaN sorts last
    nan_count = _np.isnan(src._data).sum(axis=axis, keepdims=True)
    valid = (n - nan_count).astype(x._data.dtype)
    outs = []
    for qv in qa.reshape(-1):
        rank = qv * (valid - 1) if ignore_nan else _np.where(nan_count > 0, n - 1, qv * (n - 1)) + 0 * valid
        rank = _np.maximum(rank, 0)
        lo = _np.floor(rank).astype(_np.int64)
        hi = _np.ceil(rank).astype(_np.int64)
        frac = rank - lo
        if interpolation == "lower":
            hi, frac = lo, frac * 0
        elif interpolation == "higher":
            lo, frac = hi, frac * 0
        elif interpolation == "nearest":
            near = _np.where(_np.round(rank) == rank, rank, _np.round(rank)).astype(_np.int64)   # half to even
            lo = hi = near
            frac = frac * 0
        elif interpolation == "midpoint":
            frac = _np.where(hi > lo, 0.5, 0.0).astype(x._data.dtype)
        vlo = gather(s, axis, Tensor._make(lo))
        vhi = gather(s, axis, Tensor._make(hi))
        val = E.lerp(vlo, vhi, Tensor._make(_np.asarray(frac, x._data.dtype)))
        if not ignore_nan:
            val = E.where(Tensor._make(nan_count > 0), float("nan"), val)
        else:
            val = E.where(Tensor._make(valid == 0), float("nan"), val)
        if not keepdim:
            val = val.squeeze(axis)
        elif dim is None:
            val = val.reshape((1,) * x._data.ndim)
        outs.append(val)
    return outs[0] if scalar_q or qa.ndim == 0 else stack(outs, 0)


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The ``q``-quantiles (scalar or 1-D ``q`` in [0, 1]) over ``dim`` or all elements (``torch.quantile``),
    with PyTorch's interpolation modes; a NaN makes the result NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaN (``torch.nanquantile``)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# -- scans ---------------------------------------------------------------------------------------------------
class _CumExtreme(Function):
    @staticmethod
    def forward(ctx, a, axis, is_max):
        m = _np.moveaxis(a, axis, 0)
        vals = _np.empty_like(m)
        idx = _np.empty(m.shape, _np.int64)
        if m.shape[0]:
            vals[0], idx[0] = m[0], 0
            isf = m.dtype.kind == "f"
            for i in range(1, m.shape[0]):
                cur, best = m[i], vals[i - 1]
                # ties move the index forward; a NaN wins and stays (PyTorch's rule)
                take = (cur >= best) if is_max else (cur <= best)
                if isf:
                    take = take | _np.isnan(cur)
                    take &= ~(_np.isnan(best) & ~_np.isnan(cur))
                vals[i] = _np.where(take, cur, best)
                idx[i] = _np.where(take, i, idx[i - 1])
        ctx.idx, ctx.axis, ctx.shape = _canon(_np.moveaxis(idx, 0, axis)), axis, a.shape
        ctx.mark_non_differentiable(ctx.idx)
        return _canon(_np.moveaxis(vals, 0, axis)), ctx.idx

    @staticmethod
    def backward(ctx, g, gi):
        zeros = Tensor._make(_np.zeros(ctx.shape, g._data.dtype))
        return scatter_add(zeros, ctx.axis, Tensor._make(ctx.idx), g), None, None


def _cum_extreme(input, dim, is_max, op):
    x = _t(input)
    axis = _axis(x, dim, op)
    if x._data.ndim == 0:
        return _ValuesIndices(E.mul(x, 1) if x.requires_grad else Tensor._make(x._data.copy()),
                              Tensor._make(_np.zeros((), _np.int64)))
    v, i = _CumExtreme.apply(x, axis, is_max)
    return _ValuesIndices(v, Tensor._make(i._data))


def cummax(input, dim: int) -> _ValuesIndices:
    """Running maximum along ``dim`` and the index where it was reached (``torch.cummax``: ties take the
    later index; NaN propagates)."""
    return _cum_extreme(input, dim, True, "cummax")


def cummin(input, dim: int) -> _ValuesIndices:
    """Running minimum along ``dim`` and its index (``torch.cummin``)."""
    return _cum_extreme(input, dim, False, "cummin")


class _LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, a, axis):
        out = _canon(_np.logaddexp.accumulate(a, axis=axis)) if a.size else a.copy()
        ctx.axis = axis
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        ax = ctx.axis
        # dx_i = sum_{j >= i} g_j exp(x_i - out_j), split by the sign of g and summed in log space
        res = None
        for part in (E.clamp_min(g, 0), E.neg(E.clamp_max(g, 0))):
            lg = E.sub(E.log(part), out)
            rev = logcumsumexp(lg.flip(ax), ax).flip(ax)
            term = E.exp(E.add(x, rev))
            res = term if res is None else E.sub(res, term)
        return res, None


def logcumsumexp(input, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably (``torch.logcumsumexp``)."""
    x = _t(input)
    _no_int(x, "logcumsumexp_out_cpu")
    axis = _axis(x, dim, "logcumsumexp")
    if x._data.ndim == 0:
        return E.mul(x, 1)
    return _LogCumSumExp.apply(x, axis)


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """``n``-th forward difference along ``dim`` (``torch.diff``), after joining ``prepend``/``append``;
    bool tensors use xor."""
    x = _t(input)
    if x._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _axis(x, dim, "diff")
    parts = []
    for extra, name in ((prepend, "prepend"), (append, "append")):
        if extra is None:
            parts.append(None)
            continue
        e = _t(extra)
        if e._data.ndim == 0:
            shape = list(x._data.shape)
            shape[axis] = 1
            e = e.expand(tuple(shape))
        elif e._data.ndim != x._data.ndim:
            raise RuntimeError(f"diff expects {name} and input to have the same number of dimensions, got "
                               f"{tuple(e.shape)} and {tuple(x.shape)}")
        parts.append(e)
    seq = [p for p in (parts[0], x, parts[1]) if p is not None]
    if len(seq) > 1:
        x = cat(seq, axis)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for _ in range(n):
        length = x._data.shape[axis]
        if length == 0:
            break
        hi, lo = x.narrow(axis, 1, length - 1), x.narrow(axis, 0, length - 1)
        x = E.logical_xor(hi, lo) if x._data.dtype == _np.bool_ else E.sub(hi, lo)
    return x


# -- set operations and counting -----------------------------------------------------------------------------
class _NoGrad(Function):
    """Values that require grad (as PyTorch's) but whose derivative PyTorch does not implement."""

    @staticmethod
    def forward(ctx, a, out, name):
        ctx.name = name
        return out

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"the derivative for '{ctx.name}' is not implemented.")


def _nograd_values(x, arr, name):
    if x.requires_grad:
        return _NoGrad.apply(x, arr, name)
    return Tensor._make(arr)


def _unique_rows(a2):
    """Sorted unique rows of a 2-D array (lexicographic), the inverse map and counts."""
    if a2.shape[0] == 0:
        return a2, _np.zeros(0, _np.int64), _np.zeros(0, _np.int64)
    order = _np.lexsort(a2.T[::-1]) if a2.shape[1] else _np.arange(a2.shape[0])
    srt = a2[order]
    new = _np.ones(len(srt), bool)
    if a2.shape[1]:
        new[1:] = _np.any(srt[1:] != srt[:-1], axis=1)
    else:
        new[1:] = False
    group = _np.cumsum(new) - 1
    inv = _np.empty(len(srt), _np.int64)
    inv[order] = group
    counts = _np.bincount(group).astype(_np.int64)
    return srt[new], inv, counts


def _check_zero_dims(a, axis):
    if any(s == 0 for i, s in enumerate(a.shape) if i != axis):
        raise RuntimeError(f"There are 0 sized dimensions, and they aren't selected, so unique cannot be applied "
                           f"(shape {tuple(a.shape)}, dim {axis})")


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Unique elements (``torch.unique``), always sorted (as PyTorch on CPU); ``return_inverse`` maps each
    element (or slice along ``dim``) to its position in the result, ``return_counts`` counts them.  NaNs are
    not equal to each other."""
    x = _t(input)
    a = x._data
    if dim is None:
        flat = a.reshape(-1)
        vals, inv, counts = _np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(a.shape).astype(_np.int64)
        out = _nograd_values(x, vals, "_unique2")
    else:
        axis = _axis(x, dim, "unique")
        _check_zero_dims(a, axis)
        moved = _np.moveaxis(a, axis, 0)
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
        u, inv, counts = _unique_rows(rows)
        vals = _np.moveaxis(u.reshape((len(u),) + moved.shape[1:]), 0, axis)
        out = _nograd_values(x, _canon(vals), "unique_dim")
    res = [out]
    if return_inverse:
        res.append(Tensor._make(_np.asarray(inv, _np.int64)))
    if return_counts:
        res.append(Tensor._make(_np.asarray(counts, _np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``) (``torch.unique_consecutive``)."""
    x = _t(input)
    a = x._data
    if dim is None:
        rows = a.reshape(-1, 1)
        shape_inv = a.shape
    else:
        axis = _axis(x, dim, "unique_consecutive")
        _check_zero_dims(a, axis)
        moved = _np.moveaxis(a, axis, 0)
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
        shape_inv = (moved.shape[0],)
    n = rows.shape[0]
    new = _np.ones(n, bool)
    if n > 1:
        new[1:] = _np.any(rows[1:] != rows[:-1], axis=1) if rows.shape[1] else False
    group = _np.cumsum(new) - 1
    counts = _np.diff(_np.append(_np.nonzero(new)[0], n)).astype(_np.int64)
    keep = rows[new]
    if dim is None:
        vals = keep.reshape(-1)
    else:
        vals = _canon(_np.moveaxis(keep.reshape((len(keep),) + moved.shape[1:]), 0, axis))
    res = [_nograd_values(x, vals, "unique_consecutive")]
    if return_inverse:
        res.append(Tensor._make(group.reshape(shape_inv).astype(_np.int64)))
    if return_counts:
        res.append(Tensor._make(counts))
    return res[0] if len(res) == 1 else tuple(res)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Bool mask of ``elements`` found in ``test_elements`` (``torch.isin``); either may be a scalar."""
    e = _to_array(elements, None) if not isinstance(elements, Tensor) else elements._data
    t = _to_array(test_elements, None) if not isinstance(test_elements, Tensor) else test_elements._data
    if e.dtype == _np.bool_ or t.dtype == _np.bool_:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    return Tensor._make(_np.asarray(_np.isin(e, t, invert=invert)))


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer in a 1-D tensor (``torch.bincount``), or sums of ``weights``;
    int64 without weights, else the weights' float dtype (float64 for integer weights).  Differentiable in
    ``weights``."""
    x = _t(input)
    _no_bool(x, "bincount_cpu")
    a = x._data
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape {tuple(a.shape)} "
                           f"and dtype {a.dtype}")
    if a.size and a.min() < 0:
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got a minimum of "
                           f"{int(a.min())}")
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    length = builtins.max(int(a.max()) + 1 if a.size else 0, minlength)
    if weights is None:
        return Tensor._make(_np.bincount(a.astype(_np.int64), minlength=length).astype(_np.int64))
    w = _t(weights)
    if w._data.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got "
                           f"{tuple(w.shape)} and {tuple(a.shape)}")
    dt = w._data.dtype if w._data.dtype.kind == "f" else _np.float64
    out = _np.bincount(a.astype(_np.int64), weights=w._data.astype(_np.float64), minlength=length).astype(dt)
    return _nograd_values(w, out, "bincount")      # PyTorch: requires grad, derivative not implemented


def _hist_range(a, min, max, op):
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.{op}: range of [{lo}, {hi}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.{op}: max must be larger than min, got min {min} and max {max}")
    return lo, hi


def histc(input, bins: int = 100, min=0, max=0) -> Tensor:
    """Histogram of ``bins`` equal bins over [min, max] (``torch.histc``; the data's range when min == max);
    values outside are ignored, the last bin includes ``max``."""
    x = _t(input)
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(f'"histogram_cpu" not implemented for \'{ {"b": "Bool"}.get(a.dtype.kind, "Long")}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
    lo, hi = _hist_range(a, min, max, "histc")
    v = a.reshape(-1)
    v = v[(v >= lo) & (v <= hi)]
    # bin index as PyTorch computes it: (x - min) * bins / (max - min), the right edge into the last bin
    idx = ((v - lo) * bins / (hi - lo)).astype(_np.int64)
    idx = _np.minimum(idx, bins - 1)
    return Tensor._make(_np.bincount(idx, minlength=bins).astype(a.dtype))


class _Histogram(NamedTuple):
    hist: Tensor
    bin_edges: Tensor


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False) -> _Histogram:
    """``(hist, bin_edges)`` (``torch.histogram``): ``bins`` equal bins over ``range`` (the data's by default)
    or explicit increasing edges; optional ``weight`` and ``density``."""
    x = _t(input)
    a = x._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, got "
                           f"{a.dtype}")
    if a.dtype == _np.float16 and a.size:
        raise NotImplementedError('"histogramdd" not implemented for \'Half\'')
    w = None if weight is None else _t(weight)._data
    if isinstance(bins, Tensor):
        edges = bins._data.astype(a.dtype)
    else:
        if range is None:
            lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        else:
            lo, hi = float(range[0]), float(range[1])
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{lo}, {hi}] is not finite")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, got min {lo} max {hi}")
        if lo == hi:                  # PyTorch widens a single-value range by 0.5 each way
            lo, hi = lo - 0.5, hi + 0.5
        edges = _np.linspace(lo, hi, int(bins) + 1).astype(a.dtype)
    hist, _ = _np.histogram(a.reshape(-1), bins=edges.astype(_np.float64),
                            weights=None if w is None else w.reshape(-1), density=density)
    src = x if x.requires_grad or weight is None else _t(weight)      # PyTorch: requires grad, no derivative
    return _Histogram(_nograd_values(src, hist.astype(a.dtype), "histogram"),
                      _nograd_values(src, edges, "histogram"))


def searchsorted(sorted_sequence, values, *, out_int32: bool = False, right: bool = False, side=None,
                 sorter=None) -> Tensor:
    """Indices where ``input`` would be inserted into the innermost dim of ``sorted_sequence`` to keep it
    sorted (``torch.searchsorted``); a 1-D sequence serves every value, an N-D one matches ``input``'s
    leading dims row by row.  ``right``/``side='right'`` takes the position after equal values."""
    seq_t = _t(sorted_sequence)
    seq = seq_t._data
    scalar = not isinstance(values, Tensor)
    vals = _to_array(values, None) if scalar else values._data
    if vals.dtype != seq.dtype:
        # compare in PyTorch's promoted dtype (a 0-d value does not promote a 1-D float32 sequence)
        dt = _dt.result_type(seq_t, values if not scalar else values)
        seq, vals = seq.astype(dt, copy=False), _np.asarray(vals).astype(dt, copy=False)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if sorter is not None:
        seq = _np.take_along_axis(seq, _t(sorter)._data.astype(_np.int64), axis=-1)
    dt = _np.int32 if out_int32 else _np.int64
    _no_bool(Tensor._make(seq), "searchsorted_out_cpu", size=_np.size(vals))
    if seq.ndim <= 1:
        return Tensor._make(_np.asarray(_bsearch(seq[None, :], _np.asarray(vals).reshape(1, -1), right)
                                        .reshape(_np.shape(vals)), dt))
    if vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    s2 = seq.reshape(-1, seq.shape[-1])
    v2 = vals.reshape(-1, vals.shape[-1])
    out = _bsearch(s2, v2, right)
    return Tensor._make(out.reshape(vals.shape).astype(dt))


def _bsearch(seq, vals, right):
    """Row-wise binary search of ``vals`` (R, V) in ``seq`` (R, N) with PyTorch's comparisons: 'left' moves
    past elements that are not >= the value, 'right' past those not > it (so NaN values land at the end)."""
    n = seq.shape[-1]
    nan_free = seq.dtype.kind != "f" or not (_np.isnan(seq).any() or _np.isnan(vals).any())
    if nan_free and seq.shape[0] == 1 and (n < 2 or bool(_np.all(seq[0, 1:] >= seq[0, :-1]))):
        # a sorted NaN-free sequence: NumPy's search finds the same positions, in one fast call
        return _np.searchsorted(seq[0], vals[0], side="right" if right else "left").astype(_np.int64)[None]
    lo = _np.zeros(vals.shape, _np.int64)
    hi = _np.full(vals.shape, n, _np.int64)
    rows = _np.arange(seq.shape[0])[:, None]
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        mv = seq[rows, _np.minimum(mid, n - 1)]
        go_right = ~(mv > vals) if right else ~(mv >= vals)
        lo = _np.where(active & go_right, mid + 1, lo)
        hi = _np.where(active & ~go_right, mid, hi)


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """Index of the bucket of each value given 1-D increasing ``boundaries`` (``torch.bucketize``)."""
    b = _t(boundaries)
    if b._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b._data.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)


# -- grids and index builders --------------------------------------------------------------------------------
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (``torch.meshgrid``): ``indexing='ij'`` (the default) gives dims in
    argument order, ``'xy'`` swaps the first two (NumPy/Matlab's convention).  Results are broadcast views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("torch.meshgrid: expects a non-empty TensorList")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got "
                               f"{tuple(t.shape)} at position {i}")
    ts = [t.reshape(-1) for t in ts]
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: expects all tensors to have the same dtype")
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = [0] * len(ts)
    for i, t in enumerate(ts):
        shape[order[i]] = t.shape[0]
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[order[i]] = t.shape[0]
        out.append(t.reshape(tuple(view)).expand(tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """Cartesian product of 1-D tensors as rows (``torch.cartesian_prod``); one tensor is returned as is."""
    ts = [_t(t) for t in tensors]
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {tuple(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Length-``r`` combinations of a 1-D tensor's elements as rows (``torch.combinations``)."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {tuple(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(_np.zeros((0,), x._data.dtype))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = _np.asarray(list(gen(range(x.shape[0]), r)), _np.int64).reshape(-1, r)
    if idx.shape[0] == 0:
        return Tensor._make(_np.zeros((0, r) if r > 1 else (0,), x._data.dtype))
    out = x[Tensor._make(idx)]
    return out.reshape(-1) if r == 1 else out


def _tri_indices(row, col, offset, dtype, lower, op):
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row must be non-negative, got {row}" if row < 0 else
                           f"{op}: col must be non-negative, got {col}")
    r, c = _np.nonzero(_np.tri(row, col, offset, dtype=bool) if lower else ~_np.tri(row, col, offset - 1, dtype=bool))
    return Tensor._make(_np.stack([r, c]).astype(_dt.to_dtype(dtype) if dtype is not None else _np.int64))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory: bool = False) -> Tensor:
    """(2, N) row and column indices of the lower triangle of a row x col matrix (``torch.tril_indices``)."""
    return _tri_indices(row, col, offset, dtype, True, "tril_indices")


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory: bool = False) -> Tensor:
    """(2, N) indices of the upper triangle (``torch.triu_indices``)."""
    return _tri_indices(row, col, offset, dtype, False, "triu_indices")


# -- distances and products ----------------------------------------------------------------------------------
def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """Pairwise ``p``-norm distances between the rows of ``x1`` (B, P, M) and ``x2`` (B, R, M) -> (B, P, R)
    (``torch.cdist``); the gradient at a zero distance is 0."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    if a._data.dtype.kind != "f" or b._data.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {a.dtype}, X2 got: {b.dtype}")
    if a._data.dtype == _np.float16:
        raise NotImplementedError('"cdist" not implemented for \'Half\'')
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise RuntimeError(f"{compute_mode} is not a valid value for compute_mode")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {a.dtype} and {b.dtype}")
    big = a.shape[-2] > 25 or b.shape[-2] > 25
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                   (compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and big)):
        # PyTorch's switch: for more than 25 rows, ||x||^2 + ||y||^2 - 2 x.y by a matrix product (O(P R) memory)
        return _CdistMM.apply(a, b)
    from ..linalg import vector_norm
    d = E.sub(a.unsqueeze(-2), b.unsqueeze(-3))
    return vector_norm(d, p, dim=-1)


class _CdistMM(Function):
    @staticmethod
    def forward(ctx, x, y):
        xn = (x * x).sum(-1)[..., :, None]
        yn = (y * y).sum(-1)[..., None, :]
        d2 = xn + yn - 2 * (x @ _np.swapaxes(y, -1, -2))
        out = _np.sqrt(_np.maximum(d2, 0))
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, d = ctx.saved_tensors
        # d d_ij / d x_i = (x_i - y_j) / d_ij, taken as 0 at d_ij == 0 (PyTorch's rule)
        nz = E.ne(d, 0)
        w = E.where(nz, E.div(g, E.where(nz, d, 1.0)), 0.0)
        gx = E.sub(E.mul(x, R.sum(w, -1, keepdim=True)), matmul(w, y)) if ctx.needs_input_grad[0] else None
        gy = E.sub(E.mul(y, R.sum(w, -2).unsqueeze(-1)), matmul(w.transpose(-1, -2), x)) \
            if ctx.needs_input_grad[1] else None
        return gx, gy


def cross(input, other, dim=None) -> Tensor:
    """Cross product of 3-vectors (``torch.cross``); without ``dim``, the first dim of size 3 (PyTorch's
    deprecated default, with its warning)."""
    from ..linalg import cross as _cross
    a, b = _t(input), _t(other)
    if dim is None:
        shape = _np.broadcast_shapes(a._data.shape, b._data.shape)
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please either pass the dim "
                      "explicitly or simply use torch.linalg.cross.", UserWarning, stacklevel=2)
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {tuple(a.shape)} and {tuple(b.shape)})")
        dim = dims[0]
    return _cross(a, b, dim=dim)


def vander(x, N=None, increasing: bool = False) -> Tensor:
    """Vandermonde matrix of a 1-D tensor (``torch.vander``): columns ``x^(N-1) .. x^0`` (decreasing unless
    ``increasing``)."""
    x = _t(x)
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"N must be non-negative, got {N}")
    if x._data.dtype.kind in "bui":
        x = E.cast(x, _np.int64) if x._data.dtype != _np.int64 else x
    if n == 0:
        return Tensor._make(_np.zeros((x.shape[0], 0), x._data.dtype))
    cols = [Tensor._make(_np.ones(x._data.shape, x._data.dtype))]
    for _ in range(1, n):
        cols.append(E.mul(cols[-1], x))
    if not increasing:
        cols = cols[::-1]
    return stack(cols, 1)


def block_diag(*tensors) -> Tensor:
    """Block-diagonal matrix of 0-, 1- or 2-D tensors (``torch.block_diag``; a 1-D tensor is a row);
    dtypes are promoted."""
    ts = []
    for i, t in enumerate(tensors):
        t = _t(t)
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        ts.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not ts:
        return Tensor._make(_np.zeros((1, 0), _dt.get_default_dtype()))
    dt = _dt.result_type(*[_t(t) for t in tensors])
    cols = builtins.sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        t = E.cast(t, dt) if t._data.dtype != dt else t
        w = t.shape[1]
        rows.append(pad(t, (left, cols - left - w)) if cols else t)
        left += w
    return cat(rows, 0).contiguous()


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal (in dims ``dim1``, ``dim2`` of the result) holds the last dim of
    ``input`` (``torch.diag_embed``)."""
    x = _t(input)
    nd = x.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd, "diag_embed"), _wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = x.shape[-1] if x.ndim else 1
    xs = x if x.ndim else x.reshape(1)
    eye = Tensor._make(_np.eye(n, dtype=bool))
    m = E.where(eye, xs.unsqueeze(-1), Tensor._make(_np.zeros((), xs._data.dtype)))
    k = builtins.abs(offset)
    if k:
        m = pad(m, (k, 0, 0, k) if offset > 0 else (0, k, k, 0))
    return m.movedim((-2, -1), (d1, d2)).contiguous()        # PyTorch's result is a fresh contiguous tensor


def diagflat(input, offset: int = 0) -> Tensor:
    """A 2-D matrix with the flattened input on its ``offset`` diagonal (``torch.diagflat``)."""
    return diag_embed(_t(input).reshape(-1), offset)


def _atleast(n, tensors):
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    seq = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in seq:
        t = _t(t)
        if t.ndim < n:
            if n == 3 and t.ndim == 2:
                t = t.unsqueeze(-1)
            elif n == 3 and t.ndim == 1:
                t = t.reshape(1, -1, 1)
            else:
                t = t.reshape((1,) * (n - t.ndim) + tuple(t.shape))
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Views with at least 1 dim (``torch.atleast_1d``); several tensors (or a list) give a tuple."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Views with at least 2 dims: a 1-D (n) becomes (1, n) (``torch.atleast_2d``)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Views with at least 3 dims: (n) -> (1, n, 1), (m, n) -> (m, n, 1) (``torch.atleast_3d``)."""
    return _atleast(3, tensors)


def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance of the rows (variables) of a 2-D tensor whose columns are observations (``torch.cov``),
    with optional integer frequency and float observation weights."""
    x = _t(input)
    if x._data.dtype == _np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{x.ndim} dimensions")
    if x._data.dtype.kind != "f":
        x = E.cast(x, _dt.get_default_dtype())
    x2 = x.reshape(1, -1) if x.ndim < 2 else x
    nobs = x2.shape[1]
    w = None
    if fweights is not None:
        fw = _t(fweights)
        if fw._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with {fw.dtype}")
        if fw._data.size and fw._data.min() < 0:
            raise RuntimeError("cov(): fweights cannot be negative")
        w = E.cast(fw, x._data.dtype)
    if aweights is not None:
        aw = _t(aweights)
        if aw._data.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{aw.dtype}")
        if aw._data.size and aw._data.min() < 0:
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aw if w is None else E.mul(w, aw)
    if w is None:
        wsum = float(nobs)
        avg = R.mean(x2, 1, keepdim=True)
        norm = wsum - correction
    else:
        wsum_t = R.sum(w)
        avg = E.div(R.sum(E.mul(x2, w), 1, keepdim=True), wsum_t)
        if correction == 0:
            norm = wsum_t
        elif aweights is None:
            norm = E.sub(wsum_t, correction)
        else:
            norm = E.sub(wsum_t, E.div(E.mul(R.sum(E.mul(w, _t(aweights))), correction), wsum_t))
    xc = E.sub(x2, avg)
    xw = E.mul(xc, w) if w is not None else xc
    c = matmul(xw, xc.transpose(0, 1))
    if isinstance(norm, (int, float)):
        c = E.div(c, builtins.max(norm, 0) if norm > 0 else 0.0) if norm > 0 else E.div(c, 0.0)
    else:
        c = E.div(c, E.clamp_min(norm, 0))
    return c.reshape(()) if x.ndim < 2 or x.shape[0] == 1 else c    # one variable: a 0-d result


def corrcoef(input) -> Tensor:
    """Pearson correlation coefficients of the rows (``torch.corrcoef``), clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return E.div(c, c)
    d = c.diagonal()
    sd = E.sqrt(d)
    c = E.div(E.div(c, sd.unsqueeze(1)), sd.unsqueeze(0))
    return E.clamp(c, -1, 1)


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Trapezoidal rule along ``dim`` with sample points ``x`` or spacing ``dx`` (``torch.trapezoid``)."""
    y = _t(y)
    axis = _axis(y, dim, "trapezoid")
    n = y.shape[axis]
    if n == 0:
        return Tensor._make(_np.zeros(y.shape[:axis] + y.shape[axis + 1:], y._data.dtype))
    if y._data.dtype == _np.bool_:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    if n == 1:                                        # zero, but NaN/inf still propagate (as PyTorch)
        return E.mul(R.sum(E._to_float(y), axis), 0.0)
    lo, hi = y.narrow(axis, 0, n - 1), y.narrow(axis, 1, n - 1)
    avg = E.mul(E.add(lo, hi), 0.5)
    if x is not None:
        xt = _t(x)
        d = diff(xt, dim=dim if xt.ndim > 1 else -1)
        if xt.ndim == 1:
            shape = [1] * y.ndim
            shape[axis] = n - 1
            d = d.reshape(tuple(shape))
        return R.sum(E.mul(avg, d), axis)
    return E.mul(R.sum(avg, axis), 1.0 if dx is None else dx)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Running trapezoidal integral along ``dim`` (``torch.cumulative_trapezoid``)."""
    y = _t(y)
    if y._data.dtype == _np.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    axis = _axis(y, dim, "cumulative_trapezoid")
    n = y.shape[axis]
    lo, hi = y.narrow(axis, 0, builtins.max(n - 1, 0)), y.narrow(axis, builtins.min(1, n), builtins.max(n - 1, 0))
    avg = E.mul(E.add(lo, hi), 0.5)
    if x is not None:
        xt = _t(x)
        d = diff(xt, dim=dim if xt.ndim > 1 else -1)
        if xt.ndim == 1:
            shape = [1] * y.ndim
            shape[axis] = builtins.max(n - 1, 0)
            d = d.reshape(tuple(shape))
        avg = E.mul(avg, d)
    elif dx is not None:
        avg = E.mul(avg, dx)
    return R.cumsum(avg, axis).contiguous()


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    out = matmul(_t(mat), _t(vec))
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)`` (``torch.addr``)."""
    from .linalg import outer
    out = outer(_t(vec1), _t(vec2))
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (``torch.addbmm``)."""
    from .linalg import bmm
    out = R.sum(bmm(_t(batch1), _t(batch2)), 0)
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out


# -- PyTorch's older matrix-function names -------------------------------------------------------------------
class _SVDResultV(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


def svd(input, some: bool = True, compute_uv: bool = True) -> _SVDResultV:
    """``torch.svd``: ``(U, S, V)`` with ``A = U diag(S) V^T`` (V, not Vh); ``some=False`` gives full U and V;
    ``compute_uv=False`` returns zero-filled U and V."""
    from ..linalg import svd as _svd
    x = _float_input(input, "svd")
    u, s, vh = _svd(x, full_matrices=not some)
    if not compute_uv:
        return _SVDResultV(Tensor._make(_np.zeros_like(u._data)), s.detach() if not x.requires_grad else s,
                           Tensor._make(_np.zeros_like(_np.swapaxes(vh._data, -1, -2))))
    return _SVDResultV(u, s, vh.transpose(-2, -1))


def qr(input, some: bool = True):
    """``torch.qr``: ``linalg.qr`` with ``some=False`` meaning mode='complete'."""
    from ..linalg import qr as _qr
    return _qr(input, "reduced" if some else "complete")


def cholesky(input, upper: bool = False) -> Tensor:
    """``torch.cholesky`` (``linalg.cholesky`` with a positional ``upper``)."""
    from ..linalg import cholesky as _chol
    return _chol(input, upper=upper)


def cholesky_solve(input, input2, upper: bool = False) -> Tensor:
    """Solve ``A X = B`` (``B`` is ``input``) given the Cholesky factor ``input2`` of ``A``
    (``torch.cholesky_solve``; PyTorch's keywords are ``input`` and ``input2``, its docs say ``B`` and ``L``)."""
    from ..linalg import solve_triangular as _st
    B = input
    input2 = _t(input2)
    if upper:
        y = _st(input2.mT, _t(B), upper=False)
        return _st(input2, y, upper=True)
    y = _st(input2, _t(B), upper=False)
    return _st(input2.mT, y, upper=True)


def cholesky_inverse(L, upper: bool = False) -> Tensor:
    """Inverse of ``A`` from its Cholesky factor (``torch.cholesky_inverse``)."""
    L = _t(L)
    n = L.shape[-1]
    eye = Tensor._make(_np.eye(n, dtype=L._data.dtype))
    return cholesky_solve(eye.expand(tuple(L.shape)) if L.ndim > 2 else eye, L, upper)


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):
    """``(P, L, U)`` with ``A = P L U`` from a packed LU (``torch.lu_unpack``)."""
    from ..linalg import lu_unpack as _unpack
    return _unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)


def lu(A, pivot: bool = True, get_infos: bool = False):
    """``torch.lu`` (deprecated there): ``(A_LU, pivots[, infos])`` = ``linalg.lu_factor_ex``."""
    from ..linalg import lu_factor_ex
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve(b, LU_data, LU_pivots) -> Tensor:
    """``torch.lu_solve(b, LU_data, LU_pivots)``: ``linalg.lu_solve`` with PyTorch's older argument order."""
    from ..linalg import lu_solve as _lu_solve
    return _lu_solve(LU_data, LU_pivots, b)


def pinverse(input, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with a relative cutoff ``rcond``."""
    from ..linalg import pinv
    return pinv(input, rtol=rcond)


def matrix_power(input, n: int) -> Tensor:
    from ..linalg import matrix_power as _mp
    return _mp(input, n)


def chain_matmul(*matrices) -> Tensor:
    """``torch.chain_matmul`` (deprecated there): ``linalg.multi_dot`` of 2-D matrices."""
    from ..linalg import multi_dot
    if len(matrices) == 1:
        return _t(matrices[0])
    return multi_dot(list(matrices))


def pdist(input, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows ``i < j`` of an (N, M) tensor, in row-major order
    (``torch.pdist``)."""
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {x.dtype}")
    if x._data.dtype == _np.float16:
        raise NotImplementedError('"pdist" not implemented for \'Half\'')
    n = x.shape[0]
    r, c = _np.triu_indices(n, 1)
    from ..linalg import vector_norm
    return vector_norm(E.sub(x[Tensor._make(r)], x[Tensor._make(c)]), p, dim=-1)


def column_stack(tensors) -> Tensor:
    """Stack 0-, 1- or 2-D tensors as columns (``torch.column_stack``)."""
    cols = [(_t(t).reshape(-1, 1) if _t(t).ndim <= 1 else _t(t)) for t in tensors]
    return cat(cols, 1).contiguous()


def row_stack(tensors) -> Tensor:
    """``torch.row_stack``: ``vstack``, the 1-D tensors as rows."""
    return cat([_t(t).reshape(1, -1) if _t(t).ndim <= 1 else _t(t) for t in tensors], 0).contiguous()


def _split_n(x, sections, dim, op, min_dims):
    from .shape import tensor_split
    x = _t(x)
    if x.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {x.ndim} dimensions!")
    if isinstance(sections, int) and x.shape[dim] % sections:
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{x.shape[dim]} is not divisible by the split_size {sections}!")
    return tuple(tensor_split(x, sections, dim))


def hsplit(input, indices_or_sections) -> tuple:
    """Split along dim 1 (dim 0 for 1-D tensors) (``torch.hsplit``)."""
    x = _t(input)
    return _split_n(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections) -> tuple:
    """Split along dim 0 of a tensor of at least 2 dims (``torch.vsplit``)."""
    return _split_n(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections) -> tuple:
    """Split along dim 2 of a tensor of at least 3 dims (``torch.dsplit``)."""
    return _split_n(input, indices_or_sections, 2, "dsplit", 3)


def unravel_index(indices, shape) -> tuple:
    """Coordinates of flat ``indices`` in a tensor of ``shape`` (``torch.unravel_index``), one int64 tensor
    per dim."""
    idx = _t(indices)._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be an integer tensor, but got {idx.dtype}")
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"'shape' cannot have negative values, but got {shape}")
    total = math.prod(shape)
    if idx.size and (idx.min() < -total or idx.max() >= total):
        raise RuntimeError(f"'indices' must be in range [{-total}, {total - 1}] for shape {shape}")
    coords = _np.unravel_index(_np.where(idx < 0, idx + total, idx), shape) if shape else ()
    return tuple(Tensor._make(_np.asarray(c, _np.int64)) for c in coords)


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1):
    """Estimated derivative along each of ``dim`` (all dims by default) by second-order central differences
    inside and one-sided differences of order ``edge_order`` (1 or 2) at the ends (``torch.gradient``).
    ``spacing`` is a scalar, one scalar per dim, or one coordinate tensor per dim; returns a tuple."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        x = E.cast(x, _dt.get_default_dtype())
    dims = list(range(x.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [_axis(x, d, "gradient") for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    if isinstance(spacing, (list, tuple)):
        sp = list(spacing)
        if len(sp) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or its length to match "
                               f"the number of dimensions ({len(dims)}), got {len(sp)}")
    else:
        sp = [spacing] * len(dims)
    out = []
    for d, h in zip(dims, sp):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least edge_order+1 "
                               f"(shape {tuple(x.shape)}, edge_order {edge_order})")
        out.append(_gradient_along(x, d, h, edge_order))
    return tuple(out)


def _gradient_along(f, d, h, order):
    n = f.shape[d]

    def sl(a, b):
        return f.narrow(d, a, b - a)
    if not isinstance(h, Tensor):
        h = float(h)
        mid = E.div(E.sub(sl(2, n), sl(0, n - 2)), 2 * h)
        if order == 1:
            lo = E.div(E.sub(sl(1, 2), sl(0, 1)), h)
            hi = E.div(E.sub(sl(n - 1, n), sl(n - 2, n - 1)), h)
        else:
            lo = E.div(E.add(E.add(E.mul(sl(0, 1), -1.5), E.mul(sl(1, 2), 2.0)), E.mul(sl(2, 3), -0.5)), h)
            hi = E.div(E.add(E.add(E.mul(sl(n - 1, n), 1.5), E.mul(sl(n - 2, n - 1), -2.0)),
                             E.mul(sl(n - 3, n - 2), 0.5)), h)
        return cat([lo, mid, hi], d)
    # coordinates: non-uniform steps
    c = h._data.astype(f._data.dtype)
    if c.ndim != 1 or len(c) != n:
        raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and of size {n} along "
                           f"the dimension, got shape {c.shape}")
    dx = _np.diff(c)
    shape = [1] * f.ndim

    def col(v):
        s = list(shape)
        s[d] = len(v)
        return Tensor._make(_np.asarray(v, f._data.dtype).reshape(s))
    hl, hr = dx[:-1], dx[1:]
    a = -hr / (hl * (hl + hr))
    b = (hr - hl) / (hl * hr)
    cc = hl / (hr * (hl + hr))
    mid = E.add(E.add(E.mul(sl(0, n - 2), col(a)), E.mul(sl(1, n - 1), col(b))), E.mul(sl(2, n), col(cc)))
    if order == 1:
        lo = E.div(E.sub(sl(1, 2), sl(0, 1)), float(dx[0]))
        hi = E.div(E.sub(sl(n - 1, n), sl(n - 2, n - 1)), float(dx[-1]))
    else:
        h1, h2 = float(dx[0]), float(dx[1])
        lo = E.add(E.add(E.mul(sl(0, 1), -(2 * h1 + h2) / (h1 * (h1 + h2))), E.mul(sl(1, 2), (h1 + h2) / (h1 * h2))),
                   E.mul(sl(2, 3), -h1 / (h2 * (h1 + h2))))
        h1, h2 = float(dx[-1]), float(dx[-2])
        hi = E.add(E.add(E.mul(sl(n - 1, n), (2 * h1 + h2) / (h1 * (h1 + h2))),
                         E.mul(sl(n - 2, n - 1), -(h1 + h2) / (h1 * h2))), E.mul(sl(n - 3, n - 2), h1 / (h2 * (h1 + h2))))
    return cat([lo, mid, hi], d)


def renorm(input, p, dim: int, maxnorm) -> Tensor:
    """Rescale each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` to norm ``maxnorm``
    (``torch.renorm``)."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point input, got {x.dtype}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _axis(x, dim, "renorm")
    from ..linalg import vector_norm
    others = [i for i in range(x.ndim) if i != axis]
    norm = vector_norm(x, p, others, keepdim=True) if others else E.abs(x)
    scale = E.where(E.gt(norm, maxnorm), E.div(float(maxnorm), E.add(norm, 1e-7)), 1.0)
    return E.mul(x, scale)


def _window(n, periodic, dtype, fn, name):
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if dt.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if n == 0:
        return Tensor._make(_np.zeros(0, dt))
    if n == 1:
        return Tensor._make(_np.ones(1, dt))
    m = n + 1 if periodic else n
    k = _np.arange(m, dtype=_np.float64)
    return Tensor._make(fn(k, m - 1)[:n].astype(dt))


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """``0.5 - 0.5 cos(2 pi k / (N - 1))`` (``torch.hann_window``; periodic: one sample longer, last dropped)."""
    return _window(window_length, periodic, dtype, lambda k, d: 0.5 - 0.5 * _np.cos(2 * math.pi * k / d),
                   "hann_window")


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, **kw) -> Tensor:
    """``alpha - beta cos(2 pi k / (N - 1))`` (``torch.hamming_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: alpha - beta * _np.cos(2 * math.pi * k / d),
                   "hamming_window")


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """``0.42 - 0.5 cos(2 pi k / (N-1)) + 0.08 cos(4 pi k / (N-1))`` (``torch.blackman_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: 0.42 - 0.5 * _np.cos(2 * math.pi * k / d) +
                   0.08 * _np.cos(4 * math.pi * k / d), "blackman_window")


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """Triangular window ``1 - |2k / (N - 1) - 1|`` (``torch.bartlett_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: 1 - _np.abs(2 * k / d - 1), "bartlett_window")


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, **kw) -> Tensor:
    """``I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta)`` (``torch.kaiser_window``)."""
    from .special import _i0_array

    def fn(k, d):
        r = _np.sqrt(_np.maximum(1 - (2 * k / d - 1) ** 2, 0))
        return _i0_array(beta * r) / _i0_array(_np.asarray([beta], _np.float64))[0]
    return _window(window_length, periodic, dtype, fn, "kaiser_window")


def nuclear_norm(input, dim=None, keepdim: bool = False) -> Tensor:
    """``torch.nuclear_norm`` (deprecated there): the sum of singular values (``linalg.matrix_norm(.., 'nuc')``)."""
    from ..linalg import matrix_norm
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim, keepdim: bool = False) -> Tensor:
    """``torch.frobenius_norm`` (deprecated there): the 2-norm over ``dim``."""
    from ..linalg import vector_norm
    return vector_norm(input, 2, dim, keepdim)


__all__ = ["kthvalue", "median", "nanmedian", "mode", "msort", "quantile", "nanquantile", "cummax", "cummin",
           "logcumsumexp", "diff", "unique", "unique_consecutive", "isin", "bincount", "histc", "histogram",
           "searchsorted", "bucketize", "meshgrid", "cartesian_prod", "combinations", "tril_indices",
           "triu_indices", "cdist", "cross", "vander", "block_diag", "diag_embed", "diagflat", "atleast_1d",
           "atleast_2d", "atleast_3d", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid", "addmv",
           "addr", "addbmm", "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse",
           "matrix_power", "chain_matmul", "lu", "lu_unpack", "lu_solve", "gradient", "renorm", "hann_window",
           "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "nuclear_norm", "frobenius_norm",
           "pdist", "column_stack", "row_stack", "hsplit", "vsplit", "dsplit",
           "unravel_index"]
