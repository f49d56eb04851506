"""ember.ops._small_gemm: row-blocked GEMMs for OpenBLAS's small-matrix kernels (used by the recurrent cells)."""
import numpy as np
import pytest

from ember.ops import _parallel, _small_gemm as sg

F64 = np.dtype(np.float64)


@pytest.mark.parametrize("m,k,n,expected", [
    (96, 52, 200, 1),           # within the small-kernel limit: one call
    (97, 104, 204, 3),          # the LSTM cell's forward GEMM (time-sequence example)
    (97, 53, 204, 2),
    (204, 97, 104, 3),          # its weight gradient
    (64, 128, 512, 1),          # blocks of 13 rows: too thin
    (128, 784, 512, 1),         # far above: one call
])
def test_blocks(m, k, n, expected):
    assert sg.blocks(m, k, n, F64) == expected
    c = sg.blocks(m, k, n, F64)
    if c > 1:
        assert -(-m // c) * k * n <= sg.LIMIT


def test_float32_never_cut():
    assert sg.blocks(97, 53, 204, np.dtype(np.float32)) == 1


@pytest.mark.parametrize("transposed", [False, True])
def test_mm_matches_matmul(monkeypatch, transposed):
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 1)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((104, 97)).T if transposed else rng.standard_normal((97, 104))
    b = rng.standard_normal((104, 204))
    calls = []
    real = np.matmul

    def spy(x, y, out=None):
        calls.append(x.shape)
        return real(x, y, out=out)
    monkeypatch.setattr(sg.np, "matmul", spy)
    r = sg.mm(a, b)
    if sg._small_kernels():
        assert len(calls) == 3 and all(s[0] <= 33 for s in calls)
    assert r.shape == (97, 204) and r.flags.c_contiguous
    np.testing.assert_allclose(r, a @ b, rtol=1e-13, atol=1e-12)


def test_mm_one_call_at_two_threads(monkeypatch):
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    a = np.ones((97, 104))
    b = np.ones((104, 204))
    calls = []
    monkeypatch.setattr(sg.np, "matmul", lambda *x, **k: calls.append(1))
    r = sg.mm(a, b)
    assert not calls and (r == 104).all()
