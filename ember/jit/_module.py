"""Replaying a ``Graph``: ``run`` calls each node's op through ``Function.apply`` (so autograd records it and a
backward works), and ``TracedModule`` wraps a traced graph as a Module sharing the original's parameters."""
from __future__ import annotations

import numpy as _np

from ..nn.module import Module
from ..tensor import Tensor
from ._graph import Graph, Value


def _materialize(spec, env):
    t = type(spec)
    if t is Value:
        return env[spec.slot]
    if t is tuple or t is list:
        return t(_materialize(s, env) for s in spec)
    if t is dict:
        return {k: _materialize(s, env) for k, s in spec.items()}
    return spec


def number_values(g: Graph) -> int:
    """Give every Value a slot in the run's environment; returns the number of slots."""
    n = 0
    for v in g.inputs:
        v.slot, n = n, n + 1
    for v in g.params.values():
        v.slot, n = n, n + 1
    for v in g.const_values.values():
        v.slot, n = n, n + 1
    for node in g.nodes:
        for v in node.outputs:
            v.slot, n = n, n + 1
    return n


def check_inputs(g: Graph, inputs, who: str) -> None:
    if len(inputs) != len(g.inputs):
        raise TypeError(f"{who}: the graph was traced with {len(g.inputs)} tensor input(s), got {len(inputs)}")
    for v, x in zip(g.inputs, inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{who}: input {v.name} must be a Tensor, got {type(x).__name__}")
        if x._data.dtype != v.dtype or tuple(x._data.shape) != v.shape:
            raise ValueError(f"{who}: input {v.name} was traced with shape {v.shape} and dtype {v.dtype}, got "
                             f"{tuple(x.shape)} {x._data.dtype}; trace again for this shape (ember.compile does so "
                             f"by itself)")


def run(g: Graph, inputs, param_tensors: dict, const_tensors: dict, nslots: int):
    """Execute the graph through ``Function.apply`` (recording autograd when grad mode asks for it)."""
    env = [None] * nslots
    for v, x in zip(g.inputs, inputs):
        env[v.slot] = x
    for name, v in g.params.items():
        env[v.slot] = param_tensors[name]
    for name, v in g.const_values.items():
        env[v.slot] = const_tensors[name]
    for node in g.nodes:
        out = node.op.apply(*_materialize(node.args, env), **_materialize(node.kwargs, env))
        if node.multi:
            for v, o in zip(node.outputs, out):
                env[v.slot] = o
        else:
            env[node.outputs[0].slot] = out
    if g.mutations:
        from ..autograd.grad_mode import no_grad
        with no_grad():
            for name, v in g.mutations.items():
                t = param_tensors[name]
                _np.copyto(t._data, env[v.slot]._data)
                t._version[0] += 1
    return _materialize(g.output, env)


class TracedModule(Module):
    """What ``ember.jit.trace`` returns for a Module: calling it replays the recorded graph (``.graph``;
    ``.code`` is its text).  It shares the traced module's parameters, buffers and submodules (same names, same
    tensors), so an optimizer over ``traced.parameters()`` trains the original."""

    def __init__(self, module, graph: Graph, param_tensors: dict, name: str = "TracedModule"):
        super().__init__()
        d = self.__dict__
        if module is not None:
            d["_parameters"] = module._parameters
            d["_buffers"] = module._buffers
            d["_modules"] = module._modules
            d["training"] = module.training
        d["graph"] = graph
        d["_param_tensors"] = param_tensors
        d["_consts"] = {k: Tensor._make(a) for k, a in graph.consts.items()}
        d["_nslots"] = number_values(graph)
        d["_orig"] = module
        d["_name"] = name

    @property
    def code(self) -> str:
        return str(self.graph)

    def forward(self, *inputs):
        from ._trace import flat_inputs
        inputs = flat_inputs(inputs)
        check_inputs(self.graph, inputs, self._name)
        for buf, inc in self.__dict__.get("_counters", ()):     # BatchNorm's num_batches_tracked
            buf._data += inc
            buf._version[0] += 1
        return run(self.graph, inputs, self._param_tensors, self._consts, self._nslots)

    def print_tabular(self) -> None:
        self.graph.print_tabular()

    def extra_repr(self) -> str:
        return f"graph with {len(self.graph.nodes)} nodes"


class TracedFunction:
    """What ``ember.jit.trace`` returns for a plain function."""

    def __init__(self, fn, graph: Graph, param_tensors: dict):
        self.fn, self.graph = fn, graph
        self.__name__ = getattr(fn, "__name__", "traced")
        self._params = param_tensors
        self._consts = {k: Tensor._make(a) for k, a in graph.consts.items()}
        self._nslots = number_values(graph)

    @property
    def code(self) -> str:
        return str(self.graph)

    def __call__(self, *inputs):
        from ._trace import flat_inputs
        inputs = flat_inputs(inputs)
        check_inputs(self.graph, inputs, f"traced {self.__name__}")
        return run(self.graph, inputs, self._params, self._consts, self._nslots)

    def print_tabular(self) -> None:
        self.graph.print_tabular()
