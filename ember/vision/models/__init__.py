"""Image classification networks with ``torchvision.models``' names, module names and ``state_dict`` keys:
ResNet-18/34/50/101/152, VGG-11/13/16/19 (with and without batch norm), AlexNet, MobileNetV2 and SqueezeNet
1.0/1.1.  ``weights=None`` only: ember downloads no weights, but weights exported from torchvision to a
safetensors file load with ``model.load_state_dict(ember.load(path))``.

>>> from ember.vision import models
>>> net = models.resnet18(num_classes=10)
"""
from .resnet import ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import (VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn, AlexNet,  # noqa: F401
                  alexnet)
from .mobilenet import MobileNetV2, InvertedResidual, mobilenet_v2
from .squeezenet import SqueezeNet, Fire, squeezenet1_0, squeezenet1_1

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "AlexNet",
           "alexnet", "MobileNetV2", "InvertedResidual", "mobilenet_v2", "SqueezeNet", "Fire", "squeezenet1_0",
           "squeezenet1_1", "get_model", "list_models"]

_BUILDERS = {name: globals()[name] for name in __all__ if name[0].islower() and name not in ("get_model", "list_models")}


def list_models() -> list:
    """The names ``get_model`` accepts."""
    return sorted(_BUILDERS)


def get_model(name: str, **config):
    """Build the model registered as ``name`` (e.g. ``"resnet18"``) with ``config`` (torchvision's API)."""
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name!r}; available: {', '.join(list_models())}")
    return _BUILDERS[name](**config)
