"""The Trainer's helpers that need no Trainer: batches from arrays, loader coercion, batch splitting and sizes,
the ``training_step`` call, checks on callbacks and numbers.  Split out of ``ember/train/trainer.py``."""
from __future__ import annotations

from ..backend import np
from ..tensor import Tensor
from .callbacks import Callback


class _ArrayBatches:
    """Batches of ``(X[i:j], y[i:j])`` (or ``X[i:j]`` alone) in order, for ``val_data=(X, y)`` and ``predict``;
    ``y`` may be a dict or tuple of arrays, one per head (sliced alike)."""

    def __init__(self, arrays, batch_size: int):
        from .. import as_tensor
        conv = lambda a: a if isinstance(a, Tensor) else as_tensor(a)     # noqa: E731
        self.arrays = [{k: conv(v) for k, v in a.items()} if isinstance(a, dict) else
                       tuple(conv(v) for v in a) if isinstance(a, tuple) else conv(a) for a in arrays]
        leaves = [v for a in self.arrays for v in (a.values() if isinstance(a, dict) else
                                                   a if isinstance(a, tuple) else (a,))]
        n = {len(a) for a in leaves}
        if len(n) != 1:
            raise ValueError(f"Trainer: arrays of different lengths {[len(a) for a in leaves]} "
                             f"(inputs and targets need one row per sample)")
        self.n, self.batch_size = n.pop(), batch_size

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        for i in range(0, self.n, self.batch_size):
            j = i + self.batch_size
            part = [{k: v[i:j] for k, v in a.items()} if isinstance(a, dict) else
                    tuple(v[i:j] for v in a) if isinstance(a, tuple) else a[i:j] for a in self.arrays]
            yield part if len(part) > 1 else part[0]


def _as_loader(data, who: str, batch_size: int = 256, targets: bool = True):
    """An iterable of batches from a DataLoader/iterable, an ``(X, y)`` pair, or (``predict``) an array of inputs."""
    if isinstance(data, tuple) and len(data) == 2 and targets:
        return _ArrayBatches(data, batch_size)
    if isinstance(data, (Tensor, np.ndarray)):
        if targets:
            raise TypeError(f"Trainer.{who}: got an array alone; pass (X, y) or a DataLoader of (inputs, targets)")
        return _ArrayBatches([data], batch_size)
    if not hasattr(data, "__iter__") or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"Trainer.{who}: expected a DataLoader (or any iterable of batches) or a tuple (X, y), got "
                        f"{type(data).__name__}")
    return data


def _to_dev(batch, device):
    """``batch`` (Tensors in tuples, lists and dicts) on ``device``; anything else as it is."""
    from ..tensor import Tensor
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_dev(b, device) for b in batch) if type(batch) in (tuple, list) else \
            type(batch)(*(_to_dev(b, device) for b in batch))
    if isinstance(batch, dict):
        return {k: _to_dev(v, device) for k, v in batch.items()}
    return batch


def _on(loader, device):
    """The batches of ``loader``, each moved to ``device`` (the loader itself when there is none)."""
    if device is None:
        return loader
    return (_to_dev(b, device) for b in loader)


def _split(batch, who: str):
    """``(inputs tuple, target)`` from a batch ``(x, y)`` (or ``(x1, x2, ..., y)``)."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise TypeError(f"Trainer.{who}: batches must be (inputs, targets) pairs, got "
                    f"{type(batch).__name__}{'' if not isinstance(batch, (tuple, list)) else f' of {len(batch)}'}")


def _step_fn(model, name: str):
    """The model's ``training_step``/``validation_step`` method, or None."""
    fn = getattr(model, name, None)
    return fn if callable(fn) else None


def _batch_len(batch) -> int:
    first = batch[0] if isinstance(batch, (tuple, list)) and batch else batch
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else 1


def _num(v, who: str, key: str) -> float:
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise ValueError(f"Trainer: {who} returned {key!r} of shape {tuple(v.shape)}; expected a number")
        return float(v.detach().item())
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return float(v)
    raise TypeError(f"Trainer: {who} returned {key!r} of type {type(v).__name__}; expected a number")


def _automatic(model) -> bool:
    """False for models that update themselves in ``training_step`` (``automatic_optimization = False``)."""
    return bool(getattr(model, "automatic_optimization", True))


def _call_training_step(fn, batch, model) -> tuple:
    """``(loss Tensor, {name: float})`` from ``model.training_step(batch)``; for a model with
    ``automatic_optimization = False``, ``(loss float, {name: float})``."""
    who = f"{type(model).__name__}.training_step"
    res = fn(batch)
    manual = not _automatic(model)
    if manual and not isinstance(res, dict):
        res = {"loss": res}
    extras = {}
    if isinstance(res, dict):
        if "loss" not in res:
            raise ValueError(f"Trainer: {who} returned a dict without 'loss' (keys: {', '.join(map(str, res))})")
        extras = {k: _num(v, who, k) for k, v in res.items() if k != "loss"}
        res = res["loss"]
    if manual:                          # the step already updated the model: any number will do
        return _num(res, who, "loss"), extras
    if not isinstance(res, Tensor) or res.numel() != 1:
        raise ValueError(f"Trainer: {who} must return a scalar loss Tensor (or a dict with one under 'loss'), got "
                         f"{type(res).__name__} {tuple(getattr(res, 'shape', ()))}")
    return res, extras


def _check_callbacks(callbacks, who: str) -> None:
    if isinstance(callbacks, Callback) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"{who}: callbacks must be a list of ember.train.Callback objects, got "
                        f"{type(callbacks).__name__}")
    bad = [c for c in callbacks if not isinstance(c, Callback)]
    if bad:
        raise TypeError(f"{who}: callbacks must be ember.train.Callback objects, got {type(bad[0]).__name__}")


def _n_samples(target, inputs) -> int:
    for t in (target, inputs[0]):
        shape = getattr(t, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


def _unwrap(model):
    """The model a ``DistributedDataParallel`` wraps (checkpoints hold the un-wrapped model's state, so they load
    into a run with any number of processes), else ``model``."""
    from ..nn.parallel.distributed import DistributedDataParallel
    return model.module if isinstance(model, DistributedDataParallel) else model


class _Interrupted(Exception):
    """Internal: raised at a batch boundary after a deferred Ctrl-C, once the checkpoint is saved."""
