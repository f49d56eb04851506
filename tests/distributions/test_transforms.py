"""TransformedDistribution and the transforms against PyTorch: values, inverses, log-Jacobians, log_prob,
cdf/icdf and gradients."""
import numpy as np
import pytest
import torch

import ember

X = np.array([[-1.5, -0.2, 0.0, 0.7, 2.0]])


def _transforms(lib):
    T = lib.distributions.transforms
    return {
        "exp": T.ExpTransform(),
        "affine": T.AffineTransform(lib.tensor(0.5, dtype=lib.float64), lib.tensor(-2.0, dtype=lib.float64)),
        "affine_number": T.AffineTransform(1.0, 3.0),
        "sigmoid": T.SigmoidTransform(),
        "tanh": T.TanhTransform(),
        "power": T.PowerTransform(lib.tensor(2.0, dtype=lib.float64)),
        "compose": T.ComposeTransform([T.AffineTransform(0.3, 2.0), T.SigmoidTransform()]),
    }


@pytest.mark.parametrize("name", ["exp", "affine", "affine_number", "sigmoid", "tanh", "power", "compose"])
def test_transform_matches_torch(name):
    x = np.abs(X) + 0.1 if name == "power" else X
    et, tt = _transforms(ember)[name], _transforms(torch)[name]
    ex, tx = ember.tensor(x), torch.tensor(x)
    ey, ty = et(ex), tt(tx)
    np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-12)
    np.testing.assert_allclose(et.inv(ey).numpy(), tt.inv(ty).numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(et.log_abs_det_jacobian(ex, ey).numpy(), tt.log_abs_det_jacobian(tx, ty).numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(et.inv.log_abs_det_jacobian(ey, ex).numpy(),
                               tt.inv.log_abs_det_jacobian(ty, tx).numpy(), rtol=1e-9, atol=1e-12)
    assert repr(et.domain) == repr(tt.domain) and repr(et.codomain) == repr(tt.codomain)
    assert et.inv.inv is et


def test_transformed_distribution_matches_torch():
    out = []
    for lib in (ember, torch):
        loc = lib.tensor([0.2, -0.4], dtype=lib.float64, requires_grad=True)
        scale = lib.tensor([0.7, 1.3], dtype=lib.float64, requires_grad=True)
        T = lib.distributions.transforms
        d = lib.distributions.TransformedDistribution(
            lib.distributions.Normal(loc, scale), [T.AffineTransform(1.0, -2.0), T.SigmoidTransform()])
        v = lib.tensor([[0.2, 0.9], [0.5, 0.01]], dtype=lib.float64)
        lp = d.log_prob(v)
        cdf = d.cdf(v)
        icdf = d.icdf(lib.tensor([0.3, 0.8], dtype=lib.float64))
        (lp.sum() + cdf.sum()).backward()
        out.append([lp, cdf, icdf, loc.grad, scale.grad, tuple(d.batch_shape), tuple(d.event_shape),
                    repr(d.support)])
    for a, b in zip(*out):
        if isinstance(a, tuple) or isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9)


def test_transformed_rsample_is_differentiable_and_in_support():
    loc = ember.tensor([0.0, 1.0], requires_grad=True)
    d = ember.distributions.TransformedDistribution(ember.distributions.Normal(loc, 1.0),
                                                    ember.distributions.transforms.TanhTransform())
    x = d.rsample((100,))
    assert tuple(x.shape) == (100, 2) and bool((x.abs() < 1).all())
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), (1 - x.detach().numpy() ** 2).sum(0), rtol=1e-4)
    with pytest.raises(ValueError, match="Transform"):
        ember.distributions.TransformedDistribution(ember.distributions.Normal(0.0, 1.0), [lambda x: x])


def test_relaxed_bernoulli_matches_torch(monkeypatch):
    probs = np.array([0.1, 0.5, 0.93])
    v = np.array([[0.2, 0.6, 0.99], [0.01, 0.5, 0.7]])
    ember.manual_seed(6)
    noise = ember.rand(4, 3, dtype=ember.float64)
    monkeypatch.setattr(torch, "rand", lambda *a, **k: torch.from_numpy(noise.numpy()))
    out = []
    for lib in (ember, torch):
        t = lib.tensor(0.4, dtype=lib.float64, requires_grad=True)
        p = lib.tensor(probs, requires_grad=True)
        d = lib.distributions.RelaxedBernoulli(t, probs=p)
        lp = d.log_prob(lib.tensor(v))
        if lib is ember:
            ember.manual_seed(6)
        x = d.rsample((4,))
        (lp.sum() + (x * x).sum()).backward()
        out.append([lp, x, t.grad, p.grad])
        assert d.has_rsample and tuple(d.batch_shape) == (3,)
        assert repr(d.support) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    for a, b in zip(*out):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9)
    lg = ember.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(ember.tensor(0.5), logits=ember.tensor([0.3, -1.0]))
    tl = torch.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(torch.tensor(0.5), logits=torch.tensor([0.3, -1.0]))
    np.testing.assert_allclose(lg.log_prob(ember.tensor([1.5, -2.0])).numpy(),
                               tl.log_prob(torch.tensor([1.5, -2.0])).numpy(), rtol=1e-6)
    assert lg.has_rsample == tl.has_rsample
