"""The utilities of ``torch.*`` (real-tensor complex helpers, predicates, creation from buffers, threads
settings, ``vmap``); part of ``ember/_toplevel.py``, which re-exports them."""
from __future__ import annotations

import builtins
import math
import os

import numpy as _np

from .tensor import Tensor
from ._out import write_out as _write_out
from ._toplevel_base import _check_tensor, _export, _sig, __all__  # noqa: F401

# ------------------------------------------------------------------------------- real tensors, predicates, misc

@_export
def real(input):
    """A real tensor is its own real part (the same tensor, as in PyTorch); ember has no complex dtypes."""
    _check_tensor("real", input)
    return input


@_export
def imag(input):
    _check_tensor("imag", input)
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


@_export
def conj(input):
    """The conjugate of a real tensor is the tensor itself (PyTorch returns the same object)."""
    _check_tensor("conj", input)
    return input


conj_physical = _sig(lambda input, *, out=None: _conj_physical(input, out), "(input, *, out=None)")
conj_physical.__name__ = "conj_physical"
__all__.append("conj_physical")


def _conj_physical(input, out):
    _check_tensor("conj_physical", input)
    if out is not None:
        out.copy_(input)
        return out
    return input


resolve_conj = conj
resolve_neg = conj
__all__ += ["resolve_conj", "resolve_neg"]


@_export
def is_complex(input) -> bool:
    _check_tensor("is_complex", input)
    return False


@_export
def is_conj(input) -> bool:
    _check_tensor("is_conj", input)
    return False


@_export
def is_neg(input) -> bool:
    _check_tensor("is_neg", input)
    return False


@_export
def is_nonzero(input) -> bool:
    _check_tensor("is_nonzero", input)
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


@_export
def is_same_size(input, other) -> bool:
    _check_tensor("is_same_size", input)
    _check_tensor("is_same_size", other, "other")
    return tuple(input.shape) == tuple(other.shape)


@_export
def is_signed(input) -> bool:
    _check_tensor("is_signed", input)
    return input.dtype.name not in ("uint8", "bool")


@_export
def get_device(input) -> int:
    """The CUDA device index of ``input``, ``-1`` for a CPU tensor, as in PyTorch."""
    _check_tensor("get_device", input)
    return input.get_device()


@_export
def fill(input, value):
    """A new tensor of ``input``'s shape, dtype and layout filled with ``value`` (``torch.fill``)."""
    _check_tensor("fill", input)
    return input.clone().fill_(value)


@_export
def detach(input):
    _check_tensor("detach", input)
    return input.detach()


@_export
def typename(obj) -> str:
    """``'torch.FloatTensor'`` style names for tensors (ember's ``Tensor.type()`` names them ``ember.*``;
    this keeps PyTorch's spelling, which programs print); ``module.QualName`` for anything else."""
    if isinstance(obj, Tensor):
        return ("torch.cuda." if obj.is_cuda else "torch.") + obj.type().split(".")[-1]
    module = getattr(type(obj), "__module__", "") or ""
    qual = type(obj).__qualname__
    return qual if module in ("builtins", "") else f"{module}.{qual}"


@_export
def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=None):
    """A 0-d tensor holding ``s``; float32 unless ``dtype`` says otherwise (also for ints and bools, as in
    PyTorch)."""
    from .creation import tensor
    from . import get_default_dtype
    if isinstance(s, Tensor):
        if s.numel() != 1:
            raise RuntimeError(f"scalar_tensor(): expected a number, got a tensor of shape {tuple(s.shape)}")
        s = s.item()
    return tensor(s, dtype=dtype if dtype is not None else get_default_dtype(), device=device)


@_export
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``torch.asarray``: shares memory with a Tensor or NumPy array (or anything with ``__array__`` /
    the buffer protocol) when no conversion is needed and ``copy`` is not True; ``copy=False`` refuses to
    copy; nested sequences give a new tensor with ``torch.tensor``'s dtype rules."""
    from .backend import dtypes as _dt
    from .creation import tensor, from_numpy
    from .backend import device as _dev
    want = None if dtype is None else _dt.to_dtype(dtype)
    if _dev.is_device_array(obj):           # a CuPy array: shared, as PyTorch shares __cuda_array_interface__
        obj = Tensor._make(obj)
    if isinstance(obj, Tensor):
        out = obj
        if want is not None and want != obj.dtype:
            if copy is False:
                raise ValueError(f"asarray(): converting a {obj.dtype} tensor to {want} needs a copy, but "
                                 "copy=False")
            out = obj.to(want)
        elif copy:
            out = obj.clone()
        if device is not None:
            out = out.to(device)
        if requires_grad:
            out = out.detach() if out is obj else out
            out.requires_grad_(True)
        return out
    arr = None
    if isinstance(obj, _np.ndarray):
        arr = obj
    elif hasattr(obj, "__array__") and not isinstance(obj, (list, tuple)):
        arr = _np.asarray(obj)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        arr = _np.frombuffer(obj, dtype=_np.uint8)
    if arr is not None:
        if want is not None and _np.dtype(want) != arr.dtype:
            if copy is False:
                raise ValueError(f"asarray(): converting a {arr.dtype} array to {want} needs a copy, but "
                                 "copy=False")
            arr = arr.astype(want)
        elif copy:
            arr = arr.copy()
        out = from_numpy(arr)
        from ._tensor_device import place
        moved = out._data if device is None else place(out._data, device)   # (an array stays on its device)
        if moved is not out._data:
            if copy is False:
                raise ValueError(f"asarray(): moving a host array to {device} needs a copy, but copy=False")
            out = Tensor._make(moved)
    else:
        if copy is False:
            raise ValueError(f"asarray(): a {type(obj).__name__} cannot be shared without a copy, but copy=False")
        out = tensor(obj, dtype=want, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


@_export
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing memory with a Python buffer (``bytes``, ``bytearray``, ``array.array``, ...)."""
    from .backend import dtypes as _dt
    from .creation import from_numpy
    dt = _dt.to_dtype(dtype)
    try:
        arr = _np.frombuffer(buffer, dtype=_np.dtype(dt), count=count, offset=offset)
    except (TypeError, ValueError) as e:
        raise ValueError(f"frombuffer(): cannot read {dt} elements (count={count}, offset={offset}) from a "
                         f"{type(buffer).__name__}: {e}") from None
    out = from_numpy(arr)
    if requires_grad:
        out.requires_grad_(True)
    return out


@_export
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor with the given strides (elements), over a buffer just large enough."""
    from .creation import empty
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"empty_strided(): mismatch in length of strides and shape: size {size}, "
                           f"stride {stride}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided(): sizes and strides must be non-negative, got {size}, {stride}")
    extent = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    buf = empty(extent, dtype=dtype, device=device)
    out = buf.as_strided(size, stride).detach()
    if requires_grad:
        out.requires_grad_(True)
    return out


@_export
def binomial(count, prob, generator=None):
    """Samples of Binomial(count, prob) elementwise, from ember's generator; dtype of ``count``."""
    _check_tensor("binomial", count, "count")
    _check_tensor("binomial", prob, "prob")
    # drawn on the host from ember's generator (the same numbers on every device), then moved to count's device
    from .backend import device as _dev
    c, p = _np.broadcast_arrays(_dev.to_device(count._data, "cpu"), _dev.to_device(prob._data, "cpu"))
    if _np.any((p < 0) | (p > 1)) or _np.any(c < 0):
        raise ValueError("binomial(): expected 0 <= prob <= 1 and count >= 0")
    from .backend.random import rng_of
    out = rng_of(generator).binomial(c.astype(_np.int64), p).astype(count._data.dtype)
    return Tensor._make(_dev.like(out, count._data))


_warn_always = [False]


@_export
def set_warn_always(b) -> None:
    _warn_always[0] = bool(b)


@_export
def is_warn_always_enabled() -> bool:
    return _warn_always[0]


@_export
def set_flush_denormal(mode) -> bool:
    """ember computes with NumPy, which never flushes subnormal numbers: turning flushing off succeeds
    (True), turning it on is not supported (False), the return convention of ``torch.set_flush_denormal``."""
    return not bool(mode)


_interop = [os.cpu_count() or 1]


@_export
def get_num_interop_threads() -> int:
    """ember runs ops one after another in the calling thread; the value set is kept for programs that read
    it back (PyTorch's default is the number of cores)."""
    return _interop[0]


@_export
def set_num_interop_threads(int) -> None:  # noqa: A002 - PyTorch's parameter name
    if int < 1:
        raise RuntimeError(f"set_num_interop_threads(): expected a positive number of threads, got {int}")
    _interop[0] = builtins.int(int)


@_export
def to_dlpack(tensor):
    from .dlpack import to_dlpack as _to
    return _to(tensor)


@_export
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.vmap`` by a loop: ``func`` runs once per slice of the mapped dimension and the results are
    stacked, the batch dimension moved to ``out_dims``.  Values and gradients are PyTorch's up to rounding: a
    tensor the function closes over or takes unbatched gets its per-sample gradients accumulated one by one,
    where PyTorch's batched kernels reduce them in one sum (the last bits can differ); slower (one call per
    sample); the result is laid out as a stack (PyTorch's follows its batched kernels' layout, so
    strides can differ); ``randomness`` is not checked (each slice draws its own random numbers, PyTorch's
    ``'different'``).  Arguments and results may be pytrees (``ember.func.vmap``, which this is)."""
    from .func import vmap as _vmap
    return _vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


# ------------------------------------------------------------------------------- aliases PyTorch keeps at the top

def _igamma(input, other, *, out=None):
    from . import special
    r = special.gammainc(input, other)
    return r if out is None else _write_out(out, r, "igamma")


def _igammac(input, other, *, out=None):
    from . import special
    r = special.gammaincc(input, other)
    return r if out is None else _write_out(out, r, "igammac")


igamma = _sig(_igamma, "(input, other, *, out=None)")
igamma.__name__ = "igamma"
igamma.__doc__ = "``torch.igamma``: ``torch.special.gammainc`` (the regularized lower incomplete gamma function)."
igammac = _sig(_igammac, "(input, other, *, out=None)")
igammac.__name__ = "igammac"
igammac.__doc__ = "``torch.igammac``: ``torch.special.gammaincc`` (the regularized upper incomplete gamma function)."
__all__ += ["igamma", "igammac"]


@_export
def orgqr(input, tau):
    """``torch.orgqr``: the Q of a QR factorisation from Householder reflectors (``linalg.householder_product``)."""
    from . import linalg
    return linalg.householder_product(input, tau)


@_export
def is_inference(input) -> bool:
    """ember has no inference tensors (``inference_mode`` is ``no_grad``): always False, as PyTorch answers for a
    tensor made outside ``inference_mode``."""
    _check_tensor("is_inference", input)
    return False


@_export
def is_anomaly_enabled() -> bool:
    """Whether ``autograd.detect_anomaly`` / ``set_detect_anomaly(True)`` is in effect (ember accepts them; it
    records no forward tracebacks)."""
    from .autograd import _anomaly
    return _anomaly[0]


@_export
def is_anomaly_check_nan_enabled() -> bool:
    from .autograd import _anomaly
    return _anomaly[1]


def _empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    from .creation import empty
    size = tuple(int(n) for n in size)
    order = tuple(int(d) for d in physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout {list(order)} is not a permutation of the "
                           f"{len(size)} dims of size {list(size)}")
    phys = empty(tuple(size[d] for d in order), dtype=dtype, device=device, requires_grad=False)
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    t = phys.permute(*inverse) if order else phys
    t = t.detach()
    return t.requires_grad_(True) if requires_grad else t


empty_permuted = _sig(_empty_permuted, "(size, physical_layout, *, dtype=None, layout=None, device=None, "
                                       "requires_grad=False, pin_memory=False)")
empty_permuted.__name__ = "empty_permuted"
empty_permuted.__doc__ = ("``torch.empty_permuted``: an uninitialised tensor of ``size`` whose memory holds its dims "
                          "in the order ``physical_layout`` (outermost first), as its strides show.")
__all__.append("empty_permuted")


_INDEX_REDUCE = ("prod", "mean", "amax", "amin")


def _index_reduce_args(op, input, dim, index, source, reduce):
    """Checked (index expanded to ``source``'s shape, dim): ``index_reduce`` is ``scatter_reduce`` with the
    vector ``index`` laid along ``dim`` (the same values and gradients)."""
    _check_tensor(op, input)
    if reduce not in _INDEX_REDUCE:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if index.dtype.kind not in "iu" or index.dtype.itemsize not in (4, 8):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: {index.dtype}")
    if index.dim() > 1:
        raise IndexError(f"index_reduce_(): Index is supposed to be a vector, but got dim: {index.dim()} with "
                         f"size: {list(index.shape)}")
    if input.dtype != source.dtype:
        raise RuntimeError(f"index_reduce_(): self ({input.dtype}) and source ({source.dtype}) must have the same "
                           f"scalar type")
    nd = max(input.dim(), 1)
    if not -nd <= dim < nd:
        raise IndexError(f"index_reduce(): dim {dim} is out of range for a tensor of {input.dim()} dims")
    dim %= nd
    n = index.numel()
    src_n = source.shape[dim] if source.dim() else 1
    if n != src_n:
        raise RuntimeError(f"index_reduce_(): Number of indices ({n}) should be equal to source.size(dim): "
                           f"({src_n}), for dim: {dim}")
    shape = [1] * source.dim()
    if shape:
        shape[dim] = n
    idx = index.reshape(shape).expand(*source.shape) if source.dim() else index.reshape(())
    return idx.to(dtype=_np.int64), dim


def _index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    idx, dim = _index_reduce_args("index_reduce", input, dim, index, source, reduce)
    r = input.scatter_reduce(dim, idx, source, reduce, include_self=include_self)
    return r if out is None else _write_out(out, r, "index_reduce")


index_reduce = _sig(_index_reduce, "(input, dim, index, source, reduce, *, include_self=True, out=None)")
index_reduce.__name__ = "index_reduce"
index_reduce.__doc__ = ("``torch.index_reduce``: rows ``index[i]`` of ``input`` along ``dim`` reduced with slice ``i`` "
                        "of ``source`` (``prod``, ``mean``, ``amax`` or ``amin``; ``include_self`` as "
                        "``scatter_reduce``, which computes it).")
__all__.append("index_reduce")


def _tensor_index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    idx, dim = _index_reduce_args("index_reduce_", self, dim, index, source, reduce)
    return self.scatter_reduce_(dim, idx, source, reduce, include_self=include_self)


def _tensor_index_reduce(self, dim, index, source, reduce, *, include_self=True):
    return _index_reduce(self, dim, index, source, reduce, include_self=include_self)


Tensor.index_reduce = _tensor_index_reduce
Tensor.index_reduce_ = _tensor_index_reduce_


class _Geqrf(__import__("ember.autograd.function", fromlist=["Function"]).Function):
    """geqrf as an op: values from ``linalg._geqrf`` (LAPACK through NumPy), a result laid out column-major per
    matrix as PyTorch's (LAPACK's layout), and PyTorch's error when a gradient is asked of it."""

    @staticmethod
    def forward(ctx, a):
        from . import linalg
        r = linalg._geqrf(Tensor._make(a))
        q = _np.swapaxes(_np.ascontiguousarray(_np.swapaxes(r.a._data, -1, -2)), -1, -2)
        return q, r.tau._data

    @staticmethod
    def backward(ctx, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def _geqrf(input, *, out=None):
    from . import linalg
    _check_tensor("geqrf", input)
    if input.dtype.kind != "f":
        raise __import__("ember.backend.dtypes", fromlist=["x"]).DtypeNotImplementedError(
            f"\"geqrf_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    if input.dim() < 2:
        raise RuntimeError(f"geqrf: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    a, tau = _Geqrf.apply(input)
    if out is not None:
        out[0].copy_(a)
        out[1].copy_(tau)
        return linalg._GeqrfResult(out[0], out[1])
    return linalg._GeqrfResult(a, tau)


def _torch_name(dt):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(dt.name, dt.name)


geqrf = _sig(_geqrf, "(input, *, out=None)")
geqrf.__name__ = "geqrf"
geqrf.__doc__ = ("``torch.geqrf``: LAPACK's compact QR (R on and above the diagonal, Householder reflectors below, "
                 "their scales ``tau``), as a named tuple ``(a, tau)``; not differentiable, as PyTorch's.")
__all__.append("geqrf")


_TriangularSolveResult = __import__("ember.return_types").return_types.triangular_solve


_TRIANGULAR_SOLVE_WARNED = []


def _column_major(t):
    """``t`` with each matrix laid out column by column (LAPACK's layout, which PyTorch's results keep)."""
    return t.mT.contiguous().mT if t.dim() >= 2 else t.clone()


def _triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    import warnings
    from . import linalg
    _check_tensor("triangular_solve", b)
    _check_tensor("triangular_solve", A, "A")
    if b.dim() < 2 or A.dim() < 2:
        raise RuntimeError(f"triangular_solve: b and A must have at least 2 dimensions, got shapes "
                           f"{tuple(b.shape)} and {tuple(A.shape)}")
    if not _TRIANGULAR_SOLVE_WARNED:     # PyTorch warns once per process
        _TRIANGULAR_SOLVE_WARNED.append(True)
        warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular"
                      "and will be removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its "
                      "arguments reversed and does not return a copy of one of the inputs.\nX = "
                      "torch.triangular_solve(B, A).solution\nshould be replaced with\nX = "
                      "torch.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    coef = A.mT if transpose else A
    x = linalg.solve_triangular(coef, b, upper=bool(upper) != bool(transpose), unitriangular=unitriangular)
    sol, clone = _column_major(x), _column_major(A)
    if out is not None:
        out[0].copy_(sol)
        out[1].copy_(clone)
        return _TriangularSolveResult(out[0], out[1])
    return _TriangularSolveResult(sol, clone)


triangular_solve = _sig(_triangular_solve, "(b, A, upper=True, transpose=False, unitriangular=False, *, out=None)")
triangular_solve.__name__ = "triangular_solve"
triangular_solve.__doc__ = ("``torch.triangular_solve`` (deprecated in PyTorch in favour of "
                            "``linalg.solve_triangular``): the solution X of A X = b (A^T X = b with ``transpose``) "
                            "and a copy of A, as a named tuple; differentiable in both.")
__all__.append("triangular_solve")


def _tensor_triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
    return _triangular_solve(self, A, upper, transpose, unitriangular)


Tensor.triangular_solve = _tensor_triangular_solve


def _ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    from . import linalg
    from .ops import cat, matmul
    from .creation import zeros
    for name, t in (("input", input), ("tau", tau), ("other", other)):
        _check_tensor("ormqr", t, name)
    if input.dim() < 2 or other.dim() < 2:
        raise RuntimeError(f"ormqr: input and other must have at least 2 dimensions, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    m, k = input.shape[-2], input.shape[-1]
    need = other.shape[-2] if left else other.shape[-1]
    if need != m:
        raise RuntimeError(f"ormqr: other of shape {tuple(other.shape)} does not fit Q of size {m}x{m} "
                           f"(left={left})")
    a = input
    if k < m:       # the full m x m Q from the same reflectors: zero columns beyond them
        a = cat([input, zeros(*input.shape[:-1], m - k, dtype=input.dtype)], -1)
    elif k > m:
        a = input[..., :m]
    Q = linalg.householder_product(a, tau)
    if transpose:
        Q = Q.mT
    r = _column_major(matmul(Q, other) if left else matmul(other, Q))
    return r if out is None else _write_out(out, r, "ormqr")


ormqr = _sig(_ormqr, "(input, tau, other, left=True, transpose=False, *, out=None)")
ormqr.__name__ = "ormqr"
ormqr.__doc__ = ("``torch.ormqr``: ``other`` multiplied by the Q of ``geqrf``'s reflectors (``Q @ other``; "
                 "``left=False``: ``other @ Q``; ``transpose``: Q^T), differentiable through "
                 "``linalg.householder_product``.")
__all__.append("ormqr")


@_export
def svd_lowrank(A, q=6, niter=2, M=None):
    """``torch.svd_lowrank`` (see ``ember/_lowrank.py``)."""
    from ._lowrank import svd_lowrank as f
    return f(A, q, niter, M)


@_export
def pca_lowrank(A, q=None, center=True, niter=2):
    """``torch.pca_lowrank`` (see ``ember/_lowrank.py``)."""
    from ._lowrank import pca_lowrank as f
    return f(A, q, center, niter)


_HistogramDD = __import__("ember.return_types").return_types.histogramdd


def _histogramdd(input, bins, range=None, weight=None, density=False):
    from .ops import _algorithms_sets as _A
    _check_tensor("histogramdd", input)
    a = _np.asarray(input._data)
    if a.dtype.kind != "f":
        raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, got "
                           f"{a.dtype}")
    if a.ndim < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension")
    d = a.shape[-1]
    pts = a.reshape(-1, d)
    if isinstance(bins, int):
        bins = [bins] * d
    bins = list(bins)
    if len(bins) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each of the {d} dimensions "
                           f"of the input, but got {len(bins)}")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range should have {2 * d} elements, "
                           f"but got {len(range)}")
    edges = []
    for i, b in enumerate(bins):
        if isinstance(b, Tensor):
            edges.append(_np.asarray(b._data).astype(a.dtype))
            continue
        if range is None:
            lo, hi = (float(pts[:, i].min()), float(pts[:, i].max())) if pts.shape[0] else (0.0, 1.0)
        else:
            lo, hi = float(range[2 * i]), float(range[2 * i + 1])
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension {i}'s range [{lo}, {hi}] is not finite")
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, got min {lo} max {hi} in dimension {i}")
        if lo == hi:                 # PyTorch widens a single-value range by 0.5 each way
            lo, hi = lo - 0.5, hi + 0.5
        edges.append(_linspace_edges(lo, hi, int(b), a.dtype))
    w = None
    if weight is not None:
        _check_tensor("histogramdd", weight, "weight")
        w = _np.asarray(weight._data).reshape(-1)
    hist, _ = _np.histogramdd(pts, bins=[e.astype(_np.float64) for e in edges], weights=w, density=density)
    src = input if input.requires_grad or weight is None else weight
    h = _A._nograd_values(src, hist.astype(a.dtype), "histogramdd")
    es = tuple(_A._nograd_values(src, e, "histogramdd") for e in edges)
    return _HistogramDD(h, es)


def _linspace_edges(lo, hi, bins, dtype):
    """Equal bin edges as PyTorch makes them: its ``linspace`` in the input's dtype (``ember.linspace`` has its
    rounding)."""
    from .creation import linspace
    return _np.asarray(linspace(lo, hi, bins + 1, dtype=dtype)._data)


histogramdd = _sig(_histogramdd, "(input, bins, range=None, weight=None, density=False)")
histogramdd.__name__ = "histogramdd"
histogramdd.__doc__ = ("``torch.histogramdd``: the D-dimensional histogram of the points ``input[..., :D]`` "
                       "(``hist``, ``bin_edges``), with ``bins`` equal bins per dimension over ``range`` or given edges, "
                       "optional ``weight`` and ``density``, as ``torch.histogram`` does per dimension.")
__all__.append("histogramdd")
