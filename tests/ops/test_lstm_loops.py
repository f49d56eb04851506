"""The LSTM layer's loops compiled whole (``_ckernels.lstm_forward_loop`` / ``lstm_backward_loop``: each
step's GEMM through NumPy's own BLAS, found at run time, and the step's pointwise kernel, in one call with the
GIL released): the same bits as the Python loops they replace (which call the same BLAS GEMM and the same
pointwise kernels step by step), used for every unmasked float32/float64 layer, and refusing arrays they do not
take (False: the caller runs its Python loop)."""
import numpy as np
import pytest

import ember
from ember.ops import _ckernels, _parallel, rnn as R

needs_loops = pytest.mark.skipif(not _ckernels.available() or _ckernels.blas_gemm() is None,
                                 reason="the compiled kernels or an OpenBLAS with known CBLAS symbols are missing")


def _layer_run(dtype, num_layers, bidirectional, with_state, loss, seed=0):
    rng = np.random.default_rng(seed)
    L, N, I, H = 7, 6, 5, 9
    m = ember.nn.LSTM(I, H, num_layers=num_layers, bidirectional=bidirectional)
    m = m.double() if dtype == np.float64 else m
    for p in m.parameters():
        p.data = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype) * 0.7)
    x = ember.tensor((rng.standard_normal((L, N, I)) * 2).astype(dtype), requires_grad=True)
    D = num_layers * (1 + bidirectional)
    state = None
    if with_state:
        state = tuple(ember.tensor(rng.standard_normal((D, N, H)).astype(dtype), requires_grad=True)
                      for _ in range(2))
    out, (hn, cn) = m(x, state)
    if loss == "sum":           # a broadcast output gradient
        total = out.sum() + (cn * cn).sum()
    else:
        g = np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype)
        total = (out * ember.tensor(g)).sum() + (hn * hn).sum() * 0.5 + cn.sum()
    total.backward()
    grads = [x.grad] + ([t.grad for t in state] if with_state else []) + [p.grad for p in m.parameters()]
    return [a.detach().numpy() for a in [out, hn, cn] + grads]


def _counting(fn, *args):
    """``fn(*args)`` and the results of its compiled loop calls, [("f" or "b", ran), ...]."""
    calls = []
    real_f, real_b = _ckernels.lstm_forward_loop, _ckernels.lstm_backward_loop
    try:
        _ckernels.lstm_forward_loop = lambda *a: calls.append(("f", real_f(*a))) or calls[-1][1]
        _ckernels.lstm_backward_loop = lambda *a: calls.append(("b", real_b(*a))) or calls[-1][1]
        return fn(*args), calls
    finally:
        _ckernels.lstm_forward_loop, _ckernels.lstm_backward_loop = real_f, real_b


def _python_loops(fn, *args):
    real_f, real_b = _ckernels.lstm_forward_loop, _ckernels.lstm_backward_loop
    try:
        _ckernels.lstm_forward_loop = _ckernels.lstm_backward_loop = lambda *a: False
        return fn(*args)
    finally:
        _ckernels.lstm_forward_loop, _ckernels.lstm_backward_loop = real_f, real_b


@needs_loops
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("loss", ["sum", "weighted"])
def test_compiled_loops_are_the_python_loops_bit_for_bit(dtype, num_layers, bidirectional, with_state, loss):
    args = (dtype, num_layers, bidirectional, with_state, loss)
    got, calls = _counting(_layer_run, *args)
    loops = num_layers * (1 + bidirectional)
    assert calls == [("f", True)] * loops + [("b", True)] * loops
    want = _python_loops(_layer_run, *args)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@needs_loops
def test_packed_sequences_keep_the_python_loops():
    seqs = [ember.randn(n, 3) for n in (5, 3, 2)]
    packed = ember.nn.utils.rnn.pack_sequence(seqs)
    m = ember.nn.LSTM(3, 4)
    (out, _), calls = _counting(m, packed)
    out.data.sum().backward()
    assert calls == []


@needs_loops
def test_the_loops_split_over_rows_at_two_threads_give_the_torch_numbers(monkeypatch):
    torch = pytest.importorskip("torch")
    from tests.ops._sections import counting_sections
    calls = counting_sections(monkeypatch, [(R, "MIN_SPLIT_LOOP", 1 << 16)])(2)
    rng = np.random.default_rng(3)
    L, N, I, H = 6, 40, 7, 32
    x = rng.standard_normal((L, N, I)).astype(np.float32)
    m = ember.nn.LSTM(I, H)
    tm = torch.nn.LSTM(I, H)
    with torch.no_grad():
        for p, tp in zip(m.parameters(), tm.parameters()):
            tp.copy_(torch.tensor(p.detach().numpy()))
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)

    def run():
        out, (hn, cn) = m(ex)
        ((out * out).mean() + cn.sum()).backward()
        return out, hn, cn
    (out, hn, cn), loops = _counting(run)
    tout, (thn, tcn) = tm(tx)
    ((tout * tout).mean() + tcn.sum()).backward()
    assert calls == [2, 2] and len(loops) == 4 and all(ran for _, ran in loops)    # two parts a loop
    for a, b in [(out, tout), (hn, thn), (cn, tcn), (ex.grad, tx.grad)] + [
            (p.grad, tp.grad) for p, tp in zip(m.parameters(), tm.parameters())]:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def _forward_arrays(dtype=np.float32, L=3, n=4, I=2, H=3, reverse=False):
    """The forward loop's arrays as the layer lays them out: step t reads XH[t] and writes h into XH[t + 1]
    (reverse: reads XH[t + 1], writes XH[t])."""
    K = I + H + 1
    rng = np.random.default_rng(0)
    XH = rng.standard_normal((L + 1, n, K)).astype(dtype)
    rows, Hv = (XH[1:], XH[:L, :, I:I + H]) if reverse else (XH[:L], XH[1:, :, I:I + H])
    return dict(rows=rows, W=rng.standard_normal((K, 4 * H)).astype(dtype),
                G=np.empty((L, n, 4 * H), dtype), C=np.empty((L, n, H), dtype), TC=np.empty((L, n, H), dtype),
                Hv=Hv, c0=rng.standard_normal((n, H)).astype(dtype))


def _backward_arrays(dtype=np.float32, L=3, n=4, H=3):
    rng = np.random.default_rng(1)
    return dict(G=rng.uniform(0.1, 0.9, (L, n, 4 * H)).astype(dtype), C=rng.standard_normal((L, n, H)).astype(dtype),
                TC=rng.uniform(-0.9, 0.9, (L, n, H)).astype(dtype), dout=rng.standard_normal((L, n, H)).astype(dtype),
                c0=rng.standard_normal((n, H)).astype(dtype), w_hh=rng.standard_normal((4 * H, H)).astype(dtype),
                dZ=np.empty((L, n, 4 * H), dtype), dh=rng.standard_normal((n, H)).astype(dtype),
                dc=rng.standard_normal((n, H)).astype(dtype), dc2=np.empty((n, H), dtype))


@needs_loops
def test_the_module_refuses_arrays_it_does_not_take():
    m = _ckernels.module()
    blas = _ckernels.blas_gemm()
    f = _forward_arrays()
    assert m.lstm_forward_loop(*blas, *f.values(), 0) is True            # (the arrays as they should be)

    def forward_with(**change):
        a = dict(_forward_arrays(), **change)
        return m.lstm_forward_loop(*blas, *a.values(), 0)
    assert forward_with(G=np.empty((3, 4, 12), np.int32)) is False       # a dtype it does not take
    assert forward_with(C=np.empty((3, 4, 12), np.float64)) is False     # mixed dtypes
    assert forward_with(C=np.empty((3, 5, 3), np.float32)) is False      # shapes that differ
    assert forward_with(W=np.empty((6, 24), np.float32)[:, :12]) is False       # W's rows apart: not C order
    assert forward_with(TC=np.empty((3, 4, 6), np.float32)[:, :, ::2]) is False  # columns strided
    G = np.empty((3, 4, 12), np.float32)
    assert forward_with(G=G, C=G[:, :, :3]) is False                     # outputs overlapping
    assert m.lstm_forward_loop(0, blas[1], blas[2], *f.values(), 0) is False      # no GEMM for float32
    with pytest.raises(TypeError):
        m.lstm_forward_loop("sgemm", blas[1], blas[2], *f.values(), 0)
    with pytest.raises(TypeError, match="lstm_forward_loop takes 11 arguments"):
        m.lstm_forward_loop(*blas, *f.values())
    b = _backward_arrays()
    assert m.lstm_backward_loop(*blas, *b.values(), 0) is True

    def backward_with(**change):
        a = dict(_backward_arrays(), **change)
        return m.lstm_backward_loop(*blas, *a.values(), 0)
    assert backward_with(dh=np.empty((4, 6), np.float32)[:, :3]) is False   # dh not C-contiguous
    dZ = np.empty((3, 4, 12), np.float32)
    assert backward_with(dZ=dZ, G=dZ) is False                           # an output over an input
    assert backward_with(w_hh=np.empty((12, 4), np.float32)) is False    # W_hh of another H
    assert m.lstm_backward_loop(blas[0], 0, blas[2], *_backward_arrays(np.float64).values(), 0) is False


@needs_loops
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reverse", [False, True])
def test_the_forward_loop_is_gemm_then_pointwise_step_by_step(dtype, reverse):
    f = _forward_arrays(dtype, L=4, n=3, I=2, H=5, reverse=reverse)
    g = _forward_arrays(dtype, L=4, n=3, I=2, H=5, reverse=reverse)
    assert _ckernels.lstm_forward_loop(*f.values(), reverse)
    c = g["c0"]
    for t in (range(3, -1, -1) if reverse else range(4)):
        np.matmul(g["rows"][t], g["W"], out=g["G"][t])
        assert _ckernels.lstm_pointwise(g["G"][t], c, g["C"][t], g["TC"][t], g["Hv"][t])
        c = g["C"][t]
    for k in ("G", "C", "TC", "rows", "Hv"):
        assert np.array_equal(f[k], g[k])


def test_blas_gemm_is_none_for_an_unknown_blas(monkeypatch):
    monkeypatch.setattr(_parallel, "_controllers", lambda: [])
    monkeypatch.delitem(_ckernels._state, "blas", raising=False)
    assert _ckernels.blas_gemm() is None
    monkeypatch.delitem(_ckernels._state, "blas")

    class MKL:
        internal_api = "mkl"
    monkeypatch.setattr(_parallel, "_controllers", lambda: [MKL()])
    assert _ckernels.blas_gemm() is None
    monkeypatch.delitem(_ckernels._state, "blas")
