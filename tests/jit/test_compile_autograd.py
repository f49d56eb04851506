"""ember.compile(model) with autograd on: the whole forward is one autograd node whose backward is the compiled
plan (ember/jit/_aot.py); the usual eager loop around it must give eager's gradients and parameters."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F


def _lenet():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 4, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 10), nn.ReLU(), nn.Linear(10, 4))


def _bn():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 4))


def _loop(model, steps, xs, ys, opt):
    for i in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs[i % len(xs)]), ys[i % len(ys)])
        loss.backward()
        opt.step()
    return loss


def _data(shape, k=4, n=3):
    r = np.random.default_rng(0)
    return ([ember.tensor(r.standard_normal(shape).astype(np.float32)) for _ in range(n)],
            [ember.tensor(r.integers(0, k, shape[0])) for _ in range(n)])


@pytest.mark.parametrize("make,shape", [(_lenet, (5, 1, 12, 12)), (_bn, (5, 1, 8, 8))])
def test_compiled_module_in_an_eager_training_loop_equals_eager(make, shape):
    a, b = make(), make()
    c = ember.compile(b)
    oa = ember.optim.SGD(a.parameters(), lr=0.05, momentum=0.9)
    ob = ember.optim.SGD(c.parameters(), lr=0.05, momentum=0.9)
    xs, ys = _data(shape)
    la, lb = _loop(a, 5, xs, ys, oa), _loop(c, 5, xs, ys, ob)
    np.testing.assert_allclose(lb.item(), la.item(), rtol=1e-6)
    assert c.stats["compiled_calls"] == 4 and type(c._compiled._cache[next(iter(c._compiled._cache))].aot) \
        .__name__ == "AotGraph"
    sa, sb = a.state_dict(), b.state_dict()
    for k in sa:
        np.testing.assert_allclose(sb[k].numpy(), sa[k].numpy(), rtol=1e-6, atol=1e-6, err_msg=k)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_input_grad_frozen_layers_and_tuple_outputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            ember.manual_seed(0)
            self.a, self.b = nn.Linear(6, 5), nn.Linear(5, 3)

        def forward(self, x):
            h = self.a(x).tanh()
            return self.b(h), h
    m1, m2 = Two(), Two()
    c = ember.compile(m2)
    for step in range(4):
        if step == 2:                       # freeze a layer mid-way: a new plan, no gradient for it
            m1.a.weight.requires_grad_(False)
            m2.a.weight.requires_grad_(False)
        grads = []
        for m in (m1, c):
            x = ember.ones(4, 6, requires_grad=True)
            for p in m.parameters():
                p.grad = None
            out, h = m(x)
            (out.square().sum() + h.sum()).backward()
            grads.append([x.grad] + [p.grad for p in m.parameters()])
        for g1, g2 in zip(*grads):
            assert (g1 is None) == (g2 is None)
            if g1 is not None:
                np.testing.assert_allclose(g2.numpy(), g1.numpy(), rtol=1e-6, atol=1e-7)
    assert m2.a.weight.grad is None


def test_retain_graph_and_create_graph():
    m = _lenet()
    c = ember.compile(m)
    x = ember.randn(2, 1, 12, 12)
    c(x)
    out = c(x).sum()
    out.backward(retain_graph=True)
    g1 = m[0].weight.grad.numpy().copy()
    out.backward()
    np.testing.assert_allclose(m[0].weight.grad.numpy(), 2 * g1, rtol=1e-5)
    with pytest.raises(RuntimeError, match="second time"):
        out.backward()
    with pytest.raises(RuntimeError, match="once-differentiable"):
        ember.autograd.grad(c(x).sum(), m[0].weight, create_graph=True)


def test_inplace_relu_model_is_compiled_and_equals_eager():
    """ReLU(inplace=True) (torchvision's ResNets) used to make the trace fail (Tensor._inplace's snapshot of the
    old value looked opaque), so such models always ran eagerly."""
    def make():
        ember.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.Flatten(),
                             nn.Linear(4 * 6 * 6, 4), nn.ReLU(inplace=True))
    a, b = make(), make()
    c = ember.compile(b)
    oa = ember.optim.SGD(a.parameters(), lr=0.05)
    ob = ember.optim.SGD(c.parameters(), lr=0.05)
    xs, ys = _data((5, 1, 8, 8))
    _loop(a, 4, xs, ys, oa)
    _loop(c, 4, xs, ys, ob)
    assert "compiled" in c.explain() and c.stats["compiled_calls"] == 3
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-6, atol=1e-6)
