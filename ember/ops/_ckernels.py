"""ember's optional compiled kernels (``ember/csrc``: the kernels in ``kernels.c``; the module
``ember._kernels``, which checks the arrays and runs them, in ``module.c``).

Each function here returns the kernel's result (an array, or True for the kernels that write into arrays
given), or None / False where the kernel does not apply: the module was not built (no C compiler when ember
was installed), ``EMBER_KERNELS=numpy`` is set, or the dtype, layout or device is not the kernel's.  The
caller then runs its NumPy twin, so every op works and is tested without the module.  The module is imported
on the first call (``import ember`` does not pay for it); one whose ``VERSION`` is not this file's (a build
from another checkout) is not used.  The kernels run with the GIL released, so large arrays are cut among
ember's threads (``_parallel_elementwise.par_apply``) and the pieces run at once.  ``disabled()`` turns the
kernels off within a block (the tests run the NumPy twins with it).
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

from . import _parallel_elementwise as _pe

VERSION = 17
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_mod = None
_state = {"tried": False, "on": os.environ.get("EMBER_KERNELS", "").strip().lower() not in ("numpy", "0", "off")}


def _load():
    global _mod
    _state["tried"] = True
    try:
        from .. import _kernels as mod
    except ImportError:
        return None
    _state["found"] = getattr(mod, "VERSION", None)
    if _state["found"] == VERSION:
        _mod = mod
    return _mod


def module():
    """The compiled module, or None (not built, turned off, or from another checkout)."""
    if not _state["on"]:
        return None
    if _mod is None and not _state["tried"]:
        _load()
    return _mod


def available() -> bool:
    return module() is not None


def status() -> str:
    """One line on the kernels for ``ember info``: in use, turned off, not built, or a stale build."""
    if not _state["on"]:
        return "off (EMBER_KERNELS=numpy or disabled(): NumPy runs every op)"
    if module() is not None:
        return f"in use (ember._kernels, version {VERSION})"
    if _state.get("found") is not None:
        return (f"a stale build (version {_state['found']}, this checkout's is {VERSION}): NumPy runs every op; "
                f"rebuild with `pip install -e .` (or `make install`)")
    return "not built (no C compiler when ember was installed): NumPy runs every op"


@contextlib.contextmanager
def disabled():
    """Run the block with the NumPy twins of every kernel."""
    was = _state["on"]
    _state["on"] = False
    try:
        yield
    finally:
        _state["on"] = was


def _takes(x) -> bool:
    """Whether ``x`` is an array the kernels read: a non-empty C-contiguous float32/float64 NumPy array (checked
    before anything is allocated for it; the module checks every operand again)."""
    return type(x) is np.ndarray and (x.dtype == _F32 or x.dtype == _F64) and x.size > 0 and x.flags.c_contiguous


def _elementwise(kernel, x, *operands, cheap=False):
    """``kernel(x, *operands, out)`` into a new array of x's shape and dtype (in pieces over ember's threads
    when large; ``cheap``: a one-pass kernel, split from the sizes of NumPy's cheap ufuncs); None where the
    kernel does not take these arrays."""
    if not _takes(x):
        return None
    if x.size >= _pe.SPLIT_FROM:
        ran = []
        out = _pe.par_apply(lambda o, *a: ran.append(kernel(*a, o)), x.shape, x.dtype, x, *operands, cheap=cheap)
        if out is not None and ran and all(ran):
            return out
    out = np.empty(x.shape, x.dtype)
    return out if kernel(x, *operands, out) else None


def gelu(x, tanh_approx: bool):
    """GELU of ``x`` (float32 both forms, float64 the exact one), or None."""
    return unary("gelu_tanh" if tanh_approx else "gelu", x)


def gelu_grad(x, g, tanh_approx: bool):
    """``g * gelu'(x)`` (the dtypes of ``gelu``; ``g`` of ``x``'s shape and dtype), or None."""
    return unary_grad("gelu_tanh" if tanh_approx else "gelu", x, g)


def unary(name, x):
    """``name`` over ``x``: "sigmoid", "silu", "gelu", "relu" (float32, float64), "gelu_tanh" (float32), as the
    NumPy twins compute them, or the kernels' own "exp" (float32, float64) and "tanh" (float32), exposed for
    their accuracy tests; None where the kernel does not apply."""
    m = module()
    if m is None:
        return None
    return _elementwise(lambda a, o: m.unary(name, a, o), x, cheap=name == "relu")


def unary_grad(name, x, g):
    """``g * name'(x)`` ("silu", "gelu", "gelu_tanh"; "relu" from its output ``x``: ``where(x <= 0, 0, g)``),
    or None."""
    m = module()
    if m is None or type(g) is not np.ndarray or g.shape != x.shape:
        return None
    return _elementwise(lambda a, b, o: m.unary_grad(name, a, b, o), x, g, cheap=name == "relu")


def lstm_pointwise(z, c_prev, c, tc, h) -> bool:
    """One LSTM step's pointwise work in one call, as ``rnn_cell._lstm_gates_`` and the state update compute
    it: ``z`` (n, 4H), the gates' pre-activations scaled by -1 (i, f, o) and -2 (g), becomes the activated
    gates; ``c = f c_prev + i g``, ``tc = tanh(c)``, ``h = o tc`` are written into the (n, H) arrays given
    (rows contiguous, any row stride: views of the layers' step buffers).  False where the kernel does not
    apply (the caller then runs its NumPy steps)."""
    m = module()
    return m is not None and m.lstm_pointwise(z, c_prev, c, tc, h)


def lstm_backward_pointwise(g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out) -> bool:
    """One LSTM step's pointwise backward in one call, as ``rnn._lstm_backward_rows`` computes it (the same
    operations in the same order: its bits): from the activated gates ``g`` (n, 4H) and the (n, H) arrays
    ``c_prev``, ``tc`` = tanh(c), ``dout``, ``dh_next``, ``dc_next``, writes the pre-activation gradient
    ``dz`` (n, 4H) and ``dc_out`` = dc f (n, H).  False where the kernel does not apply."""
    m = module()
    return m is not None and m.lstm_backward_pointwise(g, c_prev, tc, dout, dh_next, dc_next, dz, dc_out)


def blas_gemm():
    """(sgemm address, dgemm address, ilp64) of the BLAS that NumPy calls, for the kernels that make their own
    GEMM calls (the LSTM layer's loops), or None where it is not known: no threadpoolctl, a BLAS other than
    OpenBLAS (MKL, Accelerate), or one that does not say its integer width.  OpenBLAS's CBLAS functions carry
    its symbol affixes (NumPy's wheels: ``scipy_cblas_sgemm64_``); ``openblas_get_config`` names the ILP64
    builds (USE64BITINT: 64-bit M, N, K and leading dimensions).  Looked up once."""
    if "blas" not in _state:
        _state["blas"] = _find_blas()
    return _state["blas"]


def _find_blas():
    import ctypes
    from . import _parallel
    libs = _parallel._controllers()
    if len(libs) != 1 or libs[0].internal_api != "openblas":
        return None
    lib = libs[0]
    try:
        prefix, suffix = lib._find_affixes()
        dll = lib.dynlib
        config = getattr(dll, f"{prefix}openblas_get_config{suffix}")
        config.restype = ctypes.c_char_p
        text = (config() or b"").decode("ascii", "replace")
        s = ctypes.cast(getattr(dll, f"{prefix}cblas_sgemm{suffix}"), ctypes.c_void_p).value
        d = ctypes.cast(getattr(dll, f"{prefix}cblas_dgemm{suffix}"), ctypes.c_void_p).value
    except (AttributeError, OSError, TypeError, ValueError):
        return None
    if not s or not d or "OpenBLAS" not in text:
        return None
    return s, d, int("USE64BITINT" in text)


def lstm_forward_loop(rows, W, G, C, TC, Hv, c0, reverse) -> bool:
    """The LSTM layer's whole forward loop in one call (``rnn._lstm_forward_rows`` for the exp gates, unmasked:
    each step's GEMM ``rows[t] @ W`` through NumPy's BLAS, then ``lstm_pointwise``): rows (L, n, K), W (K, 4H),
    G (L, n, 4H), C, TC, Hv (L, n, H), c0 (n, H), as that loop takes them (Hv[t]: the h part of the next step's
    row).  False where it does not apply (no kernels, an unknown BLAS, dtypes, layouts)."""
    m = module()
    if m is None or type(rows) is not np.ndarray:
        return False
    blas = blas_gemm()
    return blas is not None and m.lstm_forward_loop(*blas, rows, W, G, C, TC, Hv, c0, int(reverse))


def lstm_backward_loop(G, C, TC, dout, c0, w_hh, dZ, dh, dc, dc2, reverse) -> bool:
    """The LSTM layer's whole backward loop in one call (``rnn._lstm_backward_rows``, unmasked: each step's
    ``lstm_backward_pointwise`` into dZ[t], then ``dh = dZ[t] @ w_hh``): G (L, n, 4H), C, TC, dout (L, n, H),
    c0 (n, H), w_hh (4H, H); dh and dc (n, H, C-contiguous) hold the gradients of h_n and c_n on entry and
    of h_0 and c_0 after; dc2 is scratch of their shape.  False where it does not apply."""
    m = module()
    if m is None or type(G) is not np.ndarray:
        return False
    blas = blas_gemm()
    return blas is not None and m.lstm_backward_loop(*blas, G, C, TC, dout, c0, w_hh, dZ, dh, dc, dc2,
                                                       int(reverse))


def im2col(x, kh, kw, stride, dil, oh, ow, out=None):
    """The columns (C, KH, KW, N, OH, OW) of the padded input ``x`` (N, C, Hp, Wp; any strides), a copy
    (NumPy's bits), written into ``out`` (C-contiguous, that many elements) or a new contiguous array of that
    shape; the array, or None where the kernel does not apply."""
    m = module()
    if m is None or type(x) is not np.ndarray or (x.dtype != _F32 and x.dtype != _F64):
        return None
    if out is None:
        out = np.empty((x.shape[1], kh, kw, x.shape[0], oh, ow), x.dtype)
    ok = type(out) is np.ndarray and m.im2col(x, out, kh, kw, stride[0], stride[1], dil[0], dil[1], oh, ow)
    return out if ok else None


def _nhwc_geometry(x_shape, geo):
    """(the module's geometry arguments, the padded-image scratch's size) for ``_conv_nhwc``'s geometry ``geo``
    (kh, kw, stride, dil, oh, ow, p0, q0, hp, wp)."""
    kh, kw, stride, dil, oh, ow, p0, q0, hp, wp = geo
    return (kh, kw, stride[0], stride[1], dil[0], dil[1], oh, ow, p0, q0, hp, wp), hp * wp * x_shape[1]


def columns_nhwc(x, geo, cols) -> bool:
    """The pixel-major columns ``(N*OH*OW, KH*KW*C)`` of ``x`` (N, C, H, W; float32/float64, any strides) into
    ``cols`` (C-contiguous), as ``_conv_nhwc.columns`` copies them (its bits); ``geo`` as ``_nhwc_geometry``
    reads it.  False where the kernel does not apply."""
    m = module()
    if m is None or type(x) is not np.ndarray or (x.dtype != _F32 and x.dtype != _F64) or not _takes(cols):
        return False
    args, pad = _nhwc_geometry(x.shape, geo)
    return m.columns_nhwc(x, cols, np.empty(pad, x.dtype), *args)


def col2im_nhwc(dcols, gx, geo) -> bool:
    """The input gradient ``gx`` (N, C, H, W; C-contiguous, written) from the pixel-major column gradients
    ``dcols`` (N, OH, OW, KH, KW, C; C-contiguous), as ``_conv_nhwc``'s strided additions make it (the same
    additions in the same order: their bits).  False where the kernel does not apply."""
    m = module()
    if m is None or not _takes(dcols) or not _takes(gx):
        return False
    args, pad = _nhwc_geometry(gx.shape, geo)
    return m.col2im_nhwc(dcols, gx, np.empty(pad, gx.dtype), *args)


def maxpool_backward(g, k, gx, ks, st, pad, dil) -> bool:
    """Max pooling's input gradient into ``gx`` (N, C, H, W; C-contiguous): zeros, and each output's gradient
    ``g`` added at its winner ``k`` (uint8 offsets; both C-contiguous, (N, C, OH, OW)), in output order, as
    PyTorch sums them; winners in the padding are skipped.  False where the kernel does not apply."""
    m = module()
    if m is None or not _takes(g) or not _takes(gx) or type(k) is not np.ndarray or k.dtype != np.uint8:
        return False
    return m.maxpool_backward(g, k, gx, ks[0], ks[1], st[0], st[1], dil[0], dil[1], pad[0], pad[1],
                              g.shape[2], g.shape[3])


def sgd_momentum(p, buf, g, lr, momentum) -> bool:
    """SGD's momentum step in place, one pass: ``buf = buf * momentum + g``, ``p = p - lr * buf`` (the NumPy
    steps' roundings: their bits; ``lr`` and ``momentum`` rounded to the arrays' dtype first, as NumPy takes a
    Python number).  False where the kernel does not apply (dtypes, layouts, sizes)."""
    m = module()
    return m is not None and _takes(p) and m.sgd_momentum(p, buf, g, float(lr), float(momentum))


def cumsum(x, axis):
    """Running sums of ``x`` (C-contiguous float32 or float64) along ``axis``, accumulated in float64 and
    rounded once each, as PyTorch's CPU cumsum and NumPy's ``cumsum(dtype=float64)`` (their bits); or None."""
    m = module()
    if m is None or not _takes(x) or x.ndim == 0:
        return None
    outer = 1
    for d in x.shape[:axis]:
        outer *= d
    inner = 1
    for d in x.shape[axis + 1:]:
        inner *= d
    out = np.empty(x.shape, x.dtype)
    if m.cumsum(x, out, np.empty(inner, np.float64), outer, x.shape[axis], inner):
        return out
    return None


def softmax(x, axis, log: bool):
    """softmax (log_softmax) of ``x`` (C-contiguous float32/float64) along its last axis ``axis``, or None."""
    m = module()
    if m is None or not _takes(x) or x.ndim == 0 or axis != x.ndim - 1:
        return None
    out = np.empty(x.shape, x.dtype)
    return out if m.softmax(x, out, x.shape[-1], log) else None


def softmax_inplace(s, safe: bool) -> bool:
    """softmax of ``s`` (C-contiguous float32/float64) along its last axis, in place; with ``safe`` a row of
    -inf only becomes zeros (PyTorch's attention).  False where the kernel does not apply."""
    m = module()
    return m is not None and _takes(s) and s.ndim > 0 and m.softmax_inplace(s, s.shape[-1], safe)


def _wino(name, *args) -> bool:
    m = module()
    return m is not None and getattr(m, name)(*args)


def _planes(v):
    """``(buffer, plane stride)`` of a ``(P, T, K)`` array of P C-contiguous planes: its flat base array
    (``_conv_winograd.planes`` makes them so) or itself when C-contiguous; None otherwise."""
    if type(v) is not np.ndarray or v.ndim != 3 or (v.dtype != _F32 and v.dtype != _F64):
        return None
    isz = v.itemsize
    if v.flags.c_contiguous:
        return v, v.shape[1] * v.shape[2]
    b = v.base
    if (type(b) is np.ndarray and b.ndim == 1 and b.dtype == v.dtype and b.flags.c_contiguous
            and v.strides[1:] == (v.shape[2] * isz, isz) and v.strides[0] % isz == 0
            and v.__array_interface__["data"][0] == b.__array_interface__["data"][0]):
        return b, v.strides[0] // isz
    return None


def wino_input(x, v, geo) -> bool:
    """Winograd F(m x m, r x r)'s input transform ``V`` (alpha^2, T, C) of ``x`` (N, C, H, W; C-contiguous) into
    ``v`` (C-contiguous planes, see ``_planes``), as ``_conv_winograd.input_transform``'s NumPy steps make it
    (their bits); ``geo``: (p0, q0, TH, TW, m, r).  False where the kernel does not apply."""
    if not _takes(x) or x.ndim != 4 or (vp := _planes(v)) is None:
        return False
    p0, q0, th, tw, m, r = geo
    al = m + r - 1
    pad = np.empty(((m * th + r - 1) * (m * tw + r - 1) + al * al) * x.shape[1], x.dtype)
    return _wino("wino_input", x, vp[0], pad, p0, q0, th, tw, m, r, vp[1])


def wino_output(mm, out, b, geo) -> bool:
    """Winograd's output transform of ``mm`` (alpha^2, T, O; planes as ``_planes``) into ``out`` (N, O, OH, OW;
    C-contiguous) plus the bias ``b`` (O,) or None, as ``_conv_winograd.output_transform`` (its bits);
    ``geo``: (TH, TW, m, r)."""
    if not _takes(out) or out.ndim != 4 or (b is not None and not _takes(b)) or (mp := _planes(mm)) is None:
        return False
    th, tw, m, r = geo
    pad = np.empty((m * m * th * tw + (m + r - 1) * m) * out.shape[1], out.dtype)
    return _wino("wino_output", mp[0], b, pad, out, th, tw, m, r, mp[1])


def wino_grad_output(g, dm, geo) -> bool:
    """Winograd's transform ``dM`` (alpha^2, T, O; planes as ``_planes``) of the output gradient's tiles ``g``
    (N, O, OH, OW; C-contiguous), as ``_conv_winograd.grad_output_transform`` (its bits); ``geo``: (TH, TW,
    m, r)."""
    if not _takes(g) or g.ndim != 4 or (dp := _planes(dm)) is None:
        return False
    th, tw, m, r = geo
    pad = np.empty((m * m * th * tw + (m + r - 1) * m) * g.shape[1], g.dtype)
    return _wino("wino_grad_output", g, dp[0], pad, th, tw, m, r, dp[1])


def wino_weight(w, u, m, transpose=False, flip=False) -> bool:
    """Winograd F(m x m, r x r)'s kernel transform ``U`` (alpha^2, O, C; with ``transpose`` (alpha^2, C, O);
    planes as ``_planes``) of ``w`` (O, C, r, r; C-contiguous; with ``flip`` its taps reversed in both axes), as
    ``_conv_winograd.kernel_transform`` (its bits)."""
    return _takes(w) and (up := _planes(u)) is not None and _wino("wino_weight", w, up[0], up[1], m, transpose, flip)


def wino_weight_grad(du, dw, m) -> bool:
    """The weight gradient ``dw`` (O, C, r, r; C-contiguous) from ``du`` (alpha^2, O, C; planes as ``_planes``),
    as ``_conv_winograd.weight_grad_transform`` (its bits)."""
    return _takes(dw) and (dp := _planes(du)) is not None and _wino("wino_weight_grad", dp[0], dw, dp[1], m)
