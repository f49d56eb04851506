"""``ember train`` with one loss per head ([loss.HEAD] tables, loss_weighting, data.targets) and on generated
scenes (synthetic kinds captions and detection): the shipped configs captioning, detection, multitask_mnist
and activation_study run in tiny versions (a few steps), and config mistakes are one ``ember: error:`` line."""
import pathlib
import re

import pytest

from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _value(out, key):
    m = re.search(rf"test {re.escape(key)}: (-?\d+\.\d+(?:e-?\d+)?)", out)
    assert m, out
    return float(m.group(1))


def _shipped(name, tmp_path, replace=(), extra_top=""):
    """The shipped config with its sizes cut down (``replace``: (old, new) text pairs) and output in tmp."""
    text = (ROOT / "configs" / f"{name}.toml").read_text()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    text = extra_top + text.replace('output = "ember-runs"', f'output = "{(tmp_path / "runs").as_posix()}"')
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def _train(path, capsys, *extra):
    code, out, err = _run(["train", str(path), "-q", *extra], capsys)
    assert code == 0, err
    (run,) = list((path.parent / "runs").iterdir())
    return out, run


def test_captioning_config_tiny(tmp_path, capsys):
    path = _shipped("captioning", tmp_path, [("n_samples = 6000", "n_samples = 48"), ("epochs = 20 ", "epochs = 1 "),
                                             ("attention = true", "attention = true\nhidden_size = 16")])
    out, run = _train(path, capsys)
    for key in ("loss", "token_accuracy", "bleu1", "bleu4", "exact_match"):
        assert 0 <= _value(out, key) < 10, key
    assert "captions.png" in out and (run / "captions.png").stat().st_size > 1000
    header = (run / "history.csv").read_text().splitlines()[0]
    assert "token_accuracy" in header and "val_loss" in header
    code, ev, err = _run(["evaluate", str(run / "checkpoint.safetensors")], capsys)     # the same scores again
    assert code == 0, err
    assert f"bleu4: {_value(out, 'bleu4'):.4f}" in ev and "exact_match:" in ev
    # predict: one caption per image, in the scenes' words
    import numpy as np
    from ember.vision.scenes import Vocabulary, make_scenes
    np.save(tmp_path / "x.npy", make_scenes(3, seed=5).images)
    code, pred, err = _run(["predict", str(run / "checkpoint.safetensors"), str(tmp_path / "x.npy")], capsys)
    assert code == 0, err
    lines = pred.splitlines()
    assert len(lines) == 3 and all(set(line.split()) <= set(Vocabulary.for_scenes().itos) for line in lines)


def test_detection_config_tiny(tmp_path, capsys):
    path = _shipped("detection", tmp_path, [("n_samples = 3000", "n_samples = 48"), ("epochs = 6", "epochs = 1"),
                                            ("width = 32", "width = 8")])
    out, run = _train(path, capsys)
    assert 0 <= _value(out, "map50") <= 1 and 0 <= _value(out, "map75") <= 1
    assert _value(out, "obj_loss") > 0 and _value(out, "box_loss") > 0
    assert (run / "detections.png").is_file()
    import numpy as np
    from ember.vision.scenes import make_scenes
    np.save(tmp_path / "x.npy", make_scenes(2, seed=5).images)
    code, pred, err = _run(["predict", str(run / "checkpoint.safetensors"), str(tmp_path / "x.npy"),
                            "--output", str(tmp_path / "boxes.txt")], capsys)
    assert code == 0, err
    lines = pred.splitlines()
    assert len(lines) == 2 and (tmp_path / "boxes.txt").read_text() == pred
    for line in lines:          # "-" or "shape score x1 y1 x2 y2; ..."
        assert line == "-" or all(re.fullmatch(r"(circle|square|triangle) [01]\.\d{3}( -?\d+\.\d){4}", part)
                                  for part in line.split("; ")), line


def _digits(name, tmp_path, data_name, extra=()):
    """A shipped MNIST/Fashion-MNIST config on the first 128 of the built-in digits instead (offline)."""
    return _shipped(name, tmp_path, [(f'name = "{data_name}"', 'name = "digits"\nsize = 28\nval_fraction = 0.25'),
                                     ("download = true", "# download"), ("subset = ", "subset = 128 # "),
                                     *extra])


def test_multitask_config_tiny_logs_every_head(tmp_path, capsys):
    path = _digits("multitask_mnist", tmp_path, "mnist", [("epochs = 4", "epochs = 1")])
    out, run = _train(path, capsys)
    for key in ("digit/loss", "parity/loss", "ink/loss", "digit/accuracy", "parity/accuracy", "ink/r2"):
        assert re.search(rf"test {re.escape(key)}: ", out), key
    assert 0 <= _value(out, "digit/accuracy") <= 1
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert {"digit/weight", "parity/weight", "ink/weight", "val_digit/accuracy", "val_ink/r2"} <= set(header)
    # the checkpoint evaluates with the same heads, weights and metrics
    code, ev, err = _run(["evaluate", str(run / "checkpoint.safetensors")], capsys)
    assert code == 0, err
    assert f"loss: {_value(out, 'loss'):.4f}" in ev and "digit/accuracy:" in ev and "ink/r2:" in ev
    # and predict prints one value per head for each input
    import numpy as np
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, pred, err = _run(["predict", str(run / "checkpoint.safetensors"), str(tmp_path / "x.npy")], capsys)
    assert code == 0, err
    rows = pred.strip().splitlines()
    assert len(rows) == 3 and all(re.fullmatch(r"digit=\d parity=[01] ink=-?\d+\.?\d*(e-?\d+)?", r) for r in rows), rows


def test_multitask_fixed_weights_and_resume(tmp_path, capsys):
    path = _digits("multitask_mnist", tmp_path, "mnist", [
        ("epochs = 4", "epochs = 2"), ('loss_weighting = "uncertainty"', 'loss_weighting = "fixed"'),
        ('name = "mse"', 'name = "mse"\nweight = 0.5')])
    out, run = _train(path, capsys, "--epochs", "1")
    assert "digit/weight" not in (run / "history.csv").read_text()
    code, out2, err = _run(["train", "--resume", str(run), "-q", "--epochs", "2"], capsys)
    assert code == 0, err
    assert len((run / "history.csv").read_text().splitlines()) == 3          # header + 2 epochs


def test_activation_study_config_tiny(tmp_path, capsys):
    path = _digits("activation_study", tmp_path, "fashion-mnist",
                   [("epochs = 5", "epochs = 1"), ('activation = "gelu"', 'activation = "swish_trainable"')])
    out, run = _train(path, capsys)
    assert 0 <= _value(out, "loss") < 5 and re.search(r"test accuracy: \d+\.\d+%", out)


HEADS = """
epochs = 1
output = "{out}"
{top}
[model]
name = "multitask_net"
[data]
name = "digits"
{data}
[loss.digit]
name = "cross_entropy"
{digit}
[loss.parity]
name = "bce_with_logits"
[optimizer]
name = "adam"
"""


@pytest.mark.parametrize("top,data,digit,match", [
    ("", 'targets = ["digit", "parity"]', 'metrics = ["accuracy"]\nmetric = 1',
     "'loss.digit.metric' is not a key of a head's loss; allowed: name, weight, metrics"),
    ("", 'targets = ["digit", "parity"]', 'name = "hinge"', None),
    ("", 'targets = ["digit", "parity"]', 'weight = -1', "'loss.digit.weight' must be a finite number >= 0"),
    ('loss_weighting = "uncertainty"', 'targets = ["digit", "parity"]', 'weight = 2',
     "'loss.digit.weight': loss_weighting = 'uncertainty' learns the weights"),
    ('loss_weighting = "learned"', 'targets = ["digit", "parity"]', "", "'loss_weighting' is 'learned'; allowed: "
                                                                        "fixed, uncertainty"),
    ('metrics = ["accuracy"]', 'targets = ["digit", "parity"]', "", "with one loss per head, metrics go in each "
                                                                    "head's table"),
    ("", 'targets = ["digit", "parity"]', 'metrics = ["acuracy"]', "'loss.digit.metrics': unknown metric 'acuracy'"),
    ("", 'targets = ["digit", "ink"]', "", "the heads with a loss (digit, parity) must be the data's targets "
                                           "(digit, ink)"),
    ("", "", "", "needs data with one target per head: data.targets = [...]"),
    ("", 'targets = ["digit", "thickness"]', "",
     "'data.targets' names 'thickness'; allowed: digit, class, parity, ink"),
    ("label_smoothing = 0.1", 'targets = ["digit", "parity"]', "", "'label_smoothing' applies to a single "
                                                                   "cross_entropy loss"),
])
def test_head_config_errors_are_one_line(tmp_path, capsys, top, data, digit, match):
    if match is None:
        digit, match = 'name = "cross_entropy"', None
        text = HEADS.replace('name = "cross_entropy"\n{digit}', 'name = "hinge"')
    else:
        text = HEADS
    cfg = tmp_path / "h.toml"
    cfg.write_text(text.format(out=(tmp_path / "runs").as_posix(), top=top, data=data, digit=digit))
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 2
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert (match or "'loss.digit.name' is 'hinge'; allowed: cross_entropy") in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("body,match", [
    ('[loss]\ndigit = {name = "cross_entropy"}\n[data]\nname = "digits"', "one loss per head (digit) needs data"),
    ('loss = "cross_entropy"\n[data]\nname = "digits"\ntargets = ["digit"]', "'data.targets': one target per head "
                                                                             "needs one loss per head"),
    ('loss_weighting = "fixed"\n[data]\nname = "digits"', "'loss_weighting' needs one loss per head"),
    ('[data]\nname = "synthetic"\nkind = "captions"\nmax_len = 8', "'data.max_len' must be at least 12"),
    ('[data]\nname = "synthetic"\nkind = "detection"\ngrid = 3', "'data.grid' must divide data.size (32)"),
    ('[data]\nname = "synthetic"\nkind = "detection"\nmax_objects = 4', "1 <= min_objects <= max_objects <= 3"),
    ('[data]\nname = "synthetic"\nkind = "captions"\ngrid = 4', "'data.grid' does not apply to synthetic kind "
                                                                "'captions'"),
    ('[data]\nname = "fashion-mnist"\ntargets = ["parity"]\n[loss.parity]\nname = "bce"',
     "'parity' is for digit data"),
    ('[loss]\ndigit = "cross_entropy"\n[data]\nname = "digits"\ntargets = ["digit"]',
     "'loss.digit' must be a table {name = ..., weight = ..., metrics = [...]}"),
    ('loss = 3\n[data]\nname = "digits"', "'loss' must be a string or a table"),
])
def test_more_config_errors(tmp_path, capsys, body, match):
    top, _, rest = body.partition("[data]")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'output = "{(tmp_path / "runs").as_posix()}"\n{top}\n[model]\nname = "mlp"\n'
                   f'[optimizer]\nname = "sgd"\n[data]{rest}\n')
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 2, (out, err)
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert match in err


def test_a_model_without_heads_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'output = "{(tmp_path / "runs").as_posix()}"\n[model]\nname = "mlp"\n[optimizer]\nname = "sgd"\n'
                   f'[data]\nname = "digits"\ntargets = ["digit", "parity"]\n[loss.digit]\nname = "cross_entropy"\n'
                   f'[loss.parity]\nname = "bce_with_logits"\n')
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "the losses per head do not fit model 'mlp'" in err and "return a dict or a tuple of outputs" in err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["multitask_mnist", "activation_study"])
def test_shipped_head_configs_run_one_epoch_on_a_subset(tmp_path, capsys, real_data, name):
    path = _shipped(name, tmp_path, [("subset = ", "subset = 512 # ")])
    code, out, err = _run(["train", str(path), "-q", "--epochs", "1"], capsys)
    assert code == 0, err
    assert re.search(r"test loss: -?\d+\.\d+", out)
