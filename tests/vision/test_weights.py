"""torchvision's weights API in ember.vision.models: the enums, names, pretrained=True, and checkpoints read from
PyTorch's hub cache (tests write their own checkpoint files; nothing is downloaded)."""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
import warnings

import numpy as np
import pytest

import ember
from ember.vision import models
from ember.vision.models import _weights

torch = pytest.importorskip("torch")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))

    def offline(*a, **k):
        raise urllib.error.URLError("offline (test)")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return tmp_path / "torch_home" / "hub" / "checkpoints"


def _save_torch_checkpoint(model, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}, str(path))


def test_enums_names_urls_and_defaults():
    w = models.ResNet50_Weights
    assert [m.name for m in w] == ["IMAGENET1K_V1", "IMAGENET1K_V2"]
    assert w.DEFAULT is w.IMAGENET1K_V2 and models.ResNet18_Weights.DEFAULT is models.ResNet18_Weights.IMAGENET1K_V1
    assert repr(models.VGG16_Weights.IMAGENET1K_V1) == "VGG16_Weights.IMAGENET1K_V1"
    assert models.VGG16_Weights.IMAGENET1K_V1.url == "https://download.pytorch.org/models/vgg16-397923af.pth"
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V1") is w.IMAGENET1K_V1
    assert models.get_model_weights("resnet50") is w and models.get_model_weights(models.resnet50) is w
    assert w.verify("IMAGENET1K_V1") is w.IMAGENET1K_V1 and w.verify("ResNet50_Weights.DEFAULT") is w.DEFAULT
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        w.verify(models.ResNet18_Weights.DEFAULT)


_BIG = ("alexnet", "resnet101", "resnet152", "resnet50")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith(_BIG) else n
                                  for n in sorted(_weights.ENUMS)])
def test_num_params_meta_is_the_models_count(name):
    model = getattr(models, name)(**({"init_weights": False} if name.startswith("vgg") else {}))
    assert sum(p.numel() for p in model.parameters()) == _weights.ENUMS[name].DEFAULT.meta["num_params"]


def test_weights_load_from_the_hub_cache(hub):
    src = models.squeezenet1_1()
    _save_torch_checkpoint(src, hub / "squeezenet1_1-b8a52dc0.pth")
    for how in (models.SqueezeNet1_1_Weights.IMAGENET1K_V1, "DEFAULT", "IMAGENET1K_V1"):
        got = models.squeezenet1_1(weights=how)
        for k, v in src.state_dict().items():
            np.testing.assert_array_equal(got.state_dict()[k].numpy(), v.numpy())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = models.squeezenet1_1(pretrained=True)
        models.squeezenet1_1(pretrained=False)
    assert [str(w.message) for w in caught] == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use "
        "'weights' instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be removed in "
        "the future. The current behavior is equivalent to passing `weights=SqueezeNet1_1_Weights.IMAGENET1K_V1`. You "
        "can also use `weights=SqueezeNet1_1_Weights.DEFAULT` to get the most up-to-date weights.",
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use "
        "'weights' instead."]
    assert all(w.filename == __file__ for w in caught)
    np.testing.assert_array_equal(got.classifier[1].bias.detach().numpy(), src.classifier[1].bias.detach().numpy())
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.squeezenet1_1(weights="DEFAULT", num_classes=10)


def test_offline_without_the_file_names_url_and_path(hub):
    with pytest.raises(RuntimeError) as e:
        models.squeezenet1_1(weights=models.SqueezeNet1_1_Weights.IMAGENET1K_V1)
    msg = str(e.value)
    assert "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth" in msg
    assert str(hub / "squeezenet1_1-b8a52dc0.pth") in msg and "\n" not in msg
    assert not hub.exists() or not any(hub.iterdir())          # nothing half-written is left


def test_download_checks_the_hash_prefix(tmp_path):
    payload = tmp_path / "src.pth"
    _save_torch_checkpoint(ember.nn.Linear(2, 3), payload)
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    good = tmp_path / f"lin-{digest[:8]}.pth"
    good.write_bytes(payload.read_bytes())
    sd = _weights.load_state_dict_from_url(good.as_uri(), model_dir=str(tmp_path / "cache"), check_hash=True,
                                           progress=False)
    assert sorted(sd) == ["bias", "weight"] and (tmp_path / "cache" / good.name).is_file()
    bad = tmp_path / "lin-00000000.pth"
    bad.write_bytes(payload.read_bytes())
    with pytest.raises(RuntimeError, match="invalid hash value"):
        _weights.load_state_dict_from_url(bad.as_uri(), model_dir=str(tmp_path / "cache"), check_hash=True,
                                          progress=False)
    assert not (tmp_path / "cache" / bad.name).exists()


def test_transforms_preset():
    from PIL import Image
    img = Image.fromarray((np.arange(300 * 280 * 3) % 251).astype(np.uint8).reshape(300, 280, 3))
    out = models.ResNet18_Weights.DEFAULT.transforms()(img)
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == ember.float32
    assert models.ResNet50_Weights.IMAGENET1K_V2.transforms().resize_size == [232]
