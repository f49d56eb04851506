"""User-defined ember.autograd.Function (PyTorch's API): save_for_backward, needs_input_grad,
mark_non_differentiable, multiple outputs, non-tensor arguments, double backward."""
import numpy as np
import pytest
import torch

import ember


def _cube_cls(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.scale, None
    return Cube


def test_user_function_matches_torch():
    a = np.array([0.5, -1.0, 2.0])
    res = []
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        y = _cube_cls(m).apply(x, 2.0)
        assert y.requires_grad and not y.is_leaf
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        res.append((y.detach().numpy(), g.detach().numpy(), h.numpy()))
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t)


def test_forward_receives_tensors_without_graph():
    seen = {}

    class Probe(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen["type"] = type(x)
            seen["rg"] = x.requires_grad
            seen["grad_enabled"] = ember.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = ember.ones(2, requires_grad=True)
    y = Probe.apply(x)
    assert seen == {"type": ember.Tensor, "rg": False, "grad_enabled": False}
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_needs_input_grad_and_none_grads():
    flags = []

    class Mul(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            flags.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return (g * b if ctx.needs_input_grad[0] else None), (g * a if ctx.needs_input_grad[1] else None)

    a = ember.tensor([2.0], requires_grad=True)
    b = ember.tensor([3.0])
    Mul.apply(a, b).sum().backward()
    assert flags[-1] == (True, False) and a.grad.tolist() == [3.0] and b.grad is None


def test_mark_non_differentiable_and_multiple_outputs():
    class SortWithIdx(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = ember.tensor(np.argsort(x.numpy()))
            vals = x[idx]
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            ctx.n = x.shape[0]
            return vals, idx

        @staticmethod
        def backward(ctx, gv, gi):
            (idx,) = ctx.saved_tensors
            out = ember.zeros(ctx.n, dtype=gv.dtype)
            out[idx] = gv
            return out

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = SortWithIdx.apply(x)
    assert v.requires_grad and not i.requires_grad and i.dtype == ember.int64
    assert v.tolist() == [1.0, 2.0, 3.0]
    (v * ember.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]

    class Split2(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = ember.ones(2, requires_grad=True)
    p, q = Split2.apply(x)
    p.sum().backward()          # q unused: its gradient is zero-filled
    assert x.grad.tolist() == [2.0, 2.0]


def test_wrong_number_of_grads_is_a_clear_error():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.*1 gradient.*expected 2"):
        Bad.apply(x, x).sum().backward()


def test_saved_tensor_modified_in_place_detected():
    x = ember.ones(2, requires_grad=True)
    y = x * 1
    z = _cube_cls(ember).apply(y, 1.0)
    with ember.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"inplace.*Cube"):
        z.sum().backward()


def test_once_differentiable():
    from ember.autograd.function import once_differentiable

    class Sq(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    x = ember.ones(2, requires_grad=True)
    Sq.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="once-differentiable"):
        ember.autograd.grad(Sq.apply(x).sum(), x, create_graph=True)


def test_backward_may_return_arrays_and_numbers():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2.0 if g.ndim == 0 else np.full(g.shape, 2.0, np.float32)

    s = ember.tensor(1.0, requires_grad=True)
    Twice.apply(s).backward()
    assert s.grad.item() == 2.0
    v = ember.ones(3, requires_grad=True)
    Twice.apply(v).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0, 2.0] and v.grad.dtype == ember.float32
