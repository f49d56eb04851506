"""The blocked stride-1 convolution (``_conv_blocked``) on several cores: the images are split among Python
threads, each running the blocked kernels with BLAS set to one thread for the duration (NumPy and BLAS release
the GIL).  With 2+ BLAS threads the blocked kernels' many small GEMMs would each pay a thread hand-off, and the
whole-batch GEMM path uses the cores poorly on its 40 MB column matrix; splitting the images instead keeps each
core's GEMMs in its cache.  BLAS's thread count is read and set through threadpoolctl (an optional package:
without it nothing here runs and convolutions take the general path); the threads are ``_parallel``'s, shared
with the other split kernels."""
from __future__ import annotations

from ..backend import xp as np
from . import _conv_blocked as _blocked
from ._parallel import _blas, blas_threads, in_parallel, slices as image_slices  # noqa: F401 - shared helpers

MIN_IMAGES = 4                  # images per thread below which one thread does the whole batch


def blocked_forward(x, w, b, pads, dil, threads):
    """``_blocked.forward`` over the images on ``threads`` threads, each writing its images of the result."""
    if threads <= 1:
        return _blocked.forward(x, w, b, pads, dil)
    out = np.empty(_blocked.out_shape(x.shape, w.shape, pads, dil), x.dtype)
    in_parallel([lambda s=s: _blocked.forward(x[s], w, b, pads, dil, out=out[s])
                 for s in image_slices(x.shape[0], threads)], threads)
    return out


def blocked_grads(x, w, ga, pads, dil, need_x, need_w, threads, need_b=False):
    """``_blocked.backward`` over the images on ``threads`` threads: each writes its images' input gradient
    and returns its part of the weight (and bias) gradient; the parts are summed in image order (so the weight
    gradient's rounding depends on the thread count, as PyTorch's does)."""
    if threads <= 1:
        return _blocked.backward(x, w, ga, pads, dil, need_x, need_w, None, need_b)
    gx = np.empty(x.shape, x.dtype) if need_x else None
    parts = in_parallel([lambda s=s: _blocked.backward(x[s], w, ga[s], pads, dil, need_x, need_w,
                                                       gx[s] if need_x else None, need_b)[1:]
                         for s in image_slices(x.shape[0], threads)], threads)
    gw, gb = parts[0]
    for pw, pb in parts[1:]:
        if gw is not None:
            gw += pw
        if gb is not None:
            gb += pb
    return gx, gw, gb
