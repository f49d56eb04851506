"""``ember.dtype``: the data types of tensors, which print, compare and answer as PyTorch's ``torch.dtype``.

    >>> print(ember.float32, ember.tensor([1, 2]).dtype)
    ember.float32 ember.int64
    >>> ember.float32.is_floating_point, ember.float32.itemsize, ember.float32.to_complex()
    (True, 4, ember.complex64)

They print with the prefix ``Size`` and the layouts use: ``torch.float32`` while the compat hook is installed
(a PyTorch program run with ``python -m ember.compat`` prints what it prints under PyTorch), ``ember.float32``
otherwise.

Each dtype wraps one NumPy dtype in its ``dtype`` attribute.  NumPy reads that attribute wherever it takes a
dtype (``np.zeros(2, ember.float32)``, ``a.astype(ember.int64)``, ``np.dtype(ember.float16)``, ufuncs'
``dtype=``), so an ember dtype passes to NumPy unchanged.  It also compares equal to, and hashes as, its NumPy
dtype (``x.dtype == np.float32``, ``{np.dtype('float32'): ...}[x.dtype]``), and carries the NumPy attributes
ember's own code reads (``kind``, ``char``, ``type``, ``name``, ``str``, ``num``); PyTorch's dtype has no
``name``, ember keeps it for NumPy's sake.  The class deliberately has no ``__getattr__``: NumPy probes a dtype
argument for attributes it lacks (``__array_interface__``, ...), and a Python-level miss there costs a
microsecond per call.

There is one object per dtype (singletons: copying and pickling give the same object back), and
``Tensor.dtype`` finds it with one dict lookup from its array's NumPy dtype (``from_numpy_dtype``).
"""
from __future__ import annotations

import numpy as np

# (PyTorch's name, the NumPy scalar type, PyTorch's abbreviation ``torch.float32.abbr``)
_TABLE = (
    ("bool", np.bool_, "b8"), ("uint8", np.uint8, "u8"), ("int8", np.int8, "i8"), ("int16", np.int16, "i16"),
    ("int32", np.int32, "i32"), ("int64", np.int64, "i64"), ("float16", np.float16, "f16"),
    ("float32", np.float32, "f32"), ("float64", np.float64, "f64"),
    # no tensor of these dtypes is made by ember's creation functions; an array of them inside a tensor still
    # reports PyTorch's name
    ("uint16", np.uint16, "u16"), ("uint32", np.uint32, "u32"), ("uint64", np.uint64, "u64"),
    ("complex64", np.complex64, "c64"), ("complex128", np.complex128, "c128"),
)


class dtype:
    """A tensor's data type (``torch.dtype``): ``ember.float32``, ``ember.int64``, ``ember.bool``, ...

    Attributes as PyTorch's: ``is_floating_point``, ``is_complex``, ``is_signed``, ``itemsize`` (bytes per
    element), ``to_real()``, ``to_complex()``; ``dtype`` is the NumPy dtype it stands for."""

    __slots__ = ("dtype", "_name", "_hash", "abbr", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "kind", "char", "type", "name", "str", "num", "byteorder", "isnative", "alignment")
    # NumPy's attributes of a plain (non-structured) dtype, which code written for NumPy dtypes may read
    names = None
    fields = None
    subdtype = None
    shape = ()
    ndim = 0
    hasobject = False
    metadata = None

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'ember.dtype' instances; use ember.float32, ember.int64, ...")

    @classmethod
    def _new(cls, name: str, npdt: np.dtype, abbr: str) -> "dtype":
        self = object.__new__(cls)
        s = object.__setattr__
        s(self, "dtype", npdt)
        s(self, "_name", name)
        s(self, "_hash", hash(npdt))
        s(self, "abbr", abbr)
        s(self, "is_floating_point", npdt.kind == "f")
        s(self, "is_complex", npdt.kind == "c")
        s(self, "is_signed", npdt.kind in "fci")
        s(self, "itemsize", npdt.itemsize)
        for attr in ("kind", "char", "type", "name", "str", "num", "byteorder", "isnative", "alignment"):
            s(self, attr, getattr(npdt, attr))
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"ember.dtype objects are immutable (cannot set {name!r})")

    def __delattr__(self, name):
        raise AttributeError(f"ember.dtype objects are immutable (cannot delete {name!r})")

    @property
    def base(self) -> "dtype":
        return self

    def __repr__(self) -> str:
        # "torch.float32" while the compat hook is installed (ember imported as torch), else "ember.float32":
        # the prefix Size and the layouts print with
        return _prefix_holder()._prefix + "." + self._name

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if spec:
            raise TypeError(f"unsupported format string passed to {_prefix_holder()._prefix}.dtype.__format__")
        return _prefix_holder()._prefix + "." + self._name

    def __eq__(self, other):
        if other.__class__ is dtype:
            return self is other or self.dtype == other.dtype
        if isinstance(other, (np.dtype, type, str)):     # NumPy's dtypes, scalar types (np.float32) and names
            try:
                return self.dtype == other
            except TypeError:
                return False
        # anything else (None, which NumPy would read as float64; a number; a tensor, which NumPy would read
        # through its .dtype) is no dtype: as PyTorch, unequal, or the other object's answer
        from .tensor import Tensor
        return False if isinstance(other, Tensor) else NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        # pickled by name, as PyTorch pickles its dtypes (``torch.float32.__reduce__() == 'float32'``)
        return (_by_name, (self._name,))

    def __copy__(self) -> "dtype":
        return self

    def __deepcopy__(self, memo) -> "dtype":
        return self

    def to_real(self) -> "dtype":
        """The real dtype of a complex dtype (complex64 -> float32); any other dtype is its own."""
        if self.is_complex:
            return _BY_NP[np.dtype(np.float32 if self.itemsize == 8 else np.float64)]
        return self

    def to_complex(self) -> "dtype":
        """The complex dtype of a floating dtype (float32 -> complex64); complex dtypes are their own."""
        if self.is_complex:
            return self
        if self.kind == "f":
            if self.itemsize == 2:
                raise RuntimeError("to_complex: ember has no complex32 (PyTorch's complex dtype of float16)")
            return _BY_NP[np.dtype(np.complex64 if self.itemsize == 4 else np.complex128)]
        raise RuntimeError(f"Unknown Complex ScalarType for {self._name}: to_complex() needs a floating or complex "
                           f"dtype")


dtype.__module__ = "ember"     # as torch.dtype's module is torch


def _prefix_holder():
    from ._tensor_support import Size
    return Size


#: NumPy dtype -> ember dtype (the dtypes PyTorch has; ``from_numpy_dtype`` adds the others as they come)
_BY_NP: dict = {}
_BY_NAME: dict[str, dtype] = {}
for _name, _sc, _abbr in _TABLE:
    _d = dtype._new(_name, np.dtype(_sc), _abbr)
    _BY_NP[_d.dtype] = _d
    _BY_NAME[_name] = _d
del _name, _sc, _abbr, _d

bool_ = _BY_NAME["bool"]
uint8 = _BY_NAME["uint8"]
int8 = _BY_NAME["int8"]
int16 = _BY_NAME["int16"]
int32 = _BY_NAME["int32"]
int64 = _BY_NAME["int64"]
float16 = _BY_NAME["float16"]
float32 = _BY_NAME["float32"]
float64 = _BY_NAME["float64"]


def from_numpy_dtype(npdt):
    """The ember dtype of the NumPy dtype ``npdt`` (``Tensor.dtype`` inlines this): one dict lookup.  A
    byte-swapped dtype maps to its native one's ember dtype; a NumPy dtype PyTorch has no counterpart for (a
    string, a structured dtype) maps to itself."""
    try:
        return _BY_NP[npdt]
    except KeyError:
        pass
    if not isinstance(npdt, np.dtype):
        raise TypeError(f"expected a NumPy dtype, got {npdt!r}")
    native = npdt if npdt.isnative else npdt.newbyteorder("=")
    d = _BY_NP.get(native, native)
    _BY_NP[npdt] = d
    return d


def _by_name(name: str) -> dtype:
    """The dtype named ``name`` ('float32'): what an ember dtype unpickles to."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"ember.dtype: no dtype named {name!r}") from None


def get_default_dtype() -> dtype:
    """The dtype of new floating tensors (float32 unless changed), like ``torch.get_default_dtype``."""
    from .backend import dtypes
    return from_numpy_dtype(dtypes._default_float)


def promote_types(type1, type2) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without loss, PyTorch's ``promote_types``."""
    from .backend.dtypes import promote_types as _promote
    return from_numpy_dtype(_promote(type1, type2))


def result_type(*operands) -> dtype:
    """The dtype of an op's result over ``operands`` (tensors or Python numbers), PyTorch's ``result_type``."""
    from .backend.dtypes import result_type as _result
    return from_numpy_dtype(_result(*operands))

