"""Tests for ember/data/dataloader.py and dataset.py: epochs, shuffling, seeds, batches, collate, workers."""
from __future__ import annotations

import collections
import threading
import time

import numpy as np
import pytest
import torch

import ember
from ember.data import (ConcatDataset, DataLoader, Dataset, IterableDataset, StackDataset, Subset,
                        TensorDataset, default_collate, default_convert, get_worker_info, random_split)


def _ids(loader):
    return [b[1].numpy().tolist() for b in loader]


def _ds(n=103):
    return TensorDataset(ember.randn(n, 3), ember.arange(n))


class Plain(Dataset):
    """A map-style dataset without the fast path: per-sample fetch and collate."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(2, i, np.float32), i


@pytest.mark.parametrize("make", [_ds, lambda: Plain(103)])
def test_every_sample_once_per_epoch_and_fresh_order(make):
    loader = DataLoader(make(), batch_size=10, shuffle=True)
    epochs = [sum(_ids(loader), []) for _ in range(3)]
    for e in epochs:
        assert sorted(e) == list(range(103))
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2]


def test_same_seed_same_order_and_generator():
    ds = _ds()
    ember.manual_seed(7)
    a = _ids(DataLoader(ds, batch_size=8, shuffle=True))
    ember.manual_seed(7)
    b = _ids(DataLoader(ds, batch_size=8, shuffle=True))
    ember.manual_seed(8)
    c = _ids(DataLoader(ds, batch_size=8, shuffle=True))
    assert a == b and a != c
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    d = _ids(DataLoader(ds, batch_size=8, shuffle=True, generator=g1))
    ember.manual_seed(123)    # the global seed must not matter with an explicit generator
    e = _ids(DataLoader(ds, batch_size=8, shuffle=True, generator=g2))
    assert d == e


def test_last_partial_batch_and_drop_last():
    ds = _ds(23)
    sizes = [len(y) for _, y in DataLoader(ds, batch_size=5)]
    assert sizes == [5, 5, 5, 5, 3]
    assert len(DataLoader(ds, batch_size=5)) == 5
    sizes = [len(y) for _, y in DataLoader(ds, batch_size=5, drop_last=True)]
    assert sizes == [5, 5, 5, 5]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 4
    xb, yb = list(DataLoader(ds, batch_size=5))[-1]
    assert yb.numpy().tolist() == [20, 21, 22]
    np.testing.assert_array_equal(xb.numpy(), ds.tensors[0].numpy()[20:])


def test_fast_path_equals_generic_collate():
    x = ember.randn(17, 2, 3)
    y = ember.arange(17)
    ds = TensorDataset(x, y)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=default_collate))
    assert len(fast) == len(slow) == 5
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert isinstance(fast[0], list)
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype == np.int64
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


@pytest.mark.parametrize("make", [_ds, lambda: Plain(103)])
@pytest.mark.parametrize("persistent", [False, True])
def test_workers_give_same_batches_as_no_workers(make, persistent):
    ds = make()
    ember.manual_seed(5)
    ref = [_ids(DataLoader(ds, batch_size=7, shuffle=True)) for _ in range(2)]
    ember.manual_seed(5)
    loader = DataLoader(ds, batch_size=7, shuffle=True, num_workers=3, persistent_workers=persistent,
                        prefetch_factor=2)
    got = [_ids(loader) for _ in range(2)]
    assert got == ref


def test_workers_really_run_in_parallel():
    class Slow(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            time.sleep(0.05)       # sleeping releases the GIL, like NumPy kernels
            return i

    t0 = time.perf_counter()
    out = [int(b) for b in DataLoader(Slow(), batch_size=None, num_workers=4)]
    dt = time.perf_counter() - t0
    assert out == list(range(8))
    assert dt < 0.3, f"8 x 50 ms with 4 workers took {dt:.2f} s: not parallel"


def test_worker_info_seeds_and_init_fn():
    seen = []
    lock = threading.Lock()

    class Who(Dataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            info = get_worker_info()
            return info.id, info.seed

    def init(wid):
        with lock:
            seen.append((wid, threading.current_thread().name))

    assert get_worker_info() is None
    ember.manual_seed(0)
    batches = list(DataLoader(Who(), batch_size=3, num_workers=2, worker_init_fn=init))
    ids = [b[0].numpy().tolist() for b in batches]
    seeds = [b[1].numpy().tolist() for b in batches]
    assert ids == [[0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]]   # batch i goes to worker i % num_workers
    assert seeds[1][0] == seeds[0][0] + 1                        # base_seed + worker_id
    assert sorted(w for w, _ in seen) == [0, 1]


def test_random_transform_reproducible_with_workers():
    from ember.data.transforms import GaussianNoise

    class Noisy(Dataset):
        t = GaussianNoise(sigma=0.5, clip=False)

        def __len__(self):
            return 20

        def __getitem__(self, i):
            return self.t(np.zeros(3, np.float32))

    def run():
        ember.manual_seed(11)
        return np.concatenate([b.numpy() for b in DataLoader(Noisy(), batch_size=3, num_workers=2)])

    a, b = run(), run()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).sum() > 0


def test_worker_exception_is_reraised_with_worker_name():
    class Bad(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            if i == 6:
                raise ValueError("broken sample 6")
            return i

    with pytest.raises(ValueError, match="worker.*broken sample 6|broken sample 6"):
        list(DataLoader(Bad(), batch_size=2, num_workers=2))
    with pytest.raises(ValueError, match="broken sample 6"):
        list(DataLoader(Bad(), batch_size=2))


def test_timeout():
    class Stuck(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(1.0)
            return i

    with pytest.raises(RuntimeError, match="timed out"):
        list(DataLoader(Stuck(), batch_size=1, num_workers=1, timeout=0.1))


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        k, m = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(k, self.n, m))

    def __len__(self):
        return self.n


def test_iterable_dataset_batches_and_workers():
    got = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=4)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(Stream(10), batch_size=4)) == 3
    assert [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=4, drop_last=True)] == got[:2]
    par = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)]
    assert sorted(sum(par, [])) == list(range(10))
    assert par[0] == [0, 2] and par[1] == [1, 3]        # round robin over the workers' streams
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_default_collate_matches_torch():
    from torch.utils.data import default_collate as tcollate
    Point = collections.namedtuple("Point", "x y")
    cases = [
        [1, 2, 3], [1.5, 2.5], [True, False],
        [np.float32(1.0), np.float32(2.0)], [np.arange(3), np.arange(3) + 1],
        [{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}],
        [(np.zeros(2, np.float32), 0), (np.ones(2, np.float32), 1)],
        [Point(1, 2.0), Point(3, 4.0)], [[1, 2], [3, 4]], ["a", "b"],
    ]

    def norm(v):
        if isinstance(v, (torch.Tensor, ember.Tensor)):
            return ("T", str(v.numpy().dtype), v.numpy().tolist())
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, [norm(x) for x in v])
        return v

    for batch in cases:
        assert norm(default_collate(batch)) == norm(tcollate(batch)), batch
    t = default_collate([ember.ones(2), ember.zeros(2)])
    assert t.shape == (2, 2)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([ember.ones(2), ember.zeros(3)])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    assert norm(default_convert((np.arange(2), 3))) == ("list", [("T", "int64", [0, 1]), 3])


def test_loader_argument_errors():
    ds = _ds(10)
    from ember.data import SequentialSampler, BatchSampler
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False), batch_size=4)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    bs = BatchSampler(SequentialSampler(ds), 3, False)
    assert [b[1].numpy().tolist() for b in DataLoader(ds, batch_sampler=bs)][-1] == [9]
    one = list(DataLoader(ds, batch_size=None))
    assert len(one) == 10 and one[3][1].item() == 3     # batch_size=None: unbatched samples
    assert len(DataLoader(ds, batch_size=4, pin_memory=True)) == 3


def test_datasets_combinators():
    a, b = _ds(5), _ds(7)
    c = ConcatDataset([a, b])
    assert len(c) == 12 and c.cumulative_sizes == [5, 12]
    assert c[5][1].item() == 0 and c[-1][1].item() == 6 and c[4][1].item() == 4
    with pytest.raises(IndexError):
        c[12]
    assert len(a + b) == 12
    s = Subset(b, [6, 2])
    assert s[0][1].item() == 6 and len(s) == 2
    st = StackDataset(a, a)
    assert len(st) == 5 and st[1][0][1].item() == 1
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(ember.zeros(3), ember.zeros(4))
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_random_split():
    parts = random_split(range(10), [0.5, 0.3, 0.2], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(sum((list(p) for p in parts), [])) == list(range(10))
    parts2 = random_split(range(10), [5, 3, 2], generator=ember.Generator().manual_seed(1))
    assert [list(p) for p in parts] == [list(p) for p in parts2]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]   # remainder to the first
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(range(10), [3, 3])


def test_iterator_len_and_workers_end():
    import gc
    import weakref
    ds = _ds(20)
    before = set(threading.enumerate())        # threads other tests left running may end meanwhile: count ours
    loader = DataLoader(ds, batch_size=4, num_workers=2, persistent_workers=True)
    it = iter(loader)
    assert len(it) == 5 and len(list(it)) == 5 and len(list(loader)) == 5
    ref = weakref.ref(loader)
    del loader, it
    gc.collect()
    assert ref() is None                       # persistent worker threads do not keep the loader alive
    it = iter(DataLoader(ds, batch_size=4, num_workers=2))
    next(it)
    it.close()                                 # abandoning an epoch stops its workers
    deadline = time.time() + 2
    while set(threading.enumerate()) - before and time.time() < deadline:
        time.sleep(0.01)
    assert not set(threading.enumerate()) - before


def test_torch_utils_data_alias():
    import ember.utils.data as d
    from ember.utils.data import DataLoader as DL, TensorDataset as TD
    assert DL is DataLoader and TD is TensorDataset and d.random_split is random_split
    torch_like = ember
    loader = torch_like.utils.data.DataLoader(torch_like.utils.data.TensorDataset(ember.arange(6)), batch_size=4)
    assert [len(b[0]) for b in loader] == [4, 2]


def test_user_random_ops_in_workers_are_reproducible():
    """ember.rand inside a user's __getitem__ draws from the worker's own stream: same seed, same batches."""
    import ember
    from ember.data import DataLoader, Dataset

    class Noisy(Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return ember.rand(3) + i

    def run():
        ember.manual_seed(7)
        return [b.numpy().copy() for b in DataLoader(Noisy(), batch_size=8, num_workers=2)]

    a, b = run(), run()
    assert all((x == y).all() for x, y in zip(a, b))
