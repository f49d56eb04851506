"""``torch.testing.assert_close`` and ``torch.random.fork_rng`` paths, against PyTorch."""
import pytest
import torch

import ember


def _message(lib, a, b, **kw):
    try:
        lib.testing.assert_close(a, b, **kw)
    except AssertionError as e:
        return str(e)
    return None


@pytest.mark.parametrize("a,b,kw", [
    ([1.0, 2.0], [1.0, 2.1], {}),
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}),
    ([[1.0, 5.0], [3.0, 4.0]], [[1.0, 5.5], [3.2, 4.0]], {}),
    ([1.0, 2.0], [1.0, 2.1], {"rtol": 0.1, "atol": 0.0}),
    ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": True}),
    ([1.0, float("nan")], [1.0, float("nan")], {}),
])
def test_assert_close_matches_torch(a, b, kw):
    assert _message(ember, ember.tensor(a), ember.tensor(b), **kw) == _message(torch, torch.tensor(a),
                                                                              torch.tensor(b), **kw)


def test_assert_close_shape_dtype_and_containers():
    assert "'shape' do not match" in _message(ember, ember.ones(2), ember.ones(3))
    assert "'dtype' do not match" in _message(ember, ember.ones(1), ember.ones(1, dtype=ember.float64))
    assert _message(ember, [ember.ones(2)], [ember.ones(2) + 1e-7]) is None
    assert _message(ember, {"a": 1.0}, {"a": 1.0 + 1e-9}) is None


def test_fork_rng_restores_the_global_generator():
    with ember.random.fork_rng():
        inside = ember.rand(3).tolist()
    assert ember.rand(3).tolist() == inside
