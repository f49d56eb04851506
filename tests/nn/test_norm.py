"""Normalization against PyTorch: batch norm (train/eval, running statistics over several steps, momentum incl.
None, track_running_stats, affine, 2-D/3-D/4-D inputs), layer/group/instance norm, F.normalize; values and
every gradient, float32 and float64, gradcheck and double backward, errors, reprs and state_dict keys."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import compare, gradcheck, assert_close
from tests.nn._layer_check import check_layer


def _lib(m):
    return F if m is ember else torch.nn.functional


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_functional_train_eval(shape):
    compare(lambda m, x, w, b: _lib(m).batch_norm(x, None, None, w, b, training=True), [shape, (3,), (3,)])
    compare(lambda m, x: _lib(m).batch_norm(x, None, None, training=True, eps=1e-3), [shape])
    rng = np.random.default_rng(1)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 1.5, 3)
    compare(lambda m, x, w, b: _lib(m).batch_norm(x, m.tensor(rm), m.tensor(rv), w, b, training=False),
            [shape, (3,), (3,)])


@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_running_stats_update(momentum):
    rng = np.random.default_rng(2)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 1.5, 3)
    erm, erv, trm, trv = ember.tensor(rm), ember.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    for _ in range(3):
        x = rng.standard_normal((5, 3, 2))
        F.batch_norm(ember.tensor(x), erm, erv, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
    assert_close(erm, trm)
    assert_close(erv, trv)


def test_batch_norm_float32_and_gradcheck():
    compare(lambda m, x, w, b: _lib(m).batch_norm(x, None, None, w, b, training=True),
            [(8, 3, 5, 5), (3,), (3,)], dtype=np.float32, atol=1e-5, rtol=1e-4)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 3, 2), (3,), (3,)])
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), [(4, 3, 2), (3,), (3,)])
    # eval mode is composed of ember ops, so it has a second derivative
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, w: F.batch_norm(x, rm, rv, w, None) ** 2, [x, w])


@pytest.mark.parametrize("norm_shape,wshape", [((5,), (5,)), ((3, 5), (3, 5))])
def test_layer_norm(norm_shape, wshape):
    compare(lambda m, x, w, b: _lib(m).layer_norm(x, norm_shape, w, b, eps=1e-4), [(2, 3, 5), wshape, wshape])
    compare(lambda m, x: _lib(m).layer_norm(x, list(norm_shape)), [(2, 3, 5)])
    compare(lambda m, x, w: _lib(m).layer_norm(x, norm_shape, w), [(2, 3, 5), wshape])
    assert gradcheck(lambda x, w, b: F.layer_norm(x, norm_shape, w, b), [(2, 3, 5), wshape, wshape])


def test_group_and_instance_norm():
    compare(lambda m, x, w, b: _lib(m).group_norm(x, 2, w, b), [(2, 6, 4, 3), (6,), (6,)])
    compare(lambda m, x: _lib(m).group_norm(x, 3), [(2, 6, 5)])
    compare(lambda m, x: _lib(m).group_norm(x, 6), [(2, 6, 5)])
    compare(lambda m, x, w, b: _lib(m).instance_norm(x, weight=w, bias=b), [(2, 3, 4, 5), (3,), (3,)])
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)])
    assert gradcheck(lambda x: F.instance_norm(x), [(2, 2, 4)])


def test_instance_norm_running_stats():
    rng = np.random.default_rng(3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 1.5, 3)
    erm, erv, trm, trv = ember.tensor(rm), ember.tensor(rv), torch.tensor(rm), torch.tensor(rv)
    compare(lambda m, x: _lib(m).instance_norm(x, *((erm, erv) if m is ember else (trm, trv))), [(2, 3, 4, 5)])
    assert_close(erm, trm)
    assert_close(erv, trv)


def test_normalize():
    compare(lambda m, x: _lib(m).normalize(x), [(3, 4)])
    compare(lambda m, x: _lib(m).normalize(x, p=1, dim=0), [(3, 4)])


def _train_steps(em, tm, shape, steps=3, seed=0):
    """Several training steps then eval: outputs, gradients and buffers must match torch throughout."""
    for s in range(steps):
        check_layer(em, tm, shape, seed=seed + s, copy=(s == 0))
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, 1e-5, 1e-5, what=k)
    em.eval()
    tm.eval()
    check_layer(em, tm, shape, seed=seed + 99, copy=False)


@pytest.mark.parametrize("make,shape", [
    (lambda L: L.BatchNorm1d(3), (8, 3)),
    (lambda L: L.BatchNorm1d(3, momentum=None), (8, 3, 4)),
    (lambda L: L.BatchNorm2d(3, momentum=0.3, eps=1e-3), (4, 3, 5, 5)),
    (lambda L: L.BatchNorm2d(3, affine=False), (4, 3, 5, 5)),
    (lambda L: L.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 5)),
    (lambda L: L.BatchNorm2d(3, bias=False), (4, 3, 5, 5)),
    (lambda L: L.InstanceNorm2d(3), (2, 3, 5, 5)),
    (lambda L: L.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 5, 5)),
    (lambda L: L.InstanceNorm1d(3, affine=True), (3, 7)),
    (lambda L: L.LayerNorm(5), (2, 3, 5)),
    (lambda L: L.LayerNorm((3, 5), elementwise_affine=False), (2, 3, 5)),
    (lambda L: L.LayerNorm(5, bias=False), (2, 5)),
    (lambda L: L.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda L: L.GroupNorm(4, 4, affine=False), (2, 4, 5)),
])
def test_norm_layers(make, shape):
    em, tm = make(nn), make(torch.nn)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    with torch.no_grad():        # non-trivial affine parameters
        for p in tm.parameters():
            p.uniform_(0.5, 1.5)
    _train_steps(em, tm, shape)


def test_batch_norm_buffers():
    bn = nn.BatchNorm2d(4)
    assert bn.num_batches_tracked.dtype == np.int64
    bn(ember.randn(3, 4, 2, 2))
    bn(ember.randn(3, 4, 2, 2))
    assert int(bn.num_batches_tracked.item()) == 2
    bn.eval()
    bn(ember.randn(3, 4, 2, 2))
    assert int(bn.num_batches_tracked.item()) == 2
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked.item()) == 0 and float(bn.running_var.sum().item()) == 4.0


def test_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(16)(ember.randn(4, 16))
    with pytest.raises(ValueError, match="BatchNorm2d expected input with 16 channels, got 8"):
        nn.BatchNorm2d(16)(ember.randn(4, 8, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(RuntimeError, match="LayerNorm expected input of shape"):
        nn.LayerNorm(5)(ember.randn(2, 4))
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)


@pytest.mark.parametrize("fn", [
    lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    lambda x, w, b: F.layer_norm(x, (3, 2), w.reshape(3, 1).expand(3, 2), b.reshape(3, 1).expand(3, 2)),
    lambda x, w, b: F.group_norm(x, 3, w, b),
    lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
])
def test_norm_double_backward(fn):
    r = lambda *s: ember.randn(*s, dtype=ember.float64, requires_grad=True)  # noqa: E731
    assert ember.autograd.gradgradcheck(fn, [r(4, 3, 2), r(3), r(3)])


def test_batch_norm_second_derivative_matches_torch():
    def f(m, x, w):
        y = _lib(m).batch_norm(x, None, None, w, None, training=True)
        (gx,) = (ember.autograd.grad if m is ember else torch.autograd.grad)((y ** 3).sum(), x, create_graph=True)
        return (gx * gx).sum()
    compare(f, [(5, 3), (3,)])
