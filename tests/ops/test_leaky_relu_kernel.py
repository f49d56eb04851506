"""leaky_relu's max/min form gives where(x > 0, x, x * slope)'s bits, as PyTorch's, for every slope."""
import numpy as np
import pytest
import torch

import ember

X = np.array([0.0, -0.0, np.nan, 1.5, -2.5, np.inf, -np.inf, 1e30, -1e30, 1e-40, -1e-40], np.float32)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, 1.5, 100.0, -0.3, -2.0, 0.0, -0.0, float("nan"), 1e-45])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bits_equal_torch(slope, dtype):
    x = X.astype(dtype)
    got = ember.nn.functional.leaky_relu(ember.tensor(x), slope).numpy()
    want = torch.nn.functional.leaky_relu(torch.from_numpy(x), slope).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_gradient_and_zero_dim():
    x = ember.tensor([-2.0, 3.0], requires_grad=True)
    ember.nn.functional.leaky_relu(x, 0.1).sum().backward()
    assert x.grad.tolist() == pytest.approx([0.1, 1.0])
    assert ember.nn.functional.leaky_relu(ember.tensor(-1.0), 0.5).item() == -0.5


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.0, 1.5, -0.3, 0.0, float("nan")])
def test_large_inputs_computed_in_place_give_the_whole_arrays_bits(slope):
    """A large input is computed in pieces written in place (``_leaky_into``): the same bits as the formula
    over the whole array, NaN, inf and signed zeros included."""
    from ember.ops.activation import _leaky_fwd
    rng = np.random.default_rng(3)
    a = rng.standard_normal(600_001).astype(np.float32)
    a[::97], a[::89], a[::83], a[::79] = np.nan, np.inf, -np.inf, -0.0
    got = ember.nn.functional.leaky_relu(ember.tensor(a), slope).numpy()
    with np.errstate(all="ignore"):
        want = _leaky_fwd(a, slope)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
