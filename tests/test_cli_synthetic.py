"""Tests for ``ember train`` on the in-memory ``synthetic`` data source: the shipped synthetic configs validate,
bad ``data`` keys give one-line config errors naming the key and the allowed values, and each shipped config
runs end to end (tiny n, 2 epochs) and its checkpoint evaluates."""
import math
import pathlib
import re

import pytest

from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ("logistic_moons", "spirals_mlp", "multilabel", "linear_regression", "perceptron", "perceptron_xor",
           "xor_mlp", "poisson", "sequence_sum", "typical_dnn", "segmentation", "hopfield")


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _shrunk(tmp_path, name, **data):
    """The shipped config ``name`` with a tiny dataset, 2 epochs and output under tmp_path."""
    import tomllib
    cfg = tomllib.loads((ROOT / "configs" / f"{name}.toml").read_text())
    cfg["epochs"] = 2
    cfg["output"] = (tmp_path / "runs").as_posix()
    cfg["data"].update({"n_samples": 64, **data})
    cfg.pop("scheduler", None)
    return cfg


def _write(tmp_path, cfg):
    lines = []
    for k, v in cfg.items():
        if not isinstance(v, dict):
            lines.append(f"{k} = {_toml(v)}")
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{kk} = {_toml(vv)}" for kk, vv in v.items()]
    path = tmp_path / "synthetic.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    return repr(v)


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_synthetic_configs_validate(name):
    cfg = cli.load_config(str(ROOT / "configs" / f"{name}.toml"))
    assert cfg["data"]["name"] == "synthetic"
    assert cfg["data"]["kind"] in cli.SYNTHETIC_KINDS


@pytest.mark.parametrize("name", CONFIGS)
def test_synthetic_config_trains_and_evaluates(tmp_path, capsys, name):
    path = _write(tmp_path, _shrunk(tmp_path, name))
    code, out, err = _run(["train", str(path), "-q"], capsys)
    assert code == 0, err
    assert "test loss: " in out
    loss = float(re.search(r"test loss: ([-0-9.e]+)", out).group(1))
    assert math.isfinite(loss)
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    ckpt = runs[0] / "checkpoint.safetensors"
    assert ckpt.is_file()
    code, out2, err2 = _run(["evaluate", str(ckpt)], capsys)
    assert code == 0, err2
    assert re.search(r"^loss: ([-0-9.e]+)$", out2, re.M).group(1) == re.search(r"test loss: ([-0-9.e]+)", out).group(1)
    # (the same test split is rebuilt from the saved config)


def test_synthetic_sizes_reach_the_model(tmp_path):
    cfg = cli.validate_config(_shrunk(tmp_path, "multilabel", n_features=7, n_labels=3))
    ds, info = cli.build_data(cfg, "train")
    x, y = ds[0]
    assert tuple(x.shape) == (7,) and tuple(y.shape) == (3,)
    model = cli.build_model(cfg, info)
    import ember
    assert tuple(model(ember.zeros(4, 7)).shape) == (4, 3)
    test, _ = cli.build_data(cfg, "test")
    assert len(ds) == 64 and len(test) == 16


def test_synthetic_learns_moons(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "logistic_moons", n_samples=400)
    cfg["epochs"] = 10
    code, out, err = _run(["train", str(_write(tmp_path, cfg)), "-q"], capsys)
    assert code == 0, err
    acc = float(re.search(r"test accuracy: ([0-9.]+)%", out).group(1))
    assert acc > 75.0, out


@pytest.mark.parametrize("data,match", [
    ({"kind": "swiss_roll"}, "'data.kind' is 'swiss_roll'; allowed: xor, spirals, moons, circles, separable, "
                             "linear_regression, multilabel, poisson, sequence_sum, quadrants, shapes, patterns"),
    ({"kind": None}, "dataset 'synthetic' needs 'data.kind'; allowed: xor"),
    ({"n_samples": 0}, "'data.n_samples' must be a positive integer, got 0"),
    ({"n_samples": "many"}, "'data.n_samples' must be a positive integer, got 'many'"),
    ({"noise": -0.5}, "'data.noise' must be a number >= 0, got -0.5"),
    ({"seed": -1}, "'data.seed' must be a non-negative integer, got -1"),
    ({"n_labels": 3}, "'data.n_labels' does not apply to synthetic kind 'moons'; its keys: kind, n_samples, name, "
                      "noise, seed, val_fraction"),
    ({"n_features": 3}, "'data.n_features' does not apply to synthetic kind 'moons'"),
    ({"kind": "multilabel", "noise": 0.1}, "'data.noise' does not apply to synthetic kind 'multilabel'; its keys: "
                                           "kind, n_features, n_labels, n_samples"),
    ({"path": "x"}, "'data.path' does not apply to synthetic kind 'moons'"),
    ({"noise": None, "kind": "sequence_sum", "min_len": 5, "max_len": 3}, "need min_len <= max_len and test_min_len <= "
                                                           "test_max_len, got 5..3"),
    ({"noise": None, "kind": "patterns", "corrupt": 1.5}, "'data.corrupt' must be a fraction in [0, 1], got 1.5"),
    ({"noise": None, "kind": "patterns", "val_fraction": 0.1}, "'data.val_fraction' must be 0 for kind 'patterns'"),
    ({"kind": "shapes", "size": 20}, "'data.size' must be a multiple of 8, got 20"),
    ({"noise": None, "kind": "separable", "margin": -1}, "'data.margin' must be a number >= 0, got -1"),
    ({"kind": "quadrants", "channels": 0}, "'data.channels' must be a positive integer, got 0"),
])
def test_synthetic_config_errors(tmp_path, capsys, data, match):
    cfg = _shrunk(tmp_path, "logistic_moons")
    cfg["data"].update(data)
    cfg["data"] = {k: v for k, v in cfg["data"].items() if v is not None}
    code, out, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 2
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert match in err, err
    assert not (tmp_path / "runs").exists()


# -- the zoo on synthetic data: perceptron, Poisson, sequence sum, typical DNN, segmentation, Hopfield -------------
def _train(tmp_path, capsys, cfg, *flags):
    code, out, err = _run(["train", str(_write(tmp_path, cfg)), "-q", *flags], capsys)
    assert code == 0, err
    return out


def _value(out, key):
    return float(re.search(rf"test {key}: ([-0-9.e]+)", out).group(1))


def test_perceptron_rule_converges_on_separable_data_and_not_on_xor(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "perceptron", n_samples=200)
    cfg["epochs"] = 100
    out = _train(tmp_path, capsys, cfg)
    assert "reached the stopping threshold 0" in out
    assert "test accuracy: 100.00%" in out
    cfg = _shrunk(tmp_path, "perceptron_xor", n_samples=200)
    cfg["epochs"] = 20
    out = _train(tmp_path, capsys, cfg)
    assert "stopping threshold" not in out           # never an epoch without a mistake
    assert _value(out, "error_rate") > 0.2 and float(re.search(r"test accuracy: ([0-9.]+)%", out).group(1)) < 80


def test_perceptron_through_the_trainer_is_rosenblatts_rule():
    """SGD(lr=1) on the perceptron criterion, batches of one, gives the weights of the rule itself."""
    import ember
    from ember.data import DataLoader, TensorDataset
    from ember.data.datasets.synthetic import make_separable
    from ember.models import Perceptron
    from ember.train import EarlyStopping, Trainer
    x, y = make_separable(150, n_features=3, seed=3)
    a, b = Perceptron(3), Perceptron(3)
    trainer = Trainer(a, None, ember.optim.SGD(a.parameters(), lr=1.0),
                      callbacks=[EarlyStopping(monitor="error_rate", stopping_threshold=0, patience=1000)])
    trainer.fit(DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=1), epochs=200, verbose=0)
    converged, epochs = b.fit_rosenblatt(ember.tensor(x), ember.tensor(y), epochs=200)
    assert converged and trainer.epoch == epochs
    assert trainer.history.history["error_rate"][-1] == 0.0
    assert ember.equal(a.weight, b.weight) and ember.equal(a.bias, b.bias)


def test_poisson_config_reports_the_true_models_deviance(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "poisson", n_samples=4000)
    cfg["epochs"] = 5
    out = _train(tmp_path, capsys, cfg)
    model = _value(out, "poisson_deviance")
    true = float(re.search(r"true model's mean Poisson deviance on this split: ([0-9.]+)", out).group(1))
    assert abs(model / true - 1) < 0.1, out


def test_sequence_sum_data_is_padded_with_lengths_and_tests_unseen_lengths(tmp_path):
    cfg = cli.validate_config(_shrunk(tmp_path, "sequence_sum", min_len=2, max_len=6, test_min_len=8,
                                      test_max_len=9))
    train, _ = cli.build_data(cfg, "train")
    test, _ = cli.build_data(cfg, "test")
    x, lengths, sums = train.tensors
    assert tuple(x.shape) == (64, 6, 1) and int(lengths.min()) >= 2 and int(lengths.max()) <= 6
    import numpy as np
    xn, ln = x.numpy()[:, :, 0], lengths.numpy()
    assert np.all(xn[np.arange(6)[None, :] >= ln[:, None]] == 0)            # zero padding after each length
    np.testing.assert_allclose(sums.numpy(), xn.sum(1), rtol=1e-5)
    xt, lt, _ = test.tensors
    assert xt.shape[1] == 9 and int(lt.min()) >= 8


def test_sequence_sum_learns_to_extrapolate(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "sequence_sum", n_samples=6000)
    cfg["epochs"] = 10
    out = _train(tmp_path, capsys, cfg)
    assert _value(out, "mse") < 0.05, out                    # lengths 11-15, never seen in training


def test_typical_dnn_summary_matches_the_formulas(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "typical_dnn", n_samples=128)
    cfg["epochs"] = 1
    code, out, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 0, err
    assert out.count(" ok") == 7 and "MISMATCH" not in out          # 5 convolutions and 2 linear layers
    assert re.search(r"^total\s+\(4,\)\s+41180", out, re.M), out


def test_segmentation_reports_mean_iou(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "segmentation", n_samples=96)
    cfg["epochs"] = 1
    out = _train(tmp_path, capsys, cfg)
    assert 0 <= _value(out, "mean_iou") <= 1
    assert re.search(r"^true\\pred\s+0\s+1\s+2$", out, re.M), out       # a 3x3 per-pixel confusion matrix


def test_hopfield_stores_without_an_optimizer_and_recalls(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "hopfield", n_samples=6)
    out = _train(tmp_path, capsys, cfg)
    assert _value(out, "recall") == 1.0
    cfg["optimizer"] = {"name": "sgd", "lr": 0.1}
    code, _, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 2 and "learns without gradients" in err and "remove the [optimizer] section" in err


def test_predict_prints_values_for_regression(tmp_path, capsys):
    import numpy as np
    cfg = _shrunk(tmp_path, "linear_regression")
    _train(tmp_path, capsys, cfg)
    ckpt = next((tmp_path / "runs").iterdir()) / "checkpoint.safetensors"
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    code, out, err = _run(["predict", str(ckpt), str(tmp_path / "x.npy")], capsys)
    assert code == 0, err
    rows = out.strip().splitlines()
    assert len(rows) == 2 and rows[0] == rows[1] and "." in rows[0]       # the bias, as a number


def test_metric_tables_and_errors(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "linear_regression")
    cfg["metrics"] = [{"name": "mse"}, {"nam": "x"}]
    code, _, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 2 and "a metric table needs a 'name' key" in err
    cfg["metrics"] = [{"name": "poisson_deviance", "log_inputs": True}]
    code, _, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 2 and "metric 'poisson_deviance': bad arguments ['log_inputs']" in err


def test_predict_uses_the_models_own_labels(tmp_path, capsys):
    """Perceptron.predict gives +1/-1; ember predict prints those, not the raw scores."""
    import numpy as np
    cfg = _shrunk(tmp_path, "perceptron", n_samples=200)
    _train(tmp_path, capsys, cfg)
    ckpt = next((tmp_path / "runs").iterdir()) / "checkpoint.safetensors"
    np.save(tmp_path / "x.npy", np.array([[0.9, 0.9], [-0.9, -0.9], [0.9, -0.9], [-0.9, 0.9]], np.float32))
    code, out, err = _run(["predict", str(ckpt), str(tmp_path / "x.npy"), "--output", str(tmp_path / "s.npy")],
                          capsys)
    assert code == 0, err
    labels = [int(v) for v in out.split()]
    scores = np.load(tmp_path / "s.npy")                  # --output keeps the raw scores
    assert labels == [1 if s > 0 else -1 for s in scores.reshape(-1)]


def test_onecycle_steps_per_optimizer_step_over_the_whole_run(tmp_path, capsys):
    """onecycle defaults to interval "step" with total_steps = epochs * batches per epoch and max_lr = lr: the
    run ends at the schedule's end (lr near zero) instead of raising past total_steps."""
    import json
    cfg = _shrunk(tmp_path, "xor_mlp", n_samples=256)
    cfg["scheduler"] = {"name": "onecycle"}
    _train(tmp_path, capsys, cfg)
    run = next((tmp_path / "runs").iterdir())
    lrs = json.loads((run / "history.json").read_text())["history"]["lr"]    # the lr each epoch started with
    assert lrs[0] == pytest.approx(0.01 / 25)                     # initial_lr = max_lr / div_factor
    cfg["scheduler"] = {"name": "onecycle", "interval": "hourly"}
    code, _, err = _run(["train", str(_write(tmp_path, cfg))], capsys)
    assert code == 2 and "interval must be 'epoch' or 'step', got 'hourly'" in err


def test_summary_flag_prints_the_parameter_table(tmp_path, capsys):
    cfg = _shrunk(tmp_path, "xor_mlp")
    code, out, err = _run(["train", str(_write(tmp_path, cfg)), "--summary"], capsys)
    assert code == 0, err
    # MLP 2-16-2 (two logits): (2+1)*16 = 48 and (16+1)*2 = 34 parameters, both checked against the formula
    assert re.search(r"Linear\s+\(16,\)\s+48\s+\(2\+1\)\*16\s+ok", out), out
    assert re.search(r"Linear\s+\(2,\)\s+34\s+\(16\+1\)\*2\s+ok", out), out
    assert re.search(r"^total\s+\(2,\)\s+82\b", out, re.M), out
