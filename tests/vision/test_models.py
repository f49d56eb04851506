"""ember.vision.models against torch.nn references written here with torchvision's module names: the same
state_dict keys and shapes, torchvision's published parameter counts, and equal outputs after a state_dict
travels torch -> safetensors file -> ember."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from safetensors.torch import save_file

import ember
from ember.vision import models

# torchvision's documented parameter counts (1000 classes)
PARAMS = {"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032, "mobilenet_v2": 3504872,
          "squeezenet1_0": 1248424, "squeezenet1_1": 1235496, "alexnet": 61100840}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts_match_torchvision(name):
    model = models.get_model(name)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]


@pytest.mark.slow
def test_vgg_parameter_counts_match_torchvision():
    for name, n in (("vgg11", 132863336), ("vgg16_bn", 138365992)):       # (no init: 100 M random draws)
        assert sum(p.numel() for p in models.get_model(name, init_weights=False).parameters()) == n


# -- torch references (torchvision's structure and names, written for this test) -------------------------------
class TBasic(tnn.Module):
    expansion = 1

    def __init__(self, inp, planes, stride=1, down=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = down

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + idt)


class TBottle(tnn.Module):
    expansion = 4

    def __init__(self, inp, planes, stride=1, down=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inp, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = down

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + idt)


class TResNet(tnn.Module):
    def __init__(self, block, layers, num_classes):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                down = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                      tnn.BatchNorm2d(planes * block.expansion))
            blocks = [block(self.inplanes, planes, stride, down)]
            self.inplanes = planes * block.expansion
            blocks += [block(self.inplanes, planes) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _cna(i, o, k=3, s=1, g=1):
    return tnn.Sequential(tnn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), tnn.BatchNorm2d(o),
                          tnn.ReLU6(inplace=True))


class TInvRes(tnn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        self.use_res = s == 1 and i == o
        layers = ([_cna(i, h, 1)] if t != 1 else []) + [_cna(h, h, 3, s, h), tnn.Conv2d(h, o, 1, bias=False),
                                                        tnn.BatchNorm2d(o)]
        self.conv = tnn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class TMobileNetV2(tnn.Module):
    def __init__(self, num_classes):
        super().__init__()
        feats, c_in = [_cna(3, 32, 3, 2)], 32
        for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                           [6, 160, 3, 2], [6, 320, 1, 1]]:
            for j in range(n):
                feats.append(TInvRes(c_in, c, s if j == 0 else 1, t))
                c_in = c
        feats.append(_cna(c_in, 1280, 1))
        self.features = tnn.Sequential(*feats)
        self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(tnn.functional.adaptive_avg_pool2d(self.features(x), 1), 1))


class TFire(tnn.Module):
    def __init__(self, i, s, e1, e3):
        super().__init__()
        self.squeeze, self.squeeze_activation = tnn.Conv2d(i, s, 1), tnn.ReLU(inplace=True)
        self.expand1x1, self.expand1x1_activation = tnn.Conv2d(s, e1, 1), tnn.ReLU(inplace=True)
        self.expand3x3, self.expand3x3_activation = tnn.Conv2d(s, e3, 3, padding=1), tnn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class TSqueezeNet11(tnn.Module):
    def __init__(self, num_classes):
        super().__init__()
        p = lambda: tnn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        self.features = tnn.Sequential(
            tnn.Conv2d(3, 64, 3, 2), tnn.ReLU(inplace=True), p(), TFire(64, 16, 64, 64), TFire(128, 16, 64, 64), p(),
            TFire(128, 32, 128, 128), TFire(256, 32, 128, 128), p(), TFire(256, 48, 192, 192),
            TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), TFire(512, 64, 256, 256))
        self.classifier = tnn.Sequential(tnn.Dropout(0.5), tnn.Conv2d(512, num_classes, 1), tnn.ReLU(inplace=True),
                                         tnn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class TVGG11BN(tnn.Module):
    def __init__(self, num_classes):
        super().__init__()
        layers, c = [], 3
        for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
            else:
                layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU(True)]
                c = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
        self.classifier = tnn.Sequential(tnn.Linear(25088, 4096), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, 4096),
                                         tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


CASES = {
    "resnet18": (lambda: TResNet(TBasic, [2, 2, 2, 2], 10), 64),
    "resnet50": (lambda: TResNet(TBottle, [3, 4, 6, 3], 10), 64),
    "mobilenet_v2": (lambda: TMobileNetV2(10), 64),
    "squeezenet1_1": (lambda: TSqueezeNet11(10), 64),
    "vgg11_bn": (lambda: TVGG11BN(10), 32),
}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n.startswith("vgg") else n
                                  for n in sorted(CASES)])
def test_torch_weights_load_and_give_the_same_outputs(tmp_path, name):
    make_ref, size = CASES[name]
    torch.manual_seed(0)
    ref = make_ref().eval()
    with torch.no_grad():                   # non-trivial running statistics, so eval-mode batch norm matters
        for m in ref.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    sd = {k: v.contiguous() for k, v in ref.state_dict().items()}
    path = tmp_path / f"{name}.safetensors"
    save_file(sd, str(path))
    model = models.get_model(name, num_classes=10, **({"init_weights": False} if name.startswith("vgg") else {}))
    ours = model.state_dict()
    assert list(ours) == list(sd)                                   # torchvision's keys, in its order
    assert all(tuple(ours[k].shape) == tuple(v.shape) for k, v in sd.items())
    model.load_state_dict(ember.load(str(path)))
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_alexnet_keys_and_shapes():
    ours = models.alexnet(num_classes=10).state_dict()
    shapes = {k: tuple(v.shape) for k, v in ours.items()}
    assert shapes == {"features.0.weight": (64, 3, 11, 11), "features.0.bias": (64,),
                      "features.3.weight": (192, 64, 5, 5), "features.3.bias": (192,),
                      "features.6.weight": (384, 192, 3, 3), "features.6.bias": (384,),
                      "features.8.weight": (256, 384, 3, 3), "features.8.bias": (256,),
                      "features.10.weight": (256, 256, 3, 3), "features.10.bias": (256,),
                      "classifier.1.weight": (4096, 9216), "classifier.1.bias": (4096,),
                      "classifier.4.weight": (4096, 4096), "classifier.4.bias": (4096,),
                      "classifier.6.weight": (10, 4096), "classifier.6.bias": (10,)}


def test_resnet18_trains_a_step_and_rejects_bad_input():
    model = models.resnet18(num_classes=4)
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    x, y = ember.randn(4, 3, 32, 32), ember.tensor([0, 1, 2, 3])
    loss = ember.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match=r"ResNet expected input of shape \(N, 3, H, W\), got \(4, 1, 32, 32\)"):
        model(ember.randn(4, 1, 32, 32))


def test_pretrained_weights_offline_name_the_file_and_unknown_names_fail(tmp_path, monkeypatch):
    # (tests/vision/test_weights.py covers loading from PyTorch's hub cache)
    import urllib.error
    import urllib.request
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*a, **k):
        raise urllib.error.URLError("offline (test)")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="resnet18-f37072fd.pth"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(KeyError):
        models.resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("resnet19")
