"""The Trainer's side of data-parallel training (``ember train CONFIG --nproc N``).

:class:`TrainSync` is set as ``Trainer.distributed`` and added to its callbacks.  It keeps every rank's
decisions identical, so no rank is left waiting in a collective:

* epoch logs are global: the running loss sums, sample counts and the metrics' states (correct/total counts,
  confusion matrices, sums) are gathered from every rank and summed in rank order, so all ranks log the same
  numbers and callbacks (EarlyStopping, ReduceLROnPlateau) decide the same way; evaluation (validation, test)
  runs on each rank's shard (:func:`shard`) and is reduced the same way;
* after every batch the stop and interrupt flags are OR-ed over the ranks (one small all-reduce), and when one is
  set the reason (TerminateOnNaN's ``diverged``, the interrupting signal) is shared, so all ranks stop at the
  same batch and take the same exit;
* each epoch starts with ``sampler.set_epoch(epoch)`` (a new shuffle, the same on all ranks);
* ranks other than 0 draw from their own random stream (dropout masks), derived from rank 0's state.
"""
from __future__ import annotations

import zlib

from ..backend import np
from ..train.callbacks import Callback

__all__ = ["TrainSync", "shard", "merge_metric_states"]


def shard(dataset, rank: int, world: int):
    """Rank ``rank``'s share of ``dataset`` for evaluation: items ``rank, rank + world, ...`` (no padding, so the
    reduced sums count every sample once)."""
    from ..data import Subset
    return Subset(dataset, list(range(rank, len(dataset), world)))


def _zero_like(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, np.integer, np.floating)):
        return v == 0
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "iuf" and not v.any()
    return False


def _add(a, b):
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape != b.shape:
        shape = tuple(max(x, y) for x, y in zip(a.shape, b.shape))      # a confusion matrix that grew
        out = np.zeros(shape, np.result_type(a, b))
        out[tuple(slice(0, s) for s in a.shape)] += a
        out[tuple(slice(0, s) for s in b.shape)] += b
        return out
    return a + b


def merge_metric_states(metric, states: list) -> None:
    """Set ``metric``'s state to the sum of ``states`` (each a ``vars()`` of the same metric on one rank).

    The summed entries are those its ``reset()`` sets to zero (counts, sums, confusion matrices), which is how
    every additive metric keeps its state; ``R2Score`` (sums taken about a per-rank shift) is re-centred first."""
    from ..metrics import R2Score
    if isinstance(metric, R2Score):
        _merge_r2(metric, states)
        return
    fresh = vars(metric._fresh())
    keys = [k for k, v in fresh.items() if _zero_like(v)]
    for k in keys:
        total = states[0][k]
        for st in states[1:]:
            total = _add(total, st[k])
        setattr(metric, k, total)


def _merge_r2(metric, states) -> None:
    seen = [s for s in states if s.get("n")]
    if not seen:
        metric.reset()
        return
    shift = seen[0]["shift"]
    n, s1, s2, res = 0, 0.0, 0.0, 0.0
    for st in seen:                  # sums of (t - own shift) moved to the common shift
        d = st["shift"] - shift
        s1 = s1 + st["sum"] + st["n"] * d
        s2 = s2 + st["sum_sq"] + 2 * d * st["sum"] + st["n"] * d * d
        res = res + st["res"]
        n += st["n"]
    metric.n, metric.shift, metric.sum, metric.sum_sq, metric.res = n, shift, s1, s2, res


class TrainSync(Callback):
    """See the module docstring.  ``sampler``: the training loader's ``DistributedSampler``; ``ddp``: the
    ``DistributedDataParallel`` wrapper the Trainer trains (its buffers are broadcast from rank 0 before each
    evaluation, so every rank evaluates the same model)."""

    def __init__(self, sampler=None, ddp=None, group=None) -> None:
        from .. import distributed as dist
        self.group = dist._group(group)
        self.comm = self.group.comm
        self.rank, self.world = self.comm.Get_rank(), self.comm.Get_size()
        self.sampler, self.ddp = sampler, ddp
        self._flags = np.zeros(2, np.int32)

    # -- sums over ranks ------------------------------------------------------------------------------------
    def _sum(self, values: list) -> list:
        """``values`` (floats) summed over the ranks, in rank order (the same bits on every rank)."""
        every = self.comm.allgather([float(v) for v in values])
        return [float(sum(vs)) for vs in zip(*every)] if every else []

    def _merge_metrics(self, metrics) -> None:
        if not metrics:
            return
        every = self.comm.allgather([dict(vars(m)) for m in metrics])
        for i, m in enumerate(metrics):
            merge_metric_states(m, [st[i] for st in every])

    def reduce_running(self, running: dict, metrics) -> None:
        """The epoch's running sums (loss, count, extras) and the metric states, summed over the ranks."""
        extras = running.setdefault("extras", {})
        keys = sorted(extras)
        every = self.comm.allgather(keys)
        if any(k != keys for k in every):
            raise RuntimeError(f"ember.distributed: the ranks logged different values ({every}); training_step "
                               f"must return the same keys on every rank")
        tot = self._sum([running["loss_sum"], running["count"]] + [extras[k] for k in keys])
        running["loss_sum"], running["count"] = tot[0], int(round(tot[1]))
        for k, v in zip(keys, tot[2:]):
            extras[k] = v
        self._merge_metrics(metrics)

    def reduce_sums(self, sums: dict, count: int, metrics=()) -> tuple:
        """An evaluation's per-key sums and sample count (and metric states) summed over the ranks."""
        keys = sorted(set().union(*self.comm.allgather(sorted(sums))))
        tot = self._sum([count] + [sums.get(k, 0.0) for k in keys])
        self._merge_metrics(list(metrics))
        return {k: v for k, v in zip(keys, tot[1:])}, int(round(tot[0]))

    def sync_buffers(self) -> None:
        """Rank 0's buffers (BatchNorm statistics) on every rank."""
        if self.ddp is not None and self.world > 1:
            self.ddp._sync(self.ddp._sync_bufs)

    # -- callbacks ------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        # after a resume every rank restored rank 0's random state: give ranks > 0 streams of their own
        if self.rank:
            import ember
            from ..backend import random as _random
            st = _random.get_rng_state()
            raw = b"".join(np.asarray(st[k]).tobytes() if not isinstance(st[k], dict) else repr(st[k]).encode()
                           for k in sorted(st))
            ember.manual_seed((zlib.crc32(raw) * 1000003 + self.rank) % (2 ** 63))

    def on_epoch_begin(self, epoch, logs=None):
        if self.sampler is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def on_batch_end(self, batch, logs=None):
        self._agree()

    def on_epoch_end(self, epoch, logs=None):
        self._agree()                   # TerminateOnNaN checks buffers at the epoch's end

    def _agree(self) -> None:
        from mpi4py import MPI
        t = self.trainer
        self._flags[0] = int(bool(t.stop_training))
        self._flags[1] = int(bool(t._interrupt_requested or t._interrupt_pending))   # (pending: a signal here)
        if self.world == 1:
            t._interrupt_requested = bool(self._flags[1])
            return
        self.comm.Allreduce(MPI.IN_PLACE, self._flags, MPI.MAX)
        if not self._flags.any():
            return
        mine = {"stop": bool(t.stop_training), "reason": t.stop_reason, "diverged": t.diverged,
                "signal": t.interrupt_signal if (t._interrupt_requested or t._interrupt_pending) else None}
        every = self.comm.allgather(mine)
        first = lambda key: next((e[key] for e in every if e[key] is not None), None)  # noqa: E731
        if self._flags[0]:
            t.stop_training = True
            if t.diverged is None and first("diverged") is not None:
                t.diverged = first("diverged")
                t.stop_reason = t.diverged.get("message") or t.stop_reason
            if t.stop_reason is None:
                t.stop_reason = next((e["reason"] for e in every if e["stop"] and e["reason"]), None)
        if self._flags[1]:
            t._interrupt_requested = True
            if t.interrupt_signal is None:
                t.interrupt_signal = first("signal")
