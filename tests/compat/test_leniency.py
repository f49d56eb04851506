"""Class 8 of issue 12: lenient where PyTorch is lenient.  Dropout2d/Dropout3d on inputs of other ranks warn
(PyTorch's words) and run with PyTorch's masking rule."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn as nn


def _run(lib, cls, shape, p, train=True):
    layer = getattr(lib.nn, cls)(p)
    layer.train(train)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = layer(lib.ones(shape))
    return out.detach().numpy(), [str(x.message) for x in w]


CASES = [("Dropout2d", (3, 4)), ("Dropout2d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 5)), ("Dropout2d", (2, 3, 2, 2, 2)),
         ("Dropout3d", (3, 4)), ("Dropout3d", (2, 3, 4)), ("Dropout3d", (2, 3, 2, 2)), ("Dropout3d", (2, 2, 2, 2, 2))]


@pytest.mark.parametrize("cls,shape", CASES)
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_other_ranks_warn_and_run_like_torch(cls, shape, p):
    e_out, e_warn = _run(ember, cls, shape, p)
    t_out, t_warn = _run(torch, cls, shape, p)
    assert e_warn == t_warn
    assert e_out.shape == t_out.shape and np.array_equal(e_out, t_out)


@pytest.mark.parametrize("cls,shape", CASES)
def test_mask_structure_matches_torch(cls, shape):
    # which entries share one draw: find the dims the mask varies over, from many draws, in both libraries
    def varying_dims(lib):
        dims = set()
        for _ in range(30):
            out, _ = _run(lib, cls, shape, 0.5)
            for d in range(out.ndim):
                if not np.all(out == np.take(out, [0], axis=d)):
                    dims.add(d)
        return dims
    assert varying_dims(ember) == varying_dims(torch)


def test_eval_mode_is_identity_without_warning_checks_skipped():
    out, _ = _run(ember, "Dropout2d", (3, 4), 0.5, train=False)
    assert np.array_equal(out, np.ones((3, 4), np.float32))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        nn.Dropout2d()(ember.ones(3))
