"""``ember.ops._bound``: ``np.maximum(s, a)`` / ``np.minimum(s, a)`` through broadcast rows give the plain
call's bits (signed zeros, NaN payloads and signs), on every size, tail and operand form."""
import numpy as np
import pytest

from ember.ops import _bound


def _hostile(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    bits = x.view(np.uint32 if dtype == np.float32 else np.uint64)
    sign = 1 << (31 if dtype == np.float32 else 63)
    x[::7], x[::11], x[::13] = -0.0, 0.0, np.nan
    x[::19] = np.inf
    x[::23] = -np.inf
    bits[::17] = bits[::17] | np.asarray(sign, bits.dtype)        # negative numbers, -0.0 and -NaN
    bits[::29] = np.asarray(0x7FC00123 if dtype == np.float32 else 0x7FF8000000000123, bits.dtype)  # a payload
    return x


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [5, _bound.MIN_SIZE - 1, _bound.MIN_SIZE, 3 * _bound.ROW + 1, (1 << 18) + 77])
@pytest.mark.parametrize("fn", ["maximum", "minimum"])
@pytest.mark.parametrize("s", [0, 0.0, -0.0, 0.5, -1, 3, 1e39, float("inf"), float("nan")])
def test_bits_equal_the_plain_call(dtype, n, fn, s):
    x = _hostile(n, dtype)
    with np.errstate(all="ignore"):
        want = getattr(np, fn)(s, x)
        got = getattr(_bound, fn)(s, x)
    _same_bits(got, want)


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_out_in_place_views_and_shapes(fn):
    ref, mine = getattr(np, fn), getattr(_bound, fn)
    x = _hostile(9 * 5000, np.float32).reshape(-1, 9)[:, :8]                    # (not contiguous)
    _same_bits(mine(0, x), ref(0, x))
    y = _hostile(3 * (4 * _bound.ROW + 3), np.float32, seed=1).reshape(3, -1, 1)
    want = ref(0.25, y)
    out = np.empty_like(y)
    assert mine(0.25, y, out=out) is out
    _same_bits(out, want)
    z = y.copy()
    assert mine(0.25, z, out=z) is z                                             # in place
    _same_bits(z, want)
    w = _hostile(4 * _bound.ROW + 3, np.float32, seed=2)
    shifted = w.copy()
    want = ref(0, shifted[1:])
    mine(0, shifted[1:], out=shifted[:-1])                                       # overlapping, not in place
    _same_bits(shifted[:-1], want)


def test_errstate_raise_is_not_triggered_by_nan_rows():
    x = _hostile(3 * _bound.ROW, np.float32)
    with np.errstate(all="raise"):
        _same_bits(_bound.maximum(0, x), np.maximum(0, x))
        _same_bits(_bound.minimum(0, x), np.minimum(0, x))


def test_the_shared_zero_row_is_read_only():
    x = _hostile(3 * _bound.ROW, np.float32)
    _bound.maximum(0, x)
    assert not _bound._ZERO_ROW.any() and not _bound._ZERO_ROW.flags.writeable
