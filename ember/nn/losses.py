"""Loss modules (``nn.MSELoss``, ``nn.CrossEntropyLoss``, ...) with PyTorch's names, constructor signatures and
structure: ``_Loss`` keeps ``reduction`` (translating the legacy ``size_average``/``reduce`` flags) and
``_WeightedLoss`` adds a ``weight`` buffer (saved in ``state_dict`` like PyTorch's).  Each ``forward`` calls the
functional form in ``ember.nn.functional`` (``_loss.py``), where the formulas and checks live.

Beyond PyTorch: ``LogCoshLoss`` (Keras's log-cosh), ``ContrastiveLoss`` (siamese pairs) and ``FocalLoss``.
"""
from __future__ import annotations

import warnings

from . import functional as F
from .module import Module
from ..tensor import Tensor

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "NLLLoss2d", "CTCLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss",
    "HingeEmbeddingLoss",
    "MultiMarginLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MarginRankingLoss", "SoftMarginLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "ContrastiveLoss", "FocalLoss",
    "CosineSimilarity", "PairwiseDistance",
]


def _legacy(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:      # PyTorch's translation, with its warning
        from .._deprecation import legacy_reduction
        return legacy_reduction(size_average, reduce)
    return reduction


def _opt_tensor(t, who, name):
    if t is None or isinstance(t, Tensor):
        return t
    raise TypeError(f"{who}: {name} must be a Tensor or None, got {type(t).__name__}")


class _Loss(Module):
    """Base of the losses: stores ``reduction`` ('none' | 'mean' | 'sum')."""

    _extra_reductions: tuple = ()

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = _legacy(size_average, reduce, reduction)
        allowed = ("none", "mean", "sum") + self._extra_reductions
        if reduction not in allowed:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {', '.join(map(repr, allowed))}, "
                             f"got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with a per-class (or per-element) ``weight`` buffer, None when unweighted."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _opt_tensor(weight, type(self).__name__, "weight"))


# -- regression -------------------------------------------------------------------------------------------------
class MSELoss(_Loss):
    """Mean squared error ``(input - target)**2``; a target of another shape warns and broadcasts (as PyTorch).

    >>> nn.MSELoss()(ember.randn(3, 5, requires_grad=True), ember.randn(3, 5))"""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|`` (MAE).

    >>> nn.L1Loss()(ember.randn(3, 5), ember.randn(3, 5))"""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: quadratic for ``|r| < delta``, linear beyond.

    >>> nn.HuberLoss(delta=0.5)(ember.randn(3, 5), ember.randn(3, 5))"""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1: ``0.5 r**2 / beta`` for ``|r| < beta``, ``|r| - 0.5 beta`` beyond.

    >>> nn.SmoothL1Loss(beta=0.5)(ember.randn(3, 5), ember.randn(3, 5))"""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class LogCoshLoss(_Loss):
    """Log-cosh loss ``log(cosh(input - target))``, stable for large residuals.  Not in PyTorch (Keras's
    ``LogCosh``); the constructor follows PyTorch's loss convention (``reduction``).

    >>> nn.LogCoshLoss()(ember.randn(3, 5), ember.randn(3, 5))"""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)

    def forward(self, input, target):
        return F.log_cosh_loss(input, target, reduction=self.reduction)


# -- classification ---------------------------------------------------------------------------------------------
class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped to >= -100); ``weight`` broadcasts to the
    input.  Prefer ``BCEWithLogitsLoss``.

    >>> nn.BCELoss()(ember.sigmoid(ember.randn(4)), ember.tensor([1., 0., 1., 0.]))"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, one stable op; ``pos_weight`` (e.g. shape (C,)) weights positives.

    >>> nn.BCEWithLogitsLoss(pos_weight=ember.ones(3) * 2)(ember.randn(4, 3), ember.rand(4, 3))"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _opt_tensor(weight, "BCEWithLogitsLoss", "weight"))
        self.register_buffer("pos_weight", _opt_tensor(pos_weight, "BCEWithLogitsLoss", "pos_weight"))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits (C,), (N, C) or (N, C, d1, ...) against class indices or class probabilities;
    ``weight`` (C,), ``ignore_index``, ``label_smoothing``.  One fused, stable op.

    >>> nn.CrossEntropyLoss(label_smoothing=0.1)(ember.randn(8, 10), ember.randint(0, 10, (8,)))"""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after ``LogSoftmax``); ``weight``, ``ignore_index``.

    >>> nn.NLLLoss()(F.log_softmax(ember.randn(4, 3), 1), ember.tensor([0, 2, 1, 1]))"""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """PyTorch's deprecated name for ``NLLLoss`` (which takes (N, C, H, W) inputs itself); warns as PyTorch."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and "
                      "see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.", FutureWarning,
                      stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class CTCLoss(_Loss):
    """Connectionist Temporal Classification loss of log-probabilities (T, N, C) against unaligned targets.

    >>> nn.CTCLoss()(ember.randn(8, 2, 5).log_softmax(2), ember.tensor([[1, 2], [3, 3]]), [8, 6], [2, 2])"""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                          self.zero_infinity)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood for counts (``log_input``: input is the log-rate; ``full``: Stirling term).

    >>> nn.PoissonNLLLoss()(ember.randn(5), ember.tensor([0., 1., 2., 0., 4.]))"""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance; ``forward(input, target, var)``.

    >>> nn.GaussianNLLLoss()(ember.randn(5, 2), ember.randn(5, 2), ember.ones(5, 1))"""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence with log-probability inputs; ``reduction="batchmean"`` gives the mathematical KL.

    >>> nn.KLDivLoss(reduction="batchmean")(F.log_softmax(ember.randn(3, 5), 1), F.softmax(ember.randn(3, 5), 1))"""

    _extra_reductions = ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


# -- margin and embedding losses ---------------------------------------------------------------------------------
class HingeEmbeddingLoss(_Loss):
    """``x`` for ``y == 1``, ``max(0, margin - x)`` for ``y == -1``.

    >>> nn.HingeEmbeddingLoss()(ember.rand(4), ember.tensor([1., -1., 1., -1.]))"""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (p = 1 or 2, margin, per-class weight).

    >>> nn.MultiMarginLoss(p=2)(ember.randn(4, 3), ember.tensor([0, 2, 1, 1]))"""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got p={p}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; target rows list label indices, ended by -1.

    >>> nn.MultiLabelMarginLoss()(ember.randn(1, 4), ember.tensor([[3, 0, -1, 1]]))"""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-vs-all logistic loss averaged over classes.

    >>> nn.MultiLabelSoftMarginLoss()(ember.randn(4, 3), ember.tensor([[1., 0., 1.]] * 4))"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -y (x1 - x2) + margin)``; ``forward(input1, input2, target)``.

    >>> nn.MarginRankingLoss(0.5)(ember.randn(4), ember.randn(4), ember.tensor([1., -1., 1., -1.]))"""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y x))``.

    >>> nn.SoftMarginLoss()(ember.randn(4), ember.tensor([1., -1., 1., -1.]))"""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for ``y == 1``, ``max(0, cos - margin)`` for ``y == -1``; ``forward(input1, input2, target)``.

    >>> nn.CosineEmbeddingLoss()(ember.randn(4, 8), ember.randn(4, 8), ember.tensor([1., -1., 1., -1.]))"""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Triplet loss ``max(0, d(a, p) - d(a, n) + margin)`` with the p-norm distance; ``swap`` as in PyTorch.

    >>> nn.TripletMarginLoss(margin=1.0, p=2)(ember.randn(4, 8), ember.randn(4, 8), ember.randn(4, 8))"""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (default ``F.pairwise_distance``).

    >>> nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance())(a, p, n)"""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        self.distance_function = distance_function if distance_function is not None else F.pairwise_distance
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function, margin=self.margin,
                                                   swap=self.swap, reduction=self.reduction)


class ContrastiveLoss(_Loss):
    """Contrastive loss for siamese pairs (Hadsell et al. 2006), not in PyTorch:
    ``y d**2 + (1 - y) max(0, margin - d)**2``, ``d = ||x1 - x2||_p``.  Label convention: ``y == 1`` similar pair,
    ``y == 0`` dissimilar.  ``forward(x1, x2, target)`` with x1, x2 (N, D) and target (N,).

    >>> nn.ContrastiveLoss(margin=2.0)(ember.randn(4, 8), ember.randn(4, 8), ember.tensor([1., 0., 1., 0.]))"""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.margin, self.p, self.eps = margin, p, eps

    def forward(self, x1, x2, target):
        return F.contrastive_loss(x1, x2, target, margin=self.margin, p=self.p, eps=self.eps,
                                  reduction=self.reduction)


class FocalLoss(_Loss):
    """Focal loss from logits (Lin et al. 2017), not in PyTorch.  Multi-class when the target holds class
    indices (``alpha``: None, a float, or a (C,) per-class tensor, kept as a buffer); binary (torchvision's
    ``sigmoid_focal_loss``) when the target is a float tensor of the input's shape (``alpha``: a float, None for
    no alpha term; torchvision's default is 0.25).  See ``F.focal_loss``.

    >>> nn.FocalLoss(gamma=2.0)(ember.randn(8, 5), ember.randint(0, 5, (8,)))"""

    def __init__(self, alpha=None, gamma: float = 2.0, reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction=reduction)
        if isinstance(alpha, Tensor):
            self.register_buffer("alpha", alpha)
        else:
            self.alpha = alpha
        self.gamma, self.ignore_index = gamma, ignore_index

    def forward(self, input, target):
        return F.focal_loss(input, target, alpha=self.alpha, gamma=self.gamma, reduction=self.reduction,
                            ignore_index=self.ignore_index)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}"


# -- similarity / distance modules ----------------------------------------------------------------------------
class CosineSimilarity(Module):
    """Cosine similarity along ``dim`` (``F.cosine_similarity``).

    >>> nn.CosineSimilarity(dim=1)(ember.randn(4, 8), ember.randn(4, 8))   # shape (4,)"""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance ``||x1 - x2 + eps||_p`` over the last dimension (``F.pairwise_distance``).

    >>> nn.PairwiseDistance(p=2)(ember.randn(4, 8), ember.randn(4, 8))   # shape (4,)"""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
