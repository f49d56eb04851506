"""DistributedSampler against torch.utils.data.distributed.DistributedSampler (the oracle): the same indices for
every rank, size, padding and drop_last; shuffled epochs compared with torch's permutation substituted for
ember's (ember's random stream is not torch's)."""
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import ember
from ember.utils.data.distributed import DistributedSampler

from ._mpi import needs_mpi, run_mpi

CASES = [(n, reps, drop) for n in (1, 5, 10, 11, 16) for reps in (1, 2, 3, 4) for drop in (False, True)
         if not (drop and n < reps)]


@pytest.mark.parametrize("n,reps,drop_last", CASES)
def test_partitions_equal_torch_unshuffled(n, reps, drop_last):
    data = list(range(n))
    for rank in range(reps):
        e = DistributedSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
        t = TorchSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(e) == list(t) and len(e) == len(t) and e.total_size == t.total_size


@pytest.mark.parametrize("n,reps,drop_last", [(10, 3, False), (10, 3, True), (7, 2, False), (16, 4, True)])
def test_shuffled_partitions_equal_torch_given_its_permutation(monkeypatch, n, reps, drop_last):
    """With ember.randperm answering torch.randperm's permutation for the same generator seed, every rank's
    indices equal torch's, for several epochs (set_epoch changes the order as in torch)."""
    seeds = []

    def torch_perm(m, generator=None):
        seed = generator.initial_seed()
        seeds.append(seed)
        g = torch.Generator()
        g.manual_seed(seed)
        return ember.tensor(torch.randperm(m, generator=g).tolist())

    monkeypatch.setattr(ember, "randperm", torch_perm)
    data = list(range(n))
    orders = []
    for epoch in range(3):
        for rank in range(reps):
            e = DistributedSampler(data, num_replicas=reps, rank=rank, seed=7, drop_last=drop_last)
            t = TorchSampler(data, num_replicas=reps, rank=rank, seed=7, drop_last=drop_last)
            e.set_epoch(epoch)
            t.set_epoch(epoch)
            got = list(e)
            assert got == list(t)
            orders.append(got)
    assert seeds[0] == 7 and seeds[-1] == 9           # seed + epoch, as torch
    assert orders[0] != orders[reps]                  # epochs differ


def test_shuffled_ranks_partition_the_dataset():
    data = list(range(23))
    parts = [list(DistributedSampler(data, num_replicas=3, rank=r, seed=1)) for r in range(3)]
    flat = sorted(i for p in parts for i in p)
    assert len(flat) == 24 and set(flat) == set(data)     # one index repeated as padding
    assert parts == [list(DistributedSampler(data, num_replicas=3, rank=r, seed=1)) for r in range(3)]


def test_errors_as_torch():
    with pytest.raises(ValueError, match=r"(?i)invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))


SAMPLER = r'''
import ember.distributed as dist
from ember.utils.data import DataLoader, DistributedSampler
dist.init_process_group("mpi")
s = DistributedSampler(list(range(9)), shuffle=False)
assert (s.num_replicas, s.rank) == (2, dist.get_rank())
got = [None, None]
dist.all_gather_object(got, [int(b) for batch in DataLoader(list(range(9)), batch_size=2, sampler=s) for b in batch])
assert got == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 0]], got
print("ok")
'''


@needs_mpi
def test_defaults_from_process_group(tmp_path):
    assert run_mpi(tmp_path, SAMPLER).stdout.count("ok") == 2
