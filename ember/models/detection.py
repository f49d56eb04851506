"""A single-shot, YOLO-style grid detector (Redmon et al., 2016, with one box per cell).

The image is divided into ``grid x grid`` cells; the cell holding a box's centre is responsible for it and
predicts objectness, the centre's offset inside the cell, the box's size and the class.

    det = GridDetector(num_classes=3, grid=4, image_size=32)
    out = det(images)                                    # (N, 5 + C, grid, grid) raw outputs
    target = det.encode_targets(boxes_per_image, labels_per_image)
    loss = det.loss(out, target)
    results = det.detect(images)                         # per image (boxes (k, 4), scores (k,), labels (k,))
"""
from __future__ import annotations

import ember
from .. import nn
import ember.nn.functional as F
from ..backend import np

__all__ = ["GridDetector"]


class GridDetector(nn.Module):
    """Four conv blocks down to the grid, then a 1x1 conv giving per cell: objectness logit, ``tx, ty`` (centre
    offset in the cell through a sigmoid), ``tw, th`` (square root of the box size relative to the image,
    through a sigmoid) and ``num_classes`` class logits."""

    def __init__(self, num_classes: int = 3, grid: int = 4, image_size: int = 32, in_channels: int = 3,
                 width: int = 32) -> None:
        super().__init__()
        if image_size % grid:
            raise ValueError(f"GridDetector: image_size {image_size} must be a multiple of grid {grid}")
        pools = int(round(np.log2(image_size // grid)))
        if 2 ** pools != image_size // grid:
            raise ValueError(f"GridDetector: image_size / grid must be a power of 2, got {image_size} / {grid}")
        self.num_classes, self.grid, self.image_size, self.in_channels = num_classes, grid, image_size, in_channels
        layers, c = [], in_channels
        for i in range(pools):
            w = width // 2 if i == 0 else width
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        layers += [nn.Conv2d(c, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
                   nn.Conv2d(2 * width, 5 + num_classes, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] != self.image_size or x.shape[3] != self.image_size:
            raise ValueError(f"GridDetector expected images of shape (N, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        return self.body(x)

    def encode_targets(self, boxes, labels):
        """Per-cell targets from per-image ``boxes (k, 4)`` xyxy pixels and ``labels (k,)``: a dict of arrays
        ``obj (N, S, S)`` float, ``box (N, 4, S, S)`` float (tx, ty, sqrt w, sqrt h) and ``cls (N, S, S)`` int64
        (-100 where no object: ignored by cross-entropy).  Two boxes in one cell: the last one wins."""
        n, s, cell = len(boxes), self.grid, self.image_size / self.grid
        obj = np.zeros((n, s, s), np.float32)
        box = np.zeros((n, 4, s, s), np.float32)
        cls = np.full((n, s, s), -100, np.int64)
        for i, (bs, ls) in enumerate(zip(boxes, labels)):
            for (x1, y1, x2, y2), lab in zip(np.asarray(bs, np.float64).reshape(-1, 4), np.asarray(ls).reshape(-1)):
                cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
                gx, gy = min(int(cx // cell), s - 1), min(int(cy // cell), s - 1)
                obj[i, gy, gx] = 1
                box[i, :, gy, gx] = (cx / cell - gx, cy / cell - gy, np.sqrt((x2 - x1) / self.image_size),
                                     np.sqrt((y2 - y1) / self.image_size))
                cls[i, gy, gx] = int(lab)
        return {"obj": ember.tensor(obj), "box": ember.tensor(box), "cls": ember.tensor(cls)}

    def loss(self, out, target, box_weight: float = 5.0, noobj_weight: float = 1.0):
        """Objectness BCE over all cells (negatives weighted ``noobj_weight``) + ``box_weight`` x MSE of the box
        terms at object cells + class cross-entropy at object cells, each averaged over the batch."""
        obj, box, cls = target["obj"], target["box"], target["cls"]
        n = out.shape[0]
        weight = obj + noobj_weight * (1 - obj)
        l_obj = F.binary_cross_entropy_with_logits(out[:, 0], obj, weight=weight, reduction="sum") / n
        l_box = ((ember.sigmoid(out[:, 1:5]) - box) ** 2 * obj[:, None]).sum() / n
        l_cls = F.cross_entropy(out[:, 5:], cls, ignore_index=-100, reduction="sum") / n
        return l_obj + box_weight * l_box + l_cls

    def training_step(self, batch):
        """For ``ember.train.Trainer`` (``ember train`` on ``data.kind = "detection"``): ``batch = (images, obj,
        box, cls)``, the per-cell targets of ``encode_targets`` -> ``loss``, and its three parts to log."""
        images, obj, box, cls = batch
        out = self(images)
        target = {"obj": obj, "box": box, "cls": cls}
        loss = self.loss(out, target)
        with ember.no_grad():
            n = out.shape[0]
            parts = {"obj_loss": float(F.binary_cross_entropy_with_logits(out[:, 0], obj, reduction="sum")) / n,
                     "box_loss": float(((ember.sigmoid(out[:, 1:5]) - box) ** 2 * obj[:, None]).sum()) / n}
        return {"loss": loss, **parts}

    @ember.no_grad()
    def detect(self, images, score_threshold: float = 0.05, iou_threshold: float = 0.5):
        """Boxes per image: score = sigmoid(objectness) x the top class probability, kept above
        ``score_threshold``, then per-class non-maximum suppression (``ember.vision.ops.batched_nms``)."""
        from ..vision.ops import batched_nms
        out = self(images)
        s, cell = self.grid, self.image_size / self.grid
        obj = ember.sigmoid(out[:, 0]).numpy()
        t = ember.sigmoid(out[:, 1:5]).numpy()
        prob = F.softmax(out[:, 5:], dim=1).numpy()
        gy, gx = np.mgrid[:s, :s]
        results = []
        for i in range(out.shape[0]):
            cx, cy = (gx + t[i, 0]) * cell, (gy + t[i, 1]) * cell
            w, h = t[i, 2] ** 2 * self.image_size, t[i, 3] ** 2 * self.image_size
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).reshape(-1, 4)
            labels = prob[i].argmax(0).reshape(-1)
            scores = (obj[i] * prob[i].max(0)).reshape(-1)
            m = scores > score_threshold
            boxes, scores, labels = boxes[m], scores[m], labels[m]
            keep = batched_nms(ember.tensor(boxes), ember.tensor(scores), ember.tensor(labels), iou_threshold).numpy()
            results.append((boxes[keep], scores[keep], labels[keep]))
        return results
