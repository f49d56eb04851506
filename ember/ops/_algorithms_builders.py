"""Grids, index builders, distances and small matrix builders: PyTorch's ``meshgrid``, ``cartesian_prod``,
``combinations``, ``tril_indices``/``triu_indices``, ``cdist``, ``cross``, ``vander``, ``block_diag``,
``diag_embed``/``diagflat``, ``atleast_1d/2d/3d``, ``cov``/``corrcoef``,
``trapezoid``/``cumulative_trapezoid`` and ``addmv``/``addr``/``addbmm``. Re-exported by
``ember.ops.algorithms``.
"""
from __future__ import annotations
from ..autograd._torch_names import named as _named

import builtins
import itertools

import numpy as _np

from ..autograd.function import Function
from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp, like as _like
from .._deprecation import warn as _deprecated
from .._tensor_device import place as _place
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from . import reduce as R
from .shape import cat, stack, pad
from .linalg import matmul
from .algorithms import _axis, _t
from ._algorithms_order import diff


# -- grids and index builders --------------------------------------------------------------------------------
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors (``torch.meshgrid``): ``indexing='ij'`` (the default) gives dims in
    argument order, ``'xy'`` swaps the first two (NumPy/Matlab's convention).  Results are broadcast views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_t(t) for t in tensors]
    if not ts:
        raise RuntimeError("torch.meshgrid: expects a non-empty TensorList")
    if indexing is None:            # PyTorch's default, with its warning (once)
        _deprecated("meshgrid")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got "
                               f"{tuple(t.shape)} at position {i}")
    ts = [t.reshape(-1) for t in ts]
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: expects all tensors to have the same dtype")
    order = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        order[0], order[1] = 1, 0
    shape = [0] * len(ts)
    for i, t in enumerate(ts):
        shape[order[i]] = t.shape[0]
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[order[i]] = t.shape[0]
        out.append(t.reshape(tuple(view)).expand(tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors) -> Tensor:
    """Cartesian product of 1-D tensors as rows (``torch.cartesian_prod``); one tensor is returned as is."""
    ts = [_t(t) for t in tensors]
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {tuple(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Length-``r`` combinations of a 1-D tensor's elements as rows (``torch.combinations``)."""
    x = _t(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {tuple(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(_xp(x._data).zeros((0,), x._data.dtype))
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = _np.asarray(list(gen(range(x.shape[0]), r)), _np.int64).reshape(-1, r)
    if idx.shape[0] == 0:
        return Tensor._make(_xp(x._data).zeros((0, r) if r > 1 else (0,), x._data.dtype))
    out = x[Tensor._make(_like(idx, x._data))]          # the index table, made on the host, on x's device
    return out.reshape(-1) if r == 1 else out


def _tri_indices(row, col, offset, dtype, lower, op, device=None):
    if row < 0 or col < 0:
        raise RuntimeError(f"{op}: row must be non-negative, got {row}" if row < 0 else
                           f"{op}: col must be non-negative, got {col}")
    r, c = _np.nonzero(_np.tri(row, col, offset, dtype=bool) if lower else ~_np.tri(row, col, offset - 1, dtype=bool))
    out = _np.stack([r, c]).astype(_dt.to_dtype(dtype) if dtype is not None else _np.int64)
    return Tensor._make(_place(out, device))      # made on the host, moved to ``device`` (or the default)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory: bool = False) -> Tensor:
    """(2, N) row and column indices of the lower triangle of a row x col matrix (``torch.tril_indices``)."""
    return _tri_indices(row, col, offset, dtype, True, "tril_indices", device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory: bool = False) -> Tensor:
    """(2, N) indices of the upper triangle (``torch.triu_indices``)."""
    return _tri_indices(row, col, offset, dtype, False, "triu_indices", device)


# -- distances and products ----------------------------------------------------------------------------------
@_named("CdistBackward0")
def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """Pairwise ``p``-norm distances between the rows of ``x1`` (B, P, M) and ``x2`` (B, R, M) -> (B, P, R)
    (``torch.cdist``); the gradient at a zero distance is 0."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D, X2 got: {b.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    if a._data.dtype.kind != "f" or b._data.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {a.dtype}, X2 got: {b.dtype}")
    if a._data.dtype == _np.float16:
        raise NotImplementedError('"cdist" not implemented for \'Half\'')
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise RuntimeError(f"{compute_mode} is not a valid value for compute_mode")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {a.dtype} and {b.dtype}")
    big = a.shape[-2] > 25 or b.shape[-2] > 25
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                   (compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and big)):
        # PyTorch's switch: for more than 25 rows, ||x||^2 + ||y||^2 - 2 x.y by a matrix product (O(P R) memory)
        return _CdistMM.apply(a, b)
    from ..linalg import _pairwise_norm
    d = E.sub(a.unsqueeze(-2), b.unsqueeze(-3))
    return _pairwise_norm(d, p)


class _CdistMM(Function):
    @staticmethod
    def forward(ctx, x, y):
        xn = (x * x).sum(-1)[..., :, None]
        yn = (y * y).sum(-1)[..., None, :]
        d2 = xn + yn - 2 * (x @ _np.swapaxes(y, -1, -2))
        out = _np.sqrt(_np.maximum(d2, 0))
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, d = ctx.saved_tensors
        # d d_ij / d x_i = (x_i - y_j) / d_ij, taken as 0 at d_ij == 0 (PyTorch's rule)
        nz = E.ne(d, 0)
        w = E.where(nz, E.div(g, E.where(nz, d, 1.0)), 0.0)
        gx = E.sub(E.mul(x, R.sum(w, -1, keepdim=True)), matmul(w, y)) if ctx.needs_input_grad[0] else None
        gy = E.sub(E.mul(y, R.sum(w, -2).unsqueeze(-1)), matmul(w.transpose(-1, -2), x)) \
            if ctx.needs_input_grad[1] else None
        return gx, gy


def cross(input, other, dim=None) -> Tensor:
    """Cross product of 3-vectors (``torch.cross``); without ``dim``, the first dim of size 3 (PyTorch's
    deprecated default, with its warning)."""
    from ..linalg import cross as _cross
    a, b = _t(input), _t(other)
    if dim is None:
        shape = _np.broadcast_shapes(a._data.shape, b._data.shape)
        _deprecated("cross")        # PyTorch's text, once per process
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {tuple(a.shape)} and {tuple(b.shape)})")
        dim = dims[0]
    return _cross(a, b, dim=dim)


def vander(x, N=None, increasing: bool = False) -> Tensor:
    """Vandermonde matrix of a 1-D tensor (``torch.vander``): columns ``x^(N-1) .. x^0`` (decreasing unless
    ``increasing``)."""
    x = _t(x)
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"N must be non-negative, got {N}")
    if x._data.dtype.kind in "bui":
        x = E.cast(x, _np.int64) if x._data.dtype != _np.int64 else x
    if n == 0:
        return Tensor._make(_xp(x._data).zeros((x.shape[0], 0), x._data.dtype))
    cols = [Tensor._make(_xp(x._data).ones(x._data.shape, x._data.dtype))]
    for _ in range(1, n):
        cols.append(E.mul(cols[-1], x))
    if not increasing:
        cols = cols[::-1]
    return stack(cols, 1)


def block_diag(*tensors) -> Tensor:
    """Block-diagonal matrix of 0-, 1- or 2-D tensors (``torch.block_diag``; a 1-D tensor is a row);
    dtypes are promoted."""
    ts = []
    for i, t in enumerate(tensors):
        t = _t(t)
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        ts.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not ts:
        return Tensor._make(_place(_np.zeros((1, 0), _dt.get_default_dtype()), None))     # on the default device
    dt = _dt.result_type(*[_t(t) for t in tensors])
    cols = builtins.sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        t = E.cast(t, dt) if t._data.dtype != dt else t
        w = t.shape[1]
        rows.append(pad(t, (left, cols - left - w)) if cols else t)
        left += w
    return cat(rows, 0).contiguous()


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal (in dims ``dim1``, ``dim2`` of the result) holds the last dim of
    ``input`` (``torch.diag_embed``)."""
    x = _t(input)
    nd = x.ndim + 1
    d1, d2 = _wrap_dim(dim1, nd, "diag_embed"), _wrap_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = x.shape[-1] if x.ndim else 1
    xs = x if x.ndim else x.reshape(1)
    xp = _xp(xs._data)
    eye = Tensor._make(xp.eye(n, dtype=bool))
    m = E.where(eye, xs.unsqueeze(-1), Tensor._make(xp.zeros((), xs._data.dtype)))
    k = builtins.abs(offset)
    if k:
        m = pad(m, (k, 0, 0, k) if offset > 0 else (0, k, k, 0))
    return m.movedim((-2, -1), (d1, d2)).contiguous()        # PyTorch's result is a fresh contiguous tensor


def diagflat(input, offset: int = 0) -> Tensor:
    """A 2-D matrix with the flattened input on its ``offset`` diagonal (``torch.diagflat``)."""
    return diag_embed(_t(input).reshape(-1), offset)


def _atleast(n, tensors):
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    seq = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in seq:
        t = _t(t)
        if t.ndim < n:
            if n == 3 and t.ndim == 2:
                t = t.unsqueeze(-1)
            elif n == 3 and t.ndim == 1:
                t = t.reshape(1, -1, 1)
            else:
                t = t.reshape((1,) * (n - t.ndim) + tuple(t.shape))
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Views with at least 1 dim (``torch.atleast_1d``); several tensors (or a list) give a tuple."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Views with at least 2 dims: a 1-D (n) becomes (1, n) (``torch.atleast_2d``)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Views with at least 3 dims: (n) -> (1, n, 1), (m, n) -> (m, n, 1) (``torch.atleast_3d``)."""
    return _atleast(3, tensors)


def cov(input, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance of the rows (variables) of a 2-D tensor whose columns are observations (``torch.cov``),
    with optional integer frequency and float observation weights."""
    x = _t(input)
    if x._data.dtype == _np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{x.ndim} dimensions")
    if x._data.dtype.kind != "f":
        x = E.cast(x, _dt.get_default_dtype())
    x2 = x.reshape(1, -1) if x.ndim < 2 else x
    nobs = x2.shape[1]
    w = None
    if fweights is not None:
        fw = _t(fweights)
        if fw._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with {fw.dtype}")
        if fw._data.size and fw._data.min() < 0:
            raise RuntimeError("cov(): fweights cannot be negative")
        w = E.cast(fw, x._data.dtype)
    if aweights is not None:
        aw = _t(aweights)
        if aw._data.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{aw.dtype}")
        if aw._data.size and aw._data.min() < 0:
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aw if w is None else E.mul(w, aw)
    if w is None:
        wsum = float(nobs)
        avg = R.mean(x2, 1, keepdim=True)
        norm = wsum - correction
    else:
        wsum_t = R.sum(w)
        avg = E.div(R.sum(E.mul(x2, w), 1, keepdim=True), wsum_t)
        if correction == 0:
            norm = wsum_t
        elif aweights is None:
            norm = E.sub(wsum_t, correction)
        else:
            norm = E.sub(wsum_t, E.div(E.mul(R.sum(E.mul(w, _t(aweights))), correction), wsum_t))
    xc = E.sub(x2, avg)
    xw = E.mul(xc, w) if w is not None else xc
    c = matmul(xw, xc.transpose(0, 1))
    if isinstance(norm, (int, float)):
        c = E.div(c, builtins.max(norm, 0) if norm > 0 else 0.0) if norm > 0 else E.div(c, 0.0)
    else:
        c = E.div(c, E.clamp_min(norm, 0))
    return c.reshape(()) if x.ndim < 2 or x.shape[0] == 1 else c    # one variable: a 0-d result


def corrcoef(input) -> Tensor:
    """Pearson correlation coefficients of the rows (``torch.corrcoef``), clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return E.div(c, c)
    d = c.diagonal()
    sd = E.sqrt(d)
    c = E.div(E.div(c, sd.unsqueeze(1)), sd.unsqueeze(0))
    return E.clamp(c, -1, 1)


def trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Trapezoidal rule along ``dim`` with sample points ``x`` or spacing ``dx`` (``torch.trapezoid``)."""
    y = _t(y)
    axis = _axis(y, dim, "trapezoid")
    n = y.shape[axis]
    if n == 0:
        return Tensor._make(_xp(y._data).zeros(y.shape[:axis] + y.shape[axis + 1:], y._data.dtype))
    if y._data.dtype == _np.bool_:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    if n == 1:                                        # zero, but NaN/inf still propagate (as PyTorch)
        return E.mul(R.sum(E._to_float(y), axis), 0.0)
    lo, hi = y.narrow(axis, 0, n - 1), y.narrow(axis, 1, n - 1)
    avg = E.mul(E.add(lo, hi), 0.5)
    if x is not None:
        xt = _t(x)
        d = diff(xt, dim=dim if xt.ndim > 1 else -1)
        if xt.ndim == 1:
            shape = [1] * y.ndim
            shape[axis] = n - 1
            d = d.reshape(tuple(shape))
        return R.sum(E.mul(avg, d), axis)
    return E.mul(R.sum(avg, axis), 1.0 if dx is None else dx)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Running trapezoidal integral along ``dim`` (``torch.cumulative_trapezoid``)."""
    y = _t(y)
    if y._data.dtype == _np.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is not supported")
    axis = _axis(y, dim, "cumulative_trapezoid")
    n = y.shape[axis]
    lo, hi = y.narrow(axis, 0, builtins.max(n - 1, 0)), y.narrow(axis, builtins.min(1, n), builtins.max(n - 1, 0))
    avg = E.mul(E.add(lo, hi), 0.5)
    if x is not None:
        xt = _t(x)
        d = diff(xt, dim=dim if xt.ndim > 1 else -1)
        if xt.ndim == 1:
            shape = [1] * y.ndim
            shape[axis] = builtins.max(n - 1, 0)
            d = d.reshape(tuple(shape))
        avg = E.mul(avg, d)
    elif dx is not None:
        avg = E.mul(avg, dx)
    return R.cumsum(avg, axis).contiguous()


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    out = matmul(_t(mat), _t(vec))
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)`` (``torch.addr``)."""
    from .linalg import outer
    out = outer(_t(vec1), _t(vec2))
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (``torch.addbmm``)."""
    from .linalg import bmm
    out = R.sum(bmm(_t(batch1), _t(batch2)), 0)
    out = E.mul(out, alpha) if alpha != 1 else out
    return E.add(E.mul(_t(input), beta) if beta != 1 else _t(input), out) if beta != 0 else out
