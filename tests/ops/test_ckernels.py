"""ember's optional compiled kernels (ember/csrc, the module ember._kernels, through ember.ops._ckernels):
built by the Makefile's install where a C compiler is, loaded only on first use, refused when stale, turned off by EMBER_KERNELS=numpy
or ``disabled()``; each kernel agrees with its NumPy twin (special values exactly, the rest to a few ulp) and
with PyTorch, on every layout and dtype the twin handles (the kernels take C-contiguous float32/float64
arrays; other inputs run the twin)."""
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.ops import _ckernels

needs_kernels = pytest.mark.skipif(not _ckernels.available(), reason="ember's compiled kernels are not built here")

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-45, -1e-45, 1e30, -1e30, 3e38, -3e38,
            88.7, -88.7, 104.0, -104.0, 13.0, -13.0, 14.0, -14.0, 5.0, -5.0, 0.625, -0.625, 1e-4, -1e-4]


def _wide(dtype, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.standard_normal(n) * 4, np.linspace(-20, 20, n + 1), SPECIALS]).astype(dtype)


def _gelu(x, approximate, grad_scale=0.7):
    t = ember.tensor(x, requires_grad=True)
    y = F.gelu(t, approximate=approximate)
    y.backward(ember.full(tuple(y.shape), grad_scale, dtype=y.dtype))
    return y.detach().numpy(), t.grad.numpy()


def _both(fn, *args):
    compiled = fn(*args)
    with _ckernels.disabled():
        twin = fn(*args)
    return compiled, twin


def test_built_where_a_compiler_is():
    # the Makefile installs ember with pip, which builds the kernels where a C compiler is found
    if os.environ.get("EMBER_KERNELS", "").lower() in ("numpy", "0", "off"):
        pytest.skip("EMBER_KERNELS turns the kernels off in this run")
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler here: ember runs its NumPy kernels")
    assert _ckernels.available(), "a C compiler is here, but ember/_kernels was not built (run `make install`)"


def _child(code, **env):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_loaded_on_first_use_and_turned_off_by_the_environment():
    code = ("import ember, ember.nn.functional as F; from ember.ops import _ckernels as k; "
            "a = k._mod is None; y = F.gelu(ember.linspace(-3, 3, 1000)); "
            "print(a, k.available(), round(float(y.sum()), 4))")
    on = _child(code, EMBER_KERNELS="").split()
    off = _child(code, EMBER_KERNELS="numpy").split()
    assert on[0] == "True" and off[0] == "True"             # importing ember loads no library
    assert off[1] == "False"
    assert on[1] == str(_ckernels.available())
    assert on[2] == off[2]                                   # the same GELU either way (to 4 decimals)


def test_without_the_module_every_op_runs():
    # a machine without a C compiler: no ember._kernels (an ImportError), the NumPy twins run
    code = ("import sys; sys.modules['ember._kernels'] = None\n"
            "import ember, ember.nn.functional as F; from ember.ops import _ckernels as k\n"
            "x = ember.randn(3000, requires_grad=True); F.gelu(x).sum().backward()\n"
            "m = ember.nn.LSTM(4, 8); o, _ = m(ember.randn(5, 3, 4)); o.sum().backward()\n"
            "c = ember.nn.LSTMCell(4, 8).double(); h, _ = c(ember.randn(3, 4).double()); h.sum().backward()\n"
            "print(k.available(), x.grad.shape == x.shape, m.weight_hh_l0.grad is not None)")
    assert _child(code).split() == ["False", "True", "True"]
    status = "import sys; sys.modules['ember._kernels'] = None\nfrom ember.ops import _ckernels as k; print(k.status())"
    assert _child(status).startswith("not built")


def test_status_says_what_runs(monkeypatch):
    # `ember info` prints it: in use, turned off, or a stale build that NumPy stands in for
    if _ckernels.available():
        assert _ckernels.status().startswith("in use")
    with _ckernels.disabled():
        assert _ckernels.status().startswith("off")
    monkeypatch.setattr(_ckernels, "VERSION", _ckernels.VERSION + 1)
    monkeypatch.setattr(_ckernels, "_mod", None)
    monkeypatch.setitem(_ckernels._state, "tried", False)
    monkeypatch.setitem(_ckernels._state, "found", None)
    if _ckernels.module() is None and _ckernels._state["found"] is not None:
        assert _ckernels.status().startswith("a stale build") and "pip install -e ." in _ckernels.status()
    monkeypatch.undo()
    _ckernels._mod, _ckernels._state["tried"] = None, False


@needs_kernels
def test_a_stale_library_is_refused(monkeypatch):
    monkeypatch.setattr(_ckernels, "VERSION", _ckernels.VERSION + 1)
    monkeypatch.setattr(_ckernels, "_mod", None)
    monkeypatch.setitem(_ckernels._state, "tried", False)
    assert _ckernels.module() is None
    x = _wide(np.float32, 100)
    with _ckernels.disabled():
        want = F.gelu(ember.tensor(x)).numpy()
    assert np.array_equal(F.gelu(ember.tensor(x)).numpy(), want, equal_nan=True)
    monkeypatch.undo()
    _ckernels._mod, _ckernels._state["tried"] = None, False
    assert _ckernels.available()


def _specials_equal(a, b, x):
    # at the special inputs the kernel and its twin agree exactly (signed zeros, inf, NaN, subnormals; a NaN's
    # sign bit is not a value: NumPy's SIMD exp returns its own NaN)
    k = slice(-len(SPECIALS), None)
    num = ~np.isnan(b[k])
    assert np.array_equal(np.isnan(a[k]), ~num), (x[k], a[k], b[k])
    assert np.array_equal(np.signbit(a[k])[num], np.signbit(b[k])[num]), (x[k], a[k], b[k])
    np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=0)


@needs_kernels
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float32_agrees_with_its_numpy_twin(approximate):
    x = _wide(np.float32)
    (y, g), (yt, gt) = _both(_gelu, x, approximate)
    _specials_equal(y, yt, x)
    _specials_equal(g, gt, x)
    # where |x| < 6 a few ulp apart, both within ~1e-6 of the exact value (the tanh form's 1 + tanh cancels
    # for negative x: both are then within ~5e-7 of it absolutely, as PyTorch's is)
    inner = np.abs(x) < 6
    atol = 1e-7 if approximate == "none" else 1e-6
    np.testing.assert_allclose(y[inner], yt[inner], rtol=4e-6, atol=atol)
    np.testing.assert_allclose(g[inner], gt[inner], rtol=4e-5, atol=2 * atol)
    # the far tails: both relative to their value (exact form: erfc's fit; tanh form: 1 + tanh cancels in both)
    np.testing.assert_allclose(y, yt, rtol=3e-5 if approximate == "none" else 1, atol=1e-6)


@needs_kernels
def test_gelu_float64_is_its_numpy_twin():
    x = _wide(np.float64)
    (y, g), (yt, gt) = _both(_gelu, x, "none")
    assert np.array_equal(y, yt, equal_nan=True)              # the C library's erf is math.erf
    np.testing.assert_allclose(g, gt, rtol=1e-14, atol=1e-16)   # (exp: the C library's against NumPy's)
    _specials_equal(g, gt, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_against_pytorch(approximate, dtype):
    x = _wide(dtype, 5000, seed=1)
    # (PyTorch's vectorised erf gives NaN at +inf, a known difference; its gelu(3e38) overflows to inf, where
    # the value, 3e38, is a float32)
    x = x[np.abs(x) < 1e38]
    y, g = _gelu(x, approximate)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx, approximate=approximate)
    ty.backward(torch.full_like(ty, 0.7))
    tol = dict(rtol=1e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(g, tx.grad.numpy(), **tol)


@needs_kernels
@pytest.mark.parametrize("layout", ["transposed", "strided", "float16", "tanh float64", "scalar"])
def test_inputs_the_kernels_do_not_take_run_the_twin(layout):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((40, 30)).astype(np.float32) * 3
    approximate = "none"
    if layout == "transposed":
        x = ember.tensor(base).t()
    elif layout == "strided":
        x = ember.tensor(base)[:, ::2]
    elif layout == "float16":
        x = ember.tensor(base).half()
    elif layout == "tanh float64":
        x, approximate = ember.tensor(base.astype(np.float64)), "tanh"
    else:
        x = ember.tensor(np.float32(1.5))
    calls = []
    real = _ckernels._elementwise
    try:
        _ckernels._elementwise = lambda *a, **k: calls.append(real(*a, **k)) or calls[-1]
        y = F.gelu(x, approximate=approximate)
    finally:
        _ckernels._elementwise = real
    with _ckernels.disabled():
        want = F.gelu(x, approximate=approximate)
    assert y.dtype == want.dtype and y.stride() == want.stride()
    ran = [c is not None for c in calls]
    if layout == "scalar":      # (a 0-d array is dense: the kernel's value; the twin's erf is exact below 64)
        assert ran == [True]
        np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=3e-7)
    else:
        assert not any(ran)
        assert np.array_equal(y.numpy(), want.numpy())
    t = torch.nn.functional.gelu(torch.tensor(x.numpy()) if layout != "transposed" else
                                 torch.tensor(base).t(), approximate=approximate)
    assert y.stride() == t.stride()


@needs_kernels
def test_gelu_second_derivative_through_the_compiled_first():
    x = ember.tensor(_wide(np.float64, 200)[:400], requires_grad=True)
    (g,) = ember.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.gelu(tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-9, atol=1e-12)


def _ulps(got, exact, dtype):
    """|got - exact| in units of the exact value's ulp in ``dtype`` (the smallest subnormal below it)."""
    fi = np.finfo(dtype)
    ok = np.abs(exact) <= fi.max
    exact, got = exact[ok], got[ok].astype(np.longdouble)
    ulp = np.maximum(np.spacing(np.abs(exact).astype(dtype)).astype(np.longdouble),
                     np.longdouble(fi.smallest_subnormal))
    return np.abs(got - exact) / ulp


@needs_kernels
@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs an 80-bit long double as the reference")
@pytest.mark.parametrize("name, dtype, lo, hi, bound", [
    ("exp", np.float32, -104, 89, 1.0), ("exp", np.float64, -746, 710, 1.0), ("tanh", np.float32, -10, 10, 1.5)])
def test_inner_functions_accuracy(name, dtype, lo, hi, bound):
    # the fused kernels' own exp and tanh over their whole range, subnormal results included, against an
    # 80-bit reference: within ``bound`` ulp (NumPy's float32 exp: 2.4 ulp in the subnormals; tanh 1.4)
    rng = np.random.default_rng(5)
    x = np.concatenate([np.linspace(lo, hi, 400_001), rng.uniform(-1, 1, 20000),
                        np.geomspace(1e-30, 1, 2000), -np.geomspace(1e-30, 1, 2000)]).astype(dtype)
    got = _ckernels.unary(name, x)
    exact = getattr(np, name)(x.astype(np.longdouble))
    assert _ulps(got, exact, dtype).max() <= bound
    special = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, 1e4, -1e4], dtype)
    want = getattr(np, name)(special)
    got = _ckernels.unary(name, special)
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))


def _counting_lstm_calls(fn, *args):
    """``fn(*args)`` and what each ``lstm_pointwise`` call it made returned (True: the kernel ran)."""
    calls = []
    real = _ckernels.lstm_pointwise
    try:
        _ckernels.lstm_pointwise = lambda *a: calls.append(real(*a)) or calls[-1]
        return fn(*args), calls
    finally:
        _ckernels.lstm_pointwise = real


def _lstm_cell_run(dtype, strided_c=False, seed=0):
    rng = np.random.default_rng(seed)
    N, I, H = 13, 7, 9
    cell = ember.nn.LSTMCell(I, H).to(ember.float64 if dtype == np.float64 else ember.float32)
    x = ember.tensor((rng.standard_normal((N, I)) * 3).astype(dtype), requires_grad=True)
    h = ember.tensor(rng.standard_normal((N, H)).astype(dtype), requires_grad=True)
    c_full = ember.tensor((rng.standard_normal((N, 2 * H)) * 4).astype(dtype))
    c = c_full[:, ::2] if strided_c else c_full[:, :H]        # rows strided in both; columns too in one
    c = c.detach().requires_grad_()
    for p in cell.parameters():
        p.data = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
    h2, c2 = cell(x, (h, c))
    (h2.sum() * 0.5 + (c2 * c2).sum() * 0.25).backward()
    return [a.detach().numpy() for a in (h2, c2, x.grad, h.grad, c.grad, cell.weight_ih.grad, cell.bias_hh.grad)]


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("strided_c", [False, True])
def test_lstm_cell_agrees_with_its_numpy_twin(dtype, strided_c):
    got, calls = _counting_lstm_calls(_lstm_cell_run, dtype, strided_c)
    assert calls == [not strided_c]          # a strided c (columns) takes the twin
    with _ckernels.disabled():
        want = _lstm_cell_run(dtype, strided_c)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)


def _lstm_layer_run(dtype, bidirectional, seed=0):
    rng = np.random.default_rng(seed)
    L, N, I, H = 6, 5, 4, 8
    m = ember.nn.LSTM(I, H, num_layers=2, bidirectional=bidirectional)
    m = m.double() if dtype == np.float64 else m
    for p in m.parameters():
        p.data = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype) * 0.8)
    x = ember.tensor((rng.standard_normal((L, N, I)) * 2).astype(dtype), requires_grad=True)
    out, (hn, cn) = m(x)
    (out.sum() + (cn * cn).sum()).backward()
    return [a.detach().numpy() for a in (out, hn, cn, x.grad, m.weight_hh_l0.grad, m.bias_ih_l1.grad)]


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_layer_agrees_with_its_numpy_twin_and_pytorch(dtype, bidirectional):
    loops = []
    real = _ckernels.lstm_forward_loop
    try:
        _ckernels.lstm_forward_loop = lambda *a: loops.append(real(*a)) or loops[-1]
        got, calls = _counting_lstm_calls(_lstm_layer_run, dtype, bidirectional)
    finally:
        _ckernels.lstm_forward_loop = real
    if _ckernels.blas_gemm() is not None:       # each layer's loop compiled whole (tests/ops/test_lstm_loops.py)
        assert len(loops) == 2 * (1 + bidirectional) and all(loops) and not calls
    else:
        assert len(calls) == 6 * 2 * (1 + bidirectional) and all(calls)   # every step of every layer
    with _ckernels.disabled():
        want = _lstm_layer_run(dtype, bidirectional)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)
    # and PyTorch, with the same weights
    rng = np.random.default_rng(0)
    L, N, I, H = 6, 5, 4, 8
    tm = torch.nn.LSTM(I, H, num_layers=2, bidirectional=bidirectional)
    tm = tm.double() if dtype == np.float64 else tm
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype) * 0.8))
    tx = torch.tensor((rng.standard_normal((L, N, I)) * 2).astype(dtype), requires_grad=True)
    out, (hn, cn) = tm(tx)
    (out.sum() + (cn * cn).sum()).backward()
    for g, t in zip(got, (out, hn, cn, tx.grad, tm.weight_hh_l0.grad, tm.bias_ih_l1.grad)):
        np.testing.assert_allclose(g, t.detach().numpy(), **tol)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("sizes", [None, [5, 5, 3, 2, 1]])
def test_lstm_backward_loop_is_its_numpy_twin_bit_for_bit(dtype, reverse, sizes):
    # the backward kernel takes the twin's operations in its order (no transcendental function): the same bits
    from ember.ops import rnn, rnn_cell
    rng = np.random.default_rng(7)
    L, N, H = 5, 5, 6
    G = rng.uniform(0.01, 0.99, (L, N, 4 * H)).astype(dtype)
    G[:, :, 2 * H:3 * H] = rng.uniform(-0.99, 0.99, (L, N, H))
    C = rng.standard_normal((L, N, H)).astype(dtype)
    TC = np.tanh(C)
    dout = rng.standard_normal((L, N, H)).astype(dtype)
    c0 = rng.standard_normal((N, H)).astype(dtype)
    dh_full, dc_full = rng.standard_normal((N, H)).astype(dtype), rng.standard_normal((N, H)).astype(dtype)
    w_hh = rng.standard_normal((4 * H, H)).astype(dtype)
    _, B, S2 = rnn_cell._lstm_scales(H, np.dtype(dtype), N, np)
    order = range(L - 1, -1, -1) if not reverse else range(L)     # (backward runs the forward's order reversed)

    def run():
        dZ = np.full((L, N, 4 * H), np.nan, dtype)
        dh0, dc0 = rnn._lstm_backward_rows(G, C, TC, dZ, dout, c0, B, S2, dh_full, dc_full, w_hh, order, sizes,
                                           reverse)
        return dZ, dh0, dc0
    got, calls = _counting_lstm_backward_calls(run)
    assert calls and all(calls)
    with _ckernels.disabled():
        want = run()
    for a, b in zip(got, want):
        assert np.array_equal(a, b, equal_nan=True)


def _counting_lstm_backward_calls(fn):
    calls = []
    real = _ckernels.lstm_backward_pointwise
    try:
        _ckernels.lstm_backward_pointwise = lambda *a: calls.append(real(*a)) or calls[-1]
        return fn(), calls
    finally:
        _ckernels.lstm_backward_pointwise = real


def _sigmoid_or_silu(name, x):
    t = ember.tensor(x, requires_grad=True)
    y = ember.sigmoid(t) if name == "sigmoid" else F.silu(t)
    y.backward(ember.full(tuple(y.shape), 0.7, dtype=y.dtype))
    return y.detach().numpy(), t.grad.numpy()


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sigmoid", "silu"])
def test_sigmoid_and_silu_agree_with_their_numpy_twins_and_pytorch(name, dtype):
    x = _wide(dtype)
    (y, g), (yt, gt) = _both(_sigmoid_or_silu, name, x)
    _specials_equal(y, yt, x)
    _specials_equal(g, gt, x)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(y, yt, rtol=4 * eps, atol=np.finfo(dtype).tiny)
    np.testing.assert_allclose(g, gt, rtol=16 * eps, atol=8 * eps)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.sigmoid(tx) if name == "sigmoid" else torch.nn.functional.silu(tx)
    ty.backward(torch.full_like(ty, 0.7))
    fin = np.isfinite(x)            # (PyTorch's SiLU gradient at +-inf is NaN where ember's is 0.7 / 0: as before)
    tol = dict(rtol=4e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(g[fin], tx.grad.numpy()[fin], **tol)


def _in_layout(x, layout):
    """``x`` (N, C, H, W) with the same values as a contiguous, a channels-last or a column-sliced array."""
    if layout == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "sliced":
        return np.ascontiguousarray(np.repeat(x, 2, axis=3))[:, :, :, ::2]
    return x


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", [((3, 2, 9, 11), (3, 3), (1, 1), (1, 1)), ((2, 3, 12, 10), (5, 4), (2, 3), (1, 1)),
                                  ((4, 1, 13, 13), (3, 3), (1, 1), (2, 3)), ((1, 5, 7, 6), (1, 1), (2, 2), (1, 1)),
                                  ((2, 2, 8, 8), (2, 3), (3, 1), (2, 2))])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
def test_im2col_is_numpys_copy(geom, dtype, layout):
    from numpy.lib.stride_tricks import as_strided
    shape, (kh, kw), stride, dil = geom
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(dtype)
    x = _in_layout(x, layout)
    n, c, h, w = x.shape
    oh, ow = (h - dil[0] * (kh - 1) - 1) // stride[0] + 1, (w - dil[1] * (kw - 1) - 1) // stride[1] + 1
    sn, sc, sh, sw = x.strides
    view = as_strided(x, (c, kh, kw, n, oh, ow), (sc, sh * dil[0], sw * dil[1], sn, sh * stride[0], sw * stride[1]))
    cols = np.full((c * kh * kw, n * oh * ow), np.nan, dtype)
    assert _ckernels.im2col(x, kh, kw, stride, dil, oh, ow, out=cols) is cols
    assert np.array_equal(cols.reshape(view.shape), view)
    assert np.array_equal(_ckernels.im2col(x, kh, kw, stride, dil, oh, ow), view)     # a new array
    # what it does not take: a window past the input, a wrong size, an overlapping or non-contiguous output
    geometry = (kh, kw, stride, dil, oh, ow)
    assert _ckernels.im2col(x, kh, kw, stride, dil, oh + 1, ow, out=cols) is None
    assert _ckernels.im2col(x, kh, kw, stride, dil, oh + 1, ow) is None
    assert _ckernels.im2col(x, *geometry, out=cols[:-1]) is None
    assert _ckernels.im2col(x, *geometry, out=np.empty((cols.shape[1], cols.shape[0]), dtype).T) is None
    assert _ckernels.im2col(x, *geometry, out=x.reshape(-1)[:cols.size] if x.flags.c_contiguous and
                            x.size >= cols.size else cols.astype(np.float16)) is None


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", [((128, 512), 1), ((128, 512), 0), ((3, 4, 5), 1), ((7,), 0), ((13, 9), 1),
                                        ((2, 3, 4, 5), -1), ((2, 3, 4, 5), 0)])
def test_cumsum_is_pytorchs_bits(shape, dim, dtype):
    # float64 running sums rounded once each, in the axis's order: PyTorch's CPU cumsum, forward and backward
    rng = np.random.default_rng(13)
    a = (rng.standard_normal(shape) * 1e3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    flat[:4] = [np.inf, np.nan, 3e38, -3e38] if flat.size >= 4 else flat[:4]
    calls = []
    real = _ckernels.cumsum
    try:
        _ckernels.cumsum = lambda *x: calls.append(real(*x)) or calls[-1]
        t = ember.tensor(a, requires_grad=True)
        y = ember.cumsum(t, dim)
        y.backward(ember.tensor(g))
    finally:
        _ckernels.cumsum = real
    assert calls and calls[0] is not None          # the kernel ran
    ta = torch.tensor(a, requires_grad=True)
    ty = torch.cumsum(ta, dim)
    ty.backward(torch.tensor(g))
    assert np.array_equal(y.detach().numpy(), ty.detach().numpy(), equal_nan=True)
    assert np.array_equal(t.grad.numpy(), ta.grad.numpy(), equal_nan=True)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("width", [37, 128])
def test_softmax_agrees_with_its_numpy_twin_and_pytorch(log, dtype, width):
    rng = np.random.default_rng(17)
    x = (rng.standard_normal((6, 5, width)) * 20).astype(dtype)
    x[0, 0, :] = -np.inf                       # a fully masked row: NaN, as PyTorch's
    x[0, 1, 3:] = -np.inf                      # a causal mask
    x[0, 2, 4] = np.nan
    x[0, 3, 5] = np.inf
    x[0, 4, 6] = -np.nan
    x[1, 0, :] = 1e4                           # large, equal
    x[1, 1, :] = -3e4
    x[1, 2, ::2] = -0.0
    x[1, 2, 1::2] = 0.0
    fn = F.log_softmax if log else F.softmax
    upstream = np.cos(np.arange(x.size)).reshape(x.shape).astype(dtype)

    def run(a):
        t = ember.tensor(a, requires_grad=True)
        y = fn(t, dim=-1)
        y.backward(ember.tensor(upstream))
        return y.detach().numpy(), t.grad.numpy()
    calls = []
    real = _ckernels.softmax
    try:
        _ckernels.softmax = lambda *a: calls.append(real(*a)) or calls[-1]
        y, g = run(x)
    finally:
        _ckernels.softmax = real
    assert calls and calls[0] is not None
    with _ckernels.disabled():
        yt, gt = run(x)
    # (the row sums round differently, 16 interleaved parts against pairwise: log_softmax's log(sum) then
    # differs by about an ulp of 1, absolutely)
    eps = np.finfo(dtype).eps
    tol = dict(rtol=4e-6, atol=2 * eps) if dtype == np.float32 else dict(rtol=1e-13, atol=2 * eps)
    np.testing.assert_allclose(y, yt, **tol)          # (NaN where the twin has NaN)
    np.testing.assert_allclose(g, gt, **tol)
    tx = torch.tensor(x, requires_grad=True)
    ty = (torch.log_softmax if log else torch.softmax)(tx, -1)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(g, tx.grad.numpy(), **tol)
    assert _ckernels.softmax(x, 1, log) is None       # another axis than the last: the twin


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("safe", [False, True])
def test_attention_softmax_in_place_agrees_with_its_numpy_twin(safe, dtype):
    from ember.nn.functional import _attention as A
    rng = np.random.default_rng(19)
    s = (rng.standard_normal((3, 4, 9, 33)) * 10).astype(dtype)
    s[0, 0, 0, :] = -np.inf                    # fully masked: zeros with safe, else NaN
    s[0, 0, 1, 5:] = -np.inf
    s[0, 1, 2, 3] = np.nan
    s[0, 1, 3, :] = -np.inf
    s[0, 1, 3, 7] = -np.nan                    # masked, and a NaN: NaN either way
    got = A._softmax_last(s.copy(), safe)
    with _ckernels.disabled():
        want = A._softmax_last(s.copy(), safe)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got, want, rtol=8 * eps, atol=2 * eps)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    buf = s.copy()
    assert A._softmax_last(buf, safe) is buf               # in place, the caller's buffer


_NHWC_GEOMS = [  # (x shape, (kh, kw), stride, dilation, pads ((top, bottom), (left, right)))
    ((2, 32, 12, 12), (5, 5), (1, 1), (1, 1), ((0, 0), (0, 0))),      # the triplet network's second conv
    ((3, 16, 8, 8), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),        # a ResNet stage
    ((2, 17, 7, 9), (3, 2), (2, 3), (1, 1), ((1, 0), (2, 1))),        # strides, uneven padding
    ((1, 20, 9, 8), (2, 3), (1, 2), (2, 3), ((2, 1), (0, 3))),        # dilation
    ((4, 18, 1, 1), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),        # 1x1 images
    ((2, 24, 5, 5), (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))),        # a strided 1x1 (downsample)
]


def _nhwc_args(shape, k, stride, dil, pads):
    from ember.ops import _conv_nhwc
    n, c, h, w, o, kh, kw, hp, wp, oh, ow = _conv_nhwc._geometry(shape, (5, shape[1]) + k, stride, pads, dil)
    return (kh, kw, stride, dil, oh, ow, pads[0][0], pads[1][0], hp, wp), (n, oh, ow, kh, kw, c)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", _NHWC_GEOMS)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
def test_columns_nhwc_is_numpys_copy(geom, dtype, layout):
    from ember.ops import _conv_nhwc
    shape, k, stride, dil, pads = geom
    rng = np.random.default_rng(17)
    x = rng.standard_normal(shape).astype(dtype)
    x = _in_layout(x, layout)
    geo, dshape = _nhwc_args(shape, k, stride, dil, pads)
    cols = np.full((math.prod(dshape[:3]), math.prod(dshape[3:])), np.nan, dtype)
    assert _ckernels.columns_nhwc(x, geo, cols)                     # the kernel ran
    with _ckernels.disabled():
        twin = _conv_nhwc.columns(x, (5, shape[1]) + k, stride, pads, dil, lambda s, d, like: np.empty(s, d))
    assert cols.tobytes() == twin.tobytes()
    # what it does not take: a window past the padded input, a wrong size, a non-contiguous output, float16
    kh, kw, st, dl, oh, ow, p0, q0, hp, wp = geo
    assert not _ckernels.columns_nhwc(x, (kh, kw, st, dl, oh + 1, ow, p0, q0, hp, wp), cols)
    assert not _ckernels.columns_nhwc(x, (kh, kw, st, dl, oh, ow, p0, q0, shape[2] + p0 - 1, wp), cols)
    assert not _ckernels.columns_nhwc(x, geo, cols[:-1])
    assert not _ckernels.columns_nhwc(x, geo, np.empty(cols.shape[::-1], dtype).T)
    assert not _ckernels.columns_nhwc(x.astype(np.float16), geo, cols.astype(np.float16))


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", _NHWC_GEOMS)
def test_col2im_nhwc_is_the_twins_bits(geom, dtype):
    # the same additions in the same order as _conv_nhwc's strided np.add per kernel offset
    from ember.ops import _conv_nhwc
    shape, k, stride, dil, pads = geom
    rng = np.random.default_rng(19)
    geo, dshape = _nhwc_args(shape, k, stride, dil, pads)
    o = 5
    g2 = (rng.standard_normal((o, math.prod(dshape[:3]))) * 1e3).astype(dtype)
    w2 = rng.standard_normal((o, math.prod(dshape[3:]))).astype(dtype)
    g2[0, :3] = [np.inf, -np.inf, np.nan][:min(3, g2.shape[1])]
    with np.errstate(invalid="ignore"):
        dcols = np.ascontiguousarray((g2.T @ w2).reshape(dshape))
    gx = np.full(shape, 7.0, dtype)
    assert _ckernels.col2im_nhwc(dcols, gx, geo)                    # the kernel ran
    w_shape = (o, shape[1]) + k
    with _ckernels.disabled():
        twin = _conv_nhwc.backward(None, w2, shape, w_shape, g2, stride, pads, dil, True, False)[0]
    assert gx.tobytes() == twin.tobytes()
    assert _conv_nhwc.backward(None, w2, shape, w_shape, g2, stride, pads, dil, True, False)[0].tobytes() \
        == twin.tobytes()                                           # the path conv takes
    # what it does not take: a wrong size, a non-contiguous gradient, an output overlapping its input, float16
    assert not _ckernels.col2im_nhwc(dcols.reshape(-1)[:-1], gx, geo)
    assert not _ckernels.col2im_nhwc(dcols, np.empty(shape[::-1], dtype).T, geo)
    assert not _ckernels.col2im_nhwc(dcols, dcols.reshape(-1)[:gx.size].reshape(shape), geo) \
        if dcols.size >= gx.size else True
    assert not _ckernels.col2im_nhwc(dcols.astype(np.float16), gx.astype(np.float16), geo)


@needs_kernels
@pytest.mark.parametrize("threads", [1, 2])
def test_pixel_major_conv_with_compiled_columns_matches_pytorch(threads):
    # ResNet-like and triplet-like convolutions through conv2d (the pixel-major path, its compiled columns and
    # col2im), at one and two threads (the split path's parts call the kernels with the GIL released)
    rng = np.random.default_rng(23)
    cases = [((8, 32, 12, 12), (64, 32, 5, 5), 1, 0), ((8, 64, 8, 8), (64, 64, 3, 3), 1, 1),
             ((8, 32, 8, 8), (64, 32, 3, 3), 2, 1), ((8, 128, 4, 4), (128, 128, 3, 3), 1, 1)]
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for xs, ws, stride, pad in cases:
            x = rng.standard_normal(xs)
            w = rng.standard_normal(ws) * 0.1
            b = rng.standard_normal(ws[0])
            ex, ew, eb = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
            y = ember.nn.functional.conv2d(ex, ew, eb, stride=stride, padding=pad)
            g = rng.standard_normal(y.shape)
            y.backward(ember.tensor(g))
            tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            ty = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
            ty.backward(torch.tensor(g))
            for e, t in ((y, ty), (ex.grad, tx.grad), (ew.grad, tw.grad), (eb.grad, tb.grad)):
                np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)
    finally:
        ember.set_num_threads(before)


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geom", [  # (x shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 24, 24), (2, 2), (2, 2), (0, 0), (1, 1), False),      # LeNet's and the triplet network's pools
    ((2, 4, 16, 16), (3, 3), (2, 2), (1, 1), (1, 1), False),      # ResNet's stem pool: windows overlap
    ((1, 2, 9, 7), (3, 2), (2, 3), (1, 1), (2, 1), True),         # dilation, ceil mode, uneven strides
    ((3, 2, 5, 6), (2, 3), (1, 1), (1, 1), (1, 1), False),        # stride 1
    ((2, 2, 3, 1), (2, 2), (1, 1), (1, 1), (2, 2), False),        # windows wholly in the padding
])
def test_maxpool_backward_is_the_twins_sums(geom, dtype):
    # the same additions in the same (output) order as pool.py's NumPy gradient: its bits, ties, -inf and NaN
    # windows and non-finite gradients included; and the op's gradient is PyTorch's
    shape, ks, st, pad, dil, ceil = geom
    rng = np.random.default_rng(29)
    x = np.maximum(rng.standard_normal(shape), 0).astype(dtype)       # ReLU outputs: many tied zeros
    x.reshape(-1)[:3] = [np.nan, -np.inf, np.inf]
    calls = []
    real = _ckernels.maxpool_backward
    try:
        _ckernels.maxpool_backward = lambda *a: calls.append(real(*a)) or calls[-1]
        t = ember.tensor(x, requires_grad=True)
        y = F.max_pool2d(t, ks, st, pad, dil, ceil_mode=ceil)
        g = (rng.standard_normal(y.shape) * 1e3).astype(dtype)
        g.reshape(-1)[:2] = [np.inf, np.nan]
        y.backward(ember.tensor(g))
    finally:
        _ckernels.maxpool_backward = real
    assert calls and all(calls)                                      # the kernel ran
    with _ckernels.disabled():
        t2 = ember.tensor(x, requires_grad=True)
        F.max_pool2d(t2, ks, st, pad, dil, ceil_mode=ceil).backward(ember.tensor(g))
    assert np.array_equal(t.grad.numpy(), t2.grad.numpy(), equal_nan=True)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, ks, st, pad, dil, ceil_mode=ceil).backward(torch.tensor(g))
    assert np.array_equal(t.grad.numpy(), tx.grad.numpy(), equal_nan=True)
    # what it does not take: offsets wider than uint8, a non-contiguous gradient, float16, overlap
    k = np.zeros(y.shape, np.uint8)
    gx = np.empty(shape, dtype)
    args = (ks, st, pad, dil)
    assert _ckernels.maxpool_backward(g, k, gx, *args)
    assert not _ckernels.maxpool_backward(g, k.astype(np.int32), gx, *args)
    assert not _ckernels.maxpool_backward(g, k, np.empty(shape[::-1], dtype).T, *args)
    assert not _ckernels.maxpool_backward(g.astype(np.float16), k, gx.astype(np.float16), *args)
    assert not _ckernels.maxpool_backward(g, k[..., :-1], gx, *args)
    assert not _ckernels.maxpool_backward(g, k, g.reshape(-1)[:gx.size].reshape(shape), *args) \
        if g.size >= gx.size else True


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_momentum_is_the_twins_bits(dtype):
    # one pass with the NumPy steps' roundings (buf * m + g, then p - lr * buf): their bits over three steps,
    # a large parameter (chunked) and a small one; and PyTorch's SGD to rounding
    rng = np.random.default_rng(31)
    shapes = [(300, 700), (5, 3)]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3)]
    calls = []
    real = _ckernels.sgd_momentum

    def run():
        ps = [ember.tensor(a.copy(), requires_grad=True) for a in init]
        opt = ember.optim.SGD(ps, lr=0.05, momentum=0.9)
        for step in grads:
            for p, g in zip(ps, step):
                p.grad = ember.tensor(g)
            opt.step()
        return [p.detach().numpy() for p in ps]
    try:
        _ckernels.sgd_momentum = lambda *a: calls.append(real(*a)) or calls[-1]
        compiled = run()
    finally:
        _ckernels.sgd_momentum = real
    assert calls and all(calls)                          # the kernel ran (from the second step on)
    with _ckernels.disabled():
        twin = run()
    for a, b in zip(compiled, twin):
        assert a.tobytes() == b.tobytes()
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    topt = torch.optim.SGD(tps, lr=0.05, momentum=0.9)
    for step in grads:
        for p, g in zip(tps, step):
            p.grad = torch.tensor(g)
        topt.step()
    for a, t in zip(compiled, tps):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-6)
    # what it does not take: another dtype or length, a strided parameter, an overlapping buffer
    p, buf, g = (rng.standard_normal(64).astype(dtype) for _ in range(3))
    assert _ckernels.sgd_momentum(p, buf, g, 0.1, 0.9)
    assert not _ckernels.sgd_momentum(p, buf, g.astype(np.float16), 0.1, 0.9)
    assert not _ckernels.sgd_momentum(p, buf[:-1], g, 0.1, 0.9)
    assert not _ckernels.sgd_momentum(p[::2], buf[::2], g[::2], 0.1, 0.9)
    assert not _ckernels.sgd_momentum(p, p, g, 0.1, 0.9)


@needs_kernels
@pytest.mark.parametrize("threads", [1, 2])
def test_pixel_major_conv_in_blocks_of_images_matches_pytorch(monkeypatch, threads):
    # blocks of a few images (columns, GEMMs and col2im per block) forced on small convolutions; the blocks'
    # weight-gradient sums against PyTorch, the input gradient and the forward to rounding
    from ember.ops import _conv_nhwc
    monkeypatch.setattr(_conv_nhwc, "BLOCK_COLS_BYTES", 3000)
    monkeypatch.setattr(_conv_nhwc, "BLOCK_FROM_BYTES", 6000)
    cases = [((9, 16, 6, 6), (8, 16, 3, 3), 1, 1), ((7, 20, 7, 5), (6, 20, 3, 2), 2, (1, 0)),
             ((10, 16, 5, 5), (4, 16, 5, 5), 1, 0)]
    assert all(_conv_nhwc.block_images(xs, ws, (s, s), ((1, 1), (1, 1)), (1, 1), 8) for xs, ws, s, _ in cases[:1])
    rng = np.random.default_rng(37)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for xs, ws, stride, pad in cases:
            for need_x in (True, False):
                x, w, b = rng.standard_normal(xs), rng.standard_normal(ws) * 0.1, rng.standard_normal(ws[0])
                ex, ew, eb = ember.tensor(x, requires_grad=need_x), *(ember.tensor(a, requires_grad=True)
                                                                      for a in (w, b))
                y = ember.nn.functional.conv2d(ex, ew, eb, stride=stride, padding=pad)
                g = rng.standard_normal(y.shape)
                y.backward(ember.tensor(g))
                tx, tw, tb = torch.tensor(x, requires_grad=need_x), *(torch.tensor(a, requires_grad=True)
                                                                      for a in (w, b))
                ty = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
                ty.backward(torch.tensor(g))
                pairs = [(y, ty), (ew.grad, tw.grad), (eb.grad, tb.grad)] + ([(ex.grad, tx.grad)] if need_x else [])
                for e, t in pairs:
                    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-10)
    finally:
        ember.set_num_threads(before)


def _relu_run(x, g):
    t = ember.tensor(x, requires_grad=True)
    y = F.relu(t)
    y.backward(ember.tensor(g))
    with ember.no_grad():
        y2 = F.relu(ember.tensor(x))
    return y.detach().numpy(), t.grad.numpy(), y2.numpy()


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [37, 300_000])        # (the larger in pieces over ember's threads when there)
def test_relu_kernels_are_their_numpy_twins_bit_for_bit(dtype, size):
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.standard_normal(size), SPECIALS]).astype(dtype)
    bits = x.view(np.int32 if dtype == np.float32 else np.int64)
    bits[3] = bits[-len(SPECIALS) + 4] | 1                  # a NaN with a payload, and a negative NaN
    x[5] = -np.abs(x[3])
    g = rng.standard_normal(x.size).astype(dtype)
    g[7] = -0.0
    g[9] = np.nan
    ran = []
    real = _ckernels.unary
    try:
        _ckernels.unary = lambda name, a: ran.append(name) or real(name, a)
        got = _relu_run(x, g)
    finally:
        _ckernels.unary = real
    assert ran.count("relu") == 2
    with _ckernels.disabled():
        want = _relu_run(x, g)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and np.array_equal(a.view(bits.dtype), b.view(bits.dtype))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(g))
    assert np.array_equal(got[0].view(bits.dtype), ty.detach().numpy().view(bits.dtype))
    assert np.array_equal(got[1], tx.grad.numpy(), equal_nan=True)
