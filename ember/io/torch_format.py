"""Reading PyTorch's ``.pt`` / ``.pth`` files (``torch.save``'s zip format) without running code from them.

A ``torch.save`` file is a zip archive: ``<name>/data.pkl`` is a pickle of the saved object in which every
tensor is a call to ``torch._utils._rebuild_tensor_v2`` on a *persistent id* naming a storage, whose raw bytes
are the member ``<name>/data/<key>``.  A pickle can name any importable callable, so an ordinary unpickler runs
whatever the file asks for.  This reader resolves globals from a fixed allow-list instead (the idea of
``torch.load(weights_only=True)``): tensor and parameter rebuilders, typed storages, ``OrderedDict`` and a few
plain builtins.  Anything else, such as ``os.system`` or ``builtins.eval``, is refused with the global's name
before it could be called; the storages come from the zip as bytes, read into NumPy arrays.

``bfloat16`` storages load as ``float32`` (exactly: a bfloat16 is the top half of a float32).  The legacy
(pre-1.6, non-zip) format, in which many published checkpoints are (torchvision's older weights), is read the
same way (``load_torch_legacy``): pickles of the magic number, protocol and system info, the object's pickle,
the sorted storage keys, then each storage as its element count (8 bytes) and raw bytes.  The object's pickle
is read twice with the same allow-list: once to learn each storage's type, once to build the tensors.

NumPy arrays, scalars and dtypes in a file (``torch.save(np_array, f)``, as PyTorch's time-sequence example
does) load with ``weights_only=False``, as in PyTorch 2.13, whose default ``weights_only=True`` refuses them.
Even then only their data is read: plain ``ndarray`` (no subclass), no object dtype, and ``_codecs.encode``
only for protocol 2's latin-1 bytes; nothing is imported or called beyond that fixed list.
"""
from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

from ..backend import np
from ..tensor import Tensor

__all__ = ["is_torch_zip", "load_torch_zip", "LEGACY_MAGIC", "load_torch_legacy"]

# typed storage name -> NumPy dtype (little-endian, as torch writes on every platform it supports)
_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "BFloat16Storage": "bf16",
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
# torch.<dtype> names (newer files name a dtype instead of a typed storage)
_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64,
           "float16": np.float16, "half": np.float16, "bfloat16": "bf16", "int64": np.int64, "long": np.int64,
           "int32": np.int32, "int": np.int32, "int16": np.int16, "short": np.int16, "int8": np.int8,
           "uint8": np.uint8, "bool": np.bool_}


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


class _Storage:
    """Raw bytes of one storage and the element type they hold."""

    def __init__(self, raw: bytes, dtype):
        self.dtype = dtype
        if dtype == "bf16":             # bfloat16 -> float32: the 16 bits are a float32's high half
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            self.array = bits.view(np.float32)
        else:
            self.array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor's storage is not a storage of this file")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    arr = storage.array
    need = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if storage_offset < 0 or any(s < 0 for s in stride) or need > arr.size:
        raise pickle.UnpicklingError(f"tensor of size {size} and stride {stride} at offset {storage_offset} does "
                                     f"not fit its storage of {arr.size} elements")
    item = arr.itemsize
    view = np.lib.stride_tricks.as_strided(arr[storage_offset:], shape=size, strides=[s * item for s in stride])
    t = Tensor._make(np.array(view, dtype=arr.dtype.newbyteorder("=")))
    if requires_grad and t.dtype.kind == "f":
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *state):
    from ..nn.parameter import Parameter
    return Parameter(data, requires_grad=requires_grad)


def _numpy_dtype(obj, align=False, copy=False):
    """``numpy.dtype`` as a pickle calls it, refusing the object dtype (whose items would be Python objects)."""
    dt = np.dtype(obj, bool(align), bool(copy))
    if dt.hasobject:
        raise pickle.UnpicklingError(f"a NumPy array of dtype {dt} holds Python objects; only numeric data is read")
    return dt


class _ArrayState:
    """What the pickle's ``numpy._core.multiarray._reconstruct`` gives: a stand-in whose ``__setstate__`` (the
    pickle's BUILD) checks NumPy's array state -- version, shape, dtype, order, raw bytes -- and makes the array
    from the bytes itself (NumPy's own ``__setstate__`` never runs on file data); ``_arrays_in`` then puts the
    arrays in place of the stand-ins."""

    __slots__ = ("array",)

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError("a NumPy array's state is not (version, shape, dtype, order, data)")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise pickle.UnpicklingError(f"a NumPy array of dtype {dtype} holds Python objects; only numeric data "
                                         f"is read")
        if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
            raise pickle.UnpicklingError(f"a NumPy array's shape {shape!r:.60} is not a tuple of sizes")
        if not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("a NumPy array's data is not bytes")
        count = 1
        for n in shape:
            count *= n
        if len(raw) != count * dtype.itemsize:
            raise pickle.UnpicklingError(f"a NumPy array of shape {shape} and dtype {dtype} needs "
                                         f"{count * dtype.itemsize} bytes, the file has {len(raw)}")
        flat = np.frombuffer(raw, dtype=dtype, count=count) if count else np.empty(0, dtype)
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


def _numpy_reconstruct(subtype, shape, code):
    """``ndarray.__reduce__``'s constructor (plain ``ndarray`` only, no subclass): see ``_ArrayState``."""
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"a NumPy array of type {getattr(subtype, '__name__', subtype)!r} is not read "
                                     f"(only plain numpy.ndarray)")
    return _ArrayState()


def _arrays_in(obj, memo=None):
    """``obj`` with every ``_ArrayState`` replaced by its array, through dicts, lists, tuples and sets."""
    if type(obj) is _ArrayState:
        if not hasattr(obj, "array"):
            raise pickle.UnpicklingError("a NumPy array without its data")
        return obj.array
    if memo is None:
        memo = {}
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, dict):
        memo[key] = obj
        for k in list(obj):
            obj[k] = _arrays_in(obj[k], memo)
    elif type(obj) is list:
        memo[key] = obj
        obj[:] = [_arrays_in(v, memo) for v in obj]
    elif type(obj) in (tuple, set, frozenset):
        memo[key] = obj
        new = type(obj)(_arrays_in(v, memo) for v in obj)
        memo[key] = new
        return new
    return obj


def _numpy_scalar(dtype, raw=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(raw, bytes):
        raise pickle.UnpicklingError("a NumPy scalar that is not numeric data")
    return np.frombuffer(raw, dtype=dtype, count=1)[0]


def _latin1(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as protocol 2 uses it for bytes: latin-1 only."""
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin-1")


def _bytes(*args):
    """``bytes()`` as protocol 2 writes an empty bytes object (a NumPy array with no elements); with arguments,
    only latin-1 text (never ``bytes(n)``, which would allocate n bytes on the file's say)."""
    if not args:
        return b""
    return _latin1(*args)


# globals for NumPy data, resolved only when the caller passed weights_only=False (PyTorch refuses them otherwise)
_NUMPY_DATA = {
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _numpy_dtype,
    ("_codecs", "encode"): _latin1,
    ("__builtin__", "bytes"): _bytes,
    ("builtins", "bytes"): _bytes,
}


def _torch_dtype(name):
    def factory():
        return _StorageType(_DTYPES[name])
    return factory


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, zf: zipfile.ZipFile, prefix: str, name: str, place=None, numpy_data=False):
        super().__init__(fh)
        self.zf, self.prefix, self.name = zf, prefix, name
        self.numpy_data = numpy_data        # weights_only=False: NumPy arrays and scalars are read too
        self.storages: dict = {}
        self.place = place          # map_location's placer (``serialization._placer``), or None: the host

    _ALLOWED = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("collections", "OrderedDict"): OrderedDict,
        ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
        ("builtins", "complex"): complex,
    }

    def find_class(self, module, name):
        fn = self._ALLOWED.get((module, name))
        if fn is _rebuild_tensor and self.place is not None:
            place = self.place

            def rebuild(storage, *args):      # the tensor moved where map_location sends its saved location
                t = _rebuild_tensor(storage, *args)
                moved = Tensor._make(place(t._data, getattr(storage, "location", "cpu")))
                return moved.requires_grad_(True) if t.requires_grad else moved
            return rebuild
        if fn is not None:
            return fn
        if module == "torch" and name in _STORAGES:
            return _StorageType(_STORAGES[name])
        if module == "torch" and name in _DTYPES:
            return _StorageType(_DTYPES[name])
        if module == "torch.storage" and name in ("UntypedStorage", "_TypedStorage", "TypedStorage"):
            return _StorageType(np.uint8)
        numpy_fn = _NUMPY_DATA.get((module, name))
        if numpy_fn is not None:
            if self.numpy_data:
                return numpy_fn
            raise pickle.UnpicklingError(f"global '{module}.{name}' (NumPy data) is not read with weights_only=True, "
                                         f"as in PyTorch; pass weights_only=False to load NumPy arrays (their data "
                                         f"only: ember never runs code from a file)")
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed (only tensors, storages, plain "
                                     f"containers and, with weights_only=False, NumPy arrays are read from "
                                     f"PyTorch files)")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        _, stype, key, _location, _numel = pid[:5]
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError("a storage names an unknown type")
        key = str(key)
        if self.zf is None:                     # the legacy format: storages read after the object's pickle
            return self._legacy_storage(key, stype, _location, pid)
        if key not in self.storages:
            member = f"{self.prefix}data/{key}"
            try:
                raw = self.zf.read(member)
            except KeyError:
                raise pickle.UnpicklingError(f"storage {key!r} is missing from the archive") from None
            self.storages[key] = _Storage(raw, stype.dtype)
            self.storages[key].location = _location if isinstance(_location, str) else "cpu"
        return self.storages[key]


class _LegacyUnpickler(_Unpickler):
    """The legacy format's object pickle: a first pass (``storages`` None) records each storage key's type
    and builds no tensor; the second builds the tensors on the storages read from the file's tail."""

    def __init__(self, fh, name, place, numpy_data, storages=None):
        super().__init__(fh, None, "", name, place, numpy_data)
        self.types: dict = {}
        self.legacy = storages

    def find_class(self, module, name):
        fn = super().find_class(module, name)
        if self.legacy is None and (module, name) in _REBUILDERS:
            return _skip
        return fn

    def _legacy_storage(self, key, stype, location, pid):
        view = pid[5] if len(pid) > 5 else None
        if view is not None:
            raise pickle.UnpicklingError(f"storage {key!r} is a view of another storage (not read)")
        if self.legacy is None:
            self.types[key] = stype.dtype
            return None
        if key not in self.legacy:
            raise pickle.UnpicklingError(f"storage {key!r} is missing from the file")
        storage = self.legacy[key]
        storage.location = location if isinstance(location, str) else "cpu"
        return storage


_REBUILDERS = {("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"),
               ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state")}


def _skip(*args, **kwargs):
    return None


LEGACY_MAGIC = 0x1950a86a20f9469cfc6c


def load_torch_legacy(data: bytes, name: str, place=None, numpy_data: bool = False):
    """The object in a legacy (pre-1.6) ``torch.save`` file, read with the same allow-list as the zip format."""
    from .serialization import CheckpointError
    fh = io.BytesIO(data)

    def plain():        # the header pickles hold only numbers, strings and dicts: nothing may be imported
        return _LegacyUnpickler(fh, name, place, numpy_data, storages={}).load()
    try:
        if plain() != LEGACY_MAGIC:
            raise pickle.UnpicklingError("not a PyTorch file (wrong magic number)")
        if plain() != 1001:
            raise pickle.UnpicklingError("an unknown legacy protocol version")
        info = plain()
        if not isinstance(info, dict) or not info.get("little_endian", True):
            raise pickle.UnpicklingError("a big-endian file (not read)")
        start = fh.tell()
        first = _LegacyUnpickler(fh, name, place, numpy_data)
        first.load()
        keys = plain()
        if not isinstance(keys, list):
            raise pickle.UnpicklingError("the storage key list is missing")
        storages = {}
        for key in keys:
            key = str(key)
            if key not in first.types:
                raise pickle.UnpicklingError(f"storage {key!r} is listed but not used")
            dtype = first.types[key]
            item = 2 if dtype == "bf16" else np.dtype(dtype).itemsize
            head = fh.read(8)
            numel = int.from_bytes(head, "little", signed=True) if len(head) == 8 else -1
            raw = fh.read(numel * item) if numel >= 0 else b""
            if numel < 0 or len(raw) != numel * item:
                raise pickle.UnpicklingError(f"storage {key!r} is truncated")
            storages[key] = _Storage(raw, dtype)
        fh.seek(start)
        obj = _LegacyUnpickler(fh, name, place, numpy_data, storages).load()
        return _arrays_in(obj) if numpy_data else obj
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            RecursionError) as e:
        raise CheckpointError(f"cannot load '{name}' (a legacy PyTorch file): {e}") from None


def is_torch_zip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a zip archive (PyTorch's format since 1.6)."""
    return head[:4] == b"PK\x03\x04"


def load_torch_zip(data: bytes, name: str, place=None, numpy_data: bool = False):
    """The object in a ``torch.save`` zip archive, with tensors as ember Tensors (see the module docstring),
    on the CPU or, given ``place`` (``load``'s map_location), where it sends each storage's saved location.
    ``numpy_data`` (``load(weights_only=False)``) also reads NumPy arrays, scalars and dtypes."""
    from .serialization import CheckpointError
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(f"cannot load '{name}': a zip archive, but not a readable one ({e})") from None
    if len(pkl) != 1:
        raise CheckpointError(f"cannot load '{name}': a zip archive without PyTorch's <name>/data.pkl (not a "
                              f"torch.save file)")
    prefix = pkl[0][:-len("data.pkl")]
    try:
        obj = _Unpickler(io.BytesIO(zf.read(pkl[0])), zf, prefix, name, place, numpy_data).load()
        return _arrays_in(obj) if numpy_data else obj
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            zipfile.BadZipFile, RecursionError) as e:
        raise CheckpointError(f"cannot load '{name}' (a PyTorch file): {e}") from None
