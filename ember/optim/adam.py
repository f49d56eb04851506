"""The Adam family, matching PyTorch step for step: ``Adam`` (with amsgrad and L2 weight decay), ``AdamW``
(decoupled weight decay), ``Adamax`` (infinity norm), ``NAdam`` (Nesterov momentum with momentum_decay) and
``RAdam`` (rectified variance)."""
from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _lerp_, _scalar

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _check_betas(name: str, eps, betas, weight_decay) -> None:
    _check(eps >= 0.0, name, "epsilon value", eps, ">= 0")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        b = _scalar(b)
        _check(0.0 <= b < 1.0, name, f"beta parameter at index {i}", b, "0 <= beta < 1")
    _check(weight_decay >= 0.0, name, "weight_decay value", weight_decay, ">= 0")


def _zeros(p) -> Tensor:
    return Tensor._make(xp.zeros_like(p._data))


def _decay_and_moments(p, g, state, group, beta1: float, beta2: float, lr: float, t=None):
    """The steps Adam, NAdam and RAdam share: weight decay (L2 into the gradient, or decoupled: shrink the
    weights), then the running means of the gradient and of its square, in PyTorch's order of operations
    (``lerp_``, then ``mul_(beta2).addcmul_(g, g, value=1 - beta2)``), through the scratch array ``t`` of the
    state's shape (made here if not given): no temporaries (a 512x784 Adam update: 1.23 -> 1.18 ms).  Returns
    the (decayed) gradient."""
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            p *= 1 - lr * wd
        else:
            g = g + wd * p
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    if t is None:
        t = xp.empty_like(v)
    _lerp_(m, g, 1 - beta1, t)
    v *= beta2
    xp.multiply(g, 1 - beta2, out=t)        # addcmul: (value * g) * g
    t *= g
    v += t
    return g


class Adam(Optimizer):
    """Adam, like ``torch.optim.Adam``: running means of the gradient (``beta1``) and of its square
    (``beta2``), bias-corrected; ``amsgrad=True`` divides by the running maximum of the second moment.
    ``weight_decay`` is L2 (added to the gradient) unless ``decoupled_weight_decay=True`` (then it is AdamW).

    >>> opt = ember.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), amsgrad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        name = type(self).__name__
        _check_lr(name, lr)
        _check_betas(name, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["exp_avg"] = _zeros(p)
        state["exp_avg_sq"] = _zeros(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros(p)

    def _update(self, p, g, state, group) -> None:
        beta1, beta2 = (_scalar(b) for b in group["betas"])
        lr = _scalar(group["lr"])
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        denom = xp.empty_like(v)              # (first the moments' scratch array)
        _decay_and_moments(p, g, state, group, beta1, beta2, lr, denom)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        xp.sqrt(v, out=denom)
        denom /= bias_correction2_sqrt
        denom += group["eps"]
        u = xp.multiply(m, step_size)         # addcdiv: p + (-step_size * m) / denom
        u /= denom
        p -= u


class AdamW(Adam):
    """AdamW, like ``torch.optim.AdamW``: Adam with decoupled weight decay (``p *= 1 - lr * weight_decay``
    before the Adam step) and ``weight_decay=1e-2`` by default.

    >>> opt = ember.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


Adam._split_update = Adam._update     # elementwise: may run in chunks on several threads (AdamW too)


class Adamax(Optimizer):
    """Adamax, like ``torch.optim.Adamax``: Adam with the infinity norm,
    ``u = max(beta2 u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``.

    >>> opt = ember.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach: bool | None = None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr("Adamax", lr)
        _check_betas("Adamax", eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["exp_avg"] = _zeros(p)
        state["exp_inf"] = _zeros(p)

    def _update(self, p, g, state, group) -> None:
        beta1, beta2 = group["betas"]
        state["step"] += 1
        wd = group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        m = state["exp_avg"]._data
        u = state["exp_inf"]._data
        _lerp_(m, g, 1 - beta1)
        u *= beta2
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        clr = _scalar(group["lr"]) / (1 - beta1 ** state["step"])
        p -= clr * m / u


class NAdam(Optimizer):
    """NAdam, like ``torch.optim.NAdam``: Adam with Nesterov momentum, whose momentum coefficient follows
    ``mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay))``; ``decoupled_weight_decay=True`` gives NAdamW.

    >>> opt = ember.optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr("NAdam", lr)
        _check_betas("NAdam", eps, betas, weight_decay)
        _check(momentum_decay >= 0.0, "NAdam", "momentum_decay value", momentum_decay, ">= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["mu_product"] = 1.0
        state["exp_avg"] = _zeros(p)
        state["exp_avg_sq"] = _zeros(p)

    def _update(self, p, g, state, group) -> None:
        beta1, beta2 = group["betas"]
        lr, md = _scalar(group["lr"]), group["momentum_decay"]
        state["step"] += 1
        step = state["step"]
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
        # PyTorch keeps mu_product as a float32 tensor: round the same way so long runs agree
        mu_product = float(xp.float32(state["mu_product"]) * xp.float32(mu))
        state["mu_product"] = mu_product
        g = _decay_and_moments(p, g, state, group, beta1, beta2, lr)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        denom = xp.sqrt(v / bias_correction2)
        denom += group["eps"]
        mu_product_next = mu_product * mu_next
        p += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        p += ((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom


class RAdam(Optimizer):
    """RAdam, like ``torch.optim.RAdam``: Adam whose adaptive step is switched on (and rectified) only once
    the variance of the second-moment estimate is tractable (``rho_t > 5``); before that it is SGD with
    momentum.  ``decoupled_weight_decay=True`` gives RAdamW.

    >>> opt = ember.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr("RAdam", lr)
        _check_betas("RAdam", eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["exp_avg"] = _zeros(p)
        state["exp_avg_sq"] = _zeros(p)

    def _update(self, p, g, state, group) -> None:
        beta1, beta2 = group["betas"]
        lr = _scalar(group["lr"])
        state["step"] += 1
        step = state["step"]
        _decay_and_moments(p, g, state, group, beta1, beta2, lr)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = xp.sqrt(v)
            adaptive += group["eps"]
            adaptive = (bias_correction2 ** 0.5) / adaptive
            p -= corrected * lr * adaptive * rect
        else:
            p -= corrected * lr


# elementwise too: in blocks, and in chunks on several threads
for _cls in (Adamax, NAdam, RAdam):
    _cls._split_update = _cls._update
del _cls
