"""3x3 and 5x5 stride-1 convolutions by Winograd's minimal filtering, F(m x m, r x r) for F(2x2, 3x3),
F(4x4, 3x3) and F(2x2, 5x5) (Lavin and Gray, 2016).

Each m x m block of outputs (a *tile*) is computed from the alpha x alpha input patch under it (alpha = m + r -
1) with alpha^2 multiplications per input-output channel pair instead of r^2 m^2: the patch ``d`` and the
kernel ``g`` are transformed, ``V = B^T d B`` and ``U = G g G^T`` (alpha x alpha each), multiplied elementwise
and summed over the input channels, ``M[xi] = sum_c V[xi, c] U[xi, c]`` for each of the alpha^2 positions
``xi`` (alpha^2 GEMMs over the batch's tiles), and transformed back, ``Y = A^T M A``.  The GEMMs do 16 / 36
(F(2x2, 3x3)), 36 / 144 (F(4x4, 3x3)) or 36 / 100 (F(2x2, 5x5)) of the im2col GEMM's multiply-adds; the
transforms are a few additions per element, in ember's compiled kernels (``_ckernels.wino_*``) or, without
them, their NumPy twins below (the same operations in the same order: the same bits, a NaN's payload aside).
F(2x2, 3x3):

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

alpha = 6 (points 0, 1, -1, 2, -2 and infinity; F(2x2, 5x5) shares F(4x4, 3x3)'s B^T, its G has five columns
of the same rows' powers, its A^T is the first row below and [0, 1, -1, 2, -2, 1]):

    B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
           [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
    G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]
    A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]

3x3 kernels take F(4x4) from ``F4_FROM`` output pixels (6x6), F(2x2) below (on a 4x4 output, one F(4x4) tile,
both measured the same; on 2x2 F(4x4) would compute 9x the outputs); 5x5 kernels F(2x2, 5x5) (fwd+bwd, direct
-> Winograd, 1 / 2 threads: 32x32x12x12 -> 64 (the triplet network's conv2) 8.3 -> 6.1 / 4.7 -> 3.8 ms;
64x16x14x14 -> 32 pad 2 19.1 -> 9.8 / 11.3 -> 7.6; 64x32x28x28 -> 64 pad 2 210 -> 91 / 123 -> 61).

The backward is Winograd too: the input gradient is an r x r stride-1 convolution of the output gradient with
the flipped, transposed kernel (padding ``r - 1 - p`` on each side), so it is this forward again; the weight gradient
transforms the output gradient's tiles, ``dM = A dY A^T``, multiplies them with the input's ``V`` (made again:
keeping it would hold 2-4x every such layer's input until its backward), ``dU[xi] = dM[xi]^T V[xi]``, and
transforms back, ``dW = G^T dU G``.  Each of the three picks its own m from the size of what it makes.

A part of the batch (one per thread at 2+ threads) runs a few images at a time (``CHUNK_BYTES``), so that a
chunk's transforms are still in L2 when its GEMMs read them.

Layouts: ``V`` is ``(alpha^2, T, C)`` with T = N * TH * TW tiles (image-major, then tile rows, then tile
columns), channels innermost so that each transform works on runs of C elements (its planes a little apart in
one buffer, ``planes``); ``U`` is ``(alpha^2, C, O)``; ``M[xi] = V[xi] @ U[xi]`` is ``(alpha^2, T, O)``.

Rounding (a departure from PyTorch's CPU convolution, for speed): the results differ from the direct
convolution's in the last bits.  F(2x2, 3x3) by ~5e-7 of the largest output in float32 (the direct sums' own
differences from PyTorch are 1e-7 to 5e-7); alpha = 6, whose transforms multiply by up to 8 and divide by 6,
by ~2e-6 to 8e-6 of it (float64: ~1e-14), as the Winograd convolutions of cuDNN and of NNPACK (PyTorch's former
CPU fast path, F(6x6, 3x3)) do.  ``ember.backends.nnpack.enabled = False`` (or ``with
ember.backends.nnpack.flags(enabled=False):``) turns Winograd off: every convolution then takes the direct
paths.  A result that is not all finite (an inf or NaN in the input or weight: the transforms' differences
turn inf - inf into NaN where the direct sums keep inf) is made again by the caller's direct path, so inf/NaN
come out as PyTorch's convolution gives them.
"""
from __future__ import annotations

import math

from ..backend import xp as np
from . import _ckernels as _ck, _conv_nhwc as _nhwc, _parallel
from ..backends import nnpack as _switch

MIN_CHANNELS = 16       # input and output channels below which the transforms cost more than the GEMMs save
MIN_TILES = 128         # 2x2 tiles per part of a batch split among threads (fewer: BLAS's threads do the GEMMs)
MAX_PIXELS = None       # output pixels above which the direct paths are taken (None: no limit; tests set 0)
# Output pixels from which F(4x4, 3x3) is taken.  fwd+bwd through conv2d, batch 64 (8 for 112x112), float32,
# medians of 7, direct / F(2x2) / F(4x4) ms at 1 thread, then at 2 (one run each; this machine's runs move by
# 10-20%): 32 -> 64 channels 26x26 no padding 60.6 / 44.6 / 37.0, 33.1 / 27.6 / 21.2; 32 -> 64 14x14 pad 1 24.2
# / 16.6 / 11.6, 13.6 / 11.0 / 10.6; 64 -> 64 8x8 12.0 / 9.2 / 6.2, 7.5 / 5.3 / 4.0; 128 -> 128 4x4 12.3 / 7.1 /
# 8.0, 7.1 / 4.8 / 4.9; 256 -> 256 2x2 11.4 / 12.0 / 10.8, 9.1 / 9.4 / 9.5; 64 -> 64 32x32 194 / 189 / 138,
# 114 / 117 / 89; 8x64x112x112 -> 64 342 / 265 / 181, 214 / 133 / 104; 16 -> 16 32x32 25.7 / 27.4 / 21.1,
# 15.1 / 12.5 / 13.1; 16 -> 32 24x24 17.6 / 16.4 / 16.8, 10.5 / 11.0 / 12.5 (again: 9.9 / 9.3 / 8.1).
F4_FROM = 36


def applies(x, w, stride, pads, dil, groups) -> bool:
    """Whether the Winograd path takes this convolution: Winograd enabled (``ember.backends.nnpack``), a host
    float32/float64 array, groups 1, a 3x3 or 5x5 kernel at stride 1 and dilation 1, padding at most r - 1 on
    each side (the input gradient's is r - 1 - p), at least ``MIN_CHANNELS`` input and output channels and an
    output of at least 2x2 (and at most ``MAX_PIXELS``, when set)."""
    if not _switch.enabled:
        return False
    if type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or x.dtype != w.dtype:
        return False
    r = w.shape[2]
    if groups != 1 or w.shape[2:] not in ((3, 3), (5, 5)) or tuple(stride) != (1, 1) or tuple(dil) != (1, 1):
        return False
    (p0, p1), (q0, q1) = pads
    if not all(0 <= p < r for p in (p0, p1, q0, q1)):
        return False
    n, c, h, wd = x.shape
    o = w.shape[0]
    oh, ow = h + p0 + p1 - r + 1, wd + q0 + q1 - r + 1
    return (n > 0 and c >= MIN_CHANNELS and o >= MIN_CHANNELS and oh >= 2 and ow >= 2
            and (MAX_PIXELS is None or oh * ow <= MAX_PIXELS))


def split(threads, x_shape, pads, r=3):
    """How many parts of the batch run at once, at most ``threads`` (each part with ``MIN_TILES`` 2x2 tiles'
    worth of outputs or more: 2 threads, fwd+bwd, 64 images of 256 channels at 2x2 (64 tiles) whole / in two
    parts 5.2-5.5 / 6.1-6.3 ms; 128 channels at 4x4 (256 tiles) 4.5-4.7 / 3.8-4.1)."""
    n, _, h, wd = x_shape
    th, tw = _tiles(h, wd, pads, 2, r)[2:]
    return max(1, min(threads, n * th * tw // MIN_TILES))


def tile_size(oh, ow, r=3) -> int:
    """m of F(m x m, r x r) for an output of OH x OW: 3x3 kernels from ``F4_FROM`` output pixels 4, else 2."""
    return 4 if r == 3 and oh * ow >= F4_FROM else 2


def _tiles(h, wd, pads, m, r=3):
    """(OH, OW, TH, TW): the output size and its grid of m x m tiles (a last row or column may be partial)."""
    (p0, p1), (q0, q1) = pads
    oh, ow = h + p0 + p1 - r + 1, wd + q0 + q1 - r + 1
    return oh, ow, -(-oh // m), -(-ow // m)


def finite(a) -> bool:
    """Whether every element of ``a`` is finite: one pass (a sum; an overflowing sum says no, and the caller
    then takes the direct path, which is never wrong)."""
    return math.isfinite(float(np.einsum("i->", a.reshape(-1)))) if a.flags.c_contiguous else \
        bool(np.isfinite(a).all())


# -- the 1-D transforms (alpha = m + r - 1 points), as the compiled kernels make them (the same order) ----------
def _bt(d):
    """B^T on alpha values (alpha 4: points 0, 1, -1 and infinity; 6: 0, 1, -1, 2, -2 and infinity)."""
    if len(d) == 4:
        d0, d1, d2, d3 = d
        return [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
    d0, d1, d2, d3, d4, d5 = d
    a, b, c, e = d4 - d2 * 4, d3 - d1 * 4, d4 - d2, (d3 - d1) * 2
    return [(d0 * 4 - d2 * 5) + d4, a + b, a - b, c + e, c - e, (d1 * 4 - d3 * 5) + d5]


def _at(m, x):
    """A^T: alpha values to m (F(2, 3), F(4, 3), F(2, 5))."""
    if len(x) == 4:
        m0, m1, m2, m3 = x
        return [(m0 + m1) + m2, (m1 - m2) - m3]
    m0, m1, m2, m3, m4, m5 = x
    if m == 2:
        return [((m0 + m1) + m2) + (m3 + m4), ((m1 - m2) + (m3 - m4) * 2) + m5]
    s12, d12, s34, d34 = m1 + m2, m1 - m2, m3 + m4, m3 - m4
    return [(m0 + s12) + s34, d12 + d34 * 2, s12 + s34 * 4, (d12 + d34 * 8) + m5]


def _a(al, e):
    """A: m values to alpha."""
    if al == 4:
        e0, e1 = e
        return [e0, e0 + e1, e0 - e1, -e1]
    if len(e) == 2:
        e0, e1 = e
        d = e1 * 2
        return [e0, e0 + e1, e0 - e1, e0 + d, e0 - d, e1]
    e0, e1, e2, e3 = e
    a, b, c, d = e0 + e2, e1 + e3, e0 + e2 * 4, e1 * 2 + e3 * 8
    return [e0, a + b, a - b, c + d, c - d, e3]


def _g(a, b, c):
    """G's rows of F(2x2, 3x3) on three taps (the halves a product by 0.5 after the sum, exact; sums left to
    right)."""
    return a, (a + b + c) * 0.5, (a - b + c) * 0.5, c


def _gt(a0, a1, a2, a3):
    """G^T's rows of F(2x2, 3x3) on four positions."""
    return a0 + (a1 + a2) * 0.5, (a1 - a2) * 0.5, (a1 + a2) * 0.5 + a3


_SIXTH = 1 / 6


def _g6(*g):
    """G on r = 3 or 5 taps for alpha = 6 (F(4x4, 3x3), F(2x2, 5x5); Lavin and Gray's scaling), in float64: its
    sixths are not exact in binary, so the kernel transform is rounded once, at the end."""
    if len(g) == 3:
        g0, g1, g2 = g
        a, b = g0 + g2, g0 * 0.25 + g2
        mid = [-(a + g1) * _SIXTH, -(a - g1) * _SIXTH, (b + g1 * 0.5) * _SIXTH, (b - g1 * 0.5) * _SIXTH]
    else:
        g0, g1, g2, g3, g4 = g
        se, so, e2, o2 = (g0 + g2) + g4, g1 + g3, (g0 + g2 * 4) + g4 * 16, g1 * 2 + g3 * 8
        mid = [-(se + so) * _SIXTH, -(se - so) * _SIXTH, ((e2 + o2) * 0.25) * _SIXTH, ((e2 - o2) * 0.25) * _SIXTH]
    return [g[0] * 0.25] + mid + [g[-1]]


def _gt6(r, d0, d1, d2, d3, d4, d5):
    """G^T on six positions to r values, in float64."""
    s12, d12, s34, d34 = d1 + d2, d1 - d2, d3 + d4, d3 - d4
    z = [d0 * 0.25 + (s34 * 0.25 - s12) * _SIXTH, (d34 * 0.5 - d12) * _SIXTH]
    if r == 3:
        return z + [(s34 - s12) * _SIXTH + d5]
    return z + [(s34 - s12) * _SIXTH, (d34 * 2 - d12) * _SIXTH, (s34 * 4 - s12) * _SIXTH + d5]


def kernel_transform(w, m, transpose=False, flip=False):
    """``U = G g G^T`` of the r x r kernels of ``w`` (O, C, r, r), with ``flip`` each kernel reversed in both
    axes: ``(alpha^2, O, C)`` planes (position a * alpha + b), with ``transpose`` ``(alpha^2, C, O)``: the
    GEMMs' right operand (the forward's transposed, the input gradient's flipped).  The compiled kernel or its
    twin below (the same bits): G by columns, then by rows; alpha = 6 in float64, rounded once."""
    w = np.ascontiguousarray(w)
    r = w.shape[2]
    k = w.transpose(1, 0, 2, 3) if transpose else w
    k = k[:, :, ::-1, ::-1] if flip else k
    al = m + r - 1
    u = planes(k.shape[0], k.shape[1], w.dtype, al * al)
    if _ck.wino_weight(w, u, m, transpose, flip):
        return u
    g, k = (_g, k) if al == 4 else (_g6, k.astype(np.float64))
    cols = [g(*(k[:, :, i, j] for i in range(r))) for j in range(r)]             # G g, by column j
    for a in range(al):
        row = g(*(cols[j][a] for j in range(r)))                                # (G g) G^T, row a
        for b in range(al):
            u[al * a + b] = row[b]
    return u


def weight_grad_transform(du, m, r=3):
    """``dW = G^T dU G`` from ``du`` (alpha^2, O, C): the weight gradient (O, C, r, r) (alpha = 6: in float64,
    rounded once)."""
    _, o, c = du.shape
    dw = np.empty((o, c, r, r), du.dtype)
    if _ck.wino_weight_grad(du, dw, m):
        return dw
    al = m + r - 1
    gt, d = (_gt, du) if al == 4 else (lambda *v: _gt6(r, *v), du.astype(np.float64))
    q = [gt(*(d[al * a + b] for a in range(al))) for b in range(al)]            # G^T dU, by column b
    for i in range(r):
        row = gt(*(q[b][i] for b in range(al)))                                 # (G^T dU) G, row i
        for j in range(r):
            dw[:, :, i, j] = row[j]
    return dw


# -- the transforms: compiled kernels, or their NumPy twins (the same additions in the same order) ---------------
PLANE_GAP_BYTES = 256   # between two planes: streams a power of two apart share one cache set


def planes(t, k, dtype, count=16):
    """An uninitialized ``(count, t, k)`` array whose C-contiguous planes lie ``PLANE_GAP_BYTES`` apart in one
    flat buffer (its ``base``): the transforms write (or read) all the planes at once, and planes whose
    distance is a multiple of 4 KiB would map their streams to one set of the L1 cache (4x slower input
    transform at 64 channels on 8x8 images)."""
    dt = np.dtype(dtype)
    pl = t * k + PLANE_GAP_BYTES // dt.itemsize
    flat = np.empty((count - 1) * pl + t * k, dt)
    return np.ndarray((count, t, k), dt, flat, 0, (pl * dt.itemsize, k * dt.itemsize, dt.itemsize))


def _split(a, shape):
    """A view of ``a`` with ``shape`` (raises rather than copy: the twins write through these views)."""
    v = a.view()
    v.shape = shape
    return v


def input_transform(x, pads, m, r=3):
    """``V = B^T d B`` of every alpha x alpha input patch of ``x`` (N, C, H, W; C-contiguous): ``(alpha^2, T,
    C)``, its rows transformed first, then its columns."""
    n, c, h, wd = x.shape
    oh, ow, th, tw = _tiles(h, wd, pads, m, r)
    (p0, _), (q0, _) = pads
    al = m + r - 1
    v = planes(n * th * tw, c, x.dtype, al * al)
    if _ck.wino_input(x, v, (p0, q0, th, tw, m, r)):
        return v
    xp_ = _nhwc.padded_nhwc(x, p0, q0, m * th + r - 1, m * tw + r - 1)
    t = [_bt([xp_[:, i:i + m * th:m, k:k + m * tw:m] for k in range(al)]) for i in range(al)]  # (N, TH, TW, C)
    vv = _split(v, (al, al, n, th, tw, c))
    for b in range(al):
        for a, col in enumerate(_bt([t[i][b] for i in range(al)])):
            vv[a, b] = col
    return v


def output_transform(mm, out, b, th, tw, m, r=3):
    """``Y = A^T M A`` of the GEMMs' ``mm`` (alpha^2, T, O) into ``out`` (N, O, OH, OW; C-contiguous), plus
    ``b``."""
    n, o, oh, ow = out.shape
    if _ck.wino_output(mm, out, b, (th, tw, m, r)):
        return out
    al = m + r - 1
    v = _split(mm, (al, al, n, th, tw, o))
    s = [_at(m, [v[a, k] for k in range(al)]) for a in range(al)]
    y = np.empty((n, th, m, tw, m, o), mm.dtype)
    for j in range(m):
        for i, row in enumerate(_at(m, [s[a][j] for a in range(al)])):
            y[:, :, i, :, j] = row
    y = y.reshape(n, m * th, m * tw, o)[:, :oh, :ow].transpose(0, 3, 1, 2)
    if b is None:
        np.copyto(out, y)
    else:
        np.add(y, b.reshape(-1, 1, 1), out=out)
    return out


def grad_output_transform(g, th, tw, m, r=3):
    """``dM = A dY A^T`` of every m x m output-gradient tile of ``g`` (N, O, OH, OW; C-contiguous; a partial
    tile's missing rows and columns are zero): ``(alpha^2, T, O)``."""
    n, o, oh, ow = g.shape
    al = m + r - 1
    dm = planes(n * th * tw, o, g.dtype, al * al)
    if _ck.wino_grad_output(g, dm, (th, tw, m, r)):
        return dm
    gp = _nhwc.padded_nhwc(g, 0, 0, m * th, m * tw)
    s = [_a(al, [gp[:, i::m, j::m] for j in range(m)]) for i in range(m)]      # (N, TH, TW, O)
    dd = _split(dm, (al, al, n, th, tw, o))
    for k in range(al):
        for a, col in enumerate(_a(al, [s[i][k] for i in range(m)])):
            dd[a, k] = col
    return dm


# -- the convolution ----------------------------------------------------------------------------------------
def _gemms(v, u):
    """``M[xi] = V[xi] @ U[xi]`` for every position xi: ``(alpha^2, T, K_out)`` planes."""
    return np.matmul(v, u, out=planes(v.shape[1], u.shape[2], v.dtype, v.shape[0]))


# Bytes of transformed input and products (alpha^2 x tiles x (C + O) elements an image) a chunk of images makes
# at once: a part of the batch runs chunk by chunk, so each chunk's transforms are still in L2 when its GEMMs
# and the output transform read them.  Measured, 1 thread, fwd+bwd, F(2x2), whole part -> chunks of 8 / 4 / 2
# images: 64x32x26x26 -> 64 (885 KB an image) 73 -> 48 / 46 / 44 ms; 64x32x14x14 -> 64 pad 1 (301 KB) -> 14.4 /
# 15.3 / 17.9.
CHUNK_BYTES = 2 << 20


def _chunks(x, k_out, pads, m, r):
    """Images per chunk for a batch ``x`` (N, K, H, W) transformed to ``k_out`` channels."""
    n, k, h, wd = x.shape
    th, tw = _tiles(h, wd, pads, m, r)[2:]
    per = (m + r - 1) ** 2 * th * tw * (k + k_out) * x.itemsize
    return max(1, min(n, CHUNK_BYTES // per))


def _conv(x, u, b, pads, out, m, r):
    """One part of a convolution (a slice of the batch), chunk by chunk: ``x`` (n, K, H, W) through the
    transformed kernel ``u`` (alpha^2, K, K') into ``out`` (n, K', OH, OW)."""
    th, tw = _tiles(x.shape[2], x.shape[3], pads, m, r)[2:]
    k = _chunks(x, out.shape[1], pads, m, r)
    for i in range(0, x.shape[0], k):
        v = input_transform(np.ascontiguousarray(x[i:i + k]), pads, m, r)
        output_transform(_gemms(v, u), out[i:i + k], b, th, tw, m, r)
    return out


def _parts(n, threads):
    return _parallel.slices(n, threads) if threads > 1 else [slice(0, n)]


def _run(calls):
    return _parallel.in_parallel(calls, len(calls)) if len(calls) > 1 else [calls[0]()]


def forward(x, w, b, pads, threads=1):
    """The convolution of ``x`` (N, C, H, W) with ``w`` (O, C, r, r) (+ ``b``) at stride 1: a contiguous
    (N, O, OH, OW) array, the batch in ``threads`` parts at once (each with BLAS at one thread); None when the
    result is not all finite (the caller then takes its direct path)."""
    n, c, h, wd = x.shape
    r = w.shape[2]
    oh, ow = _tiles(h, wd, pads, 2, r)[:2]
    m = tile_size(oh, ow, r)
    with np.errstate(invalid="ignore", over="ignore"):      # (inf/NaN: the caller's direct path instead)
        u = kernel_transform(w, m, transpose=True)          # (alpha^2, C, O)
        out = np.empty((n, w.shape[0], oh, ow), x.dtype)
        _run([lambda s=s: _conv(x[s], u, b, pads, out[s], m, r) for s in _parts(n, threads)])
        return out if finite(out) else None


def backward(x, w, g, pads, need_x, need_w, threads=1):
    """``(grad_input, grad_weight)`` of the convolution (None where not needed) from the output gradient
    ``g``: the input gradient is the flipped kernel's convolution of ``g`` (padding ``r - 1 - p``), the weight
    gradient ``G^T (sum over the parts of dM^T V) G``; the parts' sums added in image order.  None when a
    result is not all finite (the caller then takes its direct path)."""
    with np.errstate(invalid="ignore", over="ignore"):      # (inf/NaN: the caller's direct path instead)
        return _backward(x, w, g, pads, need_x, need_w, threads)


def _backward(x, w, g, pads, need_x, need_w, threads):
    r = w.shape[2]
    (p0, p1), (q0, q1) = pads
    gpads = ((r - 1 - p0, r - 1 - p1), (r - 1 - q0, r - 1 - q1))
    n, c, h, wd = x.shape
    oh, ow = g.shape[2:]
    mx, mw = tile_size(h, wd, r), tile_size(oh, ow, r)  # (the input gradient's output is the input's size)
    th, tw = _tiles(h, wd, pads, mw, r)[2:]
    u = kernel_transform(w, mx, flip=True) if need_x else None       # the flipped kernel: (alpha^2, O, C)
    gx = np.empty(x.shape, x.dtype) if need_x else None

    def part(s):
        gs = np.ascontiguousarray(g[s])
        if need_x:
            _conv(gs, u, None, gpads, gx[s], mx, r)
        if not need_w:
            return None
        xs = x[s]
        du = t = None
        k = _chunks(xs, gs.shape[1], pads, mw, r)
        for i in range(0, xs.shape[0], k):          # dU = sum over the chunks of dM^T V
            v = input_transform(np.ascontiguousarray(xs[i:i + k]), pads, mw, r)
            dm = grad_output_transform(gs[i:i + k], th, tw, mw, r)
            if du is None:
                du = np.matmul(dm.transpose(0, 2, 1), v, out=planes(dm.shape[2], v.shape[2], v.dtype, v.shape[0]))
            else:
                if t is None:
                    t = planes(*du.shape[1:], du.dtype, du.shape[0])
                du += np.matmul(dm.transpose(0, 2, 1), v, out=t)
        return du
    dus = _run([lambda s=s: part(s) for s in _parts(n, threads)])
    gw = None
    if need_w:
        du = dus[0]
        for d in dus[1:]:
            du += d
        gw = weight_grad_transform(du, mw, r)
    if (gx is not None and not finite(gx)) or (gw is not None and not finite(gw)):
        return None
    return gx, gw
