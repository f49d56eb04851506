"""The backward engine: long chains, diamonds, retain_graph, freed buffers, create_graph higher derivatives vs
torch, autograd.grad (allow_unused, grad_outputs), gradient aliasing, multi-output nodes and hooks."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd.engine import _sole_owner


@pytest.mark.slow
def test_chain_of_100k_ops_no_recursion():
    x = ember.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_long_chain_10k():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y + 0.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_diamond_accumulates():
    for m in (ember, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a = x * 2
        b = a.exp()
        c = a.sin()
        (b + c + a).sum().backward()
        if m is ember:
            ge = x.grad.numpy().copy()
        else:
            np.testing.assert_allclose(ge, x.grad.numpy(), rtol=1e-5)


def test_grad_accumulates_over_backwards_and_reused_leaf():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]
    x.grad = None
    (x + x + x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_retain_graph_and_freed_buffers_error():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match=r"backward through the graph a second time.*retain_graph=True"):
        y.backward()
    z = (x.exp() * 2).sum()
    ember.autograd.grad(z, x)
    with pytest.raises(RuntimeError, match=r"second time.*(Exp|Mul|Sum)"):
        z.backward()


def test_backward_nonscalar_requires_gradient():
    x = ember.randn(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(3,\)"):
        y.backward()
    y.backward(ember.ones(3))
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match=r"gradient.*\(2,\).*\(3,\)"):
        (x * 2).backward(ember.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_many_uses_accumulate_without_touching_incoming_gradients(create_graph):
    # a leaf used many times: the engine sums its gradients in place into a buffer of its own, never into a
    # gradient another node sent (u's retained gradient, the shared ones of the add nodes, the user's g)
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    u = w * 3
    u.retain_grad()
    g = ember.ones(2)
    out = u + w + w + w * w
    out.backward(g, create_graph=create_graph)
    assert w.grad.tolist() == [7.0, 9.0] and u.grad.tolist() == [1.0, 1.0] and g.tolist() == [1.0, 1.0]
    assert (w.grad.grad_fn is not None) == create_graph
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    (tw * 3 + tw + tw + tw * tw).backward(torch.ones(2), create_graph=create_graph)
    assert w.grad.tolist() == tw.grad.tolist()
    shared = ember.ones(2)

    class Same(ember.autograd.Function):     # every use sends the very same gradient tensor
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return shared

    v = ember.zeros(2, requires_grad=True)
    (Same.apply(v) + Same.apply(v) + Same.apply(v) + Same.apply(v)).sum().backward(create_graph=create_graph)
    assert v.grad.tolist() == [4.0, 4.0] and shared.tolist() == [1.0, 1.0]


def test_grads_never_alias():
    # a + b: both leaves get the same incoming gradient; x + x; the user's gradient= tensor
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    g = ember.ones(3)
    (a + b).backward(g)
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    assert not np.shares_memory(a.grad.numpy(), g.numpy()) and not np.shares_memory(b.grad.numpy(), g.numpy())
    a.grad.add_(1)
    assert b.grad.tolist() == [1.0, 1.0, 1.0] and g.tolist() == [1.0, 1.0, 1.0]
    x = ember.ones(2, requires_grad=True)
    gg = ember.ones(2)
    x.backward(gg)          # a leaf as the root
    assert not np.shares_memory(x.grad.numpy(), gg.numpy())
    y = ember.ones(2, requires_grad=True)
    w = y.view(2)
    z = w * 1
    z.backward(gg)
    y.grad.mul_(5)
    assert gg.tolist() == [1.0, 1.0]
    c = ember.ones(2, requires_grad=True)
    d = ember.ones(2, requires_grad=True)
    (c.expand(2, 2) + d.expand(2, 2)).sum().backward()
    c.grad.add_(1)
    assert d.grad.tolist() == [2.0, 2.0]
    e = ember.ones(2, requires_grad=True)
    f = e.clone()
    (e + f).sum().backward()  # two paths into e
    assert e.grad.tolist() == [2.0, 2.0]


HIGHER = {
    "cube": (lambda m, x: x ** 3, 3),
    "tanh": (lambda m, x: m.tanh(x), 3),
    "sigmoid": (lambda m, x: m.sigmoid(x), 2),
    "exp_sin": (lambda m, x: m.exp(m.sin(x)), 2),
    "log": (lambda m, x: m.log(x * x + 1), 2),
    "div": (lambda m, x: 1 / (x * x + 1), 2),
    "sqrt": (lambda m, x: m.sqrt(x * x + 1), 2),
    "softmax": (lambda m, x: m.softmax(x, 0) * m.arange(4, dtype=x.dtype), 2),
    "logsumexp": (lambda m, x: m.logsumexp(x, 0) * x, 2),
    "norm": (lambda m, x: m.norm(x) * x, 2),
    "matmul": (lambda m, x: (x.reshape(2, 2) @ x.reshape(2, 2)).reshape(-1), 2),
    "prod": (lambda m, x: x.prod() * x, 2),
    "var": (lambda m, x: x.var() * x, 2),
    "max": (lambda m, x: x.max(0).values * x, 2),
    "pow_tensor": (lambda m, x: (x.abs() + 1) ** x, 2),
    "index": (lambda m, x: x[m.tensor([0, 0, 3])].exp().sum() * x, 2),
    "erf": (lambda m, x: m.erf(x), 2),
    "abs": (lambda m, x: m.abs(x) ** 3, 2),
    "cumsum": (lambda m, x: m.cumsum(x ** 2, 0), 2),
    "where": (lambda m, x: m.where(x > 0, x ** 2, x ** 3), 2),
}


@pytest.mark.parametrize("name", sorted(HIGHER))
def test_higher_derivatives_match_torch(name):
    fn, order = HIGHER[name]
    a = np.array([0.3, -1.2, 0.7, 1.5])
    res = {}
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        y = fn(m, x).sum()
        outs = []
        for _ in range(order):
            (y,) = m.autograd.grad(y, x, create_graph=True)
            outs.append(y.detach().numpy().copy())
            y = y.sum()
        res[m] = outs
    for k, (e, t) in enumerate(zip(res[ember], res[torch])):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-8, err_msg=f"derivative {k + 1}")


def test_second_derivative_values():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    assert g.tolist() == [3.0, 12.0] and h.tolist() == [6.0, 12.0]
    # backward(create_graph=True) leaves a differentiable .grad
    y = ember.tensor(0.5, requires_grad=True)
    ember.tanh(y).backward(create_graph=True)
    gy = y.grad
    assert gy.requires_grad
    (h2,) = ember.autograd.grad(gy, y)
    t = torch.tensor(0.5, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.tanh(t), t, create_graph=True)
    (ht,) = torch.autograd.grad(gt, t)
    assert abs(h2.item() - ht.item()) < 1e-6


def test_autograd_grad_api():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.tensor([3.0], requires_grad=True)
    z = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1.*allow_unused"):
        ember.autograd.grad(z, [x, y], retain_graph=True)
    gx, gy = ember.autograd.grad(z, [x, y], allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0, 2.0] and gy is None
    gx, gy = ember.autograd.grad(z, [x, y], allow_unused=True, materialize_grads=True)
    assert gy.tolist() == [0.0]
    assert x.grad is None      # grad() does not accumulate
    w = x * 3
    (gw,) = ember.autograd.grad(w, x, grad_outputs=ember.tensor([1.0, 10.0]))
    assert gw.tolist() == [3.0, 30.0] and not gw.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad((x * 2).sum(), ember.ones(2))
    # grad w.r.t. a non-leaf
    a = x * 2
    b = (a * a).sum()
    (ga,) = ember.autograd.grad(b, a)
    assert ga.tolist() == [4.0, 8.0]
    # several outputs
    o1, o2 = (x * 2).sum(), (x * x).sum()
    (g,) = ember.autograd.grad([o1, o2], x)
    assert g.tolist() == [4.0, 6.0]


def test_backward_inputs_argument():
    x = ember.tensor([1.0], requires_grad=True)
    y = ember.tensor([2.0], requires_grad=True)
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and y.grad is None


def test_multi_output_nodes():
    for m in (ember, torch):
        x = m.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
        a, b = x.unbind(0)
        (a * 2 + b * 3).sum().backward()
        assert x.grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]
        x.grad = None
        a, b = x.unbind(1)
        a.sum().backward()          # one output unused: zero-filled
        assert x.grad.tolist() == [[1.0, 0.0], [1.0, 0.0]]
        x.grad = None
        v, i = m.max(x, 1)
        (v * 2).sum().backward()
        assert x.grad.tolist() == [[0.0, 2.0], [2.0, 0.0]]
        x.grad = None
        parts = x.split(1, 1)
        (parts[0] * parts[1]).sum().backward()
        assert x.grad.tolist() == [[5.0, 1.0], [2.0, 3.0]]


def test_tensor_hooks_in_engine():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    calls = []
    y.register_hook(lambda g: calls.append("y") or None)
    x.register_hook(lambda g: calls.append("x") or g * 0)
    (y * y).sum().backward()
    assert calls == ["y", "x"] and x.grad.tolist() == [0.0, 0.0]
    node_calls = []
    z = x * 3
    z.grad_fn.register_hook(lambda gi, go: node_calls.append(len(gi)))
    z.sum().backward()
    assert node_calls == [2]


def test_no_graph_for_non_requiring_and_detach():
    x = ember.ones(2)
    y = x * 2 + 1
    assert y.grad_fn is None and not y.requires_grad
    w = ember.ones(2, requires_grad=True)
    d = (w * 2).detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert (d * w).grad_fn is not None


def test_integer_outputs_do_not_require_grad():
    x = ember.randn(3, requires_grad=True)
    assert not x.argmax().requires_grad and not (x > 0).requires_grad
    assert not x.long().requires_grad and not x.max(0).indices.requires_grad
    assert not x.floor().long().requires_grad


def test_hooks_with_autograd_grad_match_torch():
    res = []
    for m in (torch, ember):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g + 100)
        gy, gx = m.autograd.grad((y * y).sum(), [y, x])
        res.append((gy.tolist(), gx.tolist()))
    assert res[0] == res[1]


def test_grads_never_alias_with_create_graph():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (h,) = ember.autograd.grad(x.grad.sum(), x)
    assert h.tolist() == [6.0, 12.0]


@pytest.fixture
def adopted(monkeypatch):
    """The engine's sole-owner answers, one per leaf gradient it stored (True: adopted without a copy)."""
    from ember.autograd import engine
    answers = []
    real = engine._sole_owner

    def spy(g, refs):
        r = real(g, refs)
        answers.append(r)
        return r
    monkeypatch.setattr(engine, "_ENGINE_REFS", engine._ENGINE_REFS + 1)     # the spy's own argument
    monkeypatch.setattr(engine, "_sole_owner", spy)
    return answers


def test_a_leaf_used_twice_adopts_the_summed_gradient(adopted):
    """The sum the engine makes for a leaf used by two ops is owned by the engine alone, so .grad takes it
    without a copy (a loop variable once kept a reference to it, and every such leaf paid a copy)."""
    x = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    a, b, c = (ember.tensor(x * k, requires_grad=True) for k in (1.0, -0.5, 0.3))
    for _ in range(3):
        adopted.clear()
        for t in (a, b, c):
            t.grad = None
        ((a * b + c).tanh() * a - b).exp().sum().backward()
        assert sorted(adopted) == [False, True, True]        # c's gradient is shared with a * b's: c copies it
    ta, tb, tc = (torch.tensor(x * k, requires_grad=True) for k in (1.0, -0.5, 0.3))
    ((ta * tb + tc).tanh() * ta - tb).exp().sum().backward()
    for e, t in ((a, ta), (b, tb), (c, tc)):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("n", [8, 5000])        # (5000: ReLU's raw backward, a float view of an int result)
def test_a_dtype_view_over_a_fresh_buffer_is_adopted(adopted, n):
    """The bit kernels return ``ints.view(float32)``: a view, but over a whole buffer nothing else holds, so
    .grad adopts it as it adopts a fresh array (each copied it: 1.2M elements, ~0.5 ms a leaf).  A view over
    part of a buffer, of one that something else still holds, or overlapping itself, is copied."""
    x = ember.tensor(np.linspace(-1, 1, n, dtype=np.float32), requires_grad=True)
    ember.relu(x).backward(ember.ones(n))
    assert adopted == [True]
    assert x.grad.tolist() == (np.linspace(-1, 1, n) > 0).astype(np.float32).tolist()
    whole = ember.Tensor._make(np.zeros(6, np.int32).view(np.float32))
    part = ember.Tensor._make(np.zeros(6, np.int32)[:3].view(np.float32))
    held = np.zeros(6, np.int32)
    shared = ember.Tensor._make(held.view(np.float32))
    lapped = ember.Tensor._make(np.ndarray((2, 3), np.float32, np.zeros(6, np.float32), 0, (4, 4)))
    permuted = ember.Tensor._make(np.zeros((2, 3, 4), np.float32).transpose(2, 0, 1))
    # (3 references: the local, the argument, getrefcount's)
    assert _sole_owner(whole, 3) and _sole_owner(permuted, 3)
    assert not _sole_owner(part, 3) and not _sole_owner(shared, 3) and not _sole_owner(lapped, 3)


@pytest.mark.parametrize("leaf", [True, False])
def test_tensor_hook_results_checked_as_torch(leaf):
    """A tensor hook must return None or a tensor of the gradient's shape and dtype, on a leaf and on an inner
    tensor; PyTorch refuses the others with the same exception types (and words)."""
    def run(lib, hook):
        x = lib.ones(3, requires_grad=True)
        y = x if leaf else x * 2
        y.register_hook(hook)
        (y * 2).sum().backward()
        return x.grad
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="hook 'wrong_size' has changed the size of value"):
            def wrong_size(g):
                return lib.ones(4)
            run(lib, wrong_size)
        with pytest.raises(RuntimeError, match="hook 'wrong_type' has changed the type of value"):
            def wrong_type(g):
                return g.double()
            run(lib, wrong_type)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            run(lib, lambda g: 5)
        kept = []

        def doubled(g):             # a returned tensor the hook also keeps: .grad must not be that tensor
            kept.append(g * 2)
            return kept[-1]
        grad = run(lib, doubled)
        np.testing.assert_array_equal(grad.numpy(), np.full(3, 4.0 if leaf else 8.0, np.float32))
        if leaf:
            assert grad is not kept[-1]
