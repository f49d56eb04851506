"""Tests for ember/data/transforms.py: values against torch where torch has the operation, geometry by hand."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
from ember.data import transforms as T


def _tv_warp(img, matrix, mode, fill):
    """torchvision's tensor affine path, transcribed: its grid, grid_sample, then the mask-blended fill."""
    c, h, w = img.shape
    theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
    base = torch.empty(1, h, w, 3)
    base[..., 0].copy_(torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, steps=w))
    base[..., 1].copy_(torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, steps=h).unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h])
    grid = base.view(1, h * w, 3).bmm(rescaled).view(1, h, w, 2)
    x = torch.cat([torch.from_numpy(img)[None], torch.ones(1, 1, h, w)], 1)
    out = TF.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    mask, out = out[:, -1:].expand(1, c, h, w), out[:, :-1]
    fill_img = torch.tensor(fill, dtype=torch.float32).view(1, -1, 1, 1).expand_as(out)
    if mode == "nearest":
        out = torch.where(mask < 0.5, fill_img, out)
    else:
        out = out * mask + (1 - mask) * fill_img
    return out[0].numpy()


def test_to_tensor():
    hw = np.arange(12, dtype=np.uint8).reshape(3, 4)
    t = T.ToTensor()(hw)
    assert isinstance(t, ember.Tensor) and t.shape == (1, 3, 4) and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy()[0], hw / 255, rtol=1e-6)
    hwc = np.random.randint(0, 256, (5, 6, 3)).astype(np.uint8)
    t = T.ToTensor()(hwc)
    assert t.shape == (3, 5, 6)
    np.testing.assert_allclose(t.numpy()[2], hwc[..., 2] / 255, rtol=1e-6)
    f = np.random.rand(5, 6, 3)
    assert T.ToTensor()(f).dtype == np.float64       # non-uint8 arrays are not rescaled (torchvision)
    with pytest.raises(TypeError, match="ToTensor"):
        T.ToTensor()([1, 2])


def test_normalize_matches_torch_formula():
    x = np.random.rand(3, 4, 5).astype(np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ref = (torch.from_numpy(x) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    out = T.Normalize(mean, std)(ember.tensor(x))
    assert isinstance(out, ember.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    arr = T.Normalize(mean, std)(x)
    assert isinstance(arr, np.ndarray)
    batch = T.Normalize(mean, std)(np.stack([x, x]))                # (N, C, H, W) works too
    np.testing.assert_allclose(batch[1], ref.numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="float"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.5,), (0.0,))(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="channels"):
        T.Normalize((0.5, 0.5), (1.0, 1.0))(np.zeros((3, 2, 2), np.float32))


def test_compose_batch_equals_per_sample():
    t = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    imgs = np.random.randint(0, 256, (4, 28, 28)).astype(np.uint8)
    assert t._batchable
    batch = t._apply_batch(imgs)
    for i in range(4):
        np.testing.assert_allclose(batch[i], t(imgs[i]).numpy(), rtol=1e-6)
    assert not T.Compose([T.ToTensor(), T.RandomHorizontalFlip()])._batchable


def test_flips_geometry():
    img = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[:, ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    t = T.RandomHorizontalFlip(p=1.0)(ember.tensor(img[0]))
    assert isinstance(t, ember.Tensor)
    np.testing.assert_array_equal(t.numpy(), img[0, :, ::-1])
    flips = sum(T.RandomHorizontalFlip(0.3)(img)[0, 0, 0] == 3 for _ in range(2000))
    assert 500 < flips < 700


def test_random_crop_geometry_and_padding():
    img = np.arange(100, dtype=np.float32).reshape(1, 10, 10)
    for _ in range(20):
        out = T.RandomCrop(4)(img)
        assert out.shape == (1, 4, 4)
        i, j = divmod(int(out[0, 0, 0]), 10)
        np.testing.assert_array_equal(out, img[:, i:i + 4, j:j + 4])
    seen = set()
    for _ in range(300):
        out = T.RandomCrop(10, padding=2)(img)
        assert out.shape == (1, 10, 10)
        seen.add(int((out == 0).sum()))
    assert len(seen) > 5      # different shifts occur
    out = T.RandomCrop(12, pad_if_needed=True, fill=-1)(img)
    assert out.shape == (1, 12, 12) and (out == -1).sum() == 44
    with pytest.raises(ValueError, match="larger than input"):
        T.RandomCrop(11)(img)
    refl = T.RandomCrop(14, padding=2, padding_mode="reflect")(img)
    np.testing.assert_array_equal(refl, np.pad(img, ((0, 0), (2, 2), (2, 2)), mode="reflect"))


def test_pad_and_center_crop():
    img = np.arange(16, dtype=np.float32).reshape(4, 4)
    out = T.Pad((1, 2), fill=7)(img)
    assert out.shape == (8, 6) and out[0, 0] == 7 and out[2, 1] == 0
    np.testing.assert_array_equal(T.CenterCrop(2)(img), img[1:3, 1:3])
    assert T.CenterCrop(6)(img).shape == (6, 6)
    rgb = T.Pad(1, fill=(1, 2, 3))(np.zeros((3, 2, 2), np.float32))
    assert rgb[2, 0, 0] == 3 and rgb[0, 0, 0] == 1 and rgb[1, 1, 1] == 0


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_resize_matches_torch_interpolate(mode):
    x = np.random.rand(2, 7, 9).astype(np.float32)
    for size in [(14, 18), (4, 5), (7, 20)]:
        ours = T.Resize(size, interpolation=mode)(x)
        ref = TF.interpolate(torch.from_numpy(x)[None], size=size, mode=mode,
                             **({"align_corners": False} if mode == "bilinear" else {}))[0].numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    assert T.Resize(14)(x).shape == (2, 14, 18)      # an int sets the smaller edge


def test_rotation_geometry():
    sq = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(T.rotate(sq, 90), np.rot90(sq, 1, axes=(1, 2)))   # counter-clockwise
    np.testing.assert_array_equal(T.rotate(sq, -90), np.rot90(sq, -1, axes=(1, 2)))
    np.testing.assert_array_equal(T.rotate(sq, 180, "bilinear"), sq[:, ::-1, ::-1])
    out = T.RandomRotation((90, 90))(ember.tensor(sq))
    assert isinstance(out, ember.Tensor)
    np.testing.assert_array_equal(out.numpy(), np.rot90(sq, 1, axes=(1, 2)))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotation_and_affine_match_torchvision_grid(mode):
    rng = np.random.default_rng(0)
    for _ in range(25):
        h, w = rng.integers(3, 20, 2)
        img = rng.random((2, h, w)).astype(np.float32)
        angle = float(rng.choice([30.0, 45.0, -60.0, rng.uniform(-180, 180)]))
        m = T._inverse_affine_matrix([0.0, 0.0], -angle, (0.0, 0.0), 1.0, (0.0, 0.0))
        np.testing.assert_allclose(T.rotate(img, angle, mode, fill=[0.25, 0.5]),
                                   _tv_warp(img, m, mode, [0.25, 0.5]), atol=1e-5)
        tr, sc, sh = (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), rng.uniform(0.7, 1.3), \
            (rng.uniform(-20, 20), rng.uniform(-20, 20))
        m = T._inverse_affine_matrix([0.0, 0.0], angle, tr, sc, sh)
        np.testing.assert_allclose(T.affine(img, angle, tr, sc, sh, mode, fill=[0.0, 0.0]),
                                   _tv_warp(img, m, mode, [0.0, 0.0]), atol=1e-5)


def test_random_affine_translation_only_shifts():
    img = np.zeros((1, 9, 9), np.float32)
    img[0, 4, 4] = 1
    for _ in range(20):
        out = T.RandomAffine(0, translate=(0.2, 0.2))(img)
        (y,), (x,) = np.nonzero(out[0])
        assert abs(x - 4) <= 2 and abs(y - 4) <= 2 and out.sum() == 1
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="degrees"):
        T.RandomRotation(-5)


def test_uint8_rotation_keeps_dtype():
    img = (np.random.rand(1, 8, 8) * 255).astype(np.uint8)
    out = T.RandomRotation(30, interpolation=T.InterpolationMode.BILINEAR)(img)
    assert out.dtype == np.uint8 and out.shape == img.shape


def test_gaussian_noise():
    x = np.full((1, 100, 100), 0.5, np.float32)
    out = T.GaussianNoise(mean=0.1, sigma=0.05)(x)
    assert abs(out.mean() - 0.6) < 0.005 and abs(out.std() - 0.05) < 0.005
    clipped = T.GaussianNoise(sigma=2.0)(x)
    assert clipped.min() >= 0 and clipped.max() <= 1
    with pytest.raises(ValueError, match="float"):
        T.GaussianNoise()(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="sigma"):
        T.GaussianNoise(sigma=-1)


def test_random_erasing():
    x = np.ones((3, 20, 20), np.float32)
    out = T.RandomErasing(p=1.0, value=0)(x)
    erased = out == 0
    assert erased.any() and np.all(x == 1)             # the input is not modified
    ys, xs = np.nonzero(erased[0])
    box = erased[0, ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    assert box.all()                                    # one solid rectangle
    frac = box.size / 400
    assert 0.02 <= frac <= 0.33 * 1.2
    rnd = T.RandomErasing(p=1.0, value="random")(x)
    assert (rnd != 1).sum() > 0
    assert T.RandomErasing(p=0.0)(x) is x
    col = T.RandomErasing(p=1.0, value=(1, 2, 3))(np.zeros((3, 20, 20), np.float32))
    assert set(np.unique(col[2])) <= {0.0, 3.0}
    with pytest.raises(ValueError, match="random"):
        T.RandomErasing(value="noise")


def test_seeded_reproducibility():
    x = np.random.rand(1, 12, 12).astype(np.float32)
    t = T.Compose([T.RandomCrop(10, padding=1), T.RandomRotation(15), T.GaussianNoise()])
    ember.manual_seed(3)
    a = t(x)
    ember.manual_seed(3)
    b = t(x)
    np.testing.assert_array_equal(a, b)


def test_lambda():
    assert T.Lambda(lambda v: v * 2)(3) == 6
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
