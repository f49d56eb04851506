"""Sums over the leading dims of a float array as one BLAS matrix-vector product with a vector of ones,
``ones(M) @ a.reshape(M, K)``, and over the trailing dims as ``einsum("ij->i", a.reshape(M, K))``.

NumPy's ``sum`` reduces a leading axis row after row and a short contiguous row with a per-row pairwise loop;
GEMV and einsum stream the matrix once with SIMD accumulators.  Measured at one thread, float32 (us): column
sums (NumPy / GEMV) 2048x384 138 / 86, 2048x128 48 / 12, 128x512 7.2 / 2.7 (and OpenBLAS threads GEMV at 2+
threads); row sums (NumPy / einsum) 2048x128 63 / 18, 8192x64 187 / 52, 128x64 3.6 / 2.1.  (GEMV is faster
still for row sums, 15 and 36 us there, but a row's sum then depends on where the row falls in BLAS's blocks
and threads, and the split kernels need each row computed as in the whole array; einsum sums each row on its
own.)  The error is of NumPy's order: a column sum is sequential in NumPy too, and a row sum is taken this way
only up to ``MAX_ROW`` elements (beyond, NumPy's pairwise sum is more accurate than a blocked sequential one).

Float32/float64 arrays whose reduced dims and kept dims are each one contiguous block only; ``None``
elsewhere (the caller runs NumPy's sum).  A device array takes the same path with its own array module, so
that a device gives the CPU's numbers."""
from __future__ import annotations

from ..backend import xp as np
from ..backend.device import array_module as _xp
from . import _parallel as _par

MAX_ROW = 8192                  # the longest row summed by einsum (see above)
_ONES: dict = {}                # (n, dtype char) -> a vector of ones (host; not written to)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ndarray = np.ndarray


def _ones(n, dt, m):
    if m is not np:
        return m.ones(n, dt)
    v = _ONES.get((n, dt.char))
    if v is None:
        v = np.ones(n, dt)
        if n <= 1 << 16 and len(_ONES) < 256:
            _ONES[(n, dt.char)] = v
    return v


# GEMVs of this many matrix elements run with BLAS at one thread when it has several: OpenBLAS splits them from
# about 2^18, and the split loses until a few million.  Measured on the AMD EPYC virtual machine, float32, 2
# BLAS threads / one, median of 100 each after ~0.2 ms of other work: column sums of 2048x256 102-107 / 52-68 us,
# 2048x384 115-129 / 69-106, 2048x512 144-158 / 91-146, 4096x1000 437-439 / 449-526 (the transformer LM's bias
# gradients are 2048x128-512).
GEMV_ONE_THREAD = (1 << 18, 1 << 21)


def _ones_gemv(a2):
    """``ones(M) @ a2`` for a 2-D (M, K) float array, on one BLAS thread in ``GEMV_ONE_THREAD``'s range."""
    v = _ones(a2.shape[0], a2.dtype, _xp(a2))
    lo, hi = GEMV_ONE_THREAD
    if lo < a2.size < hi and type(a2) is _ndarray:
        return _par.on_one_blas_thread(np.matmul, v, a2)
    return v @ a2


def col_sums(a2):
    """``a2.sum(0)`` of a 2-D array: GEMV for a float one (any row stride), else NumPy's sum."""
    if a2.dtype in _FLOATS:
        return _ones_gemv(a2)
    return a2.sum(0)


def row_sums(a2):
    """``a2.sum(1)`` of a 2-D float array as ``einsum``: one SIMD pass per row, each row summed on its own
    (4096x1000 float32: 0.46 against 0.74 ms for NumPy's pairwise sum); any device."""
    return _xp(a2).einsum("ij->i", a2)


# Whole-array sums from this many elements take ``total``: rows of TOTAL_ROW elements summed by einsum, then
# NumPy's pairwise sum of the row sums.  Measured at one thread, float32, NumPy's sum / this: 65536 elements
# 13.4 / 9.3 us, 1.2M 265 / 87, 4M 1027 / 809; against a float64 sum of positive values the relative error is
# NumPy's (2e-9 to 1.3e-7 on 65K-4M elements, both ways: each row's 512 terms go into einsum's SIMD lanes, as
# NumPy's pairwise sum sums its blocks of 128 in eight).
TOTAL_FROM = 1 << 15
TOTAL_ROW = 512


def total(a):
    """The sum of every element of a C-contiguous float32/float64 NumPy array of at least ``TOTAL_FROM``
    elements as a NumPy scalar (``a.sum()``'s type), else None."""
    if type(a) is not _ndarray or a.size < TOTAL_FROM or a.dtype not in _FLOATS or not a.flags.c_contiguous:
        return None
    f = a.reshape(-1)
    m = f.size // TOTAL_ROW
    r = np.add.reduce(np.einsum("ij->i", f[:m * TOTAL_ROW].reshape(m, TOTAL_ROW)))
    if m * TOTAL_ROW < f.size:
        r = r + np.add.reduce(f[m * TOTAL_ROW:])
    return r


def fsum(a, axes, keepdims=False, mean=False):
    """``a.sum(axes, keepdims=keepdims)`` (or ``a.mean``), through GEMV where ``sum_axes`` applies; ``axes`` an
    int or a tuple of ints (negative ones allowed)."""
    nd = a.ndim
    t = tuple(sorted(d % nd for d in axes)) if isinstance(axes, tuple) else (axes % nd,) if nd else ()
    r = sum_axes(a, t, keepdims, mean)
    if r is None:
        return a.mean(axes, keepdims=keepdims) if mean else a.sum(axes, keepdims=keepdims)
    return r


CHANNEL_FROM = 1 << 12


def _channel_sums(a, keepdims, mean):
    """The sum over every axis but axis 1 of a C-contiguous (N, C, *L) float array (the per-channel sums of
    batch, group and instance norm's affine gradients, a bias's): each (n, c) row of L elements by einsum, then
    the (N, C) row sums down the batch by GEMV, instead of NumPy's reduction over the non-contiguous axes
    (one thread, float32: 32x64x8x8 77 -> 37 us, 64x16x24x24 180 -> 50); None for arrays below
    ``CHANNEL_FROM`` elements (two calls cost more than NumPy's one there: 120 elements 2.2 against 6.5 us), rows
    longer than ``MAX_ROW``."""
    n, c = a.shape[:2]
    L = a.size // (n * c) if n * c else 0
    if a.size < CHANNEL_FROM or L > MAX_ROW:
        return None
    out = _ones_gemv(row_sums(a.reshape(n * c, L)).reshape(n, c))
    if mean:
        _xp(a).true_divide(out, n * L, out=out)
    return out.reshape((1, c) + (1,) * (a.ndim - 2)) if keepdims else out


def sum_axes(a, axes, keepdims=False, mean=False):
    """``a.sum(axes, keepdims=keepdims)`` (or ``mean``) through GEMV where ``axes`` (a sorted tuple) are the
    leading or the trailing dims of a C-contiguous float array and the sum is not of everything; else
    None."""
    if a.dtype not in _FLOATS or not a.flags.c_contiguous:
        return None
    nd = a.ndim
    k = len(axes)
    if k == 0 or k >= nd:
        return None
    lead = axes == tuple(range(k))
    if not lead and axes != tuple(range(nd - k, nd)):
        if nd >= 3 and axes == (0,) + tuple(range(2, nd)):
            return _channel_sums(a, keepdims, mean)
        return None
    shape = a.shape
    m = 1
    for d in (shape[:k] if lead else shape[nd - k:]):
        m *= d
    if m == 0 or (not lead and m > MAX_ROW):
        return None
    kept = shape[k:] if lead else shape[:nd - k]
    xp = _xp(a)
    if lead:
        out = _ones_gemv(a.reshape(m, -1))
    else:
        out = row_sums(a.reshape(-1, m))
    if mean:
        xp.true_divide(out, m, out=out)
    if keepdims:
        return out.reshape((1,) * k + kept if lead else kept + (1,) * k)
    return out.reshape(kept)
