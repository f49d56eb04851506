"""``F.conv1d``, ``F.conv2d``, ``F.conv_transpose1d``, ``F.conv_transpose2d``, ``F.unfold``, ``F.fold``: the
functional forms of the convolution layers.  The kernels (im2col + one GEMM, col2im backward) and the input
checks live in ``ember.ops.conv``; this file is the ``torch.nn.functional`` face of them."""
from __future__ import annotations

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]
