"""Image classification networks with ``torchvision.models``' names, module names and ``state_dict`` keys:
ResNet-18/34/50/101/152, VGG-11/13/16/19 (with and without batch norm), AlexNet, MobileNetV2 and SqueezeNet
1.0/1.1.  ``weights=`` takes torchvision's enums (``ResNet18_Weights.DEFAULT``), their names or the deprecated
``pretrained=True``: the checkpoint is read from PyTorch's hub cache (``~/.cache/torch/hub/checkpoints``),
downloaded there when missing (see ``_weights``).

>>> from ember.vision import models
>>> net = models.resnet18(num_classes=10)
"""
from .resnet import ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import (VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn, AlexNet,  # noqa: F401
                  alexnet)
from .mobilenet import MobileNetV2, InvertedResidual, mobilenet_v2
from .squeezenet import SqueezeNet, Fire, squeezenet1_0, squeezenet1_1
from ._weights import (Weights, WeightsEnum, get_weight, get_model_weights, ResNet18_Weights,  # noqa: F401
                       ResNet34_Weights, ResNet50_Weights, ResNet101_Weights, ResNet152_Weights, VGG11_Weights,
                       VGG11_BN_Weights, VGG13_Weights, VGG13_BN_Weights, VGG16_Weights, VGG16_BN_Weights,
                       VGG19_Weights, VGG19_BN_Weights, AlexNet_Weights, MobileNet_V2_Weights,
                       SqueezeNet1_0_Weights, SqueezeNet1_1_Weights)

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
           "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "AlexNet",
           "alexnet", "MobileNetV2", "InvertedResidual", "mobilenet_v2", "SqueezeNet", "Fire", "squeezenet1_0",
           "squeezenet1_1", "get_model", "list_models", "get_weight", "get_model_weights", "Weights", "WeightsEnum",
           "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights", "ResNet101_Weights", "ResNet152_Weights",
           "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights", "VGG16_Weights",
           "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "AlexNet_Weights", "MobileNet_V2_Weights",
           "SqueezeNet1_0_Weights", "SqueezeNet1_1_Weights"]

_BUILDERS = {name: globals()[name] for name in __all__ if name[0].islower()
             and name not in ("get_model", "list_models", "get_weight", "get_model_weights")}


def list_models() -> list:
    """The names ``get_model`` accepts."""
    return sorted(_BUILDERS)


def get_model(name: str, **config):
    """Build the model registered as ``name`` (e.g. ``"resnet18"``) with ``config`` (torchvision's API)."""
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model {name!r}; available: {', '.join(list_models())}")
    return _BUILDERS[name](**config)
