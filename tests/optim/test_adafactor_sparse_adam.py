"""optim.Adafactor and optim.SparseAdam step for step against torch (float64 exact to rounding, float32 close),
with their errors."""
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPES = [(4, 5), (3,), (2, 3, 4), ()]


@pytest.mark.parametrize("dtype,kw", [(np.float64, {}),
                                      (np.float64, dict(lr=0.3, beta2_decay=-0.5, eps=(1e-30, 1e-2), d=1.2)),
                                      (np.float32, dict(weight_decay=0.1, lr=0.05, maximize=True, d=1.5))])
def test_adafactor_matches_torch(dtype, kw):
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    pe = [ember.tensor(v, requires_grad=True) for v in vals]
    pt = [torch.tensor(v, requires_grad=True) for v in vals]
    oe, ot = ember.optim.Adafactor(pe, **kw), torch.optim.Adafactor(pt, **kw)
    tol = 1e-13 if dtype == np.float64 else 1e-6
    for it in range(6):
        gs = [rng.standard_normal(s).astype(dtype) * (1e-3 if it == 2 else 1.0) for s in SHAPES]
        for p, g in zip(pe, gs):
            p.grad = ember.tensor(g)
        for p, g in zip(pt, gs):
            p.grad = torch.tensor(g)
        oe.step()
        ot.step()
        for a, b in zip(pe, pt):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(pe, pt):
        se, st = oe.state[a], ot.state[b]
        assert set(se) == set(st) and se["step"] == float(st["step"])
        for k in set(se) - {"step"}:
            assert tuple(se[k].shape) == tuple(st[k].shape)
            np.testing.assert_allclose(se[k].numpy(), st[k].numpy(), rtol=tol * 10, atol=1e-30)


def test_adafactor_errors_as_torch():
    p = [ember.zeros(2, requires_grad=True)]
    for kw in (dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)), dict(d=0.5),
               dict(weight_decay=-1.0)):
        with pytest.raises(ValueError):
            torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kw)
        with pytest.raises(ValueError, match="Adafactor"):
            ember.optim.Adafactor(p, **kw)
    s = ember.zeros(3, 2, requires_grad=True)
    s.grad = ember.sparse_coo_tensor(ember.tensor([[0]]), ember.ones(1, 2), (3, 2))
    with pytest.raises(RuntimeError, match="Adafactor does not support sparse gradients"):
        ember.optim.Adafactor([s]).step()


def _sparse(mod, idx, v, shape):
    return mod.sparse_coo_tensor(mod.tensor(idx), mod.tensor(v), shape)


@pytest.mark.parametrize("dtype,kw", [(np.float64, {}), (np.float32, dict(lr=0.01, betas=(0.8, 0.99),
                                                                          maximize=True))])
def test_sparse_adam_matches_torch(dtype, kw):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 3)).astype(dtype)
    pe, pt = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    oe, ot = ember.optim.SparseAdam([pe], **kw), torch.optim.SparseAdam([pt], **kw)
    tol = 1e-14 if dtype == np.float64 else 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch's note on sparse invariant checks
        for _ in range(5):
            idx, v = rng.integers(0, 6, (1, 4)), rng.standard_normal((4, 3)).astype(dtype)   # repeated rows too
            pe.grad, pt.grad = _sparse(ember, idx, v, (6, 3)), _sparse(torch, idx, v, (6, 3))
            oe.step()
            ot.step()
            np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), rtol=tol, atol=tol)
    assert oe.state[pe]["step"] == ot.state[pt]["step"] == 5
    for k in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(oe.state[pe][k].numpy(), ot.state[pt][k].numpy(), rtol=tol * 10, atol=1e-30)


def test_sparse_adam_errors_as_torch():
    p = ember.zeros(3, 2, requires_grad=True)
    p.grad = ember.ones(3, 2)
    t = torch.zeros(3, 2, requires_grad=True)
    t.grad = torch.ones(3, 2)
    msg = "SparseAdam does not support dense gradients, please consider Adam instead"
    with pytest.raises(RuntimeError, match=msg):
        torch.optim.SparseAdam([t]).step()
    with pytest.raises(RuntimeError, match=msg):
        ember.optim.SparseAdam([p]).step()
    for kw in (dict(lr=0.0), dict(eps=0.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1))):
        with pytest.raises(ValueError, match="Invalid"):
            ember.optim.SparseAdam([p], **kw)


def test_adafactor_mixed_dtypes_in_a_group_as_torch():
    # torch takes the unset epsilon1 from the first parameter's dtype for the whole group
    rng = np.random.default_rng(3)
    vals = [rng.standard_normal((3, 4)), rng.standard_normal((5,)).astype(np.float32) * 1e-6]
    pe = [ember.tensor(v, requires_grad=True) for v in vals]
    pt = [torch.tensor(v, requires_grad=True) for v in vals]
    oe, ot = ember.optim.Adafactor(pe), torch.optim.Adafactor(pt)
    for _ in range(3):
        gs = [(rng.standard_normal(v.shape) * 1e-9).astype(v.dtype) for v in vals]   # g*g below float32 eps**2
        for p, g in zip(pe, gs):
            p.grad = ember.tensor(g)
        for p, g in zip(pt, gs):
            p.grad = torch.tensor(g)
        oe.step()
        ot.step()
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-12)
