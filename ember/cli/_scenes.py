"""``ember train`` on generated scenes (``data.name = "synthetic"``, ``kind = "captions"`` or ``"detection"``):
the splits, and what a finished run is judged by (BLEU and exact-match captions; mAP of the detections) with
a picture of the held-out scenes.

Splits follow the other synthetic kinds: the train split has ``n_samples`` scenes drawn with ``seed``, the test
split a quarter as many (at least 8) drawn with ``seed + 1``.
"""
from __future__ import annotations

import os

__all__ = ["scene_data", "scene_scores", "scene_pictures", "SCENE_KINDS"]

SCENE_KINDS = ("captions", "detection")
_DEFAULT_OBJECTS = {"captions": (2, 2), "detection": (1, 3)}
_MAX_LEN = {1: 6, 2: 12, 3: 16}          # BOS + the longest caption of that many shapes + EOS


def _objects(d: dict) -> tuple:
    lo, hi = _DEFAULT_OBJECTS[d["kind"]]
    return d.get("min_objects", lo), d.get("max_objects", hi)


def _scenes(d: dict, split: str):
    from ..vision.scenes import make_scenes
    train = split == "train"
    n_train = d.get("n_samples", 200)
    n = n_train if train else max(8, n_train // 4)
    lo, hi = _objects(d)
    kw = {"noise": float(d["noise"])} if "noise" in d else {}
    return make_scenes(n, size=d.get("size", 32), min_objects=lo, max_objects=hi, seed=d.get("seed", 0) + (not train),
                       **kw)


def max_len(d: dict) -> int:
    return d.get("max_len", _MAX_LEN[_objects(d)[1]])


def scene_data(d: dict, split: str):
    """``(arrays, info)``: captions ``(images (N, 3, S, S) float32, tokens (N, max_len) int64)``; detection
    ``(images, obj (N, G, G), box (N, 4, G, G), cls (N, G, G))`` (``GridDetector.encode_targets``'s layout)."""
    from ..backend import np
    from ..vision.scenes import SHAPES, Vocabulary
    scenes = _scenes(d, split)
    size = d.get("size", 32)
    info = {"channels": 3, "input_size": size}
    if d["kind"] == "captions":
        vocab = Vocabulary.for_scenes()
        tokens = np.array([vocab.encode(c, max_len(d)) for c in scenes.captions], np.int64)
        info.update(num_classes=len(vocab), vocab_size=len(vocab), max_len=max_len(d))
        return (scenes.images, tokens), info
    grid = d.get("grid", 4)
    from ..models.detection import GridDetector
    coder = GridDetector.__new__(GridDetector)          # encode_targets needs the grid only, not the layers
    coder.grid, coder.image_size = grid, size
    t = coder.encode_targets(scenes.boxes, scenes.labels)
    info.update(num_classes=len(SHAPES), grid=grid)
    return (scenes.images, t["obj"].numpy(), t["box"].numpy(), t["cls"].numpy()), info


def _is_scenes(cfg: dict) -> bool:
    d = cfg.get("data") or {}
    return d.get("name") == "synthetic" and d.get("kind") in SCENE_KINDS


def _captions(model, d, scenes):
    from .. import tensor
    from ..vision.scenes import Vocabulary
    vocab = Vocabulary.for_scenes()
    model.eval()
    out = []
    for i in range(0, len(scenes), 256):
        ids = model.greedy(tensor(scenes.images[i:i + 256]), max_len=max_len(d))
        out += [vocab.decode(row) for row in ids.numpy()]
    return out


def _detections(model, scenes):
    from .. import tensor
    model.eval()
    dets = []
    for i in range(0, len(scenes), 256):
        dets += model.detect(tensor(scenes.images[i:i + 256]))
    return dets


def scene_scores(model, cfg: dict) -> dict:
    """On the test scenes: captions (greedy decoding) -> BLEU-1..4 and the exact-match fraction; detection ->
    mAP at IoU 0.5 and 0.75.  ``{}`` for other data or models without ``greedy``/``detect``."""
    if not _is_scenes(cfg):
        return {}
    from ..vision.metrics import bleu_scores, mean_average_precision
    from ..vision.scenes import SHAPES
    d = cfg["data"]
    scenes = _scenes(d, "test")
    if d["kind"] == "captions" and callable(getattr(model, "greedy", None)):
        said = _captions(model, d, scenes)
        res = bleu_scores([s.split() for s in said], [[c.split()] for c in scenes.captions])
        res["exact_match"] = sum(s == c for s, c in zip(said, scenes.captions)) / len(said)
        return res
    if d["kind"] == "detection" and callable(getattr(model, "detect", None)):
        dets = _detections(model, scenes)
        gt = list(zip(scenes.boxes, scenes.labels))
        return {"map50": mean_average_precision(dets, gt, len(SHAPES), 0.5),
                "map75": mean_average_precision(dets, gt, len(SHAPES), 0.75)}
    return {}


def scene_pictures(model, cfg: dict, folder: str) -> list:
    """``captions.png`` (12 test scenes with their greedy captions, red where wrong) or ``detections.png`` (12 test
    scenes with predicted boxes of score >= 0.5 and the true boxes dotted); the names written."""
    if not _is_scenes(cfg):
        return []
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ..autograd import no_grad
    from ..vision.scenes import SHAPES
    d = cfg["data"]
    scenes = _scenes(d, "test")
    k = min(12, len(scenes))
    fig, axes = plt.subplots(3, 4, figsize=(10, 8.5))
    with no_grad():
        if d["kind"] == "captions" and callable(getattr(model, "greedy", None)):
            said, name = _captions(model, d, scenes)[:k], "captions.png"
        elif d["kind"] == "detection" and callable(getattr(model, "detect", None)):
            dets, name = _detections(model, scenes)[:k], "detections.png"
        else:
            plt.close(fig)
            return []
    from matplotlib.patches import Rectangle
    for j, ax in enumerate(axes.flat):
        ax.axis("off")
        if j >= k:
            continue
        ax.imshow(scenes.images[j].transpose(1, 2, 0))
        if name == "captions.png":
            text = said[j].replace(" left of", "\nleft of").replace(" above", "\nabove").replace(" and", "\nand")
            ax.set_title(text, fontsize=8, color="black" if said[j] == scenes.captions[j] else "red")
            continue
        for (x1, y1, x2, y2) in scenes.boxes[j]:
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="white", lw=1, ls=":"))
        for (x1, y1, x2, y2), s, lab in zip(*dets[j]):
            if s >= 0.5:
                ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="magenta", lw=1.5))
                ax.text(x1, y1 - 1, f"{SHAPES[lab]} {s:.2f}", color="magenta", fontsize=7)
    fig.suptitle("greedy captions of test scenes (red: not the true caption)" if name == "captions.png" else
                 "test scenes: predicted boxes (magenta, score >= 0.5) and true boxes (white, dotted)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, name), dpi=80)
    plt.close(fig)
    return [name]


def scene_predictions(model, cfg: dict, x) -> list | None:
    """``ember predict`` on a scenes run: per image its greedy caption, or its detections as
    ``shape score x1 y1 x2 y2`` joined by ``"; "`` (score >= 0.5; "-" for none); None for other runs."""
    if not _is_scenes(cfg):
        return None
    from .. import tensor
    from ..autograd import no_grad
    from ..vision.scenes import SHAPES, Vocabulary
    d = cfg["data"]
    model.eval()
    lines = []
    with no_grad():
        for i in range(0, len(x), 256):
            batch = tensor(x[i:i + 256])
            if d["kind"] == "captions" and callable(getattr(model, "greedy", None)):
                vocab = Vocabulary.for_scenes()
                lines += [vocab.decode(row) for row in model.greedy(batch, max_len=max_len(d)).numpy()]
            elif d["kind"] == "detection" and callable(getattr(model, "detect", None)):
                for boxes, scores, labels in model.detect(batch):
                    found = [f"{SHAPES[int(lab)]} {s:.3f} " + " ".join(f"{v:.1f}" for v in box)
                             for box, s, lab in zip(boxes, scores, labels) if s >= 0.5]
                    lines.append("; ".join(found) or "-")
            else:
                return None
    return lines
