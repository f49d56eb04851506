"""Embedding against PyTorch with the same weights: lookup, duplicate-index gradient accumulation,
padding_idx, scale_grad_by_freq, max_norm, from_pretrained, errors."""
import numpy as np
import pytest
import torch

import ember
import ember.nn as nn
import ember.nn.functional as F
from tests.helpers import assert_close


def _run(kw, idx, dtype=np.float64):
    w = np.random.default_rng(0).standard_normal((10, 4)).astype(dtype)
    ew, tw = ember.tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)
    ei, ti = ember.tensor(idx), torch.tensor(idx)
    ey, ty = F.embedding(ei, ew, **kw), torch.nn.functional.embedding(ti, tw, **kw)
    assert_close(ey, ty)
    g = np.random.default_rng(1).standard_normal(ty.shape).astype(dtype)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(ew.grad, tw.grad)
    assert_close(ew, tw)      # max_norm renormalizes in place: same rows in both


IDX = np.array([[1, 3, 3, 0], [9, 1, 1, 1]])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_functional_vs_torch(kw):
    _run(kw, IDX)


def test_module_init_and_padding():
    ember.manual_seed(0)
    e = nn.Embedding(1000, 16, padding_idx=3)
    w = e.weight.detach().numpy()
    assert np.all(w[3] == 0)
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02
    assert repr(e) == repr(torch.nn.Embedding(1000, 16, padding_idx=3))
    out = e(ember.tensor([[3, 5], [3, 3]]))
    out.sum().backward()
    assert np.all(e.weight.grad.numpy()[3] == 0) and np.all(e.weight.grad.numpy()[5] == 1)
    assert out.shape == (2, 2, 16)


def test_same_weights_module_vs_torch():
    t = torch.nn.Embedding(7, 3, padding_idx=0)
    e = nn.Embedding(7, 3, padding_idx=0)
    e.load_state_dict(t.state_dict())
    idx = np.array([0, 6, 2, 2])
    assert_close(e(ember.tensor(idx)), t(torch.tensor(idx)))


def test_from_pretrained():
    w = ember.randn(4, 3)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight._data is w._data
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert_close(e(ember.tensor([2])), w.numpy()[[2]])


def test_errors():
    e = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="out of range"):
        e(ember.tensor([5]))
    with pytest.raises(RuntimeError, match="integer"):
        e(ember.tensor([1.0]))
    with pytest.raises(AssertionError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)


def test_large_vocab_backward_accumulates():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 10000, 4096)
    w = ember.zeros(10000, 8, requires_grad=True)
    F.embedding(ember.tensor(idx), w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], np.bincount(idx, minlength=10000))


def test_max_norm_rows_renormalised_bit_for_bit_as_torch():
    # PyTorch takes each row's norm in the weight's dtype and scales by max_norm / (norm + 1e-7) in double
    # (ember took the norm in float64, which rounds the rescaled rows differently)
    import torch
    for n, k in [(4, 0), (4, 3), (5, 1)]:
        w = (np.sin(np.arange(6.0 * n) * 0.7 + k) * 3).reshape(6, n).astype(np.float32)
        te, ee = torch.nn.Embedding(6, n, max_norm=1.0), ember.nn.Embedding(6, n, max_norm=1.0)
        with torch.no_grad():
            te.weight.copy_(torch.tensor(w))
        with ember.no_grad():
            ee.weight.copy_(ember.tensor(w))
        te(torch.tensor([0, 1, 2, 3, 4, 5]))
        ee(ember.tensor([0, 1, 2, 3, 4, 5]))
        np.testing.assert_array_equal(ee.weight.detach().numpy(), te.weight.detach().numpy())
