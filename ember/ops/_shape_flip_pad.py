"""Reordering and padding: ``flip``/``fliplr``/``flipud``, ``roll``, ``rot90`` and ``pad`` (constant, reflect,
replicate, circular). Re-exported by ``ember.ops.shape``.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import builtins
from operator import index as _index

import numpy as _np

from ..autograd.function import Function
from ..backend import device as _dev
from ..tensor import Tensor, _wrap_dim
from .shape import reshape, transpose
from ._shape_strided import _CloneAs, _copy_preserving, _result_layout


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
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)     # an int or a 0-d integer tensor
    axes = tuple(_wrap_dim(_index(d), input._data.ndim, "flip") for d in dims)
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
    return _result_layout(Roll.apply(input, shifts, dims))       # contiguous, as PyTorch allocates it


@_named("Rot90Backward0")
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
def _pad_constant(a, pads, value):
    """``np.pad(a, pads, mode="constant", constant_values=value)`` (non-negative pads): the same array (its
    order, the value cast by assignment as ``np.pad`` casts it), written as the interior copy and the border
    slabs only (``np.pad``'s generic machinery took 3x as long: 64x16x16x16 by 1 on each side 247 -> 180 us)."""
    shape = tuple(s + lo + hi for s, (lo, hi) in zip(a.shape, pads))
    fortran = a.flags.f_contiguous and not a.flags.c_contiguous
    out = _dev.array_module(a).empty(shape, a.dtype, order="F" if fortran else "C")
    out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(a.shape, pads))] = a
    for ax, (lo, hi) in enumerate(pads):
        head = (slice(None),) * ax
        if lo:
            out[head + (slice(0, lo),)] = value
        if hi:
            out[head + (slice(shape[ax] - hi, None),)] = value
    return out


class _PadConstant(Function):
    @staticmethod
    def forward(ctx, a, pads, value):
        ctx.pads = pads
        if builtins.any(p[0] < 0 or p[1] < 0 for p in pads):   # negative padding crops
            sl = tuple(slice(-p[0] if p[0] < 0 else 0, s + p[1] if p[1] < 0 else s) for p, s in zip(pads, a.shape))
            a = a[sl]
            pads = tuple((builtins.max(p[0], 0), builtins.max(p[1], 0)) for p in pads)
        return _pad_constant(a, pads, value)

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
        if type(a) is not _np.ndarray:      # the host-made index tables onto a's device
            from ..backend.device import like
            idx_per_axis = [(ax, like(idx, a)) for ax, idx in idx_per_axis]
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
        for ax, (lo, hi) in enumerate(pairs):
            if input._data.shape[ax] + builtins.min(lo, 0) + builtins.min(hi, 0) < 0:  # PyTorch's narrow() error
                raise RuntimeError(f"pad: negative padding {pad} crops more than the size {input._data.shape[ax]} "
                                   f"of dim {ax} of the input of shape {tuple(input.shape)}")
        return _PadConstant.apply(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    outs = [input._data.shape[ax] + lo + hi for ax, (lo, hi) in enumerate(pairs[nd - k:], nd - k)]
    # PyTorch: circular padding may empty a dim; reflect/replicate need one output size >= 1 (none negative)
    if min(outs) < 0 or (mode != "circular" and max(outs) < 1):
        raise RuntimeError(f"pad ({mode}): input of shape {tuple(input.shape)} padded by {pad} is too small: "
                           f"output sizes {tuple(outs)}")
    idx = [(ax, _pad_indices(input._data.shape[ax], lo, hi, mode)) for ax, (lo, hi) in enumerate(pairs) if lo or hi]
    return _PadIndex.apply(input, idx)
