"""``Adagrad``: per-coordinate learning rates from the running sum of squared gradients, matching
``torch.optim.Adagrad`` (lr_decay, initial_accumulator_value, eps, weight_decay, maximize)."""
from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, like ``torch.optim.Adagrad``.

    ``sum += g * g``; ``p -= clr * g / (sqrt(sum) + eps)`` with ``clr = lr / (1 + (step - 1) * lr_decay)``.
    As in PyTorch, the state (``step`` and ``sum``) is created for every parameter at construction.

    >>> opt = ember.optim.Adagrad(model.parameters(), lr=0.01, initial_accumulator_value=0.1)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr("Adagrad", lr)
        _check(lr_decay >= 0.0, "Adagrad", "lr_decay value", lr_decay, ">= 0")
        _check(weight_decay >= 0.0, "Adagrad", "weight_decay value", weight_decay, ">= 0")
        _check(initial_accumulator_value >= 0.0, "Adagrad", "initial_accumulator_value",
               initial_accumulator_value, ">= 0")
        _check(eps >= 0.0, "Adagrad", "epsilon value", eps, ">= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))

    def _update(self, p, g, state, group) -> None:
        state["step"] += 1
        step = state["step"]
        wd = group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        clr = _scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"]._data
        s += g * g
        std = xp.sqrt(s)
        std += group["eps"]
        p -= clr * g / std


Adagrad._split_update = Adagrad._update     # elementwise: may run in blocks, and in chunks on several threads
