"""nn.utils.parametrizations.orthogonal against PyTorch: every map (matrix_exp, cayley, householder, the
default), with and without the trivialization, square, tall, wide and batched weights, float64 and float32:
the initial weight, the forward and the gradient of the original (with PyTorch's base loaded), assignment
(right_inverse), state_dict keys, repr, errors; linalg.householder_product (values, gradients, errors) and
finite-difference checks of each map."""
import numpy as np
import pytest
import torch
from torch.nn.utils import parametrizations as TP

import ember
import ember.nn as nn
from ember.nn.utils import parametrizations as EP
from tests.helpers import assert_close, compare, gradcheck

MAPS = [None, "matrix_exp", "cayley", "householder"]


def _edt(tdt):
    return getattr(ember, str(tdt).split(".")[1])


def _to_ember(sd):
    return {k: ember.tensor(v.detach().numpy().copy()) for k, v in sd.items()}


class _TBatched(torch.nn.Module):
    def __init__(self, shape, dtype):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(*shape, dtype=dtype))


class _EBatched(nn.Module):
    def __init__(self, shape, dtype):
        super().__init__()
        self.weight = nn.Parameter(ember.zeros(*shape, dtype=dtype))


def _pair(shape, tdt):
    """A torch module and an ember module with the same weight of ``shape`` (out, in) or a batch of them."""
    torch.manual_seed(sum(shape))
    if len(shape) == 2:
        tm = torch.nn.Linear(shape[1], shape[0], dtype=tdt)
        em = nn.Linear(shape[1], shape[0], dtype=_edt(tdt))
    else:
        tm, em = _TBatched(shape, tdt), _EBatched(shape, _edt(tdt))
    em.load_state_dict(_to_ember(tm.state_dict()))
    return tm, em


@pytest.mark.parametrize("tdt", [torch.float64, torch.float32])
@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 3), (2, 5, 3), (2, 3, 3)])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("triv", [True, False])
def test_against_torch(shape, orthogonal_map, triv, tdt):
    tol = dict(atol=1e-12, rtol=1e-10) if tdt == torch.float64 else dict(atol=2e-5, rtol=1e-4)
    tm, em = _pair(shape, tdt)
    TP.orthogonal(tm, orthogonal_map=orthogonal_map, use_trivialization=triv)
    EP.orthogonal(em, orthogonal_map=orthogonal_map, use_trivialization=triv)
    sd = tm.state_dict()
    assert list(em.state_dict()) == list(sd)
    # the initial weight: kept (orthogonalised) -- the same as PyTorch's even where the completion of a
    # non-square base is random (only its first columns reach the weight)
    assert_close(em.weight, tm.weight, **tol, what="initial weight")
    em.load_state_dict(_to_ember(sd))
    assert_close(em.weight, tm.weight, **tol, what="weight")
    w = em.weight.detach()
    gram = w.mT @ w if w.shape[-2] >= w.shape[-1] else w @ w.mT
    k = min(w.shape[-2:])
    assert_close(gram, np.broadcast_to(np.eye(k), gram.shape), atol=1e-5 if tdt == torch.float32 else 1e-12)
    rng = np.random.default_rng(0)
    g = rng.standard_normal(tuple(tm.weight.shape))
    (tm.weight * torch.tensor(g, dtype=tdt)).sum().backward()
    (em.weight * ember.tensor(g.astype(str(tdt).split(".")[1]))).sum().backward()
    assert_close(em.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad,
                 **tol, what="grad of original")


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_assignment(shape, orthogonal_map):
    tm, em = _pair(shape, torch.float64)
    TP.orthogonal(tm, orthogonal_map=orthogonal_map)
    EP.orthogonal(em, orthogonal_map=orthogonal_map)
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)
    q = np.linalg.qr(a if shape[0] >= shape[1] else a.T)[0]
    q = q if shape[0] >= shape[1] else q.T
    for value in (a, q):                # not orthogonal: orthogonalised; orthogonal: kept
        with torch.no_grad():
            tm.weight = torch.tensor(value)
        em.weight = ember.tensor(value)
        assert_close(em.weight, tm.weight, 1e-12, 1e-10)
        em.load_state_dict(_to_ember(tm.state_dict()))      # the base (its random completion, if not square)
        assert_close(em.weight, tm.weight, 1e-12, 1e-10)
    assert_close(em.weight, q, 1e-12, 1e-10)


def test_assignment_householder_without_trivialization():
    tm, em = _pair((5, 3), torch.float64)
    TP.orthogonal(tm, orthogonal_map="householder", use_trivialization=False)
    EP.orthogonal(em, orthogonal_map="householder", use_trivialization=False)
    a = np.random.default_rng(2).standard_normal((5, 3))
    with torch.no_grad():
        tm.weight = torch.tensor(a)
    em.weight = ember.tensor(a)
    assert_close(em.parametrizations.weight.original, tm.parametrizations.weight.original, 1e-12, 1e-10)
    assert_close(em.weight, tm.weight, 1e-12, 1e-10)
    tm2, em2 = _pair((4, 4), torch.float64)
    TP.orthogonal(tm2, orthogonal_map="cayley", use_trivialization=False)
    EP.orthogonal(em2, orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential or the Cayley"):
        em2.weight = ember.eye(4, dtype=ember.float64)


def test_training_keeps_orthogonal_and_repr():
    em = EP.orthogonal(nn.Linear(5, 8))
    tm = TP.orthogonal(torch.nn.Linear(5, 8))
    assert repr(em) == repr(tm)
    assert type(em.parametrizations.weight[0]).__name__ == "_Orthogonal"
    assert em.parametrizations.weight[0].orthogonal_map == EP._OrthMaps.householder
    opt = ember.optim.SGD(em.parameters(), lr=0.1)
    x = ember.randn(16, 5)
    for _ in range(3):
        opt.zero_grad()
        em(x).pow(2).sum().backward()
        opt.step()
    w = em.weight.detach()
    assert_close(w.mT @ w, np.eye(5), atol=1e-5)
    sq = EP.orthogonal(nn.Linear(4, 4))
    assert sq.parametrizations.weight[0].orthogonal_map == EP._OrthMaps.matrix_exp


def test_errors():
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        EP.orthogonal(nn.Linear(3, 3), "nope")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions."):
        EP.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                                         'Got: qr'):
        EP.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    m = EP.orthogonal(nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"Expected a matrix or batch of matrices of shape ember.Size\(\[4, 3\]\)"):
        m.weight = ember.randn(3, 4)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_gradcheck_maps(orthogonal_map, shape):
    orth = EP._Orthogonal(ember.zeros(*shape), EP._OrthMaps[orthogonal_map], use_trivialization=False)
    if orthogonal_map == "householder":     # keep the (non-differentiated) diagonal at +-1
        def fn(x):
            k = min(shape)
            sign = ember.tensor(np.diag(np.array([1.0, -1.0] * k)[:k]))
            pad = ember.zeros(*shape, dtype=ember.float64)
            pad[:k, :k] = sign
            return orth(x.tril(-1) + x.triu(1) + pad) if shape[0] >= shape[1] else orth(x.triu(1) + pad)
    else:
        def fn(x):
            return orth(x * 0.5)
    assert gradcheck(fn, [shape])


def test_householder_product():
    for sh, k in [((5, 3), 3), ((2, 6, 4), 2), ((4, 4), 4), ((3, 3), 0)]:
        tau = np.random.default_rng(1).random(sh[:-2] + (k,))
        compare(lambda m, a, t: m.linalg.householder_product(a, t), [sh, tau])
        compare(lambda m, a, t: m.linalg.householder_product(a, t), [sh, tau.astype(np.float32)],
                dtype=np.float32, atol=1e-5, rtol=1e-4)
    assert gradcheck(lambda a, t: ember.linalg.householder_product(a, t), [(5, 3), (2,)])
    rng = np.random.default_rng(3)
    a = ember.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    t = ember.tensor(rng.random(2), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, t: ember.linalg.householder_product(a, t), [a, t])
    # tau == 0 (LAPACK's skipped reflection) and large products of non-orthogonal reflectors
    compare(lambda m, a, t: m.linalg.householder_product(a, t), [(4, 3), np.array([0.5, 0.0, 1.2])])
    compare(lambda m, a, t: m.linalg.householder_product(a, t * 0.3), [(40, 20), (20,)], atol=1e-9, rtol=1e-9)
    a = ember.randn(4, 3, dtype=ember.float64)
    out = ember.empty(4, 3, dtype=ember.float64)
    r = ember.linalg.householder_product(a, ember.ones(3, dtype=ember.float64), out=out)
    assert r is out and ember.allclose(out, ember.linalg.householder_product(a, ember.ones(3, dtype=ember.float64)))
    hp = ember.linalg.householder_product
    with pytest.raises(RuntimeError, match="input.shape\\[-2\\] must be greater than or equal to input.shape\\[-1\\]"):
        hp(ember.randn(3, 4), ember.randn(3))
    with pytest.raises(RuntimeError, match="input.shape\\[-1\\] must be greater than or equal to tau.shape\\[-1\\]"):
        hp(ember.randn(4, 3), ember.randn(4))
    with pytest.raises(RuntimeError, match="Expected tau to have one dimension less than input"):
        hp(ember.randn(4, 3), ember.randn(1, 3))
    with pytest.raises(RuntimeError, match="tau dtype ember.float64 does not match input dtype ember.float32"):
        hp(ember.randn(4, 3), ember.randn(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        hp(ember.randn(4), ember.randn(3))


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_device_path(orthogonal_map):
    """The device path on the NumPy-backed CUDA stand-in (tests/devices/fake_cupy): weight, base and gradient
    stay on the device and equal the CPU's."""
    from ember.backend import device as _dev
    from tests.devices import fake_cupy
    res = {}
    _dev.register_cuda_module(fake_cupy.module)
    try:
        for dev in ("cpu", "cuda"):
            res[dev] = []
            for n_in in (3, 5):     # wide (a random completion of the base: only the weight compared) and square
                ember.manual_seed(0)
                lin = EP.orthogonal(nn.Linear(n_in, 5, dtype=ember.float64).to(dev), orthogonal_map=orthogonal_map)
                lin(ember.ones(2, n_in, dtype=ember.float64).to(dev)).pow(2).sum().backward()
                orig = lin.parametrizations.weight.original
                assert lin.weight.device.type == lin.parametrizations.weight[0].base.device.type == dev
                assert orig.grad.device.type == dev
                res[dev].append(lin.weight.detach().cpu().numpy())
            res[dev].append(orig.grad.cpu().numpy())
    finally:
        _dev.register_cuda_module(None)
        _dev._tried = False
    for a, b in zip(res["cpu"], res["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
