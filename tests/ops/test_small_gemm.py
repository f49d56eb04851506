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


def test_mm_at_two_threads(monkeypatch):
    """At two BLAS threads (OpenBLAS's short spin) a cell-sized GEMM runs on one, so it is cut as at one
    thread; a larger one is one call on both threads."""
    from ember.ops import _blas_spin
    monkeypatch.setattr(_blas_spin, "threads_stay_awake", lambda: False)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(sg, "_small_kernels", lambda: True)
    calls = []
    real = np.matmul
    monkeypatch.setattr(sg.np, "matmul", lambda x, y, out=None: calls.append(1) or real(x, y, out=out))
    a, b = np.ones((97, 104)), np.ones((104, 204))
    assert (sg.mm(a, b) == 104).all() and len(calls) == 3
    calls.clear()
    a, b = np.ones((256, 256)), np.ones((256, 256))
    assert (sg.mm(a, b) == 256).all() and not calls


def _blas_or_skip():
    libs = _parallel._controllers()
    if not libs:
        pytest.skip("threadpoolctl or a known BLAS is missing: ember cannot change BLAS's threads")
    return libs


@pytest.mark.parametrize("m,k,n,one", [(97, 104, 204, True),        # a cell's GEMM: on one BLAS thread
                                       (64, 64, 64, False),          # OpenBLAS keeps this on one by itself
                                       (256, 256, 256, False)])     # 2^24: big enough for both threads
def test_mm_runs_cell_sized_gemms_on_one_blas_thread(monkeypatch, m, k, n, one):
    """At several BLAS threads, the GEMMs that OpenBLAS would split but that are too small to gain from it run
    with BLAS at one thread, which is restored after (also when the GEMM raises)."""
    libs = _blas_or_skip()
    from threadpoolctl import threadpool_limits
    from ember.ops import _blas_spin
    monkeypatch.setattr(_blas_spin, "threads_stay_awake", lambda: False)     # OpenBLAS's short spin
    seen = []
    real = sg._blocked

    def spy(*args):
        seen.append(_parallel.blas_threads())
        return real(*args)
    monkeypatch.setattr(sg, "_blocked", spy)
    a, b = np.ones((m, k)), np.ones((k, n))
    with threadpool_limits(2, user_api="blas"):
        if _parallel.blas_threads() != 2:
            pytest.skip("BLAS would not take 2 threads here")
        np.testing.assert_array_equal(sg.mm(a, b), a @ b)
        assert seen == ([1] if one else [])
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)
        monkeypatch.setattr(sg, "_blocked", lambda *args: 1 / 0)
        if one:
            with pytest.raises(ZeroDivisionError):
                sg.mm(a, b)
            assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)


def test_mm_keeps_blas_threads_where_they_stay_awake(monkeypatch):
    """Where OpenBLAS's threads spin long enough to be awake at the next GEMM, a cell-sized GEMM keeps them."""
    libs = _blas_or_skip()
    from threadpoolctl import threadpool_limits
    from ember.ops import _blas_spin
    monkeypatch.setattr(_blas_spin, "threads_stay_awake", lambda: True)
    stretches = []
    monkeypatch.setattr(_parallel, "on_one_blas_thread", lambda fn, *a: stretches.append(1) or fn(*a))
    a, b = np.ones((97, 104)), np.ones((104, 204))
    with threadpool_limits(2, user_api="blas"):
        if _parallel.blas_threads() != 2:
            pytest.skip("BLAS would not take 2 threads here")
        np.testing.assert_array_equal(sg.mm(a, b), a @ b)
        assert not stretches
    with threadpool_limits(1, user_api="blas"):          # one BLAS thread: the row blocks as before
        sg.mm(a, b)
        assert stretches == [1]
    assert len(libs)


def test_blas_threads_follows_threadpoolctl():
    _blas_or_skip()
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, user_api="blas"):
        assert _parallel.blas_threads() == 1
    with threadpool_limits(2, user_api="blas"):
        assert _parallel.blas_threads() == 2


@pytest.mark.parametrize("m,k,n,one", [(64, 400, 120, True),        # LeNet-5's first Linear: one thread
                                       (64, 120, 84, True),
                                       (32, 32, 32, False),          # OpenBLAS keeps this on one by itself
                                       (128, 784, 512, False)])     # an MLP's first layer: both threads
def test_gemm_runs_mid_sized_products_on_one_blas_thread(monkeypatch, m, k, n, one):
    """``gemm`` (Linear layers' GEMMs) runs the products that OpenBLAS would split but that lose by it on one
    BLAS thread, never in row blocks, and equals ``a @ b`` exactly."""
    libs = _blas_or_skip()
    from threadpoolctl import threadpool_limits
    seen = []
    real = np.matmul

    def spy(x, y, out=None):
        seen.append(_parallel.blas_threads())
        return real(x, y, out=out)
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((n, k)).astype(np.float32).T
    with threadpool_limits(1 if one else 2, user_api="blas"):
        expected = a @ b        # (bitwise only at the same thread count: OpenBLAS splits by rows)
    monkeypatch.setattr(sg.np, "matmul", spy)
    with threadpool_limits(2, user_api="blas"):
        if _parallel.blas_threads() != 2:
            pytest.skip("BLAS would not take 2 threads here")
        r = sg.gemm(a, b)
        assert seen == ([1] if one else [])
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)
    np.testing.assert_array_equal(r, expected)


class _FakeBlas:
    """A BLAS library whose thread count is one process-wide number (as MKL's, or OpenBLAS's when set from the
    main thread)."""
    threads = 2

    def set_num_threads(self, n):
        _FakeBlas.threads = n

    def get_num_threads(self):
        return _FakeBlas.threads


def test_overlapping_one_thread_stretches_restore_blas(monkeypatch):
    """A one-BLAS-thread stretch (``on_one_blas_thread``) on one Python thread and a parallel section started
    on another while it runs, ending after it: BLAS ends at its thread count (each restoring its own reading
    left BLAS at one thread for good: the section had read the stretch's 1)."""
    import threading
    fake = _FakeBlas()
    monkeypatch.setattr(_FakeBlas, "threads", 2)
    monkeypatch.setattr(_parallel, "_blas", [[fake]])
    monkeypatch.setattr(_parallel, "_getters", [fake.get_num_threads])
    monkeypatch.setattr(_parallel, "_setters", [fake.set_num_threads])
    stretch_in, stretch_out, section_in = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def stretch():
        def body():
            stretch_in.set()
            section_in.wait(10)             # the section has started meanwhile
            seen.append(fake.get_num_threads())
        _parallel.on_one_blas_thread(body)
        stretch_out.set()

    def section():
        stretch_in.wait(10)

        def first():
            section_in.set()
            stretch_out.wait(10)            # the stretch has ended meanwhile
            seen.append(fake.get_num_threads())
        _parallel.in_parallel([first, lambda: None], 2)
    ts = [threading.Thread(target=f) for f in (stretch, section)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(20)
    assert stretch_out.is_set()
    assert seen == [1, 1]                   # each at one thread while the other ran
    assert fake.get_num_threads() == 2
    assert _parallel._ONE[0] == 0
