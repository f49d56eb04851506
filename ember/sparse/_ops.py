"""Sparse COO ops: construction, transpose, scalar products, sums with dense and sparse tensors,
sparse @ dense products, ``torch.sparse.sum`` and ``torch.sparse.softmax``.  The math on values runs
through ``_kernels`` (differentiable); index bookkeeping is NumPy on the int64 indices."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from ..backend import dtypes as _dt
from . import _kernels as K
from ._tensor import SparseTensor, _linear, _unravel
from ._layout import sparse_coo


def _is_sparse(x) -> bool:
    return isinstance(x, SparseTensor)


def _values_tensor(values, dtype, op):
    from ..creation import tensor
    if isinstance(values, Tensor):
        if values.is_sparse:
            raise RuntimeError(f"{op}: values must be a dense tensor, got a sparse one of size "
                               f"{tuple(values.shape)}")
        v = values
    else:
        v = tensor(values)
    if dtype is not None and v.dtype != _dt.to_dtype(dtype):
        v = v.to(_dt.to_dtype(dtype))
    return v


def _indices_array(indices, op):
    if isinstance(indices, Tensor):
        if indices.is_sparse:
            raise RuntimeError(f"{op}: indices must be a dense tensor, got a sparse one")
        a = np.asarray(indices.detach().cpu()._data)
    else:
        a = np.asarray(indices)
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: indices must be an int64 tensor, got dtype {a.dtype}")
    if a.ndim != 2:
        raise RuntimeError(f"{op}: indices must be 2-D (sparse_dim, nnz), got shape {tuple(a.shape)}")
    return np.ascontiguousarray(a, dtype=np.int64)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None) -> SparseTensor:
    """A sparse COO tensor with ``values[k]`` at ``indices[:, k]`` (``torch.sparse_coo_tensor``).  The size,
    when not given, is each sparse dim's largest index + 1 followed by the values' trailing dims.  ember
    checks the indices against the size always (PyTorch only with ``check_invariants``)."""
    op = "sparse_coo_tensor"
    idx = _indices_array(indices, op)
    v = _values_tensor(values, dtype, op)
    if device is not None:
        from .._tensor_support import device as _device
        if _device(device).type != "cpu":
            raise RuntimeError(f"{op}: ember's sparse COO tensors live on the CPU only, got device={device}")
        v = v.to(device)
    if v.ndim < 1:
        raise RuntimeError(f"{op}: values must have at least 1 dim (nnz, ...), got a 0-d tensor")
    sd, nnz = idx.shape
    if v.shape[0] != nnz:
        raise RuntimeError(f"{op}: number of indices ({nnz}) and number of values ({v.shape[0]}) must match: "
                           f"indices has shape {tuple(idx.shape)}, values {tuple(v.shape)}")
    dense = tuple(v.shape[1:])
    if size is None:
        sparse_size = tuple(int(m) + 1 for m in idx.max(axis=1)) if nnz else (0,) * sd
        shape = sparse_size + dense
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sd + len(dense):
            raise RuntimeError(f"{op}: number of dimensions must be sparse_dim ({sd}) + dense_dim "
                               f"({len(dense)}), but got size {shape}")
        if shape[sd:] != dense:
            raise RuntimeError(f"{op}: the dense dims of size {shape} ({shape[sd:]}) must equal the values' "
                               f"trailing dims {dense} (values of shape {tuple(v.shape)})")
        if nnz:
            lo, hi = idx.min(axis=1), idx.max(axis=1)
            for d in range(sd):
                if lo[d] < 0 or hi[d] >= shape[d]:
                    bad = lo[d] if lo[d] < 0 else hi[d]
                    raise RuntimeError(f"{op}: indices[{d}] holds {int(bad)}, out of bounds for size "
                                       f"{shape[d]} of dim {d} (size {shape})")
    if nnz and idx.min() < 0:
        raise RuntimeError(f"{op}: found a negative index {int(idx.min())}; indices must be >= 0")
    coalesced = bool(is_coalesced)
    if coalesced and not _sorted_unique(_linear(idx, shape[:sd])):
        raise RuntimeError(f"{op}: is_coalesced=True but the indices are not sorted and unique")
    if requires_grad:
        if v.dtype.kind not in "fc":
            raise RuntimeError(f"{op}: only tensors of floating point dtype can require gradients, got "
                               f"{v.dtype}")
        return SparseTensor._new(idx, v.detach().requires_grad_(), shape, coalesced, leaf=True)
    if v.requires_grad:
        return SparseTensor._new(idx, K.Alias.apply(v), shape, coalesced, "SparseCooTensorWithDimsAndTensors")
    return SparseTensor._new(idx, v, shape, coalesced)


def _sorted_unique(lin) -> bool:
    return bool(lin.size < 2 or np.all(lin[1:] > lin[:-1]))


def to_sparse(x: Tensor, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None) -> SparseTensor:
    """``Tensor.to_sparse``: the entries of a dense tensor that are not zero, as a coalesced COO tensor (with
    ``sparse_dim`` < ndim, the slices over the trailing dims that hold a non-zero)."""
    op = "to_sparse"
    if layout is not None and layout != sparse_coo:
        raise RuntimeError(f"{op}: ember has only the sparse COO layout, got layout={layout}")
    if blocksize is not None or dense_dim is not None:
        raise RuntimeError(f"{op}: blocksize and dense_dim are for the compressed layouts, which ember lacks")
    nd = x.ndim
    sd = nd if sparse_dim is None else int(sparse_dim)
    if not 0 < sd <= nd:
        raise RuntimeError(f"{op}: sparse_dim must be in 1..{nd} for a tensor of size {tuple(x.shape)}, got "
                           f"{sparse_dim}")
    a = x._data
    sshape = tuple(a.shape[:sd])
    nz = a != 0
    if sd < nd:
        nz = nz.reshape(sshape + (-1,)).any(axis=-1)
    idx = np.stack(np.nonzero(nz)).astype(np.int64).reshape(sd, -1)
    n = int(np.prod(sshape, dtype=np.int64))
    lin = _linear(idx, sshape)
    flat = x.reshape((n,) + tuple(a.shape[sd:]))
    vals = K.Take.apply(flat, plan=K.Plan(lin, n))
    return SparseTensor._new(idx, vals, tuple(a.shape), True, "ToSparseBackward1")


# ------------------------------------------------------------------------------------- shape and scalars

def transpose(s: SparseTensor, dim0, dim1, op) -> SparseTensor:
    nd, sd = s.ndim, s.sparse_dim()
    d0, d1 = (int(d) + nd if int(d) < 0 else int(d) for d in (dim0, dim1))
    if op == "t" and nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
                           f"{sd} sparse and {s.dense_dim()} dense dimensions")
    if not (0 <= d0 < nd and 0 <= d1 < nd):
        raise IndexError(f"{op}: dims ({dim0}, {dim1}) out of range for a tensor of {nd} dims")
    if d0 >= sd or d1 >= sd:
        raise RuntimeError(f"{op}: sparse transpose: transposed dimensions must be sparse; got sparse_dim "
                           f"{sd}, dims {dim0} and {dim1} (size {tuple(s.shape)})")
    shape = list(s.shape)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    idx = s._idx.copy()
    idx[[d0, d1]] = idx[[d1, d0]]
    return SparseTensor._new(idx, s._vals, tuple(shape), s._coalesced and d0 == d1,
                             "T" if op == "t" else "Transpose")


def _scalar(other, op, s):
    if isinstance(other, Tensor):
        if other.is_sparse or other.ndim != 0:
            raise RuntimeError(f"{op}: ember divides a sparse tensor by a number or a 0-d tensor only; got a "
                               f"{'sparse ' if other.is_sparse else ''}tensor of size {tuple(other.shape)} "
                               f"with a sparse tensor of size {tuple(s.shape)}")
        return other
    if isinstance(other, (numbers.Number, np.number)):
        return other
    raise TypeError(f"{op}: unsupported operand type {type(other).__name__} with a sparse tensor")


def mul(s: SparseTensor, other, op="mul") -> SparseTensor:
    """sparse * number (or 0-d tensor), sparse * dense (broadcast to the sparse size: each stored entry times
    the dense entry at its place) and sparse * sparse; the result is sparse, as in PyTorch."""
    if isinstance(other, Tensor) and (other.is_sparse or other.ndim):
        return _mul_tensor(s, other, op)
    other = _scalar(other, op, s)
    return SparseTensor._new(s._idx, s._vals * other, s.shape, s._coalesced, "Neg" if op == "neg" else "Mul")


def _mul_tensor(s: SparseTensor, other: Tensor, op) -> SparseTensor:
    if tuple(other.shape) != tuple(s.shape) and not other.is_sparse:
        try:
            ok = np.broadcast_shapes(tuple(other.shape), tuple(s.shape)) == tuple(s.shape)
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"{op}: a dense tensor of size {tuple(other.shape)} does not broadcast to the "
                               f"sparse tensor's size {tuple(s.shape)}")
    elif tuple(other.shape) != tuple(s.shape):
        raise RuntimeError(f"{op}: sparse tensors of sizes {tuple(s.shape)} and {tuple(other.shape)} must "
                           f"have the same size")
    if s.dense_dim() or (other.is_sparse and other.dense_dim()):
        raise RuntimeError(f"{op}: ember multiplies sparse tensors with dense dims by a number only (sizes "
                           f"{tuple(s.shape)}, sparse_dim {s.sparse_dim()})")
    sshape = s._sparse_shape()
    n = int(np.prod(sshape, dtype=np.int64))
    if other.is_sparse and s._coalesced and other._coalesced:     # both coalesced: the common entries
        la, lb = _linear(s._idx, sshape), _linear(other._idx, sshape)
        common, ia, ib = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
        av = K.Take.apply(s._vals, plan=K.Plan(ia, s._nnz()))
        bv = K.Take.apply(other._vals, plan=K.Plan(ib, other._nnz()))
        return SparseTensor._new(_unravel(common, sshape), av * bv, s.shape, True, "Mul")
    d = other.to_dense() if other.is_sparse else other
    if tuple(d.shape) != tuple(s.shape):
        d = d.expand(tuple(s.shape))
    at = K.Take.apply(d.reshape(n), plan=K.Plan(_linear(s._idx, sshape), n))
    return SparseTensor._new(s._idx, s._vals * at, s.shape, s._coalesced, "Mul")


def div(s: SparseTensor, other) -> SparseTensor:
    other = _scalar(other, "div", s)
    return SparseTensor._new(s._idx, s._vals / other, s.shape, s._coalesced, "Div")


# ------------------------------------------------------------------------------------------------ addition

def add(s: SparseTensor, other, alpha=1) -> Tensor:
    """sparse + sparse -> sparse; sparse + dense is an error, as in PyTorch."""
    if not _is_sparse(other):
        what = f"a dense tensor of size {tuple(other.shape)}" if isinstance(other, Tensor) else repr(other)
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead (got a "
                           f"sparse tensor of size {tuple(s.shape)} and {what})")
    if tuple(s.shape) != tuple(other.shape) or s.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: expected sparse tensors of one size and sparse_dim, got sizes "
                           f"{tuple(s.shape)} (sparse_dim {s.sparse_dim()}) and {tuple(other.shape)} "
                           f"(sparse_dim {other.sparse_dim()})")
    sshape = s._sparse_shape()
    la, lb = _linear(s._idx, sshape), _linear(other._idx, sshape)
    if s._coalesced and other._coalesced:
        out = np.union1d(la, lb)
        slot_a, slot_b = np.searchsorted(out, la), np.searchsorted(out, lb)
    else:
        out, slot_a, slot_b = _merge(la, lb)
    bv = other._vals if (type(alpha) is int and alpha == 1) else other._vals * alpha
    from ..ops import cat
    av = s._vals
    if av.dtype != bv.dtype:
        dt = _dt.promote_types(av.dtype, bv.dtype)
        av, bv = av.to(dt), bv.to(dt)
    vals = K.SegSum.apply(cat([av, bv]), plan=K.Plan(np.concatenate([slot_a, slot_b]), out.size))
    return SparseTensor._new(_unravel(out, sshape), vals, s.shape, s._coalesced and other._coalesced, "Add")


def _merge(la, lb):
    """PyTorch's merge of two index lists (as stored, sorted or not): step through both, taking the smaller
    position, and one output entry for the two when they are equal."""
    a, b = la.tolist(), lb.tolist()
    na, nb = len(a), len(b)
    sa, sb, out = [0] * na, [0] * nb, []
    i = j = 0
    while i < na and j < nb:
        if a[i] < b[j]:
            sa[i] = len(out)
            out.append(a[i])
            i += 1
        elif a[i] > b[j]:
            sb[j] = len(out)
            out.append(b[j])
            j += 1
        else:
            sa[i] = sb[j] = len(out)
            out.append(a[i])
            i += 1
            j += 1
    for k in range(i, na):
        sa[k] = len(out)
        out.append(a[k])
    for k in range(j, nb):
        sb[k] = len(out)
        out.append(b[k])
    return (np.asarray(out, dtype=np.int64), np.asarray(sa, dtype=np.int64), np.asarray(sb, dtype=np.int64))


def radd(dense, s: SparseTensor, alpha=1) -> Tensor:
    """dense + sparse -> dense (``torch.eye(n) + adj``)."""
    if isinstance(dense, Tensor) and tuple(dense.shape) != tuple(s.shape):
        raise RuntimeError(f"add: a dense tensor of size {tuple(dense.shape)} and a sparse tensor of size "
                           f"{tuple(s.shape)} must have the same size")
    d = s.to_dense()
    if not (type(alpha) is int and alpha == 1):
        d = d * alpha
    if not isinstance(dense, Tensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead (got a "
                           "number and a sparse tensor)")
    return dense + d


# ----------------------------------------------------------------------------------------------- products

def _plans(s: SparseTensor):
    n, k = s.shape
    rp = s._plans.get("rows")
    if rp is None:
        rp = s._plans["rows"] = K.Plan(s._idx[0], n)
        s._plans["cols"] = K.Plan(s._idx[1], k)
    return rp, s._plans["cols"]


def _check_mm(s, other, op):
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"{op}: the sparse operand must be a 2-D matrix (2 sparse dims, 0 dense dims), "
                           f"got size {tuple(s.shape)} with sparse_dim {s.sparse_dim()}")
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected a Tensor as the second operand, got {type(other).__name__}")
    if _is_sparse(other):
        raise RuntimeError(f"{op}: sparse @ sparse is not supported in ember (sizes {tuple(s.shape)} and "
                           f"{tuple(other.shape)}); convert one operand with .to_dense()")
    if other.dtype != s.dtype:
        raise RuntimeError(f"{op}: expected scalar type {_name(s.dtype)} but found {_name(other.dtype)} "
                           f"(sparse operand {s.dtype}, dense operand {other.dtype}; the two must match)")


def _name(dt):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "float16": "Half",
            "bool": "Bool"}.get(dt.name, dt.name)


def matmul(s: SparseTensor, other, op: str) -> Tensor:
    """sparse (n, k) @ dense (k, p) -> dense (n, p), or @ (k,) -> (n,) for ``matmul``.  ``sparse.mm`` gives a
    sparse leaf a sparse gradient (its pattern), ``mm``/``spmm``/``matmul`` a dense one, as PyTorch does."""
    _check_mm(s, other, op)
    vec = other.ndim == 1
    if other.ndim != 2 and not (vec and op == "matmul"):
        alt = " (or 1-D)" if op == "matmul" else ""
        raise RuntimeError(f"{op}: expected a 2-D dense operand{alt}, got size {tuple(other.shape)} "
                           f"(sparse operand of size {tuple(s.shape)})")
    if other.shape[0] != s.shape[1]:
        raise RuntimeError(f"{op}: sizes {tuple(s.shape)} and {tuple(other.shape)} cannot be multiplied "
                           f"({s.shape[1]} != {other.shape[0]})")
    if s.dtype.kind == "b":
        raise RuntimeError(f"{op}: bool tensors are not supported")
    d = other.unsqueeze(-1) if vec else other
    rp, cp = _plans(s)
    if op != "sparse.mm" and s._leaf and s._vals.requires_grad:
        out = K.Mm.apply(s._vals.detach(), d, s._dense_grad_sink(), rplan=rp, cplan=cp)
    else:
        out = (K.SparseAddmm if op == "sparse.mm" else K.Mm).apply(s._vals, d, rplan=rp, cplan=cp)
    return out.squeeze(-1) if vec else out


def dense_matmul(dense, s: SparseTensor, op: str) -> Tensor:
    """dense (n, k) @ sparse (k, p) -> dense (n, p), as (sparse.T @ dense.T).T (a transposed result, as
    PyTorch's)."""
    if not isinstance(dense, Tensor) or dense.ndim != 2:
        raise RuntimeError(f"{op}: dense @ sparse needs a 2-D dense operand, got "
                           f"{tuple(dense.shape) if isinstance(dense, Tensor) else type(dense).__name__}")
    _check_mm(s, dense, op)
    if dense.shape[1] != s.shape[0]:
        raise RuntimeError(f"{op}: sizes {tuple(dense.shape)} and {tuple(s.shape)} cannot be multiplied "
                           f"({dense.shape[1]} != {s.shape[0]})")
    rp, cp = _plans(s)
    return K.SpMM.apply(s._vals, dense.t(), rplan=cp, cplan=rp).transpose(0, 1)


# ---------------------------------------------------------------------------------------- sums and softmax

def _dims(dim, nd, op):
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -nd <= d < nd:
            raise IndexError(f"{op}: dim {d} out of range for a tensor of {nd} dims")
        out.append(d % nd)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dims} names a dim twice")
    return sorted(out)


def sparse_sum(s: SparseTensor, dim=None, dtype=None, op="sparse.sum"):
    """``torch.sparse.sum``: all entries (a dense 0-d tensor), or over ``dim`` -- a dense tensor when every
    sparse dim is summed, else a coalesced sparse tensor over the remaining dims."""
    if not _is_sparse(s):
        raise RuntimeError(f"{op}: expected a sparse tensor, got a dense one of size {tuple(s.shape)}")
    vals = s._vals if dtype is None else s._vals.to(_dt.to_dtype(dtype))
    if dim is None:
        return vals.sum()
    dims = _dims(dim, s.ndim, op)
    s = s.coalesce()                    # PyTorch sums a coalesced copy: the result is coalesced
    vals = s._vals if dtype is None else s._vals.to(_dt.to_dtype(dtype))
    sd = s.sparse_dim()
    sdims = [d for d in dims if d < sd]
    ddims = tuple(d - sd + 1 for d in dims if d >= sd)
    if ddims:
        vals = vals.sum(ddims)
    if not sdims:
        return SparseTensor._new(s._idx, vals, tuple(n for i, n in enumerate(s.shape) if i not in dims),
                                 s._coalesced, "SparseSum")
    if len(sdims) == sd:
        return vals.sum(0)
    keep = [d for d in range(sd) if d not in sdims]
    kshape = tuple(s.shape[d] for d in keep)
    lin = _linear(s._idx[keep], kshape)
    u, inv = np.unique(lin, return_inverse=True)
    vals = K.SegSum.apply(vals, plan=K.Plan(inv.reshape(-1), u.size))
    shape = tuple(n for i, n in enumerate(s.shape) if i not in dims)
    return SparseTensor._new(_unravel(u, kshape), vals, shape, True, "SparseSum")


def _groups(s: SparseTensor, dim):
    """For softmax over sparse dim ``dim``: each entry's group (the entries that share every other index)."""
    sd = s.sparse_dim()
    keep = [d for d in range(sd) if d != dim]
    if not keep:
        return np.zeros(s._nnz(), dtype=np.int64), 1
    lin = _linear(s._idx[keep], tuple(s.shape[d] for d in keep))
    u, inv = np.unique(lin, return_inverse=True)
    return inv.reshape(-1), u.size


def softmax(s: SparseTensor, dim, dtype=None, *, log=False):
    """``torch.sparse.softmax``: a softmax over the specified entries along ``dim`` (entries not stored
    count as -inf, so they stay unstored); the result is coalesced, with the input's pattern."""
    op = "sparse.log_softmax" if log else "sparse.softmax"
    if not _is_sparse(s):
        raise RuntimeError(f"{op}: expected a sparse tensor, got a dense one of size {tuple(s.shape)}")
    d = _dims(dim, s.ndim, op)[0]
    s = s.coalesce()
    vals = s._vals if dtype is None else s._vals.to(_dt.to_dtype(dtype))
    if vals.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {vals.dtype}")
    sd = s.sparse_dim()
    if d >= sd:     # over a dense dim: each stored slice on its own
        f = vals.log_softmax if log else vals.softmax
        return SparseTensor._new(s._idx, f(d - sd + 1), s.shape, True,
                                 "SparseLogSoftmax" if log else "SparseSoftmax")
    grp, ng = _groups(s, d)
    plan = K.Plan(grp, ng)
    raw = vals._data
    m = np.full((ng,) + raw.shape[1:], -np.inf, dtype=raw.dtype)
    np.maximum.at(m, grp, raw)
    m = Tensor._make(m)
    z = vals - K.Take.apply(m, plan=plan)
    e = z.exp()
    tot = K.Take.apply(K.SegSum.apply(e, plan=plan), plan=plan)
    out = z - tot.log() if log else e / tot
    return SparseTensor._new(s._idx, out, s.shape, True, "SparseLogSoftmax" if log else "SparseSoftmax")
