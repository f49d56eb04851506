"""``cosine_similarity`` (and ``normalize``, below) as one node: PyTorch's composite (each input divided by
its 2-norm clamped to ``eps`` in value only, the quotients multiplied and summed over ``dim``), its six
nodes' steps taken on arrays in one forward and one backward.  The values are the composite's bit for bit,
forward and gradient (tests): the same NumPy operations on the same operands, where each of the composite's
nodes ran them from its own backward (``Sum``'s expanded gradient, ``Mul``'s and ``Div``'s products and
quotients, the engine's sum of the divisor's gradient back to its shape, ``Norm2``'s gradient added to
itself).  128 rows of 64, one thread: no-grad ~200 -> 55 us, forward + backward ~750 -> 198 (PyTorch's 30 and
323).  Inputs of one shape and dtype (float32/float64); the public function keeps the composite for the
others (broadcast inputs, float16, a reduced dim of one element)."""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..backend.device import array_module as _xp
from ..tensor import Tensor
from . import _bound, elementwise as E
from ._reduce_norm import norm2_array, norm2_grad
from .reduce import ArrayCtx, Sum


def _clamped_norm(x, dim, eps):
    """(the 2-norm over ``dim``, kept; that norm clamped to ``eps`` as the composite's
    ``n + (max(n, eps) - n)``)."""
    n = norm2_array(x, (dim,), True)
    fix = _xp(x).maximum(n, eps) - n
    return n, n + fix.astype(n.dtype, copy=False)


def _sum_keep(a, dim):
    """The engine's sum of a gradient back to the kept shape (none where ``dim`` has one element already)."""
    return a if a.shape[dim] == 1 else Sum.forward(ArrayCtx(), a, (dim,), True, None)


class CosineSimilarity(Function):
    @staticmethod
    def forward(ctx, x1, x2, dim, eps):
        n1, c1 = _clamped_norm(x1, dim, eps)
        n2, c2 = _clamped_norm(x2, dim, eps)
        a = x1 / c1
        b = x2 / c2
        ctx.dim, ctx.eps = dim, eps
        ctx.save_for_backward(x1, x2)
        ctx.arrays = (n1, c1, n2, c2, a, b)
        return Sum.forward(ArrayCtx(), a * b, (dim,), False, None)

    @staticmethod
    def backward(ctx, g):
        x1, x2 = ctx.saved_tensors
        if _grad.create_graph:
            return _backward_graph(x1, x2, g, ctx.dim, ctx.eps) + (None, None)
        n1, c1, n2, c2, a, b = ctx.arrays
        need = ctx.needs_input_grad
        gp = _xp(a).expand_dims(g._data, ctx.dim)
        out = []
        for k, (x, n, c, mine, other) in enumerate(((x1._data, n1, c1, a, b), (x2._data, n2, c2, b, a))):
            if not need[k]:
                out.append(None)
                continue
            gq = gp * other                        # Mul's gradient for this quotient
            gx = gq / c                            # Div's, for the dividend
            gc = -(gq * (mine / c))                # and for the divisor, summed back to its kept shape
            gx2 = norm2_grad(_sum_keep(gc, ctx.dim), n, x)
            out.append(Tensor._make(gx + gx2))     # the engine's sum of the two paths (one addition)
        return out[0], out[1], None, None


def _backward_graph(x1, x2, g, dim, eps):
    """The composite's backward recorded with ember ops (``create_graph``), the norms recomputed in the
    graph."""
    from . import reduce as R
    gp = g.unsqueeze(dim)
    parts = []
    for x in (x1, x2):
        n = R.norm(x, 2, dim, True)
        fix = (_xp(n._data).maximum(n._data, eps) - n._data).astype(n._data.dtype, copy=False)
        c = E.add(n, Tensor._make(fix))
        parts.append((x, n, c, E.div(x, c)))
    res = []
    for (x, n, c, mine), (_, _, _, other) in zip(parts, parts[::-1]):
        gq = E.mul(gp, other)
        gc = E.neg(E.mul(gq, E.div(mine, c)))
        gc = gc if gc.shape[dim] == 1 else gc.sum(dim, keepdim=True)
        zero = E.eq(n, 0)
        q = E.where(zero, 0.0, E.div(gc, E.mul(E.where(zero, 1.0, n), 2.0)))
        r = E.mul(q, x)
        res.append(E.add(E.div(gq, c), E.add(r, r)))
    return tuple(res)


class Normalize2(Function):
    """``F.normalize`` with p = 2 as one node: the composite ``x / norm(x).clamp_min(eps).expand_as(x)``'s
    four nodes' steps on arrays (``Norm2``, ``Clamp``, ``Expand``, ``Div``), its bits forward and backward
    (the clamp's gradient a product with its 0/1 mask, as ``Clamp.backward``): 128 rows of 64, one thread,
    no-grad 94 -> 22 us, forward + backward 317 -> 145 (PyTorch 23 / 228 in the same sweep).  C-contiguous
    inputs (the composite's result layout for the others)."""

    @staticmethod
    def forward(ctx, x, dim, eps):
        n = norm2_array(x, (dim,), True)
        c = _bound.maximum(eps, n)
        ctx.dim, ctx.eps = dim, eps
        ctx.save_for_backward(x)
        ctx.arrays = (n, c, n >= eps)
        return x / c

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        n, c, keep = ctx.arrays
        dim = ctx.dim
        if _grad.create_graph:      # the same steps recorded, the norm recomputed in the graph
            from . import reduce as R
            nt = R.norm(x, 2, dim, True)
            ct = E.clamp(nt, min=ctx.eps)
            gc = E.neg(E.mul(g, E.div(E.div(x, ct), ct)))
            gc = gc if gc.shape[dim] == 1 else gc.sum(dim, keepdim=True)
            gc = E.mul(gc, Tensor._make(keep.astype(gc._data.dtype)))
            zero = E.eq(nt, 0)
            q = E.where(zero, 0.0, E.div(gc, E.mul(E.where(zero, 1.0, nt), 2.0)))
            r = E.mul(q, x)
            return E.add(E.div(g, ct), E.add(r, r)), None, None
        gd, xd = g._data, x._data
        gx = gd / c                                            # Div's gradient for the dividend
        gc = _sum_keep(-(gd * ((xd / c) / c)), dim)            # and the divisor's, summed back by the engine
        gc = gc * keep.astype(gc.dtype)                        # Clamp's: its 0/1 mask
        return Tensor._make(gx + norm2_grad(gc, n, xd)), None, None
