"""``DataLoader``: batches from a dataset, in order or shuffled, in the main thread or in parallel workers.

Mirrors ``torch.utils.data.DataLoader``.  Three things are ember's own:

* Workers are **threads**, not processes.  NumPy releases the GIL in the heavy kernels (copies, fancy
  indexing, arithmetic), so threads really overlap, start instantly and need no pickling.  As in PyTorch,
  batch ``i`` goes to worker ``i % num_workers``, up to ``prefetch_factor`` batches per worker are in flight,
  batches come back in order, and worker ``k`` gets the seed ``base_seed + k`` (``get_worker_info().seed``);
  ember's transforms running in a worker draw from that worker's own generator, so results do not depend on
  thread scheduling.
* A fast path: for a ``TensorDataset`` with the default collate, a batch is gathered with one fancy index per
  tensor instead of fetching and stacking samples one by one.
* Datasets with ``__getitems__`` (ember's MNIST, Digits, ...) fetch and transform a whole batch at once.
"""
from __future__ import annotations

import collections.abc
import copy
import math
import os
import queue
import re
import threading
import traceback
import warnings
import weakref
from typing import Callable

import numpy as np

from ..backend import random as _random
from ..backend.random import Generator, rng_of
from ..tensor import Tensor
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info", "WorkerInfo"]

_np_str_obj = re.compile(r"[SaUO]")
_collate_err = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                "found {}")


# -- collation ---------------------------------------------------------------------------------------------
class _Stacked(list):
    """A list of samples that also carries them already collated (internal).

    A dataset's ``__getitems__`` may return one: it is a plain list of samples to any custom ``collate_fn``,
    while ``default_collate`` takes the pre-stacked batch and skips restacking the samples.
    """

    __slots__ = ("collated",)


def _stack(batch: list) -> Tensor:
    first = batch[0]
    shape = first._data.shape
    for i, t in enumerate(batch):
        if t._data.shape != shape:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._data.shape)} at entry {i}")
    if any(t._rg for t in batch):
        from ..ops.shape import stack     # keep the graph when samples require grad
        return stack(batch, 0)
    return Tensor._make(np.stack([t._data for t in batch]))


def default_collate(batch):
    """Merge a list of samples into a batch, like ``torch.utils.data.default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a float64
    tensor, ints an int64 tensor and bools a bool tensor; NumPy scalars a tensor of their dtype; strings and
    bytes stay a list; dicts, namedtuples, tuples and lists are collated field by field (tuples become
    lists, as in PyTorch).

    >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
    [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    if type(batch) is _Stacked:
        return batch.collated
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return _stack(batch)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(elem, np.ndarray):
            if _np_str_obj.search(elem.dtype.str) is not None:
                raise TypeError(_collate_err.format(elem.dtype))
            shape = elem.shape
            for i, a in enumerate(batch):
                if a.shape != shape:
                    raise RuntimeError(f"default_collate: stack expects each array to be equal size, but got "
                                       f"{list(shape)} at entry 0 and {list(a.shape)} at entry {i}")
            return Tensor._make(np.stack(batch))
        if elem.shape == ():   # NumPy scalar
            return Tensor._make(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({k: default_collate([d[k] for d in batch]) for k in elem})
                return clone
            return elem_type({k: default_collate([d[k] for d in batch]) for k in elem})
        except TypeError:
            return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return elem_type(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        transposed = [list(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]   # tuples become lists, as in PyTorch
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, s in enumerate(transposed):
                    clone[i] = default_collate(s)
                return clone
            return elem_type([default_collate(s) for s in transposed])
        except TypeError:
            return [default_collate(s) for s in transposed]
    raise TypeError(_collate_err.format(elem_type))


def default_convert(data):
    """Convert NumPy arrays (also inside dicts, tuples and lists) to tensors; the collate of unbatched loading.

    >>> default_convert(np.array([0, 1]))
    tensor([0, 1])
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(data, np.ndarray) and _np_str_obj.search(data.dtype.str) is not None:
            return data
        return Tensor._make(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# -- workers -----------------------------------------------------------------------------------------------
class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed`` and ``dataset`` (``get_worker_info``)."""

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset
        self.generator = Generator().manual_seed(seed)

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_local = threading.local()


def get_worker_info() -> WorkerInfo | None:
    """Inside a ``DataLoader`` worker, its ``WorkerInfo``; in the main thread, ``None``.

    Use it in an ``IterableDataset.__iter__`` to give each worker its own shard of the stream.
    """
    return getattr(_local, "info", None)


def _worker_rng() -> np.random.Generator:
    """The NumPy generator data-side randomness (transforms) draws from: the worker's own inside a worker,
    otherwise ember's global generator.  Per-worker generators keep results independent of thread timing."""
    info = getattr(_local, "info", None)
    return rng_of(None) if info is None else info.generator.rng


class _ExceptionWrapper:
    def __init__(self, exc: BaseException, where: str) -> None:
        self.exc = exc
        self.where = where
        self.tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        msg = f"Caught {type(self.exc).__name__} in {self.where}.\nOriginal {self.tb}"
        try:
            err = type(self.exc)(msg)
        except Exception:
            raise RuntimeError(msg) from self.exc
        raise err from self.exc


_DONE = object()


class _Worker:
    """One worker thread: runs ``fetch`` on the index batches sent to it and posts results to the task's queue."""

    def __init__(self, wid: int, loader: "DataLoader", seed: int) -> None:
        self.wid = wid
        # a weak reference: a (persistent) worker thread must not keep its DataLoader alive, or the loader's
        # __del__, which stops the workers, would never run
        self.loader_ref = weakref.ref(loader)
        self.init_fn = loader.worker_init_fn
        self.info = WorkerInfo(wid, loader.num_workers, seed, loader.dataset)
        self.tasks: queue.Queue = queue.Queue()
        self.iter_epoch = None
        self.iter_fetch = None
        self.thread = threading.Thread(target=self._run, name=f"ember-dataloader-worker-{wid}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        _local.info = self.info
        _random._local.generator = self.info.generator
        init_error = None
        if self.init_fn is not None:
            try:
                self.init_fn(self.wid)
            except Exception as e:   # reported with the first batch this worker owes
                init_error = _ExceptionWrapper(e, f"DataLoader worker {self.wid} (worker_init_fn)")
        while True:
            task = self.tasks.get()
            if task is None:
                return
            out, epoch, tid, indices = task
            loader = self.loader_ref()
            if loader is None:
                return
            if init_error is not None:
                out.put((tid, init_error))
                continue
            try:
                if indices is None:   # iterable dataset: the next batch of this worker's own stream
                    if self.iter_epoch != epoch:
                        self.iter_epoch, self.iter_fetch = epoch, _IterableFetcher(loader)
                    data = self.iter_fetch.fetch()
                else:
                    data = loader._fetch(indices)
            except StopIteration:
                data = _DONE
            except Exception as e:
                data = _ExceptionWrapper(e, f"DataLoader worker {self.wid}")
            del loader
            out.put((tid, data))

    def stop(self) -> None:
        self.tasks.put(None)


class _IterableFetcher:
    """Pulls samples from ``iter(dataset)`` and collates them ``batch_size`` at a time."""

    def __init__(self, loader: "DataLoader") -> None:
        self.it = iter(loader.dataset)
        self.batch_size, self.drop_last, self.collate_fn = loader.batch_size, loader.drop_last, loader.collate_fn
        self.ended = False

    def fetch(self):
        if self.ended:
            raise StopIteration
        if self.batch_size is None:
            return self.collate_fn(next(self.it))
        batch = []
        for _ in range(self.batch_size):
            try:
                batch.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


class _LoaderIter:
    """The iterator of one epoch: ``next()`` gives the next batch; ``len()`` the number of batches."""

    def __init__(self, gen, loader: "DataLoader") -> None:
        self._gen = gen
        self._loader = loader

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def __len__(self) -> int:
        return len(self._loader)

    def close(self) -> None:
        """Stop this epoch early (its non-persistent workers end)."""
        self._gen.close()


def _cuda_available() -> bool:
    from .. import cuda
    return cuda.is_available()


# -- the loader --------------------------------------------------------------------------------------------
class DataLoader:
    """Iterate over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style ``Dataset`` (``len`` and ``[i]``) or an ``IterableDataset``.
        batch_size: samples per batch (``None`` turns batching off: samples come one by one, converted).
        shuffle: a fresh random order every epoch, drawn from ``generator`` or ember's global generator (so
            ``ember.manual_seed`` reproduces it).
        sampler, batch_sampler: custom index orders (mutually exclusive with ``shuffle``/``batch_size``).
        num_workers: worker threads loading batches in parallel (0: load in the calling thread).
        collate_fn: merges a list of samples into a batch (default: ``default_collate``).
        pin_memory: accepted for compatibility; a no-op on CPU (each epoch warns as PyTorch does without an
            accelerator).
        drop_last: drop the last, incomplete batch.
        timeout: seconds to wait for a worker's batch before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker before it loads anything.
        prefetch_factor: batches in flight per worker (default 2 when ``num_workers > 0``).
        persistent_workers: keep the worker threads alive between epochs.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    >>> for xb, yb in loader: ...
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got "
                             f"{num_workers!r}; use num_workers=0 to load in the main thread")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable it")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor option should be a positive integer, got "
                             f"{prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator

        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not isinstance(dataset, IterableDataset):
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._workers: list[_Worker] | None = None
        self._epoch = 0
        self._check_worker_number_rationality()

    def _check_worker_number_rationality(self) -> None:
        """PyTorch's warning when more workers are asked for than the CPUs this process may use."""
        if not self.num_workers:
            return
        cpuset = hasattr(os, "sched_getaffinity")
        suggest = len(os.sched_getaffinity(0)) if cpuset else os.cpu_count()
        if suggest is not None and self.num_workers <= suggest:
            return
        why = ("Our suggested max number of worker in current system is {}{}, which is smaller than what this "
               "DataLoader is going to create.".format(suggest, "" if cpuset else " (`cpuset` is not taken into "
                                                                                  "account)")
               if suggest is not None else
               "DataLoader is not able to compute a suggested max number of worker in current system.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {why} Please "
                      "be aware that excessive worker creation might get DataLoader running slow or even freeze, "
                      "lower the worker number to avoid potential slowness/freeze if necessary.", stacklevel=3)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (isinstance(self.dataset, IterableDataset)
                                                  and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def _fast_tensors(self):
        """The dataset's arrays when a batch can be gathered by fancy indexing (TensorDataset, default collate)."""
        ds = self.dataset
        if (type(ds) is TensorDataset and self._default_collate and self._auto_collation and ds.tensors
                and not any(t._rg for t in ds.tensors)):
            return [t._data for t in ds.tensors]
        return None

    def _fetch(self, indices):
        """One batch (or one sample without auto-collation) for the given indices."""
        ds = self.dataset
        if not self._auto_collation:
            return self.collate_fn(ds[indices])
        arrays = self._fast_tensors()
        if arrays is not None:
            idx = np.asarray(indices, dtype=np.intp)
            n = arrays[0].shape[0]
            if idx.size and (idx.max() >= n or idx.min() < -n):
                bad = idx[(idx >= n) | (idx < -n)][0]
                raise IndexError(f"TensorDataset: index {bad} is out of bounds for a dataset of size {n}")
            return [Tensor._make(a[idx]) for a in arrays]
        if self._default_collate:
            # ember's datasets can hand over an already-collated batch: no per-sample objects at all
            get_batch = getattr(ds, "_get_batch", None)
            if get_batch is not None:
                batch = get_batch(indices)
                if batch is not None:
                    return batch
        getitems = getattr(ds, "__getitems__", None)
        data = getitems(list(indices)) if callable(getitems) else [ds[i] for i in indices]
        return self.collate_fn(data)

    def __iter__(self):
        # the base seed is drawn on every epoch (as PyTorch does), whether or not there are workers, so that the
        # sampler's draws, hence the batches, are the same with and without workers
        base_seed = int(rng_of(self.generator).integers(0, 2**63 - 1))
        self._epoch += 1
        if self.num_workers and not (self.persistent_workers and self._workers is not None):
            self._check_worker_number_rationality()
        if self.pin_memory and self.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory and not _cuda_available():     # PyTorch's warning on a machine without an accelerator
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=2)
        gen = self._single(base_seed) if self.num_workers == 0 else self._parallel(base_seed)
        return _LoaderIter(gen, self)

    def _single(self, base_seed: int):
        if isinstance(self.dataset, IterableDataset):
            fetcher = _IterableFetcher(self)
            while True:
                try:
                    yield fetcher.fetch()
                except StopIteration:
                    return
        for indices in self._index_sampler:
            yield self._fetch(indices)

    def _start_workers(self, base_seed: int) -> list:
        if self.persistent_workers and self._workers is not None:
            return self._workers
        workers = [_Worker(w, self, base_seed + w) for w in range(self.num_workers)]
        if self.persistent_workers:
            self._workers = workers
        return workers

    def _parallel(self, base_seed: int):
        workers = self._start_workers(base_seed)
        out: queue.Queue = queue.Queue()   # this epoch's results; a stale epoch's results cannot reach it
        epoch = self._epoch
        nw = self.num_workers
        iterable = isinstance(self.dataset, IterableDataset)
        index_iter = None if iterable else iter(self._index_sampler)
        alive = [True] * nw                # iterable datasets: workers whose stream has not ended
        sent = 0
        owner: dict = {}
        ready: dict = {}
        next_id = 0
        exhausted = False

        def send() -> bool:
            nonlocal sent, exhausted
            if exhausted:
                return False
            if iterable:
                candidates = [w for w in range(nw) if alive[(sent + w) % nw]]
                if not candidates:
                    exhausted = True
                    return False
                w = (sent + candidates[0]) % nw
                indices = None
            else:
                try:
                    indices = next(index_iter)
                except StopIteration:
                    exhausted = True
                    return False
                w = sent % nw
            owner[sent] = w
            workers[w].tasks.put((out, epoch, sent, indices))
            sent += 1
            return True

        try:
            for _ in range(self.prefetch_factor * nw):
                if not send():
                    break
            while next_id < sent:
                while next_id not in ready:
                    try:
                        tid, data = out.get(timeout=self.timeout if self.timeout > 0 else None)
                    except queue.Empty:
                        raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for "
                                           f"batch {next_id} from worker {owner[next_id]}") from None
                    ready[tid] = data
                data = ready.pop(next_id)
                w = owner.pop(next_id)
                next_id += 1
                if isinstance(data, _ExceptionWrapper):
                    data.reraise()
                if data is _DONE:
                    alive[w] = False
                    send()
                    continue
                send()
                yield data
        finally:
            if not self.persistent_workers:
                for wk in workers:
                    wk.stop()

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    def __del__(self):
        workers = getattr(self, "_workers", None)
        if workers:
            for wk in workers:
                wk.stop()

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers})")

