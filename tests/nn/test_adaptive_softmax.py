"""nn.AdaptiveLogSoftmaxWithLoss against torch (float64): parameters and state_dict keys, output, loss,
log_prob, predict, all gradients, and the errors."""
import numpy as np
import pytest
import torch

import ember
from ember import nn


def _pair(head_bias=False, cutoffs=(3, 7), n_classes=12, in_features=8):
    torch.manual_seed(0)
    mt = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=2.0,
                                             head_bias=head_bias).double()
    me = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value=2.0,
                                       head_bias=head_bias).double()
    assert list(me.state_dict()) == list(mt.state_dict())
    assert [tuple(p.shape) for p in me.parameters()] == [tuple(p.shape) for p in mt.parameters()]
    me.load_state_dict({k: ember.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    return me, mt


@pytest.mark.parametrize("head_bias", [False, True])
def test_forward_log_prob_predict_and_grads_as_torch(head_bias):
    me, mt = _pair(head_bias)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 8))
    y = np.array([0, 5, 11, 2, 7, 3, 9, 1, 6])
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = me(xe, ember.tensor(y)), mt(xt, torch.tensor(y))
    assert type(oe).__name__ == "_ASMoutput" and oe._fields == ("output", "loss")
    np.testing.assert_allclose(oe.output.detach().numpy(), ot.output.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(oe.loss.item(), ot.loss.item(), rtol=1e-12)
    oe.loss.backward()
    ot.loss.backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-13)
    te = dict(me.named_parameters())
    for name, p in mt.named_parameters():
        np.testing.assert_allclose(te[name].grad.numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(me.log_prob(ember.tensor(x)).detach().numpy(),
                               mt.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    for rows in (x, x * 5, x[:1]):
        np.testing.assert_array_equal(me.predict(ember.tensor(rows)).numpy(), mt.predict(torch.tensor(rows)).numpy())


def test_predict_mixed_and_all_tail_rows():
    me, mt = _pair(cutoffs=(2,), n_classes=6, in_features=4)
    with torch.no_grad():
        mt.head.weight[2] += 3.0      # the cluster's head logit large along some directions
    me.load_state_dict({k: ember.tensor(v.numpy()) for k, v in mt.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((20, 4))
    pt = mt.predict(torch.tensor(x))
    assert 0 < int((pt >= 2).sum()) < 20
    np.testing.assert_array_equal(me.predict(ember.tensor(x)).numpy(), pt.numpy())
    allt = x[(pt >= 2).numpy()]
    np.testing.assert_array_equal(me.predict(ember.tensor(allt)).numpy(), mt.predict(torch.tensor(allt)).numpy())


def test_unbatched_as_torch():
    me, mt = _pair()
    x = np.random.default_rng(2).standard_normal(8)
    oe, ot = me(ember.tensor(x), ember.tensor(9)), mt(torch.tensor(x), torch.tensor(9))
    assert tuple(oe.output.shape) == tuple(ot.output.shape) == ()
    np.testing.assert_allclose(oe.loss.item(), ot.loss.item(), rtol=1e-12)


def test_errors_as_torch():
    for cutoffs in ([], [5, 3], [0, 3], [3, 12], [3, 3], [2.5]):
        with pytest.raises(ValueError):
            torch.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)
        with pytest.raises(ValueError, match="cutoffs"):
            nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)
    me, _ = _pair()
    x = ember.randn(3, 8, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        me(x, ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input"):
        me(ember.randn(3, 2, 8, dtype=ember.float64), ember.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input"):
        me(x, ember.tensor(1))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        me(x, ember.tensor([[1, 2, 3]]))
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 11\]"):
        me(x, ember.tensor([1, 12, 3]))
