"""Linear, Bilinear, Identity, Flatten, Unflatten and F.linear/F.bilinear against PyTorch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import compare, gradcheck, assert_close


@pytest.mark.parametrize("xshape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_f_linear_vs_torch(xshape, bias):
    shapes = [xshape, (3, 4)] + ([(3,)] if bias else [])
    compare(lambda m, x, w, *b: m.nn.functional.linear(x, w, *b), shapes)
    assert gradcheck(lambda x, w, *b: F.linear(x, w, *b), shapes)


def test_linear_double_backward():
    compare(lambda m, x, w, b: m.autograd.grad(m.nn.functional.linear(x, w, b).pow(2).sum(), [x, w],
                                               create_graph=True)[0].sin().sum(), [(3, 4), (2, 4), (2,)])


def test_linear_module_same_weights_train_eval():
    t = torch.nn.Linear(6, 3).double()
    e = nn.Linear(6, 3).double()
    e.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 5, 6))
    for mode in (True, False):
        e.train(mode), t.train(mode)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ey, ty = e(ex), t(tx)
        assert_close(ey, ty)
        ey.sum().backward(), ty.sum().backward()
        assert_close(ex.grad, tx.grad)
        assert_close(e.weight.grad, t.weight.grad)
        assert_close(e.bias.grad, t.bias.grad)
        e.zero_grad(), t.zero_grad()
    assert repr(e) == repr(t).replace("torch", "ember")


def test_linear_default_init_bounds():
    ember.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert np.abs(b).max() <= bound and lin.weight.dtype == np.float32
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_shape_error_names_layer():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4\).*\(\*, 4\).*\(2, 3\)"):
        nn.Linear(4, 2)(ember.randn(2, 3))


def test_bilinear_vs_torch():
    compare(lambda m, a, b, w, c: m.nn.functional.bilinear(a, b, w, c), [(5, 3), (5, 4), (2, 3, 4), (2,)])
    compare(lambda m, a, b, w: m.nn.functional.bilinear(a, b, w), [(2, 3, 3), (2, 3, 4), (2, 3, 4)])
    assert gradcheck(lambda a, b, w: F.bilinear(a, b, w), [(3, 2), (3, 4), (2, 2, 4)])
    t = torch.nn.Bilinear(3, 4, 2)
    e = nn.Bilinear(3, 4, 2)
    assert repr(e) == repr(t)
    e.load_state_dict(t.state_dict())
    a, b = np.random.default_rng(0).standard_normal((2, 5, 3)), np.random.default_rng(1).standard_normal((5, 4))
    assert_close(e(ember.tensor(a[0], dtype=ember.float32), ember.tensor(b, dtype=ember.float32)),
                 t(torch.tensor(a[0], dtype=torch.float32), torch.tensor(b, dtype=torch.float32)), atol=1e-5)


def test_flatten_unflatten_identity():
    compare(lambda m, x: m.nn.Flatten()(x), [(2, 3, 4, 5)])
    compare(lambda m, x: m.nn.Flatten(0, 2)(x), [(2, 3, 4, 5)])
    compare(lambda m, x: m.nn.Unflatten(1, (3, 4))(x), [(2, 12)])
    assert repr(nn.Flatten()) == repr(torch.nn.Flatten())
    assert repr(nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
    x = ember.randn(3)
    assert nn.Identity(54, unused="x")(x) is x


def test_module_zero_grad_set_to_none_false_zeroes_in_place():
    """As PyTorch: the same .grad tensor, zero-filled (a reference kept to it sees the zeros), detached."""
    import ember
    lin = ember.nn.Linear(3, 2)
    lin(ember.ones(4, 3)).sum().backward()
    g = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is g and float(g.abs().sum()) == 0.0
    x = ember.ones(1, 3)
    (gw,) = ember.autograd.grad(lin(x).sum() ** 2, [lin.weight], create_graph=True)
    lin.weight.grad = gw
    assert lin.weight.grad.grad_fn is not None
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad.grad_fn is None and not lin.weight.grad.requires_grad
    assert float(lin.weight.grad.abs().sum()) == 0.0
