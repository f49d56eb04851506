"""Helpers shared by the distributions (``torch.distributions.utils``)."""
from __future__ import annotations

from numbers import Number

import ember
from ember.tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060     # the Euler-Mascheroni constant


def broadcast_all(*values):
    """Tensors broadcast together; numbers become tensors of the first tensor's dtype and device (the default
    dtype when every value is a number)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        bad = [type(v).__name__ for v in values if not isinstance(v, (Tensor, Number))]
        raise ValueError(f"Input arguments must all be instances of Number or torch.Tensor, got {bad}")
    if not all(isinstance(v, Tensor) for v in values):
        ref = next((v for v in values if isinstance(v, Tensor)), None)
        opts = {"dtype": ember.get_default_dtype()} if ref is None else {"dtype": ref.dtype, "device": ref.device}
        values = [v if isinstance(v, Tensor) else ember.tensor(float(v) if not isinstance(v, bool) else v, **opts)
                  for v in values]
    return ember.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return ember.randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value, dim: int):
    """Sums the ``dim`` rightmost dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary: bool = False):
    """Logits to probabilities: a sigmoid when binary, else a softmax over the last dimension."""
    if is_binary:
        return ember.sigmoid(logits)
    return ember.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamps probabilities into the open interval ``(eps, 1 - eps)`` of their dtype."""
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """Probabilities to logits (log-odds when binary, else log-probabilities), clamped away from 0 and 1."""
    ps = clamp_probs(probs)
    if is_binary:
        return ember.log(ps) - ember.log1p(-ps)
    return ember.log(ps)


class lazy_property:
    """A property computed on first access and then stored on the instance (as an ordinary attribute)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What ``Class.attribute`` returns for a lazy property (so documentation tools see a property)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat, diag: int = 0):
    """The lower triangle (from diagonal ``diag``) of the last two dimensions, flattened row by row."""
    n = mat.shape[-1]
    if not (-n <= diag < n):
        raise ValueError(f"tril_matrix_to_vec: diag ({diag}) must be in [{-n}, {n - 1}]")
    rows, cols = ember.tril_indices(n, n, offset=diag)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag: int = 0):
    """The inverse of ``tril_matrix_to_vec``: a square matrix whose lower triangle is ``vec``."""
    m = vec.shape[-1]
    n = next((k for k in range(1, m + abs(diag) + 2) if ember.tril_indices(k, k, offset=diag).shape[-1] >= m), 0)
    rows, cols = ember.tril_indices(n, n, offset=diag)
    if rows.shape[0] != m:
        raise ValueError(f"vec_to_tril_matrix: the last dimension ({m}) is not the size of a lower triangle "
                         f"with diag={diag}")
    flat = ember.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype, device=vec.device)
    flat = flat.index_add(-1, rows * n + cols, vec)
    return flat.reshape(tuple(vec.shape[:-1]) + (n, n))
