"""The pieces of ``ember/tensor.py`` that are not the Tensor class: ``Size``, ``device``, dimension wrapping and
the conversion of Python and NumPy data to arrays with PyTorch's dtype and range rules (``_to_array``).
``ember.tensor`` re-exports them; ``Tensor`` below is bound by ``ember/tensor.py`` once the class exists."""
from __future__ import annotations

from typing import NamedTuple

import numpy as _np

from .backend import dtypes as _dt


Tensor = None     # ember.tensor.Tensor, bound by ember/tensor.py after the class is defined


class Size(tuple):
    """A tensor's shape: a tuple that also answers ``numel()``, like ``torch.Size``."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    # "torch" while ember.compat's import hook is installed, so a script printing shapes prints torch.Size
    _prefix = "ember"

    def __repr__(self) -> str:
        return f"{Size._prefix}.Size([{', '.join(str(s) for s in self)}])"

    def __getitem__(self, k):
        r = tuple.__getitem__(self, k)
        return Size(r) if isinstance(k, slice) else r


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """A device descriptor, as ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)``,
    ``device("cuda:1")`` or ``device(1)``.  ember computes on "cpu" (NumPy) and "cuda" (CuPy, where installed
    and a GPU is present); other PyTorch device types can be named, and putting a tensor there fails with one
    line naming it.  ``with device("cuda"):`` makes it the default device of creation functions."""

    def __init__(self, kind="cpu", index=None):
        if isinstance(kind, device):
            kind, index = kind.type, kind.index if index is None else index
        elif isinstance(kind, int) and not isinstance(kind, bool):
            kind, index = "cuda", kind
        kind = str(kind)
        if ":" in kind:
            if index is not None:
                raise RuntimeError(f"device(): type (string) must not include an index because index was "
                                   f"passed explicitly: {kind}")
            kind, _, idx = kind.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{kind}:{idx}'")
            index = int(idx)
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device "
                               f"string: {kind}")
        if index is not None and int(index) < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = kind
        self.index = None if index is None else int(index)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, device):
            return self.type == other.type and self.index == other.index
        return False        # PyTorch: a device never equals a string or an int

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self):        # ``with torch.device("cuda"):`` makes it the default device
        from . import _tensor_device
        self.__dict__.setdefault("_outer", []).append(_tensor_device._default[0])
        _tensor_device.set_default_device(self)
        return self

    def __exit__(self, *exc):
        from . import _tensor_device
        _tensor_device._default[0] = self.__dict__["_outer"].pop()
        return False


def _parse_device(d) -> device:
    """``d`` (a device, "cuda:1", 1, ...) as a ``device`` ember can compute on: "cpu" or "cuda"."""
    dv = d if isinstance(d, device) else device(d)
    if dv.type not in ("cpu", "cuda"):
        raise RuntimeError(f"device '{dv}' is not supported by ember: tensors live on 'cpu' or 'cuda'")
    return dv


def _check_device(d) -> device:
    """``d`` parsed, and refused with one line when it is a device this machine does not have."""
    dv = _parse_device(d)
    if dv.type == "cuda":
        from .backend import device as _dev
        _dev.module_for("cuda")
    return dv


class max_return(NamedTuple):
    values: Tensor
    indices: Tensor


def _wrap_dim(dim: int, ndim: int, op: str = "op") -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got "
                         f"{dim})")
    return dim % n


def _to_array(data, dtype, copy: bool = False):
    """Convert Python data / arrays / tensors to a backend array, inferring dtypes as PyTorch does: Python
    floats -> the default float dtype, Python ints -> int64, NumPy arrays keep their dtype."""
    if isinstance(data, Tensor):
        arr = data._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr
    if isinstance(data, (_np.ndarray, _np.generic)):
        arr = _np.asarray(data)
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"can't convert a NumPy array of dtype {arr.dtype} to a Tensor; supported: bool, "
                            f"integers and floats")
        return arr.copy() if copy else arr
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat_first(data)):
        data = _tensors_to_lists(data)
    try:
        arr = _np.asarray(data)
    except ValueError as e:
        raise ValueError(f"tensor(): the data is ragged or not numeric ({e}); expected a (nested) sequence of "
                         f"numbers of equal lengths") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"tensor(): could not infer a numeric dtype from data of type {type(data).__name__}")
    if dtype is None and not _numpy_scalar_leaf(data):   # NumPy scalars in a list keep their dtype (torch)
        if arr.dtype.kind == "f":
            dtype = _dt.get_default_dtype()
        elif arr.dtype.kind in "iu":
            dtype = _dt.int64
    if dtype is not None and arr.dtype != dtype:
        if _np.dtype(dtype).kind in "iu" and arr.dtype.kind in "iuf" and arr.size:
            _check_int_literal(arr, _np.dtype(dtype), data)
        with _np.errstate(over="ignore"):       # 1e300 -> inf in float32, silently, as torch
            arr = arr.astype(dtype)
    elif copy and arr is data:
        arr = arr.copy()
    return arr


def _check_int_literal(arr, dtype, data=None):
    """PyTorch's range check of Python numbers given to ``tensor(..., dtype=<integer>)``: floats must lie in
    the dtype's range (NaN, inf, -0.5 for uint8 raise; truncation follows), ints too, except that a negative int
    down to -max wraps into an unsigned dtype (``tensor(-1, dtype=uint8)`` is 255)."""
    info = _np.iinfo(dtype)
    lo, hi = info.min, info.max
    if arr.dtype.kind == "f":
        with _np.errstate(invalid="ignore"):
            bad = ~((arr >= lo) & (arr <= hi))
    else:
        bad = (arr > hi) | (arr < (-hi if lo == 0 else lo))
    if bad.any():
        v = arr[bad].flat[0].item()
        if arr.dtype.kind == "f" and isinstance(data, (list, tuple)):
            v = _bad_literal_leaf(data, lo, hi)     # ints among floats keep their own rule ([2.0, -2] into uint8)
            if v is None:
                return
        raise RuntimeError(f"tensor(): value {v!r} cannot be converted to type {dtype} without overflow")


def _bad_literal_leaf(data, lo, hi):
    """The first Python number in nested ``data`` that does not fit ``[lo, hi]`` by PyTorch's per-value rule."""
    for d in data:
        if isinstance(d, (list, tuple)):
            v = _bad_literal_leaf(d, lo, hi)
            if v is not None:
                return v
        elif isinstance(d, (bool, _np.bool_)):
            continue
        elif isinstance(d, (int, _np.integer)):
            if d > hi or d < (-hi if lo == 0 else lo):
                return d
        elif not (lo <= float(d) <= hi):
            return d
    return None


def _numpy_scalar_leaf(data) -> bool:
    leaf = data
    for leaf in _flat_first(data):
        pass
    return isinstance(leaf, _np.generic)


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        yield data[0]
        data = data[0]


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(d) for d in data]
    return data


def legacy_new(self, args, device):
    """``Tensor.new(*args, device=None)``, PyTorch's legacy constructor: no arguments -> an empty (0,) tensor;
    sizes (ints, or one ``Size``) -> an uninitialized tensor of that shape (ember's are zero-filled); one tensor of
    this dtype -> that tensor's data, shared; other data (a list, tuple, array) -> a new tensor of this dtype.
    The dtype is always this tensor's (PyTorch's ``new`` takes no ``dtype``)."""
    from .tensor import Tensor
    from .creation import tensor, zeros
    dev = self.device if device is None else device
    if not args:
        return zeros((0,), dtype=self.dtype, device=dev)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return zeros(tuple(args), dtype=self.dtype, device=dev)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Size):
            return zeros(tuple(a), dtype=self.dtype, device=dev)
        if isinstance(a, Tensor):
            if a.dtype != self.dtype:
                raise TypeError(f"new(): expected a tensor of this tensor's dtype ({self.dtype}), got one of "
                                f"{a.dtype}; convert it with .to({self.dtype}) first")
            return a.detach()
        if isinstance(a, (float, bool, complex, str)) or a is None:
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        return tensor(a, dtype=self.dtype, device=dev)
    raise TypeError(f"new(): expected sizes (ints), a torch.Size or one data sequence, got "
                    f"({', '.join(type(a).__name__ for a in args)})")
