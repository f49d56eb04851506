"""ember.vision.transforms: colour functions against torchvision's tensor formulas written out with torch ops,
conversions and PIL paths against Pillow."""
import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms as T


def t_gray(img):
    r, g, b = img.unbind(-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)


def t_blend(a, b, ratio):
    bound = 1.0 if a.is_floating_point() else 255.0
    return (ratio * a + (1.0 - ratio) * b).clamp(0, bound).to(a.dtype)


def t_rgb2hsv(img):
    r, g, b = img.unbind(-3)
    maxc, minc = torch.max(img, -3).values, torch.min(img, -3).values
    eqc = maxc == minc
    cr = maxc - minc
    ones = torch.ones_like(maxc)
    s = cr / torch.where(eqc, ones, maxc)
    crd = torch.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return torch.stack((h, s, maxc), -3)


def t_hsv2rgb(img):
    h, s, v = img.unbind(-3)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(torch.int32) % 6
    p = (v * (1.0 - s)).clamp(0, 1)
    q = (v * (1.0 - s * f)).clamp(0, 1)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0, 1)
    mask = i.unsqueeze(-3) == torch.arange(6, dtype=torch.int32).view(-1, 1, 1)
    a4 = torch.stack((torch.stack((v, q, p, p, t, v), -3), torch.stack((t, v, v, q, p, p), -3),
                      torch.stack((p, p, t, v, v, q), -3)), -4)
    return torch.einsum("...ijk, ...xijk -> ...xjk", mask.to(img.dtype), a4)


def t_adjust_hue(img, f):
    hsv = t_rgb2hsv(img)
    h, s, v = hsv.unbind(-3)
    h = (h + f) % 1.0
    return t_hsv2rgb(torch.stack((h, s, v), -3))


@pytest.fixture
def img():
    return np.random.default_rng(0).random((3, 9, 11)).astype(np.float32)


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.3])
def test_colour_adjustments_match_torchvision_formulas(img, factor):
    x, tx = ember.from_numpy(img), torch.from_numpy(img)
    np.testing.assert_allclose(T.adjust_brightness(x, factor).numpy(), t_blend(tx, torch.zeros_like(tx), factor),
                               atol=1e-6)
    mean = t_gray(tx).mean(dim=(-3, -2, -1), keepdim=True)
    np.testing.assert_allclose(T.adjust_contrast(x, factor).numpy(), t_blend(tx, mean, factor), atol=1e-6)
    np.testing.assert_allclose(T.adjust_saturation(x, factor).numpy(), t_blend(tx, t_gray(tx), factor), atol=1e-6)


@pytest.mark.parametrize("hue", [-0.5, -0.2, 0.0, 0.3])
def test_adjust_hue_matches_torchvision_formula(img, hue):
    got = T.adjust_hue(ember.from_numpy(img), hue).numpy()
    np.testing.assert_allclose(got, t_adjust_hue(torch.from_numpy(img), hue).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        T.adjust_hue(ember.from_numpy(img), 0.7)


def test_grayscale_tensor_and_pil():
    u8 = np.random.default_rng(1).integers(0, 256, (3, 6, 5), dtype=np.uint8)
    got = T.Grayscale()(ember.from_numpy(u8)).numpy()
    want = t_gray(torch.from_numpy(u8).float()).to(torch.uint8).numpy()
    np.testing.assert_array_equal(got, want)
    pil = Image.fromarray(u8.transpose(1, 2, 0))
    g = T.Grayscale(3)(pil)
    assert g.mode == "RGB" and np.array_equal(np.asarray(g)[..., 0], np.asarray(pil.convert("L")))


def test_conversions_round_trip_like_torchvision():
    u8 = np.random.default_rng(2).integers(0, 256, (7, 4, 3), dtype=np.uint8)
    pil = Image.fromarray(u8)
    t = T.PILToTensor()(pil)
    assert t.dtype == ember.uint8 and tuple(t.shape) == (3, 7, 4)
    np.testing.assert_array_equal(t.numpy(), u8.transpose(2, 0, 1))
    f = T.ToTensor()(pil)
    back = T.ToPILImage()(f)
    want = (torch.from_numpy(f.numpy()).mul(255).byte()).permute(1, 2, 0).numpy()     # torchvision's rule
    np.testing.assert_array_equal(np.asarray(back), want)
    assert T.ToPILImage()(ember.rand(1, 5, 5)).mode == "L"


def test_geometric_transforms_on_pil_images_equal_the_array_path():
    u8 = np.random.default_rng(3).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    pil = Image.fromarray(u8)
    chw = u8.transpose(2, 0, 1).copy()
    for t in (T.Pad(2, padding_mode="reflect"), T.CenterCrop(6), T.RandomHorizontalFlip(1.0)):
        np.testing.assert_array_equal(np.asarray(t(pil)).transpose(2, 0, 1), t(chw))
    ember.manual_seed(5)
    a = np.asarray(T.RandomCrop(8, padding=2)(pil)).transpose(2, 0, 1)
    ember.manual_seed(5)
    np.testing.assert_array_equal(a, T.RandomCrop(8, padding=2)(chw))
    np.testing.assert_array_equal(np.asarray(T.Resize((5, 6))(pil)), np.asarray(pil.resize((6, 5), Image.BILINEAR)))


def test_random_resized_crop_and_color_jitter_shapes_and_ranges():
    pil = Image.fromarray(np.random.default_rng(4).integers(0, 256, (40, 30, 3), dtype=np.uint8))
    assert T.RandomResizedCrop(16)(pil).size == (16, 16)
    x = T.ToTensor()(pil)
    y = T.ColorJitter(0.5, 0.5, 0.5, 0.2)(x)
    assert tuple(y.shape) == (3, 40, 30) and float(y.min()) >= 0 and float(y.max()) <= 1
    assert tuple(T.RandomResizedCrop((8, 12))(x).shape) == (3, 8, 12)
    with pytest.raises(ValueError, match="ColorJitter: hue values should be between"):
        T.ColorJitter(hue=0.8)
