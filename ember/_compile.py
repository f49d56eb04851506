"""``ember.compile``: PyTorch's ``torch.compile`` contract (same results; whatever cannot be captured runs
eagerly) on ember's traced graphs.

The first call with a new signature (tensor shapes and dtypes, the other arguments, grad mode, training mode)
traces the model (``ember.jit.trace_graph``), optimizes the graph (dead code, constant folding, common
subexpressions) and caches it.  Calls without autograd run the ``InferencePlan`` (op kernels called directly
on arrays, fused elementwise chains in preallocated buffers, intermediates freed after their last use); calls
that need gradients run the whole forward as one autograd node whose backward is compiled too
(ember/jit/_aot.py), so ``loss.backward()`` and optimizers work as usual (a forward that plan cannot take
replays through ``Function.apply`` op by op).
A forward that reads tensor values in Python (``if x.sum() > 0``), draws random numbers (dropout in training
mode), or fails to trace runs eagerly for that signature; ``explain()`` says why.

A function that runs a whole training step (``opt.zero_grad(); loss = ...; loss.backward(); opt.step()``) is
compiled as one: its trace notes the backward and optimizer calls, and later calls replay the forward, the
derived backward and the optimizer update as one ``TrainingReplay`` (ember/jit/_step.py, _train.py) with no
per-op dispatch; a step that cannot be compiled runs eagerly, with one warning.
"""
from __future__ import annotations

import functools
import warnings

import numpy as _np

from .backend import device as _devices
from .autograd.grad_mode import state as _grad
from .jit import trace_graph, TracingError
from .jit._module import number_values, run
from .jit._aot import AotGraph
from .jit._step import TrainingReplay
from .jit._train import NotCompilable
from .jit._trace import flat_inputs
from .jit.passes import InferencePlan, optimize
from .nn.module import Module
from .tensor import Tensor

__all__ = ["compile", "OptimizedModule"]

_MAX_SIGNATURES = 8
_NOT_RUN = object()     # _entry's "this call was not run while tracing" (a traced function may return None)


def _signature(args, kwargs, training):
    if not kwargs:
        try:            # the common call: tensors only
            return (tuple([("T", a._data.shape, a._data.dtype, a._rg) for a in args]), (), _grad.enabled,
                    training)
        except AttributeError:
            pass

    def one(a):
        if isinstance(a, Tensor):
            return ("T", a._data.shape, a._data.dtype, a._rg)
        if isinstance(a, (tuple, list)):
            return (type(a).__name__,) + tuple(one(x) for x in a)
        try:
            hash(a)
            return ("v", type(a).__name__, a)
        except TypeError:
            return ("id", id(a))
    return (tuple(one(a) for a in args), tuple((k, one(v)) for k, v in sorted(kwargs.items())), _grad.enabled,
            training)


class _Entry:
    __slots__ = ("graph", "params", "plan", "consts", "nslots", "reason", "counters", "aot")

    def __init__(self, graph=None, params=None, reason=None):
        self.graph, self.params, self.reason, self.plan = graph, params, reason, None
        self.consts, self.counters, self.aot = None, (), None


def _holds(spec, buf) -> bool:
    """Whether a node argument is (or contains) the buffer tensor or its array (an op that updates it itself)."""
    if spec is buf or spec is buf._data:
        return True
    if type(spec) in (tuple, list):
        return any(_holds(x, buf) for x in spec)
    if type(spec) is dict:
        return any(_holds(x, buf) for x in spec.values())
    return False


def _side_effects(g, module, before):
    """Buffers the traced run changed outside the graph: integer counters (BatchNorm's num_batches_tracked)
    become ``(tensor, increment)`` pairs replayed after each call; a float buffer changed by an op that
    receives it is fine; any other change makes the signature run eagerly (returns the reason)."""
    counters = []
    for name, (buf, old) in before.items():
        if _np.array_equal(buf._data, old) or name in g.mutations:
            continue
        if buf._data.dtype.kind in "iu":
            counters.append((buf, buf._data - old))
        elif not any(_holds(n.args, buf) or _holds(n.kwargs, buf) or any(
                v.kind == "param" and g.params.get(name) is v for v in n.input_values()) for n in g.nodes):
            return None, f"buffer {name} is modified outside the recorded ops"
    return counters, None


def _uses_device(fn, args, kwargs) -> bool:
    """True when an input tensor or a parameter/buffer of ``fn`` (a Module) lives on a CUDA device."""
    ts = [t for t in flat_inputs(args, kwargs)]
    if hasattr(fn, "parameters"):
        ts += list(fn.parameters()) + [b for b in fn.buffers() if b is not None]
    return any(_devices.is_device_array(t._data) for t in ts)


class _Compiled:
    """The compiling callable behind ``ember.compile``: one traced, optimized graph per call signature."""

    def __init__(self, fn, dynamic=None, fullgraph=False):
        self._orig_mod = fn
        self._cache = {}
        self._fullgraph = fullgraph
        self._warned = False
        self.stats = {"traces": 0, "compiled_calls": 0, "eager_calls": 0}

    def _entry(self, args, kwargs):
        training = getattr(self._orig_mod, "training", False) is True
        key = _signature(args, kwargs, training)
        on_device = _devices.active and _uses_device(self._orig_mod, args, kwargs)
        if on_device:
            key = (key, "cuda")
        e = self._cache.get(key)
        if e is not None:
            return e, _NOT_RUN
        if on_device:                   # the replays are NumPy programs: CUDA tensors run eagerly, said once
            e = self._cache[key] = _Entry(reason="tensors on a CUDA device: the compiled replay is NumPy (CPU) "
                                                 "code, so the call runs eagerly")
            if not self._warned:
                self._warned = True
                warnings.warn(f"ember.compile: {e.reason}", stacklevel=4)
            return e, _NOT_RUN
        self.stats["traces"] += 1
        mod = self._orig_mod
        before = {}
        if hasattr(mod, "named_buffers") and training:
            before = {n: (b, b._data.copy()) for n, b in mod.named_buffers() if b is not None}
        try:
            g, out, params = trace_graph(self._orig_mod, tuple(args), kwargs)
        except TracingError as err:
            for buf, old in before.values():    # undo the partial run's buffer updates: the eager call redoes them
                if buf._data.shape == old.shape:
                    _np.copyto(buf._data, old)
            if self._fullgraph:
                raise
            e = _Entry(reason=str(err))
            out = _NOT_RUN
        else:
            if g.untraceable:
                if self._fullgraph:
                    raise TracingError(f"ember.compile(fullgraph=True): {g.untraceable}")
                e = _Entry(reason=g.untraceable)
            elif g.random_draws:
                e = _Entry(reason="the forward draws random numbers (dropout in training mode?): runs eagerly")
            elif g.autograd_calls:
                if any(x._rg for x in flat_inputs(args, kwargs)):
                    e = _Entry(reason="an input of the training step requires grad: runs eagerly")
                else:
                    e = self._training_entry(g, params)
            else:
                counters, why = _side_effects(g, mod, before)
                if why is not None:
                    e = _Entry(reason=why)
                else:
                    optimize(g)
                    e = _Entry(g, params)
                    e.counters = counters
        if e.graph is None and out is not _NOT_RUN and g.autograd_calls and not self._warned:
            self._warned = True         # a training step that will not be compiled: say so once
            warnings.warn(f"ember.compile: the training step {getattr(self._orig_mod, '__name__', '')} runs "
                          f"eagerly (not compiled): {e.reason}", stacklevel=4)
        if len(self._cache) >= _MAX_SIGNATURES:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = e
        return e, out

    def _training_entry(self, g, params):
        """A traced function that called ``backward()`` (a whole training step): replayed by a
        ``TrainingReplay`` (forward, backward, optimizer calls), or eager with the reason."""
        try:
            replay = TrainingReplay(g, params)
        except NotCompilable as err:
            if self._fullgraph:
                raise TracingError(f"ember.compile(fullgraph=True): {err}") from None
            return _Entry(reason=f"{err}: runs eagerly")
        e = _Entry(g, params)
        e.plan = replay
        return e

    def __call__(self, *args, **kwargs):
        e, first = self._entry(args, kwargs)
        if first is not _NOT_RUN:
            return first                       # the traced run's own result (computed eagerly)
        if e.graph is None:
            self.stats["eager_calls"] += 1
            return self._orig_mod(*args, **kwargs)
        inputs = args if not kwargs and all(type(a) is Tensor for a in args) else flat_inputs(args, kwargs)
        self.stats["compiled_calls"] += 1
        for buf, inc in e.counters:
            buf._data += inc
            buf._version[0] += 1
        if type(e.plan) is TrainingReplay:
            return e.plan(inputs)
        if not (_grad.enabled and (any(x._rg for x in inputs) or any(p._rg for p in e.params.values()))):
            if e.plan is None:
                e.plan = InferencePlan(e.graph, e.params)
            return e.plan(inputs)
        if e.aot is None:               # one autograd node for the whole forward, its backward compiled too
            try:
                e.aot = AotGraph(e.graph, e.params, inputs)
            except NotCompilable as err:
                e.aot = False
                e.reason = f"forward replayed op by op with autograd ({err})"
        if e.aot:
            return e.aot(inputs)
        if e.consts is None:
            e.consts = {k: Tensor._make(a) for k, a in e.graph.consts.items()}
            e.nslots = number_values(e.graph)
        return run(e.graph, inputs, e.params, e.consts, e.nslots)

    def explain(self) -> str:
        """One line per cached signature: compiled (with the node count) or eager (with the reason)."""
        lines = []
        for key, e in self._cache.items():
            if key[-1] == "cuda":           # (signature, "cuda"): see _entry
                key = key[0]
            shapes = [k[1] for k in key[0] if k and k[0] == "T"]
            what = "compiled training step (forward, backward, optimizer)" if type(e.plan) is TrainingReplay \
                else "compiled"
            lines.append(f"{shapes}: " + (f"{what}, {len(e.graph.nodes)} nodes" if e.graph is not None
                                          else f"eager ({e.reason})"))
        return "\n".join(lines)


class OptimizedModule(Module):
    """What ``ember.compile`` returns for a Module (PyTorch's ``OptimizedModule``): the original is the submodule
    ``_orig_mod`` (so ``state_dict`` keys start with ``_orig_mod.``, as in PyTorch), other attributes are read
    from it, and calling it runs the compiled graph.  ``explain()`` and ``stats`` describe the cache."""

    def __init__(self, mod, dynamic=None, fullgraph=False):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = _Compiled(mod, dynamic, fullgraph)
        self.__dict__["training"] = mod.training

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    @property
    def stats(self) -> dict:
        return self._compiled.stats

    def explain(self) -> str:
        return self._compiled.explain()


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None, options=None,
            disable: bool = False):
    """``torch.compile(model)``: returns a callable with the same results; see the module docstring.  As a
    decorator too (``@ember.compile`` or ``@ember.compile(fullgraph=True)``).  ``disable=True`` returns the model
    unchanged; ``fullgraph=True`` raises instead of falling back to eager."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if disable:
        return model
    if not callable(model):
        raise TypeError(f"ember.compile: expected a Module or a function, got {type(model).__name__}")
    if isinstance(model, Module):
        return OptimizedModule(model, dynamic=dynamic, fullgraph=fullgraph)
    core = _Compiled(model, dynamic=dynamic, fullgraph=fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return core(*args, **kwargs)
    compiled.explain = core.explain
    compiled.stats = core.stats
    compiled._orig_mod = model
    compiled._torchdynamo_orig_callable = model
    return compiled
