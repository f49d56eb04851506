"""Constant padding writes the interior and the border slabs (``_shape_flip_pad._pad_constant``): exactly
``np.pad``'s array (values, dtype, the value's cast, Fortran order kept), and PyTorch's ``F.pad``."""
import numpy as np
import pytest

import ember
from ember.ops._shape_flip_pad import _pad_constant

rng = np.random.default_rng(0)
CASES = [
    (rng.standard_normal((4, 3, 5, 6)).astype(np.float32), ((0, 0), (0, 0), (1, 1), (2, 3)), 0.0),
    (rng.integers(-5, 5, (3, 4)), ((2, 1), (0, 3)), 1.7),
    (rng.standard_normal((3, 4)).T, ((1, 2), (3, 0)), -2.5),
    (np.array([True, False]), ((1, 2),), True),
    (rng.standard_normal((2, 3, 4)), ((0, 0), (0, 0), (0, 0)), 9.0),
    (np.zeros((0, 3), np.float32), ((1, 1), (2, 0)), 5.0),
    (rng.integers(0, 200, (3, 3)).astype(np.uint8), ((1, 1), (1, 1)), 7),
    (rng.standard_normal((2, 2)).astype(np.float32), ((1, 0), (0, 1)), float("nan")),
]


@pytest.mark.parametrize("a, pads, value", CASES)
def test_same_array_as_np_pad(a, pads, value):
    want = np.pad(a, pads, mode="constant", constant_values=value)
    got = _pad_constant(a, pads, value)
    assert got.dtype == want.dtype and got.shape == want.shape and got.strides == want.strides
    np.testing.assert_array_equal(got, want)


def test_against_pytorch_with_gradient():
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    for pad, value in (((1, 2), 0.0), ((1, 1, 2, 0), 3.0), ((0, 1, 1, 0, 2, 2), -1.0), ((-1, 2, 1, -2), 0.5)):
        x, t = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y = ember.nn.functional.pad(x, pad, value=value)
        ty = torch.nn.functional.pad(t, pad, value=value)
        np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
        g = rng.standard_normal(ty.shape).astype(np.float32)
        y.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
