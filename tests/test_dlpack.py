"""DLPack exchange with NumPy and torch 2.13: zero copy both ways (writes show on the other side), dtypes, strides."""
import numpy as np
import pytest
import torch

import ember
from ember.utils.dlpack import from_dlpack as utils_from_dlpack


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.uint8, torch.bool])
def test_from_torch_shares_memory(dtype):
    t = torch.arange(6).reshape(2, 3).to(dtype)
    e = ember.from_dlpack(t)
    assert tuple(e.shape) == (2, 3) and e.numpy().dtype == t.numpy().dtype
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    if dtype != torch.bool:
        t[0, 0] = 5
        assert e.numpy()[0, 0] == 5


def test_to_torch_and_numpy_share_memory_and_keep_strides():
    e = ember.arange(12.0).reshape(3, 4).t()
    t = torch.from_dlpack(e)
    assert t.stride() == e.stride() and torch.equal(t, torch.arange(12.0).reshape(3, 4).t())
    t[1, 2] = -1.0
    assert e[1, 2].item() == -1.0
    a = np.from_dlpack(ember.ones(3))
    assert a.sum() == 3
    assert utils_from_dlpack(torch.ones(2)).sum().item() == 2


def test_tensors_that_require_grad_are_refused_as_torch_does():
    with pytest.raises(RuntimeError, match="require gradient"):
        torch.from_dlpack(ember.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        ember.from_dlpack([1, 2])
