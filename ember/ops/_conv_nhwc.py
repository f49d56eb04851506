"""Convolution with pixel-major columns, for the convolutions the blocked kernels (``_conv_blocked``) do not
take: small images (ResNet's 8x8 to 1x1 stages), strided ones, and every one with several BLAS threads.

The general im2col (``conv._im2col``) copies a ``(C, KH, KW, N, OH, OW)`` column matrix whose contiguous runs
are OW long: 8, 4, 2 or 1 element on these images, so the copy (and col2im's strided additions) run at the
cost of NumPy's per-run loop, not of the bytes.  Here the input is first copied once into a zero-padded
channels-last buffer ``(N, Hp, Wp, C)`` and the columns are ``(N*OH*OW, KH*KW*C)``, each row the pixel's
window with the channels innermost: runs of C elements (16 to 512).  The products are the same GEMMs, over the
whole batch (which BLAS threads):

* forward: ``y^T = cols @ w2^T`` with ``w2`` the weight as ``(O, KH*KW*C)`` (one copy, ``weight_rows``,
  made again for the input gradient), then one pass that transposes the ``(N, OH*OW, O)`` result into
  contiguous NCHW and adds the bias;
* weight gradient: ``g2 @ cols`` with ``g2`` the O-major output gradient ``(O, N*OH*OW)`` and the columns
  made again (``columns``; ``conv`` does not keep the forward's: 9x a 3x3 convolution's input for every layer
  until its backward, ResNet-18's step peaked 206 instead of 165 MiB, for no measurable time saved);
* input gradient: ``dcols = g2^T @ w2`` (pixel-major again), added into a zeroed channels-last padded
  buffer with one strided addition per kernel offset (runs of C), then one pass back to NCHW.

With ember's compiled kernels (``_ckernels``) the columns are one call (each image padded channels-last in a
small scratch, then each window's rows copied as runs of KW*C) and so is the col2im (per image the same
additions in the same order into a padded scratch, then the interior copied out channel-major: the NumPy
steps' bits, one pass over the column gradients).  1 thread, float32, input gradient (NumPy -> compiled):
triplet's 32x32x12x12 -> 64 5x5 3.59 -> 2.47 ms (its GEMM 2.11), 64x64x8x8 3x3 4.89 -> 3.65 (3.06), 64x128x4x4
4.16 -> 3.08 (2.94); faster then than the blocked kernels' grid input gradient, which ``conv`` no longer
takes after this path's forward when the kernel is there.

Without the compiled kernels, stride-1 convolutions with a small weight take the blocked kernels' grid input
gradient instead (``conv`` decides; 8x8 64->64: 9.3 -> 9.0 ms fwd+bwd).  Measured (1 thread, CPU time, fwd+bwd at batch 64, against the
general path, alternating): ResNet-18's stages 64->64 8x8 9.4 -> 8.6 ms, 128->128 4x4 9.8 -> 6.8, 256->256 2x2
9.6 -> 7.0-8.0, 64->128 stride 2 5.7 -> 4.0, 32->64 16x16 stride 2 6.7 -> 5.5.  Tried: the forward as
``w2 @ cols^T`` (O-major result; slower on 8x8 to 4x4: 3.3 against 2.7 ms), and col2im a few images at a time
(re-reads a large ``w2`` per block: slower on the 4x4 and 2x2 stages).  With 3 input channels (ResNet's 7x7
stem) the runs are too short and it is slower (6.4 -> 6.8 ms), hence ``MIN_CHANNELS``.
"""
from __future__ import annotations

from ..backend import xp as np
from ..backend.device import as_strided as _as_strided     # (a view without __array_interface__'s cost)
from . import _ckernels as _ck
MIN_CHANNELS = 16             # input channels per pixel below which the runs are too short to pay


def applies(x, w, groups) -> bool:
    """Whether this path takes the convolution: a CPU array, groups 1, float32/float64 (one dtype), non-empty,
    at least ``MIN_CHANNELS`` input channels."""
    return (type(x) is np.ndarray and groups == 1 and x.dtype in (np.float32, np.float64) and x.dtype == w.dtype
            and x.size > 0 and w.size > 0 and x.shape[1] >= MIN_CHANNELS)


def fast_col2im() -> bool:
    """Whether the input gradient's col2im runs as ember's compiled kernel (``_ckernels.col2im_nhwc``: one pass
    over the column gradients per image, where NumPy makes KH*KW strided additions and a transposing copy)."""
    return _ck.available()


def _geometry(x_shape, w_shape, stride, pads, dil):
    n, c, h, wd = x_shape
    o, _, kh, kw = w_shape
    (p0, p1), (q0, q1) = pads
    hp, wp = h + p0 + p1, wd + q0 + q1
    oh = (hp - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wp - dil[1] * (kw - 1) - 1) // stride[1] + 1
    return n, c, h, wd, o, kh, kw, hp, wp, oh, ow


def forward(x, w, b, stride, pads, dil, empty, out=None, w2=None):
    """``(out, cols, w2)``: the contiguous (N, O, OH, OW) result (written into ``out`` when given), the
    ``(N*OH*OW, KH*KW*C)`` columns (from ``empty(shape, dtype, like)``, a caller's buffer pool) and the weight as
    ``(O, KH*KW*C)`` (made here unless given); ``conv`` keeps neither for the backward, which makes them again."""
    with np.errstate(invalid="ignore", over="ignore"):      # inf * 0 is NaN, silently (as PyTorch)
        return _forward(x, w, b, stride, pads, dil, empty, out, w2)


def weight_rows(w):
    """The weight ``(O, C, KH, KW)`` as the ``(O, KH*KW*C)`` matrix the GEMMs use (a copy)."""
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)


def padded_nhwc(x, p0, q0, hp, wp):
    """``x`` (N, C, H, W) as a channels-last ``(N, Hp, Wp, C)`` copy, zero-padded by ``p0`` rows above and
    ``q0`` columns left of it (and below/right up to Hp x Wp)."""
    n, c, h, wd = x.shape
    if (hp, wp) == (h, wd):
        xp_ = np.empty((n, h, wd, c), x.dtype)
        np.copyto(xp_, x.transpose(0, 2, 3, 1))
    else:
        xp_ = np.zeros((n, hp, wp, c), x.dtype)
        np.copyto(xp_[:, p0:p0 + h, q0:q0 + wd], x.transpose(0, 2, 3, 1))
    return xp_


def columns(x, w_shape, stride, pads, dil, empty, out=None):
    """The ``(N*OH*OW, KH*KW*C)`` pixel-major columns of ``x`` (into ``out``, C-contiguous, when given, else
    from ``empty(shape, dtype, like)``): the forward's, and the backward's again for the weight gradient (they
    are not kept in between)."""
    n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x.shape, w_shape, stride, pads, dil)
    (p0, _), (q0, _) = pads
    cols = empty((n * oh * ow, kh * kw * c), x.dtype, x) if out is None else out
    if _ck.columns_nhwc(x, (kh, kw, stride, dil, oh, ow, p0, q0, hp, wp), cols):
        return cols
    xp_ = padded_nhwc(x, p0, q0, hp, wp)
    sn, sh, sw, sc = xp_.strides
    view = _as_strided(xp_, (n, oh, ow, kh, kw, c),
                       (sn, sh * stride[0], sw * stride[1], sh * dil[0], sw * dil[1], sc), writeable=False)
    np.copyto(cols.reshape(view.shape), view)
    return cols


BLOCK_WEIGHT_BYTES = 256 << 10     # a weight matrix up to this size stays in L2 beside a block's columns
BLOCK_COLS_BYTES = 1 << 20         # the columns of one block of images
BLOCK_FROM_BYTES = 2 << 20         # the columns of a batch (or of a thread's part) run in blocks from here


def block_images(x_shape, w_shape, stride, pads, dil, itemsize):
    """Images per block when the forward and backward run a few images at a time (each block's columns made
    by the compiled kernel into a buffer that stays in L2, then its GEMMs), or 0 for the whole batch at once.
    Blocks pay where the weight is small and the whole batch's columns are not (the columns, made twice, and
    the column gradient otherwise go through memory): 1 thread, float32, fwd+bwd through ``conv2d``, whole ->
    blocked: ResNet's 64x64x8x8 3x3 13.6 -> 11.1 ms (PyTorch 8.4), the triplet network's 32x32x12x12 -> 64 5x5
    8.9 -> 7.7 (6.3-6.7).  From 2 MiB of columns (4 MiB before: medians of four runs, fwd+bwd, whole ->
    blocked): 1 thread, the triplet's conv2 at batch 16 5.1 -> 4.3 ms, ResNet's 64x8x8 at batch 24 5.6 -> 4.75;
    2 threads, the triplet's batch of 32 (a part of 16 images a thread) 5.2 -> 4.8.  With 128 channels and more
    the blocks' GEMMs re-read a larger weight and lose (a forward alone at 128x4x4: 3.18 -> 3.20-3.37, at
    256x2x2 3.21 -> 3.25-4.12)."""
    n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x_shape, w_shape, stride, pads, dil)
    per = oh * ow * kh * kw * c * itemsize
    if not fast_col2im() or o * kh * kw * c * itemsize > BLOCK_WEIGHT_BYTES or per * n < BLOCK_FROM_BYTES:
        return 0
    return max(1, BLOCK_COLS_BYTES // per)


def _forward(x, w, b, stride, pads, dil, empty, out=None, w2=None):
    n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x.shape, w.shape, stride, pads, dil)
    pix = oh * ow
    nb = block_images(x.shape, w.shape, stride, pads, dil, x.itemsize)
    if nb:
        out, w2 = _forward_blocks(x, w, b, stride, pads, dil, empty, out, w2, nb)
        return out, None, w2
    cols = columns(x, w.shape, stride, pads, dil, empty)
    if w2 is None:
        w2 = weight_rows(w)
    yt = (cols @ w2.T).reshape(n, pix, o)
    if out is None:
        out = np.empty((n, o, oh, ow), x.dtype)
    dst = out.reshape(n, o, pix)
    if b is None:
        np.copyto(dst, yt.transpose(0, 2, 1))
    else:
        np.add(yt.transpose(0, 2, 1), b[:, None], out=dst)
    return out, cols, w2


def _forward_blocks(x, w, b, stride, pads, dil, empty, out, w2, nb):
    """The forward ``nb`` images at a time: each block's columns (compiled kernel, a reused buffer), its GEMM,
    its transposing pass into ``out``; returns ``(out, w2)``."""
    n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x.shape, w.shape, stride, pads, dil)
    pix = oh * ow
    if w2 is None:
        w2 = weight_rows(w)
    if out is None:
        out = np.empty((n, o, oh, ow), x.dtype)
    cb = empty((nb * pix, kh * kw * c), x.dtype, x)
    yb = np.empty((nb * pix, o), x.dtype)
    w2t = w2.T
    for i in range(0, n, nb):
        m = min(nb, n - i)
        columns(x[i:i + m], w.shape, stride, pads, dil, empty, cb[:m * pix])
        np.matmul(cb[:m * pix], w2t, out=yb[:m * pix])
        src = yb[:m * pix].reshape(m, pix, o).transpose(0, 2, 1)
        dst = out[i:i + m].reshape(m, o, pix)
        if b is None:
            np.copyto(dst, src)
        else:
            np.add(src, b[:, None], out=dst)
    return out, w2


def backward_blocks(x, w2, w_shape, g2, stride, pads, dil, need_x, need_w, nb, empty, gx=None):
    """(grad_input, grad_weight) ``nb`` images at a time (see ``block_images``): each block's columns made
    again for the weight gradient's partial sum, and its column gradient folded at once by the compiled
    col2im; ``g2`` the O-major output gradient (O, N*OH*OW), ``w2`` the weight rows (read with ``need_x``
    only).  The weight gradient is summed block by block (its
    rounding depends on the block size, as PyTorch's on its kernels')."""
    with np.errstate(invalid="ignore", over="ignore"):
        n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x.shape, w_shape, stride, pads, dil)
        pix = oh * ow
        acc = gxo = None
        if need_w:
            cb = empty((nb * pix, kh * kw * c), x.dtype, x)
            acc = np.zeros((o, kh * kw * c), x.dtype)
            tmp = np.empty_like(acc)
        if need_x:
            gxo = np.empty((n, c, h, wd), x.dtype) if gx is None else gx
            db = np.empty((nb * pix, kh * kw * c), x.dtype)
        for i in range(0, n, nb):
            m = min(nb, n - i)
            gb = g2[:, i * pix:(i + m) * pix]
            if need_w:
                columns(x[i:i + m], w_shape, stride, pads, dil, empty, cb[:m * pix])
                np.matmul(gb, cb[:m * pix], out=tmp)
                acc += tmp
            if need_x:
                np.matmul(gb.T, w2, out=db[:m * pix])
                _fold(db[:m * pix].reshape(m, oh, ow, kh, kw, c), gxo[i:i + m], stride, pads, dil, hp, wp)
        gw = np.ascontiguousarray(acc.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)) if need_w else None
        return gxo, gw


def backward(cols, w2, x_shape, w_shape, g2, stride, pads, dil, need_x, need_w, gx=None):
    """(grad_input, grad_weight) (None where not needed) from the forward's ``cols`` and ``w2`` and the O-major
    output gradient ``g2`` (O, N*OH*OW); the input gradient is contiguous NCHW (written into ``gx`` when
    given)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _backward(cols, w2, x_shape, w_shape, g2, stride, pads, dil, need_x, need_w, gx)


def _backward(cols, w2, x_shape, w_shape, g2, stride, pads, dil, need_x, need_w, gx_out=None):
    n, c, h, wd, o, kh, kw, hp, wp, oh, ow = _geometry(x_shape, w_shape, stride, pads, dil)
    gx = gw = None
    if need_w:
        gw = np.ascontiguousarray((g2 @ cols).reshape(o, kh, kw, c).transpose(0, 3, 1, 2))
    if need_x:
        gx = np.empty((n, c, h, wd), g2.dtype) if gx_out is None else gx_out
        _fold((g2.T @ w2).reshape(n, oh, ow, kh, kw, c), gx, stride, pads, dil, hp, wp)
    return gx, gw


def _fold(dcols, gx, stride, pads, dil, hp, wp):
    """col2im: the column gradients ``dcols`` (N, OH, OW, KH, KW, C) added into the input gradient ``gx``
    (N, C, H, W; contiguous, written): the compiled kernel, or one strided addition per kernel offset into a
    zeroed padded channels-last buffer and a transposing copy out (the same additions in the same order)."""
    n, oh, ow, kh, kw, c = dcols.shape
    h, wd = gx.shape[2:]
    (p0, _), (q0, _) = pads
    if _ck.col2im_nhwc(dcols, gx, (kh, kw, stride, dil, oh, ow, p0, q0, hp, wp)):
        return
    gp = np.zeros((n, hp, wp, c), dcols.dtype)
    s0, s1 = stride
    for i in range(kh):
        r = i * dil[0]
        for j in range(kw):
            q = j * dil[1]
            tgt = gp[:, r:r + s0 * (oh - 1) + 1:s0, q:q + s1 * (ow - 1) + 1:s1]
            np.add(tgt, dcols[:, :, :, i, j], out=tgt)
    np.copyto(gx, gp[:, p0:p0 + h, q0:q0 + wd].transpose(0, 3, 1, 2))
