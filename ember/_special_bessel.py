"""Array kernels of ``torch.special``'s Airy function ``airy_ai`` and Bessel functions ``bessel_j0``,
``bessel_j1``, ``bessel_y0``, ``bessel_y1`` (values only: PyTorch defines no derivative for them).

PyTorch 2.13 evaluates these with the Cephes library's rational approximations (Moshier's published
coefficients: a rational function of x^2 up to 5 and Hankel's asymptotic form with rational P and Q beyond it for
the Bessel functions; the power series on [-2.09, 2.09) and rational asymptotic forms outside it for Ai), in the
input's own precision: a float32 tensor is computed in float32 arithmetic, so its values far out (|x| ~ 1e4 and
beyond, where x - pi/4 is rounded to float32) differ from the true function by far more than float32's epsilon.
To give PyTorch's numbers, each kernel here follows the same algorithm in the array's dtype, operation by
operation, with NumPy's element-wise arithmetic (no Python loop per element), including the fused multiply-adds
that the compiler makes of PyTorch's Horner steps and sums of products on FMA-capable CPUs.  The float32
transcendental functions (sin, cos, exp, log) are computed in float64 and rounded, as a correctly rounded libm's
float versions give.  On this machine float64 results equal torch's bit for bit in all but about 0.02% of
arguments (a few ulp there), float32 results in about 99.5% (glibc's sinf/cosf are not always correctly rounded).
Special values are PyTorch's: ``bessel_y0``/``bessel_y1`` are -inf at +-0 and NaN below 0; ``airy_ai`` is NaN
at +-inf and 0 above 103.892; every function is NaN at NaN, and the Bessel functions are NaN at +-inf (cos(inf)).

Each function takes a float32 or float64 NumPy array and returns one of the same dtype.
"""
from __future__ import annotations

import numpy as np

# -- Cephes coefficients (highest power first) ------------------------------------------------------------------
# J0/Y0 for x > 5: P(25/x^2)/Q, Q-phase(25/x^2)
_P0N = (7.96936729297347051624e-04, 8.28352392107440799803e-02, 1.23953371646414299388e+00,
        5.44725003058768775090e+00, 8.74716500199817011941e+00, 5.30324038235394892183e+00,
        9.99999999999999997821e-01)
_P0D = (9.24408810558863637013e-04, 8.56288474354474431428e-02, 1.25352743901058953537e+00,
        5.47097740330417105182e+00, 8.76190883237069594232e+00, 5.30605288235394617618e+00,
        1.00000000000000000218e+00)
_Q0N = (-1.13663838898469149931e-02, -1.28252718670509318512e+00, -1.95539544257735972385e+01,
        -9.32060152123768231369e+01, -1.77681167980488050595e+02, -1.47077505154951170175e+02,
        -5.14105326766599330220e+01, -6.05014350600728481186e+00)
_Q0D = (6.43178256118178023184e+01, 8.56430025976980587198e+02, 3.88240183605401609683e+03,
        7.24046774195652478189e+03, 5.93072701187316984827e+03, 2.06209331660327847417e+03,
        2.42005740240291393179e+02)
# J0 for x <= 5: (x^2 - r1^2)(x^2 - r2^2) R(x^2) / S(x^2), r1, r2 its first two zeros
_R0N = (-4.79443220978201773821e+09, 1.95617491946556577543e+12, -2.49248344360967716204e+14,
        9.70862251047306323952e+15)
_R0D = (4.99563147152651017219e+02, 1.73785401676374683123e+05, 4.84409658339962045305e+07,
        1.11855537045356834862e+10, 2.11277520115489217587e+12, 3.10518229857422583814e+14,
        3.18121955943204943306e+16, 1.71086294081043136091e+18)
_J0_Z1, _J0_Z2 = 5.78318596294678452118e+00, 3.04712623436620863991e+01
# Y0 for x <= 5: Y0(x) = R(x^2) / S(x^2) + (2 / pi) log(x) J0(x)
_Y0N = (1.55924367855235737965e+04, -1.46639295903971606143e+07, 5.43526477051876500413e+09,
        -9.82136065717911466409e+11, 8.75906394395366999549e+13, -3.46628303384729719441e+15,
        4.42733268572569800351e+16, -1.84950800436986690637e+16)
_Y0D = (1.04128353664259848412e+03, 6.26107330137134956842e+05, 2.68919633393814121987e+08,
        8.64002487103935000337e+10, 2.02979612750105546709e+13, 3.17157752842975028269e+15,
        2.50596256172653059228e+17)
# J1/Y1 for x > 5
_P1N = (7.62125616208173112003e-04, 7.31397056940917570436e-02, 1.12719608129684925192e+00,
        5.11207951146807644818e+00, 8.42404590141772420927e+00, 5.21451598682361504063e+00,
        1.00000000000000000254e+00)
_P1D = (5.71323128072548699714e-04, 6.88455908754495404082e-02, 1.10514232634061696926e+00,
        5.07386386128601488557e+00, 8.39985554327604159757e+00, 5.20982848682361821619e+00,
        9.99999999999999997461e-01)
_Q1N = (5.10862594750176621635e-02, 4.98213872951233449420e+00, 7.58238284132545283818e+01,
        3.66779609360150777800e+02, 7.10856304998926107277e+02, 5.97489612400613639965e+02,
        2.11688757100572135698e+02, 2.52070205858023719784e+01)
_Q1D = (7.42373277035675149943e+01, 1.05644886038262816351e+03, 4.98641058337653607651e+03,
        9.56231892404756170795e+03, 7.99704160447350683650e+03, 2.82619278517639096600e+03,
        3.36093607810698293419e+02)
# J1 for x <= 5: x (x^2 - r1^2)(x^2 - r2^2) R(x^2) / S(x^2)
_R1N = (-8.99971225705559398224e+08, 4.52228297998194034323e+11, -7.27494245221818276015e+13,
        3.68295732863852883286e+15)
_R1D = (6.20836478118054335476e+02, 2.56987256757748830383e+05, 8.35146791431949253037e+07,
        2.21511595479792499675e+10, 4.74914122079991414898e+12, 7.84369607876235854894e+14,
        8.95222336184627338078e+16, 5.32278620332680085395e+18)
_J1_Z1, _J1_Z2 = 1.46819706421238932572e+01, 4.92184563216946036703e+01
# Y1 for x <= 5: Y1(x) = x R(x^2) / S(x^2) + (2 / pi) (J1(x) log(x) - 1 / x)
_Y1N = (1.26320474790178026440e+09, -6.47355876379160291031e+11, 1.14509511541823727583e+14,
        -8.12770255501325109621e+15, 2.02439475713594898196e+17, -7.78877196265950026825e+17)
_Y1D = (5.94301592346128195359e+02, 2.35564092943068577943e+05, 7.34811944459721705660e+07,
        1.87601316108706159478e+10, 3.88231277496238566008e+12, 6.20557727146953693363e+14,
        6.87141087355300489866e+16, 3.97270608116560655612e+18)
# Ai for x >= 2.09 (in 1 / zeta, zeta = 2 x^1.5 / 3) and x < -2.09 (f and g in z^2, z = 1 / zeta)
_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
       1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
       1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
       1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
       1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AFN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
        -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
        -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AFD = (1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
        9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
        4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AGN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
        9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
        5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
        8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AGD = (9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
        5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
        4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
        4.91834570062930015649e-09)

_PIO4 = 0.785398163397448309615660845819875721            # pi / 4
_3PIO4 = 2.356194490192344928846982537459627163           # 3 pi / 4
_SQ2OPI = 0.797884560802865355879892119868763737          # sqrt(2 / pi)
_TWOOPI = 0.636619772367581343075535053490057448          # 2 / pi
_RSQRTPI = 5.64189583547756286948e-01                    # 1 / sqrt(pi)
_AI0, _AIP0 = 0.355028053887817239260, 0.258819403792806798405   # Ai(0), -Ai'(0)


_BLOCK = 65536


def _blocked(kernel):
    """``kernel`` over blocks of 65536 elements: the long chains of element-wise operations then run on
    temporaries that stay in cache (about twice as fast on a million float64 elements)."""
    def run(x):
        if x.size <= _BLOCK:
            return kernel(x)
        flat = x.reshape(-1)
        out = np.empty_like(flat)
        for i in range(0, flat.size, _BLOCK):
            out[i:i + _BLOCK] = kernel(flat[i:i + _BLOCK])
        return out.reshape(x.shape)
    run.__name__ = run.__qualname__ = kernel.__name__
    run.__doc__ = kernel.__doc__
    return run


# -- arithmetic in the array's dtype ----------------------------------------------------------------------------
def _c(v, dt):
    """The constant ``v`` rounded to ``dt`` (as C++'s ``T(v)``)."""
    return dt.type(v)


_SPLIT = 134217729.0                                      # 2^27 + 1 (Veltkamp's splitter for float64)


def _split(a):
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def _fma(a, b, c):
    """``a * b + c`` rounded once, as the fused multiply-add that PyTorch's compiled kernels use (GCC contracts
    ``r * z + c`` on FMA-capable CPUs).  float32: the product is exact in float64, so one float64 add and the
    rounding to float32.  float64: the product's rounding error by Dekker's exact product and the sum's by
    Knuth's two-sum, added back (the plain ``a * b + c`` where anything is not finite)."""
    if a.dtype == np.float32:
        return (a.astype(np.float64) * b + np.asarray(c, np.float64)).astype(np.float32)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(np.asarray(b, np.float64))
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl      # p + e == a * b exactly
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)                          # s + t == p + c exactly
    out = s + (t + e)
    return np.where(np.isfinite(out) & np.isfinite(p), out, s)


def _horner(z, coefs):
    """``sum c_i z^(n-i)`` by Horner's rule from 0, in z's dtype, each step ``fma(r, z, c)`` as PyTorch's.
    float64: ``_fma`` inlined with z split once (z and r stay finite and below 1e300 on the ranges where the
    kernels call this; a NaN z gives NaN)."""
    dt = z.dtype
    r = z * 0 + _c(coefs[0], dt)                            # fma(0, z, c0): c0, NaN for a NaN z
    if dt == np.float32:
        for c in coefs[1:]:
            r = _fma(r, z, _c(c, dt))
        return r
    zh, zl = _split(z)
    for c in coefs[1:]:
        p = r * z
        rh, rl = _split(r)
        e = ((rh * zh - p) + rh * zl + rl * zh) + rl * zl     # p + e == r * z exactly
        s = p + c
        bb = s - p
        r = s + (((p - (s - bb)) + (c - bb)) + e)          # s + t == p + c exactly, t added back with e
    return r


def _math(fn, a):
    """A transcendental function in a's dtype, rounded as the C library's (which PyTorch's scalar kernels call):
    float32 through float64, then rounded (a correctly rounded ``sinf``/``expf``/... gives the same); float64
    sin and cos directly, exp and log through long double (NumPy's own float64 exp misses glibc's correctly
    rounded value in about 5% of arguments, long double's in under 0.1%)."""
    if a.dtype == np.float32:
        return fn(a.astype(np.float64)).astype(np.float32)
    if fn is np.exp or fn is np.log:
        return fn(a.astype(np.longdouble)).astype(np.float64)
    return fn(a)


def _asymptotic(x, pn, pd, qn, qd, phase, z, first_kind):
    """Hankel's form for x > 5: sqrt(2 / (pi x)) (P cos(x - phase) - 5/x Q sin(x - phase)) for J,
    (P sin + 5/x Q cos) for Y, P = pn(z)/pd(z), Q = qn(z)/qd(z)."""
    dt = x.dtype
    p = _horner(z, pn) / _horner(z, pd)
    q = _horner(z, qn) / _horner(z, qd)
    arg = x - _c(phase, dt)
    c, s = _math(np.cos, arg), _math(np.sin, arg)
    five_q = (_c(5.0, dt) / x) * q
    t = _fma(p, c, -(five_q * s)) if first_kind else _fma(p, s, five_q * c)     # the first product fused
    return (t * _c(_SQ2OPI, dt)) / np.sqrt(x)


def _z0(x):
    return _c(25.0, x.dtype) / (x * x)


def _z1(x):
    r = _c(5.0, x.dtype) / x
    return r * r


# -- the Bessel functions ---------------------------------------------------------------------------------------
def _j0_nonneg(x):
    dt = x.dtype
    out = np.empty_like(x)
    small = x <= _c(5.0, dt)
    tiny = x < _c(1e-5, dt)
    xs = x[small & ~tiny]
    w = xs * xs
    out[small & ~tiny] = (((w - _c(_J0_Z1, dt)) * (w - _c(_J0_Z2, dt))) * _horner(w, _R0N)) / _horner(w, _R0D)
    xt = x[tiny]
    out[tiny] = _c(1.0, dt) - (xt * xt) / _c(4.0, dt)
    xl = x[~small]                                        # nan goes here (and stays nan)
    out[~small] = _asymptotic(xl, _P0N, _P0D, _Q0N, _Q0D, _PIO4, _z0(xl), True)
    return out


@_blocked
def bessel_j0(x):
    """J0(x), even: the rational form in x^2 up to |x| = 5 (1 - x^2/4 below 1e-5), Hankel's form above."""
    with np.errstate(all="ignore"):
        return _j0_nonneg(np.abs(x))


def _j1_nonneg(x):
    """J1 for x >= 0 or nan (-0.0 keeps its sign through the product with x)."""
    dt = x.dtype
    out = np.empty_like(x)
    small = x <= _c(5.0, dt)
    xs = x[small]
    w = xs * xs
    out[small] = (((_horner(w, _R1N) / _horner(w, _R1D)) * xs) * (w - _c(_J1_Z1, dt))) * (w - _c(_J1_Z2, dt))
    xl = x[~small]
    out[~small] = _asymptotic(xl, _P1N, _P1D, _Q1N, _Q1D, _3PIO4, _z1(xl), True)
    return out


@_blocked
def bessel_j1(x):
    """J1(x), odd: -J1(-x) below 0; the rational form times x up to 5, Hankel's form above."""
    with np.errstate(all="ignore"):
        neg = x < 0
        out = _j1_nonneg(np.where(neg, -x, x))
        return np.where(neg, -out, out)


@_blocked
def bessel_y0(x):
    """Y0(x): -inf at +-0, NaN below 0; R(x^2)/S(x^2) + (2/pi) log(x) J0(x) up to 5, Hankel's form above."""
    dt = x.dtype
    with np.errstate(all="ignore"):
        out = np.empty_like(x)
        small = x <= _c(5.0, dt)
        pos = small & (x > 0)
        xs = x[pos]
        w = xs * xs
        out[pos] = _fma(_c(_TWOOPI, dt) * _math(np.log, xs), _j0_nonneg(xs), _horner(w, _Y0N) / _horner(w, _Y0D))
        out[small & (x == 0)] = -np.inf
        out[small & (x < 0)] = np.nan
        xl = x[~small]
        out[~small] = _asymptotic(xl, _P0N, _P0D, _Q0N, _Q0D, _PIO4, _z0(xl), False)
    return out


@_blocked
def bessel_y1(x):
    """Y1(x): -inf at +-0, NaN below 0; x R(x^2)/S(x^2) + (2/pi)(J1(x) log(x) - 1/x) up to 5, Hankel's form
    above."""
    dt = x.dtype
    with np.errstate(all="ignore"):
        out = np.empty_like(x)
        small = x <= _c(5.0, dt)
        pos = small & (x > 0)
        xs = x[pos]
        w = xs * xs
        inner = _fma(_j1_nonneg(xs), _math(np.log, xs), -(_c(1.0, dt) / xs))
        out[pos] = _fma(xs, _horner(w, _Y1N) / _horner(w, _Y1D), _c(_TWOOPI, dt) * inner)
        out[small & (x == 0)] = -np.inf
        out[small & (x < 0)] = np.nan
        xl = x[~small]
        out[~small] = _asymptotic(xl, _P1N, _P1D, _Q1N, _Q1D, _3PIO4, _z1(xl), False)
    return out


# -- the Airy function Ai ---------------------------------------------------------------------------------------
def _airy_series(x):
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x) by the Maclaurin series of f and g, each element summed until its
    term m / f is at most the dtype's epsilon (elements that have converged keep their sums)."""
    dt = x.dtype
    one = _c(1.0, dt)
    eps = np.finfo(dt).eps
    f = np.ones_like(x)
    g = x.copy()
    k = np.ones_like(x)
    m = np.ones_like(x)
    n = x.copy()
    z = x * x * x
    active = np.ones(x.shape, bool)
    while active.any():
        m2 = m * z
        k2 = k + one
        m2 = m2 / k2
        n2 = n * z
        k2 = k2 + one
        n2 = n2 / k2
        m2 = m2 / k2
        f2 = f + m2
        k2 = k2 + one
        n2 = n2 / k2
        g2 = g + n2
        m, n, k = np.where(active, m2, m), np.where(active, n2, n), np.where(active, k2, k)
        f, g = np.where(active, f2, f), np.where(active, g2, g)
        active &= np.abs(m2 / f2) > eps                  # nan stops
    return _fma(np.full_like(f, _AI0), f, -(_c(_AIP0, dt) * g))


@_blocked
def airy_ai(x):
    """Ai(x): NaN at +-inf, 0 above 103.892; the asymptotic forms (rational in 1/zeta, zeta = 2/3 x^1.5) from
    2.09 up and (sin/cos with rational f, g in 1/zeta^2) below -2.09; the power series between."""
    dt = x.dtype
    with np.errstate(all="ignore"):
        out = np.empty_like(x)
        neg = x < _c(-2.09, dt)
        xn = x[neg]
        zeta = ((_c(-2.0, dt) * xn) * np.sqrt(-xn)) / _c(3.0, dt)
        z = _c(1.0, dt) / zeta
        zz = z * z
        t = zeta + _c(0.25, dt) * _c(np.pi, dt)
        f = _c(1.0, dt) + ((zz * _horner(zz, _AFN)) / _horner(zz, _AFD))
        g = (z * _horner(zz, _AGN)) / _horner(zz, _AGD)
        out[neg] = (_c(_RSQRTPI, dt) / np.sqrt(np.sqrt(-xn))) * _fma(_math(np.sin, t), f, -(_math(np.cos, t) * g))
        pos = x >= _c(2.09, dt)
        xp = x[pos]
        zeta = ((_c(2.0, dt) * xp) * np.sqrt(xp)) / _c(3.0, dt)
        r = _c(1.0, dt) / zeta
        ratio = _horner(r, _AN) / _horner(r, _AD)
        out[pos] = (_c(_RSQRTPI, dt) * ratio) / ((_c(2.0, dt) * np.sqrt(np.sqrt(xp))) * _math(np.exp, zeta))
        mid = ~neg & ~pos                                  # nan goes here (and stays nan)
        out[mid] = _airy_series(x[mid])
        out = np.where(x > _c(103.892, dt), _c(0.0, dt), out)
        return np.where(np.isinf(x), _c(np.nan, dt), out)
