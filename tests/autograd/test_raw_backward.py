"""The engine's array backwards (ember.ops._raw_backward) give what each op's Tensor backward gives: the same
values bit for bit, dtypes and strides, for contiguous, transposed, broadcast and expanded operands."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd.engine import RAW_BACKWARD
from ember.ops import _raw_backward  # noqa: F401  (fills RAW_BACKWARD)


def _operands(rng, shape, dtype):
    """(leaf, operand) pairs: the operand contiguous, transposed (a view of a leaf) and expanded."""
    x = ember.tensor(np.abs(rng.standard_normal(shape)).astype(dtype) + 0.5).requires_grad_()
    yield x, x
    xt = ember.tensor(np.abs(rng.standard_normal(shape[::-1])).astype(dtype) + 0.5).requires_grad_()
    yield xt, xt.t()
    yield x, x[:1].expand(*shape)


def _grads(rng, shape, dtype):
    yield ember.tensor(rng.standard_normal(shape).astype(dtype))
    g = ember.tensor(rng.standard_normal(shape[::-1]).astype(dtype)).t()
    yield g
    yield ember.tensor(np.asarray(rng.standard_normal(()), dtype)).expand(*shape)


def _check(node, g):
    raw = RAW_BACKWARD[type(node)](node, g)
    assert raw is not NotImplemented
    ref = node.backward(node, g)
    ref = ref if isinstance(ref, tuple) else (ref,)
    assert len(raw) == len(ref)
    for r, t in zip(raw, ref):
        if t is None:
            assert r is None
            continue
        r = r._data if isinstance(r, ember.Tensor) else r
        assert type(r) is np.ndarray
        assert r.dtype == t._data.dtype and r.shape == t._data.shape and r.strides == t._data.strides
        assert r.flags.writeable == t._data.flags.writeable
        np.testing.assert_array_equal(r, t._data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["mul", "div", "sub", "mul_scalar", "div_bcast", "neg", "exp", "tanh", "sigmoid",
                                "log", "sqrt", "relu"])
def test_raw_backward_matches_tensor_backward(op, dtype):
    rng = np.random.default_rng(0)
    shape = (3, 4)
    for _, x_l in _operands(rng, shape, dtype):
        for g in _grads(rng, shape, dtype):
            y = ember.tensor(rng.standard_normal(shape).astype(dtype) + 3.0).requires_grad_()
            fns = {"mul": lambda: x_l * y, "div": lambda: x_l / y, "sub": lambda: x_l - y,
                   "mul_scalar": lambda: x_l * 2.5, "div_bcast": lambda: x_l / y[0], "neg": lambda: -x_l,
                   "exp": x_l.exp, "tanh": x_l.tanh, "sigmoid": x_l.sigmoid, "log": x_l.log, "sqrt": x_l.sqrt,
                   "relu": lambda: (x_l - 1.0).relu()}
            out = fns[op]()
            _check(out.grad_fn, g)


@pytest.mark.parametrize("op", ["sum", "sum_dim", "sum_keep", "mean", "mean_dim", "sum_empty", "sum_1"])
def test_raw_backward_reductions(op):
    x = ember.randn(3, 4, 5, requires_grad=True)
    e = ember.randn(3, 0, 5, requires_grad=True)
    one = ember.randn(3, 1, 5, requires_grad=True)
    out = {"sum": lambda: x.sum(), "sum_dim": lambda: x.sum(1), "sum_keep": lambda: x.sum((0, 2), keepdim=True),
           "mean": lambda: x.mean(), "mean_dim": lambda: x.mean(-1), "sum_empty": lambda: e.sum(1),
           "sum_1": lambda: one.sum(1)}[op]()
    _check(out.grad_fn, ember.randn(*out.shape))
    _check(out.grad_fn, ember.randn(*out.shape).requires_grad_().detach())


def test_raw_backward_declines_float16_and_keeps_second_derivatives():
    x = ember.randn(3, dtype=ember.float16, requires_grad=True)
    out = x * ember.randn(3, dtype=ember.float16)
    assert type(out.grad_fn).__name__ == "Mul"
    assert RAW_BACKWARD[type(out.grad_fn)](out.grad_fn, ember.ones(3, dtype=ember.float16)) is NotImplemented
    y = ember.randn(3, requires_grad=True)
    (g,) = ember.autograd.grad((y.tanh() * y).sum(), y, create_graph=True)
    g.sum().backward()                  # create_graph=True runs the Tensor backwards: a second derivative exists
    assert y.grad is not None and y.grad.shape == (3,)


def test_raw_backward_checks_saved_versions():
    x = ember.randn(3, requires_grad=True)
    y = x.exp()
    z = y * 2.0
    y.add_(1.0)                          # exp saved its output: backward must refuse
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_gradient_is_plus_zero_where_the_output_is_not_positive(create_graph):
    # PyTorch's threshold_backward: where(out <= 0, 0, grad); a product with a 0/1 mask gave -0 for a negative
    # gradient and nan for an infinite one
    x = ember.tensor([-1.0, 0.0, 2.0, float("nan")], requires_grad=True)
    y = x.relu()
    (g,) = ember.autograd.grad(y, x, ember.tensor([float("-inf"), -3.0, 5.0, 7.0]), create_graph=create_graph)
    r = g.detach().numpy()
    assert r[:3].tolist() == [0.0, 0.0, 5.0] and not np.signbit(r[:2]).any() and r[3] == 7.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [8, 5000, (1 << 19) + 13])      # (the last split among threads at 2+)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_relu_gradient_bits_as_torch(dtype, n, layout):
    """ReLU's backward is PyTorch's where(out <= 0, 0, grad) bit for bit: signed zeros, NaN inputs of either
    sign (their gradient passes), inf, NaN and -0.0 gradients, a gradient in another layout."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(2 * n).astype(dtype)
    g = rng.standard_normal(2 * n).astype(dtype)
    x[:8] = [-0.0, 0.0, np.nan, -np.nan, 1.0, -1.0, np.inf, -np.inf]
    g[8:16] = [np.inf, -np.inf, np.nan, -0.0, -1.0, np.inf, -np.inf, -0.0]
    g[:8] = [np.inf, -np.inf, -0.0, np.nan, -np.inf, np.nan, -0.0, np.inf]
    x[8:16] = [-np.nan, 0.0, 3.0, 2.0, -0.0, -5.0, np.nan, 1.0]
    x, g = x.reshape(2, n), g.reshape(2, n)
    if layout == "transposed":
        g = np.ascontiguousarray(g.T).T
    it = np.int32 if dtype == np.float32 else np.int64
    xe = ember.tensor(x, requires_grad=True)
    ember.relu(xe).backward(ember.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.tensor(g))
    np.testing.assert_array_equal(xe.grad.numpy().view(it), xt.grad.numpy().view(it))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,))])
def test_raw_backward_matmul(sa, sb, dtype):
    """MatMul's array backward: 1-D and 2-D operands, contiguous or transposed views, any gradient layout."""
    rng = np.random.default_rng(1)

    def leaf(shape, transposed):
        if transposed and len(shape) == 2:
            return ember.tensor(rng.standard_normal(shape[::-1]).astype(dtype)).requires_grad_().t()
        return ember.tensor(rng.standard_normal(shape).astype(dtype)).requires_grad_()
    for ta in (False, True):
        for tb in (False, True):
            out = leaf(sa, ta) @ leaf(sb, tb)
            shape = tuple(out.shape)
            gs = [ember.tensor(np.asarray(rng.standard_normal(shape), dtype))]
            if shape:
                gs.append(ember.tensor(np.asarray(rng.standard_normal(()), dtype)).expand(*shape))
            if len(shape) == 2:
                gs.append(ember.tensor(rng.standard_normal(shape[::-1]).astype(dtype)).t())
            for g in gs:
                _check(out.grad_fn, g)


def test_raw_backward_matmul_declines_batched_products():
    out = ember.randn(2, 3, 4, requires_grad=True) @ ember.randn(4, 5, requires_grad=True)
    assert RAW_BACKWARD[type(out.grad_fn)](out.grad_fn, ember.randn(2, 3, 5)) is NotImplemented


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 5), -1), ((2, 3, 5), 1), ((64, 600), 1)])
def test_raw_backward_softmax_family(fn, dtype, shape, dim):
    """Contiguous operands take the array formulas (the same bits as the Tensor backward); a transposed or
    expanded gradient declines to the Tensor path."""
    rng = np.random.default_rng(1)
    x = ember.tensor((rng.standard_normal(shape) * 3).astype(dtype)).requires_grad_()
    out = getattr(ember, fn)(x, dim)
    _check(out.grad_fn, ember.tensor(rng.standard_normal(shape).astype(dtype)))
    g = ember.tensor(np.asarray(rng.standard_normal(()), dtype)).expand(*shape)
    assert RAW_BACKWARD[type(out.grad_fn)](out.grad_fn, g) is NotImplemented
