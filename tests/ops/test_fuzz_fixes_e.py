"""Differences from PyTorch that the fuzz suite (tests/fuzz) found in session 9, each fixed; the first case
is the fuzzer's own."""
import numpy as np
import pytest
import torch

import ember


def _outcome(m, a, index):
    try:
        return tuple(m.tensor(a)[index].shape) if m is ember else tuple(torch.from_numpy(a)[index].shape)
    except IndexError:
        return IndexError


@pytest.mark.parametrize("shape", [(1, 0), (2, 0), (2, 0, 3)])
@pytest.mark.parametrize("index", [(Ellipsis, [0], True), (Ellipsis, [0], False), ([0], True, Ellipsis),
                                   (Ellipsis, True, [0]), (True, Ellipsis, [0]), (slice(None), True, [0]),
                                   (Ellipsis, True, [1]), (True, [[]]), (Ellipsis, [[]], True)])
def test_a_bool_beside_integer_arrays_on_empty_dims_as_pytorch(shape, index):
    """A Python bool in an index consumes no dim: ``x[..., [0], True]`` on a (1, 0) tensor indexes the empty
    dim and raises, as PyTorch (the empty-result shortcut had counted the bool as a dim and returned (1, 0));
    where PyTorch returns an empty result, ember has its shape."""
    a = np.zeros(shape, np.float32)
    assert _outcome(ember, a, index) == _outcome(torch, a, index)
