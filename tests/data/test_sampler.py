"""Tests for ember/data/sampler.py: orders, lengths, replacement, weights and batching."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.data import (BatchSampler, RandomSampler, SequentialSampler, SubsetRandomSampler,
                        WeightedRandomSampler)


def test_sequential():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_without_replacement_is_a_fresh_permutation():
    s = RandomSampler(range(50))
    a, b = list(s), list(s)
    assert sorted(a) == sorted(b) == list(range(50)) and a != b
    g = lambda: ember.Generator().manual_seed(4)   # noqa: E731
    assert list(RandomSampler(range(50), generator=g())) == list(RandomSampler(range(50), generator=g()))


def test_random_num_samples_chains_permutations():
    out = list(RandomSampler(range(10), num_samples=25))
    assert len(out) == 25 and len(RandomSampler(range(10), num_samples=25)) == 25
    assert sorted(out[:10]) == list(range(10)) and sorted(out[10:20]) == list(range(10))
    assert len(set(out[20:])) == 5


def test_random_with_replacement_repeats_and_is_uniform():
    out = np.array(list(RandomSampler(range(5), replacement=True, num_samples=20000)))
    counts = np.bincount(out, minlength=5)
    assert counts.min() > 3700 and counts.max() < 4300       # 4000 +- ~7 sigma
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(range(5), num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(range(5), replacement=1)


def test_subset_random():
    idx = [3, 9, 27, 81]
    out = list(SubsetRandomSampler(idx))
    assert sorted(out) == idx and len(SubsetRandomSampler(idx)) == 4


def test_weighted_within_statistical_tolerance():
    w = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    n = 40000
    counts = np.bincount(list(WeightedRandomSampler(w, n)), minlength=5)
    p = w / w.sum()
    expected = n * p
    sigma = np.sqrt(n * p * (1 - p))
    assert counts[4] == 0
    assert np.all(np.abs(counts[:4] - expected[:4]) < 5 * sigma[:4]), (counts, expected)
    chi2 = (((counts[:4] - expected[:4]) ** 2) / expected[:4]).sum()
    assert chi2 < 20.5        # 3 degrees of freedom: p < 1e-4 of failing by chance


def test_weighted_class_balancing():
    labels = np.array([0] * 900 + [1] * 100)
    weights = 1.0 / np.bincount(labels)[labels]
    drawn = labels[list(WeightedRandomSampler(ember.tensor(weights), 20000))]
    frac = drawn.mean()
    assert abs(frac - 0.5) < 0.02


def test_weighted_without_replacement():
    out = list(WeightedRandomSampler([1, 1, 1, 5, 0], 4, replacement=False))
    assert len(set(out)) == 4 and 4 not in out
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1, 1, 0], 3, replacement=False)
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler([[1, 2]], 2)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1, 2], -1)


def test_batch_sampler_matches_torch():
    from torch.utils.data import BatchSampler as TBS
    for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, False), (2, 5, False), (2, 5, True)]:
        ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
        ref = TBS(range(n), bs, drop)
        assert list(ours) == list(ref) and len(ours) == len(ref)
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(range(3), 2, "no")
