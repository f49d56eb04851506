"""ember.nn.utils against torch.nn.utils: clip_grad_norm_ (2, 1, inf, fractional norms, no clipping, nonfinite),
clip_grad_value_, parameters_to_vector / vector_to_parameters, and the L1/L2 penalty helpers."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import utils as eutils


def _pair(scale=1.0, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    vals = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in shapes]
    ep = [ember.tensor(v, requires_grad=True) for v in vals]
    tp = [torch.tensor(v, requires_grad=True) for v in vals]
    for p, g in zip(ep, grads):
        p.grad = ember.tensor(g)
    for p, g in zip(tp, grads):
        p.grad = torch.tensor(g)
    return ep, tp


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    nt = float(norm_type)
    ep, tp = _pair(scale=3.0)
    e_total = eutils.clip_grad_norm_(ep, max_norm, norm_type=nt)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=nt)
    assert isinstance(e_total, ember.Tensor) and e_total.shape == ()
    assert e_total.dtype == np.float32
    np.testing.assert_allclose(e_total.numpy(), t_total.numpy(), rtol=1e-5)
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-7)
    if max_norm == 1e6:   # never scaled up
        ep2, _ = _pair(scale=3.0)
        for a, b in zip(ep, ep2):
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_clip_grad_norm_single_tensor_skips_none_and_empty():
    w = ember.tensor([3.0, 4.0], requires_grad=True)
    w.grad = ember.tensor([3.0, 4.0])
    n = eutils.clip_grad_norm_(w, 1.0)
    assert float(n) == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    v = ember.zeros(2, requires_grad=True)   # grad None: skipped
    assert float(eutils.clip_grad_norm_([w, v], 10.0)) == pytest.approx(1.0, rel=1e-5)
    assert v.grad is None
    assert float(eutils.clip_grad_norm_([v], 1.0)) == 0.0


def test_clip_grad_norm_nonfinite():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    w.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        eutils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    t.grad = torch.tensor([float("inf"), 1.0])
    tn = torch.nn.utils.clip_grad_norm_([t], 1.0)
    en = eutils.clip_grad_norm_([w], 1.0)
    assert math.isinf(float(en)) and math.isinf(float(tn))
    np.testing.assert_array_equal(np.isnan(w.grad.numpy()), np.isnan(t.grad.numpy()))


def test_clip_grad_value_matches_torch():
    ep, tp = _pair(scale=2.0, seed=1)
    eutils.clip_grad_value_(ep, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for a, b in zip(ep, tp):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    assert max(np.abs(a.grad.numpy()).max() for a in ep) <= 0.7


def test_parameters_to_vector_and_back():
    ep, tp = _pair(seed=2)
    for p in ep:
        p.grad = None
    ev = eutils.parameters_to_vector(ep)
    tv = torch.nn.utils.parameters_to_vector(tp)
    np.testing.assert_array_equal(ev.detach().numpy(), tv.detach().numpy())
    ev.sum().backward()   # differentiable: each parameter gets ones
    for p in ep:
        np.testing.assert_array_equal(p.grad.numpy(), np.ones(p.shape, np.float32))
    new = np.arange(ev.numel(), dtype=np.float32)
    eutils.vector_to_parameters(ember.tensor(new), ep)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tp)
    for a, b in zip(ep, tp):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(TypeError, match="Tensor"):
        eutils.vector_to_parameters(new, ep)
    with pytest.raises(ValueError, match="elements"):
        eutils.vector_to_parameters(ember.zeros(3), ep)


def test_penalties_match_the_one_liner():
    ep, tp = _pair(seed=3)
    for p in ep + tp:
        p.grad = None
    lam = 0.01
    e_l1 = eutils.l1_penalty(ep)
    t_l1 = sum(p.abs().sum() for p in tp)
    np.testing.assert_allclose(float(e_l1.detach()), float(t_l1.detach()), rtol=1e-6)
    (lam * e_l1).backward()
    (lam * t_l1).backward()
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)
    for p in ep:
        p.grad = None
    e_l2 = eutils.l2_penalty(ep)
    np.testing.assert_allclose(float(e_l2.detach()), sum(float((p.detach() ** 2).sum()) for p in tp), rtol=1e-6)
    (0.5 * lam * e_l2).backward()   # the gradient SGD's weight_decay=lam adds
    for p in ep:
        np.testing.assert_allclose(p.grad.numpy(), lam * p.detach().numpy(), rtol=1e-6)
    assert float(eutils.l1_penalty([])) == 0.0
    with pytest.raises(TypeError, match="l1_penalty"):
        eutils.l1_penalty([np.zeros(2)])
