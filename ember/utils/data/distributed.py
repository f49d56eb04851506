"""``torch.utils.data.distributed``: ``DistributedSampler``, which gives each of ``num_replicas`` processes
its own slice of the dataset.  ``num_replicas`` and ``rank`` default to the world size and rank of the
``ember.distributed`` process group.  The partition (padding, ``drop_last``, ``set_epoch``) is PyTorch's; the
shuffled order comes from ``ember.randperm`` seeded with ``seed + epoch``, which is not torch's random stream, so
a shuffled epoch's order differs from torch's (the same on every rank, as required)."""
from __future__ import annotations

import math

from ember.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of the (optionally shuffled, per ``set_epoch``) dataset,
    padded by repetition (or cut with ``drop_last=True``) so every replica gets the same number."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ember import distributed as dist
            if not dist.is_available():
                raise RuntimeError("DistributedSampler: Requires distributed package to be available (pip install "
                                   "'ember[distributed]'), or pass num_replicas and rank")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            import ember
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad > 0:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
