"""Tests for ``ember train`` on the in-memory ``synthetic`` data source: the shipped synthetic configs validate,
bad ``data`` keys give one-line config errors naming the key and the allowed values, and each shipped config
runs end to end (tiny n, 2 epochs) and its checkpoint evaluates."""
import pathlib
import re

import pytest

from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ("logistic_moons", "spirals_mlp", "multilabel", "linear_regression")


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
    loss = float(re.search(r"test loss: ([0-9.]+)", out).group(1))
    assert loss == loss and loss < 10          # finite
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    ckpt = runs[0] / "checkpoint.safetensors"
    assert ckpt.is_file()
    code, out2, err2 = _run(["evaluate", str(ckpt)], capsys)
    assert code == 0, err2
    assert f"loss: {loss:.4f}" in out2            # the same test split is rebuilt from the saved config


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
    ({"kind": "swiss_roll"}, "'data.kind' is 'swiss_roll'; allowed: xor, spirals, moons, circles, "
                             "linear_regression, multilabel"),
    ({"kind": None}, "dataset 'synthetic' needs 'data.kind'; allowed: xor"),
    ({"n_samples": 0}, "'data.n_samples' must be a positive integer, got 0"),
    ({"n_samples": "many"}, "'data.n_samples' must be a positive integer, got 'many'"),
    ({"noise": -0.5}, "'data.noise' must be a number >= 0, got -0.5"),
    ({"seed": -1}, "'data.seed' must be a non-negative integer, got -1"),
    ({"n_labels": 3}, "'data.n_labels' applies only to kind multilabel, not 'moons'"),
    ({"n_features": 3}, "'data.n_features' applies only to kind linear_regression or multilabel, not 'moons'"),
    ({"kind": "multilabel", "noise": 0.1}, "'data.noise' does not apply to kind 'multilabel'"),
    ({"path": "x"}, "'data.path' is not a key of dataset 'synthetic'; allowed: kind, n_features"),
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
