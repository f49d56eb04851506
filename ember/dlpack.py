"""DLPack: zero-copy exchange of arrays with NumPy, PyTorch, JAX, CuPy and any library speaking the protocol.

``ember.from_dlpack(obj)`` wraps the memory of any object with ``__dlpack__`` (a torch tensor, a NumPy array) as
an ember Tensor without copying, and ember Tensors expose ``__dlpack__`` / ``__dlpack_device__``, so
``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` see ember's memory: a write on one side shows on the other, as
with PyTorch's own DLPack tensors.  ``to_dlpack``/``from_dlpack`` in ``ember.utils.dlpack`` keep PyTorch's paths.
"""
from __future__ import annotations

from .backend import np
from .tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


def from_dlpack(ext_tensor, *, device=None, copy=None) -> Tensor:
    """A Tensor sharing the memory of ``ext_tensor`` (anything with ``__dlpack__``, or a legacy capsule);
    a CUDA producer (a torch CUDA tensor, a CuPy array) gives a CUDA tensor through CuPy; ``device`` must be
    where the memory is; ``copy=True`` returns a copy."""
    if device is not None:
        from .tensor import _check_device
        _check_device(device)
    if copy:
        r = from_dlpack(ext_tensor)
        return Tensor._make(r._data.copy())
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if not hasattr(ext_tensor, "__dlpack__"):
        if type(ext_tensor).__name__ == "PyCapsule":
            raise TypeError("from_dlpack: a bare DLPack capsule cannot be imported by NumPy; pass the producer "
                            "object itself (anything with __dlpack__)")
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ (a tensor or array), got "
                        f"{type(ext_tensor).__name__}")
    kind = _device_type(ext_tensor)
    if kind == _KDL_CUDA:               # a GPU tensor (torch CUDA, CuPy, JAX): shared on the GPU through CuPy
        from .backend import device as _dev
        return Tensor._make(_dev.module_for("cuda").from_dlpack(ext_tensor))
    try:
        arr = np.from_dlpack(ext_tensor)
    except (BufferError, RuntimeError, TypeError) as e:
        raise RuntimeError(f"from_dlpack: cannot import {type(ext_tensor).__name__} ({e}); ember tensors live "
                           f"on the CPU or a CUDA device") from None
    return Tensor._make(arr)


_KDL_CPU, _KDL_CUDA = 1, 2


def _device_type(obj) -> int:
    try:
        return int(obj.__dlpack_device__()[0])
    except Exception:  # noqa: BLE001 - producers without __dlpack_device__ are CPU ones
        return _KDL_CPU


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s memory (PyTorch's ``torch.utils.dlpack.to_dlpack``)."""
    return tensor._data.__dlpack__()


def _tensor_dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    if self.requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    kw = {}
    if max_version is not None:
        kw["max_version"] = max_version
    if copy is not None:
        kw["copy"] = copy
    if stream is not None:
        kw["stream"] = stream
    return self._data.__dlpack__(**kw)


def _tensor_dlpack_device(self):
    """(kDLCPU, 0) for a CPU tensor, (kDLCUDA, index) for a CUDA one."""
    d = self.device
    return (_KDL_CPU, 0) if d.type == "cpu" else (_KDL_CUDA, d.index or 0)


Tensor.__dlpack__ = _tensor_dlpack
Tensor.__dlpack_device__ = _tensor_dlpack_device
