"""Semantic segmentation: ``FCN``, a small fully convolutional network returning per-pixel class logits at the
input's resolution (train with ``nn.CrossEntropyLoss`` against (N, H, W) integer masks)."""
from __future__ import annotations

from .. import nn

__all__ = ["FCN"]


class FCN(nn.Module):
    """Fully convolutional segmentation net for (N, in_channels, H, W) images with even H and W, returning
    logits (N, num_classes, H, W):

    conv 3x3 (16) -> BN -> ReLU -> strided conv 3x3 (32, /2) -> BN -> ReLU -> dilated conv 3x3 (32, dilation 2,
    wider context) -> BN -> ReLU -> transposed conv 2x2 (16, x2, back to full size) -> ReLU -> 1x1 conv to
    ``num_classes`` (a per-pixel classifier).  No fully connected layer, so any even image size works.

    >>> FCN()(ember.randn(2, 1, 32, 32)).shape
    ember.Size([2, 3, 32, 32])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 3, width: int = 16) -> None:
        super().__init__()
        w = width
        self.in_channels, self.num_classes = in_channels, num_classes
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, padding=1, stride=2), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=2, dilation=2), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 2, stride=2), nn.ReLU(),
            nn.Conv2d(w, num_classes, 1))

    def forward(self, x):
        """(N, in_channels, H, W) -> (N, num_classes, H, W) logits."""
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] % 2 or x.shape[3] % 2:
            raise ValueError(f"FCN expected input of shape (N, {self.in_channels}, H, W) with even H and W, "
                             f"got {tuple(x.shape)}")
        return self.net(x)
