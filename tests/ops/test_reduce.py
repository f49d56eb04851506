"""Reductions vs PyTorch: dim/keepdim (int, tuple, negative, None), values and gradients, ties, empty and 0-d
inputs, float64 gradcheck and Hypothesis over shapes."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import ember
from helpers import compare, gradcheck

RED = {
    "sum": lambda m, x, d, k: x.sum() if d is None else x.sum(d, keepdim=k),
    "mean": lambda m, x, d, k: x.mean() if d is None else x.mean(d, keepdim=k),
    "var": lambda m, x, d, k: x.var() if d is None else x.var(d, keepdim=k),
    "var_biased": lambda m, x, d, k: m.var(x, d, unbiased=False, keepdim=k),
    "var_corr0": lambda m, x, d, k: m.var(x, d, correction=0, keepdim=k),
    "var_corr2": lambda m, x, d, k: m.var(x, d, correction=2, keepdim=k),
    "std": lambda m, x, d, k: x.std() if d is None else x.std(d, keepdim=k),
    "std_biased": lambda m, x, d, k: m.std(x, d, unbiased=False, keepdim=k),
    "amax": lambda m, x, d, k: m.amax(x, () if d is None else d, keepdim=k),
    "amin": lambda m, x, d, k: m.amin(x, () if d is None else d, keepdim=k),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, tuple(range(x.ndim)) if d is None else d, keepdim=k),
    "norm": lambda m, x, d, k: m.norm(x, dim=d, keepdim=k) if d is None or isinstance(d, int) or len(d) <= 2 else m.norm(x, p=2, dim=d, keepdim=k),
    "norm1": lambda m, x, d, k: m.norm(x, p=1, dim=d, keepdim=k),
    "norm3": lambda m, x, d, k: m.norm(x, p=3, dim=d, keepdim=k),
    "norm_inf": lambda m, x, d, k: m.norm(x, p=float("inf"), dim=d, keepdim=k),
}
SINGLE_DIM = {
    "prod": lambda m, x, d, k: x.prod() if d is None else x.prod(d, keepdim=k),
    "max_dim": lambda m, x, d, k: x.max() if d is None else x.max(d, keepdim=k),
    "min_dim": lambda m, x, d, k: x.min() if d is None else x.min(d, keepdim=k),
    "cumsum": lambda m, x, d, k: x.cumsum(0 if d is None else d),
    "cumprod": lambda m, x, d, k: x.cumprod(0 if d is None else d),
    "softmax": lambda m, x, d, k: x.softmax(0 if d is None else d),
}
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("name", sorted(RED))
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_matches_torch(name, dim, keepdim):
    compare(lambda m, x: RED[name](m, x, dim, keepdim), [(3, 4, 5)])


@pytest.mark.parametrize("name", sorted(SINGLE_DIM))
@pytest.mark.parametrize("dim", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_single_dim_reduction_matches_torch(name, dim, keepdim):
    compare(lambda m, x: SINGLE_DIM[name](m, x, dim, keepdim), [(3, 4, 5)])


@pytest.mark.parametrize("name", sorted(RED) + sorted(SINGLE_DIM))
def test_reduction_noncontiguous(name):
    f = RED.get(name) or SINGLE_DIM[name]
    compare(lambda m, x: f(m, x.transpose(0, 2)[::2], 1, False), [(5, 4, 6)])


@pytest.mark.parametrize("name", sorted(RED) + sorted(SINGLE_DIM))
def test_reduction_0d(name):
    f = RED.get(name) or SINGLE_DIM[name]
    if name.startswith(("var", "std")):
        pytest.skip("var of one element is nan/0 in torch; checked separately")
    compare(lambda m, x: f(m, x, None, False), [()])
    compare(lambda m, x: f(m, x, 0, False), [()])
    compare(lambda m, x: f(m, x, -1, True), [()])


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "norm", "cumsum", "var", "std"])
def test_reduction_empty(name):
    f = RED.get(name) or SINGLE_DIM[name]
    compare(lambda m, x: f(m, x, 1, False), [(3, 0)], atol=1e-6)
    compare(lambda m, x: f(m, x, 0, True), [(0, 4)], atol=1e-6)


@pytest.mark.parametrize("name", sorted(RED) + sorted(SINGLE_DIM))
def test_reduction_gradcheck(name):
    f = RED.get(name) or SINGLE_DIM[name]
    assert gradcheck(lambda x: f(ember, x, 1, False), [(3, 4)], seed=2)
    assert gradcheck(lambda x: f(ember, x, None, False), [(2, 3)], seed=5)


def test_max_named_tuple_and_grad_to_arg():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    r = ember.max(x, 1)
    assert r.values.tolist() == [5.0, 7.0] and r.indices.tolist() == [1, 0]
    v, i = r
    assert i.dtype == ember.int64 and not i.requires_grad
    v.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]   # first of the tie, like torch
    r2 = ember.min(x, dim=0, keepdim=True)
    assert r2.values.shape == (1, 3) and r2.indices.tolist() == [[0, 1, 0]]
    assert type(r).__name__.endswith(("max", "_MinMax", "return_types")) or hasattr(r, "_fields")


def test_max_full_and_elementwise():
    compare(lambda m, x: m.max(x), [(3, 4)])
    compare(lambda m, x, y: m.max(x, y), [(3, 4), (4,)])
    compare(lambda m, x, y: m.min(x, y), [(3, 4), (3, 1)])
    # full max with ties: torch's max() (no dim) splits evenly like amax
    compare(lambda m, x: m.max(x), [np.array([1.0, 3.0, 3.0])])
    compare(lambda m, x: m.amax(x, 0), [np.array([[1.0, 3.0], [1.0, 2.0]])])


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(fn, dim, keepdim):
    a = np.random.default_rng(0).integers(0, 4, (4, 5)).astype(np.float32)
    e = getattr(ember, fn)(ember.tensor(a), dim=dim, keepdim=keepdim)
    t = getattr(torch, fn)(torch.tensor(a), dim=dim, keepdim=keepdim)
    assert e.dtype == ember.int64 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_sum_dtypes():
    for arr in (np.array([True, False, True]), np.array([1, 2, 3], np.int32), np.array([1, 2], np.uint8)):
        e, t = ember.tensor(arr).sum(), torch.tensor(arr).sum()
        assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "") and e.item() == t.item()
    assert ember.tensor([1.0, 2.0]).sum(dtype=ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="mean"):
        ember.tensor([1, 2]).mean()
    assert ember.tensor([1, 2]).mean(dtype=ember.float32).item() == 1.5


def test_var_single_element_and_std_grad_at_zero():
    compare(lambda m, x: x.var(unbiased=False), [(1,)])
    compare(lambda m, x: (x * 0).std(), [(4,)])     # nan grads in torch too? compare handles via allclose nan


def test_prod_with_zeros_grad():
    compare(lambda m, x: x.prod(1), [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]])])
    compare(lambda m, x: x.prod(), [np.array([0.0, 2.0, 3.0])])


def test_logsumexp_extremes():
    compare(lambda m, x: m.logsumexp(x, 1), [np.array([[1e4, 0.0], [-1e4, -1e4], [-np.inf, 0.0]])])


def test_norm_zero_vector_grad():
    compare(lambda m, x: (x * 0).norm(), [(3,)])
    compare(lambda m, x: m.norm(x * (x > 0), p=0), [(5,)])


def test_all_any_count_nonzero():
    a = np.array([[0, 1, 2], [0, 0, 3]])
    for fn in ("all", "any", "count_nonzero"):
        for dim in (None, 0, 1):
            e = getattr(ember, fn)(ember.tensor(a), dim=dim) if dim is not None else getattr(ember, fn)(ember.tensor(a))
            t = getattr(torch, fn)(torch.tensor(a), dim=dim) if dim is not None else getattr(torch, fn)(torch.tensor(a))
            assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
            np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_var_mean_std_mean():
    for name in ("var_mean", "std_mean"):
        compare(lambda m, x: getattr(m, name)(x, 1), [(3, 4)])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "argmax", "cumsum", "max_dim",
                                  "prod", "norm", "softmax", "std", "all", "any"])
def test_dim_out_of_range(name):
    x = ember.randn(3, 4)
    with pytest.raises(IndexError, match=r"(?i)dim.*range.*\[-2, 1\].*5|out of range"):
        {"argmax": lambda: x.argmax(5), "all": lambda: x.all(5), "any": lambda: x.any(5)}.get(
            name, lambda: (RED.get(name) or SINGLE_DIM[name])(ember, x, 5, False))()


def test_repeated_dim_error():
    with pytest.raises(RuntimeError, match="multiple"):
        ember.randn(3, 4).sum((0, 0))


def test_max_of_empty_raises():
    with pytest.raises((IndexError, RuntimeError), match="max"):
        ember.zeros(0).max()
    with pytest.raises((IndexError, RuntimeError), match="argmax"):
        ember.zeros(2, 0).argmax(1)


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data(),
       name=st.sampled_from(["sum", "mean", "amax", "var", "logsumexp", "norm"]))
def test_reduction_property(shape, data, name):
    nd = len(shape)
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                              unique_by=lambda d: d % nd).map(tuple))
    keep = data.draw(st.booleans())
    compare(lambda m, x: RED[name](m, x, dims, keep), [shape])


@pytest.mark.parametrize("name", sorted(RED) + sorted(SINGLE_DIM))
def test_reduction_float32(name):
    f = RED.get(name) or SINGLE_DIM[name]
    compare(lambda m, x: f(m, x, 1, False), [(4, 5, 3)], dtype=np.float32, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("fn,arr", [
    (lambda m, x: m.logsumexp(x, 1), np.array([[-np.inf, -np.inf], [0.0, -np.inf]])),
    (lambda m, x: m.softmax(x, 1), np.array([[-np.inf, 0.0], [1e4, -1e4]])),
    (lambda m, x: m.log_softmax(x, 1), np.array([[-np.inf, 0.0], [1e4, -1e4]])),
    (lambda m, x: x.max(1).values, np.array([[np.nan, 1.0], [2.0, 2.0]])),
    (lambda m, x: m.amax(x, 1), np.array([[np.nan, 1.0], [2.0, 2.0]])),
    (lambda m, x: x.norm(dim=1), np.array([[0.0, 0.0], [3.0, 4.0]])),
    (lambda m, x: x.prod(1), np.array([[0.0, 0.0, 2.0], [3.0, 4.0, 0.0]])),
    (lambda m, x: x.cumprod(1), np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])),
    (lambda m, x: x.cumprod(0), np.array([[1.0, 0.0, 2.0], [0.5, 3.0, 0.0]])),
])
def test_reduction_edge_values_match_torch(fn, arr):
    compare(fn, [arr])


def test_cumprod_with_zeros_gradcheck():
    x = ember.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.5]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.cumprod(1), [x])
    assert ember.autograd.gradgradcheck(lambda t: t.cumprod(1), [x])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape, dim", [((128, 512), 1), ((128, 512), -1), ((4, 5, 300), 2), ((300,), 0),
                                        ((64, 300), 0)])
@pytest.mark.parametrize("transposed", [False, True])
def test_cumsum_bits_as_torch(dtype, shape, dim, transposed):
    """cumsum accumulates float16/float32 in a wider dtype, as PyTorch's CPU scan: PyTorch's bits, values and
    gradient, along any axis of any layout."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 100).astype(dtype)
    if transposed and x.ndim > 1:
        x = np.ascontiguousarray(x.swapaxes(0, -1)).swapaxes(0, -1)
    g = rng.standard_normal(shape).astype(dtype)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ember.cumsum(e, dim), torch.cumsum(t, dim)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert ye.detach().numpy().strides == yt.detach().numpy().strides
