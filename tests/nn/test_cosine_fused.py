"""``cosine_similarity`` and ``normalize`` (p = 2) as one node each (``ember.ops._cosine``): the composites'
values bit for bit, forward, gradient and second derivatives, and PyTorch's values and grad_fn names."""
import numpy as np
import pytest
import torch

import ember
from ember.nn.functional import _loss as L


def _run(x1, x2, g, dim, eps, fused, monkeypatch, create_graph=False):
    if not fused:
        monkeypatch.setattr(L, "_COSINE_FUSED", ())
    a, b = ember.tensor(x1, requires_grad=True), ember.tensor(x2, requires_grad=True)
    y = ember.nn.functional.cosine_similarity(a, b, dim, eps)
    ga, gb = ember.autograd.grad(y, (a, b), ember.tensor(g), create_graph=create_graph)
    out = [y, ga, gb]
    if create_graph:        # a second derivative through both inputs
        out += list(ember.autograd.grad((ga * ga).sum() + (gb * a).sum(), (a, b)))
    monkeypatch.undo()
    return out, type(y.grad_fn).__name__


def _bits(t):
    a = t.detach().numpy().reshape(-1)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", [((128, 64), 1), ((7, 5, 3), 1), ((4, 6), 0), ((9,), 0),
                                        ((6, 4, 2), -1), ((2000, 40), 1)])
@pytest.mark.parametrize("zeros", [False, True])      # a zero row (norm 0, clamped to eps) and tiny ones
def test_the_composites_bits(monkeypatch, shape, dim, dtype, zeros):
    rng = np.random.default_rng(1)
    x1, x2 = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    if zeros:
        x1[0] = 0
        x2[..., :1] *= 1e-12
    g = rng.standard_normal(np.delete(np.array(shape), dim)).astype(dtype)
    for eps in (1e-8, 0.5):
        fused, name = _run(x1, x2, g, dim, eps, True, monkeypatch)
        comp, cname = _run(x1, x2, g, dim, eps, False, monkeypatch)
        assert (name, cname) == ("CosineSimilarity", "Sum")
        for f, c in zip(fused, comp):
            np.testing.assert_array_equal(_bits(f), _bits(c))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_second_derivatives_and_torch(monkeypatch, dtype):
    rng = np.random.default_rng(2)
    x1, x2 = (rng.standard_normal((5, 7)).astype(dtype) for _ in range(2))
    g = rng.standard_normal(5).astype(dtype)
    fused, _ = _run(x1, x2, g, 1, 1e-8, True, monkeypatch, create_graph=True)
    comp, _ = _run(x1, x2, g, 1, 1e-8, False, monkeypatch, create_graph=True)
    for f, c in zip(fused, comp):
        np.testing.assert_allclose(f.detach().numpy(), c.detach().numpy(), rtol=1e-6, atol=1e-7)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    ty = torch.nn.functional.cosine_similarity(ta, tb, 1, 1e-8)
    tga, tgb = torch.autograd.grad(ty, (ta, tb), torch.tensor(g), create_graph=True)
    want = [ty, tga, tgb] + list(torch.autograd.grad((tga * tga).sum() + (tgb * ta).sum(), (ta, tb)))
    for f, t in zip(fused, want):
        np.testing.assert_allclose(f.detach().numpy(), t.detach().numpy(), rtol=2e-5, atol=1e-6)
    assert ty.grad_fn.name() == "SumBackward1"
    a = ember.tensor(x1, requires_grad=True)
    assert ember.nn.functional.cosine_similarity(a, ember.tensor(x2)).grad_fn.name() == "SumBackward1"


def test_other_inputs_keep_the_composite():
    """Broadcast inputs, float16, a one-element dim and 0-d inputs take the composite, as before."""
    F = ember.nn.functional
    for x1, x2, dim in ((ember.randn(4, 6), ember.randn(1, 6), 1),
                        (ember.randn(4, 6).half(), ember.randn(4, 6).half(), 1),
                        (ember.randn(4, 1), ember.randn(4, 1), 1), (ember.randn(()), ember.randn(()), 0)):
        x1.requires_grad_()
        y = F.cosine_similarity(x1, x2, dim)
        assert type(y.grad_fn).__name__ != "CosineSimilarity"
        t = torch.nn.functional.cosine_similarity(torch.tensor(x1.detach().float().numpy()),
                                                  torch.tensor(x2.float().numpy()), dim)
        np.testing.assert_allclose(y.detach().float().numpy(), t.numpy(), rtol=2e-3, atol=1e-3)


def _run_normalize(x, g, dim, eps, fused, monkeypatch, create_graph=False):
    from ember.ops import normalization as N
    if not fused:
        monkeypatch.setattr(N, "_NORMALIZE_FUSED", ())
    a = ember.tensor(x, requires_grad=True)
    y = ember.nn.functional.normalize(a, 2.0, dim, eps)
    (ga,) = ember.autograd.grad(y, (a,), ember.tensor(g), create_graph=create_graph)
    out = [y, ga]
    if create_graph:
        out += list(ember.autograd.grad((ga * ga).sum() + (ga * a).sum(), (a,)))
    monkeypatch.undo()
    return out, type(y.grad_fn).__name__


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", [((128, 64), 1), ((7, 5, 3), 1), ((4, 6), 0), ((9,), 0),
                                        ((6, 4, 2), -1)])
@pytest.mark.parametrize("zeros", [False, True])
def test_normalize_the_composites_bits(monkeypatch, shape, dim, dtype, zeros):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    if zeros:               # a zero row (its norm clamped, the clamp's zero gradient) and tiny values
        x[0] = 0
        x[..., -1:] *= 1e-13
    g = rng.standard_normal(shape).astype(dtype)
    for eps in (1e-12, 0.5):
        fused, name = _run_normalize(x, g, dim, eps, True, monkeypatch)
        comp, cname = _run_normalize(x, g, dim, eps, False, monkeypatch)
        assert (name, cname) == ("Normalize2", "Div")
        for f, c in zip(fused, comp):
            np.testing.assert_array_equal(_bits(f), _bits(c))
        fused, _ = _run_normalize(x, g, dim, eps, True, monkeypatch, create_graph=True)
        comp, _ = _run_normalize(x, g, dim, eps, False, monkeypatch, create_graph=True)
        for f, c in zip(fused, comp):
            np.testing.assert_allclose(f.detach().numpy(), c.detach().numpy(), rtol=1e-5, atol=1e-6)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.normalize(xt, 2.0, dim)
    (gt,) = torch.autograd.grad(yt, (xt,), torch.tensor(g))
    fused, _ = _run_normalize(x, g, dim, 1e-12, True, monkeypatch)
    np.testing.assert_allclose(fused[0].detach().numpy(), yt.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(fused[1].numpy(), gt.numpy(), rtol=1e-4, atol=1e-5)
    ye = ember.nn.functional.normalize(ember.tensor(x, requires_grad=True), dim=dim)
    assert yt.grad_fn.name() == "DivBackward0" == ye.grad_fn.name()
