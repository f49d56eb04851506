"""Indexing: ``x[...]`` and ``x[...] = v`` here; gather/scatter, index_select/index_add and friends in
``ember.ops._index_scatter``; masked_fill, take_along_dim, nonzero, tril/triu, sort/topk in
``ember.ops._index_masks``; all re-exported here, so ``from ember.ops.index import X`` keeps working.

Gradients of indexing scatter back with accumulation, so an index that repeats (``x[[0, 0]]``) receives
the sum of both gradients.  Scatter-adds go through ``np.bincount`` on linear indices (one vectorized pass)
rather than ``np.add.at``.
"""
from __future__ import annotations

from .._deprecation import warn as _deprecated
from builtins import all as builtins_all, any as builtins_any, max as builtins_max

import numpy as _np
from typing import NamedTuple

from ..autograd.function import Function, once_differentiable
from ..autograd.grad_mode import state as _grad
from ..backend import device as _dev
from ..backend.dtypes import checked_scalar
from ..tensor import Tensor, _wrap_dim, _to_array
from .._tensor_inplace import _check_overlap, _internal_overlap, _write_overlapping
from . import elementwise as E
from .shape import diagonal, _view, _CloneAs  # noqa: F401  (diagonal: a view; lives with the other strided views)
from .shape import diagonal as _diagonal_view  # diag's parameter is called diagonal, as PyTorch's
from ._index_device import check_bounds as _check_bounds, index_to as _index_to, index_to_host as _index_to_host
from ._index_device import ufunc_at as _ufunc_at

_ndarray = _np.ndarray


def _is_arr(i) -> bool:
    """An index array of either module (a NumPy array, or a device array from a device index tensor)."""
    return type(i) is _ndarray or isinstance(i, _ndarray) or _dev.is_device_array(i)


# -- index normalization -------------------------------------------------------------------------------------------
_FLOAT_INDEX_MSG = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte tensors are valid indices "
                    "(got {})")


def _seq_as_tuple(seq) -> bool:
    """PyTorch's rule for a list index: a short list holding a tensor, a sequence, a slice, None or Ellipsis is
    read as a tuple of indices (``x[[t0, t1]] == x[t0, t1]``, deprecated there, with a warning); a list of plain
    ints or bools is one integer (or mask) index."""
    if len(seq) >= 32:
        return False
    for o in seq:
        if isinstance(o, (Tensor, list, tuple, range, _np.ndarray, slice)) or o is None or o is Ellipsis:
            return True
    return False


def _tensor_like_index(a):
    """An index given as an array (from a tensor or NumPy): bool -> mask, uint8 -> mask (deprecated, warned as
    in PyTorch), 0-d integer -> a plain int (a view, as PyTorch), other integers -> advanced index."""
    k = a.dtype.kind
    if k == "b":
        return a, True
    if a.dtype == _np.uint8:
        _deprecated("uint8_index", once=False)         # PyTorch's text, at the caller's line
        return a.astype(_np.bool_), True
    if k in "iu":
        if a.ndim == 0:
            return int(a), False
        return a, True
    raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {a.dtype}")


def _seq_index(seq):
    """A list / tuple / range used as one index -> an integer (or bool) array, as ``torch.tensor(seq)``."""
    if isinstance(seq, range):
        return _np.arange(seq.start, seq.stop, seq.step, dtype=_np.int64)
    if builtins_any(isinstance(o, Tensor) for o in seq):
        seq = [(o._data if type(o._data) is _ndarray else _dev.to_device(o._data, "cpu")) if isinstance(o, Tensor)
               else o for o in seq]     # (device tensors in a list: their values, read on the host)
    a = _np.asarray(seq)
    if a.size == 0:
        return _np.zeros(a.shape, _np.int64)
    if a.dtype.kind == "b":
        return a
    if a.dtype.kind not in "iu":
        raise IndexError(_FLOAT_INDEX_MSG.format(f"a sequence of {a.dtype}"))
    return a.astype(_np.int64, copy=False)


def _check_slice(s):
    st = s.step
    if st is not None:
        st = int(st.__index__()) if not isinstance(st, int) else st
        if st <= 0:
            raise ValueError("slice step cannot be zero" if st == 0 else
                             f"step must be greater than zero (got {st}); ember, like PyTorch, has no negative "
                             f"strides: use .flip(dim)")
    return s


def _convert_index(index, x_shape=None):
    """Any index PyTorch accepts -> (index tuple for NumPy, is_advanced).  Ints, slices, None and Ellipsis are
    basic (a view); tensors, arrays, lists, ranges and bools are advanced (a copy), except 0-d integer
    tensors and arrays, which select like ints."""
    t = type(index)
    if t is not tuple:
        if t is list and _seq_as_tuple(index):
            _deprecated("non_tuple_index", once=False)
            index = tuple(index)
        else:
            index = (index,)
    out = []
    adv = False
    for i in index:
        t = type(i)
        if t is int or t is type(None) or t is type(Ellipsis):
            out.append(i)
        elif t is slice:
            out.append(_check_slice(i) if i.step is not None else i)
        elif isinstance(i, Tensor):
            a, k = _tensor_like_index(i._data)
            out.append(a)
            adv = adv or k
        elif isinstance(i, _np.ndarray):
            a, k = _tensor_like_index(i)
            out.append(a)
            adv = adv or k
        elif t is bool or isinstance(i, _np.bool_):
            out.append(bool(i))
            adv = True
        elif isinstance(i, (list, tuple, range)):
            out.append(_seq_index(i))
            adv = True
        elif isinstance(i, (float, complex, _np.floating)):
            raise IndexError(_FLOAT_INDEX_MSG.format(type(i).__name__))
        elif _dev.is_device_array(i):       # (a device tensor's array, as a split index passes it on)
            a, k = _tensor_like_index(i)
            out.append(a)
            adv = adv or k
        elif hasattr(i, "__index__"):
            out.append(int(i.__index__()))
        else:
            raise IndexError(f"index of type {type(i).__name__} is not supported; use ints, slices, None, "
                             f"Ellipsis, bool masks or integer tensors")
    return tuple(out), adv


def _check_masks(x_shape, idx) -> None:
    """PyTorch's check that each bool mask has the shape of the dims it indexes (NumPy lets an empty mask
    through: x[[], bool] on a dim of size 2 selects nothing instead of raising)."""
    items = idx if type(idx) is tuple else (idx,)
    is_mask = lambda i: _is_arr(i) and i.dtype == _np.bool_ and i.ndim     # noqa: E731
    if not builtins_any(is_mask(i) for i in items):
        return
    used = sum(0 if i is None or i is Ellipsis or type(i) is bool else i.ndim if is_mask(i) else 1 for i in items)
    d = 0
    for i in items:
        if i is Ellipsis:
            d += len(x_shape) - used
        elif is_mask(i):
            if d + i.ndim <= len(x_shape) and tuple(x_shape[d:d + i.ndim]) != i.shape:
                raise IndexError(f"index {_describe(idx)} into a tensor of shape {tuple(x_shape)}: the shape of "
                                 f"the boolean mask {list(i.shape)} at index {d} does not match the shape of the "
                                 f"indexed tensor {list(x_shape)} at index {d}")
            d += i.ndim
        elif i is not None and type(i) is not bool:
            d += 1


def _index_error(x_shape, index, e):
    return IndexError(f"index {_describe(index)} is out of range for tensor of shape {tuple(x_shape)}: {e}")


def _describe(index):
    if isinstance(index, tuple):
        return "[" + ", ".join(_describe(i) for i in index) + "]"
    if _is_arr(index):
        return f"array(shape={index.shape}, dtype={index.dtype})"
    if isinstance(index, slice):
        return f"{'' if index.start is None else index.start}:{'' if index.stop is None else index.stop}" + (
            f":{index.step}" if index.step is not None else "")
    return repr(index)


def _empty_result_shape(shape, idx):
    """The shape ``x[idx]`` has when it is empty whatever the integer-array values, else None.  PyTorch checks
    advanced-index values only while gathering, so an empty result never raises for out-of-range ones."""
    if not _adv_arrays(idx):
        return None
    idx = _index_to_host(idx if type(idx) is tuple else (idx,))     # (an error path: device arrays come over)
    is_mask = lambda i: isinstance(i, _np.ndarray) and i.dtype == _np.bool_      # noqa: E731
    is_bool = lambda i: isinstance(i, (bool, _np.bool_))     # a 0-d mask: consumes no dim  # noqa: E731
    used = sum(0 if i is None or i is Ellipsis or is_bool(i) else i.ndim if is_mask(i) else 1 for i in idx)
    full = []
    for i in idx:
        full.extend([slice(None)] * (len(shape) - used) if i is Ellipsis else [i])
    dims, new, d = list(shape), [], 0
    indexed, ishapes = [], []           # sizes of the dims the arrays index, the arrays' shapes (masks: nonzero)
    for i in full:
        if isinstance(i, _np.ndarray) and not is_mask(i):
            if d < len(dims):
                indexed.append(dims[d])
                dims[d] = builtins_max(dims[d], 1)
            ishapes.append(i.shape)
            new.append(_np.zeros(i.shape, _np.int64))
        else:
            if is_mask(i):
                indexed.extend(shape[d:d + i.ndim])
                ishapes.append((int(i.sum()),))
            elif is_bool(i):
                ishapes.append((int(i),))
            new.append(i)
        d += 0 if i is None or is_bool(i) else i.ndim if is_mask(i) else 1
    try:
        # PyTorch's AdvancedIndex: an indexed dim of size 0 with a non-empty (broadcast) index always raises
        if 0 in indexed and 0 not in _np.broadcast_shapes(*ishapes):
            return None
        r = _np.broadcast_to(_np.zeros((), _np.int8), dims)[tuple(new)]
    except (IndexError, ValueError):
        return None
    return r.shape if r.size == 0 else None


def _adv_arrays(idx):
    return builtins_any(_is_arr(i) and i.dtype != _np.bool_ for i in (idx if type(idx) is tuple else (idx,)))


def _index_array(a, idx, adv):
    """``a[idx]`` as an ndarray: an all-int basic index gives a 0-d view (NumPy would return a scalar copy);
    an advanced index gives a C-contiguous copy (PyTorch's layout).  On a device array ``idx``'s arrays must
    be on that device already (``_index_to``)."""
    try:
        if adv and type(a) is not _ndarray:
            _check_bounds(a.shape, idx)      # CuPy wraps out-of-range indices around
        r = a[idx]
    except IndexError as e:
        shape = _empty_result_shape(a.shape, idx) if adv else None
        if shape is None:
            raise _index_error(a.shape, idx, e) from None
        return _dev.array_module(a).empty(shape, a.dtype)
    if type(r) is not _ndarray and not _dev.is_device_array(r):
        r = a[(idx if type(idx) is tuple else (idx,)) + (Ellipsis,)]
    elif adv:
        if r.size == 0:
            r = _dev.array_module(r).empty(r.shape, r.dtype)      # NumPy may give an empty result zero strides
        elif not r.flags.c_contiguous:
            r = _dev.array_module(r).ascontiguousarray(r)
    elif idx is None or (type(idx) is tuple and None in idx):
        r = _unsqueeze_strides(a, r, idx)
    return r


def _unsqueeze_strides(a, r, idx):
    """NumPy gives a None (new) dim stride 0; PyTorch indexes left to right and gives it the size * stride of
    the dim it lands before (the itemsize at the end).  Recompute the result's strides that way."""
    idx = idx if type(idx) is tuple else (idx,)
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    full = []
    for i in idx:
        if i is Ellipsis:
            full.extend([slice(None)] * (a.ndim - used))
        else:
            full.append(i)
    sizes, strides = list(a.shape), list(a.strides)
    d = 0
    for i in full:
        if i is None:
            strides.insert(d, a.itemsize if d >= len(sizes) else sizes[d] * strides[d])
            sizes.insert(d, 1)
            d += 1
        elif type(i) is slice:
            start, stop, step = i.indices(sizes[d])
            sizes[d] = len(range(start, stop, step))
            strides[d] *= step
            d += 1
        else:
            del sizes[d], strides[d]
    if tuple(sizes) != r.shape:
        return r
    return _dev.as_strided(r, r.shape, strides, writeable=getattr(r.flags, "writeable", True))


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, idx, adv):
        if adv and type(a) is not _ndarray:
            idx = _index_to(idx, a)
        ctx.shape, ctx.idx, ctx.adv, ctx.dtype = a.shape, idx, adv, a.dtype
        return _index_array(a, idx, adv)

    @staticmethod
    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.idx, ctx.adv, ctx.shape), None, None


class IndexBackward(Function):
    """zeros(shape) with ``g`` added at ``idx`` (duplicates accumulate); the adjoint of GetItem."""

    @staticmethod
    def forward(ctx, g, idx, adv, shape):
        ctx.idx, ctx.adv = idx, adv
        out = _dev.array_module(g).zeros(shape, g.dtype)
        if not adv:
            out[idx] = g
        elif g.size or _empty_result_shape(shape, idx) is None:
            _ufunc_at(_np.add, out, idx, g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return GetItem.apply(gg, ctx.idx, ctx.adv), None, None, None


def _basic_view(x: Tensor, idx) -> Tensor:
    """``x[idx]`` for a basic (converted) index: a view sharing memory and version counter, as PyTorch."""
    if _grad.enabled and (x._rg or x._vw is not None):
        out = GetItem.apply(x, idx, False)
    else:
        out = Tensor._make(_index_array(x._data, idx, False))
    return _view(out, x, lambda b: _basic_view(b, idx))


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: ints, slices, None, Ellipsis, bool masks and integer arrays, as in PyTorch."""
    t = type(index)
    if t is int or (t is slice and index.step is None):
        return _basic_view(x, index)
    idx, adv = _convert_index(index)
    if adv and len(idx) > 1:
        split = _split_ints(idx)
        if split is not None:     # PyTorch selects with ints first, then indexes with the arrays
            return getitem(_basic_view(x, split[0]), split[1])
    if adv:
        _check_masks(x._data.shape, idx)
        if _dev.active:
            _check_index_device(x._data, idx)
    if len(idx) == 1:
        idx = idx[0]
    if not adv:
        return _basic_view(x, idx)
    return GetItem.apply(x, idx, True)


def _check_index_device(a, idx) -> None:
    """PyTorch's rule: index tensors live on the CPU or on the indexed tensor's device."""
    if type(a) is _ndarray and builtins_any(type(i) is not _ndarray and _dev.is_device_array(i) for i in idx):
        raise IndexError(f"indices should be either on cpu or on the same device as the indexed tensor (cpu); "
                         f"got a cuda index for a tensor of shape {tuple(a.shape)}")


def _split_ints(idx):
    """For an index mixing ints with arrays, the (basic, rest) pair PyTorch's semantics amount to: ints select
    first (NumPy would instead broadcast them with the arrays and may move the result dims to the front)."""
    def is_int(i):
        return (isinstance(i, (int, _np.integer)) and not isinstance(i, (bool, _np.bool_))) or (
            _is_arr(i) and i.ndim == 0 and i.dtype.kind in "iu")
    if not builtins_any(is_int(i) for i in idx):
        return None
    basic, rest = [], []
    for i in idx:
        if is_int(i):
            basic.append(int(i))
        elif i is None or isinstance(i, (bool, _np.bool_)):     # consume no dim
            rest.append(i)
        elif i is None:
            rest.append(i)
        elif i is Ellipsis:
            basic.append(i)
            rest.append(i)
        else:
            k = i.ndim if _is_arr(i) and i.dtype == _np.bool_ else 1
            basic.extend([slice(None)] * k)
            rest.append(i)
    return tuple(basic), tuple(rest)


class IndexPut(Function):
    @staticmethod
    def forward(ctx, a, v, idx, accumulate):
        if type(a) is not _ndarray:
            idx = _index_to(idx, a)
        ctx.idx = idx
        ctx.vshape = getattr(v, "shape", ())
        out = a.copy()
        try:
            if type(a) is not _ndarray:
                _check_bounds(a.shape, idx)      # CuPy wraps out-of-range indices around
            if accumulate:
                _ufunc_at(_np.add, out, idx, v)
            else:
                out[idx] = v
        except IndexError as e:
            if _empty_result_shape(a.shape, idx) is None:      # (writing to no element never raises)
                raise _index_error(a.shape, idx, e) from None
        except ValueError as e:
            raise RuntimeError(f"setitem: value of shape {tuple(ctx.vshape)} can't be assigned to "
                               f"{_describe(idx)} of a tensor of shape {tuple(a.shape)} ({e})") from None
        ctx.accumulate = accumulate
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = gv = None
        if n[0]:
            ga = g if ctx.accumulate else _MaskIndex.apply(g, ctx.idx)
        if n[1]:
            gv = GetItem.apply(g, ctx.idx, True)
        return ga, gv, None, None


class _MaskIndex(Function):
    """g with the entries at idx set to zero (the assigned-over positions get no gradient)."""

    @staticmethod
    def forward(ctx, g, idx):
        if type(g) is not _ndarray:
            idx = _index_to(idx, g)
        ctx.idx = idx
        out = g.copy()
        if g.size:
            out[idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        return _MaskIndex.apply(gg, ctx.idx), None


def _mask_fits(x, index, mask) -> bool:
    """Whether ``mask`` (an entry of ``index``) has the shape of the dims of ``x`` it indexes (PyTorch checks
    that first, with an IndexError)."""
    items = index if type(index) is tuple else (index,)
    used = sum(0 if i is None or i is Ellipsis else i.dim() if isinstance(i, Tensor) and i._data.dtype in
               (_np.bool_, _np.uint8) else 1 for i in items)
    d = 0
    for i in items:
        if i is mask:
            return tuple(x.shape[d:d + mask.dim()]) == tuple(mask.shape)
        d += (x.dim() - used) if i is Ellipsis else 0 if i is None else 1
    return True


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place; recorded in the graph when ``x`` or ``value`` requires grad.  ``value`` is
    a tensor (broadcast to the indexed shape) or a Python/NumPy scalar, as in PyTorch."""
    if index is False:
        # PyTorch returns before it looks at the value's shape or dtype: nothing written, no graph, no version bump
        if not isinstance(value, (Tensor, int, float, bool, _np.generic)):
            raise TypeError(f"setitem: can't assign a {type(value).__name__} to a tensor of dtype {x.dtype}; "
                            f"use a tensor or a Python number")
        if not isinstance(value, (Tensor, bool, _np.bool_)) and x._data.dtype.kind in "iu":
            checked_scalar(value, x._data.dtype, "setitem")     # (a number is made a tensor of x's dtype first)
        return
    t = type(index)
    all_int = t is int
    # PyTorch takes its masked_fill_ path (which refuses uint8) when the only advanced index is one mask
    if t is tuple or t is Tensor:
        # (a Python bool is an index tensor too: x[mask, True] is not the single-mask path)
        advs = [i for i in (index if t is tuple else (index,))
                if isinstance(i, (Tensor, _np.ndarray, list, range, bool, _np.bool_))]
        one = advs[0] if len(advs) == 1 else None
    else:
        one = None
    if isinstance(one, Tensor) and one._data.dtype == _np.uint8 and (
            not isinstance(value, Tensor) or value._data.size == 1) and _mask_fits(x, index, one):
        raise RuntimeError("setitem: masked_fill_ only supports boolean masks, but got mask with dtype uint8 (a "
                           "uint8 index is read as a mask; use a bool tensor)")
    if t is int or (t is slice and index.step is None):
        idx, adv = index, False
    else:
        idx, adv = _convert_index(index)
        if adv and len(idx) > 1:
            split = _split_ints(idx)
            if split is not None:     # as in getitem: select with the ints, then assign through the arrays
                setitem(_basic_view(x, split[0]), split[1], value)
                return
        if adv:
            _check_masks(x._data.shape, idx)
            if _dev.active:
                _check_index_device(x._data, idx)
        all_int = not adv and builtins_all(type(i) is int for i in idx)
        if len(idx) == 1:
            idx = idx[0]
    if isinstance(value, Tensor):
        if _dev.active and type(value._data) is not type(x._data):
            value = value.to(x.device)      # a value on another device is copied over (PyTorch's copy_ does)
        if adv and value._data.dtype != x._data.dtype:
            raise RuntimeError(f"setitem: index put requires the source and destination dtypes to match, got "
                               f"{x.dtype} for the destination and {value.dtype} for the source")
    elif not isinstance(value, (int, float, bool, _np.generic)):
        raise TypeError(f"setitem: can't assign a {type(value).__name__} to a tensor of dtype {x.dtype}; "
                        f"use a tensor or a Python number")
    elif x._data.dtype.kind in "iu" and not isinstance(value, (bool, _np.bool_)):
        value = checked_scalar(value, x._data.dtype, "setitem")     # PyTorch's range check and wrap-around
    if all_int:
        idx = (idx if type(idx) is tuple else (idx,)) + (Ellipsis,)    # a 0-d target takes a (1,)-shaped value
    tracked = _grad.enabled and (x._rg or (isinstance(value, Tensor) and value._rg))
    if not tracked:
        v = value._data if isinstance(value, Tensor) else value
        if adv and type(x._data) is not _ndarray:
            idx = _index_to(idx, x._data)
        try:
            if adv and type(x._data) is not _ndarray:
                _check_bounds(x._data.shape, idx)      # CuPy wraps out-of-range indices around
            if not adv:      # PyTorch's copy_ into the indexed region refuses an expanded one
                _check_overlap(Tensor._make(x._data[idx]), "setitem")
            if adv or not _write_overlapping(x._data[idx], v):     # (a view whose elements share memory:
                x._data[idx] = v                                    # element by element, as PyTorch)
        except IndexError as e:
            if not adv or _empty_result_shape(x._data.shape, idx) is None:     # (writing nothing never raises)
                raise _index_error(x._data.shape, idx, e) from None
        except ValueError as e:
            raise RuntimeError(f"setitem: value of shape {tuple(_np.shape(v))} can't be assigned to "
                               f"{_describe(idx)} of a tensor of shape {tuple(x.shape)} ({e})") from None
        x._version[0] += 1
        return
    if not isinstance(value, Tensor):
        value = Tensor._make(_dev.like(_np.asarray(value, x._data.dtype), x._data))
    elif value._data.dtype != x._data.dtype:
        # PyTorch's index_put_, or fill_ of a 0-d value into a region of another shape (its copy_ path is exempt)
        if value._rg and (adv or value._data.ndim == 0 and x._data[idx].shape != ()):
            from .._tensor_inplace import _check_several_views
            _check_several_views(x, "setitem")
        value = value.to(x.dtype)
    if not adv and _internal_overlap(x._data):
        # x's elements share memory (an expand): PyTorch copies into the view x[idx] (a CopySlices on the base),
        # so only that region must not overlap (x.expand(2, 3)[0][0] = v writes)
        _basic_view(x, idx)._inplace(_assign, value)
        return
    def index_put(s, v):
        return IndexPut.apply(s, v, idx, False)
    x._inplace(index_put, value)


def _assign(s, v):
    """Out-of-place ``s.copy_(v)``: the write of ``x[idx] = v`` into the region ``x[idx]``."""
    from ._elementwise_clamp import copy_into
    return copy_into(s, v)


_assign.__name__ = "setitem"


def index_put(input, indices, values, accumulate=False):
    idx, _ = _convert_index(tuple(indices), input._data.shape)
    return IndexPut.apply(input, values, idx, accumulate)


# moved to sibling modules by family; re-exported so every old import path works
from ._index_scatter import (  # noqa: E402,F401
    _check_index_tensor, _check_src_covers, _dim_index, _full_index, _index_add_along, _MaskedFill,
    _MaskedScatter, _PadConstantFlat, _prod_grads_with_zeros, _reduce_identity, _REDUCE_UFUNC,
    _scatter_add_array, _scatter_into_zeros, Gather, gather, index_add, index_copy, index_fill, index_select,
    IndexAdd, IndexSelect, masked_scatter, Scatter, scatter, scatter_add, scatter_reduce, ScatterAdd,
    ScatterReduce)
from ._index_masks import (  # noqa: E402,F401
    _need_2d, _order, _SortResult, argsort, argwhere, bucketize, diag, masked_fill, masked_select, nonzero,
    one_hot, searchsorted, sort, take, take_along_dim, topk, trace, tril, triu)
