"""``ember.jit.compile_training_step(model, loss_fn, optimizer)``: one training step (zero_grad, forward, loss,
backward, optimizer step) traced once per input signature and replayed by a ``TrainingPlan`` (no per-op
dispatch, no autograd graph).  What cannot be compiled runs eagerly, with one warning saying why."""
from __future__ import annotations

import warnings

from ..autograd.grad_mode import state as _grad
from ..tensor import Tensor
from ._optim import OptimizerUpdate
from ._trace import TracingError, flat_inputs, record
from ._train import NotCompilable, TrainingPlan

_MAX_SIGNATURES = 8


class _Eager:
    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


class TrainingStep:
    """``step(*inputs, target)``: ``optimizer.zero_grad(); loss = loss_fn(model(*inputs), target);
    loss.backward(); optimizer.step()``; returns the loss (a 0-d Tensor without history).  After the call each
    parameter's ``.grad`` holds this step's gradient, as after the eager step.

    The first call with a new signature (input shapes and dtypes, training mode) runs eagerly while it is
    traced; later calls replay the compiled plan.  ``explain()`` says, per signature, what runs;
    ``stats`` counts traces and compiled/eager calls."""

    def __init__(self, model, loss_fn, optimizer):
        if not callable(model) or not callable(loss_fn):
            raise TypeError(f"compile_training_step: model and loss_fn must be callable, got "
                            f"{type(model).__name__} and {type(loss_fn).__name__}")
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"compile_training_step: optimizer must be an ember.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.update = OptimizerUpdate(optimizer)
        self._cache = {}
        self._warned = False
        self.stats = {"traces": 0, "compiled_calls": 0, "eager_calls": 0}

    def _loss(self, *args):
        return self.loss_fn(self.model(*args[:-1]), args[-1])

    def _eager(self, args):
        self.optimizer.zero_grad()
        loss = self._loss(*args)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def _key(self, inputs):
        return (tuple((x._data.shape, x._data.dtype.str, x._rg) for x in inputs),
                bool(getattr(self.model, "training", False)), _grad.enabled)

    def _trace(self, args, inputs):
        """The first call of a signature: trace the forward and loss while running the eager step."""
        from .._compile import _side_effects
        self.stats["traces"] += 1
        self.optimizer.zero_grad()
        named = getattr(self.model, "named_buffers", None)
        before = {n: (b, b._data.copy()) for n, b in named() if b is not None} if named else {}
        try:
            g, loss, tr = record(self._loss, tuple(args), None, self.model)
        except TracingError as err:
            for buf, old in before.values():    # the eager re-run redoes the buffer updates
                if buf._data.shape == old.shape:
                    buf._data[...] = old
            return _Eager(str(err)), None
        counters, why = _side_effects(g, self.model, before)
        loss.backward()
        self.optimizer.step()
        if why is None and any(x._rg for x in inputs):
            why = "an input requires grad (its .grad is not computed by the compiled step)"
        if why is not None:
            return _Eager(why), loss.detach()
        try:
            plan = TrainingPlan(g, tr.param_tensors)
        except NotCompilable as err:
            return _Eager(str(err)), loss.detach()
        plan.counters = counters
        return plan, loss.detach()

    def __call__(self, *args):
        if len(args) < 2:
            raise TypeError(f"compile_training_step: call step(*inputs, target) with at least one input and the "
                            f"target, got {len(args)} argument(s)")
        inputs = args if all(type(a) is Tensor for a in args) else flat_inputs(args)
        key = self._key(inputs)
        plan = self._cache.get(key)
        if plan is None:
            if len(self._cache) >= _MAX_SIGNATURES:
                self._cache.pop(next(iter(self._cache)))
            if not _grad.enabled:
                plan, first = _Eager("grad mode is off (no_grad): a training step needs gradients"), None
            else:
                plan, first = self._trace(args, inputs)
            self._cache[key] = plan
            if type(plan) is _Eager:
                self._warn(plan.reason)
                self.stats["eager_calls"] += 1
                return first if first is not None else self._eager(args)
            return first
        if type(plan) is _Eager:
            self.stats["eager_calls"] += 1
            return self._eager(args)
        self.stats["compiled_calls"] += 1
        for buf, inc in plan.counters:          # BatchNorm's num_batches_tracked
            buf._data += inc
            buf._version[0] += 1
        loss, grads, _ = plan.run(inputs)
        self._set_grads(plan, grads)
        self.update.update()
        return Tensor._make(loss)

    def _set_grads(self, plan, grads):
        in_opt = self._opt_ids()
        pt = plan.param_tensors
        for name, g in grads.items():
            p = pt[name]
            if g is None:
                if id(p) in in_opt:
                    p.grad = None
                continue
            if g.base is not None or not g.flags.writeable:      # .grad owns its memory, as in eager
                g = g.copy()
            if id(p) in in_opt or p.grad is None:
                p.grad = Tensor._make(g)
            else:                       # not zeroed by this optimizer: gradients accumulate, as in eager
                p.grad._data += g
                p.grad._version[0] += 1
        for p in self._opt_params:      # optimizer params outside the graph: zero_grad left them None
            if id(p) not in plan.wrt_ids:
                p.grad = None

    def _opt_ids(self):
        ps = [p for group in self.optimizer.param_groups for p in group["params"]]
        self._opt_params = ps
        return {id(p) for p in ps}

    def _warn(self, reason):
        if not self._warned:
            self._warned = True
            warnings.warn(f"compile_training_step: this step runs eagerly (not compiled): {reason}", stacklevel=3)

    def explain(self) -> str:
        lines = []
        for (shapes, training, _), plan in self._cache.items():
            what = (f"eager ({plan.reason})" if type(plan) is _Eager else
                    f"compiled, {len(plan.g.nodes)} forward nodes, {len(plan.bwd)} backward steps")
            lines.append(f"{[s for s, _, _ in shapes]} training={training}: {what}")
        return "\n".join(lines)


def compile_training_step(model, loss_fn, optimizer) -> TrainingStep:
    """Compile ``optimizer.zero_grad(); loss_fn(model(*inputs), target).backward(); optimizer.step()`` into one
    replayed plan: ``step = compile_training_step(model, F.cross_entropy, opt); loss = step(x, y)``.  Same
    parameters after N steps as the eager loop; re-traced when input shapes change; eager (with one warning)
    where the forward cannot be compiled (random draws such as dropout in training mode, Python control flow on
    tensor values, a user ``autograd.Function``)."""
    return TrainingStep(model, loss_fn, optimizer)


class TrainingReplay:
    """What ``ember.compile`` runs for a function whose trace called ``loss.backward()`` (and optimizer
    ``zero_grad``/``step``): the forward and backward as a ``TrainingPlan``, then the recorded optimizer calls
    in their order, with the gradients accumulated into ``.grad`` as the engine does."""

    def __init__(self, g, param_tensors):
        calls = g.autograd_calls
        kinds = [c[0] for c in calls]
        if "grad" in kinds:
            raise NotCompilable("the function calls autograd.grad")
        if kinds.count("backward") != 1:
            raise NotCompilable(f"the function calls backward() {kinds.count('backward')} times (one is compiled)")
        b = kinds.index("backward")
        _, loss, kw, at = calls[b]
        if loss is None:
            raise NotCompilable("backward() is called on a tensor the trace did not compute")
        if kw["gradient"] is not None or kw["create_graph"] or kw["inputs"] is not None:
            raise NotCompilable("backward() with gradient=, create_graph=True or inputs= is not compiled")
        if at != len(g.nodes):
            raise NotCompilable("the function computes with tensors after backward() (it may read .grad)")
        for kind, opt, arg, _ in calls:
            if kind == "step" and (arg is not None or _own_step(opt)):
                raise NotCompilable(f"{type(opt).__name__}.step with a closure (or its own step) is not compiled")
        self.plan = TrainingPlan(g, param_tensors, loss)
        self.before = [(c[1], c[2]) for c in calls[:b]]          # zero_grad calls (step before backward: eager)
        if any(c[0] == "step" for c in calls[:b]):
            raise NotCompilable("optimizer.step() before backward() is not compiled")
        self.after = [(c[0], c[1], c[2]) for c in calls[b + 1:]]
        self.updates = {id(c[1]): OptimizerUpdate(c[1]) for c in calls if c[0] == "step"}
        self.g = g

    def __call__(self, inputs):
        from .passes import _wrap_out
        for opt, set_to_none in self.before:
            opt.zero_grad(set_to_none)
        _, grads, env = self.plan.run(inputs)
        pt = self.plan.param_tensors
        for name, g in grads.items():
            if g is None:
                continue
            p = pt[name]
            if p.grad is None:
                p.grad = Tensor._make(g.copy() if g.base is not None or not g.flags.writeable else g)
            else:
                p.grad._data += g
                p.grad._version[0] += 1
        for kind, opt, arg in self.after:
            if kind == "step":
                self.updates[id(opt)].update()
            else:
                opt.zero_grad(arg)
        return _wrap_out(self.g.output, env)


def _own_step(opt) -> bool:
    """Whether the optimizer's class overrides ``Optimizer.step`` (LBFGS), which a replay cannot repeat."""
    from ..optim.optimizer import Optimizer
    return any("step" in vars(c) for c in type(opt).__mro__ if c is not Optimizer and issubclass(c, Optimizer))
