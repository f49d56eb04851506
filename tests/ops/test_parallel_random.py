"""Dropout's keep masks drawn in chunks and on several threads (``ember.ops._parallel_random``): two elements
per raw 64-bit output of PCG64 (its low, then its high 32 bits as a uniform v / 2**32, kept where >= p),
the same at any split and the generator left where one draw of those outputs leaves it."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops import _parallel_random as R
from tests.ops._sections import counting_sections


@pytest.fixture
def threads(monkeypatch):
    """BLAS reported with ``n`` threads, tiny arrays split and chunks of 7; returns the list of the parallel
    sections' sizes."""
    return counting_sections(monkeypatch, [(R, "MIN_SPLIT", 5), (R, "CHUNK", 7)])


def _reference(seed, shape, p):
    """The documented mask, written plainly: (mask, the generator after)."""
    bg = np.random.PCG64(seed)
    n = int(np.prod(shape))
    raw = bg.random_raw((n + 1) // 2)
    v = np.empty(2 * raw.size, np.uint64)
    v[0::2] = raw & np.uint64(0xFFFFFFFF)
    v[1::2] = raw >> np.uint64(32)
    return (v[:n] / 2.0 ** 32 >= p).reshape(shape), bg


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1,), (10,), (11, 13), (3, 0, 4), (2, 3, 5, 7)])
def test_keep_mask_is_the_documented_draw(threads, n_threads, shape):
    calls = threads(n_threads)
    a = np.random.Generator(np.random.PCG64(5))
    got = R.keep_mask(a, shape, 0.3)
    want, b = _reference(5, shape, 0.3)
    assert got.dtype == np.bool_ and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert a.bit_generator.state == b.state                    # left where one draw leaves it
    size = int(np.prod(shape))
    parts = min(n_threads, size // 5)                               # MIN_SPLIT = 5 elements per part
    assert calls == ([parts] if parts > 1 else [])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.999])
def test_keep_mask_keeps_one_minus_p(p):
    keep = R.keep_mask(np.random.Generator(np.random.PCG64(3)), (200_000,), p)
    assert abs(keep.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / keep.size) + 1e-6
    # neighbours (the two halves of one output) are independent
    pairs = keep[0::2] & keep[1::2]
    assert abs(pairs.mean() - (1 - p) ** 2) < 5 * np.sqrt((1 - p) ** 2 / pairs.size) + 1e-6


def test_keep_mask_threshold_at_the_32_bit_grid():
    # p exactly on the grid of 32-bit uniforms and just off it: v / 2**32 >= p, exactly
    for p in (0.25, 0.25 + 2.0 ** -40, 0.25 - 2.0 ** -40, 1 - 2.0 ** -32, 1 - 2.0 ** -34, 2.0 ** -33):
        got = R.keep_mask(np.random.Generator(np.random.PCG64(8)), (4001,), p)
        np.testing.assert_array_equal(got, _reference(8, (4001,), p)[0])


@pytest.mark.parametrize("n_threads", [1, 2])
def test_keep_mask_scaled(threads, n_threads):
    threads(n_threads)
    a = np.random.Generator(np.random.PCG64(9))
    s = np.float32(1 / 0.75)
    got = R.keep_mask(a, (40, 9), 0.25, np.float32, s)
    want = np.multiply(_reference(9, (40, 9), 0.25)[0], s)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_keep_mask_edges(threads, p):
    threads(2)
    got = R.keep_mask(np.random.Generator(np.random.PCG64(1)), (50,), p)
    assert got.all() if p == 0 else not got.any()


def test_other_bit_generators_draw_on_one_thread(threads):
    calls = threads(2)
    a = np.random.Generator(np.random.MT19937(4))
    b = np.random.Generator(np.random.MT19937(4))
    np.testing.assert_array_equal(R.keep_mask(a, (100,), 0.5), b.random(100) >= 0.5)
    assert calls == []


def _run(fn):
    ember.manual_seed(11)
    out = fn()
    return out, ember.rand(4)         # the generator's state after, through its next draws


@pytest.mark.parametrize("case", [
    lambda: F.dropout(ember.ones(30, 17), 0.4),
    lambda: F.dropout(ember.ones(17, 30).t(), 0.4),                 # a transposed input: mask in its layout
    lambda: F.dropout2d(ember.ones(6, 5, 4, 3), 0.5),
    lambda: F.scaled_dot_product_attention(*(ember.ones(3, 2, 9, 4),) * 3, dropout_p=0.3),
])
def test_dropout_the_same_at_any_thread_count(threads, case):
    threads(1)
    want, after = _run(case)
    calls = threads(2)
    got, after2 = _run(case)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(after.numpy(), after2.numpy())
    assert calls                      # the draw was split


def test_dropout_keeps_the_input_layout_and_scale():
    ember.manual_seed(0)
    x = ember.ones(40, 50).t()
    y = F.dropout(x, 0.2)
    assert y.stride() == x.stride()
    vals = set(np.unique(y.numpy()).tolist())
    assert vals <= {0.0, float(np.float32(1 / 0.8))} and len(vals) == 2
