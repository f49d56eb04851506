"""Tests for ember.train callbacks and History."""
import io
import json
import math
import sys
import types
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.data import DataLoader, TensorDataset
from ember.train import (CSVLogger, Callback, EarlyStopping, History, LambdaCallback, LRSchedulerCallback,
                         ModelCheckpoint, ProgressBar, TerminateOnNaN, Trainer, load_checkpoint)


def _setup(n=48, bs=16, lr=0.1, **kw):
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.normal(size=(n, 3)).astype(np.float32))
    y = ember.from_numpy((rng.random(n) > 0.5).astype(np.int64))
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr)
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], **kw), \
        DataLoader(TensorDataset(x, y), batch_size=bs), (x, y)


def test_hook_order():
    calls = []

    class Rec(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):
            calls.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            assert {"loss", "accuracy", "batch_loss"} <= set(logs)
            calls.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs=None):
            assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"} <= set(logs)
            calls.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    rec = Rec()
    t, loader, val = _setup(n=32, callbacks=[rec])
    t.fit(loader, val_data=val, epochs=2, verbose=0)
    assert calls == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
                     "epoch_end 0", "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
                     "epoch_end 1", "train_end"]
    assert rec.model is t.model and rec.params["epochs"] == 2 and rec.params["steps"] == 2


def _fake_trainer(model):
    return types.SimpleNamespace(model=model, stop_training=False, stop_reason=None, _resuming=False)


def test_early_stopping_patience_and_restore():
    model = nn.Linear(2, 1)
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    es.set_trainer(_fake_trainer(model))
    es.on_train_begin()
    losses = [1.0, 0.5, 0.6, 0.7, 0.4]
    for epoch, v in enumerate(losses):
        with ember.no_grad():
            model.weight.fill_(float(epoch))
        es.on_epoch_end(epoch, {"val_loss": v})
        if es.trainer.stop_training:
            break
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 0.5
    assert float(model.weight[0, 0]) == 1.0           # the best epoch's weights are back
    assert "did not improve for 2 epochs" in es.trainer.stop_reason


def test_early_stopping_mode_and_min_delta():
    es = EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.05)
    assert es.mode == "max"
    es.set_trainer(_fake_trainer(nn.Linear(1, 1)))
    es.on_train_begin()
    for epoch, v in enumerate([0.5, 0.52, 0.53]):     # improvements below min_delta do not count
        es.on_epoch_end(epoch, {"val_accuracy": v})
        if es.trainer.stop_training:
            break
    assert es.trainer.stop_training and es.stopped_epoch == 1
    assert EarlyStopping(monitor="loss").mode == "min" and EarlyStopping(monitor="val_hamming_loss").mode == "min"
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="best")
    es = EarlyStopping(monitor="val_loss")
    es.set_trainer(_fake_trainer(nn.Linear(1, 1)))
    with pytest.warns(RuntimeWarning, match="'val_loss', which is not available; available: loss"):
        es.on_epoch_end(0, {"loss": 1.0})


def test_early_stopping_in_fit():
    t, loader, val = _setup(lr=0.0, callbacks=[EarlyStopping(monitor="val_loss", patience=1)])
    h = t.fit(loader, val_data=val, epochs=10, verbose=0)       # lr 0: nothing improves
    assert len(h) == 2 and t.stop_reason.startswith("EarlyStopping")


def test_model_checkpoint(tmp_path):
    mc = ModelCheckpoint(tmp_path / "ck", monitor="val_accuracy")
    t, loader, val = _setup(callbacks=[mc])
    t.fit(loader, val_data=val, epochs=3, verbose=0)
    best = load_checkpoint(tmp_path / "ck" / "best.safetensors")
    last = load_checkpoint(tmp_path / "ck" / "last.safetensors")
    assert last["epoch"] == 3 and len(last["history"]["epoch"]) == 3
    accs = t.history["val_accuracy"]
    assert best["epoch"] == 1 + int(np.argmax(accs)) and mc.best == max(accs)
    assert last["callbacks"]["ModelCheckpoint:0"]["best"] == max(accs)
    with pytest.raises(ValueError, match="nothing to save"):
        ModelCheckpoint(tmp_path, save_best=False, save_last=False)


def test_reduce_lr_on_plateau_via_scheduler_and_callback():
    t, loader, val = _setup(lr=0.0)     # nothing changes, so val_loss plateaus at once
    sched = optim.lr_scheduler.ReduceLROnPlateau(t.optimizer, factor=0.5, patience=0)
    t.scheduler = sched
    h = t.fit(loader, val_data=val, epochs=3, verbose=0)
    assert t.optimizer.param_groups[0]["lr"] == 0.0
    t2, loader2, val2 = _setup(lr=1.0)
    cb = LRSchedulerCallback(optim.lr_scheduler.ReduceLROnPlateau(t2.optimizer, factor=0.5, patience=0),
                             monitor="val_accuracy")
    cb.scheduler.mode = "max"
    t2.callbacks.append(cb)
    t2.optimizer.param_groups[0]["lr"] = 1.0
    h = t2.fit(loader2, val_data=val2, epochs=4, verbose=0)
    assert h["lr"][0] == 1.0 and min(h["lr"]) < 1.0
    t3, loader3, val3 = _setup(callbacks=[LRSchedulerCallback(optim.lr_scheduler.StepLR(optim.SGD(
        [nn.Parameter(ember.zeros(1))], 1.0), 1), monitor="x")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # its optimizer never steps: PyTorch's order warning
        t3.fit(loader3, epochs=1, verbose=0)    # a plain scheduler ignores the monitor


def test_step_lr_logged_per_epoch():
    t, loader, val = _setup(lr=1.0)
    t.scheduler = optim.lr_scheduler.StepLR(t.optimizer, step_size=1, gamma=0.1)
    h = t.fit(loader, epochs=3, verbose=0)
    np.testing.assert_allclose(h["lr"], [1.0, 0.1, 0.01])


def test_csv_logger_and_resume_append(tmp_path):
    path = tmp_path / "log.csv"
    t, loader, val = _setup(callbacks=[CSVLogger(path), ModelCheckpoint(tmp_path, monitor="val_loss")])
    t.fit(loader, val_data=val, epochs=2, verbose=0)
    rows = path.read_text().splitlines()
    assert rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr,time" and len(rows) == 3
    assert float(rows[1].split(",")[1]) == pytest.approx(t.history["loss"][0])
    t2, loader2, val2 = _setup(callbacks=[CSVLogger(path), ModelCheckpoint(tmp_path, monitor="val_loss")])
    t2.fit(loader2, val_data=val2, epochs=3, resume_from=tmp_path / "last.safetensors", verbose=0)
    rows = path.read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2"]


def test_terminate_on_nan_names_epoch_and_batch(capsys):
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = nn.CrossEntropyLoss()(out, y)
        return loss * float("nan") if calls["n"] == 6 else loss     # epoch 2 (1-based), batch 3

    cb = TerminateOnNaN()
    t, loader, val = _setup(callbacks=[cb])
    t.loss_fn = loss_fn
    h = t.fit(loader, epochs=5, verbose=0)
    assert t.stop_training and len(h) == 2 and math.isnan(h["loss"][1])
    assert "epoch 2, batch 3" in cb.message and "epoch 2, batch 3" in capsys.readouterr().err


def test_progress_bar_modes():
    t, loader, val = _setup(callbacks=[ProgressBar(verbose=1, file=io.StringIO(), mininterval=0)])
    buf = t.callbacks[0].file
    t.fit(loader, val_data=val, epochs=2, verbose=1)
    text = buf.getvalue()
    assert "Epoch 1/2" in text and "loss=" in text        # the live bar's postfix
    summary = [ln for ln in text.replace("\r", "\n").splitlines() if " - loss: " in ln]
    assert len(summary) == 2 and "val_accuracy: " in summary[0]
    plain = io.StringIO()           # StringIO is not a terminal: 'auto' prints plain epoch lines, no bar
    t2, loader2, _ = _setup(callbacks=[ProgressBar(verbose="auto", file=plain)])
    t2.fit(loader2, epochs=2)
    lines = plain.getvalue().splitlines()
    assert len(lines) == 2 and all(ln.startswith(f"Epoch {i}/2 - ") for i, ln in enumerate(lines, 1))
    assert "\r" not in plain.getvalue() and "ETA " in lines[0] and "ETA" not in lines[1]   # ETA: the rest
    with pytest.raises(ValueError, match="verbose must be"):
        ProgressBar(verbose=3)


def test_lambda_callback():
    seen = []
    t, loader, _ = _setup(callbacks=[LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))])
    t.fit(loader, epochs=2, verbose=0)
    assert seen == [0, 1]
    with pytest.raises(TypeError, match="unknown hooks"):
        LambdaCallback(on_epoch_ended=print)


def test_history_files_and_plot(tmp_path, monkeypatch):
    h = History()
    h.record(0, {"loss": 1.0, "val_loss": 1.2, "lr": 0.1})
    h.record(1, {"loss": 0.5, "accuracy": 0.8})
    assert h["val_loss"][1] != h["val_loss"][1] and math.isnan(h["accuracy"][0])      # NaN padding
    h.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,loss,val_loss,lr,accuracy"
    h.to_json(tmp_path / "h.json")
    json.loads((tmp_path / "h.json").read_text())     # strict JSON (NaN written as null)
    back = History.from_json(tmp_path / "h.json")
    assert back.epoch == [0, 1] and back["loss"] == [1.0, 0.5] and math.isnan(back["val_loss"][1])
    assert h.best("loss") == (1, 0.5)
    h.plot(tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'ember\[plot\]'"):
        h.plot(tmp_path / "d.png")
    with pytest.raises(ValueError, match="malformed"):
        History().load_state_dict({"epoch": [0]})


def test_metric_mode_one_rule_for_plots_and_callbacks():
    from ember.train.history import metric_mode
    assert metric_mode("val_accuracy") == "max" and metric_mode("knn_accuracy") == "max"
    assert metric_mode("val_loss") == "min" and metric_mode("recon") == "min" and metric_mode("kl") == "min"
    assert metric_mode("hamming_loss") == "min" and metric_mode("val_f1") == "max"
