"""Dropout functions: ``F.dropout`` (inverted: kept values scaled by 1/(1-p) at train time, identity at
eval), channel-wise ``F.dropout1d``/``F.dropout2d``/``F.dropout3d``, and ``F.alpha_dropout`` and
``F.feature_alpha_dropout`` for SELU networks.

Masks are drawn from ember's global generator, so ``ember.manual_seed`` makes them reproducible; for a tensor
on a CUDA device the mask is drawn on the host the same way and moved there, so a seed gives the same masks
(and the same training run) on every device.  Each is one
recorded op whose backward multiplies by the same mask (so it is differentiable again).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Function
from ...backend.device import like as _like
from ...backend.random import rng_of
from ...ops import _parallel_elementwise as _pe
from ...ops._parallel_random import keep_mask
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "alpha_dropout"]

# PyTorch's AlphaDropout constant: -SELU's alpha * scale (the value SELU saturates to)
_ALPHA = 1.7580993408473766


class _MaskScale(Function):
    """out = x * m + b with a constant mask ``m`` (broadcastable) and shift ``b``; grad = g * m."""

    @staticmethod
    def forward(ctx, a, mask=None, shift=None):
        ctx.mask = mask
        if a.size < _pe.SPLIT_FROM or (out := _pe.par_ufunc(np.multiply, a, mask)) is None:
            out = a * mask
        if shift is not None:
            out += shift
        return out

    @staticmethod
    def backward(ctx, g):
        return g * Tensor._make(ctx.mask)


def _check_p(p, name):
    if not isinstance(p, (int, float)) or isinstance(p, bool) or p < 0 or p > 1:
        raise ValueError(f"{name} probability has to be between 0 and 1, but got {p}")


def _apply_mask(input: Tensor, p: float, mask_shape, inplace: bool):
    rng = rng_of(None)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    s = input.dtype.type(scale)
    x = input._data
    full = tuple(mask_shape) == tuple(input.shape)
    if full and type(x) is np.ndarray and x.flags.c_contiguous:
        mask = keep_mask(rng, mask_shape, p, x.dtype, s)        # drawn and scaled in one pass
    elif full:
        # the mask in the input's memory layout, so that the result keeps it, as PyTorch's (same draws)
        keep = _like(keep_mask(rng, mask_shape, p), x)          # (host draw, on input's device)
        mask = np.empty_like(x, dtype=input.dtype)
        if mask.size < _pe.SPLIT_FROM or _pe.par_ufunc(np.multiply, keep, s, out=mask) is None:
            np.multiply(keep, s, out=mask)
    else:
        mask = _like(keep_mask(rng, mask_shape, p), x).astype(input.dtype) * s
    if inplace:
        return input._inplace(lambda t: _MaskScale.apply(t, mask=mask))
    return _MaskScale.apply(input, mask=mask)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training); identity when
    ``training=False``.  Shape: any -> same.

    >>> F.dropout(ember.ones(4), 0.5, training=False).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _apply_mask(input, p, tuple(input.shape), inplace)


def _channel_dropout(input, p, training, inplace, name, batched_ndim):
    _check_p(p, name)
    if input.dim() not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
                           f"{input.dim()}D input of shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    # one draw per channel: the mask covers the (N, C) dims (or C alone) and broadcasts over the rest
    lead = 2 if input.dim() == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
    return _apply_mask(input, p, shape, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: input (N, C, L) or (C, L); each channel kept with probability 1-p, scaled."""
    return _channel_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole feature maps: input (N, C, H, W) (or 3-D, where dims 0 and 1 are masked, as in PyTorch);
    each channel kept with probability 1-p and scaled by 1/(1-p).

    >>> F.dropout2d(ember.ones(2, 3, 4, 4), 0.5).shape
    ember.Size([2, 3, 4, 4])
    """
    import warnings
    _check_p(p, "dropout2d")
    nd = input.dim()
    # PyTorch's rules and warnings: other ranks are deprecated but run (a 2-D input is dropped element-wise,
    # as the mask covers the first two dims), and a 3-D input is taken as (N, C, L)
    if nd not in (3, 4):
        warnings.warn(_deprecated_rank("dropout2d", nd, 2), stacklevel=2)
    if nd == 3:
        warnings.warn(_DROPOUT2D_3D, stacklevel=2)
    if not training or p == 0 or input.numel() == 0:
        return input
    return _apply_mask(input, p, _feature_shape(input, "dropout2d"), inplace)


_DROPOUT2D_3D = ("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                 "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                 "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                 "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                 "dropout1d instead.")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for self-normalizing (SELU) networks: dropped values are set to SELU's saturation value and an
    affine correction keeps the mean and variance of the input (PyTorch's formula).  Identity at eval.

    >>> F.alpha_dropout(ember.randn(3), 0.2, training=False).shape
    ember.Size([3])
    """
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    return _alpha_mask(input, p, tuple(input.shape), inplace)


def _alpha_mask(input, p, mask_shape, inplace):
    """Alpha dropout with one keep/drop draw per entry of ``mask_shape`` (broadcast over the input)."""
    if p == 1:
        return input * 0.0
    keep = _like((rng_of(None).random(tuple(mask_shape)) >= p).astype(input.dtype), input._data)
    a = 1.0 / math.sqrt((_ALPHA ** 2 * p + 1) * (1 - p))
    mask = keep * input.dtype.type(a)
    shift = ((keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p).astype(input.dtype)
    if inplace:
        return input._inplace(lambda t: _MaskScale.apply(t, mask=mask, shift=shift))
    return _MaskScale.apply(input, mask=mask, shift=shift)


def _feature_shape(input, name):
    """One draw per (sample, channel): the mask shape (N, C, 1, ...) of PyTorch's feature dropouts."""
    if input.dim() < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{tuple(input.shape)}")
    return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)


def _deprecated_rank(name: str, ndim: int, spatial: int) -> str:
    # PyTorch's warning, word for word: other ranks still run (lenient where PyTorch is lenient)
    return (f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in an error in a "
            f"future release. To retain the behavior and silence this warning, please use dropout instead. Note "
            f"that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a "
            f"channel dimension, and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole 3-D feature maps of (N, C, D, H, W) or (C, D, H, W) inputs, each channel kept with probability
    1-p and scaled by 1/(1-p), as ``torch.nn.functional.dropout3d``.  Other ranks warn (PyTorch's deprecation
    message) and run as an unbatched input: one draw per entry of the first dim.

    >>> F.dropout3d(ember.ones(2, 3, 2, 2, 2), 0.5).shape
    ember.Size([2, 3, 2, 2, 2])
    """
    import warnings
    _check_p(p, "dropout3d")
    nd = input.dim()
    if nd not in (4, 5):
        warnings.warn(_deprecated_rank("dropout3d", nd, 3), stacklevel=2)
    if not training or p == 0 or input.numel() == 0:
        return input
    if nd == 0:         # (as unbatched: one dim, where feature dropout needs two)
        raise RuntimeError("dropout3d: Feature dropout requires at least 2 dimensions in the input, got a 0-D "
                           "input")
    lead = 2 if nd == 5 else 1          # an unbatched input: one draw per entry of its first dim
    return _apply_mask(input, p, tuple(input.shape[:lead]) + (1,) * (nd - lead), inplace)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (one draw per (sample, channel), broadcast over the rest), as
    ``torch.nn.functional.feature_alpha_dropout``: dropped channels take SELU's saturation value and the affine
    correction of :func:`alpha_dropout` keeps the mean and variance.  Identity at eval.

    >>> F.feature_alpha_dropout(ember.randn(2, 3, 4), 0.2, training=False).shape
    ember.Size([2, 3, 4])
    """
    _check_p(p, "feature_alpha_dropout")
    if not training or p == 0 or input.numel() == 0:
        return input
    return _alpha_mask(input, p, _feature_shape(input, "feature_alpha_dropout"), inplace)


__all__ += ["dropout3d", "feature_alpha_dropout"]
