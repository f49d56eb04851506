"""Joining and splitting: ``cat``/``concat``/``concatenate``, ``stack``/``hstack``/``vstack``/``dstack``,
``narrow``, ``split``, ``tensor_split``, ``chunk``, ``unbind`` and ``select`` (the pieces are views where
PyTorch's are). Re-exported by ``ember.ops.shape``.
"""
from __future__ import annotations

import builtins

import numpy as _np

from ..autograd.function import Function
from ..autograd._torch_names import tag as _tname
from ..backend import device as _dev
from ..backend import layout as _layout
from ..tensor import Tensor, _wrap_dim
from .shape import _multi_views, _view, reshape, t, unsqueeze
from ._shape_strided import _channels_last_strides, _copy_strided, _is_channels_last
from ._shape_flip_pad import _PadConstant


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
        return out if out.flags.c_contiguous else _dev.array_module(out).ascontiguousarray(out)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        for s in ctx.sizes:
            if s is None:
                out.append(Tensor._make(_dev.array_module(g._data).zeros((0,), g.dtype)))
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
    dt = tensors[0]._data.dtype
    if builtins.all(t._data.dtype == dt and t._data.flags.c_contiguous for t in tensors):
        return Stack.apply(d, *tensors)
    return _tname(cat([unsqueeze(t, d) for t in tensors], d), "StackBackward0")


class Stack(Function):
    """``stack`` of C-contiguous tensors of one dtype as one node: ``Cat`` over their reshaped arrays (views
    with the strides ``unsqueeze`` gives them), without recording an unsqueeze per input (8 tensors of 64x64:
    87 -> ~20 us); the gradient of each input is its slice of the output's, a view (``unbind``'s), as in
    PyTorch.  Other inputs (mixed dtypes, strided views) take ``cat`` of unsqueezed tensors."""

    @staticmethod
    def forward(ctx, axis, *arrays):
        shape = arrays[0].shape
        new = shape[:axis] + (1,) + shape[axis:]
        ctx.n = len(arrays)
        return Cat.forward(ctx, axis, *[a.reshape(new) for a in arrays])

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(select(g, ctx.axis, i) for i in range(ctx.n))


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
    name = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    out = Split.apply(tensor, axis, tuple(sizes))
    starts = [0]
    for s in sizes[:-1]:
        starts.append(starts[-1] + s)
    for o, a, s in zip(out, starts, sizes):
        _view(o, tensor, lambda b, a=a, s=s: narrow(b, axis, a, s))
        _tname(o, name, tensor)
    return _multi_views(out, tensor, "split")


class Split(Function):
    """The pieces of ``split`` / ``chunk`` (views) as one node: its backward concatenates their gradients (the
    engine gives zeros for an unused piece), one copy, where a narrow per piece padded each gradient to the
    input's size and the engine added those up (the transformer's q, k, v chunk: three padded copies and two
    additions of the in-projection's gradient)."""

    @staticmethod
    def forward(ctx, a, axis, sizes):
        ctx.axis = axis
        pre = (slice(None),) * axis
        out, start = [], 0
        for s in sizes:
            out.append(a[pre + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(list(grads), ctx.axis), None, None


def tensor_split(input, indices_or_sections, dim=0):
    axis = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[axis]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        b = [0] + list(indices_or_sections) + [n]
        sizes = [builtins.max(0, b[i + 1] - b[i]) for i in range(len(b) - 1)]
    out = split(input, sizes, axis)
    for piece in out:
        _tname(piece, "SliceBackward0", input)      # PyTorch: one slice per piece
    return out


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
