"""The embedding's weight gradient sums each row's repeated gradients in the order the indices occur
(PyTorch's ``index_add_``, what its CPU backward runs for up to 3000 indices): PyTorch's bits."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n,vocab,dim,padding_idx", [(2048, 1000, 64, None), (300, 3, 16, None),
                                                      (1000, 40, 8, 5), (5, 100, 4, None), (1, 2, 3, 0)])
def test_weight_gradient_bits_equal_pytorch(n, vocab, dim, padding_idx):
    rng = np.random.default_rng(n)
    w = rng.standard_normal((vocab, dim)).astype(np.float32)
    idx = rng.integers(0, vocab, (n // 5 or 1, 5) if n >= 5 else (n,))
    g = (rng.standard_normal(idx.shape + (dim,)) * 10).astype(np.float32)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ember.nn.functional.embedding(ember.tensor(idx), ew, padding_idx=padding_idx).backward(ember.tensor(g))
    torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx).backward(torch.tensor(g))
    np.testing.assert_array_equal(ew.grad.numpy(), tw.grad.numpy())


def test_scale_grad_by_freq_and_module():
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 7, (6, 9))
    g = rng.standard_normal((6, 9, 4)).astype(np.float32)
    e, t = ember.nn.Embedding(7, 4, scale_grad_by_freq=True), torch.nn.Embedding(7, 4, scale_grad_by_freq=True)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(e.weight.detach().numpy()))
    e(ember.tensor(idx)).backward(ember.tensor(g))
    t(torch.tensor(idx)).backward(torch.tensor(g))
    np.testing.assert_allclose(e.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
