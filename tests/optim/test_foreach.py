"""PyTorch's ``foreach``/``fused`` flags: accepted by SGD, Adam and AdamW and bit for bit the same results as
``foreach=False`` (ember runs one update path on CPU; a multi-tensor path with reused scratch buffers was
measured and gave no speed-up, so any future one must pass these tests): several steps, every option, mixed
shapes and dtypes, a parameter without a gradient on one step."""
import itertools

import numpy as np
import pytest

import ember
from ember.optim import SGD, Adam, AdamW


def _params(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(7, 5), (5,), (), (3, 4, 2), (0, 3)]
    ps = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]
    ps.append(ember.tensor(rng.standard_normal((4, 3)), requires_grad=True))          # float64 beside float32
    ps.append(ember.tensor(rng.standard_normal((6, 4)).astype(np.float32).T, requires_grad=True))  # non-contiguous
    return ps


def _run(make, foreach, steps=4):
    ps = _params()
    opt = make(ps, foreach)
    rng = np.random.default_rng(1)
    for k in range(steps):
        for i, p in enumerate(ps):
            # parameter 1 has no gradient on step 2: the set of updated parameters changes
            if i == 1 and k == 2:
                p.grad = None
                continue
            p.grad = ember.tensor(rng.standard_normal(p.shape).astype(p._data.dtype))
        opt.step()
    state = [{k: (v._data.copy() if hasattr(v, "_data") else v) for k, v in opt.state[p].items()} for p in ps]
    return [p._data.copy() for p in ps], state


def _same(a, b):
    (pa, sa), (pb, sb) = a, b
    for x, y in zip(pa, pb):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
    for x, y in zip(sa, sb):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], np.ndarray):
                assert x[k].tobytes() == y[k].tobytes(), k
            else:
                assert x[k] == y[k], k


SGD_CASES = [dict(momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
             for m, d, wd, n, mx in itertools.product((0, 0.9), (0, 0.3), (0, 1e-2), (False, True), (False, True))
             if not (n and (m == 0 or d != 0))]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd_foreach_bit_identical(kw):
    def make(ps, foreach):
        return SGD(ps, lr=0.05, foreach=foreach, **kw)
    ref = _run(make, False)
    _same(_run(make, True), ref)
    _same(_run(make, None), ref)


ADAM_CASES = [dict(weight_decay=wd, amsgrad=a, maximize=mx, betas=b)
              for wd, a, mx, b in itertools.product((0, 0.1), (False, True), (False, True),
                                                    ((0.9, 0.999), (0.3, 0.5)))]


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam_foreach_bit_identical(cls, kw):
    def make(ps, foreach):
        return cls(ps, lr=1e-2, foreach=foreach, **kw)
    ref = _run(make, False)
    _same(_run(make, True), ref)
    _same(_run(make, None), ref)
    if cls is Adam:
        _same(_run(lambda ps, f: Adam(ps, lr=1e-2, fused=True, **kw), None), ref)


def test_foreach_with_tensor_and_numpy_coefficients():
    def make(ps, foreach):
        return Adam(ps, lr=ember.tensor(0.01), betas=(np.float64(0.9), 0.999), foreach=foreach)
    _same(_run(make, True), _run(make, False))

    def make_sgd(ps, foreach):
        return SGD(ps, lr=np.float64(0.05), momentum=0.9, foreach=foreach)
    _same(_run(make_sgd, True), _run(make_sgd, False))


def test_foreach_respects_a_subclass_update():
    calls = []

    class Logged(SGD):
        def _update(self, p, g, state, group):
            calls.append(p.shape)
            super()._update(p, g, state, group)

    ps = _params()
    for p in ps:
        p.grad = ember.ones_like(p)
    Logged(ps, lr=0.1, momentum=0.9).step()
    assert len(calls) == len(ps)


def test_foreach_state_dict_round_trip_matches():
    ps = _params()
    opt = Adam(ps, lr=1e-2, foreach=True)
    for p in ps:
        p.grad = ember.ones_like(p)
    opt.step()
    sd = opt.state_dict()
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    ps2 = [ember.tensor(p._data.copy(), requires_grad=True) for p in ps]
    opt2 = Adam(ps2, lr=1e-2, foreach=False)
    opt2.load_state_dict(sd)
    for a, b in ((ps, opt), (ps2, opt2)):
        for p in a:
            p.grad = ember.full_like(p, 0.5)
        b.step()
    for x, y in zip(ps, ps2):
        assert x._data.tobytes() == y._data.tobytes()


@pytest.mark.parametrize("dampening", [0, 0.25])
def test_sgd_momentum_buffer_bitwise_formula(dampening):
    # b = mu * b + (1 - dampening) * g, p -= lr * b, computed here with NumPy as written (the dampening-0 path
    # adds g itself: 1 * g is g exactly, signed zeros and infinities included)
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(50).astype(np.float32)
    p = ember.tensor(p0.copy(), requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=dampening)
    ref, buf = p0.copy(), None
    for k in range(4):
        g = rng.standard_normal(50).astype(np.float32)
        g[:3] = (-0.0, np.inf, 0.0) if k == 3 else g[:3]
        p.grad = ember.tensor(g)
        opt.step()
        buf = g.copy() if buf is None else buf * np.float32(0.9) + np.float32(1 - dampening) * g
        ref -= np.float32(0.1) * buf
        assert p._data.tobytes() == ref.tobytes()
