"""``ember.compile(model)`` called with autograd on (the usual ``loss = loss_fn(model(x), y); loss.backward();
opt.step()`` loop): the whole traced forward runs as ONE autograd op, whose backward is the ``TrainingPlan``'s
derived backward (PyTorch's AOTAutograd idea).  The forward runs the plan's kernels on arrays (no per-op
``Function.apply``, no graph nodes); the engine sees one node, and its backward returns the gradients of the
inputs and parameters that need them.  Whatever the loss and the optimizer do around it stays eager.

Limits: the node is once-differentiable (``create_graph=True`` through it raises; call ``model._orig_mod``
for higher derivatives), and the in-place-modification check of saved tensors does not look inside it.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..tensor import Tensor
from ._graph import Value, _collect
from ._train import NotCompilable, TrainingPlan


class _CompiledGraph(Function):
    """One autograd node for a whole compiled forward: ``apply(plan, n_inputs, *inputs, *params)``."""

    @staticmethod
    def forward(ctx, plan, n_in, *arrays):
        env, ctxs = plan.forward(arrays[:n_in], arrays[n_in:])
        ctx.plan, ctx.ctxs, ctx.n_in = plan, ctxs, n_in
        outs = tuple(env[s] for s in plan.seed_slots)
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        if _grad.create_graph:
            raise RuntimeError("the ember.compile'd forward is once-differentiable (its backward is a compiled "
                               "plan on arrays); for create_graph=True call the original module "
                               "(compiled._orig_mod)")
        plan = ctx.plan
        seeds = [(s, g._data) for s, g in zip(plan.seed_slots, grads) if g is not None and s in plan.float_seeds]
        genv = plan.backward(ctx.ctxs, seeds, keep_ctxs=True)      # (kept for retain_graph=True)
        need = ctx.needs_input_grad
        res = [None, None]
        for i, s in enumerate(plan.inputs):
            res.append(Tensor._make(genv[s]) if need[2 + i] and genv[s] is not None else None)
        base = 2 + len(plan.inputs)
        for i, (s, _) in enumerate(plan.params):
            res.append(Tensor._make(genv[s]) if need[base + i] and genv[s] is not None else None)
        return tuple(res)


    def release(self) -> None:         # the engine is done with the node (no retain_graph): drop the plan state
        super().release()
        self.ctxs = None


class AotGraph:
    """The compiled forward-with-backward of one traced signature; one ``TrainingPlan`` per combination of the
    parameters' ``requires_grad`` flags (freezing a layer builds another)."""

    def __init__(self, g, param_tensors, inputs):
        outs = []
        _collect(g.output, outs)
        seen = []
        for v in outs:
            if v.kind != "node":
                raise NotCompilable(f"the forward returns its {v.kind} {v.name} itself")
            if all(v is not w for w in seen):
                seen.append(v)
        if not seen:
            raise NotCompilable("the forward returns no tensor")
        self.g, self.param_tensors, self.outputs = g, param_tensors, seen
        self.grad_inputs = tuple(i for i, x in enumerate(inputs) if x._rg)
        self.plans = {}
        self._plan(self._flags())           # raises NotCompilable now, not at the first call

    def _flags(self):
        return tuple(t._rg for t in self.param_tensors.values())

    def _plan(self, flags):
        p = self.plans.get(flags)
        if p is None:
            p = TrainingPlan(self.g, self.param_tensors, outputs=self.outputs, grad_inputs=self.grad_inputs)
            p.float_seeds = {v.slot for v in self.outputs if v.dtype.kind in "fc"}
            self.plans[flags] = p
        return p

    def __call__(self, inputs):
        plan = self._plan(self._flags())
        res = _CompiledGraph.apply(plan, len(inputs), *inputs, *[t for _, t in plan.params])
        res = res if type(res) is tuple else (res,)
        by_slot = {v.slot: t for v, t in zip(self.outputs, res)}
        return _rebuild(self.g.output, by_slot)


def _rebuild(spec, by_slot):
    t = type(spec)
    if t is Value:
        return by_slot[spec.slot]
    if t is tuple or t is list:
        return t(_rebuild(x, by_slot) for x in spec)
    if t is dict:
        return {k: _rebuild(x, by_slot) for k, x in spec.items()}
    return spec
