"""Dropout layers: active in training mode, identity in eval mode (``model.eval()``)."""
from __future__ import annotations

from ..module import Module
from ..functional import _dropout as F

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(p, (int, float)) or isinstance(p, bool) or p < 0 or p > 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` during training, scaling the kept ones by 1/(1-p), so eval
    (identity) needs no rescaling.  Shape: any -> same.

    >>> d = nn.Dropout(0.5); d.eval(); d(ember.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (scaled by 1/(1-p))."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) inputs with probability ``p`` (scaled by 1/(1-p)).

    As in PyTorch, a 3-D input is taken as (N, C, L) (with PyTorch's warning), and other ranks warn that they
    are deprecated and run, masking the first two dims (a 2-D input is then dropped element-wise)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole 3-D feature maps of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p`` (scaled
    by 1/(1-p)).  Other ranks warn (PyTorch's deprecation message) and run as unbatched input, one draw per
    entry of the first dim."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the self-normalizing property of SELU networks (zero mean, unit variance).
    Shape: any -> same."""

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (one draw per (sample, channel)), for SELU networks, as
    ``torch.nn.FeatureAlphaDropout``.  Input (N, C, *).  Identity in eval mode.

    >>> nn.FeatureAlphaDropout(0.2).eval()(ember.ones(2, 3, 4)).shape
    ember.Size([2, 3, 4])
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
