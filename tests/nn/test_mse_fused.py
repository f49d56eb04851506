"""``mse_loss`` as one node (``ops.loss.MseLoss``): the composite's bits (values and gradients), PyTorch's
node name and values, the composite wherever the fused op does not apply, second derivatives, version checks."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.ops import loss as K

torch = pytest.importorskip("torch")


def _run(a, b, g, reduction, fused, monkeypatch):
    if not fused:
        monkeypatch.setattr(K, "mse", lambda *args: None)
    x, t = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    y = F.mse_loss(x, t, reduction=reduction)
    y.backward(ember.tensor(g))
    monkeypatch.undo()
    return y, x.grad.numpy(), t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(64, 784), (7,), (3, 4, 5)])
def test_bits_of_the_composite_and_pytorch_values(dtype, reduction, shape, monkeypatch):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    g = rng.standard_normal(shape).astype(dtype) if reduction == "none" else np.asarray(rng.standard_normal(), dtype)
    y, gx, gt = _run(a, b, g, reduction, True, monkeypatch)
    y0, gx0, gt0 = _run(a, b, g, reduction, False, monkeypatch)
    assert type(y.grad_fn).__name__ == "MseLoss" and y.grad_fn.name() == "MseLossBackward0"
    for u, v in ((y.detach().numpy(), y0.detach().numpy()), (gx, gx0), (gt, gt0)):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(np.atleast_1d(u).view(np.uint8), np.atleast_1d(v).view(np.uint8))
    tx, tt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.mse_loss(tx, tt, reduction=reduction)
    ty.backward(torch.tensor(g))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=rtol)
    np.testing.assert_allclose(gt, tt.grad.numpy(), rtol=rtol)


def test_other_inputs_take_the_composite():
    x = ember.randn(4, 3, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = F.mse_loss(x, ember.randn(3))                     # broadcast target: PyTorch's warning
    assert any("target size" in str(m.message) for m in w) and type(y.grad_fn).__name__ != "MseLoss"
    assert type(F.mse_loss(x.t(), ember.randn(3, 4)).grad_fn).__name__ != "MseLoss"     # a transposed input
    y = F.mse_loss(x, ember.randn(4, 3), weight=ember.rand(4, 3))
    assert type(y.grad_fn).__name__ != "MseLoss"
    assert np.isnan(F.mse_loss(ember.zeros(0), ember.zeros(0)).item())


def test_second_derivative_and_in_place_modification():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t = ember.tensor([0.5, 2.5, 1.0])
    (gx,) = ember.autograd.grad(F.mse_loss(x, t), x, create_graph=True)
    (ggx,) = ember.autograd.grad((gx * gx).sum(), x)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.mse_loss(tx, torch.tensor([0.5, 2.5, 1.0])), tx,
                                create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(gx.detach().numpy(), tg.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ggx.numpy(), tgg.numpy(), rtol=1e-6)
    y = ember.tensor([1.0, 2.0], requires_grad=True)
    z = y * 1.0
    loss = F.mse_loss(z, ember.tensor([0.0, 0.0]))
    z.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
