"""The static-graph IR that ``ember.jit.trace`` records (see docs/design.md, "Static graphs").

A ``Graph`` is a list of ``Node``s in execution order.  Each node calls one op (an ember ``Function`` subclass,
the unit ``Function.apply`` dispatches) on ``Value``s and Python constants; a ``Value`` is one tensor: a graph
input, a named parameter or buffer of the traced module, a constant (a tensor the forward created, or one the
tracer did not see being computed from inputs), or an output of a node.  Every value carries the shape and dtype
it had in the traced run.
"""
from __future__ import annotations

import numpy as _np


class Value:
    """One tensor in the graph.  ``kind``: ``"input"``, ``"param"`` (a parameter or buffer, by its state_dict
    name), ``"const"`` (its array is in ``Graph.consts``) or ``"node"`` (``node.outputs[index]``)."""
    __slots__ = ("name", "kind", "shape", "dtype", "node", "index", "slot")

    def __init__(self, name, kind, shape, dtype, node=None, index=0):
        self.name, self.kind, self.shape, self.dtype = name, kind, tuple(shape), _np.dtype(dtype)
        self.node, self.index, self.slot = node, index, -1

    def __repr__(self) -> str:
        return f"%{self.name}"


class Node:
    """One op call: ``op.apply(*args, **kwargs)`` with each ``Value`` in ``args``/``kwargs`` (also inside lists and
    tuples) replaced by its tensor.  ``outputs``: the Values it produced (several for multi-output ops)."""
    __slots__ = ("name", "op", "args", "kwargs", "outputs", "multi", "meta")

    def __init__(self, name, op, args, kwargs, outputs, multi):
        self.name, self.op, self.args, self.kwargs = name, op, args, kwargs
        self.outputs, self.multi, self.meta = outputs, multi, {}

    @property
    def target(self) -> str:
        return op_name(self.op)

    def input_values(self):
        out = []
        _collect(self.args, out)
        _collect(self.kwargs, out)
        return out

    def __repr__(self) -> str:
        kw = ", " + _fmt(self.kwargs)[1:-1] if self.kwargs else ""
        return f"{self.name} = {self.target}({_fmt(self.args)}{kw})"


def op_name(op) -> str:
    return op.__name__.lstrip("_").lower() if isinstance(op, type) else str(getattr(op, "__name__", op))


def _collect(spec, out):
    if type(spec) is Value:
        out.append(spec)
    elif type(spec) in (tuple, list):
        for s in spec:
            _collect(s, out)
    elif type(spec) is dict:
        for s in spec.values():
            _collect(s, out)


def _fmt(spec) -> str:
    if type(spec) is tuple:
        return "(" + ", ".join(_fmt(s) for s in spec) + ("," if len(spec) == 1 else "") + ")"
    if type(spec) is list:
        return "[" + ", ".join(_fmt(s) for s in spec) + "]"
    if type(spec) is dict:
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in spec.items()) + "}"
    if type(spec) is Value:
        return spec.name
    if isinstance(spec, _np.ndarray):
        return f"array{tuple(spec.shape)}"
    return repr(spec)


class Graph:
    """The recorded program: ``inputs`` (Values, in call order), ``params`` (state_dict name -> Value),
    ``consts`` (Value name -> array), ``nodes`` (execution order), ``output`` (the forward's return value with
    Values in place of tensors) and ``mutations`` (parameter/buffer name -> the Value written into it in place,
    e.g. batch norm's running statistics in training mode)."""

    def __init__(self):
        self.inputs: list = []
        self.params: dict = {}
        self.consts: dict = {}
        self.const_values: dict = {}
        self.nodes: list = []
        self.output = None
        self.mutations: dict = {}
        self.random_draws = False      # the traced run drew random numbers (dropout in training mode, randn)
        # calls the trace ran but did not record as ops, in order, each with the node count at that time:
        # ("zero_grad", optimizer, set_to_none, n), ("backward", loss Value or None, kwargs, n),
        # ("step", optimizer, closure, n), ("grad", None, None, n) (autograd.grad)
        self.autograd_calls: list = []
        self.untraceable = None        # why the run cannot be replayed, found after backward() (no re-run then)
        self._names: dict = {}

    def fresh(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def output_values(self):
        out = []
        _collect(self.output, out)
        out.extend(self.mutations.values())
        return out

    # -- printing ------------------------------------------------------------------------------------------
    def rows(self):
        """torch.fx's table rows (opcode, name, target, args, kwargs), with each row's output shape and dtype."""
        rows = []
        for v in self.inputs:
            rows.append(("placeholder", v.name, v.name, "()", "{}", v.shape, v.dtype))
        for name, v in self.params.items():
            rows.append(("get_attr", v.name, name, "()", "{}", v.shape, v.dtype))
        for v in self.const_values.values():
            rows.append(("get_attr", v.name, "<constant>", "()", "{}", v.shape, v.dtype))
        for n in self.nodes:
            o = n.outputs[0] if len(n.outputs) == 1 else None
            shape = o.shape if o is not None else tuple(v.shape for v in n.outputs)
            dtype = o.dtype if o is not None else "/".join(str(v.dtype) for v in n.outputs)
            rows.append(("call_function", n.name, n.target, _fmt(tuple(n.args)), _fmt(n.kwargs), shape, dtype))
        mut = ", ".join(f"{k} <- {v.name}" for k, v in self.mutations.items())
        rows.append(("output", "output", "output", "(" + _fmt(self.output) + ",)", "{" + mut + "}" if mut else "{}", "", ""))
        return rows

    def tabular(self) -> str:
        head = ("opcode", "name", "target", "args", "kwargs", "shape", "dtype")
        rows = [tuple(str(c) for c in r) for r in self.rows()]
        w = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
        line = lambda r: "  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip()  # noqa: E731
        return "\n".join([line(head), line(tuple("-" * x for x in w))] + [line(r) for r in rows])

    def print_tabular(self) -> None:
        """Print the graph as a table (torch.fx's ``Graph.print_tabular`` columns, plus shape and dtype)."""
        print(self.tabular())

    def to_dot(self) -> str:
        """The graph in Graphviz's DOT language (inputs and parameters as boxes, ops as ellipses, edges labelled
        with shapes); render with ``dot -Tsvg``."""
        lines = ["digraph G {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
        q = lambda s: '"' + str(s).replace('"', "'") + '"'  # noqa: E731
        box = "shape=box, style=filled, fillcolor"
        for v in self.inputs:
            lines.append(f"  {q(v.name)} [{box}=lightblue, label={q(v.name + chr(10) + str(list(v.shape)))}];")
        for k, v in self.params.items():
            lines.append(f"  {q(v.name)} [{box}=lightgrey, label={q(k + chr(10) + str(list(v.shape)))}];")
        for v in self.const_values.values():
            lines.append(f"  {q(v.name)} [shape=box, label={q('constant' + chr(10) + str(list(v.shape)))}];")
        for n in self.nodes:
            lines.append(f"  {q(n.name)} [label={q(n.target)}];")
            for v in n.input_values():
                src = v.node.name if v.kind == "node" else v.name
                lines.append(f"  {q(src)} -> {q(n.name)} [label={q(list(v.shape))}];")
        outs = []
        _collect(self.output, outs)
        for i, v in enumerate(outs):
            lines.append(f"  {q('output_' + str(i))} [shape=box, style=filled, fillcolor=lightyellow];")
            lines.append(f"  {q(v.node.name if v.kind == 'node' else v.name)} -> {q('output_' + str(i))};")
        lines.append("}")
        return "\n".join(lines)

    def __str__(self) -> str:
        ins = ", ".join(f"{v.name}: {v.dtype}{list(v.shape)}" for v in self.inputs)
        lines = [f"graph({ins}):"]
        for n in self.nodes:
            outs = ", ".join(f"{v.name}: {v.dtype}{list(v.shape)}" for v in n.outputs)
            lines.append(f"    {outs} = {n.target}({_fmt(tuple(n.args))[1:-1].rstrip(',')}"
                         f"{', ' + _fmt(n.kwargs)[1:-1] if n.kwargs else ''})")
        lines.append(f"    return {_fmt(self.output)}")
        return "\n".join(lines)

    __repr__ = __str__
