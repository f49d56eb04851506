"""Spatial transformers: ``F.affine_grid`` and ``F.grid_sample`` (PyTorch 2.13 semantics, 4-D and 5-D inputs).

``grid_sample`` works on the whole batch at once: the grid's normalised coordinates are unnormalised to pixel
coordinates (``align_corners`` decides whether -1/1 are the centres or the outer edges of the corner
pixels), folded into the image by the padding mode ('border' clips, 'reflection' reflects then clips, with
the derivative of the fold kept for the grid's gradient), then the 4 bilinear corners (or the nearest pixel)
are gathered with flat integer indices; corners outside the image read 0.  'bicubic' weighs 16 taps with
PyTorch's cubic convolution (A = -0.75) at the unfolded location and folds each tap's position instead.  The backward scatter-adds the
upstream gradient times the weights into the input (``bincount``) and differentiates the weights for the
grid, as PyTorch's ``grid_sampler_2d_backward``, on raw arrays; under ``create_graph=True`` the same backward
runs as ember ops (``_differentiable_backward``: gathers, ``scatter_add`` and the weights as functions of the
grid), so it differentiates again as PyTorch's does.

``affine_grid`` is a base grid of ``linspace(-1, 1)`` coordinates (scaled by (n-1)/n when
``align_corners=False``) times ``theta`` transposed: ember ops, so its gradient reaches ``theta``.
"""
from __future__ import annotations
from ...autograd._torch_names import tag as _tname

import functools
import warnings

import numpy as _np

from ...autograd.function import Function
from ...autograd.grad_mode import state as _grad
from ..._tensor_device import host_fallback
from ...backend.device import like as _like
from ...tensor import Tensor

__all__ = ["grid_sample", "affine_grid"]

_AC_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
               "Please specify align_corners=True if the old behavior is desired. See the documentation of "
               "grid_sample for details.")


# ---------------------------------------------------------------------------------------------------------
# coordinates
# ---------------------------------------------------------------------------------------------------------
def _reflect(c, twice_span):
    """Reflect ``c`` into [0, twice_span / 2] (period ``twice_span``); returns (value, d value / d c)."""
    t = c.dtype.type
    neg = c < 0
    a = _np.abs(c)
    flips = _np.trunc(a / t(twice_span))
    extra = a - flips * t(twice_span)
    refl = t(twice_span) - extra
    more = extra > refl
    return _np.where(more, refl, extra), _np.where(more ^ neg, t(-1), t(1))


def _unnormalize(g, size, align_corners, vec=True):
    """Pixel coordinates of normalised grid values ``g`` and d coordinate / d g (a scalar), rounded as PyTorch's
    CPU kernels round them (it decides which pixel 'nearest' picks at a tie): the 2-D kernel (``vec``) computes
    ``(g + 1) * (size / 2) - 0.5`` with a fused multiply-add (emulated here in a wider float), the 3-D one
    ``((g + 1) * size - 1) / 2`` (and ``((g + 1) / 2) * (size - 1)`` with align_corners) in plain arithmetic."""
    t = g.dtype.type
    if align_corners:
        scale = t((size - 1) / 2)
        if vec:
            return (g + t(1)) * scale, scale
        return ((g + t(1)) / t(2)) * t(size - 1), scale
    scale = t(size / 2)
    if not vec:
        return ((g + t(1)) * t(size) - t(1)) / t(2), scale
    wide = _np.float64 if g.dtype == _np.float32 else _np.longdouble
    return ((g + t(1)).astype(wide) * wide(size / 2) - wide(0.5)).astype(g.dtype), scale


def _fold(c, size, padding, align_corners):
    """Pixel coordinates ``c`` folded into the image by the padding mode, and the fold's derivative (1, -1
    or 0; None for 'zeros', which does not fold)."""
    t = c.dtype.type
    if padding == "zeros":
        return c, None
    s = None
    if padding == "reflection":
        if align_corners:
            if size <= 1:
                return _np.zeros_like(c), _np.zeros_like(c)
            c, s = _reflect(c, 2 * (size - 1))
        else:
            c, s = _reflect(c + t(0.5), 2 * size)
            c = c - t(0.5)
    # clip to [0, size - 1]; the borders themselves count as outside for the gradient (as PyTorch)
    inside = (c > 0) & (c < size - 1)
    c = _np.clip(c, 0, size - 1).astype(c.dtype, copy=False)
    c = _np.where(_np.isnan(c), t(0), c)      # PyTorch's clip sends NaN (and reflected infinities) to 0
    return c, _np.where(inside, t(1) if s is None else s, t(0))


def _coords(g, size, padding, align_corners, vec=True):
    """Pixel coordinates of normalised grid values ``g`` along a dim of ``size`` pixels, and their derivative
    with respect to ``g`` (PyTorch's ``compute_coordinates`` / ``..._get_grad``)."""
    c, scale = _unnormalize(g, size, align_corners, vec)
    c, s = _fold(c, size, padding, align_corners)
    if s is None:
        return c, _np.full(c.shape, scale, dtype=c.dtype)
    return c, s * scale


_A = -0.75      # PyTorch's bicubic convolution constant


def _cubic(t):
    """The 4 cubic-convolution weights of fractional offsets ``t`` and their derivatives in ``t``."""
    a = t.dtype.type(_A)
    one, two = t.dtype.type(1), t.dtype.type(2)
    def k1(x):
        return ((a + 2) * x - (a + 3)) * x * x + one
    def k2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    def d1(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x
    def d2(x):
        return (3 * a * x - 10 * a) * x + 8 * a
    w = [k2(t + one), k1(t), k1(one - t), k2(two - t)]
    dw = [d2(t + one), d1(t), -d1(one - t), -d2(two - t)]
    return w, dw


def _bicubic_taps(g, h, w, padding, align_corners):
    """16 taps (flat index, valid, weight, d weight / d x, d weight / d y) per point: the weights at the
    unnormalised (unfolded) location, the tap positions folded by the padding mode (PyTorch's
    ``get_value_bounded``), the grid gradient through the weights only."""
    ix, sx = _unnormalize(g[..., 0], w, align_corners)
    iy, sy = _unnormalize(g[..., 1], h, align_corners)
    x0, y0 = _np.floor(ix), _np.floor(iy)
    wx, dwx = _cubic(ix - x0)
    wy, dwy = _cubic(iy - y0)
    cols = []
    for i in range(4):
        xc = _fold(x0 + (i - 1), w, padding, align_corners)[0]
        okx = (xc > -1) & (xc < w)
        cols.append((_np.where(okx, xc, 0).astype(_np.int64), okx))
    taps = []
    for j in range(4):
        yc = _fold(y0 + (j - 1), h, padding, align_corners)[0]
        oky = (yc > -1) & (yc < h)
        yi = _np.where(oky, yc, 0).astype(_np.int64)
        for i in range(4):
            xi, okx = cols[i]
            taps.append((yi * w + xi, okx & oky, wx[i] * wy[j], dwx[i] * wy[j] * sx, wx[i] * dwy[j] * sy))
    return taps


def _corners(ix, iy, h, w, mode):
    """The taps of each output point: list of (flat index (N, P), valid mask (N, P), weight (N, P) or None),
    plus the fractional parts for the bilinear grid gradient."""
    if mode == "nearest":
        x = _np.rint(ix)
        y = _np.rint(iy)
        ok = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        xi = _np.where(ok, x, 0).astype(_np.int64)
        yi = _np.where(ok, y, 0).astype(_np.int64)
        return [(yi * w + xi, ok, None)], None
    x0 = _np.floor(ix)
    y0 = _np.floor(iy)
    tx = ix - x0                      # weight of the east column
    ty = iy - y0                      # weight of the south row
    one = ix.dtype.type(1)
    ex, sy = one - tx, one - ty
    taps = []
    for dy, dx, wt in ((0, 0, sy * ex), (0, 1, sy * tx), (1, 0, ty * ex), (1, 1, ty * tx)):
        x = x0 + dx
        y = y0 + dy
        ok = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        xi = _np.where(ok, x, 0).astype(_np.int64)
        yi = _np.where(ok, y, 0).astype(_np.int64)
        taps.append((yi * w + xi, ok, wt))
    return taps, (tx, ty, ex, sy)


def _gather(flat, idx, ok):
    """flat (N, C, HW), idx/ok (N, P) -> (N, C, P), zero where not ok."""
    v = _np.take_along_axis(flat, idx[:, None, :], axis=2)
    return _np.where(ok[:, None, :], v, flat.dtype.type(0))


def _quiet(fn):
    """Run ``fn`` without NumPy's warnings for inf/NaN grid points (PyTorch computes them silently)."""
    @functools.wraps(fn)
    def wrapper(*args):
        with _np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return fn(*args)
    return wrapper


def _scatter_taps(go, taps, x):
    """The input gradient: each tap's share of the output gradient ``go`` (N, C, P), weighted and masked,
    summed (in float64, with bincount) into the pixel it read; shaped like ``x``."""
    n, c = x.shape[:2]
    sp = x.size // (n * c) if n * c else 0
    base = (_np.arange(n)[:, None, None] * c + _np.arange(c)[None, :, None]) * sp
    acc = _np.zeros(n * c * sp, dtype=_np.float64)
    for idx, ok, wt, *_ in taps:
        contrib = go if wt is None else go * wt[:, None, :]
        contrib = _np.where(ok[:, None, :], contrib, 0)
        acc += _np.bincount((base + idx[:, None, :]).ravel(), weights=contrib.ravel().astype(_np.float64),
                            minlength=acc.size)
    return acc.astype(x.dtype).reshape(x.shape)


class _GridSampler2d(Function):
    @staticmethod
    @_quiet
    def forward(ctx, x, grid, mode, padding, align_corners):
        n, c, h, w = x.shape
        oh, ow = grid.shape[1], grid.shape[2]
        g = grid.reshape(n, oh * ow, 2)
        flat = x.reshape(n, c, h * w)
        if mode == "bicubic":
            taps = _bicubic_taps(g, h, w, padding, align_corners)
            out = None
            for idx, ok, wt, _, _ in taps:
                term = wt[:, None, :] * _gather(flat, idx, ok)
                out = term if out is None else out + term
            ctx.save_for_backward(x, grid)
            ctx.gcfg = (mode, padding, align_corners)
            ctx.cfg = (taps, None, None, None, mode, grid.shape)
            return _np.ascontiguousarray(out.reshape(n, c, oh, ow))
        ix, dx = _coords(g[..., 0], w, padding, align_corners)
        iy, dy = _coords(g[..., 1], h, padding, align_corners)
        taps, frac = _corners(ix, iy, h, w, mode)
        vals = [_gather(flat, idx, ok) for idx, ok, _ in taps]
        if mode == "nearest":
            out = vals[0]
        else:
            out = None
            for (_, _, wt), v in zip(taps, vals):
                term = wt[:, None, :] * v
                out = term if out is None else out + term
        ctx.save_for_backward(x, grid)
        ctx.gcfg = (mode, padding, align_corners)
        ctx.cfg = (taps, frac, dx, dy, mode, grid.shape)
        return _np.ascontiguousarray(out.reshape(n, c, oh, ow))

    @staticmethod
    @_quiet
    def backward(ctx, gout):
        if _grad.create_graph:
            return _differentiable_backward(*ctx.saved_tensors, gout, *ctx.gcfg, ctx.needs_input_grad) + (None,) * 3
        x = ctx._saved_arrays()[0]
        taps, frac, dx, dy, mode, gshape = ctx.cfg
        n, c, h, w = x.shape
        p = gshape[1] * gshape[2]
        go = gout._data.reshape(n, c, p)
        gx = gg = None
        if ctx.needs_input_grad[0]:
            gx = Tensor._make(_scatter_taps(go, taps, x))
        if ctx.needs_input_grad[1]:
            if mode == "nearest":
                gg = _np.zeros(gshape, dtype=x.dtype)
            elif mode == "bicubic":
                flat = x.reshape(n, c, h * w)
                gix = giy = 0
                for idx, ok, _, ddx, ddy in taps:
                    s = (go * _gather(flat, idx, ok)).sum(axis=1)
                    gix = gix + s * ddx
                    giy = giy + s * ddy
                gg = _np.stack([gix, giy], axis=-1).reshape(gshape)
            else:
                flat = x.reshape(n, c, h * w)
                vnw, vne, vsw, vse = (_gather(flat, idx, ok) for idx, ok, _ in taps)
                tx, ty, ex, sy = (a[:, None, :] for a in frac)
                gix = (go * ((vne - vnw) * sy + (vse - vsw) * ty)).sum(axis=1)
                giy = (go * ((vsw - vnw) * ex + (vse - vne) * tx)).sum(axis=1)
                gg = _np.stack([gix * dx, giy * dy], axis=-1).reshape(gshape)
            gg = Tensor._make(_np.ascontiguousarray(gg))
        return gx, gg, None, None, None


class _GridSampler3d(Function):
    """Volumetric sampling: input (N, C, D, H, W), grid (N, D_out, H_out, W_out, 3) of (x, y, z); trilinear
    ('bilinear') over the 8 corners or nearest.  Each tap carries its weight's derivative in x, y and z."""

    @staticmethod
    @_quiet
    def forward(ctx, x, grid, mode, padding, align_corners):
        n, c, d, h, w = x.shape
        od, oh, ow = grid.shape[1:4]
        g = grid.reshape(n, od * oh * ow, 3)
        cs = [_coords(g[..., k], size, padding, align_corners, False) for k, size in enumerate((w, h, d))]
        (ix, mx), (iy, my), (iz, mz) = cs
        flat = x.reshape(n, c, d * h * w)
        taps = []
        if mode == "nearest":
            xr, yr, zr = _np.rint(ix), _np.rint(iy), _np.rint(iz)
            ok = (xr >= 0) & (xr <= w - 1) & (yr >= 0) & (yr <= h - 1) & (zr >= 0) & (zr <= d - 1)
            xi, yi, zi = (_np.where(ok, a, 0).astype(_np.int64) for a in (xr, yr, zr))
            taps.append(((zi * h + yi) * w + xi, ok, None, None, None, None))
        else:
            one = ix.dtype.type(1)
            lo = [_np.floor(a) for a in (ix, iy, iz)]
            fr = [a - b for a, b in zip((ix, iy, iz), lo)]
            for dz in (0, 1):
                for dy in (0, 1):
                    for dx in (0, 1):
                        off = (dx, dy, dz)
                        wk = [f if o else one - f for f, o in zip(fr, off)]
                        sg = [one if o else -one for o in off]
                        pos = [b + o for b, o in zip(lo, off)]
                        ok = ((pos[0] >= 0) & (pos[0] <= w - 1) & (pos[1] >= 0) & (pos[1] <= h - 1)
                              & (pos[2] >= 0) & (pos[2] <= d - 1))
                        xi, yi, zi = (_np.where(ok, a, 0).astype(_np.int64) for a in pos)
                        taps.append(((zi * h + yi) * w + xi, ok, wk[0] * wk[1] * wk[2],
                                     sg[0] * wk[1] * wk[2] * mx, wk[0] * sg[1] * wk[2] * my,
                                     wk[0] * wk[1] * sg[2] * mz))
        out = None
        for idx, ok, wt, *_ in taps:
            v = _gather(flat, idx, ok)
            term = v if wt is None else wt[:, None, :] * v
            out = term if out is None else out + term
        ctx.save_for_backward(x, grid)
        ctx.gcfg = (mode, padding, align_corners)
        ctx.cfg = (taps, mode, grid.shape)
        return _np.ascontiguousarray(out.reshape(n, c, od, oh, ow))

    @staticmethod
    @_quiet
    def backward(ctx, gout):
        if _grad.create_graph:
            return _differentiable_backward(*ctx.saved_tensors, gout, *ctx.gcfg, ctx.needs_input_grad) + (None,) * 3
        x = ctx._saved_arrays()[0]
        taps, mode, gshape = ctx.cfg
        n, c = x.shape[:2]
        sp = int(_np.prod(x.shape[2:]))
        go = gout._data.reshape(n, c, -1)
        gx = gg = None
        if ctx.needs_input_grad[0]:
            gx = Tensor._make(_scatter_taps(go, taps, x))
        if ctx.needs_input_grad[1]:
            if mode == "nearest":
                gg = _np.zeros(gshape, dtype=x.dtype)
            else:
                flat = x.reshape(n, c, sp)
                parts = [0, 0, 0]
                for idx, ok, _, *dd in taps:
                    s = (go * _gather(flat, idx, ok)).sum(axis=1)
                    parts = [p + s * dk for p, dk in zip(parts, dd)]
                gg = _np.stack(parts, axis=-1).reshape(gshape)
            gg = Tensor._make(_np.ascontiguousarray(gg))
        return gx, gg, None, None, None


# ---------------------------------------------------------------------------------------------------------
# the backward in differentiable ember ops (create_graph=True: double backward, as PyTorch)
# ---------------------------------------------------------------------------------------------------------
def _generic_taps(xshape, g, mode, padding, align_corners):
    """Every mode's taps in one form: ([(flat index, valid, factor id per dim)], [t per dim], [dt/dgrid per
    dim]); the weight of a tap is the product over dims of basis factor ``id`` at the fractional offset t."""
    sizes = tuple(xshape[2:])[::-1]            # (W, H[, D]): the order of the grid's coordinates
    k = len(sizes)
    strides = [int(_np.prod(sizes[:d])) for d in range(k)]
    def flat(pos):
        ok = _np.ones(pos[0].shape, dtype=bool)
        for p, n in zip(pos, sizes):
            ok &= (p > -1) & (p < n)
        idx = sum(_np.where(ok, p, 0).astype(_np.int64) * st for p, st in zip(pos, strides))
        return idx, ok
    if mode == "nearest":
        pos = [_np.rint(_coords(g[..., d], sizes[d], padding, align_corners, k == 2)[0]) for d in range(k)]
        idx, ok = flat(pos)
        return [(idx, ok, None)], None, None
    ts, As, lows, folds = [], [], [], []
    for d in range(k):
        if mode == "bicubic":
            c, scale = _unnormalize(g[..., d], sizes[d], align_corners)
            a = _np.full(c.shape, scale, dtype=c.dtype)
        else:
            c, a = _coords(g[..., d], sizes[d], padding, align_corners, k == 2)
        lo = _np.floor(c)
        ts.append(c - lo)
        As.append(a)
        lows.append(lo)
    ntap = 4 if mode == "bicubic" else 2
    taps = []
    for combo in _np.ndindex(*([ntap] * k)):
        fids = combo[::-1]                     # fids[d]: the factor along grid coordinate d (x first)
        if mode == "bicubic":
            pos = [_fold(lows[d] + (fids[d] - 1), sizes[d], padding, align_corners)[0] for d in range(k)]
        else:
            pos = [lows[d] + fids[d] for d in range(k)]
        idx, ok = flat(pos)
        taps.append((idx, ok, fids))
    return taps, ts, As


def _basis(t, fid, cubic, deriv):
    """Basis factor ``fid`` (bilinear: 1 - t, t; bicubic: PyTorch's 4 cubic-convolution weights) or its
    derivative in t, on ember Tensors."""
    if not cubic:
        if deriv:
            return -1.0 if fid == 0 else 1.0
        return 1.0 - t if fid == 0 else t
    a = _A
    u = (t + 1.0, t, 1.0 - t, 2.0 - t)[fid]
    sign = -1.0 if fid >= 2 else 1.0
    if fid in (1, 2):
        return sign * ((3 * (a + 2)) * u - 2 * (a + 3)) * u if deriv else ((a + 2) * u - (a + 3)) * u * u + 1.0
    return sign * (((3 * a) * u - 10 * a) * u + 8 * a) if deriv else ((a * u - 5 * a) * u + 8 * a) * u - 4 * a


def _differentiable_backward(x, grid, gout, mode, padding, align_corners, needs):
    """(grad input, grad grid) of grid_sample as ember ops of (input, grid, upstream gradient)."""
    import ember as _e      # the namespace's ops (imported here: ember imports this module)
    n, c = x.shape[0], x.shape[1]
    k = grid.shape[-1]
    g_np = grid._data.reshape(n, -1, k)
    taps, ts, As = _generic_taps(x._data.shape, g_np, mode, padding, align_corners)
    p = g_np.shape[1]
    sp = int(_np.prod(x.shape[2:]))
    go = gout.reshape(n, c, p)
    dt = x._data.dtype
    gflat = grid.reshape(n, p, k)
    tt = None
    if ts is not None:
        tt = [gflat[..., d] * Tensor._make(As[d]) + Tensor._make((ts[d] - As[d] * g_np[..., d]).astype(dt))
              for d in range(k)]
    cubic = mode == "bicubic"
    gx = _e.zeros((n, c, sp), dtype=x.dtype) if needs[0] else None
    parts = [0] * k
    xflat = x.reshape(n, c, sp)
    for idx, ok, fids in taps:
        okt = Tensor._make(ok.astype(dt))[:, None, :]
        it = Tensor._make(_np.ascontiguousarray(_np.broadcast_to(idx[:, None, :], (n, c, p))))
        if fids is None:
            w = None
        else:
            fs = [_basis(tt[d], fids[d], cubic, False) for d in range(k)]
            w = fs[0]
            for f in fs[1:]:
                w = w * f
        if needs[0]:
            contrib = go * okt if w is None else go * (w[:, None, :] * okt)
            gx = gx.scatter_add(2, it, contrib)
        if needs[1] and fids is not None:
            sv = (go * (_e.take_along_dim(xflat, it, 2) * okt)).sum(1)
            for d in range(k):
                dw = _basis(tt[d], fids[d], cubic, True)
                for e in range(k):
                    if e != d:
                        dw = dw * _basis(tt[e], fids[e], cubic, False)
                parts[d] = parts[d] + sv * dw * Tensor._make(As[d])
    gg = None
    if needs[1]:
        if ts is None:
            gg = _e.zeros(tuple(grid.shape), dtype=grid.dtype)
        else:
            gg = _e.stack(parts, -1).reshape(tuple(grid.shape))
    return (gx.reshape(tuple(x.shape)) if gx is not None else None), gg


def _shape(t):
    return list(t.shape)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the normalised locations of ``grid`` (N, H_out, W_out, 2), x then y
    in [-1, 1] (5-D: input (N, C, D, H, W), grid (N, D_out, H_out, W_out, 3), trilinear or nearest) (``torch.nn.functional.grid_sample``).  ``mode``: 'bilinear', 'nearest' or 'bicubic';
    ``padding_mode``:
    'zeros', 'border' or 'reflection'.  Differentiable with respect to ``input`` and ``grid``.

    >>> F.grid_sample(ember.randn(1, 1, 4, 4), ember.zeros(1, 2, 3, 2), align_corners=False).shape
    ember.Size([1, 1, 2, 3])
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_AC_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        raise TypeError(f"grid_sample(): expected input and grid to be Tensors, got {type(input).__name__} and "
                        f"{type(grid).__name__}")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {_shape(input)} and grid with sizes {_shape(grid)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_shape(input)} and grid with sizes {_shape(grid)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but "
                           f"got grid with sizes {_shape(grid)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if not input.is_floating_point():
        raise RuntimeError(f"grid_sampler(): expected floating-point input and grid, got {input.dtype}")
    for i in range(2, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                               f"has sizes {_shape(input)} with dimension {i} being empty")
    if input.dim() == 5 and mode == "bicubic":
        raise RuntimeError(f"grid_sampler(): bicubic interpolation only supports 4D input (input "
                           f"{_shape(input)})")
    fn = _GridSampler3d if input.dim() == 5 else _GridSampler2d
    if input.is_cuda or grid.is_cuda:       # the kernels gather and scatter with NumPy
        return host_fallback(fn.apply, input, grid, mode, padding_mode, bool(align_corners))
    return fn.apply(input, grid, mode, padding_mode, bool(align_corners))


# ---------------------------------------------------------------------------------------------------------
# affine_grid
# ---------------------------------------------------------------------------------------------------------
def _linspace_from_neg_one(steps, align_corners, dtype):
    """PyTorch's ``linspace_from_neg_one``: linspace(-1, 1, steps) (symmetric halves, as torch.linspace),
    times (steps - 1) / steps unless ``align_corners``; a single 0 for one step."""
    if steps <= 1:
        return _np.zeros(steps, dtype=dtype)
    t = _np.dtype(dtype).type
    from ...creation import _linspace_array          # torch.linspace, as linspace_from_neg_one calls it
    r = _linspace_array(-1.0, 1.0, steps, _np.dtype(dtype), "affine_grid").astype(dtype)
    if not align_corners:
        r = (r * t(steps - 1)) / t(steps)
    return r.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W) (``torch.nn.functional.affine_grid``); 5-D sizes take ``theta`` (N, 3, 4) and give
    (N, D, H, W, 3).  Differentiable with respect to ``theta``.

    >>> F.affine_grid(ember.eye(2, 3).unsqueeze(0), [1, 1, 2, 3], align_corners=False).shape
    ember.Size([1, 2, 3, 2])
    """
    if align_corners is None:
        warnings.warn(_AC_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid(): expected theta to be a Tensor, got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. "
                             f"Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid(): expected theta's batch size {theta.shape[0]} to equal size[0] = "
                           f"{size[0]} (theta {list(theta.shape)}, size {size})")
    dtype = theta._data.dtype
    k = len(spatial)
    base = _np.ones(tuple(spatial) + (k + 1,), dtype=dtype)
    for j in range(k):            # coordinate j (x, y, z) varies along spatial dim k - 1 - j
        shape = [1] * k
        shape[k - 1 - j] = spatial[k - 1 - j]
        base[..., j] = _np.broadcast_to(
            _linspace_from_neg_one(spatial[k - 1 - j], align_corners, dtype).reshape(shape), tuple(spatial))
    npts = int(_np.prod(spatial))
    b = Tensor._make(_like(_np.ascontiguousarray(_np.broadcast_to(base.reshape(1, npts, k + 1),
                                                                  (size[0], npts, k + 1))), theta._data))
    grid = b @ theta.transpose(1, 2)
    return _tname(grid.reshape([size[0]] + list(spatial) + [k]), "AffineGridGeneratorBackward0", theta)
