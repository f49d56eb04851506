"""Pooling and resampling functions (``F.max_pool2d``, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``,
``F.max_unpool2d``, ``F.interpolate``, ``F.upsample``, ``F.pixel_shuffle``, ...).  The kernels and checks live in
``ember.ops.pool``; the deprecated ``upsample*`` aliases are defined here, as in PyTorch."""
from __future__ import annotations

from ...ops.pool import (max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d,
                         adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d, max_unpool2d, interpolate,
                         pixel_shuffle, pixel_unshuffle)

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "interpolate", "upsample",
           "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "max_pool1d_with_indices", "max_pool2d_with_indices"]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (``torch.nn.functional.upsample``).

    >>> F.upsample(ember.randn(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Nearest-neighbour upsampling (``torch.nn.functional.upsample_nearest``, deprecated in PyTorch).

    >>> F.upsample_nearest(ember.randn(1, 1, 2, 2), scale_factor=3).shape
    ember.Size([1, 1, 6, 6])
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with ``align_corners=True`` (``torch.nn.functional.upsample_bilinear``).

    >>> F.upsample_bilinear(ember.randn(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """:func:`max_pool2d` returning ``(output, indices)`` (``torch.nn.functional.max_pool2d_with_indices``).

    >>> y, i = F.max_pool2d_with_indices(ember.randn(1, 1, 4, 4), 2)
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """:func:`max_pool1d` returning ``(output, indices)`` (``torch.nn.functional.max_pool1d_with_indices``).

    >>> y, i = F.max_pool1d_with_indices(ember.randn(1, 1, 4), 2)
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
