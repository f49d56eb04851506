"""A NumPy-backed stand-in for CuPy: the device path of every op, runnable on a machine without a GPU.

``ndarray`` wraps a NumPy array and behaves as a CuPy array does towards NumPy code: NumPy ufuncs and array
functions called on it dispatch to it (``__array_ufunc__``, ``__array_function__``) and return device arrays;
mixing it with a NumPy array raises ``TypeError`` (CuPy refuses host arrays); ``np.asarray(device_array)``
raises (CuPy refuses implicit transfers; ``.get()`` / ``asnumpy`` are the explicit ones).  The module namespace
answers ``fake.zeros(...)``, ``fake.asarray(...)``, ``fake.cuda.Device(0)``, ... like ``cupy``.

Each leak of a host array into device work therefore fails loudly here, and since the arithmetic is NumPy's,
a device result must equal the CPU result bit for bit.  Install with ``ember.backend.device.register_cuda_module
(fake_cupy.module)``; ``module.transfers`` counts host<->device copies.
"""
from __future__ import annotations

import types

import numpy as np

_nd = np.ndarray


class _Dev:
    __slots__ = ("id",)

    def __init__(self, i=0):
        self.id = i

    def __eq__(self, other):
        return isinstance(other, _Dev) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


_DEV0 = _Dev(0)


def _host_error(x):
    return TypeError(f"Unsupported type {type(x)} (fake CuPy: a NumPy array met a device array; ember must move "
                     f"it with the device module first)")


def _un(x):
    """Unwrap device arrays for NumPy; a host ndarray here is a leak and raises."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is _nd or (isinstance(x, _nd)):
        raise _host_error(x)
    if t is tuple or t is list:
        return t(_un(v) for v in x)
    if t is dict:
        return {k: _un(v) for k, v in x.items()}
    return x


def _un_lenient(x):
    """Unwrap for functions that take host data (``asarray``): host arrays pass."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is tuple or t is list:
        return t(_un_lenient(v) for v in x)
    return x


def _wrap(r):
    t = type(r)
    if t is _nd:
        return ndarray(r)
    if isinstance(r, np.generic) and not isinstance(r, (np.str_, np.bytes_)):
        return ndarray(np.asarray(r))            # CuPy returns 0-d arrays, never NumPy scalars
    if t is tuple or t is list:
        return t(_wrap(v) for v in r)
    if hasattr(r, "_fields") and isinstance(r, tuple):   # namedtuple results (np.linalg.eigh, ...)
        return t(*(_wrap(v) for v in r))
    return r


class _Flags:
    """CuPy's ``ndarray.flags`` (before CuPy 14): ``c_contiguous``, ``f_contiguous`` and ``owndata``, read-only
    (no ``writeable``: CuPy arrays are always writable, and the flag cannot be set)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, f):
        for k in self.__slots__:
            object.__setattr__(self, k, bool(getattr(f, k)))

    def __setattr__(self, name, value):
        raise AttributeError(f"CuPy's ndarray.flags are read-only (cannot set {name!r})")

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


class ndarray:
    """A device array: a NumPy array behind CuPy's manners."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100

    def __init__(self, a):
        if type(a) is not _nd:
            a = np.asarray(a)
        self._a = a

    # -- CuPy's explicit transfers, implicit ones refused
    def get(self, stream=None, order="C", out=None):
        module.transfers += 1
        return np.array(self._a, order=order, copy=True)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly.")

    @property
    def device(self):
        return _DEV0

    # -- protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if method == "at":
            _check_at(ufunc, inputs[0])
        r = getattr(ufunc, method)(*_un(inputs), **_un(kwargs))
        if out is not None and method != "at":
            return out[0] if len(out) == 1 else out      # the caller's own device arrays, written in place
        return _wrap(r)

    def __array_function__(self, func, types_, args, kwargs):
        if func in _NO_DISPATCH:
            return NotImplemented
        r = _CUPY_LIKE.get(func, func)(*_un(args), **_un(kwargs))
        if "out" in kwargs and kwargs["out"] is not None:
            return kwargs["out"]
        return _wrap(r)

    # -- metadata
    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    strides = property(lambda s: s._a.strides)
    itemsize = property(lambda s: s._a.itemsize)
    nbytes = property(lambda s: s._a.nbytes)
    flags = property(lambda s: _Flags(s._a.flags))
    T = property(lambda s: ndarray(s._a.T))
    real = property(lambda s: ndarray(s._a.real))
    imag = property(lambda s: ndarray(s._a.imag))

    @property
    def data(self):
        """CuPy's ``MemoryPointer``: the device address of the first element as ``ptr``."""
        return types.SimpleNamespace(ptr=self._a.__array_interface__["data"][0])

    @property
    def base(self):
        b = self._a.base
        return None if b is None else ndarray(b) if type(b) is _nd else b

    def __getattr__(self, name):
        if name.startswith("__"):       # __array_interface__, __array_struct__, buffers: no host views
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            def method(*args, **kwargs):
                return _wrap(attr(*_un(args), **_un(kwargs)))
            return method
        return _wrap(attr)

    # -- Python protocols
    def __len__(self):
        return len(self._a)

    def __iter__(self):
        for row in self._a:
            yield _wrap(row)

    def __getitem__(self, key):
        return _wrap(self._a[_un(key)])

    def __setitem__(self, key, value):
        self._a[_un(key)] = _un(value)

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return "fake_cupy." + repr(self._a)

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())

    def __reduce__(self):
        raise TypeError("fake CuPy arrays are not pickled (ember never pickles tensors)")

    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()


def _op(ufunc, reflected=False):
    if reflected:
        return lambda self, other: ufunc(other, self)
    return lambda self, other: ufunc(self, other)


def _iop(ufunc):
    def f(self, other):
        ufunc(self._a, _un(other), out=self._a)
        return self
    return f


for _name, _uf in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
                   "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "and": np.bitwise_and,
                   "or": np.bitwise_or, "xor": np.bitwise_xor, "lshift": np.left_shift,
                   "rshift": np.right_shift, "matmul": np.matmul}.items():
    setattr(ndarray, f"__{_name}__", _op(_uf))
    setattr(ndarray, f"__r{_name}__", _op(_uf, True))
    setattr(ndarray, f"__i{_name}__", _iop(_uf))
for _name, _uf in {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                   "eq": np.equal, "ne": np.not_equal}.items():
    setattr(ndarray, f"__{_name}__", _op(_uf))
ndarray.__hash__ = None
ndarray.__neg__ = lambda s: np.negative(s)
ndarray.__pos__ = lambda s: np.positive(s)
ndarray.__abs__ = lambda s: np.absolute(s)
ndarray.__invert__ = lambda s: np.invert(s)
ndarray.__divmod__ = lambda s, o: np.divmod(s, o)

# CuPy's ``ufunc.at`` (cupyx.scatter_add and friends) runs on CUDA atomics: these ufuncs and dtypes only
_AT_DTYPES = {"add": "iILQefd", "subtract": "iILQfd", "maximum": "iILQfd", "minimum": "iILQfd",
              "bitwise_and": "iILQ", "bitwise_or": "iILQ", "bitwise_xor": "iILQ"}


def _check_at(ufunc, a):
    ok = _AT_DTYPES.get(ufunc.__name__)
    if ok is None or not any(np.dtype(c) == a.dtype for c in ok):
        raise TypeError(f"fake CuPy: {ufunc.__name__}.at is not supported for dtype {a.dtype} (CuPy's atomics: "
                        f"{ok or 'none'})")


# functions NumPy must not hand to the device array (none so far)
_NO_DISPATCH: set = set()

# CuPy's module functions that take host data
_HOST_OK = {"asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray", "array_equal"}


class _Cuda(types.SimpleNamespace):
    pass


def _stream():
    return types.SimpleNamespace(synchronize=lambda: None)


class _Pool:
    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


_POOL = _Pool()


class _Runtime:
    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDeviceProperties(i):
        return {"name": b"fake CUDA device (NumPy)", "totalGlobalMem": 1 << 30, "major": 8, "minor": 0,
                "multiProcessorCount": 1}

    @staticmethod
    def getDevice():
        return 0


class _FakeModule(types.ModuleType):
    ndarray = ndarray

    def __init__(self):
        super().__init__("fake_cupy")
        self.transfers = 0
        self.cuda = _Cuda(Device=_Device, runtime=_Runtime, get_current_stream=_stream,
                          get_default_memory_pool=lambda: _POOL, MemoryPool=_Pool)
        self.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
        self.random = _Random()
        self.linalg = _Sub(np.linalg)
        self.fft = _Sub(np.fft)

    def get_default_memory_pool(self):
        return _POOL

    def asnumpy(self, a, stream=None, order="C", out=None):
        if type(a) is ndarray:
            self.transfers += 1
            return np.array(a._a, order=order, copy=True)
        return np.asarray(a)

    def get_array_module(self, *args):
        return self if any(type(a) is ndarray for a in args) else np

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        obj = getattr(np, name)
        if isinstance(obj, np.ufunc):
            return obj          # np ufuncs dispatch to ndarray.__array_ufunc__ themselves
        if isinstance(obj, type) or not callable(obj):
            return obj          # dtypes, constants
        lenient = name in _HOST_OK

        def f(*args, **kwargs):
            if lenient and any(isinstance(a, _nd) for a in args):
                self.transfers += 1
            un = _un_lenient if lenient else _un
            return _wrap(obj(*un(args), **un(kwargs)))
        f.__name__ = name
        return f


# CuPy's linalg errstate is 'ignore' by default: a failed factorization raises nothing (NumPy raises
# LinAlgError); inv/solve return inf/NaN after a zero pivot, cholesky (potrf) stops at the first non-positive
# pivot, which it leaves on the diagonal, the later columns unfactored.  The stand-in does the same.
def _per_matrix(fn, out, *arrays):
    for i in np.ndindex(out.shape[:-2]):
        try:
            out[i] = fn(*(x[i] for x in arrays))
        except np.linalg.LinAlgError:
            if fn is np.linalg.cholesky:
                out[i] = _potrf_stopped(arrays[0][i])
    return out


def _potrf_stopped(m):
    L = np.tril(m).astype(m.dtype)
    for j in range(m.shape[-1]):
        ajj = L[j, j] - L[j, :j] @ L[j, :j]
        if not ajj > 0:
            L[j, j] = ajj
            return L
        L[j, j] = np.sqrt(ajj)
        L[j + 1:, j] = (L[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return L


def _silent_inv(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return _per_matrix(np.linalg.inv, np.full(a.shape, np.nan, a.dtype), a)


def _silent_solve(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return _per_matrix(np.linalg.solve, np.full(b.shape, np.nan, np.result_type(a, b)), a, b)


def _silent_cholesky(a, **kw):
    try:
        return np.linalg.cholesky(a, **kw)
    except np.linalg.LinAlgError:
        return _per_matrix(np.linalg.cholesky, np.empty_like(a), a)


_CUPY_LIKE = {np.linalg.inv: _silent_inv, np.linalg.solve: _silent_solve, np.linalg.cholesky: _silent_cholesky}


class _Sub:
    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        obj = getattr(self._mod, name)
        obj = _CUPY_LIKE.get(obj, obj)
        if not callable(obj) or isinstance(obj, type):
            return obj

        def f(*args, **kwargs):
            return _wrap(obj(*_un(args), **_un(kwargs)))
        return f


class _Random:
    def __init__(self):
        self._rs = np.random.RandomState(0)

    def seed(self, s=None):
        self._rs = np.random.RandomState(s)

    def __getattr__(self, name):
        obj = getattr(self._rs, name)

        def f(*args, **kwargs):
            return _wrap(obj(*_un(args), **_un(kwargs)))
        return f


def _as_strided(x, shape=None, strides=None):
    return ndarray(np.lib.stride_tricks.as_strided(_un(x), shape, strides))


class _Device:
    def __init__(self, i=0):
        self.id = 0 if i is None else int(i)

    def __enter__(self):
        if self.id != 0:
            raise RuntimeError(f"fake CuPy has one device; cuda:{self.id} requested")
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        pass

    def use(self):
        pass


module = _FakeModule()
