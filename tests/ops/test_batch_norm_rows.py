"""Training-mode batch norm of 3+ dims runs the row kernels (ember.ops._batch_norm): parity with torch for
the layouts and options that path sees."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 5, 7), (3, 2, 2, 3, 4), (2, 4, 1, 1)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("layout", ["contig", "permuted", "channels_last"])
def test_batch_norm_train_rows_match_torch(shape, affine, layout):
    rng = np.random.default_rng(len(shape) * 10 + affine)
    x = rng.standard_normal(shape) * 3 + 1.5
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    g = rng.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        if layout == "permuted":            # a contiguous result, as PyTorch's (ember kept the layout before)
            xt = lib.tensor(x.T.copy()).permute(*reversed(range(len(shape))))
        elif layout == "channels_last" and len(shape) == 4:         # kept (the general kernel)
            xt = lib.tensor(x.transpose(0, 2, 3, 1).copy()).permute(0, 3, 1, 2)
        else:
            xt = lib.tensor(x)
        xt.requires_grad_(True)
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
        rm, rv = lib.zeros(c, dtype=lib.float64), lib.ones(c, dtype=lib.float64)
        y = lib.nn.functional.batch_norm(xt, rm, rv, wt if affine else None, bt if affine else None, True, 0.3)
        y.backward(lib.tensor(g))
        out = [y, xt.grad, rm, rv] + ([wt.grad, bt.grad] if affine else [])
        res.append([np.asarray(t.detach().numpy()) for t in out])
    assert res[0][0].strides == res[1][0].strides          # the result's layout is PyTorch's
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


def test_batch_norm_rows_float32_expanded_gradient_and_double_backward():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 4, 9, 9)).astype(np.float32)
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.batch_norm(xt, None, None, training=True)
        (gx,) = lib.autograd.grad((y * y.detach().sin()).sum(), xt, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.square().sum(), xt)
        xt.grad = None
        lib.nn.functional.batch_norm(xt, None, None, training=True).exp().sum().backward()
        res.append([t.detach().numpy() for t in (y, gx, ggx, xt.grad)])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=2e-4, atol=2e-4)
