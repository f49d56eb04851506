"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace (norms, inverses, solvers, decompositions).

    import ember
    A = ember.randn(3, 3, dtype=ember.float64)
    x = ember.linalg.solve(A @ A.mT + ember.eye(3), ember.ones(3, dtype=ember.float64))
    sign, logabsdet = ember.linalg.slogdet(A)

Every function batches over leading dims, returns PyTorch's named tuples, raises ``ember.linalg.LinAlgError``
(a RuntimeError) where PyTorch raises ``torch.linalg.LinAlgError``, and is differentiable where PyTorch's is
(the decompositions' kernels and backwards are in ``ember/ops/linalg.py``).  Complex dtypes are not supported.
"""
from __future__ import annotations

import math as _math

import numpy as _np
from . import return_types as _rt

from .autograd.function import Function as _Function
from .backend.device import array_module as _xp, as_array as _as_array, like as _like
from .tensor import Tensor
from .ops import elementwise as _E
from .ops import reduce as _R
from .ops import linalg as _ops_linalg
from .ops._shape_strided import _result_layout
from .ops.linalg import (LinAlgError, inv_ex, solve, solve_ex, cholesky, cholesky_ex,  # noqa: F401
                         eigh, eigvalsh, svd, svdvals, qr, matmul, matrix_exp, _as_t, _float_input, _square, _mT, _diag_embed,
                         _solve_is_vector, _colmajor)

__all__ = ["LinAlgError", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "solve", "solve_ex", "det",
           "slogdet", "svd", "svdvals", "qr", "cholesky", "cholesky_ex", "eigh", "eigvalsh", "pinv", "lstsq",
           "multi_dot", "cross", "matrix_rank", "matrix_power", "matmul", "vecdot", "diagonal", "solve_triangular",
           "cond", "vander", "matrix_exp", "tensorinv", "tensorsolve", "lu", "lu_factor", "lu_factor_ex",
           "lu_solve", "householder_product"]


def inv(A) -> Tensor:
    """The inverse of each square matrix in ``A`` (``torch.linalg.inv``)."""
    return _ops_linalg.inv(A)


def det(A) -> Tensor:
    """The determinant of each square matrix in ``A`` (``torch.linalg.det``)."""
    return _ops_linalg.det(A)


def slogdet(A):
    """``(sign, logabsdet)`` of each square matrix in ``A`` (``torch.linalg.slogdet``)."""
    return _rt.linalg_slogdet(*_ops_linalg.slogdet(A))


def _norm_axes(dim, ndim, op):
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        n = max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dims} appears multiple times in the list of dims")
    return tuple(out) if ndim else ()


class _VectorNorm(_Function):
    @staticmethod
    def forward(ctx, a, ord, axes, keepdim, one_is_abs=True):
        ctx.ord, ctx.axes, ctx.keepdim, ctx.shape, ctx.one_is_abs = ord, axes, keepdim, a.shape, one_is_abs
        ctx.save_for_backward(a)
        return _R._c(_vector_norm_array(a, ord, axes, keepdim, one_is_abs))     # contiguous, as PyTorch

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        p, axes = ctx.ord, ctx.axes
        if not ctx.keepdim and axes != ():
            g = g.reshape(tuple(1 if axes is None or i in axes else s for i, s in enumerate(ctx.shape)))
        if p == 0:
            return _E.mul(x, 0.0)
        if p == 1:
            return _E.mul(_E.sign(x), g)
        dim = list(axes) if axes is not None else None
        n = _VectorNorm.apply(x, p, axes, True, ctx.one_is_abs)
        if _math.isinf(p):
            ax = _E.abs(x)
            mask = _E.logical_or(_E.eq(ax, n), _E.isnan(ax)).to(x.dtype)
            count = _R.sum(mask, dim, keepdim=True) if dim is not None else _R.sum(mask).reshape(n.shape)
            return _E.mul(_E.sign(x), _E.mul(_E.div(g, count), mask))
        # PyTorch's norm_backward, term by term (the order matters where powers underflow)
        nz = _E.ne(n, 0)
        if p == 2:
            return _E.mul(g, _E.where(nz, _E.div(x, _E.where(nz, n, 1.0)), 0.0))
        if p < 1:
            scaled = _E.where(_E.eq(x, 0), 0.0, _E.mul(_E.sign(x), _E.pow(_E.abs(x), p - 1)))
            return _E.mul(_E.mul(scaled, g), _E.pow(n, 1 - p))
        scaled = _E.mul(_E.sign(x), _E.pow(_E.abs(x), p - 1)) if p < 2 else _E.mul(x, _E.pow(_E.abs(x), p - 2))
        return _E.mul(scaled, _E.where(nz, _E.div(g, _E.pow(n, p - 1)), 0.0))


def _vector_norm_array(a, p, axes, keepdim, one_is_abs=True):
    ab = _np.abs(a)
    if one_is_abs and a.size and p != 0 and (a.size if axes is None else _math.prod(a.shape[i] for i in axes)) == 1:
        # one element per norm: PyTorch returns |x| itself (no overflow of x * x, no underflow of |x| ** p),
        # except for a 0-d input given a dim
        out = _np.sum(ab, axis=axes, keepdims=keepdim)
    elif p == 2:
        out = _np.sqrt(_np.sum(ab * ab, axis=axes, keepdims=keepdim))
    elif p == 1:
        out = _np.sum(ab, axis=axes, keepdims=keepdim)
    elif p == float("inf"):
        out = _np.max(ab, axis=axes, keepdims=keepdim)
    elif p == float("-inf"):
        out = _np.min(ab, axis=axes, keepdims=keepdim)
    elif p == 0:
        out = _np.sum(ab != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
    else:
        out = _np.sum(ab ** p, axis=axes, keepdims=keepdim) ** (1.0 / p)
    return _as_array(out, a.dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (all dims when None) treated as a vector
    (``torch.linalg.vector_norm``): ``ord`` may be any real number or +-inf; 0 counts non-zeros.  The gradient
    is 0 where the norm is 0, and at ``ord=inf`` is shared evenly by the tied maxima (as PyTorch)."""
    return _vector_norm(x, ord, dim, keepdim, dtype=dtype)


def _pairwise_norm(d, p) -> Tensor:
    """The ``p``-norm over the last dim of pairwise differences (cdist, pdist): PyTorch's distance kernels
    take |x| ** p even for one feature, so tiny differences underflow (and huge ones overflow) as there."""
    return _vector_norm(d, p, -1, False, one_is_abs=False)


def _vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, one_is_abs=None) -> Tensor:
    x = _as_t(x)
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        got = {"b": "Bool", "u": "Byte"}.get(x._data.dtype.kind, "Long" if x._data.dtype == _np.int64 else str(x.dtype))
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {got}")
    if isinstance(ord, str) or isinstance(ord, bool):
        raise RuntimeError(f"linalg.vector_norm: ord must be a real number, got {ord!r}")
    p = float(ord)
    axes = _norm_axes(dim, x._data.ndim, "linalg.vector_norm")
    if axes == () and x._data.ndim:
        axes = None
    if p < 0 or _math.isinf(p):
        red = x._data.shape if axes is None else [x._data.shape[i] for i in axes]
        if any(s == 0 for s in red) or (axes is None and x._data.size == 0):
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                               f"operation does not have an identity (shape {tuple(x.shape)})")
    if one_is_abs is None:
        one_is_abs = not (x._data.ndim == 0 and dim is not None and (isinstance(dim, int) or len(dim)))
    return _VectorNorm.apply(x, p, axes, bool(keepdim), one_is_abs)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None) -> Tensor:
    """Matrix norm over the two dims ``dim`` (``torch.linalg.matrix_norm``): 'fro', 'nuc', +-1, +-2, +-inf."""
    A = _as_t(A)
    if dtype is not None:
        A = A.to(dtype)
    op = "linalg.matrix_norm"
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if A._data.dtype == _np.float16:
        if ord in ("nuc", 2, -2, 2.0, -2.0):
            raise RuntimeError(f"{op}: Low precision dtypes not supported. Got Half")
    else:
        _float_input(A, op)
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim}")
    d0, d1 = _norm_axes(dim, A._data.ndim, op)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2, 2.0, -2.0):
        if A._data.shape[d0] == 0 or A._data.shape[d1] == 0:
            if ord != "nuc":
                raise RuntimeError(f"{op}: The ord={ord} norm is not defined for an empty matrix of shape "
                                   f"{tuple(A.shape)}")
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        if ord == "nuc":
            out = _R.sum(s, -1)
        elif ord in (2, 2.0):
            out = _R.amax(s, -1)
        else:
            out = _R.amin(s, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, float("inf"), float("-inf")):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        if A._data.shape[red_dim] == 0:             # PyTorch returns zeros here
            shape = [s for i, s in enumerate(A._data.shape) if keepdim or i not in (d0, d1)]
            if keepdim:
                shape[d0] = shape[d1] = 1
            return _E.mul(A.sum((d0, d1), keepdim=keepdim), 0.0) if A.requires_grad else \
                Tensor._make(_xp(A._data).zeros(shape, A._data.dtype))
        colsum = _R.sum(_E.abs(A), sum_dim, keepdim=True)
        out = _R.amax(colsum, red_dim, keepdim=True) if ord in (1, float("inf")) else \
            _R.amin(colsum, red_dim, keepdim=True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise RuntimeError(f"{op}: Order {ord} not supported.")


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int or ``A`` is 1-D, a matrix norm when ``dim``
    is a 2-tuple or ``A`` is 2-D; with ``ord=None`` and no dim, the 2-norm of the flattened input."""
    input = _as_t(input)
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
        if len(dim) == 1:
            dim = dim[0]
    if isinstance(dim, int):
        return vector_norm(input, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None:
        if ord is None:
            return vector_norm(input, 2, None, keepdim, dtype=dtype)
        if input._data.ndim == 1:
            return vector_norm(input, ord, None, keepdim, dtype=dtype)
        if input._data.ndim == 2:
            return matrix_norm(input, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{input._data.ndim}D.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    return matrix_norm(input, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)


# -- pseudo-inverse and least squares ------------------------------------------------------------------------
def _cutoff(s, atol, rtol, m, n):
    """PyTorch's rule: tolerance max(atol, rtol * s_max); rtol defaults to eps * max(m, n) when atol is absent
    or zero, and to 0 otherwise."""
    eps = _np.finfo(s.dtype).eps
    atol_v = 0.0 if atol is None else (atol._data if isinstance(atol, Tensor) else atol)
    if rtol is None:
        rtol_v = eps * max(m, n) if (atol is None or _np.all(_as_array(atol_v) <= 0)) else 0.0
    else:
        rtol_v = rtol._data if isinstance(rtol, Tensor) else rtol
    smax = s.max(axis=-1) if s.shape[-1] else _xp(s).zeros(s.shape[:-1], s.dtype)
    # atol/rtol (numbers, or tensors on s's device or the host) as arrays on s's device
    return _np.maximum(_like(_as_array(atol_v, s.dtype), s), _like(_as_array(rtol_v, s.dtype), s) * smax)


class _Pinv(_Function):
    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        m, n = a.shape[-2:]
        if a.size == 0:
            out = _xp(a).zeros(a.shape[:-2] + (n, m), a.dtype)
        elif hermitian:
            w, v = _np.linalg.eigh(a)
            tol = _cutoff(_np.abs(w), atol, rtol, m, n)
            keep = _np.abs(w) > tol[..., None]
            winv = _np.where(keep, 1.0 / _np.where(keep, w, 1.0), 0.0).astype(a.dtype)
            out = (v * winv[..., None, :]) @ _np.swapaxes(v, -1, -2)
        else:
            u, s, vh = _np.linalg.svd(a, full_matrices=False)
            tol = _cutoff(s, atol, rtol, m, n)
            keep = s > tol[..., None]
            sinv = _np.where(keep, 1.0 / _np.where(keep, s, 1.0), 0.0).astype(a.dtype)
            out = (_np.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ _np.swapaxes(u, -1, -2)
        out = _xp(a).ascontiguousarray(out, dtype=a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        # d(A+) = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+ (constant rank)
        xt, gt = _mT(x), _mT(g)
        m, n = a.shape[-2:]
        xp = _xp(a._data)
        eye_m = Tensor._make(xp.eye(m, dtype=a._data.dtype))
        eye_n = Tensor._make(xp.eye(n, dtype=a._data.dtype))
        t1 = _E.neg(matmul(matmul(xt, g), xt))
        t2 = matmul(matmul(_E.sub(eye_m, matmul(a, x)), gt), matmul(x, xt))
        t3 = matmul(matmul(xt, x), matmul(gt, _E.sub(eye_n, matmul(x, a))))
        return _E.add(_E.add(t1, t2), t3), None, None, None


def pinv(A, *, atol=None, rtol=None, hermitian=False) -> Tensor:
    """Moore-Penrose pseudo-inverse (``torch.linalg.pinv``): singular values at or below
    ``max(atol, rtol * s_max)`` are treated as zero; differentiable where the rank is constant."""
    A = _float_input(A, "linalg.pinv")
    return _Pinv.apply(A, atol, rtol, bool(hermitian))


_LstsqResult = _rt.linalg_lstsq


def lstsq(A, B, rcond=None, *, driver=None) -> _LstsqResult:
    """Least-squares solution of ``A X = B`` (``torch.linalg.lstsq``): the minimum-norm solution, computed
    through the pseudo-inverse (gradients as PyTorch's).  With the CPU default driver 'gelsy', ``residuals``
    and ``singular_values`` are empty, as in PyTorch; 'gelsd'/'gelss' return singular values, and residuals
    when ``m > n`` and every matrix has full rank."""
    A = _float_input(A, "linalg.lstsq")
    B = _float_input(B, "linalg.lstsq", 1)
    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                           f"got {driver!r}")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {A.dtype} and other's dtype {B.dtype}")
    m, n = A._data.shape[-2:]
    vec = B._data.ndim == A._data.ndim - 1
    rows = B._data.shape[-1] if vec else B._data.shape[-2]
    if rows != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vec else 2}) "
                           f"(shapes {tuple(A.shape)} and {tuple(B.shape)})")
    rtol = rcond if rcond is not None and rcond > 0 else None
    X = _colmajor(matmul(pinv(A, rtol=rtol), B.unsqueeze(-1) if vec else B), max(m, n))   # PyTorch's layout
    if vec:
        X = X.squeeze(-1)
    dt = A._data.dtype
    xp = _xp(A._data)
    s = _np.linalg.svd(A._data, compute_uv=False) if A._data.size else xp.zeros(A._data.shape[:-2] + (0,), dt)
    tol = _cutoff(s, None, rtol, m, n)
    rank = (s > tol[..., None]).sum(-1).astype(_np.int64)
    empty = Tensor._make(xp.zeros((0,), dt))
    # an empty residuals tensor still requires grad in PyTorch when the inputs do
    residuals = _E.mul(X.reshape(-1)[:0], 0) if (A.requires_grad or B.requires_grad) else empty
    if driver in ("gelsd", "gelss", "gelsy") and m > n and A._data.size and _np.all(rank == n) and driver != "gelsy":
        r = _E.sub(matmul(A, X.unsqueeze(-1) if vec else X), B.unsqueeze(-1) if vec else B)
        residuals = _R.sum(_E.mul(r, r), -2)
        if vec:
            residuals = residuals.squeeze(-1)
    svals = Tensor._make(s.astype(dt)) if driver in ("gelsd", "gelss") else empty
    rank_t = Tensor._make(rank) if driver != "gels" else Tensor._make(xp.zeros((0,), _np.int64))
    return _LstsqResult(X, residuals, rank_t, svals)


# -- products, powers, rank ----------------------------------------------------------------------------------
def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (``torch.linalg.multi_dot``); the first may be a row vector and
    the last a column vector (1-D), whose dims are then removed."""
    ts = [_as_t(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if ts[0].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {ts[0].ndim}D")
    if ts[-1].ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {ts[-1].ndim}D")
    for i, t in enumerate(ts[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    mats = [ts[0].unsqueeze(0) if first_vec else ts[0]] + ts[1:-1] + \
           [ts[-1].unsqueeze(1) if last_vec else ts[-1]]
    dts = {t._data.dtype for t in mats}
    if len(dts) > 1:
        raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but got {sorted(map(str, dts))}")
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {tuple(ts[i].shape)} and "
                               f"{tuple(ts[i + 1].shape)} cannot be multiplied")
    out = mats[0]
    for mt in mats[1:]:
        out = matmul(out, mt)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


def cross(input, other, *, dim=-1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (``torch.linalg.cross``); the inputs broadcast."""
    a, b = _as_t(input), _as_t(other)
    try:
        shape = _np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: the shapes {tuple(a.shape)} and {tuple(b.shape)} are not "
                           f"broadcastable") from None
    nd = len(shape)
    n = max(nd, 1)
    if not -n <= dim < n:
        raise IndexError(f"linalg.cross: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
                         f"got {dim})")
    d = dim % n
    if a._data.ndim != b._data.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {tuple(a.shape)} "
                           f"and {tuple(b.shape)}")
    if a._data.shape[d] != 3 or b._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a._data.shape[d]} and "
                           f"{b._data.shape[d]}")
    a, b = a.expand(shape), b.expand(shape)

    def comp(t, i):
        return t.narrow(d, i, 1)
    c0 = _E.sub(_E.mul(comp(a, 1), comp(b, 2)), _E.mul(comp(a, 2), comp(b, 1)))
    c1 = _E.sub(_E.mul(comp(a, 2), comp(b, 0)), _E.mul(comp(a, 0), comp(b, 2)))
    c2 = _E.sub(_E.mul(comp(a, 0), comp(b, 1)), _E.mul(comp(a, 1), comp(b, 0)))
    from .ops.shape import cat
    return cat([c0, c1, c2], d)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None) -> Tensor:
    """Numerical rank: the number of singular values above ``max(atol, rtol * s_max)``
    (``torch.linalg.matrix_rank``), int64."""
    A = _float_input(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    a = A._data
    m, n = a.shape[-2:]
    if a.size == 0:
        return Tensor._make(_xp(a).zeros(a.shape[:-2], _np.int64))
    s = _np.abs(_np.linalg.eigvalsh(a)) if hermitian else _np.linalg.svd(a, compute_uv=False)
    tolv = _cutoff(s, atol, rtol, m, n)
    return Tensor._make(_as_array((s > tolv[..., None]).sum(-1), _np.int64))


def matrix_power(A, n: int) -> Tensor:
    """``A`` to the integer power ``n`` (``torch.linalg.matrix_power``); negative ``n`` inverts first, 0 gives
    the identity."""
    A = _as_t(A)
    op = "linalg.matrix_power"
    if A._data.ndim < 2 or A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, got shape {tuple(A.shape)}")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{op}: n must be an int, got {type(n).__name__}")
    if n == 0:
        eye = Tensor._make(_np.broadcast_to(_xp(A._data).eye(A._data.shape[-1], dtype=A._data.dtype),
                                            A._data.shape).copy())
        return _result_layout(_E.add(_E.mul(A, 0), eye)) if A.requires_grad else eye
    if n == -1:
        return inv(A)           # (in inv's column-major layout, as PyTorch)
    if n < 0:
        A = inv(A)
        n = -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return _result_layout(result if result is not A else _E.mul(A, 1))     # contiguous, as PyTorch


def vecdot(x, y, *, dim=-1) -> Tensor:
    """Dot product of vectors along ``dim``, broadcasting (``torch.linalg.vecdot``); floating inputs."""
    x, y = _as_t(x), _as_t(y)
    for t in (x, y):
        if t._data.dtype.kind != "f":
            _float_input(t, "linalg.vecdot", 0)          # raises PyTorch's dtype error
    return _R.sum(_E.mul(x, y), dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """``A.diagonal(offset, dim1, dim2)`` with matrix-batch defaults (``torch.linalg.diagonal``)."""
    return _as_t(A).diagonal(offset, dim1, dim2)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False) -> Tensor:
    """Solve ``A X = B`` (``left=False``: ``X A = B``) for triangular ``A`` (``torch.linalg.solve_triangular``);
    only the ``upper``/lower triangle of ``A`` is read (and its diagonal taken as 1 with ``unitriangular``)."""
    A = _float_input(A, "linalg.solve_triangular")
    B = _float_input(B, "linalg.solve_triangular")
    from .ops.index import tril, triu
    T = triu(A) if upper else tril(A)
    if unitriangular:
        n = A._data.shape[-1]
        eye = Tensor._make(_xp(A._data).eye(n, dtype=bool))
        T = _E.where(eye, 1.0, T)
    if B._data.ndim < 2:
        raise RuntimeError(f"linalg.solve_triangular: The input tensor B must have at least 2 dimensions, got "
                           f"shape {tuple(B.shape)}")
    X = solve(T, B, left=left)
    return X if left else _colmajor(X)        # PyTorch's result is column-major either way


def cond(A, p=None) -> Tensor:
    """Condition number (``torch.linalg.cond``): ``s_max / s_min`` for p in (None, 2), ``s_min / s_max`` for
    -2, else ``norm(A, p) * norm(inv(A), p)``."""
    A = _float_input(A, "linalg.cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        hi, lo = _R.amax(s, -1), _R.amin(s, -1)
        return _E.div(hi, lo) if p != -2 else _E.div(lo, hi)
    _square(A, "linalg.cond")
    return _E.mul(matrix_norm(A, p), matrix_norm(inv(A), p))


def vander(x, *, N=None) -> Tensor:
    """Vandermonde matrix with increasing powers ``x^0 .. x^(N-1)`` in the last dim
    (``torch.linalg.vander``)."""
    x = _as_t(x)
    n = x.shape[-1] if N is None else int(N)
    if n <= 1 and N is not None and n < 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, got {N}")
    if x._data.dtype in (_np.bool_, _np.float16):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{'Bool' if x._data.dtype == _np.bool_ else 'Half'}")
    if x._data.dtype.kind in "ui" and x._data.dtype != _np.int64:
        x = x.to(_np.int64)
    cols = [Tensor._make(_xp(x._data).ones(x._data.shape, x._data.dtype))]
    for _ in range(1, n):
        cols.append(_E.mul(cols[-1], x))
    from .ops.shape import stack
    return stack(cols, -1)


def tensorinv(A, ind: int = 2) -> Tensor:
    """The tensor ``X`` with ``tensordot(A, X, ind)`` the identity (``torch.linalg.tensorinv``): ``A`` reshaped
    to a square matrix ``prod(A.shape[:ind])`` x ``prod(A.shape[ind:])``, inverted, shaped back."""
    A = _float_input(A, "linalg.tensorinv", 0)
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    p, q = _math.prod(out_shape), _math.prod(in_shape)
    if p != q:
        raise RuntimeError(f"linalg.tensorinv: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {q} != {p} (shape {tuple(A.shape)}, ind {ind})")
    return inv(A.reshape(p, q)).reshape(in_shape + out_shape)


def tensorsolve(A, B, dims=None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) == B`` (``torch.linalg.tensorsolve``); ``dims`` of ``A`` are
    moved to the end first."""
    A = _float_input(A, "linalg.tensorsolve", 0)
    B = _as_t(B)
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    bn = B.ndim
    if tuple(A.shape[:bn]) != tuple(B.shape):
        raise RuntimeError(f"linalg.tensorsolve: the leading dims of A {tuple(A.shape)} must equal the shape of B "
                           f"{tuple(B.shape)}")
    x_shape = tuple(A.shape[bn:])
    p, q = _math.prod(B.shape), _math.prod(x_shape)
    if p != q:
        raise RuntimeError(f"linalg.tensorsolve: Expected self to satisfy the requirement "
                           f"prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), but got {q} != {p}")
    return solve(A.reshape(p, q), B.reshape(p)).reshape(x_shape)


# -- LU factorization -----------------------------------------------------------------------------------------
def _lu_array(a):
    """Partial-pivoting LU (LAPACK getrf's pivots: the first largest |value| of each column), batched.
    Returns the packed LU, 1-based int32 pivots and info (first zero pivot, 1-based, else 0)."""
    xp = _xp(a)
    lu = xp.array(a, dtype=a.dtype, copy=True)
    m, n = lu.shape[-2:]
    k = min(m, n)
    batch = lu.shape[:-2]
    flat = lu.reshape((-1, m, n))
    piv = xp.zeros((flat.shape[0], k), _np.int32)
    info = xp.zeros(flat.shape[0], _np.int32)
    rows = xp.arange(flat.shape[0])
    for j in range(k):
        p = j + _np.argmax(_np.abs(flat[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = flat[rows, j, :].copy()
        flat[rows, j, :] = flat[rows, p, :]
        flat[rows, p, :] = top
        d = flat[:, j, j]
        zero = d == 0
        info = _np.where(zero & (info == 0), j + 1, info)
        scale = _np.where(zero, 1.0, d)[:, None]
        flat[:, j + 1:, j] = _np.where(zero[:, None], flat[:, j + 1:, j], flat[:, j + 1:, j] / scale)
        flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j, None] * flat[:, j, None, j + 1:]
    return flat.reshape(lu.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _perm_from_pivots(piv, m):
    """Row order ``perm`` with ``A[perm] = L U`` from LAPACK's sequential 1-based row swaps."""
    flat = piv.reshape((-1, piv.shape[-1])).astype(_np.int64) - 1
    xp = _xp(piv)
    perm = _np.tile(xp.arange(m), (flat.shape[0], 1))
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        a, b = perm[rows, j].copy(), perm[rows, p].copy()
        perm[rows, j], perm[rows, p] = b, a
    return perm.reshape(piv.shape[:-1] + (m,))


def _unpack(LU, m, n):
    from .ops.index import tril, triu
    k = min(m, n)
    eye = Tensor._make(_xp(LU._data).eye(m, k, dtype=LU._data.dtype))
    L = _E.add(tril(LU[..., :, :k], -1), eye)
    U = triu(LU[..., :k, :])
    return L, U


def _perm_matrix(piv, m, dtype):
    perm = _perm_from_pivots(piv, m)
    xp = _xp(piv)
    eye = xp.eye(m, dtype=dtype)
    return xp.ascontiguousarray(_np.swapaxes(eye[perm], -1, -2))           # P with A = P L U


class _LUFactor(_Function):
    @staticmethod
    def forward(ctx, a):
        lu, piv, info = _lu_array(a)
        ctx.piv = piv
        ctx.save_for_backward(lu)
        return _cm(lu)

    @staticmethod
    def backward(ctx, g):
        (lu,) = ctx.saved_tensors
        from .ops.index import tril, triu
        m, n = lu.shape[-2:]
        if m != n:
            raise NotImplementedError(f"linalg.lu_factor: the derivative of a non-square LU ({m} x {n}) is not "
                                      f"implemented in ember")
        L, U = _unpack(lu, m, n)
        P = Tensor._make(_perm_matrix(ctx.piv, m, lu._data.dtype))
        # A = P L U: gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T, with gL, gU the parts of g
        gl, gu = tril(g, -1), triu(g)
        M = _E.add(tril(matmul(_mT(L), gl), -1), triu(matmul(gu, _mT(U))))
        X = solve_triangular(_mT(L), M, upper=True, unitriangular=True)          # L^-T M
        X = solve_triangular(_mT(U), X, upper=False, left=False)                 # ... U^-T
        return matmul(P, X)


def _cm(a):
    from .ops.linalg import _cm as cm
    return cm(a)


_LUFactorResult = _rt.linalg_lu_factor


_LUFactorExResult = _rt.linalg_lu_factor_ex


def lu_factor_ex(A, *, pivot=True, check_errors=False) -> _LUFactorExResult:
    """``(LU, pivots, info)``: the packed partial-pivoting LU factorization (``torch.linalg.lu_factor_ex``);
    pivots are LAPACK's 1-based row swaps (int32), info the first zero pivot (1-based) or 0."""
    A = _float_input(A, "linalg.lu_factor_ex")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    _, piv, info = _lu_array(A._data)
    LU = _LUFactor.apply(A)
    if check_errors and _np.any(info):
        raise LinAlgError(f"linalg.lu_factor: U[{int(info.max())}, {int(info.max())}] is zero, singular U.")
    return _LUFactorExResult(LU, Tensor._make(piv), Tensor._make(info))


def lu_factor(A, *, pivot=True) -> _LUFactorResult:
    """``(LU, pivots)`` (``torch.linalg.lu_factor``); a singular matrix factors (with a zero on U's diagonal)
    without error, as in PyTorch."""
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    return _LUFactorResult(LU, piv)


_LUResult = _rt.lu_unpack


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True) -> _LUResult:
    """``(P, L, U)`` with ``A = P L U`` from ``lu_factor``'s output (``torch.lu_unpack``)."""
    LU = _as_t(LU_data)
    m, n = LU.shape[-2:]
    P = Tensor._make(_perm_matrix(_as_t(LU_pivots)._data, m, LU._data.dtype)) if unpack_pivots else \
        Tensor._make(_xp(LU._data).zeros((0,), LU._data.dtype))
    if unpack_data:
        L, U = _unpack(LU, m, n)
    else:
        L = U = Tensor._make(_xp(LU._data).zeros((0,), LU._data.dtype))
    return _LUResult(P, L, U)


def lu(A, *, pivot=True) -> _LUResult:
    """``(P, L, U)`` with ``A = P L U`` (``torch.linalg.lu``): L unit lower (m x k), U upper (k x n)."""
    LU, piv = lu_factor(A, pivot=pivot)
    return _rt.linalg_lu(*lu_unpack(LU, piv))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False) -> Tensor:
    """Solve ``A X = B`` (``left=False``: ``X A = B``; ``adjoint``: with ``A^T``) from ``lu_factor``'s output
    (``torch.linalg.lu_solve``); differentiable in ``LU`` and ``B``."""
    LU, B = _as_t(LU), _float_input(B, "linalg.lu_solve")
    n = LU.shape[-1]
    if LU.shape[-2] != n:
        raise RuntimeError(f"linalg.lu_solve: LU must be batches of square matrices, got shape {tuple(LU.shape)}")
    P, L, U = lu_unpack(LU, pivots)
    if not left:
        # X A = B  <=>  A^T X^T = B^T
        return _mT(lu_solve(LU, pivots, _mT(B), adjoint=not adjoint))
    if adjoint:
        # A^T X = B with A = P L U: U^T L^T P^T X = B
        y = solve_triangular(_mT(U), B, upper=False)
        y = solve_triangular(_mT(L), y, upper=True, unitriangular=True)
        return matmul(P, y)
    y = matmul(_mT(P), B)
    y = solve_triangular(L, y, upper=False, unitriangular=True)
    return solve_triangular(U, y, upper=True)


def householder_product(A, tau, *, out=None) -> Tensor:
    """The first n columns of ``H_1 H_2 ... H_k`` with ``H_i = I - tau_i v_i v_i^T``, ``v_i`` column i of ``A``
    below the diagonal with a 1 on it (``torch.linalg.householder_product``, LAPACK's orgqr), for A (*, m, n),
    m >= n >= k = tau.shape[-1].  Computed in the compact WY form ``I - V T V^T`` (T upper triangular, from
    ``(I + diag(tau) striu(V^T V)) T = diag(tau)``, Joffrain et al. 2006) with differentiable ops, so it is
    differentiable in ``A`` and ``tau`` to any order."""
    op = "torch.linalg.householder_product"
    A, tau = _as_t(A), _as_t(tau)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions, got shape {tuple(A.shape)}.")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1], got "
                           f"shape {tuple(A.shape)}")
    if A.ndim - tau.ndim != 1:
        raise RuntimeError(f"{op}: Expected tau to have one dimension less than input, but got tau.ndim equal "
                           f"to {tau.ndim} and input.ndim is equal to {A.ndim}")
    k = tau.shape[-1] if tau.ndim else 0
    if n < k:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1], got input "
                           f"{tuple(A.shape)} and tau {tuple(tau.shape)}")
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{tuple(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{op}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {A.dtype}")
    from .creation import eye as _eye
    I = _eye(m, n, dtype=A.dtype, device=A.device)
    Q = I.expand(*A.shape)
    if k:
        V = (A.tril(-1) + I)[..., :k]                        # the reflectors, unit diagonal
        t = tau.unsqueeze(-1)
        M = _eye(k, dtype=A.dtype, device=A.device) + t * matmul(_mT(V), V).triu(1)
        T = solve_triangular(M, _diag_embed(tau), upper=True, unitriangular=True)
        Q = Q - matmul(V, matmul(T, _mT(V[..., :n, :])))
    else:           # no reflector: the identity, still attached to A's graph (zero gradient), as PyTorch's
        from .ops._elementwise_clamp import where as _where
        Q = _where(_xp(A._data).zeros(A.shape, dtype=bool), A, I)
    if out is not None:
        from ._out import write_out
        return write_out(out, Q, "linalg.householder_product")
    return Q


_GeqrfResult = _rt.geqrf


def _geqrf(A) -> _GeqrfResult:
    """``torch.geqrf``: LAPACK's compact QR of A (*, m, n), R on and above the diagonal, the Householder
    reflectors below it, and their scales ``tau`` (*, min(m, n)); not differentiable (neither is PyTorch's).
    Computed by NumPy's LAPACK (``qr(mode="raw")``, whose reflectors come transposed) on the host."""
    from .backend.device import to_device as _to_device
    A = _float_input(A, "geqrf")
    a = _np.asarray(_to_device(A.detach()._data, "cpu"))
    h, tau = _np.linalg.qr(a, mode="raw")
    dev = A._data
    return _GeqrfResult(Tensor._make(_like(_np.ascontiguousarray(_np.swapaxes(h, -1, -2)).astype(a.dtype), dev)),
                        Tensor._make(_like(tau.astype(a.dtype), dev)))
