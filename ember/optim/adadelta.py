"""``Adadelta``: an adaptive method whose step size comes from running averages of squared gradients and
squared updates, matching ``torch.optim.Adadelta`` (lr, rho, eps, weight_decay, maximize)."""
from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, like ``torch.optim.Adadelta``.

    ``v = rho v + (1 - rho) g^2``; ``d = sqrt(u + eps) / sqrt(v + eps) * g``; ``u = rho u + (1 - rho) d^2``;
    ``p -= lr * d``.

    >>> opt = ember.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr("Adadelta", lr)
        _check(0.0 <= rho <= 1.0, "Adadelta", "rho value", rho, "0 <= rho <= 1")
        _check(eps >= 0.0, "Adadelta", "epsilon value", eps, ">= 0")
        _check(weight_decay >= 0.0, "Adadelta", "weight_decay value", weight_decay, ">= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["square_avg"] = Tensor._make(xp.zeros_like(p._data))
        state["acc_delta"] = Tensor._make(xp.zeros_like(p._data))

    def _update(self, p, g, state, group) -> None:
        state["step"] += 1
        rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        sq = state["square_avg"]._data
        acc = state["acc_delta"]._data
        sq *= rho
        sq += (1 - rho) * g * g
        std = xp.sqrt(sq + eps)
        delta = xp.sqrt(acc + eps)
        delta /= std
        delta *= g
        acc *= rho
        acc += (1 - rho) * delta * delta
        p -= _scalar(group["lr"]) * delta


Adadelta._split_update = Adadelta._update     # elementwise: in blocks, and in chunks on several threads
