"""Synthetic datasets for teaching and tests: classification shapes, linearly separable points, regressions with
noise, Poisson counts with exposure, variable-length sequence sums, multi-label data, small images (quadrant
squares, shapes with segmentation masks) and binary patterns for Hopfield memories.

Every generator is seeded by ``seed`` (an int) or ``generator`` (an ``ember.Generator``); with neither it draws
from ember's global generator (so ``ember.manual_seed`` reproduces it).  Each returns NumPy arrays (features
float32, class labels int64) or, with ``as_dataset=True``, a ``TensorDataset`` of the same arrays.

>>> X, y = make_spirals(400, noise=0.1, seed=0)       # (400, 2) float32, (400,) int64 in {0, 1}
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ...backend.random import rng_of
from ..dataset import TensorDataset

__all__ = ["make_xor", "make_spirals", "make_moons", "make_circles", "make_linear_regression",
           "make_polynomial_regression", "make_poisson_counts", "make_sequence_sum", "make_multilabel",
           "make_separable", "make_quadrant_images", "make_shapes", "make_binary_patterns", "flip_bits",
           "PoissonData"]


def _rng(seed, generator) -> np.random.Generator:
    if seed is not None and generator is not None:
        raise ValueError("give either seed or generator, not both")
    if seed is not None:
        return np.random.default_rng(seed)
    return rng_of(generator)


def _check_n(n_samples, who: str) -> int:
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"{who}: n_samples must be a positive integer, got {n_samples!r}")
    return int(n_samples)


def _out(arrays: tuple, as_dataset: bool):
    return TensorDataset(*(np.ascontiguousarray(a) for a in arrays)) if as_dataset else arrays


def make_xor(n_samples: int = 200, noise: float = 0.0, margin: float = 0.0, seed=None, generator=None,
             as_dataset: bool = False):
    """XOR: points uniform in ``[-1, 1]^2``; label 1 where exactly one coordinate is positive.

    ``margin`` keeps every coordinate at least that far from 0 (uniform on ``margin <= |x_i| <= 1``): a gap
    around both axes, so that a classifier can be right on every held-out point.  ``noise`` (a standard
    deviation) jitters the points after labelling.  Returns ``X (n, 2)``, ``y (n,)``.
    """
    n = _check_n(n_samples, "make_xor")
    if not 0 <= margin < 1:
        raise ValueError(f"make_xor: margin must be in [0, 1), got {margin!r}")
    rng = _rng(seed, generator)
    if margin:
        X = rng.choice([-1.0, 1.0], (n, 2)) * rng.uniform(margin, 1, (n, 2))
    else:
        X = rng.uniform(-1, 1, (n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    if noise:
        X = X + rng.normal(0, noise, X.shape)
    return _out((X.astype(np.float32), y), as_dataset)


def make_spirals(n_samples: int = 200, noise: float = 0.0, turns: float = 1.5, seed=None, generator=None,
                 as_dataset: bool = False):
    """Two interleaved spirals (classes 0 and 1, half the samples each), a classic non-linear problem.

    Class ``k`` follows ``r (cos(t + k*pi), sin(t + k*pi))`` with ``r`` growing from 0 to 1 over ``turns``
    revolutions; ``noise`` is the standard deviation of Gaussian jitter.  Returns ``X (n, 2)``, ``y (n,)``.
    """
    n = _check_n(n_samples, "make_spirals")
    rng = _rng(seed, generator)
    y = np.arange(n) % 2
    r = rng.uniform(0.05, 1.0, n)
    t = r * turns * 2 * np.pi + y * np.pi
    X = np.stack([r * np.cos(t), r * np.sin(t)], 1) + rng.normal(0, noise, (n, 2)) * (noise > 0)
    return _out((X.astype(np.float32), y.astype(np.int64)), as_dataset)


def make_moons(n_samples: int = 100, noise: float = 0.0, seed=None, generator=None, as_dataset: bool = False):
    """Two interleaving half circles (scikit-learn's ``make_moons``).  Returns ``X (n, 2)``, ``y (n,)``."""
    n = _check_n(n_samples, "make_moons")
    rng = _rng(seed, generator)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    perm = rng.permutation(n)
    X, y = X[perm], y[perm]
    if noise:
        X = X + rng.normal(0, noise, X.shape)
    return _out((X.astype(np.float32), y), as_dataset)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8, seed=None, generator=None,
                 as_dataset: bool = False):
    """A large circle (class 0) around a smaller one of radius ``factor`` (class 1), like scikit-learn's."""
    n = _check_n(n_samples, "make_circles")
    if not 0 <= factor < 1:
        raise ValueError(f"make_circles: factor must be in [0, 1), got {factor}")
    rng = _rng(seed, generator)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    perm = rng.permutation(n)
    X, y = X[perm], y[perm]
    if noise:
        X = X + rng.normal(0, noise, X.shape)
    return _out((X.astype(np.float32), y), as_dataset)


def make_linear_regression(n_samples: int = 100, n_features: int = 1, noise: float = 0.1, weight=None,
                           bias: float = 0.0, seed=None, generator=None, return_coef: bool = False,
                           as_dataset: bool = False):
    """``y = X @ weight + bias + N(0, noise^2)`` with ``X ~ N(0, 1)``; targets have shape ``(n, 1)``.

    ``weight`` defaults to random ``N(0, 1)`` values; ``return_coef=True`` also returns ``(weight, bias)``.
    """
    n = _check_n(n_samples, "make_linear_regression")
    rng = _rng(seed, generator)
    w = rng.normal(0, 1, n_features) if weight is None else np.asarray(weight, np.float64).reshape(-1)
    if w.size != n_features:
        raise ValueError(f"make_linear_regression: weight has {w.size} values for n_features={n_features}")
    X = rng.normal(0, 1, (n, n_features))
    y = (X @ w + bias + rng.normal(0, noise, n))[:, None]
    out = _out((X.astype(np.float32), y.astype(np.float32)), as_dataset)
    return (out, (w.astype(np.float32), float(bias))) if return_coef else out


def make_polynomial_regression(n_samples: int = 100, coeffs: Sequence[float] = (0.5, -1.0, 2.0),
                               noise: float = 0.1, x_range=(-1.0, 1.0), seed=None, generator=None,
                               as_dataset: bool = False):
    """``y = sum_k coeffs[k] x^k + N(0, noise^2)`` for ``x`` uniform in ``x_range`` (for over/under-fitting
    lessons).  Returns ``x (n, 1)`` and ``y (n, 1)``."""
    n = _check_n(n_samples, "make_polynomial_regression")
    rng = _rng(seed, generator)
    x = rng.uniform(x_range[0], x_range[1], n)
    y = np.polynomial.polynomial.polyval(x, np.asarray(coeffs, np.float64)) + rng.normal(0, noise, n)
    return _out((x[:, None].astype(np.float32), y[:, None].astype(np.float32)), as_dataset)


class PoissonData(NamedTuple):
    """What ``make_poisson_counts`` returns: features, exposure, counts and the true coefficients."""
    X: np.ndarray
    exposure: np.ndarray
    counts: np.ndarray
    beta: np.ndarray
    intercept: float


def make_poisson_counts(n_samples: int = 1000, n_features: int = 3, beta=None, intercept: float = -1.0,
                        exposure_range=(0.1, 1.0), seed=None, generator=None, as_dataset: bool = False):
    """Claim-frequency style counts: ``counts ~ Poisson(exposure * exp(intercept + X @ beta))``.

    ``X ~ N(0, 1)`` (float32 ``(n, n_features)``), ``exposure`` uniform in ``exposure_range`` (the policy
    years, float32 ``(n,)``), ``counts`` float32 ``(n,)``.  Returns a ``PoissonData`` named tuple
    ``(X, exposure, counts, beta, intercept)`` holding the true ``beta`` (default: random ``N(0, 0.3)``); with
    ``as_dataset=True``, a ``TensorDataset(X, exposure, counts)`` (the true values are then not returned).
    """
    n = _check_n(n_samples, "make_poisson_counts")
    if exposure_range[0] <= 0 or exposure_range[0] > exposure_range[1]:
        raise ValueError(f"make_poisson_counts: exposure_range must be (low, high) with 0 < low <= high, got "
                         f"{exposure_range}")
    rng = _rng(seed, generator)
    b = rng.normal(0, 0.3, n_features) if beta is None else np.asarray(beta, np.float64).reshape(-1)
    if b.size != n_features:
        raise ValueError(f"make_poisson_counts: beta has {b.size} values for n_features={n_features}")
    X = rng.normal(0, 1, (n, n_features))
    exposure = rng.uniform(exposure_range[0], exposure_range[1], n)
    counts = rng.poisson(exposure * np.exp(intercept + X @ b))
    arrays = (X.astype(np.float32), exposure.astype(np.float32), counts.astype(np.float32))
    if as_dataset:
        return _out(arrays, True)
    return PoissonData(*arrays, b.astype(np.float32), float(intercept))


def make_sequence_sum(n_samples: int = 1000, min_len: int = 1, max_len: int = 10, low: int = 0, high: int = 10,
                      padded: bool = False, seed=None, generator=None, as_dataset: bool = False):
    """Variable-length integer sequences and their sums: ``(1, 3, 7) -> 11`` (a first RNN task).

    Values are uniform integers in ``[low, high)``, lengths uniform in ``[min_len, max_len]``.  Returns a list
    of int64 arrays and the int64 sums ``(n,)``; with ``padded=True`` (or ``as_dataset=True``) a zero-padded
    ``(n, max_len)`` int64 array, the lengths ``(n,)`` and the sums instead.
    """
    n = _check_n(n_samples, "make_sequence_sum")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"make_sequence_sum: need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    rng = _rng(seed, generator)
    lengths = rng.integers(min_len, max_len + 1, n)
    values = rng.integers(low, high, (n, max_len))
    values[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
    sums = values.sum(1).astype(np.int64)
    if padded or as_dataset:
        return _out((values.astype(np.int64), lengths.astype(np.int64), sums), as_dataset)
    return [values[i, :lengths[i]].astype(np.int64) for i in range(n)], sums


def make_multilabel(n_samples: int = 200, n_features: int = 10, n_labels: int = 5, seed=None, generator=None,
                    as_dataset: bool = False):
    """Multi-label data: each of ``n_labels`` labels is on where its own random linear score of ``X`` is
    positive, so several labels can be on at once.  Returns ``X (n, n_features)`` float32 and ``Y
    (n, n_labels)`` float32 of 0/1 (the targets ``BCEWithLogitsLoss`` expects)."""
    n = _check_n(n_samples, "make_multilabel")
    rng = _rng(seed, generator)
    X = rng.normal(0, 1, (n, n_features))
    W = rng.normal(0, 1, (n_features, n_labels))
    b = rng.normal(0, 0.5, n_labels)
    Y = (X @ W + b > 0).astype(np.float32)
    return _out((X.astype(np.float32), Y), as_dataset)


def make_separable(n_samples: int = 200, n_features: int = 2, margin: float = 0.1, weight=None, seed=None,
                   generator=None, as_dataset: bool = False):
    """Linearly separable points with a gap: ``X`` uniform in ``[-1, 1]^n_features``, ``y = 1`` where
    ``X @ w > 0`` (else 0), and no point closer than ``margin`` to the plane ``X @ w = 0`` (closer ones are
    redrawn), so Rosenblatt's perceptron provably converges.

    ``weight`` is the plane's normal ``w`` (pass the same one to give train and test sets the same plane);
    by default it is drawn ``N(0, 1)`` and scaled to unit length.  Returns ``X (n, n_features)`` float32 and
    ``y (n,)`` int64 in {0, 1}.

    >>> X, y = make_separable(100, margin=0.2, weight=[1.0, -1.0], seed=0)   # the plane x0 = x1
    """
    n = _check_n(n_samples, "make_separable")
    if int(n_features) != n_features or n_features < 1:
        raise ValueError(f"make_separable: n_features must be a positive integer, got {n_features!r}")
    # a unit normal w has |w|_1 >= 1, so the cube always holds points farther than margin < 1 from the plane
    if not 0 <= margin < 1:
        raise ValueError(f"make_separable: margin must be in [0, 1), got {margin!r}")
    rng = _rng(seed, generator)
    w = rng.normal(0, 1, n_features) if weight is None else np.asarray(weight, np.float64).reshape(-1)
    if w.size != n_features:
        raise ValueError(f"make_separable: weight has {w.size} values for n_features={n_features}")
    norm = np.linalg.norm(w)
    if norm == 0:
        raise ValueError("make_separable: weight must not be all zeros")
    if weight is None:
        w = w / norm
    X = np.empty((0, n_features))
    while len(X) < n:            # rejection sampling: keep the points outside the gap
        cand = rng.uniform(-1, 1, (2 * (n - len(X)), n_features))
        X = np.concatenate([X, cand[np.abs(cand @ w) / norm >= margin]])
    X = X[:n]
    y = (X @ w > 0).astype(np.int64)
    return _out((X.astype(np.float32), y), as_dataset)


def _check_size(size, who: str, smallest: int = 8) -> int:
    if int(size) != size or size < smallest:
        raise ValueError(f"{who}: size must be an integer >= {smallest}, got {size!r}")
    return int(size)


def make_quadrant_images(n_samples: int = 1000, channels: int = 3, size: int = 32, noise: float = 0.3, seed=None,
                         generator=None, as_dataset: bool = False):
    """Four classes of ``(channels, size, size)`` images: a bright square (``size/4`` on a side, +1.0) in one
    of the four quadrants (class ``2 * row + column``), drawn in channel ``class % channels``, on Gaussian noise
    of standard deviation ``noise``.  Returns ``x (n, channels, size, size)`` float32 and ``y (n,)`` int64 in
    0..3 (the typical DNN's data).

    >>> x, y = make_quadrant_images(64, seed=0)           # (64, 3, 32, 32), (64,)
    """
    n = _check_n(n_samples, "make_quadrant_images")
    size = _check_size(size, "make_quadrant_images")
    if int(channels) != channels or channels < 1:
        raise ValueError(f"make_quadrant_images: channels must be a positive integer, got {channels!r}")
    rng = _rng(seed, generator)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, noise, (n, channels, size, size)).astype(np.float32)
    half, side = size // 2, size // 4
    for c in range(4):
        r, q = divmod(c, 2)
        y0, x0 = half * r + size // 8, half * q + size // 8
        x[np.flatnonzero(y == c), c % channels, y0:y0 + side, x0:x0 + side] += 1.0
    return _out((x, y.astype(np.int64)), as_dataset)


def make_shapes(n_samples: int = 1000, size: int = 32, noise: float = 0.2, seed=None, generator=None,
                as_dataset: bool = False):
    """Segmentation data: grey ``(1, size, size)`` images holding a disc (with probability 0.8) and a square
    (probability 0.8, drawn over the disc where they overlap), both +1.0 brighter than the Gaussian noise
    (standard deviation ``noise``), so only their form tells them apart.  Returns ``x (n, 1, size, size)``
    float32 and ``mask (n, size, size)`` int64 with 0 background, 1 disc, 2 square.

    Positions and sizes scale with ``size``; at 32: disc centre in [8, 24), radius in [4, 8); square corner in
    [2, 20), side in [5, 10).

    >>> x, mask = make_shapes(100, seed=0)               # (100, 1, 32, 32), (100, 32, 32)
    """
    n = _check_n(n_samples, "make_shapes")
    size = _check_size(size, "make_shapes")

    def span(lo, hi):            # the range [lo, hi) given for size 32, scaled to this size
        a = max(1, round(lo * size / 32))
        return a, max(a + 1, round(hi * size / 32))

    rng = _rng(seed, generator)
    yy, xx = np.mgrid[:size, :size]
    x = rng.normal(0, noise, (n, 1, size, size)).astype(np.float32)
    mask = np.zeros((n, size, size), np.int64)
    for i in range(n):
        if rng.random() < 0.8:
            cy, cx, r = rng.integers(*span(8, 24)), rng.integers(*span(8, 24)), rng.integers(*span(4, 8))
            mask[i][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
        if rng.random() < 0.8:
            y0, x0, s = rng.integers(*span(2, 20)), rng.integers(*span(2, 20)), rng.integers(*span(5, 10))
            mask[i, y0:y0 + s, x0:x0 + s] = 2
        x[i, 0][mask[i] > 0] += 1.0
    return _out((x, mask), as_dataset)


def make_binary_patterns(n_samples: int = 5, n_units: int = 100, seed=None, generator=None,
                         as_dataset: bool = False):
    """Random +1/-1 patterns (each unit +1 with probability 1/2), the memories of a Hopfield network.
    Returns float32 ``(n, n_units)``; with ``as_dataset=True``, ``TensorDataset(patterns, patterns)``
    (input and target, as for an autoencoder).

    >>> patterns = make_binary_patterns(6, 100, seed=0)   # (6, 100) of -1.0 / 1.0
    """
    n = _check_n(n_samples, "make_binary_patterns")
    if int(n_units) != n_units or n_units < 1:
        raise ValueError(f"make_binary_patterns: n_units must be a positive integer, got {n_units!r}")
    rng = _rng(seed, generator)
    patterns = np.where(rng.random((n, int(n_units))) < 0.5, -1.0, 1.0).astype(np.float32)
    return _out((patterns, patterns), True) if as_dataset else patterns


def flip_bits(patterns, fraction: float, seed=None, generator=None) -> np.ndarray:
    """A copy of +1/-1 ``patterns`` ``(n, n_units)`` (or one ``(n_units,)``) with exactly
    ``round(fraction * n_units)`` units, chosen at random in each row, flipped: the corrupted cues of a
    Hopfield recall test.

    >>> cues = flip_bits(make_binary_patterns(6, 100, seed=0), 0.2, seed=1)   # 20 of 100 bits flipped per row
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"flip_bits: fraction must be in [0, 1], got {fraction!r}")
    out = np.array(getattr(patterns, "_data", patterns), copy=True)      # an ember Tensor's array, or array-like
    if out.ndim not in (1, 2) or out.shape[-1] == 0:
        raise ValueError(f"flip_bits: patterns must have shape (n, n_units) or (n_units,), got {out.shape}")
    if not np.isin(out, (-1, 1)).all():
        raise ValueError("flip_bits: patterns must hold only -1 and +1")
    rows = out.reshape(-1, out.shape[-1])           # a view: flipping it flips out
    k = round(fraction * rows.shape[1])
    rng = _rng(seed, generator)
    for row in rows:
        row[rng.choice(rows.shape[1], k, replace=False)] *= -1
    return out
