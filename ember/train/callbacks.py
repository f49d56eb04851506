"""Callbacks: code that ``Trainer.fit`` runs at fixed points of training, with Keras' hooks and names.

Subclass ``Callback`` and override any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)``.  ``self.trainer`` (and ``self.model``) are set before training starts, and
``self.params`` holds ``epochs``, ``steps`` (batches per epoch, or None) and ``verbose``.  Setting
``self.trainer.stop_training = True`` ends training after the current batch.

Epoch numbers are 0-based in hooks, as in Keras; ``logs`` at epoch end holds ``loss``, the metrics, their
``val_`` versions, ``lr`` and ``time``.  Callbacks with state that matters after a resume (best value so far,
patience counter) implement ``state_dict``/``load_state_dict``; training checkpoints carry it.
"""
from __future__ import annotations

import math
import os
import sys
import warnings

from .history import metric_mode

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LRSchedulerCallback", "CSVLogger", "TerminateOnNaN",
           "ProgressBar", "LambdaCallback"]

_auto_mode = metric_mode   # mode='auto': one rule shared with History.plot


def _check_mode(who: str, mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    return _auto_mode(monitor) if mode == "auto" else mode


class Callback:
    """Base class of the training callbacks; every hook does nothing by default."""

    trainer = None
    params: dict = {}

    def set_trainer(self, trainer) -> None:
        """Called by ``Trainer.fit`` before training starts."""
        self.trainer = trainer

    @property
    def model(self):
        """The model being trained."""
        return None if self.trainer is None else self.trainer.model

    def set_params(self, params: dict) -> None:
        """``epochs``, ``steps`` (batches per epoch) and ``verbose`` of the current ``fit``."""
        self.params = params

    def on_train_begin(self, logs=None):
        """Before the first epoch."""

    def on_train_end(self, logs=None):
        """After the last epoch (also after an early stop or an interrupt)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """After epoch ``epoch``, with its training and validation logs."""

    def on_batch_begin(self, batch, logs=None):
        """Before batch ``batch`` (0-based within the epoch)."""

    def on_batch_end(self, batch, logs=None):
        """After batch ``batch``; ``logs`` holds the running ``loss``/metrics and ``batch_loss``."""

    def state_dict(self) -> dict:
        """State to carry in a training checkpoint (plain values and tensors)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore ``state_dict()``'s result."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))``."""

    def __init__(self, **hooks) -> None:
        known = {"on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
                 "on_batch_end"}
        bad = set(hooks) - known
        if bad:
            raise TypeError(f"LambdaCallback: unknown hooks {sorted(bad)}; known: {sorted(known)}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


class _Monitor(Callback):
    """Shared by callbacks that watch one logged value for improvement."""

    def __init__(self, who: str, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor = monitor
        self.mode = _check_mode(who, mode, monitor)
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf
        self._warned = False

    def _value(self, logs):
        v = (logs or {}).get(self.monitor)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if not self._warned:
                warnings.warn(f"{type(self).__name__} is conditioned on '{self.monitor}', which is not "
                              f"available; available: {', '.join(sorted(logs or {}))} (pass val_data to fit "
                              f"for val_ values)", RuntimeWarning, stacklevel=3)
                self._warned = True
            return None
        return float(v)

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode='auto'`` maximizes accuracy-like names and minimizes the rest.  With ``restore_best_weights`` the
    model gets back the weights of the best epoch when the stop happens (as in Keras).  ``stopping_threshold``
    (from Lightning's ``EarlyStopping``) stops at once when ``monitor`` reaches that value (``<=`` in mode
    'min', ``>=`` in 'max'): e.g. ``monitor="mistakes", stopping_threshold=0`` ends Rosenblatt's perceptron
    rule after its first epoch without a mistake.

    >>> EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0, stopping_threshold: float | None = None) -> None:
        super().__init__("EarlyStopping", monitor, mode, min_delta)
        if stopping_threshold is not None and (not isinstance(stopping_threshold, (int, float))
                                               or isinstance(stopping_threshold, bool)):
            raise ValueError(f"EarlyStopping: stopping_threshold must be a number or None, got "
                             f"{stopping_threshold!r}")
        self.stopping_threshold = stopping_threshold
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        if self.trainer is None or not getattr(self.trainer, "_resuming", False):
            self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
            self.best = math.inf if self.mode == "min" else -math.inf
            if self.baseline is not None:
                self.best = float(self.baseline)

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._snapshot()      # something to restore even if nothing ever improves
        if self.stopping_threshold is not None and (value <= self.stopping_threshold if self.mode == "min"
                                                    else value >= self.stopping_threshold):
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (f"EarlyStopping: '{self.monitor}' = {value:.6g} reached the stopping "
                                        f"threshold {self.stopping_threshold:g} at epoch {epoch + 1}")
            return
        self.wait += 1
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (f"EarlyStopping: '{self.monitor}' did not improve for {self.wait} "
                                        f"epochs (best {self.best:.6g} at epoch {self.best_epoch + 1})")
            if self.restore_best_weights and self.best_weights is not None:
                self.model.load_state_dict(self.best_weights)
                self.trainer.stop_reason += "; restored the best weights"

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def _snapshot(self):
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.stopped_epoch, self.best_weights = state["stopped_epoch"], state["best_weights"]


class ModelCheckpoint(_Monitor):
    """Save resumable training checkpoints into ``dirpath``: ``last.safetensors`` after every epoch
    (``save_last``) and ``best.safetensors`` whenever ``monitor`` improves (``save_best``).

    Each file holds model, optimizer, scheduler, epoch, RNG states and History (see ``ember.train.checkpoint``)
    and is written atomically, so a crash never leaves a broken ``last`` behind.
    """

    def __init__(self, dirpath, monitor: str = "val_loss", mode: str = "auto", save_best: bool = True,
                 save_last: bool = True, min_delta: float = 0.0, verbose: int = 0) -> None:
        super().__init__("ModelCheckpoint", monitor, mode, min_delta)
        if not (save_best or save_last):
            raise ValueError("ModelCheckpoint: nothing to save (save_best and save_last are both False)")
        self.dirpath = os.fspath(dirpath)
        self.save_best, self.save_last, self.verbose = save_best, save_last, verbose
        self.best_path = os.path.join(self.dirpath, "best.safetensors")
        self.last_path = os.path.join(self.dirpath, "last.safetensors")

    def on_train_begin(self, logs=None):
        os.makedirs(self.dirpath, exist_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best:
            value = self._value(logs)
            if value is not None and self._improved(value):
                self.best = value
                self.trainer.save_checkpoint(self.best_path)
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} improved to {value:.6g}, saved {self.best_path}")
        if self.save_last:
            self.trainer.save_checkpoint(self.last_path)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


def _is_plateau(scheduler) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau" or hasattr(scheduler, "num_bad_epochs")


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (``interval="epoch"``) or after every optimizer step
    (``interval="step"``, as Lightning's scheduler ``interval``: what ``OneCycleLR`` and warm-up schedules
    expect); ``ReduceLROnPlateau`` is stepped per epoch with the ``monitor`` value of that epoch (default
    ``val_loss``, falling back to ``loss`` without validation).

    ``Trainer(scheduler=..., scheduler_interval=...)`` adds one for you.
    """

    def __init__(self, scheduler, monitor: str = "val_loss", interval: str = "epoch") -> None:
        if not hasattr(scheduler, "step"):
            raise TypeError(f"LRSchedulerCallback: expected an ember.optim.lr_scheduler scheduler, got "
                            f"{type(scheduler).__name__}")
        if interval not in ("epoch", "step"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'step', got {interval!r}")
        if interval == "step" and _is_plateau(scheduler):
            raise ValueError("LRSchedulerCallback: ReduceLROnPlateau steps on an epoch's monitored value; use "
                             "interval='epoch'")
        self.scheduler, self.monitor, self.interval = scheduler, monitor, interval
        self._owned = False          # True when the Trainer saves the scheduler itself
        self._seen_step = None       # the trainer's global_step when the scheduler last stepped

    def on_train_begin(self, logs=None):
        self._seen_step = self.trainer.global_step if self.trainer is not None else 0

    def on_batch_end(self, batch, logs=None):
        if self.interval != "step" or self.trainer is None:
            return
        if self.trainer.global_step > self._seen_step:     # an optimizer step happened (with accumulation,
            self._seen_step = self.trainer.global_step      # not after every batch)
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.interval == "step":
            return
        logs = logs or {}
        if _is_plateau(self.scheduler):
            key = self.monitor if self.monitor in logs else ("loss" if self.monitor == "val_loss" else None)
            if key is None or key not in logs:
                raise KeyError(f"LRSchedulerCallback: ReduceLROnPlateau monitors '{self.monitor}', which is not "
                               f"logged; available: {', '.join(sorted(logs))}")
            self.scheduler.step(float(logs[key]))
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return {} if self._owned else {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("scheduler") is not None and not self._owned:
            self.scheduler.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` then the logs) to a CSV file, flushed as it goes.  A resumed run
    (or ``append=True``) adds to the existing file instead of starting it over."""

    def __init__(self, filename, separator: str = ",", append: bool = False) -> None:
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self._file = None
        self._keys = None

    def on_train_begin(self, logs=None):
        resuming = self.trainer is not None and getattr(self.trainer, "_resuming", False)
        mode = "a" if (self.append or resuming) and os.path.exists(self.filename) else "w"
        self._keys = None
        if mode == "a":
            with open(self.filename, encoding="utf-8") as f:
                head = f.readline().strip()
            self._keys = head.split(self.sep)[1:] if head else None
        self._file = open(self.filename, mode, encoding="utf-8")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            self._file.write(self.sep.join(["epoch", *self._keys]) + "\n")

        def fmt(v):
            return "" if v is None else repr(float(v)) if isinstance(v, float) else str(v)
        self._file.write(self.sep.join([str(epoch), *(fmt(logs.get(k)) for k in self._keys)]) + "\n")
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite, saying at which epoch and batch."""

    def __init__(self) -> None:
        self.message = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("batch_loss", logs.get("loss"))
        if loss is not None and not math.isfinite(float(loss)):
            self.message = (f"TerminateOnNaN: loss is {float(loss)} at epoch {self._epoch + 1}, batch {batch + 1}; "
                            f"stopping training")
            print(self.message, file=sys.stderr)
            self.trainer.stop_training = True
            self.trainer.stop_reason = self.message


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4)) else f"{v:.4f}"
    return str(v)


class ProgressBar(Callback):
    """A tqdm progress bar over each epoch's batches with the running loss and metrics, then one summary line
    per epoch (``Epoch 3/10 - 2.1s - loss: 0.1234 - accuracy: 0.9650 - val_loss: ...``).

    ``verbose``: ``'auto'`` (1 when stdout is a terminal, else 0), 0 (silent), 1 (bar and summary) or 2
    (summary lines only).  Without tqdm installed, verbose 1 behaves like 2.
    """

    def __init__(self, verbose="auto", file=None, mininterval: float = 0.2) -> None:
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"ProgressBar: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        self.file, self.mininterval = file, mininterval
        self.verbose = verbose
        self._bar = None

    def _mode(self) -> int:
        if self.verbose != "auto":
            return self.verbose
        out = self.file or sys.stdout
        return 1 if getattr(out, "isatty", lambda: False)() else 0

    def on_train_begin(self, logs=None):
        self._level = self._mode()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._level != 1:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._level = 2
            return
        self._bar = tqdm(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                         file=self.file or sys.stdout, leave=False, unit="batch", dynamic_ncols=True,
                         mininterval=self.mininterval)

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            post = {k: _fmt(v) for k, v in (logs or {}).items() if k != "batch_loss"}
            self._bar.set_postfix(post, refresh=False)     # drawn by update() at tqdm's pace, not every batch
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._level in (1, 2):
            logs = dict(logs or {})
            secs = logs.pop("time", None)
            parts = [f"Epoch {epoch + 1}/{self.params.get('epochs')}"]
            if secs is not None:
                parts.append(f"{secs:.1f}s")
            parts += [f"{k}: {_fmt(v)}" for k, v in logs.items()]
            print(" - ".join(parts), file=self.file or sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
