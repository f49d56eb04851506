"""``torchvision.transforms`` (the v1 API): every transform of ``ember.data.transforms`` (on PIL images, NumPy
arrays and tensors) plus the colour and conversion transforms: ``PILToTensor``, ``ToPILImage``, ``Grayscale``,
``RandomGrayscale``, ``ColorJitter``, ``RandomResizedCrop``.

Colour transforms compute on tensors and arrays with torchvision's tensor formulas (grayscale weights 0.2989,
0.587, 0.114; blends clamped to the dtype's range; hue through HSV).  On a PIL image they run the same formulas on
its pixels, where torchvision would call PIL's ``ImageEnhance``: results can then differ by a grey level.

>>> from ember.vision import transforms
>>> t = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
...                         transforms.ToTensor(), transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..data.transforms import *  # noqa: F401,F403
from ..data.transforms import __all__ as _data_all
from ..data.transforms import (Resize, _unwrap, _wrap, _check_image, _is_pil, _pair, _uniform, _mode,
                               InterpolationMode)
from ..data.dataloader import _worker_rng
from ..tensor import Tensor

__all__ = list(_data_all) + ["PILToTensor", "ToPILImage", "Grayscale", "RandomGrayscale", "ColorJitter",
                             "RandomResizedCrop", "rgb_to_grayscale", "adjust_brightness", "adjust_contrast",
                             "adjust_saturation", "adjust_hue"]


class PILToTensor:
    """A PIL image (or an ``(H, W[, C])`` array) as a ``uint8`` tensor ``(C, H, W)``, values unscaled."""

    def __call__(self, pic):
        if _is_pil(pic):
            arr = np.asarray(pic)
        elif isinstance(pic, np.ndarray):
            arr = pic
        else:
            raise TypeError(f"PILToTensor: pic should be a PIL image, got {type(pic).__name__}")
        return Tensor._make(np.ascontiguousarray(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return "PILToTensor()"


class ToPILImage:
    """A tensor ``(C, H, W)`` or array ``(H, W, C)`` as a PIL image: floats are multiplied by 255 and truncated
    to ``uint8`` (torchvision's ``pic.mul(255).byte()``); one channel gives mode ``L``."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic):
        from PIL import Image
        if isinstance(pic, Tensor):
            arr = pic.detach()._data
            arr = arr[None] if arr.ndim == 2 else arr
            if arr.ndim != 3:
                raise ValueError(f"ToPILImage: pic should be 2 or 3 dimensional, got {arr.ndim} dimensions")
            arr = arr.transpose(1, 2, 0)
        elif isinstance(pic, np.ndarray):
            arr = pic[:, :, None] if pic.ndim == 2 else pic
            if arr.ndim != 3:
                raise ValueError(f"ToPILImage: pic should be 2 or 3 dimensional, got {arr.ndim} dimensions")
        else:
            raise TypeError(f"ToPILImage: pic should be a tensor or an ndarray, got {type(pic).__name__}")
        if arr.dtype.kind == "f" and self.mode != "F":
            arr = (arr * 255).astype(np.int64).astype(np.uint8)     # .byte(): truncation, wrapping
        arr = np.ascontiguousarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
        img = Image.fromarray(arr)
        return img.convert(self.mode) if self.mode is not None and img.mode != self.mode else img

    def __repr__(self) -> str:
        return f"ToPILImage(mode={self.mode})"


# -- colour ------------------------------------------------------------------------------------------------
def _bound(arr) -> float:
    return 1.0 if arr.dtype.kind == "f" else 255.0


def _to_dtype_of(out, like):
    if like.dtype.kind == "f":
        return out.astype(like.dtype, copy=False)
    return out.astype(like.dtype)                  # torchvision's .to(uint8): truncation


def _gray(arr):
    """0.2989 R + 0.587 G + 0.114 B (float), keeping a channel axis of size 1."""
    r, g, b = arr[..., 0, :, :], arr[..., 1, :, :], arr[..., 2, :, :]
    return (0.2989 * r + 0.587 * g + 0.114 * b)[..., None, :, :]


def _blend(img, other, ratio: float):
    out = np.clip(ratio * img.astype(np.float32) + (1.0 - ratio) * other, 0, _bound(img))
    return _to_dtype_of(out, img)


def _colour(fn):
    """Run ``fn(array (C, H, W), *args)`` on a tensor, array or PIL image and give back the same kind."""
    def run(img, *args):
        arr, kind = _unwrap(img, fn.__name__)
        _check_image(arr, fn.__name__)
        return _wrap(fn(arr, *args), kind)
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


@_colour
def rgb_to_grayscale(arr, num_output_channels: int = 1):
    """Luma of an RGB image, repeated to ``num_output_channels`` (1 or 3); a 1-channel image is kept."""
    if arr.ndim == 2 or arr.shape[-3] == 1:
        gray = arr if arr.ndim > 2 else arr[None]
    else:
        if arr.shape[-3] != 3:
            raise ValueError(f"rgb_to_grayscale: expected 1 or 3 channels, got {arr.shape[-3]}")
        gray = _to_dtype_of(_gray(arr), arr)
    return np.repeat(gray, num_output_channels, axis=-3) if num_output_channels == 3 else gray


@_colour
def adjust_brightness(arr, factor: float):
    """Blend with black: ``factor`` 0 gives black, 1 the image, 2 twice as bright (clamped)."""
    return _blend(arr, 0.0, factor)


@_colour
def adjust_contrast(arr, factor: float):
    """Blend with the image's mean grey level."""
    mean = _gray(arr).mean(axis=(-3, -2, -1), keepdims=True) if arr.shape[-3] == 3 else \
        arr.astype(np.float32).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(arr, mean, factor)


@_colour
def adjust_saturation(arr, factor: float):
    """Blend with the image's grayscale version (0: grey, 1: the image)."""
    return arr if arr.shape[-3] == 1 else _blend(arr, _to_dtype_of(_gray(arr), arr).astype(np.float32), factor)


def _rgb2hsv(img):
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3)


def _hsv2rgb(img):
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    mask = i[..., None, :, :] == np.arange(6)[:, None, None]
    a1 = np.stack((v, q, p, p, t, v), axis=-3)
    a2 = np.stack((t, v, v, q, p, p), axis=-3)
    a3 = np.stack((p, p, t, v, v, q), axis=-3)
    a4 = np.stack((a1, a2, a3), axis=-4)
    return np.einsum("...ijk,...xijk->...xjk", mask.astype(img.dtype), a4)


@_colour
def adjust_hue(arr, hue_factor: float):
    """Shift the hue by ``hue_factor`` turns (in [-0.5, 0.5]) through HSV."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor ({hue_factor}) is not in [-0.5, 0.5]")
    if arr.shape[-3] == 1:
        return arr
    img = arr.astype(np.float32) / 255.0 if arr.dtype.kind != "f" else arr
    hsv = _rgb2hsv(img)
    hsv[..., 0, :, :] = np.fmod(hsv[..., 0, :, :] + hue_factor, 1.0)
    hsv[..., 0, :, :] = np.where(hsv[..., 0, :, :] < 0, hsv[..., 0, :, :] + 1.0, hsv[..., 0, :, :])
    out = _hsv2rgb(hsv)
    return (out * 255.0).astype(arr.dtype) if arr.dtype.kind != "f" else out.astype(arr.dtype, copy=False)


class Grayscale:
    """Convert to grayscale with ``num_output_channels`` (1 or 3) channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        if _is_pil(img):                # torchvision converts PIL images with PIL (ITU-R 601-2 luma)
            g = img.convert("L")
            return g if self.num_output_channels == 1 else g.convert("RGB")
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class RandomGrayscale(Grayscale):
    """Convert to grayscale with probability ``p``, keeping the number of channels."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img):
        if _worker_rng().random() >= self.p:
            return img
        arr, _ = _unwrap(img, "RandomGrayscale")
        self.num_output_channels = 1 if arr.ndim == 2 or arr.shape[-3] == 1 else 3
        return super().__call__(img)

    def __repr__(self) -> str:
        return f"RandomGrayscale(p={self.p})"


def _jitter_range(value, name: str, center: float = 1.0, bound=(0, float("inf")), clip_first: bool = True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"ColorJitter: if {name} is a single number, it must be non negative, got {value}")
        value = [center - float(value), center + float(value)]
        if clip_first:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"ColorJitter: {name} should be a single number or a list/tuple with length 2, got {value!r}")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"ColorJitter: {name} values should be between {bound}, got {value}")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter:
    """Randomly change brightness, contrast, saturation (factors drawn from ``[max(0, 1 - v), 1 + v]``) and hue
    (a shift drawn from ``[-v, v]``, ``v <= 0.5``), in a random order, as torchvision does."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0) -> None:
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """``(order, b, c, s, h)``: a permutation of the four adjustments and the factors (None: skipped)."""
        order = _worker_rng().permutation(4)
        pick = lambda r: None if r is None else _uniform(r[0], r[1])  # noqa: E731
        return order, pick(brightness), pick(contrast), pick(saturation), pick(hue)

    def __call__(self, img):
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for i in order:
            if i == 0 and b is not None:
                img = adjust_brightness(img, b)
            elif i == 1 and c is not None:
                img = adjust_contrast(img, c)
            elif i == 2 and s is not None:
                img = adjust_saturation(img, s)
            elif i == 3 and h is not None:
                img = adjust_hue(img, h)
        return img

    def __repr__(self) -> str:
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation}, "
                f"hue={self.hue})")


class RandomResizedCrop:
    """Crop a random region of area fraction in ``scale`` and aspect ratio in ``ratio`` (log-uniform; ten tries,
    then a centre crop), resized to ``size``: the ImageNet training augmentation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True) -> None:
        self.size = _pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be of kind (min, max), got {scale}, {ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation = _mode(interpolation, "RandomResizedCrop")
        self.antialias = antialias
        self._resize = Resize(self.size, self.interpolation)

    @staticmethod
    def get_params(img, scale, ratio) -> tuple:
        """``(top, left, height, width)`` of the crop."""
        if _is_pil(img):
            width, height = img.size
        else:
            arr, _ = _unwrap(img, "RandomResizedCrop")
            height, width = arr.shape[-2:]
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        rng = _worker_rng()
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        if _is_pil(img):
            return self._resize(img.crop((j, i, j + w, i + h)))
        arr, kind = _unwrap(img, "RandomResizedCrop")
        return self._resize(_wrap(arr[..., i:i + h, j:j + w], kind))

    def __repr__(self) -> str:
        return f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio})"
