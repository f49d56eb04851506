"""Tests of ember's losses (``ember/ops/loss.py``, ``ember/nn/functional/_loss.py``, ``ember/nn/losses.py``):
values and every gradient against PyTorch for each reduction and option, float64 gradchecks, numerical
stability at extreme logits/residuals, and the losses PyTorch lacks against their formulas."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.helpers import compare, assert_close

RED = ["none", "mean", "sum"]
rng = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def _fresh_rng():
    # a fresh generator per test, so a test's data do not depend on which tests ran before it (xdist)
    global rng
    rng = np.random.default_rng(1)


def F(m):
    return m.nn.functional


def gc(fn, arrays):
    """float64 gradcheck over the given arrays (all require grad)."""
    xs = [ember.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, xs)


def probs(shape, axis=1):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis, keepdims=True)


# -- regression ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {}),
                                     ("huber_loss", {"delta": 0.5}), ("huber_loss", {"delta": 2.0}),
                                     ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.0})])
def test_regression_losses(name, kw, red):
    compare(lambda m, x, y: getattr(F(m), name)(x, y, reduction=red, **kw), [(3, 4), (3, 4)])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_weight(name, red):
    w = rng.uniform(0.1, 2.0, (3, 4))
    compare(lambda m, x, y: getattr(F(m), name)(x, y, reduction=red, weight=m.tensor(w)), [(3, 4), (3, 4)])


def test_regression_gradcheck():
    for name in ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss"]:
        gc(lambda x, y, n=name: getattr(ember.nn.functional, n)(x, y), [rng.standard_normal((2, 3)) * 2,
                                                                         rng.standard_normal((2, 3))])


def test_target_shape_mismatch_and_bad_reduction_raise():
    x, y = ember.randn(4, 1), ember.randn(4)
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits.*\[4\].*\[4, 1\]"):
        ember.nn.functional.binary_cross_entropy_with_logits(x, y)
    # shapes that do not broadcast (broadcasting ones: tests/nn/test_loss_broadcast.py)
    for name in ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss",
                 "soft_margin_loss", "kl_div", "poisson_nll_loss"]:
        with warnings.catch_warnings(), pytest.raises(RuntimeError, match=rf"{name}.*\(4, 3\).*\(2,\)"):
            warnings.simplefilter("ignore")         # the target-size warning comes first, as in PyTorch
            getattr(ember.nn.functional, name)(ember.randn(4, 3), ember.randn(2))
    with pytest.raises(ValueError, match="mse_loss: reduction"):
        ember.nn.functional.mse_loss(y, y, reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: expected target of shape"):
        ember.nn.functional.cross_entropy(ember.randn(4, 3), ember.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="cross_entropy: target 3 is out of bounds for 3 classes"):
        ember.nn.functional.cross_entropy(ember.randn(2, 3), ember.tensor([0, 3]))
    with pytest.raises(ValueError, match="cross_entropy: weight must have shape"):
        ember.nn.functional.cross_entropy(ember.randn(2, 3), ember.tensor([0, 1]), weight=ember.ones(4))


def test_legacy_size_average_reduce():
    compare(lambda m, x, y: F(m).mse_loss(x, y, size_average=False), [(3, 2), (3, 2)])
    compare(lambda m, x, y: F(m).l1_loss(x, y, reduce=False), [(3, 2), (3, 2)])


def test_log_cosh_formula_and_stability():
    r = rng.uniform(-5, 5, (50,))
    x = ember.tensor(r, requires_grad=True)
    out = ember.nn.functional.log_cosh_loss(x, ember.zeros(50), reduction="sum")
    np.testing.assert_allclose(out.item(), np.log(np.cosh(r)).sum(), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.tanh(r), rtol=1e-12)
    for dt in (ember.float32, ember.float64):
        big = ember.tensor([1e4, -1e4, 0.0], dtype=dt, requires_grad=True)
        out = ember.nn.functional.log_cosh_loss(big, ember.zeros(3, dtype=dt), reduction="none")
        assert np.isfinite(out.detach().numpy()).all()
        np.testing.assert_allclose(out.detach().numpy(), [1e4 - math.log(2), 1e4 - math.log(2), 0], rtol=1e-6)
        out.sum().backward()
        np.testing.assert_allclose(big.grad.numpy(), [1, -1, 0])


# -- binary classification -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(red, weighted):
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (3,))
    compare(lambda m, x, t: F(m).binary_cross_entropy(x, t, weight=m.tensor(w) if weighted else None,
                                                       reduction=red), [p, y])


def test_bce_clamps_log_at_0_and_1():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    compare(lambda m, x, t: F(m).binary_cross_entropy(x, t, reduction="none"), [p, y])
    with pytest.raises(ValueError, match="between 0 and 1"):
        ember.nn.functional.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("opt", ["plain", "weight", "pos_weight", "both"])
def test_bce_with_logits(red, opt):
    w = rng.uniform(0.5, 2, (4, 3))
    pw = rng.uniform(0.5, 3, (3,))
    y = rng.uniform(0, 1, (4, 3))

    def fn(m, x, t):
        return F(m).binary_cross_entropy_with_logits(
            x, t, weight=m.tensor(w) if opt in ("weight", "both") else None,
            pos_weight=m.tensor(pw) if opt in ("pos_weight", "both") else None, reduction=red)
    compare(fn, [rng.standard_normal((4, 3)) * 3, y])


def test_bce_with_logits_pos_weight_grad_and_extremes():
    # (ember also differentiates pos_weight, which torch refuses: that gradient is gradchecked below)
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    out = compare(lambda m, a, t: F(m).binary_cross_entropy_with_logits(a, t, reduction="none"), [x, y])
    assert np.isfinite(out[0].detach().numpy()).all()
    compare(lambda m, a, t: F(m).binary_cross_entropy_with_logits(a, t, pos_weight=m.tensor([2.0])), [x, y])
    gc(lambda a, t, pw: ember.nn.functional.binary_cross_entropy_with_logits(a, t, pos_weight=pw),
       [rng.standard_normal((3, 2)), rng.uniform(0, 1, (3, 2)), rng.uniform(0.5, 2, (2,))])
    gc(lambda a, t: ember.nn.functional.binary_cross_entropy(ember.sigmoid(a), t),
       [rng.standard_normal((3, 2)), rng.uniform(0, 1, (3, 2))])


# -- cross-entropy and NLL -----------------------------------------------------------------------------------------
CE_SHAPES = [((5, 4), (5,)), ((2, 4, 3, 2), (2, 3, 2)), ((4,), ())]


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("xs,ts", CE_SHAPES)
@pytest.mark.parametrize("ls", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_indices(red, xs, ts, ls, weighted):
    C = xs[0] if len(xs) == 1 else xs[1]
    y = rng.integers(0, C, ts)
    if y.ndim:
        y.flat[0] = 2          # the ignore_index used below
    w = rng.uniform(0.5, 2, (C,))
    compare(lambda m, x: F(m).cross_entropy(x, m.tensor(y), weight=m.tensor(w) if weighted else None,
                                            reduction=red, label_smoothing=ls), [xs])
    compare(lambda m, x: F(m).cross_entropy(x, m.tensor(y), weight=m.tensor(w) if weighted else None,
                                            ignore_index=2, reduction=red, label_smoothing=ls), [xs])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probabilities(red, shape, ls, weighted):
    C = shape[0] if len(shape) == 1 else shape[1]
    t = probs(shape, axis=0 if len(shape) == 1 else 1)
    w = rng.uniform(0.5, 2, (C,))
    # the target requires grad too: d loss / d target is compared with torch's
    compare(lambda m, x, tt: F(m).cross_entropy(x, tt, weight=m.tensor(w) if weighted else None, reduction=red,
                                                label_smoothing=ls), [shape, t])


def test_cross_entropy_default_ignore_index_and_all_ignored():
    y = np.array([0, -100, 3, -100])
    compare(lambda m, x: F(m).cross_entropy(x, m.tensor(y)), [(4, 5)])
    for name in ("cross_entropy", "nll_loss"):
        # every target ignored: the mean is nan (0/0) and the gradient zero, in both libraries
        out = compare(lambda m, x: getattr(F(m), name)(x, m.tensor([-100, -100])), [(2, 3)], atol=0, rtol=0)
        assert np.isnan(out[0].item())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_huge_logits_stay_finite(dtype):
    x = (rng.standard_normal((6, 5)) * 1e4).astype(dtype)
    y = rng.integers(0, 5, (6,))
    for ls in (0.0, 0.1):
        out = compare(lambda m, a: F(m).cross_entropy(a, m.tensor(y), label_smoothing=ls), [x], dtype=dtype,
                      rtol=1e-5, atol=1e-3 if dtype == np.float32 else 1e-6)
        assert np.isfinite(out[0].item())


def test_cross_entropy_float32_matches():
    x = rng.standard_normal((16, 10)).astype(np.float32)
    y = rng.integers(0, 10, (16,))
    compare(lambda m, a: F(m).cross_entropy(a, m.tensor(y), label_smoothing=0.1, weight=m.ones(10) * 2),
            [x], atol=1e-6, rtol=1e-5)


def test_cross_entropy_gradcheck_and_double_backward():
    y = np.array([1, 0, 2])
    w = ember.tensor([0.5, 1.0, 2.0], dtype=ember.float64)
    gc(lambda x: ember.nn.functional.cross_entropy(x, ember.tensor(y), weight=w, label_smoothing=0.1),
       [rng.standard_normal((3, 3))])
    gc(lambda x: ember.nn.functional.cross_entropy(x, ember.tensor(np.array([[1, 0], [2, 2]])),
                                                   reduction="none"), [rng.standard_normal((2, 3, 2))])
    gc(lambda x, t: ember.nn.functional.cross_entropy(x, t, label_smoothing=0.2), [rng.standard_normal((3, 4)),
                                                                                   probs((3, 4))])

    # second derivatives (create_graph=True) against torch: grad of the gradient's squared norm
    def dd(m, x, t=None):
        loss = F(m).cross_entropy(x, m.tensor(y) if t is None else t, label_smoothing=0.1)
        (g,) = m.autograd.grad(loss, x, create_graph=True)
        return (g * g).sum()
    compare(dd, [(3, 3)])
    compare(lambda m, x, t: dd(m, x, t), [(3, 3), probs((3, 3))])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("xs,ts", CE_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(red, xs, ts, weighted):
    C = xs[0] if len(xs) == 1 else xs[1]
    y = rng.integers(0, C, ts)
    if y.ndim:
        y.flat[-1] = 1
    w = rng.uniform(0.5, 2, (C,))
    for ii in (-100, 1):
        compare(lambda m, x: F(m).nll_loss(x, m.tensor(y), weight=m.tensor(w) if weighted else None,
                                           ignore_index=ii, reduction=red), [xs])
    gc(lambda x: ember.nn.functional.nll_loss(x, ember.tensor(y), reduction=red), [rng.standard_normal(xs)])


# -- likelihoods and divergences ----------------------------------------------------------------------------------
@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll(red, log_input, full):
    x = rng.standard_normal((3, 4)) if log_input else rng.uniform(0.1, 3, (3, 4))
    y = rng.poisson(2.0, (3, 4)).astype(np.float64)
    y[0, :3] = [0.0, 1.0, 5.0]
    if full:   # torch's target gradient of the Stirling term is nan at y = 0: compare input gradients only
        compare(lambda m, a: F(m).poisson_nll_loss(a, m.tensor(y), log_input=log_input, full=full, reduction=red),
                [x])
    else:
        compare(lambda m, a, t: F(m).poisson_nll_loss(a, t, log_input=log_input, full=full, reduction=red), [x, y])
    gc(lambda a: ember.nn.functional.poisson_nll_loss(a, ember.tensor(y), log_input=log_input, full=full),
       [x])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("vshape", [(4, 3), (4,), (4, 1), "float"])
def test_gaussian_nll(red, full, vshape):
    if vshape == "float":
        compare(lambda m, x, t: F(m).gaussian_nll_loss(x, t, 0.7, full=full, reduction=red), [(4, 3), (4, 3)])
        return
    v = rng.uniform(0.2, 2, vshape)
    v.flat[0] = 1e-9        # below eps: clamped in value, gradient passes (as torch)
    compare(lambda m, x, t, var: F(m).gaussian_nll_loss(x, t, var, full=full, reduction=red),
            [(4, 3), (4, 3), v])


def test_gaussian_nll_errors_and_gradcheck():
    with pytest.raises(ValueError, match="gaussian_nll_loss: var"):
        ember.nn.functional.gaussian_nll_loss(ember.randn(4, 3), ember.randn(4, 3), ember.ones(2, 3))
    with pytest.raises(ValueError, match="negative"):
        ember.nn.functional.gaussian_nll_loss(ember.randn(4, 3), ember.randn(4, 3), -1.0)
    gc(lambda x, t, v: ember.nn.functional.gaussian_nll_loss(x, t, v), [rng.standard_normal((3, 2)),
                                                                        rng.standard_normal((3, 2)),
                                                                        rng.uniform(0.5, 2, (3, 2))])


@pytest.mark.parametrize("red", RED + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(red, log_target):
    t = probs((3, 5))
    t[0, 0] = 0.0                      # a zero target contributes 0 (xlogy)
    if log_target:
        t = np.log(probs((3, 5)))

    def fn(m, x, tt):
        with pytest.warns(UserWarning) if (m is torch and red == "mean") else _nullctx():
            return F(m).kl_div(x, tt, reduction=red, log_target=log_target)
    compare(fn, [np.log(probs((3, 5))), t if log_target else np.maximum(t, 1e-3)])
    compare(lambda m, x: fn(m, x, m.tensor(t)), [np.log(probs((3, 5)))])     # a zero target, as a constant
    gc(lambda x: ember.nn.functional.kl_div(x, ember.tensor(t), reduction=red, log_target=log_target),
       [np.log(probs((3, 5)))])


class _nullctx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


# -- margin and embedding losses ----------------------------------------------------------------------------------
def pm1(shape):
    return np.where(rng.uniform(size=shape) > 0.5, 1.0, -1.0)


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding(red, margin):
    compare(lambda m, x, t: F(m).hinge_embedding_loss(x, t, margin=margin, reduction=red),
            [rng.uniform(0, 2, (4, 3)), pm1((4, 3))])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 1.0, False), (1, 0.5, True), (2, 2.0, True)])
def test_multi_margin(red, p, margin, weighted):
    y = rng.integers(0, 4, (5,))
    w = rng.uniform(0.5, 2, (4,))
    compare(lambda m, x: F(m).multi_margin_loss(x, m.tensor(y), p=p, margin=margin,
                                                weight=m.tensor(w) if weighted else None, reduction=red), [(5, 4)])
    compare(lambda m, x: F(m).multi_margin_loss(x, m.tensor(y[0]), p=p, reduction=red), [(4,)])
    gc(lambda x: ember.nn.functional.multi_margin_loss(x, ember.tensor(y), p=p), [rng.standard_normal((5, 4))])


@pytest.mark.parametrize("red", RED)
def test_multilabel_margin(red):
    y = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 1, 2, 0]])
    compare(lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(y), reduction=red), [(3, 4)])
    compare(lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(y[0]), reduction=red), [(4,)])
    gc(lambda x: ember.nn.functional.multilabel_margin_loss(x, ember.tensor(y)), [rng.standard_normal((3, 4))])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin(red, weighted):
    w = rng.uniform(0.5, 2, (4,))
    compare(lambda m, x, t: F(m).multilabel_soft_margin_loss(x, t, weight=m.tensor(w) if weighted else None,
                                                             reduction=red),
            [(3, 4), (rng.uniform(size=(3, 4)) > 0.5).astype(np.float64)])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_and_soft_margin(red, margin):
    compare(lambda m, a, b, t: F(m).margin_ranking_loss(a, b, t, margin=margin, reduction=red),
            [(6,), (6,), pm1((6,))])
    y = pm1((3, 4))       # torch does not differentiate soft_margin_loss's target: pass it as a constant
    compare(lambda m, a: F(m).soft_margin_loss(a, m.tensor(y), reduction=red), [rng.standard_normal((3, 4)) * 5])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_cosine_embedding(red, margin):
    y = pm1((5,))
    compare(lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor(y), margin=margin, reduction=red),
            [(5, 3), (5, 3)], seed=3)
    compare(lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor(-1.0), margin=margin, reduction=red),
            [(3,), (3,)])


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("p,swap,margin", [(2, False, 1.0), (1, False, 0.5), (2, True, 1.0), (3, True, 2.0)])
def test_triplet_margin(red, p, swap, margin):
    compare(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, margin=margin, p=p, swap=swap, reduction=red),
            [(5, 3), (5, 3), (5, 3)])
    compare(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, p=p, swap=swap, reduction=red),
            [(3,), (3,), (3,)])
    gc(lambda a, b, c: ember.nn.functional.triplet_margin_loss(a, b, c, p=p, swap=swap),
       [rng.standard_normal((3, 2)) for _ in range(3)])


@pytest.mark.parametrize("swap", [False, True])
def test_triplet_with_distance(swap):
    compare(lambda m, a, b, c: F(m).triplet_margin_with_distance_loss(a, b, c, swap=swap), [(4, 3)] * 3)
    compare(lambda m, a, b, c: F(m).triplet_margin_with_distance_loss(
        a, b, c, distance_function=lambda u, v: 1.0 - F(m).cosine_similarity(u, v), margin=0.5, swap=swap),
        [(4, 3)] * 3)


@pytest.mark.parametrize("dim,shapes", [(1, [(4, 5), (4, 5)]), (0, [(4, 5), (4, 5)]), (-1, [(2, 3, 4), (3, 4)]),
                                        (1, [(3, 4), (1, 4)])])
def test_cosine_similarity(dim, shapes):
    compare(lambda m, a, b: F(m).cosine_similarity(a, b, dim=dim), shapes)
    a = np.zeros((2, 3))
    a[1] = 1.0
    compare(lambda m, x, y: F(m).cosine_similarity(x, y), [a, np.ones((2, 3))])   # a zero vector: eps clamp


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    compare(lambda m, a, b: F(m).pairwise_distance(a, b, p=p, keepdim=keepdim), [(4, 5), (4, 5)])
    compare(lambda m, a, b: F(m).pairwise_distance(a, b, p=p, keepdim=keepdim), [(5,), (5,)])
    gc(lambda a, b: ember.nn.functional.pairwise_distance(a, b, p=p), [rng.standard_normal((2, 3)),
                                                                      rng.standard_normal((2, 3))])


# -- losses PyTorch lacks: against their formulas -----------------------------------------------------------------
@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("margin", [1.0, 3.0])
def test_contrastive_loss(red, margin):
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0])

    def fn(m, a, b):
        if m is torch:   # the formula, written directly
            d = torch.nn.functional.pairwise_distance(a, b)
            yt = torch.tensor(y)
            loss = yt * d ** 2 + (1 - yt) * torch.clamp(margin - d, min=0) ** 2
            return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[red]
        return ember.nn.functional.contrastive_loss(a, b, ember.tensor(y), margin=margin, reduction=red)
    compare(fn, [(5, 3), (5, 3)])
    gc(lambda a, b: ember.nn.functional.contrastive_loss(a, b, ember.tensor(y), margin=margin),
       [rng.standard_normal((5, 3)), rng.standard_normal((5, 3))])


def _torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    # torchvision.ops.sigmoid_focal_loss, verbatim
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1, 2.0), (0.5, 0.0), (0.75, 1.5)])
def test_sigmoid_focal_loss_vs_torchvision(red, alpha, gamma):
    y = (rng.uniform(size=(4, 3)) > 0.5).astype(np.float64)

    def fn(m, x, t):
        if m is torch:
            return _torchvision_sigmoid_focal_loss(x, t, alpha, gamma, red)
        return ember.nn.functional.sigmoid_focal_loss(x, t, alpha, gamma, red)
    compare(fn, [(4, 3), y])
    # FocalLoss's binary form goes through the same function (alpha None = no alpha term)
    x = ember.randn(4, 3, dtype=ember.float64)
    a = ember.nn.functional.focal_loss(x, ember.tensor(y), alpha=None, gamma=gamma, reduction=red)
    b = _torchvision_sigmoid_focal_loss(torch.tensor(x.numpy()), torch.tensor(y), -1, gamma, red)
    assert_close(a, b, atol=1e-10)


@pytest.mark.parametrize("red", RED)
@pytest.mark.parametrize("gamma", [0.0, 2.0, 1.5])
@pytest.mark.parametrize("alpha", [None, 0.5, "per-class"])
def test_multiclass_focal_loss_vs_formula(red, gamma, alpha):
    y = np.array([[0, 2, 1], [3, -100, 3]])          # (N=2, d=3), one ignored
    av = rng.uniform(0.2, 1, (4,))

    def fn(m, x):
        if m is torch:
            valid = torch.tensor(y != -100)
            ys = torch.tensor(np.where(y == -100, 0, y))
            logp = torch.log_softmax(x, 1).gather(1, ys[:, None])[:, 0]
            loss = -(1 - logp.exp()) ** gamma * logp
            if alpha == 0.5:
                loss = loss * 0.5
            elif alpha == "per-class":
                loss = loss * torch.tensor(av)[ys]
            loss = loss * valid
            return {"none": loss, "mean": loss.sum() / valid.sum(), "sum": loss.sum()}[red]
        a = ember.tensor(av) if alpha == "per-class" else alpha
        return ember.nn.functional.focal_loss(x, ember.tensor(y), alpha=a, gamma=gamma, reduction=red)
    compare(fn, [(2, 4, 3)])


def test_focal_gamma0_is_cross_entropy():
    x = ember.randn(6, 5)
    y = ember.randint(0, 5, (6,))
    assert_close(ember.nn.functional.focal_loss(x, y, gamma=0.0), ember.nn.functional.cross_entropy(x, y).numpy(),
                 atol=1e-6)


# -- modules -------------------------------------------------------------------------------------------------------
def _mod_cases():
    r = np.random.default_rng(5)
    y4 = r.integers(0, 4, (5,))
    w4 = r.uniform(0.5, 2, (4,))
    f = (r.uniform(size=(5, 4)) > 0.5).astype(np.float64)
    s = np.where(r.uniform(size=(5,)) > 0.5, 1.0, -1.0)
    counts = r.poisson(2.0, (5, 4)).astype(np.float64)
    T = lambda m, a: m.tensor(a)  # noqa: E731
    return [
        ("MSELoss", lambda m: {}, [(5, 4), (5, 4)], None),
        ("L1Loss", lambda m: {"reduction": "sum"}, [(5, 4), (5, 4)], None),
        ("HuberLoss", lambda m: {"delta": 0.5, "reduction": "none"}, [(5, 4), (5, 4)], None),
        ("SmoothL1Loss", lambda m: {"beta": 0.3}, [(5, 4), (5, 4)], None),
        ("BCELoss", lambda m: {"weight": T(m, w4)}, [r.uniform(0.1, 0.9, (5, 4)), r.uniform(0, 1, (5, 4))], None),
        ("BCEWithLogitsLoss", lambda m: {"weight": T(m, w4), "pos_weight": T(m, w4[::-1].copy())},
         [(5, 4), r.uniform(0, 1, (5, 4))], None),
        ("CrossEntropyLoss", lambda m: {"weight": T(m, w4), "ignore_index": 1, "label_smoothing": 0.1},
         [(5, 4)], lambda m: [T(m, y4)]),
        ("NLLLoss", lambda m: {"weight": T(m, w4), "reduction": "sum"}, [(5, 4)], lambda m: [T(m, y4)]),
        ("PoissonNLLLoss", lambda m: {"log_input": False, "full": True}, [r.uniform(0.1, 3, (5, 4))],
         lambda m: [T(m, counts)]),
        ("GaussianNLLLoss", lambda m: {"full": True}, [(5, 4), (5, 4), r.uniform(0.5, 2, (5, 1))], None),
        ("KLDivLoss", lambda m: {"reduction": "batchmean", "log_target": True},
         [np.log(probs((5, 4))), np.log(probs((5, 4)))], None),
        ("HingeEmbeddingLoss", lambda m: {"margin": 0.5}, [r.uniform(0, 1, (5,))], lambda m: [T(m, s)]),
        ("MultiMarginLoss", lambda m: {"p": 2, "margin": 0.5, "weight": T(m, w4)}, [(5, 4)], lambda m: [T(m, y4)]),
        ("MultiLabelMarginLoss", lambda m: {}, [(2, 4)], lambda m: [T(m, np.array([[3, 0, -1, 1], [2, -1, 0, 0]]))]),
        ("MultiLabelSoftMarginLoss", lambda m: {"weight": T(m, w4)}, [(5, 4)], lambda m: [T(m, f)]),
        ("MarginRankingLoss", lambda m: {"margin": 0.2}, [(5,), (5,)], lambda m: [T(m, s)]),
        ("SoftMarginLoss", lambda m: {}, [(5,)], lambda m: [T(m, s)]),
        ("CosineEmbeddingLoss", lambda m: {"margin": 0.1}, [(5, 4), (5, 4)], lambda m: [T(m, s)]),
        ("TripletMarginLoss", lambda m: {"margin": 0.5, "p": 1, "swap": True}, [(5, 4)] * 3, None),
        ("TripletMarginWithDistanceLoss", lambda m: {"distance_function": m.nn.PairwiseDistance(p=1), "swap": True},
         [(5, 4)] * 3, None),
        ("CosineSimilarity", lambda m: {"dim": 0}, [(5, 4), (5, 4)], None),
        ("PairwiseDistance", lambda m: {"p": 3.0, "keepdim": True}, [(5, 4), (5, 4)], None),
    ]


@pytest.mark.parametrize("case", _mod_cases(), ids=lambda c: c[0])
def test_loss_modules_match_torch(case):
    name, kw, arrays, extra = case

    def fn(m, *xs):
        mod = getattr(m.nn, name)(**kw(m))
        mod.train()
        out_train = mod(*xs, *(extra(m) if extra else []))
        mod.eval()                           # losses behave the same in both modes
        out_eval = mod(*xs, *(extra(m) if extra else []))
        return out_train, out_eval
    compare(fn, arrays)


def test_loss_module_structure():
    nn = ember.nn
    ce = nn.CrossEntropyLoss(weight=ember.tensor([1.0, 2.0, 3.0]))
    tce = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0]))
    assert list(ce.state_dict()) == list(tce.state_dict()) == ["weight"]
    assert ce.reduction == "mean" and ce.ignore_index == -100 and ce.label_smoothing == 0.0
    bl = nn.BCEWithLogitsLoss(pos_weight=ember.ones(3))
    assert list(bl.state_dict()) == list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)).state_dict())
    assert isinstance(nn.MSELoss(), nn.Module) and repr(nn.MSELoss()) == "MSELoss()"
    assert nn.MSELoss(size_average=False).reduction == "sum" and nn.L1Loss(reduce=False).reduction == "none"
    assert nn.PairwiseDistance(p=3).norm == 3
    with pytest.raises(ValueError, match="MSELoss: reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    # weights load from a torch state_dict
    ce.load_state_dict({"weight": ember.tensor([3.0, 2.0, 1.0])})
    assert_close(ce.weight, np.array([3.0, 2.0, 1.0], np.float32))


def test_ember_only_modules():
    nn = ember.nn
    x, y = ember.randn(4, 3, dtype=ember.float64), ember.randn(4, 3, dtype=ember.float64)
    assert_close(nn.LogCoshLoss(reduction="sum")(x, y), ember.nn.functional.log_cosh_loss(x, y, reduction="sum"))
    t = ember.tensor([1.0, 0.0, 1.0, 0.0], dtype=ember.float64)
    assert_close(nn.ContrastiveLoss(margin=2.0)(x, y, t), ember.nn.functional.contrastive_loss(x, y, t, 2.0))
    idx = ember.tensor([0, 2, 1, 1])
    alpha = ember.tensor([0.2, 0.5, 0.3], dtype=ember.float64)
    fl = nn.FocalLoss(alpha=alpha, gamma=1.5)
    assert "alpha" in fl.state_dict()
    assert_close(fl(x, idx), ember.nn.functional.focal_loss(x, idx, alpha=alpha, gamma=1.5))
    b = (ember.rand(4, 3) > 0.5).to(ember.float64)
    assert_close(nn.FocalLoss(alpha=0.25)(x, b), ember.nn.functional.sigmoid_focal_loss(x, b, reduction="mean"))


def test_cross_entropy_backward_twice_with_retain_graph():
    # the first backward writes into its saved exp(x - max) buffer; a second one must recompute it
    x = ember.randn(4, 5, requires_grad=True)
    y = ember.tensor([0, 4, 2, 1])
    loss = ember.nn.functional.cross_entropy(x, y, label_smoothing=0.1)
    loss.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    x.grad = None
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), g1, rtol=1e-6)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.cross_entropy(xt, torch.tensor(y.numpy()), label_smoothing=0.1).backward()
    np.testing.assert_allclose(g1, xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_gradcheck_remaining_losses():
    Fe = ember.nn.functional
    s = ember.tensor(pm1((4,)))
    sm = ember.tensor(pm1((3, 2)))
    b = ember.tensor((rng.uniform(size=(3, 2)) > 0.5).astype(np.float64))
    n = lambda *shape: rng.standard_normal(shape)  # noqa: E731
    gc(lambda x: Fe.hinge_embedding_loss(x, s, margin=1.5), [rng.uniform(0.1, 2, (4,))])
    gc(lambda x: Fe.multilabel_soft_margin_loss(x, b, weight=ember.tensor([0.5, 2.0], dtype=ember.float64)),
       [n(3, 2)])
    gc(lambda a, c: Fe.margin_ranking_loss(a, c, s, margin=0.1), [n(4), n(4)])
    gc(lambda x: Fe.soft_margin_loss(x, sm), [n(3, 2)])
    gc(lambda a, c: Fe.cosine_embedding_loss(a, c, s, margin=-0.9), [n(4, 3), n(4, 3)])
    gc(lambda a, c: Fe.cosine_similarity(a, c, dim=1), [n(4, 3), n(4, 3)])
    gc(lambda x: Fe.focal_loss(x, ember.tensor([0, 2, 1]), gamma=2.0,
                               alpha=ember.tensor([0.2, 0.3, 0.5], dtype=ember.float64)), [n(3, 3)])
    gc(lambda x: Fe.sigmoid_focal_loss(x, b, reduction="mean"), [n(3, 2)])
    pos, neg = ember.tensor(n(3, 2)), ember.tensor(n(3, 2))
    gc(lambda x: Fe.triplet_margin_with_distance_loss(x, pos, neg, margin=5.0), [n(3, 2)])


@pytest.mark.parametrize("name,make", [
    ("bce_with_logits", lambda m, x, t: F(m).binary_cross_entropy_with_logits(x, t, pos_weight=m.tensor([2.0],
                                                                                                       dtype=m.float32))),
    ("nll", lambda m, x, t: F(m).nll_loss(x, m.tensor([0, 2, 1, 2]), ignore_index=1)),
    ("ce_nd", lambda m, x, t: F(m).cross_entropy(x.reshape(2, 2, 3), m.tensor([[0, 1, 1], [1, 1, 0]]),
                                                 label_smoothing=0.2)),
    ("kl", lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean")),
    ("cosine_embedding", lambda m, x, t: F(m).cosine_embedding_loss(x, t, m.tensor([1.0, -1.0, 1.0, -1.0]))),
])
def test_float32(name, make):
    compare(make, [rng.standard_normal((4, 3)).astype(np.float32), rng.uniform(0.1, 1, (4, 3)).astype(np.float32)],
            dtype=np.float32, atol=1e-5, rtol=1e-4)


def test_float_class_target_error_hints_long():
    with pytest.raises(ValueError, match=r"\.long\(\)"):
        ember.nn.functional.cross_entropy(ember.randn(4, 3), ember.tensor([0.0, 1.0, 2.0, 1.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(37, 6), (5, 6, 3)])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_targets_all_valid_path_is_bitwise_the_masked_one(loss, shape, reduction, dtype):
    """Targets that are all classes (int64, ignore_index outside [0, C)) skip the validity mask's passes; an
    ignore_index inside [0, C) that no target takes runs the masked path: both give the same bits, forward and
    backward, for logits with inf and NaN entries too."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x.reshape(-1)[[3, 11, 20]] = [np.inf, -np.inf, np.nan]
    y = rng.integers(0, shape[1] - 1, (shape[0],) + shape[2:])      # never the last class
    fn = getattr(ember.nn.functional, loss)
    outs = []
    for ignore in (-100, shape[1] - 1):
        xt = ember.tensor(x, requires_grad=True)
        out = fn(xt, ember.tensor(y), ignore_index=ignore, reduction=reduction)
        out.backward(ember.ones_like(out))
        outs.append((out.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype and np.array_equal(np.signbit(a), np.signbit(b))


def test_class_targets_all_valid_path_still_checks_range():
    x = ember.randn(4, 3)
    for bad in ([0, 1, 3, 2], [0, -1, 1, 2]):
        with pytest.raises(IndexError, match="out of bounds for 3 classes"):
            ember.nn.functional.cross_entropy(x, ember.tensor(bad))
        with pytest.raises(IndexError, match="out of bounds for 3 classes"):
            ember.nn.functional.nll_loss(x, ember.tensor(bad))
