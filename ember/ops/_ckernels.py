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

VERSION = 3
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
                       ("ember_gelu_f64", (P, P, L)), ("ember_gelu_grad_f64", (P, P, P, L)),
                       ("ember_exp_f32", (P, P, L)), ("ember_exp_f64", (P, P, L)), ("ember_tanh_f32", (P, P, L)),
                       ("ember_lstm_pointwise_f32", (P, L) * 5 + (L, L)),
                       ("ember_lstm_pointwise_f64", (P, L) * 5 + (L, L)),
                       ("ember_lstm_backward_pointwise_f32", (P, L) * 8 + (L, L)),
                       ("ember_lstm_backward_pointwise_f64", (P, L) * 8 + (L, L))):
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


def unary(name, x):
    """The kernels' own ``exp`` (float32, float64) or ``tanh`` (float32) over ``x``, or None: what the fused
    kernels use inside, exposed for their accuracy tests."""
    lib = library()
    if lib is None or not _dense(x) or x.dtype not in (_F32, _F64):
        return None
    f = getattr(lib, f"ember_{name}_{'f32' if x.dtype == _F32 else 'f64'}", None)
    if f is None:
        return None
    out = np.empty_like(x)
    f(_ptr(x), _ptr(out), x.size)
    return out


def _rows(a, n, width, dtype) -> bool:
    """``a`` is an (n, width) array of ``dtype`` whose rows are contiguous (any row stride)."""
    return (type(a) is np.ndarray and a.dtype == dtype and a.shape == (n, width) and
            (width <= 1 or a.strides[1] == dtype.itemsize) and (n <= 1 or a.strides[0] >= 0))


def lstm_pointwise(z, c_prev, c, tc, h) -> bool:
    """One LSTM step's pointwise work in one call, as ``rnn_cell._lstm_gates_`` and the state update compute
    it: ``z`` (n, 4H), the gates' pre-activations scaled by -1 (i, f, o) and -2 (g), becomes the activated
    gates; ``c = f c_prev + i g``, ``tc = tanh(c)``, ``h = o tc`` are written into the (n, H) arrays given.
    Row strides may be any (views of the layers' step buffers), columns contiguous.  False where the kernel
    does not apply (the caller then runs its NumPy steps)."""
    lib = library()
    dt = z.dtype
    if lib is None or (dt != _F32 and dt != _F64) or z.ndim != 2:
        return False
    n, H4 = z.shape
    H = H4 // 4
    if not (_rows(z, n, H4, dt) and all(_rows(a, n, H, dt) for a in (c_prev, c, tc, h))):
        return False
    f = lib.ember_lstm_pointwise_f32 if dt == _F32 else lib.ember_lstm_pointwise_f64
    k = dt.itemsize
    f(_ptr(z), z.strides[0] // k, _ptr(c_prev), c_prev.strides[0] // k, _ptr(c), c.strides[0] // k,
      _ptr(tc), tc.strides[0] // k, _ptr(h), h.strides[0] // k, n, H)
    return True


def lstm_backward_pointwise(g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out) -> bool:
    """One LSTM step's pointwise backward in one call, as ``rnn._lstm_backward_rows`` computes it (the same
    operations in the same order: its bits): from the activated gates ``g`` (n, 4H) and the (n, H) arrays
    ``c_prev``, ``tc`` = tanh(c), ``dout``, ``dh_next``, ``dc_next``, writes the pre-activation gradient
    ``dz`` (n, 4H) and ``dc_out`` = dc f (n, H), which must not overlap an input.  False where the kernel
    does not apply."""
    lib = library()
    dt = g.dtype
    if lib is None or (dt != _F32 and dt != _F64) or g.ndim != 2:
        return False
    n, H4 = g.shape
    H = H4 // 4
    if not (_rows(g, n, H4, dt) and _rows(dz, n, H4, dt) and
            all(_rows(a, n, H, dt) for a in (c_prev, tc, dout, dh_next, dc_next, dc_out))):
        return False
    f = lib.ember_lstm_backward_pointwise_f32 if dt == _F32 else lib.ember_lstm_backward_pointwise_f64
    k = dt.itemsize
    args = [v for a in (g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out) for v in (_ptr(a), a.strides[0] // k)]
    spans = [(args[2 * j], args[2 * j] + ((n - 1) * args[2 * j + 1] + w) * k)
             for j, w in enumerate((H4, H, H, H, H, H, H4, H))]
    for lo, hi in spans[6:]:                  # an output overlapping an input or the other output: NumPy's steps
        if any(lo < b_hi and b_lo < hi for b_lo, b_hi in spans if (b_lo, b_hi) != (lo, hi)):
            return False
    f(*args, n, H)
    return True
