"""Crash-safe ``ember train``: the run folder and its config come first, every epoch writes last/best checkpoints,
SIGKILL at random moments then ``--resume RUN_DIR`` ends with the weights of an uninterrupted run (bit for bit),
SIGTERM is handled like Ctrl-C, a diverged run exits 3 without NaN results, disk faults (injected OSError)
keep what was done, and the output without a terminal has plain epoch lines."""
import errno
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ember import cli
from ember.cli import run as run_mod
from ember.train import Trainer, load_checkpoint

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

CFG = """
seed = 3
epochs = {epochs}
batch_size = 16
output = "{out}"
metrics = ["accuracy"]
label_smoothing = 0.1

[model]
name = "mlp"
hidden = [32, 32]
dropout = 0.2

[data]
name = "synthetic"
kind = "spirals"
n_samples = 600
noise = 0.05

[optimizer]
name = "sgd"
lr = {lr}
momentum = 0.9

[scheduler]
name = "cosine"
"""


def _config(tmp_path, epochs=6, lr=0.05, name="c.toml"):
    path = tmp_path / name
    path.write_text(CFG.format(epochs=epochs, out=(tmp_path / "runs").as_posix(), lr=lr))
    return path


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _cmd(*args):
    return [sys.executable, "-m", "ember.cli", "train", *map(str, args)]


def _weights(path):
    return {k: v.numpy() for k, v in load_checkpoint(path)["model"].items()}


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k


def _only_run(tmp_path):
    runs = list((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else []
    assert len(runs) <= 1, runs
    return runs[0] if runs else None


def test_config_toml_round_trips_for_every_shipped_config():
    import tomllib
    checked = 0
    for path in sorted((ROOT / "configs").glob("*.toml")):
        try:
            cfg = cli.load_config(str(path))
        except cli.CLIError as e:                       # a dataset missing offline: nothing to write
            assert "not found" in str(e) or "does not exist" in str(e), e
            continue
        again = cli.validate_config(tomllib.loads(run_mod.to_toml(cfg)), "round trip", str(path.parent))
        assert again == {k: v for k, v in cfg.items() if v is not None} | {k: None for k, v in cfg.items()
                                                                            if v is None}, path.name
        checked += 1
    assert checked >= 10


def test_run_folder_holds_config_and_checkpoints_from_the_start(tmp_path, capsys):
    cfg = _config(tmp_path, epochs=2)
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == 0, err
    run = _only_run(tmp_path)
    assert {"config.toml", "last.safetensors", "best.safetensors", "checkpoint.safetensors"} <= \
        {p.name for p in run.iterdir()}
    assert load_checkpoint(run / "last.safetensors")["epoch"] == 2
    # not a terminal: one plain line per epoch, the first with an ETA, then the results
    lines = out.splitlines()
    epochs = [ln for ln in lines if ln.startswith("Epoch ")]
    assert [ln.split(" - ")[0] for ln in epochs] == ["Epoch 1/2", "Epoch 2/2"] and "ETA" in epochs[0]
    assert any(ln.startswith("test loss: ") for ln in lines)
    # the printed test loss (label smoothing on) is the plain cross-entropy that `ember evaluate` reports
    test_loss = next(ln for ln in lines if ln.startswith("test loss: ")).split()[2]
    assert "final training loss (label-smoothed)" in out
    code, out2, err = _run(["evaluate", str(run / "checkpoint.safetensors")], capsys)
    assert code == 0, err
    assert out2.splitlines()[0] == f"loss: {test_loss}"


def _last_epoch(run):
    try:
        return load_checkpoint(run / "last.safetensors")["epoch"]
    except Exception:  # noqa: BLE001 - no run folder or no checkpoint yet
        return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_matches_an_uninterrupted_run(tmp_path):
    """Kill -9 at random moments tied to the run's progress (whatever the machine's speed): during start-up, then
    in three random epochs, a random 0-5 ms after the epoch's line is printed, which is while its checkpoints are
    being written or during the next epoch's first batches.  Each time `ember train --resume RUN_DIR` continues,
    and the run ends with the uninterrupted run's weights, bit for bit."""
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    r = subprocess.run(_cmd(_config(ref_dir), "-q"), capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    reference = _only_run(ref_dir) / "checkpoint.safetensors"

    cfg = _config(tmp_path)
    rng = random.Random(1234)
    plan = ["startup"] + sorted(rng.sample(range(1, 6), 3))
    log = []
    for when in plan + ["finish"]:
        run = _only_run(tmp_path)
        done = _last_epoch(run) if run is not None else 0
        if run is None:
            argv = _cmd(cfg)
        elif (run / "config.toml").exists():
            argv = _cmd("--resume", run)                    # the run folder alone
        else:                                               # killed between creating the folder and its config
            argv = _cmd(cfg, "--resume", run)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        try:
            if when == "startup":
                time.sleep(rng.uniform(0.0, 0.5))
                p.kill()
            elif when != "finish":
                epoch = max(when, done + 1)
                for line in p.stdout:
                    if line.startswith(f"Epoch {epoch}/"):
                        # within a few ms: an idle machine runs this whole toy config in a fraction of a second
                        time.sleep(rng.uniform(0.0, 0.005))
                        p.kill()
                        break
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
        run = _only_run(tmp_path)
        log.append((when, p.returncode, _last_epoch(run) if run is not None else None))
        assert p.returncode in (0, -signal.SIGKILL), (log, err)
    assert log[-1][1] == 0, log
    assert sum(code == -signal.SIGKILL for _, code, _ in log) >= 3, log
    assert any(code == -signal.SIGKILL and (epoch or 0) >= 1 for _, code, epoch in log), log  # resumed mid-run
    run = _only_run(tmp_path)
    _same_weights(run / "checkpoint.safetensors", reference)
    ck = load_checkpoint(run / "checkpoint.safetensors")
    assert ck["epoch"] == 6 and len(ck["history"]["epoch"]) == 6


@pytest.mark.slow
def test_sigterm_saves_exits_143_and_resume_matches(tmp_path):
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    r = subprocess.run(_cmd(_config(ref_dir, epochs=4), "-q"), capture_output=True, text=True, env=ENV,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    reference = _only_run(ref_dir) / "checkpoint.safetensors"
    cfg = _config(tmp_path, epochs=4)
    p = subprocess.Popen(_cmd(cfg), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        for line in p.stdout:                   # plain epoch lines on a pipe (no -v needed)
            if line.startswith("Epoch 1/4"):
                break
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 143, err
    assert err.count("\n") == 1 and err.startswith("ember: terminated (SIGTERM)") and "--resume" in err, err
    run = _only_run(tmp_path)
    ck = load_checkpoint(run / "last.safetensors")
    assert 1 <= ck["epoch"] < 4 and not (run / "checkpoint.safetensors").exists()
    r = subprocess.run(_cmd("--resume", run, "-q"), capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    _same_weights(run / "checkpoint.safetensors", reference)


def test_divergence_exits_3_with_one_line_and_no_nan_result(tmp_path, capsys):
    cfg = _config(tmp_path, epochs=4, lr=1e20)
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == run_mod.EXIT_DIVERGED == 3
    assert err.count("\n") == 1 and err.startswith("ember: error: training diverged at epoch "), err
    assert "lower learning rate" in err and "grad_clip" in err and "batch " in err
    assert "test accuracy" not in out and "saved to" not in out
    run = _only_run(tmp_path)
    assert not (run / "checkpoint.safetensors").exists()
    for name in ("last.safetensors", "best.safetensors"):
        if (run / name).exists():
            assert all(np.isfinite(w).all() for w in _weights(run / name).values())


def test_enospc_at_the_end_prints_results_and_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    real = Trainer.save_checkpoint

    def full(self, path):
        if os.path.basename(path) == "checkpoint.safetensors":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path)
    monkeypatch.setattr(Trainer, "save_checkpoint", full)
    code, out, err = _run(["train", str(_config(tmp_path, epochs=2))], capsys)
    assert code == run_mod.EXIT_IO
    assert "test accuracy" in out and "confusion matrix" in out          # the results came first
    assert err.count("\n") == 1 and "No space left on device" in err and "checkpoint.safetensors" in err, err
    assert "last.safetensors" in err and "(epoch 2)" in err
    assert load_checkpoint(_only_run(tmp_path) / "last.safetensors")["epoch"] == 2


def test_enospc_during_training_keeps_the_previous_epoch_and_resumes(tmp_path, capsys, monkeypatch):
    real = Trainer.save_checkpoint
    calls = {"n": 0}

    def full(self, path):
        calls["n"] += 1
        if calls["n"] == 3:                     # epoch 2's first save (best, then last, per epoch)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path)
    monkeypatch.setattr(Trainer, "save_checkpoint", full)
    cfg = _config(tmp_path, epochs=3)
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == run_mod.EXIT_IO
    assert err.count("\n") == 1 and "No space left on device" in err and "--resume" in err, err
    run = _only_run(tmp_path)
    assert load_checkpoint(run / "last.safetensors")["epoch"] == 1
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]         # no torn temporary left
    monkeypatch.setattr(Trainer, "save_checkpoint", real)           # space freed
    code, out, err = _run(["train", "--resume", str(run)], capsys)
    assert code == 0, err
    assert load_checkpoint(run / "checkpoint.safetensors")["epoch"] == 3


def test_enospc_on_a_history_file_keeps_the_checkpoint(tmp_path, capsys, monkeypatch):
    from ember.train import History

    def full(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(History, "to_json", full)
    code, out, err = _run(["train", str(_config(tmp_path, epochs=1))], capsys)
    assert code == run_mod.EXIT_IO and "test accuracy" in out
    assert err.count("\n") == 1 and "history.json" in err, err
    assert (_only_run(tmp_path) / "checkpoint.safetensors").exists()


def test_unwritable_output_and_full_disk_are_refused_before_training(tmp_path, capsys, monkeypatch):
    cfg = _config(tmp_path, epochs=1)
    (tmp_path / "runs").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if str(p).endswith("runs") else real_access(p, m))
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == 2 and err.count("\n") == 1 and "not writable" in err and "Epoch" not in out, err
    monkeypatch.setattr(os, "access", real_access)

    import shutil
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == 2 and err.count("\n") == 1 and "MB free" in err and "Epoch" not in out, err
    monkeypatch.undo()

    from ember.io import serialization

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(serialization, "atomic_open", no_space)
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == 2 and err.count("\n") == 1 and "config.toml" in err and "No space" in err, err
    assert list((tmp_path / "runs").iterdir()) == []                 # the empty run folder was removed


def test_resume_errors_are_one_line(tmp_path, capsys):
    cfg = _config(tmp_path, epochs=1)
    for argv, match in ((["train"], "missing CONFIG"),
                        (["train", "--resume", str(tmp_path / "nope")], "not found"),
                        (["train", "--resume", str(tmp_path)], "not a run folder")):
        code, out, err = _run(argv, capsys)
        assert code == 2 and err.count("\n") == 1 and match in err, (argv, err)
    (tmp_path / "other").mkdir()
    code, out, err = _run(["train", "--resume", str(tmp_path / "other")], capsys)      # empty: no config.toml
    assert code == 2 and "config.toml" in err and err.count("\n") == 1, err
    code, out, err = _run(["train", str(cfg), "--resume", str(tmp_path / "other")], capsys)  # with CONFIG: starts
    assert code == 0, err
    assert (tmp_path / "other" / "checkpoint.safetensors").exists()


def test_nonfinite_weights_the_step_checks_missed_are_never_the_result(tmp_path, capsys, monkeypatch):
    real_fit = Trainer.fit

    def fit_then_poison(self, *a, **k):
        h = real_fit(self, *a, **k)
        next(iter(self.model.parameters()))._data[...] = np.nan      # e.g. a buffer or a hand-made update
        return h
    monkeypatch.setattr(Trainer, "fit", fit_then_poison)
    code, out, err = _run(["train", str(_config(tmp_path, epochs=1))], capsys)
    assert code == 3 and err.count("\n") == 1 and "NaN or infinity" in err, err
    assert not (_only_run(tmp_path) / "checkpoint.safetensors").exists() and "test accuracy" not in out


def test_sigterm_outside_the_training_loop_is_one_line_and_143(tmp_path, capsys, monkeypatch):
    before = signal.getsignal(signal.SIGTERM)
    real_build = run_mod.build_data

    def build_then_term(cfg, split):                   # SIGTERM while the data is being built
        os.kill(os.getpid(), signal.SIGTERM)
        return real_build(cfg, split)
    monkeypatch.setattr(run_mod, "build_data", build_then_term)
    code, out, err = _run(["train", str(_config(tmp_path, epochs=1))], capsys)
    assert code == 143 and err == "ember: terminated (SIGTERM): nothing had finished; start it again\n", err
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGTERM) == before

    real_eval = Trainer.evaluate

    def term_at_test_time(self, data, *a, **k):       # SIGTERM after training, while evaluating on the test split
        if k.get("batch_size") is None and self.metrics and type(self.metrics[-1]).__name__ == "ConfusionMatrix":
            os.kill(os.getpid(), signal.SIGTERM)
        return real_eval(self, data, *a, **k)
    monkeypatch.setattr(Trainer, "evaluate", term_at_test_time)
    code, out, err = _run(["train", str(_config(tmp_path, epochs=2))], capsys)
    assert code == 143 and err.count("\n") == 1 and "(epoch 2)" in err and "--resume" in err, err
    monkeypatch.undo()
    run = _only_run(tmp_path)
    assert not (run / "checkpoint.safetensors").exists()
    code, out, err = _run(["train", "--resume", str(run)], capsys)      # finishes: evaluates and writes
    assert code == 0 and "test accuracy" in out and "Epoch" not in out, err
    assert (run / "checkpoint.safetensors").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB tmpfs (needs root and mount rights; skipped with the reason otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs mount (root); the injected-OSError tests cover the same paths")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the injected-OSError tests cover the same paths")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_a_real_full_disk_mid_run_keeps_the_last_epoch_and_resumes(tmp_path, tiny_disk, capsys, monkeypatch):
    from ember.train import ModelCheckpoint
    cfg = tmp_path / "c.toml"
    cfg.write_text(CFG.format(epochs=3, out=(tiny_disk / "runs").as_posix(), lr=0.05))
    real = ModelCheckpoint.on_epoch_end
    filler = tiny_disk / "filler"

    def fill_after_epoch_1(self, epoch, logs=None):
        if epoch == 1 and not filler.exists():         # the disk fills up during epoch 2
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                except OSError:
                    pass
        return real(self, epoch, logs)
    with open(filler, "wb") as f:                       # foreseeable: too little room for the checkpoints
        f.write(b"\0" * (1024 * 1024 - 128 * 1024))
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == 2 and err.count("\n") == 1 and "MB free" in err and "Epoch" not in out, err
    filler.unlink()
    monkeypatch.setattr(ModelCheckpoint, "on_epoch_end", fill_after_epoch_1)
    code, out, err = _run(["train", str(cfg)], capsys)
    assert code == run_mod.EXIT_IO, err
    assert err.count("\n") == 1 and "No space left on device" in err and "(epoch 1)" in err, err
    run = next((tiny_disk / "runs").iterdir())
    assert load_checkpoint(run / "last.safetensors")["epoch"] == 1
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]       # no torn temporary left
    filler.unlink()                                     # space freed
    monkeypatch.setattr(ModelCheckpoint, "on_epoch_end", real)
    code, out, err = _run(["train", "--resume", str(run)], capsys)
    assert code == 0, err
    assert load_checkpoint(run / "checkpoint.safetensors")["epoch"] == 3
