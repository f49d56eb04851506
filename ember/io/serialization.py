"""``save`` / ``load``: checkpoints in the safetensors file format, written by hand, never pickled.

A file is what the ``safetensors`` package reads and writes::

    8 bytes    little-endian uint64 N, the header length
    N bytes    a JSON object: one entry per tensor {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}
               plus "__metadata__": {str: str}
    the rest   the tensors' raw little-endian bytes, back to back, in offset order

Tensors are stored flat under path-like keys (``model/fc1.weight``); the nested Python structure around them
(dicts, OrderedDicts, lists, tuples, ints, floats, strings, bools, None) is JSON in ``__metadata__`` under
``ember.structure``, with each tensor replaced by a reference to its key.  Loading therefore only ever parses
JSON and copies bytes: no code from the file runs.  A whole ``nn.Module`` is stored as a node naming its
classes by import path (``module_io``); only ``load(..., weights_only=False)`` imports them.  A file written
by another safetensors writer (no ``ember.structure``) loads as an ``OrderedDict`` of name -> Tensor.

Writes are atomic: a temporary file in the destination folder is written, flushed and fsynced, then renamed
over the destination (``os.replace``) and the folder fsynced, so a crash mid-save leaves the previous file whole.
"""
from __future__ import annotations

import io as _pyio
import json
import math
import contextlib
import os
import tempfile
from collections import OrderedDict

from ..backend import np
from ..backend import device as _dev
from .._dtype import dtype as _EmberDtype, from_numpy_dtype as _ember_dtype
from ..tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

FORMAT_VERSION = "1"
# safetensors refuses headers above 100 MB; a larger length field means a corrupt file, not a big header
_MAX_HEADER = 100_000_000
# how deeply the saved Python structure may nest (dicts in lists in tuples ...): real state_dicts and training
# checkpoints nest a handful of levels; a deeper file is refused with a clear error instead of a RecursionError
MAX_DEPTH = 100

# safetensors dtype names <-> NumPy dtypes (always little-endian on disk)
_TO_ST = {
    np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
    np.dtype(np.uint16): "U16", np.dtype(np.int16): "I16", np.dtype(np.uint32): "U32", np.dtype(np.int32): "I32",
    np.dtype(np.uint64): "U64", np.dtype(np.int64): "I64", np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32", np.dtype(np.float64): "F64",
}
_FROM_ST = {v: k for k, v in _TO_ST.items()}


def _st_name(dtype) -> str | None:
    """The safetensors name of a NumPy dtype of either byte order, or None if safetensors has none."""
    for known, name in _TO_ST.items():
        if dtype.kind == known.kind and dtype.itemsize == known.itemsize:
            return name
    return None


class CheckpointError(RuntimeError, ValueError):
    """A file that cannot be loaded as an ember/safetensors checkpoint (truncated, corrupt, wrong format).

    The message names the file and what is wrong with it.  It is both a ``RuntimeError`` (what PyTorch raises
    for a bad checkpoint) and a ``ValueError`` (bad data).
    """


# -- encoding ------------------------------------------------------------------------------------------------
class _Encoder:
    """Walks the object once, collecting arrays under unique keys and building the JSON structure."""

    def __init__(self) -> None:
        self.arrays: "OrderedDict[str, object]" = OrderedDict()
        self._seen: dict[int, str] = {}      # id(tensor) -> key: a tensor stored twice is written once
        self._keep: list = []                # keeps encoded objects alive so their ids stay unique

    def key_for(self, path: list[str]) -> str:
        base = "/".join(path) if path else "tensor"
        key, n = base, 1
        while key in self.arrays:           # "a/b" as a dict key can collide with {"a": {"b": ...}}
            key, n = f"{base}~{n}", n + 1
        return key

    def tensor(self, arr, path, obj):
        oid = id(obj)
        if oid in self._seen:
            return self._seen[oid]
        arr = np.asarray(_dev.to_device(arr, "cpu"))     # a device tensor's data is copied to the host
        if _st_name(arr.dtype) is None:
            raise TypeError(f"ember.save: cannot store dtype {arr.dtype} at '{'/'.join(path) or '<root>'}' "
                            f"(supported: {', '.join(str(d) for d in _TO_ST)})")
        key = self.key_for(path)
        self.arrays[key] = arr
        self._seen[oid] = key
        self._keep.append(obj)
        return key

    def encode(self, obj, path: list[str]):
        if len(path) > MAX_DEPTH:
            raise ValueError(f"ember.save: the object nests more than {MAX_DEPTH} levels deep at "
                             f"'{'/'.join(path[:8])}/...' (a self-referencing or runaway structure?)")
        if isinstance(obj, Tensor):
            ref = {"__tensor__": self.tensor(obj._data, path, obj)}
            if type(obj._data) is not np.ndarray and _dev.is_device_array(obj._data):
                ref["device"] = str(obj.device)         # where load() puts it back (unless map_location says)
            if obj._rg:
                ref["requires_grad"] = True
            if type(obj).__name__ == "Parameter":
                ref["parameter"] = True
            return ref
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.tensor(obj, path, obj)}
        if isinstance(obj, np.generic):     # a NumPy scalar: keep its dtype
            return {"__npscalar__": self.tensor(np.asarray(obj), path, obj)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"__float__": repr(obj)}          # 'nan', 'inf', '-inf': strict JSON has no such numbers
        if isinstance(obj, _EmberDtype):
            obj = obj.dtype
        if isinstance(obj, np.dtype):
            return {"__dtype__": obj.str if obj.names is None else str(obj)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise TypeError(f"ember.save: dict key {k!r} at '{'/'.join(path) or '<root>'}' is a "
                                    f"{type(k).__name__}; keys must be str, int, float, bool or None")
                items.append([self.encode(k, path + ["key"]) if isinstance(k, float) else k,
                              self.encode(v, path + [str(k)])])
            tag = "__odict__" if isinstance(obj, OrderedDict) else "__dict__"
            return {tag: items}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]
        from .module_io import encode_object      # whole modules, devices, functions by import path
        node = encode_object(self, obj, path)
        if node is not None:
            return node
        raise TypeError(f"ember.save: cannot store a {type(obj).__module__}.{type(obj).__qualname__} at "
                        f"'{'/'.join(path) or '<root>'}'; supported are Tensors, NumPy arrays, dicts, lists, "
                        f"tuples, int, float, str, bool, None, nn.Modules, devices and module-level functions")


def _serialize(obj) -> tuple[bytes, list]:
    """The header bytes and the list of contiguous little-endian arrays to write after it."""
    enc = _Encoder()
    structure = enc.encode(obj, [])
    header: dict = {}
    arrays = []
    offset = 0
    for key, arr in enc.arrays.items():
        # the file is little-endian whatever this machine is; a no-op copy-free view on the usual machines
        # (astype, not ascontiguousarray, which would turn 0-d arrays into 1-d ones)
        arr = arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)
        n = arr.nbytes
        header[key] = {"dtype": _st_name(arr.dtype), "shape": list(arr.shape),
                       "data_offsets": [offset, offset + n]}
        offset += n
        arrays.append(arr)
    header["__metadata__"] = {"format": "pt", "ember.format": FORMAT_VERSION,
                              "ember.structure": json.dumps(structure, allow_nan=False, separators=(",", ":"))}
    raw = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)           # pad with spaces so the data starts 8-byte aligned
    return len(raw).to_bytes(8, "little") + raw, arrays


def _write_all(f, head: bytes, arrays: list) -> None:
    f.write(head)
    for arr in arrays:
        if arr.nbytes:
            f.write(memoryview(arr.reshape(-1)).cast("B"))


def _fsync_dir(folder: str) -> None:
    # the rename itself must reach the disk too; not every platform can open a folder (Windows), so best effort
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask_mode() -> int:
    """The permissions a plain ``open(path, 'w')`` would give (mkstemp's own are owner-only)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask



@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", **kwargs):
    """Open a temporary file beside ``path`` for writing; on a clean exit flush, fsync, rename it over ``path``
    and fsync the folder.  A crash or Ctrl-C in between leaves any previous ``path`` intact and no temporary
    file behind.  Every file ember writes (checkpoints, histories, plots) goes through here."""
    path = os.fspath(path)
    if os.path.islink(path):            # write through a symlink, as open() would, instead of replacing it
        path = os.path.realpath(path)
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        # a device or FIFO (/dev/null, a pipe): write into it as open() would; renaming a file over it would
        # replace the device node itself
        with open(path, mode, **kwargs) as fh:
            yield fh
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True) -> None:
    """Save ``obj`` (a Tensor, a state_dict, or nested dicts/lists/tuples of Tensors, arrays and plain values)
    to ``f`` (a path or a writable binary file object), like ``torch.save`` but in the safetensors format.

    Saving to a path is atomic: the previous file stays intact if anything fails before the final rename.
    ``pickle_module``/``pickle_protocol`` are accepted for PyTorch compatibility and must be None: ember
    never pickles.

    >>> ember.save(model.state_dict(), "model.safetensors")
    >>> model.load_state_dict(ember.load("model.safetensors"))
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise ValueError("ember.save never pickles: pickle_module and pickle_protocol must be None")
    head, arrays = _serialize(obj)
    if hasattr(f, "write") and not isinstance(f, (str, bytes, os.PathLike)):
        _write_all(f, head, arrays)
        return
    path = os.fspath(f)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"ember.save: folder '{folder}' does not exist (saving '{path}')")
    with atomic_open(path, "wb") as fh:
        _write_all(fh, head, arrays)


# -- decoding ------------------------------------------------------------------------------------------------
def _check_map_location(map_location) -> None:
    """Refuse a ``map_location`` naming a device this machine lacks (or no device), before reading."""
    from .._tensor_support import _check_device
    targets = map_location.values() if isinstance(map_location, dict) else \
        () if map_location is None or callable(map_location) else (map_location,)
    for t in targets:
        try:
            _check_device(t)
        except (RuntimeError, ValueError, TypeError) as e:
            raise ValueError(f"ember.load: map_location={map_location!r} is not usable: {e}") from None


def _placer(map_location):
    """``place(arr, location)``: a loaded host array put where ``map_location`` sends a tensor saved on
    ``location`` ("cpu", "cuda:0"), as ``torch.load``: None keeps the saved device, a device (or string) sends
    everything there, a dict maps saved locations to devices, a callable gets ``(tensor, location)`` and
    returns the tensor to use."""
    from .._tensor_support import _check_device

    def put(arr, where):
        d = _check_device(where)
        return arr if d.type == "cpu" else _dev.to_device(arr, d.type, d.index)

    def place(arr, loc):
        if map_location is None:
            if loc == "cpu":
                return arr
            if _dev.cuda_module(required=False) is None:
                raise RuntimeError(f"ember.load: a tensor was saved on {loc}, but CUDA is not available "
                                   f"(ember.cuda.is_available() is False); on a CPU-only machine pass "
                                   f"map_location='cpu'")
            return put(arr, loc)
        if callable(map_location) and not isinstance(map_location, dict):
            out = map_location(Tensor._make(arr), loc)
            return out._data if isinstance(out, Tensor) else arr
        if isinstance(map_location, dict):
            return put(arr, map_location.get(loc, loc))
        return put(arr, map_location)
    return place


def _read_header(fh, name: str, size: int) -> tuple[dict, int]:
    def bad(msg):
        return CheckpointError(f"cannot load '{name}': {msg}")

    first = fh.read(8)
    if len(first) < 8:
        raise bad(f"file is truncated ({size} bytes; a safetensors file starts with an 8-byte header length)")
    n = int.from_bytes(first, "little")
    if n > _MAX_HEADER or 8 + n > size:
        raise bad(f"header length field says {n} bytes, but the file has only {size - 8} bytes after it "
                  f"(truncated or not a safetensors/ember checkpoint)")
    raw = fh.read(n)
    if len(raw) != n:
        raise bad(f"file is truncated (the header should be {n} bytes, read {len(raw)})")
    try:
        header = _json(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise bad(f"header is not UTF-8 text (byte {e.start}): not a safetensors/ember checkpoint") from None
    except ValueError as e:
        raise bad(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad(f"header must be a JSON object, got {type(header).__name__}")
    return header, 8 + n


def _read_tensors(fh, name: str, header: dict, data_start: int, size: int) -> dict:
    def bad(msg):
        return CheckpointError(f"cannot load '{name}': {msg}")

    data_len = size - data_start
    out = {}
    entries = []
    bf16 = set()
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise bad(f"entry '{key}' must have 'dtype', 'shape' and 'data_offsets'")
        dt = _FROM_ST.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        if info["dtype"] == "BF16":     # read as its 16 bits, widened to float32 below (exact)
            dt = np.dtype(np.uint16)
            bf16.add(key)
        if dt is None:
            raise bad(f"tensor '{key}' has unknown dtype {info['dtype']!r} (known: {', '.join(_FROM_ST)}, BF16)")
        shape, offs = info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                for s in shape)):
            raise bad(f"tensor '{key}' has an invalid shape {shape!r} (expected a list of non-negative ints)")
        if len(shape) > 64:             # NumPy's limit on dimensions
            raise bad(f"tensor '{key}' has {len(shape)} dimensions; at most 64 are supported")
        if not (isinstance(offs, list) and len(offs) == 2
                and all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise bad(f"tensor '{key}' has invalid data_offsets {offs!r} (expected [begin, end])")
        begin, end = offs
        if not 0 <= begin <= end:
            raise bad(f"tensor '{key}' has invalid data_offsets {offs!r} (expected 0 <= begin <= end)")
        if end > data_len:
            raise bad(f"tensor '{key}' data_offsets {offs!r} run past the end of the data ({data_len} bytes): "
                      f"the file is truncated or corrupt")
        want = math.prod(shape) * dt.itemsize
        if end - begin != want:
            raise bad(f"tensor '{key}' holds {end - begin} bytes but dtype {info['dtype']} and shape "
                      f"{tuple(shape)} need {want}")
        entries.append((begin, key, dt.newbyteorder("<"), tuple(shape), end - begin))
    entries.sort(key=lambda e: (e[0], e[0] + e[4]))
    for (b0, k0, _, _, n0), (b1, k1, _, _, n1) in zip(entries, entries[1:]):
        if n0 and n1 and b1 < b0 + n0:
            raise bad(f"tensors '{k0}' (bytes {b0}..{b0 + n0}) and '{k1}' (bytes {b1}..{b1 + n1}) overlap: the "
                      f"file is corrupt or crafted")
    for begin, key, dt, shape, n in entries:
        buf = bytearray(n)
        fh.seek(data_start + begin)
        got = fh.readinto(buf) if n else 0
        if got != n:
            raise bad(f"tensor '{key}' is truncated (read {got} of {n} bytes)")
        # bytearray-backed arrays are writable and own no file handle
        arr = np.frombuffer(buf, dtype=dt).reshape(shape) if n else np.empty(shape, dt)
        out[key] = arr.astype(dt.newbyteorder("="), copy=False)
        if key in bf16:
            out[key] = (out[key].astype(np.uint32) << 16).view(np.float32)
    return out


class _Decoder:
    def __init__(self, name: str, arrays: dict, place=None):
        self.name, self.arrays = name, arrays
        self.place = place                   # where a tensor goes (``_placer``); None: the host
        self.made: dict[str, Tensor] = {}    # one Tensor per stored key: shared tensors stay shared

    def bad(self, msg):
        return CheckpointError(f"cannot load '{self.name}': {msg}")

    def array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise self.bad(f"metadata refers to tensor {key!r}, which is not in the file")
        return self.arrays[key]

    def decode(self, node, depth: int = 0):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if depth > MAX_DEPTH:
            raise self.bad(f"the saved structure nests more than {MAX_DEPTH} levels deep (corrupt or crafted)")
        depth += 1
        if isinstance(node, list):
            return [self.decode(v, depth) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise self.bad(f"unexpected structure node {node!r}")
        if "__tensor__" in node:
            key = node["__tensor__"]
            t = self.made.get(key)
            if t is None:
                arr = self.array(key)
                if self.place is not None:
                    loc = node.get("device", "cpu")
                    arr = self.place(arr, loc if isinstance(loc, str) else "cpu")
                t = Tensor._make(arr)
                if node.get("parameter"):
                    from ..nn.parameter import Parameter      # lazy: io sits above nn but rarely needs it
                    t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
                elif node.get("requires_grad"):
                    t.requires_grad_(True)
                self.made[key] = t
            return t
        if "__ndarray__" in node:
            return self.array(node["__ndarray__"])
        if "__npscalar__" in node:
            return self.array(node["__npscalar__"])[()]
        if "__float__" in node:
            if node["__float__"] not in ("nan", "inf", "-inf"):
                raise self.bad(f"malformed __float__ entry {node['__float__']!r} in the metadata")
            return float(node["__float__"])
        if "__dtype__" in node:
            try:
                if not isinstance(node["__dtype__"], str):
                    raise TypeError("not a string")
                dt = np.dtype(node["__dtype__"])
            except (TypeError, ValueError, SyntaxError) as e:
                raise self.bad(f"malformed __dtype__ entry {str(node['__dtype__'])[:80]!r} ({e})") from None
            if dt.hasobject:
                raise self.bad(f"__dtype__ entry {node['__dtype__']!r} is an object dtype, which ember never stores")
            return _ember_dtype(dt) if dt.isnative else dt     # ember.float32 & co. (== the NumPy dtype)
        if "__tuple__" in node:
            if not isinstance(node["__tuple__"], list):
                raise self.bad("malformed __tuple__ entry in the metadata")
            return tuple(self.decode(v, depth) for v in node["__tuple__"])
        for tag, cls in (("__odict__", OrderedDict), ("__dict__", dict)):
            if tag in node:
                items = node[tag]
                if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
                    raise self.bad(f"malformed {tag} entry in the metadata")
                keys = [self.decode(k, depth) if isinstance(k, dict) else k for k, _ in items]
                if not all(k is None or isinstance(k, (str, int, float, bool)) for k in keys):
                    raise self.bad(f"malformed {tag} entry in the metadata (a key is not a str, number, bool or "
                                   f"None)")
                return cls(zip(keys, (self.decode(v, depth) for _, v in items)))
        from .module_io import code_allowed, decode_node, is_code_node, refusal
        if is_code_node(node) and not code_allowed(self, node):     # weights_only=True without an allowlist
            raise self.bad(refusal(node))
        if is_code_node(node) or "__device__" in node:
            return decode_node(self, node)
        raise self.bad(f"unknown structure tag in {sorted(node)!r}")


def load(f, map_location=None, pickle_module=None, *, weights_only: bool = True, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` (or any safetensors file) from a path or binary file object.

    Loading only parses JSON and copies bytes, so it never runs code from the file.  A file holding a whole
    module (``ember.save(model, f)``) names the module's classes; rebuilding it imports them, so it is refused
    unless ``weights_only=False`` (see ``module_io``).  ``map_location`` may be None, ``"cpu"``, a
    device, a dict or a callable, as ``torch.load``: tensors saved from a CUDA device (their data is stored
    from the host) load back there by default, ``map_location="cpu"`` (or "cuda") puts every tensor on that
    device, a dict maps saved locations ("cuda:0") to devices, a callable gets ``(tensor, location)`` and
    returns the tensor to use.  A plain safetensors file with no ember metadata loads as an ``OrderedDict`` of name -> Tensor.  A PyTorch ``.pt``/``.pth`` file (``torch.save``'s
    zip format) is read through an allow-listed unpickler that resolves only tensor rebuilders, storages and plain
    containers (``torch_format``), so it cannot run code either; bfloat16 tensors load as float32.

    Raises ``CheckpointError`` naming the file and the problem when the file is truncated or corrupt, and
    ``FileNotFoundError`` when it does not exist.

    >>> sd = ember.load("model.safetensors")
    """
    if pickle_module is not None:
        raise ValueError("ember.load never unpickles: pickle_module must be None")
    _check_map_location(map_location)
    if hasattr(f, "read") and not isinstance(f, (str, bytes, os.PathLike)):
        data = f.read()
        name = getattr(f, "name", "<file object>")
        fh = _pyio.BytesIO(data)
        return _load_from(fh, str(name), len(data), weights_only, map_location)
    path = os.fspath(f)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"ember.load: no such file '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"ember.load: '{path}' is a folder, not a checkpoint file")
    if not os.path.isfile(path):        # /dev/zero, a FIFO (would block), a socket
        raise CheckpointError(f"cannot load '{path}': not a regular file (a device or pipe)")
    with open(path, "rb") as fh:
        return _load_from(fh, path, os.fstat(fh.fileno()).st_size, weights_only, map_location)


def _json(text: str):
    """``json.loads`` with nesting beyond what the decoder can recurse reported as a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


# the magic number torch's legacy (pre-zip) format pickles first
_LEGACY_TORCH = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def _load_from(fh, name: str, size: int, weights_only: bool = True, map_location=None):
    head = fh.read(16)
    fh.seek(0)
    from .torch_format import is_torch_zip, load_torch_zip
    if is_torch_zip(head):          # a torch.save .pt/.pth file: read through an allow-listed unpickler
        # (a PyTorch file's tensors load on the CPU unless map_location sends them elsewhere)
        return load_torch_zip(fh.read(), name, None if map_location is None else _placer(map_location),
                              numpy_data=weights_only is False)
    if head.startswith(_LEGACY_TORCH):     # torch.save's pre-1.6 format (many published checkpoints)
        from .torch_format import load_torch_legacy
        return load_torch_legacy(fh.read(), name, None if map_location is None else _placer(map_location),
                                 numpy_data=weights_only is False)
    header, data_start = _read_header(fh, name, size)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"cannot load '{name}': __metadata__ must map strings to strings")
    arrays = _read_tensors(fh, name, header, data_start, size)
    structure = meta.get("ember.structure")
    if structure is None:       # a plain safetensors file: name -> tensor, in header order
        place = _placer(map_location)
        return OrderedDict((k, Tensor._make(place(arrays[k], "cpu"))) for k in header if k != "__metadata__")
    version = meta.get("ember.format")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"cannot load '{name}': ember format version {version!r} is not supported "
                              f"(this ember reads version {FORMAT_VERSION})")
    try:
        tree = _json(structure)
    except ValueError as e:
        raise CheckpointError(f"cannot load '{name}': ember.structure metadata is not valid JSON ({e})") from None
    dec = _Decoder(name, arrays, _placer(map_location))
    dec.allow_code = weights_only is False      # whole modules import their classes: only when asked
    return dec.decode(tree)
