"""Devices: which array module holds a tensor's data, and moving arrays between them.

A tensor's device is the device of its array: a NumPy ``ndarray`` is on "cpu", a CuPy ``ndarray`` on
"cuda:N" (``a.device.id``).  Ops never ask for a device: NumPy calls on CuPy arrays dispatch to CuPy through
NumPy's array protocols (``__array_ufunc__``, ``__array_function__``), and the places that make new arrays ask
this module for the array module of their inputs (``array_module``) or of a device (``module_for``).

The CUDA module is CuPy, imported on first use (never by ``import ember``), or a stand-in registered with
``register_cuda_module`` (the test suite's NumPy-backed fake that lets a CPU machine run every op through the
device path).  ``active`` is False until a CUDA module is loaded; ``Function.apply`` checks that an op's tensors
share one device only then, so CPU-only programs pay one global lookup per op.
"""
from __future__ import annotations

import numpy as np

_ndarray = np.ndarray

#: the CUDA array module once loaded (CuPy or a registered stand-in); None before
cuda = None
_tried = False
#: True once a CUDA module is loaded: arrays of two devices may meet in an op
active = False


class DeviceError(RuntimeError):
    """An op given tensors on different devices, or a device that is not available."""


def cuda_module(required: bool = True):
    """The CUDA array module (CuPy), imported on first use; None (or an error naming the reason when
    ``required``) where there is no CUDA device."""
    global cuda, _tried, active
    if cuda is None and not _tried:
        _tried = True
        reason = None
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() > 0:
                cuda = cupy
                active = True
            else:
                reason = "CuPy found no CUDA device"
        except ImportError:
            reason = "CuPy is not installed (pip install 'ember[cuda]' installs cupy-cuda12x)"
        except Exception as e:  # noqa: BLE001 - CuPy without a driver raises its own runtime errors
            reason = f"CuPy could not reach a CUDA device ({type(e).__name__}: {e})"
        cuda_module.reason = reason
    if cuda is None and required:
        raise DeviceError(f"CUDA is not available: {getattr(cuda_module, 'reason', None) or 'no CUDA module'}; "
                          f"ember.cuda.is_available() is False, use device='cpu'")
    return cuda


cuda_module.reason = None


def register_cuda_module(module) -> None:
    """Use ``module`` as the CUDA array module (a CuPy-compatible namespace; None restores the lazy CuPy
    lookup).  For tests: a NumPy-backed stand-in runs the device path on a machine without a GPU."""
    global cuda, _tried, active
    cuda = module
    _tried = module is not None
    active = module is not None
    cuda_module.reason = None


def is_device_array(a) -> bool:
    """True for an array of the CUDA module."""
    return cuda is not None and type(a) is not _ndarray and isinstance(a, cuda.ndarray)


def array_module(a):
    """The array module of ``a`` (NumPy for NumPy arrays, scalars and Python data)."""
    if type(a) is _ndarray or cuda is None or not isinstance(a, cuda.ndarray):
        return np
    return cuda


def arrays_module(*arrays):
    """The array module of the first device array among ``arrays`` (NumPy if none)."""
    if cuda is not None:
        for a in arrays:
            if type(a) is not _ndarray and isinstance(a, cuda.ndarray):
                return cuda
    return np


def device_of(a) -> tuple:
    """``("cpu", None)`` or ``("cuda", index)`` for an array."""
    if type(a) is _ndarray or cuda is None or not isinstance(a, cuda.ndarray):
        return ("cpu", None)
    return ("cuda", int(a.device.id))


def module_for(kind: str):
    """The array module of a device type ("cpu" or "cuda")."""
    if kind == "cpu":
        return np
    if kind == "cuda":
        return cuda_module()
    raise DeviceError(f"device type '{kind}' is not supported by ember: expected 'cpu' or 'cuda'")


def as_array(x, dtype=None):
    """``x`` as an array of its own module: device arrays pass (cast to ``dtype`` if given), anything else
    goes through ``np.asarray`` (a NumPy scalar, which NumPy returns for some 0-d results, becomes a 0-d
    array).  The device-safe spelling of ``np.asarray`` for an op's intermediate results."""
    if cuda is not None and isinstance(x, cuda.ndarray):
        return x if dtype is None else x.astype(dtype, copy=False)
    return np.asarray(x, dtype)


def _order(a) -> list:
    """a's dimensions from the largest stride to the smallest (PyTorch's preserve_format order)."""
    return sorted(range(a.ndim), key=lambda d: (-abs(a.strides[d]), d))


def _move(a, put, compact):
    """``put`` (a transfer) applied to ``a`` with its dimension order kept: a dense array keeps its strides,
    any other is compacted in its own order, as PyTorch's ``Tensor.to`` (``preserve_format``)."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return put(a)
    order = _order(a)
    inv = [0] * a.ndim
    for i, d in enumerate(order):
        inv[d] = i
    return put(compact(a.transpose(order))).transpose(inv)


def as_strided(a, shape, strides, writeable=True):
    """``np.lib.stride_tricks.as_strided`` for an array of either module (strides in bytes); CuPy's views are
    always writable, so ``writeable`` only matters on the CPU."""
    if type(a) is _ndarray and a.size and a.flags.c_contiguous:
        # the view straight over a's memory (a third of as_strided's cost, which goes through
        # __array_interface__); NumPy checks that it stays inside a's buffer
        try:
            v = _ndarray(shape, a.dtype, buffer=a, offset=0, strides=strides)
        except (ValueError, TypeError):     # reaches outside a (negative strides...): as_strided allows it
            return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=writeable)
        if not writeable:
            v.flags.writeable = False
        return v
    if type(a) is _ndarray or cuda is None or not isinstance(a, cuda.ndarray):
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=writeable)
    return cuda.lib.stride_tricks.as_strided(a, shape, strides)


def like(host, ref):
    """``host`` (an array or scalar an op made with NumPy: a constant, an index table) on ``ref``'s device."""
    if type(ref) is _ndarray or cuda is None or not isinstance(ref, cuda.ndarray):
        return host
    with cuda.cuda.Device(ref.device.id):
        return cuda.asarray(host)


def to_device(a, kind: str, index=None):
    """``a`` on device ``kind:index`` (the same array when it is already there), laid out as PyTorch's
    ``Tensor.to(device)`` lays out the copy."""
    if kind == "cpu":
        if type(a) is _ndarray or not is_device_array(a):
            return a
        return _move(a, cuda.asnumpy, cuda.ascontiguousarray)
    mod = module_for(kind)
    index = 0 if index is None else int(index)
    n = mod.cuda.runtime.getDeviceCount()
    if index >= n:
        raise DeviceError(f"CUDA error: invalid device ordinal: cuda:{index} requested, {n} CUDA device(s) "
                          f"visible")
    if isinstance(a, mod.ndarray):
        if int(a.device.id) == index:
            return a
        with mod.cuda.Device(index):
            return a.copy()
    with mod.cuda.Device(index):
        return _move(np.asarray(a), mod.asarray, np.ascontiguousarray)


def synchronize(index=None) -> None:
    """Wait for the work queued on a CUDA device (nothing to wait for without one)."""
    if cuda is None:
        return
    with cuda.cuda.Device(0 if index is None else int(index)):
        cuda.cuda.get_current_stream().synchronize()
