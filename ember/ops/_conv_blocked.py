"""Stride-1 convolution (any padding and dilation, groups=1) a few images at a time, so that every
intermediate stays in the core's L2 cache.

Measured (1 thread, OpenBLAS, 64x32x26x26 * 64x32x3x3): the GEMM of one image's columns that were just
written (64x288 times 288x576) runs at ~170 GFLOP/s, the same product over the whole batch's 42 MB column
matrix at ~80; and a per-image GEMM writes straight into the contiguous NCHW result, so no reorder pass is
needed.  So for each block of images:

* forward: im2col of the block (``(m, C*KH*KW, OH*OW)``, into a small reused buffer), one batched GEMM
  ``w (O, K) @ cols`` with ``out=`` the block of the NCHW result, the bias added while the block is in cache;
* weight gradient: the block's columns again (recomputing them is as cheap as reading saved ones back from
  memory, and the forward then keeps no 42 MB buffer alive), ``gw += g_n @ cols_n^T`` per image;
* input gradient: the output gradient of the block is copied into a zeroed "grid" as wide as the padded input
  (``(O, OH*Wp)``, zeros right of the real outputs), ``dcols = w^T @ grid`` with the rows ordered (kh, kw, C)
  and padded with zeros to the padded input's size (C*Hp*Wp), and col2im becomes KH*KW additions of one
  contiguous (C*Hp*Wp)-long slab each, shifted by the kernel offset in the flattened padded image (the strided
  2-D col2im spends most of its time on row overheads).  A shift runs past a row (into the next row, channel or
  image) only with grid entries that are zero, so those additions add exact zeros (this needs a finite
  weight, as ``inf * 0`` is NaN; callers take the general path otherwise).

The callers (``conv._Conv2d``) choose this path with :func:`applies`, and only with single-threaded BLAS
(many small GEMMs each pay a thread hand-off otherwise).
"""
from __future__ import annotations

from ..backend import xp as np

_as_strided = np.lib.stride_tricks.as_strided
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


def _padded_block(x, geo, n0, n1, buf):
    """Images n0:n1 of ``x`` with the padding, C-contiguous: ``x`` itself when possible, else copied into the
    interior of ``buf`` (whose border is zero and stays so)."""
    if not geo.padded and x.flags.c_contiguous:
        return x[n0:n1]
    dst = buf[:n1 - n0]
    dst[:, :, geo.p0:geo.p0 + geo.h, geo.q0:geo.q0 + geo.w] = x[n0:n1]
    return dst


def _im2col(src, geo, buf):
    """Columns ``(m, K, OH*OW)`` of the padded block ``src`` (m, C, Hp, Wp), into ``buf``."""
    m = src.shape[0]
    sn, sc, sh, sw = src.strides
    view = _as_strided(src, (m, geo.c, geo.kh, geo.kw, geo.oh, geo.ow),
                       (sn, sc, sh * geo.d0, sw * geo.d1, sh, sw), writeable=False)
    cols = buf[:m]
    np.copyto(cols.reshape(view.shape), view)
    return cols


def _buffers(geo, x):
    """The padded-block buffer (None when ``x`` is used as it is) and the column buffer of one block."""
    pad = None
    if geo.padded or not x.flags.c_contiguous:
        pad = np.zeros((geo.nb, geo.c, geo.hp, geo.wp), x.dtype)
    return pad, np.empty((geo.nb, geo.k, geo.l), x.dtype)


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
    pbuf, cbuf = _buffers(geo, x)
    bias = b[:, None] if b is not None else None
    for n0 in range(0, geo.n, geo.nb):
        n1 = min(geo.n, n0 + geo.nb)
        cols = _im2col(_padded_block(x, geo, n0, n1, pbuf), geo, cbuf)
        dst = out[n0:n1].reshape(n1 - n0, geo.o, geo.l)
        np.matmul(w2, cols, out=dst)
        if bias is not None:
            dst += bias
    return out


def backward(x, w, g, pads, dil, need_x, need_w, gx=None):
    """(grad_input, grad_weight) of the stride-1 convolution (None where not needed); ``g`` is the output
    gradient (N, O, OH, OW), any strides; the input gradient is written into ``gx`` when given (contiguous, of
    ``x``'s shape).  Needs a finite ``w`` when ``need_x`` (see the module doc)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _backward(x, w, g, pads, dil, need_x, need_w, gx)


def _backward(x, w, g, pads, dil, need_x, need_w, gx_out=None):
    geo = _Geometry(x.shape, w.shape, pads, dil, x.itemsize)
    dt = x.dtype
    o, c, k, plane = geo.o, geo.c, geo.k, geo.plane
    gx = gw = None
    if need_w:
        pbuf, cbuf = _buffers(geo, x)
        acc = np.zeros((k, o), dt)
        tmp = np.empty((k, o), dt)
    if need_x:
        # rows of w^T ordered (kh, kw, C): the slab of kernel offset (i, j) is then one contiguous block
        wr = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(k, o))
        grid = np.zeros((geo.nb, o, geo.oh, geo.wp), dt)       # the right margin stays zero
        # the GEMM fills each (kh, kw, C) row's first OH*Wp columns; the rest (the grid's bottom margin)
        # stays zero
        rows = geo.oh * geo.wp
        dcols = np.zeros((geo.nb, geo.kh, geo.kw, c * plane), dt)
        shift_max = (geo.kh - 1) * geo.d0 * geo.wp + (geo.kw - 1) * geo.d1
        # the padded gradient, flattened, with room for the last shifted slab's zero tail
        gpad = np.zeros(geo.nb * c * plane + shift_max, dt)
        gx = np.empty(x.shape, dt) if gx_out is None else gx_out
    for n0 in range(0, geo.n, geo.nb):
        n1 = min(geo.n, n0 + geo.nb)
        m = n1 - n0
        gb = np.ascontiguousarray(g[n0:n1])     # BLAS needs unit strides (a sum's gradient has none)
        if need_w:
            cols = _im2col(_padded_block(x, geo, n0, n1, pbuf), geo, cbuf)
            g3 = gb.reshape(m, o, geo.l)
            for i in range(m):
                np.matmul(cols[i], g3[i].T, out=tmp)      # (K, L) @ (L, O): faster than g @ cols^T here
                acc += tmp
        if need_x:
            gr = grid[:m]
            gr[:, :, :geo.oh, :geo.ow] = gb
            d = dcols[:m]
            np.matmul(wr, gr.reshape(m, o, rows), out=d.reshape(m, k, plane)[:, :, :rows])
            flat = gpad[:m * c * plane].reshape(m, c * plane)
            for i in range(geo.kh):
                for j in range(geo.kw):
                    s = i * geo.d0 * geo.wp + j * geo.d1
                    if s == 0:
                        np.copyto(flat, d[:, 0, 0])
                    else:
                        tgt = gpad[s:s + m * c * plane].reshape(m, c * plane)
                        tgt += d[:, i, j]
            pv = flat.reshape(m, c, geo.hp, geo.wp)
            np.copyto(gx[n0:n1], pv[:, :, geo.p0:geo.p0 + geo.h, geo.q0:geo.q0 + geo.w])
    if need_w:
        gw = np.ascontiguousarray(acc.T).reshape(w.shape)
    return gx, gw
