"""The distributions the oracle tests build in both libraries: a constructor taking the library module and the
parameters (as that library's tensors), the parameters (NumPy arrays; floats become leaf tensors that require
grad), and valid values to score."""
from __future__ import annotations

import numpy as np
import torch

import ember

R = np.random.default_rng(1234)


def _pos(*shape):
    return R.uniform(0.5, 2.5, shape)


def _spd(n, batch=()):
    a = R.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _simplex(*shape):
    p = R.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _one_hot(idx, k):
    return np.eye(k)[idx]


_SPD = _spd(3, (2,))
_TRIL = np.linalg.cholesky(_SPD)

# name -> (constructor(lib, **params), params, value, methods with a cdf/icdf)
CASES = {
    "normal": (lambda d, loc, scale: d.Normal(loc, scale),
               dict(loc=R.normal(size=(2, 3)), scale=_pos(2, 3)), R.normal(size=(4, 2, 3)), ("cdf", "icdf")),
    "normal_number_scale": (lambda d, loc: d.Normal(loc, 1.5), dict(loc=R.normal(size=(3,))),
                            R.normal(size=(3,)), ("cdf",)),
    "uniform": (lambda d, low, high: d.Uniform(low, high), dict(low=-_pos(3), high=_pos(3)),
                R.uniform(-0.4, 0.4, (5, 3)), ("cdf", "icdf")),
    "exponential": (lambda d, rate: d.Exponential(rate), dict(rate=_pos(2, 3)), _pos(2, 3), ("cdf", "icdf")),
    "laplace": (lambda d, loc, scale: d.Laplace(loc, scale), dict(loc=R.normal(size=(4,)), scale=_pos(4)),
                R.normal(size=(2, 4)), ("cdf", "icdf")),
    "gamma": (lambda d, concentration, rate: d.Gamma(concentration, rate),
              dict(concentration=_pos(2, 3), rate=_pos(2, 3)), _pos(2, 3), ("cdf",)),
    "beta": (lambda d, c1, c0: d.Beta(c1, c0), dict(c1=_pos(3), c0=_pos(3)), R.uniform(0.05, 0.95, (2, 3)), ()),
    "dirichlet": (lambda d, concentration: d.Dirichlet(concentration), dict(concentration=_pos(2, 4)),
                  _simplex(5, 2, 4), ()),
    "poisson": (lambda d, rate: d.Poisson(rate), dict(rate=_pos(2, 3) * 3), R.integers(0, 8, (2, 3)) * 1.0, ()),
    "binomial_probs": (lambda d, probs: d.Binomial(10, probs=probs), dict(probs=R.uniform(0.1, 0.9, (3,))),
                       R.integers(0, 11, (2, 3)) * 1.0, ()),
    "binomial_logits": (lambda d, total_count, logits: d.Binomial(total_count, logits=logits),
                        dict(total_count=np.array([5.0, 5.0]), logits=R.normal(size=(2,))),
                        np.array([0.0, 5.0]), ()),
    "bernoulli_probs": (lambda d, probs: d.Bernoulli(probs=probs), dict(probs=R.uniform(0.1, 0.9, (2, 3))),
                        R.integers(0, 2, (2, 3)) * 1.0, ()),
    "bernoulli_logits": (lambda d, logits: d.Bernoulli(logits=logits), dict(logits=R.normal(size=(3,))),
                         R.integers(0, 2, (4, 3)) * 1.0, ()),
    "categorical_probs": (lambda d, probs: d.Categorical(probs=probs), dict(probs=R.uniform(0.1, 1.0, (2, 5))),
                          R.integers(0, 5, (3, 2)), ()),
    "categorical_logits": (lambda d, logits: d.Categorical(logits=logits), dict(logits=R.normal(size=(4,))),
                           R.integers(0, 4, (6,)), ()),
    "one_hot_categorical": (lambda d, logits: d.OneHotCategorical(logits=logits), dict(logits=R.normal(size=(2, 4))),
                            _one_hot(R.integers(0, 4, (3, 2)), 4), ()),
    "mvn_scale_tril": (lambda d, loc, scale_tril: d.MultivariateNormal(loc, scale_tril=scale_tril),
                       dict(loc=R.normal(size=(2, 3)), scale_tril=_TRIL), R.normal(size=(4, 2, 3)), ()),
    "mvn_covariance": (lambda d, loc, cov: d.MultivariateNormal(loc, covariance_matrix=cov),
                       dict(loc=R.normal(size=(3,)), cov=_SPD), R.normal(size=(5, 1, 3)), ()),
    "mvn_precision": (lambda d, loc, prec: d.MultivariateNormal(loc, precision_matrix=prec),
                      dict(loc=R.normal(size=(3,)), prec=_SPD[0]), R.normal(size=(2, 3)), ()),
    "independent_normal": (lambda d, loc, scale: d.Independent(d.Normal(loc, scale), 1),
                           dict(loc=R.normal(size=(2, 3)), scale=_pos(2, 3)), R.normal(size=(4, 2, 3)), ()),
    "lognormal": (lambda d, loc, scale: d.LogNormal(loc, scale), dict(loc=R.normal(size=(3,)) * 0.3, scale=_pos(3)),
                  _pos(2, 3), ("cdf", "icdf")),
    "cauchy": (lambda d, loc, scale: d.Cauchy(loc, scale), dict(loc=R.normal(size=(3,)), scale=_pos(3)),
               R.normal(size=(2, 3)) * 3, ("cdf", "icdf")),
    "half_cauchy": (lambda d, scale: d.HalfCauchy(scale), dict(scale=_pos(3)), _pos(2, 3), ("cdf", "icdf")),
    "half_normal": (lambda d, scale: d.HalfNormal(scale), dict(scale=_pos(3)), _pos(2, 3), ("cdf", "icdf")),
    "gumbel": (lambda d, loc, scale: d.Gumbel(loc, scale), dict(loc=R.normal(size=(3,)), scale=_pos(3)),
               R.normal(size=(2, 3)), ("cdf", "icdf")),
    "chi2": (lambda d, df: d.Chi2(df), dict(df=_pos(3) * 2), _pos(2, 3), ("cdf",)),
    "geometric": (lambda d, probs: d.Geometric(probs), dict(probs=R.uniform(0.1, 0.9, (3,))),
                  R.integers(0, 6, (2, 3)) * 1.0, ()),
    "geometric_logits": (lambda d, logits: d.Geometric(logits=logits), dict(logits=R.normal(size=(3,))),
                         R.integers(0, 6, (3,)) * 1.0, ()),
    "student_t": (lambda d, df, loc, scale: d.StudentT(df, loc, scale),
                  dict(df=np.array([0.8, 1.5, 3.0]), loc=R.normal(size=(3,)), scale=_pos(3)),
                  R.normal(size=(2, 3)) * 2, ()),
    "multinomial": (lambda d, probs: d.Multinomial(5, probs=probs), dict(probs=R.uniform(0.1, 1.0, (2, 3))),
                    np.array([[[5.0, 0.0, 0.0], [1.0, 2.0, 2.0]], [[0.0, 3.0, 2.0], [2.0, 2.0, 1.0]]]), ()),
    "multinomial_logits": (lambda d, logits: d.Multinomial(4, logits=logits), dict(logits=R.normal(size=(4,))),
                           np.array([1.0, 0.0, 3.0, 0.0]), ()),
    "pareto": (lambda d, scale, alpha: d.Pareto(scale, alpha), dict(scale=R.uniform(0.1, 0.5, (3,)),
                                                                   alpha=np.array([0.7, 1.5, 3.0])),
               R.uniform(0.6, 3.0, (2, 3)), ("cdf", "icdf")),
    "weibull": (lambda d, scale, concentration: d.Weibull(scale, concentration),
                dict(scale=_pos(3), concentration=_pos(3)), _pos(2, 3), ()),
    "inverse_gamma": (lambda d, concentration, rate: d.InverseGamma(concentration, rate),
                      dict(concentration=np.array([0.8, 1.5, 3.0]), rate=_pos(3)), _pos(2, 3), ()),
    "negative_binomial": (lambda d, total_count, probs: d.NegativeBinomial(total_count, probs=probs),
                          dict(total_count=np.array([0.0, 2.5, 4.0]), probs=R.uniform(0.1, 0.9, (3,))),
                          np.array([[0.0, 3.0, 1.0], [2.0, 0.0, 7.0]]), ()),
    "negative_binomial_logits": (lambda d, logits: d.NegativeBinomial(3.0, logits=logits),
                                 dict(logits=R.normal(size=(3,))), R.integers(0, 6, (2, 3)) * 1.0, ()),
    "mixture_normal": (lambda d, logits, loc, scale: d.MixtureSameFamily(d.Categorical(logits=logits),
                                                                          d.Normal(loc, scale)),
                       dict(logits=R.normal(size=(2, 3)), loc=R.normal(size=(2, 3)), scale=_pos(2, 3)),
                       R.normal(size=(4, 2)), ("cdf",)),
    "mixture_mvn": (lambda d, logits, loc: d.MixtureSameFamily(
        d.Categorical(logits=logits), d.Independent(d.Normal(loc, 0.7), 1)),
        dict(logits=R.normal(size=(3,)), loc=R.normal(size=(3, 2))), R.normal(size=(5, 2)), ()),
    "relaxed_one_hot": (lambda d, temperature, logits: d.RelaxedOneHotCategorical(temperature, logits=logits),
                        dict(temperature=np.array(0.7), logits=R.normal(size=(2, 3))), _simplex(4, 2, 3), ()),
    "lowrank_mvn": (lambda d, loc, cov_factor, cov_diag: d.LowRankMultivariateNormal(loc, cov_factor, cov_diag),
                    dict(loc=R.normal(size=(2, 3)), cov_factor=R.normal(size=(3, 2)), cov_diag=_pos(3)),
                    R.normal(size=(4, 2, 3)), ()),
    "logistic_normal": (lambda d, loc, scale: d.LogisticNormal(loc, scale),
                        dict(loc=R.normal(size=(2, 3)), scale=_pos(2, 3)), _simplex(5, 2, 4), ()),
    "kumaraswamy": (lambda d, c1, c0: d.Kumaraswamy(c1, c0), dict(c1=np.array([0.7, 2.0, 3.5]),
                                                                 c0=np.array([1.5, 0.8, 2.5])),
                    R.uniform(0.05, 0.95, (2, 3)), ("cdf", "icdf")),
    "fisher_snedecor": (lambda d, df1, df2: d.FisherSnedecor(df1, df2),
                        dict(df1=np.array([1.5, 3.0, 6.0]), df2=np.array([1.5, 3.0, 8.0])), _pos(2, 3), ()),
    "continuous_bernoulli": (lambda d, probs: d.ContinuousBernoulli(probs), dict(probs=np.array([0.2, 0.4995, 0.9])),
                             R.uniform(0.01, 0.99, (2, 3)), ("cdf", "icdf")),
    "continuous_bernoulli_logits": (lambda d, logits: d.ContinuousBernoulli(logits=logits),
                                    dict(logits=R.normal(size=(3,))), R.uniform(0.01, 0.99, (3,)), ("cdf",)),
    "generalized_pareto": (lambda d, loc, scale, concentration: d.GeneralizedPareto(loc, scale, concentration),
                           # float32: torch's log_prob compares with a float32 zero and refuses float64
                           dict(loc=np.array([0.0, 0.5, -1.0], np.float32), scale=_pos(3).astype(np.float32),
                                concentration=np.array([0.0, 0.3, -0.2], np.float32)),
                           np.array([[0.1, 0.9, -0.5], [2.0, 3.0, 0.0]], np.float32), ("cdf", "icdf")),
    "von_mises": (lambda d, loc, concentration: d.VonMises(loc, concentration),
                  dict(loc=np.array([0.0, 1.0, -2.5]), concentration=np.array([0.5, 2.0, 8.0])),
                  R.uniform(-3.0, 3.0, (2, 3)), ()),
    "lkj_cholesky": (lambda d, concentration: d.LKJCholesky(3, concentration),
                     dict(concentration=np.array([0.5, 1.0, 3.0])), np.linalg.cholesky(
                         np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.4], [-0.2, 0.4, 1.0]])), ()),
    "wishart": (lambda d, df, cov: d.Wishart(df, covariance_matrix=cov), dict(df=np.array([4.0, 6.5]), cov=_SPD),
                _spd(3, (5, 2)) / 3, ()),
    "wishart_tril": (lambda d, df, scale_tril: d.Wishart(df, scale_tril=scale_tril),
                     dict(df=np.array(3.5), scale_tril=_TRIL[0]), _spd(3, (2,)), ()),
}

NO_ENTROPY = {"poisson", "negative_binomial", "negative_binomial_logits", "mixture_normal", "mixture_mvn",
              "relaxed_one_hot", "logistic_normal", "fisher_snedecor", "von_mises", "lkj_cholesky"}


def build(name, lib, grad=True):
    """(distribution, {param: leaf tensor}, value) in ``lib`` ('ember' or 'torch')."""
    ctor, params, value, _ = CASES[name]
    mod = ember if lib == "ember" else torch
    tensors = {}
    for k, v in params.items():
        t = mod.tensor(np.array(v))
        if grad and t.dtype in (mod.float32, mod.float64) and k != "total_count":
            t.requires_grad_(True)
        tensors[k] = t
    dist = ctor(mod.distributions, **tensors)
    return dist, tensors, mod.tensor(np.array(value))
