"""Loss functions of ``ember.nn.functional`` (``F.mse_loss``, ``F.cross_entropy``, ...), PyTorch's names,
signatures and formulas, plus three the field uses that PyTorch lacks: ``log_cosh_loss``, ``contrastive_loss``
(siamese pairs) and the focal losses (``sigmoid_focal_loss`` as in torchvision, ``focal_loss`` multi-class).

Every loss takes ``reduction`` in ``"none" | "mean" | "sum"`` (``kl_div`` also ``"batchmean"``) and the legacy
``size_average``/``reduce`` flags where PyTorch still accepts them.  A target of another shape is handled as
PyTorch does: mse/l1/huber/smooth_l1 (and log_cosh) warn ("Using a target size ... that is different to the
input size ...") and broadcast, poisson_nll/gaussian_nll/kl_div/hinge_embedding/soft_margin/
multilabel_soft_margin broadcast silently, the binary cross-entropies raise ValueError; shapes that do not
broadcast raise RuntimeError.  Cross-entropy, NLL, the binary cross-entropies
and log-cosh run fused, stable kernels from ``ember.ops.loss``; the rest are composed from ember ops.
"""
from __future__ import annotations

import math

from ... import ops as O
from ...autograd.function import Function, once_differentiable
from ...autograd._torch_names import named as _named, tag as _tname
from ...backend import xp
from ...backend.device import array_module as _xp, as_array as _as_array, like as _like
from ...ops import loss as _K
from ...ops._cosine import CosineSimilarity as _CosineSimilarity
from ...ops.reduce import _wrap_dim
from ._loss_shapes import _check_broadcast, _expanded, _target_like, _target_same
from ...tensor import Tensor

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "kl_div", "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
    "margin_ranking_loss", "soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "cosine_similarity", "pairwise_distance", "contrastive_loss",
    "sigmoid_focal_loss", "focal_loss",
]


# -- shared checks ----------------------------------------------------------------------------------------------
def _reduction(reduction, op, size_average=None, reduce=None, extra=()):
    """Validate ``reduction`` (translating PyTorch's legacy ``size_average``/``reduce`` flags)."""
    if size_average is not None or reduce is not None:      # PyTorch's translation, with its warning
        from ..._deprecation import legacy_reduction
        reduction = legacy_reduction(size_average, reduce)
    allowed = ("none", "mean", "sum") + tuple(extra)
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return O.mean(loss)
    if reduction == "sum":
        return O.sum(loss)
    return loss


def _tensor(x, op, name="input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _float(x, op, name="input") -> Tensor:
    x = _tensor(x, op, name)
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point Tensor, got dtype {x.dtype}")
    return x


def _weight_same(weight, input, op):
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Weights and input must have the same size, got weight shape "
                         f"{tuple(weight.shape)} and input shape {tuple(input.shape)}")


def _const(x, v):
    """``v`` (a number or an array) as a constant tensor of ``x``'s dtype on ``x``'s device."""
    return Tensor._make(_like(_as_array(v, x._data.dtype), x._data))


def _no_grad_clamp_min(x: Tensor, eps: float) -> Tensor:
    """``x.clamp_min(eps)`` in value, identity in gradient: PyTorch clamps these under ``no_grad``."""
    fix = xp.maximum(x._data, eps) - x._data
    return O.add(x, Tensor._make(fix.astype(x._data.dtype, copy=False)))


# -- regression -------------------------------------------------------------------------------------------------
def _weighted_regression(loss, weight, reduction, weighted_mean_by_sum=True):
    if weight is None:
        return _reduce(loss, reduction)
    loss = O.mul(loss, weight)
    if reduction == "mean" and weighted_mean_by_sum:
        return O.div(O.sum(loss), O.sum(weight))
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None) -> Tensor:
    """Mean squared error ``(input - target)**2``; with ``weight`` (input's shape) the mean is
    ``sum(w * l) / sum(w)``.  A target of another shape warns and broadcasts, as PyTorch.

    >>> F.mse_loss(ember.tensor([1., 2.]), ember.tensor([1., 4.]))   # tensor(2.)"""
    r = _reduction(reduction, "mse_loss", size_average, reduce)
    input = _float(input, "mse_loss")
    target = _target_like(input, target, "mse_loss")
    _weight_same(weight, input, "mse_loss")
    if weight is None and (fused := _K.mse(input, target, r)) is not None:
        return fused
    d = O.sub(input, target)
    # tagged here, not with @_named: _target_like's warning points at the caller's line (stacklevel)
    return _tname(_weighted_regression(O.mul(d, d), weight, r), "MseLossBackward0", input)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None) -> Tensor:
    """Mean absolute error ``|input - target|`` (MAE); ``weight`` as in ``mse_loss``.

    >>> F.l1_loss(ember.tensor([1., 2.]), ember.tensor([1., 4.]))    # tensor(1.)"""
    r = _reduction(reduction, "l1_loss", size_average, reduce)
    input = _float(input, "l1_loss")
    d = O.sub(input, _target_like(input, target, "l1_loss"))
    _weight_same(weight, input, "l1_loss")
    return _weighted_regression(O.abs(d), weight, r)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None) -> Tensor:
    """Huber loss: ``0.5 r**2`` where ``|r| < delta``, else ``delta * (|r| - 0.5 delta)``.  With ``weight`` the
    mean is the plain mean of ``w * l`` (PyTorch's choice for this loss).

    >>> F.huber_loss(ember.tensor([0., 0.]), ember.tensor([0.5, 3.]), delta=1.0)   # (0.125 + 2.5) / 2"""
    r = _reduction(reduction, "huber_loss")
    input = _float(input, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = O.sub(input, _target_like(input, target, "huber_loss"))
    a = O.abs(d)
    loss = O.where(O.lt(a, delta), O.mul(O.mul(d, d), 0.5), O.mul(O.sub(a, 0.5 * delta), delta))
    _weight_same(weight, input, "huber_loss")
    return _tname(_weighted_regression(loss, weight, r, weighted_mean_by_sum=False), "HuberLossBackward0", input)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0) -> Tensor:
    """Smooth L1: ``0.5 r**2 / beta`` where ``|r| < beta``, else ``|r| - 0.5 beta`` (L1 when ``beta == 0``).

    >>> F.smooth_l1_loss(ember.tensor([0.]), ember.tensor([3.]))   # tensor(2.5)"""
    r = _reduction(reduction, "smooth_l1_loss", size_average, reduce)
    input = _float(input, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = O.sub(input, _target_like(input, target, "smooth_l1_loss"))
    a = O.abs(d)
    if beta == 0:
        return _tname(_reduce(a, r), "SmoothL1LossBackward0", input)
    loss = O.where(O.lt(a, beta), O.mul(O.mul(d, d), 0.5 / beta), O.sub(a, 0.5 * beta))
    return _tname(_reduce(loss, r), "SmoothL1LossBackward0", input)


def log_cosh_loss(input, target, reduction="mean") -> Tensor:
    """Log-cosh loss ``log(cosh(input - target))``: ~``r**2 / 2`` for small residuals, ~``|r| - log 2`` for large
    ones.  Not in PyTorch (Keras's ``LogCosh``); computed stably as ``|r| + softplus(-2|r|) - log 2``, finite for
    residuals of 1e4 where ``cosh`` overflows.

    >>> F.log_cosh_loss(ember.tensor([0.]), ember.tensor([1e4]))   # tensor(9999.3069)"""
    r = _reduction(reduction, "log_cosh_loss")
    input = _float(input, "log_cosh_loss")
    d = O.sub(input, _target_like(input, target, "log_cosh_loss"))
    return _reduce(_K.log_cosh(d), r)


# -- binary classification --------------------------------------------------------------------------------------
def _bcast_weight(weight, input, op, name="weight"):
    if weight is None:
        return None
    weight = _tensor(weight, op, name)
    try:
        xp.broadcast_shapes(tuple(weight.shape), tuple(input.shape))
    except ValueError:
        raise ValueError(f"{op}: {name} of shape {tuple(weight.shape)} does not broadcast to the input's shape "
                         f"{tuple(input.shape)}") from None
    return weight


@_named("BinaryCrossEntropyBackward0")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1]: ``-w (y log x + (1-y) log(1-x))``, each log
    clamped to >= -100 as in PyTorch.  Prefer ``binary_cross_entropy_with_logits`` (stable, takes logits).

    >>> F.binary_cross_entropy(ember.tensor([0.9, 0.2]), ember.tensor([1., 0.]))"""
    r = _reduction(reduction, "binary_cross_entropy", size_average, reduce)
    input = _float(input, "binary_cross_entropy")
    target = _target_same(input, target, "binary_cross_entropy", "Using a target size ({t}) that is different to "
                          "the input size ({i}) is deprecated. Please ensure they have the same size.")
    a = input._data
    if a.size and (a.min() < 0 or a.max() > 1):
        raise ValueError(f"binary_cross_entropy: all elements of input should be between 0 and 1 (got values in "
                         f"[{float(a.min()):.4g}, {float(a.max()):.4g}]); for logits use "
                         f"binary_cross_entropy_with_logits")
    loss = _K.bce(input, target)
    w = _bcast_weight(weight, input, "binary_cross_entropy")
    return _reduce(loss if w is None else O.mul(loss, w), r)


@_named("BinaryCrossEntropyWithLogitsBackward0")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy from logits, one stable op: ``max(x, 0) - x y + log1p(exp(-|x|))``.
    ``pos_weight`` (broadcast over the last dimension, e.g. shape (C,)) multiplies the positive term.

    >>> F.binary_cross_entropy_with_logits(ember.tensor([3., -2.]), ember.tensor([1., 0.]))"""
    op = "binary_cross_entropy_with_logits"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    target = _target_same(input, target, op, "Target size ({t}) must be the same as input size ({i})")
    pw = _bcast_weight(pos_weight, input, op, "pos_weight")
    loss = _K.bce_with_logits(input, target, pw)
    w = _bcast_weight(weight, input, op)
    return _reduce(loss if w is None else O.mul(loss, w), r)


# -- multi-class classification ---------------------------------------------------------------------------------
def _class_problem(input, target, op, allow_prob):
    """Normalize (input, target) to batched form (N, C, *d); returns (input, target, unbatched)."""
    input = _float(input, op)
    target = _tensor(target, op, "target")
    nd = input.ndim
    if nd == 0:
        raise ValueError(f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    prob = target._data.dtype.kind == "f"
    if prob and not allow_prob:
        raise TypeError(f"{op}: expected integer class indices as target, got dtype {target.dtype}")
    if not prob and target._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices or float class probabilities, "
                        f"got dtype {target.dtype}")
    if prob:
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"{op}: class-probability target must have the input's shape {tuple(input.shape)}, "
                             f"got {tuple(target.shape)} (for class indices pass an integer tensor: .long())")
        if target._data.dtype != input._data.dtype:
            target = target.to(input.dtype)
    else:
        want = () if nd == 1 else (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != want:
            lay = "()" if nd == 1 else "(N, d1, ...)" if nd > 2 else "(N,)"
            raise ValueError(f"{op}: expected target of shape {lay} = {want} for input of shape "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
    unbatched = nd == 1
    if unbatched:
        input, target = O.unsqueeze(input, 0), O.unsqueeze(target, 0)
    return input, target, unbatched


def _class_weight(weight, C, op, input):
    if weight is None:
        return None
    weight = _tensor(weight, op, "weight")
    if tuple(weight.shape) != (C,):
        raise ValueError(f"{op}: weight must have shape (C,) = ({C},), one entry per class, "
                         f"got {tuple(weight.shape)}")
    return weight if weight.dtype == input.dtype else weight.to(input.dtype)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0) -> Tensor:
    """Cross-entropy of unnormalized logits ``input`` — (C,), (N, C) or (N, C, d1, ...) — against class indices
    (), (N,) or (N, d1, ...) or against class probabilities of the input's shape.  One fused, stable op
    (log-softmax and NLL together); ``weight`` (C,) rescales classes (the mean divides by the summed weights of
    the targets), ``ignore_index`` targets contribute nothing, ``label_smoothing`` mixes in the uniform
    distribution.

    >>> F.cross_entropy(ember.randn(8, 10), ember.randint(0, 10, (8,)))"""
    op = "cross_entropy"
    r = _reduction(reduction, op, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    input, target, unbatched = _class_problem(input, target, op, allow_prob=True)
    w = _class_weight(weight, input.shape[1], op, input)
    out = _K.softmax_cross_entropy(input, target, w, ignore_index, r, label_smoothing)
    return O.squeeze(out, 0) if unbatched and r == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` ((C,), (N, C) or (N, C, d1, ...)) at class
    indices ``target``: ``-w[y] * input[n, y]``; the mean divides by the summed weights of the targets.

    >>> F.nll_loss(F.log_softmax(ember.randn(4, 3), 1), ember.tensor([0, 2, 1, 1]))"""
    op = "nll_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input, target, unbatched = _class_problem(input, target, op, allow_prob=False)
    w = _class_weight(weight, input.shape[1], op, input)
    out = _K.nll(input, target, w, ignore_index, r)
    return O.squeeze(out, 0) if unbatched and r == "none" else out


# -- likelihoods and divergences ---------------------------------------------------------------------------------
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean") -> Tensor:
    """Poisson negative log-likelihood for counts: ``exp(x) - y x`` when ``log_input`` (x is the log-rate), else
    ``x - y log(x + eps)``; ``full`` adds Stirling's term ``y log y - y + 0.5 log(2 pi y)`` where ``y > 1``.

    >>> F.poisson_nll_loss(ember.tensor([0.1, 1.2]), ember.tensor([1., 3.]))"""
    op = "poisson_nll_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    target = _target_like(input, target, op, warn=False)
    if log_input:
        loss = O.sub(O.exp(input), O.mul(target, input))
    else:
        loss = O.sub(input, O.mul(target, O.log(O.add(input, eps))))
    if full:
        big = O.gt(target, 1)
        ts = O.where(big, target, _const(target, 1.0))      # keeps log() finite where the term is masked
        stirling = O.add(O.sub(O.mul(ts, O.log(ts)), ts), O.mul(O.log(O.mul(ts, 2 * math.pi)), 0.5))
        loss = O.add(loss, O.where(big, stirling, _const(target, 0.0)))
    return _reduce(loss, r)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean") -> Tensor:
    """Gaussian negative log-likelihood ``0.5 (log var + (x - y)**2 / var)`` (+ ``0.5 log(2 pi)`` when ``full``).
    ``var`` is a float, input's shape, input's shape without the last dim, or input's shape with one dim of size
    1 (homoscedastic); it is clamped to >= ``eps`` in value only (the gradient passes, as in PyTorch).

    >>> F.gaussian_nll_loss(ember.randn(5, 2), ember.randn(5, 2), ember.ones(5, 1))"""
    op = "gaussian_nll_loss"
    r = _reduction(reduction, op)
    input = _float(input, op)
    target = _target_like(input, target, op, warn=False)
    if not isinstance(var, Tensor):
        if float(var) < 0:
            raise ValueError(f"{op}: var has negative entry/entries (got {var})")
        var = Tensor._make(_xp(input._data).full(input._data.shape, float(var), input._data.dtype))
    elif var._data.size and var._data.min() < 0:
        raise ValueError(f"{op}: var has negative entry/entries")
    vs, ins = tuple(var.shape), tuple(input.shape)
    if vs != ins:
        if ins[:-1] == vs:
            var = O.unsqueeze(var, -1)
        elif not (len(vs) == len(ins) and sum(v for i, v in zip(ins, vs) if i != v) == 1):
            raise ValueError(f"{op}: var of shape {vs} does not fit input of shape {ins}; expected {ins}, "
                             f"{ins[:-1]} or {ins} with one dimension of size 1")
    var = _no_grad_clamp_min(var, eps)
    d = O.sub(input, target)
    loss = O.mul(O.add(O.log(var), O.div(O.mul(d, d), var)), 0.5)
    if full:
        loss = O.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, r)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` as log-probabilities: ``target * (log target - input)``
    (``exp(t) (t - input)`` when ``log_target``).  ``reduction="batchmean"`` divides the sum by the batch size
    (the mathematical KL); ``"mean"`` averages over every element, like PyTorch.

    >>> F.kl_div(F.log_softmax(ember.randn(3, 5), 1), F.softmax(ember.randn(3, 5), 1), reduction="batchmean")"""
    op = "kl_div"
    r = _reduction(reduction, op, size_average, reduce, extra=("batchmean",))
    input = _float(input, op)
    target = _target_like(input, target, op, warn=False)
    if log_target:
        loss = O.mul(O.exp(target), O.sub(target, input))
    else:
        pos = O.gt(target, 0)
        ts = O.where(pos, target, _const(target, 1.0))
        loss = O.sub(O.where(pos, O.mul(target, O.log(ts)), _const(target, 0.0)), O.mul(target, input))
    if r == "batchmean":
        total = O.sum(loss)
        return O.div(total, input.shape[0]) if input.ndim else total
    return _reduce(loss, r)


# -- margin and embedding losses ---------------------------------------------------------------------------------
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """``x`` where ``y == 1`` and ``max(0, margin - x)`` where ``y == -1`` (x is usually a distance).

    >>> F.hinge_embedding_loss(ember.tensor([0.3, 2.0]), ember.tensor([1., -1.]))"""
    op = "hinge_embedding_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    target = _target_like(input, target, op, warn=False)
    zero = _const(input, 0.0)
    out_m = O.where(O.ne(target, 1), O.clamp(O.sub(margin, input), min=0.0), zero)
    out_s = O.where(O.ne(target, -1), input, zero)
    return _reduce(O.add(out_m, out_s), r)


def _class_index_2d(input, target, op):
    input = _float(input, op)
    target = _tensor(target, op, "target")
    if target._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {target.dtype}")
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape[:-1]):
        raise ValueError(f"{op}: expected input (N, C) with target (N,) or input (C,) with a 0-d target, "
                         f"got input {tuple(input.shape)} and target {tuple(target.shape)}")
    unb = input.ndim == 1
    if unb:
        input, target = O.unsqueeze(input, 0), O.unsqueeze(target, 0)
    C = input.shape[1]
    t = target._data
    if t.size and (t.min() < 0 or t.max() >= C):
        raise IndexError(f"{op}: target values must be in [0, {C - 1}], got values in [{t.min()}, {t.max()}]")
    return input, target, unb


def _reduce_margin(loss: Tensor, reduction: str) -> Tensor:
    """The multi-class margin losses' reduction.  PyTorch 2.13 returns uninitialized memory for the mean (or sum) of an
    empty batch here; ember returns NaN, the mean of no values, as PyTorch's other losses do
    (docs/differences.md: margin-loss-empty-mean)."""
    return _reduce(loss, reduction)


def _hinge(z: Tensor) -> Tensor:
    """max(z, 0) with PyTorch's margin-loss gradient: 1 where z > 0 only (0 at the kink z == 0, where clamp
    would pass it)."""
    return O.where(O.gt(z, 0.0), z, _const(z, 0.0))


@_named("MultiMarginLossBackward0")
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean") -> Tensor:
    """Multi-class hinge loss: ``sum_{j != y} w[y] max(0, margin - x[y] + x[j])**p / C`` per sample (p is 1 or 2).

    >>> F.multi_margin_loss(ember.randn(4, 3), ember.tensor([0, 2, 1, 1]))"""
    op = "multi_margin_loss"
    r = _reduction(reduction, op, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    input, target, unb = _class_index_2d(input, target, op)
    C = input.shape[1]
    idx = O.unsqueeze(target, 1)
    xy = O.gather(input, 1, idx)
    z = _hinge(O.add(O.sub(input, xy), margin))
    if p == 2:
        z = O.mul(z, z)
    classes = _xp(target._data).arange(C)
    notself = Tensor._make((classes[None, :] != target._data[:, None]).astype(input._data.dtype))
    z = O.mul(z, notself)
    if weight is not None:
        w = _class_weight(weight, C, op, input)
        z = O.mul(z, O.unsqueeze(O.index_select(w, 0, target), 1))
    loss = O.div(O.sum(z, 1), C)
    return _reduce_margin(O.squeeze(loss, 0) if unb else loss, r)


@_named("MultilabelMarginLossBackward0")
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Multi-label hinge loss: ``sum_{j in labels, k not in labels} max(0, 1 - (x[j] - x[k])) / C``.  ``target``
    (input's shape, integer) lists the label indices of each sample, ended by the first -1.

    >>> F.multilabel_margin_loss(ember.tensor([[0.1, 0.2, 0.4, 0.8]]), ember.tensor([[3, 0, -1, 1]]))"""
    op = "multilabel_margin_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    target = _tensor(target, op, "target")
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape) or target._data.dtype.kind not in "iu":
        raise ValueError(f"{op}: expected an integer target of the input's shape (C,) or (N, C), got input "
                         f"{tuple(input.shape)} and target {tuple(target.shape)} of dtype {target.dtype}")
    unb = input.ndim == 1
    x = O.unsqueeze(input, 0) if unb else input
    t = target._data.reshape(x.shape)
    N, C = x.shape
    # label membership: the indices before the first -1 in each row
    ended = xp.cumsum(t < 0, axis=1) > 0
    is_t = _xp(t).zeros((N, C), bool)
    rows, cols = xp.nonzero(~ended)
    labels = t[rows, cols]
    if labels.size and labels.max() >= C:
        raise IndexError(f"{op}: target label {labels.max()} out of range for {C} classes")
    is_t[rows, labels] = True
    pair = is_t[:, :, None] & ~is_t[:, None, :]          # (N, j target, k non-target)
    h = _hinge(O.add(O.sub(O.unsqueeze(x, 1), O.unsqueeze(x, 2)), 1.0))
    # pairs selected, not multiplied by a 0/1 mask: an inf in a pair that does not count must not give NaN
    loss = O.div(O.sum(O.where(Tensor._make(pair), h, _const(h, 0.0)), (1, 2)), C)
    return _reduce_margin(O.squeeze(loss, 0) if unb else loss, r)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean") -> Tensor:
    """Multi-label one-vs-all logistic loss, averaged over the C classes (last dim):
    ``-(y log sigmoid(x) + (1 - y) log sigmoid(-x))``, optionally times ``weight``.

    >>> F.multilabel_soft_margin_loss(ember.randn(4, 3), ember.tensor([[1., 0., 1.]] * 4))"""
    op = "multilabel_soft_margin_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    if input.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as -1 but tensor has no dimensions (input is 0-d; expected "
                         f"(N, C) or (C,))")
    target = _target_like(input, target, op, warn=False)
    loss = _K.bce_with_logits(*_expanded(input, target))
    w = _bcast_weight(weight, loss, op)
    if w is not None:
        loss = O.mul(loss, w)
    # PyTorch sums the (broadcast) loss over input's last dim and divides by input's class count
    return _reduce(O.div(O.sum(loss, input.ndim - 1), input.shape[-1]), r)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean") -> Tensor:
    """Ranking hinge ``max(0, -y (x1 - x2) + margin)`` with ``y`` in {1, -1} (1: x1 should rank higher).

    >>> F.margin_ranking_loss(ember.randn(5), ember.randn(5), ember.tensor([1., -1., 1., 1., -1.]))"""
    op = "margin_ranking_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input1, input2 = _float(input1, op, "input1"), _float(input2, op, "input2")
    target = _tensor(target, op, "target")
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"{op}: All input tensors should have same dimension but got sizes: input1: "
                           f"{input1.shape}, input2: {input2.shape}, target: {target.shape}")
    _check_broadcast(op, input1.shape, input2.shape, ("input1", "input2"))
    _check_broadcast(op, xp.broadcast_shapes(tuple(input1.shape), tuple(input2.shape)), target.shape,
                     ("broadcast input1/input2", "target"))
    t = target if target.dtype == input1.dtype else target.to(input1.dtype)
    return _reduce(O.clamp(O.add(O.mul(O.neg(t), O.sub(input1, input2)), margin), min=0.0), r)


@_named("SoftMarginLossBackward0")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-y x))`` with ``y`` in {1, -1}, computed stably.

    >>> F.soft_margin_loss(ember.randn(4), ember.tensor([1., -1., 1., -1.]))"""
    op = "soft_margin_loss"
    r = _reduction(reduction, op, size_average, reduce)
    input = _float(input, op)
    target = _target_like(input, target, op, warn=False)
    shape = xp.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    if shape != tuple(input.shape):         # PyTorch's kernel writes an output of input's shape
        raise RuntimeError(f"{op}: output with shape {list(input.shape)} doesn't match the broadcast shape "
                           f"{list(shape)} (input shape {tuple(input.shape)}, target shape {tuple(target.shape)})")
    z = O.mul(target, input)                          # softplus(-z) = bce_with_logits(z, 1)
    return _reduce(_K.bce_with_logits(z, _const(z, _xp(z._data).ones(z._data.shape))), r)


_COSINE_FUSED = (xp.dtype(xp.float32), xp.dtype(xp.float64))


def cosine_similarity(x1, x2, dim=1, eps=1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast together; ``dim`` squeezed).  Each
    norm is clamped to >= ``eps`` in value only, as PyTorch does.

    >>> F.cosine_similarity(ember.randn(4, 8), ember.randn(4, 8))   # shape (4,)"""
    op = "cosine_similarity"
    x1, x2 = _float(x1, op, "x1"), _float(x2, op, "x2")
    try:
        shape = xp.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not "
                         f"broadcast") from None
    d1, d2 = x1._data, x2._data
    if d1.shape == d2.shape and d1.dtype == d2.dtype and d1.dtype in _COSINE_FUSED and d1.ndim and d1.size and \
            type(d1) is type(d2) and d1.shape[wd := _wrap_dim(int(dim), x1.ndim, op)] > 1:
        # (one node, the composite's bits; a norm of one element is |x|, the composite's vector_norm)
        return _CosineSimilarity.apply(x1, x2, wd, float(eps))
    if tuple(x1.shape) != shape:
        x1 = O.expand(x1, *shape)
    if tuple(x2.shape) != shape:
        x2 = O.expand(x2, *shape)
    n1 = _no_grad_clamp_min(O.norm(x1, 2, dim, True), eps)
    n2 = _no_grad_clamp_min(O.norm(x2, 2, dim, True), eps)
    return O.sum(O.mul(O.div(x1, n1), O.div(x2, n2)), dim)


@_named("NormBackward1")
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False) -> Tensor:
    """p-norm distance ``||x1 - x2 + eps||_p`` over the last dimension (PyTorch's formula, eps included).

    >>> F.pairwise_distance(ember.randn(4, 8), ember.randn(4, 8))   # shape (4,)"""
    op = "pairwise_distance"
    x1, x2 = _float(x1, op, "x1"), _float(x2, op, "x2")
    try:
        xp.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ValueError(f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not "
                         f"broadcast") from None
    d = O.add(O.sub(x1, x2), eps)
    return O.norm(d, p, max(x1.ndim, x2.ndim) - 1, keepdim)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean") -> Tensor:
    """``1 - cos(x1, x2)`` for ``y == 1`` and ``max(0, cos(x1, x2) - margin)`` for ``y == -1``; inputs (N, D) or
    (D,), target (N,) or ().

    >>> F.cosine_embedding_loss(ember.randn(4, 8), ember.randn(4, 8), ember.tensor([1., -1., 1., -1.]))"""
    op = "cosine_embedding_loss"
    r = _reduction(reduction, op, size_average, reduce)
    x1, x2 = _float(input1, op, "input1"), _float(input2, op, "input2")
    target = _tensor(target, op, "target")
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or tuple(target.shape) != tuple(x1.shape[:-1]):
        raise ValueError(f"{op}: expected input1 and input2 of shape (N, D) with target (N,) (or (D,) with a 0-d "
                         f"target), got {tuple(x1.shape)}, {tuple(x2.shape)} and {tuple(target.shape)}")
    dim = x1.ndim - 1
    eps = 1e-12                                        # PyTorch's EPSILON in this loss
    prod = O.sum(O.mul(x1, x2), dim)
    m1 = O.add(O.sum(O.mul(x1, x1), dim), eps)
    m2 = O.add(O.sum(O.mul(x2, x2), dim), eps)
    cos = O.div(prod, O.sqrt(O.mul(m1, m2)))
    zero = _const(cos, 0.0)
    pos = O.where(O.eq(target, 1), O.sub(1.0, cos), zero)
    neg = O.where(O.eq(target, -1), O.clamp(O.sub(cos, margin), min=0.0), zero)
    return _reduce(O.add(pos, neg), r)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean") -> Tensor:
    """Triplet loss ``max(0, d(a, p) - d(a, n) + margin)`` with ``d = pairwise_distance(., ., p, eps)``;
    ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al. 2016).

    >>> F.triplet_margin_loss(ember.randn(4, 8), ember.randn(4, 8), ember.randn(4, 8))"""
    op = "triplet_margin_loss"
    r = _reduction(reduction, op, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    a, pp, n = _float(anchor, op, "anchor"), _float(positive, op, "positive"), _float(negative, op, "negative")
    if not (a.ndim == pp.ndim == n.ndim) or a.ndim not in (1, 2):
        raise ValueError(f"{op}: expected anchor, positive and negative all of shape (N, D) or (D,), got "
                         f"{tuple(a.shape)}, {tuple(pp.shape)} and {tuple(n.shape)}")
    return _triplet(a, pp, n, lambda u, v: pairwise_distance(u, v, p, eps), margin, swap, r)


def _triplet(a, pp, n, dist, margin, swap, r):
    d_pos = dist(a, pp)
    d_neg = dist(a, n)
    if swap:
        d_neg = O.minimum(d_neg, dist(pp, n))
    # PyTorch's order, margin + d_pos - d_neg: at the hinge's kink the rounding decides whether gradient flows
    return _reduce(O.clamp(O.sub(O.add(d_pos, margin), d_neg), min=0.0), r)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean") -> Tensor:
    """Triplet loss with any ``distance_function(x1, x2) -> distances`` (default ``pairwise_distance``).

    >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v))"""
    op = "triplet_margin_with_distance_loss"
    r = _reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    dist = distance_function if distance_function is not None else pairwise_distance
    return _triplet(anchor, positive, negative, dist, margin, swap, r)


def contrastive_loss(x1, x2, target, margin=1.0, p=2.0, eps=1e-6, reduction="mean") -> Tensor:
    """Contrastive loss for siamese pairs (Hadsell, Chopra & LeCun 2006), not in PyTorch:
    ``y * d**2 + (1 - y) * max(0, margin - d)**2`` with ``d = pairwise_distance(x1, x2, p, eps)``.

    Label convention: ``target == 1`` marks a SIMILAR pair (pulled together), ``target == 0`` a dissimilar pair
    (pushed beyond ``margin``); the paper writes Y = 0 for similar pairs and a factor 1/2, both dropped here.
    Shapes: x1, x2 (N, D) embeddings, target (N,).

    >>> F.contrastive_loss(ember.randn(4, 8), ember.randn(4, 8), ember.tensor([1., 0., 1., 0.]))"""
    op = "contrastive_loss"
    r = _reduction(reduction, op)
    x1, x2 = _float(x1, op, "x1"), _float(x2, op, "x2")
    target = _tensor(target, op, "target")
    if x1.shape != x2.shape or x1.ndim == 0 or tuple(target.shape) != tuple(x1.shape[:-1]):
        raise ValueError(f"{op}: expected x1 and x2 of shape (N, D) with target (N,), got {tuple(x1.shape)}, "
                         f"{tuple(x2.shape)} and {tuple(target.shape)}")
    y = target if target.dtype == x1.dtype else target.to(x1.dtype)
    d = pairwise_distance(x1, x2, p, eps)
    hinge = O.clamp(O.sub(margin, d), min=0.0)
    loss = O.add(O.mul(y, O.mul(d, d)), O.mul(O.sub(1.0, y), O.mul(hinge, hinge)))
    return _reduce(loss, r)


# -- focal losses ---------------------------------------------------------------------------------------------
def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none") -> Tensor:
    """Binary focal loss from logits (Lin et al. 2017), torchvision's ``sigmoid_focal_loss`` with its defaults:
    ``alpha_t * (1 - p_t)**gamma * BCE(x, y)``, ``alpha_t = alpha y + (1 - alpha)(1 - y)`` (``alpha < 0`` or None
    disables it).  Not in torch.nn.functional; note torchvision's default ``reduction="none"``.

    >>> F.sigmoid_focal_loss(ember.randn(8), ember.tensor([1., 0.] * 4), reduction="mean")"""
    op = "sigmoid_focal_loss"
    r = _reduction(reduction, op)
    x = _float(inputs, op, "inputs")
    y = _target_same(x, targets, op, "Target size ({t}) must be the same as input size ({i})")
    ce = _K.bce_with_logits(x, y)
    # 1 - p_t, written with sigmoid(-x) for 1 - p so it does not cancel for confident predictions
    one_m_pt = O.add(O.mul(O.sigmoid(O.neg(x)), y), O.mul(O.sigmoid(x), O.sub(1.0, y)))
    loss = O.mul(ce, O.pow(one_m_pt, gamma)) if gamma != 0 else ce
    if alpha is not None and alpha >= 0:
        loss = O.mul(O.add(O.mul(y, alpha), O.mul(O.sub(1.0, y), 1.0 - alpha)), loss)
    return _reduce(loss, r)


def focal_loss(input, target, alpha=None, gamma=2.0, reduction="mean", ignore_index=-100) -> Tensor:
    """Focal loss from logits (Lin et al. 2017), not in PyTorch.

    - Multi-class: ``input`` logits (N, C, d1, ...) (or (C,)), ``target`` class indices:
      ``-alpha[y] (1 - p_y)**gamma log p_y`` with ``p = softmax(input, 1)``; ``alpha`` None, a float (all
      classes) or a (C,) tensor/sequence of per-class weights; ``ignore_index`` targets contribute nothing and
      "mean" averages over the others.  ``gamma = 0`` and no alpha gives the cross-entropy.
    - Binary: a float ``target`` of the input's shape selects ``sigmoid_focal_loss`` (alpha None = no alpha
      weighting; pass 0.25 for torchvision's default).

    >>> F.focal_loss(ember.randn(8, 5), ember.randint(0, 5, (8,)), gamma=2.0)"""
    op = "focal_loss"
    r = _reduction(reduction, op)
    if isinstance(target, Tensor) and target._data.dtype.kind == "f":
        if alpha is not None and not isinstance(alpha, (int, float)):
            raise TypeError(f"{op}: binary focal loss takes a float alpha, got {type(alpha).__name__}")
        return sigmoid_focal_loss(input, target, -1 if alpha is None else alpha, gamma, r)
    input, target, unb = _class_problem(input, target, op, allow_prob=False)
    C = input.shape[1]
    t = target._data
    valid = t != ignore_index
    ysafe = xp.where(valid, t, 0)
    if ysafe.size and (ysafe.min() < 0 or ysafe.max() >= C):
        raise IndexError(f"{op}: target values must be in [0, {C - 1}] or ignore_index={ignore_index}")
    idx = Tensor._make(ysafe[:, None])
    logp_y = O.squeeze(O.gather(O.log_softmax(input, 1), 1, idx), 1)      # (N, *d)
    p_y = O.exp(logp_y)
    loss = O.neg(O.mul(O.pow(O.sub(1.0, p_y), gamma), logp_y)) if gamma != 0 else O.neg(logp_y)
    if alpha is not None:
        if isinstance(alpha, (int, float)):
            loss = O.mul(loss, float(alpha))
        else:
            a = alpha._data if isinstance(alpha, Tensor) else _like(xp.asarray(alpha), input._data)
            if a.shape != (C,):
                raise ValueError(f"{op}: alpha must be a float or have shape (C,) = ({C},), got {a.shape}")
            loss = O.mul(loss, Tensor._make(a.astype(input._data.dtype)[ysafe]))
    vf = valid.astype(input._data.dtype)
    loss = O.mul(loss, Tensor._make(vf))
    if r == "mean":
        return O.div(O.sum(loss), float(vf.sum()) if vf.sum() else float("nan"))
    if r == "sum":
        return O.sum(loss)
    return O.squeeze(loss, 0) if unb else loss


class _PDist(Function):
    """Distances between the rows of ``x`` (N, M), pairs i < j in row-major order (PyTorch's ``pdist``)."""

    @staticmethod
    def forward(ctx, x, p):
        n = x.shape[0]
        i, j = xp.triu_indices(n, 1)
        i, j = _like(i, x), _like(j, x)         # (host-made pair tables, on x's device)
        d = x[i] - x[j]
        a = xp.abs(d)
        if p == 0:
            dist = (a != 0).sum(-1).astype(x.dtype)
        elif p == math.inf:
            dist = a.max(-1) if a.shape[-1] else _xp(x).zeros(len(i), x.dtype)
        elif p == 1:
            dist = a.sum(-1)
        elif p == 2:
            dist = xp.sqrt((d * d).sum(-1))
        else:
            dist = (a ** p).sum(-1) ** (1.0 / p)
        ctx.cfg = (i, j, p, n)
        ctx.save_for_backward(x)
        ctx.dist = dist
        return dist.astype(x.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        i, j, p, n = ctx.cfg
        x, dist, ga = x._data, ctx.dist[:, None], g._data[:, None]
        d = x[i] - x[j]
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                gd = xp.zeros_like(d)
            elif p == 1:
                gd = ga * xp.sign(d)
            elif p == math.inf:
                gd = ga * xp.sign(d) * (xp.abs(d) == dist)
            elif p == 2:
                gd = xp.where(dist == 0, 0, ga * d / dist)
            else:     # PyTorch's gradient is 0 where the distance is 0, and (p < 1) where a difference is 0
                gd = xp.where((dist == 0) | ((d == 0) & (p < 1)), 0,
                              ga * xp.sign(d) * xp.abs(d) ** (p - 1) / dist ** (p - 1))
        gx = xp.zeros_like(x)
        xp.add.at(gx, i, gd)
        xp.subtract.at(gx, j, gd)
        return Tensor._make(gx.astype(x.dtype, copy=False)), None


def pdist(input, p=2.0) -> Tensor:
    """p-norm distances between every pair of rows of ``input`` (N, M): the upper triangle (i < j) of the
    distance matrix, flattened (N*(N-1)/2,), as ``torch.nn.functional.pdist``; the gradient is 0 at a zero
    distance.

    >>> F.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])).tolist()
    [5.0, 0.0, 5.0]
    """
    op = "pdist"
    input = _float(input, op)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    return _PDist.apply(input, float(p))


__all__ += ["pdist"]
