"""Shared helper for the conv/pool/norm layer tests: run an ember layer and a torch layer with the same
weights on the same float32 input and compare the output, the input gradient and every parameter gradient."""
import numpy as np
import torch

import ember
from tests.helpers import assert_close


def copy_weights(em, tm):
    """Load a torch module's state (parameters and buffers) into the ember module."""
    em.load_state_dict({k: ember.tensor(v.detach().cpu().numpy().copy()) for k, v in tm.state_dict().items()})


def check_layer(em, tm, shape, seed=0, atol=1e-5, rtol=1e-4, copy=True, forward_args=()):
    if copy:
        copy_weights(em, tm)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = em(ex, *forward_args), tm(tx, *forward_args)
    if isinstance(to, tuple):
        for a, b in zip(eo[1:], to[1:]):
            assert_close(a, b, what="extra output")
        eo, to = eo[0], to[0]
    assert_close(eo, to, atol, rtol, what="output")
    g = rng.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    assert_close(ex.grad, tx.grad, atol, rtol, what="input grad")
    ep, tp = dict(em.named_parameters()), dict(tm.named_parameters())
    assert list(ep) == list(tp)
    for k in tp:
        assert_close(ep[k].grad, tp[k].grad, atol * 10, rtol, what=f"grad of {k}")
    return eo, to
