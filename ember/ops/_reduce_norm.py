"""The vector norms of ``ember.norm`` (p = 2/'fro', 1, +-inf, 0 or any real) and ``dist``, with PyTorch's
norm gradients (a zero subgradient at 0 and at a zero norm).  Re-exported by ``ember.ops.reduce``."""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import numpy as _np

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp, as_array as _as_array
from ..tensor import Tensor
from . import elementwise as E
from .reduce import ArrayCtx, Sum, _c, _dims, _expand_grad, _unsqueeze_to, sum


@_named(lambda input, p="fro", *a, **k: None if p == "nuc" else "LinalgVectorNormBackward0")
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default): p = 2/'fro', 1, inf, -inf, 0 or any real."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor as input, got {input.dtype}")
    if input._data.dtype == _np.float16:     # computed in float32 (no overflow of x * x), as PyTorch
        return E.cast(norm(E.cast(input, _dt.float32), p, dim, keepdim), _dt.float16)
    axes = _dims(dim, input._data.ndim, "norm")
    if input._data.size == 0 and isinstance(p, (int, float, str)) and not isinstance(p, bool) and p not in ("fro", "nuc"):
        pv = float(p)
        if pv < 0 or pv == float("inf"):
            for ax in (range(input._data.ndim) if axes is None else axes):
                if input._data.shape[ax] == 0:
                    raise RuntimeError(f"norm: cannot compute the {p} norm over the empty dimension {ax} (shape "
                                       f"{tuple(input.shape)}): the operation has no identity")
    n_red = input._data.size if axes is None else int(_np.prod([input._data.shape[i] for i in axes]))
    if n_red == 1 and input._data.size and p not in (0, "nuc") and not isinstance(p, bool):
        # one element per norm: PyTorch's |x| (no overflow of x * x) with its norm gradient
        from ..linalg import vector_norm
        return vector_norm(input, 2 if p in ("fro", None) else float(p), dim=dim, keepdim=keepdim)
    if p in ("fro", 2, 2.0, None):
        if input._data.dtype in (_np.float32, _np.float64):
            return Norm2.apply(input, axes, keepdim)
        sq = sum(E.mul(input, input), axes, keepdim)
        return _SafeSqrt.apply(sq)
    if p in (float("inf"), "inf", float("-inf"), "-inf"):
        if input._data.ndim == 0:
            axes = None
        return NormInf.apply(input, axes, keepdim, p in (float("inf"), "inf"))
    if p == 1:
        return sum(E.abs(input), axes, keepdim)
    if p == 0:
        return sum(_NonZero.apply(input), axes, keepdim)     # counts nonzeros (NaN counts); zero gradient
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm is not implemented; use p=2/'fro', 1, inf or a number")
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        raise ValueError(f"norm: p must be a number, 'fro', inf or -inf, got {p!r}")
    return PNorm.apply(input, axes, keepdim, float(p))


class NormInf(Function):
    """max (or min) of |x| with PyTorch's norm gradient: shared by the elements equal to the norm, and by
    NaNs (whose sign is 0, so they get none); a NaN norm sends no gradient to the other elements."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max):
        ab = _np.abs(a)
        out = ab.max(axis=axes, keepdims=True) if is_max else ab.min(axis=axes, keepdims=True)
        ctx.save_for_backward(a)
        ctx.mask = (ab == out) | _np.isnan(ab)
        ctx.axes, ctx.keepdim = axes, keepdim
        return _c(out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if axes is not None and i not in axes]))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        g = _unsqueeze_to(g, a.shape, ctx.axes, ctx.keepdim)
        m = ctx.mask
        with _np.errstate(divide="ignore", invalid="ignore"):
            w = Tensor._make((m / m.sum(axis=ctx.axes, keepdims=True)).astype(a.dtype))
        return E.mul(E.sign(a), E.mul(g, w)), None, None, None


class PNorm(Function):
    """(sum |x|^p)^(1/p) for any other real p, with PyTorch's backward formulas (which pick the subgradient
    0 at x == 0 for p < 1 and at a zero norm for p > 1)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, p):
        with _np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = _as_array(_np.power(_np.power(_np.abs(a), p).sum(axis=axes, keepdims=keepdim), 1.0 / p))
        out = _c(out.astype(a.dtype, copy=False))
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim, ctx.p = axes, keepdim, p
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        p = ctx.p
        g = _unsqueeze_to(g, a.shape, ctx.axes, ctx.keepdim)
        nrm = _unsqueeze_to(out, a.shape, ctx.axes, ctx.keepdim)
        ab = E.abs(a)
        if p < 1.0:
            scaled = E.where(E.eq(a, 0), 0.0, E.mul(E.sign(a), E.pow(ab, p - 1)))
            return E.mul(E.mul(scaled, g), E.pow(nrm, 1 - p)), None, None, None
        scaled = E.mul(E.sign(a), E.pow(ab, p - 1)) if p < 2.0 else E.mul(a, E.pow(ab, p - 2))
        scale = E.where(E.eq(nrm, 0), 0.0, E.div(g, E.pow(nrm, p - 1)))
        return E.mul(scaled, scale), None, None, None


class _NonZero(E._ZeroGradUnary):
    fn = staticmethod(lambda a: _as_array(a != 0).astype(a.dtype))


def norm2_array(a, axes, keepdim):
    """``Norm2``'s forward on an array: sqrt(sum(a * a)) over ``axes`` with ``Sum``'s reduction."""
    return _np.sqrt(Sum.forward(ArrayCtx(), a * a, axes, keepdim, None))


def norm2_grad(g, o, a):
    """``Norm2``'s gradient on arrays: ``g`` and the norm ``o`` shaped to broadcast against ``a`` (the reduced
    dims kept), a * g / (2 o), 0 where o is 0, added to itself (the composite's two product branches)."""
    m = _xp(o)
    zero = o == 0
    with _np.errstate(divide="ignore", invalid="ignore"):
        q = m.where(zero, 0.0, g / (m.where(zero, 1.0, o) * 2.0)).astype(o.dtype, copy=False)
    r = q * a
    r += r
    return r


class Norm2(Function):
    """The 2-norm over ``axes`` as one node: ``sqrt(sum(x * x))`` with the composite's bits (the same product,
    ``Sum``'s reduction, ``_SafeSqrt``'s square root), and its gradient, ``x * g / (2 norm)`` (0 where the
    norm is 0) added to itself as the composite's two product branches are (x + x is exact).  One node where
    the composite recorded three: a no-grad norm of 128 rows of 64 34 -> 25 us (``F.normalize``,
    ``cosine_similarity``, gradient clipping)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        out = norm2_array(a, axes, keepdim)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        a, o = ctx.saved_tensors
        if _grad.create_graph:      # the composite's formulas, recorded
            zero = E.eq(o, 0)
            q = E.where(zero, 0.0, E.div(g, E.mul(E.where(zero, 1.0, o), 2.0)))
            r = E.mul(_expand_grad(q, a.shape, ctx.axes, ctx.keepdim), a)
            return E.add(r, r), None, None
        kept = [_unsqueeze_to(t, a.shape, ctx.axes, ctx.keepdim)._data for t in (g, o)]
        return Tensor._make(norm2_grad(*kept, a._data)), None, None


class _SafeSqrt(Function):
    """sqrt whose gradient at 0 is 0 (the subgradient PyTorch's norm uses), not inf."""

    @staticmethod
    def forward(ctx, a):
        out = _np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (o,) = ctx.saved_tensors
        zero = E.eq(o, 0)           # masked only at 0: a NaN or inf norm passes NaN / 0 on, as PyTorch
        return E.where(zero, 0.0, E.div(g, E.mul(E.where(zero, 1.0, o), 2.0)))


def dist(input, other, p=2):
    return norm(E.sub(input, other), p)
