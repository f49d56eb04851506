"""Tensor.new, PyTorch's legacy constructor (older scripts build buffers with weight.new(...))."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("build", [
    lambda m, x: x.new(2, 3).shape, lambda m, x: x.new().shape, lambda m, x: x.new(m.Size([2, 3])).shape,
    lambda m, x: x.new([1, 2]).tolist(), lambda m, x: x.new((2, 3)).tolist(), lambda m, x: x.new([[1, 2]]).shape,
    lambda m, x: x.new(np.array([1, 2])).tolist(), lambda m, x: str(x.new(2).dtype).split(".")[-1],
    lambda m, x: m.ones(2, dtype=m.int32).new([1.5, 2.7]).tolist(),
])
def test_matches_torch(build):
    assert build(ember, ember.ones(2, dtype=ember.float64)) == build(torch, torch.ones(2, dtype=torch.float64))


def test_tensor_argument_shares_data_and_errors():
    x = ember.ones(2, dtype=ember.float64)
    t = ember.tensor([1.0, 2.0], dtype=ember.float64)
    assert x.new(t).data_ptr() == t.data_ptr()
    with pytest.raises(TypeError, match="dtype"):
        x.new(ember.tensor([1, 2]))
    with pytest.raises(TypeError, match="sequence"):
        x.new(2.5)
    with pytest.raises(TypeError):
        torch.ones(2).new(2.5)
