"""Crash safety of Trainer.fit: BackupAndRestore (Keras' callback), fit(..., callbacks=[...]), SIGTERM handled
like Ctrl-C, divergence (NaN/inf loss or weights) that never leaves non-finite checkpoints, plain progress lines."""
import io
import os
import signal

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.data import DataLoader, TensorDataset
from ember.train import (BackupAndRestore, Callback, ModelCheckpoint, ProgressBar, TerminateOnNaN, Trainer,
                         load_checkpoint)


class Crash(Exception):
    pass


class CrashAt(Callback):
    """Raises (as a crash would end the process) after batch ``batch`` of epoch ``epoch`` (0-based)."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if (self._epoch, batch) == self.at:
            raise Crash


def _setup(lr=0.05, seed=0, callbacks=(), scheduler=True):
    """A fresh run: same seed, same data order, dropout (so RNG state matters), a scheduler and momentum."""
    ember.manual_seed(seed)
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.normal(size=(60, 4)).astype(np.float32))
    y = ember.from_numpy((rng.random(60) > 0.5).astype(np.int64))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, 2, 0.5) if scheduler else None
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(1))
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], scheduler=sched,
                   callbacks=list(callbacks)), loader, (x, y)


def _weights(t):
    return {k: v.numpy().copy() for k, v in t.model.state_dict().items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("save_freq,crash", [("epoch", (2, 3)), ("epoch", (0, 2)), (3, (2, 4)), (3, (1, 0))])
def test_backup_and_restore_after_a_crash_matches_an_uninterrupted_run(tmp_path, save_freq, crash):
    t, loader, val = _setup()
    ref_hist = t.fit(loader, val_data=val, epochs=4, verbose=0)
    ref = _weights(t)

    t, loader, val = _setup()
    with pytest.raises(Crash):
        t.fit(loader, val_data=val, epochs=4, verbose=0,
              callbacks=[BackupAndRestore(tmp_path / "bk", save_freq=save_freq), CrashAt(*crash)])
    if crash[0] > 0 or save_freq != "epoch":
        assert (tmp_path / "bk" / "latest.safetensors").is_file()       # the crash left the backup
    t, loader, val = _setup()                       # a new process: fresh objects, same call
    h = t.fit(loader, val_data=val, epochs=4, verbose=0, callbacks=[BackupAndRestore(tmp_path / "bk",
                                                                                      save_freq=save_freq)])
    _same(_weights(t), ref)
    assert len(h) == 4 and h["val_loss"] == ref_hist["val_loss"]
    assert not (tmp_path / "bk" / "latest.safetensors").exists()        # delete_checkpoint=True after success


def test_backup_keeps_the_file_when_asked_and_double_checkpoint_falls_back(tmp_path):
    t, loader, val = _setup()
    t.fit(loader, epochs=3, verbose=0,
          callbacks=[BackupAndRestore(tmp_path, delete_checkpoint=False, double_checkpoint=True)])
    assert load_checkpoint(tmp_path / "latest.safetensors")["epoch"] == 3
    assert load_checkpoint(tmp_path / "latest.bkp.safetensors")["epoch"] == 2
    (tmp_path / "latest.safetensors").write_bytes(b"garbage")        # torn by a disk fault
    cb = BackupAndRestore(tmp_path, double_checkpoint=True)
    with pytest.warns(RuntimeWarning, match="cannot read the backup"):
        assert cb.restore_path() == str(tmp_path / "latest.bkp.safetensors")


def test_backup_arguments_are_checked():
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("x", save_freq=0)
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")


def test_fit_takes_callbacks_and_validation_data_as_keras_does():
    seen = []

    class Rec(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(sorted(logs))

    t, loader, val = _setup()
    t.fit(loader, epochs=2, verbose=0, callbacks=[Rec()], validation_data=val)
    assert len(seen) == 2 and "val_loss" in seen[0]
    t.fit(loader, epochs=1, verbose=0)                  # callbacks were for that fit only
    assert len(seen) == 2
    with pytest.raises(TypeError, match="callbacks must be"):
        t.fit(loader, epochs=1, verbose=0, callbacks=Rec())
    with pytest.raises(TypeError, match="callbacks must be"):
        t.fit(loader, epochs=1, verbose=0, callbacks=["early"])
    with pytest.raises(TypeError, match="both val_data and validation_data"):
        t.fit(loader, val, epochs=1, verbose=0, validation_data=val)


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    class Term(Callback):
        def __init__(self):
            self.n = 0

        def on_batch_end(self, batch, logs=None):
            self.n += 1
            if self.n == 11:                                # epoch 2, batch 3 of 8
                os.kill(os.getpid(), signal.SIGTERM)

    t, loader, val = _setup()
    t.fit(loader, val_data=val, epochs=4, verbose=0)
    ref = _weights(t)
    before = signal.getsignal(signal.SIGTERM)
    t, loader, val = _setup()
    path = tmp_path / "int.safetensors"
    t.fit(loader, val_data=val, epochs=4, verbose=0, callbacks=[Term()], interrupt_checkpoint=path)
    assert t.interrupted and t.interrupt_signal == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before          # the handler is put back
    ck = load_checkpoint(path)
    assert ck["epoch"] == 1 and ck["batch"] == 3
    t, loader, val = _setup()
    t.fit(loader, val_data=val, epochs=4, verbose=0, resume_from=path)
    _same(_weights(t), ref)


def test_divergence_stops_and_never_saves_nonfinite_weights(tmp_path, capsys):
    t, loader, val = _setup(lr=1e9, scheduler=False)
    nan = TerminateOnNaN()
    mc = ModelCheckpoint(tmp_path, monitor="loss")
    h = t.fit(loader, epochs=6, verbose=0, callbacks=[nan, mc])
    d = t.diverged
    assert d is not None and t.stop_training and d["epoch"] >= 1 and d["batch"] >= 1
    assert capsys.readouterr().err.count("TerminateOnNaN") == 1         # said once
    assert len(h) == d["epoch"]
    for name in ("last.safetensors", "best.safetensors"):
        p = tmp_path / name
        if p.exists():                      # only the finished finite epochs before the divergence
            ck = load_checkpoint(p)
            assert ck["epoch"] < d["epoch"]
            assert all(np.isfinite(v.numpy()).all() for v in ck["model"].values())


def test_weights_that_turn_nonfinite_stop_even_with_a_finite_loss():
    class Poison(Callback):        # an update that leaves one weight infinite, the loss still finite so far
        def on_batch_begin(self, batch, logs=None):
            if batch == 2:
                self.model[0].bias._data[0] = np.inf

    t, loader, _ = _setup(scheduler=False, callbacks=[Poison()])
    nan = TerminateOnNaN(verbose=0)
    t.fit(loader, epochs=2, verbose=0, callbacks=[nan])
    assert t.diverged["epoch"] == 1 and t.diverged["batch"] <= 3
    assert "NaN or infinity" in t.diverged["what"] or "loss is" in t.diverged["what"]


def test_model_checkpoint_refuses_nonfinite_weights(tmp_path):
    class Poison(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model[0].weight._data[:] = np.nan

    t, loader, _ = _setup(scheduler=False)
    mc = ModelCheckpoint(tmp_path, monitor="loss")
    t.callbacks = [Poison(), mc]
    with pytest.warns(RuntimeWarning, match="holds NaN or infinity after epoch 2"):
        t.fit(loader, epochs=2, verbose=0)
    assert load_checkpoint(tmp_path / "last.safetensors")["epoch"] == 1


def test_plain_lines_during_long_epochs_with_an_eta():
    buf = io.StringIO()
    t, loader, _ = _setup(callbacks=[ProgressBar(verbose=2, file=buf, log_every=None, log_every_steps=3)])
    t.fit(loader, epochs=2, verbose=2)
    lines = buf.getvalue().splitlines()
    steps = len(loader)                         # 8 batches: lines after batches 3 and 6, then the epoch line
    assert steps == 8
    assert [ln.split(" - ")[1] for ln in lines[:2]] == ["batch 3/8", "batch 6/8"]
    assert all("ETA " in ln and "loss: " in ln for ln in lines[:2])
    assert lines[2].startswith("Epoch 1/2 - ") and "ETA " in lines[2] and len(lines) == 6
    with pytest.raises(ValueError, match="log_every"):
        ProgressBar(log_every=0)


def test_a_run_that_stopped_early_stays_stopped_when_resumed(tmp_path):
    """Killed after EarlyStopping ended the run (its last checkpoint written), a resume trains no more: the same
    weights and history as the run that was not killed."""
    from ember.train import EarlyStopping
    t, loader, val = _setup(lr=0.0, scheduler=False,
                            callbacks=[EarlyStopping(monitor="loss", patience=1), ModelCheckpoint(tmp_path)])
    h = t.fit(loader, val_data=val, epochs=6, verbose=0)
    n = len(h)
    assert n < 6 and t.stop_reason.startswith("EarlyStopping")
    ref = _weights(t)
    t, loader, val = _setup(lr=0.0, scheduler=False, callbacks=[EarlyStopping(monitor="loss", patience=1)])
    h = t.fit(loader, val_data=val, epochs=6, verbose=0, resume_from=tmp_path / "last.safetensors")
    assert len(h) == n and t.stop_reason.startswith("EarlyStopping")
    _same(_weights(t), ref)


def test_a_nonfinite_buffer_stops_at_the_epoch_end_before_checkpoints(tmp_path):
    ember.manual_seed(0)
    x, y = ember.randn(32, 4), ember.randint(0, 2, (32,))
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))

    class Poison(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 1:
                model[1].running_var._data[0] = np.nan        # no optimizer step touches a buffer

    t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.1),
                callbacks=[TerminateOnNaN(verbose=0), ModelCheckpoint(tmp_path, monitor="loss"), Poison()])
    t.fit(DataLoader(TensorDataset(x, y), batch_size=8), epochs=3, verbose=0)
    assert t.diverged is not None and "running_var" in t.diverged["what"]
    assert t.diverged["epoch"] == 1 and t.diverged["batch"] == 4
    assert not (tmp_path / "last.safetensors").exists()           # nothing non-finite was written


def test_progress_auto_mode_picks_bar_or_lines(monkeypatch):
    import sys
    import types

    class Tty(io.StringIO):
        def isatty(self):
            return True
    assert ProgressBar("auto", file=Tty())._mode() == 1              # a terminal: the bar
    assert ProgressBar("auto", file=io.StringIO())._mode() == 2      # a pipe or a file: plain lines
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert ProgressBar("auto")._mode() == 1                          # a notebook: tqdm's widget


def test_a_buffer_that_holds_infinity_on_purpose_is_not_divergence(tmp_path):
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)
            self.register_buffer("mask", ember.tensor([0.0, -float("inf")]))     # e.g. an attention mask

        def forward(self, x):
            return self.lin(x) + self.mask.clamp(min=0)

    ember.manual_seed(0)
    x, y = ember.randn(32, 4), ember.randint(0, 2, (32,))
    model = Masked()
    nan = TerminateOnNaN(verbose=0)
    t = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), 0.1),
                callbacks=[nan, ModelCheckpoint(tmp_path, monitor="loss"), BackupAndRestore(tmp_path / "bk",
                                                                                         delete_checkpoint=False)])
    t.fit(DataLoader(TensorDataset(x, y), batch_size=8), epochs=2, verbose=0)
    assert t.diverged is None and nan.message is None
    assert load_checkpoint(tmp_path / "last.safetensors")["epoch"] == 2
    assert load_checkpoint(tmp_path / "bk" / "latest.safetensors")["epoch"] == 2
