"""Generated captioned scenes: small RGB images of coloured shapes with a sentence and a box per shape, for
captioning and detection without a download.

    scenes = make_scenes(1000, seed=0)              # images (1000, 3, 32, 32) float32 in [0, 1]
    scenes.captions[0]                              # 'a small red circle left of a large blue square'
    scenes.boxes[0], scenes.labels[0]               # (k, 4) float32 (x1, y1, x2, y2), (k,) int64 shape ids
    vocab = Vocabulary.for_scenes()
    ids = vocab.encode(scenes.captions[0])          # [bos, ..., eos]

Each scene holds ``min_objects`` to ``max_objects`` non-overlapping shapes (``SHAPES``), each with a colour
(``COLOURS``) and a size (``SIZES``).  The sentence is canonical, so one image has one right caption:

- one shape: ``"a large green triangle"``;
- two shapes: placed clearly side by side or one clearly over the other, and described as
  ``"<left one> left of <right one>"`` or ``"<upper one> above <lower one>"``;
- three or more: the shapes from left to right joined by ``"and"``.

The same ``seed`` gives the same scenes on every machine (NumPy's PCG64 stream).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.dataset import Dataset

__all__ = ["SHAPES", "COLOURS", "SIZES", "RELATIONS", "Scenes", "make_scenes", "render_shape", "Vocabulary",
           "CaptionedScenes"]

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.15, 0.8, 0.2), "blue": (0.15, 0.3, 0.95), "yellow": (0.95, 0.85, 0.1)}
SIZES = ("small", "large")
RELATIONS = ("left of", "above")
_HALF = {"small": 3.5 / 32, "large": 6.5 / 32}          # half-width of a shape, as a fraction of the image side


@dataclass
class Scenes:
    """What :func:`make_scenes` returns: ``images (N, 3, S, S)`` float32, and per image its caption, its boxes
    ``(k, 4)`` float32 as ``(x1, y1, x2, y2)`` in pixels (x2/y2 exclusive), its shape ids ``(k,)`` int64 (indices
    into ``SHAPES``), colour names and size names."""
    images: np.ndarray
    captions: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    colours: list = field(default_factory=list)
    sizes: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)


def render_shape(img: np.ndarray, shape: str, cx: float, cy: float, half: float, colour) -> None:
    """Paint ``shape`` (one of ``SHAPES``) centred at (cx, cy) with half-width ``half`` onto ``img (3, S, S)`` in
    place."""
    if shape not in SHAPES:
        raise ValueError(f"render_shape: shape must be one of {SHAPES}, got {shape!r}")
    s = img.shape[-1]
    yy, xx = np.mgrid[:s, :s] + 0.5                       # pixel centres
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        mask = dx * dx + dy * dy <= half * half
    elif shape == "square":
        mask = (np.abs(dx) <= half * 0.9) & (np.abs(dy) <= half * 0.9)
    else:                                                   # apex up, base at cy + half
        mask = (dy <= half) & (dy >= -half) & (np.abs(dx) <= (dy + half) / 2)
    for c in range(3):
        img[c][mask] = colour[c]


def _phrase(size: str, colour: str, shape: str) -> str:
    return f"a {size} {colour} {shape}"


def make_scenes(n_samples: int = 1000, size: int = 32, min_objects: int = 2, max_objects: int = 2,
                noise: float = 0.03, relations=RELATIONS, seed=None) -> Scenes:
    """``n_samples`` generated scenes of ``size`` x ``size`` pixels (see the module docstring).

    ``relations`` picks the arrangements two-shape scenes may use (``"left of"``, ``"above"``); ``noise`` is the
    standard deviation of Gaussian pixel noise on the dark background.
    """
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"make_scenes: n_samples must be a positive integer, got {n_samples!r}")
    if int(size) != size or size < 16:
        raise ValueError(f"make_scenes: size must be an integer >= 16, got {size!r}")
    if not 1 <= min_objects <= max_objects <= 3:
        raise ValueError(f"make_scenes: expected 1 <= min_objects <= max_objects <= 3, got {min_objects}, {max_objects}")
    relations = tuple(relations)
    bad = [r for r in relations if r not in RELATIONS]
    if bad or not relations:
        raise ValueError(f"make_scenes: relations must be a non-empty subset of {RELATIONS}, got {relations!r}")
    n, size = int(n_samples), int(size)
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), np.float32)
    out = Scenes(images)
    colour_names = list(COLOURS)
    for i in range(n):
        img = rng.normal(0.1, noise, (3, size, size)).astype(np.float32)
        k = int(rng.integers(min_objects, max_objects + 1))
        rel = relations[int(rng.integers(len(relations)))] if k == 2 else None
        objs = []
        for _ in range(1000):                               # rejection sampling of a clear arrangement
            objs = []
            for _ in range(k):
                sz = SIZES[int(rng.integers(2))]
                half = _HALF[sz] * size
                cx, cy = rng.uniform(half + 1, size - half - 1, 2)
                objs.append((SHAPES[int(rng.integers(3))], colour_names[int(rng.integers(4))], sz, cx, cy, half))
            if _clear(objs, rel):
                break
        else:                                               # pragma: no cover - 1000 rejections are very unlikely
            raise RuntimeError("make_scenes: could not place the shapes; use a larger size")
        if rel == "above":
            objs.sort(key=lambda o: o[4])
        else:
            objs.sort(key=lambda o: o[3])
        for shape, colour, sz, cx, cy, half in objs:
            render_shape(img, shape, cx, cy, half, COLOURS[colour])
        images[i] = np.clip(img, 0.0, 1.0)
        phrases = [_phrase(o[2], o[1], o[0]) for o in objs]
        out.captions.append(phrases[0] if k == 1 else f" {rel} ".join(phrases) if k == 2 else " and ".join(phrases))
        out.boxes.append(np.array([_box(shape, cx, cy, half, size) for shape, _, _, cx, cy, half in objs], np.float32))
        out.labels.append(np.array([SHAPES.index(o[0]) for o in objs], np.int64))
        out.colours.append([o[1] for o in objs])
        out.sizes.append([o[2] for o in objs])
    return out


def _box(shape, cx, cy, half, size):
    """The shape's tight box (squares are painted at 0.9 of the half-width)."""
    r = half * 0.9 if shape == "square" else half
    return [max(cx - r, 0), max(cy - r, 0), min(cx + r, size), min(cy + r, size)]


def _clear(objs, rel) -> bool:
    """No two shapes overlap (with a 1-pixel gap) and, for two shapes, the relation reads unambiguously."""
    for a in range(len(objs)):
        for b in range(a + 1, len(objs)):
            (*_, ax, ay, ah), (*_, bx, by, bh) = objs[a], objs[b]
            if max(abs(ax - bx), abs(ay - by)) < ah + bh + 1:
                return False
    if rel is not None:
        (*_, ax, ay, _), (*_, bx, by, _) = objs
        along, across = (abs(ax - bx), abs(ay - by)) if rel == "left of" else (abs(ay - by), abs(ax - bx))
        return across <= 0.5 * along
    if len(objs) > 2:                                       # left-to-right order must be visible
        xs = sorted(o[3] for o in objs)
        return all(b - a >= 3 for a, b in zip(xs, xs[1:]))
    return True


class Vocabulary:
    """Words <-> ids with ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3."""
    PAD, BOS, EOS, UNK = 0, 1, 2, 3

    def __init__(self, words) -> None:
        self.itos = ["<pad>", "<bos>", "<eos>", "<unk>"] + [w for w in dict.fromkeys(words) if not w.startswith("<")]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def for_scenes(cls) -> "Vocabulary":
        """Every word the scene captions use."""
        words = ["a", *SIZES, *COLOURS, *SHAPES, "and"] + [w for r in RELATIONS for w in r.split()]
        return cls(words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, sentence: str, max_len: int | None = None) -> list:
        """``[BOS, word ids..., EOS]``, padded with PAD to ``max_len`` when given (longer sentences raise)."""
        ids = [self.BOS] + [self.stoi.get(w, self.UNK) for w in sentence.split()] + [self.EOS]
        if max_len is not None:
            if len(ids) > max_len:
                raise ValueError(f"Vocabulary.encode: {len(ids)} tokens do not fit max_len={max_len}: {sentence!r}")
            ids += [self.PAD] * (max_len - len(ids))
        return ids

    def decode(self, ids) -> str:
        """The words up to the first EOS, without BOS/PAD."""
        words = []
        for i in (int(t) for t in ids):
            if i == self.EOS:
                break
            if i in (self.BOS, self.PAD):
                continue
            words.append(self.itos[i] if 0 <= i < len(self.itos) else "<unk>")
        return " ".join(words)


class CaptionedScenes(Dataset):
    """A map-style dataset of generated scenes: items are ``(image (3, S, S) float32, token ids (max_len,) int64)``.

    >>> ds = CaptionedScenes(500, seed=0); image, tokens = ds[0]
    """

    def __init__(self, n_samples: int = 1000, size: int = 32, max_len: int = 16, seed=None, **kwargs) -> None:
        self.scenes = make_scenes(n_samples, size=size, seed=seed, **kwargs)
        self.vocab = Vocabulary.for_scenes()
        self.tokens = np.array([self.vocab.encode(c, max_len) for c in self.scenes.captions], np.int64)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, i):
        return self.scenes.images[i], self.tokens[i]
