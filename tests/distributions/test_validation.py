"""Argument and value validation: the same exception types and messages as PyTorch (``torch.`` reads
``ember.`` in ember's), ``validate_args=False`` and ``Distribution.set_default_validate_args``."""
import pytest
import torch

import ember


def _message(lib, build):
    try:
        build(lib)
    except Exception as ex:     # noqa: BLE001 - the test compares whatever both libraries raise
        return type(ex).__name__, str(ex).replace("torch.", "ember.")
    return None, None


CASES = {
    "negative_scale": lambda m: m.distributions.Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, -1.0])),
    "nan_loc": lambda m: m.distributions.Normal(m.tensor(float("nan")), 1.0),
    "probs_above_one": lambda m: m.distributions.Bernoulli(m.tensor([0.5, 1.5])),
    "probs_and_logits": lambda m: m.distributions.Bernoulli(m.tensor([0.5]), m.tensor([0.5])),
    "neither_probs_nor_logits": lambda m: m.distributions.Categorical(),
    "categorical_0d": lambda m: m.distributions.Categorical(m.tensor(0.5)),
    "categorical_negative": lambda m: m.distributions.Categorical(m.tensor([0.5, -0.1])),
    "uniform_low_above_high": lambda m: m.distributions.Uniform(m.tensor([0.0, 2.0]), m.tensor([1.0, 1.0])),
    "value_outside_support": lambda m: m.distributions.Exponential(m.tensor([1.0, 2.0])).log_prob(
        m.tensor([-1.0, 2.0])),
    "value_not_broadcastable": lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
    "value_event_shape": lambda m: m.distributions.Dirichlet(m.ones(3)).log_prob(m.ones(2) / 2),
    "value_not_tensor": lambda m: m.distributions.Normal(0.0, 1.0).log_prob(0.5),
    "category_out_of_range": lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor([3])),
    "mvn_no_matrix": lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    "mvn_scalar_loc": lambda m: m.distributions.MultivariateNormal(m.tensor(0.0), m.eye(2)),
    "mvn_not_positive_definite": lambda m: m.distributions.MultivariateNormal(
        m.zeros(2), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "mvn_upper_scale_tril": lambda m: m.distributions.MultivariateNormal(
        m.zeros(2), scale_tril=m.tensor([[1.0, 1.0], [0.0, 1.0]])),
    "independent_too_many_dims": lambda m: m.distributions.Independent(m.distributions.Normal(m.zeros(2), 1.0), 2),
    "binomial_fractional_count": lambda m: m.distributions.Binomial(m.tensor([2.5]), m.tensor([0.5])),
    "binomial_value_above_count": lambda m: m.distributions.Binomial(3, m.tensor([0.5])).log_prob(m.tensor([4.0])),
    "dirichlet_0d": lambda m: m.distributions.Dirichlet(m.tensor(1.0)),
    "gamma_zero_rate": lambda m: m.distributions.Gamma(m.tensor([1.0]), m.tensor([0.0])),
    "bernoulli_fractional_value": lambda m: m.distributions.Bernoulli(m.tensor([0.3])).log_prob(m.tensor([0.5])),
    "one_hot_value_not_one_hot": lambda m: m.distributions.OneHotCategorical(m.ones(3)).log_prob(
        m.tensor([1.0, 1.0, 0.0])),
    "unregistered_kl": lambda m: m.distributions.kl_divergence(m.distributions.Categorical(m.ones(2)),
                                                               m.distributions.Normal(0.0, 1.0)),
    "binomial_inhomogeneous_entropy": lambda m: m.distributions.Binomial(m.tensor([2.0, 3.0]),
                                                                         m.tensor([0.5, 0.5])).entropy(),
    "geometric_zero_probs": lambda m: m.distributions.Geometric(m.tensor([0.5, 0.0])),
    "multinomial_tensor_count": lambda m: m.distributions.Multinomial(m.tensor(3), m.ones(2)),
    "multinomial_value_above_count": lambda m: m.distributions.Multinomial(2, m.ones(2)).log_prob(
        m.tensor([2.0, 1.0])),
    "pareto_value_below_scale": lambda m: m.distributions.Pareto(m.tensor([1.0]), m.tensor([2.0])).log_prob(
        m.tensor([0.5])),
    "student_t_negative_df": lambda m: m.distributions.StudentT(m.tensor([-1.0])),
    "mixture_not_categorical": lambda m: m.distributions.MixtureSameFamily(m.distributions.Normal(0.0, 1.0),
                                                                         m.distributions.Normal(m.zeros(2), 1.0)),
    "mixture_component_count": lambda m: m.distributions.MixtureSameFamily(m.distributions.Categorical(m.ones(3)),
                                                                         m.distributions.Normal(m.zeros(2), 1.0)),
    "negative_binomial_probs_one": lambda m: m.distributions.NegativeBinomial(2.0, m.tensor([1.0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_errors_match_torch(name):
    kind, text = _message(ember, CASES[name])
    assert kind is not None, "ember raised nothing"
    assert (kind, text) == _message(torch, CASES[name])


def test_invalid_parameter_message_names_parameter_and_constraint():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                                         r"Normal\(loc: ember.Size\(\[2\]\), scale: ember.Size\(\[2\]\)\) to satisfy "
                                         r"the constraint GreaterThan\(lower_bound=0.0\)"):
        ember.distributions.Normal(ember.zeros(2), ember.tensor([1.0, -1.0]))


def test_validate_args_false_and_default_switch():
    d = ember.distributions
    n = d.Normal(0.0, -1.0, validate_args=False)            # no error
    assert float(n.mean) == 0.0 and float(n.stddev) == -1.0
    d.Exponential(ember.tensor([1.0]), validate_args=False).log_prob(ember.tensor([-1.0]))
    d.Distribution.set_default_validate_args(False)
    try:
        d.Normal(0.0, -1.0)
        d.Categorical(ember.tensor([0.5, -0.1]))
    finally:
        d.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        d.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="True or False"):
        d.Distribution.set_default_validate_args("yes")


def test_constraints_repr_and_check_match_torch():
    c, tc = ember.distributions.constraints, torch.distributions.constraints
    values = [-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")]
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
                 "positive_integer"):
        assert repr(getattr(c, name)) == repr(getattr(tc, name))
        got = getattr(c, name).check(ember.tensor(values)).numpy().tolist()
        assert got == getattr(tc, name).check(torch.tensor(values)).numpy().tolist(), name
    for e, t in ((c.interval(0.0, 1.0), tc.interval(0.0, 1.0)), (c.greater_than(1.0), tc.greater_than(1.0)),
                 (c.half_open_interval(0, 2), tc.half_open_interval(0, 2)), (c.integer_interval(0, 3),
                                                                             tc.integer_interval(0, 3)),
                 (c.independent(c.real, 1), tc.independent(tc.real, 1)), (c.simplex, tc.simplex)):
        assert repr(e) == repr(t)
        assert e.event_dim == t.event_dim and e.is_discrete == t.is_discrete
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)
    assert c.is_dependent(ember.distributions.Uniform.support)
    assert repr(ember.distributions.Uniform(0.0, 2.0).support) == repr(torch.distributions.Uniform(0.0, 2.0).support)
    m = [[1.0, 0.0], [0.5, 2.0]]
    for name in ("lower_cholesky", "lower_triangular", "positive_definite", "symmetric", "square"):
        a = getattr(c, name).check(ember.tensor(m)).numpy().tolist()
        assert a == getattr(tc, name).check(torch.tensor(m)).numpy().tolist(), name


def test_repr_matches_torch():
    for build in (lambda m: m.distributions.Normal(m.zeros(2), m.ones(2)),
                  lambda m: m.distributions.Normal(0.0, 1.0),
                  lambda m: m.distributions.Categorical(logits=m.zeros(3)),
                  lambda m: m.distributions.Independent(m.distributions.Normal(m.zeros(2), 1.0), 1)):
        assert repr(build(ember)).replace("ember.", "") == repr(build(torch)).replace("torch.", "")
