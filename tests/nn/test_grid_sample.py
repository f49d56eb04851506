"""F.grid_sample and F.affine_grid against PyTorch: values and gradients (input, grid, theta) in float32 and
float64, points outside the image and on exact pixel nodes, every mode / padding / align_corners; float64
gradchecks; PyTorch's warning for align_corners=None; errors naming the op and the shapes."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from tests.helpers import assert_close, gradcheck

MODES = ["bilinear", "nearest", "bicubic"]
PADS = ["zeros", "border", "reflection"]


def _grid(rng, n, oh, ow, h, w, dtype, align_corners):
    """Random points in [-1.6, 1.6] (many outside the image), plus exact pixel nodes, exact -1/1 and a few
    points exactly half-way between pixels (nearest's ties)."""
    g = rng.uniform(-1.6, 1.6, (n, oh, ow, 2))
    def node(i, size):       # normalised coordinate of pixel i
        return 2 * i / (size - 1) - 1 if align_corners else (2 * i + 1) / size - 1
    g[0, 0, 0] = [-1, -1]
    g[0, 0, 1] = [1, 1]
    g[0, 0, 2] = [node(1, w), node(2, h)]
    g[0, 0, 3] = [node(0, w), node(h - 1, h)]
    g[0, 1, 0] = [(node(0, w) + node(1, w)) / 2, (node(1, h) + node(2, h)) / 2]
    g[0, 1, 1] = [-3.0, 0.25]
    return g.astype(dtype)


def _run(lib, x, g, up, **kw):
    xt = lib.tensor(x, requires_grad=True)
    gt = lib.tensor(g, requires_grad=True)
    out = lib.nn.functional.grid_sample(xt, gt, **kw)
    (out * lib.tensor(up)).sum().backward()
    return out, xt.grad, gt.grad


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_matches_torch(dtype, tol, mode, padding_mode, align_corners):
    rng = np.random.default_rng(hash((mode, padding_mode, align_corners)) % 2 ** 32)
    x = rng.standard_normal((2, 3, 5, 6)).astype(dtype)
    g = _grid(rng, 2, 4, 7, 5, 6, dtype, align_corners)
    up = rng.standard_normal((2, 3, 4, 7)).astype(dtype)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    eo, egx, egg = _run(ember, x, g, up, **kw)
    to, tgx, tgg = _run(torch, x, g, up, **kw)
    assert eo.dtype == np.dtype(dtype) and tuple(eo.shape) == tuple(to.shape)
    assert_close(eo, to, atol=tol, rtol=tol, what="output")
    assert_close(egx, tgx, atol=tol, rtol=tol, what="grad input")
    assert_close(egg, tgg, atol=tol * 10, rtol=tol, what="grad grid")


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")
def test_grid_sample_one_pixel_and_identity():
    # a 1x1 image with align_corners=True (scale 0) and the identity affine grid reproduces the image
    rng = np.random.default_rng(1)
    for size, ac in (((1, 2, 1, 1), True), ((2, 2, 4, 5), False), ((2, 2, 4, 5), True)):
        x = rng.standard_normal(size)
        theta = np.tile(np.eye(2, 3), (size[0], 1, 1))
        for pad in PADS:
            kw = dict(padding_mode=pad, align_corners=ac)
            eg = F.affine_grid(ember.tensor(theta), list(size), align_corners=ac)
            tg = TF.affine_grid(torch.tensor(theta), list(size), align_corners=ac)
            assert_close(F.grid_sample(ember.tensor(x), eg, **kw), TF.grid_sample(torch.tensor(x), tg, **kw),
                         atol=1e-12, rtol=1e-12)
        assert_close(F.grid_sample(ember.tensor(x), eg, align_corners=ac), x, atol=1e-12)


@pytest.mark.parametrize("mode,padding_mode,align_corners",
                         [("bilinear", "zeros", False), ("bilinear", "border", True),
                          ("bilinear", "reflection", False), ("bilinear", "reflection", True),
                          ("nearest", "zeros", True), ("bicubic", "zeros", False),
                          ("bicubic", "reflection", True), ("bicubic", "border", False)])
def test_grid_sample_gradcheck(mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    # grid values away from pixel nodes and clip/reflection borders, where the map is smooth
    h, w = 4, 5
    g = rng.uniform(-1.4, 1.4, (2, 3, 2, 2))
    grid = ember.tensor(g, dtype=ember.float64, requires_grad=True)
    x = ember.tensor(rng.standard_normal((2, 2, h, w)), requires_grad=True)
    f = lambda a, b: F.grid_sample(a, b, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    assert ember.autograd.gradcheck(f, [x, grid], eps=1e-7, atol=1e-5)


@pytest.mark.parametrize("size", [[2, 3, 4, 5], [1, 1, 1, 3], [2, 1, 3, 4, 2]])
@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_grid_matches_torch(size, align_corners, dtype):
    rng = np.random.default_rng(len(size))
    theta = rng.standard_normal((size[0],) + ((2, 3) if len(size) == 4 else (3, 4))).astype(dtype)
    up = None
    res = []
    for lib in (ember, torch):
        t = lib.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = lib.nn.functional.affine_grid(t, size, align_corners=align_corners)
        if up is None:
            up = rng.standard_normal(tuple(out.shape)).astype(dtype)
        (out * lib.tensor(up)).sum().backward()
        res.append((out, t.grad))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert res[0][0].dtype == np.dtype(dtype)
    assert_close(res[0][0], res[1][0], atol=tol, rtol=tol, what="grid")
    assert_close(res[0][1], res[1][1], atol=tol, rtol=tol, what="grad theta")


def test_affine_grid_gradcheck():
    assert gradcheck(lambda t: F.affine_grid(t, [2, 1, 3, 4], align_corners=False), [(2, 2, 3)])
    assert gradcheck(lambda t: F.affine_grid(t, [1, 1, 2, 3, 2], align_corners=True), [(1, 3, 4)])


def test_spatial_transformer_chain_matches_torch():
    # theta -> affine_grid -> grid_sample: the gradient reaches theta through the grid, as in an STN
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 7))
    theta = np.tile(np.eye(2, 3), (2, 1, 1)) + 0.2 * rng.standard_normal((2, 2, 3))
    out = []
    for lib in (ember, torch):
        t = lib.tensor(theta, requires_grad=True)
        xi = lib.tensor(x, requires_grad=True)
        g = lib.nn.functional.affine_grid(t, [2, 3, 5, 4], align_corners=False)
        y = lib.nn.functional.grid_sample(xi, g, align_corners=False, padding_mode="border")
        (y ** 2).sum().backward()
        out.append((y, t.grad, xi.grad))
    for a, b in zip(*out):
        assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_align_corners_none_warns_like_torch():
    x, g = ember.zeros(1, 1, 2, 2), ember.zeros(1, 1, 1, 2)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(ember.zeros(1, 2, 3), [1, 1, 2, 2])


def test_errors_name_op_and_shapes():
    x = ember.zeros(2, 1, 3, 3)
    with pytest.raises(RuntimeError, match=r"grid_sampler\(\).*same batch size.*\[2, 1, 3, 3\].*\[3, 2, 2, 2\]"):
        F.grid_sample(x, ember.zeros(3, 2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match=r"grid_sampler\(\).*size 2 in last dimension.*\[2, 2, 2, 3\]"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match=r"grid_sampler\(\).*4D or 5D.*\[2, 2, 2\]"):
        F.grid_sample(x, ember.zeros(2, 2, 2), align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 2, dtype=ember.float64), align_corners=False)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 2), mode="linear", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(x, ember.zeros(2, 2, 2, 2), padding_mode="wrap", align_corners=False)
    with pytest.raises(ValueError, match=r"Nx2x3 for size \[2, 1, 3, 3\]"):
        F.affine_grid(ember.zeros(2, 3, 3), [2, 1, 3, 3], align_corners=False)
    with pytest.raises(ValueError, match="floating point"):
        F.affine_grid(ember.zeros(2, 2, 3, dtype=ember.int64), [2, 1, 3, 3], align_corners=False)
    with pytest.raises(NotImplementedError, match="4D and 5D"):
        F.affine_grid(ember.zeros(2, 2, 3), [2, 3, 3], align_corners=False)
    with pytest.raises(ValueError, match="positive output size"):
        F.affine_grid(ember.zeros(2, 2, 3), [2, 1, 0, 3], align_corners=False)


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", PADS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_5d_matches_torch(dtype, tol, mode, padding_mode, align_corners):
    rng = np.random.default_rng(hash((mode, padding_mode, align_corners, 5)) % 2 ** 32)
    x = rng.standard_normal((2, 2, 3, 4, 5)).astype(dtype)
    g = rng.uniform(-1.6, 1.6, (2, 2, 3, 4, 3)).astype(dtype)
    g[0, 0, 0, 0] = [-1, -1, -1]
    g[0, 0, 0, 1] = [1, 1, 1]
    g[0, 0, 0, 2] = [0, 0, 0]
    up = rng.standard_normal((2, 2, 2, 3, 4)).astype(dtype)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    eo, egx, egg = _run(ember, x, g, up, **kw)
    to, tgx, tgg = _run(torch, x, g, up, **kw)
    assert eo.dtype == np.dtype(dtype)
    assert_close(eo, to, atol=tol, rtol=tol, what="output")
    assert_close(egx, tgx, atol=tol, rtol=tol, what="grad input")
    assert_close(egg, tgg, atol=tol * 10, rtol=tol, what="grad grid")


def test_grid_sample_5d_gradcheck_and_bicubic_refused():
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 3, 4)), requires_grad=True)
    grid = ember.tensor(rng.uniform(-1.3, 1.3, (1, 2, 2, 1, 3)), requires_grad=True)
    f = lambda a, b: F.grid_sample(a, b, padding_mode="reflection", align_corners=False)
    assert ember.autograd.gradcheck(f, [x, grid], eps=1e-7, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"bicubic interpolation only supports 4D input.*\[1, 2, 3, 3, 4\]"):
        F.grid_sample(x, grid, mode="bicubic", align_corners=False)


def _stn(lib):
    """The localisation net and classifier of PyTorch's Spatial Transformer Networks tutorial."""
    nn, F_ = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                                              nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

        def stn(self, x):
            xs = self.localization(x).view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F_.affine_grid(theta, x.size(), align_corners=False)
            return F_.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = self.stn(x)
            x = F_.relu(F_.max_pool2d(self.conv1(x), 2))
            x = F_.relu(F_.max_pool2d(self.conv2(x), 2))
            x = F_.relu(self.fc1(x.view(-1, 320)))
            return F_.log_softmax(self.fc2(x), dim=1)

    return Net()


def test_spatial_transformer_tutorial_loss_and_grads_match_torch():
    torch.manual_seed(0)
    tnet = _stn(torch).double()
    with torch.no_grad():     # a non-identity transform so that the grid has to be interpolated
        tnet.fc_loc[2].bias.copy_(torch.tensor([0.9, 0.1, 0.05, -0.1, 1.1, 0.0]))
    enet = _stn(ember).double()
    enet.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tnet.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28))
    y = np.array([3, 1, 4, 1])
    tl = torch.nn.functional.nll_loss(tnet(torch.tensor(x)), torch.tensor(y))
    el = F.nll_loss(enet(ember.tensor(x)), ember.tensor(y))
    tl.backward()
    el.backward()
    assert_close(el, tl, atol=1e-10, rtol=1e-10, what="loss")
    tp = dict(tnet.named_parameters())
    for name, p in enet.named_parameters():
        assert_close(p.grad, tp[name].grad, atol=1e-9, rtol=1e-7, what=f"grad {name}")
    assert np.abs(enet.fc_loc[2].weight.grad.numpy()).max() > 1e-6     # the gradient went through the sampler


def _double(lib, x, g, up, v1, v2, **kw):
    xt, gt = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
    y = lib.nn.functional.grid_sample(xt, gt, **kw)
    gx, gg = lib.autograd.grad((y * lib.tensor(up)).sum(), (xt, gt), create_graph=True)
    z = (gx * lib.tensor(v1)).sum() + (gg * lib.tensor(v2)).sum()
    return (gx, gg) + tuple(lib.autograd.grad(z, (xt, gt)))


@pytest.mark.parametrize("mode,shape,gshape", [("bilinear", (2, 3, 4, 5), (2, 3, 4, 2)),
                                               ("bicubic", (2, 3, 4, 5), (2, 3, 4, 2)),
                                               ("bilinear", (2, 2, 3, 4, 5), (2, 2, 3, 2, 3))])
@pytest.mark.parametrize("padding_mode", PADS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_double_backward_matches_torch(mode, shape, gshape, padding_mode, align_corners):
    # create_graph=True runs the backward as ember ops: second derivatives for input and grid as PyTorch's
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    g = rng.uniform(-1.3, 1.3, gshape)
    up = rng.standard_normal(gshape[:1] + shape[1:2] + gshape[1:-1])
    v1, v2 = rng.standard_normal(shape), rng.standard_normal(gshape)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    for e, t in zip(_double(ember, x, g, up, v1, v2, **kw), _double(torch, x, g, up, v1, v2, **kw)):
        assert_close(e, t, atol=1e-11, rtol=1e-11)


def test_double_backward_gradgradcheck():
    rng = np.random.default_rng(12)
    x = ember.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = ember.tensor(rng.uniform(-1.2, 1.2, (1, 2, 2, 2)), requires_grad=True)
    f = lambda a, b: F.grid_sample(a, b, mode="bicubic", padding_mode="reflection", align_corners=False)
    assert ember.autograd.gradgradcheck(f, [x, g], eps=1e-7, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_nan_and_inf_grid_points_like_torch(mode, padding_mode, align_corners):
    # border/reflection send a NaN coordinate (and a reflected infinity) to pixel 0; zeros keep NaN
    x = np.arange(40.0).reshape(1, 2, 4, 5)
    g = np.array([[[[np.nan, 0], [np.nan, -0.9], [0, np.nan], [np.nan, np.nan], [np.inf, 0.3], [-np.inf, 0.1],
                    [1e30, -1e30], [0.5, 0.25]]]])
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    e = F.grid_sample(ember.tensor(x), ember.tensor(g), **kw).numpy()
    t = TF.grid_sample(torch.tensor(x), torch.tensor(g), **kw).numpy()
    np.testing.assert_allclose(e, t, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nd", [4, 5])
def test_nearest_ties_round_as_pytorch(dtype, nd):
    """Grid values that land (nearly) on a half pixel: PyTorch's 2-D CPU kernel computes (g + 1) * size / 2 - 0.5
    with a fused multiply-add and its 3-D kernel ((g + 1) * size - 1) / 2, and 'nearest' rounds half to even, so
    the pixel picked at a tie depends on that rounding (g = -1/3 on 3 pixels picks the middle one in float64)."""
    import ember
    vals = np.array(sorted({a / b for b in (3, 5, 6, 7, 9, 12) for a in range(-b - 1, b + 2)}), dtype)
    k = nd - 2
    for size in (2, 3, 5, 7):
        shape = (1, 1) + (size,) * k
        x = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
        grid = np.stack([vals] * k, -1).reshape((1,) + (1,) * (k - 1) + (len(vals), k))
        for ac in (False, True):
            for pad in ("zeros", "border", "reflection"):
                e, t = (m.nn.functional.grid_sample(m.tensor(x), m.tensor(grid), mode="nearest", padding_mode=pad,
                                                    align_corners=ac).numpy() for m in (ember, torch))
                np.testing.assert_array_equal(e, t, err_msg=f"size {size} align_corners={ac} {pad}")
