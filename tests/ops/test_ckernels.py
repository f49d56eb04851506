"""ember's optional compiled kernels (ember/csrc/kernels.c through ember.ops._ckernels): built by the Makefile's
install where a C compiler is, loaded only on first use, refused when stale, turned off by EMBER_KERNELS=numpy
or ``disabled()``; each kernel agrees with its NumPy twin (special values exactly, the rest to a few ulp) and
with PyTorch, on every layout and dtype the twin handles (the kernels take C-contiguous float32/float64
arrays; other inputs run the twin)."""
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
            "a = k._lib is None; y = F.gelu(ember.linspace(-3, 3, 1000)); "
            "print(a, k.available(), round(float(y.sum()), 4))")
    on = _child(code, EMBER_KERNELS="").split()
    off = _child(code, EMBER_KERNELS="numpy").split()
    assert on[0] == "True" and off[0] == "True"             # importing ember loads no library
    assert off[1] == "False"
    assert on[1] == str(_ckernels.available())
    assert on[2] == off[2]                                   # the same GELU either way (to 4 decimals)


@needs_kernels
def test_a_stale_library_is_refused(monkeypatch):
    monkeypatch.setattr(_ckernels, "VERSION", _ckernels.VERSION + 1)
    monkeypatch.setattr(_ckernels, "_lib", None)
    monkeypatch.setitem(_ckernels._state, "tried", False)
    assert _ckernels.library() is None
    x = _wide(np.float32, 100)
    with _ckernels.disabled():
        want = F.gelu(ember.tensor(x)).numpy()
    assert np.array_equal(F.gelu(ember.tensor(x)).numpy(), want, equal_nan=True)
    monkeypatch.undo()
    _ckernels._lib, _ckernels._state["tried"] = None, False
    assert _ckernels.available()


def _specials_equal(a, b, x):
    # at the special inputs the kernel and its twin agree exactly (signed zeros, inf, NaN, subnormals)
    k = slice(-len(SPECIALS), None)
    assert np.array_equal(np.signbit(a[k]), np.signbit(b[k])), (x[k], a[k], b[k])
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
    real = _ckernels._run
    try:
        _ckernels._run = lambda *a: calls.append(1) or real(*a)
        y = F.gelu(x, approximate=approximate)
    finally:
        _ckernels._run = real
    with _ckernels.disabled():
        want = F.gelu(x, approximate=approximate)
    assert y.dtype == want.dtype and y.stride() == want.stride()
    if layout == "scalar":      # (a 0-d array is dense: the kernel's value; the twin's erf is exact below 64)
        assert calls
        np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=3e-7)
    else:
        assert not calls
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
