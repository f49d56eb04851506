"""``ember.jit.trace``: record one run of a function or module into a ``Graph`` (ember/jit/_graph.py).

Recording hooks ``Function.apply``: while a tracer is active, each op call outside another op is run as usual and
appended to the graph.  A tensor argument the tracer has not seen becomes a named parameter (if it is one of the
traced module's parameters or buffers) or a constant.  Python control flow that reads a traced tensor's values
(``bool(t)``, ``t.item()``, ``t.tolist()``) cannot be recorded and is refused with the line that did it.
"""
from __future__ import annotations

import os
import sys

import numpy as _np

from ..autograd import function as _fn
from ..tensor import Tensor
from ._graph import Graph, Node, Value, op_name

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CORE = tuple(os.path.join(_EMBER_DIR, p) for p in ("tensor.py", "autograd", "ops", "jit", "backend", "onnx",
                                                    "_compile.py", "_tensor"))     # _tensor*.py: Tensor's parts


_OPS = os.path.join(_EMBER_DIR, "ops") + os.sep


class TracingError(RuntimeError):
    """Raised when a forward cannot be captured as a static graph."""


def _user_frame():
    """(file, line) of the innermost caller outside ember's core (the code that asked for a tensor's value)."""
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_CORE):
            return fn, f.f_lineno
        f = f.f_back
    return "<unknown>", 0


class Tracer:
    def __init__(self, graph: Graph, params: dict):
        self.g = graph
        self.busy = False
        self.env: dict = {}            # id(tensor) -> (tensor, Value, version)
        self.params = params           # id(tensor) -> state_dict name
        self.param_tensors: dict = {}  # name -> tensor
        self.arrays: dict = {}         # id(t._data) -> (array, tensor) for every bound tensor
        self.dep: set = set()          # ids of the Values that depend on the inputs
        self.leaf_params = False       # outside leaves become params (tracing a function)
        self.created: set = set()      # ids of the tensors made during the run (kept alive in _made)
        self._made: list = []

    # -- values --------------------------------------------------------------------------------------------
    def bind(self, t: Tensor, v: Value) -> None:
        self.env[id(t)] = (t, v, t._version[0], t._version)
        self.arrays[id(t._data)] = (t._data, t)

    def value_of(self, t: Tensor) -> Value:
        e = self.env.get(id(t))
        if e is not None and e[0] is t:
            if e[1].kind == "opaque":
                raise TracingError(f"ember.jit.trace: {e[1].node} on a traced tensor (shape {tuple(t.shape)}, at "
                                   f"{_loc()}) is not an autograd op, so it is not recorded in the graph and the "
                                   f"replay would freeze its result; keep it out of the traced function")
            if e[3] is not t._version:      # made a view after the op returned: it now shares its base's counter
                self.bind(t, e[1])
            elif e[2] != t._version[0] and e[1].kind != "param":
                raise TracingError(f"ember.jit.trace: a tensor of shape {tuple(t.shape)} ({e[1].name}) was modified "
                                   f"in place in a way the tracer cannot follow (at {_loc()}); use the out-of-place "
                                   f"op")
            return e[1]
        g = self.g
        name = self.params.get(id(t))
        if name is None and self.leaf_params and t.grad_fn is None and (t._rg or id(t) not in self.created):
            # tracing a function: a tensor from outside the run (a parameter or buffer it closes over; batch
            # norm updates its running statistics in place) is a named input, read at every replay, not a
            # frozen copy
            name = self.params[id(t)] = f"{'leaf' if t._rg else 'ext'}{len(self.g.params)}"
        if name is not None:
            v = Value(name.replace(".", "_"), "param", t._data.shape, t._data.dtype)
            g.params[name] = v
            self.param_tensors[name] = t
        else:
            base = t._data.base if isinstance(t._data, _np.ndarray) else None
            for (o, ov, *_) in self.env.values():
                if ov.kind in ("input", "node") and base is not None and _np.may_share_memory(base, o._data):
                    raise TracingError(f"ember.jit.trace: a tensor of shape {tuple(t.shape)} is a view of the traced "
                                       f"value {ov.name} made outside the recorded ops (at {_loc()}); it cannot be "
                                       f"replayed")
            v = Value(g.fresh("_tensor_constant"), "const", t._data.shape, t._data.dtype)
            g.consts[v.name] = _np.array(t._data, copy=True)
            g.const_values[v.name] = v
        self.bind(t, v)
        return v

    def spec(self, a, top=False):
        """``a`` with every tensor replaced by its Value.  A raw array that is a traced tensor's own array,
        passed as a top-level positional argument (``Function.apply`` unwraps Tensors there, so the op sees the
        same thing), becomes that Value too; any other raw array sharing a traced tensor's memory is refused."""
        if isinstance(a, Tensor):
            return self.value_of(a)
        ta = type(a)
        if ta is tuple or ta is list:
            return ta(self.spec(x) for x in a)
        if ta is dict:
            return {k: self.spec(x) for k, x in a.items()}
        if ta is _np.ndarray:
            e = self.arrays.get(id(a))
            if e is not None and e[0] is a and top:
                return self.value_of(e[1])
            for (o, ov, *_) in list(self.env.values()):
                if ov.kind in ("input", "node") and _np.may_share_memory(a, o._data):
                    raise TracingError(f"ember.jit.trace: an op received the raw array of the traced value "
                                       f"{ov.name} in a form the graph cannot replay (at {_loc()})")
        return a

    # -- hooks called by Function.apply and Tensor -----------------------------------------------------------
    def record(self, cls, args, kwargs):
        sargs = tuple(self.spec(a, True) for a in args)
        skw = self.spec(kwargs)
        self.busy = True
        try:
            out = cls.apply(*args, **kwargs)
        finally:
            self.busy = False
        multi = type(out) is tuple
        outs = out if multi else (out,)
        g = self.g
        name = g.fresh(op_name(cls))
        node = Node(name, cls, sargs, skw, [], multi)
        dep = any(id(v) in self.dep for v in node.input_values())
        for i, o in enumerate(outs):
            v = Value(name if not multi else f"{name}_o{i}", "node", o._data.shape, o._data.dtype, node, i)
            node.outputs.append(v)
            self.bind(o, v)
            if dep:
                self.dep.add(id(v))
        g.nodes.append(node)
        return out

    def rebind(self, t: Tensor, res: Tensor) -> None:
        """``t`` was overwritten in place with ``res``'s values (Tensor._inplace)."""
        e = self.env.get(id(res))
        if e is None or e[0] is not res:
            return
        name = self.params.get(id(t))
        if name is not None:
            self.g.mutations[name] = e[1]
            self.param_tensors[name] = t
        self.bind(t, e[1])

    def made(self, t: Tensor, frame) -> None:
        """A tensor wrapped outside ``Function.apply`` (Tensor._make while tracing): the same array as a traced
        tensor (detach, a no-op view) is that value; one computed where a traced tensor was at hand (a
        comparison, argmax, ...) is marked opaque: using it later is refused; anything else is a constant."""
        e = self.arrays.get(id(t._data))
        if e is not None and e[0] is t._data:
            v = self.env.get(id(e[1]))
            if v is not None and v[0] is e[1]:
                self.bind(t, v[1])
                return
        fn = os.path.abspath(frame.f_code.co_filename)
        if frame.f_code.co_name == "_inplace" and fn.startswith(_CORE[-1]):
            # Tensor._inplace's snapshot of the old value (the op then runs on it and the tensor is rebound to
            # the op's result): it is the tensor's current value
            src = frame.f_locals.get("self")
            e = self.env.get(id(src))
            if e is not None and e[0] is src and e[1].kind != "opaque":
                self.bind(t, e[1])
                return
        if fn.startswith(_OPS) or fn == _CORE[0] or fn.startswith(_CORE[-1]):   # ops/, tensor.py, _tensor*.py
            f = frame
            for x in f.f_locals.values():
                for y in (x if type(x) in (tuple, list) else (x,)):
                    if self._traced(y):
                        v = Value(self.g.fresh("opaque"), "opaque", t._data.shape, t._data.dtype,
                                  node=f.f_locals.get("name") if isinstance(f.f_locals.get("name"), str)
                                  else f.f_code.co_name)
                        self.env[id(t)] = (t, v, t._version[0], t._version)
                        self.dep.add(id(v))
                        return

    def _traced(self, y) -> bool:
        """Whether ``y`` is a tensor (or its array) whose values depend on the traced inputs."""
        if isinstance(y, Tensor):
            e = self.env.get(id(y))
            return e is not None and e[0] is y and id(e[1]) in self.dep
        if type(y) is _np.ndarray:
            e = self.arrays.get(id(y))
            return e is not None and e[0] is y and self._traced(e[1])
        return False

    def concrete(self, t: Tensor, what: str) -> None:
        if not self._traced(t):
            return                  # a parameter, a constant, or a value computed only from them
        e = self.env.get(id(t))
        file, line = _user_frame()
        if any(c[0] in ("backward", "step") for c in self.g.autograd_calls):
            # after backward()/step() the run cannot be redone eagerly (the update would happen twice): finish
            # it, and mark the graph as not replayable
            if self.g.untraceable is None:
                self.g.untraceable = (f"{what} on a traced tensor at {file}:{line} after backward(): the step "
                                      f"returns a Python value computed from tensors; return the tensor instead")
            return
        raise TracingError(f"ember.jit.trace: {what} on a traced tensor ({e[1].name}, shape {tuple(t.shape)}) at "
                           f"{file}:{line}: Python control flow that depends on tensor values cannot be recorded "
                           f"in a static graph; compute it with tensor ops (e.g. ember.where) or keep this code "
                           f"out of the traced function")


def _loc() -> str:
    f, n = _user_frame()
    return f"{f}:{n}"


def record(fn, inputs: tuple, kwargs: dict | None = None, module=None):
    """Run ``fn(*inputs, **kwargs)`` once and return ``(graph, output, tracer)``."""
    if _fn._tracer is not None:
        raise TracingError("ember.jit.trace: tracing inside another trace is not supported")
    g = Graph()
    params = {}
    if module is not None:
        for n, p in module.named_parameters(remove_duplicate=False):
            params.setdefault(id(p), n)
        for n, b in module.named_buffers(remove_duplicate=False):
            if b is not None:
                params.setdefault(id(b), n)
    tr = Tracer(g, params)
    tr.leaf_params = module is None
    named = []
    for i, x in enumerate(inputs):
        _flat_named(f"x{i}" if len(inputs) > 1 else "x", x, named)
    for k, x in sorted((kwargs or {}).items()):      # tensor keyword arguments follow, by name
        _flat_named(k, x, named)
    for name, x in named:
        if isinstance(x, Tensor):
            if id(x) in tr.env:
                raise TracingError("ember.jit.trace: the same tensor is passed twice as an input; pass it once")
            v = Value(g.fresh(name), "input", x._data.shape, x._data.dtype)
            g.inputs.append(v)
            tr.bind(x, v)
            tr.dep.add(id(v))
    from ..ops import index as _index
    old_view = _index._basic_view
    _index._basic_view = _traced_basic_view
    from ..backend import random as _random
    rng_before = _random.default_generator.get_state()
    old_make = Tensor.__dict__["_make"]
    plain_make = old_make.__func__

    def traced_make(cls, arr):
        t = plain_make(cls, arr)
        tr.created.add(id(t))
        tr._made.append(t)
        if not tr.busy:
            tr.made(t, sys._getframe(1))
        return t
    Tensor._make = classmethod(traced_make)
    patched = _patch_autograd_calls(tr)
    _fn._tracer = tr
    try:
        out = fn(*inputs, **(kwargs or {}))
    finally:
        _fn._tracer = None
        _index._basic_view = old_view
        Tensor._make = old_make
        for owner, name, old in patched:
            setattr(owner, name, old)
    g.random_draws = _random.default_generator.get_state() != rng_before
    g.output = tr.spec(out)
    return g, out, tr


def _patch_autograd_calls(tr):
    """While tracing, ``Tensor.backward``, ``autograd.grad`` and the optimizers' ``step``/``zero_grad`` run
    as usual but unrecorded (their ops are not forward ops), and are noted in order in
    ``graph.autograd_calls`` (what ``ember.compile`` needs to replay a whole training step)."""
    from .. import autograd as _ag
    from ..optim.optimizer import Optimizer
    g = tr.g
    real_backward, real_step, real_zero = Tensor.backward, Optimizer.step, Optimizer.zero_grad
    real_grad = _ag.grad

    def quiet(fn, *a, **k):
        busy, tr.busy = tr.busy, True
        try:
            return fn(*a, **k)
        finally:
            tr.busy = busy

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        e = tr.env.get(id(self))
        v = e[1] if e is not None and e[0] is self else None
        g.autograd_calls.append(("backward", v, dict(gradient=gradient, retain_graph=retain_graph,
                                                     create_graph=create_graph, inputs=inputs), len(g.nodes)))
        return quiet(real_backward, self, gradient, retain_graph, create_graph, inputs)

    def step(self, closure=None):
        g.autograd_calls.append(("step", self, closure, len(g.nodes)))
        return quiet(real_step, self, closure)

    def zero_grad(self, set_to_none=True):
        g.autograd_calls.append(("zero_grad", self, set_to_none, len(g.nodes)))
        return quiet(real_zero, self, set_to_none)

    def grad(*a, **k):
        g.autograd_calls.append(("grad", None, None, len(g.nodes)))
        return quiet(real_grad, *a, **k)
    Tensor.backward, Optimizer.step, Optimizer.zero_grad, _ag.grad = backward, step, zero_grad, grad
    return [(Tensor, "backward", real_backward), (Optimizer, "step", real_step),
            (Optimizer, "zero_grad", real_zero), (_ag, "grad", real_grad)]


def _traced_basic_view(x, idx):
    """While tracing, basic indexing always goes through the GetItem op, so it is recorded."""
    from ..ops.index import GetItem
    out = GetItem.apply(x, idx, False)
    out._version = x._version
    return out


def _flat_named(name, x, out):
    """(name, tensor) for ``x`` and every tensor inside its tuples, lists and dicts, depth first."""
    if isinstance(x, Tensor):
        out.append((name, x))
    elif type(x) in (tuple, list):
        for j, y in enumerate(x):
            _flat_named(f"{name}_{j}", y, out)
    elif type(x) is dict:
        for k, y in x.items():
            _flat_named(f"{name}_{k}", y, out)


def flat_inputs(args, kwargs=None) -> tuple:
    """The tensors of a call in the order ``record`` makes them graph inputs."""
    named = []
    for x in args:
        _flat_named("", x, named)
    for k, x in sorted((kwargs or {}).items()):
        _flat_named(k, x, named)
    return tuple(t for _, t in named)
