"""The 2-norm as one node (``_reduce_norm.Norm2``): the composite sqrt(sum(x * x))'s bits, values and
gradients (0 at a zero norm), PyTorch's node name and values, second derivatives."""
import numpy as np
import pytest

import ember
from ember.ops import _reduce_norm as RN

torch = pytest.importorskip("torch")


def _same(u, v):
    assert u.dtype == v.dtype and u.shape == v.shape
    np.testing.assert_array_equal(np.atleast_1d(u).view(np.uint8), np.atleast_1d(v).view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim, keepdim", [((128, 64), 1, True), ((128, 64), None, False),
                                                 ((3, 4, 5), (0, 2), False), ((6,), 0, True),
                                                 ((300, 300), 0, False), ((4, 3, 5, 5), 1, True)])
def test_bits_of_the_composite(dtype, shape, dim, keepdim):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[::7] = 0
    a[(0,) * (a.ndim - 1)] = 0                    # a zero row (zero norm where dim is the last axis)
    x1, x2 = ember.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    y1 = x1.norm(2, dim, keepdim=keepdim)
    y2 = RN._SafeSqrt.apply(ember.sum(x2 * x2, dim, keepdim=keepdim) if dim is not None else ember.sum(x2 * x2))
    assert type(y1.grad_fn).__name__ == "Norm2" and y1.grad_fn.name() == "LinalgVectorNormBackward0"
    g = rng.standard_normal(tuple(y1.shape)).astype(dtype)
    y1.backward(ember.tensor(g))
    y2.backward(ember.tensor(g))
    _same(y1.detach().numpy(), y2.detach().numpy())
    _same(x1.grad.numpy(), x2.grad.numpy())
    t = torch.tensor(a, requires_grad=True)
    ty = torch.linalg.vector_norm(t, 2, dim, keepdim) if dim is not None else torch.linalg.vector_norm(t)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y1.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x1.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_second_derivative_and_float16():
    a = np.array([[3.0, 4.0], [1.0, -2.0]], np.float32)
    x, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx,) = ember.autograd.grad((x.norm(dim=1) ** 3).sum(), x, create_graph=True)
    (ggx,) = ember.autograd.grad((gx * gx).sum(), x)
    (tg,) = torch.autograd.grad((t.norm(dim=1) ** 3).sum(), t, create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(gx.detach().numpy(), tg.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ggx.numpy(), tgg.numpy(), rtol=1e-5)
    h = ember.tensor(a).half()
    assert h.norm().dtype == ember.float16 and abs(h.norm().item() - float(np.linalg.norm(a))) < 1e-2
