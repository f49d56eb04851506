"""The optimizer update of a compiled training step.

``SGD`` (momentum, dampening, Nesterov, weight decay, maximize) and ``Adam``/``AdamW`` (without amsgrad) are
updated in place over each parameter with preallocated scratch buffers (``out=``): the same arithmetic, in the
same order, as their eager ``_update``, so the parameters after N steps equal eager ember's bit for bit.  The
state lives where the eager optimizer keeps it (``optimizer.state[p]``: momentum buffers, moments, step
counts), read every step, so ``state_dict``, ``load_state_dict`` and learning-rate schedulers keep working.
Any other optimizer, or one with step hooks, runs its own ``step()`` on the gradients the plan wrote to
``p.grad``.  At 2+ BLAS threads a large enough step runs the eager updates split among the threads
(``ember.optim._split_update``), which give the same bits.
"""
from __future__ import annotations

import numpy as _np

from ..optim.adam import Adam, AdamW
from ..optim import _split_update
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
            work = []
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
                work.append((p, g, state))
            # at 2+ threads the eager update split among them (the same arithmetic: the same bits), else here
            arrays = [(p._data, g, state) for p, g, state in work]
            if not _split_update.split_step(o, arrays, group):
                for p, g, state in work:
                    if sgd:
                        self._sgd(p, g, state, group)
                    else:
                        self._adam(p, g, state, group)
            for p, _, _ in work:
                p._version[0] += 1
            if sgd and group["momentum"] == 0:      # as SGD._group_step: no per-parameter state without momentum
                for p in group["params"]:
                    if p in o.state and not o.state[p]:
                        del o.state[p]

    def _sgd(self, p, g, state, group):
        a = p._data
        wd = _scalar(group["weight_decay"])
        momentum = group["momentum"]
        lr = _scalar(group["lr"])
        buf = state.get("momentum_buffer") if momentum != 0 else None
        if momentum != 0 and buf is None:
            if wd != 0:
                g = g + wd * a
            buf = state["momentum_buffer"] = Tensor._make(g.copy())
            g = g + momentum * buf._data if group["nesterov"] else buf._data
            a -= lr * g
            return
        damp = 1 - group["dampening"]
        nesterov = group["nesterov"]
        t = self._tmp(p)
        b = buf._data if buf is not None else None
        for sl in _chunks(a, g, b, t):
            ac, gc, tc = a[sl], g[sl], t[sl]
            if wd != 0:
                gc = gc + wd * ac
            if b is not None:
                bc = b[sl]
                bc *= momentum
                bc += gc if damp == 1 else damp * gc
                gc = gc + momentum * bc if nesterov else bc
            _np.multiply(gc, lr, out=tc)
            ac -= tc

    def _adam(self, p, g, state, group):
        a = p._data
        beta1, beta2 = (_scalar(b) for b in group["betas"])
        lr = _scalar(group["lr"])
        state["step"] += 1
        step = state["step"]
        wd = group["weight_decay"]
        decoupled = group.get("decoupled_weight_decay", False)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        t, d = self._tmp(p), self._tmp(p, 1)
        w = 1 - beta1
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        eps = group["eps"]
        for sl in _chunks(a, g, m, v, t, d):
            ac, gc, mc, vc, tc, dc = a[sl], g[sl], m[sl], v[sl], t[sl], d[sl]
            if wd != 0:
                if decoupled:
                    ac *= 1 - lr * wd
                else:
                    gc = gc + wd * ac
            if abs(w) < 0.5:                 # _lerp_'s first branch, m += w * (g - m), without temporaries
                _np.subtract(gc, mc, out=tc)
                tc *= w
                mc += tc
            else:
                _lerp_(mc, gc, w)
            vc *= beta2
            _np.multiply(gc, 1 - beta2, out=tc)
            tc *= gc
            vc += tc
            _np.sqrt(vc, out=dc)
            dc /= bias_correction2_sqrt
            dc += eps
            _np.multiply(mc, step_size, out=tc)
            tc /= dc
            ac -= tc


_CHUNK = 65536      # elements per slice of an update: the 4-6 arrays of a slice stay in L2 between passes


def _chunks(*arrays):
    """Slices that cut the (same-shaped) arrays into blocks of ``_CHUNK`` elements along their flat order when
    all are C-contiguous (flat views), else one slice of everything.  Elementwise updates done block by block
    give the same values with one trip through memory instead of one per pass."""
    a = arrays[0]
    if a.size <= 2 * _CHUNK or not all(x is None or x.flags.c_contiguous for x in arrays) or a.ndim == 0:
        return (Ellipsis,)
    rows = a.shape[0]
    per = a.size // rows if rows else 0
    if per == 0 or per > _CHUNK:
        return (Ellipsis,)
    step = max(1, _CHUNK // per)
    return [slice(i, i + step) for i in range(0, rows, step)]
