"""Shape ops: reshape/view, transpose/permute, squeeze/unsqueeze, expand, repeat/tile, cat/stack,
split/chunk/unbind, flip, roll, pad, narrow.

Ops that return views of their input (reshape of a contiguous tensor, transpose, expand, narrow, ...) share
the input's version counter, so an in-place write through the view is caught by the saved-tensor check.
"""
from __future__ import annotations

import builtins

import numpy as _np

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..backend import layout as _layout
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
    ids = _np.ascontiguousarray(_strided(m, off, ta.shape, tuple(s // ta.itemsize for s in ta.strides)))
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
class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

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
    shape = _infer_shape(input, _shape_arg(args if shape is None else (shape,)), "reshape")
    return _shared(Reshape.apply(input, shape), input, lambda b: reshape(b, shape))


def view(x: Tensor, *shape, size=None) -> Tensor:
    """Like ``reshape``, but refuses (as PyTorch does) when the result can't share memory (``x.view(2, 3)``,
    ``x.view((2, 3))``, ``x.view(size=(2, 3))`` or ``x.view(dtype)``)."""
    if size is not None:
        shape = (size,)
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
    return permute(input, tuple(axes))


swapdims = transpose


def swapaxes(input, axis0, axis1):
    """``torch.swapaxes``: ``transpose`` with NumPy's parameter names."""
    return transpose(input, axis0, axis1)


def t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {input._data.ndim}-D; use transpose()")
    return transpose(input, 0, 1) if input._data.ndim == 2 else permute(input, tuple(range(input._data.ndim)))


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
    return _keep_strides(out, input, tuple(input._data.strides[i] for i in keep))    # the kept dims keep their strides


def _keep_strides(out: Tensor, x: Tensor, strides) -> Tensor:
    """PyTorch's strides (bytes) on the view ``out`` of ``x`` where NumPy's reshape chose others (only size-1
    dims can differ: their strides are free)."""
    a = out._data
    if a.strides != tuple(strides) and out is not x and a.size and _np.may_share_memory(a, x._data):
        out._data = _np.lib.stride_tricks.as_strided(a, a.shape, strides, writeable=a.flags.writeable)
    return out


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (``-1`` appends), ``torch.unsqueeze``."""
    nd = input._data.ndim + 1
    d = _wrap_dim(dim, nd, "unsqueeze")
    shp = input._data.shape
    out = reshape(input, shp[:d] + (1,) + shp[d:])
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
        return _np.lib.stride_tricks.as_strided(a, shape, st, writeable=a.flags.writeable)

    @staticmethod
    def backward(ctx, g):
        return g, None       # the engine sums the gradient back to the input's shape


def expand(x: Tensor, *sizes, size=None) -> Tensor:
    """Broadcast size-1 dims to ``sizes`` (or ``size=``) without copying (-1 keeps a dim), ``torch.expand``."""
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


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


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
    return reshape(_CloneAs.apply(y, None) if not y._data.flags.c_contiguous else y,
                   tuple(r * s for r, s in zip(sizes, shp)))


def tile(input: Tensor, dims) -> Tensor:
    dims = tuple(dims)
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
    idx = _np.repeat(_np.arange(input._data.shape[d]), reps)
    return index_select(input, d, Tensor._make(idx))


# -- cat / stack / split ---------------------------------------------------------------------------------------------
class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        nd = builtins.max(a.ndim for a in arrays)
        # PyTorch skips legacy 1-D empty tensors (size None here: they get an empty gradient)
        ctx.sizes = [None if (a.ndim == 1 and a.shape[0] == 0 and nd != 1) else a.shape[axis] for a in arrays]
        out = _np.concatenate([a for a, s in zip(arrays, ctx.sizes) if s is not None], axis=axis)
        # PyTorch's layout: channels_last when every input is, else contiguous
        if out.ndim in (4, 5) and builtins.all(_is_channels_last(a) for a in arrays):
            st = _channels_last_strides(out.shape)
            return out if _layout.elem_strides(out) == st else _copy_strided(out, st)
        return out if out.flags.c_contiguous else _np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        for s in ctx.sizes:
            if s is None:
                out.append(Tensor._make(_np.zeros((0,), g.dtype)))
                continue
            out.append(narrow(g, ctx.axis, start, s))
            start += s
        return tuple(out)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (``torch.cat``); dtypes are promoted."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    tensors = [t if isinstance(t, Tensor) else Tensor._make(_np.asarray(t)) for t in tensors]
    if builtins.any(t._data.ndim == 0 for t in tensors):
        raise RuntimeError("cat(): zero-dimensional tensor cannot be concatenated; use stack()")
    # PyTorch skips legacy 1-D empty tensors
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    nd = kept[0]._data.ndim
    axis = _wrap_dim(dim, nd, "cat")
    ref = kept[0]._data.shape
    kept_ids = {id(t) for t in kept}
    for i, t in enumerate(tensors):
        s = t._data.shape
        if id(t) not in kept_ids:
            continue
        if len(s) != nd or builtins.any(a != b for j, (a, b) in enumerate(zip(s, ref)) if j != axis):
            raise RuntimeError(f"cat(): sizes of tensors must match except in dimension {axis}: expected shape "
                               f"{_fmt_except(ref, axis)} but got {tuple(s)} for tensor number {i} in the list")
    dts = {t._data.dtype for t in tensors}
    if len(dts) > 1:
        from ..backend.dtypes import result_type
        dt = result_type(*tensors)
        tensors = [t.to(dt) for t in tensors]
    return Cat.apply(axis, *tensors)


concat = cat


def concatenate(tensors, axis=0, out=None):
    """``torch.concatenate``: ``cat`` with NumPy's parameter name."""
    r = cat(tensors, axis)
    if out is None:
        return r
    from .._out import write_out
    return write_out(out, r, "concatenate")


def _fmt_except(shape, axis):
    return "(" + ", ".join("*" if i == axis else str(s) for i, s in enumerate(shape)) + ")"


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim (``torch.stack``)."""
    tensors = [t if isinstance(t, Tensor) else Tensor._make(_np.asarray(t)) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {tuple(ref)} at entry 0 and "
                               f"{tuple(t.shape)} at entry {i}")
    d = _wrap_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim >= 2 else reshape(t, (1, -1)) for t in tensors], 0)


def _atleast_3d(t):
    # PyTorch's atleast_3d: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)
    if t.ndim >= 3:
        return t
    if t.ndim == 2:
        return reshape(t, tuple(t.shape) + (1,))
    return reshape(t, (1, t.numel(), 1))


def dstack(tensors):
    return cat([_atleast_3d(t) for t in tensors], 2)


class Narrow(Function):
    @staticmethod
    def forward(ctx, a, axis, start, length):
        ctx.shape, ctx.axis, ctx.start = a.shape, axis, start
        idx = [slice(None)] * a.ndim
        idx[axis] = slice(start, start + length)
        return a[tuple(idx)]

    @staticmethod
    def backward(ctx, g):
        before = ctx.start
        after = ctx.shape[ctx.axis] - ctx.start - g.shape[ctx.axis]
        pads = [(0, 0)] * len(ctx.shape)
        pads[ctx.axis] = (before, after)
        return _PadConstant.apply(g, tuple(pads), 0.0), None, None, None


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` of ``dim`` (a view), ``torch.narrow``."""
    axis = _wrap_dim(dim, input._data.ndim, "narrow")
    n = input._data.shape[axis]
    if isinstance(start, Tensor):
        start = int(start.item())
    if start < 0:
        start += n
    if not (0 <= start <= n) or length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {axis}")
    return _view(Narrow.apply(input, axis, start, length), input, lambda b: narrow(b, axis, start, length))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0):
    """Split into pieces of ``split_size`` (the last may be smaller) or of the listed sizes."""
    axis = _wrap_dim(dim, tensor._data.ndim, "split")
    n = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [builtins.min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                               f"at dimension {axis}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, axis, start, s))
        start += s
    return _multi_views(tuple(out), tensor, "split")


def tensor_split(input, indices_or_sections, dim=0):
    axis = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[axis]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        b = [0] + list(indices_or_sections) + [n]
        sizes = [builtins.max(0, b[i + 1] - b[i]) for i in range(len(b) - 1)]
    return split(input, sizes, axis)


def chunk(input: Tensor, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if it divides so), ``torch.chunk``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = _wrap_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[axis]
    size = -(-n // chunks) if n else 1
    return split(input, builtins.max(size, 1), axis)


class Unbind(Function):
    """All slices along a dim as one node (one backward stack, not n narrow nodes)."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        pre = (slice(None),) * axis
        return tuple(a[pre + (i, Ellipsis)] for i in range(a.shape[axis]))   # views (0-d too), as in PyTorch

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.axis), None


def unbind(input: Tensor, dim: int = 0):
    """The slices along ``dim`` as a tuple (``torch.unbind``)."""
    axis = _wrap_dim(dim, input._data.ndim, "unbind")
    n = input._data.shape[axis]
    if n == 0:
        return ()
    out = Unbind.apply(input, axis)
    if not isinstance(out, tuple):
        out = (out,)
    for i, o in enumerate(out):
        _view(o, input, lambda b, i=i: unbind(b, axis)[i])
    return _multi_views(out, input, "unbind")


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dim removed (a view), ``torch.select``."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor")
    d = _wrap_dim(dim, nd, "select")
    n = input._data.shape[d]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {tuple(input.shape)} at dimension {d}")
    from .index import _basic_view
    return _basic_view(input, (slice(None),) * d + (index % n,))


# -- flip / roll ----------------------------------------------------------------------------------------------------
class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return _copy_preserving(_np.flip(a, axes), a)   # a copy in the input's layout, as PyTorch

    @staticmethod
    def backward(ctx, g):
        return flip(g, ctx.axes), None


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order along ``dims`` (``torch.flip``)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axes = tuple(_wrap_dim(d, input._data.ndim, "flip") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip: dim {dims} appears multiple times in the list of dims")
    if input._data.ndim == 0:
        axes = ()
    return Flip.apply(input, axes)


def fliplr(input):
    return flip(input, [1])


def flipud(input):
    return flip(input, [0])


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return _np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return roll(g, neg, ctx.axes), None, None


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically (``torch.roll``; flattened when ``dims`` is None)."""
    if dims is None:
        return reshape(roll(reshape(input, (-1,)), shifts, 0), input._data.shape)
    if isinstance(dims, int):
        dims = (dims,)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = tuple(_wrap_dim(d, input._data.ndim, "roll") for d in dims)
    shifts = tuple(shifts) if not isinstance(shifts, int) else (shifts,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(input, shifts, dims)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (a copy; PyTorch's layout: a flipped copy,
    transposed for odd ``k``)."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _wrap_dim(dims[0], nd, "rot90"), _wrap_dim(dims[1], nd, "rot90")
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and "
                           f"dim1 = {dims[1]}")
    k %= 4
    if k == 0:
        return _CloneAs.apply(input, None)      # a contiguous copy, as PyTorch
    if k == 2:
        return flip(input, [d0, d1])
    out = transpose(flip(input, [d1] if k == 1 else [d0]), d0, d1)
    del out.__dict__["_vw"]      # a transposed fresh copy: not a view of anything the caller holds
    return out


# -- pad ------------------------------------------------------------------------------------------------------------
class _PadConstant(Function):
    @staticmethod
    def forward(ctx, a, pads, value):
        ctx.pads = pads
        if builtins.any(p[0] < 0 or p[1] < 0 for p in pads):   # negative padding crops
            sl = tuple(slice(-p[0] if p[0] < 0 else 0, s + p[1] if p[1] < 0 else s) for p, s in zip(pads, a.shape))
            a = a[sl]
            pads = tuple((builtins.max(p[0], 0), builtins.max(p[1], 0)) for p in pads)
        return _np.pad(a, pads, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        sl = []
        for (lo, hi), s in zip(ctx.pads, g.shape):
            sl.append(slice(lo, s - hi) if lo >= 0 and hi >= 0 else slice(builtins.max(lo, 0), s - builtins.max(hi, 0)))
        gi = g[tuple(sl)]
        if builtins.any(p[0] < 0 or p[1] < 0 for p in ctx.pads):
            inner = tuple((-builtins.min(p[0], 0), -builtins.min(p[1], 0)) for p in ctx.pads)
            gi = _PadConstant.apply(gi, inner, 0.0)
        return gi, None, None


class _PadIndex(Function):
    """reflect / replicate / circular padding as one gather along each padded axis; backward scatter-adds."""

    @staticmethod
    def forward(ctx, a, idx_per_axis):
        ctx.idx = idx_per_axis
        ctx.shape = a.shape
        out = a
        for ax, idx in idx_per_axis:
            out = _np.take(out, idx, axis=ax)
        return out

    @staticmethod
    def backward(ctx, g):
        from .index import _index_add_along
        out = g
        for ax, idx in reversed(ctx.idx):
            n = ctx.shape[ax]
            out = _index_add_along(out, ax, idx, n)
        return out, None


def _pad_indices(n, lo, hi, mode):
    i = _np.arange(-lo, n + hi)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(f"pad (reflect): padding ({lo}, {hi}) must be smaller than the dimension size {n}")
        period = 2 * (n - 1) if n > 1 else 1
        i = _np.abs(i) % period
        i = _np.where(i >= n, period - i, i)
    elif mode == "replicate":
        i = _np.clip(i, 0, n - 1)
    elif mode == "circular":
        if lo > n or hi > n:
            raise RuntimeError(f"pad (circular): padding ({lo}, {hi}) can't exceed the dimension size {n}")
        i = i % n
    return i


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` lists (left, right) pairs from the LAST dim backwards,
    exactly as ``torch.nn.functional.pad``.  Modes: constant, reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    nd = input._data.ndim
    if k > nd:
        raise RuntimeError(f"pad: padding of length {len(pad)} pads {k} dims but the input has only {nd} "
                           f"(shape {tuple(input.shape)})")
    pairs = [(0, 0)] * nd
    for i in range(k):
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return _PadConstant.apply(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    idx = [(ax, _pad_indices(input._data.shape[ax], lo, hi, mode)) for ax, (lo, hi) in enumerate(pairs) if lo or hi]
    return _PadIndex.apply(input, idx)


# -- strided views: as_strided, unfold, diagonal ----------------------------------------------------------------------
def _storage(a):
    """(the flat array of the memory ``a`` lives in, ``a``'s offset into it in elements), following NumPy's
    ``base`` chain to the allocation, as PyTorch's storage and ``storage_offset()``."""
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


def _strided(flat, offset, size, stride):
    """A writable (when ``flat`` is) view of ``flat[offset:]`` with element strides ``stride``."""
    it = flat.dtype.itemsize
    return _np.lib.stride_tricks.as_strided(flat[offset:], tuple(size), tuple(st * it for st in stride),
                                            writeable=flat.flags.writeable)


def _ids_of(a):
    """For each element of ``a``, its position in ``a`` (row-major), laid out in ``a``'s storage (-1 elsewhere):
    the map from a strided view of that storage back to ``a``'s elements."""
    flat, off = _storage(a)
    m = _np.full(flat.shape, -1, _np.int64)
    it = a.dtype.itemsize
    dst = _strided(m, off, a.shape, tuple(s // it for s in a.strides)) if a.size else None
    if dst is not None:
        dst[...] = _np.arange(a.size).reshape(a.shape)
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
            out = _np.zeros(n, g.dtype)
            _np.add.at(out, i, w)
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
        out = flat[_np.maximum(ids, 0)] if flat.size else _np.zeros(ids.shape, a.dtype)
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
        ids = ctx.fn(_np.arange(int(_np.prod(ctx.shape)), dtype=_np.int64).reshape(ctx.shape))
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
        ids = _np.ascontiguousarray(_strided(m, ctx.offset, ctx.size, ctx.stride))
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
        return _np.lib.stride_tricks.as_strided(a, sh[:d] + (cnt,) + sh[d + 1:] + (size,),
                                                st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],),
                                                writeable=a.flags.writeable)
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
        return _np.lib.stride_tricks.as_strided(start, tuple(a.shape[i] for i in other) + (ln,),
                                                tuple(st[i] for i in other) + (st[d1] + st[d2],),
                                                writeable=a.flags.writeable)
    return fn


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
    if strides is None:
        return _np.array(src, order="C", copy=True)
    buf = _np.empty(src.size, src.dtype)
    out = _strided(buf, 0, src.shape, strides)
    out[...] = src
    return out


def _copy_preserving(src, like):
    """A copy of ``src`` laid out as PyTorch's ``empty_like(like)`` (preserve_format) would be."""
    return _copy_strided(src, _preserve_strides(like))


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
