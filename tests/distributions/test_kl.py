"""kl_divergence against PyTorch for every registered pair among ember's distributions, plus the registry's
dispatch rules."""
import math

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(7)
POS = R.uniform(0.5, 2.5, (2, 3))
POS2 = R.uniform(0.5, 2.5, (2, 3))
REAL = R.normal(size=(2, 3))
REAL2 = R.normal(size=(2, 3))
UNIT = R.uniform(0.1, 0.9, (2, 3))
UNIT2 = R.uniform(0.1, 0.9, (2, 3))


def _mvn(d, m, loc_seed):
    r = np.random.default_rng(loc_seed)
    a = r.normal(size=(2, 3, 3))
    cov = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    return d.MultivariateNormal(m.tensor(r.normal(size=(2, 3))), covariance_matrix=m.tensor(cov))


# name -> (p builder, q builder); a builder takes (distributions module, tensor module)
DIST = {
    "normal": lambda d, m: d.Normal(m.tensor(REAL), m.tensor(POS)),
    "normal2": lambda d, m: d.Normal(m.tensor(REAL2), m.tensor(POS2)),
    "laplace": lambda d, m: d.Laplace(m.tensor(REAL), m.tensor(POS)),
    "laplace2": lambda d, m: d.Laplace(m.tensor(REAL2), m.tensor(POS2)),
    "exponential": lambda d, m: d.Exponential(m.tensor(POS)),
    "exponential2": lambda d, m: d.Exponential(m.tensor(POS2)),
    "gamma": lambda d, m: d.Gamma(m.tensor(POS), m.tensor(POS2)),
    "gamma2": lambda d, m: d.Gamma(m.tensor(POS2), m.tensor(POS)),
    "beta": lambda d, m: d.Beta(m.tensor(POS), m.tensor(POS2)),
    "beta2": lambda d, m: d.Beta(m.tensor(POS2), m.tensor(POS)),
    "uniform": lambda d, m: d.Uniform(m.tensor(UNIT * 0.5), m.tensor(UNIT * 0.5 + 0.4)),
    "uniform_wide": lambda d, m: d.Uniform(m.tensor(-POS), m.tensor(POS2)),
    "bernoulli": lambda d, m: d.Bernoulli(m.tensor(UNIT)),
    "bernoulli2": lambda d, m: d.Bernoulli(logits=m.tensor(REAL)),
    "bernoulli_edge": lambda d, m: d.Bernoulli(m.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.3]])),
    "poisson": lambda d, m: d.Poisson(m.tensor(POS)),
    "poisson2": lambda d, m: d.Poisson(m.tensor(POS2)),
    "binomial": lambda d, m: d.Binomial(8, m.tensor(UNIT)),
    "binomial2": lambda d, m: d.Binomial(m.tensor([[8.0, 6.0, 8.0], [5.0, 8.0, 8.0]]), m.tensor(UNIT2)),
    "categorical": lambda d, m: d.Categorical(m.tensor(POS)),
    "categorical2": lambda d, m: d.Categorical(logits=m.tensor(REAL)),
    "categorical_zero": lambda d, m: d.Categorical(m.tensor([[0.0, 0.5, 0.5], [0.2, 0.0, 0.8]])),
    "one_hot": lambda d, m: d.OneHotCategorical(m.tensor(POS)),
    "one_hot2": lambda d, m: d.OneHotCategorical(logits=m.tensor(REAL)),
    "dirichlet": lambda d, m: d.Dirichlet(m.tensor(POS)),
    "dirichlet2": lambda d, m: d.Dirichlet(m.tensor(POS2)),
    "mvn": lambda d, m: _mvn(d, m, 1),
    "mvn2": lambda d, m: _mvn(d, m, 2),
    "independent": lambda d, m: d.Independent(d.Normal(m.tensor(REAL), m.tensor(POS)), 1),
    "independent2": lambda d, m: d.Independent(d.Normal(m.tensor(REAL2), m.tensor(POS2)), 1),
    "lognormal": lambda d, m: d.LogNormal(m.tensor(REAL), m.tensor(POS)),
    "lognormal2": lambda d, m: d.LogNormal(m.tensor(REAL2), m.tensor(POS2)),
    "gumbel": lambda d, m: d.Gumbel(m.tensor(REAL), m.tensor(POS)),
    "gumbel2": lambda d, m: d.Gumbel(m.tensor(REAL2), m.tensor(POS2)),
    "geometric": lambda d, m: d.Geometric(m.tensor(UNIT)),
    "geometric2": lambda d, m: d.Geometric(logits=m.tensor(REAL)),
    "half_normal": lambda d, m: d.HalfNormal(m.tensor(POS)),
    "half_normal2": lambda d, m: d.HalfNormal(m.tensor(POS2)),
    "pareto": lambda d, m: d.Pareto(m.tensor(UNIT), m.tensor(POS * 2)),
    "pareto2": lambda d, m: d.Pareto(m.tensor(UNIT2), m.tensor(POS2 * 2)),
    "cauchy": lambda d, m: d.Cauchy(m.tensor(REAL), m.tensor(POS)),
    "cauchy2": lambda d, m: d.Cauchy(m.tensor(REAL2), m.tensor(POS2)),
    "chi2": lambda d, m: d.Chi2(m.tensor(POS * 3)),
    "cb": lambda d, m: d.ContinuousBernoulli(m.tensor(UNIT)),
    "cb2": lambda d, m: d.ContinuousBernoulli(logits=m.tensor(REAL)),
    "lowrank": lambda d, m: d.LowRankMultivariateNormal(m.tensor(REAL), m.tensor(np.stack([POS, REAL], -1)[:1, :]
                                                                                  .repeat(2, 0)), m.tensor(POS2)),
    "lowrank2": lambda d, m: d.LowRankMultivariateNormal(m.tensor(REAL2), m.tensor(REAL[..., None] * 0.5),
                                                         m.tensor(POS)),
    "mvn3": lambda d, m: d.MultivariateNormal(m.tensor(REAL2), scale_tril=m.tensor(
        np.tril(np.random.default_rng(3).normal(size=(2, 3, 3)), -1) + np.eye(3) * 1.5)),
}

PAIRS = [
    ("normal", "normal2"), ("laplace", "laplace2"), ("exponential", "exponential2"), ("gamma", "gamma2"),
    ("beta", "beta2"), ("uniform", "uniform_wide"), ("uniform_wide", "uniform"), ("bernoulli", "bernoulli2"),
    ("bernoulli_edge", "bernoulli"), ("bernoulli", "bernoulli_edge"), ("poisson", "poisson2"),
    ("binomial", "binomial2"), ("categorical", "categorical2"), ("categorical_zero", "categorical"),
    ("categorical", "categorical_zero"), ("one_hot", "one_hot2"), ("dirichlet", "dirichlet2"), ("mvn", "mvn2"),
    ("independent", "independent2"), ("lognormal", "lognormal2"),
    ("bernoulli", "poisson"), ("beta", "exponential"), ("beta", "gamma"), ("beta", "normal"), ("beta", "uniform"),
    ("beta", "uniform_wide"), ("exponential", "beta"), ("exponential", "uniform"), ("exponential", "gamma"),
    ("exponential", "normal"), ("gamma", "beta"), ("gamma", "uniform"), ("gamma", "exponential"),
    ("gamma", "normal"), ("laplace", "beta"), ("laplace", "exponential"), ("laplace", "gamma"),
    ("laplace", "uniform"), ("laplace", "normal"), ("normal", "beta"), ("normal", "exponential"),
    ("normal", "gamma"), ("normal", "uniform"), ("normal", "laplace"), ("poisson", "bernoulli"),
    ("poisson", "binomial"), ("uniform", "beta"), ("uniform_wide", "beta"), ("uniform", "exponential"),
    ("uniform_wide", "exponential"), ("uniform", "gamma"), ("uniform", "normal"),
    ("gumbel", "gumbel2"), ("geometric", "geometric2"), ("half_normal", "half_normal2"), ("pareto", "pareto2"),
    ("cauchy", "cauchy2"), ("chi2", "gamma"), ("gamma", "chi2"), ("beta", "pareto"), ("exponential", "pareto"),
    ("exponential", "gumbel"), ("gamma", "pareto"), ("gamma", "gumbel"), ("gumbel", "beta"),
    ("gumbel", "exponential"), ("gumbel", "gamma"), ("gumbel", "pareto"), ("gumbel", "uniform"),
    ("gumbel", "normal"), ("laplace", "pareto"), ("normal", "pareto"), ("normal", "gumbel"), ("pareto", "beta"),
    ("pareto", "uniform"), ("pareto", "exponential"), ("pareto", "gamma"), ("pareto", "normal"),
    ("uniform", "gumbel"), ("uniform", "pareto"), ("lowrank", "lowrank2"), ("cb", "cb2"), ("beta", "cb"),
    ("cb", "pareto"),
    ("cb", "exponential"), ("cb", "normal"), ("cb", "uniform"), ("cb", "uniform_wide"), ("exponential", "cb"),
    ("gamma", "cb"), ("gumbel", "cb"), ("laplace", "cb"), ("normal", "cb"), ("pareto", "cb"), ("uniform", "cb"),
    ("uniform_wide", "cb"), ("lowrank", "mvn3"), ("mvn3", "lowrank"), ("uniform_wide", "pareto"),
    ("chi2", "exponential"),
]


@pytest.mark.parametrize("p,q", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(p, q):
    e = ember.distributions.kl_divergence(DIST[p](ember.distributions, ember),
                                          DIST[q](ember.distributions, ember))
    t = torch.distributions.kl_divergence(DIST[p](torch.distributions, torch), DIST[q](torch.distributions, torch))
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_kl_gradients_match_torch():
    grads = []
    for lib in (ember, torch):
        loc = lib.tensor(REAL, requires_grad=True)
        scale = lib.tensor(POS, requires_grad=True)
        probs = lib.tensor(UNIT, requires_grad=True)
        d = lib.distributions
        kl = (d.kl_divergence(d.Normal(loc, scale), d.Laplace(lib.tensor(REAL2), lib.tensor(POS2))).sum()
              + d.kl_divergence(d.Categorical(probs), d.Categorical(logits=lib.tensor(REAL))).sum()
              + d.kl_divergence(d.Bernoulli(probs), d.Bernoulli(lib.tensor(UNIT2))).sum())
        kl.backward()
        grads.append([g.grad.detach().numpy() for g in (loc, scale, probs)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)


def test_unregistered_pair_raises_torchs_error():
    d = ember.distributions
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Categorical and q "
                                                  "type Normal"):
        d.kl_divergence(d.Categorical(ember.tensor([1.0, 2.0])), d.Normal(0.0, 1.0))


def test_register_kl_most_specific_wins():
    d = ember.distributions

    class MyNormal(d.Normal):
        pass

    assert float(d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0))) == pytest.approx(0.5)

    @d.register_kl(MyNormal, d.Normal)
    def _kl_mine(p, q):
        return ember.tensor(42.0)

    try:
        assert float(d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0))) == 42.0
        assert float(d.kl_divergence(d.Normal(0.0, 1.0), d.Normal(1.0, 1.0))) == pytest.approx(0.5)
    finally:
        del d.kl._KL_REGISTRY[MyNormal, d.Normal]
        d.kl._KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="Distribution subclass"):
        d.register_kl(int, d.Normal)


def test_exponential_family_bregman_kl_and_entropy_match_torch():
    # the generic ExponentialFamily pair (used for a subclass without its own pair) and entropy
    class MyPoisson(ember.distributions.Poisson):
        pass

    class TMyPoisson(torch.distributions.Poisson):
        pass

    d = ember.distributions
    e = d.kl.kl_divergence(MyPoisson(ember.tensor(POS[0])), MyPoisson(ember.tensor(POS2[0])))
    assert not math.isnan(float(e.sum()))
    t = torch.distributions.kl_divergence(TMyPoisson(torch.tensor(POS[0])), TMyPoisson(torch.tensor(POS2[0])))
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    ee = d.ExponentialFamily.entropy(d.Gamma(ember.tensor(POS), ember.tensor(POS2)))
    np.testing.assert_allclose(ee.detach().numpy(), torch.distributions.Gamma(torch.tensor(POS),
                                                                             torch.tensor(POS2)).entropy().numpy(),
                               rtol=1e-6)
