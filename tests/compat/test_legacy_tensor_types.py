"""Issue 12: the legacy tensor types' class attributes as PyTorch 2.13's ``torch.tensortype``:
``ember.FloatTensor.dtype`` is ``ember.float32`` (not Tensor's property object), ``is_cuda``/``is_sparse``
are False, and ``isinstance(x, ember.FloatTensor)`` holds exactly where torch's does."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

NAMES = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"]


@pytest.mark.parametrize("name", NAMES)
def test_class_dtype_is_the_dtype(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert e.dtype is getattr(ember, str(t.dtype).split(".")[1])
    assert e.is_cuda is t.is_cuda is False and e.is_sparse is t.is_sparse is False
    assert e([1]).dtype is e.dtype                  # the constructor still works, and instances keep Tensor.dtype


@pytest.mark.parametrize("make", ["m.ones(2)", "m.ones(2, dtype=m.int64)", "m.nn.Parameter(m.ones(2))",
                                  "m.ones(2).to_sparse()", "m.tensor(True)", "m.ones(2, dtype=m.float64)", "3"])
@pytest.mark.parametrize("name", NAMES)
def test_isinstance_matches_torch(name, make):
    xt, xe = eval(make, {"m": torch}), eval(make, {"m": ember})
    assert isinstance(xe, getattr(ember, name)) == isinstance(xt, getattr(torch, name))


def test_still_a_tensor_subclass_for_ember_checks():
    assert issubclass(ember.FloatTensor, ember.Tensor)
    assert isinstance(ember.FloatTensor([1.0]), ember.Tensor)
