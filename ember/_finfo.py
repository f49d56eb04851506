"""``ember.finfo`` / ``ember.iinfo``: the limits of a floating or integer dtype, with PyTorch's attributes
(``torch.finfo``: bits, eps, max, min, tiny, smallest_normal, resolution, dtype; ``torch.iinfo``: bits, max, min,
dtype), its errors and its repr.

    ember.finfo(ember.float32).eps        # 1.1920928955078125e-07
    ember.finfo().tiny                    # of the default dtype
    ember.iinfo(ember.int64).max          # 9223372036854775807
"""
from __future__ import annotations

import builtins

import numpy as np

from ._dtype import dtype as _EmberDtype

_PY_TYPES = {builtins.float: np.dtype(np.float64), builtins.int: np.dtype(np.int64),
             builtins.bool: np.dtype(np.bool_)}


def _dtype_arg(cls_name, type):      # noqa: A002 - PyTorch's parameter name
    if isinstance(type, np.dtype):
        return type
    if isinstance(type, _EmberDtype):       # ember.float32 & co. (ember/_dtype.py)
        return type.dtype
    if type in _PY_TYPES:
        return _PY_TYPES[type]
    raise TypeError(f"{cls_name}(): argument 'type' (position 1) must be ember.dtype, not "
                    f"{builtins.type(type).__name__}")


class finfo:
    """Machine limits of a floating dtype (``torch.finfo``); ``finfo()`` describes the default dtype."""

    __slots__ = ("_bits", "_eps", "_max", "_min", "_tiny", "_resolution", "_dtype")
    __hash__ = None                  # as torch.finfo: compared by value, not hashable

    def __init__(self, type=None):   # noqa: A002 - PyTorch's parameter name
        if type is None:
            from .backend.dtypes import get_default_dtype
            type = get_default_dtype()
        d = _dtype_arg("finfo", type)
        if d.kind != "f":
            raise TypeError("ember.finfo() requires a floating point input type. Use ember.iinfo to handle "
                            f"'{d}' (got ember.{d.name if d.kind != 'b' else 'bool'})")
        fi = np.finfo(d)
        object.__setattr__(self, "_bits", d.itemsize * 8)
        object.__setattr__(self, "_eps", float(fi.eps))
        object.__setattr__(self, "_max", float(fi.max))
        object.__setattr__(self, "_min", float(fi.min))
        object.__setattr__(self, "_tiny", float(fi.smallest_normal))
        object.__setattr__(self, "_resolution", 10.0 ** -int(fi.precision))   # PyTorch: 10 ** -digits10
        object.__setattr__(self, "_dtype", d.name)

    bits = property(lambda self: self._bits, doc="The number of bits of the type.")
    eps = property(lambda self: self._eps, doc="The gap between 1.0 and the next representable number.")
    max = property(lambda self: self._max, doc="The largest finite number.")
    min = property(lambda self: self._min, doc="The most negative finite number (-max).")
    tiny = property(lambda self: self._tiny, doc="The smallest positive normal number (as smallest_normal).")
    smallest_normal = property(lambda self: self._tiny, doc="The smallest positive normal number.")
    resolution = property(lambda self: self._resolution, doc="10 ** -(the decimal digits of precision).")
    dtype = property(lambda self: self._dtype, doc="The dtype's name, e.g. 'float32'.")

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'ember.finfo' objects is not writable")

    def __eq__(self, other):
        return builtins.type(other) is finfo and other._dtype == self._dtype

    def __repr__(self):
        return (f"finfo(resolution={self._resolution:g}, min={self._min:g}, max={self._max:g}, eps={self._eps:g}, "
                f"smallest_normal={self._tiny:g}, tiny={self._tiny:g}, dtype={self._dtype})")


class iinfo:
    """Limits of an integer dtype (``torch.iinfo``)."""

    __slots__ = ("_bits", "_max", "_min", "_dtype")
    __hash__ = None

    def __init__(self, type):        # noqa: A002 - PyTorch's parameter name
        d = _dtype_arg("iinfo", type)
        if d.kind == "b":
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if d.kind not in "iu":
            raise TypeError("ember.iinfo() requires an integer input type. Use ember.finfo to handle "
                            f"'{d}' (got ember.{d.name})")
        ii = np.iinfo(d)
        object.__setattr__(self, "_bits", d.itemsize * 8)
        object.__setattr__(self, "_max", int(ii.max))
        object.__setattr__(self, "_min", int(ii.min))
        object.__setattr__(self, "_dtype", d.name)

    bits = property(lambda self: self._bits, doc="The number of bits of the type.")
    max = property(lambda self: self._max, doc="The largest value.")
    min = property(lambda self: self._min, doc="The smallest value.")
    dtype = property(lambda self: self._dtype, doc="The dtype's name, e.g. 'int64'.")

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'ember.iinfo' objects is not writable")

    def __eq__(self, other):
        return builtins.type(other) is iinfo and other._dtype == self._dtype

    def __repr__(self):
        return f"iinfo(min={builtins.float(self._min):g}, max={builtins.float(self._max):g}, dtype={self._dtype})"
