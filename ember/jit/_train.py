"""Compiled training steps: a traced forward + loss graph, its backward derived node by node, and the optimizer
update, replayed as one flat list of NumPy calls (no ``Function.apply``, no autograd graph, no engine).

``TrainingPlan(graph, param_tensors)`` is built from a graph whose output is the scalar loss.  Each node gets a
forward step and, when its output depends on a parameter that requires grad, a backward step:

* hand-written kernels on raw arrays for the ops that dominate small models (``Linear``, ``Relu``, ``Reshape``,
  ``GetItem``-free flattening), each the same NumPy arithmetic as the op's own forward/backward, so the results
  equal eager ember's;
* every other op runs its own ``forward(ctx, ...)`` on arrays (a bare ctx, no graph node) and its own
  ``backward(ctx, grad)`` with grad mode off, as the engine would call it.

Gradients are summed back to each input's shape (the engine's broadcasting rule) and accumulated per value; a
forward intermediate is dropped once no later forward or backward step reads it.  ``run(inputs)`` returns the loss
array and the gradient of every parameter that requires grad, by name.  Optimizer updates are in
``ember/jit/_optim.py``.
"""
from __future__ import annotations

import numpy as _np

from ..autograd.grad_mode import state as _grad
from ..ops import _bound
from ..ops._fastsum import col_sums
from ..ops._small_gemm import gemm as _gemm
from ..tensor import Tensor
from ._conv_block import ConvBlock, find_blocks
from ._graph import Graph, Node, Value
from ._module import _materialize, number_values
from .passes import _nested_values


class NotCompilable(Exception):
    """The graph holds something the training plan cannot replay (the message says what)."""


def _sum_to(a, shape, dtype):
    """The engine's rule: sum a gradient back to its input's shape (undo broadcasting), cast to its dtype."""
    if a.shape != shape:
        lead = a.ndim - len(shape)
        if lead < 0:
            a = a.reshape(shape)
        else:
            axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and a.shape[i + lead] != 1)
            if axes:
                a = a.sum(axes, keepdims=any(s == 1 for s in shape))
            if a.shape != shape:
                a = a.reshape(shape)
    if a.dtype != dtype:
        a = a.astype(dtype)
    return a


def _as_tensors(spec, env, tensors):
    """``spec`` with each Value replaced by a Tensor: the parameter or buffer itself (an op may update it in
    place, as batch norm's running statistics), else the value's array wrapped."""
    t = type(spec)
    if t is Value:
        x = tensors.get(spec.slot)
        return x if x is not None else Tensor._make(env[spec.slot])
    if t is tuple or t is list:
        return t(_as_tensors(x, env, tensors) for x in spec)
    if t is dict:
        return {k: _as_tensors(x, env, tensors) for k, x in spec.items()}
    return spec


# -- hand-written kernels: (forward, backward) pairs on raw arrays ---------------------------------------------
# A forward kernel gets the input arrays and returns (output, saved); the backward gets (g, saved, need) and
# returns one gradient per positional input (None where not needed).

def _linear_fwd(x, w, b=None):
    k = x.shape[-1]
    lead = x.shape[:-1]
    x2 = x.reshape(-1, k) if x.ndim != 2 else x
    out = _gemm(x2, w.T)
    if x.ndim != 2:
        out = out.reshape(lead + (w.shape[0],))
    if b is not None:
        out += b
    return out, (x2, w, x.shape)


def _linear_bwd(g, saved, need):
    x2, w, xshape = saved
    g2 = g.reshape(x2.shape[0], w.shape[0]) if g.ndim != 2 else g
    gx = _gemm(g2, w).reshape(xshape) if need[0] else None
    gw = _gemm(g2.T, x2) if need[1] else None
    gb = col_sums(g2) if len(need) > 2 and need[2] else None
    return gx, gw, gb


def _relu_fwd(x):
    out = _bound.maximum(0, x)      # (-0.0 kept, as relu)
    return out, out


def _relu_bwd(g, out, need):
    # PyTorch's threshold_backward (zero where out <= 0, so a NaN passes its gradient), as ember's Relu
    return (g * (~(out <= 0)).astype(g.dtype),)


def _reshape_fwd(x, shape):
    return x.reshape(shape), x.shape


def _reshape_bwd(g, shape, need):
    return g.reshape(shape), None


def _linear_ok(node):
    a = node.args
    return (not node.kwargs and len(a) in (2, 3) and all(type(v) is Value for v in a)
            and len(a[1].shape) == 2 and (len(a) == 2 or a[2].shape == (a[1].shape[0],)))


KERNELS = {
    "Linear": (_linear_fwd, _linear_bwd, _linear_ok),
    "Relu": (_relu_fwd, _relu_bwd, lambda n: len(n.args) == 1 and not n.kwargs and type(n.args[0]) is Value),
    "Reshape": (_reshape_fwd, _reshape_bwd, lambda n: len(n.args) == 2 and not n.kwargs and type(n.args[0]) is Value),
}


class TrainingPlan:
    """The forward, loss and backward of a traced graph as flat lists of steps on arrays (see the module
    docstring).  ``wrt``: the parameter names whose gradients ``run`` returns."""

    def __init__(self, g: Graph, param_tensors: dict, loss: Value | None = None, outputs=None, grad_inputs=(),
                 all_params: bool = False):
        if outputs is None:
            loss = g.output if loss is None else loss
            if (type(loss) is not Value or loss.kind != "node" or loss.dtype.kind != "f"
                    or _np.prod(loss.shape) != 1):
                raise NotCompilable("the loss must be one floating-point scalar tensor computed by the graph")
            outputs = [loss]
        else:
            loss = None
        if g.random_draws:
            raise NotCompilable("the forward draws random numbers (dropout in training mode?)")
        self.g = g
        self.nslots = number_values(g)
        self.param_tensors = param_tensors
        self.params = [(v.slot, param_tensors[name]) for name, v in g.params.items()]
        self.consts = [(v.slot, g.consts[name]) for name, v in g.const_values.items()]
        self.inputs = [v.slot for v in g.inputs]
        self.tensors = {v.slot: param_tensors[name] for name, v in g.params.items()}
        self.wrt = [(name, v.slot) for name, v in g.params.items()
                    if (all_params or param_tensors[name]._rg) and param_tensors[name]._data.dtype.kind in "fc"]
        self.wrt_ids = {id(param_tensors[name]) for name, _ in self.wrt}
        self.grad_inputs = [g.inputs[i].slot for i in grad_inputs]
        need = {s for _, s in self.wrt} | set(self.grad_inputs)
        for node in g.nodes:
            if any(v.slot in need for v in node.input_values()):
                need.update(v.slot for v in node.outputs if v.dtype.kind in "fc")
        self.seed_slots = [v.slot for v in outputs]
        if not any(s in need for s in self.seed_slots):
            raise NotCompilable("the result does not depend on any parameter or input that requires grad")
        self.loss_slot = loss.slot if loss is not None else None
        self.out_slots = {v.slot for v in g.output_values()} | set(self.seed_slots)
        self.fwd, self.bwd = [], []
        from .passes import _uses
        outs_ids = {id(v) for v in g.output_values()}
        blocks = find_blocks(g.nodes, _uses(g), outs_ids)
        self.blocks = len(blocks)
        # a block hands CHWN memory (as an NCHW view) only to other blocks; any other consumer (batch norm's
        # reductions, ...) gets contiguous NCHW, as from the eager op, so its sums run in eager's order
        block_x = {id(c[0].args[0]) for c in blocks.values()}
        block_out = {id(c[-1].outputs[0]) for c in blocks.values()}
        readers = {}
        for node in g.nodes:
            for v in node.input_values():
                readers.setdefault(id(v), []).append(node)
        self._layout = {}
        for c in blocks.values():
            o = c[-1].outputs[0]
            to_blocks = id(o) not in outs_ids and all(
                n.op.__name__ == "_Conv2d" and n.args[0] is o and id(o) in block_x and
                any(c2[0] is n for c2 in blocks.values()) and not any(v is o for v in n.input_values()[1:])
                for n in readers.get(id(o), ()))
            self._layout[id(c[0])] = (not to_blocks, id(c[0].args[0]) not in block_out)
        k = 0
        while k < len(g.nodes):
            node = g.nodes[k]
            if not node.op._raw_forward:
                raise NotCompilable(f"the user autograd.Function {node.op.__name__} (its forward takes Tensors)")
            chain = blocks.get(k)
            if chain is not None:
                self._add_block(k, chain, need)
                k += len(chain)
                continue
            self._add(k, node, need)
            k += 1
        self.nctx = len(g.nodes)
        self.mutations = [(param_tensors[name], v.slot) for name, v in g.mutations.items()]
        self._plan_frees()

    # -- building ------------------------------------------------------------------------------------------
    def _add(self, k, node: Node, need):
        flags = tuple(type(a) is Value and a.slot in need for a in node.args)
        outs = [v.slot for v in node.outputs]
        kern = KERNELS.get(node.op.__name__)
        if kern is not None and not node.multi and kern[2](node):
            self._add_kernel(k, node, kern, flags, outs[0])
        else:
            self._add_generic(k, node, flags, outs)
        # gradient targets: (position, slot, shape, dtype) of each positional Value input that needs a gradient
        targets = [(j, a.slot, a.shape, a.dtype) for j, a in enumerate(node.args) if flags[j]]
        if targets and any(s in need for s in outs):
            self.bwd.append((k, outs, targets, self._bwd_step(k, node, flags, outs, targets, kern)))

    def _add_block(self, k, chain, need):
        conv = chain[0]
        blk = ConvBlock(chain, *self._layout[id(conv)])
        flags = tuple(type(a) is Value and a.slot in need for a in conv.args[:3])
        out = chain[-1].outputs[0].slot
        x, w, b = conv.args[:3]
        xs, ws, bs = x.slot, w.slot, (b.slot if b is not None else None)
        fwd = blk.forward

        def step(env, ctxs):
            env[out], ctxs[k] = fwd(env[xs], env[ws], env[bs] if bs is not None else None)
        step.reads = [xs, ws] + ([bs] if bs is not None else [])
        self.fwd.append(step)
        targets = [(j, a.slot, a.shape, a.dtype) for j, a in enumerate(conv.args[:3]) if flags[j]]
        if targets and out in need:
            bwd = blk.backward

            def grads(genv, ctxs):
                return bwd(genv[out], ctxs[k], flags)
            self.bwd.append((k, [out], targets, grads))

    def _add_kernel(self, k, node, kern, flags, out):
        fwd = kern[0]
        arg = [(a.slot if type(a) is Value else None, a) for a in node.args]

        def step(env, ctxs):
            res, ctxs[k] = fwd(*[env[s] if s is not None else a for s, a in arg])
            env[out] = res
        step.reads = [s for s, _ in arg if s is not None]
        self.fwd.append(step)

    def _add_generic(self, k, node, flags, outs):
        op, args, kwargs, multi = node.op, node.args, node.kwargs, node.multi
        forward = op.forward
        simple = not _nested_values(args)
        arg_slots = [(j, a.slot) for j, a in enumerate(args) if type(a) is Value]
        nested = [j for j, a in enumerate(args) if type(a) in (tuple, list, dict) and _nested_values((a,))]
        tensors = self.tensors

        def step(env, ctxs):
            ctx = op.__new__(op)
            ctx._saved = ()
            ctx._freed = False
            ctx._pre_hooks = None
            ctx.needs_input_grad = flags
            raw = list(args)
            for j, s in arg_slots:
                raw[j] = env[s]
            if not simple:      # as Function.apply: only top-level tensors become arrays, nested ones stay Tensors
                for j in nested:
                    raw[j] = _as_tensors(args[j], env, tensors)
            out = forward(ctx, *raw, **(_as_tensors(kwargs, env, tensors) if kwargs else {}))
            if multi:
                for s, o in zip(outs, out):
                    env[s] = o if type(o) is _np.ndarray else _np.asarray(o)
            else:
                env[outs[0]] = out if type(out) is _np.ndarray else _np.asarray(out)
            ctxs[k] = ctx
        step.reads = [v.slot for v in node.input_values()]
        self.fwd.append(step)

    def _bwd_step(self, k, node, flags, outs, targets, kern):
        if kern is not None and not node.multi and kern[2](node):
            bwd = kern[1]

            def grads(genv, ctxs):
                return bwd(genv[outs[0]], ctxs[k], flags)
            return grads
        op = node.op
        backward = op.backward
        metas = [(v.shape, v.dtype) for v in node.outputs]

        def grads(genv, ctxs):
            ctx = ctxs[k]
            gs = [genv[s] for s in outs]
            if len(gs) > 1 and ctx.__dict__.get("_materialize") is not False:
                gs = [g if g is not None else _np.zeros(*m) for g, m in zip(gs, metas)]
            ctx._saved = tuple(Tensor._make(s) if type(s) is _np.ndarray else s for s in ctx._saved)
            res = backward(ctx, *[Tensor._make(g) if g is not None else None for g in gs])
            if type(res) is not tuple:
                res = tuple(res) if isinstance(res, list) else (res,)
            return [None if r is None else (r._data if isinstance(r, Tensor) else _np.asarray(r)) for r in res]
        return grads

    def _plan_frees(self):
        """After which forward step each intermediate can be dropped: values that the backward reads only
        through a ctx need no slot (the ctx holds them)."""
        keep = {s for s, _ in self.params} | {s for s, _ in self.consts} | set(self.inputs)
        keep |= {s for _, s in self.mutations} | self.out_slots
        last = {}
        for i, st in enumerate(self.fwd):
            for s in st.reads:
                last[s] = i
        self.free = [[] for _ in self.fwd]
        for s, i in last.items():
            if s not in keep:
                self.free[i].append(s)

    # -- running -------------------------------------------------------------------------------------------
    def forward(self, in_arrays, param_arrays=None):
        """The forward on arrays (the inputs in graph order; the parameters' own arrays unless given): returns
        ``(env, ctxs)``, the values by slot and what the backward steps need."""
        env = [None] * self.nslots
        for s, a in zip(self.inputs, in_arrays):
            env[s] = a
        if param_arrays is None:
            for s, t in self.params:
                env[s] = t._data
        else:
            for (s, _), a in zip(self.params, param_arrays):
                env[s] = a
        for s, a in self.consts:
            env[s] = a
        ctxs = [None] * self.nctx
        for step, free in zip(self.fwd, self.free):
            step(env, ctxs)
            for s in free:
                env[s] = None
        for t, s in self.mutations:          # running statistics written by the forward (batch norm)
            if env[s] is not t._data:
                _np.copyto(t._data, env[s])
            t._version[0] += 1
        return env, ctxs

    def backward(self, ctxs, seeds, keep_ctxs: bool = False):
        """The backward from ``seeds`` (``(slot, gradient array)`` pairs): returns the gradients by slot."""
        genv = [None] * self.nslots
        for s, a in seeds:
            genv[s] = a if genv[s] is None else genv[s] + a
        prev = _grad.enabled, _grad.create_graph
        _grad.enabled, _grad.create_graph = False, False
        try:
            for k, outs, targets, grads in reversed(self.bwd):
                if all(genv[s] is None for s in outs):
                    continue
                res = grads(genv, ctxs)
                if not keep_ctxs:
                    ctxs[k] = None
                for j, s, shape, dtype in targets:
                    r = res[j] if j < len(res) else None
                    if r is None:
                        continue
                    if r.shape != shape or r.dtype != dtype:
                        r = _sum_to(r, shape, dtype)
                    old = genv[s]
                    genv[s] = r if old is None else old + r
                for s in outs:
                    genv[s] = None
        finally:
            _grad.enabled, _grad.create_graph = prev
        return genv

    def run(self, inputs):
        """One forward and backward of the loss on ``inputs`` (Tensors, in graph order): returns ``(loss array,
        {param name: gradient array}, env)`` (``env``: the forward's values by slot, the graph's outputs among
        them)."""
        env, ctxs = self.forward([x._data for x in inputs])
        loss = env[self.loss_slot]
        genv = self.backward(ctxs, [(self.loss_slot, _np.ones(loss.shape, loss.dtype))])
        return loss, {name: genv[s] for name, s in self.wrt}, env
