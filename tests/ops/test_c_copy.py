"""``backend.layout.c_copy``: the C-order copy behind ``contiguous()``/``clone()``, which copies large
transposes in chunks of the last axis; the result is NumPy's C-order copy exactly, for every layout."""
import numpy as np
import pytest
import torch

import ember
from ember.backend import layout


def _views(dtype):
    rng = np.random.default_rng(3)
    base = (rng.standard_normal((96, 80, 12)) * 100).astype(dtype)
    big = (rng.standard_normal((300, 520)) * 100).astype(dtype)
    yield big.T                                    # a transpose: the chunked path
    yield big[::-1].T                              # negative strides
    yield big[:, ::3].T                            # a gap between rows
    yield big[::2, 7:].T                           # sliced on both axes
    yield big.T[:, 5:300]                          # the last axis shortened
    yield base.transpose(2, 0, 1)                  # last axis strided, two contiguous-ish axes
    yield base.transpose(0, 2, 1)
    yield base.transpose(1, 2, 0)
    yield np.broadcast_to(big[:1].T, (520, 300))    # a stride-0 axis
    yield big.T[:0]                                # empty
    yield big[:4].T                                # a small plane: NumPy's copy
    yield big


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "complex64"])
def test_c_copy_is_numpys_c_order_copy(dtype):
    n = 0
    for a in _views(dtype):
        got = layout.c_copy(a)
        want = np.array(a, order="C", copy=True)
        assert got.flags.c_contiguous and got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
        assert not np.shares_memory(got, a)
        n += 1
    assert n == 12


def test_c_copy_takes_the_chunked_path_for_large_transposes(monkeypatch):
    """The chunked copy runs (NumPy's own copy is not called) for a large float transpose, not for a small one."""
    calls = []
    real = np.array

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    a = np.arange(512 * 384, dtype=np.float32).reshape(512, 384)
    monkeypatch.setattr(layout.np, "array", spy)
    layout.c_copy(a.T)
    assert calls == []
    layout.c_copy(a[:8].T)
    assert calls == [1]


@pytest.mark.parametrize("perm", [(1, 0, 2), (0, 2, 1), (2, 1, 0), (1, 2, 0)])
def test_contiguous_of_permuted_tensors_matches_torch(perm):
    x = np.random.default_rng(0).standard_normal((64, 96, 40)).astype(np.float32)
    a = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ea, ta = a.permute(*perm).contiguous(), t.permute(*perm).contiguous()
    assert ea.is_contiguous() and ea.stride() == ta.stride()
    np.testing.assert_array_equal(ea.detach().numpy(), ta.detach().numpy())
    g = np.random.default_rng(1).standard_normal(ta.shape).astype(np.float32)
    ea.backward(ember.tensor(g))
    ta.backward(torch.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("perm,shape", [((2, 0, 1), (-1,)), ((0, 2, 1), (-1, 96)), ((0, 2, 1), (64, 40, 96)),
                                        ((2, 1, 0), (40, -1)), ((1, 0, 2), (96, -1))])
def test_reshape_of_permuted_tensors_is_torchs(perm, shape):
    """reshape of a permuted tensor: a view where PyTorch's is one, else a copy (through c_copy), PyTorch's
    values and gradient either way."""
    x = np.random.default_rng(2).standard_normal((64, 96, 40)).astype(np.float32)
    a = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ea, ta = a.permute(*perm).reshape(shape), t.permute(*perm).reshape(shape)
    assert tuple(ea.shape) == tuple(ta.shape)
    same_storage = ta.data_ptr() == t.data_ptr() or ta._base is t
    assert (ea._data.base is not None and np.shares_memory(ea._data, a._data)) == same_storage
    np.testing.assert_array_equal(ea.detach().numpy(), ta.detach().numpy())
    g = np.random.default_rng(3).standard_normal(ta.shape).astype(np.float32)
    ea.backward(ember.tensor(g))
    ta.backward(torch.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
