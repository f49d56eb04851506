"""The ELU family's negative branch, expm1(t) for t <= 0 in float32 through tanh
(``activation._expm1_nonpos``): its accuracy against the exact value, its limits and signed zeros, and ELU,
SELU and CELU against PyTorch."""
import numpy as np
import pytest
import torch

import ember
from ember.ops.activation import _expm1_nonpos


def _inputs():
    rng = np.random.default_rng(0)
    t = np.concatenate([-np.abs(rng.standard_normal(200_000) * s) for s in (1e-6, 1e-3, 0.1, 1, 3, 10, 40)])
    edges = [-0.0, 0.0, -1e-30, -1e-45, -17.3, -17.4, -88.0, -104.0, -200.0, -np.inf]
    return np.concatenate([t, edges]).astype(np.float32)


def test_expm1_nonpos_within_three_ulp_of_the_exact_value():
    t = _inputs()
    got = _expm1_nonpos(t)
    exact = np.expm1(t.astype(np.float64))
    ulp = np.spacing(np.abs(exact.astype(np.float32))).astype(np.float64)
    assert got.dtype == np.float32
    assert (np.abs(got - exact) / ulp).max() < 3.0
    np.testing.assert_array_equal(got[exact.astype(np.float32) == -1], -1.0)     # the limit exactly
    assert np.signbit(got[-10]) and not np.signbit(got[-9])     # -0.0 -> -0.0, +0.0 -> +0.0
    assert np.isnan(_expm1_nonpos(np.array([np.nan, -1.0], np.float32))[0])
    assert _expm1_nonpos(np.float32(-1.0).reshape(())).shape == ()
    np.testing.assert_array_equal(_expm1_nonpos(t.astype(np.float64)), np.expm1(t.astype(np.float64)))


@pytest.mark.parametrize("name, kw", [("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
                                      ("celu", {"alpha": 2.0})])
def test_elu_family_against_torch(name, kw):
    x = np.concatenate([_inputs(), -_inputs()[:1000], [np.nan]]).astype(np.float32)
    x = x[(np.abs(x) > 1e-37) | (x == 0) | np.isnan(x)]     # (no subnormals: t / 2 loses their last bit)
    got = getattr(ember.nn.functional, name)(ember.tensor(x), **kw).numpy()
    want = getattr(torch.nn.functional, name)(torch.tensor(x), **kw).numpy()
    np.testing.assert_allclose(got, want, rtol=4e-7, atol=0)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
