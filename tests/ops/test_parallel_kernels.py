"""Training batch norm, max pooling and softmax cross-entropy split among threads (ember.ops._parallel), which
ember does on large inputs when BLAS has several threads: the same values and gradients, bit for bit, as one
thread, for any split; BLAS is at one thread during the split and restored after."""
import numpy as np
import pytest
import torch

import ember
from tests.ops._sections import counting_sections
import ember.nn.functional as F
from ember.ops import _batch_norm as BN, _parallel as P, loss as L, pool as PL


@pytest.fixture
def split(monkeypatch):
    """``split(n)``: BLAS reported with ``n`` threads and every kernel split however small (``n = 1``: the
    one-thread path); returns the list of the sizes of the parallel sections that ran."""
    return counting_sections(monkeypatch, [(mod, "MIN_SPLIT", 1) for mod in (BN, PL, L)])


def _run(split, n, fn, *arrays):
    """``fn`` of ember tensors made from ``arrays`` with ``n`` threads, backward with a fixed upstream gradient:
    (the sections that ran, [outputs..., input grads...] as arrays)."""
    calls = split(n)
    ts = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = fn(*ts)
    outs = outs if isinstance(outs, tuple) else (outs,)
    y = outs[0]
    g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(str(y.dtype).split(".")[-1])
    y.backward(ember.tensor(g))
    res = [o.detach().numpy() for o in outs] + [t.grad.numpy() for t in ts if t.grad is not None]
    return list(calls), res


def _same_for_threads(split, fn, *arrays, threads=(2, 3)):
    one_calls, one = _run(split, 1, fn, *arrays)
    assert not one_calls
    for n in threads:
        calls, res = _run(split, n, fn, *arrays)
        assert calls and max(calls) > 1, "the split path did not run"
        assert len(res) == len(one)
        for a, b in zip(res, one):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    return one


def _rng_array(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype) * 2 + 0.5


# -- batch norm ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 5, 7, 9), (3, 2, 11), (4, 7, 3, 2, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_split_over_channels_is_bitwise_the_one_thread_result(split, dtype, shape, affine):
    c = shape[1]
    x = _rng_array(shape, dtype)
    w, b = _rng_array((c,), dtype, 1), _rng_array((c,), dtype, 2)
    rm, rv = np.zeros(c, dtype), np.ones(c, dtype)
    stats = []

    def fn(x, w, b):
        m, v = ember.tensor(rm), ember.tensor(rv)
        y = F.batch_norm(x, m, v, w if affine else None, b if affine else None, training=True)
        stats.append((m.numpy(), v.numpy()))
        return y
    res = _same_for_threads(split, fn, x, w, b)
    for m, v in stats[1:]:
        np.testing.assert_array_equal(m, stats[0][0])
        np.testing.assert_array_equal(v, stats[0][1])
    # and PyTorch's numbers
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.batch_norm(xt, torch.tensor(rm), torch.tensor(rv), wt if affine else None,
                                        bt if affine else None, training=True)
    yt.backward(torch.tensor(np.cos(np.arange(yt.numel())).reshape(yt.shape).astype(dtype)))
    tol = 1e-4 if dtype == "float32" else 1e-10
    want = [yt, xt.grad] + ([wt.grad, bt.grad] if affine else [])
    for a, t in zip(res, want):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=tol, atol=tol)


def test_batch_norm_split_of_a_strided_input(split):
    x = _rng_array((5, 8, 6, 6)).transpose(0, 1, 3, 2)[:, ::2]         # (5, 4, 6, 6), not contiguous
    _same_for_threads(split, lambda t: F.batch_norm(t, None, None, training=True), np.array(x), threads=(2, 4))
    split(2)
    xt = ember.tensor(x)                     # the ember tensor keeps the strides: the kernel copies to rows
    y1 = F.batch_norm(xt, None, None, training=True).numpy()
    split(1)
    np.testing.assert_array_equal(F.batch_norm(xt, None, None, training=True).numpy(), y1)


# -- max pooling -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [
    dict(shape=(6, 3, 8, 8), k=2, s=2, p=0, d=1, ceil=False),              # tiled 2x2: the four-way maximum
    dict(shape=(5, 2, 9, 11), k=3, s=2, p=1, d=1, ceil=False),             # overlapping windows, padding
    dict(shape=(4, 3, 10, 9), k=3, s=3, p=1, d=2, ceil=True),              # dilation, ceil mode
    dict(shape=(1, 6, 9, 9), k=2, s=1, p=1, d=1, ceil=False),              # one image: split over channels
    dict(shape=(7, 2, 6, 7), k=(2, 3), s=(2, 1), p=0, d=1, ceil=True),     # odd sizes, no overlap in H
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_split_over_images_is_bitwise_the_one_thread_result(split, cfg, dtype):
    x = _rng_array(cfg["shape"], dtype)
    x[0, 0, 1, :3] = np.nan                  # NaN windows: PyTorch's last-NaN arg-max
    x[-1, -1] = np.round(x[-1, -1])          # ties: the first maximum wins
    x[-1, 0, :2, :2] = -np.inf

    def fn(t):
        return F.max_pool2d(t, cfg["k"], cfg["s"], cfg["p"], cfg["d"], ceil_mode=cfg["ceil"],
                            return_indices=True)
    y, idx, gx = _same_for_threads(split, fn, x)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), cfg["k"], cfg["s"], cfg["p"], cfg["d"],
                                            ceil_mode=cfg["ceil"], return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(idx, it.numpy())


def test_max_pool_split_without_grad_takes_the_values_only_path(split):
    x = _rng_array((6, 3, 9, 8))
    x[0, 0, 1, :3] = np.nan
    x[-1, 0, :2, :2] = -np.inf
    want = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1).numpy()
    for n in (1, 2):
        calls = split(n)
        with ember.no_grad():
            y = F.max_pool2d(ember.tensor(x), 3, 2, 1).numpy()
        assert bool(calls) == (n > 1)
        np.testing.assert_array_equal(y, want)


def test_max_pool_split_integer_and_inf_gradients(split):
    x = np.random.default_rng(3).integers(-50, 50, (4, 3, 8, 8)).astype(np.int64)
    calls = split(2)
    y = F.max_pool2d(ember.tensor(x), 2)
    assert calls
    split(1)
    np.testing.assert_array_equal(y.numpy(), F.max_pool2d(ember.tensor(x), 2).numpy())
    xf = _rng_array((4, 2, 6, 6))
    outs = []
    for n in (1, 2):
        split(n)
        t = ember.tensor(xf, requires_grad=True)
        y = F.max_pool2d(t, 2)
        g = np.ones(tuple(y.shape), np.float32)
        g[1, 1, 0, 0] = np.inf               # a non-finite upstream gradient: the np.where path in that part
        y.backward(ember.tensor(g))
        outs.append(t.grad.numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


# -- softmax cross-entropy -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(label_smoothing=0.2),
                                dict(ignore_index=1), dict(weight=True), dict(weight=True, label_smoothing=0.1)])
@pytest.mark.parametrize("shape", [(37, 11), (9, 5, 4)])
def test_cross_entropy_split_over_rows_is_bitwise_the_one_thread_result(split, kw, shape):
    x = _rng_array(shape) * 3
    y = np.random.default_rng(1).integers(0, shape[1], (shape[0],) + shape[2:])
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = ember.tensor(_rng_array((shape[1],), seed=4) ** 2)
    res = _same_for_threads(split, lambda t, yt: F.cross_entropy(t, yt, **kw), x, y)
    tkw = dict(kw, weight=torch.tensor(kw["weight"].numpy())) if "weight" in kw else kw
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(y), **tkw)
    lt.backward(torch.tensor(np.cos(np.arange(lt.numel())).reshape(lt.shape).astype("float32")))
    np.testing.assert_allclose(res[0], lt.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res[1], xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_cross_entropy_split_with_probability_targets(split, ls):
    x = _rng_array((23, 7), "float64")
    p = np.random.default_rng(2).dirichlet(np.ones(7), 23)
    _same_for_threads(split, lambda t, pt: F.cross_entropy(t, pt, label_smoothing=ls), x, p)


def test_cross_entropy_of_a_transposed_input_is_not_split(split):
    x = ember.tensor(_rng_array((9, 40)), requires_grad=True)
    calls = split(2)
    F.cross_entropy(x.t(), ember.tensor(np.arange(40) % 9)).backward()   # (40, 9) in Fortran order: one thread
    assert not calls
    assert x.grad.shape == (9, 40)


# -- the mechanism ---------------------------------------------------------------------------------------------
def test_blas_is_one_thread_during_the_split_and_restored_after(split):
    libs = P._controllers()
    if not libs:
        pytest.skip("threadpoolctl is not installed: BLAS's thread count is unknown and never changed")
    original = [lib.get_num_threads() for lib in libs]
    for lib in libs:                    # two BLAS threads (make test runs with one), so that "one" is a change
        lib.set_num_threads(2)
    try:
        before = [lib.get_num_threads() for lib in libs]
        split(2)
        seen = []
        real = P.in_parallel

        def watching(fns, t):
            return real([lambda f=f: (seen.append([lib.get_num_threads() for lib in libs]), f())[1]
                         for f in fns], t)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(P, "in_parallel", watching)
            x = ember.randn(4, 3, 8, 8, requires_grad=True)
            y = F.batch_norm(F.max_pool2d(x, 2), None, None, training=True)
            F.cross_entropy(y.reshape(4, -1), ember.tensor(np.arange(4))).backward()
        after = [lib.get_num_threads() for lib in libs]
    finally:
        for lib, n in zip(libs, original):
            lib.set_num_threads(n)
    # 6 sections (pool, batch norm, cross-entropy; forward and backward) of 2 parts each
    assert len(seen) == 12 and all(n == [1] * len(libs) for n in seen), seen
    assert after == before and before != [1] * len(libs)


def test_a_failing_part_raises_after_every_part_ended_and_restores_blas():
    libs = P._controllers()
    before = [lib.get_num_threads() for lib in libs]
    done = []

    def bad():
        raise ValueError("part failed")

    def slow():
        import time
        time.sleep(0.05)
        done.append(1)
    with pytest.raises(ValueError, match="part failed"):
        P.in_parallel([bad, slow, slow], 3)
    assert done == [1, 1]
    assert [lib.get_num_threads() for lib in libs] == before


def test_a_section_inside_a_part_runs_its_calls_in_turn():
    out = P.in_parallel([lambda: P.in_parallel([lambda: 1, lambda: 2], 2), lambda: 3], 2)
    assert out == [[1, 2], 3]
    assert P.run_split(lambda s: (s.start, s.stop), 10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert P.run_split(lambda s: (s.start, s.stop), 10, 1) == [(0, 10)]


def test_threads_for_needs_several_blas_threads_and_enough_work(monkeypatch):
    monkeypatch.setattr(P, "_HANDOFF", [1.0])       # the reference machine's hand-off: the thresholds as given
    monkeypatch.setattr(P, "blas_threads", lambda: 1)
    assert P.threads_for(64, 10 ** 8, 1000) == 1
    monkeypatch.setattr(P, "blas_threads", lambda: 0)               # unknown: no threadpoolctl
    assert P.threads_for(64, 10 ** 8, 1000) == 1
    monkeypatch.setattr(P, "blas_threads", lambda: 4)
    assert P.threads_for(64, 10 ** 8, 1000) == 4
    assert P.threads_for(64, 3000, 1000) == 3                         # at least min_work each
    assert P.threads_for(64, 1999, 1000) == 1
    assert P.threads_for(3, 10 ** 8, 1000) == 3                       # no more threads than items
    assert P.threads_for(1, 10 ** 8, 1000) == 1
    assert P.threads_for(8, 10 ** 8, 1000, min_items=4) == 2


@pytest.mark.parametrize("n", [1, 2])
def test_batch_norm_results_own_their_buffers(split, n):
    """The output and the input gradient are made in their final shapes (not views of (N, C, L) arrays), so
    autograd adopts the gradient as the leaf's .grad instead of copying it."""
    split(n)
    x = ember.randn(4, 3, 5, 5, requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    y.sum().backward()
    assert y._data.base is None and y.shape == (4, 3, 5, 5)
    assert x.grad._data.base is None and x.grad._data.flags.c_contiguous


def test_the_callers_errstate_holds_in_every_part(split):
    """Every part runs in the caller's context: NumPy's errstate (a context variable) silences the invalid
    value of inf - inf in the rows that another thread computes too."""
    import warnings
    x = np.zeros((8, 5), np.float32)
    x[:, 0] = np.inf                           # every row: max = inf, x - max = nan
    calls = split(2)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("error")
        loss = F.cross_entropy(ember.tensor(x), ember.tensor(np.zeros(8, np.int64)), reduction="none")
    assert calls and np.isnan(loss.numpy()).all()
    seen = P.in_parallel([lambda: np.geterr()["over"], lambda: np.geterr()["over"]], 2)
    with np.errstate(over="ignore"):
        inside = P.in_parallel([lambda: np.geterr()["over"], lambda: np.geterr()["over"]], 2)
    assert inside == ["ignore", "ignore"] and seen[0] == seen[1] != "ignore"


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_can_split_again():
    """A DataLoader worker forked after the pool's threads started: its first section must not wait for
    threads that do not exist in it."""
    import os
    import signal
    assert P.in_parallel([lambda: 1, lambda: 2], 2) == [1, 2]        # the pool's threads exist now
    pid = os.fork()
    if pid == 0:                                                     # the child: exit 0 on success
        ok = False
        signal.alarm(5)                                              # a hang ends the child with SIGALRM
        try:
            ok = P.in_parallel([lambda: 3, lambda: 4], 2) == [3, 4]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
