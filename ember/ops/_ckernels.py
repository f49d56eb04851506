"""ember's optional compiled kernels (``ember/csrc/kernels.c``), called through ctypes.

Each function here returns the kernel's result array, or None where the kernel does not apply (the library
was not built, ``EMBER_KERNELS=numpy`` is set, the dtype or layout is not the kernel's, a device array): the
caller then runs its NumPy twin, so every op works and is tested without the library.  The library loads on
the first call (``import ember`` does not pay for ctypes).  ctypes releases the GIL during a call, so large
arrays are cut among ember's threads (``_parallel_elementwise.par_apply``) and the pieces run at once.

Only a library that ``setup.py`` built from this checkout's source is loaded: it is found as the module
``ember._kernels`` inside the package, and one whose interface version is not ``VERSION`` (a stale build) is
ignored.  ``disabled()`` turns the kernels off within a block (tests run the NumPy twins with it).
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

from . import _parallel_elementwise as _pe

VERSION = 1
_lib = None
_state = {"tried": False, "on": os.environ.get("EMBER_KERNELS", "").strip().lower() not in ("numpy", "0", "off")}
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _load():
    global _lib
    _state["tried"] = True
    try:
        import ctypes
        import importlib.util
        spec = importlib.util.find_spec("ember._kernels")
        if spec is None or not spec.origin:
            return None
        lib = ctypes.CDLL(spec.origin)
        lib.ember_kernels_version.restype = ctypes.c_int
        if lib.ember_kernels_version() != VERSION:
            return None
    except (ImportError, OSError, AttributeError):
        return None
    P, L, I = ctypes.c_void_p, ctypes.c_long, ctypes.c_int
    for name, args in (("ember_gelu_f32", (P, P, L, I)), ("ember_gelu_grad_f32", (P, P, P, L, I)),
                       ("ember_gelu_f64", (P, P, L)), ("ember_gelu_grad_f64", (P, P, P, L))):
        f = getattr(lib, name)
        f.argtypes, f.restype = args, None
    _lib = lib
    return lib


def library():
    """The loaded library, or None (not built, turned off, or a stale build)."""
    if not _state["on"]:
        return None
    if _lib is None and not _state["tried"]:
        _load()
    return _lib


def available() -> bool:
    return library() is not None


@contextlib.contextmanager
def disabled():
    """Run the block with the NumPy twins of every kernel."""
    was = _state["on"]
    _state["on"] = False
    try:
        yield
    finally:
        _state["on"] = was


def _ptr(a):
    return a.__array_interface__["data"][0]


def _dense(*arrays) -> bool:
    a = arrays[0]
    return all(type(b) is np.ndarray and b.flags.c_contiguous and b.shape == a.shape and b.dtype == a.dtype
               for b in arrays)


def _run(call, shape, dtype, *operands):
    """``call(out, *operands)`` on flat, C-contiguous arrays; in pieces over ember's threads when large."""
    if operands[0].size >= _pe.SPLIT_FROM:
        out = _pe.par_apply(call, shape, dtype, *operands)
        if out is not None:
            return out
    out = np.empty(shape, dtype)
    call(out, *operands)
    return out


def gelu(x, tanh_approx: bool):
    """GELU of ``x`` (float32 both forms, float64 the exact one), or None."""
    lib = library()
    if lib is None or not _dense(x) or x.size == 0:
        return None
    if x.dtype == _F32:
        f, flag = lib.ember_gelu_f32, int(tanh_approx)
        return _run(lambda o, a: f(_ptr(a), _ptr(o), a.size, flag), x.shape, x.dtype, x)
    if x.dtype == _F64 and not tanh_approx:
        f = lib.ember_gelu_f64
        return _run(lambda o, a: f(_ptr(a), _ptr(o), a.size), x.shape, x.dtype, x)
    return None


def gelu_grad(x, g, tanh_approx: bool):
    """``g * gelu'(x)`` (the same dtypes as ``gelu``, ``g`` of ``x``'s shape and dtype), or None."""
    lib = library()
    if lib is None or not _dense(x, g) or x.size == 0:
        return None
    if x.dtype == _F32:
        f, flag = lib.ember_gelu_grad_f32, int(tanh_approx)
        return _run(lambda o, a, b: f(_ptr(a), _ptr(b), _ptr(o), a.size, flag), x.shape, x.dtype, x, g)
    if x.dtype == _F64 and not tanh_approx:
        f = lib.ember_gelu_grad_f64
        return _run(lambda o, a, b: f(_ptr(a), _ptr(b), _ptr(o), a.size), x.shape, x.dtype, x, g)
    return None
