"""Large elementwise ops and optimizer steps split among threads (ember.ops._parallel_elementwise,
ember.optim._split_update), which ember does on large C-contiguous arrays when BLAS has several threads: the
same values, gradients, dtypes and strides, bit for bit, as one thread, for any split; BLAS restored after."""
import numpy as np
import pytest

import ember
from tests.ops._sections import counting_sections
import ember.nn.functional as F
from ember.ops import _ckernels, _parallel as P, _parallel_elementwise as PE
from ember.optim import _split_update as SU
from tests.optim._elementwise import OPTIMIZERS as _OPTIMIZERS


@pytest.fixture
def split(monkeypatch):
    """``split(n)``: BLAS reported with ``n`` threads and every array of 8 elements or more split; returns the
    list of the sizes of the parallel sections that ran."""
    return counting_sections(monkeypatch, [(mod, name, value) for mod in (PE, SU)
                                           for name, value in (("MIN_SPLIT", 4), ("SPLIT_FROM", 8))])


def _bits(a):
    return a.dtype, a.shape, a.strides, a.view(np.uint8).tobytes()


def _run(split, n, fn, arrays):
    calls = split(n)
    ts = [ember.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(str(y.dtype).split(".")[-1])
    y.backward(ember.tensor(g))
    grads = [_bits(t.grad.numpy()) for t in ts if t.grad is not None]
    return list(calls), [_bits(y.detach().numpy())] + grads


_UNARY = {
    "relu": ember.relu, "sigmoid": ember.sigmoid, "tanh": ember.tanh, "exp": ember.exp,
    "log": lambda a: ember.log(a.abs()), "sqrt": lambda a: ember.sqrt(a.abs()),
    "neg": lambda a: -ember.exp(a), "relu_twice": lambda a: ember.relu(ember.relu(a) - 0.25),
}
_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "mul_scalar": lambda a, b: (a * 2.5) * b, "div_scalar": lambda a, b: (a / 3.0) - b,
}


def _inputs(shape, dtype, k):
    rng = np.random.default_rng(k)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:4] = [0.0, -0.0, np.inf, -np.inf] if x.size >= 4 else x.reshape(-1)[:4]
    return x


@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 1, 9), (17,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_UNARY) + sorted(_BINARY))
def test_split_same_bits(split, name, dtype, shape):
    fn = _UNARY.get(name) or _BINARY[name]
    arrays = [_inputs(shape, dtype, 0)] + ([_inputs(shape, dtype, 1) + 0.5] if name in _BINARY else [])
    one_calls, one = _run(split, 1, fn, arrays)
    assert not one_calls
    for n in (2, 3):
        calls, res = _run(split, n, fn, arrays)
        assert calls and max(calls) > 1, "the split path did not run"
        assert res == one


_ACTIVATIONS = {
    "gelu": F.gelu, "gelu_tanh": lambda a: F.gelu(a, approximate="tanh"), "elu": F.elu, "silu": F.silu,
    "softplus": F.softplus, "leaky_relu": lambda a: F.leaky_relu(a, 0.1), "hardtanh": F.hardtanh,
    "mish": F.mish, "dropout": lambda a: (ember.manual_seed(0), F.dropout(a, 0.3))[1],
}


@pytest.fixture(params=["compiled", "numpy"])
def kernels(request):
    """Each test twice: with ember's compiled kernels where it has them (GELU), and with their NumPy twins."""
    if request.param == "compiled":
        yield
    else:
        with _ckernels.disabled():
            yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_ACTIVATIONS) + ["relu"])
def test_activation_split_same_bits(split, kernels, name, dtype):
    # pieces of at least 64 elements: float32 erf takes its per-element path below that (GELU)
    x = _inputs((3, 50, 7), dtype, 2) * 3
    fn = ember.relu if name == "relu" else _ACTIVATIONS[name]
    one_calls, one = _run(split, 1, fn, [x])
    assert not one_calls
    for n in (2, 3):
        calls, res = _run(split, n, fn, [x])
        assert calls and max(calls) > 1, "the split path did not run"
        assert res == one


# (not ReLU: its forward is one pass and its backward two, which blocks do not speed up)
_BLOCKED = {**{k: v for k, v in _ACTIVATIONS.items() if k != "dropout"}, "sigmoid": ember.sigmoid, "tanh": ember.tanh}


@pytest.fixture
def pieces(monkeypatch):
    """The sizes of the pieces ``_parallel_elementwise`` computes (blocks included), in order."""
    sizes = []
    real = PE._pieces

    def counting(fn, *a):
        def counted(o, *xs):
            sizes.append(o.size)
            return fn(o, *xs)
        return real(counted, *a)
    monkeypatch.setattr(PE, "_pieces", counting)
    return sizes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_BLOCKED))
def test_activation_blocks_same_bits(split, monkeypatch, pieces, name, dtype):
    # many-pass kernels (activations) run in cache-sized blocks, in each thread's piece: the same bits as one
    # call on the whole array, at any thread count (the NumPy formulas: a compiled kernel is one pass).  Blocks of 64+ elements (float32 erf, as above: the
    # blocks of an even split are between half the block size and the block size)
    monkeypatch.setitem(_ckernels._state, "on", False)
    x = _inputs((3, 50, 7), dtype, 2) * 3
    whole_calls, whole = _run(split, 1, _BLOCKED[name], [x])
    item = np.dtype(dtype).itemsize
    for n in (1, 2, 3):
        for block in (128, 200, 300):
            monkeypatch.setattr(PE, "BLOCK_BYTES", block * item)
            monkeypatch.setattr(PE, "SPLIT_BLOCK_BYTES", block * item)
            pieces.clear()
            _, res = _run(split, n, _BLOCKED[name], [x])
            blocks = [q for q in pieces if q <= block]    # (tanh's forward: one pass, unblocked)
            assert len(blocks) >= 1050 // block, "the blocks did not run"
            assert min(pieces) >= block // 2
            assert res == whole


def test_thread_pieces_take_their_own_block_size(split, monkeypatch, pieces):
    # one thread: BLOCK_BYTES blocks; inside each thread's piece at 2+ threads: SPLIT_BLOCK_BYTES blocks (fewer
    # NumPy calls, so fewer GIL hand-offs between the threads); the same bits either way
    monkeypatch.setitem(_ckernels._state, "on", False)
    x = _inputs((3, 50, 7), np.float32, 2) * 3
    _, whole = _run(split, 1, F.gelu, [x])
    monkeypatch.setattr(PE, "BLOCK_BYTES", 100 * 4)
    monkeypatch.setattr(PE, "SPLIT_BLOCK_BYTES", 400 * 4)
    for n, lo, hi in ((1, 50, 100), (2, 200, 400), (3, 200, 400)):
        pieces.clear()
        _, res = _run(split, n, F.gelu, [x])
        assert pieces and lo <= min(pieces) and max(pieces) <= hi
        assert res == whole


def test_not_split_when_small_broadcast_or_strided(split):
    calls = split(2)
    x = ember.tensor(np.ones((4, 6), np.float32), requires_grad=True)
    b = ember.tensor(np.ones(6, np.float32))
    ember.relu(x + b).sum().backward()                      # a broadcast add: not split; relu is
    n_bcast = len(calls)
    ember.relu(x.t()).sum()                                 # a transposed input: not split
    assert len(calls) == n_bcast
    ember.relu(ember.tensor(np.ones(7, np.float32)))        # under SPLIT_FROM: not split
    assert len(calls) == n_bcast


def test_blas_threads_restored(split):
    libs = P._controllers()
    if not libs:
        pytest.skip("threadpoolctl unavailable")
    calls = split(2)
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(2)
    try:
        seen = []
        real = PE.np.tanh

        def tanh(*a, **k):          # BLAS's thread count inside the pieces (not the dtype probe before them)
            if "out" in k:
                seen.append([lib.get_num_threads() for lib in libs])
            return real(*a, **k)
        PE.par_ufunc(tanh, np.ones((5, 5), np.float32))
        assert calls and len(seen) == 2 and all(s == [1] * len(libs) for s in seen)
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)
    finally:
        for lib, t in zip(libs, before):
            lib.set_num_threads(t)


def _opt_run(split, n, make, steps=3):
    calls = split(n)
    rng = np.random.default_rng(0)
    ps = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
          for s in [(7, 3), (5,), (4, 4), (2,), (3, 3)]]
    opt = make(ps)
    for _ in range(steps):
        for p in ps:
            p.grad = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
        opt.step()
    state = opt.state_dict()["state"]
    flat = [(k, kk, _bits(v.numpy()) if hasattr(v, "numpy") else v) for k in sorted(state)
            for kk, v in sorted(state[k].items())]
    return list(calls), [_bits(p.detach().numpy()) for p in ps], flat




@pytest.mark.parametrize("name", sorted(_OPTIMIZERS))
def test_optimizer_split_same_bits(split, name):
    one_calls, one_p, one_s = _opt_run(split, 1, _OPTIMIZERS[name])
    assert not one_calls
    for n in (2, 3, 4):
        calls, p, s = _opt_run(split, n, _OPTIMIZERS[name])
        assert calls and max(calls) > 1, "the split path did not run"
        assert p == one_p and s == one_s


def test_optimizer_subclass_with_own_update_not_split(split):
    class MySGD(ember.optim.SGD):
        def _update(self, p, g, state, group):
            p -= 0.5 * g.mean()             # not elementwise: chunks would change it
    calls, p, _ = _opt_run(split, 2, lambda ps: MySGD(ps, lr=0.1))
    assert not calls


def test_errstate_holds_in_every_piece(split):
    split(2)
    x = ember.tensor(np.array([np.inf] * 20, np.float32))
    with np.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError):
            x - x
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan((x - x).numpy()).all()


def test_optimizer_duplicate_parameter_not_split(split):
    # a parameter listed twice is updated twice in turn (a warning, as in torch): never by two threads at once
    def run(n):
        calls = split(n)
        p = ember.tensor(np.linspace(-1, 1, 40, dtype=np.float32), requires_grad=True)
        q = ember.tensor(np.linspace(-1, 1, 40, dtype=np.float32), requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate"):
            opt = ember.optim.Adam([p, q, p], lr=0.1)
        for _ in range(2):
            p.grad = ember.tensor(np.cos(np.arange(40, dtype=np.float32)))
            q.grad = ember.tensor(np.sin(np.arange(40, dtype=np.float32)))
            opt.step()
        return list(calls), _bits(p.detach().numpy()), _bits(q.detach().numpy())
    one = run(1)
    calls, *res = run(2)
    assert not calls and res == list(one[1:])


_SPIN_CHECK = r"""
import json, os, numpy as np
from threadpoolctl import threadpool_limits
threadpool_limits(2, user_api="blas")
import ember
from ember.ops import _parallel as P
libs = P._controllers()
ob = [l for l in libs if l.internal_api == "openblas" and hasattr(l.dynlib, "blas_thread_shutdown_")]
x = np.random.default_rng(0).random((300, 300))
from ember.ops import _blas_spin as S
print(json.dumps({"env": os.environ.get("OPENBLAS_THREAD_TIMEOUT"), "threads": [l.get_num_threads() for l in libs],
                  "scale": P.handoff_scale(), "awake": S.threads_stay_awake(),
                  "lib": ob[0].dynlib.openblas_thread_timeout() if ob else None, "openblas": bool(ob),
                  "gemm": bool(np.allclose(x @ x, np.einsum("ij,jk->ik", x, x)))}))
"""


@pytest.mark.parametrize("user", [None, "20"])
def test_blas_spin_set_unless_user_set(user):
    import json
    import os
    import subprocess
    import sys
    from ember.ops import _blas_spin
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if user:
        env["OPENBLAS_THREAD_TIMEOUT"] = user
    out = subprocess.run([sys.executable, "-c", _SPIN_CHECK], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["gemm"]
    if not r["openblas"]:
        pytest.skip("not an OpenBLAS that exports its thread controls")
    slow = r["scale"] >= _blas_spin.SLOW_WAKE_SCALE
    expect = int(user or (_blas_spin.SLOW_WAKE_SPIN_LOG2 if slow else _blas_spin.SPIN_LOG2))
    # the user's value kept, else ours (longer where a wake-up is slow), read back by OpenBLAS; its thread count
    # unchanged; recurrent loops keep BLAS's threads only where ember set the longer spin
    assert int(r["env"]) == expect and r["lib"] == expect and min(r["threads"]) == 2
    assert r["awake"] == (slow and not user)


def test_cheap_ufuncs_scale_their_threshold_by_the_hand_off(split, monkeypatch):
    """Where a hand-off to a section thread takes several times the reference machine's, adds, multiplies and
    relu's maximum split only from that many times more elements (at most CHEAP_SCALE_MAX), the costly ufuncs
    (tanh) from at most HANDOFF_SCALE_MAX times more."""
    calls = split(2)
    monkeypatch.setattr(P, "_HANDOFF", [11.0])
    assert PE.CHEAP_SCALE_MAX == 8 and P.HANDOFF_SCALE_MAX == 2
    a = np.random.default_rng(0).standard_normal(48).astype(np.float32)     # 24 elements a thread: over 4
    x, y = ember.tensor(a), ember.tensor(a[::-1].copy())
    r = a[::-1]
    with ember.no_grad():
        np.testing.assert_array_equal((x + y).numpy(), a + r)
        np.testing.assert_array_equal((x * y).numpy(), a * r)
        np.testing.assert_array_equal((x - y).numpy(), a - r)
        np.testing.assert_array_equal(ember.relu(x).numpy(), np.maximum(a, 0))
    assert calls == []                                  # 48 < 2 * 4 * 8
    np.testing.assert_array_equal(ember.tanh(x).numpy(), np.tanh(a))
    assert calls == [2]                                 # 48 >= 2 * 4 * 2
    calls.clear()
    b = np.random.default_rng(1).standard_normal(64).astype(np.float32)     # 2 * 4 * 8 and more
    z = ember.tensor(b)
    with ember.no_grad():
        np.testing.assert_array_equal((z + z).numpy(), b + b)
        np.testing.assert_array_equal(ember.relu(z).numpy(), np.maximum(b, 0))
    assert calls == [2, 2]


def test_threads_for_scales_the_threshold_by_the_hand_off(monkeypatch):
    monkeypatch.setattr(P, "blas_threads", lambda: 2)
    monkeypatch.setattr(P, "_HANDOFF", [1.0])
    assert P.threads_for(64, 24, 4) == 2 and P.threads_for(64, 12, 4) == 2
    monkeypatch.setattr(P, "_HANDOFF", [11.0])          # at most HANDOFF_SCALE_MAX (2) times the threshold
    assert P.threads_for(64, 12, 4) == 1 and P.threads_for(64, 16, 4) == 2
    assert P.threads_for(64, 16, 4, scale_max=4) == 1 and P.threads_for(64, 32, 4, scale_max=4) == 2
    monkeypatch.setattr(P, "_HANDOFF", [1.5])
    assert P.threads_for(64, 11, 4) == 1 and P.threads_for(64, 12, 4) == 2


def test_hand_off_measured_once_and_at_least_one(monkeypatch):
    monkeypatch.setattr(P, "_HANDOFF", [])
    s = P.handoff_scale()
    assert s >= 1.0 and P._HANDOFF == [s] and P.handoff_scale() == s


@pytest.mark.parametrize("scale, expect", [(1.0, 16), (1.9, 16), (2.0, 19), (10.0, 19)])
def test_blas_spin_longer_where_a_wake_up_is_slow(monkeypatch, scale, expect):
    """``_blas_spin.shorten`` with a stand-in OpenBLAS: the spin it sets follows the measured hand-off."""
    import os
    from types import SimpleNamespace
    from ember.ops import _blas_spin
    calls = []
    def read():
        calls.append(("read", os.environ["OPENBLAS_THREAD_TIMEOUT"]))
    dll = SimpleNamespace(openblas_read_env=read, blas_thread_shutdown_=lambda: calls.append(("shutdown",)))
    lib = SimpleNamespace(internal_api="openblas", threading_layer="pthreads", dynlib=dll)
    monkeypatch.setattr(_blas_spin, "_done", [])
    monkeypatch.setattr(_blas_spin, "_set", [])
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    assert _blas_spin.shorten([lib], scale)
    assert calls == [("read", str(expect)), ("shutdown",)]
    assert _blas_spin.threads_stay_awake() == (expect == 19)
    assert not _blas_spin.shorten([lib], scale)            # once per process
    os.environ.pop("OPENBLAS_THREAD_TIMEOUT", None)         # (monkeypatch restores the original)


@pytest.mark.parametrize("awake", [False, True])
def test_recurrent_loop_keeps_blas_threads_only_where_they_stay_awake(monkeypatch, awake):
    from ember.ops import _blas_spin, rnn
    stretches = []
    monkeypatch.setattr(_blas_spin, "threads_stay_awake", lambda: awake)
    monkeypatch.setattr(rnn._par, "on_one_blas_thread", lambda fn, *a: stretches.append(1) or fn(*a))
    monkeypatch.setattr(rnn._par, "threads_for", lambda *a, **k: 1)
    lstm = ember.nn.LSTM(8, 16)
    lstm(ember.randn(5, 4, 8))[0].sum().backward()
    assert bool(stretches) == (not awake)
