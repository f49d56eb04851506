"""Indexing: ``x[...]`` and ``x[...] = v``, gather/scatter, index_select/index_add, masked_fill,
take_along_dim, nonzero.

Gradients of indexing scatter back with accumulation, so an index that repeats (``x[[0, 0]]``) receives
the sum of both gradients.  Scatter-adds go through ``np.bincount`` on linear indices (one vectorized pass)
rather than ``np.add.at``.
"""
from __future__ import annotations

import warnings as _warnings
from builtins import all as builtins_all, any as builtins_any

import numpy as _np
from typing import NamedTuple

from ..autograd.function import Function, once_differentiable
from ..autograd.grad_mode import state as _grad
from ..backend.dtypes import checked_scalar
from ..tensor import Tensor, _wrap_dim, _to_array
from . import elementwise as E
from .shape import diagonal, _view, _CloneAs  # noqa: F401  (diagonal: a view; lives with the other strided views)
from .shape import diagonal as _diagonal_view  # diag's parameter is called diagonal, as PyTorch's


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
        _warnings.warn("indexing with dtype uint8 is deprecated, please use a dtype bool instead (ember reads a "
                       "uint8 index as a mask, as PyTorch does)", UserWarning, stacklevel=4)
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
        seq = [o._data if isinstance(o, Tensor) else o for o in seq]
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
            _warnings.warn("using a non-tuple sequence for multidimensional indexing is deprecated (as in PyTorch); "
                           "use x[tuple(seq)] instead of x[seq]", UserWarning, stacklevel=3)
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
        elif hasattr(i, "__index__"):
            out.append(int(i.__index__()))
        else:
            raise IndexError(f"index of type {type(i).__name__} is not supported; use ints, slices, None, "
                             f"Ellipsis, bool masks or integer tensors")
    return tuple(out), adv


def _index_error(x_shape, index, e):
    return IndexError(f"index {_describe(index)} is out of range for tensor of shape {tuple(x_shape)}: {e}")


def _describe(index):
    if isinstance(index, tuple):
        return "[" + ", ".join(_describe(i) for i in index) + "]"
    if isinstance(index, _np.ndarray):
        return f"array(shape={index.shape}, dtype={index.dtype})"
    if isinstance(index, slice):
        return f"{'' if index.start is None else index.start}:{'' if index.stop is None else index.stop}" + (
            f":{index.step}" if index.step is not None else "")
    return repr(index)


def _index_array(a, idx, adv):
    """``a[idx]`` as an ndarray: an all-int basic index gives a 0-d view (NumPy would return a scalar copy);
    an advanced index gives a C-contiguous copy (PyTorch's layout)."""
    try:
        r = a[idx]
    except IndexError as e:
        raise _index_error(a.shape, idx, e) from None
    if type(r) is not _np.ndarray:
        r = a[(idx if type(idx) is tuple else (idx,)) + (Ellipsis,)]
    elif adv:
        if r.size == 0:
            r = _np.empty(r.shape, r.dtype)      # NumPy may give an empty result zero strides
        elif not r.flags.c_contiguous:
            r = _np.ascontiguousarray(r)
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
    return _np.lib.stride_tricks.as_strided(r, r.shape, strides, writeable=r.flags.writeable)


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, idx, adv):
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
        out = _np.zeros(shape, g.dtype)
        if not adv:
            out[idx] = g
        else:
            _np.add.at(out, idx, g)
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
    if len(idx) == 1:
        idx = idx[0]
    if not adv:
        return _basic_view(x, idx)
    return GetItem.apply(x, idx, True)


def _split_ints(idx):
    """For an index mixing ints with arrays, the (basic, rest) pair PyTorch's semantics amount to: ints select
    first (NumPy would instead broadcast them with the arrays and may move the result dims to the front)."""
    def is_int(i):
        return (isinstance(i, (int, _np.integer)) and not isinstance(i, (bool, _np.bool_))) or (
            isinstance(i, _np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")
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
            k = i.ndim if isinstance(i, _np.ndarray) and i.dtype == _np.bool_ else 1
            basic.extend([slice(None)] * k)
            rest.append(i)
    return tuple(basic), tuple(rest)


class IndexPut(Function):
    @staticmethod
    def forward(ctx, a, v, idx, accumulate):
        ctx.idx = idx
        ctx.vshape = getattr(v, "shape", ())
        out = a.copy()
        try:
            if accumulate:
                _np.add.at(out, idx, v)
            else:
                out[idx] = v
        except IndexError as e:
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
        ctx.idx = idx
        out = g.copy()
        out[idx] = 0
        return out

    @staticmethod
    def backward(ctx, gg):
        return _MaskIndex.apply(gg, ctx.idx), None


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value`` in place; recorded in the graph when ``x`` or ``value`` requires grad.  ``value`` is
    a tensor (broadcast to the indexed shape) or a Python/NumPy scalar, as in PyTorch."""
    t = type(index)
    all_int = t is int
    # PyTorch takes its masked_fill_ path (which refuses uint8) when the only advanced index is one mask
    if t is tuple or t is Tensor:
        advs = [i for i in (index if t is tuple else (index,)) if isinstance(i, (Tensor, _np.ndarray, list, range))]
        one = advs[0] if len(advs) == 1 else None
    else:
        one = None
    if isinstance(one, Tensor) and one._data.dtype == _np.uint8 and (
            not isinstance(value, Tensor) or value._data.ndim == 0):
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
        all_int = not adv and builtins_all(type(i) is int for i in idx)
        if len(idx) == 1:
            idx = idx[0]
    if isinstance(value, Tensor):
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
        try:
            x._data[idx] = v
        except IndexError as e:
            raise _index_error(x._data.shape, idx, e) from None
        except ValueError as e:
            raise RuntimeError(f"setitem: value of shape {tuple(_np.shape(v))} can't be assigned to "
                               f"{_describe(idx)} of a tensor of shape {tuple(x.shape)} ({e})") from None
        x._version[0] += 1
        return
    if not isinstance(value, Tensor):
        value = Tensor._make(_np.asarray(value, x._data.dtype))
    elif value._data.dtype != x._data.dtype:
        value = value.to(x.dtype)
    x._inplace(lambda s, v: IndexPut.apply(s, v, idx, False), value)


def index_put(input, indices, values, accumulate=False):
    idx, _ = _convert_index(tuple(indices), input._data.shape)
    return IndexPut.apply(input, values, idx, accumulate)


# -- gather / scatter ---------------------------------------------------------------------------------------------
def _full_index(index, axis):
    """Open-mesh index tuple that addresses ``out[i0, .., index[i], .., ik]``."""
    idx = []
    nd = index.ndim
    for k in range(nd):
        if k == axis:
            idx.append(index)
        else:
            shp = [1] * nd
            shp[k] = index.shape[k]
            idx.append(_np.arange(index.shape[k]).reshape(shp))
    return tuple(idx)


def _scatter_add_array(out, axis, index, src):
    """out[..., index[i], ...] += src[i] along ``axis``, vectorized with bincount."""
    if index.size == 0:
        return out
    full = _full_index(index, axis)
    lin = _np.ravel_multi_index(tuple(_np.broadcast_to(i, index.shape) for i in full), out.shape)
    if out.dtype.kind == "f":
        add = _np.bincount(lin.ravel(), weights=src.ravel().astype(_np.float64), minlength=out.size)
        out += add.reshape(out.shape).astype(out.dtype)
    else:
        _np.add.at(out, full, src)
    return out


def _check_index_tensor(index, x, axis, op):
    if not isinstance(index, Tensor):
        index = Tensor._make(_np.asarray(index))
    ia = index._data
    if ia.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): expected dtype int64 for index, got {ia.dtype}")
    if ia.ndim != x._data.ndim and not (ia.ndim <= 1 and x._data.ndim <= 1):
        raise RuntimeError(f"{op}(): index tensor must have the same number of dimensions as the input tensor "
                           f"(index shape {tuple(ia.shape)}, input shape {tuple(x.shape)})")
    n = x._data.shape[axis] if x._data.ndim else 1
    if ia.size and (ia.min() < 0 or ia.max() >= n):    # PyTorch raises for negative indices here too
        raise RuntimeError(f"{op}(): index {int(ia.min() if ia.min() < 0 else ia.max())} is out of bounds for "
                           f"dimension {axis} with size {n}")
    return ia


class Gather(Function):
    @staticmethod
    def forward(ctx, a, axis, index):
        ctx.shape, ctx.axis, ctx.index = a.shape, axis, index
        sl = tuple(slice(0, s) if k != axis else slice(None) for k, s in enumerate(index.shape))
        return _np.take_along_axis(a[sl], index, axis)

    @staticmethod
    def backward(ctx, g):
        z = Tensor._make(_np.zeros(ctx.shape, g.dtype))
        return ScatterAdd.apply(z, ctx.axis, ctx.index, g), None, None


def gather(input: Tensor, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for dim=1 (``torch.gather``); ``sparse_grad=True`` is accepted and the
    gradient is dense (ember has no sparse tensors)."""
    axis = _wrap_dim(dim, input._data.ndim, "gather")
    ia = _check_index_tensor(index, input, axis, "gather")
    return Gather.apply(input, axis, ia)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, a, axis, index, src):
        ctx.axis, ctx.index = axis, index
        sl = tuple(slice(0, s) for s in index.shape)
        src = src[sl] if src.shape != index.shape else src
        return _scatter_add_array(a.copy(), axis, index, src)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        gs = Gather.apply(g, ctx.axis, ctx.index) if n[3] else None
        return g, None, None, gs


class Scatter(Function):
    @staticmethod
    def forward(ctx, a, axis, index, src):
        ctx.axis, ctx.index = axis, index
        out = a.copy()
        full = _full_index(index, axis)
        if isinstance(src, _np.ndarray):
            sl = tuple(slice(0, s) for s in index.shape)
            out[full] = src[sl]
        else:
            out[full] = src
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        full = _full_index(ctx.index, ctx.axis)
        ga = _MaskIndex.apply(g, full) if n[0] else None
        gs = Gather.apply(g, ctx.axis, ctx.index) if n[3] else None
        return ga, None, None, gs


def scatter_add(input: Tensor, dim: int, index, src) -> Tensor:
    """Out-of-place ``x.scatter_add(dim, index, src)``: adds ``src`` into ``x`` at ``index`` along ``dim``."""
    axis = _wrap_dim(dim, input._data.ndim, "scatter_add")
    ia = _check_index_tensor(index, input, axis, "scatter_add")
    _check_src_covers(src, ia, "scatter_add")
    return ScatterAdd.apply(input, axis, ia, src)


def scatter(input: Tensor, dim: int, index, src=None, value=None, reduce=None) -> Tensor:
    """Out-of-place ``x.scatter(dim, index, src)`` (or a scalar ``value``); ``reduce='add'`` accumulates."""
    axis = _wrap_dim(dim, input._data.ndim, "scatter")
    ia = _check_index_tensor(index, input, axis, "scatter")
    if src is None:
        src = value
    if reduce in ("add", "sum"):
        if not isinstance(src, Tensor):
            src = Tensor._make(_np.full(ia.shape, src, input._data.dtype))
        return ScatterAdd.apply(input, axis, ia, src)
    if reduce is not None:
        raise ValueError(f"scatter: reduce must be None, 'add' or 'sum', got {reduce!r}")
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        src = src.to(input.dtype)
    _check_src_covers(src, ia, "scatter")
    return Scatter.apply(input, axis, ia, src)


def _check_src_covers(src, ia, op):
    if isinstance(src, Tensor):
        s = src._data.shape
        if len(s) != ia.ndim or builtins_any(a < b for a, b in zip(s, ia.shape)):
            raise RuntimeError(f"{op}(): expected src of shape at least {tuple(ia.shape)} (the index's shape) with "
                               f"the same number of dims, got {tuple(s)}")


_REDUCE_UFUNC = {"sum": _np.add, "mean": _np.add, "prod": _np.multiply, "amax": _np.maximum, "amin": _np.minimum}


def _reduce_identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -_np.inf if reduce == "amax" else _np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = _np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Function):
    @staticmethod
    def forward(ctx, a, axis, index, src, reduce, include_self):
        full = _full_index(index, axis)
        s = src[tuple(slice(0, k) for k in index.shape)] if src.shape != index.shape else src
        out = a.copy()
        hit = _np.zeros(a.shape, _np.int64)
        _np.add.at(hit, full, 1)
        if not include_self:
            out[full] = _reduce_identity(reduce, a.dtype)
        _REDUCE_UFUNC[reduce].at(out, full, s)
        count = hit + (1 if include_self else 0)
        count[count == 0] = 1
        if reduce == "mean":
            out = out // count.astype(out.dtype) if out.dtype.kind in "iub" else out / count.astype(out.dtype)
        ctx.axis, ctx.full, ctx.reduce, ctx.include_self = axis, full, reduce, include_self
        ctx.hit, ctx.count, ctx.a, ctx.s, ctx.out, ctx.src_shape = hit, count, a, s, out, src.shape
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        g = g._data
        full, reduce, hit = ctx.full, ctx.reduce, ctx.hit
        keep_self = _np.ones(g.shape, bool) if ctx.include_self else hit == 0
        if reduce in ("sum", "mean"):
            gg = g / ctx.count if reduce == "mean" else g
            ga, gs = gg * keep_self, gg[full]
        elif reduce == "prod":
            a, s, out = ctx.a, ctx.s, ctx.out
            with _np.errstate(divide="ignore", invalid="ignore"):
                ga = _np.where(keep_self, g * out / a, 0)
                gs = (g * out)[full] / s
            if (a == 0).any() or (s == 0).any():     # exact products of the others where a factor is 0
                ga, gs = _prod_grads_with_zeros(ctx, g, keep_self)
        else:   # amax / amin: shared evenly among every element equal to the result (PyTorch's rule)
            a, s, out = ctx.a, ctx.s, ctx.out
            eq_self = a == out          # counted even with include_self=False, as PyTorch does
            eq_src = s == out[full]
            cnt = eq_self.astype(g.dtype)
            _np.add.at(cnt, full, eq_src.astype(g.dtype))
            cnt[cnt == 0] = 1
            ga = g * (eq_self & keep_self) / cnt
            gs = (g / cnt)[full] * eq_src
        gsrc = _np.zeros(ctx.src_shape, g.dtype)
        gsrc[tuple(slice(0, k) for k in gs.shape)] = gs
        return Tensor._make(ga.astype(g.dtype)), None, None, Tensor._make(gsrc), None, None


def _prod_grads_with_zeros(ctx, g, keep_self):
    """prod reduction gradients that stay exact with zeros: each factor's gradient is the product of the
    other factors of its group (slow path, only when a zero is present)."""
    a, s, full = ctx.a, ctx.s, ctx.full
    ga = _np.zeros(a.shape, g.dtype)
    gs = _np.zeros(s.shape, g.dtype)
    members = {}
    bfull = _np.broadcast_arrays(*full)
    for pos in _np.ndindex(*s.shape):
        members.setdefault(tuple(int(b[pos]) for b in bfull), []).append(pos)
    for tgt, srcs in members.items():
        vals = [s[p] for p in srcs]
        with_self = bool(keep_self[tgt])
        if with_self:
            vals.append(a[tgt])
        for k, p in enumerate(srcs):
            gs[p] = g[tgt] * _np.prod([v for j, v in enumerate(vals) if j != k])
        if with_self:
            ga[tgt] = g[tgt] * _np.prod(vals[:-1])
    untouched = _np.ones(a.shape, bool)
    for tgt in members:
        untouched[tgt] = False
    ga[untouched] = g[untouched]
    return ga, gs


def scatter_reduce(input: Tensor, dim: int, index, src, reduce: str, *, include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``x`` at ``index`` along ``dim`` with "sum", "prod", "mean", "amax" or "amin"
    (``torch.scatter_reduce``; ``include_self=False`` leaves ``x``'s own values out where something lands)."""
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of sum, prod, mean, amax, amin, got "
                           f"{reduce!r}")
    axis = _wrap_dim(dim, input._data.ndim, "scatter_reduce")
    ia = _check_index_tensor(index, input, axis, "scatter_reduce")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): src must be a Tensor, got {type(src).__name__}")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"scatter_reduce(): expected self and src to have the same dtype, got {input.dtype} and "
                           f"{src.dtype}")
    _check_src_covers(src, ia, "scatter_reduce")
    return ScatterReduce.apply(input, axis, ia, src, reduce, bool(include_self))


def _dim_index(x, dim, index, op, allow_negative):
    axis = _wrap_dim(dim, x._data.ndim, op) if x._data.ndim else 0
    ia = index._data if isinstance(index, Tensor) else _np.asarray(index)
    if ia.ndim > 1:
        raise IndexError(f"{op}(): index should have dimension 1 or 0 (got {ia.ndim})")
    if ia.dtype.kind not in "iu":
        raise IndexError(f"{op}(): index must be an integer (int64) tensor, got dtype {ia.dtype}")
    ia = ia.reshape(-1).astype(_np.int64, copy=False)
    n = x._data.shape[axis] if x._data.ndim else 1
    lo = -n if allow_negative else 0
    if ia.size and (ia.min() < lo or ia.max() >= n):
        bad = int(ia.min() if ia.min() < lo else ia.max())
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {axis} with size {n}")
    ia = _np.where(ia < 0, ia + n, ia) if ia.size and ia.min() < 0 else ia
    full = (slice(None),) * axis + (ia,) if x._data.ndim else (ia,)
    return axis, ia, full


def index_copy(input: Tensor, dim: int, index, source) -> Tensor:
    """``x`` with the slices along ``dim`` at ``index`` replaced by ``source``'s (``torch.index_copy``)."""
    if input._data.ndim == 0:
        raise IndexError("index_copy(): a 0-d tensor has no dimension to index")
    axis, ia, full = _dim_index(input, dim, index, "index_copy", allow_negative=False)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy(): self and source expected to have the same dtype, but got (self) "
                           f"{input.dtype} and (source) {source.dtype}")
    want = input._data.shape[:axis] + (ia.size,) + input._data.shape[axis + 1:]
    if tuple(source.shape) != want:
        raise RuntimeError(f"index_copy(): source of shape {tuple(source.shape)} doesn't match the expected shape "
                           f"{want} (input {tuple(input.shape)} with {ia.size} indices along dim {axis})")
    return IndexPut.apply(input, source, full, False)


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:
    """``x`` with the slices along ``dim`` at ``index`` set to ``value`` (a number or 0-d tensor;
    ``torch.index_fill``; negative indices count from the end)."""
    if input._data.ndim == 0:
        x1 = index_fill(input.reshape(1), 0, index, value)
        return x1.reshape(())
    axis, ia, full = _dim_index(input, dim, index, "index_fill", allow_negative=True)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill(): only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s)")
        m = _np.zeros(input._data.shape, bool)
        m[full] = True
        return E.where(Tensor._make(m), value.to(input.dtype), input)
    if input._data.dtype.kind in "iu" and not isinstance(value, (bool, _np.bool_)):
        value = checked_scalar(value, input._data.dtype, "index_fill")
    return IndexPut.apply(input, value, full, False)


class _MaskedScatter(Function):
    @staticmethod
    def forward(ctx, a, m, src):
        k = int(m.sum())
        flat = src.reshape(-1)
        if flat.size < k:
            raise RuntimeError(f"masked_scatter(): number of elements in source ({flat.size}) < number of ones in "
                               f"mask ({k})")
        ctx.m, ctx.k, ctx.src_shape = m, k, src.shape
        out = a.copy()
        out[m] = flat[:k]
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        ga = _MaskedFill.apply(g, ctx.m, 0) if n[0] else None
        gs = None
        if n[2]:
            picked = GetItem.apply(g, ctx.m, True)
            size = int(_np.prod(ctx.src_shape))
            gs = _PadConstantFlat.apply(picked, size - ctx.k).reshape(ctx.src_shape)
        return ga, None, gs


class _PadConstantFlat(Function):
    @staticmethod
    def forward(ctx, a, extra):
        ctx.n = a.size
        return _np.concatenate([a.reshape(-1), _np.zeros(extra, a.dtype)])

    @staticmethod
    def backward(ctx, g):
        return g[:ctx.n], None


def masked_scatter(input: Tensor, mask, source) -> Tensor:
    """``x`` with the positions where ``mask`` is True filled, in order, from ``source``'s elements
    (``torch.masked_scatter``; the mask broadcasts)."""
    m = mask._data if isinstance(mask, Tensor) else _np.asarray(mask)
    if m.dtype != _np.bool_:
        raise RuntimeError(f"masked_scatter(): expected a bool mask, got dtype {m.dtype}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter(): expected self and source to have the same dtype, got {input.dtype} and "
                           f"{source.dtype}")
    try:
        shape = _np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter(): mask of shape {tuple(m.shape)} is not broadcastable with the input "
                           f"of shape {tuple(input.shape)}") from None
    if shape != input._data.shape:
        input = input.expand(shape)
    return _MaskedScatter.apply(input, _np.broadcast_to(m, shape), source)


def _scatter_into_zeros(g: Tensor, idx, axis, shape) -> Tensor:
    z = Tensor._make(_np.zeros(shape, g.dtype))
    return ScatterAdd.apply(z, axis, idx, g)


# -- index_select / index_add ----------------------------------------------------------------------------------------
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, a, axis, idx):
        ctx.axis, ctx.idx, ctx.n = axis, idx, a.shape[axis]
        return _np.take(a, idx, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return _index_add_along(g, ctx.axis, ctx.idx, ctx.n), None, None


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, a, axis, idx, src):
        ctx.axis, ctx.idx = axis, idx
        out = a.copy()
        moved = _np.moveaxis(out, axis, 0)
        s = _np.moveaxis(src, axis, 0)
        n = moved.shape[0]
        if out.dtype.kind == "f" and idx.size and n * idx.size <= 4_000_000:
            # segmented sum as one GEMM with a one-hot (n x k) matrix: far faster than np.add.at
            flat = s.reshape(s.shape[0], -1)
            onehot = _np.zeros((n, idx.size), flat.dtype)
            onehot[idx, _np.arange(idx.size)] = 1
            moved += (onehot @ flat).reshape(moved.shape)
        else:
            _np.add.at(moved, idx, s)
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return g, None, None, (IndexSelect.apply(g, ctx.axis, ctx.idx) if n[3] else None)


def _index_add_along(g: Tensor, axis: int, idx, n: int) -> Tensor:
    shape = list(g.shape)
    shape[axis] = n
    z = Tensor._make(_np.zeros(shape, g.dtype))
    return IndexAdd.apply(z, axis, idx, g)


def index_select(input: Tensor, dim: int, index) -> Tensor:
    """Rows (or slices along ``dim``) picked by a 1-D index (``torch.index_select``)."""
    axis = _wrap_dim(dim, input._data.ndim, "index_select")
    ia = index._data if isinstance(index, Tensor) else _np.asarray(index)
    if ia.ndim > 1:
        raise IndexError(f"index_select(): index must be 0-D or 1-D, got shape {tuple(ia.shape)}")
    if ia.dtype.kind not in "iu":
        raise IndexError(f"index_select(): expected an integer (int64) index, got dtype {ia.dtype}")
    ia = ia.reshape(-1)
    n = input._data.shape[axis] if input._data.ndim else 1
    if ia.size and (ia.min() < 0 or ia.max() >= n):
        raise IndexError(f"index_select(): index {int(ia.min() if ia.min() < 0 else ia.max())} out of range for "
                         f"dimension {axis} with size {n} (negative indices are not allowed, as in PyTorch)")
    return IndexSelect.apply(input, axis, ia)


def index_add(input: Tensor, dim: int, index, source, alpha=1) -> Tensor:
    axis = _wrap_dim(dim, input._data.ndim, "index_add")
    ia = (index._data if isinstance(index, Tensor) else _np.asarray(index)).reshape(-1)
    if ia.dtype.kind not in "iu":
        raise RuntimeError(f"index_add(): expected an integer index, got dtype {ia.dtype}")
    n = input._data.shape[axis] if input._data.ndim else 1
    if ia.size and (ia.min() < 0 or ia.max() >= n):
        raise RuntimeError(f"index_add(): index {int(ia.min() if ia.min() < 0 else ia.max())} is out of bounds for "
                           f"dimension {axis} with size {n}")
    src_shape = source.shape if isinstance(source, Tensor) else _np.shape(source)
    want = input._data.shape[:axis] + (ia.size,) + input._data.shape[axis + 1:]
    if tuple(src_shape) != tuple(want):
        raise RuntimeError(f"index_add(): source of shape {tuple(src_shape)} doesn't match the expected shape "
                           f"{want} (input {tuple(input.shape)} with {ia.size} indices along dim {axis})")
    if alpha != 1:
        source = E.mul(source, alpha)
    return IndexAdd.apply(input, axis, ia, source)


# -- masks -----------------------------------------------------------------------------------------------------------
def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, else ``x`` (``torch.masked_fill``)."""
    m = mask._data if isinstance(mask, Tensor) else _np.asarray(mask)
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
        # PyTorch converts the scalar only when something is filled: range-checked, negative ints wrap
        value = checked_scalar(value, input._data.dtype, "masked_fill") if m.any() else 0
    return _MaskedFill.apply(input, m, value)


class _MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, m, value, contiguous=False):
        ctx.m, ctx.contiguous = m, contiguous
        out = _np.where(m, _np.asarray(value, a.dtype), a)
        out = out if out.shape == a.shape else _np.broadcast_to(out, a.shape).copy()
        return _np.ascontiguousarray(out) if contiguous else out     # tril/triu: contiguous, as PyTorch

    @staticmethod
    def backward(ctx, g):
        return _MaskedFill.apply(g, ctx.m, 0, ctx.contiguous), None, None, None


def masked_select(input: Tensor, mask) -> Tensor:
    m = mask._data if isinstance(mask, Tensor) else _np.asarray(mask)
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
    ia = indices._data if isinstance(indices, Tensor) else _np.asarray(indices)
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
        return Tensor._make(_np.zeros((nz[0].size, 0), _np.int64))
    if as_tuple:
        return tuple(Tensor._make(i.astype(_np.int64)) for i in nz)
    # (n, ndim) in column-major order: PyTorch's nonzero fills a (ndim, n) buffer and returns its transpose
    return Tensor._make(_np.stack(nz, axis=0).astype(_np.int64).T if nz else _np.zeros((0, 0), _np.int64))


def argwhere(input):
    return nonzero(input)


def _need_2d(x, op):
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")


def tril(input, diagonal=0):
    _need_2d(input, "tril")
    m = _np.tri(*input._data.shape[-2:], k=diagonal, dtype=bool)
    return _MaskedFill.apply(input, ~m, 0, True)


def triu(input, diagonal=0):
    _need_2d(input, "triu")
    m = _np.tri(*input._data.shape[-2:], k=diagonal - 1, dtype=bool)
    return _MaskedFill.apply(input, m, 0, True)


def diag(input, diagonal=0):
    x, diagonal_ = input, diagonal
    if x._data.ndim == 1:
        n = x._data.shape[0] + abs(diagonal_)
        z = Tensor._make(_np.zeros((n, n), x._data.dtype))
        i = _np.arange(x._data.shape[0])
        r, c = (i, i + diagonal_) if diagonal_ >= 0 else (i - diagonal_, i)
        return IndexPut.apply(z, x, (r, c), False)
    if x._data.ndim != 2:
        raise RuntimeError(f"diag(): supports 1-D or 2-D tensors, got shape {tuple(x.shape)}")
    return _CloneAs.apply(_diagonal_view(x, diagonal_), None)   # torch.diag returns a copy (diagonal() is the view)


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
    return Tensor._make((a[..., None] == _np.arange(num_classes)).astype(_np.int64))


class _SortResult(NamedTuple):
    values: Tensor
    indices: Tensor


def _order(x: Tensor, axis: int, descending: bool):
    a = x._data
    if a.ndim == 0:
        return _np.zeros((), _np.int64)
    if descending:      # negate (stable sort keeps ties in their original order in both directions)
        # ~a (= -a - 1) reverses signed integers without overflowing at the dtype's minimum
        a = ~a if a.dtype.kind == "i" else -(a.astype(_np.int64) if a.dtype.kind in "bu" else a)
    idx = _np.argsort(a, axis=axis, kind="stable").astype(_np.int64)
    if descending and a.dtype.kind == "f" and _np.isnan(a).any():
        # NaN is the largest value (PyTorch): move the NaNs, last after the stable sort, to the front in order
        nan_last = ~_np.isnan(_np.take_along_axis(a, idx, axis))
        idx = _np.take_along_axis(idx, _np.argsort(nan_last, axis=axis, kind="stable"), axis)
    return idx


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> _SortResult:
    """Sorted values along ``dim`` and the indices they came from (``torch.sort``); the gradient flows back
    to the original positions."""
    axis = _wrap_dim(dim, input._data.ndim, "sort")
    idx = _order(input, axis, descending)
    if input._data.ndim == 0:
        return _SortResult(input, Tensor._make(idx))
    return _SortResult(Gather.apply(input, axis, idx), Tensor._make(idx))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (``torch.argsort``)."""
    axis = _wrap_dim(dim, input._data.ndim, "argsort")
    return Tensor._make(_order(input, axis, descending))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> _SortResult:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices (``torch.topk``)."""
    axis = _wrap_dim(dim, input._data.ndim, "topk")
    n = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {axis} of size {n} (shape {tuple(input.shape)})")
    idx = _order(input, axis, largest)
    if input._data.ndim == 0:
        return _SortResult(input, Tensor._make(idx))
    idx = _np.take(idx, _np.arange(k), axis=axis)
    return _SortResult(Gather.apply(input, axis, idx), Tensor._make(idx))


def searchsorted(sorted_seq, values, right=False):
    s = _to_array(sorted_seq, None)
    v = _to_array(values, None)
    return Tensor._make(_np.searchsorted(s, v, side="right" if right else "left").astype(_np.int64))


def bucketize(x, boundaries, right=False):
    return searchsorted(boundaries, x, right=right)
