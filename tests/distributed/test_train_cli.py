"""``ember train CONFIG --nproc N``: one run folder and one log from rank 0, results summed over the ranks,
checkpoints that resume with any number of processes, and a failing rank stopping every rank with one line."""
import csv
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ember import cli
from ember import metrics as M

from ._mpi import env, needs_mpi, ROOT, run_mpi

CONFIG = """\
name = "tiny"
seed = 0
epochs = 2
batch_size = 32
output = "{out}"
metrics = ["accuracy"]

[model]
name = "{model}"
hidden = [16]

[data]
name = "synthetic"
kind = "spirals"
n_samples = 400
val_fraction = 0.1

[optimizer]
name = "adam"
lr = 0.01
"""

BOOM = '''
import os
import ember.nn as nn


class Boom(nn.Module):
    """A linear model whose third forward raises on rank 1 only."""

    def __init__(self, in_features=2, out_features=2, **kw):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if os.environ.get("RANK") == "1" and self.calls == 3:
            raise ValueError("boom on rank 1")
        return self.fc(x)
'''


KILLED = BOOM.replace('raise ValueError("boom on rank 1")', 'os.kill(os.getpid(), 9)')


def _config(tmp_path, model="mlp"):
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG.format(out=(tmp_path / "runs").as_posix(), model=model))
    return path


def _ember(*args, timeout=120):
    """``ember ARGS`` in a fresh process (the --nproc launcher starts mpiexec from there)."""
    return subprocess.run([sys.executable, "-m", "ember.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env(), cwd=ROOT)


def _runs(tmp_path):
    return sorted((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else []


def _history(run):
    with open(run / "history.csv") as f:
        return list(csv.DictReader(f))


@needs_mpi
def test_nproc_2_one_run_folder_global_results_and_one_process_resume(tmp_path, capsys):
    cfg = _config(tmp_path)
    p = _ember("train", cfg, "--nproc", 2)
    assert p.returncode == 0, p.stderr
    runs = _runs(tmp_path)
    assert len(runs) == 1                               # one run folder, written by rank 0
    files = set(os.listdir(runs[0]))
    assert {"config.toml", "last.safetensors", "best.safetensors", "checkpoint.safetensors",
            "history.csv"} <= files and not any(f.endswith(".tmp") for f in files)
    assert "on 2 processes (batch 16 each)" in p.stdout
    assert p.stdout.count("Epoch 2/2") == 1 and p.stdout.count("test loss:") == 1     # one log
    assert p.stderr == ""
    # the test results were summed over both ranks' shards: the same as one process evaluating the checkpoint
    printed = re.search(r"test loss: (\S+)\s+test accuracy: (\S+)%", p.stdout).groups()
    capsys.readouterr()
    assert cli.main(["evaluate", str(runs[0] / "checkpoint.safetensors")]) == 0
    out = capsys.readouterr().out
    loss, acc = re.search(r"loss: (\S+)", out).group(1), re.search(r"accuracy: (\S+)", out).group(1)
    assert printed == (loss, f"{float(acc) * 100:.2f}")
    assert len(_history(runs[0])) == 2
    # a one-process resume from the 2-process checkpoint
    assert cli.main(["train", "--resume", str(runs[0]), "--epochs", "3", "-q"]) == 0
    assert len(_history(runs[0])) == 3 and len(_runs(tmp_path)) == 1


@needs_mpi
def test_nproc_2_resumes_a_one_process_checkpoint(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert cli.main(["train", str(cfg), "--epochs", "1", "-q"]) == 0
    run = _runs(tmp_path)[0]
    first = _history(run)[0]
    p = _ember("train", "--resume", run, "--epochs", 2, "--nproc", 2)
    assert p.returncode == 0, p.stderr
    assert "Epoch 2/2" in p.stdout and "Epoch 1/2" not in p.stdout
    rows = _history(run)
    assert len(rows) == 2 and rows[0] == first and len(_runs(tmp_path)) == 1


@needs_mpi
def test_a_failing_rank_stops_every_rank_with_one_line(tmp_path):
    (tmp_path / "boom.py").write_text(BOOM)
    cfg = _config(tmp_path)
    t0 = time.monotonic()
    p = _ember("train", cfg, "--nproc", 2, "--model-code", f"{tmp_path / 'boom.py'}:Boom", "-q", timeout=60)
    assert time.monotonic() - t0 < 60
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert lines == ["ember: error: rank 1 of 2 failed: ValueError: boom on rank 1"], p.stderr
    assert _runs(tmp_path) == []                        # the run folder with nothing to continue from is gone


NAN = '''
import os
import ember.nn as nn


class NaNy(nn.Module):
    """A linear model whose 15th output on rank 1 is NaN."""

    def __init__(self, in_features=2, out_features=2, **kw):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        out = self.fc(x)
        return out * float("nan") if os.environ.get("RANK") == "1" and self.calls == 15 else out
'''


@needs_mpi
def test_divergence_on_one_rank_stops_all_ranks_with_status_3_through_a_hostfile(tmp_path):
    (tmp_path / "nany.py").write_text(NAN)
    (tmp_path / "hosts").write_text("localhost:2\n")
    p = _ember("train", _config(tmp_path), "--nproc", 2, "--hostfile", tmp_path / "hosts", "--model-code",
               f"{tmp_path / 'nany.py'}:NaNy", "-q", timeout=60)
    assert p.returncode == 3, p.stderr
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ember: error: training diverged at epoch 2"), p.stderr
    run = _runs(tmp_path)[0]
    assert "last.safetensors" in os.listdir(run) and "checkpoint.safetensors" not in os.listdir(run)


@needs_mpi
def test_sigterm_stops_every_rank_and_keeps_the_last_epoch(tmp_path):
    cfg = _config(tmp_path)
    cfg.write_text(cfg.read_text().replace("epochs = 2", "epochs = 200"))
    proc = subprocess.Popen([sys.executable, "-m", "ember.cli", "train", str(cfg), "--nproc", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT)
    try:
        for line in proc.stdout:                        # wait for a finished epoch
            if line.startswith("Epoch 2/"):
                break
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert err.startswith("ember: terminated (SIGTERM)") and "--resume" in err, err
    run = _runs(tmp_path)[0]
    assert "last.safetensors" in os.listdir(run)


REDUCE = r'''
import numpy as np
import ember.distributed as dist
from ember import metrics as M
from ember.distributed._train import TrainSync
dist.init_process_group()
r = dist.get_rank()
sync = TrainSync()
running = {"loss_sum": [1.5, 2.25][r], "count": [3, 5][r], "extras": {"aux": [1.0, 10.0][r]}}
acc = M.Accuracy().update(np.eye(3)[[0, 1, 2, 0][r:]], np.array([0, 1, 1, 0][r:]))
sync.reduce_running(running, [acc])
assert running["loss_sum"] == 3.75 and running["count"] == 8 and running["extras"] == {"aux": 11.0}, running
assert (acc.correct, acc.total) == (5, 7), vars(acc)
sums, count = sync.reduce_sums({"loss": [0.5, 0.25][r]}, [2, 0][r], [])
assert sums == {"loss": 0.75} and count == 2
print("ok", r)
'''


@needs_mpi
def test_epoch_sums_and_metric_states_are_summed_over_ranks(tmp_path):
    p = run_mpi(tmp_path, REDUCE)
    assert p.stdout.count("ok") == 2, p.stdout           # (the two ranks' lines may interleave)


TRAINER = r'''
import numpy as np
import ember
import ember.nn as nn
import ember.distributed as dist
from ember.distributed._train import TrainSync, shard
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.train import Trainer

dist.init_process_group()
r = dist.get_rank()
g = np.random.default_rng(0)
X, Y = g.standard_normal((80, 6)).astype(np.float32), g.integers(0, 3, 80)
batches = [(ember.tensor(X[i:i + 16]), ember.tensor(Y[i:i + 16])) for i in range(0, 80, 16)]
mine = [(x[r * 8:(r + 1) * 8], y[r * 8:(r + 1) * 8]) for x, y in batches]     # this rank's half of each


def make():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def trainer(model, **kw):
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(model, nn.CrossEntropyLoss(), opt, metrics=["accuracy", "f1"], accumulate=2, grad_clip=0.5,
                   **kw)


ref = trainer(make())
h1 = ref.fit(batches, val_data=(X, Y), epochs=3, verbose=0, interrupt_checkpoint=None)
model = make()
ddp = DDP(model, bucket_cap_mb=0.0005, gradient_as_bucket_view=True)
sync = TrainSync(ddp=ddp)
t = trainer(ddp, callbacks=[sync])
t.distributed = sync
val = ember.data.DataLoader(shard(ember.data.TensorDataset(ember.tensor(X), ember.tensor(Y)), r, 2), batch_size=7)
h2 = t.fit(mine, val_data=val, epochs=3, verbose=0, interrupt_checkpoint=None)
for p, q in zip(model.parameters(), ref.model.parameters()):
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
for k in ("loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1"):
    np.testing.assert_allclose(h2[k], h1[k], rtol=1e-5, atol=1e-6, err_msg=k)
ck = t._checkpoint()
assert not any(k.startswith("module.") for k in ck["model"]) and set(ck["model"]) == set(model.state_dict())
print("ok", r)
'''


@needs_mpi
def test_trainer_with_ddp_and_trainsync_equals_one_process_on_the_global_batches(tmp_path):
    """accumulate (no_sync inside a window), gradient clipping, the epoch logs and a sharded validation set:
    two ranks each training on half of every batch end with the weights and logs of one process."""
    p = run_mpi(tmp_path, TRAINER)
    assert p.stdout.count("ok") == 2, p.stdout           # (the two ranks' lines may interleave)


LATE_SIGNAL = r'''
import os
import signal
import numpy as np
import ember
import ember.nn as nn
import ember.distributed as dist
from ember.distributed._train import TrainSync
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.train import Callback, Trainer

dist.init_process_group()
r = dist.get_rank()
g = np.random.default_rng(0)
X, Y = g.standard_normal((160, 6)).astype(np.float32), g.integers(0, 3, 160)
mine = [(ember.tensor(X[i:i + 8]), ember.tensor(Y[i:i + 8])) for i in range(r * 8, 160, 16)]


class SignalAfterTheAgreement(Callback):
    """SIGTERM on rank 1 after batch 2's stop flags were agreed (a signal that arrives a moment late)."""
    def on_batch_end(self, batch, logs=None):
        if r == 1 and batch == 2 and self.trainer.epoch == 0:
            os.kill(os.getpid(), signal.SIGTERM)


ember.manual_seed(0)
ddp = DDP(nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)))
sync = TrainSync(ddp=ddp)
t = Trainer(ddp, nn.CrossEntropyLoss(), ember.optim.SGD(ddp.parameters(), lr=0.1),
            callbacks=[sync, SignalAfterTheAgreement()])
t.distributed = sync
t.report_interrupts = False
t.fit(mine, epochs=3, verbose=0, interrupt_checkpoint=None)
assert t.interrupted and t.interrupt_signal == signal.SIGTERM, (t.interrupted, t.interrupt_signal)
print(f"stopped-at-epoch-{t.epoch}-step-{t.global_step}-pos-{t._pos}")
'''


@needs_mpi
def test_a_signal_after_the_batch_agreement_stops_every_rank_at_the_same_batch(tmp_path):
    # the signal handler used to set the flag the batch loop reads right after the ranks agreed: rank 1 stopped
    # at that batch, rank 0 went on into the next batch's collectives and waited there for ever
    p = run_mpi(tmp_path, LATE_SIGNAL, timeout=60)
    stops = re.findall(r"stopped-at-epoch-(\d+)-step-(\d+)-pos-None", p.stdout)
    assert len(stops) == 2 and stops[0] == stops[1] and stops[0][0] == "0", p.stdout   # same epoch and step


@needs_mpi
def test_a_rank_killed_outright_stops_every_rank_with_one_line(tmp_path):
    (tmp_path / "killed.py").write_text(KILLED)
    p = _ember("train", _config(tmp_path), "--nproc", 2, "--model-code", f"{tmp_path / 'killed.py'}:Boom", "-q",
               timeout=60)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ember: error: a process of the run stopped without a message"), \
        p.stderr


def test_nproc_refuses_what_it_cannot_split(tmp_path, capsys):
    cfg = _config(tmp_path)
    text = cfg.read_text().replace("batch_size = 32", "batch_size = 30")
    cfg.write_text(text)
    from ember.distributed import is_available
    if is_available():
        assert cli.main(["train", str(cfg), "--nproc", "4"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("ember: error: --nproc 4: batch_size 30") and "\n" not in err
    assert cli.main(["train", str(cfg), "--hostfile", "hosts"]) == 2
    assert "--hostfile needs --nproc" in capsys.readouterr().err
    assert _runs(tmp_path) == []


# -- the metric states summed over ranks (no MPI needed) -----------------------------------------------------------
@pytest.mark.parametrize("make, kind", [
    (M.Accuracy, "class"), (lambda: M.TopKAccuracy(2), "class"), (M.ConfusionMatrix, "class"),
    (lambda: M.F1Score(average="macro"), "class"), (M.MeanSquaredError, "reg"), (M.MeanAbsoluteError, "reg"),
    (M.R2Score, "reg"), (M.R2Score, "reg2")])
def test_merged_metric_states_equal_the_metric_on_all_samples(make, kind):
    from ember.distributed._train import merge_metric_states
    g = np.random.default_rng(0)
    if kind == "class":
        preds = g.standard_normal((50, 4)).astype(np.float32)
        target = g.integers(0, 4, 50)
        target[:23] = np.minimum(target[:23], 2)          # rank 0 never sees class 3: its matrix is smaller
    else:
        shape = (50,) if kind == "reg" else (50, 3)
        target = g.standard_normal(shape) * 3 + 10
        preds = target + g.standard_normal(shape)
    whole = make().update(preds, target)
    parts = [make().update(preds[:23], target[:23]), make().update(preds[23:], target[23:])]
    merged = make()
    merge_metric_states(merged, [dict(vars(m)) for m in parts])
    np.testing.assert_allclose(merged.compute(), whole.compute(), rtol=1e-10, atol=1e-12)
