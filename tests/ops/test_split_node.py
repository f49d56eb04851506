"""``split`` / ``chunk`` record one node for all their pieces (``ember.ops._shape_join.Split``): its backward
concatenates the pieces' gradients (zeros for a piece that was not used), as PyTorch's SplitBackward0."""
import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("how", ["chunk", "split_int", "split_sizes"])
@pytest.mark.parametrize("used", [(0,), (1, 2), (0, 1, 2)])
def test_split_gradients_match_pytorch(how, used):
    x = np.random.default_rng(0).standard_normal((4, 9))
    grads = []
    for m in (ember, torch):
        t = m.tensor(x, requires_grad=True)
        pieces = {"chunk": lambda: t.chunk(3, -1), "split_int": lambda: t.split(4, 1),
                  "split_sizes": lambda: t.split([2, 3, 4], dim=1)}[how]()
        loss = sum((pieces[i] * (i + 2)).pow(2).sum() for i in used)
        loss.backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=0)


def test_the_pieces_share_one_node_named_as_pytorchs():
    t = ember.randn(2, 6, requires_grad=True)
    a, b, c = t.chunk(3, 1)
    assert a.grad_fn is b.grad_fn is c.grad_fn
    assert type(a.grad_fn).__name__ == "Split" and a.grad_fn.name() == "SplitBackward0"
    assert t.split([1, 5], 1)[0].grad_fn.name() == "SplitWithSizesBackward0"


def test_the_pieces_are_views_that_may_not_be_modified_in_place_in_a_graph():
    t = ember.randn(2, 6, requires_grad=True) * 1
    a, _ = t.split(3, 1)
    assert a._data.base is not None and np.shares_memory(a._data, t._data)
    with pytest.raises(RuntimeError):
        a.mul_(2)
