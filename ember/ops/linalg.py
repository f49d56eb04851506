"""Linear algebra: matmul (NumPy/PyTorch's 1-D and batched rules), mm, bmm, mv, dot, outer, einsum.

matmul is one BLAS call forward and two backward; batched operands broadcast, and the engine sums the
gradient of a broadcast batch back to its input's shape.
"""
from __future__ import annotations

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..tensor import Tensor, _to_array
from . import elementwise as E


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = gb = None
        ad, bd = a.ndim, b.ndim
        if ad == 1 and bd == 1:             # dot product -> scalar
            return (E.mul(g, b) if n[0] else None), (E.mul(g, a) if n[1] else None)
        if ad == 1:                          # (k) @ (..., k, m) -> (..., m)
            if n[0]:
                ga = matmul(b, g.unsqueeze(-1)).squeeze(-1)
            if n[1]:
                gb = matmul(a.unsqueeze(-1), g.unsqueeze(-2))
            return ga, gb
        if bd == 1:                          # (..., n, k) @ (k) -> (..., n)
            if n[0]:
                ga = matmul(g.unsqueeze(-1), b.unsqueeze(-2))
            if n[1]:
                gb = matmul(a.mT, g.unsqueeze(-1)).squeeze(-1)
            return ga, gb
        if n[0]:
            ga = matmul(g, b.mT)
        if n[1]:
            gb = matmul(a.mT, g)
        return ga, gb


def _as_t(x):
    if isinstance(x, Tensor):
        return x
    if x is None or isinstance(x, str):
        raise TypeError(f"expected a Tensor, got {type(x).__name__}")
    return Tensor._make(_to_array(x, None))


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy/PyTorch's rules: 1-D operands are promoted and their dim removed, leading
    dims broadcast as a batch (``torch.matmul``)."""
    a, b = _as_t(a), _as_t(b)
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {tuple(sa)} and {tuple(sb)}")
    ka = sa[-1]
    kb = sb[-2] if len(sb) >= 2 else sb[0]
    if ka != kb:
        raise RuntimeError(f"matmul: shapes {tuple(sa)} and {tuple(sb)} cannot be multiplied ({ka} != {kb}: the last "
                           f"dim of the first must equal the {'second-to-last' if len(sb) >= 2 else 'only'} dim of "
                           f"the second)")
    if len(sa) > 2 or len(sb) > 2:
        try:
            _np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dims of {tuple(sa)} and {tuple(sb)} are not broadcastable") from None
    if a._data.dtype != b._data.dtype:
        dt = _dt.result_type(a, b)
        a, b = a.to(dt), b.to(dt)
    if a._data.dtype.kind in "b":
        raise RuntimeError("matmul: bool tensors are not supported")
    return MatMul.apply(a, b)


def mm(a, b) -> Tensor:
    """2-D matrix product (``torch.mm``)."""
    a, b = _as_t(a), _as_t(b)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def bmm(a, b) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) (``torch.bmm``)."""
    a, b = _as_t(a), _as_t(b)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def mv(a, v) -> Tensor:
    a, v = _as_t(a), _as_t(v)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(a.shape)} and {tuple(v.shape)}")
    return matmul(a, v)


def dot(a, b) -> Tensor:
    a, b = _as_t(a), _as_t(b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


inner = dot
vdot = dot


def outer(a, b) -> Tensor:
    """Outer product of two vectors (``torch.outer``)."""
    a, b = _as_t(a), _as_t(b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return E.mul(a.unsqueeze(1), b.unsqueeze(0))


ger = outer


def addmm(c, a, b, *, beta=1, alpha=1):
    out = matmul(a, b)
    if alpha != 1:
        out = E.mul(out, alpha)
    return E.add(E.mul(c, beta) if beta != 1 else c, out)


def baddbmm(c, a, b, *, beta=1, alpha=1):
    return addmm(c, a, b, beta=beta, alpha=alpha)


class Einsum(Function):
    @staticmethod
    def forward(ctx, eq, *arrays):
        ctx.eq = eq
        ctx.save_for_backward(*arrays)
        try:
            return _np.einsum(eq, *arrays, optimize=True)
        except ValueError as e:
            raise RuntimeError(f"einsum(): equation '{eq}' with operands of shapes "
                               f"{[tuple(a.shape) for a in arrays]}: {e}") from None

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        terms = ins.split(",")
        grads = [None]
        for i, t in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [terms[j] for j in range(len(terms)) if j != i]
            # letters of this operand that appear nowhere else were summed out: restore them by broadcasting
            avail = set(out) | set("".join(others))
            missing = [c for c in t if c not in avail]
            sub = [o for j, o in enumerate(ops) if j != i]
            tgt = "".join(c for c in t if c in avail)
            # repeated letters (diagonals) inside one operand are not supported in backward
            if len(set(t)) != len(t):
                raise RuntimeError(f"einsum backward: repeated index in operand '{t}' is not supported")
            gi = einsum(f"{','.join([out] + others)}->{tgt}", g, *sub) if tgt or others else g
            if missing:
                shape = []
                it = iter(range(len(tgt)))
                view = []
                for c in t:
                    if c in missing:
                        view.append(1)
                    else:
                        view.append(gi.shape[next(it)])
                    shape.append(ops[i].shape[t.index(c)])
                gi = gi.reshape(tuple(view)).expand(tuple(shape))
            grads.append(gi)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (``torch.einsum``), e.g. ``einsum('bij,bjk->bik', a, b)``; '...' is supported in the
    forward pass; backward supports explicit subscripts without repeated letters in one operand."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the first argument must be the equation string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [_as_t(o) for o in operands]
    eq = equation.replace(" ", "")
    if "->" not in eq:
        ins = eq.split(",")
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c.isalpha()))
        eq = eq + "->" + out
    if "..." in eq:
        eq = _expand_ellipsis(eq, operands)
    terms = eq.split("->")[0].split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): the equation '{equation}' has {len(terms)} operands but {len(operands)} "
                           f"tensors were given")
    out_terms = eq.split("->")[1]
    for c in out_terms:
        if c not in "".join(terms):
            raise RuntimeError(f"einsum(): output subscript '{c}' of '{equation}' does not appear in the inputs")
    for t, o in zip(terms, operands):
        if len(t) != o.ndim:
            raise RuntimeError(f"einsum(): the subscript '{t}' has {len(t)} dims but the operand has shape "
                               f"{tuple(o.shape)}")
    dims = {}
    for t, o in zip(terms, operands):
        for c, s in zip(t, o.shape):
            if c in dims and dims[c] != s and s != 1 and dims[c] != 1:
                raise RuntimeError(f"einsum(): subscript '{c}' has size {s} for one operand and {dims[c]} for "
                                   f"another (equation '{equation}')")
            dims[c] = max(dims.get(c, s), s)
    dts = {o._data.dtype for o in operands}
    if len(dts) > 1:
        dt = _dt.result_type(*operands)
        operands = [o.to(dt) for o in operands]
    return Einsum.apply(eq, *operands)


def _expand_ellipsis(eq, operands):
    ins, out = eq.split("->")
    terms = ins.split(",")
    letters = set(c for c in eq if c.isalpha())
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in letters]
    nell = 0
    for t, o in zip(terms, operands):
        if "..." in t:
            nell = max(nell, o.ndim - (len(t) - 3))
    new_terms = []
    for t, o in zip(terms, operands):
        if "..." in t:
            k = o.ndim - (len(t) - 3)
            new_terms.append(t.replace("...", "".join(free[nell - k:nell])))
        else:
            new_terms.append(t)
    out = out.replace("...", "".join(free[:nell]))
    return ",".join(new_terms) + "->" + out


def tensordot(a, b, dims=2):
    a, b = _as_t(a), _as_t(b)
    if isinstance(dims, int):
        ax_a = list(range(a.ndim - dims, a.ndim))
        ax_b = list(range(dims))
    else:
        ax_a, ax_b = [list(d) if not isinstance(d, int) else [d] for d in dims]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [None] * b.ndim
    for i, j in zip(ax_a, ax_b):
        tb[j] = ta[i]
    tb = [c if c is not None else next(letters) for c in tb]
    out = [c for i, c in enumerate(ta) if i not in [x % a.ndim for x in ax_a]] + \
          [c for j, c in enumerate(tb) if j not in [x % b.ndim for x in ax_b]]
    return einsum(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)


def kron(a, b):
    a, b = _as_t(a), _as_t(b)
    ra = a.reshape(a.shape[0], 1, a.shape[1], 1) if a.ndim == 2 else a.reshape(-1, 1)
    rb = b.reshape(1, b.shape[0], 1, b.shape[1]) if b.ndim == 2 else b.reshape(1, -1)
    out = E.mul(ra, rb)
    return out.reshape(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]) if a.ndim == 2 else out.reshape(-1)
