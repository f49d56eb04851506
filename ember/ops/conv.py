"""Convolutions as fused kernels: conv1d/conv2d, conv_transpose1d/2d, unfold/fold.

Every kernel works in 2-D (1-D inputs get a height of 1).  The forward is im2col through a strided view of
the padded input, copied once into a ``(C*KH*KW, N*OH*OW)`` column matrix, then ONE (grouped) GEMM against the
weight.  The columns are laid out channel-major, batch second (``(C, KH, KW, N, OH, OW)``) because that copy has
long contiguous inner runs (along OW) and because the GEMM then covers the whole batch at once (measured faster
than a GEMM per image).  The GEMM's ``(O, N*OH*OW)`` result is transposed into a contiguous ``(N, O, OH, OW)``
array in the same pass that adds the bias: every result (and input gradient) has PyTorch's layout, contiguous
NCHW, or channels_last for a channels_last input (``_channels_last_like``), so ``y.view(y.size(0), -1)`` works.

Backward: ``grad_weight`` is one GEMM of the (O-major copy of the) output gradient with the saved columns;
``grad_input`` is one GEMM followed by col2im, which adds each kernel offset's slab straight into the unpadded
(N, C, H, W) gradient with a strided slice (a loop over KH*KW, never over pixels or the batch).  A transposed
convolution is the adjoint: its forward is conv's grad_input path and its backward uses conv's forward.  The
fused backwards work on raw arrays; under ``create_graph=True`` the same math is routed through the conv
Functions themselves (plus a weight-gradient Function), so second derivatives work.

Stride-1 convolutions (groups 1, float, images of 128+ output pixels) with single-threaded BLAS take the
blocked kernels of ``_conv_blocked`` instead (a few images at a time, in cache; no column matrix kept), and
kernel rows/columns that only ever read padding are left out first (``_live_taps``).  The other convolutions
with 16+ input channels (small images, strides, several BLAS threads; groups 1, float) take ``_conv_nhwc``'s
pixel-major columns (im2col and col2im copy runs of C elements instead of OW), the general path below the rest.

The column matrix of a (general-path) training step (megabytes: 50 MB for 64x32x26x26 3x3) comes from
``_COLS``, a small caching allocator: a freshly allocated buffer of that size costs page faults on first touch
(measured: im2col 2-3x slower in a training step than on a reused buffer), so buffers whose columns are dead
(after backward, or at once under ``no_grad``) are kept for the next step, up to 256 MiB idle; smaller
ones (below glibc's raised mmap threshold, 32 MiB) come from malloc's heap, which reuses them itself.

On a CUDA device (CuPy arrays) the same code runs through NumPy's array protocols; the arrays an op makes come
from the input's array module, the columns from CuPy's own memory pool (no ``_COLS``), and the cache-blocked
kernels (a CPU cache optimisation) are never taken: a device always runs the whole-batch GEMMs.
"""
from __future__ import annotations

import math
import sys as _sys

from ..autograd.function import Function
from ..autograd._torch_names import tag as _tname
from ..autograd.grad_mode import state as _grad
from ..backend import xp as np
from ..backend.device import array_module as _xp, as_strided as _as_strided
from ..backend.layout import c_copy
from ..tensor import Tensor
from . import _ckernels as _ck, _conv_blocked as _blocked, _conv_nhwc as _nhwc, _conv_parallel as _par
from . import _conv_winograd as _wino
from . import _parallel
from ._conv_pool import _BufferPool
from ._conv_taps import _live_geometry, _live_taps, _span  # noqa: F401 (re-exported)
from ._layout import _channels_last_like, _is_channels_last, _Relayout, _to_layout  # noqa: F401 (re-exported)

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]


# ---------------------------------------------------------------------------------------------------------
# raw-array helpers (all 2-D: x (N, C, H, W), w (O, C/groups, KH, KW))
# ---------------------------------------------------------------------------------------------------------
def _pad2d(x, pads):
    """Zero-pad the last two dims of ``x`` by ``((top, bottom), (left, right))``."""
    (p0, p1), (q0, q1) = pads
    if not (p0 or p1 or q0 or q1):
        return x
    n, c, h, w = x.shape
    out = _xp(x).zeros((n, c, h + p0 + p1, w + q0 + q1), dtype=x.dtype)
    out[:, :, p0:p0 + h, q0:q0 + w] = x
    return out


_COLS = _BufferPool(256 << 20)
_SCRATCH = _BufferPool(64 << 20)     # O-major copies of output gradients (backward temporaries)


def _im2col(xp_, kh, kw, stride, dil, oh, ow, pool: bool = False, batch_first: bool = False):
    """Columns of the padded input ``xp_`` (N, C, Hp, Wp): ``(C, KH, KW, N, OH, OW)`` (contiguous); with
    ``pool=True``, as a ``(C*KH*KW, N*OH*OW)`` matrix from ``_COLS`` (keep that object, not views of it); with
    ``batch_first=True`` as ``(N, C, KH, KW, OH, OW)`` (unfold's layout)."""
    n, c = xp_.shape[:2]
    sn, sc, sh, sw = xp_.strides
    if batch_first:
        view = _as_strided(xp_, (n, c, kh, kw, oh, ow),
                           (sn, sc, sh * dil[0], sw * dil[1], sh * stride[0], sw * stride[1]), writeable=False)
        return _xp(view).ascontiguousarray(view)
    # (ember's compiled im2col where it applies: NumPy copies the view one output row of OW elements at a time,
    # ~0.7-0.9 ns an element for small images)
    if not pool:
        if (cols := _ck.im2col(xp_, kh, kw, stride, dil, oh, ow)) is not None:
            return cols
    else:
        cols = _COLS.empty((c * kh * kw, n * oh * ow), xp_.dtype, xp_)      # 2-D: callers keep this very object
        if _ck.im2col(xp_, kh, kw, stride, dil, oh, ow, out=cols) is not None:
            return cols
    view = _as_strided(xp_, (c, kh, kw, n, oh, ow),
                       (sc, sh * dil[0], sw * dil[1], sn, sh * stride[0], sw * stride[1]), writeable=False)
    if not pool:
        return _xp(view).ascontiguousarray(view)
    np.copyto(cols.reshape(view.shape), view)
    return cols


def _col2im(dcols, out, pads, stride, dil):
    """Adjoint of ``_im2col``: add the columns ``dcols`` (C, KH, KW, N, OH, OW) (any strides) into ``out``
    (N, C, H, W), the UNPADDED input (``pads``' leading pads are the offset of out's origin in the padded frame;
    column entries that fall into the padding are dropped).  Loops over kernel offsets only; returns ``out``."""
    _, kh, kw, _, oh, ow = dcols.shape
    h, w = out.shape[2:]
    (p0, _), (q0, _) = pads
    sh, sw = stride
    ov = out.transpose(1, 0, 2, 3)                     # (C, N, H, W) view: the slabs' order
    for i in range(kh):
        r = i * dil[0] - p0
        t0, t1 = _span(r, sh, oh, h)
        if t1 <= t0:
            continue
        rows = slice(r + t0 * sh, r + (t1 - 1) * sh + 1, sh)
        for j in range(kw):
            q = j * dil[1] - q0
            u0, u1 = _span(q, sw, ow, w)
            if u1 <= u0:
                continue
            ov[:, :, rows, q + u0 * sw:q + (u1 - 1) * sw + 1:sw] += dcols[:, i, j, :, t0:t1, u0:u1]
    return out


def _gemm_nchw(w, cols, groups, n, out_shape, b=None, out=None):
    """``out (N, O, OH, OW)`` (contiguous) = ``w (O, Cg, KH, KW)`` times ``cols (C*KH*KW, N*OH*OW)`` (+ bias):
    ONE (batched-over-groups) GEMM over the whole batch, then one pass that transposes its O-major result into
    ``out`` and adds the bias (the pass an in-place bias add would make anyway).  Measured (1 thread, 64x288
    times 288x36864): a GEMM per image or per block of images is slower, and so is ``matmul(..., out=)``."""
    o = w.shape[0]
    m = cols.shape[1]
    if not math.prod(out_shape):
        return _xp(cols).zeros(out_shape, dtype=cols.dtype)
    if groups == 1:
        y = w.reshape(o, -1) @ cols
    else:
        y = (w.reshape(groups, o // groups, -1) @ cols.reshape(groups, -1, m)).reshape(o, m)
    if n == 1 and out is None:  # one image: the GEMM's result is already (1, O, OH, OW)
        if b is not None:
            y += b[:, None]
        return y.reshape(out_shape)
    if out is None:
        out = _xp(y).empty(out_shape, dtype=y.dtype)
    src = y.reshape(o, n, m // n).transpose(1, 0, 2)
    dst = out.reshape(n, o, m // n)
    if b is None:
        np.copyto(dst, src)
    else:
        np.add(src, b[:, None], out=dst)
    return out


def _conv_forward(x, w, b, stride, pads, dil, groups, max_out=None, out=None):
    """Returns (out (N, O, OH, OW) contiguous, cols (C*KH*KW, N*OH*OW), padded input shape); ``max_out``
    caps the output size (a transposed conv's backward with output_padding >= stride); ``out``: where to write
    the result (contiguous, of the result's shape)."""
    n = x.shape[0]
    o, _, kh, kw = w.shape
    xp_ = _pad2d(x, pads)
    hp, wp = xp_.shape[2:]
    oh = (hp - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wp - dil[1] * (kw - 1) - 1) // stride[1] + 1
    if max_out is not None:
        oh, ow = min(oh, max_out[0]), min(ow, max_out[1])
    cols = _im2col(xp_, kh, kw, stride, dil, oh, ow, pool=True)
    out = _gemm_nchw(w, cols, groups, n, (n, o, oh, ow), b, out)
    return out, cols, (hp, wp)


def _grad_cols(g2, w, groups):
    """``w^T g``: output-gradient ``g2 (O, N*L)`` -> column gradient ``(C*KH*KW, N*L)``."""
    o = w.shape[0]
    if groups == 1:
        return w.reshape(o, -1).T @ g2
    wg = w.reshape(groups, o // groups, -1)
    return (wg.transpose(0, 2, 1) @ g2.reshape(groups, o // groups, -1)).reshape(-1, g2.shape[-1])


def _grad_weight(g2, cols, w_shape, groups):
    """``g cols^T``: ``g2 (O, N*L)``, ``cols (C*KH*KW, N*L)`` -> weight gradient of shape ``w_shape``.
    Computed as ``(cols g^T)^T``: OpenBLAS is several times slower on the long-K product the other way round."""
    o = w_shape[0]
    if groups == 1:
        k, m = cols.shape
        # few input channels (K = C*KH*KW small, e.g. a first layer): the product is a long, skinny GEMM that
        # OpenBLAS runs from memory; summing it over panels of the N*L axis that stay in L2 is 2-3x faster
        # (K 25, 9: 0.73 -> 0.24 ms, 1.39 -> 0.45 ms); for larger K the single GEMM is as fast or faster
        step = max(512, (256 << 10) // ((k + o) * cols.itemsize))
        if k <= 64 and m > 2 * step and type(cols) is np.ndarray:     # (a CPU cache trick: not on a device)
            acc = cols[:, :step] @ g2[:, :step].T
            for i in range(step, m, step):
                acc += cols[:, i:i + step] @ g2[:, i:i + step].T
            return c_copy(acc.T).reshape(w_shape)
        return c_copy((cols @ g2.T).T).reshape(w_shape)
    gg = g2.reshape(groups, o // groups, -1)
    cg = cols.reshape(groups, -1, cols.shape[-1])
    return _xp(cg).ascontiguousarray((cg @ gg.transpose(0, 2, 1)).transpose(0, 2, 1)).reshape(w_shape)


_CHUNK_BYTES = 1536 * 1024     # a column-gradient block that stays in a core's L2 (1 MiB or more on x86)


def _blas_single_threaded():
    """True when BLAS runs on one thread (False when unknown).  Many small GEMMs are only a win single-threaded:
    with 2+ threads each call pays a thread hand-off (measured 3x slower on a busy 2-core machine)."""
    return _par.blas_threads() == 1


def _blocked_threads(x, w, stride, pads, dil, groups):
    """How many threads run the blocked stride-1 kernels on this convolution: 0 when they do not apply (BLAS
    thread count unknown, or the general whole-batch GEMM path is better), 1 with single-threaded BLAS, else
    BLAS's thread count when the batch gives each thread a few images (measured, 2 threads, 64x32x26x26 3x3:
    19.5 ms forward + backward against 30 ms for the whole-batch GEMMs on 2 BLAS threads)."""
    if not _blocked.applies(x, w, stride, pads, dil, groups):
        return 0
    if _blas_single_threaded():
        return 1
    t = _par.blas_threads()
    if t > 1 and x.shape[0] >= 2 * _par.MIN_IMAGES:
        return min(t, x.shape[0] // _par.MIN_IMAGES)
    return 0


_SPLIT_MACS = 1 << 21          # multiply-adds per thread below which a convolution is not split among threads
_SPLIT_PIXELS = 128            # output pixels per thread below which it is not split either (see below)


def _split_threads(x, w, stride, pads, dil, groups):
    """How many threads run a convolution that the blocked kernels do not take as parts of its batch (each
    part the one-thread algorithm with BLAS at one thread: its own columns, GEMMs, col2im or grid input
    gradient), or 1.  Split when BLAS has several threads and each thread gets ``MIN_IMAGES`` images and
    ``_SPLIT_MACS`` multiply-adds: the columns' copies and col2im (single-threaded NumPy) then run on every
    core, not only the GEMMs.  Measured (2 threads, forward + backward, batch 64, unsplit -> split): LeNet-5's
    6x14x14 5x5 conv 2.9 -> 1.4 ms; ResNet-18's 7x7 stem 5.0 -> 3.3, 64x8x8 3x3 6.1 -> 4.6, 128x4x4 4.7 -> 3.7,
    256x2x2 4.7 -> 4.6; but with fewer than ``_SPLIT_PIXELS`` output pixels per part the parts' GEMMs each
    read the whole weight for a few rows (256->512 2x2 stride 2: 5.2 -> 5.7 ms), so those stay whole."""
    if type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or x.dtype != w.dtype:
        return 1
    n = x.shape[0]
    if n < 2 * _par.MIN_IMAGES:
        return 1
    t = _par.blas_threads()
    if t <= 1:
        return 1
    oh, ow = _out_hw(x.shape, w.shape, stride, pads, dil)
    pixels = n * max(oh, 0) * max(ow, 0)
    t = min(t, n // _par.MIN_IMAGES, pixels * w.size // _SPLIT_MACS, pixels // _SPLIT_PIXELS)
    return max(1, t)


def _out_hw(x_shape, w_shape, stride, pads, dil):
    return _nhwc._geometry(x_shape, w_shape, stride, pads, dil)[-2:]


def _split_forward(x, w, b, stride, pads, dil, groups, threads):
    """The forward over ``threads`` parts of the batch at once, each writing its images of the result:
    ``(out, path, columns of each part)``: path "nhwc" (pixel-major; no columns kept, the backward makes them
    again) or None (the general channel-major columns)."""
    n = x.shape[0]
    out = np.empty((n, w.shape[0]) + _out_hw(x.shape, w.shape, stride, pads, dil), x.dtype)
    parts = _par.image_slices(n, threads)
    if _nhwc.applies(x, w, groups):
        w2 = _nhwc.weight_rows(w)
        _par.in_parallel([lambda s=s: _nhwc.forward(x[s], w, b, stride, pads, dil, _COLS.empty, out[s], w2)
                          for s in parts], threads)
        return out, "nhwc", [None] * len(parts)
    cols = _par.in_parallel([lambda s=s: _conv_forward(x[s], w, b, stride, pads, dil, groups, out=out[s])[1]
                             for s in parts], threads)
    return out, None, cols


def _parts_backward(x, w, ga, cols, path, need, stride, pads, dil, groups, has_b):
    """Conv's backward after a columns forward (``path`` "nhwc": pixel-major, made again here; None:
    channel-major, ``cols`` the forward's) over ``len(cols)`` parts of the batch, several at once after
    ``_split_forward``, else one: each part writes its images' input gradient and returns its weight (and
    bias) gradient; those are summed in image order (the rounding depends on the thread count, as PyTorch's
    does)."""
    parts = _par.image_slices(x.shape[0], len(cols))
    gx = _xp(ga).empty(x.shape, dtype=x.dtype) if need[0] else None
    need_b = has_b and need[2]

    # (stride 1, a small weight: the blocked kernels' grid input gradient, with BLAS on one thread (its many
    # small GEMMs), as it is in a part of a split; not after a pixel-major forward when the compiled col2im
    # is there: triplet's 32x12x12 -> 64 5x5 3.97 -> 2.47 ms, ResNet's 64x8x8 3x3 4.92 -> 3.65, 1 thread)
    grid = need[0] and _blocked.grid_input_grad_applies(x, w, stride, groups) \
        and (len(cols) > 1 or _blas_single_threaded()) and not (path == "nhwc" and _nhwc.fast_col2im()) \
        and bool(np.isfinite(w).all())
    wg = _xp(w).ascontiguousarray(w) if grid else None     # (a cropped weight is a view; <= 256 KiB here)
    w2 = _nhwc.weight_rows(w) if path == "nhwc" and need[0] and not grid else None

    def part(s, c):
        g = ga[s]
        g2 = _o_major(g)
        pw = pb = None
        if path == "nhwc":
            nb = _nhwc.block_images(x[s].shape, w.shape, stride, pads, dil, x.itemsize)
            if nb:
                _, pw = _nhwc.backward_blocks(x[s], w2, w.shape, g2, stride, pads, dil, need[0] and not grid,
                                              need[1], nb, _COLS.empty, gx[s] if need[0] else None)
            else:
                if need[1]:
                    c = _nhwc.columns(x[s], w.shape, stride, pads, dil, _COLS.empty)
                _, pw = _nhwc.backward(c, w2, x[s].shape, w.shape, g2, stride, pads, dil, need[0] and not grid,
                                       need[1], gx[s] if need[0] else None)
        else:
            if need[0] and not grid:
                gx[s] = 0
                _grad_input(g2, w, groups, gx[s], ga.shape[2:], pads, stride, dil)
            if need[1]:
                pw = _grad_weight(g2, c, w.shape, groups)
        if grid:
            _blocked.backward(x[s], wg, g, pads, dil, True, False, gx[s])
        if need_b:
            pb = g2.sum(1)
        return pw, pb

    if len(parts) == 1:
        results = [part(parts[0], cols[0])]
    else:
        results = _par.in_parallel([lambda s=s, c=c: part(s, c) for s, c in zip(parts, cols)], len(parts))
    gw = gb = None
    for pw, pb in results:
        if pw is not None:
            gw = pw if gw is None else gw.__iadd__(pw)
        if pb is not None:
            gb = pb if gb is None else gb.__iadd__(pb)
    return gx, gw, gb


def _grad_input(g2, w, groups, out, ohw, pads, stride, dil):
    """Add the input gradient from ``g2 (O, N*OH*OW)`` into ``out`` (N, C, H, W) (the unpadded input's shape,
    contiguous, as PyTorch lays it out): the column gradient ``w^T g`` then col2im.  When the column gradient
    would be large (8 MiB or more), it is made and folded a few images at a time, so each block is still in
    cache when col2im reads it back (the whole thing goes through memory twice otherwise; 64x32x26x26 3x3:
    ~25% less time), when BLAS is single-threaded.  Same sums in the same order either way."""
    o, _, kh, kw = w.shape
    n, c = out.shape[:2]
    oh, ow = ohw
    per = c * kh * kw * oh * ow * g2.itemsize          # bytes of column gradient per image
    if per * n < 8 * 2**20 or n < 2 or type(out) is not np.ndarray or not _blas_single_threaded():
        dcols = _grad_cols(g2, w, groups).reshape(c, kh, kw, n, oh, ow)
        return _col2im(dcols, out, pads, stride, dil)
    step = max(1, _CHUNK_BYTES // per)
    g3 = g2.reshape(o, n, oh * ow)
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        dcols = _grad_cols(g3[:, n0:n1].reshape(o, -1), w, groups).reshape(c, kh, kw, n1 - n0, oh, ow)
        _col2im(dcols, out[n0:n1], pads, stride, dil)
    return out


def _o_major(g):
    """``(N, O, H, W)`` -> ``(O, N*H*W)``: free for one image (or an O-major ``g``), else one transposing copy
    into a pooled buffer (callers keep the returned object for as long as they use it)."""
    n, o = g.shape[:2]
    if n == 1 or g.strides[1] > g.strides[0] and g.transpose(1, 0, 2, 3).flags.c_contiguous:
        return _xp(g).ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(o, -1)
    m = g.size // o if o else 0
    out = _SCRATCH.empty((o, m), g.dtype, g)
    np.copyto(out.reshape((o, n) + g.shape[2:]), g.transpose(1, 0, 2, 3))
    return out


# ---------------------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------------------
class _Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dil, groups):
        ctx.orig = (w.shape, pads)
        ctx.crop = _live_taps(x.shape, w, stride, pads, dil)
        w_in = w
        ctx.w_live = None
        if ctx.crop is not None:            # kernel rows/columns that only ever see padding: left out
            (i0, i1, j0, j1), pads = ctx.crop
            w = w[:, :, i0:i1, j0:j1]       # a view: the pixel-major paths gather their weight rows from it
        # stride 1: image blocks that stay in cache, when BLAS runs on one thread (with more, each of the many
        # small GEMMs pays a thread hand-off: 2 threads on a busy 2-core machine, 64x32x26x26: 2x slower)
        threads = _blocked_threads(x, w, stride, pads, dil, groups)
        if ctx.crop is not None and (threads or not _nhwc.applies(x, w, groups)):
            # the other paths read a contiguous weight (kept for the backward; a gather, ~0.7 ms for
            # ResNet-18's 512x512x3x3, which the pixel-major paths skip: ~2.4 ms a step there)
            w = ctx.w_live = _xp(w).ascontiguousarray(w)
        if _wino.applies(x, w, stride, pads, dil, groups):
            # 3x3 or 5x5 stride 1, 16+ channels: Winograd's F(4x4, 3x3) (4x fewer multiply-adds; on outputs
            # under 6x6 F(2x2, 3x3), 2.25x) or F(2x2, 5x5) (2.8x) (None: a result with inf/NaN, made again by
            # the direct paths below)
            split = _wino.split(_split_threads(x, w, stride, pads, dil, groups), x.shape, pads, w.shape[2])
            out = _wino.forward(x, w, b, pads, split)
            if out is not None:
                ctx.threads = split
                ctx.cfg = (x.shape, w.shape, stride, pads, dil, groups, "winograd", b is not None)
                ctx.save_for_backward(x, w_in, None)
                return out
        if threads:
            out = _par.blocked_forward(x, w, b, pads, dil, threads)
            ctx.threads = threads
            ctx.cfg = (x.shape, w.shape, stride, pads, dil, groups, None, b is not None)
            ctx.save_for_backward(x, w_in, None)
            return out
        split = _split_threads(x, w, stride, pads, dil, groups)
        if split > 1:                       # several threads: parts of the batch at once
            out, path, cols = _split_forward(x, w, b, stride, pads, dil, groups, split)
            ctx.cfg = (x.shape, w.shape, stride, pads, dil, groups, ("split", path), b is not None)
            ctx.save_for_backward(x, w_in, None, *cols)
            return out
        if _nhwc.applies(x, w, groups):     # pixel-major columns (small images, strides, several threads)
            # (its columns and weight rows are not kept: the backward makes them again, copies of about the
            # forward's time, where keeping them for every layer held 9x the input of a 3x3 convolution:
            # ResNet-18's step peaked at 206 MiB with them kept)
            out = _nhwc.forward(x, w, b, stride, pads, dil, _COLS.empty)[0]
            ctx.cfg = (x.shape, w.shape, stride, pads, dil, groups, "nhwc", b is not None)
            ctx.save_for_backward(x, w_in, None)
            return out
        out, cols, hpwp = _conv_forward(x, w, b, stride, pads, dil, groups)
        ctx.cfg = (x.shape, w.shape, stride, pads, dil, groups, hpwp, b is not None)
        ctx.save_for_backward(x, w_in, cols)    # cols is freed with the graph (or kept by retain_graph)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w, cols, *parts = ctx.saved_tensors      # (parts: the split path's columns of each part)
        x_shape, w_shape, stride, pads, dil, groups, hpwp, has_b = ctx.cfg
        need = ctx.needs_input_grad
        if _grad.create_graph:
            return _conv_backward_graph(g, x, w, need, stride, ctx.orig[1], dil, groups, has_b)
        w = w._data
        if ctx.w_live is not None:          # the live taps' weight, as the forward used it
            w = ctx.w_live
        elif ctx.crop is not None:          # (the pixel-major path: a view, as in forward)
            (i0, i1, j0, j1), _ = ctx.crop
            w = w[:, :, i0:i1, j0:j1]
        ga = g._data
        if hpwp == "winograd":
            r = _wino.backward(x._data, w, ga, pads, need[0], need[1], ctx.threads)
            if r is None:                   # (inf/NaN: the pixel-major path's sums instead)
                gx, gw, gb = _parts_backward(x._data, w, ga, [None], "nhwc", need, stride, pads, dil, groups, has_b)
            else:
                gx, gw = r
                gb = ga.sum(axis=(0, 2, 3)) if has_b and need[2] else None
        elif hpwp is None:                  # the forward took the blocked path (cols is None)
            gx, gw, gb = _blocked_backward(x._data, w, ga, need, pads, dil, has_b, groups, ctx.threads)
        else:                               # the columns' paths: as parts of the batch, or one part
            split = type(hpwp) is tuple and hpwp[0] == "split"
            path = hpwp[1] if split else "nhwc" if hpwp == "nhwc" else None
            cols = [None if c is None else c._data for c in (parts if split else [cols])]
            gx, gw, gb = _parts_backward(x._data, w, ga, cols, path, need, stride, pads, dil, groups, has_b)
        if gw is not None and ctx.crop is not None:
            (i0, i1, j0, j1), _ = ctx.crop
            full = _xp(gw).zeros(ctx.orig[0], dtype=gw.dtype)
            full[:, :, i0:i1, j0:j1] = gw
            gw = full
        return tuple(None if a is None else Tensor._make(a) for a in (gx, gw, gb)) + (None,) * 4


def _blocked_backward(x, w, ga, need, pads, dil, has_b, groups, threads=1):
    """Conv's backward after a blocked forward: the blocked kernels (on the forward's threads), or (a weight
    with inf/NaN, see ``_conv_blocked``) the input gradient by the general GEMM + col2im."""
    finite = not need[0] or bool(np.isfinite(w).all())
    gx, gw, gb = _par.blocked_grads(x, w, ga, pads, dil, need[0] and finite, need[1], threads,
                                    has_b and need[2])
    if need[0] and not finite:
        with np.errstate(invalid="ignore", over="ignore"):      # (inf * 0 is NaN, silently: as PyTorch)
            gx = _grad_input(_o_major(ga), w, groups, _xp(ga).zeros(x.shape, dtype=ga.dtype), ga.shape[2:], pads,
                             (1, 1), dil)
    if has_b and need[2] and gb is None:     # (summed with the weight gradient's GEMM when there is one)
        gb = ga.sum((0, 2, 3))
    return gx, gw, gb


def _conv_backward_graph(g, x, w, need, stride, pads, dil, groups, has_b):
    """Conv's backward written with the conv Functions themselves, so that ``create_graph=True`` records it
    and second derivatives work (the fast raw-array path above is used otherwise)."""
    gx = gw = gb = None
    if need[0]:
        h, wd = x.shape[2:]
        full = [(g.shape[2 + i] - 1) * stride[i] + dil[i] * (w.shape[2 + i] - 1) + 1 for i in range(2)]
        out_pad = tuple(size + sum(p) - f for size, p, f in zip((h, wd), pads, full))
        gx = _ConvTranspose2d.apply(g, w, None, stride, pads, dil, groups, out_pad)
    if need[1]:
        gw = _ConvWeightGrad.apply(x, g, tuple(w.shape), stride, pads, dil, groups)
    if has_b and need[2]:
        gb = g.sum((0, 2, 3))
    return gx, gw, gb, None, None, None, None


class _ConvWeightGrad(Function):
    """The weight gradient of a convolution as a function of its input ``x`` and output gradient ``g``
    (bilinear); exists so that conv's backward can itself be differentiated."""

    @staticmethod
    def forward(ctx, x, g, w_shape, stride, pads, dil, groups):
        cols, oh, ow = _cols_for(x, w_shape, stride, pads, dil, g.shape[2:])
        ctx.cfg = (stride, pads, dil, groups)
        ctx.save_for_backward(x, g)
        return _grad_weight(_o_major(g), cols, w_shape, groups)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        stride, pads, dil, groups = ctx.cfg
        # d<gg, gw(x, g)>/dg is conv(x, gg); d/dx is the transposed conv of g with gg
        gx = gg_ = None
        if ctx.needs_input_grad[0]:
            gx = _conv_backward_graph(g, x, gg, (True, False, False), stride, pads, dil, groups, False)[0]
        if ctx.needs_input_grad[1]:
            out = _Conv2d.apply(x, gg, None, stride, pads, dil, groups)
            gg_ = out[:, :, :g.shape[2], :g.shape[3]] if tuple(out.shape) != tuple(g.shape) else out
        return gx, gg_, None, None, None, None, None


def _cols_for(x, w_shape, stride, pads, dil, out_hw):
    """im2col of ``x`` for weight shape ``w_shape``, cropped to the output size ``out_hw``."""
    n = x.shape[0]
    kh, kw = w_shape[2:]
    xp_ = _pad2d(x, pads)
    oh = (xp_.shape[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp_.shape[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    oh, ow = min(oh, out_hw[0]), min(ow, out_hw[1])
    cols = _im2col(xp_, kh, kw, stride, dil, oh, ow).reshape(-1, n * oh * ow)
    return cols, oh, ow


def _convT_forward(x, w, b, stride, pads, dil, groups, out_pad):
    """Transposed convolution = conv's input-gradient path with ``x`` in the role of the output gradient,
    folded straight into a contiguous (N, C_out, H_out, W_out) array.  ``w`` is (Cin, Cout/groups, KH, KW).
    With several BLAS threads and enough work (``_split_threads``' rule for the multiply-adds), parts of the
    batch at once, each writing its images of the result: (64,32,7,7) -> 16 3x3 stride 2 at 2 threads,
    1.09 -> 0.81 ms (each part alone 0.64 ms: the two slow each other)."""
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cout = cog * groups
    hp = (h - 1) * stride[0] + dil[0] * (kh - 1) + 1 + out_pad[0]
    wp = (wd - 1) * stride[1] + dil[1] * (kw - 1) + 1 + out_pad[1]
    (p0, p1), (q0, q1) = pads
    shape = (n, cout, hp - p0 - p1, wp - q0 - q1)
    threads = _convT_threads(x, w) if shape[2] > 0 and shape[3] > 0 else 1
    if threads <= 1:
        return _convT_part(x, w, b, stride, pads, dil, groups, (hp, wp), shape, None), (hp, wp)
    out = np.empty(shape, x.dtype)
    _parallel.run_split(lambda s: _convT_part(x[s], w, b, stride, pads, dil, groups, (hp, wp), shape, out[s]),
                        n, threads)
    return out, (hp, wp)


def _convT_threads(x, w):
    """How many threads run a transposed convolution's forward, or its backward, as parts of the batch: a
    float CPU input with enough multiply-adds per thread (``_split_threads``' ``_SPLIT_MACS``), else 1."""
    if type(x) is not np.ndarray or not x.size or x.dtype not in (np.float32, np.float64):
        return 1
    return _parallel.threads_for(x.shape[0], x.size * w[0].size, _SPLIT_MACS, _par.MIN_IMAGES)


def _convT_part(x, w, b, stride, pads, dil, groups, hpwp, shape, out):
    """``_convT_forward`` of the images ``x`` on this thread, into ``out`` (contiguous, of the result's shape
    for those images) or a new array."""
    n, cin, h, wd = x.shape
    cout, kh, kw = shape[1], w.shape[2], w.shape[3]
    if (type(x) is np.ndarray and x.size and shape[2] > 0 and shape[3] > 0 and n >= 2 * wd
            and cout * kh * kw >= 2 * cin):
        return _convT_batch_inner(x, w, b, stride, pads, dil, groups, hpwp, out)
    if out is None:
        out = _xp(x).zeros((n,) + tuple(shape[1:]), dtype=x.dtype)
    else:
        out.fill(0)
    if out.size and x.size:
        x2 = _o_major(x)
        dcols = _grad_cols(x2, w, groups).reshape(cout, kh, kw, n, h, wd)
        _col2im(dcols, out, pads, stride, dil)
        del x2, dcols
    if b is not None:
        out += b[:, None, None]
    return out


def _convT_batch_inner(x, w, b, stride, pads, dil, groups, hpwp, out=None):
    """``_convT_forward`` with the batch innermost: the columns ``w^T x`` as (C_out, KH, KW, H, W, N), added
    into a (C_out, Hp, Wp, N) frame (runs of N elements: col2im's runs are W long otherwise, 7 on a 7x7
    input), then one pass to the cropped NCHW result with the bias.  Taken for batches of at least twice the
    input's width whose column gradient is at least twice the input's channels (the two transposing copies
    cost more than the longer runs save otherwise).  Measured (1 thread, forward alone, against col2im):
    (64,32,7,7) -> 16 3x3 stride 2 1.80 -> 1.15 ms, (64,128,7,7) -> 64 4x4 stride 2 19.6 -> 14.7, (16,32,7,7)
    0.48 -> 0.38, (64,32,12,12) stride 1 3.45 -> 3.00; slower where the rule sends them to col2im: (64,64,14,14)
    -> 1 4x4 0.96 against 1.62, (8,64,32,32) -> 32 2x2 3.4 against 5.4, (16,64,16,16) -> 32 4x4 7.7 against 8.5.
    Each output element sums the same taps in the same order as col2im."""
    n, cin, h, wd = x.shape
    cout, kh, kw = w.shape[1] * groups, w.shape[2], w.shape[3]
    hp, wp = hpwp
    (p0, p1), (q0, q1) = pads
    xn = _SCRATCH.empty((cin, h * wd * n), x.dtype, x)
    np.copyto(xn.reshape(cin, h, wd, n), x.transpose(1, 2, 3, 0))
    dcols = _grad_cols(xn, w, groups).reshape(cout, kh, kw, h, wd, n)
    del xn
    acc = np.zeros((cout, hp, wp, n), x.dtype)
    for i in range(kh):
        r = i * dil[0]
        rows = slice(r, r + stride[0] * (h - 1) + 1, stride[0])
        for j in range(kw):
            q = j * dil[1]
            tgt = acc[:, rows, q:q + stride[1] * (wd - 1) + 1:stride[1]]
            np.add(tgt, dcols[:, i, j], out=tgt)
    del dcols
    if out is None:
        out = np.empty((n, cout, hp - p0 - p1, wp - q0 - q1), x.dtype)
    src = acc[:, p0:hp - p1, q0:wp - q1].transpose(3, 0, 1, 2)
    if b is None:
        np.copyto(out, src)
    else:
        np.add(src, b[:, None, None], out=out)
    return out


class _ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dil, groups, out_pad):
        out, _ = _convT_forward(x, w, b, stride, pads, dil, groups, out_pad)
        ctx.cfg = (stride, pads, dil, groups, b is not None)
        ctx.save_for_backward(x, w)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, pads, dil, groups, has_b = ctx.cfg
        need = ctx.needs_input_grad
        h, wd = x.shape[2:]
        gx = gw = gb = None
        if _grad.create_graph:        # differentiable path: the same math through the Functions
            if need[0]:
                out = _Conv2d.apply(g, w, None, stride, pads, dil, groups)
                gx = out[:, :, :h, :wd] if tuple(out.shape[2:]) != (h, wd) else out
            if need[1]:
                gw = _ConvWeightGrad.apply(g, x, tuple(w.shape), stride, pads, dil, groups)
            if has_b and need[2]:
                gb = g.sum((0, 2, 3))
            return gx, gw, gb, None, None, None, None, None
        x, w, ga = x._data, w._data, g._data
        if not ga.size:           # an empty output (grouped, size 0): nothing flows back
            xp = _xp(ga)
            return (Tensor._make(xp.zeros(x.shape, x.dtype)) if need[0] else None,
                    Tensor._make(xp.zeros(w.shape, w.dtype)) if need[1] else None,
                    Tensor._make(xp.zeros(ga.shape[1], ga.dtype)) if has_b and need[2] else None,
                    None, None, None, None, None)
        # with several BLAS threads, parts of the batch at once (the forward's rule): each its images of the
        # input gradient and its sum of the weight gradient, added up after
        n = x.shape[0]
        threads = _convT_threads(x, w)
        gxa = np.empty(x.shape, x.dtype) if need[0] and threads > 1 else None
        parts = _parallel.run_split(
            lambda s: _convT_grads(x[s], w, ga[s], need, stride, pads, dil, groups, (h, wd),
                                   None if gxa is None else gxa[s]), n, threads)
        if need[0]:
            gx = Tensor._make(parts[0][0] if gxa is None else gxa)
        if need[1]:
            acc = parts[0][1]
            for p in parts[1:]:
                acc += p[1]
            gw = Tensor._make(acc)
        if has_b and need[2]:
            gb = Tensor._make(ga.sum((0, 2, 3)))
        return gx, gw, gb, None, None, None, None, None


def _convT_grads(x, w, ga, need, stride, pads, dil, groups, hw, gx_out=None):
    """A transposed convolution's (input gradient, weight gradient) (None where not needed) for the images
    ``x`` and their output gradient ``ga``; the input gradient into ``gx_out`` when given.  The input gradient
    is the forward conv of g with w, of x's spatial size ``hw`` (capped when output_padding >= stride); its
    columns are the weight gradient's too (the im2col of g: 0.58 of the backward's 2.0 ms for a (64,32,7,7)
    -> 16 3x3 stride 2 transposed convolution)."""
    cols = gx = gw = None
    if need[0]:
        gx, cols, _ = _conv_forward(ga, w, None, stride, pads, dil, groups, hw, gx_out)
    if need[1]:
        if cols is None:
            cols, _, _ = _cols_for(ga, w.shape, stride, pads, dil, hw)
        x2 = _o_major(x)
        gw = _grad_weight(x2, cols, w.shape, groups)
        del x2
    return gx, gw


# ---------------------------------------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------------------------------------
def _tuple(v, n, name, op):
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _check_pos(vals, name, op, minimum=1):
    if any(v < minimum for v in vals):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {vals}")


def _check_inputs(x, w, b, nd, op, transposed=False):
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors, got {type(x).__name__} and {type(w).__name__}")
    if w.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected weight to be {nd + 2}-D, got shape {tuple(w.shape)}")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input, got input of "
                           f"shape {tuple(x.shape)}")
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        raise RuntimeError(f"{op}: input ({x.dtype}), weight ({w.dtype}) and bias "
                           f"({None if b is None else b.dtype}) must have the same dtype")
    # PyTorch 2.13 (CPU) convolves every integer dtype (wrapping around as integer matmuls do); its transposed
    # convolution only int64; bool neither
    if x.dtype.kind == "b" or x.dtype.kind not in "fiu" or (transposed and x.dtype.kind in "iu"
                                                             and x.dtype != np.int64):
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} input (floating point or integer "
                                  f"expected{', int64 only for transposed convolutions' if transposed else ''})")
    if w.shape[0] == 0:
        raise RuntimeError(f"{op}: expected weight to be at least 1 at dimension 0, but got weight of size "
                           f"{list(w.shape)} instead")


def _to2d(t, nd):
    """Give a 1-D-spatial tensor a height of 1 (a view with autograd)."""
    return t.unsqueeze(-2) if nd == 1 else t


_ARGS: dict = {}     # _conv_args' checked results by (shapes, dtypes, arguments): the same every step of a model


class _DenseTypes:
    """Tensor and, once ``ember.nn`` is loaded, Parameter: the argument types whose checks are cached (a sparse
    tensor or another subclass takes the checks every time)."""

    def __contains__(self, t) -> bool:
        if t is Tensor:
            return True
        mod = _sys.modules.get("ember.nn.parameter")
        return mod is not None and t is mod.Parameter


_DENSE = _DenseTypes()


def _plain(v) -> bool:
    """An int, a str or a tuple of ints: a conv argument that can key the cache (lists, tensors cannot)."""
    t = type(v)
    return t is int or t is str or (t is tuple and all(type(a) is int for a in v))


def _conv_args(x, w, b, stride, padding, dilation, groups, nd, op):
    """Checked arguments: (batched x, unbatched, stride, dilation, (before, after) pads per dim, groups).
    The checks depend only on shapes, dtypes and the arguments, so their result is cached under those."""
    key = None
    if (type(x) in _DENSE and type(w) in _DENSE and (b is None or type(b) in _DENSE) and _plain(stride)
            and _plain(padding) and _plain(dilation) and type(groups) is int):
        xd, wd = x._data, w._data
        key = (xd.shape, xd.dtype, wd.shape, wd.dtype, None if b is None else (b._data.shape, b._data.dtype),
               stride, padding, dilation, groups, nd, op)
        hit = _ARGS.get(key)
        if hit is not None:
            unbatched = hit[0]
            return (x.unsqueeze(0) if unbatched else x,) + hit
    r = _conv_args_checked(x, w, b, stride, padding, dilation, groups, nd, op)
    if key is not None:
        if len(_ARGS) >= 512:
            _ARGS.clear()
        _ARGS[key] = r[1:]
    return r


def _conv_args_checked(x, w, b, stride, padding, dilation, groups, nd, op):
    _check_inputs(x, w, b, nd, op)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    _check_pos(stride, "stride", op)
    _check_pos(dilation, "dilation", op)
    groups = int(groups)
    o, cg = w.shape[:2]
    ks = tuple(w.shape[2:])
    c = x.shape[1]
    if groups < 1 or o % groups:
        raise RuntimeError(f"{op}: groups={groups} must be positive and divide out_channels={o} "
                           f"(weight of shape {tuple(w.shape)})")
    if c != cg * groups:
        raise RuntimeError(f"{op}: given groups={groups}, weight of size {list(w.shape)}, expected input"
                           f"{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if b is not None and tuple(b.shape) != (o,):
        raise RuntimeError(f"{op}: expected bias of shape ({o},), got {tuple(b.shape)}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            tot = [d * (k - 1) for d, k in zip(dilation, ks)]
            pads = tuple((t // 2, t - t // 2) for t in tot)    # PyTorch puts the odd extra on the right
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    else:
        p = _tuple(padding, nd, "padding", op)
        _check_pos(p, "padding", op, 0)
        pads = tuple((a, a) for a in p)
    spatial = tuple(x.shape[2:])
    for i in range(nd):
        eff = spatial[i] + sum(pads[i])
        if eff < dilation[i] * (ks[i] - 1) + 1:
            raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} (padded spatial size {eff} in dim {i}) is "
                               f"smaller than the dilated kernel size {dilation[i] * (ks[i] - 1) + 1} "
                               f"(weight {tuple(w.shape)})")
    return x, unbatched, stride, dilation, pads, groups


def _conv_nd(x, w, b, stride, padding, dilation, groups, nd, op):
    x, unbatched, stride, dilation, pads, groups = _conv_args(x, w, b, stride, padding, dilation, groups, nd, op)
    if nd == 1:
        stride, dilation, pads = (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    elif not unbatched:
        return _channels_last_like(x, lambda t: _Conv2d.apply(t, w, b, stride, pads, dilation, groups), w)
    out = _Conv2d.apply(_to2d(x, nd), _to2d(w, nd), b, stride, pads, dilation, groups)
    if nd == 1:         # a 2-D kernel on (N, C, 1, L): PyTorch's node is the convolution's, not the squeeze's
        out = _tname(out.squeeze(-2), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation) over ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight``
    (C_out, C_in/groups, kH, kW) and optional ``bias`` (C_out,), as ``torch.nn.functional.conv2d``.

    ``padding``: int, pair, ``"valid"`` or ``"same"`` (stride 1 only).  Output (N, C_out, H_out, W_out) with
    ``H_out = (H + 2*padding - dilation*(kH-1) - 1) // stride + 1``.

    >>> x = ember.randn(8, 1, 28, 28); w = ember.randn(6, 1, 5, 5)
    >>> conv2d(x, w, padding=2).shape
    ember.Size([8, 6, 28, 28])
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution over ``input`` (N, C_in, L) or (C_in, L) with ``weight`` (C_out, C_in/groups, k), as
    ``torch.nn.functional.conv1d``; options as :func:`conv2d`.

    >>> conv1d(ember.randn(4, 3, 50), ember.randn(8, 3, 5), padding="same").shape
    ember.Size([4, 8, 50])
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_t_args(x, w, b, stride, padding, output_padding, groups, dilation, nd, op):
    """Checked arguments: (batched x, unbatched, stride, dilation, padding, output_padding, groups)."""
    _check_inputs(x, w, b, nd, op, transposed=True)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    p = _tuple(padding, nd, "padding", op)
    op_ = _tuple(output_padding, nd, "output_padding", op)
    _check_pos(stride, "stride", op)
    _check_pos(dilation, "dilation", op)
    _check_pos(p, "padding", op, 0)
    _check_pos(op_, "output_padding", op, 0)
    for s, d, q in zip(stride, dilation, op_):
        if q >= s and q >= d:
            raise RuntimeError(f"{op}: output_padding {op_} must be smaller than either stride {stride} or "
                               f"dilation {dilation}")
    groups = int(groups)
    cin = w.shape[0]
    if groups < 1 or cin % groups:
        raise RuntimeError(f"{op}: groups={groups} must be positive and divide in_channels={cin}")
    if x.shape[1] != cin:
        raise RuntimeError(f"{op}: given transposed=1, weight of size {list(w.shape)}, expected input "
                           f"{list(x.shape)} to have {cin} channels, but got {x.shape[1]} channels instead")
    cout = w.shape[1] * groups
    if cout == 0:
        raise RuntimeError(f"{op}: non-empty weight expected, got weight of shape {tuple(w.shape)}")
    if b is not None and tuple(b.shape) != (cout,):
        raise RuntimeError(f"{op}: expected bias of shape ({cout},), got {tuple(b.shape)}")
    ks = tuple(w.shape[2:])
    for i in range(nd):
        size = (x.shape[2 + i] - 1) * stride[i] - 2 * p[i] + dilation[i] * (ks[i] - 1) + op_[i] + 1
        # (PyTorch 2.13 with several threads skips this check for groups > 1 and returns an empty result; with
        # one thread, as in the test suite, it raises: ember always raises)
        if size <= 0:
            raise RuntimeError(f"{op}: output size {size} in dim {i} is too small for input {tuple(x.shape)} "
                               f"(padding {p}, kernel {ks})")
    return x, unbatched, stride, dilation, p, op_, groups


def _conv_t_nd(x, w, b, stride, padding, output_padding, groups, dilation, nd, op):
    x, unbatched, stride, dilation, p, op_, groups = _conv_t_args(x, w, b, stride, padding, output_padding,
                                                                  groups, dilation, nd, op)
    pads = tuple((a, a) for a in p)
    if nd == 1:
        stride, dilation, pads, op_ = (1,) + stride, (1,) + dilation, ((0, 0),) + pads, (0,) + op_
    elif not unbatched:
        return _channels_last_like(
            x, lambda t: _ConvTranspose2d.apply(t, w, b, stride, pads, dilation, groups, op_), w)
    out = _ConvTranspose2d.apply(_to2d(x, nd), _to2d(w, nd), b, stride, pads, dilation, groups, op_)
    if nd == 1:         # as _conv_nd: PyTorch names the result's node ConvolutionBackward0
        out = _tname(out.squeeze(-2), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution (the adjoint of :func:`conv2d`, sometimes called deconvolution), as
    ``torch.nn.functional.conv_transpose2d``.  ``weight`` is (C_in, C_out/groups, kH, kW); output size
    ``(H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``.

    >>> conv_transpose2d(ember.randn(2, 4, 7, 7), ember.randn(4, 3, 3, 3), stride=2, padding=1,
    ...                  output_padding=1).shape
    ember.Size([2, 3, 14, 14])
    """
    return _conv_t_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                      "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution over (N, C_in, L) with ``weight`` (C_in, C_out/groups, k), as
    ``torch.nn.functional.conv_transpose1d``.

    >>> conv_transpose1d(ember.randn(2, 4, 10), ember.randn(4, 2, 3), stride=2).shape
    ember.Size([2, 2, 21])
    """
    return _conv_t_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                      "conv_transpose1d")


# ---------------------------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im as user ops); each one's backward is the other, so both are differentiable
# any number of times
# ---------------------------------------------------------------------------------------------------------
def _out_size(size, k, d, p, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


class _Unfold(Function):
    @staticmethod
    def forward(ctx, x, ks, dil, pad, stride):
        n, c, h, w = x.shape
        oh = _out_size(h, ks[0], dil[0], pad[0], stride[0])
        ow = _out_size(w, ks[1], dil[1], pad[1], stride[1])
        ctx.cfg = ((h, w), ks, dil, pad, stride)
        cols = _im2col(_pad2d(x, ((pad[0],) * 2, (pad[1],) * 2)), ks[0], ks[1], stride, dil, oh, ow,
                       batch_first=True)
        return cols.reshape(n, c * ks[0] * ks[1], oh * ow)      # contiguous, as PyTorch's

    @staticmethod
    def backward(ctx, g):
        size, ks, dil, pad, stride = ctx.cfg
        return _Fold.apply(g, size, ks, dil, pad, stride), None, None, None, None


class _Fold(Function):
    @staticmethod
    def forward(ctx, cols, size, ks, dil, pad, stride):
        n, ck, _ = cols.shape
        c = ck // (ks[0] * ks[1])
        oh = _out_size(size[0], ks[0], dil[0], pad[0], stride[0])
        ow = _out_size(size[1], ks[1], dil[1], pad[1], stride[1])
        ctx.cfg = (ks, dil, pad, stride)
        d = cols.reshape(n, c, ks[0], ks[1], oh, ow).transpose(1, 2, 3, 0, 4, 5)
        out = _xp(cols).zeros((n, c) + tuple(size), dtype=cols.dtype)
        return _col2im(d, out, ((pad[0],) * 2, (pad[1],) * 2), stride, dil)

    @staticmethod
    def backward(ctx, g):
        ks, dil, pad, stride = ctx.cfg
        return _Unfold.apply(g, ks, dil, pad, stride), None, None, None, None, None


def _fold_args(kernel_size, dilation, padding, stride, op):
    return tuple(_tuple(v, 2, name, op) for v, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                         (padding, "padding"), (stride, "stride")))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col), as ``torch.nn.functional.unfold``: (N, C, H, W) ->
    (N, C*kH*kW, L) where L is the number of block positions.

    >>> unfold(ember.randn(2, 3, 8, 8), 3).shape
    ember.Size([2, 27, 36])
    """
    x = input
    if x.ndim not in (3, 4):
        raise RuntimeError(f"unfold: expected 3D or 4D input, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"unfold: not implemented for {x.dtype} input (floating point expected)")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    ks, dil, pad, st = _fold_args(kernel_size, dilation, padding, stride, "unfold")
    for i in range(2):
        if _out_size(x.shape[2 + i], ks[i], dil[i], pad[i], st[i]) < 1:
            raise RuntimeError(f"unfold: input {tuple(x.shape)} is too small for kernel {ks} (padding {pad}, "
                               f"dilation {dil})")
    out = _Unfold.apply(x, ks, dil, pad, st)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding local blocks into a tensor, summing overlaps (col2im), as
    ``torch.nn.functional.fold``: (N, C*kH*kW, L) -> (N, C, H, W); the adjoint of :func:`unfold`.

    >>> fold(ember.ones(1, 4, 9), (4, 4), 2, stride=1).shape
    ember.Size([1, 1, 4, 4])
    """
    x = input
    if x.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected 2D or 3D input, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"fold: not implemented for {x.dtype} input (floating point expected)")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(0)
    size = _tuple(output_size, 2, "output_size", "fold")
    ks, dil, pad, st = _fold_args(kernel_size, dilation, padding, stride, "fold")
    k = ks[0] * ks[1]
    blocks = math.prod(_out_size(size[i], ks[i], dil[i], pad[i], st[i]) for i in range(2))
    if x.shape[1] % k or x.shape[2] != blocks:
        raise RuntimeError(f"fold: expected input of shape (N, C*{k}, {blocks}) for output_size {size}, kernel "
                           f"{ks}, got {tuple(x.shape)}")
    out = _Fold.apply(x, size, ks, dil, pad, st)
    return out.squeeze(0) if unbatched else out
