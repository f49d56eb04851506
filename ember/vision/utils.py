"""``make_grid`` and ``save_image``, as ``torchvision.utils``: a batch of images tiled into one picture, and that
picture written to a PNG (or any format Pillow knows).

>>> save_image(fake_images, "samples.png", nrow=8, normalize=True)
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _as_array(tensor, who: str) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError(f"{who}: got an empty list of images")
        return np.stack([_as_array(t, who) for t in tensor])
    if isinstance(tensor, Tensor):
        return tensor.detach()._data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{who}: expected a tensor or a list of tensors, got {type(tensor).__name__}")


def _normalize(a: np.ndarray, value_range) -> np.ndarray:
    low, high = (float(a.min()), float(a.max())) if value_range is None else value_range
    a = np.clip(a, low, high)
    return (a - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch ``(B, C, H, W)`` (or a list of ``(C, H, W)`` images) into one image ``(C, H', W')`` with
    ``nrow`` images per row and ``padding`` pixels of ``pad_value`` between them.

    One-channel images become three-channel (as torchvision does, so the grid is an RGB picture); a single image
    is returned unpadded.  ``normalize=True`` shifts values to [0, 1] using ``value_range`` (min, max), by default
    the batch's own range, or each image's own with ``scale_each=True``."""
    a = _as_array(tensor, "make_grid")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = (np.concatenate([a, a, a], 0) if a.shape[0] == 1 else a)[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or (H, W), got "
                         f"{tuple(a.shape)}")
    if a.shape[1] == 1:
        a = np.concatenate([a, a, a], 1)
    if value_range is not None and not (isinstance(value_range, (tuple, list)) and len(value_range) == 2):
        raise TypeError(f"make_grid: value_range has to be a tuple (min, max) if specified, got {value_range!r}")
    if normalize:
        a = a.astype(np.result_type(a.dtype, np.float32))
        a = (np.stack([_normalize(img, value_range) for img in a]) if scale_each else _normalize(a, value_range))
    if a.shape[0] == 1:
        return Tensor._make(np.ascontiguousarray(a[0]))
    nmaps, c, h, w = a.shape
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(nmaps / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((c, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=a.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:y * height + padding + h, x * width + padding:x * width + padding + w] = a[k]
    return Tensor._make(grid)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Save ``tensor`` (an image or a batch, values in [0, 1]) as one picture: ``make_grid(tensor, **kwargs)``,
    scaled to 0-255 and rounded, written with Pillow (the format from ``fp``'s extension unless given)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("save_image needs Pillow: pip install 'ember[vision]' (or pillow)") from None
    grid = make_grid(tensor, **kwargs)._data.astype(np.float64)
    arr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr).save(fp, format=format)
