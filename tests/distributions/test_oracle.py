"""Every distribution against PyTorch: log_prob, entropy, moments, cdf/icdf, shapes, and the gradients of
log_prob (and entropy) with respect to the parameters."""
import numpy as np
import pytest
import torch

import ember

from ._cases import CASES, NO_ENTROPY, build

TOL = dict(rtol=1e-6, atol=1e-8)


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _close(a, b, what):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert str(a.dtype) == str(b.dtype), f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name):
    e, _, ev = build(name, "ember")
    t, _, tv = build(name, "torch")
    assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
    assert e.has_rsample == t.has_rsample and e.has_enumerate_support == t.has_enumerate_support
    _close(e.log_prob(ev), t.log_prob(tv), "log_prob")
    if name not in NO_ENTROPY:
        _close(e.entropy(), t.entropy(), "entropy")
    for prop in ("mean", "variance", "stddev", "mode"):
        try:
            expected = getattr(t, prop)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(e, prop)
            continue
        _close(getattr(e, prop), expected, prop)
    methods = CASES[name][3]
    if "cdf" in methods:
        _close(e.cdf(ev), t.cdf(tv), "cdf")
    if "icdf" in methods:
        q = np.linspace(0.05, 0.95, int(np.prod(e.batch_shape)) or 1).reshape(tuple(e.batch_shape))
        _close(e.icdf(ember.tensor(q)), t.icdf(torch.tensor(q)), "icdf")


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_gradients_match_torch(name):
    e, ep, ev = build(name, "ember")
    t, tp, tv = build(name, "torch")
    w = np.random.default_rng(0).uniform(0.5, 1.5, tuple(t.log_prob(tv).shape))
    (e.log_prob(ev) * ember.tensor(w)).sum().backward()
    (t.log_prob(tv) * torch.tensor(w)).sum().backward()
    for k in tp:
        if tp[k].requires_grad:
            eg, tg = ep[k].grad, tp[k].grad
            if name == "wishart_tril" and k == "scale_tril":
                # torch's cholesky_solve also gives gradients to the upper triangle of the factor, which its value
                # never reads; ember's gives zeros there
                eg, tg = eg.tril(), tg.tril()
            _close(eg, tg, f"d log_prob / d {k}")


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_ENTROPY))
def test_entropy_gradients_match_torch(name):
    e, ep, _ = build(name, "ember")
    t, tp, _ = build(name, "torch")
    he, ht = e.entropy(), t.entropy()
    assert he.requires_grad == ht.requires_grad
    if not ht.requires_grad:
        return
    he.sum().backward()
    ht.sum().backward()
    for k in tp:
        if tp[k].requires_grad and tp[k].grad is not None:
            _close(ep[k].grad, tp[k].grad, f"d entropy / d {k}")


def test_float32_parameters_give_float32_results():
    e = ember.distributions.Normal(ember.zeros(3), 1.0)
    t = torch.distributions.Normal(torch.zeros(3), 1.0)
    v = np.array([0.1, -2.0, 3.0], np.float32)
    a, b = e.log_prob(ember.tensor(v)), t.log_prob(torch.tensor(v))
    assert a.dtype == ember.float32
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    s = ember.distributions.Normal(0.0, 1.0)
    assert tuple(s.batch_shape) == () and s.sample().dtype == ember.float32 and tuple(s.sample().shape) == ()


@pytest.mark.parametrize("name", ["bernoulli_probs", "categorical_logits", "binomial_probs", "one_hot_categorical"])
def test_enumerate_support_matches_torch(name):
    e, _, _ = build(name, "ember", grad=False)
    t, _, _ = build(name, "torch", grad=False)
    for expand in (True, False):
        _close(e.enumerate_support(expand), t.enumerate_support(expand), f"enumerate_support({expand})")


def test_probs_logits_conversions_match_torch():
    p = np.array([[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]])
    e = ember.distributions.Categorical(probs=ember.tensor(p))
    t = torch.distributions.Categorical(probs=torch.tensor(p))
    _close(e.logits, t.logits, "logits from probs")
    _close(e.entropy(), t.entropy(), "entropy with a zero probability")
    lg = np.array([0.3, -1.0, 4.0])
    e = ember.distributions.Bernoulli(logits=ember.tensor(lg))
    t = torch.distributions.Bernoulli(logits=torch.tensor(lg))
    _close(e.probs, t.probs, "probs from logits")
    _close(e.entropy(), t.entropy(), "bernoulli entropy")
