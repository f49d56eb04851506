"""Issue 12: Tensor methods that take a size or dims as varargs or as one sequence (``x.tile(2)``,
``x.broadcast_to(4, 3)``, ``x.tile((2, 2))``, a 0-d integer tensor as an int) accept the same forms as PyTorch
2.13, with the same results; the functions (``torch.tile(x, 2)``) refuse a plain int as PyTorch does."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

# (method, its numbers): each is called as varargs, tuple, list, Size and (one number) int / 0-d tensor
CASES = [
    ("view", (12,)), ("view", (4, 3)), ("reshape", (3, 4)), ("expand", (2, 4, 3)), ("repeat", (2, 1)),
    ("repeat", (2, 2, 1)), ("permute", (1, 0)), ("tile", (2,)), ("tile", (2, 2)), ("tile", (3,)),
    ("broadcast_to", (4, 3)), ("broadcast_to", (2, 4, 3)), ("new_zeros", (2, 3)), ("new_ones", (5,)),
    ("new_empty", (2, 3)), ("flip", (0,)), ("flip", (0, 1)), ("flip", (1,)), ("count_nonzero", (0, 1)),
    ("count_nonzero", (1,)), ("sum_to_size", (1, 3)), ("sum_to_size", (3,)), ("sum_to_size", (4, 1)),
    ("sum_to_size", (4, 3)),
]


def _forms(lib, nums):
    out = {"varargs": tuple(nums), "tuple": (tuple(nums),), "list": (list(nums),), "Size": (lib.Size(nums),),
           "0-d tensors": tuple(lib.tensor(n) for n in nums)}
    return out


@pytest.mark.parametrize("method,nums", CASES, ids=[f"{m}{n}" for m, n in CASES])
def test_size_forms_match_torch(method, nums):
    for form in _forms(torch, nums):
        xt = torch.arange(12.0).reshape(4, 3)
        xe = ember.arange(12.0).reshape(4, 3)
        rt = getattr(xt, method)(*_forms(torch, nums)[form])
        re_ = getattr(xe, method)(*_forms(ember, nums)[form])
        assert tuple(re_.shape) == tuple(rt.shape), (method, form)
        if not method.startswith("new_empty"):
            np.testing.assert_array_equal(re_.numpy(), rt.numpy(), err_msg=f"{method} {form}")


@pytest.mark.parametrize("call", ["x.tile(dims=(2,))", "x.broadcast_to(size=(2, 4, 3))",
                                  "x.sum_to_size(size=(3,))", "x.count_nonzero(dim=(0, 1))",
                                  "m.broadcast_to(x, size=(2, 4, 3))", "m.broadcast_to(x, [2, 4, 3])",
                                  "m.tile(x, [2])", "m.tile(x, m.Size([2, 2]))"])
def test_keyword_and_function_forms(call):
    rt = eval(call, {"m": torch, "x": torch.ones(4, 3)})
    re_ = eval(call, {"m": ember, "x": ember.ones(4, 3)})
    assert tuple(re_.shape) == tuple(rt.shape)


@pytest.mark.parametrize("call", ["m.tile(x, 2)", "m.broadcast_to(x[0], 3)"])
def test_functions_refuse_a_plain_int_as_torch(call):
    with pytest.raises(TypeError) as et:
        eval(call, {"m": torch, "x": torch.ones(4, 3)})
    with pytest.raises(TypeError) as ee:
        eval(call, {"m": ember, "x": ember.ones(4, 3)})
    assert str(ee.value) == str(et.value)


def test_sum_to_size_errors_identity_and_grad():
    x = ember.ones(4, 3)
    for bad in [(2, 3), (5, 4, 3), (-1, 3)]:
        with pytest.raises(RuntimeError) as ee:
            x.sum_to_size(*bad)
        with pytest.raises(RuntimeError) as et:
            torch.ones(4, 3).sum_to_size(*bad)
        assert str(ee.value) == str(et.value)
    y = ember.ones(4, 1)
    assert y.sum_to_size(4, 1) is y          # as PyTorch: no new tensor when the size already matches
    w = ember.arange(12.0).reshape(4, 3).requires_grad_()
    s = w.sum_to_size(1, 3)
    assert s.grad_fn.name() == "SumBackward1"
    (s * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.tile([1.0, 2.0, 3.0], (4, 1)))
    assert w.sum_to_size(3).grad_fn.name() == "ViewBackward0"
