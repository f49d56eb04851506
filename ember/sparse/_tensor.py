"""``SparseTensor``: a sparse COO tensor (``layout=torch.sparse_coo``), as PyTorch's.

It holds ``_idx``, the indices (an int64 NumPy array of shape ``(sparse_dim, nnz)``), ``_vals``, the values (a
dense ember Tensor of shape ``(nnz, *dense_dims)``, through which autograd runs: see ``_kernels.py``), the
size, and whether it is coalesced (indices sorted row-major and unique).  It is a ``Tensor`` subclass, so
``isinstance(x, torch.Tensor)`` holds, modules can keep one as a buffer, and ``x.shape``/``x.dtype`` work; its
``_data`` is a ``SparseData`` (``_data.py``), so a dense op fed a sparse tensor raises an error naming the op.

Gradients: a sparse tensor built from values that require grad is not a leaf and passes its gradient to those
values (the gradient of each stored entry).  A sparse leaf (``requires_grad=True``) gets in ``.grad`` what
PyTorch gives: after ``torch.sparse.mm`` or ``to_dense``, a coalesced sparse tensor with the leaf's sparsity
pattern; after ``torch.mm``/``spmm``/``matmul``, a dense tensor (``grad_output @ dense.T``).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..backend import dtypes as _dt
from . import _kernels as K
from ._data import SparseData
from ._layout import sparse_coo


def _linear(idx, shape):
    """Row-major linear positions of the index columns in a tensor of sparse shape ``shape`` (int64)."""
    lin = np.zeros(idx.shape[1], dtype=np.int64)
    for d, s in enumerate(shape):
        lin *= s
        lin += idx[d]
    return lin


def _unravel(lin, shape):
    out = np.empty((len(shape), lin.size), dtype=np.int64)
    rest = lin.copy()
    for d in range(len(shape) - 1, -1, -1):
        s = max(int(shape[d]), 1)
        out[d] = rest % s
        rest //= s
    return out


class SparseTensor(Tensor):
    """A sparse COO tensor.  Make one with ``ember.sparse_coo_tensor`` or ``Tensor.to_sparse()``."""

    # the dense engine never sees a sparse tensor: its values (and, for a leaf used by mm, a dense gradient
    # sink) carry the graph
    @classmethod
    def _new(cls, idx, vals: Tensor, shape, coalesced: bool, grad_name: str | None = None,
             leaf: bool = False):
        """A sparse tensor over ``vals``; a leaf when ``leaf`` (its values are then a leaf of its own) or when
        the values need no gradient."""
        t = object.__new__(cls)
        t._data = SparseData(shape, vals._data.dtype, t)
        t._rg = False
        t._gradval = None
        t._oi = 0
        t._version = [0]
        t._acc = None
        t._hooks = None
        t._retains = False
        t._idx = idx
        t._vals = vals
        t._coalesced = bool(coalesced) or idx.shape[1] < 2      # 0 or 1 entries: coalesced, as in PyTorch
        t._leaf = bool(leaf) or not vals.requires_grad
        t._sink = None
        t._plans = {}
        t._gname = grad_name
        return t

    # -- layout and metadata -------------------------------------------------------------------------------
    is_sparse = property(lambda self: True, doc="True: a sparse COO tensor.")
    layout = property(lambda self: sparse_coo, doc="torch.sparse_coo")

    @property
    def device(self):
        return self._vals.device

    @property
    def is_cuda(self) -> bool:
        return self._vals.is_cuda

    @property
    def is_cpu(self) -> bool:
        return not self._vals.is_cuda

    def sparse_dim(self) -> int:
        return int(self._idx.shape[0])

    def dense_dim(self) -> int:
        return self._vals.ndim - 1

    def _nnz(self) -> int:
        return int(self._idx.shape[1])

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _indices(self) -> Tensor:
        return Tensor._make(self._idx)

    def _values(self) -> Tensor:
        """The values as stored, without autograd (as PyTorch's ``_values``; ``values()`` differentiates)."""
        return self._vals.detach()

    def indices(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() "
                               "first (indices(); ._indices() returns them as stored)")
        return Tensor._make(self._idx)

    def values(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() "
                               "first (values(); ._values() returns them as stored)")
        return self._vals

    def _sparse_shape(self):
        return self._data.shape[:self._idx.shape[0]]

    # -- autograd ------------------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad or self._sink is not None

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        self.requires_grad_(bool(value))

    def requires_grad_(self, requires_grad: bool = True) -> "SparseTensor":
        if not self._leaf:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf tensors")
            return self
        if requires_grad and self.dtype.kind not in "fc":
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got dtype "
                               f"{self.dtype}; convert with .float() first")
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self):
        return None if self._leaf else self._vals.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._leaf

    @property
    def grad(self):
        """A leaf's gradient: sparse (its pattern, sorted, duplicates once) from the ops that give one, dense
        from mm."""
        if not self._leaf:
            return None
        gv = self._vals.grad
        gd = self._sink.grad if self._sink is not None else None
        sp = None
        if gv is not None:
            lin = _linear(self._idx, self._sparse_shape())
            u, first = np.unique(lin, return_index=True)
            # sorted and unique, but not flagged coalesced (PyTorch's gradient is not)
            sp = SparseTensor._new(_unravel(u, self._sparse_shape()), Tensor._make(gv._data[first]),
                                   self.shape, False)
        if gd is None:
            return sp
        return gd if sp is None else gd + sp.to_dense()

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            raise RuntimeError("ember: a sparse tensor's .grad can only be set to None (its gradient is "
                               "accumulated by backward)")
        self._vals.grad = None
        if self._sink is not None:
            self._sink.grad = None

    def _dense_grad_sink(self):
        """For a leaf that requires grad: a dense, zero-strided stand-in of its shape whose gradient is this
        tensor's dense gradient (``torch.mm``'s backward gives a sparse leaf a dense gradient)."""
        if self._sink is None:
            z = np.broadcast_to(np.zeros((), self.dtype), self.shape)
            self._sink = Tensor._make(z).requires_grad_()
        return self._sink

    def __deepcopy__(self, memo):
        vals = self._vals.detach().clone()
        if self._leaf and self._vals.requires_grad:
            vals.requires_grad_()
        out = SparseTensor._new(self._idx.copy(), vals, self.shape, self._coalesced, leaf=self._leaf)
        memo[id(self)] = out
        return out

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        raise RuntimeError(f"cuda: ember's sparse COO tensors live on the CPU only (size "
                           f"{tuple(self.shape)}); move the dense operands instead, or use "
                           f".to_dense().cuda()")

    def detach(self) -> "SparseTensor":
        return SparseTensor._new(self._idx, self._vals.detach(), self.shape, self._coalesced)

    def clone(self, *, memory_format=None) -> "SparseTensor":
        out = SparseTensor._new(self._idx.copy(), self._vals.clone(), self.shape, self._coalesced)
        return out

    # -- conversions ---------------------------------------------------------------------------------------
    def coalesce(self) -> "SparseTensor":
        """Indices sorted row-major with duplicates summed (``torch.Tensor.coalesce``); itself if
        coalesced."""
        if self._coalesced:
            return self
        shape = self._sparse_shape()
        lin = _linear(self._idx, shape)
        plan = K.Plan(lin, 0)
        # segment ids 0..u-1 in sorted order, for each stored entry
        seg = np.empty(lin.size, dtype=np.int64)
        ranks = np.zeros(lin.size, dtype=np.int64)
        if lin.size:
            ranks[plan.starts[1:]] = 1
            ranks = np.cumsum(ranks)
            if plan.order is None:
                seg = ranks
            else:
                seg[plan.order] = ranks
        u = int(plan.useg.size)
        vals = K.SegSum.apply(self._vals, plan=K.Plan(seg, u))
        return SparseTensor._new(_unravel(plan.useg, shape), vals, self.shape, True, "Coalesce")

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """The dense tensor (duplicate entries summed), differentiable to the values."""
        shape = self._sparse_shape()
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        plan = self._plans.get("linear")
        if plan is None:
            plan = self._plans["linear"] = K.Plan(_linear(self._idx, shape), n)
        out = K.SegSum.apply(self._vals, plan=plan).reshape(self.shape)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None) -> "SparseTensor":
        if sparse_dim not in (None, self.sparse_dim()):
            raise RuntimeError(f"to_sparse: the tensor is sparse already with sparse_dim="
                               f"{self.sparse_dim()}; got sparse_dim={sparse_dim} (convert with .to_dense() "
                               f"first)")
        if layout is not None and layout != sparse_coo:
            raise RuntimeError(f"to_sparse: ember has only the sparse COO layout, got layout={layout}")
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False, memory_format=None):
        from .._tensor_device import to_args
        dt, dev = to_args(args, dtype, device)
        vals = self._vals
        if dt is not None and _dt.to_dtype(dt) != vals.dtype:
            vals = vals.to(_dt.to_dtype(dt))
        if dev is not None:
            from .._tensor_support import device as _device
            if _device(dev).type != "cpu":
                self.cuda()             # (raises: CPU only)
            vals = vals.to(dev)
        if vals is self._vals and not copy:
            return self
        return SparseTensor._new(self._idx, vals, self.shape, self._coalesced)

    def float(self, memory_format=None):
        return self.to(_dt.float32)

    def double(self, memory_format=None):
        return self.to(_dt.float64)

    def cpu(self, memory_format=None):
        return self.to("cpu")

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return "torch.sparse." + {"float32": "FloatTensor", "float64": "DoubleTensor",
                                      "int64": "LongTensor"}.get(self.dtype.name, self.dtype.name)
        return self.to(dtype)

    def numpy(self, *, force=False):
        raise TypeError("numpy(): can't convert a sparse layout tensor to numpy; use Tensor.to_dense() first")

    def tolist(self):
        raise RuntimeError("tolist(): not supported for sparse tensors; use Tensor.to_dense() first")

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        from ._format import sparse_repr
        return sparse_repr(self)

    __str__ = __repr__

    # -- operators (_ops.py holds the math) ----------------------------------------------------------
    def t(self) -> "SparseTensor":
        from . import _ops
        return _ops.transpose(self, 0, 1, "t")

    def transpose(self, dim0, dim1) -> "SparseTensor":
        from . import _ops
        return _ops.transpose(self, dim0, dim1, "transpose")

    @property
    def T(self):
        if self.ndim != 2:
            raise RuntimeError(f"T: ember's sparse tensors have .T for 2-D only, got size "
                               f"{tuple(self.shape)}")
        return self.t()

    def __mul__(self, other):
        from . import _ops
        return _ops.mul(self, other, "mul")

    __rmul__ = __mul__

    def mul(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        from . import _ops
        return _ops.div(self, other)

    div = __truediv__

    def __neg__(self):
        from . import _ops
        return _ops.mul(self, -1, "neg")

    def neg(self):
        return -self

    def __add__(self, other):
        from . import _ops
        return _ops.add(self, other, 1)

    def __radd__(self, other):
        from . import _ops
        return _ops.radd(other, self, 1)

    def add(self, other, *, alpha=1):
        from . import _ops
        return _ops.add(self, other, alpha)

    def __sub__(self, other):
        from . import _ops
        return _ops.add(self, other, -1)

    def __rsub__(self, other):
        from . import _ops
        return _ops.radd(other, -self, 1)

    def sub(self, other, *, alpha=1):
        from . import _ops
        return _ops.add(self, other, -alpha)

    def __matmul__(self, other):
        from . import _ops
        return _ops.matmul(self, other, "matmul")

    def __rmatmul__(self, other):
        from . import _ops
        return _ops.dense_matmul(other, self, "matmul")

    def mm(self, mat2):
        from . import _ops
        return _ops.matmul(self, mat2, "mm")

    def matmul(self, other):
        from . import _ops
        return _ops.matmul(self, other, "matmul")

    def sum(self, dim=None, keepdim=False, dtype=None):
        from . import _ops
        if keepdim:
            raise RuntimeError("sum: keepdim=True is not supported for sparse tensors (as in PyTorch)")
        return _ops.sparse_sum(self, dim, dtype, "sum")
