"""Image transforms with ``torchvision.transforms``' names and semantics, in NumPy.

Every transform takes a NumPy array or an ember tensor of shape ``(C, H, W)`` or ``(H, W)``, or a PIL image, and
returns the same kind (``ToTensor`` excepted: it always returns a tensor).  Random transforms draw from ember's global
generator (``ember.manual_seed`` reproduces them) or, inside a ``DataLoader`` worker, from that worker's own
generator.  Rotations and affine maps use torchvision's inverse-mapping formulas (the same sampling grid and
the same fill blending), so results match ``torchvision.transforms.functional`` on tensors.

>>> t = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
>>> x = t(np.zeros((28, 28), np.uint8))     # tensor of shape (1, 28, 28)

Deterministic transforms (``ToTensor``, ``Normalize``, ``Resize``, ``Pad``, ``CenterCrop`` and a ``Compose``
of them) also transform a whole batch at once; ember's datasets use that to keep loading fast.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Sequence

import numpy as np

from ..tensor import Tensor
from .dataloader import _worker_rng

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "GaussianNoise", "RandomErasing", "Resize",
           "Pad", "CenterCrop", "InterpolationMode", "RandomApply"]


class InterpolationMode:
    """Interpolation names, as in ``torchvision.transforms.InterpolationMode`` (plain strings in ember)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _mode(interpolation, who: str) -> str:
    mode = getattr(interpolation, "value", interpolation)
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"{who}: interpolation {interpolation!r} is not supported; expected "
                         f"InterpolationMode.NEAREST or InterpolationMode.BILINEAR")
    return mode


class _PIL:
    """The "kind" ``_unwrap`` reports for a PIL image: falsy like a NumPy array (the array code paths apply),
    and remembering the image mode so ``_wrap`` can give a PIL image of the same mode back."""
    __slots__ = ("mode",)

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __bool__(self) -> bool:
        return False


def _is_pil(img) -> bool:
    return type(img).__module__.startswith("PIL.") and hasattr(img, "mode") and hasattr(img, "size")


def _unwrap(img, who: str):
    """``(array, kind)`` for an image given as an ember tensor (kind True), a NumPy array (False) or a PIL image
    (a ``_PIL``: its pixels as a ``(C, H, W)`` or ``(H, W)`` array, as torchvision reads them)."""
    if isinstance(img, Tensor):
        return img._data, True
    if isinstance(img, np.ndarray):
        return img, False
    if _is_pil(img):
        arr = np.asarray(img)
        return (arr if arr.ndim == 2 else arr.transpose(2, 0, 1)), _PIL(img.mode)
    raise TypeError(f"{who} expected a PIL image, a NumPy array or an ember tensor of shape (C, H, W) or (H, W), "
                    f"got {type(img).__name__}")


def _wrap(arr, kind):
    if isinstance(kind, _PIL):
        from PIL import Image
        if arr.dtype != np.uint8:
            arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        hwc = arr if arr.ndim == 2 else np.ascontiguousarray(arr.transpose(1, 2, 0))
        return Image.fromarray(hwc)
    return Tensor._make(arr) if kind else arr


def _check_image(arr, who: str) -> None:
    if arr.ndim < 2:
        raise ValueError(f"{who} expected an image of shape (C, H, W) or (H, W), got shape {tuple(arr.shape)}")


def _pair(size, who: str, name: str = "size") -> tuple:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{who}: {name} should be an int or a sequence of 1 or 2 ints, got {size!r}")


def _uniform(lo: float, hi: float) -> float:
    return float(lo + (hi - lo) * _worker_rng().random())


class Compose:
    """Apply ``transforms`` one after the other.

    >>> Compose([RandomHorizontalFlip(), ToTensor()])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def _batchable(self) -> bool:
        return all(getattr(t, "_batchable", False) for t in self.transforms)

    def _apply_batch(self, batch):
        for t in self.transforms:
            batch = t._apply_batch(batch)
        return batch

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """Convert an image to a float tensor ``(C, H, W)``: ``uint8`` values are scaled from [0, 255] to [0, 1].

    NumPy arrays are read as ``(H, W)`` or ``(H, W, C)`` (the PIL/OpenCV layout) and moved to channels-first;
    arrays of other dtypes keep their values and dtype, as torchvision does.  A PIL image is converted via
    ``np.asarray``.  An ember tensor is taken to be channels-first already (``uint8`` is still scaled).
    """
    _batchable = True

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            arr = pic._data if pic.ndim != 2 else pic._data[None]
        else:
            if not isinstance(pic, np.ndarray):
                if type(pic).__module__.startswith("PIL"):
                    pic = np.asarray(pic)
                else:
                    raise TypeError(f"ToTensor: pic should be a NumPy array (or PIL image), got "
                                    f"{type(pic).__name__}")
            if pic.ndim not in (2, 3):
                raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional (H, W[, C]), got {pic.ndim} "
                                 f"dimensions")
            arr = pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1)
        return Tensor._make(self._scale(arr))

    @staticmethod
    def _scale(arr):
        if arr.dtype == np.uint8:
            return arr.astype(np.float32) * np.float32(1 / 255)
        return np.ascontiguousarray(arr)

    def _apply_batch(self, batch):
        # a batch of what __call__ receives: (N, H, W) or (N, H, W, C) arrays
        arr = batch[:, None] if batch.ndim == 3 else batch.transpose(0, 3, 1, 2)
        return self._scale(arr)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a float image ``(..., C, H, W)`` (or ``(H, W)``).

    >>> Normalize((0.1307,), (0.3081,))(ember.ones(1, 28, 28))    # values (1 - 0.1307) / 0.3081
    """
    _batchable = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        arr, is_t = _unwrap(tensor, "Normalize")
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {arr.dtype}; apply ToTensor "
                            f"first")
        _check_image(arr, "Normalize")
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1)
        if np.any(std == 0):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to {arr.dtype}, leading to "
                             f"division by zero (std={self.std!r})")
        channels = 1 if arr.ndim == 2 else arr.shape[-3]
        if mean.size not in (1, channels) or std.size not in (1, channels):
            raise ValueError(f"Normalize: got {mean.size} means and {std.size} stds for an image with {channels} "
                             f"channels (shape {tuple(arr.shape)})")
        if arr.ndim > 2:
            mean, std = mean[:, None, None], std[:, None, None]
        if self.inplace:
            np.subtract(arr, mean, out=arr)
            np.divide(arr, std, out=arr)
            if is_t:
                tensor._version[0] += 1
            return tensor
        return _wrap((arr - mean) / std, is_t)

    def _apply_batch(self, batch):
        return self(batch)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


class RandomApply:
    """Apply the list of ``transforms`` with probability ``p`` (all or none)."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms = list(transforms)
        self.p = p

    def __call__(self, img):
        if self.p < _worker_rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img


# -- padding, cropping, resizing -------------------------------------------------------------------------
def _pad_arr(arr, left: int, top: int, right: int, bottom: int, fill, mode: str):
    if mode == "constant":          # a filled buffer and one copy: several times faster than np.pad
        h, w = arr.shape[-2:]
        out = np.empty(arr.shape[:-2] + (h + top + bottom, w + left + right), arr.dtype)
        if isinstance(fill, Sequence) and not isinstance(fill, str) and arr.ndim >= 3:
            out[...] = np.asarray(fill, dtype=arr.dtype).reshape(-1, 1, 1)
        else:
            out.fill(fill)
        out[..., top:top + h, left:left + w] = arr
        return out
    width = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(arr, width, mode=mode)


def _parse_padding(padding, who: str) -> tuple:
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, Sequence) and len(padding) == 1:
        p = int(padding[0])
        return p, p, p, p
    if isinstance(padding, Sequence) and len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if isinstance(padding, Sequence) and len(padding) == 4:
        return tuple(int(p) for p in padding)
    raise ValueError(f"{who}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


class Pad:
    """Pad the image borders: ``padding`` is an int (all sides), ``(lr, tb)`` or ``(left, top, right, bottom)``.

    ``padding_mode`` is ``"constant"`` (with ``fill``), ``"edge"``, ``"reflect"`` or ``"symmetric"``.
    """
    _batchable = True

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"Pad: padding_mode should be one of {_PAD_MODES}, got {padding_mode!r}")
        self.padding = _parse_padding(padding, "Pad")
        if any(p < 0 for p in self.padding):
            raise ValueError(f"Pad: negative padding {padding!r} is not supported")
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img):
        arr, is_t = _unwrap(img, "Pad")
        _check_image(arr, "Pad")
        return _wrap(_pad_arr(arr, *self.padding, self.fill, self.padding_mode), is_t)

    _apply_batch = __call__

    def __repr__(self) -> str:
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class CenterCrop:
    """Crop the central ``size`` (int or ``(h, w)``) region; images smaller than that are zero-padded first."""
    _batchable = True

    def __init__(self, size) -> None:
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        arr, is_t = _unwrap(img, "CenterCrop")
        _check_image(arr, "CenterCrop")
        th, tw = self.size
        h, w = arr.shape[-2:]
        if th > h or tw > w:
            pl, pt = (tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0
            pr, pb = (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0
            arr = _pad_arr(arr, pl, pt, pr, pb, 0, "constant")
            h, w = arr.shape[-2:]
            if h == th and w == tw:
                return _wrap(arr, is_t)
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return _wrap(arr[..., top:top + th, left:left + tw], is_t)

    _apply_batch = __call__

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    """Crop a random ``size`` region, optionally after padding the borders (``padding``, ``fill``,
    ``padding_mode``) or padding up to ``size`` (``pad_if_needed``); torchvision's order of operations.

    >>> RandomCrop(28, padding=4)    # the classic MNIST/CIFAR shift augmentation
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:
        self.size = _pair(size, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode should be one of {_PAD_MODES}, got {padding_mode!r}")
        self.padding = None if padding is None else _parse_padding(padding, "RandomCrop")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size) -> tuple:
        """A random crop ``(top, left, height, width)`` of ``output_size`` inside ``img``."""
        arr = img._data if isinstance(img, Tensor) else np.asarray(img)
        h, w = arr.shape[-2:]
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        rng = _worker_rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return i, j, th, tw

    def __call__(self, img):
        if _is_pil(img) and self.padding_mode == "constant" and not self.pad_if_needed and isinstance(
                self.fill, numbers.Number):
            return self._crop_pil(img)
        arr, is_t = _unwrap(img, "RandomCrop")
        _check_image(arr, "RandomCrop")
        if self.padding is not None:
            arr = _pad_arr(arr, *self.padding, self.fill, self.padding_mode)
        h, w = arr.shape[-2:]
        if self.pad_if_needed and w < self.size[1]:
            d = self.size[1] - w
            arr = _pad_arr(arr, d, 0, d, 0, self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            d = self.size[0] - h
            arr = _pad_arr(arr, 0, d, 0, d, self.fill, self.padding_mode)
        i, j, th, tw = self.get_params(arr, self.size)
        return _wrap(arr[..., i:i + th, j:j + tw], is_t)

    def _crop_pil(self, img):
        """The same crop on a PIL image with PIL's own (C) routines: no round trip through NumPy."""
        if self.padding is not None:
            from PIL import Image
            left, top, right, bottom = self.padding
            w, h = img.size
            canvas = Image.new(img.mode, (w + left + right, h + top + bottom),
                               self.fill if img.mode in ("L", "I", "F", "1", "P") else (self.fill,) * len(img.getbands()))
            canvas.paste(img, (left, top))
            img = canvas
        w, h = img.size
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if (h, w) == (th, tw):
            return img
        rng = _worker_rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return img.crop((j, i, j + tw, i + th))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _resize_axis(n_in: int, n_out: int, mode: str):
    """Source indices (and bilinear weights) along one axis, with PyTorch's ``align_corners=False`` rule."""
    scale = n_in / n_out
    dst = np.arange(n_out, dtype=np.float64)
    if mode == "nearest":
        return np.minimum(np.floor(dst * scale).astype(np.intp), n_in - 1), None, None
    src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0)


class Resize:
    """Resize to ``size``: ``(h, w)``, or an int giving the smaller edge (the aspect ratio is kept).

    Bilinear resizing follows ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``.
    PIL images are resized by PIL itself, antialiased, as torchvision does.  For tensors and arrays ``antialias``
    is accepted for compatibility but not applied here (torchvision's default ``antialias=True`` low-pass filters
    before downsampling; ``F.interpolate(..., antialias=True)`` does), so strong downsampling can alias.
    """
    _batchable = True

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True) -> None:
        if not isinstance(size, (numbers.Number, Sequence)) or (
                isinstance(size, Sequence) and len(size) not in (1, 2)):
            raise ValueError(f"Resize: size should be an int or a sequence of 1 or 2 ints, got {size!r}")
        self.size = size
        self.interpolation = _mode(interpolation, "Resize")
        self.max_size = max_size
        self.antialias = antialias

    def _output_size(self, h: int, w: int) -> tuple:
        if isinstance(self.size, Sequence) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        s = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def __call__(self, img):
        if _is_pil(img):            # torchvision resizes PIL images with PIL itself (antialiased)
            w, h = img.size
            oh, ow = self._output_size(h, w)
            from PIL import Image
            resample = Image.NEAREST if self.interpolation == "nearest" else Image.BILINEAR
            return img if (oh, ow) == (h, w) else img.resize((ow, oh), resample)
        arr, is_t = _unwrap(img, "Resize")
        _check_image(arr, "Resize")
        h, w = arr.shape[-2:]
        oh, ow = self._output_size(h, w)
        if (oh, ow) == (h, w):
            return _wrap(arr, is_t)
        y0, y1, wy = _resize_axis(h, oh, self.interpolation)
        x0, x1, wx = _resize_axis(w, ow, self.interpolation)
        if self.interpolation == "nearest":
            return _wrap(arr[..., y0[:, None], x0[None, :]], is_t)
        a = arr.astype(np.float32) if arr.dtype.kind != "f" else arr
        wy = wy.astype(a.dtype)[:, None]
        wx = wx.astype(a.dtype)
        rows = a[..., y0, :] * (1 - wy) + a[..., y1, :] * wy
        out = rows[..., x0] * (1 - wx) + rows[..., x1] * wx
        if arr.dtype.kind != "f":
            out = np.round(out).astype(arr.dtype)
        return _wrap(out, is_t)

    _apply_batch = __call__

    def __repr__(self) -> str:
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


# -- flips ---------------------------------------------------------------------------------------------------
class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        if _is_pil(img):
            if _worker_rng().random() < self.p:
                from PIL import Image
                return img.transpose(Image.FLIP_LEFT_RIGHT)
            return img
        arr, is_t = _unwrap(img, "RandomHorizontalFlip")
        _check_image(arr, "RandomHorizontalFlip")
        if _worker_rng().random() < self.p:
            return _wrap(arr[..., ::-1].copy(), is_t)
        return img

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomVerticalFlip:
    """Mirror the image top-bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        if _is_pil(img):
            if _worker_rng().random() < self.p:
                from PIL import Image
                return img.transpose(Image.FLIP_TOP_BOTTOM)
            return img
        arr, is_t = _unwrap(img, "RandomVerticalFlip")
        _check_image(arr, "RandomVerticalFlip")
        if _worker_rng().random() < self.p:
            return _wrap(arr[..., ::-1, :].copy(), is_t)
        return img

    def __repr__(self) -> str:
        return f"RandomVerticalFlip(p={self.p})"


# -- affine warps --------------------------------------------------------------------------------------------
def _inverse_affine_matrix(center, angle, translate, scale, shear) -> list:
    """torchvision's inverse of ``T * C * R(angle) S(scale) Sh(shear) * C^-1`` as 6 numbers (output -> input)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def _warp(arr, matrix, mode: str, fill):
    """Sample ``arr (..., H, W)`` at the inverse-mapped output pixel centers, like torchvision's tensor path:
    ``grid_sample(align_corners=False, padding_mode="zeros")`` then blending ``fill`` outside the image."""
    h, w = arr.shape[-2:]
    # torchvision's grid, computed in float32 in the same order, so that nearest-neighbour ties (a source
    # coordinate exactly between two pixels, common at 30 or 45 degrees) round the same way
    f32 = np.float32
    xs = (np.arange(w, dtype=f32) + f32(-w * 0.5 + 0.5))[None, :]   # output pixel centers, image-centered
    ys = (np.arange(h, dtype=f32) + f32(-h * 0.5 + 0.5))[:, None]
    m = np.asarray(matrix, f32).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], f32)
    gx = xs * m[0, 0] + ys * m[0, 1] + m[0, 2]                # normalized [-1, 1] grid
    gy = xs * m[1, 0] + ys * m[1, 1] + m[1, 2]
    ix = ((gx + f32(1)) * f32(w) - f32(1)) / f32(2)           # grid_sample's unnormalize, align_corners=False
    iy = ((gy + f32(1)) * f32(h) - f32(1)) / f32(2)
    src = arr.astype(np.float32) if arr.dtype.kind != "f" else arr
    if mode == "nearest":
        xi, yi = np.rint(ix).astype(np.intp), np.rint(iy).astype(np.intp)
        valid = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = np.where(valid, src[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)], 0).astype(src.dtype)
        mask = valid.astype(src.dtype)
    else:
        x0, y0 = np.floor(ix).astype(np.intp), np.floor(iy).astype(np.intp)
        fx, fy = (ix - x0).astype(src.dtype), (iy - y0).astype(src.dtype)
        out = np.zeros(arr.shape[:-2] + (h, w), src.dtype)
        mask = np.zeros((h, w), src.dtype)
        for yy, xx, wt in ((y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                           (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)):
            valid = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            wt = np.where(valid, wt, 0).astype(src.dtype)
            out += src[..., np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)] * wt
            mask += wt
    if fill is not None:
        f = np.asarray(fill, dtype=src.dtype).reshape(-1)
        if arr.ndim >= 3 and f.size > 1:
            f = f.reshape(-1, 1, 1)
        elif f.size > 1:
            raise ValueError(f"fill has {f.size} values for a single-channel image")
        if mode == "nearest":
            out = np.where(mask < 0.5, f, out)
        else:
            # torchvision blends even when fill is 0 (the border is attenuated twice): kept for fidelity
            out = out * mask + (1 - mask) * f
    if arr.dtype.kind != "f":
        out = np.round(out) if mode != "nearest" else out
        out = out.astype(arr.dtype)
    return out.astype(arr.dtype, copy=False)


def _fill_list(fill, arr) -> list:
    channels = arr.shape[-3] if arr.ndim >= 3 else 1
    if isinstance(fill, numbers.Number):
        return [float(fill)] * channels
    return [float(f) for f in fill]


def _degrees(degrees, who: str) -> tuple:
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"{who}: if degrees is a single number, it must be non-negative, got {degrees}")
        return -float(degrees), float(degrees)
    if isinstance(degrees, Sequence) and len(degrees) == 2:
        return float(degrees[0]), float(degrees[1])
    raise ValueError(f"{who}: degrees should be a number or a sequence of 2 numbers, got {degrees!r}")


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d`` means ``(-d, d)``), counter-clockwise
    for positive angles, about ``center`` (default: the image center); outside pixels get ``fill``.

    ``interpolation`` is ``InterpolationMode.NEAREST`` (default) or ``BILINEAR``; ``expand`` is not supported.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None,
                 fill=0) -> None:
        self.degrees = _degrees(degrees, "RandomRotation")
        self.interpolation = _mode(interpolation, "RandomRotation")
        if expand:
            raise NotImplementedError("RandomRotation: expand=True is not supported by ember; use expand=False")
        self.expand = expand
        self.center = center
        self.fill = fill

    @staticmethod
    def get_params(degrees) -> float:
        """The random angle, in degrees."""
        return _uniform(degrees[0], degrees[1])

    def __call__(self, img):
        arr, is_t = _unwrap(img, "RandomRotation")
        _check_image(arr, "RandomRotation")
        angle = self.get_params(self.degrees)
        return _wrap(rotate(arr, angle, self.interpolation, self.center, _fill_list(self.fill, arr)), is_t)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation})"


def rotate(arr, angle: float, interpolation="nearest", center=None, fill=None):
    """Rotate the array ``(..., H, W)`` by ``angle`` degrees counter-clockwise (torchvision's ``F.rotate``)."""
    h, w = arr.shape[-2:]
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    m = _inverse_affine_matrix(center_f, -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
    return _warp(arr, m, _mode(interpolation, "rotate"), fill)


def affine(arr, angle: float, translate, scale: float, shear, interpolation="nearest", fill=None, center=None):
    """Apply rotation ``angle`` (clockwise, as torchvision's ``affine``), ``translate`` ``(dx, dy)`` pixels,
    ``scale`` and ``shear`` ``(sx, sy)`` degrees, keeping ``center`` fixed (``torchvision...functional.affine``)."""
    h, w = arr.shape[-2:]
    if isinstance(shear, numbers.Number):
        shear = (shear, 0.0)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (w, h))]
    m = _inverse_affine_matrix(center_f, angle, [float(t) for t in translate], scale, shear)
    return _warp(arr, m, _mode(interpolation, "affine"), fill)


class RandomAffine:
    """A random affine map: rotation from ``degrees``, translation up to ``translate = (fx, fy)`` of the width
    and height, a scale from ``scale = (lo, hi)`` and shear from ``shear`` (a number ``s`` -> x-shear in
    ``(-s, s)``; 2 values -> x range; 4 values -> x and y ranges); torchvision's parameters and formulas.

    >>> RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5)
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None) -> None:
        self.degrees = _degrees(degrees, "RandomAffine")
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"RandomAffine: translate should be 2 values between 0 and 1, got {translate!r}")
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError(f"RandomAffine: scale should be 2 positive values, got {scale!r}")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                if shear < 0:
                    raise ValueError(f"RandomAffine: if shear is a single number, it must be non-negative, got "
                                     f"{shear}")
                shear = (-float(shear), float(shear))
            elif len(shear) not in (2, 4):
                raise ValueError(f"RandomAffine: shear should be a number or a sequence of 2 or 4 numbers, got "
                                 f"{shear!r}")
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation = _mode(interpolation, "RandomAffine")
        self.fill = fill
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size) -> tuple:
        """Random ``(angle, (tx, ty), scale, (shear_x, shear_y))``; ``img_size`` is ``(width, height)``."""
        angle = _uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))), int(round(_uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img):
        arr, is_t = _unwrap(img, "RandomAffine")
        _check_image(arr, "RandomAffine")
        h, w = arr.shape[-2:]
        angle, tr, sc, sh = self.get_params(self.degrees, self.translate, self.scale, self.shear, (w, h))
        return _wrap(affine(arr, angle, tr, sc, sh, self.interpolation, _fill_list(self.fill, arr), self.center),
                     is_t)

    def __repr__(self) -> str:
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear})")


# -- noise and occlusion ---------------------------------------------------------------------------------
class GaussianNoise:
    """Add ``N(mean, sigma^2)`` noise to a float image (values expected in [0, 1]); clip to [0, 1] if ``clip``.

    The arguments are those of ``torchvision.transforms.v2.GaussianNoise``.
    """

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True) -> None:
        if sigma < 0:
            raise ValueError(f"GaussianNoise: sigma shouldn't be negative, got {sigma}")
        self.mean, self.sigma, self.clip = float(mean), float(sigma), clip

    def __call__(self, img):
        arr, is_t = _unwrap(img, "GaussianNoise")
        if arr.dtype.kind != "f":
            raise ValueError(f"GaussianNoise: input tensor is expected to be in float dtype, got dtype={arr.dtype}")
        noise = _worker_rng().standard_normal(arr.shape).astype(arr.dtype) * self.sigma + self.mean
        out = arr + noise
        if self.clip:
            np.clip(out, 0, 1, out=out)
        return _wrap(out, is_t)

    def __repr__(self) -> str:
        return f"GaussianNoise(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"


class RandomErasing:
    """With probability ``p``, erase a random rectangle of area fraction in ``scale`` and aspect ratio in
    ``ratio`` (log-uniform), setting it to ``value``: a number, one number per channel, or ``"random"``
    (standard normal noise).  torchvision's algorithm (10 attempts, else the image is returned unchanged).
    """

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace: bool = False) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("RandomErasing: argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"RandomErasing: if value is a str, it should be 'random', got {value!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomErasing: scale and ratio should be of kind (min, max), got {scale}, {ratio}")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"RandomErasing: scale should be between 0 and 1, got {scale}")
        if p < 0 or p > 1:
            raise ValueError(f"RandomErasing: random erasing probability should be between 0 and 1, got {p}")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    def get_params(self, arr, value=None) -> tuple:
        """``(top, left, h, w, v)``: the rectangle and what to write (the whole image when no attempt fits)."""
        c = arr.shape[-3] if arr.ndim >= 3 else 1
        h_img, w_img = arr.shape[-2:]
        area = h_img * w_img
        rng = _worker_rng()
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = area * _uniform(self.scale[0], self.scale[1])
            aspect = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < h_img and w < w_img):
                continue
            shape = (c, h, w) if arr.ndim >= 3 else (h, w)
            if value is None:
                v = rng.standard_normal(shape).astype(np.float32)
            else:
                v = np.asarray(value, dtype=np.float32)
                if v.size > 1:
                    v = v.reshape(-1, 1, 1)
            i = int(rng.integers(0, h_img - h + 1))
            j = int(rng.integers(0, w_img - w + 1))
            return i, j, h, w, v
        return 0, 0, h_img, w_img, arr

    def __call__(self, img):
        arr, is_t = _unwrap(img, "RandomErasing")
        _check_image(arr, "RandomErasing")
        if _worker_rng().random() >= self.p:
            return img
        value = None if self.value == "random" else (
            [float(self.value)] if isinstance(self.value, numbers.Number) else list(self.value))
        c = arr.shape[-3] if arr.ndim >= 3 else 1
        if value is not None and len(value) not in (1, c):
            raise ValueError(f"RandomErasing: if value is a sequence, it should have either a single value or "
                             f"{c} (number of input channels), got {len(value)}")
        i, j, h, w, v = self.get_params(arr, value)
        if v is arr:
            return img
        out = arr if self.inplace else arr.copy()
        out[..., i:i + h, j:j + w] = v
        if is_t and self.inplace:
            img._version[0] += 1
            return img
        return _wrap(out, is_t)

    def __repr__(self) -> str:
        return f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value})"
