"""Every activation, as function and as module, against PyTorch: values, gradients, float64 gradcheck,
double backward, reprs."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import compare, gradcheck, assert_close

# (name, function of (lib, x) using the functional API with options)
CASES = [
    ("threshold", lambda m, x: m.nn.functional.threshold(x, 0.3, -2.0)),
    ("relu", lambda m, x: m.nn.functional.relu(x)),
    ("relu6", lambda m, x: m.nn.functional.relu6(x * 4)),
    ("leaky_relu", lambda m, x: m.nn.functional.leaky_relu(x, 0.2)),
    ("elu", lambda m, x: m.nn.functional.elu(x, 0.7)),
    ("selu", lambda m, x: m.nn.functional.selu(x)),
    ("celu", lambda m, x: m.nn.functional.celu(x, 0.6)),
    ("gelu", lambda m, x: m.nn.functional.gelu(x)),
    ("gelu_tanh", lambda m, x: m.nn.functional.gelu(x, approximate="tanh")),
    ("softplus", lambda m, x: m.nn.functional.softplus(x, 2.0, 3.0)),
    ("silu", lambda m, x: m.nn.functional.silu(x)),
    ("mish", lambda m, x: m.nn.functional.mish(x)),
    ("hardtanh", lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.8)),
    ("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x * 3)),
    ("hardswish", lambda m, x: m.nn.functional.hardswish(x * 3)),
    ("softsign", lambda m, x: m.nn.functional.softsign(x)),
    ("logsigmoid", lambda m, x: m.nn.functional.logsigmoid(x)),
    ("tanhshrink", lambda m, x: m.nn.functional.tanhshrink(x)),
    ("softshrink", lambda m, x: m.nn.functional.softshrink(x, 0.4)),
    ("hardshrink", lambda m, x: m.nn.functional.hardshrink(x, 0.4)),
    ("glu", lambda m, x: m.nn.functional.glu(x, 1)),
    ("sigmoid", lambda m, x: m.nn.functional.sigmoid(x)),
    ("tanh", lambda m, x: m.nn.functional.tanh(x)),
    ("softmax", lambda m, x: m.nn.functional.softmax(x, dim=1)),
    ("log_softmax", lambda m, x: m.nn.functional.log_softmax(x, dim=0)),
    ("softmin", lambda m, x: m.nn.functional.softmin(x, dim=-1)),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_vs_torch(name, fn, dtype):
    tol = dict(atol=1e-5, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-9, rtol=1e-6)  # torch rounds celu's 1/alpha to float32
    compare(fn, [(5, 6)], dtype=dtype, **tol)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_large_input_vs_torch(name, fn):
    # 300K elements: past ember's size for splitting among threads and for computing in L2-sized blocks
    compare(fn, [(600, 500)], dtype=np.float32, atol=1e-5, rtol=1e-4, seed=3)


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_float64(name, fn):
    assert gradcheck(lambda x: fn(ember, x), [(3, 4)])


MODULES = ["Threshold(0.1, 20.0)", "ReLU()", "ReLU6()", "LeakyReLU(0.05)", "ELU(alpha=0.5)", "SELU()",
           "CELU(1.5)", "GELU()", "GELU(approximate='tanh')", "Softplus(beta=0.5, threshold=10)", "SiLU()",
           "Mish()", "Hardtanh(-2.0, 2.0)", "Hardsigmoid()", "Hardswish()", "Softsign()", "LogSigmoid()",
           "Softmax(dim=1)", "LogSoftmax(dim=1)", "Softmin(dim=1)", "Tanhshrink()", "Softshrink(0.3)",
           "Hardshrink(0.3)", "GLU(dim=1)", "Sigmoid()", "Tanh()", "Softmax2d()"]


@pytest.mark.parametrize("spec", MODULES)
def test_module_vs_torch_and_repr(spec):
    e_mod, t_mod = eval("nn." + spec), eval("torch.nn." + spec)
    assert repr(e_mod) == repr(t_mod)
    compare(lambda m, x: (e_mod if m is ember else t_mod)(x * 3), [(2, 4, 3, 2)])


def test_prelu_module_learns_slope_like_torch():
    e, t = nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert repr(e) == repr(t)
    x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = e(ex), t(tx)
    assert_close(ey, ty)
    ey.pow(2).sum().backward()
    ty.pow(2).sum().backward()
    assert_close(ex.grad, tx.grad, atol=1e-5)
    assert_close(e.weight.grad, t.weight.grad, atol=1e-4)
    # single shared slope
    compare(lambda m, x, w: m.nn.functional.prelu(x, w), [(3, 2, 4), (1,)])
    assert gradcheck(lambda x, w: F.prelu(x, w), [(3, 2, 4), (2,)])


def test_relu_inplace_writes_input():
    x = ember.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y is x and x.tolist() == [0.0, 2.0]
    a = ember.randn(4, requires_grad=True)
    b = a * 1.0
    nn.ELU(inplace=True)(b).sum().backward()
    ref = torch.tensor(a.detach().numpy().copy(), requires_grad=True)
    torch.nn.functional.elu(ref).sum().backward()
    assert_close(a.grad, ref.grad)


def test_step_and_heaviside_zero_gradient():
    x = ember.tensor([-2.0, 0.0, 0.5], requires_grad=True)
    y = nn.Step()(x)
    assert y.tolist() == [0.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    h = F.heaviside(ember.tensor([-1.0, 0.0, 3.0]), 0.5)
    assert h.tolist() == torch.heaviside(torch.tensor([-1.0, 0.0, 3.0]), torch.tensor(0.5)).tolist()


def test_swish_learnable_beta():
    act = nn.Swish(beta=1.5, learnable=True)
    assert [n for n, _ in act.named_parameters()] == ["beta"]
    x = np.random.default_rng(0).standard_normal((4, 3))
    ex = ember.tensor(x, requires_grad=True)
    act.double()
    act(ex).sum().backward()
    tb = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    (tx * torch.sigmoid(tb * tx)).sum().backward()
    assert_close(act.beta.grad, tb.grad)
    assert_close(ex.grad, tx.grad)
    fixed = nn.Swish(beta=2.0)
    assert list(fixed.parameters()) == []
    compare(lambda m, x: x * m.sigmoid(2.0 * x) if m is torch else fixed(x), [(3, 3)])
    assert gradcheck(lambda x: F.swish(x, 0.7), [(3, 3)])


def test_double_backward_matches_torch():
    for name, fn in CASES:
        if name in ("softmax", "log_softmax", "softmin", "glu", "sigmoid", "tanh"):
            continue
        x = np.random.default_rng(2).standard_normal((7,))
        ex = ember.tensor(x, requires_grad=True)
        tx = torch.tensor(x, requires_grad=True)
        (eg,) = ember.autograd.grad(fn(ember, ex).sum(), ex, create_graph=True)
        (tg,) = torch.autograd.grad(fn(torch, tx).sum(), tx, create_graph=True)
        assert_close(eg, tg, what=f"{name} grad")
        try:
            (tgg,) = torch.autograd.grad(tg.pow(2).sum(), tx, allow_unused=True)
        except RuntimeError:        # torch has no double backward for some (hardsigmoid)
            continue
        if not eg.requires_grad:    # piecewise-linear: ember records no graph for a constant derivative
            assert tgg is None or np.allclose(tgg.numpy(), 0), name
            continue
        (egg,) = ember.autograd.grad(eg.pow(2).sum(), ex, allow_unused=True)
        assert_close(egg, tgg, atol=1e-6, what=f"{name} second derivative")


def test_stability_extremes():
    x = ember.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    t = torch.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for f in ("logsigmoid", "softplus", "silu", "mish", "elu", "selu", "celu", "gelu"):
        e_out = getattr(F, f)(x)
        assert np.all(np.isfinite(e_out.numpy())), f
        assert_close(e_out, getattr(torch.nn.functional, f)(t), atol=1e-4, what=f)


def test_errors_name_the_op():
    with pytest.raises(RuntimeError, match="glu"):
        F.glu(ember.randn(3, 5))
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(RuntimeError, match="prelu"):
        F.prelu(ember.randn(2, 3), ember.ones(4))
