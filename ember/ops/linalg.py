"""Linear algebra: matmul (NumPy/PyTorch's 1-D and batched rules), mm, bmm, mv, dot, inner, outer, einsum,
tensordot, kron, and the kernels behind ``ember.linalg`` (inv, solve, det, slogdet, cholesky, eigh, svd, qr,
matrix_exp) with their backwards.

matmul is one BLAS call forward and two backward; batched operands broadcast, and the engine sums the
gradient of a broadcast batch back to its input's shape.  The decompositions call LAPACK through NumPy and
return PyTorch's memory layout (column-major matrices); their backwards are written with ember ops, so they
can be differentiated again.
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


def matmul(input, other, *, out=None) -> Tensor:
    """Matrix product with NumPy/PyTorch's rules: 1-D operands are promoted and their dim removed, leading
    dims broadcast as a batch (``torch.matmul``); ``out=`` receives the result."""
    input, other = _as_t(input), _as_t(other)
    sa, sb = input._data.shape, other._data.shape
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
    if input._data.dtype != other._data.dtype:
        dt = _dt.result_type(input, other)
        input, other = input.to(dt), other.to(dt)
    if input._data.dtype.kind in "b":
        raise RuntimeError("matmul: bool tensors are not supported")
    r = MatMul.apply(input, other)
    if out is None:
        return r
    from .._out import write_out
    return write_out(out, r, "matmul")


def mm(input, mat2) -> Tensor:
    """2-D matrix product (``torch.mm``)."""
    input, mat2 = _as_t(input), _as_t(mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    """Batched matrix product of (B, n, k) and (B, k, m) (``torch.bmm``)."""
    input, mat2 = _as_t(input), _as_t(mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def mv(input, vec) -> Tensor:
    input, vec = _as_t(input), _as_t(vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {tuple(input.shape)} and {tuple(vec.shape)}")
    return matmul(input, vec)


def dot(input, tensor) -> Tensor:
    input, tensor = _as_t(input), _as_t(tensor)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    return matmul(input, tensor)


def inner(input, other) -> Tensor:
    """Inner product over the last dims (``torch.inner``): shape ``a.shape[:-1] + b.shape[:-1]``; a 0-d
    operand multiplies."""
    input, other = _as_t(input), _as_t(other)
    if input.ndim == 0 or other.ndim == 0:
        return E.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def vdot(input, other) -> Tensor:
    """Dot product of two 1-D tensors (``torch.vdot``; real dtypes, so no conjugation)."""
    return dot(input, other)


def outer(input, vec2) -> Tensor:
    """Outer product of two vectors (``torch.outer``)."""
    input, vec2 = _as_t(input), _as_t(vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(input.shape)} and {tuple(vec2.shape)}")
    return E.mul(input.unsqueeze(1), vec2.unsqueeze(0))


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    out = matmul(mat1, mat2)
    if alpha != 1:
        out = E.mul(out, alpha)
    return E.add(E.mul(input, beta) if beta != 1 else input, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return addmm(input, batch1, batch2, beta=beta, alpha=alpha)


class Einsum(Function):
    @staticmethod
    def forward(ctx, eq, *arrays):
        ctx.eq = eq
        ctx.save_for_backward(*arrays)
        try:
            out = _np.asarray(_np.einsum(eq, *arrays, optimize=True))
            # a product of several operands is a fresh contiguous tensor in PyTorch (one operand may be a view)
            return out.copy() if len(arrays) > 1 and not out.flags.c_contiguous else out
        except ValueError as e:
            raise RuntimeError(f"einsum(): equation '{eq}' with operands of shapes "
                               f"{[tuple(a.shape) for a in arrays]}: {e}") from None

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        terms = ins.split(",")
        used = set(ctx.eq)
        fresh = iter(c for c in _LETTERS if c not in used)
        grads = [None]
        for i, t in enumerate(terms):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [terms[j] for j in range(len(terms)) if j != i]
            sub = [o for j, o in enumerate(ops) if j != i]
            uniq = "".join(dict.fromkeys(t))                   # the operand's labels, first occurrences
            avail = set(out) | set("".join(others))
            tgt = "".join(c for c in uniq if c in avail)
            if others or tgt != out:
                gi = einsum(f"{','.join([out] + others)}->{tgt}", g, *sub)
            else:
                gi = g
            size = {c: ops[i].shape[t.index(c)] for c in uniq}
            # a label of size 1 in the other operands broadcast against this one: so does its gradient (the
            # engine sums the opposite case, a size-1 label of this operand, back to its shape)
            want = tuple(max(gs, size[c]) for gs, c in zip(gi.shape, tgt))
            if tuple(gi.shape) != want:
                gi = gi.expand(want)
            if len(tgt) != len(uniq):
                # labels that appear only in this operand were summed out: broadcast the gradient back
                have = dict(zip(tgt, gi.shape))
                gi = gi.reshape(tuple(have.get(c, 1) for c in uniq)).expand(
                    tuple(have.get(c, size[c]) for c in uniq))
            if len(uniq) != len(t):
                # a repeated label reads a diagonal: put the gradient back on it, zeros elsewhere
                seen, full, eyes, eye_terms = set(), [], [], []
                for c in t:
                    if c in seen:
                        f = next(fresh)
                        full.append(f)
                        eye_terms.append(c + f)
                        eyes.append(Tensor._make(_np.eye(size[c], dtype=g._data.dtype)))
                    else:
                        seen.add(c)
                        full.append(c)
                gi = einsum(f"{','.join([uniq] + eye_terms)}->{''.join(full)}", gi, *eyes)
            grads.append(gi)
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublist_equation(args):
    """einsum(op1, [0, 1], op2, [1, 2], [0, 2]) -> ('AB,BC->AC', ops): PyTorch's sublist format."""
    def label(s):
        if s is Ellipsis:
            return "..."
        s = int(s)
        if not 0 <= s < 52:
            raise RuntimeError(f"einsum(): subscript in subscript list is not within the valid range [0, 52), got {s}")
        return chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26)
    ops, terms = [], []
    k = 0
    while k + 1 < len(args) and isinstance(args[k + 1], (list, tuple)):
        ops.append(args[k])
        terms.append("".join(label(s) for s in args[k + 1]))
        k += 2
    eq = ",".join(terms)
    if k < len(args):
        if k != len(args) - 1 or not isinstance(args[k], (list, tuple)):
            raise RuntimeError("einsum(): the sublist format expects operand, sublist pairs and an optional output "
                               "sublist")
        eq += "->" + "".join(label(s) for s in args[k])
    return eq, ops


def einsum(equation, *operands) -> Tensor:
    """Einstein summation (``torch.einsum``), e.g. ``einsum('bij,bjk->bik', a, b)``.  Without '->' the output
    is the ellipsis dims followed by the labels used once, in alphabetical order (PyTorch's implicit mode);
    a repeated label in one operand takes a diagonal (``'ii->i'``) and is differentiable.  The sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is accepted too."""
    if isinstance(equation, Tensor) and operands and isinstance(operands[0], (list, tuple)):
        equation, operands = _sublist_equation((equation,) + operands)
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the first argument must be the equation string, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [_as_t(o) for o in operands]
    eq = equation.replace(" ", "")
    if "->" not in eq:
        ins = eq.split(",")
        letters = "".join(ins).replace(".", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        eq = eq + "->" + ("..." if "..." in eq else "") + out
    for c in eq.replace("...", "").replace("->", "").replace(",", ""):
        if c not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation string "
                               f"'{equation}', subscripts must be in [a-zA-Z]")
    terms = eq.split("->")[0].split(",")
    if len(terms) != len(operands):
        raise RuntimeError(f"einsum(): the equation '{equation}' has {len(terms)} operands but {len(operands)} "
                           f"tensors were given")
    if "..." in eq:
        eq = _expand_ellipsis(eq, operands, equation)
    terms = eq.split("->")[0].split(",")
    out_terms = eq.split("->")[1]
    for c in out_terms:
        if c not in "".join(terms):
            raise RuntimeError(f"einsum(): output subscript '{c}' of '{equation}' does not appear in the inputs")
        if out_terms.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript '{c}' appears more than once in the output of "
                               f"'{equation}'")
    for t, o in zip(terms, operands):
        if len(t) != o.ndim:
            raise RuntimeError(f"einsum(): the subscript '{t}' has {len(t)} dims but the operand has shape "
                               f"{tuple(o.shape)}")
    dims = {}
    for t, o in zip(terms, operands):
        own = {}
        for c, s in zip(t, o.shape):
            if c in own and own[c] != s:
                raise RuntimeError(f"einsum(): subscript '{c}' is repeated for operand of shape {tuple(o.shape)} "
                                   f"but the sizes don't match, {own[c]} != {s} (equation '{equation}')")
            own[c] = s
            if c in dims and dims[c] != s and s != 1 and dims[c] != 1:
                raise RuntimeError(f"einsum(): subscript '{c}' has size {s} for one operand and {dims[c]} for "
                                   f"another (equation '{equation}')")
            dims[c] = max(dims.get(c, s), s)
    dts = {o._data.dtype for o in operands}
    if len(operands) > 1 and _np.dtype(_np.bool_) in dts:
        raise RuntimeError('"bmm" not implemented for \'Bool\' (einsum of bool operands)')
    if len(dts) > 1:
        dt = _dt.result_type(*operands)
        operands = [o.to(dt) for o in operands]
    return Einsum.apply(eq, *operands)


def _expand_ellipsis(eq, operands, equation):
    ins, out = eq.split("->")
    terms = ins.split(",")
    letters = set(c for c in eq if c.isalpha())
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in letters]
    nell = 0
    for t, o in zip(terms, operands):
        if "..." in t:
            k = o.ndim - (len(t) - 3)
            if k < 0:
                raise RuntimeError(f"einsum(): the subscript '{t}' has more dims than the operand of shape "
                                   f"{tuple(o.shape)} (equation '{equation}')")
            nell = max(nell, k)
    new_terms = []
    for t, o in zip(terms, operands):
        if "..." in t:
            k = o.ndim - (len(t) - 3)
            new_terms.append(t.replace("...", "".join(free[nell - k:nell])))
        else:
            new_terms.append(t)
    out = out.replace("...", "".join(free[:nell]))
    return ",".join(new_terms) + "->" + out


def _dims_list(d, n, which, a_shape, b_shape):
    ds = [d] if isinstance(d, int) else [int(x) for x in (d.tolist() if isinstance(d, Tensor) else d)]
    out = []
    for x in ds:
        if not -n <= x < max(n, 1):
            raise RuntimeError(f"tensordot: dim {x} of the {which} operand is out of range for shapes "
                               f"{tuple(a_shape)} and {tuple(b_shape)}")
        out.append(x % n)
    return out


def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Contract ``dims`` of ``a`` with ``dims`` of ``b`` (``torch.tensordot``): an int n contracts the last n
    dims of ``a`` with the first n of ``b``; a pair of lists names them.  One matrix product; the result is
    contiguous, free dims of ``a`` first.  ``out=`` receives the result."""
    if out is not None:
        from .._out import write_out
        return write_out(out, tensordot(a, b, dims), "tensordot")
    a, b = _as_t(a), _as_t(b)
    if isinstance(dims, int) or (isinstance(dims, Tensor) and dims.ndim == 0):
        n = int(dims)
        if n < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={n}")
        if n > a.ndim or n > b.ndim:
            raise RuntimeError(f"tensordot: dims={n} is more than the dims of the operands of shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        ax_a, ax_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be an int or a pair of lists, got {dims!r}")
        ax_a = _dims_list(dims[0], a.ndim, "first", a.shape, b.shape)
        ax_b = _dims_list(dims[1], b.ndim, "second", a.shape, b.shape)
    if len(ax_a) != len(ax_b):
        raise RuntimeError(f"tensordot: both dimension lists should have same length, got {len(ax_a)} and "
                           f"{len(ax_b)}")
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [j for j in range(b.ndim) if j not in ax_b]
    k = 1
    for i in ax_a:
        k *= a.shape[i]
    sa = [a.shape[i] for i in free_a]
    sb = [b.shape[j] for j in free_b]
    if a._data.dtype != b._data.dtype:
        dt = _dt.result_type(a, b)
        a, b = a.to(dt), b.to(dt)
    pa, pb = 1, 1
    for x in sa:
        pa *= x
    for x in sb:
        pb *= x
    am = a.permute(*(free_a + ax_a)).reshape(pa, k) if a.ndim else a.reshape(1, 1)
    bm = b.permute(*(ax_b + free_b)).reshape(k, pb) if b.ndim else b.reshape(1, 1)
    return matmul(am, bm).reshape(tuple(sa + sb))


def kron(input, other) -> Tensor:
    """Kronecker product of tensors of any dims (``torch.kron``): the fewer-dim operand gets leading 1s and
    the result has shape ``a.shape[i] * b.shape[i]``."""
    input, other = _as_t(input), _as_t(other)
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    # interleave: a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...), multiply, merge each pair
    ra = input.reshape(tuple(x for s in sa for x in (s, 1)))
    rb = other.reshape(tuple(x for s in sb for x in (1, s)))
    return E.mul(ra, rb).reshape(tuple(x * y for x, y in zip(sa, sb)))


# == decompositions and solvers (torch.linalg) ====================================================================
# Kernels are LAPACK calls through NumPy on raw arrays; backwards are written with ember ops (so they can be
# differentiated again) from the standard matrix-calculus identities.  The public names live in ``ember.linalg``;
# the top-level ``det``/``inverse``/``logdet``/... below are PyTorch's aliases.
from typing import NamedTuple as _NamedTuple  # noqa: E402


class LinAlgError(RuntimeError):
    """A linear-algebra routine could not complete (singular or not positive-definite input), as
    ``torch.linalg.LinAlgError``."""


_TYPE_NAMES = {"b": "Bool", "i": "Long", "u": "Byte"}


def _float_input(A, op, ndim=2):
    A = _as_t(A)
    a = A._data
    if a.dtype.kind != "f" or a.dtype == _np.float16:
        got = "Half" if a.dtype == _np.float16 else {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                                                       "uint8": "Byte", "bool": "Bool"}.get(str(a.dtype), str(a.dtype))
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {got}")
    if a.ndim < ndim:
        raise RuntimeError(f"{op}: The input tensor A must have at least {ndim} dimensions, got shape "
                           f"{tuple(a.shape)}")
    return A


def _square(A, op):
    A = _float_input(A, op)
    n, m = A._data.shape[-2:]
    if n != m:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {n} by {m} matrices "
                           f"(shape {tuple(A.shape)})")
    return A


def _tr(a):
    return _np.swapaxes(a, -1, -2)


def _cm(a):
    """The same values with each matrix (last two dims) column-major, the layout PyTorch's LAPACK-backed
    results have (``stride() == (..., 1, rows)``)."""
    if a.ndim < 2:
        return a
    return _tr(_np.ascontiguousarray(_tr(a)))


def _mT(t):
    return t.transpose(-1, -2)


def _first_singular(a):
    """Index of the first singular matrix in a batch (by an exact zero pivot of LU, approximated by rank)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    for k, m in enumerate(flat):
        if _np.linalg.matrix_rank(m) < m.shape[-1]:
            return k
    return 0


def _lapack(fn, op, what, a, *args):
    try:
        return fn(a, *args)
    except _np.linalg.LinAlgError:
        prefix = f"(Batch element {_first_singular(a)}): " if a.ndim > 2 else ""
        if what == "pd":
            raise LinAlgError(f"{op}: {prefix}The factorization could not be completed because the input is not "
                              f"positive-definite (shape {tuple(a.shape)}).") from None
        raise LinAlgError(f"{op}: {prefix}The input matrix is singular, so the {what} could not be completed "
                          f"(shape {tuple(a.shape)}).") from None


class _Layout(Function):
    """Identity on values that gives the result PyTorch's memory layout: ``rows=None`` makes each matrix
    column-major; ``rows=r`` places it in a column-major buffer with ``r`` rows (LAPACK's least-squares
    workspace, whose first rows hold the solution)."""

    @staticmethod
    def forward(ctx, a, rows=None):
        if rows is None or a.ndim < 2:
            return _cm(a)
        buf = _np.zeros(a.shape[:-2] + (a.shape[-1], max(rows, a.shape[-2])), a.dtype)
        view = _tr(buf)[..., :a.shape[-2], :]
        view[...] = a
        return view

    @staticmethod
    def backward(ctx, g):
        return g, None


def _colmajor(t, rows=None):
    return _Layout.apply(t, rows)


class _Inv(Function):
    @staticmethod
    def forward(ctx, a):
        out = a.copy() if a.shape[-1] == 0 else _cm(_lapack(_np.linalg.inv, "linalg.inv", "inversion", a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return E.neg(matmul(matmul(yt, g), yt))


def inv(input) -> Tensor:
    """Inverse of a square matrix or a batch of them (``torch.linalg.inv``); raises ``LinAlgError`` for a
    singular input.  Gradient: ``-A^-T g A^-T``."""
    input = _square(input, "linalg.inv")
    return _Inv.apply(input)


inverse = inv


class _InvEx(_NamedTuple):
    inverse: Tensor
    info: Tensor


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``info`` is 0 for every invertible matrix of the batch, else > 0 (the result is
    then not meaningful), as ``torch.linalg.inv_ex``."""
    A = _square(A, "linalg.inv_ex")
    batch = A._data.shape[:-2]
    info = _np.zeros(batch, _np.int32)
    flat = A._data.reshape((-1,) + A._data.shape[-2:])
    bad = [k for k, m in enumerate(flat) if m.size and _np.linalg.matrix_rank(m) < m.shape[-1]]
    if bad:
        if check_errors:
            inv(A)
        info.reshape(-1)[bad] = 1
        safe = flat.copy()
        safe[bad] = _np.eye(flat.shape[-1])
        out = Tensor._make(_np.linalg.inv(safe).reshape(A._data.shape))
        out.reshape(-1, *A._data.shape[-2:])._data[bad] = _np.nan
        return _InvEx(out, Tensor._make(info))
    return _InvEx(inv(A), Tensor._make(info))


def _solve_is_vector(a_shape, b_shape):
    # PyTorch's rule: B is a (batch of) vector(s) when it is 1-D, or has one dim less than A and matches
    # A's shape without the last dim
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1]))


class _Solve(Function):
    @staticmethod
    def forward(ctx, a, b, vec):
        bb = b[..., None] if vec else b
        batch = _np.broadcast_shapes(a.shape[:-2], bb.shape[:-2])
        a2 = _np.broadcast_to(a, batch + a.shape[-2:])
        b2 = _np.broadcast_to(bb, batch + bb.shape[-2:])
        x = _lapack(_np.linalg.solve, "linalg.solve", "solve", a2, b2) if a.shape[-1] else \
            _np.zeros(batch + bb.shape[-2:], a.dtype)
        x = _cm(x[..., 0] if vec else x)
        ctx.vec = vec
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = solve(_mT(a), g)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = E.neg(matmul(gb.unsqueeze(-1), x.unsqueeze(-2)) if ctx.vec else matmul(gb, _mT(x)))
        return ga, gb, None


def solve(A, B, *, left=True) -> Tensor:
    """Solve ``A X = B`` (``left=False``: ``X A = B``) for square ``A`` (``torch.linalg.solve``); ``B`` may be
    a vector or a batch of vectors (PyTorch's rule) or matrices, batch dims broadcast."""
    A = _square(A, "linalg.solve")
    B = _float_input(B, "linalg.solve", 1)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype} and B of type {B.dtype} instead")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    vec = _solve_is_vector(A._data.shape, B._data.shape)
    n = A._data.shape[-1]
    rows = B._data.shape[-1] if vec else B._data.shape[-2]
    if rows != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({tuple(A.shape)} and {tuple(B.shape)})")
    try:
        _np.broadcast_shapes(A._data.shape[:-2], B._data.shape[:-1] if vec else B._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {tuple(A.shape)} and B {tuple(B.shape)} are not "
                           f"broadcastable") from None
    return _Solve.apply(A, B, vec)


class _SolveEx(_NamedTuple):
    result: Tensor
    info: Tensor


def solve_ex(A, B, *, left=True, check_errors=False):
    X = solve(A, B, left=left)
    return _SolveEx(X, Tensor._make(_np.zeros(_as_t(A)._data.shape[:-2], _np.int32)))


class _Det(Function):
    @staticmethod
    def forward(ctx, a):
        d = _np.linalg.det(a) if a.shape[-1] else _np.ones(a.shape[:-2], a.dtype)
        d = _np.asarray(d, a.dtype)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        if a._data.shape[-1] == 0:
            return E.mul(a, 0.0)
        if _np.all(d._data != 0) and _np.all(_np.isfinite(d._data)):
            return E.mul(E.mul(g, d).unsqueeze(-1).unsqueeze(-1), _mT(inv(a)))
        # a singular matrix: the cofactor matrix from the SVD, adj(A)^T = det(U) det(V) U diag(prod_{j!=i} s_j) V^T
        u, s, vh = _np.linalg.svd(a._data)
        n = s.shape[-1]
        prods = _np.stack([_np.prod(_np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
        sgn = _np.linalg.det(u) * _np.linalg.det(vh)
        cof = (u * prods[..., None, :]) @ vh * sgn[..., None, None]
        return E.mul(g.unsqueeze(-1).unsqueeze(-1), Tensor._make(cof.astype(a._data.dtype)))


def det(input) -> Tensor:
    """Determinant of a square matrix or a batch (``torch.linalg.det``); differentiable also at singular
    matrices (the gradient is the cofactor matrix)."""
    input = _square(input, "linalg.det")
    return _Det.apply(input)


class _SlogdetResult(_NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class _Slogdet(Function):
    @staticmethod
    def forward(ctx, a):
        s, l = _np.linalg.slogdet(a)
        s, l = _np.asarray(s, a.dtype), _np.asarray(l, a.dtype)
        s = _np.where(_np.isnan(l), 0, s).astype(a.dtype)      # PyTorch: sign 0 where the result is nan
        ctx.save_for_backward(a)
        return s, l

    @staticmethod
    def backward(ctx, gs, gl):
        (a,) = ctx.saved_tensors
        return E.mul(gl.unsqueeze(-1).unsqueeze(-1), _mT(inv(a)))


def slogdet(input) -> _SlogdetResult:
    """``(sign, logabsdet)`` of a square matrix or batch (``torch.linalg.slogdet``); sign is 0 and
    logabsdet -inf for a singular matrix."""
    input = _square(input, "linalg.slogdet")
    s, l = _Slogdet.apply(input)        # sign requires grad (as PyTorch's) but its gradient is zero
    return _SlogdetResult(s, l)


def logdet(input) -> Tensor:
    """log(det(A)) (``torch.logdet``): nan for a negative determinant, -inf for a singular matrix."""
    input = _square(input, "logdet")
    s, l = slogdet(input)
    with _np.errstate(invalid="ignore", divide="ignore"):      # log(-1) = nan, log(0) = -inf on purpose
        return E.add(l, Tensor._make(_np.log(s._data)))


class _Cholesky(Function):
    @staticmethod
    def forward(ctx, a):
        L = _cm(_lapack(_np.linalg.cholesky, "linalg.cholesky", "pd", a)) if a.shape[-1] else a.copy()
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, g):
        (L,) = ctx.saved_tensors
        # A = L L^T: with M = tril(L^T g), gA = L^-T S L^-1 where S is the symmetric matrix with M's strictly
        # lower part mirrored and half M's diagonal on the diagonal
        from .index import tril
        m = tril(matmul(_mT(L), g))
        s = E.mul(E.add(m, _mT(tril(m, -1))), 0.5)
        linv = inv(L)
        return matmul(matmul(_mT(linv), s), linv)


def cholesky(A, *, upper=False) -> Tensor:
    """Cholesky factor ``L`` (lower; ``upper=True``: ``L^T``) of a symmetric positive-definite matrix or batch
    (``torch.linalg.cholesky``); only the lower triangle of ``A`` is read."""
    A = _square(A, "linalg.cholesky")
    L = _Cholesky.apply(A)
    return _colmajor(_mT(L)) if upper else L


class _CholeskyEx(_NamedTuple):
    L: Tensor
    info: Tensor


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: info is 0 where the factorization succeeded, else the order of the first non
    positive-definite leading minor (``torch.linalg.cholesky_ex``)."""
    A = _square(A, "linalg.cholesky_ex")
    try:
        return _CholeskyEx(cholesky(A, upper=upper), Tensor._make(_np.zeros(A._data.shape[:-2], _np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    a = A._data
    flat = a.reshape((-1,) + a.shape[-2:])
    info = _np.zeros(len(flat), _np.int32)
    out = _np.zeros_like(flat)
    for k, m in enumerate(flat):
        try:
            out[k] = _np.linalg.cholesky(m)
        except _np.linalg.LinAlgError:
            for j in range(1, m.shape[-1] + 1):
                try:
                    _np.linalg.cholesky(m[:j, :j])
                except _np.linalg.LinAlgError:
                    info[k] = j
                    break
    out = out.reshape(a.shape)
    return _CholeskyEx(Tensor._make(_tr(out).copy() if upper else out), Tensor._make(info.reshape(a.shape[:-2])))


class _EighResult(_NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class _Eigh(Function):
    @staticmethod
    def forward(ctx, a, uplo):
        w, v = _np.linalg.eigh(a, UPLO=uplo)
        w, v = w.astype(a.dtype, copy=False), _cm(v.astype(a.dtype, copy=False))
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vt = _mT(v)
        inner = _diag_embed(gw)
        if gv is not None and _np.any(gv._data != 0):
            # off-diagonal part: the skew-symmetric projection of V^T gV divided by the eigenvalue gaps
            vgv = matmul(vt, gv)
            skew = E.mul(E.sub(vgv, _mT(vgv)), 0.5)
            gap = E.sub(w.unsqueeze(-2), w.unsqueeze(-1))          # gap[i, j] = w[j] - w[i]
            n = w.shape[-1]
            eye = Tensor._make(_np.eye(n, dtype=bool))
            inner = E.add(inner, E.where(eye, 0.0, E.div(skew, gap)))
        return matmul(matmul(v, inner), vt), None


def _diag_embed(d):
    """A (batch of) diagonal matrices from a (batch of) vectors, differentiably."""
    n = d.shape[-1]
    return E.mul(d.unsqueeze(-1), Tensor._make(_np.eye(n, dtype=d._data.dtype)))


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")
    return UPLO


def eigh(A, UPLO="L") -> _EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix or batch
    (``torch.linalg.eigh``); only the ``UPLO`` triangle is read.  The eigenvector gradient needs distinct
    eigenvalues."""
    A = _square(A, "linalg.eigh")
    w, v = _Eigh.apply(A, _uplo(UPLO, "linalg.eigh"))
    return _EighResult(w, v)


def eigvalsh(A, UPLO="L") -> Tensor:
    """Eigenvalues (ascending) of a symmetric matrix or batch (``torch.linalg.eigvalsh``)."""
    return eigh(A, UPLO).eigenvalues


class _SVDResult(_NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class _SVD(Function):
    @staticmethod
    def forward(ctx, a, full):
        m, n = a.shape[-2:]
        if a.size == 0:
            k = min(m, n)
            u = _np.broadcast_to(_np.eye(m, m if full else k, dtype=a.dtype), a.shape[:-2] + (m, m if full else k))
            vh = _np.broadcast_to(_np.eye(n if full else k, n, dtype=a.dtype), a.shape[:-2] + (n if full else k, n))
            u, s, vh = u.copy(), _np.zeros(a.shape[:-2] + (k,), a.dtype), vh.copy()
        else:
            u, s, vh = _np.linalg.svd(a, full_matrices=full)
            u, s, vh = _cm(u), s.astype(a.dtype, copy=False), _cm(vh)
        ctx.full = full
        ctx.save_for_backward(a, u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        a, u, s, vh = ctx.saved_tensors
        m, n = a.shape[-2:]
        k = min(m, n)
        if ctx.full:
            # as PyTorch: the extra columns of U / rows of Vh are not unique, their gradient is dropped
            u, vh = u[..., :k], vh[..., :k, :]
            gu = gu[..., :k] if gu is not None else None
            gvh = gvh[..., :k, :] if gvh is not None else None
        return _svd_backward(a, u, s, vh, gu, gs, gvh), None


def _svd_backward(a, u, s, vh, gu, gs, gvh):
    """Gradient of the reduced SVD A = U diag(S) Vh (real).  The U/Vh terms need distinct singular values."""
    v = _mT(vh)
    ut = _mT(u)
    m, n = a.shape[-2:]
    k = s.shape[-1]
    use_u = gu is not None and bool(_np.any(gu._data != 0))
    use_v = gvh is not None and bool(_np.any(gvh._data != 0))
    inner = _diag_embed(gs) if gs is not None else None
    if use_u or use_v:
        s2 = E.mul(s, s)
        gap = E.sub(s2.unsqueeze(-2), s2.unsqueeze(-1))          # gap[i, j] = s_j^2 - s_i^2
        eye = Tensor._make(_np.eye(k, dtype=bool))
        f = E.where(eye, 0.0, E.div(1.0, E.where(eye, 1.0, gap)))
        if use_u:
            j = matmul(ut, gu)
            term = matmul(E.mul(f, E.sub(j, _mT(j))), _diag_embed(s))
            inner = term if inner is None else E.add(inner, term)
        if use_v:
            gv = _mT(gvh)
            kk = matmul(vh, gv)
            term = matmul(_diag_embed(s), E.mul(f, E.sub(kk, _mT(kk))))
            inner = term if inner is None else E.add(inner, term)
    ga = matmul(matmul(u, inner), vh) if inner is not None else None
    sinv = E.div(1.0, s)
    if use_u and m > k:
        # the component of gU outside the column space of U
        proj = E.sub(gu, matmul(u, matmul(ut, gu)))
        t = matmul(E.mul(proj, sinv.unsqueeze(-2)), vh)
        ga = t if ga is None else E.add(ga, t)
    if use_v and n > k:
        gv = _mT(gvh)
        proj = E.sub(gv, matmul(v, matmul(vh, gv)))
        t = matmul(E.mul(u, sinv.unsqueeze(-2)), _mT(proj))
        ga = t if ga is None else E.add(ga, t)
    if ga is None:
        ga = E.mul(a, 0.0)
    return ga


def svd(A, full_matrices=True, *, driver=None) -> _SVDResult:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` (``torch.linalg.svd``); S descending.  Gradients through
    U/Vh need distinct singular values and ``full_matrices=False`` (or a loss independent of the extra
    columns)."""
    A = _float_input(A, "linalg.svd")
    u, s, vh = _SVD.apply(A, bool(full_matrices))
    return _SVDResult(u, s, vh)


def svdvals(A, *, driver=None) -> Tensor:
    """Singular values, descending (``torch.linalg.svdvals``); gradient ``U diag(g) Vh``."""
    A = _float_input(A, "linalg.svdvals")
    return _SVD.apply(A, False)[1]


class _QRResult(_NamedTuple):
    Q: Tensor
    R: Tensor


class _QR(Function):
    @staticmethod
    def forward(ctx, a, mode):
        m, n = a.shape[-2:]
        if a.size == 0:
            k = m if mode == "complete" else min(m, n)
            q = _np.broadcast_to(_np.eye(m, k, dtype=a.dtype), a.shape[:-2] + (m, k)).copy()
            r = _np.zeros(a.shape[:-2] + (k, n), a.dtype)
        else:
            q, r = _np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
            q, r = _cm(q), _cm(r)
        ctx.save_for_backward(a, q, r)
        ctx.mode = mode
        if mode == "r":
            q = _np.zeros((0,), a.dtype)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Use "
                               "linalg.qr(A, mode='reduced') to differentiate through linalg.qr.")
        a, q, r = ctx.saved_tensors
        m, n = a.shape[-2:]
        if q.shape[-1] != min(m, n) and m > n:
            raise RuntimeError("linalg.qr: the derivative of mode='complete' is not implemented when m > n "
                               f"(shape {tuple(a.shape)}); use mode='reduced'")
        if gq is not None and gq._data.size == 0:
            gq = None
        return _qr_backward(a, q, r, gq, gr), None


def _qr_backward(a, q, r, gq, gr):
    """Gradient of A = QR for m >= n (square R), and for m < n by splitting A = [X | Y] with X square."""
    from .index import tril
    m, n = a.shape[-2:]
    if m < n:
        x_cols = m
        ry = r[..., :, x_cols:]
        gry = gr[..., :, x_cols:] if gr is not None else None
        grx = gr[..., :, :x_cols] if gr is not None else None
        y = a[..., :, x_cols:]
        gq2 = gq
        if gry is not None:
            t = matmul(y, _mT(gry))
            gq2 = t if gq2 is None else E.add(gq2, t)
        gx = _qr_backward(a[..., :, :x_cols], q, r[..., :, :x_cols], gq2, grx)
        gy = matmul(q, gry) if gry is not None else E.mul(y, 0.0)
        from .shape import cat
        return cat([gx, gy], -1)
    mm_ = None
    if gr is not None:
        mm_ = matmul(r, _mT(gr))
    if gq is not None:
        t = matmul(_mT(gq), q)
        mm_ = E.neg(t) if mm_ is None else E.sub(mm_, t)
    if mm_ is None:
        return E.mul(a, 0.0)
    low = tril(mm_)
    sym = E.add(low, _mT(tril(mm_, -1)))                           # copy the lower triangle to the upper
    b = matmul(q, sym)
    if gq is not None:
        b = E.add(b, gq)
    # b R^-T by a triangular solve: X R^T = b
    return _mT(solve(r, _mT(b)))


def qr(A, mode="reduced") -> _QRResult:
    """``(Q, R)`` with ``A = QR`` (``torch.linalg.qr``); ``mode`` is 'reduced', 'complete' or 'r' (Q empty)."""
    A = _float_input(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           f"'r', or 'complete'")
    q, r = _QR.apply(A, mode)
    if mode == "r":
        q._rg, q.grad_fn = False, None
    return _QRResult(q, r)


# the names ``from .linalg import *`` puts in ember.ops / ember.*; the torch.linalg names live in ember.linalg
__all__ = ["matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger", "addmm", "baddbmm", "einsum",
           "tensordot", "kron", "det", "inverse", "logdet", "slogdet", "matrix_exp"]


def _expm_array(a):
    """exp(A) by scaling and squaring with a degree-18 Taylor polynomial (float64 accuracy for the scaled
    norm <= 1/2); batched."""
    if a.shape[-1] == 0:
        return a.copy()
    work = a.astype(_np.float64)
    norm = _np.abs(work).sum(-2).max(-1)                       # the 1-norm of each matrix
    s = _np.maximum(0, _np.ceil(_np.log2(_np.maximum(norm, 1e-300)) + 1)).astype(_np.int64)
    scaled = work / (2.0 ** s)[..., None, None]
    n = a.shape[-1]
    eye = _np.broadcast_to(_np.eye(n), work.shape)
    result = eye.copy()
    term = eye.copy()
    for k in range(1, 19):
        term = term @ scaled / k
        result = result + term
    for step in range(int(s.max()) if s.size else 0):
        sq = result @ result
        result = _np.where((s > step)[..., None, None], sq, result)
    return result.astype(a.dtype)


class _MatrixExp(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm_array(a)

    @staticmethod
    def backward(ctx, g):
        # the Frechet derivative in the direction g at A^T is the top-right block of exp([[A^T, g], [0, A^T]])
        (a,) = ctx.saved_tensors
        from .shape import cat
        at = _mT(a)
        n = a.shape[-1]
        zeros = E.mul(at, 0.0)
        top = cat([at, g], -1)
        bottom = cat([zeros, at], -1)
        big = matrix_exp(cat([top, bottom], -2))
        return big[..., :n, n:]


def matrix_exp(A) -> Tensor:
    """Matrix exponential of a square matrix or batch (``torch.linalg.matrix_exp``), differentiable (twice)."""
    A = _as_t(A)
    if A._data.dtype == _np.float16:          # half: computed in float32, rounded back (PyTorch accepts half)
        return _MatrixExp.apply(_square(A.to(_np.float32), "linalg.matrix_exp")).to(_np.float16)
    A = _square(A, "linalg.matrix_exp")
    return _MatrixExp.apply(A)
