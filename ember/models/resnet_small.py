"""A small ResNet whose activation is a constructor argument, for the activation study (ReLU against leaky ReLU,
ELU, SELU, Swish with fixed and trainable beta, Mish and GELU; ``examples/activation_study.py`` and
``configs/activation_study.toml``).

    net = SmallResNet(activation="gelu")                 # (N, 1, 28, 28) -> (N, 10)
    net = SmallResNet(activation="swish_trainable", widths=(16, 32, 64), blocks=3)   # ResNet-20's layout

ResNet-20's design (He et al., 2016, CIFAR variant): a 3x3 stem, three stages of 3x3 basic blocks (the second
and third start with stride 2 and a 1x1 projection shortcut), global average pooling and a linear classifier.
The defaults (one block per stage, widths 8/16/32) cut it down to run in minutes on two cores.
"""
from __future__ import annotations

import ember
from .. import nn

__all__ = ["SmallResNet", "Swish", "ACTIVATIONS", "make_activation"]


class Swish(nn.Module):
    """``x * sigmoid(beta * x)`` (Ramachandran et al., 2017); ``trainable`` makes beta a parameter (one per
    layer, starting at 1); with beta fixed at 1 it is ``nn.SiLU``."""

    def __init__(self, trainable: bool = False) -> None:
        super().__init__()
        if trainable:
            self.beta = nn.Parameter(ember.ones(1))
        else:
            self.register_buffer("beta", ember.ones(1))

    def forward(self, x):
        return x * ember.sigmoid(self.beta * x)


ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "selu": nn.SELU,
    "swish": lambda: Swish(False), "swish_trainable": lambda: Swish(True), "mish": nn.Mish, "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
}


def make_activation(name: str) -> nn.Module:
    """A new activation layer for one of the ``ACTIVATIONS`` names."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, act: str) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.a1, self.a2 = make_activation(act), make_activation(act)
        self.short = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                      if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return self.a2(self.b2(self.c2(self.a1(self.b1(self.c1(x))))) + self.short(x))


class SmallResNet(nn.Module):
    """``activation`` (a name of ``ACTIVATIONS``) everywhere; ``widths`` per stage, ``blocks`` basic blocks per
    stage; any input size (global average pooling)."""

    def __init__(self, activation: str = "relu", num_classes: int = 10, in_channels: int = 1,
                 widths=(8, 16, 32), blocks: int = 1) -> None:
        super().__init__()
        make_activation(activation)                      # an unknown name fails here, with the list
        widths = tuple(int(w) for w in widths)
        if len(widths) < 1 or min(widths) < 1 or int(blocks) < 1:
            raise ValueError(f"SmallResNet: widths must be positive and blocks >= 1, got {widths}, {blocks}")
        self.activation_name = activation
        layers = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                  make_activation(activation)]
        cin = widths[0]
        for i, w in enumerate(widths):
            for j in range(int(blocks)):
                layers.append(_Block(cin, w, 2 if i > 0 and j == 0 else 1, activation))
                cin = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)
