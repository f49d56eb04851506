"""Dropout's keep masks drawn in chunks and on several threads (``ember.ops._parallel_random``): the same
numbers as one ``rng.random(shape) >= p`` and the generator left in the same state, for any split."""
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


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1,), (10,), (11, 13), (3, 0, 4), (2, 3, 5, 7)])
def test_keep_mask_is_the_single_draw(threads, n_threads, shape):
    calls = threads(n_threads)
    a = np.random.Generator(np.random.PCG64(5))
    b = np.random.Generator(np.random.PCG64(5))
    got = R.keep_mask(a, shape, 0.3)
    want = b.random(shape) >= 0.3
    assert got.dtype == np.bool_ and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert a.bit_generator.state == b.bit_generator.state       # left where the single call leaves it
    assert a.random() == b.random()
    size = int(np.prod(shape))
    parts = min(n_threads, size // 5)                               # MIN_SPLIT = 5 elements per part
    assert calls == ([parts] if parts > 1 else [])


@pytest.mark.parametrize("n_threads", [1, 2])
def test_keep_mask_scaled(threads, n_threads):
    threads(n_threads)
    a = np.random.Generator(np.random.PCG64(9))
    b = np.random.Generator(np.random.PCG64(9))
    s = np.float32(1 / 0.75)
    got = R.keep_mask(a, (40, 9), 0.25, np.float32, s)
    want = np.multiply(b.random((40, 9)) >= 0.25, s)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert a.bit_generator.state == b.bit_generator.state


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
