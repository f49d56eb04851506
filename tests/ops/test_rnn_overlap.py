"""The GRU and Elman layers' backward at 2+ BLAS threads: the weight-gradient and input-gradient GEMMs over
finished steps run on a second thread beside the loop (``rnn._loop_and_grads``; the LSTM's runs after it).  The loop's own results (the
state gradients) are bit for bit the one-thread ones, the GEMM results equal to rounding (their sums go
chunk by chunk), PyTorch's numbers either way, and an error on either side is raised, not waited on."""
import numpy as np
import pytest
import torch

import ember
from ember.ops import rnn as R
from tests.ops._sections import counting_sections


@pytest.fixture
def overlap(monkeypatch):
    """``overlap(n, chunks)``: BLAS reported with ``n`` threads, every layer overlapped in ``chunks`` chunks;
    returns the list of the sizes of the sections that ran."""
    def use(n, chunks=3):
        calls = counting_sections(monkeypatch, [(R, "MIN_OVERLAP", 1), (R, "OVERLAP_CHUNKS", chunks)])(n)
        return calls
    return use


def _layer(mode, I, H, layers, bidir, seed=0):
    ember.manual_seed(seed)
    cls = {"LSTM": ember.nn.LSTM, "GRU": ember.nn.GRU, "RNN_TANH": ember.nn.RNN, "RNN_RELU": ember.nn.RNN}[mode]
    kw = {"nonlinearity": "relu"} if mode == "RNN_RELU" else {}
    return cls(I, H, num_layers=layers, bidirectional=bidir, **kw)


def _run(mode, L, N, I, H, layers=1, bidir=False, bias=True):
    m = _layer(mode, I, H, layers, bidir)
    if not bias:
        for name, p in m.named_parameters():
            if "bias" in name:
                p.requires_grad_(False)
    g = np.random.default_rng(1)
    x = ember.tensor(g.standard_normal((L, N, I)).astype(np.float32), requires_grad=True)
    out = m(x)[0]
    w = ember.tensor(g.standard_normal(tuple(out.shape)).astype(np.float32))
    (out * w).sum().backward()
    return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in m.parameters() if p.grad is not None]


CASES = [
    ("GRU", 9, 5, 4, 6, 1, False),
    ("GRU", 7, 4, 3, 5, 2, True),
    ("RNN_TANH", 8, 4, 3, 5, 1, True),
    ("RNN_RELU", 6, 3, 2, 4, 2, False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-L{c[1]}-layers{c[5]}-bidir{c[6]}")
@pytest.mark.parametrize("chunks", [1, 3, 100])
def test_overlapped_backward_matches_one_thread(overlap, case, chunks):
    mode, L, N, I, H, layers, bidir = case
    overlap(1)
    want = _run(mode, L, N, I, H, layers, bidir)
    calls = overlap(2, chunks)
    got = _run(mode, L, N, I, H, layers, bidir)
    assert calls and set(calls) == {2}                          # one section per layer and direction
    np.testing.assert_array_equal(got[0], want[0])             # the forward is untouched
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("mode", ["GRU", "RNN_TANH"])
def test_overlapped_backward_matches_pytorch(overlap, mode):
    overlap(2, 4)
    L, N, I, H = 11, 4, 3, 6
    got = _run(mode, L, N, I, H, 1, True)
    m = _layer(mode, I, H, 1, True)
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN_TANH": torch.nn.RNN}[mode]
    t = cls(I, H, bidirectional=True)
    with torch.no_grad():
        for pt, pe in zip(t.parameters(), m.parameters()):
            pt.copy_(torch.tensor(pe.detach().numpy()))
    g = np.random.default_rng(1)
    x = torch.tensor(g.standard_normal((L, N, I)).astype(np.float32), requires_grad=True)
    out = t(x)[0]
    (out * torch.tensor(g.standard_normal(tuple(out.shape)).astype(np.float32))).sum().backward()
    want = [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in t.parameters()]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_not_overlapped_for_lstm_short_or_packed_sequences(overlap):
    calls = overlap(2)
    _run("LSTM", 9, 4, 3, 5)                                   # the LSTM: its GEMM after the loop
    _run("GRU", 3, 4, 3, 5)                                    # fewer than 4 steps
    m = _layer("GRU", 3, 5, 1, False)
    x = ember.randn(6, 3, 3)
    packed = ember.nn.utils.rnn.pack_padded_sequence(x, [6, 4, 2])
    out, _ = m(packed)
    out.data.sum().backward()
    assert calls == []


def test_partial_gradients_without_bias_or_input_grad(overlap):
    overlap(1)
    want = _run("GRU", 8, 3, 2, 4, bias=False)
    overlap(2)
    got = _run("GRU", 8, 3, 2, 4, bias=False)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("side", ["loop", "sums"])
def test_an_error_on_either_side_is_raised(overlap, monkeypatch, side):
    overlap(2)
    if side == "loop":
        def broken(*a, **k):
            raise ValueError("loop failed")
        monkeypatch.setattr(R, "_gru_backward_rows", broken)
    else:
        real = R._Chunks.done

        def done(self, t):
            real(self, t)
            if self.n == 0:                       # a chunk was just handed over: spoil what it reads
                self.q.put(("lo", "hi"))          # a chunk no array can be sliced by: the GEMM side raises
        monkeypatch.setattr(R._Chunks, "done", done)
    m = _layer("GRU", 3, 5, 1, False)
    y = m(ember.randn(8, 2, 3, requires_grad=True))[0].sum()
    with pytest.raises((ValueError, TypeError)):
        y.backward()
