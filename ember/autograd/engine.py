"""The backward engine: reverse-mode differentiation of the recorded graph.

It is deliberately short.  Starting from the roots it (1) counts, for every node, how many edges point into
it, with an explicit stack (no recursion, so a chain of 100,000 ops is fine); then (2) runs nodes in
topological order (Kahn's algorithm): a node runs once every consumer has sent it its gradient.  A node's
backward returns one gradient per input; the engine sums each back to its input's shape (undoing
broadcasting in this one place), adds it into the input node's buffer, and, at a leaf, into ``.grad``.
"""
from __future__ import annotations

import sys

from .function import AccumulateGrad, _freed_message
from .grad_mode import state as _grad
from ..backend import xp as _xp
from ..backend.layout import canonical as _canonical
from ..backend.device import as_array as _as_array

_ndarray = _xp.ndarray


# op class -> its backward on arrays, run when no graph is recorded (filled by ember.ops._raw_backward)
RAW_BACKWARD: dict = {}


def _sum_to(g, shape, dtype):
    if g.shape != shape:
        gs = g.shape
        lead = len(gs) - len(shape)
        if lead < 0:
            g = g.reshape(shape)
        else:
            axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gs[i + lead] != 1)
            if axes:
                g = g.sum(axes, keepdim=False) if not any(s == 1 for s in shape) else g.sum(axes, keepdim=True)
            if g.shape != shape:
                g = g.reshape(shape)
    if g.dtype != dtype:
        g = g.to(dtype)
    return g


def run_backward(tensors, grad_tensors, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = False, accumulate: bool = True):
    """Backpropagate ``grad_tensors`` from ``tensors``.  With ``inputs`` given and ``accumulate`` False
    (``autograd.grad``), the gradients reaching those inputs are returned instead of stored in ``.grad``."""
    roots = []
    for t in (tensors if inputs is None else list(tensors) + list(inputs)):
        if t._vw is not None:
            _refresh_view(t)     # a view whose base was modified in place since: re-derive its history first
    for t, g in zip(tensors, grad_tensors):
        if not t._rg:
            raise RuntimeError(f"element of shape {tuple(t.shape)} does not require grad and does not have a "
                               f"grad_fn: call .requires_grad_() on a leaf before building the graph")
        node = t.grad_fn if t.grad_fn is not None else t._accumulator()
        roots.append((node, t._oi if t.grad_fn is not None else 0, g))

    # capture points for autograd.grad
    capture = None
    if inputs is not None:
        capture = {}
        for k, x in enumerate(inputs):
            key = (x.grad_fn, x._oi) if x.grad_fn is not None else (x._accumulator(), 0)
            capture.setdefault(key, []).append(k)

    # (1) dependency counts
    deps: dict = {}
    # one root node may carry several outputs
    stack = [roots[0][0]] if len(roots) == 1 else list(dict.fromkeys(n for n, _, _ in roots))
    root_nodes = set(stack)
    while stack:
        node = stack.pop()
        for e in node.next_edges:
            if e is not None:
                child = e[0]
                d = deps.get(child)
                if d is None:
                    deps[child] = 1
                    if child not in root_nodes:     # first visit (roots are already on the stack)
                        stack.append(child)
                else:
                    deps[child] = d + 1

    buffers: dict = {}
    owned: dict = {}    # node -> {index: a sum this engine made in its buffer}: later gradients add into it in place
    for node, idx, g in roots:
        buf = buffers.get(node)
        if buf is None:
            n_out = 1 if isinstance(node, AccumulateGrad) else len(node._out_meta)
            buf = buffers[node] = [None] * n_out
        buf[idx] = g if buf[idx] is None else buf[idx] + g

    results = [None] * len(inputs) if inputs is not None else None
    ready = [n for n in buffers if deps.get(n, 0) == 0]
    prev_enabled, prev_create = _grad.enabled, _grad.create_graph
    _grad.enabled = create_graph
    _grad.create_graph = create_graph
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or [None]
            if owned:
                owned.pop(node, None)
            if capture is not None:
                for i, g in enumerate(grads):
                    for k in capture.get((node, i), ()):
                        results[k] = g
            if type(node) is AccumulateGrad:
                if accumulate:
                    g = grads[0]
                    grads = in_grads = buf = a = None
                    _accumulate_leaf(node, g, create_graph)
                    g = None
                elif capture is not None and grads[0] is not None:
                    var = node.variable          # autograd.grad: a leaf's hooks still see (and may replace) it
                    if var is not None and var._hooks:
                        g = grads[0]
                        for h in list(var._hooks):
                            r = h(g)
                            if r is not None:
                                g = r
                        for k in capture.get((node, 0), ()):
                            results[k] = g
                continue
            if node._pre_hooks:
                grads = _run_pre_hooks(node, grads)
            node_pre = node._node_prehooks      # (a class default: no instance __dict__ is made to read it)
            if node_pre:         # grad_fn.register_prehook: after the tensors' hooks, as in PyTorch
                grads = _run_node_hooks(node_pre, grads)
            edges = node.next_edges
            if len(grads) == 1:
                g0 = grads[0]
                if g0 is None:
                    in_grads = (None,) * len(edges)
                else:
                    if node._freed:
                        raise RuntimeError(_freed_message(node))
                    # the array twins are NumPy code: device gradients take the Tensor backward
                    raw = None if create_graph or type(g0._data) is not _ndarray else RAW_BACKWARD.get(type(node))
                    if raw is None or node._post_hooks is not None or (in_grads := raw(node, g0)) is NotImplemented:
                        in_grads = _call_backward(node, grads, retain_graph)
                    elif not retain_graph:
                        node.release()
            elif all(g is None for g in grads):
                in_grads = (None,) * len(edges)
            else:
                if node._freed:
                    raise RuntimeError(_freed_message(node))
                if not node.__dict__.get("_materialize") is False:
                    grads = [g if g is not None else _zeros(m, grads) for g, m in zip(grads, node._out_meta)]
                in_grads = _call_backward(node, grads, retain_graph)
            for e, g, meta in zip(edges, in_grads, node._in_meta):
                if e is None:
                    continue
                child, idx = e
                if g is not None:
                    if type(g) is _ndarray:     # an array from a raw backward (or a user Function)
                        a = g
                        g = _make(g)
                    else:
                        a = getattr(g, "_data", None)
                        if a is None:
                            g = _as_tensor(g)
                            a = g._data
                    if a.shape != meta[0] or a.dtype != meta[1]:     # (the common case needs no call)
                        g = _sum_to(g, meta[0], meta[1])
                    buf = buffers.get(child)
                    if buf is None:
                        if type(child) is AccumulateGrad or len(child._out_meta) == 1:
                            buffers[child] = [g]
                        else:
                            buf = buffers[child] = [None] * len(child._out_meta)
                            buf[idx] = g
                    else:
                        old = buf[idx]
                        if old is None:
                            buf[idx] = g
                        elif create_graph:
                            buf[idx] = old + g
                        elif (own := owned.get(child)) is not None and own.get(idx) is old:
                            old._data += g._data        # a parameter used many times (an RNN cell in a loop)
                        else:
                            buf[idx] = s = _fresh_sum(old, g)
                            if own is None:
                                owned[child] = {idx: s}
                            else:
                                own[idx] = s
                            # no local may keep the sum: a leaf adopts it as .grad only while the engine is
                            # its sole owner (_sole_owner counts references), else it copies
                            s = old = None
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    ready.append(child)
    finally:
        _grad.enabled, _grad.create_graph = prev_enabled, prev_create

    if inputs is not None:
        for k, (x, r) in enumerate(zip(inputs, results)):
            if r is None and not allow_unused:
                raise RuntimeError(f"autograd.grad: input {k} (shape {tuple(x.shape)}) was not used in the graph "
                                   f"of the outputs; pass allow_unused=True to get None for it")
        return tuple(results)
    return None


def _call_backward(node, grads, retain_graph):
    """Run ``node.backward`` (the Tensor formulas) and check its gradients: one per forward input."""
    in_grads = node.backward(node, *grads)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,) if not isinstance(in_grads, list) else tuple(in_grads)
    n_in = len(node.next_edges)
    if len(in_grads) != n_in:
        if len(in_grads) > n_in and all(g is None for g in in_grads[n_in:]):
            in_grads = in_grads[:n_in]      # trailing Nones for unused optional inputs: allowed, as in PyTorch
        elif len(in_grads) < n_in and all(e is None for e in node.next_edges[len(in_grads):]):
            in_grads = in_grads + (None,) * (n_in - len(in_grads))   # omitted grads of non-tensor inputs
        if len(in_grads) != n_in:
            raise RuntimeError(f"{type(node).__name__}.backward returned {len(in_grads)} gradients, "
                               f"expected {len(node.next_edges)} (one per forward input)")
    post = node._post_hooks
    if post:
        for h in post:
            r = h(in_grads, tuple(grads))
            if r is not None:       # a Node post hook may replace the input gradients
                in_grads = tuple(r)
    if not retain_graph:
        node.release()
    return in_grads


def _refresh_view(t):
    from ..tensor import _refresh_view as refresh
    refresh(t)


def _make(a):
    from ..tensor import Tensor
    global _make
    _make = Tensor._make      # bound on first use (ember.tensor imports this module)
    return _make(a)


def _run_node_hooks(hooks, grads):
    grads = tuple(grads)
    for h in list(hooks):
        r = h(grads)
        if r is not None:
            grads = tuple(r)
    return list(grads)


def _run_pre_hooks(node, grads):
    grads = list(grads)
    for i, hooks in node._pre_hooks.items():
        # retain_grad's hook sees the gradient after every user hook, whatever the registration order
        for h in sorted(hooks, key=lambda h: getattr(h, "_ember_retain", False)):
            if grads[i] is None:
                continue
            r = h(grads[i])
            if r is not None:
                grads[i] = _hook_result(h, grads[i], r)
    return grads


def _hook_result(hook, g, r):
    """The gradient a tensor hook returned in place of ``g``, checked as PyTorch checks it: a tensor of
    ``g``'s shape and dtype."""
    from ..tensor import Tensor
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}' (hook '{name}' must "
                        f"return a Tensor of the gradient's shape {tuple(g.shape)} and dtype {g.dtype}, "
                        f"or None)")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has shape "
                           f"{tuple(g.shape)}, the hook returned shape {tuple(r.shape)}")
    if r._data.dtype != g._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype} got {r.dtype})")
    return r


def _accumulate_leaf(acc: AccumulateGrad, g, create_graph: bool) -> None:
    var = acc._var()
    if var is None or g is None:
        return
    if var._hooks:
        replaced = False
        for h in list(var._hooks):
            r = h(g)
            if r is not None:
                g = _hook_result(h, g, r)
                r = None
                replaced = True
        _store_grad(var, g, create_graph, replaced)
    else:
        _store_grad(var, g, create_graph, False)
    post = var.__dict__.get("_post_acc_hooks")
    if post:
        for h in post:
            h(var)


def _store_grad(var, g, create_graph, hooked):
    """Add ``g`` into ``var.grad`` (or make it ``.grad``), without the ``.grad`` setter's checks: the engine's
    gradient has the leaf's shape and dtype, and one a hook returned (``hooked``) was checked to have them too
    (``_hook_result``); the engine's loop holds no reference to that one."""
    old = var._gradval
    if old is None:
        refs = _ENGINE_REFS - 1 if hooked else _ENGINE_REFS
        if create_graph:    # keep the graph, but never share the tensor with another leaf's .grad
            new = g if _sole_owner(g, refs) else g.clone()
        elif _sole_owner(g, refs):
            new = g if g.grad_fn is None else g.detach()
        else:   # the gradient may alias another tensor's memory; .grad must own its buffer
            a = g._data
            if (a.flags.c_contiguous and (a.ndim < 2 or _canonical(a))) or not any(a.strides):
                # what clone() gives a C-contiguous or a fully expanded tensor (C order), without the op dispatch
                new = _make(a.copy())
            else:
                new = g.detach().clone()
    elif create_graph or old.grad_fn is not None:
        new = old + g
    else:
        old._data += g._data
        old._version[0] += 1
        return
    var._gradval = new


# references to a gradient Tensor that only the engine holds: the engine loop's local, _accumulate_leaf's and
# _store_grad's arguments, _sole_owner's argument and getrefcount's own.  Anything above that is someone
# else's (another buffer, another leaf's .grad, the caller's `gradient=`), so the leaf must copy instead of
# adopting the buffer.
_ENGINE_REFS = 5


def _sole_owner(g, refs) -> bool:
    a = g._data
    if sys.getrefcount(g) > refs or sys.getrefcount(a) > 3 or not getattr(a.flags, "writeable", True):
        return False
    if a.base is None:
        return True
    # a dense view over the whole of a buffer that nothing else holds (the bit kernels' ``ints.view(float32)``
    # results: ReLU's backward, ``where``; a fresh array reshaped) is as much the engine's own as a fresh
    # array (getrefcount's 2: the view's reference and its own argument's)
    return type(a.base) is _ndarray and a.base.base is None and a.nbytes == a.base.nbytes and \
        sys.getrefcount(a.base) <= 2 and (a.flags.c_contiguous or _dense(a))


def _dense(a) -> bool:
    """Whether ``a``'s elements tile its memory without gaps or overlaps (in some order of its axes)."""
    n = a.itemsize
    for stride, size in sorted((abs(st), k) for st, k in zip(a.strides, a.shape) if k != 1):
        if stride != n:
            return False
        n *= size
    return True


def _fresh_sum(a, b):
    """a + b as a new Tensor owning its buffer, with no graph (the first sum of a gradient buffer)."""
    r = a._data + b._data
    return _make(r if type(r) is _ndarray else _as_array(r))


def _zeros(meta, grads=()):
    """A zero gradient for an unused output, on the device of the node's other output gradients."""
    from ..tensor import Tensor
    from ..backend.device import arrays_module
    xp = arrays_module(*[g._data for g in grads if g is not None])
    return Tensor._make(xp.zeros(meta[0], meta[1]))


def _as_tensor(g):
    # a user Function's backward may return an array or a plain number
    from ..tensor import Tensor
    from ..backend import xp
    from ..backend.device import as_array
    return Tensor._make(g if isinstance(g, xp.ndarray) else as_array(g))
