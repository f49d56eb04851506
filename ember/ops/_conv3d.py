"""``conv3d`` and ``conv_transpose3d`` as ONE call each of the 2-D kernels (``ember.ops.conv``).

A 3-D convolution is a 2-D one once each output depth position carries its own depth window as channels: the
``KD`` depth slices that output depth ``od`` reads (``x[:, :, od*sd + kd*dd]``, kd < KD) are stacked as
channels ``(C, KD)`` of an image of a batch of ``N*OD`` images, and the weight ``(O, C/g, KD, KH, KW)`` is
read as ``(O, C/g*KD, KH, KW)`` (a view: for each group the channels stay group-major, so ``groups`` carries
over).  The 2-D kernel then does the (H, W) part: padding, stride, dilation, bias, and its backward and
double backward; the depth window stacking is a strided slice + stack whose gradient adds the slices back.
The stacked input is ``KD/sd`` times the input's size (a copy, as the 2-D kernel's own columns are).

The transposed convolution is the adjoint: every input depth slice is one image of a batch of ``N*ID``, the
weight ``(C_in, C_out/g, KD, KH, KW)`` is read as ``(C_in, C_out/g*KD, KH, KW)``, so the 2-D transposed kernel
gives each (input slice, kernel depth) pair's contribution, and one ``index_add`` along depth adds them at
output depth ``id*sd + kd*dd`` (then the padding is cropped, output_padding appended and the bias added).
"""
from __future__ import annotations

from ..autograd._torch_names import tag as _tname
from ..tensor import Tensor
from .conv import _conv_args, _conv_t_args, _Conv2d, _ConvTranspose2d

__all__ = ["conv3d", "conv_transpose3d"]


def _depth_windows(x, kd, sd, dd, od):
    """(N, C, D, H, W) -> (N*OD, C*KD, H, W): for each output depth the KD input slices it reads."""
    from . import stack
    n, c, _, h, w = x.shape
    slices = [x[:, :, k * dd:k * dd + (od - 1) * sd + 1:sd] for k in range(kd)]      # each (N, C, OD, H, W)
    st = stack(slices, 2) if kd > 1 else slices[0].unsqueeze(2)                       # (N, C, KD, OD, H, W)
    return st.permute(0, 3, 1, 2, 4, 5).reshape(n * od, c * kd, h, w)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution (cross-correlation) over ``input`` (N, C_in, D, H, W) or (C_in, D, H, W) with ``weight``
    (C_out, C_in/groups, kD, kH, kW) and optional ``bias`` (C_out,), as ``torch.nn.functional.conv3d``;
    ``padding``: int, triple, ``"valid"`` or ``"same"`` (stride 1 only).  Output size per dim
    ``(size + 2*padding - dilation*(k-1) - 1) // stride + 1``.

    >>> conv3d(ember.randn(2, 3, 6, 8, 8), ember.randn(4, 3, 3, 3, 3), padding=1).shape
    ember.Size([2, 4, 6, 8, 8])
    """
    from . import pad as _pad
    x, unbatched, stride, dilation, pads, groups = _conv_args(input, weight, bias, stride, padding, dilation,
                                                              groups, 3, "conv3d")
    n, o, kd = x.shape[0], weight.shape[0], weight.shape[2]
    if pads[0] != (0, 0):
        x = _pad(x, (0, 0, 0, 0) + pads[0])                     # depth padding only; (H, W) is the kernel's
    od = (x.shape[2] - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    x2 = _depth_windows(x, kd, stride[0], dilation[0], od)
    w2 = weight.reshape(o, weight.shape[1] * kd, weight.shape[3], weight.shape[4])
    y = _Conv2d.apply(x2, w2, bias, stride[1:], pads[1:], dilation[1:], groups)      # (N*OD, O, OH, OW)
    out = y.reshape(n, od, o, y.shape[2], y.shape[3]).permute(0, 2, 1, 3, 4).contiguous()
    out = _tname(out, "ConvolutionBackward0")    # PyTorch's one node (ember's last, of the composition)
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 3-D convolution (the adjoint of :func:`conv3d`), as ``torch.nn.functional.conv_transpose3d``.
    ``weight`` is (C_in, C_out/groups, kD, kH, kW); output size per dim
    ``(size-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``.

    >>> conv_transpose3d(ember.randn(2, 4, 3, 5, 5), ember.randn(4, 2, 3, 3, 3), stride=2, padding=1,
    ...                  output_padding=1).shape
    ember.Size([2, 2, 6, 10, 10])
    """
    from ..creation import zeros, arange
    from . import index_add, pad as _pad
    x, unbatched, stride, dilation, p, op_, groups = _conv_t_args(input, weight, bias, stride, padding,
                                                                  output_padding, groups, dilation, 3,
                                                                  "conv_transpose3d")
    n, cin, d, h, w = x.shape
    cog, kd, kh, kw = weight.shape[1:]
    cout, sd, dd = cog * groups, stride[0], dilation[0]
    x2 = x.permute(0, 2, 1, 3, 4).reshape(n * d, cin, h, w)
    w2 = weight.reshape(cin, cog * kd, kh, kw)
    y = _ConvTranspose2d.apply(x2, w2, None, stride[1:], tuple((a, a) for a in p[1:]), dilation[1:], groups,
                               op_[1:])                                     # (N*D, C_out*KD, OH, OW)
    oh, ow = y.shape[2:]
    y = y.reshape(n, d, cout, kd, oh, ow).permute(0, 2, 3, 1, 4, 5).reshape(n, cout, kd * d, oh, ow)
    full = (d - 1) * sd + dd * (kd - 1) + 1
    target = (arange(kd)[:, None] * dd + arange(d)[None, :] * sd).reshape(-1)     # kd-major, as y's depth
    out = index_add(zeros(n, cout, full, oh, ow, dtype=y.dtype, device=y.device), 2, target, y)
    if op_[0] > p[0]:
        out = _pad(out, (0, 0, 0, 0, 0, op_[0] - p[0]))
    out = out[:, :, p[0]:p[0] + full - 2 * p[0] + op_[0]]
    if bias is not None:
        out = out + bias.reshape(1, cout, 1, 1, 1)
    out = _tname(out.contiguous(), "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out
