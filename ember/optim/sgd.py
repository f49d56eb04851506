"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov momentum, weight decay (L2) and
maximize, matching ``torch.optim.SGD`` step for step.

Plain batch gradient descent, stochastic (batch 1) and mini-batch descent are all this optimizer: what changes
is how many samples the loader puts in each batch (see ``examples/gd_variants.py``).
"""
from __future__ import annotations

from ..ops import _ckernels as _ck
from ..tensor import Tensor
from .optimizer import Optimizer, _check, _check_lr, _scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), like ``torch.optim.SGD``.

    With momentum ``mu`` and dampening ``tau``: ``b = mu * b + (1 - tau) * g`` (``b = g`` on the first step),
    then ``p -= lr * b`` (or ``p -= lr * (g + mu * b)`` with ``nesterov=True``).  ``weight_decay`` adds
    ``weight_decay * p`` to the gradient: that is L2 regularization.

    >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr("SGD", lr)
        _check(momentum >= 0.0, "SGD", "momentum value", momentum, ">= 0")
        _check(_scalar(weight_decay) >= 0.0, "SGD", "weight_decay value", weight_decay, ">= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        super().__init__(params, defaults)

    def _chunkable(self, state, group) -> bool:
        return group["momentum"] == 0 or "momentum_buffer" in state      # (the first step makes the buffer)

    def _update(self, p, g, state, group) -> None:
        wd = _scalar(group["weight_decay"])
        momentum = group["momentum"]
        if wd != 0:
            g = g + wd * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if (buf is not None and wd == 0 and group["dampening"] == 0 and not group["nesterov"]
                    and _ck.sgd_momentum(p, buf._data, g, _scalar(group["lr"]), momentum)):
                return      # (ember's compiled kernel: the steps below in one pass, their bits)
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._make(g.copy())
            else:
                b = buf._data
                b *= momentum
                damp = 1 - group["dampening"]
                b += g if damp == 1 else damp * g       # (1 * g is g exactly: one pass and buffer fewer)
            g = g + momentum * buf._data if group["nesterov"] else buf._data
        p -= _scalar(group["lr"]) * g

    def _group_step(self, group) -> None:
        super()._group_step(group)
        # PyTorch keeps no per-parameter state without momentum: drop the empty dicts step() created
        if group["momentum"] == 0:
            for p in group["params"]:
                if p in self.state and not self.state[p]:
                    del self.state[p]


SGD._split_update = SGD._update       # elementwise: may run in chunks on several threads
SGD._split_cost = 2                   # (fewer passes than Adam: a split pays from twice as many elements)
