"""Samplers: which dataset indices a ``DataLoader`` visits, and in what order (``torch.utils.data.sampler``).

Random samplers draw from their ``generator`` or, without one, from ember's global generator, so
``ember.manual_seed(s)`` makes every epoch's order reproducible while each new epoch still gets a fresh order.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np

from ..backend.random import rng_of
from ..tensor import Tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (yielding indices) and, when known, ``__len__``."""

    def __init__(self, data_source=None) -> None:
        # PyTorch deprecated the argument; accepted and ignored for compatibility
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """Yields ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_num_samples(name: str, num_samples) -> int:
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise ValueError(f"{name}: num_samples should be a positive integer value, but got "
                         f"num_samples={num_samples!r}")
    return int(num_samples)


class RandomSampler(Sampler):
    """Yields the indices of ``data_source`` in random order.

    Without replacement every index appears once per ``len(data_source)`` draws (with ``num_samples`` larger
    than the dataset, whole permutations are chained); with ``replacement=True`` ``num_samples`` indices are
    drawn uniformly and independently.  Each ``iter()`` draws a fresh order from ``generator`` (default:
    ember's global generator).

    >>> list(RandomSampler(range(5), generator=ember.Generator().manual_seed(0)))   # a permutation of 0..4
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_num_samples("RandomSampler", self.num_samples)

    @property
    def num_samples(self) -> int:
        # evaluated lazily: the dataset's size may change after construction (as in PyTorch)
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = rng_of(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.permutation(n).tolist()
        rest = self.num_samples % n
        if rest:
            yield from rng.permutation(n)[:rest].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """Yields the given ``indices`` in a random order (a fresh one each epoch)."""

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in rng_of(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Yields ``num_samples`` indices in ``[0, len(weights))`` drawn with probabilities proportional to ``weights``.

    The weights need not sum to one.  Giving each sample the inverse frequency of its class balances an
    imbalanced dataset: ``weights = 1 / class_counts[labels]``.  Without replacement an index is drawn at
    most once, so ``num_samples`` may not exceed the number of non-zero weights.

    >>> sampler = WeightedRandomSampler([0.1, 0.9], num_samples=100)   # index 1 about 90 times
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        _check_num_samples("WeightedRandomSampler", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(w.shape)}")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw num_samples={num_samples} without "
                               f"replacement from {np.count_nonzero(w)} non-zero weights")
        self.weights = Tensor._make(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        w = self.weights._data
        p = w / w.sum()
        rng = rng_of(self.generator)
        if self.replacement:
            # inverse-CDF sampling: fast and exact for any number of categories
            cdf = np.cumsum(p)
            cdf[-1] = 1.0
            idx = np.searchsorted(cdf, rng.random(self.num_samples), side="right")
            yield from np.minimum(idx, len(w) - 1).tolist()
        else:
            yield from rng.choice(len(w), size=self.num_samples, replace=False, p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        it = iter(self.sampler)
        bs = self.batch_size
        if self.drop_last:
            # zip over one shared iterator cuts full batches without a per-index Python branch
            for batch in zip(*[it] * bs):
                yield list(batch)
            return
        batch = []
        for idx in it:
            batch.append(idx)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
