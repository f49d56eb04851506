"""torchvision's pretrained-weights API for the models ember has: the ``*_Weights`` enums (``ResNet18_Weights.
IMAGENET1K_V1``, ``.DEFAULT``, ``.url``, ``.transforms()``, ``.meta``, ``.get_state_dict()``), ``get_weight``,
``get_model_weights``, the deprecated ``pretrained=True`` with torchvision's warnings, and
``load_state_dict_from_url``, which reads torchvision's checkpoint files from PyTorch's hub cache
(``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``; ``ember.hub``): a machine
that has used torchvision has them already, and ``ember.load`` reads PyTorch's ``.pth`` files.  A missing file
is downloaded there, checked against the hash prefix in its name; offline, the error names the URL and the path
to copy the file to.

Differences from torchvision: ``meta`` holds ``num_params`` and ``min_size`` but not the 1000 ImageNet category
names (``meta["categories"]`` is absent), and ``transforms()`` is a plain callable on PIL images or tensors.
"""
from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from ...hub import get_dir, load_state_dict_from_url  # noqa: F401 - torchvision re-exports them too

__all__ = ["Weights", "WeightsEnum", "ImageClassification", "load_state_dict_from_url", "get_dir", "get_weight",
           "get_model_weights", "handle_weights"]

class ImageClassification:
    """torchvision's evaluation preset: resize (bilinear) to ``resize_size``, center-crop ``crop_size``, a float
    tensor in [0, 1], normalized by ``mean``/``std`` (ImageNet's by default)."""

    def __init__(self, *, crop_size: int, resize_size: int = 256, mean=(0.485, 0.456, 0.406),
                 std=(0.229, 0.224, 0.225), interpolation="bilinear", antialias: bool = True) -> None:
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias

    def __call__(self, img):
        from ...data import transforms as T
        from ...tensor import Tensor
        img = T.CenterCrop(self.crop_size)(T.Resize(self.resize_size, self.interpolation,
                                                    antialias=self.antialias)(img))
        if not isinstance(img, Tensor):
            img = T.ToTensor()(img)
        elif img.is_floating_point() is False:
            img = img.float() / 255.0
        return T.Normalize(self.mean, self.std)(img)

    def __repr__(self) -> str:
        return (f"ImageClassification(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
                f"    mean={self.mean}\n    std={self.std}\n    interpolation=InterpolationMode.BILINEAR\n)")


@dataclass(eq=False)
class Weights:
    """One set of pretrained weights: where the file is, the preprocessing it expects, facts about it."""
    url: str
    transforms: Callable
    meta: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other) -> bool:
        return isinstance(other, Weights) and self.url == other.url and self.meta == other.meta

    def __hash__(self) -> int:
        return hash(self.url)


class WeightsEnum(enum.Enum):
    """torchvision's base of the ``*_Weights`` enums (``DEFAULT`` is an alias of the recommended member)."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                                f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self) -> dict:
        return self.value.meta


_BASE = "https://download.pytorch.org/models/"


def _w(file: str, num_params: int, min_size=(1, 1), resize: int = 256) -> Weights:
    preset = partial(ImageClassification, crop_size=224) if resize == 256 else \
        partial(ImageClassification, crop_size=224, resize_size=resize)
    return Weights(_BASE + file, preset, {"num_params": num_params, "min_size": min_size})


def _enum(name: str, members: dict, default: str):
    members = dict(members)
    members["DEFAULT"] = members[default]
    return WeightsEnum(name, members, module=__name__)


# file names (with their hash prefixes) as torchvision publishes them
ResNet18_Weights = _enum("ResNet18_Weights", {"IMAGENET1K_V1": _w("resnet18-f37072fd.pth", 11689512)},
                         "IMAGENET1K_V1")
ResNet34_Weights = _enum("ResNet34_Weights", {"IMAGENET1K_V1": _w("resnet34-b627a593.pth", 21797672)},
                         "IMAGENET1K_V1")
ResNet50_Weights = _enum("ResNet50_Weights", {"IMAGENET1K_V1": _w("resnet50-0676ba61.pth", 25557032),
                                              "IMAGENET1K_V2": _w("resnet50-11ad3fa6.pth", 25557032, resize=232)},
                         "IMAGENET1K_V2")
ResNet101_Weights = _enum("ResNet101_Weights", {"IMAGENET1K_V1": _w("resnet101-63fe2227.pth", 44549160),
                                                "IMAGENET1K_V2": _w("resnet101-cd907fc2.pth", 44549160,
                                                                    resize=232)}, "IMAGENET1K_V2")
ResNet152_Weights = _enum("ResNet152_Weights", {"IMAGENET1K_V1": _w("resnet152-394f9c45.pth", 60192808),
                                                "IMAGENET1K_V2": _w("resnet152-f82ba261.pth", 60192808,
                                                                    resize=232)}, "IMAGENET1K_V2")
VGG11_Weights = _enum("VGG11_Weights", {"IMAGENET1K_V1": _w("vgg11-8a719046.pth", 132863336, (32, 32))},
                      "IMAGENET1K_V1")
VGG11_BN_Weights = _enum("VGG11_BN_Weights", {"IMAGENET1K_V1": _w("vgg11_bn-6002323d.pth", 132868840, (32, 32))},
                         "IMAGENET1K_V1")
VGG13_Weights = _enum("VGG13_Weights", {"IMAGENET1K_V1": _w("vgg13-19584684.pth", 133047848, (32, 32))},
                      "IMAGENET1K_V1")
VGG13_BN_Weights = _enum("VGG13_BN_Weights", {"IMAGENET1K_V1": _w("vgg13_bn-abd245e5.pth", 133053736, (32, 32))},
                         "IMAGENET1K_V1")
VGG16_Weights = _enum("VGG16_Weights", {"IMAGENET1K_V1": _w("vgg16-397923af.pth", 138357544, (32, 32))},
                      "IMAGENET1K_V1")
VGG16_BN_Weights = _enum("VGG16_BN_Weights", {"IMAGENET1K_V1": _w("vgg16_bn-6c64b313.pth", 138365992, (32, 32))},
                         "IMAGENET1K_V1")
VGG19_Weights = _enum("VGG19_Weights", {"IMAGENET1K_V1": _w("vgg19-dcbb9e9d.pth", 143667240, (32, 32))},
                      "IMAGENET1K_V1")
VGG19_BN_Weights = _enum("VGG19_BN_Weights", {"IMAGENET1K_V1": _w("vgg19_bn-c79401a0.pth", 143678248, (32, 32))},
                         "IMAGENET1K_V1")
AlexNet_Weights = _enum("AlexNet_Weights", {"IMAGENET1K_V1": _w("alexnet-owt-7be5be79.pth", 61100840, (63, 63))},
                        "IMAGENET1K_V1")
MobileNet_V2_Weights = _enum("MobileNet_V2_Weights", {"IMAGENET1K_V1": _w("mobilenet_v2-b0353104.pth", 3504872),
                                                      "IMAGENET1K_V2": _w("mobilenet_v2-7ebf99e0.pth", 3504872,
                                                                          resize=232)}, "IMAGENET1K_V2")
SqueezeNet1_0_Weights = _enum("SqueezeNet1_0_Weights",
                              {"IMAGENET1K_V1": _w("squeezenet1_0-b66bff10.pth", 1248424, (21, 21))},
                              "IMAGENET1K_V1")
SqueezeNet1_1_Weights = _enum("SqueezeNet1_1_Weights",
                              {"IMAGENET1K_V1": _w("squeezenet1_1-b8a52dc0.pth", 1235496, (17, 17))},
                              "IMAGENET1K_V1")

ENUMS = {"resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights, "resnet50": ResNet50_Weights,
         "resnet101": ResNet101_Weights, "resnet152": ResNet152_Weights, "vgg11": VGG11_Weights,
         "vgg11_bn": VGG11_BN_Weights, "vgg13": VGG13_Weights, "vgg13_bn": VGG13_BN_Weights,
         "vgg16": VGG16_Weights, "vgg16_bn": VGG16_BN_Weights, "vgg19": VGG19_Weights, "vgg19_bn": VGG19_BN_Weights,
         "alexnet": AlexNet_Weights, "mobilenet_v2": MobileNet_V2_Weights, "squeezenet1_0": SqueezeNet1_0_Weights,
         "squeezenet1_1": SqueezeNet1_1_Weights}
__all__ += [e.__name__ for e in ENUMS.values()]


def get_model_weights(name):
    """The weights enum of a model builder (given by name or as the function), as torchvision's."""
    key = name if isinstance(name, str) else getattr(name, "__name__", None)
    if key not in ENUMS:
        raise ValueError(f"Unknown model {key!r}")
    return ENUMS[key]


def get_weight(name: str):
    """The weights named ``"<Enum>.<MEMBER>"``, e.g. ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for e in ENUMS.values():
        if e.__name__ == enum_name:
            return e[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")


def handle_weights(model: str, weights, kwargs: dict):
    """The builders' weights argument as torchvision takes it: ``None``, a member, its name (``"DEFAULT"``,
    ``"IMAGENET1K_V1"``), or the deprecated ``pretrained=`` keyword (warned, as torchvision's).  Returns the
    member or None, and fixes ``num_classes`` to the weights' 1000 classes (an other value is an error)."""
    cls = ENUMS[model]
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please "
                      "use 'weights' instead.", stacklevel=3)
        if pretrained:
            weights = cls.IMAGENET1K_V1
            warnings.warn("Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and "
                          "may be removed in the future. The current behavior is equivalent to passing "
                          f"`weights={cls.__name__}.IMAGENET1K_V1`. You can also use "
                          f"`weights={cls.__name__}.DEFAULT` to get the most up-to-date weights.", stacklevel=3)
    weights = cls.verify(weights)
    if weights is not None and kwargs.get("num_classes", 1000) != 1000:
        raise ValueError(f"The parameter 'num_classes' expected value 1000 but got {kwargs['num_classes']} "
                         f"instead.")
    return weights


def load_weights(model, weights, progress: bool):
    """Load ``weights`` (a member or None) into ``model``; returns the model."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
