"""Resampling along one axis by gathers and weighted sums of each output's few neighbours: ``interpolate``
(every mode) and the area taps adaptive average pooling shares.  Split out of ``ember/ops/pool.py``, whose
docstring describes the method."""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import math

from ..autograd.function import Function
from ..backend import xp as np
from ..backend.device import array_module as _xp, like as _like
from ..tensor import Tensor
from .conv import _tuple, _channels_last_like


def _adaptive_bounds(size, out):
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)      # floor(i*L/o), ceil((i+1)*L/o)


# ---------------------------------------------------------------------------------------------------------
# resampling along one axis by gathers and weighted sums of neighbours (interpolate, area mode)
# ---------------------------------------------------------------------------------------------------------
# A 1-D resampling is a list of taps (index, weight, mask): out[..., o] = sum_k weight_k[o] * x[..., index_k[o]]
# over the taps whose mask is true at o (mask None: all), divided by ``div`` when given.  Only the few
# neighbours an output reads enter its sum, as in PyTorch's kernels, so one inf or NaN in the input stays
# local (a dense resampling matrix would multiply it by every zero weight of its row: NaN everywhere).  The
# indices are non-decreasing in o, so the adjoint (the gradient) sums runs of equal indices with reduceat.
def _dense(taps, div, out_size, in_size, dtype):
    """The (out, in) matrix of a weighted resampling (for finite data only: see ``_resample_fwd``)."""
    m = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    for idx, wt, mask in taps:
        w = np.ones(out_size) if wt is None else wt.astype(np.float64)
        if mask is not None:
            w = np.where(mask, w, 0.0)
        np.add.at(m, (rows, idx), w)
    if div is not None:
        m /= np.asarray(div, dtype=np.float64)[:, None]
    return m.astype(dtype)


def _apply_dense(x, m, axis):
    """``m`` (out, in) applied along ``axis`` of ``x``: one BLAS product, contiguous result."""
    nd = x.ndim
    axis %= nd
    if axis == nd - 1:
        return x @ m.T
    if axis == nd - 2:
        return m @ x
    moved = np.moveaxis(np.tensordot(m, x, axes=(1, axis)), 0, axis)
    out = _xp(moved).empty(moved.shape, dtype=moved.dtype)          # C-order strides, size-1 dims included
    np.copyto(out, moved)
    return out


def _weighted(taps):
    return any(wt is not None or mask is not None for _, wt, mask in taps)


def _resample_fwd(x, axis, taps, div):
    # finite data through weights: one BLAS product with the (out, in) matrix, several times faster than the
    # gathers; data with inf or NaN (where a zero weight times inf must not reach other outputs) and pure
    # gathers (nearest) by the gathers, which read only each output's neighbours as PyTorch does
    if x.dtype.kind == "f" and (_weighted(taps) or div is not None) and np.isfinite(x).all():
        return _apply_dense(x, _like(_dense(taps, div, len(taps[0][0]), x.shape[axis], x.dtype), x), axis)
    with np.errstate(invalid="ignore", over="ignore"):      # inf * 0 and inf - inf are NaN, silently
        return _resample_sum(x, axis, taps, div)


def _resample_sum(x, axis, taps, div):
    # the taps are host-made tables: on a device, each moves there as it is used (``like``: no-op on the CPU)
    out = None
    for idx, wt, mask in taps:
        v = np.take(x, _like(idx, x), axis=axis)
        if wt is not None:
            v *= _along(_like(wt, x), axis, x.ndim)
        if mask is not None:
            v = np.where(_along(_like(mask, x), axis, x.ndim), v, v.dtype.type(0))
        out = v if out is None else out.__iadd__(v)
    if div is not None:
        out /= _along(_like(div, x), axis, x.ndim)
    return out


def _resample_adj(g, axis, taps, div, size):
    if g.dtype.kind == "f" and np.isfinite(g).all():     # (also nearest's: a sum of several outputs each)
        return _apply_dense(g, _like(_dense(taps, div, g.shape[axis], size, g.dtype).T, g), axis)
    with np.errstate(invalid="ignore", over="ignore"):
        return _resample_adj_sum(g, axis, taps, div, size)


def _adjoint_taps(taps, out_size, size, dtype):
    """The taps of the adjoint resampling: for each input position, the outputs that read it (with their
    weights), padded to the longest list with index ``out_size`` (a zero slice appended to the gradient) and
    weight 0.  So the gradient is again a gather and a weighted sum: each input sums only the outputs that
    read it (an inf in the gradient stays local), in output order."""
    src, dst, wts = [], [], []
    for idx, wt, mask in taps:
        keep = np.ones(len(idx), bool) if mask is None else mask
        o = np.arange(len(idx))[keep]
        src.append(idx[keep])
        dst.append(o)
        wts.append(np.ones(len(o), dtype) if wt is None else wt[keep].astype(dtype))
    src, dst, wts = np.concatenate(src), np.concatenate(dst), np.concatenate(wts)
    order = np.lexsort((dst, src))                      # by input, then by output
    src, dst, wts = src[order], dst[order], wts[order]
    counts = np.bincount(src, minlength=size)
    width = int(counts.max()) if counts.size and src.size else 0
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(len(src)) - first[src]             # position of each pair within its input's list
    o_tab = np.full((size, width), out_size, dtype=np.int64)
    w_tab = np.zeros((size, width), dtype=dtype)
    o_tab[src, rank] = dst
    w_tab[src, rank] = wts
    return [(o_tab[:, t], w_tab[:, t], None) for t in range(width)]


def _resample_adj_sum(g, axis, taps, div, size):
    shape = list(g.shape)
    shape[axis] = size
    if div is not None:
        g = g / _along(_like(div, g), axis, g.ndim)
    out_size = g.shape[axis]
    adj = _adjoint_taps(taps, out_size, size, g.dtype)
    xp = _xp(g)
    if not adj:
        return xp.zeros(shape, dtype=g.dtype)
    pad = list(g.shape)
    pad[axis] = 1
    g_ext = np.concatenate([g, xp.zeros(pad, dtype=g.dtype)], axis=axis)
    return _resample_sum(g_ext, axis, adj, None)


def _along(v, axis, ndim):
    """A per-output vector shaped to broadcast along ``axis`` of an ``ndim``-D array."""
    return v.reshape((-1,) + (1,) * (ndim - 1 - axis % ndim))


class _Resample(Function):
    """One 1-D resampling along ``axis``; its backward is :class:`_ResampleAdjoint` and vice versa, so every
    mode is differentiable any number of times.  ``bwd_taps`` (default: ``taps``) are the taps whose adjoint
    the backward takes (PyTorch's nearest backward copies a dim whose size is unchanged even where its
    forward does not)."""

    @staticmethod
    def forward(ctx, x, axis, taps, div, bwd_taps=None):
        ctx.cfg = (axis, taps if bwd_taps is None else bwd_taps, div, x.shape[axis])
        return _resample_fwd(x, axis, taps, div)

    @staticmethod
    def backward(ctx, g):
        axis, taps, div, size = ctx.cfg
        return _ResampleAdjoint.apply(g, axis, taps, div, size), None, None, None, None


class _ResampleAdjoint(Function):
    @staticmethod
    def forward(ctx, g, axis, taps, div, size):
        ctx.cfg = (axis, taps, div)
        return _resample_adj(g, axis, taps, div, size)

    @staticmethod
    def backward(ctx, gg):
        axis, taps, div = ctx.cfg
        return _Resample.apply(gg, axis, taps, div), None, None, None, None


def _compute_dtype(dtype):
    """PyTorch's ``opmath`` type of the index/weight arithmetic: float32 for float32 and narrower, else
    float64."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _taps(in_size, out_size, mode, align_corners, scale, dtype):
    """The taps of one 1-D resampling with PyTorch's (2.13, CPU) source-index formulas."""
    dst = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        # computed in float32 as PyTorch does, so that ties round identically
        s = np.float32(1.0 / scale) if scale else np.float32(in_size) / np.float32(out_size)
        off = np.float32(0.5) if mode == "nearest-exact" else np.float32(0.0)
        src = np.minimum(np.floor((dst.astype(np.float32) + off) * s).astype(np.int64), in_size - 1)
        return [(src, None, None)]
    ct = _compute_dtype(dtype)
    wt = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(ct)
    cubic = mode == "bicubic"
    if mode != "bicubic" and in_size == out_size:       # PyTorch's copy shortcut: weights 1 and 0, same index
        return [(dst, np.ones(out_size, wt), None), (dst, np.zeros(out_size, wt), None)]
    if align_corners:
        s = ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
        src = s * dst.astype(ct)
    else:
        s = ct(1.0 / scale) if scale else ct(in_size) / ct(out_size)
        # s * (dst + 0.5) - 0.5 rounded once, as a fused multiply-add (PyTorch 2.13's CPU build contracts it):
        # a product rounded first can land exactly on an input where PyTorch lands just past it, and the
        # neighbour's weight 0 then turns an inf there into NaN.  Exact in float64 (float32) or long double.
        wide = np.longdouble if ct == np.float64 else np.float64
        src = (wide(s) * (dst.astype(wide) + wide(0.5)) - wide(0.5)).astype(ct)
        if not cubic:
            src = np.maximum(src, ct(0))
    # PyTorch floors the source index in float32 (floorf), also for float64 inputs
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(ct), ct(0), ct(1))
    if not cubic:
        i1 = i0 + (i0 < in_size - 1)
        return [(i0, (ct(1) - lam).astype(wt), None), (i1, lam.astype(wt), None)]
    a = ct(-0.75)

    def near(t):     # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):      # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    coeffs = (far(lam + 1), near(lam), near(1 - lam), far(2 - lam))
    return [(np.clip(i0 - 1 + k, 0, in_size - 1), c.astype(wt), None) for k, c in enumerate(coeffs)]


def _taps_aa(in_size, out_size, mode, align_corners, scale, dtype):
    """Anti-aliased taps (``antialias=True``, PyTorch 2.13's CPU kernel, as PIL): the bilinear (triangle) or
    bicubic (Keys, a = -0.5) filter stretched by the downscaling factor, over a window of variable size
    (masked taps), weights normalized to sum 1; computed in the input's precision with PyTorch's roundings."""
    ct = _compute_dtype(dtype)
    wt = np.dtype(dtype)
    if align_corners:
        s = ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
    else:
        s = ct(1.0 / scale) if scale else ct(in_size) / ct(out_size)
    interp = 2 if mode == "bilinear" else 4
    support = ct(interp * 0.5 * float(s)) if s >= 1 else ct(interp * 0.5)
    width = int(math.ceil(float(support))) * 2 + 1
    invscale = ct(1.0 / float(s)) if s >= 1 else ct(1.0)
    center = (np.float64(s) * (np.arange(out_size, dtype=np.float64) + 0.5)).astype(ct)
    xmin = np.maximum(np.trunc((center - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc((center + support).astype(np.float64) + 0.5).astype(np.int64), in_size)
    xsize = np.clip(xmax - xmin, 0, width)
    wide = np.longdouble if ct == np.float64 else np.float64
    a = ct(-0.5)

    def fma(p, q, r):          # p * q + r rounded once (exact in float64 for float32 operands)
        return (p.astype(wide) * q.astype(wide) + wide(r)).astype(ct)

    def filt(x):
        # the cubic's polynomials with PyTorch's fused multiply-adds (its build contracts them): near |x| = 1
        # or 2 a weight is tiny rather than exactly 0, which decides whether 0 * inf is NaN and inf's sign
        x = np.abs(x)
        if interp == 2:
            return np.where(x < 1, ct(1) - x, ct(0)).astype(ct)
        if ct == np.float64:     # (long double is too narrow for exact double products: one rounding)
            xw, aw = x.astype(wide), wide(a)
            near = (((aw + 2) * xw - (aw + 3)) * xw * xw + 1).astype(ct)
            far = (((aw * xw - 5 * aw) * xw + 8 * aw) * xw - 4 * aw).astype(ct)
        else:
            near = fma((fma(np.full_like(x, a + 2), x, -(a + 3)) * x).astype(ct), x, ct(1))
            far = fma(fma(fma(np.full_like(x, a), x, -5 * a), x, 8 * a), x, -4 * a)
        return np.where(x < 1, near, np.where(x < 2, far, ct(0))).astype(ct)
    ws = []
    total = np.zeros(out_size, ct)
    for j in range(width):
        arg = (((j + xmin).astype(ct) - center).astype(np.float64) + 0.5) * np.float64(invscale)
        w = np.where(j < xsize, filt(arg.astype(ct)), ct(0)).astype(ct)
        total = (total + w).astype(ct)
        ws.append(w)
    safe = np.where(total != 0, total, ct(1))
    taps = [(np.clip(xmin + j, 0, in_size - 1), (w / safe).astype(wt), j < xsize) for j, w in enumerate(ws)]
    return taps, None


def _area_taps(in_size, out_size, dtype):
    """Adaptive average pooling windows [floor(i*L/o), ceil((i+1)*L/o)) as masked taps and divisors."""
    start, end = _adaptive_bounds(in_size, out_size)
    n = end - start
    if not out_size:
        return [(start, None, None)], n.astype(dtype)
    kmax = int(n.max())
    taps = [(np.minimum(start + k, in_size - 1), None, (k < n) if k >= int(n.min()) else None) for k in range(kmax)]
    return taps, n.astype(dtype)


def _resample(x, per_dim):
    """Apply per-dim resamplings ``[(axis, taps, div) or None]`` innermost axis first (PyTorch's order of
    sums), skipping dims that are None."""
    for axis, taps, div, *bwd in reversed([p for p in per_dim if p is not None]):
        x = _Resample.apply(x, axis, taps, div, *bwd)
    return x


# ---------------------------------------------------------------------------------------------------------
# adaptive pooling

# ---------------------------------------------------------------------------------------------------------
# interpolate
# ---------------------------------------------------------------------------------------------------------
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _interp_name(input, size=None, scale_factor=None, mode="nearest", *args, **kwargs):
    """PyTorch's grad_fn name where the resampling node does not tell the mode (ember/autograd/_torch_names.py):
    nearest-exact, and area (PyTorch's adaptive average pooling; an output of one pixel is its mean)."""
    k = getattr(input, "ndim", 4) - 2
    if mode == "nearest-exact":
        return f"UpsampleNearestExact{k}DBackward0"
    if mode == "area" and k == 2:
        return "AdaptiveAvgPool2DBackward0", "_AvgPool2d"
    return None


@_named(_interp_name)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor``, as
    ``torch.nn.functional.interpolate``.  Modes: ``nearest``, ``nearest-exact``, ``linear`` (3-D), ``bilinear``
    and ``bicubic`` (4-D, also ``antialias=True``), ``trilinear`` (5-D) with ``align_corners``, and ``area``
    (adaptive average pooling).
    Each output reads only its neighbours (a gather and a weighted sum per dim, PyTorch's formulas and order of
    sums), so an inf or NaN stays local as in PyTorch.

    >>> interpolate(ember.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
    ember.Size([1, 3, 8, 8])
    """
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(x).__name__}")
    if x.ndim == 4:
        return _channels_last_like(x, lambda t: _interpolate(t, size, scale_factor, mode, align_corners,
                                                             recompute_scale_factor, antialias),
                                   grad=mode == "area")
    return _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)


def _interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    nd = x.ndim - 2
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported ({', '.join(_MODES)})")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if align_corners is None:
        align_corners = False
    if nd not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if antialias and not (mode in ("bilinear", "bicubic") and nd == 2):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    spatial = tuple(x.shape[2:])
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)) and len(size) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(spatial)} and output size of {list(size)}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                             f"...,oK) format.")
        sizes = _tuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                                 f"{list(scale_factor)}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 f"format and scale_factor in (s1, s2, ...,sK) format.")
            sf = tuple(float(f) for f in scale_factor)
        else:
            sf = (float(scale_factor),) * nd
        sizes = tuple(int(math.floor(float(s) * f)) for s, f in zip(spatial, sf))
        scales = (None,) * nd if recompute_scale_factor else sf
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        want = _MODE_DIMS[mode] + 2
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {want}D input")
    if min(sizes) < (0 if mode == "area" else 1) or min(spatial) <= 0:
        raise RuntimeError(f"interpolate: input {tuple(x.shape)} and output {tuple(sizes)} sizes should be "
                           f"greater than 0")
    if mode == "area":
        if nd < 3:
            from .pool import _adaptive_avg
            return _adaptive_avg(x, sizes, nd, "interpolate")
        return _resample(x, [(2 + d, *_area_taps(i, o, x.dtype)) for d, (i, o) in enumerate(zip(spatial, sizes))])
    if mode not in ("nearest", "nearest-exact") and x.dtype.kind != "f":
        raise RuntimeError(f"interpolate: mode {mode!r} is not implemented for {x.dtype} input (floating point "
                           f"expected)")
    per = []
    for d, (i, o, sc) in enumerate(zip(spatial, sizes, scales)):
        if antialias:
            # PyTorch's separable anti-aliased kernel resamples only the dims whose size changes
            if i != o:
                per.append((2 + d, *_taps_aa(i, o, mode, align_corners, sc, x.dtype)))
            continue
        taps = _taps(i, o, mode, align_corners, sc, x.dtype)
        if mode == "nearest" and i == o:
            # PyTorch 2.13 (CPU) copies a dim whose size is unchanged in nearest's backward, and in its forward
            # for 4-D inputs only (3-D and 5-D forwards use the scale formula)
            copy = [(np.arange(o), None, None)]
            per.append((2 + d, copy if nd == 2 else taps, None, copy))
        elif mode == "bicubic" and spatial == sizes:
            # bicubic's backward copies when no size changes (its forward still applies the scale formula)
            per.append((2 + d, taps, None, [(np.arange(o), None, None)]))
        else:
            per.append((2 + d, taps, None))
    return _resample(x, per)
