"""Losses given input and target of different shapes, against torch 2.13: which broadcast (mse/l1/huber/
smooth_l1 with PyTorch's UserWarning; poisson_nll/gaussian_nll/kl_div/hinge_embedding/soft_margin/
multilabel_soft_margin silently), which raise (the binary cross-entropies: ValueError), and the values and
gradients of the broadcast ones (float64)."""
import warnings

import numpy as np
import pytest
import torch

import ember

PAIRS = [((3, 4), (4,)), ((3, 4), (1, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((3, 4), ()), ((), (3,)),
         ((2, 3), (2, 3))]
BAD = ((3, 4), (2, 4))


def _mods(m):
    F = m.nn.functional
    return {
        "mse_loss": lambda i, t, **k: F.mse_loss(i, t, **k),
        "l1_loss": lambda i, t, **k: F.l1_loss(i, t, **k),
        "smooth_l1_loss": lambda i, t, **k: F.smooth_l1_loss(i, t, beta=0.3, **k),
        "smooth_l1_loss_beta0": lambda i, t, **k: F.smooth_l1_loss(i, t, beta=0.0, **k),
        "huber_loss": lambda i, t, **k: F.huber_loss(i, t, delta=0.4, **k),
        "poisson_nll_loss": lambda i, t, **k: F.poisson_nll_loss(i, t, **k),
        "poisson_nll_loss_full": lambda i, t, **k: F.poisson_nll_loss(i, t * 3, log_input=False, full=True, **k),
        "gaussian_nll_loss": lambda i, t, **k: F.gaussian_nll_loss(i, t, m.ones(i.shape, dtype=i.dtype) * 0.7,
                                                                   **k),
        "gaussian_nll_loss_float_var": lambda i, t, **k: F.gaussian_nll_loss(i, t, 0.5, **k),
        "kl_div": lambda i, t, **k: F.kl_div(i, t, **k),
        "kl_div_log_target": lambda i, t, **k: F.kl_div(i, t, log_target=True, **k),
        "hinge_embedding_loss": lambda i, t, **k: F.hinge_embedding_loss(i, m.sign(t - 0.5), **k),
        "soft_margin_loss": lambda i, t, **k: F.soft_margin_loss(i, m.sign(t - 0.5).detach(), **k),
    }


WARNS = {"mse_loss", "l1_loss", "smooth_l1_loss", "smooth_l1_loss_beta0", "huber_loss"}


def _data(si, st, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 0.9, si), rng.uniform(0.1, 0.9, st)


def _run(m, name, a, b, reduction):
    i = m.tensor(a, dtype=m.float64, requires_grad=True)
    t = m.tensor(b, dtype=m.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = _mods(m)[name](i, t, reduction=reduction)
    out.sum().backward()
    msgs = [(str(x.message).replace("ember.Size", "torch.Size"), x.category, x.filename) for x in w
            if "target size" in str(x.message)]
    return out, i.grad, t.grad, msgs


@pytest.mark.parametrize("name", sorted(_mods(torch)))
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_broadcast_values_gradients_and_warning(name, shapes, reduction):
    if name == "soft_margin_loss" and np.broadcast_shapes(*shapes) != shapes[0]:
        pytest.skip("soft_margin_loss raises when the target does not broadcast to input's shape (tested below)")
    a, b = _data(*shapes)
    ot, git, gtt, wt = _run(torch, name, a, b, reduction)
    oe, gie, gte, we = _run(ember, name, a, b, reduction)
    assert tuple(oe.shape) == tuple(ot.shape)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gie.numpy(), git.numpy(), rtol=1e-12, atol=1e-12)
    if gtt is not None:         # torch's target gradient (sign() targets have none in either library)
        np.testing.assert_allclose(gte.numpy(), gtt.numpy(), rtol=1e-12, atol=1e-12)
    assert we == wt             # same text, category UserWarning and the caller's line (this file)
    assert bool(wt) == (name in WARNS and shapes[0] != shapes[1])


@pytest.mark.parametrize("name", sorted(_mods(torch)))
def test_non_broadcastable_shapes_raise_runtime_error(name):
    a, b = _data(*BAD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError):
            _mods(torch)[name](torch.tensor(a), torch.tensor(b))
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(2\) "
                                               r"at non-singleton dimension 0"):
            _mods(ember)[name](ember.tensor(a), ember.tensor(b))
    name_in_msg = name.replace("_beta0", "").replace("_full", "").replace("_float_var", "").replace("_log_target", "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match=name_in_msg):
            _mods(ember)[name](ember.tensor(a), ember.tensor(b))


@pytest.mark.parametrize("shapes", PAIRS[:-1], ids=str)
def test_binary_cross_entropies_raise_value_error_like_torch(shapes):
    a, b = _data(*shapes)
    for fn in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        with pytest.raises(ValueError) as te:
            getattr(torch.nn.functional, fn)(torch.tensor(a), torch.tensor(b))
        with pytest.raises(ValueError) as ee:
            getattr(ember.nn.functional, fn)(ember.tensor(a), ember.tensor(b))
        assert str(ee.value) == f"{fn}: " + str(te.value).replace("torch.Size", "ember.Size")


def test_warning_text_matches_torch_exactly():
    with pytest.warns(UserWarning) as rec:
        ember.nn.functional.mse_loss(ember.zeros(3, 4), ember.zeros(4))
    assert str(rec[0].message) == ("Using a target size (ember.Size([4])) that is different to the input size "
                                   "(ember.Size([3, 4])). This will likely lead to incorrect results due to "
                                   "broadcasting. Please ensure they have the same size.")
    assert rec[0].filename == __file__


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 4), (1, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)),
                                    ((3, 4), ())], ids=str)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_broadcasts_like_torch(shapes, weighted):
    a, b = _data(*shapes)
    res = []
    for m in (torch, ember):
        i = m.tensor(a, dtype=m.float64, requires_grad=True)
        t = m.tensor(b, dtype=m.float64, requires_grad=True)
        kw = {"weight": m.tensor(np.linspace(0.5, 2, shapes[0][-1]), dtype=m.float64)} if weighted else {}
        out = m.nn.functional.multilabel_soft_margin_loss(i, t, reduction="none", **kw)
        (out * m.arange(1.0, out.numel() + 1, dtype=m.float64).reshape(out.shape)).sum().backward()
        res.append((out.detach().numpy(), i.grad.numpy(), t.grad.numpy()))
    for x, y in zip(*res):
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12)


def test_multilabel_soft_margin_0d_input_raises_index_error():
    with pytest.raises(IndexError):
        torch.nn.functional.multilabel_soft_margin_loss(torch.tensor(0.3), torch.tensor(1.0))
    with pytest.raises(IndexError, match="multilabel_soft_margin_loss"):
        ember.nn.functional.multilabel_soft_margin_loss(ember.tensor(0.3), ember.tensor(1.0))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_weight_with_broadcast_target(name):
    a, b = _data((3, 4), (4,))
    w = np.linspace(0.5, 2, 12).reshape(3, 4)
    res = []
    for m in (torch, ember):
        i = m.tensor(a, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(m.nn.functional, name)(i, m.tensor(b), weight=m.tensor(w))
        out.backward()
        res.append((out.detach().numpy(), i.grad.numpy()))
    for x, y in zip(*res):
        np.testing.assert_allclose(y, x, rtol=1e-12)
    with pytest.raises(ValueError, match=f"{name}: Weights and input must have the same size"):
        getattr(ember.nn.functional, name)(ember.tensor(a), ember.tensor(a), weight=ember.ones(4))


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (1, 4)), ((3, 1), (1, 4), (3, 4)), ((4,), (4,), (1,))],
                         ids=str)
def test_margin_ranking_broadcasts_like_torch(shapes):
    rng = np.random.default_rng(3)
    arrs = [rng.standard_normal(s) for s in shapes]
    arrs[2] = np.sign(arrs[2])
    res = []
    for m in (torch, ember):
        x1, x2 = (m.tensor(x, requires_grad=True) for x in arrs[:2])
        out = m.nn.functional.margin_ranking_loss(x1, x2, m.tensor(arrs[2]), margin=0.3, reduction="none")
        out.sum().backward()
        res.append((out.detach().numpy(), x1.grad.numpy(), x2.grad.numpy()))
    for x, y in zip(*res):
        np.testing.assert_allclose(y, x, rtol=1e-12)


def test_margin_ranking_different_ndim_raises_runtime_error():
    args = (np.zeros((3, 4)), np.zeros(4), np.ones(4))
    with pytest.raises(RuntimeError, match="same dimension"):
        torch.nn.functional.margin_ranking_loss(*map(torch.tensor, args))
    with pytest.raises(RuntimeError, match="margin_ranking_loss: All input tensors should have same dimension"):
        ember.nn.functional.margin_ranking_loss(*map(ember.tensor, args))


def test_loss_modules_broadcast_too():
    with pytest.warns(UserWarning, match="target size"):
        out = ember.nn.MSELoss()(ember.ones(3, 4), ember.zeros(4))
    assert float(out) == 1.0
    out = ember.nn.KLDivLoss(reduction="sum")(ember.zeros(2, 3), ember.full((3,), 0.5))
    np.testing.assert_allclose(float(out), 6 * 0.5 * np.log(0.5))


@pytest.mark.parametrize("shapes", [((4,), (3, 4)), ((3, 1), (1, 4)), ((), (3,))], ids=str)
def test_soft_margin_target_must_broadcast_to_input_shape(shapes):
    a, b = _data(*shapes)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        torch.nn.functional.soft_margin_loss(torch.tensor(a), torch.tensor(b))
    with pytest.raises(RuntimeError, match="soft_margin_loss: output with shape .* doesn't match the broadcast shape"):
        ember.nn.functional.soft_margin_loss(ember.tensor(a), ember.tensor(b))
