"""Metrics for captioning and detection: corpus BLEU (Papineni et al., 2002) and mean average precision.

    bleu_score(candidates, references)                  # BLEU-4, torchtext's ``bleu_score`` conventions
    bleu_scores(candidates, references)                 # {"bleu1": ..., "bleu4": ...}, cumulative BLEU-n
    mean_average_precision(detections, ground_truth, iou_threshold=0.5)

Sentences are lists of tokens (strings are split on whitespace).
"""
from __future__ import annotations

import math
from collections import Counter

from ..backend import np

__all__ = ["bleu_score", "bleu_scores", "average_precision", "mean_average_precision"]


def _tokens(s):
    return s.split() if isinstance(s, str) else list(s)


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu_score(candidate_corpus, references_corpus, max_n: int = 4, weights=None) -> float:
    """Corpus BLEU of ``candidate_corpus`` (one token list per sentence) against ``references_corpus`` (per
    sentence a list of reference token lists): clipped n-gram counts summed over the corpus for n = 1..max_n,
    their precisions combined as ``exp(sum w_n log p_n)`` (0 when any p_n is 0, no smoothing) times the brevity
    penalty ``exp(1 - r / c)`` when the total candidate length c is below r, the sum over sentences of the
    reference length closest to the candidate's (the first such reference on ties).  ``weights`` default to
    ``1 / max_n`` each."""
    cands = [_tokens(c) for c in candidate_corpus]
    refs = [[_tokens(r) for r in ([rs] if isinstance(rs, str) else rs)] for rs in references_corpus]
    if len(cands) != len(refs):
        raise ValueError(f"bleu_score: {len(cands)} candidates but {len(refs)} reference lists")
    if int(max_n) != max_n or max_n < 1:
        raise ValueError(f"bleu_score: max_n must be a positive integer, got {max_n!r}")
    weights = [1.0 / max_n] * max_n if weights is None else list(weights)
    if len(weights) != max_n:
        raise ValueError(f"bleu_score: expected {max_n} weights, got {len(weights)}")
    if any(not r for r in refs):
        raise ValueError("bleu_score: every candidate needs at least one reference")
    clipped = [0] * max_n
    total = [0] * max_n
    c_len = r_len = 0
    for cand, rs in zip(cands, refs):
        c_len += len(cand)
        r_len += min((len(r) for r in rs), key=lambda L: abs(len(cand) - L))
        for n in range(1, max_n + 1):
            counts = _ngrams(cand, n)
            best = Counter()
            for r in rs:
                best |= _ngrams(r, n)                       # max count of each n-gram over the references
            clipped[n - 1] += sum(min(c, best[g]) for g, c in counts.items())
            total[n - 1] += sum(counts.values())
    if min(clipped) == 0:
        return 0.0
    log_p = sum(w * math.log(c / t) for w, c, t in zip(weights, clipped, total))
    bp = 1.0 if c_len > r_len else math.exp(1 - r_len / c_len)
    return float(bp * math.exp(log_p))


def bleu_scores(candidate_corpus, references_corpus, max_n: int = 4) -> dict:
    """Cumulative BLEU-1 .. BLEU-max_n (BLEU-n: uniform weights over 1..n-grams) as ``{"bleu1": ..., ...}``."""
    cands, refs = list(candidate_corpus), list(references_corpus)
    return {f"bleu{n}": bleu_score(cands, refs, max_n=n) for n in range(1, max_n + 1)}


def _iou_matrix(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def average_precision(detections, ground_truth, iou_threshold: float = 0.5) -> float:
    """Average precision of one class.  ``detections``: per image a pair ``(boxes (k, 4), scores (k,))``;
    ``ground_truth``: per image ``boxes (m, 4)`` (xyxy).  Detections of all images are ranked by score; each is
    a true positive when its best-overlapping ground-truth box not yet matched has IoU >= ``iou_threshold``
    (Pascal VOC's rule); AP is the area under the precision envelope (all-point interpolation, VOC 2010+).
    NaN when there is no ground-truth box."""
    if len(detections) != len(ground_truth):
        raise ValueError(f"average_precision: {len(detections)} detection lists but {len(ground_truth)} images")
    n_gt = sum(len(g) for g in ground_truth)
    if n_gt == 0:
        return float("nan")
    ranked = []
    for img, (boxes, scores) in enumerate(detections):
        boxes, scores = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64).reshape(-1)
        ranked += [(s, img, b) for s, b in zip(scores, boxes)]
    ranked.sort(key=lambda t: -t[0])
    used = [np.zeros(len(g), bool) for g in ground_truth]
    tp = np.zeros(len(ranked))
    for k, (_, img, box) in enumerate(ranked):
        gt = np.asarray(ground_truth[img], np.float64).reshape(-1, 4)
        if len(gt) == 0:
            continue
        ious = _iou_matrix(box[None], gt)[0]
        j = int(np.argmax(ious))
        if ious[j] >= iou_threshold and not used[img][j]:
            tp[k], used[img][j] = 1, True
    ctp = np.cumsum(tp)
    recall = ctp / n_gt
    precision = ctp / np.arange(1, len(ranked) + 1)
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]                # the precision envelope
    idx = np.nonzero(r[1:] != r[:-1])[0]
    return float(np.sum((r[idx + 1] - r[idx]) * p[idx + 1]))


def mean_average_precision(detections, ground_truth, num_classes: int, iou_threshold: float = 0.5) -> float:
    """mAP over the classes that have ground-truth boxes.  ``detections``: per image ``(boxes (k, 4), scores
    (k,), labels (k,))``; ``ground_truth``: per image ``(boxes (m, 4), labels (m,))``."""
    aps = []
    for c in range(num_classes):
        det_c, gt_c = [], []
        for (b, s, l), (gb, gl) in zip(detections, ground_truth):
            l, gl = np.asarray(l).reshape(-1), np.asarray(gl).reshape(-1)
            det_c.append((np.asarray(b).reshape(-1, 4)[l == c], np.asarray(s).reshape(-1)[l == c]))
            gt_c.append(np.asarray(gb).reshape(-1, 4)[gl == c])
        ap = average_precision(det_c, gt_c, iou_threshold)
        if not math.isnan(ap):
            aps.append(ap)
    return float(np.mean(aps)) if aps else float("nan")
