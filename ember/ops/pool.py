"""Pooling, unpooling, resampling and pixel shuffling, without Python loops over pixels.

* max pooling keeps a running maximum over the KH*KW shifted strided slices of the (-inf padded) input and
  the winning kernel offset per output (first maximum wins: PyTorch's tie rule); the backward routes the
  gradient back slice by slice when windows do not overlap, and with one scatter-add (``np.add.at``, output
  order) at the winners' flat positions when they do.  Flat
  per-plane indices are only built when ``return_indices`` asks for them.  Adaptive max pooling gathers its
  variable windows with index arrays and scatters the gradient back with ``bincount``.
* average pooling adds the KH*KW shifted slabs (a loop over kernel offsets only) and divides by a per-position
  divisor that implements ``count_include_pad``, ``ceil_mode`` and ``divisor_override`` exactly as PyTorch.
* adaptive average pooling and ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
  area) resample one dim at a time, innermost first: a gather of each output's few neighbours and their
  weighted sum, with PyTorch's source-index formulas, rounding and order of sums (never a dense resampling
  matrix, which would turn one inf into NaN across a whole row); the gradient sums runs of equal indices back
  (``reduceat``).  Forward and gradient are each other's backward, so they differentiate any number of times.
* pixel_shuffle / pixel_unshuffle are a reshape and a permute.
"""
from __future__ import annotations

import math

from ..autograd.function import Function, once_differentiable
from ..backend import xp as np
from ..tensor import Tensor
from .conv import _tuple, _channels_last_like

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "interpolate",
           "pixel_shuffle", "pixel_unshuffle"]


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------
def _pool_out(size, k, s, p, d, ceil):
    """PyTorch's pooling output size (``pooling_output_shape``)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1    # the last window must start inside the input or its left padding
    return out


def _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op, max_pool=True):
    if x.ndim not in (nd + 1, nd + 2) or 0 in tuple(x.shape)[-(nd + 1):]:
        raise RuntimeError(f"{op}: expected {nd + 1}D or {nd + 2}D (batch mode) input with optional 0 dim batch "
                           f"size, got input of shape {tuple(x.shape)}")
    # PyTorch 2.13 (CPU): max pooling for every real dtype but bool; average pooling for floats and int64
    if x.dtype.kind == "b" or (not max_pool and x.dtype.kind in "iu" and x.dtype != np.int64):
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} input")
    ks = _tuple(kernel_size, nd, "kernel_size", op)
    st = ks if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else _tuple(stride, nd, "stride", op)
    pad = _tuple(padding, nd, "padding", op)
    dil = _tuple(dilation, nd, "dilation", op)
    if min(ks) < 1 or min(st) < 1 or min(dil) < 1:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got kernel_size={ks}, "
                         f"stride={st}, dilation={dil}")
    for k, p in zip(ks, pad):
        if p < 0 or p > k // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k}")
    spatial = tuple(x.shape[-nd:])
    outs = tuple(_pool_out(spatial[i], ks[i], st[i], pad[i], dil[i], ceil_mode) for i in range(nd))
    if min(outs) < 1:
        raise RuntimeError(f"{op}: given input size {tuple(x.shape)}, kernel_size={ks}, padding={pad}, "
                           f"dilation={dil}, the calculated output size {outs} is too small")
    if nd == 1:
        ks, st, pad, dil = (1,) + ks, (1,) + st, (0,) + pad, (1,) + dil
    return ks, st, pad, dil


def _as4d(x, nd):
    """Bring (C, L), (N, C, L), (C, H, W) or (N, C, H, W) to 4-D; returns the tensor and how to undo it."""
    lead = x.ndim == nd + 1
    if lead:
        x = x.unsqueeze(0)
    if nd == 1:
        x = x.unsqueeze(-2)

    def undo(t):
        if nd == 1:
            t = t.squeeze(-2)
        return t.squeeze(0) if lead else t
    return x, undo


def _padded(x, pad, ext, fill):
    """Pad the last two dims by ``pad`` on the left and ``ext`` (>= pad, for ceil_mode) on the right."""
    if not (pad[0] or pad[1] or ext[0] or ext[1]):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + pad[0] + ext[0], w + pad[1] + ext[1]), fill, dtype=x.dtype)
    out[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    return out


def _unpad(gx, pad, h, w):
    """The gradient of the unpadded input out of the padded-frame gradient ``gx``: contiguous, as PyTorch's
    (a copy only when there was padding or a ceil_mode extension)."""
    if gx.shape[2:] == (h, w):
        return gx
    return np.ascontiguousarray(gx[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w])


def _scatter_planes(g, idx, shape, unique):
    """Gradient of a per-plane gather: add ``g`` (N, C, ...) into zeros of ``shape`` (N, C, H, W) at the flat
    per-plane indices ``idx``."""
    n, c, h, w = shape
    plane = (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, *([1] * (idx.ndim - 2)))
    flat = (idx + plane).ravel()
    if unique:
        out = np.zeros(n * c * h * w, dtype=g.dtype)
        out[flat] = g.ravel()
    else:
        out = np.bincount(flat, weights=g.ravel(), minlength=n * c * h * w).astype(g.dtype, copy=False)
    return out.reshape(shape)


def _first_max(flatw):
    """Per window (last axis): the position of the first maximum (PyTorch's tie rule) and the value; in a
    window holding NaN, the LAST NaN, as PyTorch's loop (``val > maxval || isnan(val)``)."""
    k = flatw.argmax(-1)
    if flatw.dtype.kind == "f":
        nan = np.isnan(flatw)
        if nan.any():
            last = flatw.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
            k = np.where(nan.any(-1), last, k)
    return k, np.take_along_axis(flatw, k[..., None], -1)[..., 0]


# ---------------------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------------------
def _offset_slices(ks, st, dil, oh, ow):
    """For each kernel offset (i, j), in window order, the strided slices of the padded input it reads."""
    for i in range(ks[0]):
        r = i * dil[0]
        for j in range(ks[1]):
            q = j * dil[1]
            yield (slice(None), slice(None), slice(r, r + st[0] * (oh - 1) + 1, st[0]),
                   slice(q, q + st[1] * (ow - 1) + 1, st[1]))


def _max_of_four(v):
    """Max and first-max position of four same-shaped views (a 2x2 window, in window order) as a tree of
    pairwise maxima: 5 passes over the output instead of the running loop's 10.  Ties keep the earlier
    position (strict ``>``), as the loop does."""
    hi01 = v[1] > v[0]
    m01 = np.maximum(v[0], v[1])
    hi23 = v[3] > v[2]
    m23 = np.maximum(v[2], v[3])
    hi = m23 > m01
    out = np.maximum(m01, m23, out=m01)
    k = hi23.view(np.uint8) + np.uint8(2)       # 2 or 3 where the second pair wins ...
    k = np.where(hi, k, hi01.view(np.uint8))     # ... else 0 or 1
    return out, k


def _lowest_windows(out, k, low, size, ks, st, pad, dil, outs):
    """PyTorch's arg-max starts at the window's first element inside the input (not in the padding) and moves
    only on a strictly greater value: in windows whose maximum is the dtype's lowest value (-inf), point ``k``
    at that element.  A dilated window can lie entirely in the padding; PyTorch's index is then the flat
    position its loop would have started at (possibly another row): returns (mask (OH, OW), flat index) of
    those windows, or None."""
    if pad == (0, 0):
        return None         # every window starts inside the input: its first element is offset 0
    lowm = out == low
    if not lowm.any():
        return None
    first, ok = [], []
    for i in range(2):
        start = np.arange(outs[i]) * st[i] - pad[i]
        j0 = np.where(start < 0, (-start + dil[i] - 1) // dil[i], 0)      # first kernel offset inside the input
        pos = start + j0 * dil[i]
        first.append((j0, pos))
        ok.append((j0 < ks[i]) & (pos < size[i]))
    j0 = first[0][0][:, None] * ks[1] + first[1][0][None, :]
    valid = ok[0][:, None] & ok[1][None, :]
    np.putmask(k, lowm & valid, j0.astype(k.dtype))
    if valid.all():
        return None
    empty = ~valid
    flat = (first[0][1][:, None] * size[1] + first[1][1][None, :])[empty]
    return empty, flat


class _MaxPool2d(Function):
    """Running max over the KH*KW shifted strided slices of the -inf padded input (a loop over kernel offsets,
    never over pixels); the winning offset is kept as a small int array.  A strict ``>`` keeps the first
    maximum in window order, PyTorch's tie rule (ReLU outputs have many ties)."""

    @staticmethod
    def forward(ctx, x, ks, st, pad, dil, ceil, with_indices):
        n, c, h, w = x.shape
        oh = _pool_out(h, ks[0], st[0], pad[0], dil[0], ceil)
        ow = _pool_out(w, ks[1], st[1], pad[1], dil[1], ceil)
        need_h = (oh - 1) * st[0] + dil[0] * (ks[0] - 1) + 1
        need_w = (ow - 1) * st[1] + dil[1] * (ks[1] - 1) + 1
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp_ = _padded(x, pad, (max(0, need_h - h - pad[0]), max(0, need_w - w - pad[1])), low)
        if ks[0] * ks[1] == 4:
            out, k = _max_of_four([xp_[sl] for sl in _offset_slices(ks, st, dil, oh, ow)])
        else:
            out = k = None
            for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
                v = xp_[sl]
                if out is None:
                    out = v.copy()
                    k = np.zeros(out.shape, dtype=np.uint8 if ks[0] * ks[1] < 256 else np.int32)
                    continue
                better = v > out
                np.maximum(out, v, out=out)          # propagates NaN like PyTorch
                np.putmask(k, better, j)
        out, k = np.ascontiguousarray(out), np.ascontiguousarray(k)      # PyTorch's layout for any input
        if x.dtype.kind == "f":
            nan_out = np.isnan(out)              # one pass over the output; NaN windows are rare
            if nan_out.any():
                # PyTorch's rule in a window holding NaN: the LAST NaN (in window order) is the arg-max
                for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
                    np.putmask(k, nan_out & np.isnan(xp_[sl]), j)
        empty = _lowest_windows(out, k, low, (h, w), ks, st, pad, dil, (oh, ow))
        ctx.cfg = (xp_.shape, (h, w), ks, st, pad, dil, (oh, ow), empty)
        ctx.save_for_backward(k)
        if not with_indices:
            return out
        # flat per-plane index of the winner in the unpadded input (PyTorch's return_indices convention)
        kk = k.astype(np.int64)
        idx = ((np.arange(oh) * st[0] - pad[0])[:, None] + (kk // ks[1]) * dil[0]) * w \
            + (np.arange(ow) * st[1] - pad[1]) + (kk % ks[1]) * dil[1]
        if empty is not None:
            idx[:, :, empty[0]] = empty[1]
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    @once_differentiable
    def backward(ctx, g, _gidx=None):
        (k,) = ctx.saved_tensors
        pshape, (h, w), ks, st, pad, dil, (oh, ow), empty = ctx.cfg
        gx = _unpad(_MaxPool2d._grad(k, g, pshape, ks, st, dil, oh, ow), pad, h, w)
        if empty is not None:       # windows all in the padding: PyTorch's index (kept inside the plane)
            gx = np.array(gx)
            inside = (empty[1] >= 0) & (empty[1] < h * w)
            np.add.at(gx.reshape(gx.shape[0], gx.shape[1], h * w), (slice(None), slice(None), empty[1][inside]),
                      g._data[:, :, empty[0]][..., inside])
        return Tensor._make(gx), None, None, None, None, None, None

    @staticmethod
    def _grad(k, g, pshape, ks, st, dil, oh, ow):
        """The gradient in the padded frame."""
        k, ga = k._data, g._data
        overlap = st[0] < dil[0] * (ks[0] - 1) + 1 or st[1] < dil[1] * (ks[1] - 1) + 1
        # windows that tile the padded input exactly (2x2 stride 2 on even sizes): every element is written
        # below, so no zero fill
        tiled = ks == st and dil == (1, 1) and pshape[2:] == (oh * st[0], ow * st[1])
        alloc = np.empty if tiled else np.zeros
        gx = alloc(pshape, dtype=ga.dtype)
        zero = ga.dtype.type(0)
        if not overlap and np.isfinite(ga).all():
            # g * (k == j) written straight into the strided slice: ~3x faster than np.where + assignment;
            # equal to it for finite g (where it is not, 0 * inf would give NaN instead of 0)
            for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
                np.multiply(ga, k == j, out=gx[sl])
            return gx
        if overlap and ga.ndim == 4:
            # one scatter-add of each output's gradient at its winner's flat position in the padded frame, in
            # output order (PyTorch's loop order, float32 sums rounded as its): 3x3 stride 2 on 64x64x16x16,
            # 1 thread: 8.8 -> 2 ms (the per-offset strided additions run over rows of a few elements)
            n, c, hp, wp = pshape
            kk = np.arange(ks[0] * ks[1])
            off = ((kk // ks[1]) * dil[0] * wp + (kk % ks[1]) * dil[1]).astype(np.intp)
            pos = ((np.arange(oh) * st[0] * wp)[:, None] + np.arange(ow) * st[1]).ravel()
            flat = off[k.reshape(n * c, oh * ow)]
            flat += (np.arange(n * c, dtype=np.intp) * (hp * wp))[:, None]
            flat += pos
            gx = np.zeros(pshape, dtype=ga.dtype)
            np.add.at(gx.reshape(-1), flat.reshape(-1), np.ascontiguousarray(ga).reshape(-1))
            return gx
        for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
            part = np.where(k == j, ga, zero)
            if overlap:
                gx[sl] += part
            else:
                gx[sl] = part
        return gx


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, op):
    if nd == 2 and x.ndim == 4:             # PyTorch keeps a channels_last input's layout
        return _channels_last_like(x, lambda t: _max_pool(t, kernel_size, stride, padding, dilation, ceil_mode,
                                                          return_indices, 0, op))
    if nd == 0:
        nd = 2
    if nd == 1 and not return_indices and x.dtype.kind in "iu":
        # PyTorch 2.13 (CPU): max_pool1d's own kernel is float-only (with return_indices it takes the 2-D path)
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} input without return_indices")
    ks, st, pad, dil = _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op)
    x4, undo = _as4d(x, nd)
    if return_indices:
        out, idx = _MaxPool2d.apply(x4, ks, st, pad, dil, bool(ceil_mode), True)
        return undo(out), undo(idx)
    return undo(_MaxPool2d.apply(x4, ks, st, pad, dil, bool(ceil_mode), False))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.max_pool2d``.  ``stride``
    defaults to ``kernel_size``; padding counts as -inf.  With ``return_indices`` also returns the int64
    position of each maximum, flattened per plane (``h * W + w``), as :func:`max_unpool2d` expects.

    >>> max_pool2d(ember.randn(8, 6, 28, 28), 2).shape
    ember.Size([8, 6, 14, 14])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L), as ``torch.nn.functional.max_pool1d``.

    >>> max_pool1d(ember.randn(2, 3, 10), 3, stride=2).shape
    ember.Size([2, 3, 4])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


# ---------------------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------------------
def _divisor(size, k, s, p, o, include_pad):
    start = np.arange(o) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


class _AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, ks, st, pad, ceil, include_pad, divisor_override):
        n, c, h, w = x.shape
        oh = _pool_out(h, ks[0], st[0], pad[0], 1, ceil)
        ow = _pool_out(w, ks[1], st[1], pad[1], 1, ceil)
        need_h, need_w = (oh - 1) * st[0] + ks[0], (ow - 1) * st[1] + ks[1]
        xp_ = _padded(x, pad, (max(pad[0], need_h - h - pad[0]), max(pad[1], need_w - w - pad[1])), 0)
        if divisor_override:
            div = np.asarray(float(divisor_override))
        else:
            div = (_divisor(h, ks[0], st[0], pad[0], oh, include_pad)[:, None]
                   * _divisor(w, ks[1], st[1], pad[1], ow, include_pad)[None, :]).astype(x.dtype)
        if ks == st and pad == (0, 0):
            out = xp_[:, :, :need_h, :need_w].reshape(n, c, oh, ks[0], ow, ks[1]).sum((3, 5))
        else:
            out = None
            for i in range(ks[0]):          # loop over kernel offsets only
                for j in range(ks[1]):
                    sl = xp_[:, :, i:i + st[0] * (oh - 1) + 1:st[0], j:j + st[1] * (ow - 1) + 1:st[1]]
                    out = sl.copy() if out is None else out.__iadd__(sl)
        ctx.cfg = (x.shape, xp_.shape, ks, st, pad, (oh, ow))
        ctx.div = div
        return np.ascontiguousarray((out / div).astype(x.dtype, copy=False))

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        shape, pshape, ks, st, pad, (oh, ow) = ctx.cfg
        gd = (g._data / ctx.div).astype(g._data.dtype, copy=False)
        gx = np.zeros(pshape, dtype=gd.dtype)
        for i in range(ks[0]):
            for j in range(ks[1]):
                gx[:, :, i:i + st[0] * (oh - 1) + 1:st[0], j:j + st[1] * (ow - 1) + 1:st[1]] += gd
        h, w = shape[2:]
        return Tensor._make(_unpad(gx, pad, h, w)), None, None, None, None, None, None


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, op):
    if nd == 2 and x.ndim == 4:
        return _channels_last_like(x, lambda t: _avg_pool(t, kernel_size, stride, padding, ceil_mode,
                                                          count_include_pad, divisor_override, 0, op))
    if nd == 0:
        nd = 2
    ks, st, pad, _ = _pool_args(x, kernel_size, stride, padding, 1, ceil_mode, nd, op, max_pool=False)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    x4, undo = _as4d(x, nd)
    return undo(_AvgPool2d.apply(x4, ks, st, pad, bool(ceil_mode), bool(count_include_pad), divisor_override))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.avg_pool2d``.  Zero padding
    is counted in the divisor when ``count_include_pad``; ``divisor_override`` replaces the divisor.

    >>> avg_pool2d(ember.randn(2, 3, 8, 8), 2).shape
    ember.Size([2, 3, 4, 4])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``.

    >>> avg_pool1d(ember.randn(2, 3, 10), 2).shape
    ember.Size([2, 3, 5])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


# ---------------------------------------------------------------------------------------------------------
# resampling along one axis by gathers and weighted sums of neighbours (interpolate, area mode)
# ---------------------------------------------------------------------------------------------------------
# A 1-D resampling is a list of taps (index, weight, mask): out[..., o] = sum_k weight_k[o] * x[..., index_k[o]]
# over the taps whose mask is true at o (mask None: all), divided by ``div`` when given.  Only the few
# neighbours an output reads enter its sum, as in PyTorch's kernels, so one inf or NaN in the input stays
# local (a dense resampling matrix would multiply it by every zero weight of its row: NaN everywhere).  The
# indices are non-decreasing in o, so the adjoint (the gradient) sums runs of equal indices with reduceat.
def _dense(taps, div, out_size, in_size, dtype):
    """The (out, in) matrix of a weighted resampling (for finite data only: see ``_resample_fwd``)."""
    m = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    for idx, wt, mask in taps:
        w = np.ones(out_size) if wt is None else wt.astype(np.float64)
        if mask is not None:
            w = np.where(mask, w, 0.0)
        np.add.at(m, (rows, idx), w)
    if div is not None:
        m /= np.asarray(div, dtype=np.float64)[:, None]
    return m.astype(dtype)


def _apply_dense(x, m, axis):
    """``m`` (out, in) applied along ``axis`` of ``x``: one BLAS product, contiguous result."""
    nd = x.ndim
    axis %= nd
    if axis == nd - 1:
        return x @ m.T
    if axis == nd - 2:
        return m @ x
    moved = np.moveaxis(np.tensordot(m, x, axes=(1, axis)), 0, axis)
    out = np.empty(moved.shape, dtype=moved.dtype)          # C-order strides, size-1 dims included
    np.copyto(out, moved)
    return out


def _weighted(taps):
    return any(wt is not None or mask is not None for _, wt, mask in taps)


def _resample_fwd(x, axis, taps, div):
    # finite data through weights: one BLAS product with the (out, in) matrix, several times faster than the
    # gathers; data with inf or NaN (where a zero weight times inf must not reach other outputs) and pure
    # gathers (nearest) by the gathers, which read only each output's neighbours as PyTorch does
    if x.dtype.kind == "f" and (_weighted(taps) or div is not None) and np.isfinite(x).all():
        return _apply_dense(x, _dense(taps, div, len(taps[0][0]), x.shape[axis], x.dtype), axis)
    with np.errstate(invalid="ignore", over="ignore"):      # inf * 0 and inf - inf are NaN, silently
        return _resample_sum(x, axis, taps, div)


def _resample_sum(x, axis, taps, div):
    out = None
    for idx, wt, mask in taps:
        v = np.take(x, idx, axis=axis)
        if wt is not None:
            v *= _along(wt, axis, x.ndim)
        if mask is not None:
            v = np.where(_along(mask, axis, x.ndim), v, v.dtype.type(0))
        out = v if out is None else out.__iadd__(v)
    if div is not None:
        out /= _along(div, axis, x.ndim)
    return out


def _resample_adj(g, axis, taps, div, size):
    if g.dtype.kind == "f" and np.isfinite(g).all():     # (also nearest's: a sum of several outputs each)
        return _apply_dense(g, _dense(taps, div, g.shape[axis], size, g.dtype).T, axis)
    with np.errstate(invalid="ignore", over="ignore"):
        return _resample_adj_sum(g, axis, taps, div, size)


def _adjoint_taps(taps, out_size, size, dtype):
    """The taps of the adjoint resampling: for each input position, the outputs that read it (with their
    weights), padded to the longest list with index ``out_size`` (a zero slice appended to the gradient) and
    weight 0.  So the gradient is again a gather and a weighted sum: each input sums only the outputs that
    read it (an inf in the gradient stays local), in output order."""
    src, dst, wts = [], [], []
    for idx, wt, mask in taps:
        keep = np.ones(len(idx), bool) if mask is None else mask
        o = np.arange(len(idx))[keep]
        src.append(idx[keep])
        dst.append(o)
        wts.append(np.ones(len(o), dtype) if wt is None else wt[keep].astype(dtype))
    src, dst, wts = np.concatenate(src), np.concatenate(dst), np.concatenate(wts)
    order = np.lexsort((dst, src))                      # by input, then by output
    src, dst, wts = src[order], dst[order], wts[order]
    counts = np.bincount(src, minlength=size)
    width = int(counts.max()) if counts.size and src.size else 0
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(src)) - first[src]             # position of each pair within its input's list
    o_tab = np.full((size, width), out_size, dtype=np.int64)
    w_tab = np.zeros((size, width), dtype=dtype)
    o_tab[src, rank] = dst
    w_tab[src, rank] = wts
    return [(o_tab[:, t], w_tab[:, t], None) for t in range(width)]


def _resample_adj_sum(g, axis, taps, div, size):
    shape = list(g.shape)
    shape[axis] = size
    if div is not None:
        g = g / _along(div, axis, g.ndim)
    out_size = g.shape[axis]
    adj = _adjoint_taps(taps, out_size, size, g.dtype)
    if not adj:
        return np.zeros(shape, dtype=g.dtype)
    pad = list(g.shape)
    pad[axis] = 1
    g_ext = np.concatenate([g, np.zeros(pad, dtype=g.dtype)], axis=axis)
    return _resample_sum(g_ext, axis, adj, None)


def _along(v, axis, ndim):
    """A per-output vector shaped to broadcast along ``axis`` of an ``ndim``-D array."""
    return v.reshape((-1,) + (1,) * (ndim - 1 - axis % ndim))


class _Resample(Function):
    """One 1-D resampling along ``axis``; its backward is :class:`_ResampleAdjoint` and vice versa, so every
    mode is differentiable any number of times.  ``bwd_taps`` (default: ``taps``) are the taps whose adjoint
    the backward takes (PyTorch's nearest backward copies a dim whose size is unchanged even where its
    forward does not)."""

    @staticmethod
    def forward(ctx, x, axis, taps, div, bwd_taps=None):
        ctx.cfg = (axis, taps if bwd_taps is None else bwd_taps, div, x.shape[axis])
        return _resample_fwd(x, axis, taps, div)

    @staticmethod
    def backward(ctx, g):
        axis, taps, div, size = ctx.cfg
        return _ResampleAdjoint.apply(g, axis, taps, div, size), None, None, None, None


class _ResampleAdjoint(Function):
    @staticmethod
    def forward(ctx, g, axis, taps, div, size):
        ctx.cfg = (axis, taps, div)
        return _resample_adj(g, axis, taps, div, size)

    @staticmethod
    def backward(ctx, gg):
        axis, taps, div = ctx.cfg
        return _Resample.apply(gg, axis, taps, div), None, None, None, None


def _compute_dtype(dtype):
    """PyTorch's ``opmath`` type of the index/weight arithmetic: float32 for float32 and narrower, else
    float64."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _taps(in_size, out_size, mode, align_corners, scale, dtype):
    """The taps of one 1-D resampling with PyTorch's (2.13, CPU) source-index formulas."""
    dst = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        # computed in float32 as PyTorch does, so that ties round identically
        s = np.float32(1.0 / scale) if scale else np.float32(in_size) / np.float32(out_size)
        off = np.float32(0.5) if mode == "nearest-exact" else np.float32(0.0)
        src = np.minimum(np.floor((dst.astype(np.float32) + off) * s).astype(np.int64), in_size - 1)
        return [(src, None, None)]
    ct = _compute_dtype(dtype)
    wt = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(ct)
    cubic = mode == "bicubic"
    if mode != "bicubic" and in_size == out_size:       # PyTorch's copy shortcut: weights 1 and 0, same index
        return [(dst, np.ones(out_size, wt), None), (dst, np.zeros(out_size, wt), None)]
    if align_corners:
        s = ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
        src = s * dst.astype(ct)
    else:
        s = ct(1.0 / scale) if scale else ct(in_size) / ct(out_size)
        # s * (dst + 0.5) - 0.5 rounded once, as a fused multiply-add (PyTorch 2.13's CPU build contracts it):
        # a product rounded first can land exactly on an input where PyTorch lands just past it, and the
        # neighbour's weight 0 then turns an inf there into NaN.  Exact in float64 (float32) or long double.
        wide = np.longdouble if ct == np.float64 else np.float64
        src = (wide(s) * (dst.astype(wide) + wide(0.5)) - wide(0.5)).astype(ct)
        if not cubic:
            src = np.maximum(src, ct(0))
    # PyTorch floors the source index in float32 (floorf), also for float64 inputs
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(ct), ct(0), ct(1))
    if not cubic:
        i1 = i0 + (i0 < in_size - 1)
        return [(i0, (ct(1) - lam).astype(wt), None), (i1, lam.astype(wt), None)]
    a = ct(-0.75)

    def near(t):     # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):      # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    coeffs = (far(lam + 1), near(lam), near(1 - lam), far(2 - lam))
    return [(np.clip(i0 - 1 + k, 0, in_size - 1), c.astype(wt), None) for k, c in enumerate(coeffs)]


def _taps_aa(in_size, out_size, mode, align_corners, scale, dtype):
    """Anti-aliased taps (``antialias=True``, PyTorch 2.13's CPU kernel, as PIL): the bilinear (triangle) or
    bicubic (Keys, a = -0.5) filter stretched by the downscaling factor, over a window of variable size
    (masked taps), weights normalized to sum 1; computed in the input's precision with PyTorch's roundings."""
    ct = _compute_dtype(dtype)
    wt = np.dtype(dtype)
    if align_corners:
        s = ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
    else:
        s = ct(1.0 / scale) if scale else ct(in_size) / ct(out_size)
    interp = 2 if mode == "bilinear" else 4
    support = ct(interp * 0.5 * float(s)) if s >= 1 else ct(interp * 0.5)
    width = int(math.ceil(float(support))) * 2 + 1
    invscale = ct(1.0 / float(s)) if s >= 1 else ct(1.0)
    center = (np.float64(s) * (np.arange(out_size, dtype=np.float64) + 0.5)).astype(ct)
    xmin = np.maximum(np.trunc((center - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc((center + support).astype(np.float64) + 0.5).astype(np.int64), in_size)
    xsize = np.clip(xmax - xmin, 0, width)
    wide = np.longdouble if ct == np.float64 else np.float64
    a = ct(-0.5)

    def fma(p, q, r):          # p * q + r rounded once (exact in float64 for float32 operands)
        return (p.astype(wide) * q.astype(wide) + wide(r)).astype(ct)

    def filt(x):
        # the cubic's polynomials with PyTorch's fused multiply-adds (its build contracts them): near |x| = 1
        # or 2 a weight is tiny rather than exactly 0, which decides whether 0 * inf is NaN and inf's sign
        x = np.abs(x)
        if interp == 2:
            return np.where(x < 1, ct(1) - x, ct(0)).astype(ct)
        if ct == np.float64:     # (long double is too narrow for exact double products: one rounding)
            xw, aw = x.astype(wide), wide(a)
            near = (((aw + 2) * xw - (aw + 3)) * xw * xw + 1).astype(ct)
            far = (((aw * xw - 5 * aw) * xw + 8 * aw) * xw - 4 * aw).astype(ct)
        else:
            near = fma((fma(np.full_like(x, a + 2), x, -(a + 3)) * x).astype(ct), x, ct(1))
            far = fma(fma(fma(np.full_like(x, a), x, -5 * a), x, 8 * a), x, -4 * a)
        return np.where(x < 1, near, np.where(x < 2, far, ct(0))).astype(ct)
    ws = []
    total = np.zeros(out_size, ct)
    for j in range(width):
        arg = (((j + xmin).astype(ct) - center).astype(np.float64) + 0.5) * np.float64(invscale)
        w = np.where(j < xsize, filt(arg.astype(ct)), ct(0)).astype(ct)
        total = (total + w).astype(ct)
        ws.append(w)
    safe = np.where(total != 0, total, ct(1))
    taps = [(np.clip(xmin + j, 0, in_size - 1), (w / safe).astype(wt), j < xsize) for j, w in enumerate(ws)]
    return taps, None


def _area_taps(in_size, out_size, dtype):
    """Adaptive average pooling windows [floor(i*L/o), ceil((i+1)*L/o)) as masked taps and divisors."""
    start, end = _adaptive_bounds(in_size, out_size)
    n = end - start
    if not out_size:
        return [(start, None, None)], n.astype(dtype)
    kmax = int(n.max())
    taps = [(np.minimum(start + k, in_size - 1), None, (k < n) if k >= int(n.min()) else None) for k in range(kmax)]
    return taps, n.astype(dtype)


def _resample(x, per_dim):
    """Apply per-dim resamplings ``[(axis, taps, div) or None]`` innermost axis first (PyTorch's order of
    sums), skipping dims that are None."""
    for axis, taps, div, *bwd in reversed([p for p in per_dim if p is not None]):
        x = _Resample.apply(x, axis, taps, div, *bwd)
    return x


# ---------------------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------------------
def _adaptive_bounds(size, out):
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)      # floor(i*L/o), ceil((i+1)*L/o)


def _out_sizes(output_size, spatial, nd, op):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise ValueError(f"{op}: output_size must have {nd} elements, got {output_size!r}")
        sizes = tuple(spatial[i] if s is None else int(s) for i, s in enumerate(output_size))
    else:
        sizes = (int(output_size),) * nd
    if min(sizes) < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0, got "
                           f"{output_size!r}")
    return sizes


def _adaptive_avg(x, output_size, nd, op):
    if nd == 2 and x.ndim == 4:
        # (an output of 1 x 1 is PyTorch's mean: its gradient is contiguous)
        return _channels_last_like(x, lambda t: _adaptive_avg(t, output_size, 0, op),
                                   grad=_out_sizes(output_size, tuple(x.shape[2:]), 2, op) != (1, 1))
    if nd == 0:
        nd = 2
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D or {nd + 2}D input, got input of shape {tuple(x.shape)}")
    _float_only(x, op)
    spatial = tuple(x.shape[-nd:])
    sizes = _out_sizes(output_size, spatial, nd, op)
    dims = tuple(range(-nd, 0))
    if all(s == 1 for s in sizes):
        return x.mean(dims, keepdim=True)
    if all(o and s % o == 0 for s, o in zip(spatial, sizes)):
        ks = tuple(s // o for s, o in zip(spatial, sizes))
        return (avg_pool2d if nd == 2 else avg_pool1d)(x, ks)
    return _resample(x, [(x.ndim - nd + d, *_area_taps(s, o, x.dtype)) for d, (s, o) in enumerate(zip(spatial, sizes))])


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to ``output_size`` (int or (H_out, W_out), None keeps a size), as
    ``torch.nn.functional.adaptive_avg_pool2d``: window i spans [floor(i*H/H_out), ceil((i+1)*H/H_out)).

    >>> adaptive_avg_pool2d(ember.randn(2, 3, 7, 9), (2, 4)).shape
    ember.Size([2, 3, 2, 4])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling over (N, C, L) to length ``output_size``
    (``torch.nn.functional.adaptive_avg_pool1d``).

    >>> adaptive_avg_pool1d(ember.randn(2, 3, 10), 4).shape
    ember.Size([2, 3, 4])
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


class _AdaptiveMaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, oh, ow):
        n, c, h, w = x.shape
        ih, iw = _gather_idx(h, oh), _gather_idx(w, ow)
        blocks = x[:, :, ih[:, None, :, None], iw[None, :, None, :]]        # (N, C, OH, OW, kh, kw)
        kw_ = iw.shape[1]
        if not blocks.size:
            idx = np.zeros((n, c, oh, ow), dtype=np.int64)
            ctx.cfg = (x.shape,)
            ctx.save_for_backward(idx)
            ctx.mark_non_differentiable(idx)
            return np.zeros((n, c, oh, ow), dtype=x.dtype), idx
        k, out = _first_max(blocks.reshape(n, c, oh, ow, ih.shape[1] * kw_))
        rows = ih[np.arange(oh)[:, None], k // kw_]
        cols = iw[np.arange(ow), k % kw_]
        idx = rows * w + cols
        ctx.cfg = (x.shape,)
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    @once_differentiable
    def backward(ctx, g, _gi):
        (idx,) = ctx.saved_tensors
        return Tensor._make(_scatter_planes(g._data, idx._data, ctx.cfg[0], False)), None, None


def _gather_idx(size, out):
    """(out, kmax) input positions of each adaptive window, the last one repeated to pad short windows (a
    repeat cannot change a max nor its first arg-max)."""
    start, end = _adaptive_bounds(size, out)
    kmax = int((end - start).max()) if out else 1
    return np.minimum(start[:, None] + np.arange(kmax)[None, :], end[:, None] - 1)


def _float_only(x, op):
    """PyTorch 2.13's adaptive pools (and unfold/fold) have floating point kernels only."""
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} input (floating point expected)")


def _adaptive_max(x, output_size, return_indices, nd, op):
    if nd == 2 and x.ndim == 4:
        return _channels_last_like(x, lambda t: _adaptive_max(t, output_size, return_indices, 0, op))
    if nd == 0:
        nd = 2
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D or {nd + 2}D input, got input of shape {tuple(x.shape)}")
    _float_only(x, op)
    sizes = _out_sizes(output_size, tuple(x.shape[-nd:]), nd, op)
    x4, undo = _as4d(x, nd)
    oh, ow = ((1,) + sizes) if nd == 1 else sizes
    out, idx = _AdaptiveMaxPool2d.apply(x4, oh, ow)
    return (undo(out), undo(idx)) if return_indices else undo(out)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pooling to ``output_size`` (``torch.nn.functional.adaptive_max_pool2d``), optionally with
    the flat per-plane indices of the maxima.

    >>> adaptive_max_pool2d(ember.randn(2, 3, 7, 9), 3).shape
    ember.Size([2, 3, 3, 3])
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pooling over (N, C, L) (``torch.nn.functional.adaptive_max_pool1d``).

    >>> adaptive_max_pool1d(ember.randn(2, 3, 10), 4).shape
    ember.Size([2, 3, 4])
    """
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")


# ---------------------------------------------------------------------------------------------------------
# unpooling
# ---------------------------------------------------------------------------------------------------------
class _MaxUnpool(Function):
    @staticmethod
    def forward(ctx, x, idx, out_hw):
        n, c = x.shape[:2]
        shape = (n, c) + tuple(out_hw)
        ctx.save_for_backward(idx)
        ctx.cfg = shape
        return _scatter_planes(x, idx, (n, c, out_hw[0], out_hw[1]), True).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        n, c = ctx.cfg[:2]
        gi = g.reshape(n, c, -1).gather(2, idx.reshape(n, c, -1)).reshape(idx.shape)
        return gi, None, None


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, nd, op):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D or {nd + 2}D input, got input of shape {tuple(x.shape)}")
    if tuple(indices.shape) != tuple(x.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape {tuple(x.shape)}, got "
                           f"{tuple(indices.shape)}")
    ks = _tuple(kernel_size, nd, "kernel_size", op)
    st = ks if stride is None else _tuple(stride, nd, "stride", op)
    pad = _tuple(padding, nd, "padding", op)
    spatial = tuple(x.shape[-nd:])
    default = tuple((spatial[i] - 1) * st[i] - 2 * pad[i] + ks[i] for i in range(nd))
    if output_size is None:
        size = default
    else:
        size = tuple(int(s) for s in output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(f"{op}: output_size must have {nd} (or {nd + 2}) elements, got {output_size!r}")
    hw = ((1,) + size) if nd == 1 else size
    plane = hw[0] * hw[1]
    if indices.numel() and (int(indices._data.min()) < 0 or int(indices._data.max()) >= plane):
        raise RuntimeError(f"{op}: found an invalid max index {int(indices._data.max())} (output plane of size "
                           f"{size} has {plane} elements)")
    x4, undo = _as4d(x, nd)
    i4, _ = _as4d(indices, nd)
    return undo(_MaxUnpool.apply(x4, i4._data, hw))


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool2d`: put each value at its recorded index in a zero plane of size
    ``(H-1)*stride - 2*padding + kernel_size`` (or ``output_size``), as ``torch.nn.functional.max_unpool2d``.

    >>> y, i = max_pool2d(ember.randn(1, 1, 4, 4), 2, return_indices=True)
    >>> max_unpool2d(y, i, 2).shape
    ember.Size([1, 1, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool1d` (``torch.nn.functional.max_unpool1d``).

    >>> y, i = max_pool1d(ember.randn(1, 1, 8), 2, return_indices=True)
    >>> max_unpool1d(y, i, 2).shape
    ember.Size([1, 1, 8])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


# ---------------------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------------------
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``, as
    ``torch.nn.functional.interpolate``.  Modes: ``nearest``, ``nearest-exact``, ``linear`` (3-D), ``bilinear``
    and ``bicubic`` (4-D, also ``antialias=True``), ``trilinear`` (5-D) with ``align_corners``, and ``area``
    (adaptive average pooling).
    Each output reads only its neighbours (a gather and a weighted sum per dim, PyTorch's formulas and order of
    sums), so an inf or NaN stays local as in PyTorch.

    >>> interpolate(ember.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
    ember.Size([1, 3, 8, 8])
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(x).__name__}")
    if x.ndim == 4:
        return _channels_last_like(x, lambda t: _interpolate(t, size, scale_factor, mode, align_corners,
                                                             recompute_scale_factor, antialias),
                                   grad=mode == "area")
    return _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    nd = x.ndim - 2
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported ({', '.join(_MODES)})")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    if nd not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if antialias and not (mode in ("bilinear", "bicubic") and nd == 2):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    spatial = tuple(x.shape[2:])
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)) and len(size) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(spatial)} and output size of {list(size)}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                             f"...,oK) format.")
        sizes = _tuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                                 f"{list(scale_factor)}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 f"format and scale_factor in (s1, s2, ...,sK) format.")
            sf = tuple(float(f) for f in scale_factor)
        else:
            sf = (float(scale_factor),) * nd
        sizes = tuple(int(math.floor(float(s) * f)) for s, f in zip(spatial, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        want = _MODE_DIMS[mode] + 2
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {want}D input")
    if min(sizes) < (0 if mode == "area" else 1) or min(spatial) <= 0:
        raise RuntimeError(f"interpolate: input {tuple(x.shape)} and output {tuple(sizes)} sizes should be "
                           f"greater than 0")
    if mode == "area":
        if nd < 3:
            return _adaptive_avg(x, sizes, nd, "interpolate")
        return _resample(x, [(2 + d, *_area_taps(i, o, x.dtype)) for d, (i, o) in enumerate(zip(spatial, sizes))])
    if mode not in ("nearest", "nearest-exact") and x.dtype.kind != "f":
        raise RuntimeError(f"interpolate: mode {mode!r} is not implemented for {x.dtype} input (floating point "
                           f"expected)")
    per = []
    for d, (i, o, sc) in enumerate(zip(spatial, sizes, scales)):
        if antialias:
            # PyTorch's separable anti-aliased kernel resamples only the dims whose size changes
            if i != o:
                per.append((2 + d, *_taps_aa(i, o, mode, align_corners, sc, x.dtype)))
            continue
        taps = _taps(i, o, mode, align_corners, sc, x.dtype)
        if mode == "nearest" and i == o:
            # PyTorch 2.13 (CPU) copies a dim whose size is unchanged in nearest's backward, and in its forward
            # for 4-D inputs only (3-D and 5-D forwards use the scale formula)
            copy = [(np.arange(o), None, None)]
            per.append((2 + d, copy if nd == 2 else taps, None, copy))
        elif mode == "bicubic" and spatial == sizes:
            # bicubic's backward copies when no size changes (its forward still applies the scale formula)
            per.append((2 + d, taps, None, [(np.arange(o), None, None)]))
        else:
            per.append((2 + d, taps, None))
    return _resample(x, per)


# ---------------------------------------------------------------------------------------------------------
# pixel shuffle
# ---------------------------------------------------------------------------------------------------------
def _fresh(out, t):
    """``out``, or a copy of it where it is still a view of ``t`` (size-1 dims or r == 1 make the permute a
    no-op): PyTorch's pixel_shuffle always returns a new tensor."""
    return out.clone() if np.may_share_memory(out._data, t._data) else out


def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C*r^2, H, W) into (*, C, H*r, W*r) (``torch.nn.functional.pixel_shuffle``).

    >>> pixel_shuffle(ember.randn(1, 8, 3, 3), 2).shape
    ember.Size([1, 2, 6, 6])
    """
    r = int(upscale_factor)
    x = input
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if r < 1 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(lead)

    def run(t):
        y = t.reshape(*lead, c // (r * r), r, r, h, w)
        y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
        return _fresh(y.reshape(*lead, c // (r * r), h * r, w * r).contiguous(), t)
    # a new tensor, contiguous or (for a channels_last input) channels_last, as PyTorch's
    return _channels_last_like(x, run, grad=False) if x.ndim == 4 else run(x)


def pixel_unshuffle(input, downscale_factor):
    """Rearrange (*, C, H*r, W*r) into (*, C*r^2, H, W), the inverse of :func:`pixel_shuffle`
    (``torch.nn.functional.pixel_unshuffle``).

    >>> pixel_unshuffle(ember.randn(1, 2, 6, 6), 2).shape
    ember.Size([1, 8, 3, 3])
    """
    r = int(downscale_factor)
    x = input
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    *lead, c, h, w = x.shape
    if r < 1 or h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} and input.size(-1)={w} are not divisible by {r}")
    k = len(lead)

    def run(t):
        y = t.reshape(*lead, c, h // r, r, w // r, r)
        y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
        return _fresh(y.reshape(*lead, c * r * r, h // r, w // r).contiguous(), t)
    return _channels_last_like(x, run, grad=False) if x.ndim == 4 else run(x)
