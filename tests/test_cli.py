"""Tests for the ``ember`` command: config validation (exit code 2, one line, nothing written), info, a tiny
train/evaluate/predict round, and the full demo (slow)."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
EMBER = ROOT / ".venv" / "bin" / "ember"

TINY = """
seed = 0
epochs = 1
batch_size = 64
output = "{out}"
metrics = ["accuracy"]

[model]
name = "mlp"
hidden = [32]

[data]
name = "digits"
size = 8

[optimizer]
name = "adam"
lr = 0.01
"""


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_info(capsys):
    code, out, err = _run(["info"], capsys)
    assert code == 0
    assert "ember 0.1.0" in out and "BLAS" in out and "threads" in out and "numpy" in out
    assert "compiled kernels: " in out


def test_console_script_entry_point():
    if not EMBER.exists():
        pytest.skip("console script not installed")
    r = subprocess.run([str(EMBER), "info"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("ember ")
    r = subprocess.run([str(EMBER), "frobnicate"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("ember: error:") and r.stderr.count("\n") == 1


@pytest.mark.parametrize("edit,match", [
    (("epochs = 1", "epochs = 0"), "'epochs' must be a positive integer"),
    (("epochs = 1", "epochs = \"ten\""), "'epochs' must be int"),
    (("seed = 0", "sed = 0"), "'sed' is not a known key; allowed: accumulate, batch_size"),
    (("name = \"digits\"", "name = \"cifar\""), "'data.name' is 'cifar'; allowed: digits, mnist, fashion-mnist"),
    (("size = 8", "size = 9"), "'data.size' must be 8, 28 or 32"),
    (("size = 8", "colour = 1"), "'data.colour' is not a key of dataset 'digits'"),
    (("name = \"adam\"", "name = \"adamm\""), "'optimizer.name' is 'adamm'; allowed: sgd, adam"),
    (("lr = 0.01", "lr = -1.0"), "'optimizer.lr' must be a positive number"),
    (("name = \"mlp\"", "name = \"resnet9000\""), "'model.name': unknown model 'resnet9000'; available:"),
    (("name = \"mlp\"", "name = \"nosuchpkg.mod:Net\""), "cannot import module 'nosuchpkg.mod'"),
    (("metrics = [\"accuracy\"]", "metrics = [\"acuracy\"]"), "unknown metric 'acuracy'"),
    (("[optimizer]", "[optimiser]"), "'optimiser' is not a known key"),
    (("name = \"digits\"\nsize = 8", "name = \"mnist\"\npath = \"/no/such/folder\""), "'data.path'"),
    (("epochs = 1", "epochs = = 1"), "not valid TOML"),
    (("hidden = [32]", "hidden = [32]\nwidth = 3"), "model 'mlp': bad arguments"),
])
def test_config_errors_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, edit, match):
    out_dir = tmp_path / "runs"
    text = TINY.format(out=out_dir.as_posix()).replace(*edit)
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 2
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert match in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_usage_errors(tmp_path, capsys):
    code, _, err = _run([], capsys)
    assert code == 2 and "missing command" in err
    code, _, err = _run(["train"], capsys)
    assert code == 2 and err.startswith("ember: error:") and err.count("\n") == 1
    code, _, err = _run(["train", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "nope.toml not found" in err


def test_shipped_configs_validate():
    for name in ("digits", "mnist", "char_rnn"):
        cfg = cli.load_config(str(ROOT / "configs" / f"{name}.toml"))
        assert cfg["epochs"] >= 1


def test_tiny_train_then_evaluate_and_predict(tmp_path, capsys):
    out_dir = tmp_path / "runs"
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY.format(out=out_dir.as_posix()))
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 0, err
    assert re.search(r"test accuracy: \d+\.\d+%", out) and "confusion matrix" in out
    runs = [p for p in out_dir.iterdir()]
    assert len(runs) == 1 and not runs[0].name.startswith(".")      # the partial folder was renamed
    files = {p.name for p in runs[0].iterdir()}
    assert {"checkpoint.safetensors", "history.csv", "history.json", "curves.png"} <= files
    ck = runs[0] / "checkpoint.safetensors"

    code, out, err = _run(["evaluate", str(ck)], capsys)
    assert code == 0 and "accuracy:" in out
    code, out, err = _run(["evaluate", str(ck), "--data", "digits"], capsys)     # a named dataset, re-validated
    assert code == 0 and "accuracy:" in out, err
    x = np.random.rand(5, 8, 8).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, out, err = _run(["predict", str(ck), str(tmp_path / "x.npy"), "--output", str(tmp_path / "logits.npy")],
                          capsys)
    assert code == 0, err
    assert len(out.split()) == 5 and all(0 <= int(v) <= 9 for v in out.split())
    assert np.load(tmp_path / "logits.npy").shape == (5, 10)

    np.savez(tmp_path / "d.npz", x=np.random.rand(7, 1, 8, 8).astype(np.float32), y=np.arange(7))
    code, out, _ = _run(["evaluate", str(ck), "--data", str(tmp_path / "d.npz")], capsys)
    assert code == 0 and "loss:" in out

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(ck.read_bytes()[:1000])
    for argv in (["evaluate", str(bad)], ["predict", str(bad), str(tmp_path / "x.npy")],
                 ["predict", str(ck), str(tmp_path / "missing.npy")],
                 ["evaluate", str(ck), "--data", "cifar"]):
        code, out, err = _run(argv, capsys)
        assert code == 2 and err.startswith("ember: error:") and err.count("\n") == 1, (argv, err)


@pytest.mark.slow
def test_demo_full_run(tmp_path):
    """`ember demo` trains to >= 97% test accuracy, prints a confusion matrix and writes its files."""
    cmd = [str(EMBER), "demo"] if EMBER.exists() else [sys.executable, "-m", "ember.cli", "demo"]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-2000:]
    acc = float(re.search(r"test accuracy: (\d+\.\d+)%", r.stdout).group(1))
    assert acc >= 97.0
    assert "confusion matrix" in r.stdout
    assert "Epoch 1/" in r.stdout              # not a terminal: plain epoch lines (no bar)
    (run,) = list((tmp_path / "ember-runs").iterdir())
    assert {"checkpoint.safetensors", "history.csv", "curves.png"} <= {p.name for p in run.iterdir()}
    header = (run / "history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,accuracy,val_loss,val_accuracy,lr")


def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path):
    """A real SIGINT during `ember train`: exit code 130, a checkpoint in the run folder, and --resume
    finishes the run."""
    import signal
    cfg = tmp_path / "c.toml"
    cfg.write_text(TINY.format(out=(tmp_path / "runs").as_posix()).replace("epochs = 1", "epochs = 200"))
    cmd = [sys.executable, "-m", "ember.cli", "train", str(cfg), "-v"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        for line in p.stdout:           # wait until training runs (epoch summary lines end with a newline)
            if "Epoch 2/200" in line:
                break
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "resumable checkpoint" in err and "--resume" in err
    (run,) = list((tmp_path / "runs").iterdir())
    ck = run / "last.safetensors"             # the run folder's resumable state
    from ember.train import load_checkpoint
    state = load_checkpoint(ck)
    assert 1 <= state["epoch"] < 200           # "Epoch 2/200" shows once epoch 1 is done
    r = subprocess.run([sys.executable, "-m", "ember.cli", "train", str(cfg), "-q", "--epochs", str(state["epoch"] + 1),
                        "--resume", str(ck)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout
