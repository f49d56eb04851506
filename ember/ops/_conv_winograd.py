"""3x3 stride-1 convolutions by Winograd's minimal filtering, F(2x2, 3x3) (Lavin and Gray, 2016).

Each 2x2 block of outputs (a *tile*) is computed from the 4x4 input patch under it with 16 multiplications
per input-output channel pair instead of 36: the patch ``d`` and the kernel ``g`` are transformed,
``V = B^T d B`` and ``U = G g G^T`` (4x4 each), multiplied elementwise and summed over the input channels,
``M[xi] = sum_c U[xi, c] V[xi, c]`` for each of the 16 positions ``xi`` (16 GEMMs over the batch's tiles), and
transformed back, ``Y = A^T M A``.  The GEMMs do 16 / 36 of the im2col GEMM's multiply-adds (2.25x fewer); the
transforms are a few additions per element, in ember's compiled kernels (``_ckernels.wino_*``) or, without them,
their NumPy twins below (the same operations in the same order: the same bits, a NaN's payload aside).

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

The backward is Winograd too: the input gradient is a 3x3 stride-1 convolution of the output gradient with the
flipped, transposed kernel (padding ``2 - p`` on each side), so it is this forward again; the weight gradient
transforms the output gradient's tiles, ``dM = A dY A^T``, multiplies them with the input's ``V`` (made again:
keeping it would hold 4x every such layer's input until its backward), ``dU[xi] = V[xi]^T dM[xi]``, and
transforms back, ``dW = G^T dU G``.

A part of the batch (one per thread at 2+ threads) runs a few images at a time (``CHUNK_BYTES``), so that a
chunk's transforms are still in L2 when its GEMMs read them.

Layouts: ``V`` is ``(16, T, C)`` with T = N * TH * TW tiles (image-major, then tile rows, then tile columns),
channels innermost so that each transform works on runs of C elements (its 16 planes a little apart in one
buffer, ``planes``); ``U`` is ``(16, O, C)``; ``M[xi] = V[xi] @ U[xi]^T`` is ``(16, T, O)``.

Rounding: the results differ from the direct convolution's in the last bits (other sums; PyTorch's own
convolution algorithms differ from each other the same way).  A result that is not all finite (an inf or NaN
in the input or weight: the transforms' differences turn inf - inf into NaN where the direct sums keep inf)
is made again by the caller's direct path, so inf/NaN come out as PyTorch's convolution gives them.
"""
from __future__ import annotations

import math

from ..backend import xp as np
from . import _ckernels as _ck, _conv_nhwc as _nhwc, _parallel

MIN_CHANNELS = 16       # input and output channels below which the transforms cost more than the GEMMs save
MIN_TILES = 128         # tiles per part of a batch split among threads (fewer: BLAS's threads do the GEMMs)
# Output pixels per image above which the blocked kernels (1 thread) or the pixel-major split (2) are as fast
# or faster (the GEMMs' K is only C, and the transforms' bytes grow with the tiles).  fwd+bwd, 1 / 2 threads,
# medians of 7, direct -> Winograd (in chunks): 64x32x14x14 -> 64 pad 1 24.8 -> 20.5 / 15.9 -> 14.9 ms;
# 64x32x13x13 21.5 -> 21.4 / 14.0 -> 16.1; 64x16x24x24 -> 32 21.7 -> 22.6 / 15.4 -> 15.0; 64x32x26x26 -> 64 (no
# padding) 61.1 -> 58.9 / 35.2 -> 36.6; 64x64x32x32 212 -> 212 / 119 -> 134 (whole batches, before the chunks:
# 32x32x12x12 -> 64 8.1 -> 5.3 / 5.2 -> 3.1).
MAX_PIXELS = 196


def applies(x, w, stride, pads, dil, groups) -> bool:
    """Whether the Winograd path takes this convolution: a host float32/float64 array, groups 1, a 3x3 kernel
    at stride 1 and dilation 1, padding at most 2 on each side (the input gradient's is 2 - p), at least
    ``MIN_CHANNELS`` input and output channels and an output of at least 2x2 and at most ``MAX_PIXELS``."""
    if type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or x.dtype != w.dtype:
        return False
    if groups != 1 or w.shape[2:] != (3, 3) or tuple(stride) != (1, 1) or tuple(dil) != (1, 1):
        return False
    (p0, p1), (q0, q1) = pads
    if not (0 <= p0 <= 2 and 0 <= p1 <= 2 and 0 <= q0 <= 2 and 0 <= q1 <= 2):
        return False
    n, c, h, wd = x.shape
    o = w.shape[0]
    oh, ow = h + p0 + p1 - 2, wd + q0 + q1 - 2
    return n > 0 and c >= MIN_CHANNELS and o >= MIN_CHANNELS and oh >= 2 and ow >= 2 and oh * ow <= MAX_PIXELS


def split(threads, x_shape, pads):
    """How many parts of the batch run at once, at most ``threads`` (each part with ``MIN_TILES`` tiles or
    more: 2 threads, fwd+bwd, 64 images of 256 channels at 2x2 (64 tiles) whole / in two parts 5.2-5.5 /
    6.1-6.3 ms; 128 channels at 4x4 (256 tiles) 4.5-4.7 / 3.8-4.1)."""
    n, _, h, wd = x_shape
    th, tw = _tiles(h, wd, pads)[2:]
    return max(1, min(threads, n * th * tw // MIN_TILES))


def _tiles(h, wd, pads):
    """(OH, OW, TH, TW): the output size and its tile grid (a last odd row or column is a half tile)."""
    (p0, p1), (q0, q1) = pads
    oh, ow = h + p0 + p1 - 2, wd + q0 + q1 - 2
    return oh, ow, (oh + 1) // 2, (ow + 1) // 2


def finite(a) -> bool:
    """Whether every element of ``a`` is finite: one pass (a sum; an overflowing sum says no, and the caller
    then takes the direct path, which is never wrong)."""
    return math.isfinite(float(np.einsum("i->", a.reshape(-1)))) if a.flags.c_contiguous else \
        bool(np.isfinite(a).all())


def _g(a, b, c):
    """G's rows on three taps (the halves a product by 0.5 after the sum, exact; sums left to right)."""
    return a, (a + b + c) * 0.5, (a - b + c) * 0.5, c


def _gt(a0, a1, a2, a3):
    """G^T's rows on four positions."""
    return a0 + (a1 + a2) * 0.5, (a1 - a2) * 0.5, (a1 + a2) * 0.5 + a3


def weight_transform(w):
    """``U = G g G^T`` of every kernel ``g = w[o, c]`` of ``w`` (O, C, 3, 3): ``(16, O, C)`` (position
    xi = 4a + b), as the compiled kernel makes it (its bits)."""
    o, c = w.shape[:2]
    u = planes(o, c, w.dtype)
    if _ck.wino_weight(w, u):
        return u
    r = [_g(w[:, :, 0, j], w[:, :, 1, j], w[:, :, 2, j]) for j in range(3)]      # G g, by column j
    for a in range(4):
        row = _g(r[0][a], r[1][a], r[2][a])                                     # (G g) G^T, row a
        for b in range(4):
            u[4 * a + b] = row[b]
    return u


def weight_grad_transform(du):
    """``dW = G^T dU G`` from ``du`` (16, O, C): the weight gradient (O, C, 3, 3)."""
    _, o, c = du.shape
    dw = np.empty((o, c, 3, 3), du.dtype)
    if _ck.wino_weight_grad(du, dw):
        return dw
    q = [_gt(du[b], du[4 + b], du[8 + b], du[12 + b]) for b in range(4)]         # G^T dU, by column b
    for i in range(3):
        row = _gt(q[0][i], q[1][i], q[2][i], q[3][i])                           # (G^T dU) G, row i
        for j in range(3):
            dw[:, :, i, j] = row[j]
    return dw


# The input gradient's kernel is the weight flipped in both spatial axes (and in/out transposed): G applied to
# the reversed taps (g2, g1, g0) gives G g's positions in the order 3, 1, 2, 0, so its transform is U's planes
# permuted (no transform of its own), each plane (O, C) the GEMM's right operand as it is.
_FLIP = tuple(4 * a + b for a in (3, 1, 2, 0) for b in (3, 1, 2, 0))


# -- the transforms: compiled kernels, or their NumPy twins (the same additions in the same order) ---------------
PLANE_GAP_BYTES = 256   # between two of the 16 planes: 16 streams a power of two apart share one cache set


def planes(t, k, dtype):
    """An uninitialized ``(16, t, k)`` array whose 16 C-contiguous planes lie ``PLANE_GAP_BYTES`` apart in one
    flat buffer (its ``base``): the transforms write (or read) the 16 planes at once, and planes whose distance
    is a multiple of 4 KiB would map their streams to one set of the L1 cache (4x slower input transform at
    64 channels on 8x8 images)."""
    dt = np.dtype(dtype)
    pl = t * k + PLANE_GAP_BYTES // dt.itemsize
    flat = np.empty(15 * pl + t * k, dt)
    return np.ndarray((16, t, k), dt, flat, 0, (pl * dt.itemsize, k * dt.itemsize, dt.itemsize))


def _split(a, shape):
    """A view of ``a`` with ``shape`` (raises rather than copy: the twins write through these views)."""
    v = a.view()
    v.shape = shape
    return v


def input_transform(x, pads):
    """``V = B^T d B`` of every 4x4 input patch of ``x`` (N, C, H, W; C-contiguous): ``(16, T, C)``."""
    n, c, h, wd = x.shape
    oh, ow, th, tw = _tiles(h, wd, pads)
    (p0, _), (q0, _) = pads
    v = planes(n * th * tw, c, x.dtype)
    if _ck.wino_input(x, v, (p0, q0, th, tw)):
        return v
    xp_ = _nhwc.padded_nhwc(x, p0, q0, 2 * th + 2, 2 * tw + 2)
    d = [[xp_[:, r:r + 2 * th:2, k:k + 2 * tw:2] for k in range(4)] for r in range(4)]   # (N, TH, TW, C)
    t = [[None] * 4 for _ in range(4)]
    for r in range(4):              # rows: d @ B
        a0, a1, a2, a3 = d[r]
        t[r] = [a0 - a2, a1 + a2, a2 - a1, a1 - a3]
    vv = _split(v, (4, 4, n, th, tw, c))
    for b in range(4):              # columns: B^T @ (d B)
        np.subtract(t[0][b], t[2][b], out=vv[0, b])
        np.add(t[1][b], t[2][b], out=vv[1, b])
        np.subtract(t[2][b], t[1][b], out=vv[2, b])
        np.subtract(t[1][b], t[3][b], out=vv[3, b])
    return v


def output_transform(m, out, b, th, tw):
    """``Y = A^T M A`` of the GEMMs' ``m`` (16, T, O) into ``out`` (N, O, OH, OW; C-contiguous), plus ``b``."""
    n, o, oh, ow = out.shape
    if _ck.wino_output(m, out, b, (th, tw)):
        return out
    mm = _split(m, (4, 4, n, th, tw, o))
    s = [[None, None] for _ in range(4)]
    for a in range(4):              # M A
        m0, m1, m2, m3 = mm[a]
        s[a] = [m0 + m1 + m2, m1 - m2 - m3]
    y = np.empty((n, th, 2, tw, 2, o), m.dtype)
    for j in range(2):              # A^T (M A)
        y[:, :, 0, :, j] = s[0][j] + s[1][j] + s[2][j]
        y[:, :, 1, :, j] = s[1][j] - s[2][j] - s[3][j]
    y = y.reshape(n, 2 * th, 2 * tw, o)[:, :oh, :ow].transpose(0, 3, 1, 2)
    if b is None:
        np.copyto(out, y)
    else:
        np.add(y, b.reshape(-1, 1, 1), out=out)
    return out


def grad_output_transform(g, th, tw):
    """``dM = A dY A^T`` of every 2x2 output-gradient tile of ``g`` (N, O, OH, OW; C-contiguous; a half tile's
    missing row or column is zero): ``(16, T, O)``."""
    n, o, oh, ow = g.shape
    dm = planes(n * th * tw, o, g.dtype)
    if _ck.wino_grad_output(g, dm, (th, tw)):
        return dm
    gp = _nhwc.padded_nhwc(g, 0, 0, 2 * th, 2 * tw)
    e = [[gp[:, i::2, j::2] for j in range(2)] for i in range(2)]            # (N, TH, TW, O)
    r = [[e[0][j], e[0][j] + e[1][j], e[0][j] - e[1][j], -e[1][j]] for j in range(2)]    # A dY, by column j
    dd = _split(dm, (4, 4, n, th, tw, o))
    for a in range(4):              # (A dY) A^T
        np.copyto(dd[a, 0], r[0][a])
        np.add(r[0][a], r[1][a], out=dd[a, 1])
        np.subtract(r[0][a], r[1][a], out=dd[a, 2])
        np.negative(r[1][a], out=dd[a, 3])
    return dm


# -- the convolution ----------------------------------------------------------------------------------------
def _gemms(v, u, flip):
    """``M[xi] = V[xi] @ U[xi]^T`` (the forward; ``u`` (16, O, C)) or, with ``flip``, ``V[xi] @ U[_FLIP[xi]]``
    (the input gradient's convolution): ``(16, T, K)`` planes."""
    t = v.shape[1]
    if not flip:
        return np.matmul(v, u.transpose(0, 2, 1), out=planes(t, u.shape[1], v.dtype))
    m = planes(t, u.shape[2], v.dtype)
    for xi in range(16):
        np.matmul(v[xi], u[_FLIP[xi]], out=m[xi])
    return m


# Bytes of transformed input and products (16 x tiles x (C + O) elements an image) a chunk of images makes at
# once: a part of the batch runs chunk by chunk, so each chunk's transforms are still in L2 when its GEMMs and
# the output transform read them.  Measured, 1 thread, fwd+bwd, whole part -> chunks of 8 / 4 / 2 images:
# 64x32x26x26 -> 64 (885 KB an image) 73 -> 48 / 46 / 44 ms (the blocked direct path 56, PyTorch 45);
# 64x32x14x14 -> 64 pad 1 (301 KB) -> 14.4 / 15.3 / 17.9 (direct 21.9).
CHUNK_BYTES = 2 << 20


def _chunks(x, k_out, pads):
    """Images per chunk for a batch ``x`` (N, K, H, W) transformed to ``k_out`` channels."""
    n, k, h, wd = x.shape
    th, tw = _tiles(h, wd, pads)[2:]
    per = 16 * th * tw * (k + k_out) * x.itemsize
    return max(1, min(n, CHUNK_BYTES // per))


def _conv(x, u, b, pads, out, flip=False):
    """One part of a convolution (a slice of the batch), chunk by chunk: ``x`` (n, K, H, W) through the
    transformed kernel ``u`` into ``out`` (n, K', OH, OW)."""
    th, tw = _tiles(x.shape[2], x.shape[3], pads)[2:]
    k = _chunks(x, out.shape[1], pads)
    for i in range(0, x.shape[0], k):
        v = input_transform(np.ascontiguousarray(x[i:i + k]), pads)
        output_transform(_gemms(v, u, flip), out[i:i + k], b, th, tw)
    return out


def _parts(n, threads):
    return _parallel.slices(n, threads) if threads > 1 else [slice(0, n)]


def _run(calls):
    return _parallel.in_parallel(calls, len(calls)) if len(calls) > 1 else [calls[0]()]


def forward(x, w, b, pads, threads=1):
    """The convolution of ``x`` (N, C, H, W) with ``w`` (O, C, 3, 3) (+ ``b``) at stride 1: a contiguous
    (N, O, OH, OW) array, the batch in ``threads`` parts at once (each with BLAS at one thread); None when the
    result is not all finite (the caller then takes its direct path)."""
    n, c, h, wd = x.shape
    oh, ow = _tiles(h, wd, pads)[:2]
    with np.errstate(invalid="ignore", over="ignore"):      # (inf/NaN: the caller's direct path instead)
        u = weight_transform(np.ascontiguousarray(w))
        out = np.empty((n, w.shape[0], oh, ow), x.dtype)
        _run([lambda s=s: _conv(x[s], u, b, pads, out[s]) for s in _parts(n, threads)])
        return out if finite(out) else None


def backward(x, w, g, pads, need_x, need_w, threads=1):
    """``(grad_input, grad_weight)`` of the convolution (None where not needed) from the output gradient
    ``g``: the input gradient is the flipped kernel's convolution of ``g`` (padding ``2 - p``), the weight
    gradient ``G^T (sum over the parts of dM^T V) G``; the parts' sums added in image order.  None when a
    result is not all finite (the caller then takes its direct path)."""
    with np.errstate(invalid="ignore", over="ignore"):      # (inf/NaN: the caller's direct path instead)
        return _backward(x, w, g, pads, need_x, need_w, threads)


def _backward(x, w, g, pads, need_x, need_w, threads):
    (p0, p1), (q0, q1) = pads
    gpads = ((2 - p0, 2 - p1), (2 - q0, 2 - q1))
    n, c, h, wd = x.shape
    th, tw = _tiles(h, wd, pads)[2:]
    u = weight_transform(np.ascontiguousarray(w)) if need_x else None
    gx = np.empty(x.shape, x.dtype) if need_x else None

    def part(s):
        gs = np.ascontiguousarray(g[s])
        if need_x:
            _conv(gs, u, None, gpads, gx[s], flip=True)
        if not need_w:
            return None
        xs = x[s]
        du = t = None
        k = _chunks(xs, gs.shape[1], pads)
        for i in range(0, xs.shape[0], k):          # dU = sum over the chunks of dM^T V
            v = input_transform(np.ascontiguousarray(xs[i:i + k]), pads)
            dm = grad_output_transform(gs[i:i + k], th, tw)
            if du is None:
                du = np.matmul(dm.transpose(0, 2, 1), v, out=planes(dm.shape[2], v.shape[2], v.dtype))
            else:
                t = np.matmul(dm.transpose(0, 2, 1), v, out=t if t is not None else planes(*du.shape[1:], du.dtype))
                du += t
        return du
    dus = _run([lambda s=s: part(s) for s in _parts(n, threads)])
    gw = None
    if need_w:
        du = dus[0]
        for d in dus[1:]:
            du += d
        gw = weight_grad_transform(du)
    if (gx is not None and not finite(gx)) or (gw is not None and not finite(gw)):
        return None
    return gx, gw
