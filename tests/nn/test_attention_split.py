"""Attention with its batch split among threads (``SDPA`` at 2+ BLAS threads): outputs, attention weights
and every gradient bit-identical to the one-thread kernel, and the split taken only where it applies."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.nn.functional import _attention as A
from tests.ops._sections import counting_sections


@pytest.fixture
def threads(monkeypatch):
    """BLAS reported with ``n`` threads and every attention big enough to split; returns the list of the
    parallel sections' sizes."""
    return counting_sections(monkeypatch, [(A, "MIN_SPLIT", 1)])


def _inputs(lead, L, S, E, Ev, mask_shape, dtype, seed=0):
    g = np.random.default_rng(seed)
    q, k, v = (g.standard_normal(lead + sh).astype(dtype) for sh in ((L, E), (S, E), (S, Ev)))
    m = None
    if mask_shape == "bool":
        m = g.random((L, S)) > 0.3
        m[1] = False                                  # a fully masked query
    elif mask_shape is not None:
        m = g.standard_normal(mask_shape).astype(dtype)
    return q, k, v, m


def _run(q, k, v, m, dropout_p, causal, mask_grad):
    ember.manual_seed(7)
    tq, tk, tv = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
    tm = None if m is None else ember.tensor(m, requires_grad=mask_grad and m.dtype != np.bool_)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm, dropout_p=dropout_p, is_causal=causal)
    go = np.random.default_rng(1).standard_normal(out.shape).astype(q.dtype)
    out.backward(ember.tensor(go))
    grads = [t.grad.numpy() for t in (tq, tk, tv)]
    if tm is not None and tm.requires_grad:
        grads.append(tm.grad.numpy())
    return [out.detach().numpy()] + grads


CASES = [
    dict(lead=(6,), L=5, S=7, E=4, Ev=3, mask_shape=None),
    dict(lead=(5, 3), L=8, S=8, E=4, Ev=4, mask_shape=None, causal=True),
    dict(lead=(4, 2), L=6, S=5, E=3, Ev=2, mask_shape=(6, 5), mask_grad=True),
    dict(lead=(4, 2), L=6, S=5, E=3, Ev=2, mask_shape=(4, 1, 6, 5), mask_grad=True),
    dict(lead=(4, 2), L=6, S=5, E=3, Ev=2, mask_shape=(1, 2, 6, 5)),
    dict(lead=(7,), L=4, S=6, E=5, Ev=5, mask_shape="bool"),
    dict(lead=(6,), L=5, S=7, E=4, Ev=3, mask_shape=None, dropout_p=0.4),
    dict(lead=(3, 4), L=5, S=5, E=2, Ev=3, mask_shape=(3, 4, 5, 5), dropout_p=0.25, mask_grad=True),
    dict(lead=(6,), L=5, S=7, E=4, Ev=3, mask_shape=None, dtype=np.float64),
]


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("case", CASES, ids=lambda c: str(sorted(c.items())))
def test_split_attention_is_bitwise_the_one_thread_kernel(threads, case, n_threads):
    case = dict(case)
    dropout_p, causal, mask_grad = case.pop("dropout_p", 0.0), case.pop("causal", False), case.pop("mask_grad", False)
    arrays = _inputs(dtype=case.pop("dtype", np.float32), **case)
    threads(1)
    want = _run(*arrays, dropout_p, causal, mask_grad)
    calls = threads(n_threads)
    got = _run(*arrays, dropout_p, causal, mask_grad)
    assert calls and all(c >= 2 for c in calls)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_split_attention_matches_pytorch(threads):
    threads(2)
    q, k, v, m = _inputs((4, 3), 6, 9, 5, 4, (6, 9), np.float32)
    got = _run(q, k, v, m, 0.0, False, True)
    tq, tk, tv, tm = (torch.tensor(a, requires_grad=True) for a in (q, k, v, m))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm)
    out.backward(torch.tensor(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)))
    for a, b in zip(got, [out.detach(), tq.grad, tk.grad, tv.grad, tm.grad]):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-5)


def test_multihead_attention_weights_split(threads):
    """MultiheadAttention returning its weights (after dropout) and taking their gradient."""
    def run():
        ember.manual_seed(3)
        mha = ember.nn.MultiheadAttention(8, 2, dropout=0.3, batch_first=True)
        x = ember.randn(5, 6, 8, requires_grad=True)
        out, w = mha(x, x, x, need_weights=True, average_attn_weights=False)
        (out.sum() + (w * w).sum()).backward()
        return [out.detach().numpy(), w.detach().numpy(), x.grad.numpy(), mha.in_proj_weight.grad.numpy()]
    threads(1)
    want = run()
    calls = threads(2)
    got = run()
    assert calls
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_not_split_where_it_does_not_apply(threads):
    calls = threads(2)
    g = np.random.default_rng(0)
    # k broadcast over q's batch dim (different leading dims), and 2-D operands (no batch)
    q = ember.tensor(g.standard_normal((4, 5, 3)).astype(np.float32))
    k = ember.tensor(g.standard_normal((1, 6, 3)).astype(np.float32))
    F.scaled_dot_product_attention(q, k, k)
    F.scaled_dot_product_attention(q[0], k[0], k[0])
    # a mask with batch dims the scores lack (it widens them)
    F.scaled_dot_product_attention(q[:1], k, k, attn_mask=ember.zeros(3, 5, 6))
    assert calls == []
