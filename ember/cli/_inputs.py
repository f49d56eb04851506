"""What ``ember evaluate`` and ``ember predict`` read and check: the input spec a model was trained with, array
and ``.npz`` files, evaluation data named on the command line.  Split out of ``ember/cli/__init__.py``."""
from __future__ import annotations

import os
import sys

from .config import CLIError, DATASETS, is_classification, regular_file
from .build import build_data


def _regular_file(path: str, what: str) -> None:
    regular_file(path, what)


def _one_line(e) -> str:
    return " ".join(str(e).split())[:400]


_IMAGE_DATA = ("digits", "mnist", "fashion-mnist")


def _legacy_spec(cfg: dict):
    """For checkpoints saved before input_spec: what the built-in image pipelines produce."""
    d = cfg["data"]
    if d["name"] not in _IMAGE_DATA:
        return None
    size = d.get("size", 28) if d["name"] == "digits" else 28
    shape = [size * size] if d.get("flatten") else [1, size, size]
    lo = -1.0 if d.get("scale") == "symmetric" else 0.0
    return {"shape": shape, "dtype": "float32", "min": lo, "max": 1.0}


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("L" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _describe_spec(spec) -> str:
    kind = "integer token ids" if spec["dtype"].startswith(("int", "uint")) and spec["dtype"] != "uint8" else spec["dtype"]
    return (f"(N, {_fmt_shape(spec['shape'])[1:-1].rstrip(',')}) {kind} with values in "
            f"[{spec['min']:.4g}, {spec['max']:.4g}]" + (" (L: any length)" if None in spec["shape"] else ""))


def _fit_shape(x, shape, where: str):
    """``x`` as a batch (N, *shape): a single sample gets a batch dimension, a missing leading channel of 1 is
    added; anything else that does not match is a ``CLIError`` naming both shapes."""
    def same(a, b):
        return len(a) == len(b) and all(e is None or e == g for e, g in zip(b, a))
    shape = list(shape)
    if same(x.shape[1:], shape):
        return x
    if same(x.shape, shape):
        return x[None]
    if shape and shape[0] == 1:
        if same(x.shape[1:], shape[1:]):
            return x[:, None]
        if same(x.shape, shape[1:]):
            return x[None, None]
    raise CLIError(f"{where}: inputs of shape {tuple(x.shape)} do not fit the model: it was trained on samples of "
                   f"shape {_fmt_shape(shape)}, so expected (N, {_fmt_shape(shape)[1:-1].rstrip(',')})")


def _check_inputs(x, cfg: dict, where: str, allow_range: bool):
    """Check (and batch) an input array against the run's input_spec: NaN/inf and a wrong per-sample shape are
    errors; values far outside the training range (beyond it by more than the range's own width, e.g. 0-255
    images for a model trained on [0, 1]) are an error unless ``allow_range``, then a warning.  Nothing is
    rescaled."""
    from ..backend import np
    if x.dtype.kind not in "biuf":
        raise CLIError(f"{where}: inputs must be numbers, got dtype {x.dtype}")
    spec = cfg.get("input_spec") or _legacy_spec(cfg)
    if spec is not None:
        x = _fit_shape(x, spec["shape"], where)
    if x.ndim == 0 or len(x) == 0:
        raise CLIError(f"{where}: holds no samples (shape {tuple(x.shape)})")
    if spec is not None and np.dtype(spec["dtype"]).kind in "iu" and cfg["data"]["name"] == "text":
        if x.dtype.kind == "f" and not (np.isfinite(x).all() and np.all(x == np.round(x))):
            raise CLIError(f"{where}: the model takes integer token ids, got non-integer floats")
        if x.min() < spec["min"] or x.max() > spec["max"]:
            raise CLIError(f"{where}: token ids must be in {int(spec['min'])}..{int(spec['max'])} (the vocabulary), "
                           f"got {x.min()}..{x.max()}")
        return x.astype(np.int64)
    # the dtype the model computes in (float32 unless it was trained on float64); checked after the cast, so
    # float64 values beyond float32's range count as infinite
    want = np.dtype(spec["dtype"]) if spec is not None and np.dtype(spec["dtype"]).kind == "f" else np.float32
    with np.errstate(over="ignore"):
        x = x.astype(want)
    if not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CLIError(f"{where}: {int(bad.sum())} of {x.size} input values are NaN or infinite (in {want}; first at "
                       f"index {first}); the model cannot give a meaningful output for them")
    if spec is None:
        return x
    lo, hi = float(x.min()), float(x.max())
    span = spec["max"] - spec["min"]
    tol = span if span > 0 else max(1.0, abs(spec["max"]))       # constant training inputs: a unit margin
    if lo < spec["min"] - tol or hi > spec["max"] + tol:
        pixels = spec["max"] <= 1 and lo >= 0 and 2 < hi <= 255
        msg = (f"{where}: input values span [{lo:.4g}, {hi:.4g}], far outside the training inputs' "
               f"[{spec['min']:.4g}, {spec['max']:.4g}]" +
               (" (0-255 pixels? divide by 255 first: ember does not rescale inputs)" if pixels
                else "; ember does not rescale inputs"))
        if not allow_range:
            raise CLIError(msg + "; pass --allow-out-of-range to predict anyway")
        print(f"ember: warning: {msg}", file=sys.stderr)
    return x


def _read_array(path: str, what: str):
    """A numeric array from a .npy file, without ever unpickling: PNGs, archives, object arrays, truncated or
    oversized files are ``CLIError``s that say what the file is."""
    from ..backend import np
    _regular_file(path, what)
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
        kinds = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
                 b"PK\x03\x04": "a zip/.npz archive", b"\x80": "a Python pickle", b"%PDF": "a PDF"}
        if not head.startswith(b"\x93NUMPY"):
            kind = next((k for m, k in kinds.items() if head.startswith(m)), None)
            if kind is None and len(head) == 8 and int.from_bytes(head, "little") < size:
                fh.seek(8)
                if fh.read(1) == b"{":
                    kind = "a safetensors checkpoint"
            raise CLIError(f"{what} {path} is {kind or 'not a NumPy .npy file'}; expected a .npy array saved with "
                           f"numpy.save (convert images to arrays first, scaled as in training)")
        fh.seek(0)
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        except (ValueError, OSError, SyntaxError) as e:
            raise CLIError(f"{what} {path}: corrupt .npy header ({_one_line(e)})") from None
        if dtype.hasobject:
            raise CLIError(f"{what} {path} holds Python objects (dtype {dtype}); ember never unpickles files: save a "
                           f"numeric array instead (e.g. numpy.save(path, x.astype(numpy.float32)))")
        if dtype.kind not in "biuf":
            raise CLIError(f"{what} {path} holds dtype {dtype}; expected numbers (float or integer)")
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if size - fh.tell() < need:
            raise CLIError(f"{what} {path} is truncated: its header says {tuple(shape)} {dtype} "
                           f"({need:,} bytes) but only {size - fh.tell():,} bytes follow")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise CLIError(f"{what} {path}: cannot read it ({_one_line(e)})") from None


_NPZ_MAX_BYTES = 1 << 32          # a compressed .npz may expand beyond this only up to 100x its file size


def _read_npz(path: str):
    from ..backend import np
    _regular_file(path, "--data: file")
    try:
        z = np.load(path, allow_pickle=False)
        if not hasattr(z, "files"):
            raise CLIError(f"--data: {path} is a single array; expected a .npz archive with arrays 'x' and 'y'")
        with z:
            if "x" not in z.files or "y" not in z.files:
                raise CLIError(f"--data: {path} must hold arrays 'x' and 'y', found {', '.join(z.files) or 'none'}")
            # a compressed archive can expand enormously (a zip bomb): look at the sizes before reading
            unpacked = sum(z.zip.getinfo(f"{k}.npy").file_size for k in ("x", "y"))
            if unpacked > _NPZ_MAX_BYTES and unpacked > 100 * os.path.getsize(path):
                raise CLIError(f"--data: {path} would expand to {unpacked:,} bytes from {os.path.getsize(path):,} "
                               f"(over {_NPZ_MAX_BYTES:,} bytes and 100x its size); refusing it")
            x, y = z["x"], z["y"]
    except ValueError as e:
        if "pickle" in str(e):
            raise CLIError(f"--data: {path} holds Python objects; ember never unpickles files: save numeric arrays "
                           f"with numpy.savez(path, x=..., y=...)") from None
        raise CLIError(f"--data: cannot read {path} as a .npz archive ({_one_line(e)})") from None
    except (OSError, EOFError) as e:
        raise CLIError(f"--data: cannot read {path} as a .npz archive ({_one_line(e)})") from None
    except Exception as e:  # noqa: BLE001 - zipfile raises its own errors (BadZipFile) for a corrupt archive
        if type(e).__name__ in ("BadZipFile", "LargeZipFile"):
            raise CLIError(f"--data: {path} is not a valid .npz archive ({_one_line(e)})") from None
        raise
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise CLIError(f"--data: {path} has inputs of shape {x.shape} but labels of shape {y.shape}; expected "
                       f"one label per input")
    return x, y


def _eval_data(spec: str | None, cfg: dict, allow_range: bool = False):
    from ..backend import np
    from .. import from_numpy
    from ..data import TensorDataset
    if spec is None:
        return build_data(cfg, "test")[0]
    if spec.endswith(".npz"):
        x, y = _read_npz(spec)
        x = _check_inputs(x, cfg, f"--data {spec}", allow_range)
        if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.isfinite(y).all()):
            raise CLIError(f"--data {spec}: labels 'y' must be finite numbers, got dtype {y.dtype}")
        if is_classification(cfg):
            if y.dtype.kind == "f" and not np.all(y == np.round(y)):
                raise CLIError(f"--data {spec}: labels 'y' must be class numbers (integers)")
            y = y.astype(np.int64)
            n = cfg.get("classes", 10)
            if y.size and (y.min() < 0 or y.max() >= n):
                raise CLIError(f"--data {spec}: labels must be in 0..{n - 1} (the model has {n} classes), got "
                               f"{y.min()}..{y.max()}")
        else:
            y = y.astype(np.float32) if y.dtype.kind == "f" else y.astype(np.int64)
        return TensorDataset(from_numpy(np.ascontiguousarray(x)), from_numpy(np.ascontiguousarray(y)))
    name, _, path = spec.partition(":")
    if name not in DATASETS:
        raise CLIError(f"--data {spec!r}: expected one of {', '.join(DATASETS)} (with ':PATH' for files) or a .npz")
    return build_data(cfg, "test")[0]


def _eval_data_section(spec: str | None, saved: dict) -> dict | None:
    """The data section ``evaluate --data NAME[:PATH]`` asks for, or None to use the checkpoint's own."""
    if spec is None or spec.endswith(".npz"):
        return None
    name, _, path = spec.partition(":")
    if name not in DATASETS:
        raise CLIError(f"--data {spec!r}: expected one of {', '.join(DATASETS)} (with ':PATH' for files) or a .npz")
    d = {k: v for k, v in saved.items() if k != "download"} \
        if isinstance(saved, dict) and saved.get("name") == name else {"name": name}
    if path:
        d.pop("root", None)
        d["path"] = os.path.abspath(path)
    return d
