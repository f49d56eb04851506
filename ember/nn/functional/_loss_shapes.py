"""How the losses of ``_loss.py`` take a target of another shape than the input, as PyTorch 2.13: broadcast with
PyTorch's UserWarning (mse/l1/huber/smooth_l1, and ember's log_cosh), broadcast silently (poisson_nll,
gaussian_nll, kl_div, hinge_embedding, soft_margin, multilabel_soft_margin), or refuse with ValueError (the binary
cross-entropies); shapes that do not broadcast raise PyTorch's RuntimeError, naming the loss.
"""
from __future__ import annotations

import warnings

from ... import ops as O
from ...backend import xp
from ...backend.device import like as _like
from ...tensor import Tensor


def _as_target(input, target) -> Tensor:
    """The target as a Tensor of input's dtype."""
    if not isinstance(target, Tensor):
        target = Tensor._make(_like(xp.asarray(target, input._data.dtype), input._data))
    if target._data.dtype != input._data.dtype:
        target = target.to(input.dtype)
    return target


def _check_broadcast(op, a, b, names=("input", "target")):
    """Raise PyTorch's broadcast error (a RuntimeError naming the first non-singleton dim from the right where
    the sizes differ) when shapes ``a`` and ``b`` do not broadcast."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"{op}: The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) "
                               f"at non-singleton dimension {i} ({names[0]} shape {a}, {names[1]} shape {b})")


def _target_like(input, target, op, warn=True) -> Tensor:
    """The target as a Tensor of input's dtype, broadcastable with input (not expanded: the elementwise ops
    broadcast).  A target of another shape gives PyTorch's UserWarning where PyTorch warns (``warn``: mse, l1,
    huber, smooth_l1, and ember's log_cosh) and silently broadcasts where PyTorch does (poisson_nll,
    gaussian_nll, kl_div, hinge_embedding, soft_margin, multilabel_soft_margin); shapes that do not broadcast
    raise RuntimeError as PyTorch's."""
    target = _as_target(input, target)
    if tuple(target.shape) != tuple(input.shape):
        if warn:
            warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                          f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                          f"Please ensure they have the same size.", stacklevel=3)
        _check_broadcast(op, input.shape, target.shape)
    return target


def _target_same(input, target, op, message) -> Tensor:
    """The target as a Tensor of input's dtype and exactly input's shape (the binary cross-entropies refuse
    another shape with ValueError, as PyTorch)."""
    target = _as_target(input, target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: " + message.format(t=target.shape, i=input.shape))
    return target


def _expanded(input, target):
    """input and target expanded to their broadcast shape (for the fused kernels, which take equal shapes)."""
    if tuple(target.shape) == tuple(input.shape):
        return input, target
    return O.broadcast_tensors(input, target)
