"""The differentiable kernels under ember's sparse COO tensors.

A sparse tensor's values are an ordinary dense ember Tensor (``(nnz, *dense_dims)``), so autograd reaches
them through these ops with no change to the engine:

- ``SegSum``: ``out[seg[k]] += x[k]`` (the rows of ``x`` summed into ``n`` segments).  to_dense, coalesce,
  sparse.sum and softmax's denominators are segment sums.  Its gradient is ``Take``.
- ``Take``: ``x[idx]`` along dim 0; its gradient is ``SegSum``.  The pair closes on itself, so gradients of
  any order work.
- ``SpMM``: ``sparse (values at rows/cols, n x k) @ dense (k x p)``, computed from the sorted COO as CSR does:
  the products ``values[:, None] * dense[cols]`` summed per row with ``np.add.reduceat``; never densified.
  Its gradient to the dense operand is ``SpMM`` of the transpose, to the values ``(g[rows] * dense[cols])``
  summed over the last dim.

When SciPy is installed, the float32/float64 product runs as SciPy's CSR @ dense kernel on the same sorted
entries (the same per-row sums in the same order, without the ``(nnz, p)`` temporary; about 10x faster); the
NumPy path above is the fallback and the reference (``tests/sparse`` runs both).

A ``Plan`` is the sorting work of a segment sum (a stable argsort of the segment ids, where the segments
start, which segments are non-empty), made once per index array and kept on the sparse tensor, so a graph
network that multiplies by one adjacency matrix every step sorts it once.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Plan:
    """How to sum rows of an ``(nnz, ...)`` array into ``n`` segments given by ``seg`` (int64, length nnz)."""
    __slots__ = ("seg", "n", "order", "starts", "useg", "csr")

    def __init__(self, seg, n: int) -> None:
        seg = np.ascontiguousarray(seg, dtype=np.int64)
        self.seg, self.n = seg, int(n)
        self.csr = None
        if seg.size and np.any(seg[1:] < seg[:-1]):
            self.order = np.argsort(seg, kind="stable")
            s = seg[self.order]
        else:
            self.order = None
            s = seg
        if s.size:
            first = np.empty(s.size, dtype=bool)
            first[0] = True
            np.not_equal(s[1:], s[:-1], out=first[1:])
            self.starts = np.flatnonzero(first)
            self.useg = s[self.starts]
        else:
            self.starts = self.useg = np.zeros(0, dtype=np.int64)

    def sum(self, x):
        """The segment sums of the rows of array ``x`` as an ``(n, *x.shape[1:])`` array of x's dtype."""
        out = np.zeros((self.n,) + x.shape[1:], dtype=x.dtype)
        if self.starts.size:
            xs = x if self.order is None else x[self.order]
            out[self.useg] = np.add.reduceat(xs, self.starts, axis=0)
        return out


def _scipy_sparse():
    """``scipy.sparse``, or None when SciPy is missing (or ``USE_SCIPY`` is off)."""
    global _SP
    if _SP is False:
        try:
            import scipy.sparse as sp
            _SP = sp
        except ImportError:
            _SP = None
    return _SP if USE_SCIPY else None


_SP = False
USE_SCIPY = True     # tests turn it off to run the NumPy path


def _csr_product(rplan, cplan, values, dense, sp):
    """rows/cols/values as a SciPy CSR matrix (entries in the stable row order) @ dense."""
    c = rplan.csr
    if c is None or c[0] is not cplan:
        cols = cplan.seg if rplan.order is None else cplan.seg[rplan.order]
        indptr = np.zeros(rplan.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rplan.seg, minlength=rplan.n), out=indptr[1:])
        if max(rplan.n, cplan.n, cols.size) < 2 ** 31:      # SciPy's own index type: no cast per call
            cols, indptr = cols.astype(np.int32), indptr.astype(np.int32)
        c = rplan.csr = (cplan, cols, indptr)
    data = values if rplan.order is None else values[rplan.order]
    a = sp.csr_matrix((data, c[1], c[2]), shape=(rplan.n, cplan.n), copy=False)
    return np.ascontiguousarray(a @ dense)


class SegSum(Function):
    @staticmethod
    def forward(ctx, x, plan=None):
        ctx.plan = plan
        return plan.sum(x)

    @staticmethod
    def backward(ctx, g):
        return Take.apply(g, plan=ctx.plan)


class Take(Function):
    @staticmethod
    def forward(ctx, x, plan=None):
        ctx.plan = plan
        return x[plan.seg]

    @staticmethod
    def backward(ctx, g):
        return SegSum.apply(g, plan=ctx.plan)


class SpMM(Function):
    """``values`` (nnz,) at ``rows``/``cols`` of an n x k matrix, times a dense (k, p) matrix -> (n, p).  An
    optional third input, ``sink`` (a sparse leaf's dense stand-in, see ``SparseTensor._dense_grad_sink``),
    receives the dense gradient ``g @ dense.T`` that ``torch.mm`` gives a sparse leaf."""

    @staticmethod
    def forward(ctx, values, dense, sink=None, rplan=None, cplan=None):
        ctx.rplan, ctx.cplan = rplan, cplan
        n = ctx.needs_input_grad
        ctx.sink = sink is not None
        want_dense = n[0] or (len(n) > 2 and n[2])
        ctx.save_for_backward(values if n[1] else None, dense if want_dense else None)
        sp = _scipy_sparse() if values.dtype == dense.dtype and values.dtype.char in "fd" else None
        if sp is not None and dense.ndim == 2:
            return _csr_product(rplan, cplan, values, dense, sp)
        prod = dense[cplan.seg]
        prod *= values[:, None]
        return rplan.sum(prod)

    @staticmethod
    def backward(ctx, g):
        values, dense = ctx.saved_tensors
        n = ctx.needs_input_grad
        gv = gd = None
        if n[0]:
            gv = (Take.apply(g, plan=ctx.rplan) * Take.apply(dense, plan=ctx.cplan)).sum(-1)
        if n[1]:
            gd = SpMM.apply(values, g, rplan=ctx.cplan, cplan=ctx.rplan)
        if not ctx.sink:
            return gv, gd
        return gv, gd, (g.matmul(dense.mT) if n[2] else None)


class Mm(SpMM):
    """``SpMM`` as ``torch.mm``/``spmm``/``matmul`` record it (``grad_fn=<MmBackward0>``)."""


class SparseAddmm(SpMM):
    """``SpMM`` as ``torch.sparse.mm`` records it (``grad_fn=<SparseAddmmBackward0>``)."""


class Alias(Function):
    """The same values under a new graph node (a sparse tensor built from values that require grad is not a
    leaf, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g
