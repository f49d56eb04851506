"""Gather and scatter along a dim: ``gather``, ``scatter``/``scatter_add``/``scatter_reduce``, ``index_copy``,
``index_fill``, ``masked_scatter``, ``index_select`` and ``index_add``, with their backwards, and the
masked-fill kernel they share with ``masked_fill``/``tril``/``triu``. Re-exported by ``ember.ops.index``.
"""
from __future__ import annotations

from builtins import any as builtins_any

import numpy as _np

from ..autograd.function import Function, once_differentiable
from ..backend import device as _dev
from ..backend.dtypes import checked_scalar
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from .index import _MaskIndex, GetItem, IndexPut, _is_arr
from ._index_device import check_bounds as _check_bounds, host as _host, on_device as _on_device
from ._index_device import ufunc_at as _ufunc_at

_ndarray = _np.ndarray
_xp = _dev.array_module


def _index_like(ia, x, op):
    """An index array on the device of the tensor ``x`` it indexes (PyTorch: both on one device; a host index
    array made from a list moves to x's device)."""
    if type(ia) is _ndarray:
        return ia if type(x._data) is _ndarray else _dev.like(ia, x._data)
    if type(x._data) is _ndarray and _dev.is_device_array(ia):
        raise RuntimeError(f"{op}(): expected the index on the same device as the input tensor, but found the "
                           f"index on {x.__class__._make(ia).device} and the input of shape {tuple(x.shape)} on cpu")
    return ia


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
            idx.append(_xp(index).arange(index.shape[k]).reshape(shp))
    return tuple(idx)


def _scatter_add_array(out, axis, index, src):
    """out[..., index[i], ...] += src[i] along ``axis``, vectorized with bincount."""
    if index.size == 0:
        return out
    full = _full_index(index, axis)
    lin = _xp(out).ravel_multi_index(tuple(_np.broadcast_to(i, index.shape) for i in full), out.shape)
    if out.dtype.kind == "f":
        add = _np.bincount(lin.ravel(), weights=src.ravel().astype(_np.float64), minlength=out.size)
        out += add.reshape(out.shape).astype(out.dtype)
    else:
        _ufunc_at(_np.add, out, full, src)
    return out


def _check_index_tensor(index, x, axis, op):
    if not isinstance(index, Tensor):
        index = Tensor._make(_np.asarray(index))
    ia = _index_like(index._data, x, op)
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
        if index.ndim != a.ndim or a.ndim == 0:     # 0-d with a 0-d/1-d partner: out has the index's shape
            return a.reshape(-1)[index.reshape(-1)].reshape(index.shape)
        sl = tuple(slice(0, s) if k != axis else slice(None) for k, s in enumerate(index.shape))
        return _np.take_along_axis(a[sl], index, axis)

    @staticmethod
    def backward(ctx, g):
        z = Tensor._make(_xp(g._data).zeros(ctx.shape, g.dtype))
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
        if index.ndim != a.ndim or src.ndim != a.ndim:      # 0-d and 1-d partners: as one-element 1-d ones
            i1 = index.reshape(-1)
            return _scatter_add_array(a.reshape(-1).copy(), 0, i1, src.reshape(-1)[:i1.size]).reshape(a.shape)
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
        arr = _is_arr(src)
        if index.ndim != a.ndim or (arr and src.ndim != a.ndim):   # 0-d/1-d partners
            i1 = index.reshape(-1)
            out.reshape(-1)[i1] = src.reshape(-1)[:i1.size] if arr else src
            return out
        full = _full_index(index, axis)
        if arr:
            sl = tuple(slice(0, s) for s in index.shape)
            out[full] = src[sl]
        else:
            out[full] = src
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        full = _full_index(ctx.index, ctx.axis) if ctx.index.ndim == g._data.ndim else (ctx.index.reshape(-1),)
        if n[0] and g._data.ndim == 0:
            ga = g * (0 if ctx.index.size else 1)
        else:
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
            src = Tensor._make(_xp(ia).full(ia.shape, src, input._data.dtype))
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
        if len(s) <= 1 and ia.ndim <= 1:    # 0-d and 1-d partners count as one-element 1-d ones (PyTorch)
            s, want = s or (1,), ia.shape or (1,)
            if s[0] < want[0]:
                raise RuntimeError(f"{op}(): expected src of at least {want[0]} elements (the index's), got "
                                   f"{tuple(src._data.shape)}")
        elif len(s) != ia.ndim or builtins_any(a < b for a, b in zip(s, ia.shape)):
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
        ctx.a_shape, ctx.src_shape = a.shape, src.shape
        if index.ndim != a.ndim or src.ndim != a.ndim:      # 0-d and 1-d partners: as one-element 1-d ones
            a, index, src, axis = a.reshape(-1), index.reshape(-1), src.reshape(-1), 0
        full = _full_index(index, axis)
        s = src[tuple(slice(0, k) for k in index.shape)] if src.shape != index.shape else src
        out = a.copy()
        hit = _xp(a).zeros(a.shape, _np.int64)
        _ufunc_at(_np.add, hit, full, 1)
        if not include_self:
            out[full] = _reduce_identity(reduce, a.dtype)
        _ufunc_at(_REDUCE_UFUNC[reduce], out, full, s)
        count = hit + (1 if include_self else 0)
        count[count == 0] = 1
        if reduce == "mean":
            out = out // count.astype(out.dtype) if out.dtype.kind in "iub" else out / count.astype(out.dtype)
        ctx.axis, ctx.full, ctx.reduce, ctx.include_self = axis, full, reduce, include_self
        ctx.hit, ctx.count, ctx.a, ctx.s, ctx.out = hit, count, a, s, out
        return out.reshape(ctx.a_shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        g = g._data.reshape(ctx.hit.shape)
        full, reduce, hit = ctx.full, ctx.reduce, ctx.hit
        keep_self = _xp(g).ones(g.shape, bool) if ctx.include_self else hit == 0
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
            _ufunc_at(_np.add, cnt, full, eq_src.astype(g.dtype))
            cnt[cnt == 0] = 1
            ga = g * (eq_self & keep_self) / cnt
            gs = (g / cnt)[full] * eq_src
        gsrc = _xp(g).zeros(ctx.src_shape, g.dtype)
        if gs.ndim != gsrc.ndim:
            gsrc.reshape(-1)[:gs.size] = gs.reshape(-1)
        else:
            gsrc[tuple(slice(0, k) for k in gs.shape)] = gs
        return Tensor._make(ga.astype(g.dtype).reshape(ctx.a_shape)), None, None, Tensor._make(gsrc), None, None


def _prod_grads_with_zeros(ctx, g, keep_self):
    """prod reduction gradients that stay exact with zeros: each factor's gradient is the product of the
    other factors of its group (slow path, only when a zero is present; a Python loop, so device arrays take
    it on the host: a host fallback)."""
    if _on_device(g):
        ref = g
        h = type(ctx)()
        h.a, h.s, h.full = _host(ctx.a), _host(ctx.s), tuple(_host(i) for i in ctx.full)
        ga, gs = _prod_grads_with_zeros(h, _host(g), _host(keep_self))
        return _dev.like(ga, ref), _dev.like(gs, ref)
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
    ia = _index_like(index._data if isinstance(index, Tensor) else _np.asarray(index), x, op)
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
        m = _xp(input._data).zeros(input._data.shape, bool)
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
        return _np.concatenate([a.reshape(-1), _xp(a).zeros(extra, a.dtype)])

    @staticmethod
    def backward(ctx, g):
        return g[:ctx.n], None


def masked_scatter(input: Tensor, mask, source) -> Tensor:
    """``x`` with the positions where ``mask`` is True filled, in order, from ``source``'s elements
    (``torch.masked_scatter``; the mask broadcasts)."""
    m = _index_like(mask._data if isinstance(mask, Tensor) else _np.asarray(mask), input, "masked_scatter")
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
    z = Tensor._make(_xp(g._data).zeros(shape, g.dtype))
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
            xp = _xp(flat)
            onehot = xp.zeros((n, idx.size), flat.dtype)
            onehot[idx, xp.arange(idx.size)] = 1
            moved += (onehot @ flat).reshape(moved.shape)
        else:
            _ufunc_at(_np.add, moved, idx, s)
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return g, None, None, (IndexSelect.apply(g, ctx.axis, ctx.idx) if n[3] else None)


def _index_add_along(g: Tensor, axis: int, idx, n: int) -> Tensor:
    shape = list(g.shape)
    shape[axis] = n
    z = Tensor._make(_xp(g._data).zeros(shape, g.dtype))
    return IndexAdd.apply(z, axis, idx, g)


def index_select(input: Tensor, dim: int, index) -> Tensor:
    """Rows (or slices along ``dim``) picked by a 1-D index (``torch.index_select``)."""
    axis = _wrap_dim(dim, input._data.ndim, "index_select")
    ia = _index_like(index._data if isinstance(index, Tensor) else _np.asarray(index), input, "index_select")
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
    ia = _index_like(index._data if isinstance(index, Tensor) else _np.asarray(index), input,
                     "index_add").reshape(-1)
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


# -- the masked-fill kernel (masked_fill, tril/triu, and the backwards above) -------------------------------
class _MaskedFill(Function):
    @staticmethod
    def forward(ctx, a, m, value, contiguous=False):
        if type(a) is not _ndarray:
            m = _dev.like(m, a) if type(m) is _ndarray else m
            value = _np.asarray(value, a.dtype)[()]     # (a NumPy scalar of a's dtype: CuPy takes scalars)
        else:
            value = _np.asarray(value, a.dtype)
        ctx.m, ctx.contiguous = m, contiguous
        out = _np.where(m, value, a)
        out = out if out.shape == a.shape else _np.broadcast_to(out, a.shape).copy()
        return _xp(out).ascontiguousarray(out) if contiguous else out     # tril/triu: contiguous, as PyTorch

    @staticmethod
    def backward(ctx, g):
        return _MaskedFill.apply(g, ctx.m, 0, ctx.contiguous), None, None, None
