"""``Trainer``: Keras' ``fit`` / ``evaluate`` / ``predict`` over an ember model, optimizer and DataLoaders.

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                      metrics=["accuracy"], callbacks=[EarlyStopping(patience=3)])
    history = trainer.fit(train_loader, val_data=val_loader, epochs=10)
    trainer.evaluate(test_loader)          # {'loss': ..., 'accuracy': ...}
    trainer.predict(x_test)                # logits, as one Tensor

The loop is the one PyTorch users write by hand (``model.train()``, forward, loss, backward, optional gradient
clipping and accumulation, ``optimizer.step()``, ``zero_grad()``), with callbacks around it and evaluation in
``model.eval()`` under ``no_grad``.  ``fit(..., resume_from=path)`` continues a run from a training checkpoint
so that the final weights equal, bit for bit, those of a run never interrupted (same seed and data order, no
loader workers).  Ctrl-C (SIGINT) or SIGTERM (sent by ``timeout``, ``docker stop``, Slurm) during ``fit``
finishes the current batch, saves a resumable checkpoint and returns (``trainer.interrupt_signal`` says which);
with a ``BackupAndRestore`` callback a run killed outright (SIGKILL) continues from its last backup.

Models whose training is not ``loss_fn(model(x), y)`` (VAE, GAN, RBM, siamese/triplet nets) define
``training_step(batch)``, as in PyTorch Lightning's ``LightningModule``: the Trainer then calls it with each
batch as the loader yields it and backpropagates what it returns, a scalar loss Tensor or a dict with that
Tensor under ``"loss"`` and other numbers to log (averaged per epoch, e.g. ``d_loss``/``g_loss``).  An optional
``validation_step(batch) -> dict of floats`` (with ``"loss"``) is used by ``evaluate`` (in eval mode, under
``no_grad``); without it ``evaluate`` runs ``training_step`` under ``no_grad``.  Such a model needs no
``loss_fn`` (pass None) and takes no metrics (they need outputs and targets: report values from the steps).

A model that learns without gradients (the Hopfield network's Hebbian storage, a hand-written update rule) sets
``automatic_optimization = False``, as in Lightning: its ``training_step`` does the update itself and may
return plain numbers (``{"loss": float, ...}``: some number to follow, e.g. an energy); the Trainer then
neither backpropagates nor steps an optimizer, and ``fit`` needs no optimizer.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time

from .. import metrics as _metrics
from ..autograd import no_grad
from ..tensor import Tensor
from .callbacks import BackupAndRestore, Callback, LRSchedulerCallback, ModelCheckpoint, ProgressBar
from .checkpoint import (CHECKPOINT_VERSION, load_checkpoint, rng_state, set_rng_state)
from .history import History
from ._trainer_util import (_as_loader, _split, _step_fn, _batch_len, _num, _automatic, _call_training_step,
                            _check_callbacks, _n_samples, _unwrap, _Interrupted, _on)
from ..io import save

__all__ = ["Trainer"]


class Trainer:
    """Train, evaluate and predict with a model.

    Args:
        model: an ``ember.nn.Module``; if it defines ``training_step(batch)`` (and ``validation_step``), those are
            called instead of ``loss_fn(model(*inputs), target)`` (see the module docstring).
        loss_fn: ``loss_fn(outputs, targets) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``); None for a
            model with a ``training_step``; or one loss per head for a model with several outputs: a dict
            ``{head: loss}`` (or a list in the outputs' order), see ``ember.train._heads``.
        loss_weights: with one loss per head: fixed weights ``{head: w}`` (default 1 each), or a module turning
            the dict of head losses into the total (``ember.models.UncertaintyWeighting``: learned uncertainty
            weighting, Kendall et al. 2018; its parameters must be in the optimizer).
        optimizer: an ``ember.optim`` optimizer over ``model.parameters()`` (needed by ``fit`` only).
        metrics: metric objects or names (``"accuracy"``, ``"f1"``, ...; see ``ember.metrics``), computed on
            training batches (running) and on validation data; with one loss per head, a dict ``{head: [metrics]}``
            logged as ``<head>/<metric>``.
        scheduler: an ``ember.optim.lr_scheduler`` scheduler stepped after every epoch, or after every optimizer
            step with ``scheduler_interval="step"`` (``OneCycleLR``, warm-ups)
            (``ReduceLROnPlateau`` with ``plateau_monitor``, ``val_loss`` by default).
        callbacks: ``Callback`` objects (``ember.train.callbacks``).
        grad_clip: clip the gradients' global 2-norm to this value before each step (None: no clipping).
        accumulate: optimizer step every ``accumulate`` batches, with the loss divided by the window size, so
            that the update equals one over the union of those batches.
        device: where to train ("cpu", "cuda", "cuda:1", an ``ember.device``; None: where the model is): the
            model is moved there (``model.to(device)``, in place) and every batch is moved as it is drawn.
    """

    def __init__(self, model, loss_fn, optimizer=None, metrics=(), scheduler=None, callbacks=(),
                 grad_clip: float | None = None, accumulate: int = 1, plateau_monitor: str = "val_loss",
                 scheduler_interval: str = "epoch", loss_weights=None, device=None) -> None:
        if not (hasattr(model, "parameters") and hasattr(model, "train") and callable(model)):
            raise TypeError(f"Trainer: model must be an ember.nn.Module, got {type(model).__name__}")
        if loss_fn is None and _step_fn(model, "training_step") is None:
            raise TypeError(f"Trainer: loss_fn is None but {type(model).__name__} defines no training_step; pass a "
                            f"loss (e.g. nn.CrossEntropyLoss())")
        self._heads = None
        if isinstance(loss_fn, (dict, list, tuple)):          # one loss per head
            from ._heads import Heads
            self._heads = Heads(loss_fn, loss_weights, metrics)
        elif loss_weights is not None:
            raise TypeError("Trainer: loss_weights needs one loss per head (loss_fn as a dict {head: loss})")
        if loss_fn is not None and not callable(loss_fn) and self._heads is None:
            raise TypeError(f"Trainer: loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got "
                            f"{type(loss_fn).__name__}")
        if not isinstance(accumulate, int) or isinstance(accumulate, bool) or accumulate < 1:
            raise ValueError(f"Trainer: accumulate must be a positive int, got {accumulate!r}")
        if grad_clip is not None and not (isinstance(grad_clip, (int, float)) and grad_clip > 0):
            raise ValueError(f"Trainer: grad_clip must be a positive number or None, got {grad_clip!r}")
        if isinstance(metrics, (str, _metrics.Metric)):
            metrics = [metrics]
        self.metrics = self._heads.metrics if self._heads is not None else [_metrics.get(m) for m in metrics]
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"Trainer: metric names must be unique and not 'loss', got {names}")
        _check_callbacks(callbacks, "Trainer")
        self.model, self.loss_fn, self.optimizer, self.scheduler = model, loss_fn, optimizer, scheduler
        self.device = None
        if device is not None:
            from ..tensor import _check_device
            self.device = _check_device(device)
            model.to(self.device)
        self.callbacks = list(callbacks)
        self.grad_clip, self.accumulate = grad_clip, accumulate
        self.plateau_monitor = plateau_monitor
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        self.scheduler_interval = scheduler_interval
        self.history = History()
        self.epoch = 0                  # completed epochs
        self.global_step = 0            # optimizer steps taken
        self.stop_training = False
        self.stop_reason: str | None = None
        self.interrupted = False
        self.interrupt_signal: int | None = None   # signal.SIGINT or signal.SIGTERM after an interrupt
        self.diverged: dict | None = None          # set by TerminateOnNaN: epoch, batch, what, message
        self.interrupt_checkpoint: str | None = None
        self.report_interrupts = True              # print what an interrupt did (False: the caller says it)
        self._fit_callbacks: list = []             # callbacks passed to the current fit(..., callbacks=[...])
        self._fit_completed = False
        self.config: dict = {}          # saved in checkpoints (the CLI puts the run's config here)
        self._resuming = False
        self._mid = None                # state of an unfinished epoch to continue (from a checkpoint)
        self._loader = None
        self._interrupt_requested = False          # the stop the batch loop acts on
        self._interrupt_pending = False            # a signal came (distributed: acted on once the ranks agree)
        self._pos = None                # (epoch, batch, epoch_rng, running) while inside an epoch
        # ember train --nproc N: an ember.distributed._train.TrainSync (also among the callbacks) that sums the
        # epoch logs and evaluations over the ranks; interrupts then keep the last finished epoch (no mid-epoch
        # checkpoint: its position would mean other batches with another number of processes)
        self.distributed = None

    # -- fit ---------------------------------------------------------------------------------------------------
    def fit(self, train_loader, val_data=None, epochs: int = 1, resume_from=None, verbose="auto",
            interrupt_checkpoint="auto", callbacks=None, validation_data=None) -> History:
        """Train for ``epochs`` epochs and return the ``History``.

        ``val_data`` (or Keras' name ``validation_data``): a DataLoader or an ``(X, y)`` pair, evaluated after
        every epoch (``val_`` logs).
        ``resume_from``: a training checkpoint; the run continues from it up to ``epochs`` epochs in total
        (without it, ``epochs`` more epochs are trained from the current state).  A ``BackupAndRestore``
        callback with a backup present does the same from its backup.
        ``verbose``: ``'auto'`` (progress bar when stdout is a terminal, plain epoch lines otherwise), 0,
        1 (bar + epoch lines) or 2 (lines).
        ``interrupt_checkpoint``: where Ctrl-C or SIGTERM saves its checkpoint (``'auto'``: the
        BackupAndRestore backup, else the ModelCheckpoint folder, else ``./ember-interrupted.safetensors``;
        None: do not save).
        ``callbacks``: more ``Callback`` objects for this ``fit`` only (as Keras takes them), run after the
        Trainer's own.
        """
        if validation_data is not None:
            if val_data is not None:
                raise TypeError("Trainer.fit: got both val_data and validation_data; pass one")
            val_data = validation_data
        fit_cbs = [] if callbacks is None else callbacks
        _check_callbacks(fit_cbs, "Trainer.fit")
        self._fit_callbacks = list(fit_cbs)
        manual = not _automatic(self.model)
        if manual and _step_fn(self.model, "training_step") is None:
            raise TypeError(f"Trainer.fit: {type(self.model).__name__} sets automatic_optimization = False but "
                            f"defines no training_step to update itself")
        if self.optimizer is None and not manual:
            raise ValueError("Trainer.fit needs an optimizer: Trainer(model, loss_fn, optimizer, ...)")
        if self._heads is not None:
            self._heads.check_optimizer(self.optimizer)
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be a non-negative int, got {epochs!r}")
        if _step_fn(self.model, "training_step") is not None and self.metrics:
            raise ValueError(f"Trainer: metrics {[m.name for m in self.metrics]} need the model's outputs, but "
                             f"{type(self.model).__name__} trains through its training_step; log values from "
                             f"training_step/validation_step instead (metrics=())")
        loader = _as_loader(train_loader, "fit")
        val = _as_loader(val_data, "fit") if val_data is not None else None
        self._loader = loader
        if resume_from is None:
            for cb in self._all_callbacks():
                if isinstance(cb, BackupAndRestore):
                    resume_from = cb.restore_path()
                    if resume_from is not None:
                        break
        self._resuming = resume_from is not None
        stopped = None
        if resume_from is not None:
            ck = load_checkpoint(resume_from)
            self._restore(ck, loader)
            stopped = ck.get("stopped")        # the run had ended early (EarlyStopping): it stays ended
            target = epochs
        else:
            target = self.epoch + epochs
        cbs = self._callback_list(verbose)
        try:
            steps = len(loader)
        except TypeError:
            steps = None
        params = {"epochs": target, "steps": steps, "verbose": verbose, "initial_epoch": self.epoch}
        for cb in cbs:
            cb.set_trainer(self)
            cb.set_params(params)
        self.stop_training, self.stop_reason, self.interrupted = False, None, False
        self.interrupt_signal, self.diverged, self._fit_completed = None, None, False
        if stopped:
            self.stop_training, self.stop_reason = True, str(stopped)
        self._interrupt_requested = self._interrupt_pending = False
        self.interrupt_checkpoint = self._interrupt_path(interrupt_checkpoint)
        old_handler = self._install_sigint()
        try:
            for cb in cbs:
                cb.on_train_begin({})
            if self._mid is None and self.optimizer is not None:
                self.optimizer.zero_grad()
            while self.epoch < target and not self.stop_training:
                self._run_epoch(loader, val, cbs, steps)
                if self._interrupt_requested:       # Ctrl-C during validation or the epoch-end callbacks
                    self._save_interrupt(mid_epoch=False)
            self._fit_completed = not self.interrupted and self.diverged is None
        except _Interrupted:
            pass
        except KeyboardInterrupt:
            # a KeyboardInterrupt not deferred by our handler (second Ctrl-C, or raised by code): save only if
            # it arrived between batches, where model and optimizer agree with each other
            if self._pos is not None and self._pos.get("consistent"):
                self._save_interrupt(mid_epoch=True, raise_=False)
            elif self._pos is None:
                self._save_interrupt(mid_epoch=False, raise_=False)
            else:
                self._restore_sigint(old_handler)
                raise
        finally:
            self._restore_sigint(old_handler)
            self._pos = None
            for cb in cbs:
                cb.on_train_end({})
            self._resuming = False
        return self.history

    def _all_callbacks(self) -> list:
        """The Trainer's callbacks and those of the current ``fit``: the ones whose state checkpoints carry."""
        return list(self.callbacks) + [c for c in self._fit_callbacks if all(c is not d for d in self.callbacks)]

    def _callback_list(self, verbose) -> list:
        cbs = self._all_callbacks()
        if self.scheduler is not None and not any(isinstance(c, LRSchedulerCallback) and c.scheduler is
                                                  self.scheduler for c in cbs):
            own = LRSchedulerCallback(self.scheduler, monitor=self.plateau_monitor, interval=self.scheduler_interval)
            own._owned = True
            cbs.insert(0, own)
        if verbose != 0 and not any(isinstance(c, ProgressBar) for c in cbs):
            cbs.append(ProgressBar(verbose))
        # the scheduler steps before anything saves a checkpoint, and checkpoints are written last, so that a
        # saved state is exactly the state the next epoch starts from
        order = {LRSchedulerCallback: 0, ProgressBar: 1, ModelCheckpoint: 3, BackupAndRestore: 3}
        return sorted(cbs, key=lambda c: next((v for k, v in order.items() if isinstance(c, k)), 2))

    def _current_lr(self):
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else math.nan

    def _run_epoch(self, loader, val, cbs, steps) -> None:
        epoch, model, acc = self.epoch, self.model, self.accumulate
        mid, self._mid = self._mid, None
        for m in self.metrics:
            m.reset()
        running = {"loss_sum": 0.0, "count": 0, "elapsed": 0.0, "extras": {}}
        step_fn = _step_fn(model, "training_step")
        heads = self._heads
        if mid is not None:             # continue an unfinished epoch: same shuffle, then the saved RNG state
            epoch_rng, start = mid["epoch_rng"], mid["batch"]
            set_rng_state(epoch_rng, loader)
        else:
            epoch_rng, start = rng_state(loader), 0
        lr = self._current_lr()
        model.train()
        for cb in cbs:
            cb.on_epoch_begin(epoch, {})
        t0 = time.perf_counter()
        it = iter(_on(loader, self.device))
        if mid is not None:
            for _ in range(start):
                next(it)
            set_rng_state(mid["rng"], loader)
            running = dict(mid["running"])
            states = running.pop("metrics")
            if self.distributed is not None and self.distributed.rank:      # the saved sums count once
                running = {"loss_sum": 0.0, "count": 0, "elapsed": 0.0, "extras": {}}
            else:
                for m, st in zip(self.metrics, states):
                    m.__dict__.update(st)
            if mid.get("grads") is not None:
                for p, g in zip(model.parameters(), mid["grads"]):
                    p.grad = g
        self._pos = {"epoch": epoch, "batch": start, "epoch_rng": epoch_rng, "running": running,
                     "consistent": True, "t0": t0}
        b = start
        for batch in it:
            self._pos["consistent"] = False
            for cb in cbs:
                cb.on_batch_begin(b, {})
            window_start = (b // acc) * acc
            window = acc if steps is None else min(acc, steps - window_start)
            # DDP inside an accumulation window: gradients add up locally (no_sync), the window's last backward
            # averages the sums over the ranks
            local = self.distributed is not None and b + 1 - window_start < window and hasattr(model, "no_sync")
            if local:
                model.require_backward_grad_sync = False
            if step_fn is not None:
                loss, extras = _call_training_step(step_fn, batch, model)
                out = target = None
                n = _batch_len(batch)
            elif heads is not None:
                inputs, target = heads.split(batch, "fit")
                out = heads.outputs(model(*inputs), "fit")
                loss, extras = heads.loss(out, target, "fit")
                n = _n_samples(None, inputs)
            else:
                inputs, target = _split(batch, "fit")
                out = model(*inputs)
                loss = self.loss_fn(out, target)
                if not isinstance(loss, Tensor) or loss.numel() != 1:
                    raise ValueError(f"Trainer.fit: loss_fn must return a scalar Tensor, got "
                                     f"{type(loss).__name__} {tuple(getattr(loss, 'shape', ()))}")
                extras = {}
                n = _n_samples(target, inputs)
            if isinstance(loss, Tensor):
                (loss / window if window != 1 else loss).backward()
                if local:
                    model.require_backward_grad_sync = True
                value = float(loss.item())
            else:                               # automatic_optimization = False: the step updated the model
                value = loss
            running["loss_sum"] += value * n
            running["count"] += n
            ex = running.setdefault("extras", {})
            for k, v in extras.items():
                ex[k] = ex.get(k, 0.0) + v * n
            if out is not None and self.metrics:
                if heads is not None:
                    heads.update_metrics(self.metrics, out, target)
                else:
                    out_d = out.detach()
                    for m in self.metrics:
                        m.update(out_d, target)
            b += 1
            if b - window_start == window or (steps is not None and b == steps):
                self._step()
            self._pos["batch"] = b
            self._pos["consistent"] = True
            logs = {"loss": running["loss_sum"] / running["count"], **self._metric_logs(),
                    **{k: v / running["count"] for k, v in running.get("extras", {}).items()}, "batch_loss": value}
            for cb in cbs:
                cb.on_batch_end(b - 1, logs)
            if self._interrupt_requested and b % acc == 0 and (steps is None or b < steps):
                self._save_interrupt(mid_epoch=True)
            if self.stop_training:
                break
        if steps is None and b % acc:       # unknown length: the last, partial window still gets its step
            self._step()
        self._pos = None
        if self.distributed is not None:
            self.distributed.reduce_running(running, self.metrics)
        logs = {"loss": running["loss_sum"] / running["count"] if running["count"] else math.nan,
                **self._metric_logs(),
                **{k: v / running["count"] for k, v in running.get("extras", {}).items() if running["count"]}}
        if heads is not None:
            logs.update(heads.epoch_logs())
        if val is not None:
            logs.update({"val_" + k: v for k, v in self.evaluate(val).items()})
            model.train()
        if self.optimizer is not None:         # (a model that updates itself has no learning rate)
            logs["lr"] = lr
        logs["time"] = running["elapsed"] + time.perf_counter() - t0
        self.epoch = epoch + 1
        self.history.record(epoch, logs)
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)

    def _metric_logs(self) -> dict:
        out = {}
        for m in self.metrics:
            try:
                v = m.compute()
            except RuntimeError:
                continue
            if isinstance(v, (int, float)):
                out[m.name] = float(v)
        return out

    def _step(self) -> None:
        if self.optimizer is None or not _automatic(self.model):   # training_step did the update itself
            self.global_step += 1
            return
        if self.grad_clip is not None:
            from ..nn.utils import clip_grad_norm_
            clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.global_step += 1

    # -- evaluate / predict ------------------------------------------------------------------------------------
    def evaluate(self, data, batch_size: int = 256) -> dict:
        """Loss and metrics over ``data`` (a DataLoader or ``(X, y)``) in eval mode without gradients.

        Returns ``{"loss": ..., "<metric>": ...}``; per-class metrics (``average=None``) and the confusion
        matrix come back as NumPy arrays.
        """
        loader = _on(_as_loader(data, "evaluate", batch_size), self.device)
        fresh = [m._fresh() for m in self.metrics]
        total, count = 0.0, 0
        was_training = self.model.training
        val_fn = _step_fn(self.model, "validation_step")
        train_fn = _step_fn(self.model, "training_step")
        if val_fn is not None or train_fn is not None:
            return self._evaluate_steps(loader, val_fn, train_fn)
        if self._heads is not None:
            return self._evaluate_heads(loader, fresh)
        sync = self.distributed
        # distributed: each rank evaluates its shard with the plain model (no collective per batch, so shards of
        # different lengths are fine) and rank 0's buffers; the sums are reduced below
        net = self.model if sync is None else _unwrap(self.model)
        if sync is not None:
            sync.sync_buffers()
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = _split(batch, "evaluate")
                    out = net(*inputs)
                    n = _n_samples(target, inputs)
                    total += float(self.loss_fn(out, target).item()) * n
                    count += n
                    for m in fresh:
                        m.update(out, target)
        finally:
            self.model.train(was_training)
        if sync is not None:
            sums, count = sync.reduce_sums({"loss": total}, count, fresh)
            total = sums["loss"]
        if count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batches")
        res = {"loss": total / count}
        for m in fresh:
            v = m.compute()
            res[m.name] = float(v) if isinstance(v, (int, float)) else v
        return res

    def _evaluate_heads(self, loader, fresh) -> dict:
        """``evaluate`` with one loss per head: the weighted total, each head's loss and its metrics."""
        heads = self._heads
        sums: dict = {}
        count = 0
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = heads.split(batch, "evaluate")
                    out = heads.outputs(self.model(*inputs), "evaluate")
                    total, per = heads.loss(out, target, "evaluate")
                    n = _n_samples(None, inputs)
                    count += n
                    for k, v in (("loss", float(total.item())), *per.items()):
                        sums[k] = sums.get(k, 0.0) + v * n
                    heads.update_metrics(fresh, out, target)
        finally:
            self.model.train(was_training)
        if count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batches")
        res = {k: v / count for k, v in sums.items()}
        for m in fresh:
            v = m.compute()
            res[m.name] = float(v) if isinstance(v, (int, float)) else v
        return res

    def _evaluate_steps(self, loader, val_fn, train_fn) -> dict:
        """``evaluate`` for a model with ``validation_step`` (or only ``training_step``): sample-weighted means
        of the numbers it returns."""
        who = f"{type(self.model).__name__}.{'validation_step' if val_fn is not None else 'training_step'}"
        sums: dict = {}
        count = 0
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    if val_fn is not None:
                        res = val_fn(batch)
                        if not isinstance(res, dict):
                            raise TypeError(f"Trainer: {who} must return a dict of numbers (with 'loss'), got "
                                            f"{type(res).__name__}")
                        res = {k: _num(v, who, k) for k, v in res.items()}
                    else:
                        loss, extras = _call_training_step(train_fn, batch, self.model)
                        res = {"loss": float(loss.item()) if isinstance(loss, Tensor) else loss, **extras}
                    n = _batch_len(batch)
                    count += n
                    for k, v in res.items():
                        sums[k] = sums.get(k, 0.0) + v * n
        finally:
            self.model.train(was_training)
        if self.distributed is not None:
            sums, count = self.distributed.reduce_sums(sums, count)
        if count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batches")
        return {k: v / count for k, v in sums.items()}

    def predict(self, data, batch_size: int = 256) -> Tensor:
        """The model's outputs for ``data`` (an array/Tensor of inputs, or a DataLoader whose batches are
        inputs or ``(inputs, targets)``), concatenated along dim 0, in eval mode without gradients (a model
        with several outputs: a dict or tuple of them, each concatenated)."""
        from .. import cat
        loader = _on(_as_loader(data, "predict", batch_size, targets=False), self.device)
        outs = []
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    if isinstance(batch, (tuple, list)):
                        batch = batch[:-1] if len(batch) >= 2 else batch
                        outs.append(self.model(*batch))
                    else:
                        outs.append(self.model(batch))
        finally:
            self.model.train(was_training)
        if not outs:
            raise ValueError("Trainer.predict: the data yielded no batches")
        if isinstance(outs[0], dict):                   # several heads: one Tensor per head
            return {k: cat([o[k] for o in outs], 0) for k in outs[0]}
        if isinstance(outs[0], (tuple, list)):
            return type(outs[0])(cat([o[i] for o in outs], 0) for i in range(len(outs[0])))
        return cat(outs, 0)

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _checkpoint(self, mid_epoch: bool = False) -> dict:
        counts: dict = {}
        cb_states = {}
        for cb in self._all_callbacks():
            name = type(cb).__name__
            i = counts[name] = counts.get(name, -1) + 1
            st = cb.state_dict()
            if st:
                cb_states[f"{name}:{i}"] = st
        ck = {
            "ember_checkpoint": CHECKPOINT_VERSION,
            "model": _unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": self.epoch, "batch": 0, "step": self.global_step,
            "rng": rng_state(self._loader), "epoch_rng": None, "running": None, "grads": None,
            "history": self.history.state_dict(), "callbacks": cb_states, "config": self.config,
            # a callback ended training at this epoch boundary: a resume must not train on
            "loss_weighting": self._weighting_state(),
            "stopped": (self.stop_reason or "stopped") if (self.stop_training and not mid_epoch and not
                                                           self._interrupt_requested and self.diverged is None)
            else None,
        }
        if mid_epoch and self._pos is not None and self._pos["batch"] > 0:
            pos = self._pos
            running = dict(pos["running"])
            running["elapsed"] = running.get("elapsed", 0.0) + time.perf_counter() - pos["t0"]
            running["metrics"] = [dict(vars(m)) for m in self.metrics]
            grads = [p.grad for p in self.model.parameters()]
            ck.update(batch=pos["batch"], epoch_rng=pos["epoch_rng"], running=running,
                      grads=grads if any(g is not None for g in grads) else None)
        return ck

    def _weighting_state(self):
        """The learned loss weighting's state (multi-head training with a weighting module), or None."""
        w = self._heads.weighting if self._heads is not None else None
        return w.state_dict() if w is not None and hasattr(w, "state_dict") else None

    def save_checkpoint(self, path) -> None:
        """Save a resumable training checkpoint (atomically) at the current epoch boundary."""
        save(self._checkpoint(), path)

    def _can_save_mid_epoch(self) -> bool:
        """Inside an epoch, at a point where a checkpoint resumes exactly: between batches, at the end of an
        accumulation window, before the epoch's last batch."""
        pos = self._pos
        if pos is None or not pos.get("consistent") or pos["batch"] == 0 or pos["batch"] % self.accumulate:
            return False
        try:
            return pos["batch"] < len(self._loader)
        except TypeError:
            return True

    def _save_state(self, path, mid_epoch: bool = False) -> None:
        """Save a resumable checkpoint atomically: at an epoch boundary, or (``mid_epoch``) where
        ``_can_save_mid_epoch`` says the position inside the epoch can be continued."""
        save(self._checkpoint(mid_epoch=mid_epoch and self._pos is not None), path)

    def load_checkpoint(self, path) -> dict:
        """Restore model, optimizer, scheduler, counters, History and callback states from ``path`` (RNG
        states are restored by ``fit(resume_from=...)``, which also needs the loader); returns the checkpoint."""
        ck = load_checkpoint(path)
        self._restore(ck, None)
        return ck

    def _restore(self, ck: dict, loader) -> None:
        _unwrap(self.model).load_state_dict(ck["model"])
        weighting = self._heads.weighting if self._heads is not None else None
        if weighting is not None and ck.get("loss_weighting") is not None:
            weighting.load_state_dict(ck["loss_weighting"])
        if self.optimizer is not None and ck.get("optimizer") is not None:
            self.optimizer.load_state_dict(ck["optimizer"])
        if self.scheduler is not None and ck.get("scheduler") is not None:
            self.scheduler.load_state_dict(ck["scheduler"])
        self.epoch, self.global_step = int(ck["epoch"]), int(ck["step"])
        self.history = History()
        self.history.load_state_dict(ck["history"])
        self.config = dict(ck.get("config") or {})
        counts: dict = {}
        states = ck.get("callbacks") or {}
        for cb in self._all_callbacks():
            name = type(cb).__name__
            i = counts[name] = counts.get(name, -1) + 1
            if f"{name}:{i}" in states:
                cb.load_state_dict(states[f"{name}:{i}"])
        if loader is not None:
            if int(ck.get("batch") or 0) > 0:
                self._mid = {"batch": int(ck["batch"]), "epoch_rng": ck["epoch_rng"], "rng": ck["rng"],
                             "running": ck["running"], "grads": ck.get("grads")}
            else:
                set_rng_state(ck["rng"], loader)

    # -- Ctrl-C ------------------------------------------------------------------------------------------------
    def _interrupt_path(self, choice):
        if choice is None:
            return None
        if choice != "auto":
            return os.fspath(choice)
        for cb in self._all_callbacks():
            if isinstance(cb, BackupAndRestore):
                return cb.path
        for cb in self._all_callbacks():
            if isinstance(cb, ModelCheckpoint):
                return os.path.join(cb.dirpath, "interrupted.safetensors")
        return os.path.abspath("ember-interrupted.safetensors")

    def _install_sigint(self):
        """Handle SIGINT and SIGTERM alike (finish the batch, save, return); returns the old handlers."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._interrupt_pending:         # a second Ctrl-C / SIGTERM: stop now
                raise KeyboardInterrupt
            self._interrupt_pending = True
            # one process stops after this batch; ranks stop when they agree after a batch (TrainSync: the
            # flag the batch loop reads is set there, on every rank at the same batch, or a rank signalled
            # just after an agreement would stop alone and leave the others waiting in a collective)
            if self.distributed is None:
                self._interrupt_requested = True
            self.interrupt_signal = signum
            name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
            if self.report_interrupts:
                print(f"\nInterrupted ({name}): finishing the current batch and saving a checkpoint (Ctrl-C "
                      f"again to abort without saving)", file=sys.stderr, flush=True)
        old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):
                pass
        return old or None

    @staticmethod
    def _restore_sigint(old) -> None:
        for sig, h in (old or {}).items():
            try:
                signal.signal(sig, h if h is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError):
                pass

    def _save_interrupt(self, mid_epoch: bool, raise_: bool = True) -> None:
        self.interrupted = True
        self.stop_training = True
        path = self.interrupt_checkpoint
        if self.distributed is not None and mid_epoch:
            self.stop_reason = (f"interrupted at epoch {self.epoch + 1}; the checkpoints of the last finished "
                                f"epoch stay (a distributed run saves no mid-epoch state)")
        elif path is not None:
            folder = os.path.dirname(os.path.abspath(path))
            os.makedirs(folder, exist_ok=True)
            save(self._checkpoint(mid_epoch=mid_epoch), path)
            self.stop_reason = (f"interrupted at epoch {self.epoch + 1}; saved a resumable checkpoint to {path} "
                                f"(continue with fit(..., resume_from={path!r}))")
        else:
            self.stop_reason = f"interrupted at epoch {self.epoch + 1} (no checkpoint saved)"
        if self.report_interrupts:
            print(self.stop_reason, file=sys.stderr, flush=True)
        if raise_:
            raise _Interrupted
