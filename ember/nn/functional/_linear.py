"""``F.linear`` and ``F.bilinear``: the functional forms of ``nn.Linear`` and ``nn.Bilinear``."""
from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor
from ...ops.nn_linear import linear_op
from ... import ops as _ops

__all__ = ["linear", "bilinear"]

_nd = np.ndarray


def _check_tensor(x, name, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be an ember Tensor, got {type(x).__name__}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over any leading dimensions: input (*, in_features), weight
    (out_features, in_features), bias (out_features) -> (*, out_features).  One GEMM forward, two backward.

    >>> F.linear(ember.randn(8, 3), ember.randn(4, 3), ember.zeros(4)).shape
    ember.Size([8, 4])
    """
    # the common case (a Linear layer's call, every step) in a few comparisons on the host arrays
    xd, wd = getattr(input, "_data", None), getattr(weight, "_data", None)
    if (type(xd) is _nd and type(wd) is _nd and xd.ndim == 2 and wd.ndim == 2 and xd.shape[1] == wd.shape[1]
            and xd.dtype == wd.dtype and xd.dtype.kind == "f" and isinstance(input, Tensor)
            and isinstance(weight, Tensor)):
        bd = None if bias is None else getattr(bias, "_data", None)
        if bias is None or (type(bd) is _nd and bd.shape == (wd.shape[0],) and bd.dtype == xd.dtype
                            and isinstance(bias, Tensor)):
            return linear_op(input, weight, bias)
    _check_tensor(input, "input", "linear")
    _check_tensor(weight, "weight", "linear")
    if weight.dim() == 1 and bias is None and input.dim() >= 1 and input.shape[-1] == weight.shape[0]:
        return _ops.matmul(input, weight)          # PyTorch allows a 1-D weight (a dot product per row)
    if weight.dim() != 2:
        raise RuntimeError(f"linear expected a 2-D weight of shape (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.dim() == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear expected input of shape (*, {weight.shape[1]}) to match weight of shape "
                           f"{tuple(weight.shape)}, got {tuple(input.shape)}")
    if bias is not None:
        _check_tensor(bias, "bias", "linear")
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        # PyTorch runs a contiguous 3-D input as one addmm on its (rows, in) view: the bias must then broadcast
        # to (rows, out)
        want = (math.prod(out_shape[:-1]), out_shape[-1]) if input.dim() == 3 and input.is_contiguous() \
            else out_shape
        try:
            ok = np.broadcast_shapes(tuple(bias.shape), want) == want
        except ValueError:
            ok = False
        if not ok:            # PyTorch adds any bias that broadcasts to the output (without enlarging it)
            raise RuntimeError(f"linear expected a bias broadcastable to the output shape {out_shape} (e.g. "
                               f"({weight.shape[0]},)), got {tuple(bias.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(f"linear expected input, weight and bias of the same dtype, got input {input.dtype}, "
                           f"weight {weight.dtype}" + (f", bias {bias.dtype}" if bias is not None else ""))
    if input.dtype == np.bool_:
        raise NotImplementedError("linear: not implemented for bool tensors")
    return linear_op(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = input1 @ weight[k] @ input2 + bias[k]``: input1 (*, in1), input2 (*, in2), weight
    (out, in1, in2), bias (out) -> (*, out).  Computed as one GEMM with the weight laid out (in1, out*in2),
    then a product and sum with input2.

    >>> F.bilinear(ember.randn(5, 3), ember.randn(5, 4), ember.randn(2, 3, 4)).shape
    ember.Size([5, 2])
    """
    for n, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor(t, n, "bilinear")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear expected a 3-D weight (out_features, in1_features, in2_features), got "
                           f"shape {tuple(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if bias is not None and tuple(bias.shape) != (out_f,):
        raise RuntimeError(f"bilinear(): expected bias of shape ({out_f},) to match weight of shape "
                           f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    if input1.dim() == 0 or input1.shape[-1] != in1 or input2.dim() == 0 or input2.shape[-1] != in2 \
            or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear expected input1 of shape (*, {in1}) and input2 of shape (*, {in2}) with the "
                           f"same leading dims, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    t = _ops.matmul(x1, w).reshape(-1, out_f, in2)
    y = _ops.sum(t * x2.unsqueeze(1), -1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))
