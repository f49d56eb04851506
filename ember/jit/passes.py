"""Passes over a traced ``Graph`` and the inference plan that ``ember.compile`` runs.

``eliminate_dead_code``, ``fold_constants`` and ``eliminate_common_subexpressions`` rewrite the graph (each
returns the number of nodes it removed).  ``InferencePlan`` turns a graph into a list of steps on raw arrays:
each op's ``forward`` is called directly (no ``Function.apply``, no Tensor wrapping), chains of elementwise ops
(add, sub, mul, div, neg, relu) run as one step writing in place into one preallocated buffer, and every
intermediate is dropped after its last use (its memory goes back to the allocator for the next step to reuse).
"""
from __future__ import annotations

import numpy as _np

from ..ops import _bound
from ..ops._small_gemm import gemm as _gemm
from ..tensor import Tensor
from ._graph import Graph, Node, Value, _collect

# ops whose result is not a function of their inputs alone: never folded or merged
_IMPURE = ("dropout", "random", "bernoulli", "multinomial", "normal", "uniform", "rrelu", "alphadropout",
           "featurealphadropout")


def _nested_values(args) -> bool:
    """Whether a Value sits inside a tuple, list or dict of ``args`` (then the call needs ``_materialize``;
    constant tuples such as a convolution's strides do not)."""
    for a in args:
        if type(a) in (tuple, list, dict):
            found = []
            _collect(a, found)
            if found:
                return True
    return False


def _pure(node: Node) -> bool:
    name = node.op.__name__.lower()
    if any(k in name for k in _IMPURE):
        return False
    return not any(isinstance(v, (tuple, list)) and any(isinstance(x, _np.ndarray) for x in v)
                   for v in node.kwargs.values()) and not node.kwargs.get("running")


def _uses(g: Graph) -> dict:
    n = {}
    for node in g.nodes:
        for v in node.input_values():
            n[id(v)] = n.get(id(v), 0) + 1
    for v in g.output_values():
        n[id(v)] = n.get(id(v), 0) + 1
    return n


def eliminate_dead_code(g: Graph) -> int:
    """Drop nodes none of whose outputs reach the graph's outputs (or a parameter written in place)."""
    live = {id(v) for v in g.output_values()}
    keep = []
    for node in reversed(g.nodes):
        if any(id(v) in live for v in node.outputs):
            keep.append(node)
            live.update(id(v) for v in node.input_values())
    removed = len(g.nodes) - len(keep)
    g.nodes = keep[::-1]
    for name in [k for k, v in g.const_values.items() if id(v) not in live]:
        del g.const_values[name], g.consts[name]
    for name in [k for k, v in g.params.items() if id(v) not in live and k not in g.mutations]:
        del g.params[name]
    return removed


def _replace(g: Graph, mapping: dict) -> None:
    def sub(spec):
        t = type(spec)
        if t is Value:
            return mapping.get(id(spec), spec)
        if t is tuple or t is list:
            return t(sub(s) for s in spec)
        if t is dict:
            return {k: sub(s) for k, s in spec.items()}
        return spec
    for node in g.nodes:
        node.args = sub(node.args)
        node.kwargs = sub(node.kwargs)
    g.output = sub(g.output)
    g.mutations = {k: sub(v) for k, v in g.mutations.items()}


def fold_constants(g: Graph) -> int:
    """Evaluate nodes whose tensor inputs are all constants (a mask built in the forward, a transposed
    constant) once, turning their outputs into constants."""
    from ._module import _materialize
    mapping, keep, folded = {}, [], 0
    consts = {id(v): Tensor._make(g.consts[v.name]) for v in g.const_values.values()}
    for node in g.nodes:
        ins = node.input_values()
        if ins and _pure(node) and all(id(mapping.get(id(v), v)) in consts for v in ins):
            env = {}
            for v in ins:
                c = mapping.get(id(v), v)
                env[c.slot] = consts[id(c)]
            from ..autograd.grad_mode import no_grad
            saved = [(v, v.slot) for v in ins]
            for i, v in enumerate(ins):
                v.slot = i
            envl = [consts[id(mapping.get(id(v), v))] for v in ins]
            with no_grad():
                out = node.op.apply(*_materialize(node.args, envl), **_materialize(node.kwargs, envl))
            for v, s in saved:
                v.slot = s
            outs = out if node.multi else (out,)
            for v, o in zip(node.outputs, outs):
                c = Value(g.fresh("_folded_constant"), "const", o._data.shape, o._data.dtype)
                g.consts[c.name] = _np.array(o._data, copy=True)
                g.const_values[c.name] = c
                consts[id(c)] = Tensor._make(g.consts[c.name])
                mapping[id(v)] = c
            folded += 1
        else:
            keep.append(node)
    g.nodes = keep
    _replace(g, mapping)
    if folded:
        eliminate_dead_code(g)
    return folded


def _key(spec):
    t = type(spec)
    if t is Value:
        return ("%", id(spec))
    if t is tuple or t is list:
        return (t.__name__,) + tuple(_key(s) for s in spec)
    if t is dict:
        return ("dict",) + tuple((k, _key(s)) for k, s in sorted(spec.items()))
    if isinstance(spec, _np.ndarray):
        return ("arr", spec.dtype.str, spec.shape, spec.tobytes())
    hash(spec)
    return (type(spec).__name__, spec)


def eliminate_common_subexpressions(g: Graph) -> int:
    """Merge nodes that call the same pure op on the same values and arguments."""
    seen, mapping, keep = {}, {}, []
    for node in g.nodes:
        _replace_node(node, mapping)
        try:
            k = (node.op, _key(node.args), _key(node.kwargs)) if _pure(node) else None
        except TypeError:
            k = None
        if k is not None and k in seen:
            for a, b in zip(node.outputs, seen[k].outputs):
                mapping[id(a)] = b
            continue
        if k is not None:
            seen[k] = node
        keep.append(node)
    removed = len(g.nodes) - len(keep)
    g.nodes = keep
    _replace(g, mapping)
    return removed


def _replace_node(node, mapping):
    if not mapping:
        return
    tmp = Graph()
    tmp.nodes = [node]
    tmp.output = None
    _replace(tmp, mapping)


def optimize(g: Graph) -> dict:
    """Run the graph passes in order; returns how many nodes each removed."""
    return {"dce": eliminate_dead_code(g), "constant_folding": fold_constants(g),
            "cse": eliminate_common_subexpressions(g), "dce_after": eliminate_dead_code(g)}


# -- the inference plan ----------------------------------------------------------------------------------------
_UFUNCS = {"Add": _np.add, "Sub": _np.subtract, "Mul": _np.multiply, "Div": _np.true_divide}
_UNARY = {"Neg": _np.negative}
_FUSIBLE = set(_UFUNCS) | set(_UNARY) | {"Relu"}


def _elementwise(node: Node) -> bool:
    if node.op.__name__ not in _FUSIBLE or node.kwargs or node.multi:
        return False
    out = node.outputs[0]
    if out.dtype.kind != "f":
        return False
    for a in node.args:
        if type(a) is Value:
            if a.dtype != out.dtype or _np.broadcast_shapes(a.shape, out.shape) != out.shape:
                return False
        elif not isinstance(a, (int, float)) or isinstance(a, bool):
            return False
    return True


class InferencePlan:
    """A graph compiled into steps on raw arrays, for calls without autograd (``no_grad`` or no input and no
    parameter requiring grad).  ``fused``: how many elementwise chains were fused, ``nodes`` the node count."""

    def __init__(self, g: Graph, param_tensors: dict):
        from ._module import number_values
        self.g = g
        self.nslots = number_values(g)
        self.params = [(v.slot, param_tensors[name]) for name, v in g.params.items()]
        self.consts = [(v.slot, g.consts[name]) for name, v in g.const_values.items()]
        self.inputs = [v.slot for v in g.inputs]
        uses = _uses(g)
        outs = {id(v) for v in g.output_values()}
        steps, self.fused, i = [], 0, 0
        nodes = g.nodes
        last_use = {}
        while i < len(nodes):
            node = nodes[i]
            chain = [node]
            if _elementwise(node):
                while (i + 1 < len(nodes) and _elementwise(nodes[i + 1]) and uses.get(id(chain[-1].outputs[0])) == 1
                       and id(chain[-1].outputs[0]) not in outs
                       and chain[-1].outputs[0] in nodes[i + 1].args
                       and nodes[i + 1].outputs[0].shape == chain[-1].outputs[0].shape):
                    i += 1
                    chain.append(nodes[i])
            if len(chain) > 1:
                steps.append(self._fused_step(chain))
                self.fused += 1
            elif (node.op.__name__ == "Relu" and steps and getattr(steps[-1], "fresh", None) is node.args[0]
                  and uses.get(id(node.args[0])) == 1 and id(node.args[0]) not in outs and not node.kwargs):
                steps.append(self._relu_inplace(node))      # on the linear's own new result, no allocation
            else:
                steps.append(self._op_step(node))
            for n in chain:
                for v in n.input_values():
                    last_use[v.slot] = len(steps) - 1
            i += 1
        self.bufs = [st.buf for st in steps if hasattr(st, "buf")]
        self.out_slots = sorted({v.slot for v in g.output_values()}) if self.bufs else []
        keep = {v.slot for v in g.output_values()} | {s for s, _ in self.params} | {s for s, _ in self.consts}
        self.free = [[] for _ in steps]
        for slot, k in last_use.items():
            if slot not in keep and slot not in self.inputs:
                self.free[k].append(slot)
        self.steps = steps
        self.run_list = [(st, tuple(f)) for st, f in zip(steps, self.free)]

    @staticmethod
    def _op_step(node: Node):
        from ._module import _materialize
        op, args, kwargs, multi = node.op, node.args, node.kwargs, node.multi
        slots = [v.slot for v in node.outputs]
        name = op.__name__
        if not op._raw_forward:            # a user autograd.Function: its forward takes Tensors
            def user(env):
                wrap = [Tensor._make(a) if type(a) is _np.ndarray else a for a in env]
                out = op.apply(*_materialize(args, wrap), **_materialize(kwargs, wrap))
                for s, o in zip(slots, out if multi else (out,)):
                    env[s] = o._data
            return user
        # kernels needing no context: the same NumPy call as the op's forward, without building a ctx
        if name == "Relu" and type(args[0]) is Value and not kwargs:
            src, dst = args[0].slot, slots[0]

            def relu(env):
                env[dst] = _bound.maximum(0, env[src])
            return relu
        if (name == "Linear" and not kwargs and len(args) in (2, 3) and all(type(a) is Value for a in args)
                and len(args[0].shape) == 2 and len(args[1].shape) == 2
                and (len(args) == 2 or args[2].shape == (args[1].shape[0],))):
            xs, ws, dst = args[0].slot, args[1].slot, slots[0]
            bs = args[2].slot if len(args) == 3 else None

            def linear(env):            # Linear.forward on a 2-D input, without its ctx
                out = _gemm(env[xs], env[ws].T)
                if bs is not None:
                    out += env[bs]
                env[dst] = out
            linear.fresh = node.outputs[0]
            return linear
        if (name == "_MaxPool2d" and not kwargs and type(args[0]) is Value and len(args[0].shape) == 4
                and tuple(args[1]) == (2, 2) and tuple(args[2]) == (2, 2) and tuple(args[3]) == (0, 0)
                and tuple(args[4]) == (1, 1) and not args[5] and not args[6] and args[0].dtype.kind == "f"):
            src, dst = args[0].slot, slots[0]
            oh, ow = node.outputs[0].shape[2:]

            def maxpool2(env):          # _MaxPool2d.forward's values without the arg-max (no backward here)
                x = env[src]
                out = _np.maximum(x[:, :, 0:2 * oh:2, 0:2 * ow:2], x[:, :, 0:2 * oh:2, 1:2 * ow:2])
                env[dst] = _np.maximum(out, _np.maximum(x[:, :, 1:2 * oh:2, 0:2 * ow:2],
                                                        x[:, :, 1:2 * oh:2, 1:2 * ow:2]), out=out)
            maxpool2.fresh = node.outputs[0]
            return maxpool2
        if (name == "_Conv2d" and not kwargs and len(args) == 7 and type(args[0]) is Value
                and type(args[1]) is Value and (args[2] is None or type(args[2]) is Value) and args[6] == 1
                and len(args[0].shape) == 4 and args[0].shape[0] == 1 and args[0].dtype.kind == "f"):
            return InferencePlan._conv1(node)
        if name == "Reshape" and type(args[0]) is Value and not kwargs:
            src, dst, shape = args[0].slot, slots[0], args[1]

            def reshape(env):
                env[dst] = env[src].reshape(shape)
            return reshape
        nin = len(node.args)
        no_grads = (False,) * nin
        simple = not _nested_values(args) and not kwargs
        arg_slots = [(j, a.slot) for j, a in enumerate(args) if type(a) is Value]
        forward = op.forward

        def step(env):
            ctx = op.__new__(op)
            ctx._saved = ()
            ctx._freed = False
            ctx.needs_input_grad = no_grads
            if simple:
                raw = list(args)
                for j, s in arg_slots:
                    raw[j] = env[s]
            else:
                raw = _materialize(args, env)
            out = forward(ctx, *raw, **(_materialize(kwargs, env) if kwargs else {}))
            if multi:
                for s, o in zip(slots, out):
                    env[s] = _np.asarray(o)
            else:
                env[slots[0]] = out if type(out) is _np.ndarray else _np.asarray(out)
        return step

    @staticmethod
    def _conv1(node):
        """A convolution of ONE image: im2col of the image and one GEMM whose (O, OH*OW) result already is the
        NCHW output, plus the bias; no ctx, no column buffer kept."""
        from ..ops.conv import _as_strided, _pad2d
        x, w, b, stride, pads, dil, _ = node.args
        xs, ws, bs, dst = x.slot, w.slot, (b.slot if b is not None else None), node.outputs[0].slot
        _, o, oh, ow = node.outputs[0].shape
        c = x.shape[1]
        kh, kw = w.shape[2:]

        def conv1(env):
            xp_ = _pad2d(env[xs], pads)
            sc, sh, sw = xp_.strides[1:]
            cols = _np.ascontiguousarray(_as_strided(
                xp_, (c, kh, kw, oh, ow), (sc, sh * dil[0], sw * dil[1], sh * stride[0], sw * stride[1]),
                writeable=False)).reshape(c * kh * kw, oh * ow)
            y = env[ws].reshape(o, -1) @ cols
            if bs is not None:
                y += env[bs][:, None]
            env[dst] = y.reshape(1, o, oh, ow)
        conv1.fresh = node.outputs[0]
        return conv1

    @staticmethod
    def _relu_inplace(node):
        src, dst = node.args[0].slot, node.outputs[0].slot

        def relu(env):
            a = env[src]
            env[dst] = _bound.maximum(0, a, out=a)
        return relu

    @staticmethod
    def _fused_step(chain):
        out = chain[-1].outputs[0]
        shape, dtype = out.shape, out.dtype
        buf = [None]
        prog = []
        for k, node in enumerate(chain):
            name = node.op.__name__
            prev = chain[k - 1].outputs[0] if k else None
            ins = [("buf",) if (prev is not None and a is prev) else (("slot", a.slot) if type(a) is Value else
                                                                     ("const", a)) for a in node.args]
            prog.append((name, ins))

        def step(env):
            b = buf[0]
            if b is None:
                b = buf[0] = _np.empty(shape, dtype)
            for name, ins in prog:
                vals = [b if i[0] == "buf" else (env[i[1]] if i[0] == "slot" else i[1]) for i in ins]
                if name == "Relu":
                    _np.maximum(vals[0], 0, out=b)
                elif name in _UFUNCS:
                    _UFUNCS[name](vals[0], vals[1], out=b)
                else:
                    _UNARY[name](vals[0], out=b)
            # the buffer is reused by the next call: hand out a copy only if it escapes as an output
            env[out.slot] = b
        step.out_slot = out.slot
        step.buf = buf
        return step

    def __call__(self, inputs):
        env = [None] * self.nslots
        for s, x in zip(self.inputs, inputs):
            env[s] = x._data
        for s, t in self.params:
            env[s] = t._data
        for s, a in self.consts:
            env[s] = a
        for step, free in self.run_list:
            step(env)
            if free:
                for s in free:
                    env[s] = None
        for s in self.out_slots:    # a fused buffer is reused next call: outputs (or views) must not alias it
            a = env[s]
            while a.base is not None:
                a = a.base
            if any(a is b[0] for b in self.bufs):
                env[s] = env[s].copy()
        if self.g.mutations:
            for name, v in self.g.mutations.items():
                t = dict(self.params_by_name())[name]
                _np.copyto(t._data, env[v.slot])
                t._version[0] += 1
        out = self.g.output
        if type(out) is Value:          # the common single-tensor result
            return Tensor._make(env[out.slot])
        return _wrap_out(out, env)

    def params_by_name(self):
        return [(name, t) for (name, v), (_, t) in zip(self.g.params.items(), self.params)]


def _wrap_out(spec, env):
    t = type(spec)
    if t is Value:
        return Tensor._make(env[spec.slot])
    if t is tuple or t is list:
        return t(_wrap_out(s, env) for s in spec)
    if t is dict:
        return {k: _wrap_out(s, env) for k, s in spec.items()}
    return spec
