"""``F.conv1d``, ``F.conv2d``, ``F.conv3d``, ``F.conv_transpose1d``, ``F.conv_transpose2d``,
``F.conv_transpose3d``, ``F.unfold``, ``F.fold``: the functional forms of the convolution layers.  The kernels
(im2col + one GEMM, col2im backward) and the input checks live in ``ember.ops.conv`` (the 3-D ones in
``ember.ops._conv3d``, one call of a 2-D kernel each); this file is the ``torch.nn.functional`` face of them."""
from __future__ import annotations

from ...ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, unfold, fold
from ...ops._conv3d import conv3d, conv_transpose3d

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold"]
