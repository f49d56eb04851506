"""Tests for ember.metrics: streaming over batches equals scikit-learn on the whole data."""
import numpy as np
import pytest
from sklearn import metrics as skm

import ember
from ember import metrics as M


def _batches(*arrays, sizes=(7, 1, 20, 12)):
    """Split arrays into uneven batches (as Tensors), to check that streaming equals one big update."""
    start = 0
    for s in sizes:
        yield tuple(ember.tensor(a[start:start + s]) for a in arrays)
        start += s
    assert start == len(arrays[0])


def _stream(metric, preds, target):
    for p, t in _batches(preds, target):
        metric.update(p, t)
    return metric.compute()


@pytest.fixture
def clf():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(40, 5)).astype(np.float32)
    target = rng.integers(0, 5, size=40)
    target[:25] = logits[:25].argmax(1)     # better than chance, so the metrics are not all tiny
    return logits, target


def test_accuracy(clf):
    logits, y = clf
    want = skm.accuracy_score(y, logits.argmax(1))
    assert _stream(M.Accuracy(), logits, y) == pytest.approx(want)
    assert M.accuracy(logits.argmax(1), y) == pytest.approx(want)        # from labels
    assert M.accuracy(ember.tensor([0.2, 0.7, 0.9]), ember.tensor([0, 1, 0])) == pytest.approx(2 / 3)  # binary


def test_top_k(clf):
    logits, y = clf
    for k in (1, 2, 3):
        want = skm.top_k_accuracy_score(y, logits, k=k, labels=range(5))
        assert _stream(M.TopKAccuracy(k), logits, y) == pytest.approx(want)
    assert M.TopKAccuracy(3).name == "top3_accuracy"


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("cls,sk", [(M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                                    (M.F1Score, skm.f1_score)])
def test_precision_recall_f1(clf, cls, sk, average):
    logits, y = clf
    got = _stream(cls(average=average), logits, y)
    want = sk(y, logits.argmax(1), average=average, zero_division=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_prf_with_missing_classes():
    # class 3 never occurs: sklearn averages over present labels only; class 2 is predicted but never true
    y = np.array([0, 0, 1, 1, 4])
    p = np.array([0, 2, 1, 1, 4])
    for cls, sk in [(M.Precision, skm.precision_score), (M.Recall, skm.recall_score), (M.F1Score, skm.f1_score)]:
        assert cls().update(p, y).compute() == pytest.approx(sk(y, p, average="macro", zero_division=0))


def test_confusion_matrix(clf):
    logits, y = clf
    np.testing.assert_array_equal(_stream(M.ConfusionMatrix(), logits, y), skm.confusion_matrix(y, logits.argmax(1)))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(M.confusion_matrix(logits, y, normalize=norm),
                                   skm.confusion_matrix(y, logits.argmax(1), normalize=norm))
    # grows as larger labels arrive, and a fixed size refuses labels past it
    cm = M.ConfusionMatrix()
    cm.update(np.array([0, 1]), np.array([1, 1]))
    cm.update(np.array([3]), np.array([2]))
    assert cm.compute().shape == (4, 4) and cm.compute()[2, 3] == 1 and cm.compute()[1, 0] == 1
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        M.ConfusionMatrix(num_classes=2).update(np.array([0, 2]), np.array([0, 1]))


def test_multilabel():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(40, 4))
    y = (rng.random((40, 4)) < 0.5).astype(np.int64)
    y[:20] = logits[:20] > 0.4
    pred = (1 / (1 + np.exp(-logits)) >= 0.6).astype(int)
    assert _stream(M.MultiLabelAccuracy(threshold=0.6), logits, y) == pytest.approx(skm.accuracy_score(y, pred))
    assert _stream(M.HammingLoss(threshold=0.6), logits, y) == pytest.approx(skm.hamming_loss(y, pred))
    assert M.multilabel_accuracy(logits, y, subset=False) == pytest.approx(
        1 - skm.hamming_loss(y, (logits >= 0).astype(int)))
    probs = 1 / (1 + np.exp(-logits))
    assert M.hamming_loss(probs, y, logits=False) == pytest.approx(skm.hamming_loss(y, (probs >= 0.5).astype(int)))


def test_regression():
    rng = np.random.default_rng(3)
    y = rng.normal(5, 2, size=40)
    p = y + rng.normal(0, 1, size=40)
    assert _stream(M.MAE(), p, y) == pytest.approx(skm.mean_absolute_error(y, p))
    assert _stream(M.MSE(), p, y) == pytest.approx(skm.mean_squared_error(y, p))
    assert _stream(M.RMSE(), p, y) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert _stream(M.R2Score(), p, y) == pytest.approx(skm.r2_score(y, p))
    y2, p2 = np.stack([y, y * 3 + 1e4], 1), np.stack([p, p * 2 + 1e4], 1)     # large offset: precision check
    assert _stream(M.R2Score(), p2, y2) == pytest.approx(skm.r2_score(y2, p2), rel=1e-9)
    counts = rng.poisson(3, size=40).astype(float)
    mu = np.abs(counts + rng.normal(0, 1, 40)) + 0.1
    assert _stream(M.MeanPoissonDeviance(), mu, counts) == pytest.approx(skm.mean_poisson_deviance(counts, mu))
    assert M.r2_score(np.ones(3), np.ones(3)) == 1.0        # constant target, perfect prediction
    assert M.mean_squared_error(ember.ones(4, 1), ember.zeros(4)) == 1.0      # (N, 1) vs (N,) tolerated


def test_reset_call_and_errors(clf):
    logits, y = clf
    acc = M.Accuracy()
    with pytest.raises(RuntimeError, match="before any update"):
        acc.compute()
    assert acc(logits[:10], y[:10]) == pytest.approx(skm.accuracy_score(y[:10], logits[:10].argmax(1)))
    acc(logits[10:], y[10:])
    assert acc.compute() == pytest.approx(skm.accuracy_score(y, logits.argmax(1)))
    acc.reset()
    assert acc.update(logits[:3], y[:3]).total == 3
    with pytest.raises(ValueError, match=r"target must have shape \(40,\)"):
        M.accuracy(logits, y[:5])
    with pytest.raises(ValueError, match="out of range for 5 classes"):
        M.accuracy(logits[:2], np.array([0, 9]))
    with pytest.raises(ValueError, match="average must be one of"):
        M.F1Score(average="samples")
    with pytest.raises(ValueError, match="do not match"):
        M.mae(np.ones(3), np.ones(4)) if hasattr(M, "mae") else M.mean_absolute_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="target must be >= 0"):
        M.mean_poisson_deviance(np.ones(2), -np.ones(2))
    with pytest.raises(ValueError, match="unknown metric 'foo'; known metrics: acc"):
        M.get("foo")
    assert isinstance(M.get("accuracy"), M.Accuracy) and M.get("mae").higher_is_better is False
