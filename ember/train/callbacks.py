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
import time
import warnings

from .history import metric_mode

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "BackupAndRestore", "LRSchedulerCallback", "CSVLogger",
           "TerminateOnNaN", "ProgressBar", "LambdaCallback"]

_auto_mode = metric_mode   # mode='auto': one rule shared with History.plot


def nonfinite_parameter(model, names=None):
    """The name of the first parameter of ``model`` holding NaN or infinity, or None when all are finite (what
    a checkpoint must never be written with).  ``names``: check these entries of the state_dict instead
    (buffers too; a buffer may hold infinity on purpose, e.g. an attention mask)."""
    from ..backend import np
    items = model.named_parameters() if names is None else \
        ((k, v) for k, v in model.state_dict().items() if k in names)
    for name, t in items:
        a = getattr(t, "_data", t)
        if getattr(a, "dtype", None) is not None and a.dtype.kind in "fc" and not np.isfinite(a).all():
            return name
    return None


def _finite_entries(model) -> set:
    """The names of the state_dict's floating entries that are all finite now."""
    from ..backend import np
    out = set()
    for name, t in model.state_dict().items():
        a = getattr(t, "_data", t)
        if getattr(a, "dtype", None) is not None and a.dtype.kind in "fc" and np.isfinite(a).all():
            out.add(name)
    return out


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
    and is written atomically, so a crash never leaves a broken ``last`` behind.  Weights holding NaN or
    infinity (a diverged run) are never saved: the previous files stay as they were, with a warning.
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
        if _refuse_nonfinite(self, epoch):
            return
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


def _refuse_nonfinite(cb, epoch) -> bool:
    """True when the run diverged or the weights are not finite (with a warning when the trainer does not know
    it diverged)."""
    if getattr(cb.trainer, "diverged", None) is not None:
        return True
    bad = nonfinite_parameter(cb.model)
    if bad is None:
        return False
    if getattr(cb.trainer, "diverged", None) is None:
        warnings.warn(f"{type(cb).__name__}: '{bad}' holds NaN or infinity after epoch {epoch + 1}; not saving "
                      f"(the previous checkpoint stays)", RuntimeWarning, stacklevel=3)
    return True


class BackupAndRestore(Callback):
    """Keras' ``BackupAndRestore``: back the training state up into ``backup_dir`` so that a run killed at any
    moment (SIGKILL, a crash, a preempted machine) continues where the last backup was taken when the same
    ``fit`` is called again with the same callback, ending with the weights of an uninterrupted run.

    ``backup_dir/latest.safetensors`` is written atomically at the end of every epoch (``save_freq="epoch"``)
    or every ``save_freq`` batches (an int); it holds model, optimizer, scheduler, RNG states, the loader
    position, History and callback states.  ``fit(..., epochs=N)`` on a fresh Trainer with a backup present
    restores it and trains up to ``N`` epochs in total (Keras' meaning).  ``double_checkpoint`` keeps the
    previous backup as ``latest.bkp.safetensors`` and falls back to it if the newest cannot be read.
    ``delete_checkpoint`` removes the backup once training finishes normally (not after an interrupt, a
    divergence or an error).  Ctrl-C and SIGTERM save into the backup too.  Weights holding NaN or infinity
    are never backed up.

    >>> trainer.fit(loader, epochs=10, callbacks=[BackupAndRestore("backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True) -> None:
        if backup_dir is None or (isinstance(backup_dir, str) and not backup_dir):
            raise ValueError("BackupAndRestore: backup_dir must be a folder path, got an empty value")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int (batches), got "
                             f"{save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint, self.delete_checkpoint = save_freq, double_checkpoint, \
            delete_checkpoint
        self.path = os.path.join(self.backup_dir, "latest.safetensors")
        self.backup_path = os.path.join(self.backup_dir, "latest.bkp.safetensors")
        self._batches = 0

    def restore_path(self):
        """The backup to continue from (the newest readable one), or None when there is none."""
        from .checkpoint import load_checkpoint
        from ..io import CheckpointError
        candidates = [self.path] + ([self.backup_path] if self.double_checkpoint else [])
        for p in candidates:
            if not os.path.isfile(p):
                continue
            try:
                load_checkpoint(p)
            except (CheckpointError, OSError, ValueError) as e:
                warnings.warn(f"BackupAndRestore: cannot read the backup {p} ({e}); trying an older one",
                              RuntimeWarning, stacklevel=2)
                continue
            return p
        return None

    def on_train_begin(self, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        self._batches = 0

    def _save(self, mid_epoch: bool) -> None:
        if nonfinite_parameter(self.model) is not None:
            return
        if self.double_checkpoint and os.path.isfile(self.path):
            os.replace(self.path, self.backup_path)
        self.trainer._save_state(self.path, mid_epoch=mid_epoch)

    def on_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0 and self.trainer._can_save_mid_epoch():
            self._save(mid_epoch=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch" and not _refuse_nonfinite(self, epoch):
            self._save(mid_epoch=False)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and self.trainer is not None and self.trainer._fit_completed:
            for p in (self.path, self.backup_path):
                try:
                    os.remove(p)
                except FileNotFoundError:
                    pass


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
    """Stop training as soon as a batch's loss is NaN or infinite (and, with ``check_weights``, as soon as an
    optimizer step leaves a parameter NaN or infinite), saying at which epoch and batch.

    The trainer's ``diverged`` then holds ``{"epoch", "batch", "what", "message"}`` (1-based numbers) and
    checkpoint callbacks keep their last finite files.  ``verbose=0`` leaves the printing to the caller.
    """

    def __init__(self, check_weights: bool = True, verbose: int = 1) -> None:
        self.check_weights, self.verbose = check_weights, verbose
        self.message = None
        self._epoch = 0
        self._last_batch = -1
        self._seen_step = None

    def on_train_begin(self, logs=None):
        self._seen_step = getattr(self.trainer, "global_step", 0)
        self._params = list(self.model.named_parameters()) if self.model is not None else []
        # buffers that start finite and later are not mean divergence (a mask buffer may hold -inf on purpose)
        self._watched = _finite_entries(self.model) if self.model is not None and self.check_weights else set()

    def _bad_parameter(self):
        """The first parameter holding NaN/inf, or None: one BLAS dot product per parameter (a sum of squares is
        finite exactly when every value is, short of overflow, which the exact check then rules out)."""
        from ..backend import np
        for name, p in self._params:
            a = p._data
            if a.dtype.kind != "f" or not a.size:
                continue
            flat = a.reshape(-1)
            if not np.isfinite(np.dot(flat, flat)) and not np.isfinite(a).all():
                return name
        return None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        # once per epoch, before checkpoints are written: buffers too (BatchNorm statistics), which no
        # optimizer step touches
        if self.check_weights and self.trainer is not None and self.trainer.diverged is None:
            bad = nonfinite_parameter(self.model, self._watched)
            if bad is not None:
                self._stop(f"'{bad}' holds NaN or infinity at the end of the epoch", self._last_batch)

    def _stop(self, what: str, batch: int) -> None:
        self.message = f"TerminateOnNaN: {what} at epoch {self._epoch + 1}, batch {batch + 1}; stopping training"
        if self.verbose:
            print(self.message, file=sys.stderr)
        self.trainer.stop_training = True
        self.trainer.stop_reason = self.message
        self.trainer.diverged = {"epoch": self._epoch + 1, "batch": batch + 1, "what": what,
                                 "message": self.message}

    def on_batch_end(self, batch, logs=None):
        self._last_batch = batch
        logs = logs or {}
        loss = logs.get("batch_loss", logs.get("loss"))
        what = None
        if loss is not None and not math.isfinite(float(loss)):
            what = f"loss is {float(loss)}"
        elif self.check_weights and self.trainer is not None and self.trainer.global_step != self._seen_step:
            self._seen_step = self.trainer.global_step
            bad = self._bad_parameter()
            if bad is not None:
                what = f"parameter '{bad}' holds NaN or infinity after the optimizer step"
        if what is not None:
            self._stop(what, batch)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if (v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4)) else f"{v:.4f}"
    return str(v)


def format_seconds(secs: float) -> str:
    """A duration as the progress lines print it: ``42s``, ``3m05s``, ``1h02m``."""
    secs = max(0, int(round(secs)))
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m{secs % 60:02d}s"
    return f"{secs // 3600}h{secs % 3600 // 60:02d}m"


class ProgressBar(Callback):
    """Progress as it suits where the output goes: on a terminal a tqdm bar over each epoch's batches with the
    running loss and metrics, then one summary line per epoch; elsewhere (a pipe, a log file, a notebook's
    captured output) plain lines only, which ``| tee`` and ``> log`` keep.

    An epoch line reads ``Epoch 3/10 - 2.1s - loss: 0.1234 - accuracy: 0.9650 - val_loss: ... - ETA 14s`` (the
    ETA is for the rest of the run).  In plain-line mode a long epoch also prints a progress line every
    ``log_every`` seconds (30 by default) and/or every ``log_every_steps`` batches:
    ``Epoch 3/10 - batch 200/937 - 30.1s - loss: 0.2345 - ETA 1m50s`` (the ETA is for the rest of the epoch).

    ``verbose``: ``'auto'`` (1 when the output is a terminal or a Jupyter notebook, else 2), 0 (silent),
    1 (bar and summary) or 2 (plain lines).  Without tqdm installed, verbose 1 behaves like 2.
    """

    def __init__(self, verbose="auto", file=None, mininterval: float = 0.2, log_every: float | None = 30.0,
                 log_every_steps: int | None = None) -> None:
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"ProgressBar: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
        if log_every is not None and not (isinstance(log_every, (int, float)) and log_every > 0):
            raise ValueError(f"ProgressBar: log_every must be a positive number of seconds or None, got "
                             f"{log_every!r}")
        if log_every_steps is not None and not (isinstance(log_every_steps, int) and log_every_steps > 0):
            raise ValueError(f"ProgressBar: log_every_steps must be a positive int or None, got {log_every_steps!r}")
        self.file, self.mininterval = file, mininterval
        self.verbose = verbose
        self.log_every, self.log_every_steps = log_every, log_every_steps
        self._bar = None
        self._epoch_times: list = []

    def _mode(self) -> int:
        if self.verbose != "auto":
            return self.verbose
        out = self.file or sys.stdout
        try:
            tty = bool(out.isatty())
        except (AttributeError, ValueError):        # no isatty, or a closed stream
            tty = False
        # a Jupyter kernel's stdout is no terminal but shows tqdm.auto's bar as a widget
        notebook = out is sys.stdout and "ipykernel" in sys.modules
        return 1 if tty or notebook else 2

    def _print(self, text: str) -> None:
        print(text, file=self.file or sys.stdout, flush=True)

    def on_train_begin(self, logs=None):
        self._level = self._mode()
        self._epoch_times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._t0 = self._last = time.perf_counter()
        self._first_batch = None
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
            return
        if self._level != 2:
            return
        if self._first_batch is None:
            self._first_batch = batch           # a resumed epoch starts past 0
        now = time.perf_counter()
        done = batch - self._first_batch + 1
        due = ((self.log_every is not None and now - self._last >= self.log_every)
               or (self.log_every_steps is not None and (batch + 1) % self.log_every_steps == 0))
        steps = self.params.get("steps")
        if not due or (steps is not None and batch + 1 >= steps):
            return
        self._last = now
        parts = [f"Epoch {self._epoch + 1}/{self.params.get('epochs')}",
                 f"batch {batch + 1}" + (f"/{steps}" if steps else ""), f"{now - self._t0:.1f}s"]
        parts += [f"{k}: {_fmt(v)}" for k, v in (logs or {}).items() if k != "batch_loss"]
        if steps:
            parts.append(f"ETA {format_seconds((now - self._t0) / done * (steps - batch - 1))}")
        self._print(" - ".join(parts))

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._level in (1, 2):
            logs = dict(logs or {})
            secs = logs.pop("time", None)
            self._epoch_times.append(time.perf_counter() - self._t0)
            parts = [f"Epoch {epoch + 1}/{self.params.get('epochs')}"]
            if secs is not None:
                parts.append(f"{secs:.1f}s")
            parts += [f"{k}: {_fmt(v)}" for k, v in logs.items()]
            left = (self.params.get("epochs") or 0) - (epoch + 1)
            if left > 0 and not (self.trainer is not None and self.trainer.stop_training):
                mean = sum(self._epoch_times) / len(self._epoch_times)
                parts.append(f"ETA {format_seconds(mean * left)}")
            self._print(" - ".join(parts))

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
