"""``Tensor.untyped_storage()``: the memory a tensor lives in, as PyTorch's ``UntypedStorage`` (a byte
buffer shared by the tensor and all its views: equal ``data_ptr()``, ``nbytes()`` of the whole allocation).
"""
from __future__ import annotations

import numpy as _np


def _root(a):
    """The ndarray owning ``a``'s memory, following NumPy's ``base`` chain (and as_strided's wrapper)."""
    r = a
    while True:
        b = r.base
        if isinstance(b, _np.ndarray):
            r = b
            continue
        bb = getattr(b, "base", None)
        if isinstance(bb, _np.ndarray):
            r = bb
            continue
        return r


class UntypedStorage:
    """The bytes under a tensor (read-only introspection: pointer, size, contents)."""

    __slots__ = ("_array",)

    def __init__(self, array) -> None:
        self._array = array

    @classmethod
    def _of(cls, tensor) -> "UntypedStorage":
        return cls(_root(tensor._data))

    def data_ptr(self) -> int:
        return self._array.__array_interface__["data"][0]

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        return 1

    @property
    def device(self):
        from .tensor import device
        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    def is_shared(self) -> bool:
        return False

    def tolist(self) -> list:
        return _np.ascontiguousarray(self._array).view(_np.uint8).reshape(-1).tolist()

    def __repr__(self) -> str:
        vals = "\n".join(f" {v}" for v in self.tolist())
        return f"{vals}\n[torch.storage.UntypedStorage(device=cpu) of size {self.nbytes()}]"


def resize_(tensor, sizes, memory_format=None):
    """``x.resize_(*sizes)`` as PyTorch: ``x`` takes the new shape (contiguous) over the same memory, read
    in storage order from its storage offset; memory that has to be added is new (uninitialised in PyTorch,
    zeros here).  Tensors that require grad cannot be resized."""
    import math

    from .ops._shape_strided import _storage
    from .tensor import Tensor
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) if not isinstance(s, Tensor) else int(s.item()) for s in sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"resize_(): Trying to create tensor with negative dimension: {list(sizes)}")
    if memory_format is not None and str(memory_format).split(".")[-1] not in ("contiguous_format",
                                                                               "preserve_format"):
        raise NotImplementedError(f"resize_(): memory_format={memory_format} is not supported by ember "
                                  "(contiguous only)")
    if tensor.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    old = tensor._data
    if tuple(old.shape) == sizes and old.flags.c_contiguous:
        return tensor
    n = math.prod(sizes)
    flat, off = _storage(old)
    avail = flat.size - off
    if n <= avail:
        new = flat[off:off + n].reshape(sizes)          # same memory: views of it see the change
    else:
        new = _np.zeros(n, dtype=old.dtype)
        new[:avail] = flat[off:]
        new = new.reshape(sizes)
    tensor._data = new
    tensor._version[0] += 1
    return tensor
