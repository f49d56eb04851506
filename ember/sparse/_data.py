"""What a sparse tensor holds where a dense tensor holds its array (``Tensor._data``).

Dense ops read ``t._data`` and hand it to NumPy.  A sparse COO tensor's ``_data`` is a ``SparseData``: it
answers the metadata questions every op asks first (``shape``, ``dtype``, ``ndim``, ``size``,
``itemsize``) and refuses everything else (NumPy functions and ufuncs, array conversion, indexing,
arithmetic, any other attribute) with a ``RuntimeError`` that names the ember op the user called, so a
dense op fed a sparse tensor never densifies it silently nor fails deep inside NumPy.  The op is found on
the call stack: the outermost frame in ember's code (outside this package) is the public function or
method the user called.
"""
from __future__ import annotations

import os
import sys

import numpy as np

_EMBER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HERE = os.path.dirname(os.path.abspath(__file__))


def _user_op() -> str:
    """The name of the outermost ember function on the stack (the op the user called)."""
    f = sys._getframe(2)
    name = None
    while f is not None:
        fn = f.f_code.co_filename
        if (fn.startswith(_EMBER) and not fn.startswith(_HERE)) or fn.startswith("<ember"):
            q = _frame_name(f)
            name = q.replace("_OperatorMethods.", "Tensor.").replace("_InplaceMethods.", "Tensor.") \
                    .replace("_DeviceMethods.", "Tensor.")
        elif name is not None:
            break
        f = f.f_back
    return name or "this op"


def _frame_name(f) -> str:
    """A frame's function name; for a function made by a factory (``_unary.<locals>.fn``) the name the factory
    was given (its ``name`` or the wrapped ``fn``'s ``__name__``)."""
    code = f.f_code
    q = getattr(code, "co_qualname", code.co_name)
    if "<locals>" not in q:
        return q
    loc = f.f_locals
    for key in ("name", "op", "opname"):
        v = loc.get(key)
        if isinstance(v, str) and v.isidentifier():
            return v
    fn = loc.get("fn")
    n = getattr(fn, "__name__", None)
    return n if isinstance(n, str) else code.co_name


def unsupported(shape, what: str = "") -> RuntimeError:
    op = _user_op()
    dunder = op.rpartition(".")[2]
    if dunder.startswith("__") and dunder.endswith("__"):      # an operator: its op's name (x > 0: gt)
        op = {"getitem": "index", "setitem": "index_put_"}.get(dunder[2:-2], dunder[2:-2])
    detail = f" ({what})" if what else ""
    return RuntimeError(f"{op}: sparse COO tensors (layout=torch.sparse_coo) are not supported here{detail}; "
                        f"got a sparse tensor of size {tuple(shape)}.  Convert it with .to_dense(), or use "
                        f"the sparse ops: torch.sparse.mm / torch.spmm / mm / matmul (sparse @ dense), "
                        f"+, - and * (with dense or sparse), / by a number, t(), coalesce(), "
                        f"torch.sparse.sum, torch.sparse.softmax (see docs/compat.md)")


class SparseData:
    """The stand-in array of a sparse COO tensor: metadata only."""
    __slots__ = ("shape", "dtype", "ndim", "size", "itemsize", "owner")
    __array_priority__ = 10 ** 6

    def __init__(self, shape, dtype, owner=None) -> None:
        self.owner = owner
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        n = 1
        for s in self.shape:
            n *= s
        self.size = n
        self.itemsize = self.dtype.itemsize

    def astype(self, dtype, copy=True):
        """``Module.double()``/``.to(dtype)`` cast a module's buffers through their arrays: a sparse buffer's
        values are cast (the owner tensor is updated in place, as the module expects) and the new metadata is
        returned for the module to store."""
        dtype = np.dtype(dtype)
        if self.owner is None:
            raise unsupported(self.shape, "astype")
        t = self.owner
        v = t._vals.detach().to(dtype)
        if t._leaf and t._vals.requires_grad:
            v.requires_grad_()
        t._vals = v
        return SparseData(self.shape, dtype, t)

    def __getattr__(self, name):
        raise unsupported(self.shape, f"a dense array's .{name} was asked for")

    def __array__(self, *a, **k):
        raise unsupported(self.shape, "it would be converted to a dense array")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise unsupported(self.shape, f"numpy.{ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        raise unsupported(self.shape, f"numpy.{func.__name__}")

    def _refuse(self, *a, **k):
        raise unsupported(self.shape)

    __getitem__ = __setitem__ = __len__ = __iter__ = __float__ = __int__ = __index__ = __bool__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = _refuse
    __matmul__ = __rmatmul__ = _refuse
    __neg__ = __pos__ = __abs__ = __invert__ = __and__ = __or__ = __xor__ = _refuse
    __iadd__ = __isub__ = __imul__ = __itruediv__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse

    def __repr__(self) -> str:
        return f"SparseData(shape={self.shape}, dtype={self.dtype})"
