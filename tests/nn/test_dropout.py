"""Dropout family: statistics, scaling, eval identity, gradient = mask * scale, reproducibility."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_grad(p):
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = nn.Dropout(p)(x)
    a = y.detach().numpy()
    kept = a != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(a[kept], 1 / (1 - p), rtol=1e-6)
    g = np.random.default_rng(0).standard_normal(a.shape).astype(np.float32)
    y.backward(ember.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * kept / (1 - p), rtol=1e-6)


def test_dropout_eval_identity_and_edge_p():
    d = nn.Dropout(0.5).eval()
    x = ember.randn(4, 4)
    assert d(x) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))


def test_dropout_reproducible_with_manual_seed():
    ember.manual_seed(123)
    a = F.dropout(ember.ones(50), 0.5).numpy().copy()
    ember.manual_seed(123)
    b = F.dropout(ember.ones(50), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls,shape", [(nn.Dropout2d, (8, 64, 5, 5)), (nn.Dropout1d, (8, 64, 7)),
                                       (nn.Dropout1d, (64, 7))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    ember.manual_seed(1)
    x = ember.ones(*shape, requires_grad=True)
    y = cls(0.5)(x)
    a = y.detach().numpy()
    lead = 2 if len(shape) in (3, 4) and cls is nn.Dropout2d or len(shape) == 3 else 1
    per_chan = a.reshape(int(np.prod(shape[:lead])), -1)
    assert np.all((per_chan == 0).all(1) | (per_chan == 2).all(1))
    assert 0.35 < (per_chan[:, 0] == 0).mean() < 0.65
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), a)
    assert cls(0.5).eval()(x) is x


def test_alpha_dropout_preserves_mean_and_variance():
    ember.manual_seed(2)
    x = ember.randn(400, 500)
    y = nn.AlphaDropout(0.2)(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    # same affine formula as torch: the dropped value is alpha' * a * (1 - p) ... check via torch's output set
    t = torch.nn.AlphaDropout(0.2).train()(torch.zeros(10000)).numpy()
    np.testing.assert_allclose(np.unique(F.alpha_dropout(ember.zeros(10000), 0.2, True).numpy()), np.unique(t),
                               rtol=1e-6)
    x2 = ember.randn(3, requires_grad=True)
    assert nn.AlphaDropout(0.5).eval()(x2) is x2
