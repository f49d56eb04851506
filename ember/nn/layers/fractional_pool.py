"""``FractionalMaxPool2d`` / ``FractionalMaxPool3d`` (PyTorch's pseudo-random pooling layers; the kernel is
``ember.nn.functional._fractional_pool``)."""
from __future__ import annotations

from ..module import Module
from ..functional import _fractional_pool as FP

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None) -> None:
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if nd == 3 and ((isinstance(kernel_size, int) and kernel_size <= 0)
                        or (isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size))):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = _ntuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _ntuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio[:nd]):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        fn = FP.fractional_max_pool2d if self._nd == 2 else FP.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                  _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-D fractional max pooling (``torch.nn.FractionalMaxPool2d``): ``kernel_size`` windows at pseudo-random
    starts giving ``output_size`` or ``output_ratio`` (in (0, 1)) times the input size; exactly one of the two.
    ``_random_samples`` (N, C, 2), if given, is a buffer that fixes the windows.

    >>> nn.FractionalMaxPool2d(3, output_ratio=0.5)(ember.randn(2, 4, 10, 12)).shape
    ember.Size([2, 4, 5, 6])
    """
    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling over (N, C, T, H, W) or (C, T, H, W) (``torch.nn.FractionalMaxPool3d``);
    ``_random_samples`` is (N, C, 3).

    >>> nn.FractionalMaxPool3d(2, output_size=(3, 4, 5))(ember.randn(1, 2, 8, 8, 8)).shape
    ember.Size([1, 2, 3, 4, 5])
    """
    _nd = 3
