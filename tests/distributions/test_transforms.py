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
    lg = ember.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(ember.tensor(0.5),
                                                                     logits=ember.tensor([0.3, -1.0]))
    tl = torch.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(torch.tensor(0.5),
                                                                     logits=torch.tensor([0.3, -1.0]))
    np.testing.assert_allclose(lg.log_prob(ember.tensor([1.5, -2.0])).numpy(),
                               tl.log_prob(torch.tensor([1.5, -2.0])).numpy(), rtol=1e-6)
    assert lg.has_rsample == tl.has_rsample


V = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
M = np.array([[[0.5, 0.0, 0.0], [0.3, -0.2, 0.0], [-0.7, 0.4, 0.1]]])


def _structured(lib):
    T = lib.distributions.transforms
    d = lib.distributions
    return {
        "independent": (T.IndependentTransform(T.ExpTransform(), 1), V),
        "reshape": (T.ReshapeTransform((3,), (3, 1)), V),
        "softplus": (T.SoftplusTransform(), V),
        "stick_breaking": (T.StickBreakingTransform(), V),
        "lower_cholesky": (T.LowerCholeskyTransform(), M),
        "positive_definite": (T.PositiveDefiniteTransform(), M),
        "corr_cholesky": (T.CorrCholeskyTransform(), V),
        "cat": (T.CatTransform([T.ExpTransform(), T.SigmoidTransform()], dim=-1, lengths=[2, 1]), V),
        "stack": (T.StackTransform([T.ExpTransform(), T.SoftplusTransform()], dim=0), V),
        "cdf": (T.CumulativeDistributionTransform(d.Normal(lib.tensor(0.2, dtype=lib.float64),
                                                           lib.tensor(1.5, dtype=lib.float64))), V),
        "power": (T.PowerTransform(lib.tensor([0.5, 2.0, 3.0], dtype=lib.float64)), np.abs(V) + 0.1),
    }


@pytest.mark.parametrize("name", ["independent", "reshape", "softplus", "stick_breaking", "lower_cholesky",
                                  "positive_definite", "corr_cholesky", "cat", "stack", "cdf", "power"])
def test_structured_transform_matches_torch(name):
    (et, x), (tt, _) = _structured(ember)[name], _structured(torch)[name]
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = et(ex), tt(tx)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(et.inv(ey).detach().numpy(), tt.inv(ty).detach().numpy(), rtol=1e-8, atol=1e-10)
    el, tl = ey.sum() * 0, ty.sum() * 0
    if name not in ("positive_definite", "lower_cholesky"):     # no log-Jacobian in torch either
        el, tl = et.log_abs_det_jacobian(ex, ey), tt.log_abs_det_jacobian(tx, ty)
        np.testing.assert_allclose(el.detach().numpy(), tl.detach().numpy(), rtol=1e-9, atol=1e-12)
    (ey.sin().sum() + el.sum()).backward()
    (ty.sin().sum() + tl.sum()).backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    shape = tuple(x.shape)
    assert tuple(et.forward_shape(shape)) == tuple(tt.forward_shape(torch.Size(shape)))
    assert repr(et.domain).replace("ember.", "") == repr(tt.domain).replace("torch.", "")
    assert et.bijective == tt.bijective


def test_stick_breaking_transformed_dirichlet_like_log_prob():
    # the LogisticNormal-style construction: a Normal pushed through stick breaking
    out = []
    for lib in (ember, torch):
        loc = lib.tensor([0.1, -0.3], dtype=lib.float64, requires_grad=True)
        d = lib.distributions.TransformedDistribution(
            lib.distributions.Independent(lib.distributions.Normal(loc, 0.5), 1),
            lib.distributions.transforms.StickBreakingTransform())
        lp = d.log_prob(lib.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], dtype=lib.float64))
        lp.sum().backward()
        out.append((lp.detach().numpy(), loc.grad.numpy(), tuple(d.event_shape)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-9)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9)
    assert out[0][2] == out[1][2]


def _registry_constraints(lib):
    c = lib.distributions.constraints
    return [(c.positive, V), (c.nonnegative, V), (c.real, V), (c.unit_interval, V), (c.interval(-1.0, 2.0), V),
            (c.half_open_interval(0.0, 3.0), V), (c.simplex, V), (c.real_vector, V), (c.less_than(3.0), V),
            (c.greater_than(-2.0), V), (c.corr_cholesky, V), (c.lower_cholesky, M), (c.positive_definite, M),
            (c.independent(c.positive, 1), V), (c.cat([c.positive, c.real], 1, [2, 1]), V),
            (c.stack([c.real, c.unit_interval], 0), V)]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry_matches_torch(registry):
    for (ec, x), (tc, _) in zip(_registry_constraints(ember), _registry_constraints(torch)):
        try:
            tt = getattr(torch.distributions, registry)(tc)
        except NotImplementedError as ex:
            with pytest.raises(NotImplementedError, match=str(ex)):
                getattr(ember.distributions, registry)(ec)
            continue
        et = getattr(ember.distributions, registry)(ec)
        assert repr(et) == repr(tt)
        ey, ty = et(ember.tensor(x)), tt(torch.tensor(x))
        np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-10, atol=1e-12, err_msg=repr(ec))
        assert bool(ec.check(ey).all())
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        ember.distributions.biject_to.register(int, lambda c: None)
