"""dtypes and PyTorch's type-promotion rules.

Inside ember a dtype is a NumPy dtype: the constants here (``float32``, ...) and what ``to_dtype`` and the promotion
functions return.  The public ones (``ember.float32``, ``Tensor.dtype``, ``ember.get_default_dtype()``) are
``ember.dtype`` objects (ember/_dtype.py), which print as PyTorch's and wrap these; ``to_dtype`` takes either and
gives the NumPy dtype, and the two compare and hash equal.  Promotion follows PyTorch rather than NumPy: a Python scalar, or a 0-d
tensor, never widens a dimensioned tensor of the same kind (``float32 tensor * 2.5`` stays float32), and an
integer tensor meeting a float tensor takes the float tensor's dtype (NumPy would give float64).
"""
from __future__ import annotations

import math

import numpy as np

from . import device as _dev
from .._dtype import dtype as _EmberDtype

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

default_int = int64
_default_float = float32

_ALIASES = {
    "float": float32, "float32": float32, "double": float64, "float64": float64, "half": float16,
    "float16": float16, "int": int32, "int32": int32, "long": int64, "int64": int64, "short": int16,
    "int16": int16, "int8": int8, "uint8": uint8, "bool": bool_,
    float: float64, int: int64, bool: bool_,
}


def get_default_dtype() -> np.dtype:
    """The dtype of new floating tensors (float32 unless changed), as a NumPy dtype (ember's own code);
    ``ember.get_default_dtype`` gives the ``ember.dtype``."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float32 or float64), like ``torch.set_default_dtype``."""
    global _default_float
    d = to_dtype(d)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype expected a floating dtype, got {d}")
    _default_float = d


def to_dtype(dtype) -> np.dtype:
    """Turn anything dtype-like (ember/NumPy dtype, 'float32', Python ``float``) into a NumPy dtype."""
    if dtype is None:
        return _default_float
    if isinstance(dtype, np.dtype):
        return dtype
    if dtype.__class__ is _EmberDtype:
        return dtype.dtype
    d = _ALIASES.get(dtype)
    if d is not None:
        return d
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype (e.g. ember.float32), got {dtype!r}") from None


def _category(d: np.dtype) -> int:
    k = d.kind
    return 0 if k == "b" else (2 if k in "fc" else 1)


def is_floating(d) -> bool:
    return np.dtype(d).kind == "f"


def is_integer(d) -> bool:
    return np.dtype(d).kind in "iu"


def promote_types(type1, type2) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without loss, PyTorch's ``promote_types``."""
    a, b = to_dtype(type1), to_dtype(type2)
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _scalar_dtype(x) -> np.dtype:
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _default_float
    if isinstance(x, complex):
        return np.dtype(np.complex64)
    dt = getattr(x, "dtype", None)           # arrays of any device, NumPy scalars
    return dt if isinstance(dt, np.dtype) else np.asarray(x).dtype


def result_type(*operands) -> np.dtype:
    """PyTorch's result dtype for an op over tensors/arrays and Python scalars.

    Three priority groups: dimensioned tensors, then 0-d tensors, then Python scalars.  The result kind
    (bool < integer < float) is the highest kind present; the dtype comes from the highest-priority group
    that holds that kind, promoted within the group.
    """
    groups: tuple[list, list, list] = ([], [], [])
    for x in operands:
        a = getattr(x, "_data", x)
        if isinstance(a, np.ndarray):
            groups[0 if a.ndim else 1].append(a.dtype)
        elif isinstance(a, np.generic):
            groups[1].append(a.dtype)
        elif _dev.is_device_array(a):         # a CuPy array: a tensor as well
            groups[0 if a.ndim else 1].append(a.dtype)
        else:
            groups[2].append(_scalar_dtype(a))
    cat = max(_category(d) for g in groups for d in g)
    for g in groups:
        same = [d for d in g if _category(d) == cat]
        if same:
            r = same[0]
            for d in same[1:]:
                r = np.promote_types(r, d)
            return r
    raise AssertionError("unreachable")


# -- error classes that read as PyTorch's --------------------------------------------------------------------
class DtypeNotImplementedError(NotImplementedError, TypeError):
    """An op PyTorch does not implement for a dtype (``"abs_cpu" not implemented for 'Bool'``): a
    NotImplementedError (so a RuntimeError, as in PyTorch) that is also a TypeError."""


class DtypeRuntimeError(RuntimeError, TypeError):
    """A dtype PyTorch rejects with a RuntimeError (``-`` on a bool tensor): also a TypeError."""


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """Integer ``//``, ``%``, ``fmod`` or ``remainder`` by zero: PyTorch raises RuntimeError("ZeroDivisionError")."""


_IBOUNDS = {d: (int(np.iinfo(d).min), int(np.iinfo(d).max)) for d in (uint8, int8, int16, int32, int64)}


def wrap_int(v: int, d: np.dtype) -> int:
    """A Python int as the integer dtype ``d`` holds it (two's-complement wrap-around, as PyTorch casts an
    out-of-range scalar: ``uint8_tensor + -1`` adds 255)."""
    lo, hi = _IBOUNDS[d]
    if lo <= v <= hi:
        return v
    bits = d.itemsize * 8
    v &= (1 << bits) - 1
    if lo < 0 and v > hi:
        v -= 1 << bits
    return v


def int_bounds(d: np.dtype):
    """(min, max) of an integer dtype, or None for other dtypes."""
    return _IBOUNDS.get(d)


def checked_scalar(v, d: np.dtype, op: str):
    """A Python number converted to the integer dtype ``d`` as PyTorch converts a Scalar argument that must fit
    (pow's exponent, clamp's bounds, linspace's ends): floats truncate toward zero and must be in range; ints
    must be in range, except that a negative int down to -max fits an unsigned dtype (and wraps there).
    Other dtypes: ``v`` unchanged."""
    b = _IBOUNDS.get(d)
    if b is None:
        return v
    lo, hi = b
    if isinstance(v, (float, np.floating)):
        if not (lo <= v <= hi):
            raise RuntimeError(f"{op}: value {v} cannot be converted to type {d} without overflow")
        return int(v)
    v = int(v)
    if v > hi or (v < -hi if lo == 0 else v < lo):
        raise RuntimeError(f"{op}: value {v} cannot be converted to type {d} without overflow")
    return wrap_int(v, d)


def checked_float_scalar(v, d: np.dtype, op: str):
    """PyTorch's range check of a Python number converted to a float16/float32 Scalar argument (pow's exponent,
    clamp's bounds, fill values): a finite value beyond the dtype's largest magnitude raises (inf and NaN pass);
    returns ``v``."""
    if d not in (np.float16, np.float32) or isinstance(v, (bool, np.bool_)):
        return v
    try:
        f = float(v)
    except OverflowError:       # an int beyond float64
        f = math.inf
        finite = True
    else:
        finite = math.isfinite(f)
    if finite and abs(f) > float(np.finfo(d).max):
        raise RuntimeError(f"{op}: value {v} cannot be converted to type {d} without overflow")
    return v


def can_cast(from_, to) -> bool:
    """PyTorch's ``can_cast`` (the rule for in-place results and ``out=``): any cast within or up the kinds
    bool < integer < float is allowed (int64 -> uint8 and float64 -> float16 too); float -> integer and
    integer/float -> bool are not."""
    return _category(to_dtype(from_)) <= _category(to_dtype(to))
