"""``torch.sparse``: sparse COO tensors and the ops PyTorch programs use on them (graph networks' adjacency
matrices): ``mm``, ``sum``, ``softmax``, ``log_softmax``, ``addmm``.

The tensor type (``_tensor.SparseTensor``), its kernels and ops load on first use, so ``import ember`` (which
imports this package for the layout constants) stays as fast as before.
"""
from __future__ import annotations

from ._layout import layout, strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc  # noqa: F401

__all__ = ["mm", "sum", "softmax", "log_softmax", "addmm", "spmm", "check_sparse_tensor_invariants"]


def _impl():
    from . import _ops as ops
    return ops


def mm(mat1, mat2):
    """sparse @ dense -> dense (or dense @ sparse -> dense), never densifying the sparse operand
    (``torch.sparse.mm``).  Gradients reach the dense operand and the sparse operand's values; a sparse leaf
    gets a sparse gradient with its own pattern."""
    o = _impl()
    if o._is_sparse(mat1):
        return o.matmul(mat1, mat2, "sparse.mm")
    if o._is_sparse(mat2):
        return o.dense_matmul(mat1, mat2, "sparse.mm")
    sa, sb = tuple(getattr(mat1, "shape", ())), tuple(getattr(mat2, "shape", ()))
    raise RuntimeError(f"sparse.mm: expected a sparse COO operand, got two dense tensors of sizes {sa} and "
                       f"{sb}; use torch.mm")


def spmm(input, mat2):
    """``torch.spmm``: ``torch.mm`` with a sparse first operand (a sparse leaf gets a dense gradient)."""
    o = _impl()
    if not o._is_sparse(input):
        from ..ops import mm as dense_mm
        return dense_mm(input, mat2)
    return o.matmul(input, mat2, "spmm")


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``torch.sparse.addmm``: ``beta * mat + alpha * (mat1 @ mat2)`` with a sparse ``mat1``."""
    r = mm(mat1, mat2)
    if alpha != 1:
        r = r * alpha
    return r + (mat if beta == 1 else mat * beta)


def sum(input, dim=None, dtype=None):     # noqa: A001 - PyTorch's name
    """``torch.sparse.sum``: every entry (dense 0-d), or over ``dim`` (sparse unless every sparse dim
    goes)."""
    return _impl().sparse_sum(input, dim, dtype, "sparse.sum")


def softmax(input, dim, dtype=None):
    """``torch.sparse.softmax``: softmax over the stored entries along ``dim``; unstored entries stay so."""
    return _impl().softmax(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """``torch.sparse.log_softmax``."""
    return _impl().softmax(input, dim, dtype, log=True)


class check_sparse_tensor_invariants:     # noqa: N801 - PyTorch's name
    """Accepted as a context manager and decorator: ember checks a sparse tensor's indices always."""

    def __init__(self, enable: bool = True) -> None:
        self.enable = enable

    @staticmethod
    def is_enabled() -> bool:
        return True

    @staticmethod
    def enable() -> None:
        pass

    @staticmethod
    def disable() -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


def sparse_coo_tensor(indices, values, size=None, **kwargs):
    return _impl().sparse_coo_tensor(indices, values, size, **kwargs)


def _legacy(dtype_name):
    def ctor(*args, size=None, device=None):
        """PyTorch's legacy sparse constructor: ``(indices, values, size)``, ``(indices, values)`` or
        ``(*size)`` (an empty sparse tensor)."""
        from .. import backend
        dt = getattr(backend, dtype_name)
        o = _impl()
        if args and hasattr(args[0], "shape") and not isinstance(args[0], int):
            idx, vals = args[0], args[1]
            sz = args[2] if len(args) > 2 else size
            return o.sparse_coo_tensor(idx, vals, sz, dtype=dt, device=device)
        sz = tuple(int(a) for a in args) if args else tuple(size or (0,))
        import numpy as np
        from ..tensor import Tensor
        return o.sparse_coo_tensor(np.zeros((len(sz), 0), np.int64), Tensor._make(np.zeros(0, dt)), sz)
    ctor.__name__ = ctor.__qualname__ = {"float32": "FloatTensor", "float64": "DoubleTensor",
                                         "int64": "LongTensor"}[dtype_name]
    return ctor


FloatTensor = _legacy("float32")
DoubleTensor = _legacy("float64")
LongTensor = _legacy("int64")
