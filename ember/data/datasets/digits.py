"""``Digits``: the 1,797 8x8 handwritten digits that scikit-learn ships (UCI optdigits), loaded offline.

It is ember's built-in demo dataset: small enough to train on in seconds, real enough to be interesting.
Images can be resized (bilinear) or zero-padded to 28x28 or 32x32 so that MNIST-sized models (LeNet) run on
them unchanged.  Needs scikit-learn: ``pip install ember[datasets]``.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Callable

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset
from ..dataloader import _Stacked

__all__ = ["Digits"]


_cache: list = []


def _sklearn_origin():
    """The folder of the installed scikit-learn package, found without importing it (that takes seconds)."""
    spec = importlib.util.find_spec("sklearn")
    return None if spec is None or spec.origin is None else os.path.dirname(spec.origin)


def _load_sklearn_digits():
    if _cache:
        return _cache[0]
    origin = _sklearn_origin()
    if origin is None:
        raise ImportError("Digits needs scikit-learn, which ships the digit images; install it with "
                          "`pip install ember[datasets]` (or `pip install scikit-learn`)")
    path = os.path.join(origin, "datasets", "data", "digits.csv.gz")
    if os.path.isfile(path):      # the file load_digits parses: 64 pixel counts then the label, per line
        raw = np.loadtxt(path, delimiter=",", dtype=np.float32)
        images, labels = raw[:, :-1].reshape(-1, 8, 8), raw[:, -1].astype(np.int64)
    else:                         # a future scikit-learn may move the file: fall back to its API
        from sklearn.datasets import load_digits
        d = load_digits()
        images, labels = d.images.astype(np.float32), d.target.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    _cache.append((images, labels))
    return images, labels


class Digits(Dataset):
    """The 8x8 digits of ``sklearn.datasets.load_digits`` (1,797 images, labels 0..9), split into train/test.

    Args:
        root: ignored (the data ships with scikit-learn); accepted so code written for MNIST runs unchanged.
        train: the training part (``True``) or the test part of a fixed, seeded split.
        transform, target_transform: applied to each image (a float32 array ``(1, size, size)`` in [0, 1]) and
            each label (an ``int``).
        size: 8 (original), or e.g. 28 / 32 for LeNet-sized inputs.
        resize: with ``size > 8``, ``"bilinear"`` upsamples the image, ``"pad"`` centers it on a zero canvas.
        test_fraction: share of the samples held out for the test split.
        seed: seed of the split permutation (the same seed gives the same split everywhere).

    Without a transform an item is ``(tensor (1, size, size) float32 in [0, 1], int label)``.  ``.data``
    (float32 ``(N, size, size)``) and ``.targets`` (int64 ``(N,)``) are exposed as for MNIST.

    >>> train, test = Digits(train=True), Digits(train=False)     # 1437 + 360 samples
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, size: int = 8, resize: str = "bilinear",
                 test_fraction: float = 0.2, seed: int = 0) -> None:
        if size < 8:
            raise ValueError(f"Digits: size must be at least 8 (the images are 8x8), got {size}")
        if resize not in ("bilinear", "pad"):
            raise ValueError(f"Digits: resize must be 'bilinear' or 'pad', got {resize!r}")
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"Digits: test_fraction must be between 0 and 1, got {test_fraction}")
        self.root, self.train, self.size = root, train, size
        self.transform, self.target_transform = transform, target_transform
        images, labels = _load_sklearn_digits()
        images = images / np.float32(16.0)            # the pixel counts run 0..16
        if size != 8:
            if resize == "pad":
                lo = (size - 8) // 2
                canvas = np.zeros((len(images), size, size), np.float32)
                canvas[:, lo:lo + 8, lo:lo + 8] = images
                images = canvas
            else:
                from ..transforms import Resize
                images = Resize((size, size))(images)
        perm = np.random.default_rng(seed).permutation(len(images))
        n_test = int(round(len(images) * test_fraction))
        idx = np.sort(perm[n_test:] if train else perm[:n_test])
        self._images = np.ascontiguousarray(images[idx], dtype=np.float32)
        self._labels = labels[idx]

    @property
    def data(self) -> Tensor:
        """The images, float32 ``(N, size, size)`` with values in [0, 1]."""
        return Tensor._make(self._images)

    @property
    def targets(self) -> Tensor:
        """The labels, int64 ``(N,)``."""
        return Tensor._make(self._labels)

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, index: int):
        img, target = self._images[index][None], int(self._labels[index])
        img = self.transform(img) if self.transform is not None else Tensor._make(img.copy())
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        """The collated ``[images, labels]`` by one fancy index, or ``None`` with per-sample transforms."""
        if self.transform is not None or self.target_transform is not None:
            return None
        idx = np.asarray(indices, dtype=np.intp)
        return [Tensor._make(self._images[idx][:, None]), Tensor._make(self._labels[idx])]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (fetched as one batch when there are no transforms)."""
        collated = self._get_batch(indices)
        if collated is None:
            return [self[i] for i in indices]
        out = _Stacked((Tensor._make(b), y) for b, y in zip(collated[0]._data, collated[1]._data.tolist()))
        out.collated = collated
        return out
