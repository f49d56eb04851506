"""Shape ops: the view helpers, reshape/view, transpose/permute, squeeze/unsqueeze, expand, repeat/tile here;
cat/stack/split/chunk/unbind/narrow/select in ``ember.ops._shape_join``, flip/roll/rot90/pad in
``ember.ops._shape_flip_pad``, as_strided/unfold/diagonal and the memory formats in ``ember.ops._shape_strided``;
all re-exported here, so ``from ember.ops.shape import X`` keeps working.

Ops that return views of their input (reshape of a contiguous tensor, transpose, expand, narrow, ...) share
the input's version counter, so an in-place write through the view is caught by the saved-tensor check.
"""
from __future__ import annotations

import builtins

import numpy as _np

from ..autograd.function import Function
from ..autograd._torch_names import tag as _tname
from ..autograd.grad_mode import state as _grad
from ..backend import layout as _layout
from ..backend.device import as_strided as _as_strided, array_module as _xp_of, like as _like
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E


def _view(out: Tensor, x: Tensor, fn=None) -> Tensor:
    """Mark ``out`` as a view of ``x``: share the version counter, remember the parent (``_base``) and, while grad
    mode is on, how to re-derive the view (``fn(parent)``), so that an in-place op on the view rewrites the base's
    history and an in-place op on the base re-derives the view's (PyTorch's view semantics)."""
    out._version = x._version
    pvw = x._vw
    if pvw is None:
        out._vw = [x, fn if _grad.enabled else None, x._version[0], x._data]
    else:       # a view of a view: linked to the root base (as PyTorch's _base), replayed through both
        pf = pvw[1]
        out._vw = [pvw[0], (lambda b: fn(pf(b))) if (fn is not None and pf is not None and _grad.enabled) else None,
                   x._version[0], pvw[3]] + pvw[4:]     # a view of a split()/unbind() piece is restricted too
    return out


def _replay_fn(t: Tensor):
    """How to re-derive view ``t`` from its root base: the recorded view function, or, when the root's own
    shape or strides changed since (``unsqueeze_``, ``t_`` on the base), a gather of ``t``'s elements by their
    positions in the root (PyTorch's as_strided replay).  None when it can't be replayed."""
    vw = t._vw
    root = vw[0]
    if vw[3] is root._data or vw[1] is None:
        return vw[1]
    ra, ta = root._data, t._data
    if not _np.may_share_memory(ra, ta):
        return None
    m, _ = _ids_of(ra)
    flat, off = _storage(ta)
    if flat.size != m.size:
        return None
    ids = _xp_of(m).ascontiguousarray(_strided(m, off, ta.shape, tuple(s // ta.itemsize for s in ta.strides)))
    return lambda b: _TakeIds.apply(b, ids)


def _multi_views(outs, x, op):
    """Mark the views returned together by split / chunk / unbind: as in PyTorch, they may not be modified in
    place in a graph, nor used after their base was."""
    for i, o in enumerate(outs):
        if o._vw is not None and len(o._vw) == 4:
            o._vw.extend((i, op))
    return outs


def _shared(out: Tensor, x: Tensor, fn=None) -> Tensor:
    """``_view`` when ``out`` really shares ``x``'s memory (reshape may have to copy)."""
    a = out._data
    if a.base is not None and (a.size == 0 or _np.may_share_memory(a, x._data)):
        return _view(out, x, fn)
    return out


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


# -- reshape ---------------------------------------------------------------------------------------------------
# NumPy 2.1+ reshapes with copy=False (a view, or ValueError where the strides need a copy)
_RESHAPE_NO_COPY = _np.lib.NumpyVersion(_np.__version__) >= "2.1.0"


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        if (a.flags.c_contiguous or type(a) is not _np.ndarray or not _RESHAPE_NO_COPY
                or a.nbytes < _layout.CHUNK_PLANE_BYTES):       # (small: NumPy's copy, no exception's cost)
            return a.reshape(shape)
        try:
            return a.reshape(shape, copy=False)          # a view where the strides allow one, as PyTorch
        except ValueError:                               # a copy: C order, transposes in chunks (c_copy)
            return _layout.c_copy(a).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.shape), None


def _infer_shape(x, shape, op):
    n = x._data.size
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {shape}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid negative dimension {s} in shape {shape}")
            known *= s
    if neg:
        if known == 0 or n % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {n} (shape "
                               f"{tuple(x.shape)})")
        shape = tuple(n // known if s == -1 else s for s in shape)
    elif known != n:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {n} (shape {tuple(x.shape)})")
    return shape


def reshape(input: Tensor, *args, shape=None) -> Tensor:
    """Same data, new shape (one dim may be -1); a view when possible (``torch.reshape``; ``x.reshape(2, 3)``,
    ``reshape(x, (2, 3))`` or ``shape=(2, 3)``)."""
    if not args and shape is None:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    shape = _infer_shape(input, _shape_arg(args if shape is None else (shape,)), "reshape")
    out = _shared(Reshape.apply(input, shape), input, lambda b: reshape(b, shape))
    if out.grad_fn is not None and not input._data.flags.c_contiguous and out._data.size \
            and not _np.may_share_memory(out._data, input._data):
        _tname(out, "UnsafeViewBackward0", input)      # PyTorch: a copy (clone), then ``_unsafe_view``
    return out


def view(x: Tensor, *shape, size=None) -> Tensor:
    """Like ``reshape``, but refuses (as PyTorch does) when the result can't share memory (``x.view(2, 3)``,
    ``x.view((2, 3))``, ``x.view(size=(2, 3))`` or ``x.view(dtype)``)."""
    if size is not None:
        shape = (size,)
    elif not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected (dtype) or "
                        "(tuple of ints size)")
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and not hasattr(shape[0], "__index__"):
        return _view_dtype(x, shape[0])
    shape = _infer_shape(x, _shape_arg(shape), "view")
    out = reshape(x, shape)
    if x._data.size and out._data.size and not _np.shares_memory(out._data, x._data):
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride (shape "
                           f"{tuple(x.shape)} -> {shape}); use .reshape(...) or .contiguous().view(...)")
    return out


def _view_dtype(x: Tensor, dtype) -> Tensor:
    """``x.view(dtype)``: the same memory read as another dtype (bits reinterpreted, not converted), as PyTorch;
    with a different element size the last dim shrinks or grows.  Not differentiable (PyTorch's result never
    requires grad, even for the same dtype)."""
    from ..backend.dtypes import to_dtype
    dt = to_dtype(dtype)
    a = x._data
    if dt.itemsize != a.itemsize:
        if a.ndim == 0:
            raise RuntimeError(f"view(dtype): a 0-d tensor of {a.dtype} can't be viewed as {dt} (different element "
                               f"sizes)")
        if a.strides[-1] != a.itemsize and a.shape[-1] != 1:
            raise RuntimeError(f"view(dtype): self.stride(-1) must be 1 to view {a.dtype} as {dt} (different element "
                               f"sizes), but got {x.stride(-1)}")
        if dt.itemsize > a.itemsize and (a.shape[-1] * a.itemsize) % dt.itemsize:
            raise RuntimeError(f"view(dtype): self.size(-1) must be divisible by {dt.itemsize // a.itemsize} to view "
                               f"{a.dtype} as {dt} (different element sizes), but got {a.shape[-1]}")
    try:
        arr = a.view(dt)
    except ValueError as e:
        raise RuntimeError(f"view(dtype): can't view a tensor of shape {tuple(x.shape)} and strides {x.stride()} as "
                           f"{dt}: {e}") from None
    out = Tensor._make(arr)
    out._version = x._version       # writes through either are seen by the saved-tensor check
    return out


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """``split`` with a list of sizes (``torch.split_with_sizes``)."""
    return split(input, list(split_sizes), dim)


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``narrow`` as a new contiguous tensor (``torch.narrow_copy``)."""
    return _CloneAs.apply(narrow(input, dim, start, length), None)


def adjoint(input: Tensor) -> Tensor:
    """The (conjugate) transpose of the last two dims, a view (``torch.adjoint``; ember is real-valued)."""
    if input._data.ndim == 0:           # (a view of itself, as in PyTorch)
        return permute(input, ())
    if input._data.ndim < 2:
        raise RuntimeError(f"adjoint: tensor.adjoint() is only supported on matrices or batches of matrices, got a "
                           f"{input._data.ndim}-D tensor")
    return transpose(input, -2, -1)


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten``; ``flatten(x, 1)`` keeps the batch)."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, nd, "flatten")
    e = _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim}) for a {nd}-D tensor")
    if s == e:
        return input        # PyTorch returns the input itself (not a view) here
    shp = input._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = _wrap_dim(dim, input._data.ndim, "unflatten")
    sizes = list(sizes)
    if -1 in sizes:
        known = int(_np.prod([s for s in sizes if s != -1]))
        sizes[sizes.index(-1)] = input._data.shape[d] // known
    if int(_np.prod(sizes)) != input._data.shape[d]:
        raise RuntimeError(f"unflatten: sizes {tuple(sizes)} don't multiply to the size {input._data.shape[d]} of dim {d}")
    return reshape(input, input._data.shape[:d] + tuple(sizes) + input._data.shape[d + 1:])


def ravel(input):
    """The elements as a 1-D tensor: a view of a contiguous input, else a contiguous copy (PyTorch's
    ``contiguous().view(-1)``)."""
    if not input._data.flags.c_contiguous:
        input = _CloneAs.apply(input, None)
    return reshape(input, (-1,))


# -- transpose / permute -----------------------------------------------------------------------------------------
class Permute(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        return permute(g, tuple(_np.argsort(ctx.axes))), None


def permute(input: Tensor, *args, dims=None) -> Tensor:
    """Reorder dims (a view), ``torch.permute`` (``x.permute(1, 0)``, ``permute(x, (1, 0))`` or ``dims=``)."""
    if not args and dims is None:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _shape_arg(args if dims is None else (dims,))
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute: number of dims {len(dims)} doesn't match the tensor's {nd} dims "
                           f"(shape {tuple(input.shape)})")
    axes = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(axes)) != nd:
        raise RuntimeError(f"permute: repeated dim in {dims}")
    return _view(Permute.apply(input, axes), input, lambda b: permute(b, axes))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view), ``torch.transpose``."""
    nd = input._data.ndim
    if nd == 0:
        return permute(input, ())
    a, b = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return _tname(permute(input, tuple(axes)), "TransposeBackward0", input)


swapdims = transpose


def swapaxes(input, axis0, axis1):
    """``torch.swapaxes``: ``transpose`` with NumPy's parameter names."""
    return transpose(input, axis0, axis1)


def t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {input._data.ndim}-D; use transpose()")
    out = transpose(input, 0, 1) if input._data.ndim == 2 else permute(input, tuple(range(input._data.ndim)))
    return _tname(out, "TBackward0", input)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, nd, "movedim") for s in src]
    dst = [_wrap_dim(s, nd, "movedim") for s in dst]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    if nd == 0:
        return permute(input, ())
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


# -- squeeze / unsqueeze -----------------------------------------------------------------------------------------
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop size-1 dims (all, or the given ones; others are left alone, as in PyTorch)."""
    shp = input._data.shape
    if dim is None:
        keep = [i for i, s in enumerate(shp) if s != 1]
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        ax = {_wrap_dim(d, input._data.ndim, "squeeze") for d in dims}
        keep = [i for i, s in enumerate(shp) if not (i in ax and s == 1)]
    out = reshape(input, tuple(shp[i] for i in keep))
    _tname(out, "SqueezeBackward0" if dim is None else "SqueezeBackward2" if isinstance(dim, (tuple, list))
           else "SqueezeBackward1", input)
    return _keep_strides(out, input, tuple(input._data.strides[i] for i in keep))    # the kept dims keep their strides


def _keep_strides(out: Tensor, x: Tensor, strides) -> Tensor:
    """PyTorch's strides (bytes) on the view ``out`` of ``x`` where NumPy's reshape chose others (only size-1
    dims can differ: their strides are free)."""
    a = out._data
    if a.strides != tuple(strides) and out is not x and a.size and _np.may_share_memory(a, x._data):
        out._data = _as_strided(a, a.shape, strides, writeable=getattr(a.flags, "writeable", True))
    return out


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (``-1`` appends), ``torch.unsqueeze``."""
    nd = input._data.ndim + 1
    d = _wrap_dim(dim, nd, "unsqueeze")
    shp = input._data.shape
    out = _tname(reshape(input, shp[:d] + (1,) + shp[d:]), "UnsqueezeBackward0", input)
    xa = input._data
    new = xa.itemsize if d == nd - 1 else xa.shape[d] * xa.strides[d]     # PyTorch's stride for the new dim
    return _keep_strides(out, input, xa.strides[:d] + (new,) + xa.strides[d:])


# -- expand / broadcast / repeat / tile ---------------------------------------------------------------------------
class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        # a writable view with stride 0 on the broadcast dims (PyTorch lets one write to a non-overlapping
        # slice of an expanded tensor; writes to the overlapping whole are refused by the in-place checks)
        lead = len(shape) - a.ndim
        st = [0] * lead + [0 if (n == 1 and t != 1) else s for n, t, s in zip(a.shape, shape[lead:], a.strides)]
        if a.ndim:
            for i in range(lead - 1, -1, -1):      # a new size-1 dim: PyTorch's stride, size x stride of the next
                if shape[i] == 1:
                    st[i] = shape[i + 1] * st[i + 1]
        return _as_strided(a, shape, st, getattr(a.flags, "writeable", True))

    @staticmethod
    def backward(ctx, g):
        return g, None       # the engine sums the gradient back to the input's shape


def expand(x: Tensor, *sizes, size=None) -> Tensor:
    """Broadcast size-1 dims to ``sizes`` (or ``size=``) without copying (-1 keeps a dim), ``torch.expand``."""
    if not sizes and size is None:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_arg(sizes if size is None else (size,))
    shp = x._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 not allowed in a new leading dimension (sizes {sizes})")
            target.append(s)
        else:
            cur = shp[i - lead]
            if s == -1:
                s = cur
            if cur != s and cur != 1:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size "
                                   f"({cur}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. Tensor "
                                   f"sizes: {list(shp)}")
            target.append(s)
    target = tuple(target)
    if target == shp:       # nothing to broadcast: a plain (writable) view, as in PyTorch
        return _view(Reshape.apply(x, target), x, lambda b: expand(b, target))
    return _view(Expand.apply(x, target), x, lambda b: expand(b, target))


def expand_as(x, other):
    return expand(x, other.shape)


def _int_list(value, op: str, name: str, pos: int):
    """A sequence of ints given as one argument (``torch.tile(x, (2, 2))``): PyTorch's TypeError for a plain
    int or a float there (the Tensor methods take varargs: ``x.tile(2)``)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be tuple of ints, not "
                        f"{type(value).__name__}")
    return _shape_arg((value,))


def broadcast_to(input: Tensor, size) -> Tensor:
    """``torch.broadcast_to(input, size)``: ``expand`` to ``size`` (a sequence; the method also takes varargs).
    PyTorch's docstring calls the parameter ``shape``, its argument parser takes ``size=``."""
    return expand(input, _int_list(size, "broadcast_to", "size", 2))


def _sum_to_size(input: Tensor, size) -> Tensor:
    """``x.sum_to_size(*size)`` (a Tensor method only): sum ``input`` down to ``size``, which must be expandable
    to its shape (the inverse of ``expand``); the tensor itself when the shape already matches, as PyTorch."""
    size = _shape_arg((size,))
    shp = input._data.shape
    lead = len(shp) - len(size)
    if lead < 0 or builtins.any(s != t and s != 1 for s, t in zip(size, shp[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shp)}}}.")
    if size == shp:
        return input
    from .reduce import sum as _sum
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size) if s == 1 and shp[lead + i] != 1)
    out = _sum(input, axes, keepdim=True) if axes else input
    return reshape(out, size) if lead else out


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"broadcast_tensors(): expected Tensors, got {type(t).__name__}")
    try:
        shape = _np.broadcast_shapes(*[t._data.shape for t in tensors])
    except ValueError:
        raise RuntimeError(f"broadcast_tensors(): shapes {[tuple(t.shape) for t in tensors]} are not "
                           f"broadcastable") from None
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    from ..tensor import Size
    return Size(_np.broadcast_shapes(*shapes))


def repeat(x: Tensor, *sizes, repeats=None) -> Tensor:
    """Tile the tensor ``sizes`` (or ``repeats=``) times along each dim (``torch.Tensor.repeat``; copies)."""
    if not sizes and repeats is None:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _shape_arg(sizes if repeats is None else (repeats,))
    nd = x._data.ndim
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats can't be negative, got {sizes}")
    if len(sizes) < nd:
        raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than number of "
                           f"dimensions of tensor ({nd})")
    x = reshape(x, (1,) * (len(sizes) - nd) + x._data.shape)
    # expand an interleaved shape, then merge: (a, b) * (r, s) -> (r, a, s, b) -> (r*a, s*b)
    shp = x._data.shape
    inter = []
    for r, s in zip(sizes, shp):
        inter += [1, s]
    y = reshape(x, tuple(inter))
    target = []
    for r, s in zip(sizes, shp):
        target += [r, s]
    y = expand(y, tuple(target))
    return _tname(reshape(_CloneAs.apply(y, None) if not y._data.flags.c_contiguous else y,
                          tuple(r * s for r, s in zip(sizes, shp))), "RepeatBackward0")


def tile(input: Tensor, dims) -> Tensor:
    """``torch.tile(input, dims)``: ``repeat`` with ``dims`` padded with leading 1s to the tensor's rank."""
    dims = _int_list(dims, "tile", "dims", 2)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (flattened when None), ``torch.repeat_interleave``;
    ``output_size`` (the result's size along ``dim``) is checked when given."""
    r = _repeat_interleave(input, repeats, dim)
    if output_size is not None and r._data.shape[0 if dim is None else _wrap_dim(dim, r._data.ndim)] != output_size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size} does not match the repeats, which give "
                           f"{r._data.shape[0 if dim is None else _wrap_dim(dim, r._data.ndim)]}")
    return r


def _repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input = reshape(input, (-1,))
        dim = 0
    d = _wrap_dim(dim, input._data.ndim, "repeat_interleave")
    if isinstance(repeats, int):
        y = unsqueeze(input, d + 1)
        shp = list(y._data.shape)
        shp[d + 1] = repeats
        y = _CloneAs.apply(expand(y, tuple(shp)), None)
        return flatten(y, d, d + 1)
    from .index import index_select
    reps = repeats._data if isinstance(repeats, Tensor) else _np.asarray(repeats)
    if type(reps) is not _np.ndarray:       # CuPy's repeat takes no array of counts: a host fallback
        from ..backend.device import to_device
        reps = to_device(reps, "cpu")
    idx = _np.repeat(_np.arange(input._data.shape[d]), reps)
    return index_select(input, d, Tensor._make(_like(idx, input._data)))


# moved to sibling modules by family; re-exported so every old import path works
from ._shape_strided import (  # noqa: E402,F401
    _AsStrided, _channels_last_strides, _clone, _CloneAs, _copy_preserving, _copy_strided, _diagonal_fn,
    _GeomView, _ids_of, _is_channels_last, _layout_for, _preserve_strides, _ScatterIds, _storage, _strided,
    _TakeIds, _tensor_unfold, as_strided, diagonal)
from ._shape_flip_pad import (  # noqa: E402,F401
    _pad_indices, _PadConstant, _PadIndex, flip, Flip, fliplr, flipud, pad, roll, Roll, rot90)
from ._shape_join import (  # noqa: E402,F401
    _atleast_3d, _fmt_except, cat, Cat, chunk, concat, concatenate, dstack, hstack, narrow, Narrow, select,
    split, stack, tensor_split, Unbind, unbind, vstack)
