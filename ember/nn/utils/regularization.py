"""Explicit regularization penalties to add to a loss.

L2 regularization is usually the optimizers' ``weight_decay`` (for SGD, ``weight_decay=lam`` is the gradient of
``lam / 2 * l2_penalty(params)``).  L1 regularization has no optimizer option; it is a one-liner::

    loss = loss + lam * sum(p.abs().sum() for p in model.parameters())

or, with the helper, ``loss = loss + lam * l1_penalty(model.parameters())``.
"""
from __future__ import annotations

from ...backend import xp
from ...tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty"]


def _params(params, who: str) -> list:
    ps = [params] if isinstance(params, Tensor) else list(params)
    for p in ps:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected Tensors, got an element of type {type(p).__name__}")
    return ps


def l1_penalty(params) -> Tensor:
    """The sum of absolute values of all ``params``, as a differentiable scalar (the L1 penalty).

    Same as ``sum(p.abs().sum() for p in params)``; its gradient is ``sign(p)``.

    >>> loss = criterion(model(x), y) + 1e-4 * nn.utils.l1_penalty(model.parameters())
    """
    total = None
    for p in _params(params, "l1_penalty"):
        term = p.abs().sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor._make(xp.asarray(0.0, xp.float32))


def l2_penalty(params) -> Tensor:
    """The sum of squares of all ``params`` (the squared L2 norm), as a differentiable scalar.

    ``lam / 2 * l2_penalty(params)`` has the gradient ``lam * p``, which SGD's ``weight_decay=lam`` adds.

    >>> loss = criterion(model(x), y) + 0.5 * 1e-4 * nn.utils.l2_penalty(model.parameters())
    """
    total = None
    for p in _params(params, "l2_penalty"):
        term = (p * p).sum()
        total = term if total is None else total + term
    return total if total is not None else Tensor._make(xp.asarray(0.0, xp.float32))
