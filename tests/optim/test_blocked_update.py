"""Elementwise optimizer updates of large parameters run a cache-sized block at a time
(``ember.optim._split_update.update_all``): the same parameters and state, bit for bit, as one update of each
whole array, whatever the block size; parameters that cannot be chunked are updated whole."""
import numpy as np
import pytest

import ember
from ember.optim import _split_update as SU
from tests.optim._elementwise import OPTIMIZERS as _OPTIMIZERS

_SHAPES = [(7, 3), (5,), (4, 4), (2,), (3, 3), (1, 1)]



def _bits(a):
    return a.dtype, a.shape, a.strides, a.view(np.uint8).tobytes()


def _run(monkeypatch, block_bytes, make, dtype=np.float32, steps=3):
    """Three steps with blocks of ``block_bytes``; returns (the sizes of the updates, params, state)."""
    with monkeypatch.context() as m:
        m.setattr(SU, "BLOCK_BYTES", block_bytes)
        rng = np.random.default_rng(0)
        ps = [ember.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in _SHAPES]
        opt = make(ps)
        calls = []
        real = type(opt)._update

        def counting(self, p, g, state, group):
            calls.append(p.size)
            return real(self, p, g, state, group)
        m.setattr(type(opt), "_update", counting)
        m.setattr(type(opt), "_split_update", counting)     # still the elementwise update
        for _ in range(steps):
            for p in ps:
                p.grad = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
            opt.step()
    state = opt.state_dict()["state"]
    flat = [(k, kk, _bits(v.numpy()) if hasattr(v, "numpy") else v) for k in sorted(state)
            for kk, v in sorted(state[k].items())]
    return calls, [_bits(p.detach().numpy()) for p in ps], flat


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_OPTIMIZERS))
def test_blocked_update_same_bits(monkeypatch, name, dtype):
    whole_calls, whole_p, whole_s = _run(monkeypatch, 1 << 30, _OPTIMIZERS[name], dtype)
    assert len(whole_calls) == 3 * len(_SHAPES)
    item = np.dtype(dtype).itemsize
    for block in (item, 3 * item, 4 * item):
        calls, p, s = _run(monkeypatch, block, _OPTIMIZERS[name], dtype)
        assert len(calls) > len(whole_calls), "no parameter was updated in blocks"
        assert p == whole_p and s == whole_s


def test_not_chunkable_parameter_updated_whole(monkeypatch):
    # SGD's first momentum step makes the buffer (no state to chunk yet): that step updates each array whole
    monkeypatch.setattr(SU, "BLOCK_BYTES", 4)
    p = ember.tensor(np.linspace(-1, 1, 64, dtype=np.float32), requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
    sizes = []
    real = ember.optim.SGD._update

    def counting(self, p, g, state, group):
        sizes.append(p.size)
        return real(self, p, g, state, group)
    monkeypatch.setattr(ember.optim.SGD, "_update", counting)
    monkeypatch.setattr(ember.optim.SGD, "_split_update", counting)
    p.grad = ember.tensor(np.ones(64, np.float32))
    opt.step()
    assert sizes == [64]
    sizes.clear()
    opt.step()
    assert sizes == [1] * 64
