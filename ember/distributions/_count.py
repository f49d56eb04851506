"""The parameter handling ``Binomial`` and ``NegativeBinomial`` share (as PyTorch's two classes do, line for
line): a ``total_count`` broadcast with ``probs`` or ``logits`` (exactly one of them), and ``expand``."""
from __future__ import annotations

import ember

from .utils import broadcast_all


def init_counts(dist, total_count, probs, logits):
    """Set ``dist.total_count`` and ``dist.probs`` or ``dist.logits`` (broadcast together, the count in the
    probabilities' dtype) and ``dist._param``; returns the batch shape."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        dist.total_count, dist.probs = broadcast_all(total_count, probs)
        dist.total_count = dist.total_count.type_as(dist.probs)
    else:
        dist.total_count, dist.logits = broadcast_all(total_count, logits)
        dist.total_count = dist.total_count.type_as(dist.logits)
    dist._param = dist.probs if probs is not None else dist.logits
    return dist._param.size()


def expand_counts(dist, cls, batch_shape, _instance):
    """``cls.expand``: a new instance with the count and the given probabilities (or logits) expanded."""
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = ember.Size(batch_shape)
    new.total_count = dist.total_count.expand(batch_shape)
    if "probs" in dist.__dict__:
        new.probs = dist.probs.expand(batch_shape)
        new._param = new.probs
    if "logits" in dist.__dict__:
        new.logits = dist.logits.expand(batch_shape)
        new._param = new.logits
    super(cls, new).__init__(batch_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new
