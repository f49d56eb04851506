"""``F.batch_norm``, ``F.layer_norm``, ``F.group_norm``, ``F.instance_norm``, ``F.normalize``: the functional
forms of the normalization layers.  The fused kernels (one Function per op with a hand-derived backward) and
the checks live in ``ember.ops.normalization``."""
from __future__ import annotations

from ...ops.normalization import batch_norm as _batch_norm, layer_norm as _layer_norm, group_norm as _group_norm, \
    instance_norm, normalize


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the last ``len(normalized_shape)`` dims, as ``torch.nn.functional.layer_norm``
    (a contiguous result for any input layout, as PyTorch's kernel).  The fused op is
    ``ember.ops.normalization.layer_norm``."""
    out = _layer_norm(input, normalized_shape, weight, bias, eps)
    return out if out.is_contiguous() else out.contiguous()


def _empty_result(input, *params):
    """An empty input normalizes to an empty output of its shape (PyTorch returns one; running statistics are
    left alone), still attached to the graph of the input and of the affine parameters."""
    out = input * 1
    for p in params:
        if p is not None and getattr(p, "requires_grad", False):
            out = out + (p.sum() * 0)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over (N, C, *) per channel C, as ``torch.nn.functional.batch_norm`` (an empty batch
    gives an empty result, as in PyTorch).  The fused kernel is ``ember.ops.normalization.batch_norm``."""
    if hasattr(input, "numel") and input.numel() == 0 and input.ndim >= 2:
        return _empty_result(input, weight, bias)
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization, as ``torch.nn.functional.group_norm`` (an empty input gives an empty result).  The
    fused kernel is ``ember.ops.normalization.group_norm``."""
    if hasattr(input, "numel") and input.numel() == 0 and input.ndim >= 2 and (
            input.shape[1] == 0 or input.shape[1] % int(num_groups) == 0):
        return _empty_result(input, weight, bias)
    return _group_norm(input, num_groups, weight, bias, eps)

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "normalize"]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims, as
    ``torch.nn.functional.rms_norm``: ``x / sqrt(mean(x**2) + eps) * weight``; ``eps`` defaults to the dtype's
    machine epsilon.

    >>> F.rms_norm(ember.tensor([[3.0, 4.0]]), (2,)).tolist()
    [[0.8485281467437744, 1.1313709020614624]]
    """
    import numpy as _np
    from ...tensor import Tensor
    from ... import ops as _ops
    shape = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    if not isinstance(input, Tensor):
        raise TypeError(f"rms_norm: input must be a Tensor, got {type(input).__name__}")
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"rms_norm: expected input with shape [*, {', '.join(map(str, shape))}], got "
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: weight of shape {tuple(weight.shape)} does not match normalized_shape {shape}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"rms_norm: expected a floating point input, got {input.dtype}")
    e = float(_np.finfo(input.dtype).eps) if eps is None else float(eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    y = input * _ops.rsqrt(_ops.mean(input * input, dims, keepdim=True) + e) if dims else input * (input * 0 + 1)
    y = y * weight if weight is not None else y
    return y.contiguous()             # PyTorch's fused kernel returns a contiguous result for any input layout


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (dim 1), as ``torch.nn.functional.local_response_norm``:
    ``x / (k + alpha * mean of x**2 over the `size` neighbouring channels)**beta`` (zero padded).

    >>> F.local_response_norm(ember.ones(1, 4, 2, 2), 3).shape
    ember.Size([1, 4, 2, 2])
    """
    from ... import ops as _ops
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input * 1
    c = input.shape[1]
    sq = input * input
    pad = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    sqp = _ops.pad(sq, pad)                      # zero channels before and after
    acc = None
    for i in range(size):                        # a loop over the window only
        part = _ops.narrow(sqp, 1, i, c)
        acc = part if acc is None else acc + part
    div = (acc * (alpha / size) + k) ** beta
    return input / div


__all__ += ["rms_norm", "local_response_norm"]
