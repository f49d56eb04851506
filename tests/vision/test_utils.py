"""make_grid and save_image against torchvision's definitions (written out with torch ops here, since
torchvision's wheels do not load beside the CPU torch)."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision.utils import make_grid, save_image


def torch_make_grid(t, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid's documented behaviour, step by step."""
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() == 3:
        if t.size(0) == 1:
            t = torch.cat((t, t, t), 0)
        t = t.unsqueeze(0)
    if t.dim() == 4 and t.size(1) == 1:
        t = torch.cat((t, t, t), 1)
    if normalize:
        t = t.clone()

        def norm(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(img, r):
            norm(img, *(r if r is not None else (float(img.min()), float(img.max()))))
        if scale_each:
            for img in t:
                norm_range(img, value_range)
        else:
            norm_range(t, value_range)
    if t.size(0) == 1:
        return t.squeeze(0)
    nmaps = t.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(t.size(2) + padding), int(t.size(3) + padding)
    grid = t.new_full((t.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding,
                                                                           width - padding).copy_(t[k])
            k += 1
    return grid


@pytest.mark.parametrize("shape,kw", [((10, 1, 5, 7), {}), ((3, 3, 4, 4), {"nrow": 2, "padding": 1}),
                                      ((5, 3, 6, 6), {"normalize": True}),
                                      ((4, 1, 3, 3), {"normalize": True, "scale_each": True, "pad_value": 0.5}),
                                      ((4, 3, 3, 3), {"normalize": True, "value_range": (-1, 1)}),
                                      ((1, 1, 4, 4), {}), ((1, 4, 4), {}), ((4, 4), {}), ((2, 2, 3, 3), {"padding": 0})])
def test_make_grid_matches_torchvision(shape, kw):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    want = torch_make_grid(torch.from_numpy(x), **kw).numpy()
    got = make_grid(ember.from_numpy(x), **kw).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_make_grid_takes_a_list_and_rejects_bad_shapes():
    imgs = [ember.rand(3, 4, 4) for _ in range(3)]
    assert tuple(make_grid(imgs, nrow=3).shape) == (3, 8, 20)
    with pytest.raises(ValueError, match=r"make_grid: expected images of shape .* got \(1, 1, 1, 4, 4\)"):
        make_grid(ember.rand(1, 1, 1, 4, 4))


def test_save_image_writes_the_png_torchvision_would(tmp_path):
    from PIL import Image
    x = np.random.default_rng(1).random((6, 1, 5, 5)).astype(np.float32)
    save_image(ember.from_numpy(x), tmp_path / "g.png", nrow=3)
    got = np.asarray(Image.open(tmp_path / "g.png"))
    grid = torch_make_grid(torch.from_numpy(x), nrow=3)
    want = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    np.testing.assert_array_equal(got, want)
