"""``F.conv1d``, ``F.conv2d``, ``F.conv3d``, ``F.conv_transpose1d``, ``F.conv_transpose2d``,
``F.conv_transpose3d``, ``F.unfold``, ``F.fold``: the functional forms of the convolution layers.  The kernels
(im2col + one GEMM, col2im backward) and the input checks live in ``ember.ops.conv`` (the 3-D ones in
``ember.ops._conv3d``, one call of a 2-D kernel each); this file is the ``torch.nn.functional`` face of them."""
from __future__ import annotations

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold
from ...ops._conv3d import conv3d, conv_transpose3d

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold", "conv_tbc"]


def conv_tbc(input, weight, bias, pad: int = 0):
    """1-D convolution in (time, batch, channels) layout, like ``torch.conv_tbc``: ``input`` (T, B, C_in),
    ``weight`` (kernel_width, C_in, C_out), ``bias`` (C_out,), ``pad`` zero steps on both ends of time; result
    (T + 2 * pad - kernel_width + 1, B, C_out).  It is ``conv1d`` on transposed views (same gradients)."""
    if input.ndim != 3:
        raise RuntimeError(f"conv_tbc: Input must have 3 dims: time, batch, in_channel (got shape "
                           f"{tuple(input.shape)})")
    if weight.ndim != 3:
        raise RuntimeError(f"conv_tbc: Weight tensor must have 3 dims: kernel_width, in_channels, out_channels. "
                           f"(got shape {tuple(weight.shape)})")
    if bias.ndim != 1:
        raise RuntimeError(f"conv_tbc: Bias must be 1-D (got shape {tuple(bias.shape)})")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError(f"conv_tbc: Input dim 2 (input channels) is not == dim 1 in the weight tensor "
                           f"({input.shape[2]} vs {weight.shape[1]})")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError(f"conv_tbc: Bias size must equal dim 2 in the weight tensor (output channels). "
                           f"({bias.shape[0]} vs {weight.shape[2]})")
    steps = input.shape[0] + 2 * pad - weight.shape[0] + 1
    if steps < 0:
        raise RuntimeError(f"conv_tbc: Trying to create tensor with negative dimension {steps}: "
                           f"[{steps}, {input.shape[1]}, {weight.shape[2]}]")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)
