"""Strided views and memory formats: ``as_strided``, ``Tensor.unfold`` and ``diagonal`` (views over the
input's storage), and the stride bookkeeping behind ``clone``/``contiguous`` with
``preserve_format``/``channels_last``. Re-exported by ``ember.ops.shape``.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import builtins

import numpy as _np

from ..autograd.function import Function
from ..backend import layout as _layout
from ..backend import device as _dev
from ..backend.device import as_strided as _as_strided, array_module as _xp_of
from ..tensor import Tensor, _wrap_dim
from .shape import _view


# -- strided views: as_strided, unfold, diagonal ----------------------------------------------------------------------
def _storage(a):
    """(the flat array of the memory ``a`` lives in, ``a``'s offset into it in elements), following NumPy's
    ``base`` chain to the allocation, as PyTorch's storage and ``storage_offset()``."""
    if type(a) is not _np.ndarray and _dev.is_device_array(a):
        return _storage_device(a)
    r = a
    while True:
        b = r.base
        if isinstance(b, _np.ndarray):
            r = b
            continue
        bb = getattr(b, "base", None)       # as_strided's wrapper object
        if isinstance(bb, _np.ndarray):
            r = bb
            continue
        break
    if r is a or not r.flags.c_contiguous or r.dtype.itemsize != a.dtype.itemsize:
        flat = a.reshape(-1) if a.flags.c_contiguous else None
        return (flat if flat is not None else _np.ascontiguousarray(a).reshape(-1)), 0
    off = a.__array_interface__["data"][0] - r.__array_interface__["data"][0]
    if off < 0 or off % a.dtype.itemsize:
        return _np.ascontiguousarray(a).reshape(-1), 0
    return r.reshape(-1), off // a.dtype.itemsize


def _storage_device(a):
    """``_storage`` for a device array: CuPy views keep the owning array as ``base`` and addresses as
    ``data.ptr`` (an array made by ``as_strided`` has no base: its own storage, as a copy would be)."""
    r = a
    while True:
        b = r.base
        if b is None or not _dev.is_device_array(b):
            break
        r = b
    if r is a or not r.flags.c_contiguous or r.dtype.itemsize != a.dtype.itemsize:
        return (a.reshape(-1) if a.flags.c_contiguous else _xp_of(a).ascontiguousarray(a).reshape(-1)), 0
    off = a.data.ptr - r.data.ptr
    if off < 0 or off % a.dtype.itemsize:
        return _xp_of(a).ascontiguousarray(a).reshape(-1), 0
    return r.reshape(-1), off // a.dtype.itemsize


def _writable(a) -> bool:
    """NumPy's ``flags.writeable`` (CuPy arrays are always writable; CuPy before 14 has no such flag)."""
    return getattr(a.flags, "writeable", True)


def _strided(flat, offset, size, stride):
    """A writable (when ``flat`` is) view of ``flat[offset:]`` with element strides ``stride``."""
    it = flat.dtype.itemsize
    return _as_strided(flat[offset:], tuple(size), tuple(st * it for st in stride), _writable(flat))


def _ids_of(a):
    """For each element of ``a``, its position in ``a`` (row-major), laid out in ``a``'s storage (-1 elsewhere):
    the map from a strided view of that storage back to ``a``'s elements."""
    flat, off = _storage(a)
    xp = _xp_of(flat)
    m = xp.full(flat.shape, -1, _np.int64)
    it = a.dtype.itemsize
    dst = _strided(m, off, a.shape, tuple(s // it for s in a.strides)) if a.size else None
    if dst is not None:
        dst[...] = xp.arange(a.size).reshape(a.shape)
    return m, off


class _ScatterIds(Function):
    """zeros(n) with ``g`` added at positions ``ids`` (>= 0; duplicates accumulate), reshaped to ``shape``."""

    @staticmethod
    def forward(ctx, g, ids, shape):
        ctx.ids, ctx.shape = ids, shape
        n = int(_np.prod(shape))
        keep = ids >= 0
        w = g[keep] if not keep.all() else g.reshape(-1)
        i = ids[keep] if not keep.all() else ids.reshape(-1)
        if g.dtype.kind == "f":
            out = _np.bincount(i, weights=w.astype(_np.float64), minlength=n).astype(g.dtype)
        else:
            from ._index_device import ufunc_at
            out = _xp_of(g).zeros(n, g.dtype)
            ufunc_at(_np.add, out, i, w)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gg):
        return _TakeIds.apply(gg, ctx.ids), None, None


class _TakeIds(Function):
    """``a.reshape(-1)[ids]`` (0 where ids is -1): the adjoint of _ScatterIds."""

    @staticmethod
    def forward(ctx, a, ids):
        ctx.ids, ctx.shape = ids, a.shape
        flat = a.reshape(-1)
        out = flat[_np.maximum(ids, 0)] if flat.size else _xp_of(a).zeros(ids.shape, a.dtype)
        if (ids < 0).any():
            out[ids < 0] = 0
        return out

    @staticmethod
    def backward(ctx, g):
        return _ScatterIds.apply(g, ctx.ids, ctx.shape), None


class _GeomView(Function):
    """A view made by ``fn(array)`` that only rearranges elements (diagonal, unfold); the gradient scatters
    back through the element map that ``fn`` gives on an array of positions."""

    @staticmethod
    def forward(ctx, a, fn):
        ctx.fn, ctx.shape = fn, a.shape
        return fn(a)

    @staticmethod
    def backward(ctx, g):
        ids = ctx.fn(_xp_of(g._data).arange(int(_np.prod(ctx.shape)), dtype=_np.int64).reshape(ctx.shape))
        return _ScatterIds.apply(g, ids, ctx.shape), None


class _AsStrided(Function):
    @staticmethod
    def forward(ctx, a, size, stride, offset):
        ctx.a_shape, ctx.size, ctx.stride, ctx.offset = a.shape, size, stride, offset
        flat, _ = _storage(a)
        ctx.a = a
        return _strided(flat, offset, size, stride)

    @staticmethod
    def backward(ctx, g):
        m, _ = _ids_of(ctx.a)
        ids = _xp_of(m).ascontiguousarray(_strided(m, ctx.offset, ctx.size, ctx.stride))
        return _ScatterIds.apply(g, ids, ctx.a_shape), None, None, None


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view of ``input``'s memory with the given sizes, strides (in elements) and storage offset
    (``torch.as_strided``; the offset defaults to ``input.storage_offset()``).  The gradient of elements that
    overlap accumulates."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: mismatch in length of strides and shape: size {list(size)} has "
                           f"{len(size)} dims, stride {list(stride)} has {len(stride)}")
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: sizes must be non-negative, got {list(size)}")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: negative strides are not supported, got strides {list(stride)}")
    flat, off0 = _storage(input._data)
    off = off0 if storage_offset is None else int(storage_offset)
    if off < 0:
        raise RuntimeError(f"as_strided: storage offset must be non-negative, got {off}")
    need = 0 if builtins.any(s == 0 for s in size) else off + 1 + builtins.sum((s - 1) * st for s, st in zip(size, stride))
    if need > flat.size:
        it = input._data.dtype.itemsize
        raise RuntimeError(f"as_strided: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                           f"itemsize {it} requiring a storage size of {need * it} are out of bounds for storage of "
                           f"size {flat.size * it}")
    return _view(_AsStrided.apply(input, size, stride, off), input, lambda b: as_strided(b, size, stride, off))


@_named("UnfoldBackward0")
def _tensor_unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every slice of length ``size`` along ``dimension``, ``step`` apart, as a new last dim
    (a view, as PyTorch)."""
    nd = x._data.ndim
    d = _wrap_dim(dimension, nd, "unfold") if nd else 0
    n = x._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")

    def fn(a):
        if a.ndim == 0:
            return a.reshape(1)
        sh, st = a.shape, a.strides
        cnt = (n - size) // step + 1
        return _as_strided(a, sh[:d] + (cnt,) + sh[d + 1:] + (size,),
                           st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],), writeable=_writable(a))
    return _view(_GeomView.apply(x, fn), x, lambda b: _tensor_unfold(b, dimension, size, step))


def _diagonal_fn(shape, offset, d1, d2):
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        ln, s1, s2 = builtins.max(builtins.min(n1, n2 - offset), 0), 0, offset
    else:
        ln, s1, s2 = builtins.max(builtins.min(n1 + offset, n2), 0), -offset, 0
    other = [i for i in range(len(shape)) if i not in (d1, d2)]

    def fn(a):
        st = a.strides
        start = a
        if ln:
            idx = [slice(None)] * a.ndim
            idx[d1], idx[d2] = slice(s1, None), slice(s2, None)
            start = a[tuple(idx)]
        return _as_strided(start, tuple(a.shape[i] for i in other) + (ln,),
                           tuple(st[i] for i in other) + (st[d1] + st[d2],), writeable=_writable(a))
    return fn


@_named("DiagonalBackward0")
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes as the last dim: a view (writes go through), ``torch.diagonal``."""
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}")
    d1, d2 = _wrap_dim(dim1, nd, "diagonal"), _wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    fn = _diagonal_fn(input._data.shape, int(offset), d1, d2)
    return _view(_GeomView.apply(input, fn), input, lambda b: diagonal(b, offset, d1, d2))


# -- memory formats --------------------------------------------------------------------------------------------------
def _preserve_strides(a):
    """The strides (in elements) of PyTorch's preserve_format copy of array ``a``, or None for C-contiguous:
    a dense input's own strides, else dense strides in the order of its strides (backend.layout's rule)."""
    if a.flags.c_contiguous:
        return None
    st = _layout.torch_strides(a.shape, [a])      # a dense input's own strides, else dense in its order
    return None if st == _layout.c_strides(a.shape) else st


def _channels_last_strides(shape):
    """Element strides of a dense (N, C, spatial...) tensor stored as (N, spatial..., C)."""
    nd = len(shape)
    order = [0] + list(range(2, nd)) + [1]            # N, spatial..., C from outermost to innermost
    st = _layout.c_strides(tuple(shape[i] for i in order))
    out = [0] * nd
    for k, d in enumerate(order):
        out[d] = st[k]
    return tuple(out)


def _is_channels_last(a) -> bool:
    """A 4-D/5-D array laid out channels-last (and not also C-contiguous), as PyTorch's suggest_memory_format."""
    if a.ndim not in (4, 5) or a.flags.c_contiguous:
        return False
    want = _channels_last_strides(a.shape)
    return builtins.all(n == 1 or s == w for n, s, w in zip(a.shape, _layout.elem_strides(a), want))


def _layout_for(x: Tensor, memory_format):
    """The strides (in elements) of a copy of ``x`` in ``memory_format`` by PyTorch's rules, or None for
    C-contiguous."""
    a = x._data
    fmt = str(memory_format).replace("torch.", "").replace("ember.", "") if memory_format is not None else \
        "preserve_format"
    if fmt == "contiguous_format":
        return None
    if fmt in ("channels_last", "channels_last_3d"):
        want = 4 if fmt == "channels_last" else 5
        if a.ndim != want:
            raise RuntimeError(f"required rank {want} tensor to use {fmt} format, got shape {tuple(x.shape)}")
        return _channels_last_strides(a.shape)
    if fmt != "preserve_format":
        raise RuntimeError(f"unsupported memory_format {memory_format!r}; expected contiguous_format, "
                           f"preserve_format, channels_last or channels_last_3d")
    return _preserve_strides(a)


def _copy_strided(src, strides):
    """A fresh copy of ``src`` with the given element strides (C order when None)."""
    xp = _xp_of(src)
    if strides is None:
        return _layout.c_copy(src)
    buf = xp.empty(src.size, src.dtype)
    out = _strided(buf, 0, src.shape, strides)
    out[...] = src
    return out


def _copy_preserving(src, like):
    """A copy of ``src`` laid out as PyTorch's ``empty_like(like)`` (preserve_format) would be."""
    return _copy_strided(src, _preserve_strides(like))


def _result_layout(t: Tensor, like=None) -> Tensor:
    """Lay a freshly computed result ``t`` out in memory as PyTorch allocates that op's output: C-contiguous
    (``like`` None: ``at::empty``/``LEGACY_CONTIGUOUS_MEMORY_FORMAT``) or as ``empty_like(like)``
    (``preserve_format``: a dense ``like``'s strides, else dense strides in its order).  Values are unchanged;
    the tensor must be the op's own new result (not a view of anything)."""
    a = t._data
    if a.ndim < 2 or a.size <= 1 or t._vw is not None:
        return t
    want = None if like is None else _preserve_strides(like._data if isinstance(like, Tensor) else like)
    if want is None:
        if not a.flags.c_contiguous:
            t._data = _layout.c_copy(a)
    elif _layout.elem_strides(a) != tuple(want):
        t._data = _copy_strided(a, want)
    return t


class _CloneAs(Function):
    @staticmethod
    def forward(ctx, a, strides):
        return _copy_strided(a, strides)

    @staticmethod
    def backward(ctx, g):
        return g, None


def _clone(x: Tensor, memory_format=None) -> Tensor:
    """``Tensor.clone``: a copy that keeps the input's strides when it is dense (``preserve_format``, the
    default; a non-dense input gets dense strides in the same order), or is laid out in ``contiguous_format`` /
    ``channels_last``, as PyTorch."""
    strides = _layout_for(x, memory_format)
    if strides is not None and strides == _layout.c_strides(x._data.shape):
        strides = None
    return _CloneAs.apply(x, strides)
