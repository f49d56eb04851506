"""torch.func vs PyTorch: functional_call, grad/grad_and_value (argnums, has_aux, nesting), vjp, jacrev,
hessian, and vmap over pytrees (the per-sample-gradients recipe)."""
import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func


def _mlp(m):
    net = m.nn.Sequential(m.nn.Linear(4, 3), m.nn.Tanh(), m.nn.Linear(3, 2))
    with m.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(m.tensor(np.sin(np.arange(p.numel()) + i).reshape(tuple(p.shape)), dtype=m.float32))
    return net


def _per_sample(m):
    net = _mlp(m)
    x = m.tensor(np.cos(np.arange(20.0)).reshape(5, 4), dtype=m.float32)
    y = m.tensor([0, 1, 1, 0, 1])
    params = {k: v.detach() for k, v in net.named_parameters()}

    def loss(p, xb, yb):
        return m.nn.functional.cross_entropy(m.func.functional_call(net, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))
    return m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)


def test_per_sample_grads_recipe_as_torch():
    e, t = _per_sample(ember), _per_sample(torch)
    assert sorted(e) == sorted(t)
    for k in t:
        np.testing.assert_allclose(e[k].numpy(), t[k].numpy(), rtol=1e-5, atol=1e-6)
        assert not e[k].requires_grad


def test_functional_call_restores_the_module_and_checks_names():
    net = _mlp(ember)
    w = net[0].weight
    out = ember.func.functional_call(net, {"0.weight": ember.zeros(3, 4), "0.bias": ember.zeros(3)}, ember.ones(1, 4))
    ref = torch.func.functional_call(_mlp(torch), {"0.weight": torch.zeros(3, 4), "0.bias": torch.zeros(3)},
                                     torch.ones(1, 4))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    assert net[0].weight is w
    with pytest.raises(AttributeError, match="nope"):
        ember.func.functional_call(net, {"nope": ember.zeros(1)}, ember.ones(1, 4))
    with pytest.raises(RuntimeError, match="missing keys"):
        ember.func.functional_call(net, {"0.weight": ember.zeros(3, 4)}, ember.ones(1, 4), strict=True)


def test_grad_variants_as_torch():
    for m in (ember, torch):
        x, y = m.tensor([1.0, 2.0]), m.tensor([0.5, -1.0])
        f = lambda a, b: (a ** 3 * b).sum()                         # noqa: E731
        ga, gb = m.func.grad(f, argnums=(0, 1))(x, y)
        g2 = m.func.grad(lambda a: m.func.grad(f)(a, y).sum())(x)     # nested
        (gv, v) = m.func.grad_and_value(f)(x, y)
        gaux, aux = m.func.grad(lambda a: ((a * 2).sum(), a.mean()), has_aux=True)(x)
        out, fn = m.func.vjp(lambda a: a.sin() * 2, x)
        jac = m.func.jacrev(lambda a: a.sin() * y)(x)
        hes = m.func.hessian(lambda a: (a ** 3).sum())(x)
        res = [ga, gb, g2, gv, v, gaux, aux, out, fn(m.ones(2))[0], jac, hes]
        if m is ember:
            got = [r.detach().numpy() for r in res]
        else:
            np.testing.assert_allclose([np.asarray(a).sum() for a in got],
                                       [r.detach().numpy().sum() for r in res], rtol=1e-6)
            for a, r in zip(got, res):
                np.testing.assert_allclose(a, r.detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="scalar"):
        ember.func.grad(lambda a: a * 2)(ember.ones(2))


def test_vmap_pytrees_and_out_dims_as_torch():
    for m in (ember, torch):
        x = m.arange(6.0).view(2, 3)
        r = [m.func.vmap(lambda d: {"s": d["a"].sum(), "p": (d["a"] * 2, d["b"])}, in_dims=({"a": 0, "b": None},))(
            {"a": x, "b": m.ones(2)}), m.func.vmap(lambda a: a + 1, out_dims=1)(x),
            m.func.vmap(m.func.vmap(m.mul))(x, x)]
        flat = [r[0]["s"], r[0]["p"][0], r[0]["p"][1], r[1], r[2]]
        if m is ember:
            got = [f.numpy() for f in flat]
        else:
            for a, f in zip(got, flat):
                np.testing.assert_array_equal(a, f.numpy())
    with pytest.raises(ValueError, match="same size"):
        ember.func.vmap(ember.add)(ember.ones(2), ember.ones(3))


def test_autograd_functional_hvp_vhp_as_torch():
    import ember.autograd.functional as EF
    import torch.autograd.functional as TF
    for fname in ("hvp", "vhp"):
        res = []
        for m, F in ((ember, EF), (torch, TF)):
            f = lambda x, y: (x ** 3).sum() * y.sum() + (x * y).sum()     # noqa: E731
            x, y = m.tensor([1.0, 0.5]), m.tensor([2.0, -1.0])
            val, (hx, hy) = getattr(F, fname)(f, (x, y), (m.tensor([1.0, 2.0]), m.tensor([0.5, 0.0])))
            lin = getattr(F, fname)(lambda x: (x * 3).sum(), m.tensor([1.0, 2.0]), m.ones(2))[1]
            one = getattr(F, fname)(lambda x: x.pow(4).sum(), m.tensor([2.0]))[1]
            res.append([val.item(), hx.tolist(), hy.tolist(), lin.tolist(), one.tolist()])
        assert res[0] == res[1]
    with pytest.raises(RuntimeError, match="single element"):
        EF.hvp(lambda x: x * 2, ember.ones(2), ember.ones(2))
    with pytest.raises(RuntimeError, match="v can only be None"):
        EF.vhp(lambda x: x.sum(), ember.ones(2))


def test_toplevel_vmap_is_the_pytree_vmap():
    out = ember.vmap(lambda d: {"a": d["x"].sum()}, in_dims=({"x": 1},))({"x": ember.arange(6.0).view(2, 3)})
    ref = torch.vmap(lambda d: {"a": d["x"].sum()}, in_dims=({"x": 1},))({"x": torch.arange(6.0).view(2, 3)})
    assert out["a"].tolist() == ref["a"].tolist()
