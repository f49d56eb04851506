"""Class 7 of issue 12: grad_fn.next_functions / name() / register_hook / register_prehook,
AccumulateGrad nodes for leaves and Tensor.register_post_accumulate_grad_hook, against PyTorch."""
import pytest
import torch

import ember


def _graph_walk(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    c = lib.tensor([1.0, 1.0])                       # no grad: (None, 0) in next_functions
    z = ((x * w) * c).sum()
    names = []

    def walk(fn, depth):
        if fn is None:
            names.append((depth, None))
            return
        names.append((depth, fn.name(), len(fn.next_functions)))
        if "AccumulateGrad" in fn.name():
            names.append(("leaf", fn.variable is x, fn.variable is w))
        for nxt, idx in fn.next_functions:
            walk(nxt, depth + 1)
    walk(z.grad_fn, 0)
    return names


def test_next_functions_and_names_walk_the_graph_like_torch():
    assert _graph_walk(ember) == _graph_walk(torch)
    x = ember.ones(2, requires_grad=True)
    assert x.grad_fn is None
    acc = (x * 2).grad_fn.next_functions[0][0]
    assert acc.next_functions == () and acc.variable is x


def _hooks(lib):
    calls = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a ** 2 * g

    y = Cube.apply(x * 1)
    z = (y * 2).sum()
    calls.append(y.grad_fn.name())
    z.grad_fn.register_prehook(lambda go: calls.append(("pre", [g.tolist() for g in go])))
    y.grad_fn.register_prehook(lambda go: (go[0] + 1,))                    # replaces the output gradient
    h = y.grad_fn.register_hook(lambda gi, go: (calls.append(("post", gi[0].tolist(), go[0].tolist())),
                                                (gi[0] * 10,))[1])      # replaces the input gradient
    x.register_post_accumulate_grad_hook(lambda t: calls.append(("acc", t.grad.tolist())))
    z.backward(retain_graph=True)
    calls.append(x.grad.tolist())
    h.remove()
    x.grad = None
    z.backward()
    calls.append(x.grad.tolist())
    return calls


def test_node_hooks_and_post_accumulate_grad_hook_match_torch():
    assert _hooks(ember) == _hooks(torch)


def test_post_accumulate_grad_hook_refuses_non_leaves():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (torch.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_optimizer_step_in_post_accumulate_hook():
    # PyTorch's documented use: an optimizer step per parameter as soon as its gradient is ready
    def run(lib):
        lin = lib.nn.Linear(2, 1)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor([[0.5, -0.5]]))
            lin.bias.fill_(0.1)
        opts = {p: lib.optim.SGD([p], lr=0.1) for p in lin.parameters()}
        def step(t):
            opts[t].step()
            opts[t].zero_grad()
        for p in lin.parameters():
            p.register_post_accumulate_grad_hook(step)
        lin(lib.tensor([[1.0, 2.0]])).sum().backward()
        return [round(v, 6) for p in lin.parameters() for v in p.detach().reshape(-1).tolist()]
    assert run(ember) == run(torch)


def test_graph_module_node_and_gradient_edge():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        assert isinstance(y.grad_fn, lib.autograd.graph.Node)
        acc = y.grad_fn.next_functions[0][0]
        assert isinstance(acc, lib.autograd.graph.Node) and not isinstance(x, lib.autograd.graph.Node)
        assert lib.autograd.graph.get_gradient_edge(y).node is y.grad_fn
        assert lib.autograd.graph.get_gradient_edge(x).output_nr == 0
        with lib.autograd.graph.save_on_cpu():
            (x * x).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0]
