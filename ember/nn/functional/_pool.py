"""Pooling and resampling functions (``F.max_pool2d``, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``,
``F.max_unpool2d``, ``F.interpolate``, ``F.upsample``, ``F.pixel_shuffle``, ...).  The kernels and checks live in
``ember.ops.pool`` (the 3-D ones in ``ember.ops._pool3d``); the deprecated ``upsample*`` aliases are defined
here, as in PyTorch."""
from __future__ import annotations

import math
import warnings

from ...ops.pool import (max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d,
                         adaptive_max_pool1d, adaptive_max_pool2d, max_unpool1d, max_unpool2d, max_unpool3d,
                         interpolate, pixel_shuffle, pixel_unshuffle)
from ...ops._pool3d import max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d
from ...ops.conv import _tuple

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "interpolate", "upsample",
           "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d", "avg_pool3d",
           "max_pool3d_with_indices", "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
           "max_unpool3d"]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (``torch.nn.functional.upsample``).

    >>> F.upsample(ember.randn(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Nearest-neighbour upsampling (``torch.nn.functional.upsample_nearest``, deprecated in PyTorch).

    >>> F.upsample_nearest(ember.randn(1, 1, 2, 2), scale_factor=3).shape
    ember.Size([1, 1, 6, 6])
    """
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear upsampling with ``align_corners=True`` (``torch.nn.functional.upsample_bilinear``).

    >>> F.upsample_bilinear(ember.randn(1, 1, 2, 2), scale_factor=2).shape
    ember.Size([1, 1, 4, 4])
    """
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool2d` returning ``(output, indices)`` (``torch.nn.functional.max_pool2d_with_indices``).

    >>> y, i = F.max_pool2d_with_indices(ember.randn(1, 1, 4, 4), 2)
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool3d` returning ``(output, indices)``
    (``torch.nn.functional.adaptive_max_pool3d_with_indices``).

    >>> y, i = F.adaptive_max_pool3d_with_indices(ember.randn(1, 1, 4, 4, 4), 2)
    """
    return adaptive_max_pool3d(input, output_size, return_indices=True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool3d` returning ``(output, indices)`` (``torch.nn.functional.max_pool3d_with_indices``).

    >>> y, i = F.max_pool3d_with_indices(ember.randn(1, 1, 4, 4, 4), 2)
    """
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """:func:`max_pool1d` returning ``(output, indices)`` (``torch.nn.functional.max_pool1d_with_indices``).

    >>> y, i = F.max_pool1d_with_indices(ember.randn(1, 1, 4), 2)
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool2d` returning ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` returning ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd, op):
    from ... import ops as _ops
    if norm_type in (math.inf, -math.inf):      # PyTorch: max |x| (p = inf), min |x| (p = -inf)
        mp = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
        sign = 1 if norm_type > 0 else -1
        return sign * mp(sign * input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    norm_type = float(norm_type)
    ks = _tuple(kernel_size, nd, "kernel_size", op)
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    out = pool(input.pow(norm_type), ks if nd > 1 else ks[0], stride, 0, ceil_mode)
    # PyTorch: (sign(out) * relu(|out|) * kernel volume) ** (1 / p), the sum of |x|**p over each window
    return (_ops.sign(out) * _ops.relu(_ops.abs(out))).mul(math.prod(ks)).pow(1.0 / norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum over the window of x**p) ** (1/p)`` over (N, C, D, H, W), as
    ``torch.nn.functional.lp_pool3d`` (``p = inf`` is max pooling of |x|).

    >>> F.lp_pool3d(ember.ones(1, 1, 2, 2, 2), 1, 2).tolist()
    [[[[[8.0]]]]]
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, "lp_pool3d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum over the window of x**p) ** (1/p)`` over (N, C, H, W), as
    ``torch.nn.functional.lp_pool2d`` (``p = inf`` is max pooling; p = 1 sum pooling).

    >>> F.lp_pool2d(ember.ones(1, 1, 4, 4), 2, 2).tolist()
    [[[[2.0, 2.0], [2.0, 2.0]]]]
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, "lp_pool2d")


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L), as ``torch.nn.functional.lp_pool1d``.

    >>> F.lp_pool1d(ember.ones(1, 1, 4), 2, 2).tolist()
    [[[1.4142135381698608, 1.4142135381698608]]]
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, "lp_pool1d")


def channel_shuffle(input, groups):
    """Split the channels (dim 1) into ``groups`` and interleave them, as ``torch.nn.functional.channel_shuffle``
    (ShuffleNet): (N, g*k, ...) -> channel order 0, k, 2k, ..., 1, k+1, ...

    >>> F.channel_shuffle(ember.arange(4.).reshape(1, 4, 1, 1), 2).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    g = int(groups)
    if input.dim() < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c = input.shape[:2]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    rest = tuple(input.shape[2:])
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest).contiguous()


__all__ += ["adaptive_max_pool2d_with_indices", "adaptive_max_pool1d_with_indices", "lp_pool1d", "lp_pool2d",
            "lp_pool3d", "channel_shuffle"]
