"""``Categorical(probs=None, logits=None)``: indices ``0 .. K-1`` drawn with the given weights."""
from __future__ import annotations

import numpy as np

import ember
from ember.backend.random import rng_of

from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]

_BROADCAST_LIMIT = 1 << 22      # draws x categories up to which sampling compares against the whole CDF at once


class Categorical(Distribution):
    """A categorical distribution over the last dimension of ``probs`` (non-negative weights, normalised here)
    or ``logits`` (unnormalised log-probabilities).  Give exactly one."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else ()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = ember.Size(batch_shape)
        param_shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        super(Categorical, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._param.new_empty(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return ember.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype,
                          device=self.probs.device)

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return ember.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype,
                          device=self.probs.device)

    def sample(self, sample_shape=()):
        """Inverse-CDF sampling: one uniform per draw (from ember's generator) against each row's cumulative
        probabilities, vectorised over the sample and batch dimensions on the host; a category of probability
        zero is never drawn."""
        shape = tuple(self._extended_shape(sample_shape))
        probs = self.probs.detach()
        cdf = np.cumsum(probs.cpu().numpy().astype(np.float64), axis=-1)
        cdf /= cdf[..., -1:]
        u = rng_of(None).random(shape)
        if u.size * self._num_events <= _BROADCAST_LIMIT:
            index = (cdf <= u[..., None]).sum(-1)
        else:       # one binary search per batch row instead of a sample x batch x categories comparison
            k = self._num_events
            rows = cdf.reshape(-1, k)
            us = u.reshape((-1, rows.shape[0]))
            index = np.empty(us.shape, np.int64)
            for b in range(rows.shape[0]):
                index[:, b] = np.searchsorted(rows[b], us[:, b], side="right")
            index = index.reshape(shape)
        index = np.minimum(index, self._num_events - 1)
        return ember.tensor(np.asarray(index, np.int64), device=probs.device)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ember.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = ember.finfo(self.logits.dtype).min
        logits = ember.clamp(self.logits, min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand=True):
        values = ember.arange(self._num_events, dtype=ember.int64, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
