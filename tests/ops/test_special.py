"""Elementwise special functions and utilities (ember/ops/special.py) against torch 2.13: values at ordinary
and edge inputs (poles, inf, NaN, -0.0), dtypes of integer inputs, gradients and float64 finite differences."""
import numpy as np
import pytest
import torch

import ember
from helpers import compare, gradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal(20) * 3
POS = np.abs(X) + 0.1
UNIT = rng.uniform(-0.99, 0.99, 20)
NAN, INF = float("nan"), float("inf")

WITH_GRAD = {
    "acosh": (lambda m, a: m.acosh(a), [POS + 1]),
    "asinh": (lambda m, a: m.asinh(a), [X]),
    "atanh": (lambda m, a: m.atanh(a), [UNIT]),
    "arc_aliases": (lambda m, a: (m.arcsin(a), m.arccos(a), m.arctan(a), m.arctan2(a, a + 2), m.arcsinh(a)), [UNIT]),
    "deg2rad": (lambda m, a: (m.deg2rad(a), m.rad2deg(a)), [X]),
    "angle": (lambda m, a: m.angle(a), [np.array([-1.0, 0, 2, NAN, -0.0])]),
    "erfc": (lambda m, a: m.erfc(a), [np.concatenate([X, [6.0, 10, -7, INF, NAN]])]),
    "erfinv": (lambda m, a: m.erfinv(a), [np.concatenate([UNIT, [0, 0.999999, -0.9999999999]])]),
    "lgamma": (lambda m, a: m.lgamma(a), [np.concatenate([X, [0.5, 1, 2, 100.5, 1e-8]])]),
    "digamma": (lambda m, a: m.digamma(a), [np.concatenate([X, [0.5, 1, 2, 100.5, 1e-3, -2.5, 30]])]),
    "polygamma1": (lambda m, a: m.polygamma(1, a), [np.concatenate([POS, [0.01, 50, -2.5]])]),
    "polygamma3": (lambda m, a: m.polygamma(3, a), [np.concatenate([POS, [0.3, 50]])]),
    "mvlgamma": (lambda m, a: m.mvlgamma(a, 3), [POS + 1.1]),
    "i0": (lambda m, a: m.i0(a), [np.concatenate([X, [40.0, -35, 0, 100]])]),
    "logit": (lambda m, a: m.logit(a), [rng.uniform(0.01, 0.99, 10)]),
    "logit_eps": (lambda m, a: m.logit(a, 0.1), [rng.uniform(0.01, 0.99, 10)]),
    "logit_outside": (lambda m, a: (m.logit(a), m.logit(a, 0.2)), [np.array([-0.5, 0.3, 1.5, 0.9, -0.0, 1.0])]),
    "sinc": (lambda m, a: m.sinc(a), [np.concatenate([X, [0.0, 1.0, -2.0]])]),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), [np.array([0.0, 1, 2, 0, 3, 0]), np.array([0.0, 2, 0.5, 3, 1, -1])]),
    "logaddexp": (lambda m, a, b: (m.logaddexp(a, b), m.logaddexp2(a, b)), [X, X[::-1].copy()]),
    "copysign": (lambda m, a, b: m.copysign(a, b), [X, rng.standard_normal(20)]),
    "ldexp": (lambda m, a, b: m.ldexp(a, b), [X, rng.integers(-3, 4, 20).astype(np.float64)]),
    "rsub": (lambda m, a, b: m.rsub(a, b, alpha=2), [X, X]),
}


@pytest.mark.parametrize("name", list(WITH_GRAD))
def test_values_and_gradients(name):
    fn, arrays = WITH_GRAD[name]
    compare(fn, arrays)


VALUES = {
    "erfc_float32": (lambda m, a: m.erfc(a), [X.astype(np.float32)]),
    "lgamma_poles": (lambda m, a: m.lgamma(a), [np.array([0.0, -1, -2.0, -INF, INF, NAN, -2.5])]),
    "digamma_poles": (lambda m, a: m.digamma(a), [np.array([0.0, -1, -2.0, INF, NAN, -0.0])]),
    "erfinv_edges": (lambda m, a: m.erfinv(a), [np.array([1.0, -1, 1.5, NAN, 0])]),
    "int_inputs": (lambda m, a: (m.erfc(a), m.lgamma(a), m.digamma(a), m.sinc(a), m.deg2rad(a), m.i0(a), m.asinh(a),
                                 m.angle(a)), [np.array([1, 2, -3, 0])]),
    "frexp": (lambda m, a: m.frexp(a), [X]),
    "nextafter": (lambda m, a, b: m.nextafter(a, b), [X, X[::-1].copy()]),
    "gcd_lcm": (lambda m, a, b: (m.gcd(a, b), m.lcm(a, b)), [np.array([12, -4, 0, 7]), np.array([18, 6, 0, -3])]),
    "shifts": (lambda m, a, b: (m.bitwise_left_shift(a, b), m.bitwise_right_shift(a, b)),
               [np.array([1, -8, 5, 3]), np.array([1, 2, 70, 0])]),
    "predicates": (lambda m, a: (m.signbit(a), m.isposinf(a), m.isneginf(a), m.isreal(a), m.positive(a)),
                   [np.array([-0.0, 1, -INF, INF, NAN])]),
    "predicates_int": (lambda m, a: (m.signbit(a), m.isposinf(a), m.isreal(a)), [np.array([-1, 0, 2])]),
    "heaviside": (lambda m, a, b: m.heaviside(a, b), [np.array([-1.0, 0, 2, NAN, 0]), np.array([.5, .5, .5, .5, 7])]),
    "xlogy_int": (lambda m, a, b: m.xlogy(a, b), [np.array([0, 1, 2]), np.array([0, 2, 3])]),
    "copysign_int": (lambda m, a, b: m.copysign(a, b), [np.array([1, -2, 3]), np.array([-1, 1, 0])]),
    "mvlgamma_poles": (lambda m, a: m.mvlgamma(a, 3), [np.array([0.5, 2.0, 1.0, -3.5, 3.2])]),
    "polygamma_method": (lambda m, a: a.polygamma(1), [np.array([0.5, 2.0])]),
    "polygamma_edges": (lambda m, a: tuple(m.polygamma(n, a) for n in (1, 2, 3, 4)),
                        [np.array([-1.0, -2.0, 0.0, -0.0, -INF, INF, -2.5, NAN, 0.3, 7.5, -0.2])]),
    "trigamma_poles_float32": (lambda m, a: m.polygamma(1, a), [np.array([-1.0, -2.0, -3.0, -7.0, 0.5], np.float32)]),
    "xlogy_nan": (lambda m, a, b: m.xlogy(a, b), [np.array([0.0, 0.0]), np.array([NAN, INF])]),
    "methods": (lambda m, a: (a.erfc(), a.lgamma(), a.logit(), a.sinc(), a.xlogy(a), a.logaddexp(a), a.deg2rad()),
                [UNIT]),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_values(name):
    fn, arrays = VALUES[name]
    compare(fn, arrays, grad=False)


@pytest.mark.parametrize("fn,shapes", [
    (lambda a: ember.erfinv(a.tanh() * 0.9), [(5,)]),
    (lambda a: ember.lgamma(a.abs() + 0.5), [(5,)]),
    (lambda a: ember.digamma(a.abs() + 0.5), [(5,)]),
    (lambda a: ember.polygamma(2, a.abs() + 0.5), [(5,)]),
    (lambda a: ember.i0(a), [(5,)]),
    (lambda a: ember.sinc(a), [(5,)]),
    (lambda a, b: ember.xlogy(a, b.abs() + 0.1), [(5,), (5,)]),
    (lambda a, b: ember.logaddexp(a, b), [(5,), (5,)]),
], ids=["erfinv", "lgamma", "digamma", "polygamma", "i0", "sinc", "xlogy", "logaddexp"])
def test_gradcheck(fn, shapes):
    assert gradcheck(fn, shapes)


@pytest.mark.parametrize("fn", [
    lambda m, a: m.logaddexp(a, 2.0), lambda m, a: m.logaddexp2(a, 1), lambda m, a: m.nextafter(a, 1.0),
    lambda m, a: m.gcd(a.long(), 2), lambda m, a: m.lcm(a.long(), 2), lambda m, a: m.heaviside(a, 0.5),
    lambda m, a: m.ldexp(a, 2),
], ids=["logaddexp", "logaddexp2", "nextafter", "gcd", "lcm", "heaviside", "ldexp"])
def test_python_number_second_argument_rejected_like_torch(fn):
    with pytest.raises(TypeError):
        fn(torch, torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="must be Tensor"):
        fn(ember, ember.tensor([1.0, 2.0]))


def test_ldexp_dtypes():
    for a, b in [(np.array(1.5), np.array([[1], [2]])), (np.array([1, 2]), np.array([True, False])),
                 (np.array([1.0, 2], np.float32), np.array(3.0)), (np.array([1, 2], np.uint8), np.array([1, 2], np.int8))]:
        compare(lambda m, x, y: m.ldexp(x, y), [a, b], grad=False)
    with pytest.raises(NotImplementedError):
        ember.ldexp(ember.tensor([1.0]), ember.tensor([True]))


@pytest.mark.parametrize("fn,arrays", [
    (lambda m, a: m.logaddexp(a, a), [np.array([1, 2])]),
    (lambda m, a: m.gcd(a, a), [np.array([1.0, 2.0])]),
    (lambda m, a: m.positive(a), [np.array([True])]),
    (lambda m, a: m.frexp(a), [np.array([1, 2])]),
    (lambda m, a: m.heaviside(a, m.tensor([1])), [np.array([1.0])]),
    (lambda m, a: m.mvlgamma(a, 0), [np.array([0.5, 2.0])]),
    (lambda m, a: m.polygamma(-1, a), [np.array([0.5])]),
], ids=["logaddexp_int", "gcd_float", "positive_bool", "frexp_int", "heaviside_dtypes", "mvlgamma_p0",
        "polygamma_negative_n"])
def test_errors_like_torch(fn, arrays):
    with pytest.raises(RuntimeError):
        fn(torch, *[torch.tensor(a) for a in arrays])
    with pytest.raises(RuntimeError):
        fn(ember, *[ember.tensor(a) for a in arrays])


from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

UNARY = {
    "acosh": lambda m, x: m.acosh(x), "asinh": lambda m, x: m.asinh(x), "atanh": lambda m, x: m.atanh(x),
    "erfc": lambda m, x: m.erfc(x), "erfinv": lambda m, x: m.erfinv(x), "lgamma": lambda m, x: m.lgamma(x),
    "digamma": lambda m, x: m.digamma(x), "trigamma": lambda m, x: m.polygamma(1, x), "i0": lambda m, x: m.i0(x),
    "logit": lambda m, x: m.logit(x), "logit_eps": lambda m, x: m.logit(x, 0.05), "sinc": lambda m, x: m.sinc(x),
    "angle": lambda m, x: m.angle(x), "deg2rad": lambda m, x: m.deg2rad(x), "signbit": lambda m, x: m.signbit(x),
    "xlogy": lambda m, x: m.xlogy(x, x.abs()), "logaddexp": lambda m, x: m.logaddexp(x, x.flip(-1)),
    "copysign": lambda m, x: m.copysign(x, x.flip(-1)),
}
EDGE_VALUES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 2.5, 1e-8, 1e4, -1e4, NAN, INF, -INF, 0.999999])


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(sorted(UNARY)),
       x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                    elements=st.one_of(st.floats(-30, 30), EDGE_VALUES)),
       f32=st.booleans())
def test_random_inputs_against_torch(op, x, f32):
    # values everywhere (poles, inf, NaN, -0.0 included); gradients where both libraries give finite ones
    arr = x.astype(np.float32) if f32 else x
    e = UNARY[op](ember, ember.tensor(arr))
    t = UNARY[op](torch, torch.tensor(arr))
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    tol = dict(rtol=2e-4, atol=1e-5) if f32 else dict(rtol=1e-6, atol=1e-9)
    ev, tv = e.numpy().astype(np.float64), t.numpy().astype(np.float64)
    if op in POLES:
        # next to a pole at a negative integer n the value is about +-1/(x - n)^k, and PyTorch's reflection
        # loses eps * |x| / |x - n| of it (ember reduces x by n first: test_digamma_next_to_a_pole); where that
        # loss exceeds the tolerance, both must only be of one sign and large: at least half of 1/|x - n| (the
        # pole's term dominates there: |x - n| < 0.08 for |x| <= 30 in float32, and the rest of digamma is
        # below ln|x| + 1; a bound of 1e3 failed at x = -14.03125, digamma about -29)
        x64 = arr.astype(np.float64)
        dist = np.abs(x64 - np.round(x64))
        near = (x64 < 0) & (dist > 0) & (dist * tol["rtol"] < POLES[op] * np.finfo(arr.dtype).eps * np.abs(x64))
        assert np.all(np.sign(ev[near]) == np.sign(tv[near]))
        assert np.all(np.abs(ev[near]) > 0.5 / dist[near]) and np.all(np.abs(tv[near]) > 0.5 / dist[near])
        ev, tv = ev[~near], tv[~near]
    np.testing.assert_allclose(ev, tv, equal_nan=True, **tol)


POLES = {"digamma": 4, "trigamma": 8}       # (how many times eps * |x| / |x - n| PyTorch's value may be off)


def test_random_comparison_near_a_pole_of_moderate_size():
    # hypothesis found x = -14.03125 in float32 (digamma about -29, "near" a pole by the tolerance's measure):
    # the comparison above must accept it
    test_random_inputs_against_torch.hypothesis.inner_test("digamma", np.array([-14.03125]), True)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
@pytest.mark.parametrize("d", [1e-15, 1e-12, 1e-9, -1e-12])
def test_digamma_next_to_a_pole(n, d):
    """digamma(x) = -1/(x + n) + digamma(1 + n) + H(n)... near -n: ember's value follows the pole to float64
    accuracy where PyTorch's loses digits (it does not reduce x by n before pi * x)."""
    x = np.nextafter(-float(n) + d, 0.0)
    eps_ = x + n                                        # exact (Sterbenz)
    # digamma(x) = digamma(1 + x + n) - sum_{k=0}^{n} 1/(x + k); the k = n term is the pole
    rest = torch.special.digamma(torch.tensor(1.0 + eps_, dtype=torch.float64)).item() - sum(
        1.0 / (x + k) for k in range(n))
    want = rest - 1.0 / eps_
    got = ember.special.digamma(ember.tensor([x], dtype=ember.float64)).numpy()[0]
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradient_is_finite_where_one_side_is_infinite(name):
    # PyTorch's formula g / (1 + e^(b - a)): exp(b - out) gave inf - inf = NaN at b = inf
    grads = []
    for m in (ember, torch):
        b = m.tensor([float("inf"), 0.0, -3.0, float("-inf")], requires_grad=True)
        getattr(m, name)(m.tensor(0.0), b).sum().backward()
        grads.append(b.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
