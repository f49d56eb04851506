"""Creation functions vs PyTorch: dtypes, shapes, values, dtype=/requires_grad=, and the random functions'
reproducibility under manual_seed and their statistics."""
import numpy as np
import pytest
import torch

import ember


def _same_dtype(e, t):
    return str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")


CREATE = [
    ("zeros", lambda m: m.zeros(2, 3)), ("zeros_tuple", lambda m: m.zeros((2, 3))), ("ones", lambda m: m.ones(4)),
    ("ones_int", lambda m: m.ones(2, dtype=m.int64)), ("full", lambda m: m.full((2, 2), 1.5)),
    ("full_int", lambda m: m.full((2,), 7)), ("full_bool", lambda m: m.full((2,), True)),
    ("full_dtype", lambda m: m.full((2,), 7, dtype=m.float64)),
    ("arange", lambda m: m.arange(5)), ("arange_float", lambda m: m.arange(0, 1, 0.25)),
    ("arange_neg", lambda m: m.arange(5, 0, -2)), ("arange_dtype", lambda m: m.arange(3, dtype=m.float32)),
    ("arange_float_end", lambda m: m.arange(2.5)), ("arange_empty", lambda m: m.arange(3, 3)),
    ("linspace", lambda m: m.linspace(0, 1, 5)), ("linspace1", lambda m: m.linspace(-2, 2, 1)),
    ("logspace", lambda m: m.logspace(0, 2, 3)),
    ("eye", lambda m: m.eye(3)), ("eye_rect", lambda m: m.eye(2, 4)), ("eye_int", lambda m: m.eye(2, dtype=m.int64)),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int32))),
    ("ones_like", lambda m: m.ones_like(m.ones(2, dtype=m.float64))),
    ("full_like", lambda m: m.full_like(m.ones(2, 2), 3.5)),
    ("full_like_int", lambda m: m.full_like(m.ones(2, dtype=m.int64), 3.7)),
    ("zeros_like_dtype", lambda m: m.zeros_like(m.ones(2), dtype=m.int64)),
    ("empty_shape", lambda m: m.empty(2, 3).shape and m.zeros(2, 3)),
    ("zeros_0d", lambda m: m.zeros(())), ("ones_empty", lambda m: m.ones(0, 3)),
    ("tensor_float", lambda m: m.tensor([1.0, 2.0])), ("tensor_int", lambda m: m.tensor([1, 2])),
    ("tensor_bool", lambda m: m.tensor([True, False])), ("tensor_mixed", lambda m: m.tensor([1, 2.5])),
    ("tensor_bool_int", lambda m: m.tensor([True, 2])), ("tensor_scalar", lambda m: m.tensor(3)),
    ("tensor_scalar_f", lambda m: m.tensor(3.0)), ("tensor_empty", lambda m: m.tensor([])),
    ("tensor_nested", lambda m: m.tensor([[1, 2], [3, 4]])), ("tensor_dtype", lambda m: m.tensor([1, 2], dtype=m.float64)),
    ("tensor_np_f64", lambda m: m.tensor(np.array([1.0, 2.0]))), ("tensor_np_i32", lambda m: m.tensor(np.array([1, 2], np.int32))),
    ("tensor_np_f32", lambda m: m.tensor(np.float32(2.5))), ("tensor_of_tensors", lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]) if m is ember else m.tensor([1.0, 2.0])),
    ("tensor_np_scalars_f64", lambda m: m.tensor([np.float64(1.0), np.float64(2.0)])),
    ("tensor_np_scalars_i32", lambda m: m.tensor([[np.int32(1)], [np.int32(2)]])),
    ("tensor_huge_float", lambda m: m.tensor([1e300, 1.0])), ("tensor_nested_empty", lambda m: m.tensor([[]])),
    ("as_tensor", lambda m: m.as_tensor([1, 2])), ("as_tensor_dtype", lambda m: m.as_tensor(np.ones(2), dtype=m.float32)),
]


@pytest.mark.parametrize("name,fn", CREATE, ids=[c[0] for c in CREATE])
def test_creation_matches_torch(name, fn):
    e, t = fn(ember), fn(torch)
    assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
    assert _same_dtype(e, t), (e.dtype, t.dtype)
    np.testing.assert_allclose(e.numpy().astype(float), t.numpy().astype(float), rtol=1e-6)


@pytest.mark.parametrize("fn", [
    lambda **k: ember.zeros(2, **k), lambda **k: ember.ones(2, **k), lambda **k: ember.full((2,), 1.0, **k),
    lambda **k: ember.empty(2, **k), lambda **k: ember.arange(0.0, 2.0, **k), lambda **k: ember.linspace(0, 1, 3, **k),
    lambda **k: ember.eye(2, **k), lambda **k: ember.rand(2, **k), lambda **k: ember.randn(2, **k),
    lambda **k: ember.tensor([1.0], **k), lambda **k: ember.zeros_like(ember.ones(2), **k),
    lambda **k: ember.ones_like(ember.ones(2), **k), lambda **k: ember.full_like(ember.ones(2), 2.0, **k),
    lambda **k: ember.normal(0.0, 1.0, (2,), **k),
])
def test_requires_grad_and_dtype_kwargs(fn):
    x = fn(requires_grad=True)
    assert x.requires_grad and x.is_leaf
    y = fn(dtype=ember.float64)
    assert y.dtype == ember.float64 and not y.requires_grad


def test_tensor_copies_and_from_numpy_shares():
    a = np.ones(3, np.float32)
    t = ember.tensor(a)
    a[0] = 5
    assert t[0].item() == 1.0
    s = ember.as_tensor(a)
    a[1] = 7
    assert s[1].item() == 7.0
    x = ember.ones(2)
    assert ember.tensor(x) is not x and not np.shares_memory(ember.tensor(x).numpy(), x.numpy())


def test_creation_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(2, -1)
    with pytest.raises((ValueError, TypeError), match="tensor"):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="tensor"):
        ember.tensor("abc")
    with pytest.raises(RuntimeError, match="arange.*step"):
        ember.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="arange.*step sign"):
        ember.arange(3, 1)
    with pytest.raises(TypeError, match="dtype"):
        ember.zeros(2, dtype="nonsense")


# -- random -----------------------------------------------------------------------------------------------------------
RANDOM = {
    "rand": lambda: ember.rand(3, 4), "randn": lambda: ember.randn(2, 3), "randint": lambda: ember.randint(0, 10, (5,)),
    "randint_high": lambda: ember.randint(7, (3,)), "randperm": lambda: ember.randperm(10),
    "normal": lambda: ember.normal(1.0, 2.0, (4,)), "normal_t": lambda: ember.normal(ember.zeros(3), ember.ones(3)),
    "bernoulli": lambda: ember.bernoulli(ember.full((10,), 0.5)),
    "multinomial": lambda: ember.multinomial(ember.tensor([0.2, 0.3, 0.5]), 5, replacement=True),
    "multinomial_norep": lambda: ember.multinomial(ember.tensor([[1.0, 1.0, 1.0, 1.0]]), 3),
    "rand_like": lambda: ember.rand_like(ember.zeros(3)), "randn_like": lambda: ember.randn_like(ember.zeros(3)),
    "uniform_": lambda: ember.empty(3).uniform_(-1, 1), "normal_": lambda: ember.empty(3).normal_(),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_manual_seed_reproducible(name):
    ember.manual_seed(123)
    a = RANDOM[name]().numpy().copy()
    b = RANDOM[name]().numpy().copy()
    ember.manual_seed(123)
    c = RANDOM[name]().numpy().copy()
    assert np.array_equal(a, c)
    if name not in ("multinomial_norep",) and a.size > 3:
        assert not np.array_equal(a, b)


def test_whole_run_reproducible_and_rng_state():
    def run():
        return [ember.rand(2).tolist(), ember.randn(2).tolist(), ember.randint(0, 100, (3,)).tolist(),
                ember.randperm(5).tolist()]
    ember.manual_seed(7)
    r1 = run()
    ember.manual_seed(7)
    assert run() == r1
    st = ember.get_rng_state()
    r2 = run()
    ember.set_rng_state(st)
    assert run() == r2
    g = ember.Generator().manual_seed(3)
    a = ember.rand(3, generator=g).tolist()
    assert ember.rand(3, generator=ember.Generator().manual_seed(3)).tolist() == a


def test_random_dtypes_ranges():
    assert ember.rand(3).dtype == ember.float32 and ember.randn(3, dtype=ember.float64).dtype == ember.float64
    r = ember.randint(-3, 4, (1000,))
    assert r.dtype == ember.int64 and r.min().item() == -3 and r.max().item() == 3
    p = ember.randperm(50)
    assert sorted(p.tolist()) == list(range(50)) and p.dtype == ember.int64
    u = ember.rand(10000)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.02
    n = ember.randn(20000)
    assert abs(n.mean().item()) < 0.03 and abs(n.std().item() - 1) < 0.03
    m = ember.normal(3.0, 0.5, (20000,))
    assert abs(m.mean().item() - 3) < 0.02 and abs(m.std().item() - 0.5) < 0.02


def test_bernoulli_statistics():
    p = ember.tensor([0.0, 0.2, 0.9, 1.0]).expand(20000, 4)
    s = ember.bernoulli(p)
    assert s.dtype == ember.float32 and set(np.unique(s.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(s.mean(0).numpy(), [0.0, 0.2, 0.9, 1.0], atol=0.015)
    with pytest.raises(RuntimeError, match="bernoulli"):
        ember.bernoulli(ember.tensor([1.5]))


def test_multinomial_statistics():
    probs = ember.tensor([1.0, 2.0, 7.0])   # unnormalized weights
    s = ember.multinomial(probs, 20000, replacement=True)
    assert s.dtype == ember.int64 and s.shape == (20000,)
    np.testing.assert_allclose(np.bincount(s.numpy(), minlength=3) / 20000, [0.1, 0.2, 0.7], atol=0.015)
    rows = ember.multinomial(ember.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]), 2, replacement=True)
    assert rows.shape == (2, 2) and (rows[0] > 0).all().item() and (rows[1] == 0).all().item()
    nr = ember.multinomial(ember.ones(3, 5), 5)
    assert all(sorted(r) == [0, 1, 2, 3, 4] for r in nr.tolist())
    with pytest.raises(RuntimeError, match="multinomial"):
        ember.multinomial(ember.tensor([1.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="multinomial"):
        ember.multinomial(ember.tensor([-1.0, 2.0]), 1)
