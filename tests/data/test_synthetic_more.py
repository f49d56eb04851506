"""Tests for the synthetic generators of the lecture models: make_separable, make_quadrant_images, make_shapes,
make_binary_patterns and flip_bits (ember/data/datasets/synthetic.py)."""
import numpy as np
import pytest

import ember
from ember.data.datasets.synthetic import (flip_bits, make_binary_patterns, make_quadrant_images, make_separable,
                                           make_shapes)


# -- make_separable -------------------------------------------------------------------------------------------
def test_separable_shapes_range_and_margin_with_given_plane():
    w = np.array([3.0, -1.0, 2.0])
    X, y = make_separable(500, 3, margin=0.25, weight=w, seed=0)
    assert X.shape == (500, 3) and X.dtype == np.float32 and y.shape == (500,) and y.dtype == np.int64
    assert X.min() >= -1 and X.max() <= 1 and set(np.unique(y)) == {0, 1}
    dist = X @ w / np.linalg.norm(w)            # signed distance to the plane
    np.testing.assert_array_equal(y, (dist > 0).astype(np.int64))
    assert np.abs(dist).min() >= 0.25 - 1e-6
    assert np.abs(dist).min() < 0.3             # the gap is the margin asked for, not a much wider one


def test_separable_default_plane_is_learnable_and_gap_empties_the_band():
    from sklearn.linear_model import Perceptron
    X, y = make_separable(400, 2, margin=0.1, seed=3)
    assert Perceptron(max_iter=1000, tol=None, random_state=0).fit(X, y).score(X, y) == 1.0
    # the plane passes through 0 with a random unit normal: recover it from the data and check the empty band
    X0, _ = make_separable(20000, 2, margin=0.0, seed=3)
    w = np.random.default_rng(3).normal(0, 1, 2)
    w /= np.linalg.norm(w)
    assert np.abs(X @ w).min() >= 0.1 - 1e-6
    assert (np.abs(X0 @ w) < 0.1).mean() > 0.05      # without a margin the band is not empty


def test_separable_seed_generator_and_dataset():
    a = make_separable(50, 4, seed=7)
    b = make_separable(50, 4, seed=7)
    c = make_separable(50, 4, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    g = ember.Generator().manual_seed(7)
    np.testing.assert_array_equal(make_separable(50, 4, generator=g)[0], a[0])
    ember.manual_seed(1)
    d = make_separable(50, 4)
    ember.manual_seed(1)
    np.testing.assert_array_equal(make_separable(50, 4)[0], d[0])
    ds = make_separable(10, seed=0, as_dataset=True)
    assert len(ds) == 10 and isinstance(ds[0][0], ember.Tensor) and ds[0][0].shape == (2,)


@pytest.mark.parametrize("kwargs, match", [
    (dict(margin=1.0), "make_separable: margin must be in \\[0, 1\\), got 1.0"),
    (dict(margin=-0.1), "margin must be in"),
    (dict(weight=[1.0, 2.0, 3.0]), "make_separable: weight has 3 values for n_features=2"),
    (dict(weight=[0.0, 0.0]), "weight must not be all zeros"),
    (dict(n_features=0), "make_separable: n_features must be a positive integer, got 0"),
    (dict(n_samples=0), "make_separable: n_samples must be a positive integer, got 0"),
    (dict(seed=0, generator=ember.Generator()), "either seed or generator"),
])
def test_separable_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_separable(**kwargs)


# -- make_quadrant_images -------------------------------------------------------------------------------------
def test_quadrant_images_square_in_the_labelled_quadrant_and_channel():
    x, y = make_quadrant_images(200, channels=3, size=32, noise=0.0, seed=0)
    assert x.shape == (200, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2, 3}
    for img, c in zip(x, y):
        r, q = divmod(int(c), 2)
        assert img.sum() == 64                                   # one 8x8 square of ones, nothing else
        assert img[c % 3, 16 * r + 4:16 * r + 12, 16 * q + 4:16 * q + 12].min() == 1
    x2, y2 = make_quadrant_images(8, channels=1, size=16, noise=0.3, seed=1)
    assert x2.shape == (8, 1, 16, 16)
    # the brightest quadrant is the label's (noise 0.3 vs a +1 square)
    quads = x2[:, 0].reshape(8, 2, 8, 2, 8).mean((2, 4)).reshape(8, 4)
    np.testing.assert_array_equal(quads.argmax(1), y2)


def test_quadrant_images_seeded_and_checked():
    np.testing.assert_array_equal(make_quadrant_images(5, seed=2)[0], make_quadrant_images(5, seed=2)[0])
    with pytest.raises(ValueError, match="make_quadrant_images: size must be an integer >= 8, got 4"):
        make_quadrant_images(5, size=4)
    with pytest.raises(ValueError, match="make_quadrant_images: channels must be a positive integer, got 0"):
        make_quadrant_images(5, channels=0)


# -- make_shapes ----------------------------------------------------------------------------------------------
def test_shapes_masks_and_images():
    x, m = make_shapes(300, seed=0)
    assert x.shape == (300, 1, 32, 32) and x.dtype == np.float32
    assert m.shape == (300, 32, 32) and m.dtype == np.int64 and set(np.unique(m)) == {0, 1, 2}
    has_disc, has_square = (m == 1).any((1, 2)), (m == 2).any((1, 2))
    # each shape with probability 0.8 (a disc may be hidden under a square only rarely)
    assert 0.7 < has_disc.mean() < 0.9 and 0.7 < has_square.mean() < 0.9
    assert (~has_disc & ~has_square).any()                      # some images are empty (p = 0.04)
    # squares have 5..9 pixels on a side: 25..81 pixels, discs (radius 4..7) about 49..154
    sq = (m == 2).sum((1, 2))[has_square]
    assert sq.min() >= 25 and sq.max() <= 81
    # both shapes are +1 brighter than the background noise (std 0.2)
    assert abs(x[:, 0][m == 0].mean()) < 0.02 and abs(x[:, 0][m > 0].mean() - 1) < 0.02
    assert x[:, 0][m == 0].std() == pytest.approx(0.2, rel=0.05)
    assert abs(x[:, 0][m == 1].mean() - x[:, 0][m == 2].mean()) < 0.03


def test_shapes_scale_with_size_and_seed():
    x, m = make_shapes(100, size=64, noise=0.0, seed=1)
    assert x.shape == (100, 1, 64, 64)
    np.testing.assert_array_equal(x[:, 0] > 0.5, m > 0)             # noise 0: image = shape pixels
    sq = (m == 2).sum((1, 2))
    assert sq[sq > 0].max() > 81                                     # bigger than any square at size 32
    x8, m8 = make_shapes(20, size=8, seed=1)
    assert m8.shape == (20, 8, 8) and m8.max() <= 2
    np.testing.assert_array_equal(make_shapes(5, seed=4)[1], make_shapes(5, seed=4)[1])
    assert not np.array_equal(make_shapes(5, seed=4)[1], make_shapes(5, seed=5)[1])
    ds = make_shapes(4, seed=0, as_dataset=True)
    assert ds[0][1].dtype == ember.int64 and ds[0][0].shape == (1, 32, 32)
    with pytest.raises(ValueError, match="make_shapes: size must be an integer >= 8, got 7"):
        make_shapes(5, size=7)


# -- Hopfield patterns ----------------------------------------------------------------------------------------
def test_binary_patterns():
    p = make_binary_patterns(50, 200, seed=0)
    assert p.shape == (50, 200) and p.dtype == np.float32 and set(np.unique(p)) == {-1.0, 1.0}
    assert abs(p.mean()) < 0.03                                  # +1 and -1 equally likely
    np.testing.assert_array_equal(p, make_binary_patterns(50, 200, seed=0))
    ds = make_binary_patterns(3, 10, seed=0, as_dataset=True)
    x, t = ds[1]
    assert len(ds) == 3 and ember.equal(x, t)
    with pytest.raises(ValueError, match="make_binary_patterns: n_units must be a positive integer, got 0"):
        make_binary_patterns(3, 0)


@pytest.mark.parametrize("fraction, k", [(0.2, 20), (0.0, 0), (1.0, 100), (0.333, 33)])
def test_flip_bits_flips_exactly_k_per_row(fraction, k):
    p = make_binary_patterns(30, 100, seed=1)
    before = p.copy()
    q = flip_bits(p, fraction, seed=2)
    np.testing.assert_array_equal(p, before)                     # a copy: the input is untouched
    assert q.dtype == p.dtype and set(np.unique(q)) <= {-1.0, 1.0}
    assert ((q != p).sum(1) == k).all()
    np.testing.assert_array_equal(q[q != p], -p[q != p])        # flipped means negated


def test_flip_bits_rows_differ_seeded_single_and_errors():
    p = np.ones((40, 50), np.float32)
    q = flip_bits(p, 0.5, seed=0)
    assert len({tuple(r) for r in q}) > 30                       # each row draws its own units
    np.testing.assert_array_equal(q, flip_bits(p, 0.5, generator=ember.Generator().manual_seed(0)))
    one = flip_bits(ember.tensor(p[0]), 0.1, seed=3)             # one pattern, given as a Tensor
    assert one.shape == (50,) and (one == -1).sum() == 5
    with pytest.raises(ValueError, match="flip_bits: fraction must be in \\[0, 1\\], got 1.5"):
        flip_bits(p, 1.5)
    with pytest.raises(ValueError, match="flip_bits: patterns must hold only -1 and \\+1"):
        flip_bits(np.zeros((2, 3)), 0.5)
    with pytest.raises(ValueError, match="shape \\(n, n_units\\) or \\(n_units,\\), got \\(2, 3, 4\\)"):
        flip_bits(np.ones((2, 3, 4)), 0.5)


def test_make_xor_margin_leaves_a_gap_around_both_axes():
    from ember.data.datasets.synthetic import make_xor
    X, y = make_xor(2000, margin=0.2, seed=0)
    assert np.abs(X).min() >= 0.2 and np.abs(X).max() <= 1.0
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))
    assert 0.45 < y.mean() < 0.55 and (X[:, 0] < -0.6).any() and (X[:, 1] > 0.6).any()
    X0, _ = make_xor(50, seed=0)
    assert np.abs(X0).min() < 0.2                                    # no gap without a margin
    with pytest.raises(ValueError, match=r"make_xor: margin must be in \[0, 1\), got 1.5"):
        make_xor(10, margin=1.5)
