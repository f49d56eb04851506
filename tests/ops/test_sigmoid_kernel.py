"""sigmoid's forward is PyTorch's CPU formula 1 / (1 + exp(-x)) (float16 through float32)."""
import warnings

import numpy as np
import pytest
import torch

import ember


def test_float16_equals_torch_bitwise():
    a = (np.random.default_rng(0).standard_normal(20000) * 8).astype(np.float16)
    np.testing.assert_array_equal(ember.sigmoid(ember.tensor(a)).numpy(), torch.sigmoid(torch.from_numpy(a)).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_limits_without_warnings(dtype):
    x = [-1000.0, -100.0, -20.0, 0.0, 20.0, 1000.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ember.sigmoid(ember.tensor(x, dtype=getattr(ember, dtype))).numpy()
    want = torch.sigmoid(torch.tensor(x, dtype=getattr(torch, dtype))).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-7 if dtype == "float32" else 1e-15, atol=0)
    assert got[0] == want[0] == 0.0            # exp overflows to inf: the limit 0, as PyTorch


def test_zero_dim_and_silu():
    assert ember.sigmoid(ember.tensor(0.0)).item() == 0.5
    assert ember.nn.functional.silu(ember.tensor(0.0)).item() == 0.0
    x = ember.tensor([[1.0, -2.0], [3.0, -4.0]]).t()
    assert ember.sigmoid(x).stride() == torch.sigmoid(torch.tensor([[1.0, -2.0], [3.0, -4.0]]).t()).stride()
