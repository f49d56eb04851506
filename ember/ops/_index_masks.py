"""Masks, selections and sorting: ``masked_fill``, ``masked_select``, ``take_along_dim``, ``take``,
``nonzero``/``argwhere``, ``tril``/``triu``, ``diag``, ``trace``, ``one_hot``, ``sort``/``argsort``, ``topk``
and the index module's ``searchsorted``/``bucketize``. Re-exported by ``ember.ops.index``.
"""
from __future__ import annotations


import numpy as _np
from .. import return_types as _rt

from ..backend.dtypes import checked_scalar
from ..autograd._torch_names import tag as _tname
from ..autograd._torch_names import named as _named
from ..tensor import Tensor, _wrap_dim, _to_array
from . import elementwise as E
from .shape import diagonal, _CloneAs
from ._shape_strided import _result_layout
from .shape import diagonal as _diagonal_view
from .index import getitem, IndexPut
from ._index_scatter import _MaskedFill, gather, Gather, _index_like
from ..backend import device as _dev

_xp = _dev.array_module


# -- masks -----------------------------------------------------------------------------------------------------------
def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, else ``x`` (``torch.masked_fill``)."""
    m = _index_like(mask._data if isinstance(mask, Tensor) else _np.asarray(mask), input, "masked_fill")
    if m.dtype != _np.bool_:
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype {m.dtype}")
    try:
        shape = _np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: mask of shape {tuple(m.shape)} is not broadcastable with the input of "
                           f"shape {tuple(input.shape)}") from None
    if shape != input._data.shape:      # out of place, the result takes the broadcast shape (as PyTorch)
        input = input.expand(shape)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, got shape {tuple(value.shape)}")
        v = value.to(input.dtype)
        return E.where(Tensor._make(m), v, input)
    if input._data.dtype.kind in "iu" and not isinstance(value, (bool, _np.bool_)):
        # range-checked even when nothing is filled (as PyTorch); negative ints wrap
        value = checked_scalar(value, input._data.dtype, "masked_fill")
    return _MaskedFill.apply(input, m, value)


@_named("MaskedSelectBackward0")
def masked_select(input: Tensor, mask) -> Tensor:
    m = _index_like(mask._data if isinstance(mask, Tensor) else _np.asarray(mask), input, "masked_select")
    if m.dtype != _np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got dtype {m.dtype}")
    E._check_broadcast(m.shape, input._data.shape, "masked_select")
    shape = _np.broadcast_shapes(m.shape, input._data.shape)
    xb = input.expand(shape) if input._data.shape != shape else input
    return getitem(xb, Tensor._make(_np.broadcast_to(m, shape)))


def take_along_dim(input: Tensor, indices, dim=None) -> Tensor:
    """Pick values along ``dim`` at ``indices`` (broadcasting the other dims), ``torch.take_along_dim``."""
    if dim is None:
        return take_along_dim(input.reshape(-1), indices.reshape(-1), 0)
    axis = _wrap_dim(dim, input._data.ndim, "take_along_dim")
    ia = _index_like(indices._data if isinstance(indices, Tensor) else _np.asarray(indices), input,
                     "take_along_dim")
    n = input._data.shape[axis] if input._data.ndim else 1
    if ia.size and ia.dtype.kind in "iu" and ia.min() < 0:
        if ia.min() < -n:
            raise RuntimeError(f"take_along_dim(): index {int(ia.min())} is out of bounds for dimension {axis} "
                               f"with size {n}")
        ia = _np.where(ia < 0, ia + n, ia)     # wrapped, as PyTorch (gather itself refuses negatives)
    shp_x = list(input._data.shape)
    shp_i = list(ia.shape)
    shp_x[axis] = 1
    shp_i[axis] = 1
    b = list(_np.broadcast_shapes(tuple(shp_x), tuple(shp_i)))
    bx, bi = list(b), list(b)
    bx[axis] = input._data.shape[axis]
    bi[axis] = ia.shape[axis]
    xx = input.expand(tuple(bx)) if tuple(bx) != input._data.shape else input
    return gather(xx, axis, Tensor._make(_np.broadcast_to(ia, tuple(bi))))


def take(input: Tensor, index) -> Tensor:
    return getitem(input.reshape(-1), index)


def nonzero(input: Tensor, as_tuple: bool = False):
    a = input._data if isinstance(input, Tensor) else _np.asarray(input)
    nz = _np.nonzero(a) if a.ndim else _np.nonzero(a.reshape(1))
    if a.ndim == 0 and not as_tuple:        # PyTorch: one row per nonzero, no columns
        return Tensor._make(_xp(a).zeros((nz[0].size, 0), _np.int64))
    if as_tuple:
        return tuple(Tensor._make(i.astype(_np.int64)) for i in nz)
    # (n, ndim) in column-major order: PyTorch's nonzero fills a (ndim, n) buffer and returns its transpose
    return Tensor._make(_np.stack(nz, axis=0).astype(_np.int64).T if nz else _xp(a).zeros((0, 0), _np.int64))


def argwhere(input):
    return nonzero(input)


def _need_2d(x, op):
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")


def tril(input, diagonal=0):
    _need_2d(input, "tril")
    m = _xp(input._data).tri(*input._data.shape[-2:], k=diagonal, dtype=bool)
    return _tname(_MaskedFill.apply(input, ~m, 0, True), "TrilBackward0")


def triu(input, diagonal=0):
    _need_2d(input, "triu")
    m = _xp(input._data).tri(*input._data.shape[-2:], k=diagonal - 1, dtype=bool)
    return _tname(_MaskedFill.apply(input, m, 0, True), "TriuBackward0")


@_named(lambda input, diagonal=0: "DiagEmbedBackward0" if input.ndim == 1 else "DiagonalBackward0_copy")
def diag(input, diagonal=0):
    x, diagonal_ = input, diagonal
    if x._data.ndim == 1:
        n = x._data.shape[0] + abs(diagonal_)
        xp = _xp(x._data)
        z = Tensor._make(xp.zeros((n, n), x._data.dtype))
        i = xp.arange(x._data.shape[0])
        r, c = (i, i + diagonal_) if diagonal_ >= 0 else (i - diagonal_, i)
        return IndexPut.apply(z, x, (r, c), False)
    if x._data.ndim != 2:
        raise RuntimeError(f"diag(): supports 1-D or 2-D tensors, got shape {tuple(x.shape)}")
    return _CloneAs.apply(_diagonal_view(x, diagonal_), None)   # torch.diag returns a copy (diagonal() is the view)


@_named("TraceBackward0")
def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2-D), got shape {tuple(input.shape)}")
    return diagonal(input).sum()


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    a = tensor._data
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors (int64), got {a.dtype}")
    if num_classes < 0:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got range "
                           f"[{int(a.min())}, {int(a.max())}]")
    return Tensor._make((a[..., None] == _xp(a).arange(num_classes)).astype(_np.int64))


_SortResult = _rt.sort       # torch.return_types.sort


def _order(x: Tensor, axis: int, descending: bool):
    a = x._data
    if a.ndim == 0:
        return _xp(a).zeros((), _np.int64)
    if descending:      # negate (stable sort keeps ties in their original order in both directions)
        # ~a (= -a - 1) reverses signed integers without overflowing at the dtype's minimum
        a = ~a if a.dtype.kind == "i" else -(a.astype(_np.int64) if a.dtype.kind in "bu" else a)
    idx = _np.argsort(a, axis=axis, kind="stable").astype(_np.int64)
    if descending and a.dtype.kind == "f" and _np.isnan(a).any():
        # NaN is the largest value (PyTorch): move the NaNs, last after the stable sort, to the front in order
        nan_last = ~_np.isnan(_np.take_along_axis(a, idx, axis))
        idx = _np.take_along_axis(idx, _np.argsort(nan_last, axis=axis, kind="stable"), axis)
    return idx


@_named("SortBackward0")
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> _SortResult:
    """Sorted values along ``dim`` and the indices they came from (``torch.sort``); the gradient flows back
    to the original positions."""
    axis = _wrap_dim(dim, input._data.ndim, "sort")
    idx = _order(input, axis, descending)
    if input._data.ndim == 0:
        return _SortResult(input, Tensor._make(idx))
    # PyTorch's sort allocates both outputs like the input (its strides when dense, else dense in its order)
    return _SortResult(_result_layout(Gather.apply(input, axis, idx), input),
                       _result_layout(Tensor._make(idx), input))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (``torch.argsort``)."""
    axis = _wrap_dim(dim, input._data.ndim, "argsort")
    return _result_layout(Tensor._make(_order(input, axis, descending)), input)


@_named("TopkBackward0")
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> _rt.topk:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices (``torch.topk``)."""
    axis = _wrap_dim(dim, input._data.ndim, "topk")
    n = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {axis} of size {n} (shape {tuple(input.shape)})")
    idx = _topk_select(input._data, k, axis, largest) if 0 < k <= 64 and k * 4 <= n else None
    if idx is None:
        idx = _order(input, axis, largest)
        if input._data.ndim == 0:
            return _rt.topk(input, Tensor._make(idx))
        idx = _np.take(idx, _xp(idx).arange(k), axis=axis)
    return _rt.topk(Gather.apply(input, axis, idx), Tensor._make(idx))


def _topk_select(a, k, axis, largest):
    """``topk``'s indices for a small ``k`` without sorting whole rows: k rounds of ``argmax`` (``argmin``) over
    contiguous rows, each round's winners then set to -inf (+inf).  ``argmax`` takes the first of equal values,
    so the order is ``_order``'s (value, then index on ties): the same indices as the full stable sort (128 x
    1000, k = 5: the whole op 7.9 -> 0.17 ms).  None where the full sort is needed: a row holding the sentinel value (inf, or
    the integer dtype's limit) or NaN (which it orders as the largest), bool or complex values, other array
    types."""
    if type(a) is not _np.ndarray or a.dtype.kind not in "iuf" or a.size == 0:
        return None
    w = _np.moveaxis(a, axis, -1).copy()             # (C order: each row contiguous, and ours to overwrite)
    shape = w.shape
    w = w.reshape(-1, shape[-1])
    if a.dtype.kind == "f":
        if not _np.isfinite(w).all():
            return None
        stop = -_np.inf if largest else _np.inf
    else:
        info = _np.iinfo(a.dtype)
        stop = info.min if largest else info.max
        if (w.min() if largest else w.max()) == stop:
            return None
    rows = _np.arange(w.shape[0])
    idx = _np.empty((w.shape[0], k), _np.int64)
    pick = w.argmax if largest else w.argmin
    for j in range(k):
        i = pick(axis=1)
        idx[:, j] = i
        w[rows, i] = stop
    return _np.ascontiguousarray(_np.moveaxis(idx.reshape(shape[:-1] + (k,)), -1, axis))


def searchsorted(sorted_seq, values, right=False):
    s = _to_array(sorted_seq, None)
    v = _to_array(values, None)
    if type(s) is not _np.ndarray or type(v) is not _np.ndarray:
        s, v = (_dev.like(s, v) if type(s) is _np.ndarray else s), (_dev.like(v, s) if type(v) is _np.ndarray else v)
    return Tensor._make(_np.searchsorted(s, v, side="right" if right else "left").astype(_np.int64))


def bucketize(x, boundaries, right=False):
    return searchsorted(boundaries, x, right=right)
