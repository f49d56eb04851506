"""torch.linspace rounds start + step * i once (its CPU kernel is a fused multiply-add): ember's linspace and
affine_grid's base grid must give the same bits (float32 and float64)."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("start,end", [(-1, 1), (0, 1), (-3.3, 7.1), (5, -2)])
def test_linspace_bits_equal_torch(start, end, dtype):
    for n in list(range(2, 70)) + [100, 257, 1000]:
        got = ember.linspace(start, end, n, dtype=getattr(ember, dtype)).numpy()
        want = torch.linspace(start, end, n, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(got, want, err_msg=f"linspace({start}, {end}, {n}, {dtype})")


def test_affine_grid_identity_bits_equal_torch():
    # linspace(-1, 1, 28)[10] is -7/27 only with one rounding; times 27/28 it is exactly -0.25
    for ac in (False, True):
        got = F.affine_grid(ember.eye(2, 3).unsqueeze(0), [1, 1, 28, 29], align_corners=ac).numpy()
        want = torch.nn.functional.affine_grid(torch.eye(2, 3).unsqueeze(0), [1, 1, 28, 29],
                                               align_corners=ac).numpy()
        np.testing.assert_array_equal(got, want)
