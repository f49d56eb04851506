"""Streaming metrics for training and evaluation, and their one-call functional forms.

Every metric accumulates over batches and gives the value over all of them, exactly as if computed on the
whole data set at once (so a metric over a DataLoader equals scikit-learn on the concatenated arrays)::

    acc = ember.metrics.Accuracy()
    for x, y in loader:
        acc.update(model(x), y)        # logits (N, C) or predicted labels (N,)
    acc.compute()                      # -> float
    acc.reset()

Inputs may be ember Tensors, NumPy arrays or lists.  ``compute()`` returns a Python float, or a NumPy array for
per-class results and the confusion matrix.  The functional forms (``accuracy(preds, target)``, ...) build a
metric, update it once and compute it.  ``Trainer`` takes metric objects or their names (``get("accuracy")``).

Classification inputs: ``preds`` with one more dimension than ``target`` are scores (logits or
probabilities) and the class is their argmax over dim 1; ``preds`` shaped like ``target`` are labels when they
are integers, or binary probabilities thresholded at ``threshold`` when they are floats.
"""
from __future__ import annotations

from .backend import np
from .backend.device import to_device as _to_device
from .tensor import Tensor

__all__ = [
    "Metric", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score", "ConfusionMatrix", "MeanIoU",
    "MultiLabelAccuracy", "HammingLoss", "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
    "R2Score", "MeanPoissonDeviance", "MAE", "MSE", "RMSE", "F1", "get",
    "accuracy", "top_k_accuracy", "precision", "recall", "f1_score", "confusion_matrix", "mean_iou",
    "multilabel_accuracy",
    "hamming_loss", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "r2_score",
    "mean_poisson_deviance",
]


def _arr(x, who: str, what: str):
    """A NumPy view of a Tensor/array/list (no grad tracking needed: metrics never backpropagate); a CUDA
    tensor is copied to the host (metrics are small running sums kept there)."""
    if isinstance(x, Tensor):
        d = x._data
        return d if type(d) is np.ndarray else _to_device(d, "cpu")
    if hasattr(x, "detach") and hasattr(x, "numpy"):        # a torch tensor
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception:  # noqa: BLE001
        raise TypeError(f"{who}: {what} must be a Tensor or array-like, got {type(x).__name__}") from None


class Metric:
    """Base class: subclasses implement ``reset``, ``update(preds, target)`` and ``compute``.

    ``name`` is the key used in training logs; ``higher_is_better`` tells callbacks which way is better.
    Calling the metric (``m(preds, target)``) updates it and returns the value on that batch alone.
    """

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        raise NotImplementedError

    def update(self, preds, target) -> "Metric":
        """Accumulate one batch; returns self."""
        raise NotImplementedError

    def compute(self):
        """The metric over every batch since the last ``reset``."""
        raise NotImplementedError

    def __call__(self, preds, target):
        # the batch value comes from a fresh copy, so the running state is updated exactly once
        one = self._fresh()
        one.update(preds, target)
        self.update(preds, target)
        return one.compute()

    def _fresh(self) -> "Metric":
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items()})
        new.reset()
        return new

    def _empty(self) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__}.compute() called before any update() "
                            f"(no samples seen since the last reset)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# -- classification -------------------------------------------------------------------------------------------
def _labels(preds, target, who: str, threshold: float = 0.5):
    """Predicted and true integer labels, both flat, from scores or labels (see the module docstring)."""
    p, t = _arr(preds, who, "preds"), _arr(target, who, "target")
    if t.dtype.kind == "f":
        if not np.all(np.mod(t, 1) == 0):
            raise ValueError(f"{who}: target must hold integer class labels, got non-integer floats")
        t = t.astype(np.int64)
    elif t.dtype.kind not in "iub":
        raise TypeError(f"{who}: target must hold integer class labels, got dtype {t.dtype}")
    n_classes = None
    if p.ndim == t.ndim + 1:
        if p.shape[:1] + p.shape[2:] != t.shape:
            raise ValueError(f"{who}: preds of shape {p.shape} are scores (N, C, ...), so target must have shape "
                             f"{p.shape[:1] + p.shape[2:]}, got {t.shape}")
        n_classes = p.shape[1]
        p = p.argmax(axis=1)
    elif p.shape == t.shape:
        if p.dtype.kind == "f":
            p = (p >= threshold).astype(np.int64)       # binary probabilities
        elif p.dtype.kind not in "iub":
            raise TypeError(f"{who}: preds must be scores or integer labels, got dtype {p.dtype}")
    else:
        raise ValueError(f"{who}: preds of shape {p.shape} do not match target of shape {t.shape} (expected preds "
                         f"shaped like target (labels) or with one extra class dim (scores, (N, C)))")
    p, t = p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64)
    if t.size and t.min() < 0:
        raise ValueError(f"{who}: target labels must be >= 0, got {int(t.min())}")
    if n_classes is not None and t.size and t.max() >= n_classes:
        raise ValueError(f"{who}: target label {int(t.max())} is out of range for {n_classes} classes in preds")
    return p, t


class Accuracy(Metric):
    """Fraction of correct predictions, from scores (argmax over dim 1) or labels
    (``sklearn.metrics.accuracy_score``).

    >>> ember.metrics.Accuracy().update(ember.tensor([[2., 1.], [0., 3.]]), ember.tensor([0, 0])).compute()
    0.5
    """

    name = "accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds, target) -> "Accuracy":
        p, t = _labels(preds, target, "Accuracy", self.threshold)
        self.correct += int((p == t).sum())
        self.total += t.size
        return self

    def compute(self) -> float:
        if not self.total:
            raise self._empty()
        return self.correct / self.total


class TopKAccuracy(Metric):
    """Fraction of samples whose true class is among the ``k`` highest scores
    (``sklearn.metrics.top_k_accuracy_score``).  ``preds``: scores (N, C); ``target``: labels (N,)."""

    higher_is_better = True

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive int, got {k!r}")
        self.k = k
        self.name = f"top{k}_accuracy"
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds, target) -> "TopKAccuracy":
        p, t = _arr(preds, "TopKAccuracy", "preds"), _arr(target, "TopKAccuracy", "target").astype(np.int64)
        if p.ndim != 2 or t.shape != p.shape[:1]:
            raise ValueError(f"TopKAccuracy: expected preds (N, C) and target (N,), got {p.shape} and {t.shape}")
        # a sample counts when fewer than k classes score strictly higher than the true one (sklearn's rule)
        true_score = p[np.arange(len(t)), t]
        higher = (p > true_score[:, None]).sum(axis=1)
        self.correct += int((higher < self.k).sum())
        self.total += t.size
        return self

    def compute(self) -> float:
        if not self.total:
            raise self._empty()
        return self.correct / self.total

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


class ConfusionMatrix(Metric):
    """Counts ``C[i, j]`` of samples with true class ``i`` predicted as ``j`` (``sklearn.metrics.confusion_matrix``).

    ``num_classes`` fixes the size; left None it grows with the largest label seen (or is taken from the
    scores' class dim).  ``normalize``: None (counts), ``'true'`` (rows sum to 1), ``'pred'`` (columns) or
    ``'all'``.
    """

    name = "confusion_matrix"

    def __init__(self, num_classes: int | None = None, normalize: str | None = None, threshold: float = 0.5):
        if normalize not in (None, "true", "pred", "all"):
            raise ValueError(f"ConfusionMatrix: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
        self.num_classes, self.normalize, self.threshold = num_classes, normalize, threshold
        super().__init__()

    def reset(self) -> None:
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), np.int64)
        self.total = 0

    def _grow(self, n: int) -> None:
        if n > self.matrix.shape[0]:
            if self.num_classes is not None:
                raise ValueError(f"{type(self).__name__}: label {n - 1} is out of range for "
                                 f"num_classes={self.num_classes}")
            m = np.zeros((n, n), np.int64)
            k = self.matrix.shape[0]
            m[:k, :k] = self.matrix
            self.matrix = m

    def update(self, preds, target) -> "ConfusionMatrix":
        who = type(self).__name__
        p, t = _labels(preds, target, who, self.threshold)
        pa = _arr(preds, who, "preds")
        if pa.ndim == _arr(target, who, "target").ndim + 1:
            self._grow(pa.shape[1])
        if p.size:
            if p.min() < 0:
                raise ValueError(f"{who}: predicted labels must be >= 0, got {int(p.min())}")
            self._grow(int(max(p.max(), t.max())) + 1)
            n = self.matrix.shape[0]
            self.matrix += np.bincount(t * n + p, minlength=n * n).reshape(n, n)
        self.total += t.size
        return self

    def compute(self):
        if not self.total:
            raise self._empty()
        m = self.matrix
        if self.normalize is None:
            return m.copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.normalize == "true":
                out = m / m.sum(axis=1, keepdims=True)
            elif self.normalize == "pred":
                out = m / m.sum(axis=0, keepdims=True)
            else:
                out = m / m.sum()
        return np.nan_to_num(out)


_AVERAGES = ("macro", "micro", "weighted", None)


class _PRF(ConfusionMatrix):
    """Precision, recall and F-beta from a running confusion matrix (sklearn's definitions, zero_division=0)."""

    _kind = ""

    def __init__(self, num_classes: int | None = None, average: str | None = "macro", threshold: float = 0.5,
                 zero_division: float = 0.0):
        if average not in _AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of {_AVERAGES}, got {average!r}")
        self.average, self.zero_division = average, float(zero_division)
        super().__init__(num_classes=num_classes, threshold=threshold)

    def _scores(self, tp, fp, fn):
        raise NotImplementedError

    def compute(self):
        if not self.total:
            raise self._empty()
        m = self.matrix.astype(np.float64)
        tp = np.diag(m)
        fp = m.sum(axis=0) - tp
        fn = m.sum(axis=1) - tp
        if self.average == "micro":
            return float(self._scores(np.array([tp.sum()]), np.array([fp.sum()]), np.array([fn.sum()]))[0])
        per_class = self._scores(tp, fp, fn)
        if self.average is None:
            return per_class
        support = m.sum(axis=1)
        # like sklearn with labels=None: average over the classes that occur in target or predictions
        present = (support + m.sum(axis=0)) > 0
        if self.average == "macro":
            return float(per_class[present].mean())
        if support.sum() == 0:
            return self.zero_division
        return float((per_class * support).sum() / support.sum())

    @staticmethod
    def _div(a, b, zero):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(b > 0, a / np.where(b > 0, b, 1), zero)


class Precision(_PRF):
    """Precision ``tp / (tp + fp)`` per class, then averaged: ``average='macro'`` (default), ``'micro'``,
    ``'weighted'`` or None for the per-class array (``sklearn.metrics.precision_score``)."""

    name = "precision"

    def _scores(self, tp, fp, fn):
        return self._div(tp, tp + fp, self.zero_division)


class Recall(_PRF):
    """Recall ``tp / (tp + fn)`` per class, averaged as in ``Precision`` (``sklearn.metrics.recall_score``)."""

    name = "recall"

    def _scores(self, tp, fp, fn):
        return self._div(tp, tp + fn, self.zero_division)


class F1Score(_PRF):
    """F1 ``2 tp / (2 tp + fp + fn)`` per class, averaged as in ``Precision`` (``sklearn.metrics.f1_score``)."""

    name = "f1"

    def _scores(self, tp, fp, fn):
        return self._div(2 * tp, 2 * tp + fp + fn, self.zero_division)


class MeanIoU(ConfusionMatrix):
    """Mean intersection over union (Jaccard index) of the classes, for classification and segmentation:
    ``IoU_c = C[c, c] / (row_c + col_c - C[c, c])`` from the running confusion matrix, averaged over the classes
    present in the predictions or the targets (absent ones are left out, like ``sklearn.metrics.jaccard_score(
    average="macro")``, Keras' ``MeanIoU`` and torchmetrics' ``JaccardIndex(average="macro")``).

    Inputs as for ``ConfusionMatrix``: scores (N, C, H, W) against masks (N, H, W), or labels against labels.
    ``ignore_index``: pixels whose target is this value are skipped (e.g. 255 for "unlabelled"), and if it is
    a class index that class is left out of the mean, as torchmetrics does.

    >>> ember.metrics.MeanIoU().update(ember.tensor([0, 1, 1]), ember.tensor([0, 1, 0])).compute()   # (1/2 + 1/2)/2
    0.5
    """

    name = "mean_iou"

    def __init__(self, num_classes: int | None = None, ignore_index: int | None = None) -> None:
        self.ignore_index = ignore_index
        super().__init__(num_classes=num_classes)

    def update(self, preds, target) -> "MeanIoU":
        if self.ignore_index is None:
            return super().update(preds, target)
        p, t = _arr(preds, "MeanIoU", "preds"), _arr(target, "MeanIoU", "target")
        keep = t != self.ignore_index
        if p.ndim == t.ndim + 1 and p.shape[:1] + p.shape[2:] == t.shape:
            p = np.moveaxis(p, 1, -1)           # scores (N, C, ...) -> (N, ..., C), so keep selects (K, C)
        elif p.shape != t.shape:
            return super().update(p, t)         # a shape mismatch: let ConfusionMatrix explain it
        return super().update(p[keep], t[keep])

    def compute(self) -> float:
        if not self.total:
            raise self._empty()
        m = self.matrix.astype(np.float64)
        inter = np.diag(m)
        union = m.sum(axis=0) + m.sum(axis=1) - inter
        present = union > 0
        if self.ignore_index is not None and 0 <= self.ignore_index < len(present):
            present[self.ignore_index] = False
        if not present.any():       # every kept pixel was predicted as the ignored class
            return 0.0
        return float((inter[present] / union[present]).mean())

    def __repr__(self) -> str:
        return f"MeanIoU(num_classes={self.num_classes}, ignore_index={self.ignore_index})"


def _multilabel(preds, target, who, threshold, logits):
    p, t = _arr(preds, who, "preds"), _arr(target, who, "target")
    if p.shape != t.shape or p.ndim != 2:
        raise ValueError(f"{who}: expected preds and target of the same shape (N, L), got {p.shape} and {t.shape}")
    if p.dtype.kind == "f":
        if logits:      # sigmoid(z) >= thr  <=>  z >= logit(thr), without computing the sigmoid
            cut = np.log(threshold / (1 - threshold)) if 0 < threshold < 1 else (-np.inf if threshold <= 0 else np.inf)
            p = p >= cut
        else:
            p = p >= threshold
    return p.astype(bool), t.astype(bool)


class MultiLabelAccuracy(Metric):
    """Multi-label accuracy from logits (N, L) and 0/1 targets (N, L): by default the fraction of samples whose
    every label is right (subset accuracy, ``sklearn.metrics.accuracy_score``); ``subset=False`` gives the
    fraction of right labels.  A label is on when ``sigmoid(logit) >= threshold`` (``logits=False``: when the
    probability is).  Integer/bool preds are taken as the 0/1 labels themselves."""

    name = "multilabel_accuracy"

    def __init__(self, threshold: float = 0.5, logits: bool = True, subset: bool = True) -> None:
        self.threshold, self.logits, self.subset = threshold, logits, subset
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds, target) -> "MultiLabelAccuracy":
        p, t = _multilabel(preds, target, type(self).__name__, self.threshold, self.logits)
        ok = p == t
        if self.subset:
            self.correct += int(ok.all(axis=1).sum())
            self.total += ok.shape[0]
        else:
            self.correct += int(ok.sum())
            self.total += ok.size
        return self

    def compute(self) -> float:
        if not self.total:
            raise self._empty()
        return self.correct / self.total


class HammingLoss(MultiLabelAccuracy):
    """Fraction of wrong labels in multi-label predictions (``sklearn.metrics.hamming_loss``); inputs as in
    ``MultiLabelAccuracy``."""

    name = "hamming_loss"
    higher_is_better = False

    def __init__(self, threshold: float = 0.5, logits: bool = True) -> None:
        super().__init__(threshold, logits, subset=False)

    def compute(self) -> float:
        return 1.0 - super().compute()


# -- regression -----------------------------------------------------------------------------------------------
def _pair(preds, target, who):
    p = _arr(preds, who, "preds").astype(np.float64)
    t = _arr(target, who, "target").astype(np.float64)
    if p.shape != t.shape:
        if p.size == t.size and p.squeeze().shape == t.squeeze().shape:     # (N, 1) vs (N,): a common slip
            p = p.reshape(t.shape)
        else:
            raise ValueError(f"{who}: preds of shape {p.shape} do not match target of shape {t.shape}")
    return p, t


class _MeanOf(Metric):
    """Mean of an elementwise error over all elements seen."""

    higher_is_better = False

    def reset(self) -> None:
        self.sum = 0.0
        self.total = 0

    def _err(self, p, t):
        raise NotImplementedError

    def update(self, preds, target):
        p, t = _pair(preds, target, type(self).__name__)
        self.sum += float(self._err(p, t).sum())
        self.total += t.size
        return self

    def compute(self) -> float:
        if not self.total:
            raise self._empty()
        return self.sum / self.total


class MeanAbsoluteError(_MeanOf):
    """Mean of ``|preds - target|`` (``sklearn.metrics.mean_absolute_error``)."""

    name = "mae"

    def _err(self, p, t):
        return np.abs(p - t)


class MeanSquaredError(_MeanOf):
    """Mean of ``(preds - target)**2`` (``sklearn.metrics.mean_squared_error``)."""

    name = "mse"

    def _err(self, p, t):
        return (p - t) ** 2


class RootMeanSquaredError(MeanSquaredError):
    """Square root of the mean squared error (``sklearn.metrics.root_mean_squared_error``)."""

    name = "rmse"

    def compute(self) -> float:
        return float(np.sqrt(super().compute()))


class MeanPoissonDeviance(_MeanOf):
    """Mean Poisson deviance ``2 (y log(y / mu) - y + mu)`` for counts ``y >= 0`` and predicted means ``mu > 0``
    (``sklearn.metrics.mean_poisson_deviance``).

    ``log_input=True``: the predictions are log-means ``log mu`` (what ``models.PoissonMLP`` returns and
    ``nn.PoissonNLLLoss(log_input=True)`` takes), exponentiated here.
    """

    name = "poisson_deviance"

    def __init__(self, log_input: bool = False) -> None:
        self.log_input = log_input
        super().__init__()

    def _err(self, p, t):
        if (t < 0).any():
            raise ValueError("MeanPoissonDeviance: target must be >= 0 (counts)")
        if self.log_input:
            log_mu, mu = p, np.exp(p)
        elif (p <= 0).any():
            raise ValueError("MeanPoissonDeviance: preds (predicted means) must be > 0; pass log_input=True "
                             "for log-means")
        else:
            log_mu, mu = np.log(p), p
        ylog = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1)) - log_mu), 0.0)
        return 2 * (ylog - t + mu)

    def __repr__(self) -> str:
        return f"MeanPoissonDeviance(log_input={self.log_input})"


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` (``sklearn.metrics.r2_score``): for targets of shape
    (N, K) the mean over the K outputs.  A constant target gives 1.0 if predicted exactly, else 0.0 (sklearn's
    ``force_finite``)."""

    name = "r2"

    def reset(self) -> None:
        self.n = 0
        self.sum = self.sum_sq = self.res = None

    def update(self, preds, target) -> "R2Score":
        p, t = _pair(preds, target, "R2Score")
        if t.ndim == 1:
            p, t = p[:, None], t[:, None]
        elif t.ndim != 2:
            raise ValueError(f"R2Score: expected target of shape (N,) or (N, K), got {t.shape}")
        if self.sum is None:
            self.sum, self.sum_sq, self.res = (np.zeros(t.shape[1]) for _ in range(3))
        elif t.shape[1] != self.sum.shape[0]:
            raise ValueError(f"R2Score: got {t.shape[1]} outputs, earlier batches had {self.sum.shape[0]}")
        # shift by the first batch's mean so the streaming sum of squares does not lose precision
        if self.n == 0:
            self.shift = t.mean(axis=0)
        d = t - self.shift
        self.sum += d.sum(axis=0)
        self.sum_sq += (d ** 2).sum(axis=0)
        self.res += ((t - p) ** 2).sum(axis=0)
        self.n += t.shape[0]
        return self

    def compute(self) -> float:
        if not self.n:
            raise self._empty()
        tot = self.sum_sq - self.sum ** 2 / self.n
        scores = np.where(tot > 0, 1 - self.res / np.where(tot > 0, tot, 1), np.where(self.res == 0, 1.0, 0.0))
        return float(scores.mean())


# short names, like Keras' and scikit-learn's
MAE, MSE, RMSE, F1 = MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError, F1Score

_REGISTRY = {
    "accuracy": Accuracy, "acc": Accuracy, "top5_accuracy": lambda: TopKAccuracy(5),
    "top_k_accuracy": TopKAccuracy, "precision": Precision, "recall": Recall, "f1": F1Score,
    "confusion_matrix": ConfusionMatrix, "multilabel_accuracy": MultiLabelAccuracy, "hamming_loss": HammingLoss,
    "mae": MeanAbsoluteError, "mse": MeanSquaredError, "rmse": RootMeanSquaredError, "r2": R2Score,
    "poisson_deviance": MeanPoissonDeviance, "mean_iou": MeanIoU, "iou": MeanIoU,
}


def get(name, **kwargs) -> Metric:
    """A metric from its name (``'accuracy'``, ``'f1'``, ``'mae'``, ...) or a Metric instance (returned as is)."""
    if isinstance(name, Metric):
        return name
    if isinstance(name, type) and issubclass(name, Metric):
        return name(**kwargs)
    factory = _REGISTRY.get(str(name).lower())
    if factory is None:
        raise ValueError(f"unknown metric {name!r}; known metrics: {', '.join(sorted(_REGISTRY))}")
    return factory(**kwargs)


# -- functional forms -----------------------------------------------------------------------------------------
def _once(metric: Metric, preds, target):
    return metric.update(preds, target).compute()


def accuracy(preds, target, threshold: float = 0.5) -> float:
    """Accuracy of scores (N, C) or labels (N,) against labels (N,); see ``Accuracy``."""
    return _once(Accuracy(threshold), preds, target)


def top_k_accuracy(preds, target, k: int = 5) -> float:
    """Top-k accuracy of scores (N, C) against labels (N,); see ``TopKAccuracy``."""
    return _once(TopKAccuracy(k), preds, target)


def precision(preds, target, num_classes=None, average="macro", zero_division=0.0):
    """Precision; see ``Precision``."""
    return _once(Precision(num_classes, average, zero_division=zero_division), preds, target)


def recall(preds, target, num_classes=None, average="macro", zero_division=0.0):
    """Recall; see ``Recall``."""
    return _once(Recall(num_classes, average, zero_division=zero_division), preds, target)


def f1_score(preds, target, num_classes=None, average="macro", zero_division=0.0):
    """F1 score; see ``F1Score``."""
    return _once(F1Score(num_classes, average, zero_division=zero_division), preds, target)


def confusion_matrix(preds, target, num_classes=None, normalize=None):
    """Confusion matrix (rows: true class, columns: predicted); see ``ConfusionMatrix``."""
    return _once(ConfusionMatrix(num_classes, normalize), preds, target)


def mean_iou(preds, target, num_classes=None, ignore_index=None) -> float:
    """Mean intersection over union of the classes (scores (N, C, H, W) or labels against masks); see
    ``MeanIoU``."""
    return _once(MeanIoU(num_classes, ignore_index), preds, target)


def multilabel_accuracy(preds, target, threshold: float = 0.5, logits: bool = True, subset: bool = True):
    """Multi-label (subset) accuracy from logits; see ``MultiLabelAccuracy``."""
    return _once(MultiLabelAccuracy(threshold, logits, subset), preds, target)


def hamming_loss(preds, target, threshold: float = 0.5, logits: bool = True) -> float:
    """Fraction of wrong labels; see ``HammingLoss``."""
    return _once(HammingLoss(threshold, logits), preds, target)


def mean_absolute_error(preds, target) -> float:
    """Mean absolute error."""
    return _once(MeanAbsoluteError(), preds, target)


def mean_squared_error(preds, target) -> float:
    """Mean squared error."""
    return _once(MeanSquaredError(), preds, target)


def root_mean_squared_error(preds, target) -> float:
    """Root mean squared error."""
    return _once(RootMeanSquaredError(), preds, target)


def r2_score(preds, target) -> float:
    """R² (coefficient of determination); see ``R2Score``."""
    return _once(R2Score(), preds, target)


def mean_poisson_deviance(preds, target, log_input: bool = False) -> float:
    """Mean Poisson deviance of predicted means (or log-means with ``log_input=True``); see
    ``MeanPoissonDeviance``."""
    return _once(MeanPoissonDeviance(log_input), preds, target)
