"""The device side of indexing: index arrays moved to the data's device, PyTorch's bounds checks (CuPy wraps
out-of-range integer-array indices around instead of raising), and scatter-adds (``ufunc.at``) CuPy can do.

Every helper returns at once for a NumPy array (one type check), so the CPU path is unchanged.
"""
from __future__ import annotations

import numpy as _np

from ..backend import device as _dev

_nd = _np.ndarray

# CuPy's ``add.at`` (``cupyx.scatter_add``) runs on CUDA's atomicAdd: these dtypes only; int64 adds as uint64
# (two's complement: the same bits), the others go through the host
_ATOMIC_ADD = frozenset(_np.dtype(t) for t in (_np.int32, _np.uint32, _np.uint64, _np.float16, _np.float32,
                                               _np.float64))
_ATOMIC_MINMAX = frozenset(_np.dtype(t) for t in (_np.int32, _np.uint32, _np.uint64, _np.float32,
                                                  _np.float64))


def on_device(a) -> bool:
    return type(a) is not _nd and _dev.is_device_array(a)


def _move_item(i, ref):
    return _dev.like(i, ref) if type(i) is _nd else i


def index_to(idx, ref):
    """A converted index (a tuple or one item) with its host index arrays on ``ref``'s device (itself for a
    host ``ref``)."""
    if type(ref) is _nd or not _dev.is_device_array(ref):
        return idx
    if type(idx) is tuple:
        return tuple(_move_item(i, ref) for i in idx)
    return _move_item(idx, ref)


def _host_item(i):
    return _dev.to_device(i, "cpu") if on_device(i) else i


def index_to_host(idx):
    """A converted index with its device arrays copied to the host (error paths, host fallbacks)."""
    if type(idx) is tuple:
        return tuple(_host_item(i) for i in idx)
    return _host_item(idx)


def host(a):
    """``a`` on the host (itself when it is there)."""
    return _dev.to_device(a, "cpu") if on_device(a) else a


def check_bounds(shape, idx) -> None:
    """NumPy's IndexError for an integer-array index out of range of its dim (CuPy wraps such indices around
    without a word; PyTorch raises).  Device data only: NumPy checks host indexing itself."""
    items = idx if type(idx) is tuple else (idx,)
    is_mask = lambda i: getattr(i, "dtype", None) == _np.bool_      # noqa: E731 - a 0-d mask consumes no dim
    used = sum(0 if i is None or i is Ellipsis or type(i) is bool else i.ndim if is_mask(i) else 1
               for i in items)
    d = 0
    for i in items:
        if i is Ellipsis:
            d += len(shape) - used
        elif i is None or type(i) is bool:
            continue
        elif is_mask(i):
            d += i.ndim
        else:
            if hasattr(i, "dtype") and i.ndim >= 0 and i.size and d < len(shape):
                n = shape[d]
                if bool(((i < -n) | (i >= n)).any()):         # (one device sync; the values only on error)
                    lo, hi = int(i.min()), int(i.max())
                    bad = lo if lo < -n else hi
                    raise IndexError(f"index {bad} is out of bounds for axis {d} with size {n}")
            elif type(i) is int and d < len(shape) and not -shape[d] <= i < shape[d]:
                raise IndexError(f"index {i} is out of bounds for axis {d} with size {shape[d]}")
            d += 1


def ufunc_at(ufunc, out, idx, v) -> None:
    """``ufunc.at(out, idx, v)`` for an array of either module: CuPy's own ``at`` where it has one for the
    dtype, else on the host (a host fallback: copied there and back)."""
    if type(out) is _nd or not _dev.is_device_array(out):
        ufunc.at(out, idx, v)
        return
    xp = _dev.array_module(out)
    dt = out.dtype
    if ufunc is _np.add and dt == _np.int64:
        u = out.view(_np.uint64)
        _at(xp, "add")(u, index_to(idx, out), _as_device(v, out, _np.int64).view(_np.uint64))
        return
    if (ufunc is _np.add and dt in _ATOMIC_ADD) or (
            ufunc in (_np.maximum, _np.minimum) and dt in _ATOMIC_MINMAX):
        _at(xp, ufunc.__name__)(out, index_to(idx, out), _as_device(v, out, dt))
        return
    # host fallback: CuPy has no ``at`` for this ufunc or dtype
    h = _dev.to_device(out, "cpu").copy()
    ufunc.at(h, index_to_host(idx), host(v))
    out[...] = _dev.like(h, out)


def _at(xp, name):
    """CuPy's ``<ufunc>.at`` (CuPy 13 on), else the ``cupyx.scatter_*`` functions older CuPy has."""
    f = getattr(getattr(xp, name), "at", None)
    if f is not None:
        return f
    import cupyx
    return {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max, "minimum": cupyx.scatter_min}[name]


def _as_device(v, ref, dtype):
    """``v`` (a device array, a host array or a scalar) as a device array of ``dtype``."""
    if on_device(v):
        return v.astype(dtype, copy=False)
    return _dev.like(_np.asarray(v, dtype), ref)
