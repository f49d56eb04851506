"""``ember train`` with the style_transfer model (issue 19, item 5): the shipped config validates; a tiny run
(16x16 image, a few Adam steps, random VGG-19 weights) lowers the loss and writes stylized.png at the image's
size; content/style images and VGG-19 weights come from files named in the config (relative to its folder);
bad files are one ``ember: error:`` line with exit code 2."""
import json
import pathlib

import numpy as np
import pytest

import ember
from ember import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]

TINY = """
seed = 0
epochs = 2
output = "{out}"

[model]
name = "style_transfer"
size = 16
{model}

[data]
name = "synthetic"
kind = "steps"
n_samples = 2

[optimizer]
name = "adam"
lr = 0.05
"""


def _config(tmp_path, model="", text=TINY):
    cfg = tmp_path / "style.toml"
    if model.startswith("size"):
        text = text.replace("size = 16\n", "")
    cfg.write_text(text.format(out=(tmp_path / "runs").as_posix(), model=model))
    return cfg


def _train(tmp_path, capsys, model=""):
    code = cli.main(["train", str(_config(tmp_path, model))])
    out, err = capsys.readouterr()
    return code, out, err


def _run_dir(tmp_path):
    (run,) = (tmp_path / "runs").iterdir()
    return run


def test_shipped_style_transfer_config_validates():
    cfg = cli.load_config(str(ROOT / "configs" / "style_transfer.toml"))
    assert cfg["model"]["name"] == "style_transfer" and cfg["batch_size"] == 1
    assert cfg["data"]["kind"] == "steps" and cfg["data"]["val_fraction"] == 0
    assert cfg["metrics"] == []


def test_style_transfer_trains_lowers_the_loss_and_writes_stylized_png(tmp_path, capsys):
    import matplotlib.image
    code, out, err = _train(tmp_path, capsys)
    assert code == 0, err
    assert err.count("random VGG-19 weights") == 1 and len(err.strip().splitlines()) == 1
    assert "(768 parameters)" in out                    # the 1x3x16x16 image only, not VGG-19's weights
    run = _run_dir(tmp_path)
    hist = json.loads((run / "history.json").read_text())["history"]
    assert len(hist["loss"]) == 2 and hist["loss"][1] < hist["loss"][0]
    assert {"content", "style"} <= set(hist)
    img = matplotlib.image.imread(run / "stylized.png")
    assert img.shape[:2] == (16, 16) and img[..., :3].std() > 0.01
    assert matplotlib.image.imread(run / "style_transfer.png").shape[:2] == (64, 4 * (3 * 16 + 4))
    # a checkpoint holds the image alone; evaluate rebuilds the model from the run's config
    state = ember.load(run / "checkpoint.safetensors")
    assert set(state["model"]) == {"image"}
    code = cli.main(["evaluate", str(run / "checkpoint.safetensors")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "content:" in out and "style:" in out


def test_style_transfer_reads_images_and_weights_from_files(tmp_path, capsys):
    from PIL import Image
    from ember.models.style_transfer import vgg19_features
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(tmp_path / "c.png")
    Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "s.jpg")
    ember.manual_seed(1)
    features = vgg19_features()
    # torchvision's layout: keys "features.N.weight" (and classifier keys, which are ignored)
    ember.save({f"features.{k}": v for k, v in features.state_dict().items()}, tmp_path / "vgg.safetensors")
    code, out, err = _train(tmp_path, capsys, 'content = "c.png"\nstyle = "s.jpg"\nweights = "vgg.safetensors"')
    assert code == 0, err
    assert "random VGG-19" not in err
    cfg = cli.load_config(str(_run_dir(tmp_path) / "config.toml"))
    assert cfg["model"]["weights"] == str(tmp_path / "vgg.safetensors")      # resolved from the config's folder
    loaded = vgg19_features(str(tmp_path / "vgg.safetensors"))
    for i in (0, 34):
        assert np.array_equal(loaded[i].weight.detach().numpy(), features[i].weight.detach().numpy())


@pytest.mark.parametrize("model,match", [
    ('weights = "missing.pth"', "'model.weights': missing.pth does not exist"),
    ('content = "nowhere.png"', "'model.content': nowhere.png does not exist"),
    ('weights = 3', "'model.weights' must be a file name"),
    ('weights = "bad.pth"', "cannot read the VGG-19 weights"),
    ('weights = "small.safetensors"', "are not VGG-19's features"),
    ('style = "bad.pth"', "style image"),
    ('size = 8', "size must be an integer >= 16"),
    ('init = "zeros"', "init must be 'content' or 'noise'"),
])
def test_style_transfer_bad_files_and_values_are_one_error_line(tmp_path, capsys, model, match):
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint at all")
    ember.save({"features.0.weight": ember.zeros(2, 3, 3, 3)}, tmp_path / "small.safetensors")
    code, out, err = _train(tmp_path, capsys, model)
    assert code == 2, (out, err)
    lines = [ln for ln in err.strip().splitlines() if "random VGG-19 weights" not in ln]
    assert len(lines) == 1 and lines[0].startswith("ember: error:"), err
    assert match in lines[0], lines[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_steps_data_needs_batch_size_one(tmp_path, capsys):
    cfg = _config(tmp_path, text=TINY.replace("epochs = 2", "epochs = 2\nbatch_size = 4"))
    code = cli.main(["train", str(cfg)])
    _, err = capsys.readouterr()
    assert code == 2 and "'batch_size' must be 1 with data kind 'steps'" in err


def test_style_transfer_reads_a_torch_pth_and_refuses_pickled_code(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    import os
    from ember.models.style_transfer import vgg19_features
    ember.manual_seed(3)
    features = vgg19_features()
    state = {f"features.{k}": torch.from_numpy(v.detach().numpy().copy()) for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)            # torchvision's classifier keys are ignored
    torch.save(state, tmp_path / "vgg19.pth")
    loaded = vgg19_features(str(tmp_path / "vgg19.pth"))
    assert np.array_equal(loaded[34].weight.detach().numpy(), features[34].weight.detach().numpy())

    class Payload:
        def __reduce__(self):
            return (os.remove, (str(tmp_path / "canary"),))
    (tmp_path / "canary").write_text("still here")
    torch.save({"features.0.weight": Payload()}, tmp_path / "evil.pth")
    code, out, err = _train(tmp_path, capsys, 'weights = "evil.pth"')
    assert code == 2 and "ember: error:" in err and "not allowed" in err, err
    assert (tmp_path / "canary").exists()                         # the pickled call never ran
