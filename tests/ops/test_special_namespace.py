"""``ember.special`` is PyTorch's ``torch.special``: its names, signatures, values (edge values too) and gradients
against torch 2.13 in float32 and float64, finite differences for the new gradients, and an AttributeError naming
each torch.special function ember does not implement."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
import ember.special  # noqa: E402
from ember.special import expit  # noqa: E402,F401 - the import form scripts use

EDGES = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-30, -1e-30, 1e-8, 1e30, -1e30, 1e300, -1e300]
GRID = list(np.linspace(-12.0, 12.0, 97)) + [-40.0, -30.0, -26.0, 26.0, 30.0, 40.0, 100.0, -100.0]
UNIT = list(np.linspace(0.0, 1.0, 101)) + [1e-300, 1e-30, 1e-12, 1e-5, 1 - 1e-7, -0.5, 1.5]


def _close(e, t, rtol, atol=0.0, what=""):
    a = np.asarray(e.detach().tolist() if hasattr(e, "detach") else e, dtype=np.float64)
    b = np.asarray(t.detach().tolist(), dtype=np.float64)
    assert a.shape == b.shape, what
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


UNARY = ["ndtr", "log_ndtr", "erfcx", "i0e", "i1", "i1e", "entr", "expit", "erf", "erfc", "gammaln", "psi",
         "digamma", "exp2", "expm1", "log1p", "i0", "sinc"]
DOMAIN = {"entr": UNIT + GRID}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_values_against_torch(name, dtype):
    xs = DOMAIN.get(name, GRID) + EDGES
    with np.errstate(over="ignore"):
        x = np.array(xs, dtype=dtype)                 # 1e300 is inf in float32
    e = getattr(ember.special, name)(ember.tensor(x))
    t = getattr(torch.special, name)(torch.tensor(x))
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    rtol = 1e-13 if dtype == "float64" else 2e-6
    if name in ("gammaln", "psi", "digamma"):
        rtol = 2e-5 if dtype == "float32" else 1e-11    # near digamma's zero at 1.46 (ember.ops.special's kernel)
    if name == "log_ndtr" and dtype == "float32":
        rtol = 3e-5                       # torch's float32 erfc in the upper tail (ours is float64, then rounded)
    atol = 1e-300 if dtype == "float64" else 1e-37
    if name == "ndtr" and dtype == "float32":
        atol = 6e-8        # (1 + erf) / 2 cancels: one float32 ulp of erf near -1 is 6e-8 here, 0 in torch
    if name == "erf" and dtype == "float32":
        atol = 5e-7        # ember.erf's float32 fit (ops/elementwise.py) has an absolute error bound only
    _close(e, t, rtol, atol=atol, what=name)


@pytest.mark.parametrize("name", ["modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0",
                                  "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                                  "scaled_modified_bessel_k1"])
def test_value_only_functions(name):
    for dtype in ("float32", "float64"):
        with np.errstate(over="ignore"):
            x = np.array(GRID + EDGES + [0.49, 0.51, -0.3, 1e-7, 1e-6, 2e-6, 1e-3, 300.0, 700.0, 1e4, 1e10],
                         dtype=dtype)
        e = getattr(ember.special, name)(ember.tensor(x, requires_grad=True))
        t = getattr(torch.special, name)(torch.tensor(x, requires_grad=True))
        assert not e.requires_grad and not t.requires_grad          # PyTorch defines no derivative
        assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
        _close(e, t, 1e-13 if dtype == "float64" else 2e-6, atol=1e-300 if dtype == "float64" else 1e-30, what=name)


def test_ndtri_values_against_torch():
    for dtype in ("float32", "float64"):
        p = np.array(UNIT + [0.5, 0.5 + 1e-7, 0.999999, math.nan], dtype=dtype)
        _close(ember.special.ndtri(ember.tensor(p)), torch.special.ndtri(torch.tensor(p)),
               1e-12 if dtype == "float64" else 2e-6, atol=1e-12 if dtype == "float64" else 1e-6)


def test_log_ndtr_is_stable_far_in_the_lower_tail():
    x = ember.tensor([-10.0, -40.0, -1e3, -1e5], dtype=ember.float64)
    got = ember.special.log_ndtr(x)
    _close(got, torch.special.log_ndtr(torch.tensor(x.tolist(), dtype=torch.float64)), 1e-14)
    assert np.isfinite(np.asarray(got.tolist())).all()
    assert ember.special.erfcx(ember.tensor([1e5, 1e10])).tolist()[1] > 0      # no underflow to 0 for large x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["ndtr", "log_ndtr", "erfcx", "i0e", "i1", "i1e", "entr", "ndtri", "expit",
                                  "gammaln", "psi", "multigammaln", "logit", "xlogy"])
def test_unary_gradients_against_torch(name, dtype):
    vals = [0.05, 0.3, 0.5, 0.9, 0.999] if name in ("ndtri", "entr", "logit") else \
        [-30.0, -5.0, -1.5, -0.3, 0.0, 1e-20, 0.4, 2.0, 3.5, 31.0]
    if name in ("gammaln", "psi", "multigammaln", "xlogy"):
        vals = [0.2, 0.7, 1.5, 3.0, 12.0]
    call = {"multigammaln": lambda m, x: m.special.multigammaln(x, 3) if m is torch else
            m.special.multigammaln(x, 3),
            "xlogy": lambda m, x: m.special.xlogy(x, x + 1)}.get(name, lambda m, x: getattr(m.special, name)(x))
    if name == "multigammaln":
        vals = [1.2, 2.5, 7.0]
    e = ember.tensor(vals, dtype=getattr(ember, dtype), requires_grad=True)
    t = torch.tensor(vals, dtype=getattr(torch, dtype), requires_grad=True)
    (ge,) = ember.autograd.grad(call(ember, e).sum(), e)
    (gt,) = torch.autograd.grad(call(torch, t).sum(), t)
    rtol, atol = (1e-11, 0.0) if dtype == "float64" else (2e-5, 0.0)
    if name == "psi" and dtype == "float64":
        rtol = 1e-9               # ember.ops.special's trigamma
    if name == "erfcx" and dtype == "float32":
        atol = 1e-6               # 2 x erfcx(x) - 2 / sqrt(pi) cancels for large x
    _close(ge, gt, rtol, atol=atol, what=name)


@pytest.mark.parametrize("name", ["ndtr", "log_ndtr", "erfcx", "i0e", "i1", "i1e", "entr", "ndtri"])
def test_new_gradients_match_finite_differences(name):
    vals = [0.05, 0.3, 0.62, 0.97] if name in ("ndtri", "entr") else [-6.0, -1.2, -0.4, 0.3, 1.7, 8.0]
    x = ember.tensor(vals, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(getattr(ember.special, name), (x,))


def test_binary_gradients_match_finite_differences():
    a = ember.tensor([0.3, -0.6, 2.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.5, 1.5, -0.4], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.special.xlog1py, (a, b))
    s = ember.tensor([2.0, 3.5, 1.5], dtype=ember.float64)
    q = ember.tensor([0.5, 2.0, 4.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda q: ember.special.zeta(s, q), (q,))
    for fn in (ember.special.gammainc, ember.special.gammaincc):
        assert ember.autograd.gradcheck(lambda x: fn(s, x), (q,))


def _pair_grid():
    left = [0.0, -0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 10.0, 30.0, 100.0, -1.0, -2.5, math.inf, -math.inf, math.nan]
    right = [0.0, 1e-5, 0.3, 1.0, 2.0, 9.0, 11.0, 31.0, 99.0, 101.0, 600.0, -1.0, -0.5, -2.5, math.inf, math.nan]
    a, b = np.meshgrid(left, right)
    return a.reshape(-1), b.reshape(-1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["xlog1py", "zeta", "gammainc", "gammaincc", "xlogy"])
def test_binary_values_against_torch(name, dtype):
    a, b = _pair_grid()
    a, b = a.astype(dtype), b.astype(dtype)
    e = getattr(ember.special, name)(ember.tensor(a), ember.tensor(b))
    t = getattr(torch.special, name)(torch.tensor(a), torch.tensor(b))
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    # torch's incomplete gamma near a ~ x (its asymptotic branch) is good to ~1e-9 relative; ours to ~1e-15
    rtol = {"float64": 1e-8 if name.startswith("gammainc") else 1e-12, "float32": 3e-5}[dtype]
    _close(e, t, rtol, atol=1e-300 if dtype == "float64" else 1e-30, what=name)


def test_gammainc_accuracy_near_the_diagonal():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    for a, x in ((30.0, 31.0), (100.0, 99.0), (0.001, 1.0), (500.0, 600.0), (30.0, 1e-5), (1e4, 1.01e4),
                 (1e6, 1e6), (40.0, 500.0)):
        ta, tx = ember.tensor([a], dtype=ember.float64), ember.tensor([x], dtype=ember.float64)
        # (Q = 1 - P for x < a + 1 loses digits where P is near 1: a = 0.001, x = 1 is good to 2e-12)
        for fn, want, rtol in ((ember.special.gammainc, mpmath.gammainc(a, 0, x, regularized=True), 1e-12),
                               (ember.special.gammaincc, mpmath.gammainc(a, x, mpmath.inf, regularized=True), 1e-11)):
            assert abs(fn(ta, tx).item() - float(want)) <= rtol * abs(float(want)) + 1e-300, (fn, a, x)


def test_zeta_with_a_very_negative_q():
    s = [2.0, 3.0, 4.0, 2.0]
    q = [-1e5 - 0.5, -7.5, -2000.25, -70.5]
    _close(ember.special.zeta(ember.tensor(s, dtype=ember.float64), ember.tensor(q, dtype=ember.float64)),
           torch.special.zeta(torch.tensor(s, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)), 1e-12)


def test_binary_gradients_against_torch_and_not_implemented_parts():
    for name in ("xlog1py", "zeta", "gammainc", "gammaincc"):
        av, bv = [1.5, 2.0, 3.0], [0.5, 2.0, 7.5]
        for rg_a in (False, True):
            ea = ember.tensor(av, dtype=ember.float64, requires_grad=rg_a)
            ta = torch.tensor(av, dtype=torch.float64, requires_grad=rg_a)
            eb = ember.tensor(bv, dtype=ember.float64, requires_grad=True)
            tb = torch.tensor(bv, dtype=torch.float64, requires_grad=True)
            re, rt = getattr(ember.special, name)(ea, eb), getattr(torch.special, name)(ta, tb)
            assert re.requires_grad and re.grad_fn is not None
            if rg_a and name != "xlog1py":
                with pytest.raises(NotImplementedError) as te:
                    rt.sum().backward()
                with pytest.raises(NotImplementedError) as ee:
                    re.sum().backward()
                assert str(ee.value) == str(te.value)
                continue
            re.sum().backward()
            rt.sum().backward()
            _close(eb.grad, tb.grad, 1e-12, what=name)
            if rg_a:
                _close(ea.grad, ta.grad, 1e-12, what=name)


def test_scalars_broadcasting_and_dtypes():
    x = ember.tensor([[0.5], [2.0]])
    tx = torch.tensor([[0.5], [2.0]])
    for call in ("special.xlog1py(x, 3.0)", "special.xlog1py(2.0, x)", "special.zeta(x + 1, 2.0)",
                 "special.zeta(3.0, x)", "special.xlog1py(x, x.T * 2)", "special.zeta(x.T + 2, x)",
                 "special.gammainc(x, x.T * 3)", "special.ndtr(ember.tensor([1, 2]))",
                 "special.i1(ember.tensor([1, -2], dtype=ember.int64))"):
        e = eval(call, {"special": ember.special, "x": x, "ember": ember})
        t = eval(call, {"special": torch.special, "x": tx, "ember": torch})
        assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", ""), call
        _close(e, t, 2e-6, what=call)
    with pytest.raises(TypeError):
        ember.special.gammainc(1.0, x)


def test_aliases_softmax_round_and_out():
    x = ember.tensor([[0.2, -1.0, 3.0], [1.0, 1.0, 0.5]])
    tx = torch.tensor([[0.2, -1.0, 3.0], [1.0, 1.0, 0.5]])
    for call in ("softmax(x, 1)", "log_softmax(x, 0)", "softmax(x, dim=1, dtype={m}.float64)",
                 "logsumexp(x, 1)", "logsumexp(x, dim=0, keepdim=True)", "round(x * 3.3)",
                 "round(x * 3.3, decimals=1)", "logit(x.abs() / 4, eps=0.1)", "polygamma(2, x.abs() + 0.5)",
                 "multigammaln(x.abs() + 2, 2)", "erfinv(x / 4)", "xlogy(x.abs(), 2.0)"):
        e = eval("special." + call.format(m="ember"), {"special": ember.special, "x": x, "ember": ember})
        t = eval("special." + call.format(m="torch"), {"special": torch.special, "x": tx, "torch": torch})
        assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", ""), call
        _close(e, t, 1e-6, what=call)
    o = ember.empty(2, 3)
    assert ember.special.ndtr(x, out=o) is o
    _close(o, torch.special.ndtr(tx), 1e-6)
    o2 = ember.empty(2, 3)
    assert ember.special.zeta(x.abs() + 2, 1.5, out=o2) is o2
    _close(ember.special.expit(x), torch.special.expit(tx), 1e-6)


def test_namespace_names_and_missing_functions():
    public = {n for n in dir(ember.special) if not n.startswith("_")}
    assert public == set(ember.special.__all__)
    assert public <= set(torch.special.__all__)
    for name in ("E", "Function", "math", "acosh", "gcd"):          # the internal module's helpers do not leak
        assert not hasattr(ember.special, name), name
    for name in sorted(set(torch.special.__all__) - public):
        with pytest.raises(AttributeError, match=rf"ember\.special\.{name} is not implemented"):
            getattr(ember.special, name)
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        ember.special.nonsense
    # the internal ops module and the top-level functions are unchanged
    assert ember.ops.special.__name__ == "ember.ops.special"
    assert ember.erfc(ember.tensor([0.0])).tolist() == [1.0]


def test_signatures_match_torch():
    from tests.compat.test_signatures import compare, ember_sig, torch_sigs
    bad = {}
    for name in ember.special.__all__:
        d = compare(ember_sig(getattr(ember.special, name)), torch_sigs(getattr(torch.special, name), name))
        if d:
            bad[name] = d
    assert not bad, bad
    assert "out" in inspect.signature(ember.special.gammainc).parameters


def test_dtypes_torch_refuses_and_layouts():
    # PyTorch's CPU kernels without a float16 version, and gammainc/round without an integer one, raise
    # (an empty tensor too)
    for name in ("erfcx", "log_ndtr", "ndtri", "modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0",
                 "modified_bessel_k0", "scaled_modified_bessel_k1"):
        for lib in (ember, torch):
            with pytest.raises(NotImplementedError, match=rf'"{name}_cpu" not implemented for \'Half\''):
                getattr(lib.special, name)(lib.zeros(0, dtype=lib.float16))
    for lib in (ember, torch):
        h = lib.ones(2, dtype=lib.float16)
        with pytest.raises(NotImplementedError, match="zeta_cpu"):
            lib.special.zeta(h, h)
        i = lib.tensor([1, 2])
        with pytest.raises(NotImplementedError, match="igamma_cpu\" not implemented for 'Long'"):
            lib.special.gammainc(i, i)
        with pytest.raises(NotImplementedError, match="round_vml_cpu"):
            lib.special.round(i)
        assert lib.special.ndtr(lib.ones(2, dtype=lib.float16)).dtype == lib.float16
    # results take the input's layout, as PyTorch's iterator gives them
    m = np.arange(6.0).reshape(2, 3) / 7
    for name in ("ndtr", "i1e", "entr", "ndtri", "spherical_bessel_j0"):
        e = getattr(ember.special, name)(ember.tensor(m.T.copy()).T)
        t = getattr(torch.special, name)(torch.tensor(m.T.copy()).T)
        assert e.stride() == t.stride(), name
    for name in ("xlog1py", "zeta", "gammainc"):
        e = getattr(ember.special, name)(ember.tensor(m.T.copy()).T + 1, ember.tensor(m))
        t = getattr(torch.special, name)(torch.tensor(m.T.copy()).T + 1, torch.tensor(m))
        assert e.stride() == t.stride(), name


POLYNOMIALS = [n for n in torch.special.__all__ if "polynomial" in n]


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_against_torch(name):
    x = [-2.0, -1.0, -0.999, -0.5, 0.0, 0.3, 0.5, 0.75, 1.0, 1.5, 3.0, math.inf, -math.inf]
    for dtype in ("float32", "float64"):
        # (n = 1000 in float64 only: torch's float32 cos(n acos x) carries n times float32's error)
        for n in (-3, -0.5, 0, 1, 2, 2.5, 3, 6, 7, 8, 9, 10, 13, 25) + ((1000,) if dtype == "float64" else ()):
            e = getattr(ember.special, name)(ember.tensor(x, dtype=getattr(ember, dtype), requires_grad=True), n)
            t = getattr(torch.special, name)(torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True), n)
            assert not e.requires_grad and not t.requires_grad       # PyTorch defines no derivative
            assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
            a, b = np.asarray(e.tolist()), np.asarray(t.tolist())
            scale = np.maximum(np.abs(np.nan_to_num(b, posinf=0, neginf=0)), 1.0)
            tol = (1e-12 if dtype == "float64" else 1e-5) * scale
            with np.errstate(invalid="ignore"):
                ok = (np.isnan(a) & np.isnan(b)) | (a == b) | (np.abs(a - b) <= tol)
            assert ok.all(), (name, n, dtype, a[~ok], b[~ok])
    # a tensor n broadcasts; a number input takes n's promotion (float32 for integers)
    xt, nt = [[0.5], [-1.5]], [[1, 2, 3, 12]]
    e = getattr(ember.special, name)(ember.tensor(xt), ember.tensor(nt))
    t = getattr(torch.special, name)(torch.tensor(xt), torch.tensor(nt))
    _close(e, t, 1e-5)
    assert getattr(ember.special, name)(0.5, ember.tensor([1, 2])).dtype is ember.float32
    with pytest.raises(NotImplementedError, match="Half"):
        getattr(ember.special, name)(ember.ones(1, dtype=ember.float16), 2)
