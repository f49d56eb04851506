"""Training-mode batch norm over (N, C, *) in few passes over memory (raw-array kernels that
``normalization._Normalize`` runs for batch norm of 3+ dims).

The general kernel works through NumPy reductions over axes (0, 2, 3, ...) and a chain of whole-array
temporaries.  Here the input is viewed as ``(N, C*L)``: per-channel sums are column sums of those rows
(``add.reduce`` over axis 0) then over L, sums of squares/products one ``einsum('ij,ij->j')`` (both read memory
once, no temporary, and give each channel's sum independently of the other channels, unlike a GEMV whose
rounding depends on how rows are grouped), and per-channel constants are repeated to (C, L) so that every
elementwise pass runs over an image's C*L contiguous elements (measured, 1 thread, forward + backward at batch
64: 32x26x26 4.4 -> 3.6 ms, 64x16x16 3.5 -> 2.9, ResNet-18's 128x4x4 0.66 -> 0.45, 256x2x2 0.63 -> 0.26; per-row
einsums with ``v[:, None]`` operands before).  With several threads the channels are split among them.
Forward: sum, centre (``xc = x - mean``, saved for backward instead of x-hat), sum of squares (two-pass
variance, as PyTorch's), ``y = xc * (invstd*w) + b``.  Backward, with ``a = w*invstd`` per channel::

    dx = a * g  -  a * invstd**2 * sum(g*xc)/M * xc  -  a * sum(g)/M

(the classic ``invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat*xhat))`` with ``xhat = xc*invstd``), made a
few images at a time so that its temporary stays in cache.
"""
from __future__ import annotations

from ..backend import xp as np
from ..backend.device import array_module as _xp
from . import _parallel as _par

_BLOCK = 1 << 15            # elements per block of the input gradient's temporary (128 KiB of float32)
# elements per thread below which one thread does the whole batch norm (measured, 2 threads, the row kernels:
# the split takes 0.9x the time at 64x32x16x16 (its parts' strided rows cost more on short rows), 0.6x at
# 64x32x26x26)
MIN_SPLIT = 1 << 18


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


def _threads(a, c):
    """How many threads split the C channels of ``a`` (1 on a device, or when small)."""
    return _par.threads_for(c, a.size, MIN_SPLIT) if _par.is_host(a) else 1


def _by_channels(part, c, threads):
    """``part(s)`` over the channel slices ``s`` on ``threads`` threads; its per-channel results (tuples of
    arrays over ``s``, or None) joined in channel order."""
    parts = _par.run_split(part, c, threads)
    if len(parts) == 1:
        return parts[0]
    return tuple(None if p[0] is None else np.concatenate(p) for p in zip(*parts))


def _chan(v, l):
    """A per-channel vector ``v`` (C,) repeated to a contiguous (C, L) operand for (N, C, L) arrays: NumPy then
    merges the (C, L) dims into one inner loop over an image's C*L elements (with ``v[:, None]`` its inner
    loops ran over L only: a few elements on ResNet's small stages)."""
    return _xp(v).repeat(v, l).reshape(-1, l)


def _sums(a):
    """Per-channel sums of the (N, C, L) array ``a``: column sums of its (N, C*L) rows, then over L.  Each
    channel's sum comes from its own elements only, so any split of the channels gives the same bits."""
    n, c, l = a.shape
    return np.add.reduce(a.reshape(n, c * l), axis=0).reshape(c, l).sum(1)


def _dots(a, b):
    """Per-channel sums of ``a * b`` over (N, L), as ``_sums`` (one pass, no temporary)."""
    n, c, l = a.shape
    return np.einsum("ij,ij->j", a.reshape(n, c * l), b.reshape(n, c * l)).reshape(c, l).sum(1)


def forward(x, w, b, eps, running):
    """``(y, xc, invstd)``: the normalized, scaled and shifted ``y`` (x's shape, contiguous), the centred
    input ``(N, C, L)`` and ``1/sqrt(var + eps)`` per channel; ``running`` as ``_Normalize``'s.  Each channel's
    numbers come from its own rows only, so the channels are split among threads (``_parallel``) when there
    are several and the batch is large, with the same results."""
    from .normalization import _update_running
    n, c = x.shape[:2]
    dt = x.dtype
    x2 = _rows(x)
    l = x2.shape[1]
    m = n * l
    x3 = x2.reshape(n, c, l)
    xp = _xp(x2)
    # (y is made in x's shape and filled through an (N, C, L) view: the result owns its buffer, base None, so
    # autograd need not copy it)
    xc, y_out = xp.empty((n, c, l), dt), xp.empty(x.shape, dt)
    y = y_out.reshape(n, c, l)

    def part(s):
        xs, xcs = x3[:, s], xc[:, s]
        mean = _sums(xs) / m
        np.subtract(xs, _chan(mean, l), out=xcs)
        var = _dots(xcs, xcs) / m
        invstd = (1.0 / np.sqrt(var + eps)).astype(dt, copy=False)
        scale = invstd if w is None else invstd * w[s]
        ys = np.multiply(xcs, _chan(scale, l), out=y[:, s])
        if b is not None:
            ys += _chan(b[s], l)
        return mean, var, invstd
    mean, var, invstd = _by_channels(part, c, _threads(x2, c))
    if running is not None:
        _update_running(running, mean, var, m, n)
    return y_out, xc, invstd


def backward(xc, invstd, w, g, need):
    """``(grad_input, grad_weight, grad_bias)``, each None unless ``need`` asks for it, from the saved ``xc``
    (N, C, L) and ``invstd``; ``w`` None without a weight; ``g`` any strides.  Split over the channels as the
    forward."""
    n, c, l = xc.shape
    m = n * l
    # (N, C, L) rows of g: a view where its strides allow (the broadcast gradient of a sum is not copied)
    g3 = g.reshape(n, c, l)
    xp = _xp(g3)
    # (made in g's shape, written through an (N, C, L) view: a leaf's .grad can adopt it without a copy)
    gx_out = xp.empty(g.shape, g.dtype) if need[0] else None
    gx = None if gx_out is None else gx_out.reshape(n, c, l)

    def part(s):
        gs, xcs = g3[:, s], xc[:, s]
        sg = _sums(gs)                                                        # sum(g)
        sgx = _dots(gs, xcs)                                                  # sum(g * xc)
        ist = invstd[s]
        if need[0]:
            a = ist * w[s] if w is not None else ist
            kx = _chan(-a * ist * ist * sgx / m, l)
            k0 = _chan(-a * sg / m, l)
            a = _chan(a, l)
            cc = xcs.shape[1]
            # (on the CPU a few images at a time, for the cache; a device takes the whole batch at once)
            step = max(1, _BLOCK // (cc * l)) if xp is np else n
            tmp = xp.empty((min(step, n), cc, l), g.dtype)
            for i in range(0, n, step):         # a few images at a time: the temporary stays in cache
                o, t = gx[i:i + step, s], tmp[:min(step, n - i)]
                np.multiply(gs[i:i + step], a, out=o)
                np.multiply(xcs[i:i + step], kx, out=t)
                o += t
                o += k0
        return sgx * ist if need[1] else None, sg if need[2] else None
    gw, gb = _by_channels(part, c, _threads(g3, c))
    return gx_out, gw, gb
