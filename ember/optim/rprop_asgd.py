"""``Rprop`` (resilient backpropagation: per-coordinate step sizes grown or shrunk by the sign of successive
gradients) and ``ASGD`` (averaged SGD), matching ``torch.optim.Rprop`` and ``torch.optim.ASGD`` (their
single-tensor CPU algorithms, including ASGD's eta and mu kept as 0-d tensors of the default dtype)."""
from __future__ import annotations

from ..backend import dtypes as _dt
from ..backend import xp
from ..backend.device import array_module as _xp
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _scalar

__all__ = ["Rprop", "ASGD"]


class Rprop(Optimizer):
    """Rprop, like ``torch.optim.Rprop``: each coordinate's step size starts at ``lr``; it is multiplied by
    ``etas[1]`` where the gradient kept its sign, by ``etas[0]`` where it flipped (and that coordinate's
    gradient is then taken as 0), and clamped to ``step_sizes``; ``p -= sign(g) * step_size``.

    >>> opt = ember.optim.Rprop(model.parameters(), lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50))
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr("Rprop", lr)
        _check(0.0 < etas[0] < 1.0 < etas[1], "Rprop", "eta values", f"{etas[0]}, {etas[1]}",
               "0 < etaminus < 1 < etaplus")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        state["step"] = 0.0
        state["prev"] = Tensor._make(xp.zeros_like(p._data))
        state["step_size"] = Tensor._make(xp.full_like(p._data, _scalar(group["lr"])))

    def _update(self, p, g, state, group) -> None:
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        state["step"] += 1
        prev, step_size = state["prev"]._data, state["step_size"]._data
        sign = xp.sign(g * prev)
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1)).astype(p.dtype)
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = xp.where(factor == p.dtype.type(etaminus), 0, g).astype(p.dtype)
        p -= xp.sign(g) * step_size
        prev[...] = g


class ASGD(Optimizer):
    """Averaged SGD, like ``torch.optim.ASGD``: ``p *= 1 - lambd * eta``; ``p -= eta * g``; the running average
    ``ax`` of the iterates (``state["ax"]``) starts averaging after ``t0`` steps; ``eta = lr / (1 + lambd * lr
    * step) ** alpha``.

    >>> opt = ember.optim.ASGD(model.parameters(), lr=0.01, t0=100)
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr("ASGD", lr)
        _check(weight_decay >= 0.0, "ASGD", "weight_decay value", weight_decay, ">= 0")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, p, state, group) -> None:
        sd = _dt.get_default_dtype()     # PyTorch keeps eta and mu as 0-d tensors of this dtype
        state["step"] = 0.0
        m = _xp(p._data)                 # (on the parameter's device, as PyTorch's)
        state["eta"] = Tensor._make(m.full((), _scalar(group["lr"]), sd))
        state["mu"] = Tensor._make(m.ones((), sd))
        state["ax"] = Tensor._make(xp.zeros_like(p._data))

    def _update(self, p, g, state, group) -> None:
        lr, lambd, alpha, t0 = _scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        eta_t, mu_t, ax = (state[k]._data for k in ("eta", "mu", "ax"))
        state["step"] += 1
        wd = group["weight_decay"]
        if wd != 0:
            g = g + wd * p
        eta = float(eta_t)
        p *= p.dtype.type(1 - lambd * eta)
        p -= p.dtype.type(eta) * g
        mu = float(mu_t)
        if mu != 1:
            ax += (p - ax) * p.dtype.type(mu)
        else:
            ax[...] = p
        step = state["step"]
        eta_t[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu_t[...] = 1 / max(1, step - t0)
