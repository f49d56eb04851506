"""forward_ad (make_dual / unpack_dual) and autograd.functional.jvp/vjp/jacobian/hessian vs torch.func."""
import numpy as np
import pytest
import torch

import ember
import ember.autograd.forward_ad as fwAD

FUNCS = {
    "sin_exp": lambda m, x: m.sin(x) * m.exp(x),
    "tanh_mm": lambda m, x: m.tanh(x.reshape(2, 2) @ x.reshape(2, 2)).reshape(-1),
    "softmax": lambda m, x: m.softmax(x, 0),
    "sum_sq": lambda m, x: (x ** 2).sum(),
    "norm": lambda m, x: x / m.norm(x),
    "where": lambda m, x: m.where(x > 0, x ** 3, -x),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_jvp_matches_torch(name):
    f = FUNCS[name]
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal(4), rng.standard_normal(4)
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(a), ember.tensor(v))
        out = f(ember, d)
        p, t = fwAD.unpack_dual(out)
    tp, tt = torch.func.jvp(lambda x: f(torch, x), (torch.tensor(a),), (torch.tensor(v),))
    np.testing.assert_allclose(p.numpy(), tp.numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-6, atol=1e-10)


def test_unpack_dual_of_constant_and_errors():
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.ones(2), ember.ones(2))
        p, t = fwAD.unpack_dual(ember.zeros(2))
        assert t is None
        p, t = fwAD.unpack_dual(d * 3)
        assert t.tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match=r"tangent.*\(3,\).*\(2,\)"):
            fwAD.make_dual(ember.ones(2), ember.ones(3))
    with pytest.raises(RuntimeError, match="dual_level"):
        fwAD.make_dual(ember.ones(2), ember.ones(2))


def test_functional_jvp_vjp_jacobian_hessian():
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal(3), rng.standard_normal(3)
    f = FUNCS["sin_exp"]
    _, ej = ember.autograd.jvp(lambda x: f(ember, x), ember.tensor(a), ember.tensor(v))
    _, tj = torch.autograd.functional.jvp(lambda x: f(torch, x), torch.tensor(a), torch.tensor(v))
    np.testing.assert_allclose(ej.numpy(), tj.numpy(), rtol=1e-6)
    _, ev = ember.autograd.vjp(lambda x: f(ember, x), ember.tensor(a), ember.tensor(v))
    _, tv = torch.autograd.functional.vjp(lambda x: f(torch, x), torch.tensor(a), torch.tensor(v))
    np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-6)
    eJ = ember.autograd.jacobian(lambda x: f(ember, x), ember.tensor(a))
    tJ = torch.autograd.functional.jacobian(lambda x: f(torch, x), torch.tensor(a))
    np.testing.assert_allclose(eJ.numpy(), tJ.numpy(), rtol=1e-6)
    g = lambda m, x: (m.tanh(x) ** 2).sum() * x.sum()  # noqa: E731
    eH = ember.autograd.hessian(lambda x: g(ember, x), ember.tensor(a))
    tH = torch.autograd.functional.hessian(lambda x: g(torch, x), torch.tensor(a))
    np.testing.assert_allclose(eH.numpy(), tH.numpy(), rtol=1e-6, atol=1e-10)
