"""PyTorch's channels_last propagation for the 4-D ops (convolution, pooling, resampling): a result (and the
input's gradient) gets channels_last strides when the input (or the weight) has them.  Split out of
``conv.py``, which re-exports these names."""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import xp as np
from ..backend.device import array_module as _xp
from ..tensor import Tensor


def _is_channels_last(t) -> bool:
    """PyTorch's test for channels_last strides of a 4-D tensor (``is_channels_last_strides_2d``), on which
    its convolution, pooling and resampling ops base their result's layout: strides ordered C < W < H < N,
    ambiguous cases (size-1 dims with equal strides) counted as NCHW."""
    a = t._data if isinstance(t, Tensor) else t
    if a.ndim != 4 or not a.size:
        return False
    st = [s // a.itemsize for s in a.strides]
    if st[1] == 0:
        return False
    lo = 0
    for d in (1, 3, 2, 0):
        if st[d] < lo or (d == 0 and lo == st[1]):
            return False
        lo = st[d] * (a.shape[d] if a.shape[d] > 1 else 1)
    return True


def _to_layout(a, channels_last: bool):
    """``a`` (4-D array) with channels_last strides (a copy unless it has them), or as it is."""
    if not channels_last or a.ndim != 4 or _is_channels_last(a):
        return a
    out = _xp(a).empty((a.shape[0],) + a.shape[2:] + (a.shape[1],), dtype=a.dtype)   # fresh NHWC strides,
    np.copyto(out, a.transpose(0, 2, 3, 1))                                          # size-1 dims included
    return out.transpose(0, 3, 1, 2)


class _Relayout(Function):
    """Identity with a layout: the output copied to channels_last strides (``out_cl``), the gradient copied to
    them (``grad_cl``).  Wraps an op for an input with channels_last strides so that its result and the
    input's gradient have PyTorch's layout (a copy each, on that path only)."""

    @staticmethod
    def forward(ctx, a, out_cl, grad_cl):
        ctx.grad_cl = grad_cl
        return _to_layout(a, True) if out_cl else a.copy()

    @staticmethod
    def backward(ctx, g):
        return (Tensor._make(_to_layout(g._data, True)) if ctx.grad_cl else g), None, None


def _channels_last_like(x, fn, *extra, grad=True):
    """Run ``fn(x)`` (a 4-D op) with PyTorch's channels_last propagation: when ``x`` (or any tensor in
    ``extra``, e.g. a weight) has channels_last strides, the result (each 4-D tensor of a tuple) gets them
    and, with ``grad`` (PyTorch's conv and pooling; not its upsampling), so does the gradient that flows back
    to ``x``."""
    if not (_is_channels_last(x) or any(_is_channels_last(e) for e in extra if isinstance(e, Tensor))):
        return fn(x)
    xin = _Relayout.apply(x, False, True) if grad and x.requires_grad and _is_channels_last(x) else x
    out = fn(xin)

    def lay(t):
        if not isinstance(t, Tensor) or t.ndim != 4:
            return t
        if t.requires_grad:
            return _Relayout.apply(t, True, False)
        return Tensor._make(_to_layout(t._data, True))
    return tuple(lay(t) for t in out) if isinstance(out, tuple) else lay(out)
