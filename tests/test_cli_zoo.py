"""Tests for ``ember train`` with the model zoo: every shipped config validates; the zoo's data options and
training_step models give clear config errors (exit code 2, one line) and run end to end for one epoch on
the built-in Digits (fast) or, marked slow, on a small subset of the real MNIST files."""
import pathlib
import re

import pytest

from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
NEW_CONFIGS = ("mlp_mnist", "lenet_mnist", "fashion_cnn", "autoencoder_mnist", "vae_mnist", "gan_mnist",
               "siamese_mnist", "rbm_mnist", "transformer_lm")


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", NEW_CONFIGS)
def test_shipped_zoo_configs_validate(name):
    cfg = cli.load_config(str(ROOT / "configs" / f"{name}.toml"))
    assert cfg["epochs"] >= 1
    from ember import models
    models.resolve(cfg["model"]["name"])


TINY = """
seed = 0
epochs = 1
batch_size = 64
output = "{out}"
{top}
[model]
{model}

[data]
name = "digits"
size = 28
val_fraction = 0.2
{data}

[optimizer]
name = "adam"
lr = 0.001
"""


def _config(tmp_path, model, data="", top=""):
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "zoo.toml"
    cfg.write_text(TINY.format(out=(tmp_path / "runs").as_posix(), model=model, data=data, top=top))
    return cfg


@pytest.mark.parametrize("model,data,top,match", [
    ('name = "vae"', 'scale = "wide"', "", "'data.scale' is 'wide'; allowed: unit, symmetric"),
    ('name = "vae"', 'target = "mask"', "", "'data.target' is 'mask'; allowed: label, input"),
    ('name = "vae"', 'flatten = 1', "", "'data.flatten' must be true or false"),
    ('name = "vae"', "", 'metrics = ["accuracy"]', "'metrics': model 'vae' trains with its own training_step"),
    ('name = "gan"', "", 'loss = "mse"', "'loss': model 'gan' computes its own loss"),
    ('name = "mlp"', "", 'loss = "hinge"', "'loss' is 'hinge'; allowed: cross_entropy, mse"),
    ('name = "embedding_net"\nloss = "hinge"', "", "", "loss must be one of contrastive, triplet"),
    ('name = "vaee"', "", "", "unknown model 'vaee'; available:"),
])
def test_zoo_config_errors_exit_2_with_one_line(tmp_path, capsys, model, data, top, match):
    code, out, err = _run(["train", str(_config(tmp_path, model, data, top)), "-q"], capsys)
    assert code == 2
    assert err.startswith("ember: error: ") and err.count("\n") == 1, err
    assert match in err
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def _train_ok(tmp_path, capsys, model, data="", top=""):
    code, out, err = _run(["train", str(_config(tmp_path, model, data, top)), "-q"], capsys)
    assert code == 0, err
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    assert {"checkpoint.safetensors", "history.csv"} <= {p.name for p in runs[0].iterdir()}
    return out, runs[0]


def _value(out, key):
    m = re.search(rf"test {key}: (-?\d+\.\d+)", out)
    assert m, out
    return float(m.group(1))


def _assert_png(path, shape):
    """A PNG of (height, width) ``shape`` that is not blank."""
    import matplotlib.image
    img = matplotlib.image.imread(path)
    assert img.shape[:2] == shape, img.shape
    assert img[..., 0].std() > 0.01


def test_vae_trains_from_the_cli_and_evaluates(tmp_path, capsys):
    out, run = _train_ok(tmp_path, capsys, 'name = "vae"\nlatent_dim = 4\nhidden = 64', "flatten = true\nbinarize = true")
    assert 0 < _value(out, "loss") < 784 * 0.7 and _value(out, "kl") >= 0
    assert "confusion matrix" not in out
    history = (run / "history.csv").read_text().splitlines()[0]
    assert "recon" in history and "val_kl" in history
    _assert_png(run / "samples.png", (8 * 29 * 4, 8 * 29 * 4))          # an 8x8 grid of 28x28 samples, 4x
    code, out, err = _run(["evaluate", str(run / "checkpoint.safetensors")], capsys)
    assert code == 0, err
    assert "loss:" in out and "kl:" in out


def test_gan_trains_from_the_cli_logging_both_losses(tmp_path, capsys):
    out, run = _train_ok(tmp_path, capsys, 'name = "gan"\ng_hidden = [32]\nd_hidden = [32]',
                         'flatten = true\nscale = "symmetric"')
    assert _value(out, "d_loss") > 0 and _value(out, "g_loss") > 0
    header = (run / "history.csv").read_text().splitlines()[0]
    assert "d_loss" in header and "g_loss" in header
    _assert_png(run / "samples.png", (8 * 29 * 4, 8 * 29 * 4))


def test_rbm_and_autoencoder_from_the_cli(tmp_path, capsys):
    out, run = _train_ok(tmp_path / "rbm", capsys, 'name = "rbm"\nn_hidden = 32', "flatten = true\nbinarize = true")
    assert 0 < _value(out, "recon_mse") < 0.5
    _assert_png(run / "filters.png", (6 * 29 * 4, 6 * 29 * 4))          # 32 hidden units, a 6x6 grid
    out, run = _train_ok(tmp_path / "ae", capsys, 'name = "dense_autoencoder"\nhidden = [32]', 'target = "input"')
    assert 0 < _value(out, "loss") < 0.3          # reconstruction MSE of [0, 1] pixels
    _assert_png(run / "reconstructions.png", (2 * 29 * 4, 8 * 29 * 4))  # 8 inputs above their outputs
    assert "reconstructions.png" in out


def test_triplet_embedding_net_from_the_cli(tmp_path, capsys):
    out, _ = _train_ok(tmp_path, capsys, 'name = "embedding_net"\nloss = "triplet"\nembedding_dim = 8')
    assert 0 <= _value(out, "knn_accuracy") <= 1


def test_transformer_lm_from_the_cli_on_a_small_text(tmp_path, capsys):
    text = tmp_path / "tiny.txt"
    text.write_text("to be or not to be, that is the question. " * 40)
    cfg = tmp_path / "lm.toml"
    cfg.write_text(f"""
epochs = 1
batch_size = 16
output = "{(tmp_path / 'runs').as_posix()}"
[model]
name = "transformer_lm"
d_model = 16
nhead = 2
num_layers = 1
dim_feedforward = 32
[data]
name = "text"
path = "{text.as_posix()}"
seq_len = 16
[optimizer]
name = "adamw"
lr = 0.003
""")
    code, out, err = _run(["train", str(cfg), "-q"], capsys)
    assert code == 0, err
    assert re.search(r"test accuracy: \d+\.\d+%", out)
    (run,) = list((tmp_path / "runs").iterdir())
    sample = (run / "sample.txt").read_text()
    assert len(sample) > 200 and set(sample) <= set(text.read_text()) | {"\n"}     # written in its vocabulary
    assert "sample:\n" in out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fashion_cnn", "vae_mnist", "gan_mnist", "siamese_mnist", "rbm_mnist",
                                  "autoencoder_mnist", "mlp_mnist"])
def test_shipped_configs_run_one_epoch_on_a_subset(tmp_path, capsys, real_data, name):
    text = (ROOT / "configs" / f"{name}.toml").read_text()
    text = text.replace("[data]\n", "[data]\nsubset = 256\n")
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(text)
    code, out, err = _run(["train", str(cfg), "-q", "--epochs", "1", "--output", str(tmp_path / "runs")], capsys)
    assert code == 0, err
    assert re.search(r"test loss: -?\d+\.\d+", out)
