"""VGG-11/13/16/19, with and without batch norm (Simonyan and Zisserman, 2014), and AlexNet (Krizhevsky et al.,
2012), with torchvision's module names (``features``, ``avgpool``, ``classifier``) and initialisation."""
from __future__ import annotations

from ... import nn
from ...nn import init
from ._utils import no_pretrained_weights, with_weights

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "AlexNet",
           "alexnet"]

# channels per 3x3 convolution, "M" for a 2x2 max pool: torchvision's configurations A, B, D, E
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm: bool = False) -> nn.Sequential:
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Stacks of 3x3 convolutions and max pools (``features``), a 7x7 adaptive average pool and three linear
    layers with dropout (``classifier``)."""

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(cfg: str, batch_norm: bool, weights, kwargs) -> VGG:
    no_pretrained_weights(weights, kwargs)
    return VGG(make_layers(CFGS[cfg], batch_norm=batch_norm), **kwargs)


@with_weights("vgg11")
def vgg11(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A; 132.9 M parameters with 1000 classes)."""
    return _vgg("A", False, weights, kwargs)


@with_weights("vgg11_bn")
def vgg11_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch norm after every convolution."""
    return _vgg("A", True, weights, kwargs)


@with_weights("vgg13")
def vgg13(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("B", False, weights, kwargs)


@with_weights("vgg13_bn")
def vgg13_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("B", True, weights, kwargs)


@with_weights("vgg16")
def vgg16(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D; 138.4 M parameters with 1000 classes)."""
    return _vgg("D", False, weights, kwargs)


@with_weights("vgg16_bn")
def vgg16_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch norm after every convolution."""
    return _vgg("D", True, weights, kwargs)


@with_weights("vgg19")
def vgg19(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("E", False, weights, kwargs)


@with_weights("vgg19_bn")
def vgg19_bn(*, weights=None, progress: bool = True, **kwargs) -> VGG:
    return _vgg("E", True, weights, kwargs)


class AlexNet(nn.Module):
    """Five convolutions (11x11/4, 5x5, three 3x3) with max pools, a 6x6 adaptive average pool and three linear
    layers with dropout: torchvision's single-GPU variant (61.1 M parameters with 1000 classes)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


@with_weights("alexnet")
def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet (inputs of at least 63x63 pixels; 224x224 as trained)."""
    no_pretrained_weights(weights, kwargs)
    return AlexNet(**kwargs)
