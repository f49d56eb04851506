"""ember.data: datasets, samplers, the DataLoader, transforms and ready-made datasets (``torch.utils.data``).

``ember.utils.data`` is the same module under PyTorch's name, so ``from torch.utils.data import DataLoader``
works after ``import ember as torch``.  ``transforms`` and ``datasets`` load on first use.
"""
from __future__ import annotations

from .dataset import (Dataset, IterableDataset, TensorDataset, StackDataset, ConcatDataset, ChainDataset,
                      Subset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, WeightedRandomSampler,
                      BatchSampler)
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info, WorkerInfo

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DataLoader", "default_collate", "default_convert",
           "get_worker_info", "WorkerInfo"]


def __getattr__(name):
    # the heavier submodules load on first use so `import ember.data` stays quick
    if name in ("transforms", "datasets"):
        import importlib
        return importlib.import_module(f"ember.data.{name}")
    raise AttributeError(f"module 'ember.data' has no attribute '{name}'")
