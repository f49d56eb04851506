"""Order statistics and scans: PyTorch's ``kthvalue``, ``median``/``nanmedian``, ``mode``, ``msort``,
``quantile``/``nanquantile``, ``cummax``/``cummin``, ``logcumsumexp`` and ``diff``.

Selections return PyTorch's ``(values, indices)`` named tuples with its tie and NaN rules and send the
gradient to the selected element, as PyTorch does. Re-exported by ``ember.ops.algorithms``.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import numpy as _np

from .. import return_types as _rt

from ..autograd.function import Function
from ..backend.device import array_module as _xp, as_array as _as_array, like as _like, to_device as _to_device
from ..tensor import Tensor
from . import elementwise as E
from . import reduce as R
from .index import gather, scatter_add
from .shape import cat, stack
from .linalg import _float_input
from .algorithms import _axis, _canon, _check_len, _no_bool, _no_int, _select, _t, _ValuesIndices


# -- order statistics ----------------------------------------------------------------------------------------
@_rt._returning(_rt.kthvalue)
@_named("KthvalueBackward0")
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
    a = x._data
    order = _np.argsort(a, axis=axis, kind="stable")
    idx = _np.take(order, _like(_np.array([k - 1]), order), axis=axis)
    # where the k-th value is tied, PyTorch's index is the one its quickselect leaves at k - 1: replay it there
    kv = _np.take_along_axis(a, idx, axis=axis)
    eq = (a == kv) | (_np.isnan(a) & _np.isnan(kv)) if a.dtype.kind == "f" else a == kv
    tied = _np.moveaxis(eq.sum(axis=axis, keepdims=True) > 1, axis, -1)
    if tied.any():
        # the replay is a Python loop over the tied rows: on a device a host fallback (copy there and back)
        dev = _xp(a) is not _np
        ah, ih, th = (_to_device(a, "cpu"), _to_device(idx, "cpu"), _to_device(tied, "cpu")) if dev else (a, idx, tied)
        rows, ir = _np.moveaxis(ah, axis, -1), _np.moveaxis(ih, axis, -1)     # (views: ir writes into ih)
        for pos in map(tuple, _np.argwhere(th[..., 0])):
            ir[pos + (0,)] = _quickselect_index(rows[pos].tolist(), k - 1)
        if dev:
            idx = _like(ih, a)
    return _select(x, idx, axis, keepdim)


def _quickselect_index(vals, k):
    """The original index PyTorch's CPU kthvalue (``quick_select_template``: median-of-three pivot, Hoare
    partition, NaN largest) ends with at position ``k`` of ``vals``."""
    def gt(p, q):
        return (p != p and q == q) or p > q
    ind = list(range(len(vals)))

    def swap(i, j):
        vals[i], vals[j] = vals[j], vals[i]
        ind[i], ind[j] = ind[j], ind[i]
    lo, hi = 0, len(vals) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(vals[lo], vals[hi]):
                swap(lo, hi)
            break
        swap(lo + (hi - lo) // 2, lo + 1)
        if gt(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if gt(vals[lo], vals[hi]):
            swap(lo, hi)
        if gt(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while gt(piv, vals[i]):
                i += 1
            j -= 1
            while gt(vals[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return ind[k]


def _median_index(a, axis, ignore_nan):
    """Index (keepdim shape) of the lower median along ``axis``: with NaN present, the first NaN (median) or
    the median of the other values (nanmedian; index 0 when all are NaN)."""
    n = a.shape[axis]
    order = _np.argsort(a, axis=axis, kind="stable")           # NaN last, in their original order
    nan_count = _np.isnan(a).sum(axis=axis, keepdims=True) if a.dtype.kind == "f" else \
        _np.zeros_like(_np.take(a, _like(_np.array([0]), a), axis=axis), dtype=_np.int64)
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
            return Tensor._make(_xp(x._data).asarray(fill, x._data.dtype))
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
        return _as_array(value, a.dtype)

    @staticmethod
    def backward(ctx, g):
        w = ctx.mask / max(int(ctx.mask.sum()), 1)
        return E.mul(g, Tensor._make(w.astype(g._data.dtype))), None


@_rt._returning(_rt.median)
@_named(lambda input, dim=None, keepdim=False: None if dim is None else "MedianBackward1")
def median(input, dim=None, keepdim: bool = False):
    """The lower median (``torch.median``): of all elements (a 0-d tensor), or along ``dim`` as
    ``(values, indices)``.  A NaN makes the median NaN (its index is the first NaN's)."""
    return _median(input, dim, keepdim, False, "median")


@_rt._returning(_rt.nanmedian)
def nanmedian(input, dim=None, keepdim: bool = False):
    """``median`` ignoring NaN (``torch.nanmedian``); NaN only where every value is NaN."""
    return _median(input, dim, keepdim, True, "nanmedian")


@_rt._returning(_rt.mode)
def mode(input, dim: int = -1, keepdim: bool = False) -> _ValuesIndices:
    """The most frequent value along ``dim`` and the index of its last occurrence (``torch.mode``); ties in
    frequency go to the smallest value."""
    x = _t(input)
    axis = _axis(x, dim, "mode")
    _check_len(x, axis, "mode")
    if x._data.ndim == 0:
        return _select(x, None, 0, keepdim)
    # a Python loop over rows with NumPy's unique: on a device a host fallback (copy there, indices back)
    a = _np.moveaxis(_to_device(x._data, "cpu"), axis, -1)
    flat = a.reshape(-1, a.shape[-1])
    out_idx = _np.empty(len(flat), _np.int64)
    for r, row in enumerate(flat):
        vals, counts = _np.unique(row, return_counts=True, equal_nan=False)
        best = vals[_np.argmax(counts)]                 # first maximum = smallest value among the ties
        hits = _np.nonzero(row == best)[0] if best == best else _np.nonzero(row != row)[0]
        out_idx[r] = hits[-1]
    idx = _np.expand_dims(out_idx.reshape(a.shape[:-1]), axis)
    return _select(x, _like(idx, x._data), axis, keepdim)


def msort(input) -> Tensor:
    """Sort along dim 0 (``torch.msort``): ``sort(input, dim=0).values``."""
    from .index import sort
    return sort(_t(input), 0).values


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan, op):
    x = _float_input(x, op, 0)
    scalar_q = not isinstance(q, Tensor)
    if not scalar_q and q.device != x.device:
        raise RuntimeError(f"{op}() q tensor must be on the same device as the input tensor, got q on {q.device} "
                           f"and input on {x.device}")
    # q's values steer a Python loop: read on the host (a device q is copied there)
    qa = _np.asarray(_to_device(q._data, "cpu") if isinstance(q, Tensor) else q, dtype=x._data.dtype)
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
        val = E.lerp(vlo, vhi, Tensor._make(_as_array(frac, x._data.dtype)))
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
        idx = _xp(a).empty(m.shape, _np.int64)
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
        zeros = Tensor._make(_xp(g._data).zeros(ctx.shape, g._data.dtype))
        return scatter_add(zeros, ctx.axis, Tensor._make(ctx.idx), g), None, None


def _cum_extreme(input, dim, is_max, op):
    x = _t(input)
    axis = _axis(x, dim, op)
    if x._data.ndim == 0:
        return _ValuesIndices(E.mul(x, 1) if x.requires_grad else Tensor._make(x._data.copy()),
                              Tensor._make(_xp(x._data).zeros((), _np.int64)))
    v, i = _CumExtreme.apply(x, axis, is_max)
    return _ValuesIndices(v, Tensor._make(i._data))


@_rt._returning(_rt.cummax)
@_named("CummaxBackward0")
def cummax(input, dim: int) -> _ValuesIndices:
    """Running maximum along ``dim`` and the index where it was reached (``torch.cummax``: ties take the
    later index; NaN propagates)."""
    return _cum_extreme(input, dim, True, "cummax")


@_rt._returning(_rt.cummin)
@_named("CumminBackward0")
def cummin(input, dim: int) -> _ValuesIndices:
    """Running minimum along ``dim`` and its index (``torch.cummin``)."""
    return _cum_extreme(input, dim, False, "cummin")


class _LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, a, axis):
        if not a.size:
            out = a.copy()
        elif _xp(a) is _np:
            out = _canon(_np.logaddexp.accumulate(a, axis=axis))
        else:       # the same sequential logaddexp, one slice at a time (CuPy's ufuncs may lack accumulate)
            m = _np.moveaxis(a, axis, 0)
            acc = _np.empty_like(m)
            acc[0] = m[0]
            for i in range(1, m.shape[0]):
                acc[i] = _np.logaddexp(acc[i - 1], m[i])
            out = _canon(_np.moveaxis(acc, 0, axis))
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
