"""The blocked stride-1 convolution split over threads (ember.ops._conv_parallel), which ember uses when BLAS
has several threads: the same values and gradients as PyTorch (and as one thread), for any split of the batch."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember.ops import _conv_parallel as P
from ember.ops import conv as C


@pytest.fixture
def threads(monkeypatch):
    """Force the threaded path: BLAS reported with 2 or 3 threads (the split, not BLAS's own threads, is
    what runs in parallel; BLAS is set to one thread during it and restored after)."""
    def use(n):
        monkeypatch.setattr(C, "_blas_single_threaded", lambda: False)
        monkeypatch.setattr(P, "blas_threads", lambda: n)
    return use


@pytest.mark.parametrize("n_threads", [2, 3])
@pytest.mark.parametrize("case", [
    dict(n=8, c=3, h=17, w=15, o=5, k=3, padding=1, dilation=1, dtype="float32"),
    dict(n=13, c=4, h=12, w=12, o=6, k=3, padding=2, dilation=2, dtype="float64"),
    dict(n=9, c=2, h=16, w=16, o=3, k=5, padding=0, dilation=1, dtype="float64"),
])
def test_threaded_blocked_conv_matches_pytorch(threads, n_threads, case):
    threads(n_threads)
    calls = []
    real = P.in_parallel

    def counting(fns, t):
        calls.append(len(fns))
        return real(fns, t)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(case["dtype"])
    w = rng.standard_normal((case["o"], case["c"], case["k"], case["k"])).astype(case["dtype"])
    b = rng.standard_normal(case["o"]).astype(case["dtype"])
    res = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P, "in_parallel", counting)
        for m, f in ((ember, F), (torch, torch.nn.functional)):
            xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
            y = f.conv2d(xt, wt, bt, padding=case["padding"], dilation=case["dilation"])
            g = m.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(case["dtype"]))
            y.backward(g)
            res.append([t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)])
    assert calls, "the threaded path did not run"
    tol = 1e-4 if case["dtype"] == "float32" else 1e-10
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


def test_blas_thread_count_is_one_during_the_split_and_restored_after(threads):
    if P.blas_threads() == 0:           # (the real query, before the fixture replaces it: fills P._blas)
        pytest.skip("threadpoolctl is not installed: BLAS's thread count is unknown and never changed")
    libs = P._blas[0]
    original = [lib.get_num_threads() for lib in libs]
    for lib in libs:                    # two BLAS threads (make test runs with one), so that "one" is a change
        lib.set_num_threads(2)
    before = [lib.get_num_threads() for lib in libs]
    threads(2)
    seen = []
    real_forward = P._blocked.forward

    def forward(*args, **kwargs):
        seen.append([lib.get_num_threads() for lib in libs])
        return real_forward(*args, **kwargs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(P._blocked, "forward", forward)
        x = ember.randn(8, 2, 16, 16, requires_grad=True)       # 14x14 outputs: the blocked kernels apply
        F.conv2d(x, ember.randn(3, 2, 3, 3)).sum().backward()
    after = [lib.get_num_threads() for lib in libs]
    for lib, n in zip(libs, original):
        lib.set_num_threads(n)
    assert len(seen) == 2 and all(n == [1] * len(libs) for n in seen), seen
    assert after == before and before != [1] * len(libs)


def test_image_slices_cover_the_batch_once():
    for n in range(1, 20):
        for t in range(1, 5):
            s = P.image_slices(n, t)
            assert len(s) == min(n, t)
            assert [i for sl in s for i in range(n)[sl]] == list(range(n))
