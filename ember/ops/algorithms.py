"""PyTorch's top-level algorithm ops, by family: order statistics and scans (``ember.ops._algorithms_order``),
set operations, counting and histograms (``ember.ops._algorithms_sets``), grids, distances and matrix builders
(``ember.ops._algorithms_builders``), and here the shared helpers, PyTorch's older matrix-function names
(``svd``, ``qr``, ``cholesky``, ``lu``, ``pinverse``, ``matrix_power``, ``chain_matmul``,
``cholesky_solve``/``cholesky_inverse``), ``pdist``, the ``*split``/``*_stack`` aliases, ``unravel_index``,
``gradient``, ``renorm``, the window functions and the old norm names.  Every name is re-exported here, so
``from ember.ops.algorithms import X`` keeps working.

Selections (median, kthvalue, mode, cummax, ...) return PyTorch's ``(values, indices)`` named tuples with its
tie and NaN rules, and send the gradient to the selected element, as PyTorch does.  Counting and set
operations are not differentiable.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as _np
from .. import return_types as _rt
from .._deprecation import warn as _deprecated

from ..backend import dtypes as _dt
from ..backend.device import array_module as _xp, as_array as _as_array, like as _like
from ..tensor import Tensor, _wrap_dim
from . import elementwise as E
from .index import gather
from .shape import cat
from .linalg import _as_t, _float_input

def _t(x):
    return _as_t(x)


def _canon(a):
    """A C-contiguous copy with canonical strides (NumPy keeps odd strides on size-1 dims of a moved array)."""
    out = _xp(a).empty(a.shape, a.dtype)
    out[...] = a
    return out


_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def _no_bool(x, kernel, allow_scalar=False, size=None):
    """PyTorch's CPU kernels without a bool version raise once they run (not for empty inputs)."""
    n = x._data.size if size is None else size
    if x._data.dtype == _np.bool_ and n and not (allow_scalar and x._data.ndim == 0):
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _no_int(x, kernel):
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TORCH_NAMES.get(str(x._data.dtype))}\'')


def _axis(x, dim, op):
    return _wrap_dim(int(dim), x._data.ndim, op)


class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


def _select(x, idx, axis, keepdim):
    """values = x gathered at ``idx`` (keepdim shape) along ``axis``; the gradient goes to those elements."""
    if x._data.ndim == 0:
        return _ValuesIndices(E.mul(x, 1) if x.requires_grad else Tensor._make(x._data.copy()),
                              Tensor._make(_xp(x._data).zeros((), _np.int64)))
    from ._shape_strided import _result_layout
    xp = _xp(idx)
    vals = _result_layout(gather(x, axis, Tensor._make(xp.ascontiguousarray(idx))))    # contiguous, as PyTorch
    if not keepdim:
        vals = vals.squeeze(axis)
        idx = idx.squeeze(axis)
    return _ValuesIndices(vals, Tensor._make(xp.array(idx, _np.int64, order="C")))


def _check_len(x, axis, op):
    if x._data.ndim and x._data.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size (shape {tuple(x.shape)})")


# -- PyTorch's older matrix-function names -------------------------------------------------------------------
_SVDResultV = _rt.svd


def svd(input, some: bool = True, compute_uv: bool = True) -> _SVDResultV:
    """``torch.svd``: ``(U, S, V)`` with ``A = U diag(S) V^T`` (V, not Vh); ``some=False`` gives full U and V;
    ``compute_uv=False`` returns zero-filled U and V."""
    from ..linalg import svd as _svd
    x = _float_input(input, "svd")
    u, s, vh = _svd(x, full_matrices=not some)
    if not compute_uv:
        return _SVDResultV(Tensor._make(_np.zeros_like(u._data)), s.detach() if not x.requires_grad else s,
                           Tensor._make(_np.zeros_like(_np.swapaxes(vh._data, -1, -2))))
    return _SVDResultV(u, s, vh.transpose(-2, -1))


def qr(input, some: bool = True):
    """``torch.qr`` (deprecated there, with its warning, once): ``linalg.qr`` with ``some=False`` meaning
    mode='complete'."""
    from ..linalg import qr as _qr
    _deprecated("qr")
    return _rt.qr(*_qr(input, "reduced" if some else "complete"))


def cholesky(input, upper: bool = False) -> Tensor:
    """``torch.cholesky`` (deprecated there, with its warning, once): ``linalg.cholesky`` with a positional
    ``upper``."""
    from ..linalg import cholesky as _chol
    _deprecated("cholesky")
    return _chol(input, upper=upper)


def cholesky_solve(input, input2, upper: bool = False) -> Tensor:
    """Solve ``A X = B`` (``B`` is ``input``) given the Cholesky factor ``input2`` of ``A``
    (``torch.cholesky_solve``; PyTorch's keywords are ``input`` and ``input2``, its docs say ``B`` and ``L``)."""
    from ..linalg import solve_triangular as _st
    B = input
    input2 = _t(input2)
    if upper:
        y = _st(input2.mT, _t(B), upper=False)
        return _st(input2, y, upper=True)
    y = _st(input2, _t(B), upper=False)
    return _st(input2.mT, y, upper=True)


def cholesky_inverse(L, upper: bool = False) -> Tensor:
    """Inverse of ``A`` from its Cholesky factor (``torch.cholesky_inverse``)."""
    L = _t(L)
    n = L.shape[-1]
    eye = Tensor._make(_xp(L._data).eye(n, dtype=L._data.dtype))
    return cholesky_solve(eye.expand(tuple(L.shape)) if L.ndim > 2 else eye, L, upper)


def lu_unpack(LU_data, LU_pivots, unpack_data: bool = True, unpack_pivots: bool = True):
    """``(P, L, U)`` with ``A = P L U`` from a packed LU (``torch.lu_unpack``)."""
    from ..linalg import lu_unpack as _unpack
    return _unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)


def lu(A, pivot: bool = True, get_infos: bool = False):
    """``torch.lu`` (deprecated there, with its warning, once): ``(A_LU, pivots[, infos])`` =
    ``linalg.lu_factor_ex``."""
    from ..linalg import lu_factor_ex
    _deprecated("lu")
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve(b, LU_data, LU_pivots) -> Tensor:
    """``torch.lu_solve(b, LU_data, LU_pivots)`` (deprecated there, with its warning, once): ``linalg.lu_solve``
    with PyTorch's older argument order."""
    from ..linalg import lu_solve as _lu_solve
    _deprecated("lu_solve")
    return _lu_solve(LU_data, LU_pivots, b)


def pinverse(input, rcond: float = 1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with a relative cutoff ``rcond``."""
    from ..linalg import pinv
    return pinv(input, rtol=rcond)


def matrix_power(input, n: int) -> Tensor:
    from ..linalg import matrix_power as _mp
    return _mp(input, n)


def chain_matmul(*matrices) -> Tensor:
    """``torch.chain_matmul`` (deprecated there, with its warning, once): ``linalg.multi_dot`` of 2-D
    matrices."""
    from ..linalg import multi_dot
    _deprecated("chain_matmul")
    if len(matrices) == 1:
        return _t(matrices[0])
    return multi_dot(list(matrices))


def pdist(input, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows ``i < j`` of an (N, M) tensor, in row-major order
    (``torch.pdist``)."""
    x = _t(input)
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {x.dtype}")
    if x._data.dtype == _np.float16:
        raise NotImplementedError('"pdist" not implemented for \'Half\'')
    n = x.shape[0]
    r, c = _np.triu_indices(n, 1)       # the pair index tables, made on the host, moved to x's device
    from ..linalg import _pairwise_norm
    return _pairwise_norm(E.sub(x[Tensor._make(_like(r, x._data))], x[Tensor._make(_like(c, x._data))]), p)


def column_stack(tensors) -> Tensor:
    """Stack 0-, 1- or 2-D tensors as columns (``torch.column_stack``)."""
    cols = [(_t(t).reshape(-1, 1) if _t(t).ndim <= 1 else _t(t)) for t in tensors]
    return cat(cols, 1).contiguous()


def row_stack(tensors) -> Tensor:
    """``torch.row_stack``: ``vstack``, the 1-D tensors as rows."""
    return cat([_t(t).reshape(1, -1) if _t(t).ndim <= 1 else _t(t) for t in tensors], 0).contiguous()


def _split_n(x, sections, dim, op, min_dims):
    from .shape import tensor_split
    x = _t(x)
    if x.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {x.ndim} dimensions!")
    if isinstance(sections, int) and x.shape[dim] % sections:
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{x.shape[dim]} is not divisible by the split_size {sections}!")
    return tuple(tensor_split(x, sections, dim))


def hsplit(input, indices_or_sections) -> tuple:
    """Split along dim 1 (dim 0 for 1-D tensors) (``torch.hsplit``)."""
    x = _t(input)
    return _split_n(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections) -> tuple:
    """Split along dim 0 of a tensor of at least 2 dims (``torch.vsplit``)."""
    return _split_n(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections) -> tuple:
    """Split along dim 2 of a tensor of at least 3 dims (``torch.dsplit``)."""
    return _split_n(input, indices_or_sections, 2, "dsplit", 3)


def unravel_index(indices, shape) -> tuple:
    """Coordinates of flat ``indices`` in a tensor of ``shape`` (``torch.unravel_index``), one int64 tensor
    per dim."""
    idx = _t(indices)._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be an integer tensor, but got {idx.dtype}")
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"'shape' cannot have negative values, but got {shape}")
    total = math.prod(shape)
    if idx.size and (idx.min() < -total or idx.max() >= total):
        raise RuntimeError(f"'indices' must be in range [{-total}, {total - 1}] for shape {shape}")
    coords = _np.unravel_index(_np.where(idx < 0, idx + total, idx), shape) if shape else ()
    return tuple(Tensor._make(_as_array(c, _np.int64)) for c in coords)


def gradient(input, *, spacing=1, dim=None, edge_order: int = 1):
    """Estimated derivative along each of ``dim`` (all dims by default) by second-order central differences
    inside and one-sided differences of order ``edge_order`` (1 or 2) at the ends (``torch.gradient``).
    ``spacing`` is a scalar, one scalar per dim, or one coordinate tensor per dim; returns a tuple."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        x = E.cast(x, _dt.get_default_dtype())
    dims = list(range(x.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [_axis(x, d, "gradient") for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    if isinstance(spacing, (list, tuple)):
        sp = list(spacing)
        if len(sp) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or its length to match "
                               f"the number of dimensions ({len(dims)}), got {len(sp)}")
    else:
        sp = [spacing] * len(dims)
    out = []
    for d, h in zip(dims, sp):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least edge_order+1 "
                               f"(shape {tuple(x.shape)}, edge_order {edge_order})")
        out.append(_gradient_along(x, d, h, edge_order))
    return tuple(out)


def _gradient_along(f, d, h, order):
    n = f.shape[d]

    def sl(a, b):
        return f.narrow(d, a, b - a)
    if not isinstance(h, Tensor):
        h = float(h)
        mid = E.div(E.sub(sl(2, n), sl(0, n - 2)), 2 * h)
        if order == 1:
            lo = E.div(E.sub(sl(1, 2), sl(0, 1)), h)
            hi = E.div(E.sub(sl(n - 1, n), sl(n - 2, n - 1)), h)
        else:
            lo = E.div(E.add(E.add(E.mul(sl(0, 1), -1.5), E.mul(sl(1, 2), 2.0)), E.mul(sl(2, 3), -0.5)), h)
            hi = E.div(E.add(E.add(E.mul(sl(n - 1, n), 1.5), E.mul(sl(n - 2, n - 1), -2.0)),
                             E.mul(sl(n - 3, n - 2), 0.5)), h)
        return cat([lo, mid, hi], d)
    # coordinates: non-uniform steps
    c = h._data.astype(f._data.dtype)
    if c.ndim != 1 or len(c) != n:
        raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and of size {n} along "
                           f"the dimension, got shape {c.shape}")
    dx = _np.diff(c)
    shape = [1] * f.ndim

    def col(v):
        s = list(shape)
        s[d] = len(v)
        return Tensor._make(_as_array(v, f._data.dtype).reshape(s))
    hl, hr = dx[:-1], dx[1:]
    a = -hr / (hl * (hl + hr))
    b = (hr - hl) / (hl * hr)
    cc = hl / (hr * (hl + hr))
    mid = E.add(E.add(E.mul(sl(0, n - 2), col(a)), E.mul(sl(1, n - 1), col(b))), E.mul(sl(2, n), col(cc)))
    if order == 1:
        lo = E.div(E.sub(sl(1, 2), sl(0, 1)), float(dx[0]))
        hi = E.div(E.sub(sl(n - 1, n), sl(n - 2, n - 1)), float(dx[-1]))
    else:
        h1, h2 = float(dx[0]), float(dx[1])
        lo = E.add(E.add(E.mul(sl(0, 1), -(2 * h1 + h2) / (h1 * (h1 + h2))), E.mul(sl(1, 2), (h1 + h2) / (h1 * h2))),
                   E.mul(sl(2, 3), -h1 / (h2 * (h1 + h2))))
        h1, h2 = float(dx[-1]), float(dx[-2])
        hi = E.add(E.add(E.mul(sl(n - 1, n), (2 * h1 + h2) / (h1 * (h1 + h2))),
                         E.mul(sl(n - 2, n - 1), -(h1 + h2) / (h1 * h2))), E.mul(sl(n - 3, n - 2), h1 / (h2 * (h1 + h2))))
    return cat([lo, mid, hi], d)


def renorm(input, p, dim: int, maxnorm) -> Tensor:
    """Rescale each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` to norm ``maxnorm``
    (``torch.renorm``)."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point input, got {x.dtype}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _axis(x, dim, "renorm")
    from ..linalg import vector_norm
    others = [i for i in range(x.ndim) if i != axis]
    norm = vector_norm(x, p, others, keepdim=True) if others else E.abs(x)
    scale = E.where(E.gt(norm, maxnorm), E.div(float(maxnorm), E.add(norm, 1e-7)), 1.0)
    from ._shape_strided import _result_layout
    return _result_layout(E.mul(x, scale))          # contiguous, as PyTorch allocates it


def _window(n, periodic, dtype, fn, name, device=None):
    """The window made on the host (float64 then cast), placed on ``device`` (or the default device)."""
    from .._tensor_device import place
    return Tensor._make(place(_window_array(n, periodic, dtype, fn, name), device))


def _window_array(n, periodic, dtype, fn, name):
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if dt.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if n == 0:
        return _np.zeros(0, dt)
    if n == 1:
        return _np.ones(1, dt)
    m = n + 1 if periodic else n
    k = _np.arange(m, dtype=_np.float64)
    return fn(k, m - 1)[:n].astype(dt)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """``0.5 - 0.5 cos(2 pi k / (N - 1))`` (``torch.hann_window``; periodic: one sample longer, last dropped)."""
    return _window(window_length, periodic, dtype, lambda k, d: 0.5 - 0.5 * _np.cos(2 * math.pi * k / d),
                   "hann_window", kw.get("device"))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype=None, **kw) -> Tensor:
    """``alpha - beta cos(2 pi k / (N - 1))`` (``torch.hamming_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: alpha - beta * _np.cos(2 * math.pi * k / d),
                   "hamming_window", kw.get("device"))


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """``0.42 - 0.5 cos(2 pi k / (N-1)) + 0.08 cos(4 pi k / (N-1))`` (``torch.blackman_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: 0.42 - 0.5 * _np.cos(2 * math.pi * k / d) +
                   0.08 * _np.cos(4 * math.pi * k / d), "blackman_window", kw.get("device"))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, **kw) -> Tensor:
    """Triangular window ``1 - |2k / (N - 1) - 1|`` (``torch.bartlett_window``)."""
    return _window(window_length, periodic, dtype, lambda k, d: 1 - _np.abs(2 * k / d - 1), "bartlett_window",
                   kw.get("device"))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, **kw) -> Tensor:
    """``I0(beta sqrt(1 - (2k / (N - 1) - 1)^2)) / I0(beta)`` (``torch.kaiser_window``)."""
    from .special import _i0_array

    def fn(k, d):
        r = _np.sqrt(_np.maximum(1 - (2 * k / d - 1) ** 2, 0))
        return _i0_array(beta * r) / _i0_array(_np.asarray([beta], _np.float64))[0]
    return _window(window_length, periodic, dtype, fn, "kaiser_window", kw.get("device"))


def nuclear_norm(input, dim=None, keepdim: bool = False) -> Tensor:
    """``torch.nuclear_norm`` (deprecated there): the sum of singular values (``linalg.matrix_norm(.., 'nuc')``)."""
    from ..linalg import matrix_norm
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim, keepdim: bool = False) -> Tensor:
    """``torch.frobenius_norm`` (deprecated there): the 2-norm over ``dim``."""
    from ..linalg import vector_norm
    return vector_norm(input, 2, dim, keepdim)


__all__ = ["kthvalue", "median", "nanmedian", "mode", "msort", "quantile", "nanquantile", "cummax", "cummin",
           "logcumsumexp", "diff", "unique", "unique_consecutive", "isin", "bincount", "histc", "histogram",
           "searchsorted", "bucketize", "meshgrid", "cartesian_prod", "combinations", "tril_indices",
           "triu_indices", "cdist", "cross", "vander", "block_diag", "diag_embed", "diagflat", "atleast_1d",
           "atleast_2d", "atleast_3d", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid", "addmv",
           "addr", "addbmm", "svd", "qr", "cholesky", "cholesky_solve", "cholesky_inverse", "pinverse",
           "matrix_power", "chain_matmul", "lu", "lu_unpack", "lu_solve", "gradient", "renorm", "hann_window",
           "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "nuclear_norm", "frobenius_norm",
           "pdist", "column_stack", "row_stack", "hsplit", "vsplit", "dsplit",
           "unravel_index"]


# moved to sibling modules by family; re-exported so every old import path works
from ._algorithms_order import (  # noqa: E402,F401
    _cum_extreme, _CumExtreme, _LogCumSumExp, _median, _median_index, _MedianAll, _quantile, cummax, cummin,
    diff, kthvalue, logcumsumexp, median, mode, msort, nanmedian, nanquantile, quantile)
from ._algorithms_sets import (  # noqa: E402,F401
    _bsearch, _check_zero_dims, _hist_range, _Histogram, _NoGrad, _nograd_values, _unique_rows, bincount,
    bucketize, histc, histogram, isin, searchsorted, unique, unique_consecutive)
from ._algorithms_builders import (  # noqa: E402,F401
    _atleast, _CdistMM, _tri_indices, addbmm, addmv, addr, atleast_1d, atleast_2d, atleast_3d, block_diag,
    cartesian_prod, cdist, combinations, corrcoef, cov, cross, cumulative_trapezoid, diag_embed, diagflat,
    meshgrid, trapezoid, trapz, tril_indices, triu_indices, vander)
