"""``ember.distributions``: PyTorch's ``torch.distributions`` on ember tensors.

Parameterisable probability distributions with PyTorch's API and numbers: ``sample``/``rsample`` (drawn from
ember's generator, so ``ember.manual_seed`` fixes them), ``log_prob``, ``cdf``/``icdf`` where PyTorch has them,
``entropy``, moments, ``expand``, ``batch_shape``/``event_shape``, argument validation
(``Distribution.set_default_validate_args``), and ``kl_divergence`` with ``register_kl``.  Everything is built
from ember ops, so ``log_prob`` and ``rsample`` are differentiable through autograd.

Typical use (a policy gradient)::

    from ember.distributions import Categorical
    m = Categorical(logits=policy(state))
    action = m.sample()
    loss = -m.log_prob(action) * reward
"""
from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403 - torch.distributions re-exports every transform
from .uniform import Uniform
from .cauchy import Cauchy
from .chi2 import Chi2
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .multinomial import Multinomial
from .pareto import Pareto
from .studentT import StudentT
from .weibull import Weibull
from .inverse_gamma import InverseGamma
from .mixture_same_family import MixtureSameFamily
from .negative_binomial import NegativeBinomial
from .relaxed_categorical import RelaxedOneHotCategorical
from .continuous_bernoulli import ContinuousBernoulli
from .fishersnedecor import FisherSnedecor
from .generalized_pareto import GeneralizedPareto
from .von_mises import VonMises
from .lkj_cholesky import LKJCholesky
from .wishart import Wishart
from .kumaraswamy import Kumaraswamy
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from . import _kl_families  # noqa: F401,E402 - registers the KL pairs of the families above

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Geometric", "Gumbel", "HalfCauchy",
           "HalfNormal", "Multinomial", "Pareto", "StudentT", "Weibull", "InverseGamma", "MixtureSameFamily",
           "NegativeBinomial", "RelaxedOneHotCategorical", "FisherSnedecor", "Kumaraswamy", "ContinuousBernoulli",
           "GeneralizedPareto", "VonMises", "LKJCholesky", "Wishart",
           "LogisticNormal", "LowRankMultivariateNormal", "Dirichlet", "Distribution", "Exponential",
           "ExponentialFamily", "Gamma", "Independent", "Laplace", "LogNormal", "MultivariateNormal", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
           "RelaxedBernoulli", "TransformedDistribution", "Uniform",
           "constraints", "kl_divergence", "register_kl", "transforms", "biject_to", "transform_to"] + transforms.__all__
