"""Pooling and resampling layers with PyTorch's names and arguments: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``, ``MaxUnpool1d/2d/3d``, ``Upsample``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``, ``PixelShuffle``, ``PixelUnshuffle``, ``LPPool1d/2d/3d``, ``ChannelShuffle`` and the
padding layers (``ZeroPad2d``, ``ReflectionPad2d``, ...).  They hold no parameters; the kernels live in
``ember.ops.pool`` (padding: ``ember.ops.pad``)."""
from __future__ import annotations

from ..module import Module
from ..functional import _pool as P

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
           "PixelShuffle", "PixelUnshuffle"]


def _check_dims(x, nd, layer):
    if x.ndim not in (nd + 1, nd + 2):
        dims = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
        raise RuntimeError(f"{layer} expected input of shape (N, C, {dims}) or (C, {dims}), got "
                           f"{tuple(x.shape)}")


class _MaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        _check_dims(input, self._nd, type(self).__name__)
        fn = {1: P.max_pool1d, 2: P.max_pool2d, 3: P.max_pool3d}[self._nd]
        return fn(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                  return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling, as ``torch.nn.MaxPool2d``; ``stride`` defaults to ``kernel_size``; with
    ``return_indices=True`` the forward also returns the flat per-plane indices :class:`MaxUnpool2d` takes.

    >>> nn.MaxPool2d(2)(ember.randn(8, 6, 28, 28)).shape
    ember.Size([8, 6, 14, 14])
    """
    _nd = 2


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L), as ``torch.nn.MaxPool1d``.

    >>> nn.MaxPool1d(2)(ember.randn(2, 3, 10)).shape
    ember.Size([2, 3, 5])
    """
    _nd = 1


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.MaxPool3d``; options as
    :class:`MaxPool2d` (indices flat per (D, H, W) volume).

    >>> nn.MaxPool3d(2)(ember.randn(2, 3, 8, 8, 8)).shape
    ember.Size([2, 3, 4, 4, 4])
    """
    _nd = 3


class _AvgPoolNd(Module):
    """The 2-D and 3-D average pooling layers' arguments, ``extra_repr`` and forward."""

    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        _check_dims(input, self._nd, type(self).__name__)
        fn = P.avg_pool2d if self._nd == 2 else P.avg_pool3d
        return fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                  self.divisor_override)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling, as ``torch.nn.AvgPool2d`` (``count_include_pad``, ``ceil_mode``,
    ``divisor_override``).

    >>> nn.AvgPool2d(2)(ember.randn(2, 3, 8, 8)).shape
    ember.Size([2, 3, 4, 4])
    """
    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W), as ``torch.nn.AvgPool3d``; options as
    :class:`AvgPool2d`.

    >>> nn.AvgPool3d(2)(ember.randn(2, 3, 8, 8, 8)).shape
    ember.Size([2, 3, 4, 4, 4])
    """
    _nd = 3


class AvgPool1d(Module):
    """1-D average pooling over (N, C, L), as ``torch.nn.AvgPool1d``.

    >>> nn.AvgPool1d(2)(ember.randn(2, 3, 10)).shape
    ember.Size([2, 3, 5])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> None:
        super().__init__()
        self.kernel_size = _one(kernel_size)
        self.stride = _one(stride if (stride is not None) else kernel_size)
        self.padding = _one(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        _check_dims(input, 1, "AvgPool1d")
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


def _one(v):
    """PyTorch's AvgPool1d stores its arguments as 1-tuples."""
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


class _AdaptiveBase(Module):
    def __init__(self, output_size, return_indices=False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveBase):
    """Adaptive average pooling to a fixed ``output_size`` (int or (H, W); None keeps that size), as
    ``torch.nn.AdaptiveAvgPool2d``.

    >>> nn.AdaptiveAvgPool2d((1, 1))(ember.randn(2, 512, 7, 7)).shape
    ember.Size([2, 512, 1, 1])
    """

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        _check_dims(input, 2, "AdaptiveAvgPool2d")
        return P.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveBase):
    """Adaptive average pooling over (N, C, L), as ``torch.nn.AdaptiveAvgPool1d``.

    >>> nn.AdaptiveAvgPool1d(4)(ember.randn(2, 3, 10)).shape
    ember.Size([2, 3, 4])
    """

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        _check_dims(input, 1, "AdaptiveAvgPool1d")
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptiveBase):
    """Adaptive average pooling over (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (int or (D, H, W); None
    keeps that size), as ``torch.nn.AdaptiveAvgPool3d``.

    >>> nn.AdaptiveAvgPool3d(1)(ember.randn(2, 64, 4, 7, 7)).shape
    ember.Size([2, 64, 1, 1, 1])
    """

    def __init__(self, output_size) -> None:
        super().__init__(output_size)

    def forward(self, input):
        _check_dims(input, 3, "AdaptiveAvgPool3d")
        return P.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveBase):
    """Adaptive max pooling over (N, C, D, H, W) or (C, D, H, W), optionally returning the flat per-volume
    indices, as ``torch.nn.AdaptiveMaxPool3d``.

    >>> nn.AdaptiveMaxPool3d(2)(ember.randn(2, 3, 5, 7, 9)).shape
    ember.Size([2, 3, 2, 2, 2])
    """

    def forward(self, input):
        _check_dims(input, 3, "AdaptiveMaxPool3d")
        return P.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveBase):
    """Adaptive max pooling to ``output_size``, optionally returning indices, as ``torch.nn.AdaptiveMaxPool2d``.

    >>> nn.AdaptiveMaxPool2d(3)(ember.randn(2, 3, 7, 9)).shape
    ember.Size([2, 3, 3, 3])
    """

    def forward(self, input):
        _check_dims(input, 2, "AdaptiveMaxPool2d")
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveBase):
    """Adaptive max pooling over (N, C, L), as ``torch.nn.AdaptiveMaxPool1d``.

    >>> nn.AdaptiveMaxPool1d(4)(ember.randn(2, 3, 10)).shape
    ember.Size([2, 3, 4])
    """

    def forward(self, input):
        _check_dims(input, 1, "AdaptiveMaxPool1d")
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        nd = self._nd
        self.kernel_size = _nt(kernel_size, nd)
        self.stride = _nt(stride if (stride is not None) else kernel_size, nd)
        self.padding = _nt(padding, nd)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        fn = {1: P.max_unpool1d, 2: P.max_unpool2d, 3: P.max_unpool3d}[self._nd]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)


def _nt(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of :class:`MaxPool2d` (non-maxima set to zero), as ``torch.nn.MaxUnpool2d``; forward takes
    ``(input, indices, output_size=None)``.

    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> y, i = pool(ember.randn(1, 1, 4, 4)); unpool(y, i).shape
    ember.Size([1, 1, 4, 4])
    """
    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of :class:`MaxPool3d` (non-maxima set to zero), as ``torch.nn.MaxUnpool3d``.

    >>> y, i = nn.MaxPool3d(2, return_indices=True)(ember.randn(1, 1, 4, 4, 4)); nn.MaxUnpool3d(2)(y, i).shape
    ember.Size([1, 1, 4, 4, 4])
    """
    _nd = 3


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of :class:`MaxPool1d`, as ``torch.nn.MaxUnpool1d``.

    >>> y, i = nn.MaxPool1d(2, return_indices=True)(ember.randn(1, 1, 8)); nn.MaxUnpool1d(2)(y, i).shape
    ember.Size([1, 1, 8])
    """
    _nd = 1


class Upsample(Module):
    """Upsample (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor`` with ``mode``
    nearest, nearest-exact, linear, bilinear, bicubic, trilinear (``align_corners``) or area, as
    ``torch.nn.Upsample``.

    >>> nn.Upsample(scale_factor=2, mode="bilinear")(ember.randn(1, 3, 4, 4)).shape
    ember.Size([1, 3, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return P.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D upsampling (``torch.nn.UpsamplingNearest2d``).

    >>> nn.UpsamplingNearest2d(scale_factor=2)(ember.randn(1, 1, 2, 2)).shape
    ember.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with ``align_corners=True`` (``torch.nn.UpsamplingBilinear2d``).

    >>> nn.UpsamplingBilinear2d(scale_factor=2)(ember.randn(1, 1, 2, 2)).shape
    ember.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r), as ``torch.nn.PixelShuffle`` (sub-pixel convolution).

    >>> nn.PixelShuffle(2)(ember.randn(1, 8, 3, 3)).shape
    ember.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return P.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W), as ``torch.nn.PixelUnshuffle``.

    >>> nn.PixelUnshuffle(2)(ember.randn(1, 2, 6, 6)).shape
    ember.Size([1, 8, 3, 3])
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return P.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class _LPPoolNd(Module):
    _nd = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")

    def forward(self, input):
        fn = {1: P.lp_pool1d, 2: P.lp_pool2d, 3: P.lp_pool3d}[self._nd]
        return fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling ``(sum of x**p over each window)**(1/p)``, as ``torch.nn.LPPool2d``.

    >>> nn.LPPool2d(2, 2)(ember.ones(1, 1, 4, 4)).shape
    ember.Size([1, 1, 2, 2])
    """
    _nd = 2


class LPPool1d(_LPPoolNd):
    """Power-average pooling over (N, C, L), as ``torch.nn.LPPool1d``.

    >>> nn.LPPool1d(2, 2)(ember.ones(1, 1, 4)).shape
    ember.Size([1, 1, 2])
    """
    _nd = 1


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (N, C, D, H, W), as ``torch.nn.LPPool3d``.

    >>> nn.LPPool3d(2, 2)(ember.ones(1, 1, 4, 4, 4)).shape
    ember.Size([1, 1, 2, 2, 2])
    """
    _nd = 3


class ChannelShuffle(Module):
    """Interleave ``groups`` channel groups (ShuffleNet), as ``torch.nn.ChannelShuffle``.

    >>> nn.ChannelShuffle(2)(ember.arange(4.).reshape(1, 4, 1, 1)).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return P.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


# ---------------------------------------------------------------------------------------------------------
# padding layers (torch.nn.ZeroPad2d, ReflectionPad2d, ...): F.pad with a fixed padding and mode
# ---------------------------------------------------------------------------------------------------------
class _PadNd(Module):
    _n = 2
    _mode = "constant"
    _with_value = False

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        if isinstance(padding, (list, tuple)):
            if len(padding) != 2 * self._n:
                raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self._n} ints, "
                                 f"got {padding!r}")
            self.padding = tuple(int(p) for p in padding)
        else:
            self.padding = (int(padding),) * (2 * self._n)
        self.value = float(value)

    def forward(self, input):
        from ...ops import pad as _pad
        if self._mode == "constant":
            return _pad(input, self.padding, mode="constant", value=self.value)
        return _pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        if self._with_value:
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _pad_class(name, n, mode, with_value, doc):
    """One padding layer class: PyTorch's constructor signature (``padding`` and, for ConstantPad, ``value``)."""
    attrs = {"_n": n, "_mode": mode, "_with_value": with_value, "__doc__": doc, "__module__": __name__}
    if not with_value and mode == "constant":
        attrs["__init__"] = lambda self, padding: _PadNd.__init__(self, padding, 0.0)
    elif with_value:
        attrs["__init__"] = lambda self, padding, value: _PadNd.__init__(self, padding, value)
    else:
        attrs["__init__"] = lambda self, padding: _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), attrs)


_PADS = []
for _n in (1, 2, 3):
    for _name, _mode, _val in (("ZeroPad", "constant", False), ("ConstantPad", "constant", True),
                               ("ReflectionPad", "reflect", False), ("ReplicationPad", "replicate", False),
                               ("CircularPad", "circular", False)):
        _cls = f"{_name}{_n}d"
        globals()[_cls] = _pad_class(
            _cls, _n, _mode, _val,
            f"Pads the last {_n} dim(s) of the input ({_mode} padding{', with `value`' if _val else ''}); "
            f"``padding`` is an int or a {2 * _n}-tuple (left, right{', top, bottom' if _n > 1 else ''}"
            f"{', front, back' if _n > 2 else ''}), as ``torch.nn.{_cls}``.")
        _PADS.append(_cls)

__all__ += ["LPPool1d", "LPPool2d", "LPPool3d", "ChannelShuffle"] + _PADS
