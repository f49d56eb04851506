"""Linear algebra: matmul (NumPy/PyTorch's 1-D and batched rules), mm, bmm, mv, dot, inner, outer, einsum,
tensordot, kron and matrix_exp here; the decompositions and solvers behind ``ember.linalg`` (inv, solve, det,
slogdet, cholesky, eigh, svd, qr) with their backwards in ``ember.ops._linalg_decomp``, re-exported here, so
``from ember.ops.linalg import X`` keeps working.

matmul is one BLAS call forward and two backward; batched operands broadcast, and the engine sums the
gradient of a broadcast batch back to its input's shape.  The decompositions call LAPACK through NumPy and
return PyTorch's memory layout (column-major matrices); their backwards are written with ember ops, so they
can be differentiated again.
"""
from __future__ import annotations

import numpy as _np

from ..autograd.function import Function
from ..autograd._torch_names import named as _named
from ..autograd._torch_names import tag as _tname
from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp, as_array as _as_array
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


def _sparse_mm(a, b, op):
    """mm/matmul with a sparse COO operand (ember/sparse): sparse @ dense and dense @ sparse, never
    densified."""
    from ..sparse import _ops
    if a.is_sparse:
        if op == "mm" and b.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got sizes {tuple(a.shape)} (sparse) and "
                               f"{tuple(b.shape)}")
        return _ops.matmul(a, b, op)
    return _ops.dense_matmul(a, b, op)


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
    if type(input) is not Tensor and (input.is_sparse or other.is_sparse):
        return _sparse_mm(input, other, "matmul")
    if type(other) is not Tensor and other.is_sparse:
        return _sparse_mm(input, other, "matmul")
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
    if input.is_sparse or mat2.is_sparse:
        return _sparse_mm(input, mat2, "mm")
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
    return _tname(matmul(input, mat2), "BmmBackward0")


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


@_named("AddmmBackward0")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    out = matmul(mat1, mat2)
    if alpha != 1:
        out = E.mul(out, alpha)
    return E.add(E.mul(input, beta) if beta != 1 else input, out)


@_named("BaddbmmBackward0")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return addmm(input, batch1, batch2, beta=beta, alpha=alpha)


class Einsum(Function):
    @staticmethod
    def forward(ctx, eq, *arrays):
        ctx.eq = eq
        ctx.save_for_backward(*arrays)
        try:
            out = _as_array(_np.einsum(eq, *arrays, optimize=True))
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
                        eyes.append(Tensor._make(_xp(g._data).eye(size[c], dtype=g._data.dtype)))
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
    eye = _np.broadcast_to(_xp(a).eye(n), work.shape)
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


# moved to sibling modules by family; re-exported so every old import path works
from ._linalg_decomp import (  # noqa: E402,F401
    _Cholesky, _CholeskyEx, _cm, _colmajor, _Det, _diag_embed, _Eigh, _EighResult, _first_singular,
    _float_input, _Inv, _InvEx, _lapack, _Layout, _mT, _QR, _qr_backward, _QRResult, _Slogdet, _SlogdetResult,
    _Solve, _solve_is_vector, _SolveEx, _square, _SVD, _svd_backward, _SVDResult, _tr, _TYPE_NAMES, _uplo,
    cholesky, cholesky_ex, det, eigh, eigvalsh, inv, inv_ex, inverse, LinAlgError, logdet, qr, slogdet, solve,
    solve_ex, svd, svdvals)
