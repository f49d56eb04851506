"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``, ``ConvTranspose2d``,
``ConvTranspose3d``, with PyTorch's parameter names, shapes, attributes, default initialization and
``padding_mode`` handling.  The math is in ``ember.ops.conv`` (im2col + one GEMM per call)."""
from __future__ import annotations

import math

from ...tensor import Tensor
from ...creation import empty
from ...ops import pad as _pad
from ..module import Module
from ..parameter import Parameter
from .. import init
from ..functional._conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d
from ..functional._conv import unfold as _unfold, fold as _fold

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(v, n, name, layer):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            v = tuple(v) * n
        if len(v) != n:
            raise ValueError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {v!r}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


class _ConvNd(Module):
    """Shared set-up of the convolution layers (PyTorch's ``_ConvNd``)."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        in_channels, out_channels, groups = int(in_channels), int(out_channels), int(groups)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding", name)
        self.output_padding = _ntuple(output_padding, nd, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        # (left, right) pads per dim, last dim first: what F.pad needs for the non-zero padding modes
        if isinstance(self.padding, str):
            pairs = []
            for d, k in zip(self.dilation, self.kernel_size):
                tot = d * (k - 1) if self.padding == "same" else 0
                pairs.append((tot // 2, tot - tot // 2))
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [p for pair in reversed(pairs) for p in pair]
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: ``kaiming_uniform_(weight, a=sqrt(5))`` and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x):
        nd, name = self._nd, type(self).__name__
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
        if not isinstance(x, Tensor) or x.ndim not in (nd + 1, nd + 2) or x.shape[-nd - 1] != self.in_channels:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise RuntimeError(f"{name} expected input of shape (N, {self.in_channels}, {dims}) or "
                               f"({self.in_channels}, {dims}), got {shape}")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _ConvFwd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = {1: conv1d, 2: conv2d, 3: conv3d}[self._nd]
        if self.padding_mode != "zeros":
            x = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(x, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvFwd):
    """2-D convolution layer: (N, C_in, H, W) -> (N, C_out, H_out, W_out), as ``torch.nn.Conv2d``.

    ``weight`` (out_channels, in_channels/groups, kH, kW) and ``bias`` (out_channels,) start with PyTorch's
    ``kaiming_uniform_(a=sqrt(5))`` scheme.  ``padding`` may be an int, a pair, ``"same"`` or ``"valid"``;
    ``padding_mode`` is ``zeros``, ``reflect``, ``replicate`` or ``circular``.

    >>> conv = nn.Conv2d(1, 6, 5, padding=2)
    >>> conv(ember.randn(8, 1, 28, 28)).shape
    ember.Size([8, 6, 28, 28])
    """
    _nd = 2


class Conv1d(_ConvFwd):
    """1-D convolution layer: (N, C_in, L) -> (N, C_out, L_out), as ``torch.nn.Conv1d``; options as
    :class:`Conv2d`.

    >>> nn.Conv1d(3, 8, 5, padding="same")(ember.randn(4, 3, 50)).shape
    ember.Size([4, 8, 50])
    """
    _nd = 1


class Conv3d(_ConvFwd):
    """3-D convolution layer: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), as ``torch.nn.Conv3d``;
    options as :class:`Conv2d` (triples instead of pairs).

    >>> nn.Conv3d(3, 8, 3, padding=1)(ember.randn(2, 3, 4, 8, 8)).shape
    ember.Size([2, 8, 4, 8, 8])
    """
    _nd = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding=output_padding)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (PyTorch's ``_output_padding``)."""
        if output_size is None:
            return self.output_padding
        nd, name = self._nd, type(self).__name__
        size = [int(s) for s in output_size]
        if len(size) == nd + 2 or (len(size) == nd + 1 and input.ndim == nd + 1):
            size = size[-nd:]
        if len(size) != nd:
            raise ValueError(f"{name}: output_size must have {nd} or {nd + 2} elements (got {len(size)})")
        res = []
        for d in range(nd):
            lo = ((input.shape[input.ndim - nd + d] - 1) * self.stride[d] - 2 * self.padding[d]
                  + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            hi = lo + self.stride[d] - 1
            if not lo <= size[d] <= hi:
                raise ValueError(f"{name}: requested an output size of {size}, but valid sizes range from "
                                 f"{lo} to {hi} in dim {d} (for an input of {tuple(input.shape)})")
            res.append(size[d] - lo)
        return tuple(res)

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        fn = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}[self._nd]
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution ("deconvolution"), the adjoint of :class:`Conv2d`, as
    ``torch.nn.ConvTranspose2d``.  ``weight`` is (in_channels, out_channels/groups, kH, kW); output size
    ``(H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1`` (or ``output_size`` in forward).

    >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1)
    >>> up(ember.randn(2, 16, 7, 7)).shape
    ember.Size([2, 8, 14, 14])
    """
    _nd = 2


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution, as ``torch.nn.ConvTranspose1d``.

    >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(ember.randn(2, 4, 10)).shape
    ember.Size([2, 2, 21])
    """
    _nd = 1


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution, the adjoint of :class:`Conv3d`, as ``torch.nn.ConvTranspose3d``; ``weight``
    is (in_channels, out_channels/groups, kD, kH, kW); options as :class:`ConvTranspose2d`.

    >>> nn.ConvTranspose3d(8, 4, 2, stride=2)(ember.randn(2, 8, 3, 5, 5)).shape
    ember.Size([2, 4, 6, 10, 10])
    """
    _nd = 3


class Unfold(Module):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L), as ``torch.nn.Unfold``.

    >>> nn.Unfold(2)(ember.randn(1, 3, 4, 4)).shape
    ember.Size([1, 12, 9])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return _unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Combine sliding local blocks into a tensor, summing overlaps (col2im): (N, C*kH*kW, L) -> (N, C, H, W),
    as ``torch.nn.Fold``.

    >>> nn.Fold((4, 4), 2)(ember.randn(1, 12, 9)).shape
    ember.Size([1, 3, 4, 4])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return _fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


__all__ += ["Unfold", "Fold"]
