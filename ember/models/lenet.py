"""``LeNet5``: LeCun et al. (1998)'s convolutional network for 28x28 or 32x32 grey digits, with ReLU or tanh.

conv 6@5x5 (padding 2 on 28x28 inputs, so both sizes give 28x28 maps) -> pool 2 -> conv 16@5x5 -> pool 2 ->
fc 120 -> fc 84 -> fc ``num_classes``.
"""
from __future__ import annotations

from .. import nn
from .mlp import make_activation


class LeNet5(nn.Module):
    """LeNet-5 for (N, in_channels, 28, 28) or (N, in_channels, 32, 32) inputs, returning logits (N, num_classes).

    ``activation``: ``'relu'`` (default, trains faster) or ``'tanh'`` (the original); ``pool``: ``'max'`` or
    ``'avg'`` (the original subsampling).

    >>> LeNet5()(ember.randn(4, 1, 28, 28)).shape
    ember.Size([4, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: int = 28, activation="relu",
                 pool: str = "max") -> None:
        super().__init__()
        if input_size not in (28, 32):
            raise ValueError(f"LeNet5: input_size must be 28 or 32, got {input_size}")
        if pool not in ("max", "avg"):
            raise ValueError(f"LeNet5: pool must be 'max' or 'avg', got {pool!r}")
        self.in_channels, self.input_size = in_channels, input_size
        pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        self.conv1 = nn.Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0)
        self.act1 = make_activation(activation, "LeNet5")
        self.pool1 = pool_cls(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.act2 = make_activation(activation, "LeNet5")
        self.pool2 = pool_cls(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.act3 = make_activation(activation, "LeNet5")
        self.fc2 = nn.Linear(120, 84)
        self.act4 = make_activation(activation, "LeNet5")
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        """(N, C, H, W) images -> (N, num_classes) logits."""
        s = self.input_size
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, s, s):
            raise ValueError(f"LeNet5 expected input of shape (N, {self.in_channels}, {s}, {s}), "
                             f"got {tuple(x.shape)}")
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.act3(self.fc1(self.flatten(x)))
        x = self.act4(self.fc2(x))
        return self.fc3(x)
