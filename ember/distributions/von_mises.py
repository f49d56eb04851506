"""``VonMises(loc, concentration)``: the circular normal distribution on ``[-pi, pi)``."""
from __future__ import annotations

import math

import numpy as np

import ember
from ember.backend.random import rng_of

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


def _log_modified_bessel_fn(x, order=0):
    """``log I_order(x)`` for ``x > 0`` (order 0 or 1), through the exponentially scaled Bessel functions
    (accurate where PyTorch uses Abramowitz-Stegun polynomials good to about 1e-7)."""
    if order not in (0, 1):
        raise ValueError(f"_log_modified_bessel_fn: order must be 0 or 1, got {order}")
    scaled = ember.special.i0e(x) if order == 0 else ember.special.i1e(x)
    return scaled.log() + x


def _rejection_sample(loc, concentration, proposal_r, shape, rng):
    """Best and Fisher's (1979) rejection sampler on float64 arrays, vectorised over the draws still pending."""
    loc, kappa, r = (np.broadcast_to(a, shape).ravel() for a in (loc, concentration, proposal_r))
    x = np.empty(loc.size)
    pending = np.arange(loc.size)
    while pending.size:
        u1, u2, u3 = rng.random((3, pending.size))
        z = np.cos(math.pi * u1)
        f = (1 + r[pending] * z) / (r[pending] + z)
        c = kappa[pending] * (r[pending] - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
        x[pending[accept]] = np.sign(u3[accept] - 0.5) * np.arccos(np.clip(f[accept], -1.0, 1.0))
        pending = pending[~accept]
    return ((x + math.pi + loc) % (2 * math.pi) - math.pi).reshape(shape)


class VonMises(Distribution):
    """A distribution of angles: density proportional to ``exp(concentration * cos(x - loc))``.  Draws (by
    rejection sampling) are not reparameterised, as in PyTorch."""
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * ember.cos(value - self.loc)
        return log_prob - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _proposal_r(self):
        kappa = self.concentration.detach().to(ember.float64)
        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        proposal_r = (1 + rho ** 2) / (2 * rho)
        return ember.where(kappa < 1e-5, 1 / kappa + kappa, proposal_r)    # a Taylor form for tiny kappa

    def sample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        with ember.no_grad():
            arrays = [t.detach().to(ember.float64).cpu().numpy() for t in (self.loc, self.concentration,
                                                                            self._proposal_r)]
            draws = _rejection_sample(*arrays, shape, rng_of(None))
            return ember.tensor(draws, dtype=self.loc.dtype, device=self.loc.device)

    def expand(self, batch_shape, _instance=None):
        try:
            return super().expand(batch_shape)
        except NotImplementedError:
            validate_args = self.__dict__.get("_validate_args")
            return type(self)(self.loc.expand(tuple(batch_shape)), self.concentration.expand(tuple(batch_shape)),
                              validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        # the circular variance 1 - I1(k) / I0(k)
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1)
                    - _log_modified_bessel_fn(self.concentration, order=0)).exp()
