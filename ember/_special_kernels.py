"""Array kernels (NumPy, float64 inside) of the ``ember.special`` functions that ``ember.ops`` lacks: the normal
distribution (``ndtr``, ``log_ndtr``, ``ndtri``), the scaled complementary error function ``erfcx``, the modified
Bessel functions ``i0e``/``i1``/``i1e``, the Hurwitz zeta function and the regularized incomplete gamma functions.

SciPy is not a dependency: each is a series, continued fraction or asymptotic expansion written here, accurate
to a few units in the last place of float64 on the ranges tested against PyTorch (tests/ops/test_special_namespace.py).
Each takes and returns float64 arrays; the callers cast to the input's dtype.
"""
from __future__ import annotations

import math

import numpy as np

_SQRTPI = math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _map(fn, x):
    """``fn`` (a Python float function) over an array, ValueError/OverflowError giving nan."""
    def safe(v):
        try:
            return fn(v)
        except (ValueError, OverflowError):
            return math.nan
    flat = x.reshape(-1)
    return np.fromiter((safe(float(v)) for v in flat), np.float64, flat.size).reshape(x.shape)


def erfc(x):
    return _map(math.erfc, x)


# -- erfcx(x) = exp(x^2) erfc(x) --------------------------------------------------------------------------------
def erfcx(x):
    """Direct below 2 (exp(x^2) overflows to inf below -26.6, as PyTorch's); a continued fraction from 2 on
    (1 / (x sqrt(pi)) for huge x, 0 at +inf)."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    low = ~(x >= 2.0)                                     # nan goes here too
    xl = x[low]
    with np.errstate(over="ignore", invalid="ignore"):
        out[low] = np.exp(xl * xl) * erfc(xl)
    xh = x[~low]
    # erfc(x) = exp(-x^2) / sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated backwards
    big = xh > 1e8
    xs = np.where(big, 2.0, xh)
    f = xs.copy()
    for k in range(120, 0, -1):
        f = xs + (k / 2.0) / f
    r = 1.0 / (f * _SQRTPI)
    with np.errstate(divide="ignore"):
        out[~low] = np.where(big, 1.0 / (xh * _SQRTPI), r)
    return out


# -- the normal distribution ----------------------------------------------------------------------------------
def erf(x):
    return _map(math.erf, x)


def ndtr(x, dtype):
    """P(Z <= x) as PyTorch 2.13 computes it: (1 + erf(x / sqrt 2)) / 2 in the input's dtype (so it is 0 below
    about -8.3 in float64, -5.4 in float32, rather than the tiny true value)."""
    e = erf(np.asarray(x, np.float64) * math.sqrt(0.5)).astype(dtype)
    return (e + dtype.type(1)) * dtype.type(0.5)


def log_ndtr(x):
    """log P(Z <= x): log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 below -1 (stable in the far lower tail, where ndtr
    underflows), log1p(-erfc(x / sqrt 2) / 2) above."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    low = x < -1.0
    t = x * math.sqrt(0.5)
    tl = t[low]
    out[low] = np.log(erfcx(-tl) / 2.0) - tl * tl
    out[~low] = np.log1p(-erfc(t[~low]) / 2.0)
    return out


def ndtri(p):
    """The inverse of ndtr: an initial guess (Abramowitz & Stegun 26.2.23) refined by Newton's method on
    log ndtr(x) - log p in the lower half (relative accuracy down to the smallest p), by symmetry above."""
    p = np.asarray(p, np.float64)
    upper = p > 0.5
    q = np.where(upper, 1.0 - p, p)                       # exact for p > 0.5 (Sterbenz)
    inside = (q > 0) & (q <= 0.5)
    qs = np.where(inside, q, 0.25)
    t = np.sqrt(-2.0 * np.log(qs))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    logq = np.log(qs)
    for _ in range(5):
        lx = log_ndtr(x)
        # d/dx log ndtr(x) = pdf(x) / ndtr(x) = exp(-x^2/2 - log sqrt(2 pi) - log ndtr(x))
        x = x - (lx - logq) / np.exp(-x * x / 2.0 - _LOG_SQRT_2PI - lx)
    x = np.where(q == 0.5, 0.0, x)
    x = np.where(upper, -x, x)
    x = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, x))
    return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, x)


# -- modified Bessel functions of the first kind ---------------------------------------------------------------
def bessel_i(x, order, scaled):
    """I_order(x) (order 0 or 1), times exp(-|x|) when ``scaled``: the power series up to |x| = 30, the
    asymptotic expansion above.  A CuPy array stays on its device (NumPy's functions dispatch to it)."""
    x = x.astype(np.float64) if hasattr(x, "astype") else np.asarray(x, np.float64)
    ax = np.abs(x)
    out = np.empty_like(ax)
    small = ~(ax > 30)                                    # nan goes here (and stays nan)
    xs = ax[small]
    term = np.ones_like(xs) if order == 0 else xs / 2
    total = term.copy()
    q = (xs / 2) ** 2
    for k in range(1, 120):
        term = term * q / (k * (k + order))
        total = total + term
        if k % 8 == 0 and np.all(term <= total * 1e-17):       # every element has converged
            break
    out[small] = total * np.exp(-xs) if scaled else total
    xl = ax[~small]
    mu = 4.0 * order * order
    series = np.ones_like(xl)
    t = np.ones_like(xl)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(1, 12):
            t = -t * (mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
            series = series + t
        lead = 1.0 / np.sqrt(2 * math.pi * xl)
        series = np.where(np.isinf(xl), 1.0, series)
        with np.errstate(over="ignore"):
            out[~small] = lead * series if scaled else np.exp(xl) / np.sqrt(2 * math.pi * xl) * series
    if order == 1:
        out = np.where(x < 0, -out, out)
    return out


# -- Hurwitz zeta ----------------------------------------------------------------------------------------------
# (2j)! / B_2j for j = 1..12: the Euler-Maclaurin correction terms
_EM = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
       -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15, 1.8152105401943546773e17,
       -7.1661652561756670113e18)


def zeta(s, q):
    """zeta(s, q) = sum_k (q + k)^-s: the terms summed until q + k > 9 (at least 10 of them), then the
    Euler-Maclaurin tail.  PyTorch's domain: inf at s = 1 and at q a non-positive integer, nan for s < 1 and for
    a negative q with a non-integer s."""
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    s, q = s.copy(), q.copy()
    with np.errstate(all="ignore"):
        # PyTorch's order of tests: s = 1, s < 1, q a non-positive integer (inf even for a nan s), q < 0 with a
        # non-integer s; s = +inf gives inf for q < 1, 1 at q = 1, nan above (its series' inf * 0)
        bad_inf = (s == 1) | (~(s < 1) & (q <= 0) & (q == np.floor(q)))
        bad_nan = ~bad_inf & ((s < 1) | ((q <= 0) & (s != np.floor(s))) | np.isnan(s) | np.isnan(q)
                              | np.isposinf(q))
        ok = ~(bad_nan | bad_inf)
        x = np.where(ok, s, 2.0)
        a = np.where(ok, q, 1.0)
        total = np.power(a, -x)
        steps = np.maximum(9, np.ceil(9.0 - a)).astype(np.int64)
        many = steps > 64                 # a very negative q (an integer s): sum its terms at once
        for i in np.flatnonzero(many):
            n = int(steps.flat[i])
            total.flat[i] += np.sum(np.power(a.flat[i] + np.arange(1.0, n + 1.0), -x.flat[i]))
            a.flat[i] += n
        steps = np.where(many, 0, steps)
        for i in range(int(steps.max()) if steps.size else 0):
            more = i < steps
            a = np.where(more, a + 1.0, a)
            total = total + np.where(more, np.power(a, -x), 0.0)
        w = a
        b = np.power(w, -x)
        tail = b * w / (x - 1.0) - 0.5 * b
        rising = np.ones_like(x)
        k = 0.0
        for c in _EM:
            rising = rising * (x + k)
            b = b / w
            tail = tail + rising * b / c
            k += 1.0
            rising = rising * (x + k)
            b = b / w
            k += 1.0
        out = total + np.where(np.isposinf(w), 0.0, tail)
        out = np.where(np.isposinf(s) & ok, np.where(q == 1, 1.0, np.where(q < 1, np.inf, np.nan)), out)
    out = np.where(bad_inf, np.inf, out)
    return np.where(bad_nan, np.nan, out)


# -- regularized incomplete gamma ------------------------------------------------------------------------------
def _lgamma(v):
    return _map(math.lgamma, v)


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a + 1)).  For a >= 30 without the cancellation of the direct form (a log x, x and
    lgamma(a + 1) are each ~a while their sum is ~log a): a (log1p(d) - d) with d = (x - a) / a, less Stirling's
    series for lgamma(a + 1) - (a log a - a) (its terms to 1 / a^7: below 1e-16 from a = 30 on)."""
    direct = a * np.log(x) - x - _lgamma(a + 1.0)
    big = a >= 30
    if not big.any():
        return direct
    ab, xb = a[big], x[big]
    d = (xb - ab) / ab
    r = 1.0 / ab
    r2 = r * r
    stirling = 0.5 * np.log(2.0 * math.pi * ab) + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 / 1680)))
    out = direct.copy()
    # log1p(d) where d is small (log(x / a) would lose its digits), log(x / a) where x / a is far from 1
    # (log1p is ill-conditioned near d = -1)
    logr = np.where(np.abs(d) < 0.5, np.log1p(d), np.log(xb / ab))
    out[big] = ab * (logr - d) - stirling
    return out


def gammainc(a, x, upper=False):
    """P(a, x) (or Q(a, x) = 1 - P when ``upper``): the series for x < a + 1, the continued fraction for Q above
    (each iterated until every element converges, at most 40000 terms: accurate to ~1e-13 up to a ~ 1e7; PyTorch
    uses an asymptotic expansion for large a instead).  PyTorch's edge values, tested in its order: nan for a < 0
    or x < 0; a = 0 gives P = 1 for x > 0, else nan; x = 0 gives P = 0 (even for a nan a); an infinite a gives
    P = 0 (nan when x is infinite too); x = +inf gives P = 1."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    p = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        neg = (a < 0) | (x < 0)
        conds = [neg, a == 0, x == 0, np.isinf(a), np.isinf(x)]
        p = np.select(conds, [np.nan, np.where(x > 0, 1.0, np.nan), 0.0, np.where(np.isinf(x), np.nan, 0.0), 1.0],
                      np.nan)
        nan = neg | ((a == 0) & ~(x > 0)) | np.isnan(a) | np.isnan(x)
        todo = ~np.any(conds, axis=0) & ~np.isnan(a) & ~np.isnan(x)
        ser = todo & (x < a + 1)
        cf = todo & ~ser
        q = np.full(a.shape, np.nan)
        if ser.any():
            aa, xx = a[ser], x[ser]
            # P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n))
            term = np.ones_like(aa)
            total = term.copy()
            den = aa.copy()
            for _ in range(40000):
                den = den + 1.0
                term = term * xx / den
                total = total + term
                if np.all(term <= total * 1e-17):
                    break
            p[ser] = np.exp(_log_prefactor(aa, xx)) * total
            q[ser] = 1.0 - p[ser]
        if cf.any():
            aa, xx = a[cf], x[cf]
            # Q = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...)))
            # (modified Lentz)
            tiny = 1e-300
            b = xx + 1.0 - aa
            c = np.full_like(aa, 1.0 / tiny)
            d = 1.0 / b
            h = d.copy()
            for i in range(1, 40000):
                an = -i * (i - aa)
                b = b + 2.0
                d = an * d + b
                d = np.where(np.abs(d) < tiny, tiny, d)
                c = b + an / c
                c = np.where(np.abs(c) < tiny, tiny, c)
                d = 1.0 / d
                delta = d * c
                h = h * delta
                if np.all(np.abs(delta - 1.0) <= 4e-16):
                    break
            q[cf] = np.exp(_log_prefactor(aa, xx)) * aa * h        # x^a e^-x / Gamma(a) times the fraction
            p[cf] = 1.0 - q[cf]
        done = ~todo & ~np.isnan(p)
        q[done] = 1.0 - p[done]
    return (q if upper else p).reshape(shape)


# -- modified Bessel functions of the second kind --------------------------------------------------------------
_EULER = 0.5772156649015329


def bessel_k(x, order, scaled):
    """K_order(x) (order 0 or 1), times exp(x) when ``scaled``.  The integral K_v(x) = int_0^inf exp(-x cosh t)
    cosh(v t) dt by the trapezoidal rule (exponentially convergent for this analytic, even integrand) over
    [0, acosh(1 + 50 / x)] in 160 steps; below x = 1e-6 the leading terms of the series.  inf at 0, nan below,
    0 at +inf, as PyTorch."""
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        small = (x > 0) & (x < 1e-6)
        xs = x[small]
        lg = np.log(xs / 2) + _EULER
        ser = -lg * (1 + xs * xs / 4) + xs * xs / 4 if order == 0 else 1 / xs + xs / 2 * lg - xs / 4
        out[small] = ser * np.exp(xs) if scaled else ser
        mid = (x >= 1e-6) & np.isfinite(x)
        xm = x[mid]
        u = 50.0 / xm
        h = np.log1p(u + np.sqrt(u * (u + 2.0))) / 160    # acosh(1 + u) without 1 + u's rounding
        total = 0.5 * np.ones_like(xm)                   # f(0) / 2: exp(0) cosh(0)
        for j in range(1, 161):
            t = j * h
            f = np.exp(-xm * 2.0 * np.sinh(t / 2) ** 2)   # cosh t - 1 without cancellation
            total += f * np.cosh(t) if order == 1 else f
        val = h * total
        out[mid] = val if scaled else val * np.exp(-xm)
    out = np.where(x == 0, np.inf, out)
    return np.where(np.isposinf(x), 0.0, out)
