"""``Adafactor`` (Shazeer & Stern, 2018), matching ``torch.optim.Adafactor`` step for step: a factored
second-moment estimate (row and column means of the squared gradient) for tensors of 2+ dimensions, a full one
for vectors, a relative step size ``min(lr, 1/sqrt(t))`` scaled by the parameter's RMS, update clipping by ``d``
and decoupled weight decay ``p *= 1 - lr * weight_decay``."""
from __future__ import annotations

import math

from ..backend import xp
from .optimizer import Optimizer, _check_lr, _lerp_, _scalar

__all__ = ["Adafactor"]


def _rms(a) -> float:
    return float(xp.sqrt(xp.vdot(a.reshape(-1), a.reshape(-1)).real)) / math.sqrt(a.size) if a.size else 0.0


class Adafactor(Optimizer):
    """Adafactor, like ``torch.optim.Adafactor`` (PyTorch's variant: ``lr`` caps the relative step and scales
    weight decay; ``eps[0]`` (default: the dtype's machine epsilon) stabilizes the denominators).

    >>> opt = ember.optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, beta2_decay: float = -0.8, eps=(None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None, maximize: bool = False) -> None:
        _check_lr("Adafactor", lr)
        if not 0.0 >= beta2_decay:
            raise ValueError(f"Adafactor: beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"Adafactor: epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"Adafactor: epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Adafactor: clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adafactor: weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _group_step(self, group) -> None:
        # as PyTorch: an unset epsilon1 is the machine epsilon of the group's first parameter with a gradient
        self._eps1 = group["eps"][0]
        for p in group["params"]:
            if p.grad is not None and self._eps1 is None:
                self._eps1 = float(xp.finfo(p._data.dtype).eps)
        for p in group["params"]:
            if p.grad is None:
                continue
            if p._data.dtype.kind == "c":
                raise RuntimeError(f"Adafactor does not support complex parameters (got a {p.dtype} parameter "
                                   f"of shape {tuple(p.shape)})")
            if getattr(p.grad, "is_sparse", False):
                raise RuntimeError(f"Adafactor does not support sparse gradients (parameter of shape "
                                   f"{tuple(p.shape)})")
        super()._group_step(group)

    def _init_state(self, p, state, group) -> None:
        from ..tensor import Tensor
        state["step"] = 0.0
        g = p.grad._data if p.grad is not None else p._data
        if g.ndim > 1:
            state["row_var"] = Tensor._make(xp.zeros(g.shape[:-1] + (1,), p._data.dtype))
            state["col_var"] = Tensor._make(xp.zeros(g.shape[:-2] + (1, g.shape[-1]), p._data.dtype))
        else:
            state["variance"] = Tensor._make(xp.zeros(g.shape, p._data.dtype))

    def _update(self, p, g, state, group) -> None:
        lr = _scalar(group["lr"])
        eps1, eps2 = self._eps1, group["eps"][1]
        dt = p.dtype
        state["step"] += 1
        step = state["step"]
        one_minus_beta2_t = step ** group["beta2_decay"]
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, _rms(p)) * rho_t
        wd = group["weight_decay"]
        if wd != 0:
            p *= dt.type(1 - lr * wd)
        if g.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            gg = g * g
            row_mean = (xp.sqrt(gg.sum(axis=-1, keepdims=True)) ** 2 / g.shape[-1]).astype(dt)
            _lerp_(row_var, row_mean, one_minus_beta2_t)
            col_mean = (xp.sqrt(gg.sum(axis=-2, keepdims=True)) ** 2 / g.shape[-2]).astype(dt)
            _lerp_(col_var, col_mean, one_minus_beta2_t)
            var_estimate = xp.matmul(row_var, col_var)
            var_estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), dt.type(eps1))
        else:
            var = state["variance"]._data
            _lerp_(var, g * g, one_minus_beta2_t)
            var_estimate = var.copy()
        update = 1 / xp.sqrt(xp.maximum(var_estimate, dt.type(eps1 * eps1)))
        update *= g
        denom = max(1.0, _rms(update) / group["d"])
        p += dt.type(-alpha / denom) * update
