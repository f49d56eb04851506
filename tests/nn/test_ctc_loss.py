"""``F.ctc_loss`` and ``nn.CTCLoss`` against PyTorch: values and gradients w.r.t. ``log_probs`` (PyTorch's
log-softmax-assuming formula) in float32 and float64, padded and concatenated targets, unbatched input, every
reduction, ``zero_infinity``, impossible alignments, a float64 finite-difference check and the errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as nn
import ember.nn.functional as F


def _case(seed, T=10, N=4, C=6, S=5, blank=0, repeat=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C))
    labels = [c for c in range(C) if c != blank]
    tg = rng.choice(labels, size=(N, S))
    if repeat:
        tg[0, :3] = tg[0, 0]
    il = rng.integers(max(T // 2, 1), T + 1, N)
    il[0] = T
    tl = rng.integers(0, S + 1, N)
    tl[0] = S
    return x, tg, il, tl


def _run(lib, x, tg, il, tl, dtype, concat=False, lengths="tensor", **kw):
    if lib is torch:
        lp = torch.tensor(x, dtype=getattr(torch, dtype)).log_softmax(-1).detach().requires_grad_()
        f, mk = TF.ctc_loss, torch.tensor
    else:
        lp = ember.tensor(x, dtype=getattr(ember, dtype)).log_softmax(-1).detach().requires_grad_()
        f, mk = F.ctc_loss, ember.tensor
    t = np.concatenate([tg[i, :tl[i]] for i in range(len(tl))]) if concat else tg
    if lengths == "tensor":
        a, b = mk(il), mk(tl)
    else:
        a, b = tuple(int(v) for v in il), list(int(v) for v in tl)
    out = f(lp, mk(t), a, b, **kw)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(mk(g).to(out.dtype))
    val = out.detach().numpy() if lib is torch else out.detach().numpy()
    grad = lp.grad.numpy()
    return val, grad


def _check(x, tg, il, tl, dtype="float64", **kw):
    tv, tgd = _run(torch, x, tg, il, tl, dtype, **kw)
    ev, egd = _run(ember, x, tg, il, tl, dtype, **kw)
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (2e-5, 2e-5)
    assert ev.dtype == tv.dtype
    np.testing.assert_allclose(ev, tv, rtol=rtol, atol=atol)
    np.testing.assert_allclose(egd, tgd, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_torch(seed, reduction, dtype):
    x, tg, il, tl = _case(seed, repeat=seed == 1)
    _check(x, tg, il, tl, dtype, reduction=reduction)


@pytest.mark.parametrize("concat", [False, True])
@pytest.mark.parametrize("lengths", ["tensor", "tuple"])
def test_blank_not_zero_concatenated_and_tuple_lengths(concat, lengths):
    x, tg, il, tl = _case(3, T=9, N=3, C=5, S=4, blank=3, repeat=True)
    _check(x, tg, il, tl, blank=3, concat=concat, lengths=lengths, reduction="sum")


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_impossible_alignments_give_inf(zero_infinity, reduction):
    # sample 1 needs 7 frames (6 labels with two repeats) but has 5; sample 2 has an empty input and target
    x = np.random.default_rng(4).standard_normal((8, 3, 5))
    tg = np.array([[1, 2, 3, 0, 0, 0], [1, 1, 2, 2, 3, 4], [1, 2, 3, 4, 1, 2]])
    il, tl = np.array([8, 5, 0]), np.array([3, 6, 0])
    tv, tgd = _run(torch, x, tg, il, tl, "float64", reduction=reduction, zero_infinity=zero_infinity)
    ev, egd = _run(ember, x, tg, il, tl, "float64", reduction=reduction, zero_infinity=zero_infinity)
    np.testing.assert_allclose(ev, tv, rtol=1e-10)
    np.testing.assert_allclose(egd, tgd, rtol=1e-10, atol=1e-12, equal_nan=True)
    if reduction == "none":
        assert (ev[1] == 0) if zero_infinity else np.isinf(ev[1])
        assert ev[2] == 0


def test_unbatched():
    x, tg, il, tl = _case(5, N=1)
    for red in ("none", "mean", "sum"):
        lp_t = torch.tensor(x[:, 0]).log_softmax(-1).requires_grad_()
        lp_e = ember.tensor(x[:, 0]).log_softmax(-1).detach().requires_grad_()
        a = TF.ctc_loss(lp_t, torch.tensor(tg[0]), torch.tensor(int(il[0])), torch.tensor(int(tl[0])),
                        reduction=red)
        b = F.ctc_loss(lp_e, ember.tensor(tg[0]), ember.tensor(int(il[0])), ember.tensor(int(tl[0])),
                       reduction=red)
        assert tuple(b.shape) == tuple(a.shape) == ()
        a.backward()
        b.backward()
        np.testing.assert_allclose(b.item(), a.item(), rtol=1e-10)
        np.testing.assert_allclose(lp_e.grad.numpy(), lp_t.grad.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_module():
    x, tg, il, tl = _case(6)
    m = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    tm = torch.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert (m.blank, m.reduction, m.zero_infinity) == (0, "sum", True)
    a = tm(torch.tensor(x).log_softmax(-1), torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    b = m(ember.tensor(x).log_softmax(-1), ember.tensor(tg), ember.tensor(il), ember.tensor(tl))
    np.testing.assert_allclose(b.item(), a.item(), rtol=1e-10)
    with pytest.raises(ValueError, match="reduction"):
        nn.CTCLoss(reduction="avg")


def test_finite_differences_through_log_softmax():
    rng = np.random.default_rng(7)
    tg = ember.tensor(np.array([[1, 1, 2], [3, 2, 0]]))
    il, tl = ember.tensor([6, 5]), ember.tensor([3, 2])
    x = ember.tensor(rng.standard_normal((6, 2, 4)), dtype=ember.float64, requires_grad=True)
    for red in ("none", "mean", "sum"):
        assert ember.autograd.gradcheck(
            lambda x: F.ctc_loss(x.log_softmax(-1), tg, il, tl, blank=0, reduction=red), [x])


def test_errors():
    lp = ember.randn(5, 2, 4).log_softmax(-1)
    tg = ember.tensor([[1, 2], [1, 1]])
    with pytest.raises(RuntimeError, match=r"ctc_loss.*input_lengths.*at most T = 5"):
        F.ctc_loss(lp, tg, [6, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss.*target_lengths.*\(targets shape \(2, 2\)\)"):
        F.ctc_loss(lp, tg, [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss.*sum\(target_lengths\) = 4.*\(3,\)"):
        F.ctc_loss(lp, ember.tensor([1, 2, 1]), [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: input_lengths.*batch size 2"):
        F.ctc_loss(lp, tg, [5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: blank must be in label range"):
        F.ctc_loss(lp, tg, [5, 5], [2, 2], blank=4)
    with pytest.raises(RuntimeError, match=r"ctc_loss: target labels must be in \[0, 4\)"):
        F.ctc_loss(lp, ember.tensor([[1, 5], [1, 1]]), [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: log_probs must be \(T, N, C\).*\(5, 2, 4, 1\)"):
        F.ctc_loss(lp.unsqueeze(-1), tg, [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match=r"ctc_loss: padded targets must be \(N, S\) with N = 2"):
        F.ctc_loss(lp, ember.tensor([[1, 2]]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match=r"ctc_loss: reduction"):
        F.ctc_loss(lp, tg, [5, 5], [2, 2], reduction="avg")
    with pytest.raises(RuntimeError, match=r"ctc_loss: input_lengths must be an integer tensor"):
        F.ctc_loss(lp, tg, ember.tensor([5.0, 5.0]), [2, 2])
