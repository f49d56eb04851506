"""Fractional max pooling (``F.fractional_max_pool2d`` / ``fractional_max_pool3d`` and their ``_with_indices``
forms), Graham's pseudo-random pooling regions with PyTorch 2.13's exact window starts.

For each plane (n, c) and each spatial dim of input size I, kernel k and output size O, PyTorch draws one
sample u (``_random_samples[n, c, d]``; the 2-D kernel reads (W, H) in that order, the 3-D one (T, H, W)) and
starts window i at ``int((i + u) * alpha) - int(u * alpha)`` with ``alpha = (I - k) / (O - 1)``, the last one
at ``I - k``; the arithmetic is in the input's dtype (float32 rounds as float32) and ``int`` truncates toward
zero, as ATen's ``generate_intervals``.  The maximum is the first one in window order, a NaN winning
(``val > max || isnan(val)``), found with one running update per kernel offset over every window at once (no
loop over windows).  The output is a gather of the input at the winners' flat per-plane indices, so the
gradient scatters to the arg-max as max pooling's does, and differentiates again.
"""
from __future__ import annotations

from ...backend import xp as np
from ...backend.device import array_module as _xp, like as _like, to_device as _to_device
from ...ops._index_scatter import Gather
from ...tensor import Tensor

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def _ints(v, n, name, op, what):
    """An int or a sequence of ``n`` ints (one element is repeated), else PyTorch's message."""
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of {what}, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


def _intervals(u, size, out, k):
    """Window starts (N, C, out) from the samples u (N, C) of one dim, in u's dtype as ATen computes them."""
    dt = u.dtype.type
    seq = np.empty(u.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = dt(size - k) / dt(out - 1)
        i = np.arange(out - 1, dtype=u.dtype)
        with np.errstate(invalid="ignore", over="ignore"):
            seq[..., :-1] = (((i + u[..., None]) * alpha).astype(np.int64)
                             - (u * alpha).astype(np.int64)[..., None])
    if out > 0:
        seq[..., -1] = size - k
    return seq


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, nd):
    op = f"fractional_max_pool{nd}d"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        # PyTorch 2.13's functional form fails on a bare number for the 2-D ratio (len() of a float); ember
        # takes a number or a sequence, as the documentation says
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,)
        if len(ratio) > nd or (nd == 3 and len(ratio) not in (1, 3)):
            raise ValueError(f"{op} requires output_ratio to either be a single Int or tuple of Ints, got "
                             f"{output_ratio!r}")
        ratio = ratio * nd if len(ratio) == 1 else ratio
        if input.ndim < nd:
            raise RuntimeError(f"{op}: expected a {nd + 1}D or {nd + 2}D input, got shape {tuple(input.shape)}")
        output_size = [int(input.shape[input.ndim - nd + i] * float(ratio[i])) for i in range(nd)]
    what = "Ints" if nd == 2 else "three Ints"
    ks = _ints(kernel_size, nd, "kernel_size", op, what)
    outs = _ints(output_size, nd, "output_size", op, what)
    if min(ks) <= 0:
        raise RuntimeError(f"{op}(): kernel size should be greater than zero, but got {'x'.join(map(str, ks))}")
    shape = tuple(input.shape)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(shape)}")
    for i in range(1, input.ndim):
        if shape[i] <= 0:
            raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch dimensions, but got "
                               f"{list(shape)} with dimension {i} being empty.")
    if min(outs) < 0:
        raise RuntimeError(f"{op}(): output_size must be non-negative, got {outs}")
    sizes = shape[-nd:]
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for d in ((0, 1) if nd == 2 else (0, 2, 1)):       # ATen's order of checks
        name, size, k, o = names[d], sizes[d], ks[d], outs[d]
        # the 2-D check is PyTorch's o + k - 1 <= I; the 3-D one is stricter, o + k - 1 < I (ATen's own checks)
        if (o + k - 1 > size) if nd == 2 else (k > size or o + k - 1 >= size):
            raise RuntimeError(f"{op}(): pool {name} {k} too large relative to input {name} {size} "
                               f"(output_size={outs}, kernel_size={ks}, input of shape {shape})")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (floating point expected)")
    batched = input.ndim == nd + 2
    n = shape[0] if batched else 1
    c = shape[-nd - 1]
    samples = _random_samples
    if samples is None:
        from ...creation import rand
        samples = rand(n, c, nd, dtype=input.dtype, device=input.device)
    elif not isinstance(samples, Tensor):
        raise TypeError(f"{op}: _random_samples must be a Tensor, got {type(samples).__name__}")
    if samples.dtype != input.dtype:
        raise RuntimeError(f"{op}: Expect _random_samples to have the same dtype as input, got {samples.dtype} "
                           f"and input {input.dtype}")
    if samples.ndim != 3:
        raise RuntimeError(f"{op}: Expect _random_samples to have 3 dimensions, got {samples.ndim} "
                           f"(shape {tuple(samples.shape)})")
    sn, sc, sd = tuple(samples.shape)
    if sn < n:
        raise RuntimeError(f"{op}: Expect _random_samples.size(0) no less then input batch size, got "
                           f"{sn} < {n}.")
    if sc != c:
        raise RuntimeError(f"{op}: Expect _random_samples.size(1) equals to input channel size, got {sc} and {c}.")
    if sd != nd:
        raise RuntimeError(f"{op}: Expect _random_samples.size(2) equals to {nd}; got {sd}.")

    x = input if batched else input.unsqueeze(0)
    xa = x._data
    xp = _xp(xa)
    plane = int(np.prod(sizes))
    total = int(np.prod(outs))
    if n * c * total == 0:
        idx = xp.zeros((n, c) + outs, dtype=np.int64)
        out = Gather.apply(x.reshape(n, c, plane), 2, idx.reshape(n, c, 0)).reshape((n, c) + outs)
        return (out, Tensor._make(idx)) if batched else (out.squeeze(0), Tensor._make(idx[0]))
    u = np.asarray(_to_device(samples.detach()._data, "cpu"))[:n]
    # the samples' order along their last dim: 2-D (W, H), 3-D (T, H, W)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    strides = [int(np.prod(sizes[d + 1:])) for d in range(nd)]
    base = np.zeros((n, c) + outs, dtype=np.int64)
    for d in range(nd):
        start = _intervals(u[..., order[d]], sizes[d], outs[d], ks[d])
        # any finite sample keeps the starts in [0, I - k] (the size check gives alpha >= 1); a guard for
        # values whose products overflow the integer cast
        if start.size and (start.min() < 0 or start.max() > sizes[d] - ks[d]):
            raise RuntimeError(f"{op}: _random_samples give pooling windows outside the input along dim "
                               f"{x.ndim - nd + d} (window starts from {int(start.min())} to {int(start.max())}, "
                               f"kernel {ks[d]}, size {sizes[d]}); samples in [0, 1] are expected")
        view = (n, c) + tuple(outs[e] if e == d else 1 for e in range(nd))
        base = base + start.reshape(view) * strides[d]
    base = base.reshape(n, c, total)
    # global flat positions of each window's first element; offset j reads the view flat[j:] at them
    first = _like(base + (np.arange(n * c, dtype=np.int64) * plane).reshape(n, c, 1), xa)
    flat = xp.ascontiguousarray(xa).reshape(-1)
    deltas = [int(sum(int(o) * s for o, s in zip(off, strides)))   # window order: last dim fastest (ATen's)
              for off in np.indices(ks).reshape(nd, -1).T]
    nan = xa.dtype.kind == "f" and bool(xp.isnan(flat).any())
    best = flat.take(first)
    wdt = np.int16 if len(deltas) < 2 ** 15 else np.int64
    win = xp.zeros(first.shape, dtype=wdt)          # the winning offset's number (offsets only increase)
    for j, dlt in enumerate(deltas[1:], 1):
        val = flat[dlt:].take(first)
        better = val > best
        if nan:         # ATen: val > max || isnan(val), so the last NaN wins
            better |= xp.isnan(val)
            best = xp.where(better, val, best)
        else:
            best = xp.maximum(best, val)
        xp.maximum(win, xp.multiply(better, j, dtype=wdt), out=win)
    idx = _like(base, xa) + _like(np.asarray(deltas, dtype=np.int64), xa)[win]
    out = Gather.apply(x.reshape(n, c, plane), 2, idx).reshape((n, c) + outs)
    idx = Tensor._make(idx.reshape((n, c) + outs))
    return (out, idx) if batched else (out.squeeze(0), idx.squeeze(0))


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool2d` returning ``(output, indices)``
    (``torch.nn.functional.fractional_max_pool2d_with_indices``); the indices are flat per (H, W) plane, as
    :func:`max_unpool2d` takes them.

    >>> y, i = F.fractional_max_pool2d_with_indices(ember.randn(1, 1, 6, 6), 2, output_size=3)
    """
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """2-D fractional max pooling over (N, C, H, W) or (C, H, W) (``torch.nn.functional.fractional_max_pool2d``):
    ``kernel_size`` windows at pseudo-random starts that give ``output_size`` (or ``output_ratio`` times the
    input size); ``_random_samples`` (N, C, 2), in the input's dtype, fixes the starts (drawn with
    ``ember.rand`` when not given).  ``return_indices=True`` also returns the flat per-plane arg-max indices.

    >>> F.fractional_max_pool2d(ember.randn(2, 3, 9, 9), 2, output_ratio=0.5).shape
    ember.Size([2, 3, 4, 4])
    """
    out, idx = _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return (out, idx) if return_indices else out


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool3d` returning ``(output, indices)``
    (``torch.nn.functional.fractional_max_pool3d_with_indices``); flat per (T, H, W) volume.

    >>> y, i = F.fractional_max_pool3d_with_indices(ember.randn(1, 1, 6, 6, 6), 2, output_size=3)
    """
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling over (N, C, T, H, W) or (C, T, H, W)
    (``torch.nn.functional.fractional_max_pool3d``); ``_random_samples`` is (N, C, 3), read as (T, H, W).

    >>> F.fractional_max_pool3d(ember.randn(1, 2, 8, 8, 8), 2, output_size=(3, 4, 5)).shape
    ember.Size([1, 2, 3, 4, 5])
    """
    out, idx = _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return (out, idx) if return_indices else out
