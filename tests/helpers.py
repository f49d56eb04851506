"""The oracle helper: run the same computation in ember and in PyTorch and compare values and gradients.

    compare(lambda m, x, y: m.matmul(x, y).relu().sum(), [(3, 4), (4, 5)])

``fn`` receives the module (``ember`` or ``torch``) first, then the inputs as that library's tensors; it
may return a tensor or a tuple of tensors.  Inputs are random float64 (or the dtype given) and require grad;
the backward uses the same random upstream gradient in both libraries.
"""
from __future__ import annotations

import numpy as np
import torch

import ember


def to_torch(x, requires_grad=None):
    if isinstance(x, ember.Tensor):
        t = torch.from_numpy(np.array(x.detach().numpy(), copy=True))
        if requires_grad if requires_grad is not None else x.requires_grad:
            t.requires_grad_(True)
        return t
    return x


def to_ember(t, requires_grad=None):
    if isinstance(t, torch.Tensor):
        e = ember.tensor(t.detach().cpu().numpy().copy())
        if requires_grad if requires_grad is not None else t.requires_grad:
            e.requires_grad_(True)
        return e
    return t


def assert_close(actual, expected, atol=1e-6, rtol=1e-5, what="value"):
    a = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    e = expected.detach().cpu().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=what)


def _outs(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def compare(fn, shapes_or_arrays, dtype=np.float64, atol=1e-6, rtol=1e-5, grad=True, seed=0, low=None, high=None):
    """Compare ``fn(ember, *inputs)`` with ``fn(torch, *inputs)``: outputs, then gradients of every input.

    ``shapes_or_arrays``: shapes (random normal data, or uniform in [low, high)) or ready NumPy arrays (integer
    arrays are passed through without grad)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for s in shapes_or_arrays:
        if isinstance(s, np.ndarray):
            arrays.append(s)
        elif low is not None:
            arrays.append(rng.uniform(low, high, s).astype(dtype))
        else:
            arrays.append(rng.standard_normal(s).astype(dtype))
    e_in = [ember.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    e_out = _outs(fn(ember, *e_in))
    t_out = _outs(fn(torch, *t_in))
    assert len(e_out) == len(t_out)
    for i, (eo, to) in enumerate(zip(e_out, t_out)):
        assert_close(eo, to, atol, rtol, what=f"output {i}")
        if isinstance(to, torch.Tensor):
            assert eo.dtype == np.dtype(str(to.dtype).replace("torch.", "")), f"output {i} dtype {eo.dtype} vs {to.dtype}"
            assert eo.requires_grad == to.requires_grad, \
                f"output {i}: requires_grad {eo.requires_grad} vs torch {to.requires_grad}"
    if not grad:
        return e_out
    e_diff = [(eo, to) for eo, to in zip(e_out, t_out) if isinstance(to, torch.Tensor) and to.requires_grad]
    if not e_diff:
        return e_out
    gs = [rng.standard_normal(tuple(to.shape)).astype(np.dtype(str(to.dtype).replace("torch.", ""))) for _, to in e_diff]
    torch.autograd.backward([to for _, to in e_diff], [torch.tensor(g) for g in gs])
    ember.autograd.backward([eo for eo, _ in e_diff], [ember.tensor(g) for g in gs])
    for k, (ei, ti) in enumerate(zip(e_in, t_in)):
        if ti.requires_grad:
            if ti.grad is None:
                assert ei.grad is None or np.allclose(ei.grad.numpy(), 0), f"input {k}: ember has a gradient, torch none"
            else:
                assert ei.grad is not None, f"input {k}: ember produced no gradient"
                assert_close(ei.grad, ti.grad, atol, rtol, what=f"grad of input {k}")
    return e_out


def gradcheck(fn, shapes, seed=0, **kw):
    """ember.autograd.gradcheck over random float64 inputs of the given shapes."""
    rng = np.random.default_rng(seed)
    xs = [ember.tensor(rng.standard_normal(s), dtype=ember.float64, requires_grad=True) for s in shapes]
    return ember.autograd.gradcheck(fn, xs, **kw)
