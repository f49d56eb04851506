"""Tests for ember.metrics' MeanIoU (segmentation) and MeanPoissonDeviance(log_input=True), against scikit-learn."""
import numpy as np
import pytest
from sklearn import metrics as skm

import ember
from ember import metrics as M


def test_mean_iou_equals_sklearn_jaccard_macro_on_labels():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.6, t, rng.integers(0, 5, 300))
    want = skm.jaccard_score(t, p, average="macro")
    assert M.MeanIoU().update(ember.tensor(p), ember.tensor(t)).compute() == pytest.approx(want)
    assert M.mean_iou(p, t, num_classes=5) == pytest.approx(want)
    # not the accuracy, nor the per-class IoU of one class: the mean
    assert want != pytest.approx((p == t).mean())


def test_mean_iou_on_segmentation_scores():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(4, 3, 6, 5)).astype(np.float32)
    mask = rng.integers(0, 3, (4, 6, 5))
    mask[:2] = scores[:2].argmax(1)                    # half the images right, so IoU is far from chance
    pred = scores.argmax(1)
    want = skm.jaccard_score(mask.ravel(), pred.ravel(), average="macro")
    got = M.MeanIoU(num_classes=3).update(ember.tensor(scores), ember.tensor(mask)).compute()
    assert got == pytest.approx(want)
    assert M.mean_iou(pred, mask) == pytest.approx(want)                # labels (N, H, W) give the same
    with pytest.raises(ValueError, match="MeanIoU: preds of shape \\(4, 3, 6, 5\\) are scores"):
        M.mean_iou(scores, mask[:, :5])


def test_mean_iou_accumulates_like_one_update():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(10, 4, 8, 8)).astype(np.float32)
    mask = rng.integers(0, 4, (10, 8, 8))
    mask[:6] = scores[:6].argmax(1)
    m = M.MeanIoU()
    for a, b in [(0, 3), (3, 4), (4, 9), (9, 10)]:          # uneven batches
        m.update(ember.tensor(scores[a:b]), ember.tensor(mask[a:b]))
    one = M.mean_iou(scores, mask)
    assert m.compute() == pytest.approx(one)
    # the mean of the per-batch values is a different (wrong) number: accumulation is really over pixels
    per_batch = np.mean([M.mean_iou(scores[i:i + 1], mask[i:i + 1]) for i in range(10)])
    assert abs(per_batch - one) > 1e-3
    assert m(scores[:2], mask[:2]) == pytest.approx(M.mean_iou(scores[:2], mask[:2]))     # __call__: the batch
    m.reset()
    with pytest.raises(RuntimeError, match="MeanIoU.compute\\(\\) called before any update"):
        m.compute()


def test_mean_iou_leaves_out_classes_absent_from_both_sides():
    t = np.array([0, 0, 1, 1, 3, 3])
    p = np.array([0, 1, 1, 1, 3, 0])
    # class 2 appears nowhere: IoU over {0, 1, 3} = (1/3 + 2/3 + 1/2) / 3
    want = (1 / 3 + 2 / 3 + 1 / 2) / 3
    assert M.mean_iou(p, t, num_classes=4) == pytest.approx(want)
    assert M.mean_iou(p, t) == pytest.approx(skm.jaccard_score(t, p, average="macro"))
    # a class predicted but never true counts, with IoU 0
    assert M.mean_iou(np.array([0, 2]), np.array([0, 0])) == pytest.approx((1 / 2 + 0) / 2)


def test_mean_iou_ignore_index():
    t = np.array([0, 0, 1, 1, 255, 255])
    p = np.array([0, 1, 1, 1, 0, 1])
    # the 255 pixels are skipped, whatever was predicted there
    assert M.mean_iou(p, t, ignore_index=255) == pytest.approx(M.mean_iou(p[:4], t[:4]))
    scores = np.eye(2, dtype=np.float32)[p].T[None]             # (1, 2, 6) one-hot scores of p
    assert M.mean_iou(scores, t[None], ignore_index=255) == pytest.approx((1 / 2 + 2 / 3) / 2)
    # an ignore_index that is a class: its pixels and its IoU are left out
    t, p = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 2, 2])
    assert M.mean_iou(p, t) == pytest.approx((1 / 2 + 1 / 3 + 1 / 2) / 3)
    assert M.mean_iou(p, t, ignore_index=0) == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_mean_iou_registered():
    assert isinstance(M.get("mean_iou"), M.MeanIoU) and isinstance(M.get("iou"), M.MeanIoU)
    m = M.get("mean_iou", num_classes=3)
    assert m.num_classes == 3 and m.name == "mean_iou" and m.higher_is_better
    with pytest.raises(ValueError, match="MeanIoU: label 3 is out of range for num_classes=3"):
        m.update(np.array([0, 3]), np.array([0, 1]))


def test_poisson_deviance_log_input():
    rng = np.random.default_rng(3)
    log_mu = rng.normal(0, 1, 200)
    counts = rng.poisson(np.exp(log_mu)).astype(np.float32)
    want = skm.mean_poisson_deviance(counts, np.exp(log_mu))
    got = M.MeanPoissonDeviance(log_input=True).update(ember.tensor(log_mu), ember.tensor(counts)).compute()
    assert got == pytest.approx(want, rel=1e-6)
    assert M.mean_poisson_deviance(np.exp(log_mu), counts) == pytest.approx(want, rel=1e-6)     # default: means
    assert M.mean_poisson_deviance(log_mu, counts, log_input=True) == pytest.approx(want, rel=1e-6)
    # the flag matters: log-means read as means give another number (or an error for negative ones)
    with pytest.raises(ValueError, match="preds \\(predicted means\\) must be > 0; pass log_input=True"):
        M.mean_poisson_deviance(log_mu, counts)
    assert M.mean_poisson_deviance(np.exp(log_mu), counts, log_input=True) != pytest.approx(want, rel=1e-2)
    with pytest.raises(ValueError, match="target must be >= 0"):
        M.mean_poisson_deviance(log_mu, -counts - 1, log_input=True)


def test_poisson_deviance_log_input_streams_and_is_finite_for_large_negative_logs():
    rng = np.random.default_rng(4)
    log_mu = rng.normal(-1, 1, 60)
    counts = rng.poisson(np.exp(log_mu)).astype(np.float64)
    m = M.MeanPoissonDeviance(log_input=True)
    for i in range(0, 60, 25):
        m.update(log_mu[i:i + 25], counts[i:i + 25])
    assert m.compute() == pytest.approx(skm.mean_poisson_deviance(counts, np.exp(log_mu)))
    # exp(-800) underflows to 0; with a zero count the deviance term is exp(log mu) -> 0, not an error
    assert M.mean_poisson_deviance(np.array([-800.0]), np.array([0.0]), log_input=True) == pytest.approx(0.0)
    assert repr(M.MeanPoissonDeviance(log_input=True)) == "MeanPoissonDeviance(log_input=True)"
