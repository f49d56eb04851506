"""Standard gamma draws with an implicit reparameterisation gradient (Figurnov et al., 2018).

A draw ``x ~ Gamma(alpha, 1)`` is the quantile ``x = F^-1(u; alpha)`` of a uniform ``u`` held fixed, so
``dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)``, where ``F`` is the regularised lower incomplete gamma function
and ``f`` the density.  ``dF/dalpha`` is a central difference (relative step 1e-5, float64) of ``F`` computed here
by its power series below ``x = alpha + 1`` and of ``1 - F`` by its continued fraction above (each accurate to
about 1e-15 relative, so the gradient is good to about 1e-9, far below float32's resolution; PyTorch's own
``_standard_gamma_grad`` is an approximation good to about 1e-4).  The draws come from ember's generator
(NumPy's ``standard_gamma``)."""
from __future__ import annotations

import numpy as np

import ember
from ember.autograd import Function
from ember.backend.random import rng_of

_EPS = 1e-16
_TINY = 1e-300
_MAX_ITER = 100_000


def _lgamma(a: np.ndarray) -> np.ndarray:
    return ember.lgamma(ember.tensor(np.asarray(a, np.float64))).numpy()


def _lower_series(a, x):
    """``P(a, x) * Gamma(a) / (x^a e^-x)`` by the series ``sum_n x^n / (a (a+1) ... (a+n))``."""
    term = 1.0 / a
    total = term.copy()
    active = np.arange(a.size)
    ap = a.copy()
    for _ in range(_MAX_ITER):
        ap[active] += 1.0
        term[active] *= x[active] / ap[active]
        total[active] += term[active]
        active = active[np.abs(term[active]) >= np.abs(total[active]) * _EPS]
        if active.size == 0:
            break
    return total


def _upper_fraction(a, x):
    """``Q(a, x) * Gamma(a) / (x^a e^-x)`` by the continued fraction for the upper incomplete gamma (modified
    Lentz; converges fast for ``x > a + 1``)."""
    b = x + 1.0 - a
    c = np.full_like(a, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    active = np.arange(a.size)
    for i in range(1, _MAX_ITER):
        an = -i * (i - a[active])
        b[active] += 2.0
        dd = an * d[active] + b[active]
        dd = np.where(np.abs(dd) < _TINY, _TINY, dd)
        cc = b[active] + an / c[active]
        cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
        dd = 1.0 / dd
        delta = dd * cc
        d[active], c[active] = dd, cc
        h[active] *= delta
        active = active[np.abs(delta - 1.0) >= _EPS]
        if active.size == 0:
            break
    return h


def _incomplete_gamma(a, x, upper):
    """``Q(a, x)`` where ``upper`` else ``P(a, x)`` (elementwise; ``upper`` marks ``x > a + 1``)."""
    out = np.empty_like(a)
    lo, hi = ~upper, upper
    log_front = a * np.log(x) - x - _lgamma(a)
    if lo.any():
        out[lo] = _lower_series(a[lo], x[lo]) * np.exp(log_front[lo])
    if hi.any():
        out[hi] = _upper_fraction(a[hi], x[hi]) * np.exp(log_front[hi])
    return out


def _standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dx/dalpha`` for standard gamma draws ``x`` of concentration ``alpha`` (arrays of one shape)."""
    shape = np.broadcast_shapes(np.shape(alpha), np.shape(x))
    a = np.broadcast_to(np.asarray(alpha, np.float64), shape).ravel().copy()
    xs = np.maximum(np.broadcast_to(np.asarray(x, np.float64), shape).ravel(), np.finfo(np.float64).tiny)
    upper = xs > a + 1.0
    h = 1e-5 * a
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        diff = (_incomplete_gamma(a + h, xs, upper) - _incomplete_gamma(a - h, xs, upper)) / (2 * h)
        dcdf = np.where(upper, -diff, diff)         # dP/da = -dQ/da
        pdf = np.exp((a - 1) * np.log(xs) - xs - _lgamma(a))
        grad = -dcdf / pdf
    return np.where(np.isfinite(grad), grad, 0.0).reshape(shape)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha):
        a = alpha.detach().cpu().numpy()
        draws = rng_of(None).standard_gamma(a.astype(np.float64))
        x = np.maximum(draws, np.finfo(a.dtype).tiny).astype(a.dtype)
        out = ember.tensor(x, device=alpha.device)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        alpha, x = ctx.saved_tensors
        xa = x.detach().cpu().numpy()
        g = _standard_gamma_grad(alpha.detach().cpu().numpy(), xa).astype(xa.dtype)
        return grad_output * ember.tensor(g, device=alpha.device)


def standard_gamma(alpha):
    """Draws ``Gamma(alpha, 1)`` of ``alpha``'s shape and dtype, differentiable in ``alpha``."""
    return _StandardGamma.apply(alpha)
