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

On a CUDA device the buffers come from the input's array module; the small index and weight tables (window
bounds, resampling taps, divisors) are computed on the host and moved to the data's device where they meet it.
"""
from __future__ import annotations

import math

from ..autograd.function import Function, once_differentiable
from ..autograd._torch_names import named as _named
from ..backend import xp as np
from ..backend.device import array_module as _xp, like as _like
from ..tensor import Tensor
from . import _ckernels as _ck, _parallel as _par
from .conv import _tuple, _channels_last_like
from ._resample import _adaptive_bounds, _area_taps, _resample, interpolate  # noqa: F401

# elements per thread below which one thread does a max pooling (measured, 2 threads, 2x2 fwd+bwd: the split
# takes 0.94x the time at 32x16x16x16, 0.78x at 32x32x16x16, 0.62x at 64x64x24x24)
MIN_SPLIT = 1 << 17

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "interpolate",
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


_ARGS: dict = {}     # _pool_args' checked results by (shape, dtype, arguments): the same every step of a model


def _plain(v) -> bool:
    t = type(v)
    return t is int or v is None or (t is tuple and all(type(a) is int for a in v))


def _pool_args(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op, max_pool=True):
    """Checked (kernel, stride, padding, dilation), each a tuple of ``nd`` (2 for 1-D pooling) ints.  The checks
    depend only on the input's shape and dtype and on the arguments, so their result is cached under those."""
    key = None
    d = getattr(x, "_data", None)
    if (type(d) is np.ndarray and _plain(kernel_size) and _plain(stride) and _plain(padding) and _plain(dilation)
            and type(ceil_mode) is bool):
        key = (d.shape, d.dtype, kernel_size, stride, padding, dilation, ceil_mode, nd, op, max_pool)
        hit = _ARGS.get(key)
        if hit is not None:
            return hit
    r = _pool_args_checked(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op, max_pool)
    if key is not None:
        if len(_ARGS) >= 512:
            _ARGS.clear()
        _ARGS[key] = r
    return r


def _pool_args_checked(x, kernel_size, stride, padding, dilation, ceil_mode, nd, op, max_pool=True):
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
    out = _xp(x).full((n, c, h + pad[0] + ext[0], w + pad[1] + ext[1]), fill, dtype=x.dtype)
    out[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    return out


def _unpad(gx, pad, h, w):
    """The gradient of the unpadded input out of the padded-frame gradient ``gx``: contiguous, as PyTorch's
    (a copy only when there was padding or a ceil_mode extension)."""
    if gx.shape[2:] == (h, w):
        return gx
    return _xp(gx).ascontiguousarray(gx[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w])


def _scatter_planes(g, idx, shape, unique):
    """Gradient of a per-plane gather: add ``g`` (N, C, ...) into zeros of ``shape`` (N, C, H, W) at the flat
    per-plane indices ``idx``."""
    n, c, h, w = shape
    xp = _xp(idx)
    plane = (xp.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, *([1] * (idx.ndim - 2)))
    flat = (idx + plane).ravel()
    if unique:
        out = xp.zeros(n * c * h * w, dtype=g.dtype)
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
    position (strict ``>``), as the loop does, and its value: ``np.maximum`` returns its second operand on a tie,
    so the earlier value goes second (a window of 0.0 and -0.0 gives the first's sign, as PyTorch's).  The
    position is picked by uint8 arithmetic, not ``np.where`` (a data-dependent branch per element: 64x32x28x28
    after a ReLU, 3.2 -> 1.8 ms)."""
    hi01 = (v[1] > v[0]).view(np.uint8)
    m01 = np.maximum(v[1], v[0])
    hi23 = (v[3] > v[2]).view(np.uint8)
    m23 = np.maximum(v[3], v[2])
    hi = (m23 > m01).view(np.uint8)
    out = np.maximum(m23, m01, out=m01)
    hi23 += np.uint8(2)                     # 2 or 3 where the second pair wins ...
    hi23 -= hi01
    hi23 *= hi
    hi01 += hi23                            # ... else 0 or 1
    return out, hi01


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
    np.putmask(k, lowm & _like(valid, k), _like(j0.astype(k.dtype), k))     # (host-made tables on k's device)
    if valid.all():
        return None
    empty = ~valid
    flat = (first[0][1][:, None] * size[1] + first[1][1][None, :])[empty]
    return _like(empty, k), _like(flat, k)


def _max_windows(x, ks, st, pad, dil, ext, low, oh, ow):
    """The max pooling of the (N, C, H, W) array ``x``: (the maxima, the winning kernel offset per output in
    window order), both contiguous, before ``_lowest_windows``."""
    xp_ = _padded(x, pad, ext, low)
    if ks[0] * ks[1] == 4:
        out, k = _max_of_four([xp_[sl] for sl in _offset_slices(ks, st, dil, oh, ow)])
    else:
        out = k = tmp = None
        for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
            v = xp_[sl]
            if out is None:
                out = v.copy()
                k = _xp(out).zeros(out.shape, dtype=np.uint8 if ks[0] * ks[1] < 256 else np.int32)
                tmp = _xp(out).empty(out.shape, dtype=k.dtype)
                continue
            better = v > out
            np.maximum(v, out, out=out)          # propagates NaN like PyTorch; a tie keeps out (second operand)
            # k = j where better: k < j so far, so max(k, better * j); no per-element branch (np.putmask's:
            # ResNet-18's 3x3 stride-2 stem pool forward 7.8 -> 4.0 ms)
            np.multiply(better, k.dtype.type(j), out=tmp)
            np.maximum(k, tmp, out=k)
    xp = _xp(out)
    out, k = xp.ascontiguousarray(out), xp.ascontiguousarray(k)      # PyTorch's layout for any input
    if x.dtype.kind == "f":
        nan_out = np.isnan(out)              # one pass over the output; NaN windows are rare
        if nan_out.any():
            # PyTorch's rule in a window holding NaN: the LAST NaN (in window order) is the arg-max
            for j, sl in enumerate(_offset_slices(ks, st, dil, oh, ow)):
                np.putmask(k, nan_out & np.isnan(xp_[sl]), j)
    return out, k


def _max_values(x, ks, st, pad, dil, ext, low, oh, ow):
    """The maxima alone (C-contiguous), when no gradient and no indices are wanted: ``np.maximum`` over the
    shifted slices (NaN propagates, as in PyTorch), without the arg-max passes."""
    xp_ = _padded(x, pad, ext, low)
    v = [xp_[sl] for sl in _offset_slices(ks, st, dil, oh, ow)]
    if len(v) == 1:
        return v[0].copy()
    out = np.maximum(v[1], v[0])            # (a tie returns the second operand: the window's first value)
    if len(v) == 4:
        np.maximum(np.maximum(v[3], v[2]), out, out=out)
    else:
        for a in v[2:]:
            np.maximum(a, out, out=out)
    return _xp(out).ascontiguousarray(out)


def _split_planes(a, work):
    """(threads, axis) for splitting max pooling's planes of the (N, C, ...) array ``a`` (``work`` elements of
    input or its gradient) among threads: over the images, or over the channels of a batch smaller than the
    thread count; (1, 0) when it does not pay."""
    if not _par.is_host(a):
        return 1, 0
    n, c = a.shape[:2]
    t = _par.threads_for(n * c, work, MIN_SPLIT)
    if t > 1 and n < t:
        return min(t, c), 1
    return min(t, n), 0


def _planes(axis, s):
    return (s,) if axis == 0 else (slice(None), s)


class _MaxPool2d(Function):
    """Running max over the KH*KW shifted strided slices of the -inf padded input (a loop over kernel offsets,
    never over pixels); the winning offset is kept as a small int array.  A strict ``>`` keeps the first
    maximum in window order, PyTorch's tie rule (ReLU outputs have many ties).  Large inputs are split over
    their images (or channels) among threads (``_parallel``): every plane's numbers are its own."""

    @staticmethod
    def forward(ctx, x, ks, st, pad, dil, ceil, with_indices):
        n, c, h, w = x.shape
        oh = _pool_out(h, ks[0], st[0], pad[0], dil[0], ceil)
        ow = _pool_out(w, ks[1], st[1], pad[1], dil[1], ceil)
        need_h = (oh - 1) * st[0] + dil[0] * (ks[0] - 1) + 1
        need_w = (ow - 1) * st[1] + dil[1] * (ks[1] - 1) + 1
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        ext = (max(0, need_h - h - pad[0]), max(0, need_w - w - pad[1]))
        pshape = (n, c, h + pad[0] + ext[0], w + pad[1] + ext[1])
        threads, axis = _split_planes(x, x.size)
        if not with_indices and not ctx.needs_input_grad[0]:
            # no_grad / inference: no arg-max, split or not (the split used to make the arg-max too: 32x32x24x24
            # float32 at 2 threads 656-804 -> 413-673 us)
            if threads <= 1:
                return _max_values(x, ks, st, pad, dil, ext, low, oh, ow)
            out = np.empty((n, c, oh, ow), x.dtype)

            def values(s):
                i = _planes(axis, s)
                out[i] = _max_values(x[i], ks, st, pad, dil, ext, low, oh, ow)
            _par.run_split(values, x.shape[axis], threads)
            return out
        if threads <= 1:
            out, k = _max_windows(x, ks, st, pad, dil, ext, low, oh, ow)
        else:
            out = np.empty((n, c, oh, ow), x.dtype)
            k = np.empty((n, c, oh, ow), np.uint8 if ks[0] * ks[1] < 256 else np.int32)

            def part(s):
                i = _planes(axis, s)
                out[i], k[i] = _max_windows(x[i], ks, st, pad, dil, ext, low, oh, ow)
            _par.run_split(part, x.shape[axis], threads)
        xp = _xp(out)
        empty = _lowest_windows(out, k, low, (h, w), ks, st, pad, dil, (oh, ow))
        ctx.cfg = (pshape, (h, w), ks, st, pad, dil, (oh, ow), empty)
        ctx.save_for_backward(k)
        if not with_indices:
            return out
        # flat per-plane index of the winner in the unpadded input (PyTorch's return_indices convention)
        kk = k.astype(np.int64)
        idx = ((xp.arange(oh) * st[0] - pad[0])[:, None] + (kk // ks[1]) * dil[0]) * w \
            + (xp.arange(ow) * st[1] - pad[1]) + (kk % ks[1]) * dil[1]
        if empty is not None:
            idx[:, :, empty[0]] = empty[1]
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    @once_differentiable
    def backward(ctx, g, _gidx=None):
        (k,) = ctx.saved_tensors
        pshape, (h, w), ks, st, pad, dil, (oh, ow), empty = ctx.cfg
        k, ga = k._data, g._data
        threads, axis = _split_planes(k, math.prod(pshape))
        if threads <= 1:
            # ember's compiled kernel when built: the same sums in one pass over the outputs, written into the
            # unpadded gradient (1 thread, float32, 2x2 on 32x32x24x24: fwd+bwd 1.27 -> 1.03 ms; 3x3 stride 2
            # on 64x64x16x16 5.4 -> 4.4); a 2x2 forward kernel was measured no faster than _max_of_four's passes
            gx = _xp(ga).empty(pshape[:2] + (h, w), dtype=ga.dtype)
            if not _ck.maxpool_backward(ga, k, gx, ks, st, pad, dil):
                gx = _unpad(_MaxPool2d._grad(k, ga, pshape, ks, st, dil, oh, ow), pad, h, w)
        else:
            gx = np.empty(pshape[:2] + (h, w), ga.dtype)
            direct = axis == 0 and pshape[2:] == (h, w)      # each part's padded frame is its slice of gx

            def part(s):
                i = _planes(axis, s)
                ki = k[i]
                shape = ki.shape[:2] + pshape[2:]
                if axis == 0 and _ck.maxpool_backward(ga[i], ki, gx[i], ks, st, pad, dil):
                    return
                if direct:
                    _MaxPool2d._grad(ki, ga[i], shape, ks, st, dil, oh, ow, out=gx[i])
                else:
                    gx[i] = _unpad(_MaxPool2d._grad(ki, ga[i], shape, ks, st, dil, oh, ow), pad, h, w)
            _par.run_split(part, k.shape[axis], threads)
        if empty is not None:       # windows all in the padding: PyTorch's index (kept inside the plane)
            gx = _xp(gx).array(gx)
            inside = (empty[1] >= 0) & (empty[1] < h * w)
            np.add.at(gx.reshape(gx.shape[0], gx.shape[1], h * w), (slice(None), slice(None), empty[1][inside]),
                      ga[:, :, empty[0]][..., inside])
        return Tensor._make(gx), None, None, None, None, None, None

    @staticmethod
    def _grad(k, ga, pshape, ks, st, dil, oh, ow, out=None):
        """The gradient in the padded frame (written into ``out``, a contiguous array of ``pshape``, if
        given)."""
        overlap = st[0] < dil[0] * (ks[0] - 1) + 1 or st[1] < dil[1] * (ks[1] - 1) + 1
        # windows that tile the padded input exactly (2x2 stride 2 on even sizes): every element is written
        # below, so no zero fill
        tiled = ks == st and dil == (1, 1) and pshape[2:] == (oh * st[0], ow * st[1])
        xp = _xp(ga)
        if out is None:
            gx = (xp.empty if tiled else xp.zeros)(pshape, dtype=ga.dtype)
        else:
            gx = out
            if not tiled:
                gx.fill(0)
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
            kk = xp.arange(ks[0] * ks[1])
            off = ((kk // ks[1]) * dil[0] * wp + (kk % ks[1]) * dil[1]).astype(np.intp)
            pos = ((xp.arange(oh) * st[0] * wp)[:, None] + xp.arange(ow) * st[1]).ravel()
            flat = off[k.reshape(n * c, oh * ow)]
            flat += (xp.arange(n * c, dtype=np.intp) * (hp * wp))[:, None]
            flat += pos
            np.add.at(gx.reshape(-1), flat.reshape(-1), xp.ascontiguousarray(ga).reshape(-1))
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


@_named("SqueezeBackward1")
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
            div = _like(np.asarray(float(divisor_override)), x)
        else:
            div = _like((_divisor(h, ks[0], st[0], pad[0], oh, include_pad)[:, None]
                         * _divisor(w, ks[1], st[1], pad[1], ow, include_pad)[None, :]).astype(x.dtype), x)
        # one strided view of the input per kernel offset, added in PyTorch's order (row by row), so each window
        # sums as PyTorch's loop does, bit for bit (a reshape to (..., oh, kh, ow, kw) summed over the kernel
        # axes took 17x as long for 2x2 windows, and in another order); its sums start at +0.0: a window of
        # -0.0 averages to +0.0 (the + 0.0 at the end changes only that case)
        taps = [xp_[:, :, i:i + st[0] * (oh - 1) + 1:st[0], j:j + st[1] * (ow - 1) + 1:st[1]]
                for i in range(ks[0]) for j in range(ks[1])]
        out = taps[0] + taps[1] if len(taps) > 1 else taps[0].copy()
        for sl in taps[2:]:
            out += sl
        if out.dtype.kind == "f":
            out += 0.0
        ctx.cfg = (x.shape, xp_.shape, ks, st, pad, (oh, ow))
        ctx.div = div
        return _xp(out).ascontiguousarray((out / div).astype(x.dtype, copy=False))

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        shape, pshape, ks, st, pad, (oh, ow) = ctx.cfg
        gd = (g._data / ctx.div).astype(g._data.dtype, copy=False)
        gx = _xp(gd).zeros(pshape, dtype=gd.dtype)
        # kernel offsets last to first: each input then gets its windows' shares in the order of the windows
        # (row-major), as PyTorch's loop over the outputs adds them (the same bits where windows overlap)
        for i in reversed(range(ks[0])):
            for j in reversed(range(ks[1])):
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


@_named("SqueezeBackward1")
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L), as ``torch.nn.functional.avg_pool1d``.

    >>> avg_pool1d(ember.randn(2, 3, 10), 2).shape
    ember.Size([2, 3, 5])
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


# ---------------------------------------------------------------------------------------------------------
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
        if nd == 3:
            from ._pool3d import avg_pool3d
            return avg_pool3d(x, ks)
        return (avg_pool2d if nd == 2 else avg_pool1d)(x, ks)
    return _resample(x, [(x.ndim - nd + d, *_area_taps(s, o, x.dtype)) for d, (s, o) in enumerate(zip(spatial, sizes))])


@_named("AdaptiveAvgPool2DBackward0", only="_AvgPool2d")
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
        ih, iw = _like(_gather_idx(h, oh), x), _like(_gather_idx(w, ow), x)    # (host-made tables)
        xp = _xp(x)
        blocks = x[:, :, ih[:, None, :, None], iw[None, :, None, :]]        # (N, C, OH, OW, kh, kw)
        kw_ = iw.shape[1]
        if not blocks.size:
            idx = xp.zeros((n, c, oh, ow), dtype=np.int64)
            ctx.cfg = (x.shape,)
            ctx.save_for_backward(idx)
            ctx.mark_non_differentiable(idx)
            return xp.zeros((n, c, oh, ow), dtype=x.dtype), idx
        k, out = _first_max(blocks.reshape(n, c, oh, ow, ih.shape[1] * kw_))
        rows = ih[xp.arange(oh)[:, None], k // kw_]
        cols = iw[xp.arange(ow), k % kw_]
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
    hw = ((1,) + size) if nd == 1 else size if nd == 2 else (size[0] * size[1], size[2])
    plane = hw[0] * hw[1]           # (3-D: the flat (D, H, W) index is the flat index of a (D*H, W) plane)
    if indices.numel() and (int(indices._data.min()) < 0 or int(indices._data.max()) >= plane):
        raise RuntimeError(f"{op}: found an invalid max index {int(indices._data.max())} (output plane of size "
                           f"{size} has {plane} elements)")
    if nd == 3:
        lead = x.ndim == 4
        x5, i5 = (x.unsqueeze(0), indices.unsqueeze(0)) if lead else (x, indices)
        n, c = x5.shape[:2]
        out = _MaxUnpool.apply(x5.reshape(n, c, -1, x5.shape[-1]), i5._data.reshape(n, c, -1, x5.shape[-1]), hw)
        out = out.reshape((n, c) + size)
        return out.squeeze(0) if lead else out
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


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d`` (indices flat per (D, H, W) volume), as
    ``torch.nn.functional.max_unpool3d``.

    >>> y, i = ember.nn.functional.max_pool3d(ember.randn(1, 1, 4, 4, 4), 2, return_indices=True)
    >>> max_unpool3d(y, i, 2).shape
    ember.Size([1, 1, 4, 4, 4])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool1d` (``torch.nn.functional.max_unpool1d``).

    >>> y, i = max_pool1d(ember.randn(1, 1, 8), 2, return_indices=True)
    >>> max_unpool1d(y, i, 2).shape
    ember.Size([1, 1, 8])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


# ---------------------------------------------------------------------------------------------------------
# pixel shuffle
# ---------------------------------------------------------------------------------------------------------
def _fresh(out, t):
    """``out``, or a copy of it where it is still a view of ``t`` (size-1 dims or r == 1 make the permute a
    no-op): PyTorch's pixel_shuffle always returns a new tensor."""
    return out.clone() if np.may_share_memory(out._data, t._data) else out


@_named("PixelShuffleBackward0")
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


@_named("PixelUnshuffleBackward0")
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
