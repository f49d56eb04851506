"""add/sub/mul of two same-shape float tensors and relu skip ``Function.apply`` when no graph can be recorded
(``elementwise._no_graph``): the same results, strides and flags as through ``apply``, and never while grad
mode is on, a jit trace records or the profiler counts ops."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import function as _fn
from ember.profiler import ProfilerActivity, profile

OPS = {
    "add": (lambda m, a, b: a + b),
    "sub": (lambda m, a, b: a - b),
    "mul": (lambda m, a, b: a * b),
    "relu": (lambda m, a, b: m.relu(a)),
}


def _pair(dtype, shape=(3, 4), transpose=False, seed=0):
    g = np.random.default_rng(seed)
    a, b = (g.standard_normal(shape).astype(dtype) for _ in range(2))
    a[0, 0] = np.nan
    if transpose:
        a, b = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T       # F-order
    return a, b


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose", [False, True])
def test_no_grad_results_match_pytorch(op, dtype, transpose):
    a, b = _pair(dtype, transpose=transpose)
    with ember.no_grad():
        e = OPS[op](ember, ember.tensor(a) if not transpose else ember.tensor(a.T).t(),
                    ember.tensor(b) if not transpose else ember.tensor(b.T).t())
    with torch.no_grad():
        t = OPS[op](torch, torch.tensor(a) if not transpose else torch.tensor(a.T).t(),
                    torch.tensor(b) if not transpose else torch.tensor(b.T).t())
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e.stride() == t.stride()
    assert e.dtype == (ember.float32 if dtype == np.float32 else ember.float64)
    assert not e.requires_grad and e.grad_fn is None


def test_results_are_fresh_and_independent():
    a, b = ember.ones(2, 2), ember.ones(2, 2)
    with ember.no_grad():
        c = a + b
        c += 1
    assert a.tolist() == [[1, 1], [1, 1]] and c.tolist() == [[3, 3], [3, 3]]


@pytest.mark.parametrize("op", OPS)
def test_taken_under_no_grad_only(op, monkeypatch):
    calls = []
    real = _fn.Function.__dict__["apply"].__func__

    def counting(cls, *args, **kw):
        calls.append(cls.__name__)
        return real(cls, *args, **kw)
    monkeypatch.setattr(_fn.Function, "apply", classmethod(counting))
    a, b = ember.randn(3, 3, requires_grad=True), ember.randn(3, 3)
    y = OPS[op](ember, a, b)
    assert calls and y.grad_fn is not None                  # grad mode: recorded through apply
    calls.clear()
    with ember.no_grad():
        OPS[op](ember, a, b)
    assert calls == []                                      # no graph: straight to NumPy
    big = ember.randn(1 << 19)
    with ember.no_grad():
        OPS[op](ember, big, big)
    assert calls                                            # above the thread split: the op's own forward


@pytest.mark.parametrize("op", OPS)
def test_profiler_still_counts_no_grad_ops(op):
    a, b = ember.randn(3, 3), ember.randn(3, 3)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with ember.no_grad():
            OPS[op](ember, a, b)
    names = {e.name for e in prof.events()}
    assert {"add": "Add", "sub": "Sub", "mul": "Mul", "relu": "Relu"}[op] in names
    assert _fn._hooked is False


@pytest.mark.parametrize("op", OPS)
def test_jit_trace_records_no_grad_ops(op):
    def f(a, b):
        with ember.no_grad():
            return OPS[op](ember, a, b) * 2.0
    x, y = ember.randn(3, 3), ember.randn(3, 3)
    traced = ember.jit.trace(f, (x, y))
    x2, y2 = ember.randn(3, 3), ember.randn(3, 3)
    np.testing.assert_array_equal(traced(x2, y2).numpy(), f(x2, y2).numpy())
