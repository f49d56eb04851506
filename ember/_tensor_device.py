"""Devices on the Tensor: ``device``, ``is_cuda``, ``to(device)``, ``cpu()``, ``cuda()``, and the default device.

A tensor's device is its array's (``ember.backend.device``): a NumPy array is on "cpu", a CuPy array on
"cuda:N".  A copy to another device is an op like any other (``_ToDevice``): gradients flow back to the source
device.  ``set_default_device`` (and ``with ember.device("cuda"):``) choose where creation functions put new
tensors, as in PyTorch.
"""
from __future__ import annotations

import numpy as _np

from .backend import device as _dev
from ._tensor_support import device, _parse_device, _check_device

_ndarray = _np.ndarray
_CPU = device("cpu")

# the default device of creation functions: None = cpu (PyTorch's set_default_device / ``with device(...)``)
_default = [None]


def set_default_device(device) -> None:
    """Make creation functions (``zeros``, ``tensor``, ``randn``, ...) put new tensors on ``dev`` when no
    ``device=`` is given (``None`` or "cpu" restores the CPU), like ``torch.set_default_device``."""
    if device is None:
        _default[0] = None
        return
    d = _check_device(device)       # refused at once where the device does not exist
    _default[0] = None if d.type == "cpu" else d


def get_default_device() -> device:
    """The device creation functions use when no ``device=`` is given (``torch.get_default_device``)."""
    d = _default[0]
    return _CPU if d is None else device(d.type, d.index if d.index is not None else 0)


def target(dev):
    """The device a creation call with ``device=dev`` makes its tensor on: the argument, else the default;
    None means the CPU (the fast, common case)."""
    if dev is None:
        return _default[0]
    d = _parse_device(dev)
    return None if d.type == "cpu" else d


def place(arr, dev):
    """A freshly made host array moved to the creation target ``dev`` (see ``target``); the array itself
    when that is the CPU."""
    d = target(dev)
    if d is None:
        return arr
    return _dev.to_device(arr, d.type, d.index)


def to_args(args, dtype=None, dev=None):
    """``(dtype, device)`` from ``to()``'s positional arguments (``Tensor.to`` and ``Module.to``): a tensor gives
    both, a string, ``device`` or int a device, anything else but None/bool a dtype."""
    from . import _tensor_support
    for a in args:
        if isinstance(a, _tensor_support.Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
        elif not (isinstance(a, bool) or a is None):
            dtype = a
    return dtype, dev


def device_of_array(a) -> device:
    if type(a) is _ndarray:
        return _CPU
    kind, index = _dev.device_of(a)
    return _CPU if kind == "cpu" else device(kind, index)


def _to_device_fn():
    from .autograd.function import Function

    class _ToDevice(Function):
        """A copy to another device; its gradient is copied back to the source device."""

        @staticmethod
        def forward(ctx, a, kind, index):
            ctx.src = _dev.device_of(a)
            return _dev.to_device(a, kind, index)

        @staticmethod
        def backward(ctx, g):
            kind, index = ctx.src
            return _ToDevice.apply(g, kind, index), None, None

    _ToDevice._raw_forward = True
    return _ToDevice


_TO_DEVICE = []


def move(t, dev: device, copy: bool = False):
    """``t`` on ``dev``: ``t`` itself when already there (unless ``copy``), else a differentiable copy."""
    here = device_of_array(t._data)
    if dev.type == here.type and (dev.index is None or dev.index == (here.index or 0)):
        return t.clone() if copy else t
    if not _TO_DEVICE:
        _TO_DEVICE.append(_to_device_fn())
    if dev.type != "cpu":
        _dev.module_for(dev.type)          # the clear "CUDA is not available" error before anything else
    return _TO_DEVICE[0].apply(t, dev.type, dev.index)


def host_fallback(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` computed on the CPU for an op whose kernel is NumPy-only (index arithmetic, a
    Python loop): every Tensor argument is moved to the CPU and the Tensor result back to the device of the
    first CUDA argument, all through differentiable copies, so gradients reach the device tensors."""
    dev = next(a.device for a in args if isinstance(a, _Tensor()) and a.is_cuda)
    host = [a.cpu() if isinstance(a, _Tensor()) else a for a in args]
    return fn(*host, **kwargs).to(dev)


def _Tensor():
    from .tensor import Tensor
    return Tensor


class _DeviceMethods:
    """The device half of ``Tensor``'s API."""

    __slots__ = ()

    @property
    def device(self) -> device:
        d = self._data
        if type(d) is _ndarray:
            return _CPU
        return device_of_array(d)

    @property
    def is_cuda(self) -> bool:
        return type(self._data) is not _ndarray and _dev.is_device_array(self._data)

    @property
    def is_cpu(self) -> bool:
        return not self.is_cuda

    def get_device(self) -> int:
        """The CUDA device index, or -1 for a CPU tensor (``torch.Tensor.get_device``)."""
        d = self.device
        return -1 if d.type == "cpu" else d.index

    def cpu(self, memory_format=None):
        """This tensor on the CPU (itself when it is there already)."""
        return move(self, _CPU)

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None):
        """This tensor on a CUDA device (``cuda:0`` by default; itself when it is there already)."""
        if device is None:
            from . import cuda as _cuda_ns
            dev = _parse_device(f"cuda:{_cuda_ns.current_device()}")
        elif isinstance(device, int) and not isinstance(device, bool):
            dev = _parse_device(f"cuda:{device}")
        else:
            dev = _parse_device(device)
            if dev.type != "cuda":
                raise RuntimeError(f"Tensor.cuda(): invalid device {device!r}: expected a CUDA device")
        return move(self, dev)
