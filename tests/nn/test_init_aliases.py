"""nn.init's deprecated non-underscore names warn as PyTorch's (FutureWarning, same text) and fill like the
underscore forms."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn

NAMES = ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
         "kaiming_normal", "orthogonal", "sparse"]
ARGS = {"constant": (0.5,), "sparse": (0.5,)}


def _shape(name):
    return (4, 3, 3) if name == "dirac" else (4, 6)


@pytest.mark.parametrize("name", NAMES)
def test_warning_text_and_values_as_torch(name):
    args = ARGS.get(name, ())
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        getattr(torch.nn.init, name)(torch.empty(_shape(name)), *args)
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        ember.manual_seed(3)
        out = getattr(nn.init, name)(ember.empty(*_shape(name)), *args)
    assert [(w.category, str(w.message)) for w in ew] == [(w.category, str(w.message)) for w in tw]
    assert ew[0].category is FutureWarning and ew[0].filename == __file__
    ember.manual_seed(3)
    ref = getattr(nn.init, name + "_")(ember.empty(*_shape(name)), *args)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert getattr(nn.init, name).__name__ == name


def test_alias_forwards_keywords_and_errors():
    with pytest.warns(FutureWarning):
        w = nn.init.kaiming_normal(ember.empty(8, 5), mode="fan_out", nonlinearity="relu")
    assert tuple(w.shape) == (8, 5)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="2 dimensions"):
        nn.init.eye(ember.empty(2, 2, 2))
