"""Tensor creation: ``tensor``, ``zeros``, ``arange``, random sampling, ... each taking ``dtype=`` and
``requires_grad=`` as in PyTorch.  Random functions draw from ``ember.default_generator`` (seeded by
``manual_seed``) unless given a ``generator``.

Devices: ``zeros``/``ones``/``full``/``eye`` (and their ``*_like``) are made by the target device's array
module; the other deterministic functions compute on the host and move the result.  Random functions draw on
the host from ember's generator and move the samples to the device (so a seed gives the same numbers on every
device; CuPy's own generator would give others); the ones that take a tensor of parameters (``normal``,
``bernoulli``, ``multinomial``, ``poisson``) return their samples on that tensor's device."""
from __future__ import annotations

import numpy as _np

from .backend import device as _dev
from .backend import dtypes as _dt
from .backend import xp
from .backend.random import rng_of
from .tensor import Tensor, _to_array
from . import _tensor_device as _tdev


def _layout(layout, pin_memory, op: str) -> None:
    """PyTorch's ``layout=`` / ``pin_memory=`` creation keywords: ember has dense (strided) tensors on the CPU."""
    if layout is not None and layout != "strided":
        raise RuntimeError(f"{op}: ember supports only layout=torch.strided, got {layout!r}")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True needs an accelerator device and none is available (ember runs "
                           f"on 'cpu')")


def _finish(arr, requires_grad: bool, device=None) -> Tensor:
    if device is not None or _tdev._default[0] is not None:
        arr = _tdev.place(arr, device)
        if device is not None and type(arr) is not _np.ndarray and _tdev.target(device) is None:
            arr = _dev.to_device(arr, "cpu")        # device="cpu" for data on a device (a device tensor)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _alloc(name, device, *args, **kwargs):
    """``xp.<name>(*args)`` made directly on the creation target's device (see ``_tensor_device.target``)."""
    d = _tdev.target(device)
    if d is None:
        return getattr(xp, name)(*args, **kwargs)
    mod = _dev.module_for(d.type)
    index = 0 if d.index is None else int(d.index)
    if index >= mod.cuda.runtime.getDeviceCount():       # to_device's "invalid device ordinal" error
        return _dev.to_device(getattr(xp, name)(*args, **kwargs), d.type, d.index)
    with mod.cuda.Device(index):
        return getattr(mod, name)(*args, **kwargs)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        try:
            s = int(s)
        except (TypeError, ValueError):
            raise TypeError(f"size must be a sequence of ints, got {tuple(size)!r}") from None
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


def _fdtype(dtype):
    return _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)


def _warn_copy_construct() -> None:
    """PyTorch's UserWarning for ``tensor(a_tensor)``, pointed at the caller; ember's own modules don't warn."""
    import sys
    import warnings
    if sys._getframe(2).f_globals.get("__name__", "").split(".")[0] == "ember":
        return
    from .tensor import Size
    warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                  "sourceTensor.detach().clone().requires_grad_(True), rather than "
                  f"{Size._prefix}.tensor(sourceTensor).", UserWarning, stacklevel=3)


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``; the dtype is inferred (Python floats -> float32, ints ->
    int64, NumPy arrays keep theirs) unless ``dtype`` is given (``torch.tensor``)."""
    _layout(None, pin_memory, "tensor")
    if isinstance(data, Tensor):
        _warn_copy_construct()
    arr = _to_array(data, None if dtype is None else _dt.to_dtype(dtype), copy=True)
    if arr is data:
        arr = arr.copy()
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when the dtype already matches."""
    if isinstance(data, Tensor) and (dtype is None or _dt.to_dtype(dtype) == data.dtype):
        return data if device is None else data.to(device)      # (itself when it is there already)
    return _finish(_to_array(data, None if dtype is None else _dt.to_dtype(dtype)), False, device)


def from_numpy(ndarray) -> Tensor:
    """A tensor sharing memory with the NumPy array ``arr`` (writes to one show in the other)."""
    if not isinstance(ndarray, _np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {ndarray.dtype}; supported: bool, integers, floats")
    return Tensor._make(ndarray)


def zeros(*args, size=None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """Zeros of ``size`` (``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``, as PyTorch)."""
    _layout(layout, pin_memory, "zeros")
    shape, dt = _size(args if size is None else (size,)), _fdtype(dtype)
    if device is None and _tdev._default[0] is None:        # the CPU (fast path)
        return _finish(xp.zeros(shape, dt), requires_grad)
    return _finish(_alloc("zeros", device, shape, dt), requires_grad, device)


def ones(*args, size=None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    _layout(layout, pin_memory, "ones")
    shape, dt = _size(args if size is None else (size,)), _fdtype(dtype)
    if device is None and _tdev._default[0] is None:        # the CPU (fast path)
        return _finish(xp.ones(shape, dt), requires_grad)
    return _finish(_alloc("ones", device, shape, dt), requires_grad, device)


def empty(*args, size=None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format="contiguous_format") -> Tensor:
    """An uninitialized tensor; ember fills it with zeros (reading it is then deterministic)."""
    return zeros(*args, size=size, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad,
                 pin_memory=pin_memory)


def full(size, fill_value, dtype=None, layout="strided", device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (bool, int64, float32)."""
    _layout(layout, pin_memory, "full")
    if dtype is None:
        dtype = _dt.bool_ if isinstance(fill_value, bool) else (
            _dt.int64 if isinstance(fill_value, int) else _dt.get_default_dtype())
    if not isinstance(fill_value, (int, float, bool, _np.number, _np.bool_)) and not (
            isinstance(fill_value, Tensor) and fill_value.numel() == 1):
        raise TypeError(f"full(): fill_value must be a number, got {type(fill_value).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = _dt.to_dtype(dtype)
    shape = _size((size,) if isinstance(size, int) else (tuple(size),))
    with _np.errstate(over="ignore"):
        v = _fill(fill_value, dtype, "full", int(_np.prod(shape)))
        arr = xp.full(shape, v, dtype) if device is None and _tdev._default[0] is None else \
            _alloc("full", device, shape, v, dtype)
    return _finish(arr, requires_grad, device)


def _fill(v, dtype, op, numel=None):
    """A fill value as PyTorch converts it: range-checked for integer dtypes (NaN and inf raise) and for
    float16/float32 (a finite value past the dtype's largest raises; PyTorch's one-element float16 fill skips
    the check, so ``numel == 1`` does too)."""
    if dtype.kind in "iu" and not isinstance(v, (bool, _np.bool_)):
        return _dt.checked_scalar(v, dtype, op)
    if dtype.kind == "f" and not (dtype == _np.float16 and numel == 1):
        _dt.checked_float_scalar(v, dtype, op)
    return v


def _like_dtype(x, dtype):
    return x.dtype if dtype is None else _dt.to_dtype(dtype)


def _like_device(input, device):
    """The device a ``*_like`` result goes to: ``device=``, else the input's (None: the CPU, fast path)."""
    if device is not None:
        return device
    if isinstance(input, Tensor) and type(input._data) is not _np.ndarray and _dev.is_device_array(input._data):
        return input.device
    return "cpu" if _tdev._default[0] is not None else None


def _like(input, arr, memory_format, requires_grad, device) -> Tensor:
    """A ``*_like`` result laid out as PyTorch's ``memory_format`` (default ``preserve_format``: the input's
    strides when it is dense, else dense strides in its dim order)."""
    from .backend import layout as _lay
    from .ops._shape_strided import _layout_for
    strides = _layout_for(input, memory_format) if isinstance(input, Tensor) else None
    if strides is not None and arr.ndim > 1 and tuple(strides) != _lay.c_strides(arr.shape):
        arr = _lay.with_strides(arr, tuple(strides))
    return _finish(arr, requires_grad, input.device if device is None and isinstance(input, Tensor) else device)


def zeros_like(input, dtype=None, layout=None, device=None, requires_grad: bool = False, pin_memory: bool = False,
               memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "zeros_like")
    d = _like_dtype(input, dtype)
    arr = xp.zeros(input.shape, d) if device is None and type(getattr(input, "_data", None)) is _np.ndarray else \
        _alloc("zeros", _like_device(input, device), tuple(input.shape), d)
    return _like(input, arr, memory_format, requires_grad, device)


def ones_like(input, dtype=None, layout=None, device=None, requires_grad: bool = False, pin_memory: bool = False,
              memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "ones_like")
    d = _like_dtype(input, dtype)
    arr = xp.ones(input.shape, d) if device is None and type(getattr(input, "_data", None)) is _np.ndarray else \
        _alloc("ones", _like_device(input, device), tuple(input.shape), d)
    return _like(input, arr, memory_format, requires_grad, device)


def empty_like(input, dtype=None, layout=None, device=None, requires_grad: bool = False, pin_memory: bool = False,
               memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "empty_like")
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


def full_like(input, fill_value, dtype=None, layout=None, device=None, requires_grad: bool = False,
              pin_memory: bool = False, memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "full_like")
    d = _like_dtype(input, dtype)
    with _np.errstate(over="ignore"):       # a one-element float16 fill of 1e6 is inf (PyTorch)
        v = _fill(fill_value, d, "full_like", input.numel())
        arr = xp.full(input.shape, v, d) if device is None and type(getattr(input, "_data", None)) is _np.ndarray \
            else _alloc("full", _like_device(input, device), tuple(input.shape), v, d)
    return _like(input, arr, memory_format, requires_grad, device)


def rand_like(input, dtype=None, generator=None, requires_grad=False, layout=None, device=None, pin_memory=False,
              memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "rand_like")
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator, requires_grad=requires_grad,
               device=input.device if device is None else device)


def randn_like(input, dtype=None, generator=None, requires_grad=False, layout=None, device=None, pin_memory=False,
               memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "randn_like")
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator, requires_grad=requires_grad,
               device=input.device if device is None else device)


def randint_like(input, low=0, high=None, dtype=None, generator=None, layout=None, device=None,
                 requires_grad=False, pin_memory=False, memory_format="preserve_format") -> Tensor:
    _layout(layout, pin_memory, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, generator=generator,
                   requires_grad=requires_grad, device=input.device if device is None else device)


class _StepError(RuntimeError, ValueError):
    """arange's "step must be nonzero": PyTorch raises RuntimeError, or ValueError when an int64 dtype
    truncates a fractional step to 0."""


def _checked_scalar(v, dtype, op):
    return _dt.checked_scalar(v, dtype, op)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False, layout="strided",
           pin_memory: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments, float32 if any
    is a float (``torch.arange``).  With an integer ``dtype`` and fractional arguments PyTorch's rules hold:
    int64 truncates all three first; other integer dtypes count the elements from the exact arguments and fill
    them with ``trunc(start) + i * trunc(step)``."""
    _layout(layout, pin_memory, "arange")
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, float) for v in vals) else _dt.int64
    dtype = _dt.to_dtype(dtype)
    _no_bool_range(dtype, "arange")
    if dtype == _dt.int64 and any(isinstance(v, float) for v in vals):
        if vals[2] != 0 and (vals[1] - vals[0]) * vals[2] < 0:      # checked before truncating, as PyTorch
            raise RuntimeError(f"arange: upper bound ({vals[1]}) and lower bound ({vals[0]}) inconsistent with "
                               f"step sign ({vals[2]})")
        vals = [int(v) for v in vals]
        if vals[2] == 0:
            raise _StepError("arange: step must be nonzero (an int64 dtype truncated the fractional step to 0)")
    s0, e0, st = vals
    if st == 0:
        raise _StepError("arange: step must be nonzero")
    if (e0 - s0) * st < 0:
        raise RuntimeError(f"arange: upper bound ({e0}) and lower bound ({s0}) inconsistent with step sign ({st})")
    if all(isinstance(v, (int, _np.integer)) for v in vals):
        n = max(-((s0 - e0) // st), 0)          # exact integer ceil
    else:
        n = max(int(_np.ceil((e0 - s0) / st)), 0)
    if dtype.kind in "iu":
        base = _np.arange(n, dtype=_np.int64) * int(st) + int(s0)
        arr = base.astype(dtype)
    elif dtype.kind == "b":
        arr = (s0 + st * _np.arange(n, dtype=_np.float64)).astype(dtype)
    else:
        arr = (s0 + st * _np.arange(n, dtype=_np.float64)).astype(dtype)
    return _finish(arr, requires_grad, device)


def range_(start, end, step=1, dtype=None, requires_grad=False, layout="strided", device=None, pin_memory=False):
    """``torch.range`` (deprecated there, with its warning at every call): like arange but including ``end``."""
    from ._deprecation import warn
    warn("range", once=False)
    return arange(start, end + step / 2 if isinstance(step, float) else end + 1, step,
                  dtype=dtype or _dt.get_default_dtype(), requires_grad=requires_grad, layout=layout, device=device,
                  pin_memory=pin_memory)


def _no_bool_range(dtype, op):
    if dtype.kind == "b":
        raise _dt.DtypeNotImplementedError(f"{op}: not implemented for bool (PyTorch: \"{op}_cpu\" not implemented "
                                           f"for 'Bool')")


def _linspace_array(start, end, steps, dtype, op, fused=True):
    """PyTorch's linspace: the first half counts up from ``start``, the second half down from ``end`` (so both
    ends are exact), in the output's floating dtype, or in float64 from truncated ends for an integer dtype."""
    _no_bool_range(dtype, op)
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps}")
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end)]
    if dtype.kind in "iu":
        s0, e0 = (float(_checked_scalar(v, dtype, op)) for v in vals)
        work = _np.float64
    else:
        work = dtype if dtype.kind == "f" else _np.float64
        s0, e0 = (work.type(v) for v in vals) if dtype.kind == "f" else (float(v) for v in vals)
    if steps == 0:
        return _np.zeros(0, work)
    if steps == 1:
        return _np.full(1, s0, work)
    wt = _np.dtype(work).type
    step = wt((wt(e0) - wt(s0)) / wt(steps - 1))
    idx = _np.arange(steps, dtype=work)
    half = steps // 2
    out = _np.empty(steps, work)
    # PyTorch's CPU kernel compiles start + step * idx into a fused multiply-add (one rounding): float32 through
    # float64 and float64 through long double are exact products, rounded once into the dtype
    fma = {_np.dtype(_np.float32): _np.float64, _np.dtype(_np.float64): _np.longdouble}.get(_np.dtype(work)) \
        if fused else None
    if fma is not None:
        ft = _np.dtype(fma).type
        out[:half] = ft(wt(s0)) + ft(step) * idx[:half].astype(fma)
        out[half:] = ft(wt(e0)) - ft(step) * (wt(steps - 1) - idx[half:]).astype(fma)
        return out
    out[:half] = wt(s0) + step * idx[:half]
    out[half:] = wt(e0) - step * (wt(steps - 1) - idx[half:])
    return out


def _int_cast(arr, dtype):
    """float64 values into an integer dtype: truncate toward zero, then wrap like a C cast."""
    return _np.trunc(arr).astype(_np.int64).astype(dtype)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False, layout="strided",
             pin_memory: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (``torch.linspace``)."""
    _layout(layout, pin_memory, "linspace")
    dt = _fdtype(dtype)
    arr = _linspace_array(start, end, steps, dt, "linspace")
    arr = _int_cast(arr, dt) if dt.kind in "iu" else arr.astype(dt, copy=False)
    return _finish(arr, requires_grad, device)


def logspace(start, end, steps: int, base=10.0, dtype=None, device=None, requires_grad: bool = False,
             layout="strided", pin_memory: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)`` (``torch.logspace``)."""
    _layout(layout, pin_memory, "logspace")
    dt = _fdtype(dtype)
    # unfused exponents, as before: its powers differ from PyTorch's in the last bit with or without the fma
    e = _linspace_array(start, end, steps, dt, "logspace", fused=False)
    with _np.errstate(over="ignore", invalid="ignore"):
        if dt.kind == "f":
            arr = _np.power(e.dtype.type(base), e).astype(dt, copy=False)
        else:
            arr = _int_cast(_np.power(float(base), e), dt)
    return _finish(arr, requires_grad, device)


def eye(n: int, m: int | None = None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
        pin_memory: bool = False) -> Tensor:
    _layout(layout, pin_memory, "eye")
    if device is None and _tdev._default[0] is None:        # the CPU (fast path)
        return _finish(xp.eye(n, m, dtype=_fdtype(dtype)), requires_grad)
    return _finish(_alloc("eye", device, n, m, dtype=_fdtype(dtype)), requires_grad, device)


# -- random -------------------------------------------------------------------------------------------------------
def rand(*args, size=None, generator=None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    _layout(layout, pin_memory, "rand")
    size = args if size is None else (size,)
    dt = _fdtype(dtype)
    return _finish(rng_of(generator).random(_size(size), dtype=_np.float64).astype(dt, copy=False)
                   if dt != _np.float32 else rng_of(generator).random(_size(size), dtype=_np.float32),
                   requires_grad, device)


def randn(*args, size=None, generator=None, dtype=None, layout="strided", device=None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """Standard normal samples."""
    _layout(layout, pin_memory, "randn")
    size = args if size is None else (size,)
    dt = _fdtype(dtype)
    arr = rng_of(generator).standard_normal(_size(size), dtype=_np.float32 if dt == _np.float32 else _np.float64)
    return _finish(arr.astype(dt, copy=False), requires_grad, device)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False,
            layout="strided", pin_memory: bool = False) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` or ``randint(low, high, size)``)."""
    _layout(layout, pin_memory, "randint")
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing the required argument 'size' (a tuple)")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: low ({low}) must be less than high ({high})")
    arr = rng_of(generator).integers(low, high, _size((tuple(size),) if not isinstance(size, int) else (size,)))
    return _finish(arr.astype(_dt.int64 if dtype is None else _dt.to_dtype(dtype)), requires_grad, device)


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad=False, layout="strided",
             pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    _layout(layout, pin_memory, "randperm")
    return _finish(rng_of(generator).permutation(int(n)).astype(_dt.int64 if dtype is None else _dt.to_dtype(dtype)),
                   requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or numbers with ``size``."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is None:
        shape = _np.broadcast_shapes(*(v.shape if _dev.is_device_array(v) else _np.shape(v) for v in (m, s)))
    else:
        shape = _size((size,) if isinstance(size, int) else (tuple(size),))
    if isinstance(s, (int, float)) and s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
    arrays = [a for a in (m, s) if isinstance(a, _np.ndarray) or _dev.is_device_array(a)]
    dt = _dt.to_dtype(dtype) if dtype is not None else (arrays[0].dtype if arrays else _dt.get_default_dtype())
    z = rng_of(generator).standard_normal(shape)
    ref = next((a for a in arrays if _dev.is_device_array(a)), None)
    if ref is not None:         # drawn on the host (ember's generator), moved to the parameters' device
        z = _dev.like(z, ref)
        m, s = (_dev.like(v, ref) if isinstance(v, _np.ndarray) else v for v in (m, s))
        return _finish((m + s * z).astype(dt), requires_grad, _tdev.device_of_array(ref))
    return _finish((m + s * z).astype(dt), requires_grad)


def bernoulli(input, generator=None) -> Tensor:
    """1 with probability ``p`` (elementwise, same shape and dtype as ``p``), else 0."""
    pa = input._data if isinstance(input, Tensor) else _np.asarray(input, _dt.get_default_dtype())
    if pa.size and (pa.min() < 0 or pa.max() > 1):
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    u = rng_of(generator).random(pa.shape)      # drawn on the host, compared on pa's device
    return Tensor._make((_dev.like(u, pa) < pa).astype(pa.dtype))


def multinomial(input, num_samples: int, replacement: bool = False, generator=None) -> Tensor:
    """Draw category indices from the rows of ``probs`` (non-negative weights, not necessarily normalized)."""
    ref = input._data if isinstance(input, Tensor) else None
    # a Python loop over rows with NumPy's choice: a device input is sampled on the host (host fallback)
    pa = (_dev.to_device(ref, "cpu") if ref is not None else _np.asarray(input)).astype(_np.float64)
    one = pa.ndim == 1
    pa = pa.reshape(-1, pa.shape[-1])
    if (pa < 0).any() or not _np.isfinite(pa).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    rng = rng_of(generator)
    out = _np.empty((pa.shape[0], num_samples), _np.int64)
    for r, row in enumerate(pa):
        tot = row.sum()
        if tot <= 0:
            raise RuntimeError("multinomial: invalid distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > (row > 0).sum():
            raise RuntimeError(f"multinomial: cannot sample {num_samples} without replacement from "
                               f"{int((row > 0).sum())} non-zero categories")
        out[r] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / tot)
    out = out[0] if one else out
    return Tensor._make(out if ref is None else _dev.like(out, ref))


def poisson(input, generator=None) -> Tensor:
    ra = input._data
    # drawn on the host from ember's generator (host fallback for a device input), moved back
    out = rng_of(generator).poisson(_dev.to_device(ra, "cpu")).astype(ra.dtype)
    return Tensor._make(_dev.like(out, ra))
