"""Datasets: the map-style and iterable protocols and their combinators, like ``torch.utils.data.dataset``.

A map-style ``Dataset`` answers ``len(ds)`` and ``ds[i]``; an ``IterableDataset`` is a stream.  The
combinators (``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset``, ``StackDataset``) and
``random_split`` behave as PyTorch's do, so the same scripts run with ``import ember as torch``.
"""
from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import Iterable, Sequence

import numpy as np

from ..backend.random import rng_of
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """An abstract map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``.

    A subclass may also define ``__getitems__(indices)`` returning a list of samples; the ``DataLoader`` then
    fetches a whole batch with one call (ember's built-in datasets use this to transform batches at once).

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return i, i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """An abstract stream of samples: subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own ``iter(dataset)``; use
    ``ember.data.get_worker_info()`` inside ``__iter__`` to give each worker a distinct shard, as in PyTorch.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> "ChainDataset":
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are slices along the first dimension of the given tensors: ``ds[i] = (t[i] for t in tensors)``.

    All tensors must have the same first dimension.  NumPy arrays are accepted too and wrapped (without a copy)
    as tensors.  The ``DataLoader`` gathers whole batches from a ``TensorDataset`` with one fancy index per
    tensor instead of collating samples one by one.

    >>> ds = TensorDataset(ember.randn(100, 3), ember.arange(100))
    >>> x, y = ds[0]
    """

    def __init__(self, *tensors) -> None:
        ts = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._make(t)
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expected tensors (or NumPy arrays), got {type(t).__name__} "
                                f"at position {i}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset expected tensors with at least one dimension, got a 0-d tensor "
                                 f"at position {i}")
            ts.append(t)
        if ts and any(t.shape[0] != ts[0].shape[0] for t in ts):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"{[t.shape[0] for t in ts]}, expected all equal")
        self.tensors = tuple(ts)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0


class StackDataset(Dataset):
    """Zips datasets of equal length: ``StackDataset(a, b)[i] == (a[i], b[i])``, or a dict with keywords."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("StackDataset supports either positional or keyword datasets, not both")
        self.datasets = args if args else kwargs
        parts = list(args) if args else list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset needs at least one dataset")
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError(f"StackDataset: size mismatch between datasets: {[len(d) for d in parts]}")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets: indices run through the first, then the second, ...

    ``cumulative_sizes`` holds the running lengths, as in PyTorch.
    """

    @staticmethod
    def cumsum(sequence) -> list:
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        idx = int(idx)
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if d == 0 else idx - self.cumulative_sizes[d - 1]
        return self.datasets[d][sample_idx]


class ChainDataset(IterableDataset):
    """The chaining of iterable datasets: iterates the first, then the second, ..."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(ds, [4, 2])[0] is ds[4]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        # keep the parent's batched fetching when it has one (see DataLoader's fetch)
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths (PyTorch's ``random_split``).

    ``lengths`` are either integers summing to ``len(dataset)`` or fractions summing to 1; with fractions the
    sizes are ``floor(len * f)`` and the remainder is dealt one by one, round robin, to the first subsets.
    The permutation comes from ``generator`` (default: ember's global generator, seeded by ``manual_seed``).

    >>> train, val = random_split(range(10), [0.8, 0.2], generator=ember.Generator().manual_seed(42))
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, expected a value in [0, 1]")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        remainder = n - sum(counts)
        for i in range(remainder):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might result in an empty "
                              f"dataset", stacklevel=2)
        lengths = counts
    for i, length in enumerate(lengths):
        if int(length) != length or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                             f"got {lengths[i]!r} at index {i}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})")
    perm = rng_of(generator).permutation(n).tolist()
    out = []
    for offset, length in zip(itertools.accumulate(lengths), lengths):
        out.append(Subset(dataset, perm[offset - length:offset]))
    return out
