"""Standard gamma draws with an implicit reparameterisation gradient (Figurnov et al., 2018).

A draw ``x ~ Gamma(alpha, 1)`` is the quantile ``x = F^-1(u; alpha)`` of a uniform ``u`` held fixed, so
``dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)``, where ``F`` is the regularised lower incomplete gamma function
(``ember.special.gammainc``) and ``f`` the density.  ``dF/dalpha`` is taken by a central difference in float64
(relative step 1e-5; about 1e-9 relative error, below float32's resolution).  The draws themselves come from
ember's generator (NumPy's ``standard_gamma``)."""
from __future__ import annotations

import numpy as np

import ember
from ember.autograd import Function
from ember.backend.random import rng_of


def _standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``dx/dalpha`` for standard gamma draws ``x`` of concentration ``alpha`` (float64 arrays, same shape)."""
    a = alpha.astype(np.float64)
    xs = x.astype(np.float64)
    h = 1e-5 * a
    inc = ember.special.gammainc
    up = inc(ember.tensor(a + h), ember.tensor(xs)).numpy()
    down = inc(ember.tensor(a - h), ember.tensor(xs)).numpy()
    dcdf = (up - down) / (2 * h)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pdf = (a - 1) * np.log(xs) - xs - _lgamma(a)
        grad = -dcdf / np.exp(log_pdf)
    return np.where(np.isfinite(grad), grad, 0.0)


def _lgamma(a: np.ndarray) -> np.ndarray:
    return ember.lgamma(ember.tensor(a)).numpy()


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha):
        a = alpha.detach().cpu().numpy()
        draws = rng_of(None).standard_gamma(a.astype(np.float64))
        tiny = np.finfo(a.dtype).tiny
        x = np.maximum(draws, tiny).astype(a.dtype)
        out = ember.tensor(x, device=alpha.device)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        alpha, x = ctx.saved_tensors
        g = _standard_gamma_grad(alpha.detach().cpu().numpy(), x.detach().cpu().numpy())
        return grad_output * ember.tensor(g.astype(np.dtype(str(x.detach().cpu().numpy().dtype))),
                                          device=alpha.device)


def standard_gamma(alpha):
    """Draws ``Gamma(alpha, 1)`` of ``alpha``'s shape and dtype, differentiable in ``alpha``."""
    return _StandardGamma.apply(alpha)
