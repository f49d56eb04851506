"""ember.compile and the graph passes: same results as eager, retrace on new shapes, eager fallback."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.jit import TracingError, trace_graph
from ember.jit.passes import (InferencePlan, eliminate_common_subexpressions, eliminate_dead_code, fold_constants,
                              optimize)
from tests._blas import assert_same


def _mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()


def test_compiled_inference_equals_eager():
    m = _mlp()
    c = ember.compile(m)
    x = ember.randn(4, 6)
    with ember.no_grad():
        c(x)
        out = c(x)
    np.testing.assert_array_equal(out.numpy(), m(x).detach().numpy())
    assert c.stats["compiled_calls"] == 1 and "compiled" in c.explain()


def test_new_shape_retraces():
    m = _mlp()
    c = ember.compile(m)
    with ember.no_grad():
        for n in (1, 5, 1, 5):
            x = ember.randn(n, 6)
            np.testing.assert_allclose(c(x).numpy(), m(x).numpy(), rtol=1e-6)
    assert c.stats["traces"] == 2


def test_data_dependent_forward_falls_back_to_eager():
    def f(x):
        return x * 2 if x.sum() > 0 else x - 1
    c = ember.compile(f)
    for x in (ember.ones(3), -ember.ones(3), ember.ones(3)):
        np.testing.assert_array_equal(c(x).numpy(), f(x).numpy())
    assert "eager" in c.explain() and "control flow" in c.explain()
    with pytest.raises(TracingError):
        ember.compile(f, fullgraph=True)(ember.ones(3))


def test_dropout_in_training_mode_runs_eagerly():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    c = ember.compile(m)
    x = ember.ones(2, 4)
    c(x)
    ember.manual_seed(3)
    a = c(x).detach().numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, m(x).detach().numpy())
    assert "random" in c.explain()


def test_compiled_training_step_matches_eager():
    m1, m2 = _mlp().train(), _mlp().train()
    c = ember.compile(m1)
    o1, o2 = ember.optim.SGD(m1.parameters(), lr=0.1), ember.optim.SGD(m2.parameters(), lr=0.1)
    for _ in range(3):
        x = ember.randn(8, 6)
        for model, opt in ((c, o1), (m2, o2)):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6)
    assert c.stats["compiled_calls"] == 2


def test_compile_as_decorator_and_disable():
    @ember.compile
    def f(x):
        return (x * 2 + 1).relu()
    x = ember.randn(5)
    f(x)
    np.testing.assert_array_equal(f(x).numpy(), ((x * 2 + 1).relu()).numpy())
    m = _mlp()
    assert ember.compile(m, disable=True) is m


def test_attributes_forward_to_the_model():
    m = _mlp()
    c = ember.compile(m)
    assert c._orig_mod is m and isinstance(c, nn.Module)
    assert list(c.state_dict()) == ["_orig_mod." + k for k in m.state_dict()]      # as torch's OptimizedModule
    c.eval()
    assert m.training is False
    assert c.get_submodule("_orig_mod.0") is m[0]


def test_dead_code_elimination():
    def f(x):
        unused = x.exp()  # noqa: F841
        return x + 1
    g, _, _ = trace_graph(f, (ember.randn(3),))
    assert len(g.nodes) == 2
    assert eliminate_dead_code(g) == 1 and [n.target for n in g.nodes] == ["add"]


def test_common_subexpressions_are_merged():
    def f(x):
        return x.exp() + x.exp()
    g, _, _ = trace_graph(f, (ember.randn(3),))
    assert eliminate_common_subexpressions(g) == 1
    assert [n.target for n in g.nodes] == ["exp", "add"]


def test_constant_folding():
    def f(x):
        return x + ember.arange(3.0).exp() * 2
    g, _, p = trace_graph(f, (ember.randn(3),))
    assert fold_constants(g) == 2 and [n.target for n in g.nodes] == ["add"]
    x = ember.randn(3)
    np.testing.assert_allclose(InferencePlan(g, p)([x]).numpy(), f(x).numpy(), rtol=1e-6)


def test_elementwise_chain_is_fused_and_correct():
    w = ember.randn(4)

    def f(x):
        return ((x * 2 + w) / 3 - 1).relu() * x
    g, _, p = trace_graph(f, (ember.randn(3, 4),))
    optimize(g)
    plan = InferencePlan(g, p)
    assert plan.fused == 1
    for _ in range(2):                      # the preallocated buffer is reused; outputs must not alias it
        x = ember.randn(3, 4)
        a = plan([x])
        b = plan([x * 0])
        np.testing.assert_allclose(a.numpy(), f(x).numpy(), rtol=1e-6)
        assert not np.shares_memory(a.numpy(), b.numpy())


def test_fused_buffer_never_escapes_through_a_view():
    def f(x):
        return ((x * 2 + 1).relu() - 3).reshape(-1)
    g, _, p = trace_graph(f, (ember.randn(2, 3),))
    plan = InferencePlan(g, p)
    assert plan.fused == 1
    a = plan([ember.ones(2, 3)])
    plan([ember.zeros(2, 3)])
    np.testing.assert_array_equal(a.numpy(), np.zeros(6))


def test_zoo_models_compile_to_the_same_results():
    ember.manual_seed(1)
    cases = [(ember.models.LeNet5(), ember.randn(1, 1, 28, 28)),
             (ember.models.FCN(), ember.randn(2, 1, 8, 8)),
             (ember.models.CharRNN(11, embed_dim=4, hidden_size=6), ember.randint(0, 11, (2, 5)))]
    for m, x in cases:
        m.eval()
        c = ember.compile(m)
        with ember.no_grad():
            c(x)
            np.testing.assert_allclose(c(x).numpy(), m(x).numpy(), rtol=1e-5, atol=1e-6)


def test_batchnorm_training_state_matches_eager():
    ember.manual_seed(4)
    a = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    b = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU())
    b.load_state_dict(a.state_dict())
    c = ember.compile(a)
    for _ in range(3):
        x = ember.randn(2, 1, 6, 6)
        np.testing.assert_allclose(c(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_allclose(v.numpy(), w.numpy(), rtol=1e-6, err_msg=k)
    assert c.stats["compiled_calls"] == 2


def test_buffer_changed_outside_ops_runs_eagerly():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("acc", ember.zeros(3))

        def forward(self, x):
            self.acc._data += 1.0           # a raw write the graph cannot replay
            return x + 1
    m = M()
    c = ember.compile(m)
    for _ in range(3):
        c(ember.zeros(3))
    np.testing.assert_array_equal(m.acc.numpy(), [3, 3, 3])
    assert "acc is modified outside" in c.explain()


def test_tensor_keyword_arguments_are_inputs():
    def f(x, *, scale, shift):
        return x * scale + shift
    c = ember.compile(f)
    for _ in range(3):
        x, s, b = ember.randn(3), ember.randn(3), ember.randn(3)
        np.testing.assert_allclose(c(x, shift=b, scale=s).numpy(), f(x, scale=s, shift=b).numpy(), rtol=1e-6)
    assert c.stats["compiled_calls"] == 2


def test_tensors_inside_containers_are_inputs():
    ember.manual_seed(5)
    m = ember.models.CharRNN(11, embed_dim=4, hidden_size=6).eval()
    c = ember.compile(m)
    state = (ember.zeros(1, 2, 6), ember.zeros(1, 2, 6))
    with ember.no_grad():
        for _ in range(3):
            x = ember.randint(0, 11, (2, 3))
            got, got_state = c(x, state, return_state=True)
            want, want_state = m(x, state, return_state=True)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_state[0].numpy(), want_state[0].numpy(), rtol=1e-5, atol=1e-6)
            state = want_state
    assert c.stats["compiled_calls"] == 2


def test_user_autograd_function_compiles():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    def f(x):
        return Cube.apply(x + 1) * 2
    c = ember.compile(f)
    with ember.no_grad():
        for _ in range(2):
            x = ember.randn(4)
            np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6)
    x = ember.randn(4, requires_grad=True)
    c(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (6 * (x + 1) ** 2).detach().numpy(), rtol=1e-6)


def test_failed_trace_does_not_update_batchnorm_twice():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(2)

        def forward(self, x):
            y = self.bn(x)
            return y * 2 if y.sum() > -1e9 else y        # data-dependent: runs eagerly
    a, b = M(), M()
    c = ember.compile(a)
    x = ember.randn(4, 2)
    c(x)
    b(x)
    np.testing.assert_allclose(a.bn.running_mean.numpy(), b.bn.running_mean.numpy(), rtol=1e-6)
    assert int(a.bn.num_batches_tracked) == 1


def test_inference_linear_kernel_and_inplace_relu_equal_eager():
    m = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    c = ember.compile(m)
    with ember.no_grad():
        for n in (1, 1, 4, 4):
            x = ember.randn(n, 6)
            np.testing.assert_array_equal(c(x).numpy(), m(x).numpy())

    lin = nn.Linear(6, 5)

    def both(x):                # the linear's result escapes: its ReLU must not overwrite it
        h = lin(x)
        return h, ember.relu(h)
    cb = ember.compile(both)
    x = ember.randn(3, 6)
    with ember.no_grad():
        cb(x)
        h, r = cb(x)
        eh, er = both(x)
    np.testing.assert_array_equal(h.numpy(), eh.numpy())
    np.testing.assert_array_equal(r.numpy(), er.numpy())


@pytest.mark.parametrize("n", [1, 3])
def test_inference_lenet_kernels_equal_eager(n):
    """The inference plan's one-image convolution, in-place ReLU and 2x2 pooling (odd sizes too)."""
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(2, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 4, 3, stride=2),
                      nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 1, bias=False), nn.Flatten(), nn.Linear(12, 2)).eval()
    c = ember.compile(m)
    with ember.no_grad():
        for _ in range(2):
            x = ember.randn(n, 2, 23, 23)
            assert_same(c(x).numpy(), m(x).numpy())      # bitwise where BLAS keeps rows exact (tests._blas)
        x = ember.randn(n, 2, 23, 23)
        x[0, 0, 3, 4] = float("nan")
        assert_same(c(x).numpy(), m(x).numpy())
