"""nn.init: fan computations and gains equal PyTorch's, sample statistics match each formula,
reproducibility with manual_seed, in-place semantics."""
import math

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
from ember.nn import init


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3), (6, 2, 3, 3), (4, 2, 2, 2, 2)])
def test_fan_in_fan_out_equal_torch(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
                                      ("conv_transpose1d", None), ("conv_transpose2d", None),
                                      ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_equal_torch(nl, param):
    assert init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param), rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError):
        init.calculate_gain("swishy")


def _std(fn, shape=(400, 300), **kw):
    ember.manual_seed(0)
    t = ember.empty(*shape)
    out = fn(t, **kw)
    assert out is t
    return t.numpy().std(), t.numpy().mean(), t.numpy()


def test_distribution_statistics():
    fan_in, fan_out = 300, 400
    cases = [
        (init.xavier_uniform_, {}, math.sqrt(2 / (fan_in + fan_out))),
        (init.xavier_normal_, {"gain": 2.0}, 2 * math.sqrt(2 / (fan_in + fan_out))),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, math.sqrt(2 / 6) / math.sqrt(fan_in)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(fan_out)),
        (init.kaiming_normal_, {"nonlinearity": "leaky_relu", "a": 0.1}, math.sqrt(2 / 1.01) / math.sqrt(fan_in)),
        (init.lecun_normal_, {}, 1 / math.sqrt(fan_in)),
        (init.normal_, {"mean": 0.0, "std": 0.3}, 0.3),
        (init.uniform_, {"a": -1.0, "b": 1.0}, 1 / math.sqrt(3)),
    ]
    for fn, kw, expected in cases:
        std, mean, _ = _std(fn, **kw)
        assert abs(std - expected) < 0.02 * expected, (fn.__name__, std, expected)
        assert abs(mean) < 0.02 * expected + 1e-3, fn.__name__


def test_trunc_normal_bounds_and_moments():
    std, mean, a = _std(init.trunc_normal_, std=1.0, a=-2.0, b=2.0)
    assert a.min() >= -2 and a.max() <= 2
    t = torch.empty(400, 300)
    torch.manual_seed(0)
    torch.nn.init.trunc_normal_(t)
    assert abs(std - t.std().item()) < 0.01 and abs(mean) < 0.01


def test_constant_family_eye_dirac_match_torch():
    for name, args in [("constant_", (0.7,)), ("ones_", ()), ("zeros_", ()), ("eye_", ())]:
        e, t = ember.empty(3, 5), torch.empty(3, 5)
        getattr(init, name)(e, *args), getattr(torch.nn.init, name)(t, *args)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    for shape, groups in [((4, 2, 3), 2), ((6, 3, 3, 3), 1), ((4, 4, 1, 3, 3), 2)]:
        e, t = ember.empty(*shape), torch.empty(*shape)
        init.dirac_(e, groups), torch.nn.init.dirac_(t, groups)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal(shape):
    t = ember.empty(*shape)
    init.orthogonal_(t, gain=2.0)
    m = t.numpy().reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)


def test_sparse_zero_fraction_per_column():
    t = ember.empty(10, 7)
    init.sparse_(t, 0.3, std=0.1)
    assert np.all((t.numpy() == 0).sum(0) == 3)


def test_reproducible_no_grad_and_version():
    w = nn.Parameter(ember.empty(5, 5))
    v0 = w._version[0]
    ember.manual_seed(7)
    init.kaiming_uniform_(w)
    a = w.detach().numpy().copy()
    ember.manual_seed(7)
    init.kaiming_uniform_(w)
    np.testing.assert_array_equal(a, w.detach().numpy())
    assert w.requires_grad and w.grad_fn is None and w._version[0] > v0
    with pytest.raises(ValueError):
        init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError):
        init.kaiming_normal_(ember.empty(3, 3), mode="fan_middle")
