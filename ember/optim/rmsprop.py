"""``RMSprop``: divide the gradient by a running RMS of recent gradients, matching ``torch.optim.RMSprop``
(alpha, eps, centered, momentum, weight_decay, maximize)."""
from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _lerp_, _scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, like ``torch.optim.RMSprop``.

    ``v = alpha v + (1 - alpha) g^2``; ``p -= lr * g / (sqrt(v) + eps)``.  ``centered=True`` subtracts the
    squared running mean of the gradient from ``v``; ``momentum > 0`` keeps a buffer
    ``b = momentum b + g / (sqrt(v) + eps)`` and steps by ``lr * b``.

    >>> opt = ember.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.99, centered=True)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr("RMSprop", lr)
        _check(eps >= 0.0, "RMSprop", "epsilon value", eps, ">= 0")
        _check(momentum >= 0.0, "RMSprop", "momentum value", momentum, ">= 0")
        _check(weight_decay >= 0.0, "RMSprop", "weight_decay value", weight_decay, ">= 0")
        _check(alpha >= 0.0, "RMSprop", "alpha value", alpha, ">= 0")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach, maximize=maximize,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["square_avg"] = Tensor._make(xp.zeros_like(p._data))
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor._make(xp.zeros_like(p._data))
        if group["centered"]:
            state["grad_avg"] = Tensor._make(xp.zeros_like(p._data))

    def _update(self, p, g, state, group) -> None:
        state["step"] += 1
        alpha, wd, momentum = group["alpha"], group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + wd * p
        sq = state["square_avg"]._data
        sq *= alpha
        sq += (1 - alpha) * g * g
        if group["centered"]:
            ga = state["grad_avg"]._data
            _lerp_(ga, g, 1 - alpha)
            avg = xp.sqrt(sq - ga * ga)
        else:
            avg = xp.sqrt(sq)
        avg += group["eps"]
        lr = _scalar(group["lr"])
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            p -= lr * g / avg


RMSprop._split_update = RMSprop._update     # elementwise: may run in blocks, and in chunks on several threads
