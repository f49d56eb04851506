"""``torchvision.ops``' box functions: ``box_area``, ``box_iou``, ``nms`` and ``batched_nms``, plus
``box_convert`` between ``xyxy``, ``xywh`` and ``cxcywh``.

Boxes are ``(N, 4)`` tensors as ``(x1, y1, x2, y2)`` with ``0 <= x1 < x2`` and ``0 <= y1 < y2``, torchvision's
convention.  ``box_area``, ``box_iou`` and ``box_convert`` are written with ember ops, so gradients flow through
them; ``nms`` returns indices and has no gradient.

    keep = nms(boxes, scores, iou_threshold=0.5)        # int64 indices, highest score first
"""
from __future__ import annotations

import ember
from ..backend import np
from ..tensor import Tensor

__all__ = ["box_area", "box_iou", "box_convert", "nms", "batched_nms"]


def _check_boxes(boxes, who: str, name: str = "boxes") -> Tensor:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{who}: {name} must be an ember Tensor, got {type(boxes).__name__}")
    if boxes.ndim != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{who}: expected {name} of shape (N, 4), got {tuple(boxes.shape)}")
    if not boxes.is_floating_point():
        raise TypeError(f"{who}: expected floating-point {name}, got dtype {boxes.dtype}")
    return boxes


def box_area(boxes: Tensor) -> Tensor:
    """Areas ``(x2 - x1) * (y2 - y1)`` of ``(N, 4)`` xyxy boxes -> ``(N,)``."""
    _check_boxes(boxes, "box_area")
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection over union of ``(N, 4)`` and ``(M, 4)`` xyxy boxes -> ``(N, M)``.  Two boxes of
    zero area give NaN (0 / 0), as torchvision."""
    _check_boxes(boxes1, "box_iou", "boxes1")
    _check_boxes(boxes2, "box_iou", "boxes2")
    a1, a2 = box_area(boxes1), box_area(boxes2)
    lt = ember.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = ember.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (a1[:, None] + a2[None, :] - inter)


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert ``(N, 4)`` boxes between ``"xyxy"``, ``"xywh"`` (corner and size) and ``"cxcywh"`` (centre and
    size)."""
    fmts = ("xyxy", "xywh", "cxcywh")
    if in_fmt not in fmts or out_fmt not in fmts:
        raise ValueError(f"box_convert: formats must be among {fmts}, got in_fmt={in_fmt!r}, out_fmt={out_fmt!r}")
    _check_boxes(boxes, "box_convert")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return ember.stack([a, b, c, d], dim=-1)


def _iou_np(box, others):
    lt = np.maximum(box[:2], others[:, :2])
    rb = np.minimum(box[2:], others[:, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[:, 0] * wh[:, 1]
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area + areas - inter)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression: visit boxes by decreasing score and drop every later box whose IoU with a
    kept one is greater than ``iou_threshold``.  Returns the kept indices (int64), highest score first.  Equal
    scores are visited in index order (a stable sort; torchvision leaves their order unspecified)."""
    _check_boxes(boxes, "nms")
    if not isinstance(scores, Tensor) or scores.ndim != 1 or scores.shape[0] != boxes.shape[0]:
        got = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"nms: expected scores of shape ({boxes.shape[0]},) for boxes {tuple(boxes.shape)}, got {got}")
    b = boxes.detach().numpy().astype(np.float64)
    order = np.argsort(-scores.detach().numpy().astype(np.float64), kind="stable")
    alive = np.ones(len(order), bool)
    keep = []
    for pos, i in enumerate(order):
        if not alive[pos]:
            continue
        keep.append(i)
        rest = order[pos + 1:]
        if len(rest):
            alive[pos + 1:] &= ~(_iou_np(b[i], b[rest]) > iou_threshold)
    return ember.tensor(np.array(keep, np.int64))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """``nms`` within each category ``idxs`` (boxes of different categories never suppress each other); the kept
    indices over all categories, highest score first."""
    _check_boxes(boxes, "batched_nms")
    if not isinstance(idxs, Tensor) or idxs.shape != (boxes.shape[0],):
        raise ValueError(f"batched_nms: expected idxs of shape ({boxes.shape[0]},), got "
                         f"{tuple(idxs.shape) if isinstance(idxs, Tensor) else type(idxs).__name__}")
    if boxes.shape[0] == 0:
        return ember.tensor(np.zeros(0, np.int64))
    # shift each category's boxes far from the others', torchvision's trick
    offset = idxs.detach().to(boxes.dtype)[:, None] * (boxes.detach().max() + 1)
    return nms(boxes.detach() + offset, scores, iou_threshold)
