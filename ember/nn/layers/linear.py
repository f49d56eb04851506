"""Fully connected layers and shape helpers: ``Identity``, ``Linear``, ``Bilinear``, ``Flatten``,
``Unflatten``, with PyTorch's parameter names and default initialization."""
from __future__ import annotations

import math
import operator

from ...tensor import Tensor
from ...creation import empty
from ... import ops as _ops
from ..module import Module
from ..parameter import Parameter
from .. import init
from ..functional._linear import linear, bilinear

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as in PyTorch).

    >>> nn.Identity()(ember.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


def _sizes(layer, **sizes):
    """The sizes as ints (anything with ``__index__``, as PyTorch's ``empty()`` takes); a float or other type
    raises TypeError, as in PyTorch."""
    out = []
    for name, v in sizes.items():
        try:
            out.append(operator.index(v))
        except TypeError:
            raise TypeError(f"{layer}: {name} must be an int, got {type(v).__name__} {v!r}") from None
    return out


class Linear(Module):
    """``y = x @ weight.T + bias``: input (*, in_features) -> (*, out_features).

    ``weight`` (out_features, in_features) starts as ``kaiming_uniform_(a=sqrt(5))``, i.e.
    U(-1/sqrt(in_features), 1/sqrt(in_features)); ``bias`` (out_features) U(-1/sqrt(in), 1/sqrt(in)), as in
    PyTorch.  The forward is one fused op (one GEMM + bias; backward two GEMMs + one sum).

    >>> fc = nn.Linear(784, 10)
    >>> fc(ember.randn(64, 784)).shape
    ember.Size([64, 10])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        in_features, out_features = _sizes("Linear", in_features=in_features, out_features=out_features)
        if in_features < 0 or out_features < 0:      # (PyTorch: RuntimeError from the weight's empty())
            raise RuntimeError(f"Linear: expected non-negative in_features and out_features, got {in_features} "
                               f"and {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(self.out_features, self.in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weights with PyTorch's default initialization."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.dim() == 0 or input.shape[-1] != self.in_features:
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"Linear(in_features={self.in_features}) expected input of shape "
                               f"(*, {self.in_features}), got {shape}")
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name PyTorch gives ``MultiheadAttention.out_proj`` (so models print alike)."""


class Bilinear(Module):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]``: inputs (*, in1_features) and (*, in2_features) -> (*, out).

    ``weight`` (out_features, in1_features, in2_features) and ``bias`` (out_features) start as
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as in PyTorch.

    >>> nn.Bilinear(3, 4, 2)(ember.randn(5, 3), ember.randn(5, 4)).shape
    ember.Size([5, 2])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        in1_features, in2_features, out_features = _sizes("Bilinear", in1_features=in1_features,
                                                          in2_features=in2_features, out_features=out_features)
        if in1_features <= 0:
            raise ValueError(f"Bilinear: in1_features must be > 0, but got (in1_features={in1_features})")
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(self.out_features, self.in1_features, self.in2_features, dtype=dtype,
                                      device=device))
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default (a view).

    >>> nn.Flatten()(ember.zeros(2, 3, 4, 5)).shape
    ember.Size([2, 60])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return _ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size``: ``Unflatten(1, (1, 28, 28))`` maps (N, 784) to
    (N, 1, 28, 28).

    >>> nn.Unflatten(1, (2, 5))(ember.zeros(3, 10)).shape
    ember.Size([3, 2, 5])
    """

    def __init__(self, dim, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, int):
            if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int)
                                                                         for s in unflattened_size):
                raise TypeError(f"Unflatten expected unflattened_size to be a tuple of ints, got "
                                f"{unflattened_size!r}")
        elif isinstance(dim, str):
            raise TypeError("Unflatten with a named dim is not supported in ember (named tensors are not)")
        else:
            raise TypeError(f"Unflatten expected dim to be an int, got {type(dim).__name__}")
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size) if isinstance(unflattened_size, list) \
            else unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return _ops.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
