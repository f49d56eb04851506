"""Gradient clipping, like ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``: rescale or clamp the
``.grad`` of parameters in place between ``backward()`` and ``optimizer.step()`` (the cure for exploding
gradients in RNNs)."""
from __future__ import annotations

import math

from ...backend import xp
from ...backend.device import array_module as _xp, as_array as _as_array
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _norm(arr, norm_type: float):
    """The vector norm of a raw array, computed in its own dtype as PyTorch's ``vector_norm`` returns it."""
    m = _xp(arr)
    a = xp.abs(arr.reshape(-1))
    if norm_type == math.inf:
        return a.max() if a.size else m.zeros((), arr.dtype)
    if norm_type == -math.inf:
        return a.min() if a.size else m.asarray(math.inf, arr.dtype)
    if norm_type == 0:
        return m.asarray(xp.count_nonzero(a), arr.dtype)
    if norm_type == 1:
        return a.sum(dtype=arr.dtype)
    if norm_type == 2:
        return xp.sqrt(xp.dot(a, a)) if a.dtype.kind == "f" else xp.sqrt((a * a).sum())
    return (a ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of the norms of ``tensors`` (as if they were concatenated into one vector).

    >>> nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    """
    norm_type = float(norm_type)
    ts = [t for t in _params(tensors) if t is not None]
    if len(ts) == 0:
        return Tensor._make(xp.asarray(0.0, xp.float32))
    norms = xp.stack([_as_array(_norm(t._data, norm_type)) for t in ts])      # (on the tensors' device)
    total = _as_array(_norm(norms, norm_type), dtype=norms.dtype)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients from `parameters` is "
                           f"non-finite ({float(total)}), so it cannot be clipped; set error_if_nonfinite=False to "
                           f"skip this check")
    return Tensor._make(total)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Rescale the gradients of ``parameters`` in place so that their total ``norm_type``-norm (as one vector)
    is at most ``max_norm``; returns the total norm before clipping, as a tensor.

    >>> loss.backward()
    >>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> opt.step()
    """
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(max_norm / (total_norm + 1e-6), 1)``, with a
    total norm computed beforehand (``get_total_norm``): PyTorch's split form of ``clip_grad_norm_``.

    >>> total = nn.utils.get_total_norm([p.grad for p in params]); nn.utils.clip_grads_with_norm_(params, 1.0, total)
    """
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    tn = total_norm._data if isinstance(total_norm, Tensor) else xp.asarray(float(total_norm), xp.float32)
    # the same coefficient as PyTorch: max_norm / (norm + 1e-6), never above 1 (no scaling up)
    coef = xp.minimum(_xp(tn).asarray(float(max_norm), tn.dtype) / (tn + 1e-6), 1.0)
    with xp.errstate(invalid="ignore"):   # an infinite norm gives nan gradients, as in PyTorch
        for g in grads:
            g._data *= coef.astype(g._data.dtype)
            g._version[0] += 1


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_`` (kept, as in PyTorch, with its FutureWarning at each call)."""
    from ..._deprecation import warn
    warn("clip_grad_norm", once=False, category=FutureWarning)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``.

    >>> loss.backward(); nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5); opt.step()
    """
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._version[0] += 1
