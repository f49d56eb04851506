"""``ember.special.airy_ai`` and ``bessel_j0/j1/y0/y1`` against torch 2.13: values in float32 and float64 on dense
grids over the whole real line (negative arguments, 0, the approximations' seams, huge |x|, +-inf, NaN), the
float32 results computed in float32 as PyTorch's, no gradient (as PyTorch), dtypes, ``out=`` and layouts."""
from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.special  # noqa: E402
from ember import _special_bessel  # noqa: E402

NAMES = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"]


def _around(v, dtype, k=3):
    """v and its k neighbours on each side in ``dtype``."""
    out, lo, hi = [dtype(v)], dtype(v), dtype(v)
    for _ in range(k):
        lo, hi = np.nextafter(lo, dtype(-np.inf)), np.nextafter(hi, dtype(np.inf))
        out += [lo, hi]
    return out


def _points(dtype):
    rng = np.random.default_rng(7)
    big = 3e38 if dtype == np.float32 else 1e300
    seams = []                                   # where the approximations switch, and the tiny-x branch
    for v in (5.0, -5.0, 2.09, -2.09, 8.3203353, 103.892, 1e-5, -1e-5, 0.0):
        seams += _around(v, dtype)
    mags = np.exp(rng.uniform(math.log(1e-30), math.log(big), 400))
    xs = np.concatenate([np.linspace(-40.0, 40.0, 4001), rng.uniform(-300.0, 300.0, 1000), mags, -mags,
                         [-0.0, 1e-30, -1e-30, 1e4, -1e4, 12345.678, 1e10, big, -big, math.inf, -math.inf, math.nan]])
    return np.concatenate([xs.astype(dtype), np.array(seams, dtype)])


def _envelope(name, x):
    """The size of the function near x (|x|^-1/2 for the Bessel functions' oscillation, |x|^-1/4 for Ai's), so
    that the comparison near a zero is in units of the neighbouring values, not of the tiny result."""
    ax = np.abs(x.astype(np.float64))
    with np.errstate(divide="ignore"):
        if name == "airy_ai":
            return np.where(x < -1, ax ** -0.25, 0.0)
        return np.minimum(1.0, ax ** -0.5)


def _check(name, x):
    dtype = x.dtype
    e = getattr(ember.special, name)(ember.tensor(x))
    t = getattr(torch.special, name)(torch.from_numpy(x.copy()))
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "") == str(dtype)
    a, b = e.numpy(), t.numpy()
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{name}: NaN positions")
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b), err_msg=f"{name}: inf positions")
    inf = np.isinf(b)
    np.testing.assert_array_equal(a[inf], b[inf], err_msg=f"{name}: infinities")
    zero = b == 0
    np.testing.assert_array_equal(np.signbit(a[zero]), np.signbit(b[zero]), err_msg=f"{name}: signed zeros")
    eps = float(np.finfo(dtype).eps)
    # a few units in the last place of the value, or of the envelope near the zeros (where one ulp of sin/cos
    # moves the cancelling sum)
    rtol = 4 * eps
    atol = 8 * eps * _envelope(name, x)
    fin = np.isfinite(b)
    a64, b64 = a[fin].astype(np.float64), b[fin].astype(np.float64)
    err = np.abs(a64 - b64)
    bound = rtol * np.abs(b64) + atol[fin] + np.finfo(dtype).tiny
    worst = int(np.argmax(err / bound))
    assert np.all(err <= bound), (f"{name} {dtype.__name__ if hasattr(dtype, '__name__') else dtype}: "
                                  f"x={x[fin][worst]!r} ember={a[fin][worst]!r} torch={b[fin][worst]!r}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_values_against_torch(name, dtype):
    _check(name, _points(dtype))


def test_special_values():
    inf, nan = math.inf, math.nan
    x = [0.0, -0.0, inf, -inf, nan, -1.0, -1e-30]
    want = {"airy_ai": [0.355028053887817239260, 0.355028053887817239260, nan, nan, nan, None, None],
            "bessel_j0": [1.0, 1.0, nan, nan, nan, None, 1.0],
            "bessel_j1": [0.0, -0.0, nan, nan, nan, None, -5e-31],
            "bessel_y0": [-inf, -inf, nan, nan, nan, nan, nan],
            "bessel_y1": [-inf, -inf, nan, nan, nan, nan, nan]}
    for name, vals in want.items():
        for dtype in (ember.float32, ember.float64):
            got = getattr(ember.special, name)(ember.tensor(x, dtype=dtype)).tolist()
            for g, w, xi in zip(got, vals, x):
                if w is None:
                    continue
                if math.isnan(w):
                    assert math.isnan(g), (name, xi, g)
                else:
                    assert g == pytest.approx(w, rel=1e-6) and math.copysign(1, g) == math.copysign(1, w), (name, xi)
    assert ember.special.airy_ai(ember.tensor([103.9, 1e4])).tolist() == [0.0, 0.0]       # underflowed, as torch


def test_float32_is_computed_in_float32_as_torch():
    # far out, x - pi/4 is rounded to float32: torch's float32 value is ~1e-4 away (relative) from the float64
    # one; ember's follows torch's float32 arithmetic
    x = np.array([1e4, 12345.678, 3.0e5], np.float32)
    for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"):
        t32 = getattr(torch.special, name)(torch.from_numpy(x)).numpy().astype(np.float64)
        t64 = getattr(torch.special, name)(torch.from_numpy(x.astype(np.float64))).numpy()
        e32 = getattr(ember.special, name)(ember.tensor(x)).numpy().astype(np.float64)
        assert np.max(np.abs(t32 - t64)) > 1e-6                       # the float32 computation differs ...
        np.testing.assert_allclose(e32, t32, rtol=0, atol=5e-9, err_msg=name)     # ... and ember gives it


def test_kernels_keep_dtype_and_shape():
    for dtype in (np.float32, np.float64):
        for name in NAMES:
            fn = getattr(_special_bessel, name)
            for x in (np.array(1.5, dtype), np.zeros((0, 3), dtype), np.linspace(-9, 9, 12, dtype=dtype).reshape(3, 4)):
                out = fn(x)
                assert out.dtype == dtype and out.shape == x.shape, (name, dtype, x.shape)


def test_no_gradient_as_torch():
    for name in NAMES:
        results = []
        for lib in (ember, torch):
            x = lib.tensor([0.5, 2.0, 7.0], requires_grad=True)
            y = getattr(lib.special, name)(x)
            assert not y.requires_grad and y.grad_fn is None, (lib.__name__, name)
            with pytest.raises(RuntimeError, match="does not require grad"):
                y.sum().backward()
            results.append(y.tolist())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_dtypes_out_and_layout():
    for name in NAMES:
        for lib in (ember, torch):
            # integers and bools compute in the default dtype; float16 has no CPU kernel (an empty tensor too)
            assert getattr(lib.special, name)(lib.tensor([1, 2])).dtype == lib.float32
            assert getattr(lib.special, name)(lib.tensor([True, False])).dtype == lib.float32
            with pytest.raises(NotImplementedError, match=rf'"{name}_cpu" not implemented for \'Half\''):
                getattr(lib.special, name)(lib.zeros(0, dtype=lib.float16))
        m = np.arange(12.0).reshape(3, 4) / 3 - 1
        e = getattr(ember.special, name)(ember.tensor(m.T.copy()).T)
        t = getattr(torch.special, name)(torch.tensor(m.T.copy()).T)
        assert e.stride() == t.stride(), name
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-14, atol=1e-300)
        o = ember.empty(3, 4, dtype=ember.float64)
        assert getattr(ember.special, name)(ember.tensor(m), out=o) is o
        np.testing.assert_allclose(o.numpy(), getattr(torch.special, name)(torch.tensor(m)).numpy(), rtol=1e-14)
        s = getattr(ember.special, name)(ember.tensor(1.25, dtype=ember.float64))
        assert s.shape == () and s.item() == pytest.approx(getattr(torch.special, name)(torch.tensor(1.25,
                                                                     dtype=torch.float64)).item(), rel=1e-14)


def test_names_are_in_the_namespace():
    for name in NAMES:
        assert name in ember.special.__all__ and name in dir(ember.special)
        assert getattr(ember.special, name).__module__ == "ember.special"


@pytest.mark.parametrize("name", NAMES)
def test_large_arrays_run_in_blocks(name):
    # over 65536 elements the kernels run block by block; the values and the shape are unchanged
    for dtype in (np.float32, np.float64):
        x = np.linspace(-60.0, 60.0, 3 * 70001, dtype=dtype).reshape(3, 70001)
        _check(name, x)
        np.testing.assert_array_equal(getattr(_special_bessel, name)(x)[1, 5:9],
                                      getattr(_special_bessel, name)(x[1, 5:9]))
