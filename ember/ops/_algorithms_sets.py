"""Set operations, counting, histograms and sorted search: PyTorch's ``unique``/``unique_consecutive``,
``isin``, ``bincount``, ``histc``/``histogram``, ``searchsorted`` and ``bucketize`` (not differentiable, as in
PyTorch). Re-exported by ``ember.ops.algorithms``.
"""
from __future__ import annotations

import builtins
import math

import numpy as _np
from .. import return_types as _rt

from ..autograd.function import Function
from ..backend import device as _dev
from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp, arrays_module as _xps, as_array as _as_array, like as _like
from ..tensor import Tensor, _to_array
from .algorithms import _axis, _no_bool, _t


def _one_device(op, *args):
    """The arrays of ``args`` (tensors; anything else passes) on one device: PyTorch's error for tensors on
    two (the ops here bypass ``Function.apply``, which checks the others), a 0-d CPU tensor moved to the
    other tensors' device.  Checked only once a CUDA module is loaded."""
    raw = [a._data if isinstance(a, Tensor) else a for a in args]
    if _dev.active:
        from ..autograd.function import _same_device
        _same_device(type(op, (), {}), args, raw)
    return raw


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
    xp = _xp(a2)
    if a2.shape[0] == 0:
        return a2, xp.zeros(0, _np.int64), xp.zeros(0, _np.int64)
    order = _np.lexsort(a2.T[::-1]) if a2.shape[1] else xp.arange(a2.shape[0])
    srt = a2[order]
    new = xp.ones(len(srt), bool)
    if a2.shape[1]:
        new[1:] = _np.any(srt[1:] != srt[:-1], axis=1)
    else:
        new[1:] = False
    group = _np.cumsum(new) - 1
    inv = xp.empty(len(srt), _np.int64)
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
        # PyTorch's layout: contiguous with ``dim`` outermost, moved back into place
        vals = _np.moveaxis(_xp(u).ascontiguousarray(u).reshape((len(u),) + moved.shape[1:]), 0, axis)
        out = _nograd_values(x, vals, "unique_dim")
    res = [out]
    if return_inverse:
        res.append(Tensor._make(_as_array(inv, _np.int64)))
    if return_counts:
        res.append(Tensor._make(_as_array(counts, _np.int64)))
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
    xp = _xp(a)
    new = xp.ones(n, bool)
    if n > 1:
        new[1:] = _np.any(rows[1:] != rows[:-1], axis=1) if rows.shape[1] else False
    group = _np.cumsum(new) - 1
    starts = _np.nonzero(new)[0]
    counts = _np.diff(_np.concatenate((starts, _like(_np.array([n], starts.dtype), starts)))).astype(_np.int64)
    keep = rows[new]
    if dim is None:
        vals = keep.reshape(-1)
    else:
        vals = _np.moveaxis(xp.ascontiguousarray(keep).reshape((len(keep),) + moved.shape[1:]), 0, axis)
    res = [_nograd_values(x, vals, "unique_consecutive")]
    if return_inverse:
        res.append(Tensor._make(group.reshape(shape_inv).astype(_np.int64)))
    if return_counts:
        res.append(Tensor._make(counts))
    return res[0] if len(res) == 1 else tuple(res)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Bool mask of ``elements`` found in ``test_elements`` (``torch.isin``); either may be a scalar."""
    e, t = _one_device("isin", elements, test_elements)
    e = _to_array(elements, None) if not isinstance(elements, Tensor) else e
    t = _to_array(test_elements, None) if not isinstance(test_elements, Tensor) else t
    if e.dtype == _np.bool_ or t.dtype == _np.bool_:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    if _xps(e, t) is not _np:           # a number (a host array) tested against a device tensor, or the reverse
        ref = t if _xp(t) is not _np else e
        e, t = _like(e, ref), _like(t, ref)
    return Tensor._make(_as_array(_np.isin(e, t, invert=invert)))


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
    _one_device("bincount", x, w)
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


_Histogram = _rt.histogram


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
    a, bins_a, w = _one_device("histogram", x, bins, None if weight is None else _t(weight))
    if isinstance(bins, Tensor):
        edges = bins_a.astype(a.dtype)
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
        from ..creation import linspace        # PyTorch's edges: its linspace in the input's dtype (rounding)
        edges = _like(_np.asarray(linspace(lo, hi, int(bins) + 1, dtype=a.dtype)._data), a)
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
    seq, vals, sorter_a = _one_device("searchsorted", seq_t, values, None if sorter is None else _t(sorter))
    scalar = not isinstance(values, Tensor)
    vals = _to_array(values, None) if scalar else vals
    if scalar:
        vals = _like(vals, seq)          # a number: on the sequence's device
    if vals.dtype != seq.dtype:
        # compare in PyTorch's promoted dtype (a 0-d value does not promote a 1-D float32 sequence)
        dt = _dt.result_type(seq_t, values if not scalar else values)
        seq, vals = seq.astype(dt, copy=False), _as_array(vals).astype(dt, copy=False)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if sorter is not None:
        seq = _np.take_along_axis(seq, sorter_a.astype(_np.int64), axis=-1)
    dt = _np.int32 if out_int32 else _np.int64
    _no_bool(Tensor._make(seq), "searchsorted_out_cpu", size=vals.size)
    if seq.ndim <= 1:
        return Tensor._make(_as_array(_bsearch(seq[None, :], _as_array(vals).reshape(1, -1), right)
                                      .reshape(vals.shape), dt))
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
    xp = _xp(seq)
    lo = xp.zeros(vals.shape, _np.int64)
    hi = xp.full(vals.shape, n, _np.int64)
    rows = xp.arange(seq.shape[0])[:, None]
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
