"""Stride-1 convolution (any padding and dilation, groups=1) a few images at a time, so that every
intermediate stays in the core's L2 cache.

Measured (1 thread, OpenBLAS, 64x32x26x26 * 64x32x3x3): the GEMM of one image's columns that were just
written (64x288 times 288x576) runs at ~185 GFLOP/s (about this core's AVX-512 peak), the same product over the
whole batch's 42 MB column matrix at ~150; and a per-image GEMM writes straight into the contiguous NCHW result,
so no reorder pass is needed.  So for each block of images:

* forward: im2col of the block (``(m, C*KH*KW, OH*OW)``, into a small reused buffer), one batched GEMM
  ``w (O, K) @ cols`` with ``out=`` the block of the NCHW result; the bias is the weight's last column, times a
  row of ones kept at the end of the column buffer (no separate pass over the result);
* input gradient (all blocks first): the output gradient of the block is copied into a zeroed "grid" as wide as
  the padded input (``(O, OH*Wp)``, zeros right of the real outputs), ``dcols = w^T @ grid`` with the rows
  ordered (kh, kw, C) and padded with zeros to the padded input's size (C*Hp*Wp), and col2im becomes one sum
  over the KH*KW contiguous (C*Hp*Wp)-long slabs, each shifted by its kernel offset in the flattened padded
  image (a strided view, ``_tap_sum_view``; the strided 2-D col2im spends most of its time on row overheads).
  A shift runs past a row (into the next row or channel) only with grid entries that are zero, so those
  terms are exact zeros (this needs a finite weight, as ``inf * 0`` is NaN; callers take the general path
  otherwise);
* weight gradient (then all blocks again): the block's columns again (recomputing them is as cheap as reading
  saved ones back from memory, and the forward then keeps no 42 MB buffer alive), ``gw += cols_n @ g_n^T`` per
  image; the row of ones makes the last row of that sum the bias's gradient.  The two passes are separate
  because their buffers together nearly fill the L2: in one loop the GEMMs ran 15-20% slower.

Where the time goes (64x32x26x26 3x3 fwd+bwd, 1 thread, ~31.6 ms): the three GEMMs ~24 ms at 165-190
GFLOP/s, the im2col copies ~2 ms each, the grid copy, col2im's eight slab additions and the copy out ~2.5 ms.
Tried and measured no faster: columns with one contiguous run per kernel offset (a pixel pitch of Wp, 0.9
instead of 2.05 ms to copy) cost as much again in the 8% larger GEMM and the copy that drops the extra columns
(the weight gradient's version, times the grid, saved 0.15 ms in the two-pass backward and needed an inf/NaN
fallback); folding the kw taps into the input-gradient GEMM (K = O*KW, 3 slab additions) costs two shifted
grid copies; per-tap GEMMs (K = C) and GEMMs per output row are 40% slower.  Winograd F(2,3) needs 2.25x
fewer multiplications (16 GEMMs of (O, C) @ (C, tiles) at the same ~185 GFLOP/s: 3.3 against 7.4 ms per pass),
but at 32 and 64 channels its transforms are as much work as they save when written as NumPy passes (the
input tiles' 16 strided copies, the 4x4 transforms over 16*C*tiles and 16*O*tiles elements, the scatter of the
2x2 output tiles): an estimated ~150 us per image per pass against the im2col GEMM's ~148.

The callers (``conv._Conv2d``) choose this path with :func:`applies`, and only with single-threaded BLAS
(many small GEMMs each pay a thread hand-off otherwise).
"""
from __future__ import annotations

from ..backend import xp as np
from ..backend.device import as_strided as _as_strided     # (a view without __array_interface__'s cost)
from ..backend.layout import c_copy
_BLOCK_BYTES = 1 << 20        # columns of one block: stays in a 2 MiB L2 with the GEMM's other operands


_MIN_PIXELS = 128             # output pixels per image below which the whole-batch GEMMs are faster


def applies(x, w, stride, pads, dil, groups) -> bool:
    """Whether the blocked kernels handle this convolution: stride 1, groups 1, float32/float64, non-empty,
    and images of at least ``_MIN_PIXELS`` output pixels.  Measured (1 thread, fwd+bwd, CPU time): on 32x32
    and 26x26 images the blocked kernels take 0.5-0.75x the time of the general path, on 16x16 and 14x14
    about the same, on 8x8 (256 channels) 1.25x and on 4x4 (512 channels) 2.4x: a per-image GEMM of a few
    dozen columns re-reads a weight matrix that no longer fits in cache."""
    if type(x) is not np.ndarray:       # CPU cache blocking; a device takes the whole-batch GEMMs
        return False
    if not (groups == 1 and tuple(stride) == (1, 1) and x.dtype in (np.float32, np.float64)
            and x.dtype == w.dtype and x.size > 0 and w.size > 0):
        return False
    oh = x.shape[2] + sum(pads[0]) - dil[0] * (w.shape[2] - 1)
    ow = x.shape[3] + sum(pads[1]) - dil[1] * (w.shape[3] - 1)
    return oh * ow >= _MIN_PIXELS


def grid_input_grad_applies(x, w, stride, groups) -> bool:
    """Whether a stride-1 convolution of small images that took the general forward gets its input gradient
    from the blocked kernels (``backward(..., need_w=False)``): float, groups 1, a weight of at most 256 KiB.
    Measured (1 thread, CPU time): 14x14 6->16 5x5 0.93 vs 1.38 ms, 8x8 64->64 3.8 vs 5.2 ms, 10x10 16->16
    0.68 vs 1.27 ms; with larger weights (4x4 128->128 and up) the per-image GEMMs lose."""
    return (type(x) is np.ndarray and groups == 1 and tuple(stride) == (1, 1)
            and x.dtype in (np.float32, np.float64) and x.dtype == w.dtype and x.size > 0
            and 0 < w.size * w.itemsize <= 256 << 10)


class _Geometry:
    def __init__(self, x_shape, w_shape, pads, dil, itemsize):
        self.n, self.c, self.h, self.w = x_shape
        self.o, _, self.kh, self.kw = w_shape
        (self.p0, p1), (self.q0, q1) = pads
        self.d0, self.d1 = dil
        self.hp, self.wp = self.h + self.p0 + p1, self.w + self.q0 + q1
        self.oh = self.hp - self.d0 * (self.kh - 1)
        self.ow = self.wp - self.d1 * (self.kw - 1)
        self.k = self.c * self.kh * self.kw
        self.l = self.oh * self.ow
        self.plane = self.hp * self.wp
        self.padded = (self.hp, self.wp) != (self.h, self.w)
        self.nb = max(1, min(self.n, _BLOCK_BYTES // max(1, self.k * self.l * itemsize)))


def _source(x, geo, pbuf):
    """The column source of the whole call: ``(view, fill)``, where ``view`` is the strided (N or nb, C, KH, KW,
    OH, OW) window view whose slice ``[a:b]`` (images a:b of ``x``, or of the padded block) holds a block's
    columns, and ``fill(n0, n1)`` makes images n0:n1 available in it (a copy into the padded buffer's interior,
    whose border is zero and stays so) and returns the offset to slice ``view`` at.  Made once per call: per
    block only slices (an ``as_strided`` costs ~10 us, ~1 ms over a step's 128 blocks)."""
    if pbuf is None:
        src = x
        def fill(n0, n1):
            return n0
    else:
        src = pbuf
        inner = pbuf[:, :, geo.p0:geo.p0 + geo.h, geo.q0:geo.q0 + geo.w]

        def fill(n0, n1):
            np.copyto(inner[:n1 - n0], x[n0:n1])
            return 0
    sn, sc, sh, sw = src.strides
    view = _as_strided(src, (src.shape[0], geo.c, geo.kh, geo.kw, geo.oh, geo.ow),
                       (sn, sc, sh * geo.d0, sw * geo.d1, sh, sw), writeable=False)
    return view, fill


def _buffers(geo, x, ones=False):
    """The padded-block buffer (None when ``x`` is used as it is) and the column buffer of one block,
    ``(nb, K, OH*OW)``, or with ``ones`` ``(nb, K + 1, OH*OW)`` whose last row is all ones (the bias's row:
    times the bias column of the weight it adds the bias in the GEMM; times the output gradient it sums it)."""
    pad = None
    if geo.padded or not x.flags.c_contiguous:
        pad = np.zeros((geo.nb, geo.c, geo.hp, geo.wp), x.dtype)
    cols = np.empty((geo.nb, geo.k + ones, geo.l), x.dtype)
    if ones:
        cols[:, geo.k] = 1
    return pad, cols


def _col_target(cbuf, geo):
    """The (nb, C, KH, KW, OH, OW) view of the column buffer's first K rows (what im2col writes)."""
    return cbuf.reshape(geo.nb, -1, geo.oh, geo.ow)[:, :geo.k].reshape(geo.nb, geo.c, geo.kh, geo.kw, geo.oh,
                                                                       geo.ow)


def out_shape(x_shape, w_shape, pads, dil):
    """The (N, O, OH, OW) shape of the stride-1 convolution's result."""
    geo = _Geometry(x_shape, w_shape, pads, dil, 1)
    return geo.n, geo.o, geo.oh, geo.ow


def forward(x, w, b, pads, dil, out=None):
    """``conv2d(x, w, b)`` (stride 1, groups 1) as a contiguous (N, O, OH, OW) array (written into ``out`` when
    given: a contiguous array of that shape, e.g. a slice of images of a larger result)."""
    with np.errstate(invalid="ignore", over="ignore"):      # inf * 0 is NaN, silently (as PyTorch)
        return _forward(x, w, b, pads, dil, out)


def _forward(x, w, b, pads, dil, out=None):
    geo = _Geometry(x.shape, w.shape, pads, dil, x.itemsize)
    if out is None:
        out = np.empty((geo.n, geo.o, geo.oh, geo.ow), x.dtype)
    w2 = w.reshape(geo.o, geo.k)
    if b is not None:               # the bias as one more column of the weight, times the columns' row of ones
        w2 = np.concatenate([w2, b[:, None]], axis=1, dtype=w2.dtype)
    pbuf, cbuf = _buffers(geo, x, ones=b is not None)
    view, fill = _source(x, geo, pbuf)
    target = _col_target(cbuf, geo)
    out3 = out.reshape(geo.n, geo.o, geo.l)
    nb = geo.nb
    for n0 in range(0, geo.n, nb):
        n1 = min(geo.n, n0 + nb)
        m = n1 - n0
        a = fill(n0, n1)
        np.copyto(target[:m], view[a:a + m])
        np.matmul(w2, cbuf[:m], out=out3[n0:n1])
    return out


def backward(x, w, g, pads, dil, need_x, need_w, gx=None, need_b=False):
    """(grad_input, grad_weight, grad_bias) of the stride-1 convolution (None where not needed; the bias's
    gradient is summed here only with ``need_w``, as the GEMM's row of ones, else None); ``g`` is the output
    gradient (N, O, OH, OW), any strides; the input gradient is written into ``gx`` when given (contiguous, of
    ``x``'s shape).  Needs a finite ``w`` when ``need_x`` (see the module doc)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _backward(x, w, g, pads, dil, need_x, need_w, gx, need_b)


def _tap_sum_view(geo, dcols):
    """col2im as one reduction: the (nb, KH, KW, C*Hp*Wp) view of ``dcols`` (the column gradient, rows ordered
    (kh, kw, C), each (kh, kw) tap a contiguous C*Hp*Wp slab) whose [n, i, j, p] entry is the value that tap
    (i, j) adds at position p of image n's flattened padded gradient: tap (i, j) shifted by its kernel offset
    ``s = i*d0*Wp + j*d1``.  The shift is linear in i and j, so it is a stride.  An entry with ``p < s`` reads
    the tail of the previous tap's last channel, which the GEMM leaves zero (the grid's bottom and right
    margins), as the shifted slab additions added zeros there.  Summing it over (i, j) (one ``np.add.reduce``,
    in tap order) replaces KH*KW slab additions (14x14 6->16 5x5, 17 images: 126 -> 55 us; and one NumPy call
    where threads ran 25 short ones, each paying a GIL hand-off)."""
    isz = dcols.itemsize
    tap = geo.c * geo.plane * isz
    return _as_strided(dcols, dcols.shape,
                       (geo.kh * geo.kw * tap, geo.kw * tap - geo.d0 * geo.wp * isz, tap - geo.d1 * isz, isz),
                       writeable=False)


def _backward(x, w, g, pads, dil, need_x, need_w, gx_out=None, need_b=False):
    geo = _Geometry(x.shape, w.shape, pads, dil, x.itemsize)
    dt = x.dtype
    o, c, k, plane, nb = geo.o, geo.c, geo.k, geo.plane, geo.nb
    gx = gw = gb = None
    need_b = need_b and need_w
    if need_w:
        pbuf, cbuf = _buffers(geo, x, ones=need_b)
        view, fill = _source(x, geo, pbuf)
        target = _col_target(cbuf, geo)
        acc = np.zeros((cbuf.shape[1], o), dt)
        tmp = np.empty((cbuf.shape[1], o), dt)
    if need_x:
        # rows of w^T ordered (kh, kw, C): the slab of kernel offset (i, j) is then one contiguous block
        wr = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(k, o))
        grid = np.zeros((nb, o, geo.oh, geo.wp), dt)       # the right margin stays zero
        inner = grid[:, :, :, :geo.ow]
        # the GEMM fills each (kh, kw, C) row's first OH*Wp columns; the rest (the grid's bottom margin)
        # stays zero
        rows = geo.oh * geo.wp
        dcols = np.zeros((nb, geo.kh, geo.kw, c * plane), dt)
        dgemm = dcols.reshape(nb, k, plane)[:, :, :rows]
        grid3 = grid.reshape(nb, o, rows)
        taps = _tap_sum_view(geo, dcols)
        # the padded gradient of a block (its interior is copied out), or with no padding the result itself
        gx = np.empty(x.shape, dt) if gx_out is None else gx_out
        gpad = np.empty((nb, c, geo.hp, geo.wp), dt) if geo.padded or not gx.flags.c_contiguous else None
    # the input gradient's blocks, then the weight gradient's: one pass each, over a smaller working set than
    # both in one loop (their buffers together nearly fill a 2 MiB L2; 64x32x26x26 3x3, 1 thread: the GEMMs
    # ran 15-20% slower in one loop; 32.4 -> 31.6 ms fwd+bwd)
    if need_x:
        for n0 in range(0, geo.n, nb):
            n1 = min(geo.n, n0 + nb)
            m = n1 - n0
            np.copyto(inner[:m], g[n0:n1])
            np.matmul(wr, grid3[:m], out=dgemm[:m])
            if gpad is None:
                np.add.reduce(taps[:m], axis=(1, 2), out=gx[n0:n1].reshape(m, -1))
            else:
                np.add.reduce(taps[:m], axis=(1, 2), out=gpad[:m].reshape(m, -1))
                np.copyto(gx[n0:n1], gpad[:m, :, geo.p0:geo.p0 + geo.h, geo.q0:geo.q0 + geo.w])
    if need_w:
        for n0 in range(0, geo.n, nb):
            n1 = min(geo.n, n0 + nb)
            m = n1 - n0
            a = fill(n0, n1)
            np.copyto(target[:m], view[a:a + m])
            g3 = np.ascontiguousarray(g[n0:n1]).reshape(m, o, geo.l)   # BLAS needs unit strides
            for i in range(m):
                np.matmul(cbuf[i], g3[i].T, out=tmp)      # (K, L) @ (L, O): faster than g @ cols^T here
                acc += tmp
        gw = c_copy(acc[:k].T).reshape(w.shape)
        if need_b:
            gb = acc[k].copy()
    return gx, gw, gb
