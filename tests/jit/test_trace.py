"""ember.jit.trace: the Graph IR, replay, print_tabular and the refusals."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import function as _fn
from ember.jit import TracingError


def _lenet():
    ember.manual_seed(0)
    return ember.models.LeNet5().eval()


def test_replay_matches_eager_on_new_inputs():
    m = _lenet()
    t = ember.jit.trace(m, ember.randn(2, 1, 28, 28))
    x = ember.randn(2, 1, 28, 28)
    np.testing.assert_array_equal(t(x).detach().numpy(), m(x).detach().numpy())
    assert _fn._tracer is None


def test_graph_records_params_by_name_shapes_and_dtypes():
    m = _lenet()
    g = ember.jit.trace(m, ember.randn(3, 1, 28, 28)).graph
    assert list(g.params) == [k for k, _ in m.named_parameters()]
    assert [v.shape for v in g.inputs] == [(3, 1, 28, 28)]
    ops = [n.target for n in g.nodes]
    assert ops.count("conv2d") == 2 and ops.count("linear") == 3 and ops.count("maxpool2d") == 2
    last = g.nodes[-1].outputs[0]
    assert last.shape == (3, 10) and last.dtype == np.float32


def test_print_tabular_has_fx_columns(capsys):
    ember.jit.trace(_lenet(), ember.randn(1, 1, 28, 28)).graph.print_tabular()
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["opcode", "name", "target", "args", "kwargs"]
    kinds = [line.split()[0] for line in out[2:]]
    assert kinds[0] == "placeholder" and kinds[-1] == "output"
    assert "get_attr" in kinds and "call_function" in kinds
    assert any("conv1.weight" in line for line in out)


def test_data_dependent_control_flow_names_the_line():
    def f(x):
        if x.sum() > 0:                       # the line the error must name
            return x * 2
        return x
    line = f.__code__.co_firstlineno + 1
    with pytest.raises(TracingError, match=rf"test_trace\.py:{line}\b.*control flow"):
        ember.jit.trace(f, ember.randn(3))
    assert _fn._tracer is None


@pytest.mark.parametrize("read", [lambda t: t.item(), lambda t: t.tolist(), lambda t: float(t.sum()),
                                  lambda t: t.detach().numpy()])
def test_reading_values_is_refused(read):
    def f(x):
        read(x.sum())
        return x
    with pytest.raises(TracingError, match="static graph"):
        ember.jit.trace(f, ember.randn(3))


def test_shape_control_flow_and_parameter_values_are_fine():
    lin = nn.Linear(3, 2)

    def f(x):
        if x.shape[0] > 1 and lin.weight.abs().sum().item() > 0:   # shapes and parameters are not traced data
            return lin(x)
        return x
    t = ember.jit.trace(f, ember.randn(4, 3))
    x = ember.randn(4, 3)
    np.testing.assert_allclose(t(x).detach().numpy(), lin(x).detach().numpy())


def test_tensors_created_inside_become_constants():
    def f(x):
        return x + ember.arange(3.0)
    t = ember.jit.trace(f, ember.zeros(3))
    assert len(t.graph.consts) == 1
    np.testing.assert_array_equal(t(ember.ones(3)).numpy(), [1, 2, 3])


def test_in_place_ops_are_followed():
    def f(x):
        y = x * 1.0
        y.add_(1)
        y.relu_()
        return y * 2
    t = ember.jit.trace(f, ember.randn(5))
    x = ember.randn(5)
    np.testing.assert_allclose(t(x).numpy(), f(x).numpy())


def test_basic_indexing_is_recorded():
    def f(x):
        return x[1:, 0] * 2 + x[-1][None]
    t = ember.jit.trace(f, ember.randn(4, 3))
    x = ember.randn(4, 3)
    np.testing.assert_allclose(t(x).numpy(), f(x).numpy())


def test_integer_inputs_read_as_raw_arrays_are_inputs():
    emb = nn.Embedding(10, 3)
    t = ember.jit.trace(emb, ember.tensor([[1, 2]]))
    x = ember.tensor([[7, 4]])
    np.testing.assert_array_equal(t(x).detach().numpy(), emb(x).detach().numpy())


def test_replay_trains_like_eager():
    ember.manual_seed(1)
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    t = ember.jit.trace(m, ember.randn(5, 4))
    assert [k for k, _ in t.named_parameters()] == [k for k, _ in m.named_parameters()]
    x = ember.randn(5, 4)
    t(x).pow(2).sum().backward()
    g_traced = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    m(x).pow(2).sum().backward()
    for a, p in zip(g_traced, m.parameters()):
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-6)


def test_batchnorm_running_stats_update_in_training_replay():
    a, b = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    x0, x = ember.randn(4, 3), ember.randn(4, 3) * 3 + 1
    t = ember.jit.trace(a, x0)              # the traced run itself updates a's statistics once
    b(x0)
    np.testing.assert_allclose(t(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.running_mean.numpy(), b.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.running_var.numpy(), b.running_var.numpy(), rtol=1e-6)
    assert int(a.num_batches_tracked) == int(b.num_batches_tracked) == 2


def test_ops_outside_autograd_on_traced_values_are_refused():
    def f(x):
        return x * (x > 0)                  # a comparison is not an autograd op: it would be frozen
    with pytest.raises(TracingError, match=r"gt on a traced tensor.*test_trace\.py"):
        ember.jit.trace(f, ember.randn(3))

    def g(x):
        return x.detach() * 2               # detach is the same values: fine
    t = ember.jit.trace(g, ember.randn(3))
    np.testing.assert_allclose(t(ember.ones(3)).numpy(), [2, 2, 2])


def test_random_draws_are_refused_in_training_mode():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with pytest.raises(TracingError, match="eval mode"):
        ember.jit.trace(m, ember.randn(2, 3))
    ember.jit.trace(m.eval(), ember.randn(2, 3))


def test_wrong_shape_at_replay_says_so():
    t = ember.jit.trace(_lenet(), ember.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"traced with shape \(2, 1, 28, 28\).*got \(3, 1, 28, 28\)"):
        t(ember.randn(3, 1, 28, 28))


def test_is_tracing():
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x + 1
    ember.jit.trace(f, ember.zeros(2))
    assert seen == [True] and not ember.jit.is_tracing()


def test_to_dot_draws_every_node_and_edge():
    g = ember.jit.trace(_lenet(), ember.randn(1, 1, 28, 28)).graph
    dot = g.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == sum(len(n.input_values()) for n in g.nodes) + 1
    assert '"conv1.weight' in dot and '[label="maxpool2d"]' in dot
