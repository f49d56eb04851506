"""Shared helpers for the sparse tests: build the same COO tensor in ember and torch and compare them."""
from __future__ import annotations

import numpy as np
import torch

import ember

# an uncoalesced 3x4 pattern with a duplicate at (1, 2) and entries out of order
IDX = [[1, 0, 1, 2, 0], [2, 0, 2, 1, 3]]
VALS = [1.0, 2.0, 3.0, 4.0, -5.0]


def pair(idx=IDX, vals=VALS, size=(3, 4), dtype="float32", **kw):
    """The same sparse tensor built by ember and by torch."""
    v = np.asarray(vals, dtype=dtype)
    i = np.asarray(idx, dtype=np.int64)
    e = ember.sparse_coo_tensor(ember.tensor(i.copy()), ember.tensor(v.copy()), size, **kw)
    t = torch.sparse_coo_tensor(torch.tensor(i.copy()), torch.tensor(v.copy()), size, **kw)
    return e, t


def same_sparse(e, t, rtol=1e-6, atol=1e-6):
    """ember's sparse tensor ``e`` equals torch's ``t``: size, nnz, coalesced flag, indices, values, dtype."""
    assert e.is_sparse and t.is_sparse
    assert tuple(e.shape) == tuple(t.shape)
    assert e._nnz() == t._nnz()
    assert e.is_coalesced() == t.is_coalesced()
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
    np.testing.assert_allclose(e._values().numpy(), t._values().numpy(), rtol=rtol, atol=atol)


def dense_close(e, t, rtol=1e-6, atol=1e-6):
    assert not e.is_sparse and not t.is_sparse, (e.layout, t.layout)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def ember_repr(x) -> str:
    return repr(x).replace("ember.", "torch.")
