"""ember.vision.ops (box_iou, nms, batched_nms, box_convert) against brute-force and torch-written references,
and ember.vision.metrics' average precision against a hand-checkable ranking."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision import ops
from ember.vision.metrics import average_precision, mean_average_precision
from tests.helpers import compare


def _boxes(rng, n, scale=20.0):
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(1, scale / 2, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def _iou_brute(a, b):
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = w * h
            out[i, j] = inter / ((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter)
    return out


def _nms_brute(boxes, scores, thr):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if all(_iou_brute(boxes[[i]], boxes[[k]])[0, 0] <= thr for k in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(4))
def test_box_iou_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    a, b = _boxes(rng, 7), _boxes(rng, 5)
    got = ops.box_iou(ember.tensor(a), ember.tensor(b)).numpy()
    np.testing.assert_allclose(got, _iou_brute(a, b), rtol=1e-12, atol=1e-12)


def test_box_iou_and_area_values_and_gradients_match_torch_reference():
    def torch_iou(a, b):                  # torchvision's formula, written with torch ops
        area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
        lt = torch.max(a[:, None, :2], b[None, :, :2])
        rb = torch.min(a[:, None, 2:], b[None, :, 2:])
        wh = (rb - lt).clamp(min=0)
        inter = wh[..., 0] * wh[..., 1]
        return inter / (area(a)[:, None] + area(b)[None, :] - inter)

    rng = np.random.default_rng(0)
    a, b = _boxes(rng, 6, 6.0), _boxes(rng, 4, 6.0)      # small scale: many overlaps
    compare(lambda m, x, y: ops.box_iou(x, y) if m is ember else torch_iou(x, y), [a, b])
    compare(lambda m, x: ops.box_area(x) if m is ember else (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1]), [a])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.9])
def test_nms_matches_brute_force_greedy(seed, thr):
    rng = np.random.default_rng(seed)
    boxes = _boxes(rng, 25, 12.0)
    scores = rng.random(25)
    if seed % 2:
        scores = np.round(scores, 1)                      # ties: visited in index order
    keep = ops.nms(ember.tensor(boxes), ember.tensor(scores), thr)
    assert keep.dtype == ember.int64
    assert keep.tolist() == _nms_brute(boxes, scores, thr)


def test_nms_properties_and_edge_cases():
    rng = np.random.default_rng(3)
    boxes, scores = _boxes(rng, 40, 15.0), rng.random(40)
    keep = ops.nms(ember.tensor(boxes), ember.tensor(scores), 0.4).tolist()
    iou = _iou_brute(boxes, boxes)
    assert all(iou[i, j] <= 0.4 for i in keep for j in keep if i != j)
    for d in set(range(40)) - set(keep):                 # each dropped box overlaps a better kept one
        assert any(iou[d, k] > 0.4 and scores[k] >= scores[d] for k in keep)
    assert list(scores[keep]) == sorted(scores[keep], reverse=True)
    empty = ops.nms(ember.zeros(0, 4), ember.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == ember.int64
    with pytest.raises(ValueError, match=r"nms: expected scores of shape \(3,\)"):
        ops.nms(ember.rand(3, 4), ember.rand(2), 0.5)
    with pytest.raises(ValueError, match=r"box_iou: expected boxes1 of shape \(N, 4\), got \(3, 3\)"):
        ops.box_iou(ember.rand(3, 3), ember.rand(2, 4))


def test_batched_nms_is_nms_per_category():
    rng = np.random.default_rng(5)
    boxes, scores = _boxes(rng, 30, 10.0), rng.random(30)
    cats = rng.integers(0, 3, 30)
    keep = ops.batched_nms(ember.tensor(boxes), ember.tensor(scores), ember.tensor(cats), 0.5).tolist()
    expected = []
    for c in range(3):
        idx = np.nonzero(cats == c)[0]
        expected += [int(idx[k]) for k in _nms_brute(boxes[idx], scores[idx], 0.5)]
    assert keep == sorted(expected, key=lambda i: (-scores[i], i))


@pytest.mark.parametrize("fmt", ["xywh", "cxcywh"])
def test_box_convert_round_trip_and_values(fmt):
    rng = np.random.default_rng(1)
    b = _boxes(rng, 5)
    e = ops.box_convert(ember.tensor(b), "xyxy", fmt).numpy()
    if fmt == "xywh":
        ref = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)
    else:
        ref = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)
    np.testing.assert_allclose(e, ref, rtol=1e-12)
    np.testing.assert_allclose(ops.box_convert(ember.tensor(e), fmt, "xyxy").numpy(), b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="box_convert: formats"):
        ops.box_convert(ember.tensor(b), "xyxy", "yxyx")


def _ap_brute(tp_flags, n_gt):
    """All-point interpolated AP from the ranked true-positive flags: the max precision at recall >= r."""
    tp = np.cumsum(tp_flags)
    prec = tp / np.arange(1, len(tp_flags) + 1)
    rec = tp / n_gt
    ap, prev = 0.0, 0.0
    for k in range(len(tp_flags)):
        if tp_flags[k]:
            ap += (rec[k] - prev) * max(prec[k:])
            prev = rec[k]
    return ap


def test_average_precision_ranking_and_matching():
    gt = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([[5, 5, 15, 15]], float)]
    dets = [(np.array([[0, 0, 10, 10], [0.5, 0, 10, 10], [40, 40, 50, 50], [20, 21, 30, 30]]),
             np.array([0.9, 0.8, 0.7, 0.3])),
            (np.array([[5, 5, 15, 15]]), np.array([0.6]))]
    # ranked: 0.9 TP, 0.8 duplicate (FP), 0.7 FP, 0.6 TP, 0.3 TP
    ap = average_precision(dets, gt, 0.5)
    assert math.isclose(ap, _ap_brute([1, 0, 0, 1, 1], 3), rel_tol=1e-12)
    perfect = [(g, np.ones(len(g))) for g in gt]
    assert average_precision(perfect, gt) == 1.0
    assert math.isnan(average_precision([(np.zeros((0, 4)), np.zeros(0))], [np.zeros((0, 4))]))
    m = mean_average_precision([(g, np.ones(len(g)), np.zeros(len(g), int)) for g in gt],
                               [(g, np.zeros(len(g), int)) for g in gt], num_classes=3)
    assert m == 1.0                                       # classes without ground truth are left out


def _nms_torch(boxes, scores, thr):
    """Greedy NMS written with torch ops: suppression masks from a full IoU matrix."""
    b, s = torch.from_numpy(boxes), torch.from_numpy(scores)
    order = torch.argsort(s, descending=True, stable=True)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(b[:, None, :2], b[None, :, :2])
    rb = torch.min(b[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    iou = inter / (area[:, None] + area[None, :] - inter)
    removed = torch.zeros(len(b), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if removed[i]:
            continue
        keep.append(i)
        removed |= iou[i] > thr
    return keep


@pytest.mark.parametrize("seed", range(4))
def test_nms_matches_torch_written_reference(seed):
    rng = np.random.default_rng(100 + seed)
    boxes, scores = _boxes(rng, 60, 25.0), rng.random(60).astype(np.float32)
    for thr in (0.2, 0.5, 0.7):
        assert ops.nms(ember.tensor(boxes), ember.tensor(scores), thr).tolist() == _nms_torch(boxes, scores, thr)
