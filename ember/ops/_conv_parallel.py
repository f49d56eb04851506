"""The blocked stride-1 convolution (``_conv_blocked``) on several cores: the images are split among Python
threads, each running the blocked kernels with BLAS set to one thread for the duration (NumPy and BLAS release
the GIL).  With 2+ BLAS threads the blocked kernels' many small GEMMs would each pay a thread hand-off, and the
whole-batch GEMM path uses the cores poorly on its 40 MB column matrix; splitting the images instead keeps each
core's GEMMs in its cache.  BLAS's thread count is read and set through threadpoolctl (an optional package:
without it nothing here runs and convolutions take the general path)."""
from __future__ import annotations

from ..backend import xp as np
from . import _conv_blocked as _blocked

_blas = []                      # threadpoolctl's BLAS controllers, looked up once (empty list: unavailable)
_PARALLEL = []                  # [ThreadPoolExecutor, its lock], made on first use
MIN_IMAGES = 4                  # images per thread below which one thread does the whole batch


def blas_threads():
    """BLAS's thread count (asked through threadpoolctl, ~2 us), or 0 when unknown (threadpoolctl not
    installed, or an unknown BLAS)."""
    if not _blas:
        try:
            from threadpoolctl import ThreadpoolController
            _blas.append(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:       # not installed, or an unknown BLAS
            _blas.append([])
    libs = _blas[0]
    return min(lib.get_num_threads() for lib in libs) if libs else 0


def image_slices(n, threads):
    """``threads`` contiguous slices of ``n`` images, as even as possible."""
    k = min(threads, n)
    bounds = [n * i // k for i in range(k + 1)]
    return [slice(a, z) for a, z in zip(bounds, bounds[1:])]


def in_parallel(calls, threads):
    """Run the zero-argument ``calls`` on ``threads`` Python threads with BLAS at one thread meanwhile; their
    results in order.  One parallel section at a time (a lock): BLAS's thread count is process-wide."""
    if not _PARALLEL:
        import threading
        from concurrent.futures import ThreadPoolExecutor
        _PARALLEL.extend([ThreadPoolExecutor(threads, thread_name_prefix="ember-conv"), threading.Lock()])
    pool, lock = _PARALLEL
    libs = _blas[0] if _blas else []
    with lock:
        before = [lib.get_num_threads() for lib in libs]
        for lib in libs:
            lib.set_num_threads(1)
        try:
            return [f.result() for f in [pool.submit(c) for c in calls]]
        finally:
            for lib, t in zip(libs, before):
                lib.set_num_threads(t)


def blocked_forward(x, w, b, pads, dil, threads):
    """``_blocked.forward`` over the images on ``threads`` threads, each writing its images of the result."""
    if threads <= 1:
        return _blocked.forward(x, w, b, pads, dil)
    out = np.empty(_blocked.out_shape(x.shape, w.shape, pads, dil), x.dtype)
    in_parallel([lambda s=s: _blocked.forward(x[s], w, b, pads, dil, out=out[s])
                 for s in image_slices(x.shape[0], threads)], threads)
    return out


def blocked_grads(x, w, ga, pads, dil, need_x, need_w, threads):
    """``_blocked.backward`` over the images on ``threads`` threads: each writes its images' input gradient
    and returns its part of the weight gradient; the parts are summed in image order (so the weight
    gradient's rounding depends on the thread count, as PyTorch's does)."""
    if threads <= 1:
        return _blocked.backward(x, w, ga, pads, dil, need_x, need_w)
    gx = np.empty(x.shape, x.dtype) if need_x else None
    parts = in_parallel([lambda s=s: _blocked.backward(x[s], w, ga[s], pads, dil, need_x, need_w,
                                                       gx[s] if need_x else None)[1]
                         for s in image_slices(x.shape[0], threads)], threads)
    gw = None
    if need_w:
        gw = parts[0]
        for p in parts[1:]:
            gw += p
    return gx, gw
