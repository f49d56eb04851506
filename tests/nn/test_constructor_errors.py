"""Layer constructors refuse bad arguments with PyTorch's exception types (a script that catches them behaves
the same), each message naming the layer."""
import warnings

import numpy as np
import pytest
import torch

import ember

CASES = [
    ("Linear", (3, -1), {}), ("Linear", (2.0, 3), {}), ("Linear", (3, 2.5), {}),
    ("Embedding", (5, 3), {"padding_idx": 7}), ("Embedding", (5, 3), {"padding_idx": -7}),
    ("MultiheadAttention", (10, 3), {}), ("TransformerEncoderLayer", (10, 3), {}),
    ("Bilinear", (0, 2, 3), {}), ("Bilinear", (2.5, 2, 3), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=lambda c: str(c))
def test_bad_arguments_raise_pytorchs_exception_type(name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as want:
            getattr(torch.nn, name)(*args, **kwargs)
        with pytest.raises(type(want.value)) as got:
            getattr(ember.nn, name)(*args, **kwargs)
    assert type(got.value) is type(want.value)
    named = {"TransformerEncoderLayer": "MultiheadAttention"}.get(name, name)    # (its attention refuses)
    assert named in str(got.value)


@pytest.mark.parametrize("name,args", [("Linear", (np.int64(3), 2)), ("Linear", (True, 2)), ("Linear", (0, 3)),
                                       ("Bilinear", (2, 0, 3))])
def test_sizes_pytorch_accepts(name, args):
    m = getattr(ember.nn, name)(*args)
    t = getattr(torch.nn, name)(*args)
    assert tuple(m.weight.shape) == tuple(t.weight.shape)
    assert all(type(getattr(m, a)) is int for a in vars(m) if a.endswith("_features"))


def test_functional_embedding_padding_idx():
    with pytest.raises(AssertionError, match="embedding: padding_idx must be within num_embeddings"):
        ember.nn.functional.embedding(ember.tensor([1]), ember.zeros(5, 3), padding_idx=7)
    with pytest.raises(AssertionError):
        torch.nn.functional.embedding(torch.tensor([1]), torch.zeros(5, 3), padding_idx=7)
