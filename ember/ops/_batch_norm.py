"""Training-mode batch norm over (N, C, *) in few passes over memory (raw-array kernels that
``normalization._Normalize`` runs for batch norm of 3+ dims).

The general kernel works through NumPy reductions over axes (0, 2, 3, ...) and a chain of whole-array
temporaries.  Here the input is viewed as rows ``(N*C, L)``: per-row sums are one GEMV with a vector of ones,
per-row sums of squares/products one ``einsum('ij,ij->i')`` (both read memory once, no temporary); the
per-channel sums are then over N small rows.  Forward: sum, centre (``xc = x - mean``, saved for backward
instead of x-hat), sum of squares (two-pass variance, as PyTorch's), ``y = xc * (invstd*w) + b``.  Backward,
with ``a = w*invstd`` per channel::

    dx = a * g  -  a * invstd**2 * sum(g*xc)/M * xc  -  a * sum(g)/M

(the classic ``invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat*xhat))`` with ``xhat = xc*invstd``), made a
few images at a time so that its temporary stays in cache.
"""
from __future__ import annotations

from ..backend import xp as np
from ..backend.device import array_module as _xp

_BLOCK = 1 << 15            # elements per block of the input gradient's temporary (128 KiB of float32)


def applies(x, stat_shape, red, aff_axes) -> bool:
    """Batch norm (statistics over all axes but 1, which are also the affine parameters' gradient axes) of a
    float32/float64 array of 3+ dims with some elements, not in channels_last layout.  The row kernels' result
    is contiguous, as PyTorch's for every layout but channels_last (4-D) and channels_last_3d (5-D), which
    PyTorch keeps: those take the general kernel (its result follows the input's layout)."""
    return (stat_shape is None and x.ndim >= 3 and tuple(red) == (0,) + tuple(range(2, x.ndim))
            and tuple(aff_axes) == tuple(red) and x.dtype in (np.float32, np.float64) and x.size > 0
            and (x.flags.c_contiguous or not _channels_last(x)))


def _channels_last(x) -> bool:
    """PyTorch's channels_last(_3d) stride test for a 4-D (5-D) array: strides ordered C < W < H (< D) < N,
    size-1 dims and equal strides counted as the contiguous format."""
    if x.ndim not in (4, 5):
        return False
    st = [s // x.itemsize for s in x.strides]
    if st[1] == 0:
        return False
    lo = 0
    for d in (1,) + tuple(range(x.ndim - 1, 1, -1)) + (0,):
        if st[d] < lo or (d == 0 and lo == st[1]):
            return False
        lo = st[d] * (x.shape[d] if x.shape[d] > 1 else 1)
    return True


def _rows(a):
    """``a`` (N, C, ...) as C-contiguous rows (N*C, L) (a copy only when it has other strides)."""
    n, c = a.shape[:2]
    return _xp(a).ascontiguousarray(a).reshape(n * c, -1)


def _channel_sums(v, n, c):
    return v.reshape(n, c).sum(0)


def forward(x, w, b, eps, running):
    """``(y, xc, invstd)``: the normalized, scaled and shifted ``y`` (x's shape, contiguous), the centred
    input ``(N, C, L)`` and ``1/sqrt(var + eps)`` per channel; ``running`` as ``_Normalize``'s."""
    from .normalization import _update_running
    n, c = x.shape[:2]
    dt = x.dtype
    x2 = _rows(x)
    l = x2.shape[1]
    m = n * l
    mean = _channel_sums(x2 @ _xp(x2).ones(l, dt), n, c) / m
    xc = np.subtract(x2.reshape(n, c, l), mean[:, None])
    xc2 = xc.reshape(n * c, l)
    var = _channel_sums(np.einsum("ij,ij->i", xc2, xc2), n, c) / m
    invstd = (1.0 / np.sqrt(var + eps)).astype(dt, copy=False)
    if running is not None:
        _update_running(running, mean, var, m, n)
    scale = invstd if w is None else invstd * w
    y = np.multiply(xc, scale[:, None])
    if b is not None:
        y += b[:, None]
    return y.reshape(x.shape), xc, invstd


def backward(xc, invstd, w, g, need):
    """``(grad_input, grad_weight, grad_bias)``, each None unless ``need`` asks for it, from the saved ``xc``
    (N, C, L) and ``invstd``; ``w`` None without a weight; ``g`` any strides."""
    n, c, l = xc.shape
    m = n * l
    g2 = _rows(g)
    sg = _channel_sums(g2 @ _xp(g2).ones(l, g.dtype), n, c)                          # sum(g)
    sgx = _channel_sums(np.einsum("ij,ij->i", g2, xc.reshape(n * c, l)), n, c)          # sum(g * xc)
    gx = None
    gw = sgx * invstd if need[1] else None
    gb = sg if need[2] else None
    if need[0]:
        a = invstd * w if w is not None else invstd
        kx = (-a * invstd * invstd * sgx / m)[:, None]
        k0 = (-a * sg / m)[:, None]
        a = a[:, None]
        g3 = g2.reshape(n, c, l)
        xp = _xp(g2)
        gx = xp.empty((n, c, l), g.dtype)
        # (on the CPU a few images at a time, for the cache; a device takes the whole batch at once)
        step = max(1, _BLOCK // (c * l)) if xp is np else n
        tmp = xp.empty((min(step, n), c, l), g.dtype)
        for i in range(0, n, step):         # a few images at a time: the temporary stays in cache
            o, t = gx[i:i + step], tmp[:min(step, n - i)]
            np.multiply(g3[i:i + step], a, out=o)
            np.multiply(xc[i:i + step], kx, out=t)
            o += t
            o += k0
        gx = gx.reshape(g.shape)
    return gx, gw, gb
