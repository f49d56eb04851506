"""Draws: shapes and dtypes as PyTorch's, sample statistics of 20k seeded draws (deterministic, so they cannot
flake), and the gradients of rsample for a fixed noise draw."""
import numpy as np
import pytest
import torch

import ember

from ._cases import CASES, build

N = 20_000


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shapes_and_dtypes_match_torch(name, sample_shape):
    e, _, _ = build(name, "ember")
    t, _, _ = build(name, "torch")
    es, ts = e.sample(sample_shape), t.sample(sample_shape)
    assert tuple(es.shape) == tuple(ts.shape)
    assert str(es.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
    assert not es.requires_grad
    assert bool(e.support.check(es).all()) if not isinstance(e, ember.distributions.Independent) else True
    if t.has_rsample:
        er = e.rsample(sample_shape)
        assert tuple(er.shape) == tuple(ts.shape) and er.requires_grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand_matches_torch(name):
    e, _, ev = build(name, "ember")
    t, _, tv = build(name, "torch")
    shape = (2,) + tuple(t.batch_shape)
    ee, te = e.expand(shape), t.expand(torch.Size(shape))
    assert type(ee) is type(e) and tuple(ee.batch_shape) == shape and tuple(ee.event_shape) == tuple(t.event_shape)
    assert tuple(ee.sample().shape) == tuple(te.sample().shape)
    lead = (0,) * (ev.dim() - len(t.batch_shape) - len(t.event_shape))     # drop the values' sample dimensions
    ev, tv = ev[lead], tv[lead]
    np.testing.assert_allclose(ee.log_prob(ev).detach().numpy(), te.log_prob(tv).detach().numpy(), rtol=1e-6)
    try:
        mean = te.mean
    except NotImplementedError:
        return
    np.testing.assert_allclose(ee.mean.detach().numpy(), mean.detach().numpy(), rtol=1e-6)


def _stats(name, draws):
    return draws.mean(0), draws.var(0)


# (name, tolerance in standard errors on the mean; the variance is checked to 5%)
STAT_CASES = ["normal", "uniform", "exponential", "laplace", "gamma", "beta", "dirichlet", "poisson",
              "binomial_probs", "bernoulli_probs", "one_hot_categorical", "lognormal", "independent_normal",
              "mvn_scale_tril", "half_normal", "gumbel", "chi2", "geometric", "multinomial", "weibull",
              "negative_binomial_logits", "mixture_normal", "mixture_mvn", "lowrank_mvn", "kumaraswamy", "wishart"]


@pytest.mark.parametrize("name", STAT_CASES)
def test_sample_statistics(name):
    ember.manual_seed(2024)
    e, _, _ = build(name, "ember", grad=False)
    draws = e.sample((N,)).double().numpy()
    mean, var = e.mean.double().numpy(), e.variance.double().numpy()
    se = np.sqrt(var / N)
    assert np.all(np.abs(draws.mean(0) - mean) < 5 * se + 1e-12), (draws.mean(0), mean)
    rel = np.abs(draws.var(0) - var) / var
    assert np.all(rel < 0.06 if name != "lognormal" else rel < 0.25), (draws.var(0), var)


def test_categorical_frequencies_and_zero_probability():
    ember.manual_seed(3)
    p = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    c = ember.distributions.Categorical(ember.tensor(p))
    s = c.sample((N,)).numpy()
    assert s.dtype == np.int64 and s.shape == (N, 2)
    freq = np.stack([np.bincount(s[:, b], minlength=4) / N for b in range(2)])
    assert (freq[0, 1] == 0) and np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N) + 1e-12)


def test_mvn_sample_covariance():
    ember.manual_seed(5)
    e, _, _ = build("mvn_covariance", "ember", grad=False)
    x = e.sample((N,)).numpy()[:, 0]
    cov = np.cov(x, rowvar=False)
    np.testing.assert_allclose(cov, e.covariance_matrix[0].numpy(), rtol=0.06, atol=0.1)


def test_seed_reproduces_draws():
    d = ember.distributions
    dists = [d.Normal(ember.zeros(3), 1.0), d.Categorical(logits=ember.zeros(4)), d.Gamma(ember.ones(2), 1.0),
             d.Poisson(ember.ones(2)), d.Bernoulli(ember.full((3,), 0.3))]
    ember.manual_seed(11)
    first = [x.sample((4,)).numpy() for x in dists]
    ember.manual_seed(11)
    second = [x.sample((4,)).numpy() for x in dists]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def _leaf(v):
    return ember.tensor(np.array(v, dtype=np.float64), requires_grad=True)


def test_normal_and_mvn_rsample_match_torch_for_the_same_noise(monkeypatch):
    # torch's rsample with ember's noise (its _standard_normal patched) gives the same values and gradients
    ember.manual_seed(9)
    loc, scale = _leaf([[0.5, -1.0, 2.0]]), _leaf([[1.5, 0.3, 2.0]])
    x = ember.distributions.Normal(loc, scale).rsample((4,))
    ember.manual_seed(9)
    eps = torch.from_numpy(ember.randn(4, 1, 3, dtype=ember.float64).numpy())
    monkeypatch.setattr(torch.distributions.normal, "_standard_normal", lambda *a, **k: eps)
    tl, ts = (torch.tensor(v.detach().numpy(), requires_grad=True) for v in (loc, scale))
    y = torch.distributions.Normal(tl, ts).rsample((4,))
    np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-12)
    (x ** 2).sum().backward()
    (y ** 2).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), tl.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(scale.grad.numpy(), ts.grad.numpy(), rtol=1e-10)

    L = np.array([[1.0, 0.0], [0.4, 0.7]])
    mloc, tril = _leaf([0.2, -0.3]), _leaf(L)
    ember.manual_seed(4)
    x = ember.distributions.MultivariateNormal(mloc, scale_tril=tril).rsample((6,))
    ember.manual_seed(4)
    eps = torch.from_numpy(ember.randn(6, 2, dtype=ember.float64).numpy())
    monkeypatch.setattr(torch.distributions.multivariate_normal, "_standard_normal", lambda *a, **k: eps)
    tml, ttr = (torch.tensor(v.detach().numpy(), requires_grad=True) for v in (mloc, tril))
    y = torch.distributions.MultivariateNormal(tml, scale_tril=ttr).rsample((6,))
    np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-12)
    x.sin().sum().backward()
    y.sin().sum().backward()
    np.testing.assert_allclose(mloc.grad.numpy(), tml.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(tril.grad.numpy(), ttr.grad.numpy(), rtol=1e-10)


def test_location_scale_rsample_gradients():
    d = ember.distributions
    low, high = _leaf([0.0, -1.0]), _leaf([1.0, 3.0])
    x = d.Uniform(low, high).rsample((5,))
    x.sum().backward()
    u = ((x - low) / (high - low)).detach().numpy()
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(0), rtol=1e-10)
    np.testing.assert_allclose(high.grad.numpy(), u.sum(0), rtol=1e-10)
    rate = _leaf([0.5, 2.0])
    x = d.Exponential(rate).rsample((5,))
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), (-x / rate).detach().numpy().sum(0), rtol=1e-10)
    loc, scale = _leaf([0.5, -2.0]), _leaf([1.0, 0.25])
    for dist in (d.Laplace(loc, scale), d.LogNormal(loc, scale)):
        loc.grad = scale.grad = None
        x = dist.rsample((5,))
        x.sum().backward()
        z = x.log() if isinstance(dist, d.LogNormal) else x
        w = x.detach().numpy() if isinstance(dist, d.LogNormal) else np.ones(x.shape)
        np.testing.assert_allclose(loc.grad.numpy(), w.sum(0), rtol=1e-10)
        np.testing.assert_allclose(scale.grad.numpy(), (w * ((z - loc) / scale).detach().numpy()).sum(0),
                                   rtol=1e-8)


def test_gamma_rsample_gradient_is_torchs_implicit_reparameterisation():
    conc, rate = _leaf([0.3, 1.0, 4.0, 20.0]), _leaf([1.0, 2.0, 0.5, 3.0])
    x = ember.distributions.Gamma(conc, rate).rsample((50,))
    x.sum().backward()
    xs = x.detach().numpy()
    tc, tr = (torch.tensor(v.detach().numpy()) for v in (conc, rate))
    dconc = torch._standard_gamma_grad(tc.expand(50, 4), torch.from_numpy(xs) * tr) / tr
    np.testing.assert_allclose(conc.grad.numpy(), dconc.sum(0).numpy(), rtol=2e-4)
    np.testing.assert_allclose(rate.grad.numpy(), (-xs / rate.detach().numpy()).sum(0), rtol=1e-10)


def test_beta_and_dirichlet_rsample_gradients_are_unbiased():
    # the pathwise gradient of the mean of many draws estimates the gradient of the mean
    ember.manual_seed(1)
    a, b = _leaf([0.7, 3.0]), _leaf([2.0, 1.5])
    ember.distributions.Beta(a, b).rsample((N,)).mean(0).sum().backward()
    av, bv = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), bv / (av + bv) ** 2, rtol=0.05)
    np.testing.assert_allclose(b.grad.numpy(), -av / (av + bv) ** 2, rtol=0.05)
    c = _leaf([0.5, 1.0, 2.5])
    ember.distributions.Dirichlet(c).rsample((N,))[:, 0].mean().backward()
    cv = c.detach().numpy()
    expected = -cv[0] / cv.sum() ** 2 + np.array([1.0, 0, 0]) / cv.sum()
    np.testing.assert_allclose(c.grad.numpy(), expected, rtol=0.06, atol=0.005)


def test_sample_has_no_graph_and_rsample_is_refused_where_torch_refuses():
    d = ember.distributions
    loc = _leaf([0.0])
    assert not d.Normal(loc, 1.0).sample().requires_grad
    with pytest.raises(NotImplementedError):
        d.Categorical(logits=loc.expand(3)).rsample()
    st = d.OneHotCategoricalStraightThrough(logits=_leaf([0.1, 0.5, -0.2]))
    r = st.rsample((2,))
    assert r.requires_grad and tuple(r.shape) == (2, 3) and bool((r.detach().sum(-1) == 1).all())


def test_von_mises_draws_have_the_circular_moments():
    ember.manual_seed(8)
    loc, kappa = np.array([0.0, 2.5, -3.0]), np.array([0.3, 2.0, 20.0])
    d = ember.distributions.VonMises(ember.tensor(loc), ember.tensor(kappa))
    x = d.sample((N,)).numpy()
    assert x.shape == (N, 3) and np.all((x >= -np.pi) & (x < np.pi))
    mean_resultant = np.cos(x - loc).mean(0)           # E cos(x - loc) = I1(k) / I0(k) = 1 - variance
    np.testing.assert_allclose(mean_resultant, 1 - d.variance.numpy(), atol=0.015)
    np.testing.assert_allclose(np.sin(x - loc).mean(0), 0.0, atol=0.015)


def test_lkj_cholesky_draws_are_correlation_factors_with_the_lkj_marginal():
    ember.manual_seed(12)
    d = ember.distributions.LKJCholesky(3, ember.tensor([1.0, 4.0]))
    L = d.sample((N // 4,))
    assert tuple(L.shape) == (N // 4, 2, 3, 3) and bool(d.support.check(L).all())
    corr = (L @ L.transpose(-2, -1)).numpy()
    # an off-diagonal correlation of LKJ(eta) in dimension 3 is 2 * Beta(b, b) - 1 with b = eta + 1/2: variance
    # 1 / (2 b + 1)
    var = corr[..., 0, 1].var(0)
    np.testing.assert_allclose(var, 1 / (2 * (np.array([1.0, 4.0]) + 0.5) + 1), rtol=0.06)
    np.testing.assert_allclose(corr[..., 0, 1].mean(0), 0.0, atol=0.02)


def test_wishart_rsample_is_differentiable():
    cov = ember.tensor([[2.0, 0.3], [0.3, 1.0]], dtype=ember.float64, requires_grad=True)
    df = ember.tensor(5.0, dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Wishart(df, covariance_matrix=cov).rsample((3,))
    assert tuple(x.shape) == (3, 2, 2)
    x.sum().backward()
    assert cov.grad is not None and df.grad is not None and np.isfinite(df.grad.numpy()).all()


def test_categorical_large_draws_use_binary_search_with_the_same_draws(monkeypatch):
    import ember.distributions.categorical as cat
    probs = ember.tensor(np.random.default_rng(0).uniform(size=(4, 300)) * (np.arange(300) % 7 != 0))
    c = ember.distributions.Categorical(probs)
    ember.manual_seed(0)
    broadcast = c.sample((50,)).numpy()
    monkeypatch.setattr(cat, "_BROADCAST_LIMIT", 0)
    ember.manual_seed(0)
    searched = c.sample((50,)).numpy()
    np.testing.assert_array_equal(broadcast, searched)
    assert not np.any(searched % 7 == 0)        # zero-probability categories are never drawn
