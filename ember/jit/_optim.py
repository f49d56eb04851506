"""The optimizer update of a compiled training step.

``SGD`` (momentum, dampening, Nesterov, weight decay, maximize) and ``Adam``/``AdamW`` (without amsgrad) are
updated in place over each parameter with preallocated scratch buffers (``out=``): the same arithmetic, in the
same order, as their eager ``_update``, so the parameters after N steps equal eager ember's bit for bit.  The
state lives where the eager optimizer keeps it (``optimizer.state[p]``: momentum buffers, moments, step
counts), read every step, so ``state_dict``, ``load_state_dict`` and learning-rate schedulers keep working.
Any other optimizer, or one with step hooks, runs its own ``step()`` on the gradients the plan wrote to
``p.grad``.
"""
from __future__ import annotations

import numpy as _np

from ..optim.adam import Adam, AdamW
from ..optim.optimizer import _lerp_, _scalar
from ..optim.sgd import SGD
from ..tensor import Tensor


class OptimizerUpdate:
    """``update()`` steps ``optimizer`` once from the gradients already in ``p.grad``."""

    def __init__(self, optimizer):
        self.opt = optimizer
        self.scratch = {}

    def fused(self) -> bool:
        o = self.opt
        if o._step_pre_hooks or o._step_post_hooks:
            return False
        if type(o) is SGD:
            return True
        return type(o) in (Adam, AdamW) and not any(g["amsgrad"] for g in o.param_groups)

    def _tmp(self, p, k=0):
        key = (id(p), k)
        t = self.scratch.get(key)
        if t is None or t.shape != p._data.shape or t.dtype != p._data.dtype:
            t = self.scratch[key] = _np.empty_like(p._data)
        return t

    def update(self) -> None:
        o = self.opt
        if not self.fused():
            o.step()
            return
        o._opt_called = True
        sgd = type(o) is SGD
        for group in o.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if g.dtype != p._data.dtype:
                    g = g.astype(p._data.dtype)
                if group.get("maximize", False):
                    g = -g
                state = o.state[p]
                if len(state) == 0:
                    o._init_state(p, state, group)
                if sgd:
                    self._sgd(p, g, state, group)
                else:
                    self._adam(p, g, state, group)
                p._version[0] += 1
            if sgd and group["momentum"] == 0:      # as SGD._group_step: no per-parameter state without momentum
                for p in group["params"]:
                    if p in o.state and not o.state[p]:
                        del o.state[p]

    def _sgd(self, p, g, state, group):
        a = p._data
        wd = _scalar(group["weight_decay"])
        momentum = group["momentum"]
        if wd != 0:
            g = g + wd * a
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._make(g.copy())
            else:
                b = buf._data
                b *= momentum
                damp = 1 - group["dampening"]
                b += g if damp == 1 else damp * g
            g = g + momentum * buf._data if group["nesterov"] else buf._data
        t = self._tmp(p)
        _np.multiply(g, _scalar(group["lr"]), out=t)
        a -= t

    def _adam(self, p, g, state, group):
        a = p._data
        beta1, beta2 = (_scalar(b) for b in group["betas"])
        lr = _scalar(group["lr"])
        state["step"] += 1
        step = state["step"]
        wd = group["weight_decay"]
        if wd != 0:
            if group.get("decoupled_weight_decay", False):
                a *= 1 - lr * wd
            else:
                g = g + wd * a
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        t, d = self._tmp(p), self._tmp(p, 1)
        w = 1 - beta1
        if abs(w) < 0.5:                 # _lerp_'s first branch, m += w * (g - m), without temporaries
            _np.subtract(g, m, out=t)
            t *= w
            m += t
        else:
            _lerp_(m, g, w)
        v *= beta2
        _np.multiply(g, 1 - beta2, out=t)
        t *= g
        v += t
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        _np.sqrt(v, out=d)
        d /= bias_correction2_sqrt
        d += group["eps"]
        _np.multiply(m, step_size, out=t)
        t /= d
        a -= t
