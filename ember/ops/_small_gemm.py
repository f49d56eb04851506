"""GEMMs cut into row blocks that OpenBLAS's small-matrix kernels take.

OpenBLAS on AVX-512 x86 (its SkylakeX, Cooperlake and SapphireRapids kernels) runs a GEMM with
M*N*K <= 100**3 in a "small-matrix" kernel that skips packing the operands, and every larger one in the packed
kernel.  Just above that limit the packed kernel is much slower per flop, measured at one thread on this
project's Xeon (NumPy 2.4 with OpenBLAS 0.3.31; ``time.thread_time`` of 3000 calls, best of 5):

    float64 (96, 52) @ (52, 200)   998,400 MNK: 19.6 us (102 GFLOP/s)
    float64 (97, 52) @ (52, 200) 1,008,800 MNK: 26.1 us  (77 GFLOP/s)
    float32 the same two shapes:                10.8 us / 14.2 us

The recurrent cells' GEMMs sit there (an LSTM cell of 51 units on a batch of 97, PyTorch's time-sequence
example: ``[x, h, 1] @ W`` is (97, 104) @ (104, 204), 2.06M), and computing them as two or three row blocks of
<= 100**3 each takes 0.68-0.86x the time of one call in float64 (the forward GEMM 49.4 -> 42.3 us, the weight
gradient's transposed one 56.7 -> 45.2 us, ``dz @ W_hh`` 34.5 -> 29.2 us).  The gain depends on the shape:
measured over the cells' and the zoo's shapes, it holds in float64 for two or three blocks of at least 24 rows,
and not for larger GEMMs cut into many thin blocks (an MLP's (128, 784) @ (784, 512) in 52 blocks takes 7.6x
as long), nor for every three-block shape ((128, 128) @ (128, 128): 1.2x), so only the cells use it, where it
was measured: the float64 LSTM cells' GEMMs in the time-sequence row take 28.4 instead of 32.4 ms per step.
In float32 the isolated GEMMs gain too ((97, 204) @ (204, 51): 0.85x) but the float32 LSTM cells' row lost
(GEMM time 16.7 -> 18.2 ms), so float32 GEMMs are never cut.

Each output row is still one dot product per element over the whole of K, in the small kernel's order instead
of the packed kernel's: the values can differ from one ``a @ b`` in the last bits, as they do between BLAS
libraries.  Used only when BLAS runs on one thread and is an OpenBLAS with those kernels (asked once through
threadpoolctl; without threadpoolctl, or with another BLAS, every call is one ``a @ b``).

With several BLAS threads, the cells' GEMMs run on one (``ONE_THREAD_BELOW``): OpenBLAS splits every GEMM from
M*N*K = 262,144 between its threads, and for a product of tens of microseconds waking the other core's
thread costs about what it saves.  The cell rows of ``make bench`` took as long at 2 BLAS threads as at one on
the Intel machine (float64 LSTM cells 74.7 against 72.0 ms, float32 42.8 against 41.4), and longer on an AMD
EPYC virtual machine, where a thread's wake-up takes 40-80 us (float64 LSTM cells 264 against 187 ms); with
their GEMMs on one thread there the float64 LSTM cells' step took 187-194 instead of 206-223 ms (fastest block
of 7 in each of three alternating runs; the medians 207-235 against 218-235: the machine's times move by
10-20%).  Setting BLAS's thread count through threadpoolctl costs ~1.7 us each way there.

Where ember lets OpenBLAS's idle threads spin ~0.2 ms (``_blas_spin.threads_stay_awake``: machines whose
wake-ups are slow), they are still spinning when the cells' next GEMM comes, and ``mm`` keeps BLAS's threads
(no stretch at one thread: ~3.7 us each, several hundred a step).  On the AMD EPYC virtual machine at 2
threads, interleaved A/Bs against one thread for these GEMMs: the float64 LSTM cells' step 0.85x, 0.98x,
1.07x, 0.97x (9, 7, 13 and 21 pairs; ranges 0.6-1.5: the machine's noisy phases), float32 0.85x and 0.95x,
the float64 RNN cells 0.95x: a small gain at best, no loss found.  Not the Linear layers' ``gemm``:
LeNet-5's step measured 1.08x with its fully connected GEMMs on both threads there (its convolutions' sections
then share the second core with the spinning thread).
"""
from __future__ import annotations

import numpy as np

from . import _blas_spin, _parallel

LIMIT = 100 ** 3                # OpenBLAS's small-matrix limit on M*N*K
SERIAL_UP_TO = 1 << 18          # OpenBLAS runs a GEMM up to this M*N*K on one thread by itself
ONE_THREAD_BELOW = 1 << 22      # above SERIAL_UP_TO, below this: ``mm`` runs the GEMM with BLAS at one thread
_MIN_ROWS = 24
_MAX_BLOCKS = {np.dtype(np.float64): 3}     # float32: slower inside the cells' loop (below)
_ARCHS = ("skylakex", "cooperlake", "sapphirerapids")
_HAS_SMALL = []                 # [bool], filled on first use


def _small_kernels() -> bool:
    if not _HAS_SMALL:
        libs = _parallel._controllers()
        _HAS_SMALL.append(bool(libs) and all(
            lib.internal_api == "openblas" and str(getattr(lib, "architecture", "")).lower() in _ARCHS
            for lib in libs))
    return _HAS_SMALL[0]


def blocks(m: int, k: int, n: int, dtype) -> int:
    """How many row blocks ``mm`` cuts an (m, k) @ (k, n) GEMM into: 1 (one call) unless every block fits the
    small kernel with at most ``_MAX_BLOCKS`` blocks of at least ``_MIN_ROWS`` rows."""
    mnk = m * k * n
    if mnk <= LIMIT:
        return 1
    most = _MAX_BLOCKS.get(dtype)
    if most is None:
        return 1
    c = -(-mnk // LIMIT)
    while c <= most and (-(-m // c)) * k * n > LIMIT:
        c += 1
    if c > most or m // c < _MIN_ROWS:
        return 1
    return c


def mm(a, b):
    """``a @ b`` for 2-D arrays of one float dtype, in row blocks where that is faster, and on one BLAS thread
    where several would not pay (see the module)."""
    m, k = a.shape
    n = b.shape[1]
    mnk = m * k * n
    if not SERIAL_UP_TO < mnk < ONE_THREAD_BELOW or type(a) is not np.ndarray or type(b) is not np.ndarray \
            or a.dtype != b.dtype:
        return a @ b            # (above ONE_THREAD_BELOW no block count fits the small kernel either)
    if _blas_spin.threads_stay_awake() and _parallel.blas_threads() > 1:
        return a @ b            # BLAS's threads still spin between the cells' GEMMs (see the module)
    return _parallel.on_one_blas_thread(_blocked, a, b, m, k, n)


def gemm(a, b):
    """``a @ b`` for 2-D arrays, on one BLAS thread where several would not pay (M*N*K between
    ``SERIAL_UP_TO`` and ``ONE_THREAD_BELOW``), never in row blocks: the GEMMs of Linear layers (eager, and the
    compiled step's and inference plan's kernels).  Measured on the AMD EPYC virtual machine (float32, BLAS at
    2 threads, each GEMM after ~0.2 ms of other work, as in a training step, so that OpenBLAS's worker has gone
    to sleep; median of 200):

        (64, 120) @ (120, 84)     0.65M:  43.7 us on 2 threads, 17.8 on one
        (64, 400) @ (400, 120)    3.07M:  86.1 / 73.1
        (97, 104) @ (104, 204)    2.06M:  86.4 / 50.7
        (64, 157) @ (157, 512)    5.14M: 114-161 / 122-138 (two runs)
        (128, 256) @ (256, 256)   8.39M: 139-163 / 201-205

    LeNet-5's fully connected layers (0.65-3.07M, forward and backward) sit in the losing range."""
    m, k = a.shape
    n = b.shape[1]
    if SERIAL_UP_TO < m * k * n < ONE_THREAD_BELOW and type(a) is np.ndarray and type(b) is np.ndarray:
        return _parallel.on_one_blas_thread(np.matmul, a, b)
    return a @ b


def _blocked(a, b, m, k, n):
    """``a @ b`` at one BLAS thread: in ``blocks`` row blocks where OpenBLAS has its small-matrix kernels."""
    if m * k * n <= LIMIT:
        return a @ b
    c = blocks(m, k, n, a.dtype)
    if c == 1 or not _small_kernels():
        return a @ b
    out = np.empty((m, n), a.dtype)
    rows = -(-m // c)
    for i in range(0, m, rows):
        np.matmul(a[i:i + rows], b, out=out[i:i + rows])
    return out
