"""Dropout layers: active in training mode, identity in eval mode (``model.eval()``)."""
from __future__ import annotations

import warnings

from ..module import Module
from ..functional import _dropout as F
from ..functional._dropout import _deprecated_rank

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


_DROPOUT2D_3D = ("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                 "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                 "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                 "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                 "dropout1d instead.")


def _feature_dropout(input, p, training, inplace, lead):
    """Dropout with one draw per entry of the first ``lead`` dims, broadcast over the rest."""
    if not training or p == 0:
        return input
    shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
    return F._apply_mask(input, p, shape, inplace)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) inputs with probability ``p`` (scaled by 1/(1-p)).

    As in PyTorch, a 3-D input is taken as (N, C, L) (with PyTorch's warning), and other ranks warn that they
    are deprecated and run, masking the first two dims (a 2-D input is then dropped element-wise)."""

    def forward(self, input):
        nd = input.dim()
        if nd < 2:
            raise RuntimeError(f"Dropout2d: Feature dropout requires at least 2 dimensions in the input, got "
                               f"shape {tuple(input.shape)}")
        if nd not in (3, 4):
            warnings.warn(_deprecated_rank("dropout2d", nd, 2), stacklevel=2)
            return _feature_dropout(input, self.p, self.training, self.inplace, 2)
        if nd == 3:
            warnings.warn(_DROPOUT2D_3D, stacklevel=2)
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
