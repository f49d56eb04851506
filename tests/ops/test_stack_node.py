"""``stack`` as one node (``_shape_join.Stack``) for C-contiguous inputs of one dtype: PyTorch's values,
strides, node name and gradients (views of the output's), and the ``cat`` of unsqueezed tensors otherwise."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -4])
@pytest.mark.parametrize("shape", [(4, 5, 6), (2, 3, 1)])
def test_values_strides_name_and_gradients(dim, shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ember.stack(xs + [xs[0]], dim), torch.stack(ts + [ts[0]], dim)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    assert y.stride() == ty.stride() and y.grad_fn.name() == ty.grad_fn.name() == "StackBackward0"
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_mixed_dtypes_and_strided_inputs_take_cat():
    a = ember.arange(12.0).reshape(3, 4)
    b = ember.arange(12).reshape(3, 4)
    y = ember.stack([a, b], 1)
    ty = torch.stack([torch.arange(12.0).reshape(3, 4), torch.arange(12).reshape(3, 4)], 1)
    assert y.dtype == ember.float32 and np.array_equal(y.numpy(), ty.numpy())
    at = a.t()                  # a transposed view
    np.testing.assert_array_equal(ember.stack([at, at]).numpy(), torch.stack([ty[:, 0].T, ty[:, 0].T]).numpy())


def test_second_derivative_through_stack():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (ember.stack([x * x, x], 0) ** 2).sum()
    (gx,) = ember.autograd.grad(y, x, create_graph=True)
    (ggx,) = ember.autograd.grad(gx.sum(), x)
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (tg,) = torch.autograd.grad((torch.stack([t * t, t], 0) ** 2).sum(), t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), t)
    np.testing.assert_allclose(gx.detach().numpy(), tg.detach().numpy())
    np.testing.assert_allclose(ggx.numpy(), tgg.numpy())
