"""The orthogonal polynomials of ``torch.special`` (Chebyshev T/U/V/W and their shifted forms, Hermite H/He,
Laguerre L, Legendre P): value-only functions of ``(input, n)``, as PyTorch (no gradient).

PyTorch's rules, followed here: ``n`` is truncated to an integer, a negative ``n`` gives 0; the values at the
interval's ends are exact; Chebyshev polynomials of degree above 6 (T) or 8 (U, V, W) inside (-1, 1) come from
their trigonometric forms; everything else is the three-term recurrence (float64 inside, the result in the
promoted dtype).  Where PyTorch's CPU kernel returns a neighbouring element's value for a NaN input, ember
returns NaN.
"""
from __future__ import annotations

import numpy as np


def _recur(x, n, p0, p1, step):
    """The recurrence ``r = step(k, x, q, p)`` from (p0, p1) up to each element's degree n (n >= 2)."""
    p, q = p0, p1
    out = np.where(n == 0, p0, p1)
    top = int(n.max()) if n.size else 0
    for k in range(2, top + 1):
        r = step(k, x, q, p)
        p, q = q, r
        out = np.where(n == k, r, out)
    return out


def _parity(n, even, odd):
    return np.where(n % 2 == 0, even, odd)


def chebyshev(kind, x, n, shifted=False):
    """T, U, V or W (``kind``) of degree n at x; ``shifted``: of 2x - 1."""
    y = x + x - 1.0 if shifted else x
    with np.errstate(all="ignore"):
        p1 = {"t": y, "u": y + y, "v": y + y - 1.0, "w": y + y + 1.0}[kind]
        out = _recur(y, n, np.ones_like(y), p1, lambda k, y_, q, p: (y_ + y_) * q - p)
        inside = np.abs(y) < 1
        theta = np.arccos(np.where(inside, y, 0.0))
        nf = n.astype(np.float64)
        if kind == "t":
            trig = np.cos(nf * theta)
            at_p1, at_m1 = np.ones_like(y), _parity(n, 1.0, -1.0)
        elif kind == "u":
            s = np.sin(theta)
            trig = np.where(s != 0, np.sin((nf + 1) * theta) / np.where(s != 0, s, 1.0),
                            (nf + 1) * np.cos((nf + 1) * theta) / np.where(y != 0, y, 1.0))
            at_p1, at_m1 = nf + 1, _parity(n, nf + 1, -(nf + 1))
        elif kind == "v":
            c = np.cos(theta / 2)
            trig = np.where(np.sin(theta / 2) != 1, np.cos((nf + 0.5) * theta) / np.where(c != 0, c, 1.0),
                            _parity(n, nf + nf + 1, -(nf + nf + 1)))
            at_p1, at_m1 = np.ones_like(y), _parity(n, nf + nf + 1, -(nf + nf + 1))
        else:
            s = np.sin(theta / 2)
            trig = np.where(np.cos(theta / 2) != 1, np.sin((nf + 0.5) * theta) / np.where(s != 0, s, 1.0),
                            np.where(y > 0, nf + nf + 1, _parity(n, 1.0, -1.0)))
            at_p1, at_m1 = nf + nf + 1, _parity(n, 1.0, -1.0)
        out = np.where(inside & (n > (6 if kind == "t" else 8)), trig, out)
        out = np.where(y == 1, at_p1, np.where(y == -1, at_m1, out))
    return np.where(n < 0, 0.0, out)


def hermite(x, n, physicists):
    """H_n (``physicists``) or He_n at x."""
    with np.errstate(all="ignore"):
        if physicists:
            out = _recur(x, n, np.ones_like(x), x + x, lambda k, x_, q, p: (x_ + x_) * q - (2 * (k - 1)) * p)
        else:
            out = _recur(x, n, np.ones_like(x), x.copy(), lambda k, x_, q, p: x_ * q - (k - 1) * p)
    return np.where(n < 0, 0.0, out)


def laguerre(x, n):
    with np.errstate(all="ignore"):
        out = _recur(x, n, np.ones_like(x), 1.0 - x,
                     lambda k, x_, q, p: ((2 * (k - 1) + 1.0 - x_) * q - (k - 1) * p) / k)
    out = np.where(x == 0, 1.0, out)
    return np.where(n < 0, 0.0, out)


def legendre(x, n):
    with np.errstate(all="ignore"):
        out = _recur(x, n, np.ones_like(x), x.copy(),
                     lambda k, x_, q, p: ((2 * (k - 1) + 1) * x_ * q - (k - 1) * p) / k)
    out = np.where(x == 1, 1.0, np.where(x == -1, _parity(n, 1.0, -1.0), out))
    return np.where(n < 0, 0.0, out)


KERNELS = {
    "chebyshev_polynomial_t": lambda x, n: chebyshev("t", x, n),
    "chebyshev_polynomial_u": lambda x, n: chebyshev("u", x, n),
    "chebyshev_polynomial_v": lambda x, n: chebyshev("v", x, n),
    "chebyshev_polynomial_w": lambda x, n: chebyshev("w", x, n),
    "shifted_chebyshev_polynomial_t": lambda x, n: chebyshev("t", x, n, True),
    "shifted_chebyshev_polynomial_u": lambda x, n: chebyshev("u", x, n, True),
    "shifted_chebyshev_polynomial_v": lambda x, n: chebyshev("v", x, n, True),
    "shifted_chebyshev_polynomial_w": lambda x, n: chebyshev("w", x, n, True),
    "hermite_polynomial_h": lambda x, n: hermite(x, n, True),
    "hermite_polynomial_he": lambda x, n: hermite(x, n, False),
    "laguerre_polynomial_l": laguerre,
    "legendre_polynomial_p": legendre,
}
