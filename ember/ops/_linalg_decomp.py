"""Decompositions and solvers behind ``ember.linalg`` and PyTorch's top-level aliases: ``inv``/``inv_ex``,
``solve``/``solve_ex``, ``det``, ``slogdet``/``logdet``, ``cholesky``/``cholesky_ex``, ``eigh``/``eigvalsh``,
``svd``/``svdvals`` and ``qr``, with ``LinAlgError`` and the input checks. Re-exported by
``ember.ops.linalg``.
"""
from __future__ import annotations


import numpy as _np

from .. import return_types as _rt

from ..autograd.function import Function
from ..backend.device import array_module as _xp, as_array as _as_array, like as _like, to_device as _to_device
from ..tensor import Tensor
from . import elementwise as E
from .linalg import _as_t, inner, matmul


# == decompositions and solvers (torch.linalg) ====================================================================
# Kernels are LAPACK calls through NumPy on raw arrays; backwards are written with ember ops (so they can be
# differentiated again) from the standard matrix-calculus identities.  The public names live in ``ember.linalg``;
# the top-level ``det``/``inverse``/``logdet``/... below are PyTorch's aliases.


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
    return _tr(_xp(a).ascontiguousarray(_tr(a)))


def _mT(t):
    return t.transpose(-1, -2)


def _first_singular(a):
    """Index of the first singular matrix in a batch (by an exact zero pivot of LU, approximated by rank)."""
    flat = _to_device(a, "cpu").reshape((-1,) + a.shape[-2:])      # an error message: on the host
    for k, m in enumerate(flat):
        if _np.linalg.matrix_rank(m) < m.shape[-1]:
            return k
    return 0


def _device_result_ok(out, what):
    """Whether a CuPy factorization succeeded: CuPy reports no failure (its linalg errstate is 'ignore'), it
    returns inf/NaN after a zero pivot (inv, solve) and a non-positive diagonal entry where potrf stopped
    (cholesky; the entries after it are left unfactored, finite)."""
    if not bool(_np.isfinite(out).all()):
        return False
    return what != "pd" or out.size == 0 or bool((_np.diagonal(out, 0, -2, -1) > 0).all())


def _lapack(fn, op, what, a, *args):
    try:
        out = fn(a, *args)
        if _xp(a) is not _np and not _device_result_ok(out, what) and bool(_np.isfinite(a).all()):
            # a failed factorization on the device: redo that call on the host (a fallback, on the error path
            # only), which raises LAPACK's error or gives its result
            host = fn(_to_device(a, "cpu"), *(_to_device(x, "cpu") for x in args))
            out = _like(host, a)
        return out
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
        buf = _xp(a).zeros(a.shape[:-2] + (a.shape[-1], max(rows, a.shape[-2])), a.dtype)
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


_InvEx = _rt.linalg_inv_ex


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``info`` is 0 for every invertible matrix of the batch, else > 0 (the result is
    then not meaningful), as ``torch.linalg.inv_ex``."""
    A = _square(A, "linalg.inv_ex")
    batch = A._data.shape[:-2]
    xp = _xp(A._data)
    info = _np.zeros(batch, _np.int32)
    flat = A._data.reshape((-1,) + A._data.shape[-2:])
    # the rank test of each matrix is a Python loop: on a device it reads a host copy
    host = _to_device(flat, "cpu")
    bad = [k for k, m in enumerate(host) if m.size and _np.linalg.matrix_rank(m) < m.shape[-1]]
    if bad:
        if check_errors:
            inv(A)
        info.reshape(-1)[bad] = 1
        safe = flat.copy()
        safe[bad] = xp.eye(flat.shape[-1])
        out = Tensor._make(_np.linalg.inv(safe).reshape(A._data.shape))
        out.reshape(-1, *A._data.shape[-2:])._data[bad] = _np.nan
        return _InvEx(out, Tensor._make(_like(info, A._data)))
    return _InvEx(inv(A), Tensor._make(_like(info, A._data)))


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
            _xp(a).zeros(batch + bb.shape[-2:], a.dtype)
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


_SolveEx = _rt.linalg_solve_ex


def solve_ex(A, B, *, left=True, check_errors=False):
    X = solve(A, B, left=left)
    A = _as_t(A)
    return _SolveEx(X, Tensor._make(_xp(A._data).zeros(A._data.shape[:-2], _np.int32)))


class _Det(Function):
    @staticmethod
    def forward(ctx, a):
        d = _np.linalg.det(a) if a.shape[-1] else _xp(a).ones(a.shape[:-2], a.dtype)
        d = _as_array(d, a.dtype)
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
        # (on a device a host fallback: CuPy has no ``delete``; a rare path)
        u, s, vh = _np.linalg.svd(_to_device(a._data, "cpu"))
        n = s.shape[-1]
        prods = _np.stack([_np.prod(_np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
        sgn = _np.linalg.det(u) * _np.linalg.det(vh)
        cof = (u * prods[..., None, :]) @ vh * sgn[..., None, None]
        return E.mul(g.unsqueeze(-1).unsqueeze(-1), Tensor._make(_like(cof.astype(a._data.dtype), a._data)))


def det(input) -> Tensor:
    """Determinant of a square matrix or a batch (``torch.linalg.det``); differentiable also at singular
    matrices, where the gradient is the cofactor matrix (the derivative).  PyTorch's gradient there is
    ``det * A^-T`` through its LU factors, which is the cofactor matrix when the LU's last pivot rounds to a
    tiny nonzero and zero when it is exactly zero (which of the two depends on the CPU's LAPACK kernels:
    MKL on Intel and on AMD Zen differ for ``[[1, 2, 3], [2, 4, 6], [1, 0, 1]]``); ember gives the cofactor
    matrix whatever the rounding."""
    input = _square(input, "linalg.det")
    return _Det.apply(input)


_SlogdetResult = _rt.slogdet


class _Slogdet(Function):
    @staticmethod
    def forward(ctx, a):
        s, l = _np.linalg.slogdet(a)
        s, l = _as_array(s, a.dtype), _as_array(l, a.dtype)
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


_CholeskyEx = _rt.linalg_cholesky_ex


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: info is 0 where the factorization succeeded, else the order of the first non
    positive-definite leading minor (``torch.linalg.cholesky_ex``)."""
    A = _square(A, "linalg.cholesky_ex")
    try:
        return _CholeskyEx(cholesky(A, upper=upper), Tensor._make(_xp(A._data).zeros(A._data.shape[:-2],
                                                                                        _np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    a = _to_device(A._data, "cpu")        # a Python loop over the matrices: on a device a host fallback
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
    out = _tr(out).copy() if upper else out
    return _CholeskyEx(Tensor._make(_like(out, A._data)), Tensor._make(_like(info.reshape(a.shape[:-2]), A._data)))


_EighResult = _rt.linalg_eigh


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
            eye = Tensor._make(_xp(w._data).eye(n, dtype=bool))
            inner = E.add(inner, E.where(eye, 0.0, E.div(skew, gap)))
        return matmul(matmul(v, inner), vt), None


def _diag_embed(d):
    """A (batch of) diagonal matrices from a (batch of) vectors, differentiably."""
    n = d.shape[-1]
    return E.mul(d.unsqueeze(-1), Tensor._make(_xp(d._data).eye(n, dtype=d._data.dtype)))


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


_SVDResult = _rt.linalg_svd


class _SVD(Function):
    @staticmethod
    def forward(ctx, a, full):
        m, n = a.shape[-2:]
        if a.size == 0:
            k = min(m, n)
            xp = _xp(a)
            u = _np.broadcast_to(xp.eye(m, m if full else k, dtype=a.dtype), a.shape[:-2] + (m, m if full else k))
            vh = _np.broadcast_to(xp.eye(n if full else k, n, dtype=a.dtype), a.shape[:-2] + (n if full else k, n))
            u, s, vh = u.copy(), xp.zeros(a.shape[:-2] + (k,), a.dtype), vh.copy()
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
        eye = Tensor._make(_xp(s._data).eye(k, dtype=bool))
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


_QRResult = _rt.linalg_qr


class _QR(Function):
    @staticmethod
    def forward(ctx, a, mode):
        m, n = a.shape[-2:]
        if a.size == 0:
            k = m if mode == "complete" else min(m, n)
            q = _np.broadcast_to(_xp(a).eye(m, k, dtype=a.dtype), a.shape[:-2] + (m, k)).copy()
            r = _xp(a).zeros(a.shape[:-2] + (k, n), a.dtype)
        else:
            q, r = _qr_array(a, "complete" if mode == "complete" else "reduced")
            q, r = _cm(q), _cm(r)
        ctx.save_for_backward(a, q, r)
        ctx.mode = mode
        if mode == "r":
            q = _xp(a).zeros((0,), a.dtype)
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


def _qr_array(a, mode):
    """``np.linalg.qr`` of a matrix or a batch; on a device one matrix at a time (CuPy's qr may take only 2-D
    input), the loop staying on the device."""
    if a.ndim == 2 or _xp(a) is _np:
        return _np.linalg.qr(a, mode=mode)
    flat = a.reshape((-1,) + a.shape[-2:])
    qs, rs = zip(*(_np.linalg.qr(m, mode=mode) for m in flat))
    return (_np.stack(qs).reshape(a.shape[:-2] + qs[0].shape), _np.stack(rs).reshape(a.shape[:-2] + rs[0].shape))


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
