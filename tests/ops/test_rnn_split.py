"""The fused LSTM, GRU and Elman layers (ember.ops.rnn) split over batch rows among threads when BLAS has
several: every output and gradient bit for bit the one-thread result where BLAS keeps a product's rows exact
(``tests._blas``; else to float32 rounding), in both directions (packed batches are not split); BLAS at one
thread during the split and restored after; and the numbers still PyTorch's."""
import numpy as np
import pytest
import torch

import ember
from tests._blas import assert_same
from tests.ops._sections import counting_sections
from ember.ops import _parallel as P, rnn as R


@pytest.fixture
def split(monkeypatch):
    """``split(n)``: BLAS reported with ``n`` threads, parts split from 2^20 multiply-adds (the shapes below
    split there; the LSTM's compiled loops too); returns the list of the sizes of the sections that ran."""
    return counting_sections(monkeypatch, [(R, "MIN_SPLIT", 1 << 20), (R, "MIN_SPLIT_LOOP", 1 << 20)])


def _inputs(L, N, I, H, seed=0):
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)
    x = rng.standard_normal((L, N, I)).astype("float32")
    h0 = rng.standard_normal((N, H)).astype("float32") * 0.5
    c0 = rng.standard_normal((N, H)).astype("float32") * 0.5
    w = [rng.uniform(-k, k, s).astype("float32") for s in ((4 * H, I), (4 * H, H), (4 * H,), (4 * H,))]
    return [x, h0, c0] + w


def _run(arrays, reverse, sizes, lib=ember):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    if lib is ember:
        out, h_n, c_n = R.rnn_sequence("LSTM", *ts[:3], *ts[3:], reverse=reverse, batch_sizes=sizes)
    else:
        lstm = torch.nn.LSTM(arrays[0].shape[2], arrays[1].shape[1])
        with torch.no_grad():
            for p, a in zip((lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0), ts[3:]):
                p.copy_(a)
        out, (h_n, c_n) = lstm(ts[0], (ts[1][None], ts[2][None]))
        h_n, c_n = h_n[0], c_n[0]
    g = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype("float32")
    loss = (out * lib.tensor(g)).sum() + (h_n * h_n).sum() + (c_n * 0.5).sum()
    loss.backward()
    grads = [t.grad for t in ts] if lib is ember else [ts[0].grad, ts[1].grad, ts[2].grad] + [
        p.grad for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]
    return [a.detach().numpy() for a in (out, h_n, c_n, *grads)]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_lstm_split_over_rows_is_bitwise_the_one_thread_result(split, reverse, packed):
    L, N, I, H = 5, 64, 12, 128           # 64 rows x 4H x H: parts of 16+ rows are worth a thread
    arrays = _inputs(L, N, I, H)
    sizes = [64, 50, 40, 17, 3] if packed else None
    calls = split(1)
    one = _run(arrays, reverse, sizes)
    assert not calls
    for n in (2, 3):
        calls = split(n)
        res = _run(arrays, reverse, sizes)
        # a packed batch is not split (its parts' small steps would round differently in BLAS)
        assert calls.count(n) == (0 if packed else 2), "forward and backward loops split"
        for a, b in zip(res, one):
            assert_same(a, b)


def test_lstm_split_matches_torch(split):
    arrays = _inputs(4, 48, 10, 128, seed=1)
    calls = split(2)
    res = _run(arrays, False, None)
    assert calls == [2, 2]
    for a, b in zip(res, _run(arrays, False, None, lib=torch)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_lstm_small_batches_not_split(split):
    calls = split(2)
    _run(_inputs(3, 24, 5, 128), False, None)      # 24 rows: a part of 12 rows is under MIN_SPLIT
    _run(_inputs(3, 64, 5, 16), False, None)       # H = 16: tiny steps
    assert not calls


def test_blas_threads_restored_after_split(split):
    libs = P._controllers()
    before = [lib.get_num_threads() for lib in libs]
    calls = split(2)
    _run(_inputs(2, 64, 5, 128), True, None)
    assert calls and [lib.get_num_threads() for lib in libs] == before


def _run_mode(mode, arrays, reverse):
    """GRU / Elman through the fused op: [out, h_n, grads of x, h0, w_ih, w_hh, b_ih, b_hh] as arrays."""
    ts = [ember.tensor(a, requires_grad=True) for a in arrays]
    out, h_n = R.rnn_sequence(mode, ts[0], ts[1], None, *ts[2:], reverse=reverse)
    g = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype("float32")
    ((out * ember.tensor(g)).sum() + (h_n * h_n).sum()).backward()
    return [a.detach().numpy() for a in (out, h_n, *(t.grad for t in ts))]


@pytest.mark.parametrize("mode,N,gates", [("GRU", 64, 3), ("RNN_TANH", 128, 1), ("RNN_RELU", 128, 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_gru_and_elman_split_over_rows_is_bitwise_the_one_thread_result(split, mode, N, gates, reverse):
    L, I, H = 4, 9, 128
    rng = np.random.default_rng(2)
    k = 1 / np.sqrt(H)
    arrays = [rng.standard_normal((L, N, I)).astype("float32"), rng.standard_normal((N, H)).astype("float32")]
    arrays += [rng.uniform(-k, k, s).astype("float32") for s in ((gates * H, I), (gates * H, H), (gates * H,),
                                                                 (gates * H,))]
    calls = split(1)
    one = _run_mode(mode, arrays, reverse)
    assert not calls
    calls = split(2)
    res = _run_mode(mode, arrays, reverse)
    assert calls == [2, 2]
    for a, b in zip(res, one):
        assert_same(a, b)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_unsplit_loops_run_on_one_blas_thread(monkeypatch, mode):
    """At 2 BLAS threads a loop too small to split runs its per-step GEMMs with BLAS at one thread (restored
    after); the weight gradients after the loop have BLAS's threads back.  (With OpenBLAS's short spin; where
    ember set the long one the loops keep BLAS's threads: test_parallel_elementwise.)"""
    libs = P._controllers()
    if not libs:
        pytest.skip("threadpoolctl or a known BLAS is missing: ember cannot change BLAS's threads")
    from threadpoolctl import threadpool_limits
    from ember.ops import _blas_spin
    monkeypatch.setattr(_blas_spin, "threads_stay_awake", lambda: False)
    seen = []

    def spying(name, where=R):
        real = getattr(where, name)

        def spy(*args, **kwargs):
            seen.append((name, P.blas_threads()))
            return real(*args, **kwargs)
        monkeypatch.setattr(where, name, spy)
    kind = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "elman"}[mode]
    gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1}[mode]
    L, N, I, H = 3, 8, 5, 16
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((L, N, I)).astype("float32"), rng.standard_normal((N, H)).astype("float32")]
    if mode == "LSTM":
        arrays.append(rng.standard_normal((N, H)).astype("float32"))
    shapes = ((gates * H, I), (gates * H, H), (gates * H,), (gates * H,))
    arrays += [rng.uniform(-0.3, 0.3, s).astype("float32") for s in shapes]
    with threadpool_limits(2, user_api="blas"):
        if P.blas_threads() != 2:
            pytest.skip("BLAS would not take 2 threads here")
        # the LSTM's loops run compiled where they can (``_ck.lstm_forward_loop``): their calls are the loops
        compiled = mode == "LSTM" and R._ck.available() and R._ck.blas_gemm() is not None
        names = ("lstm_forward_loop", "lstm_backward_loop") if compiled else (f"_{kind}_forward_rows",
                                                                              f"_{kind}_backward_rows")
        for name in names:
            spying(name, R._ck if compiled else R)
        ts = [ember.tensor(a, requires_grad=True) for a in arrays]
        c0 = ts[2] if mode == "LSTM" else None
        rest = ts[3:] if mode == "LSTM" else ts[2:]
        outs = R.rnn_sequence(mode, ts[0], ts[1], c0, *rest)
        sum(o.sum() for o in outs).backward()
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)
    assert [name for name, _ in seen] == list(names)
    assert [t for _, t in seen] == [1, 1]                # the loops at one BLAS thread
