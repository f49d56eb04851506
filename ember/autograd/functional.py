"""``autograd.grad`` and ``autograd.backward`` plus the Jacobian helpers built on them."""
from __future__ import annotations

from .engine import run_backward


def _seq(x):
    from ..tensor import Tensor
    return [x] if isinstance(x, Tensor) else list(x)


def _default_grads(outputs, grad_outputs):
    from ..tensor import Tensor
    from ..backend import xp
    from ..backend.device import array_module, like
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grad_outputs = _seq(grad_outputs) if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
    res = []
    for o, g in zip(outputs, grad_outputs):
        if g is None:
            if o.numel() != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; output of shape "
                                   f"{tuple(o.shape)} needs an entry in grad_outputs")
            g = Tensor._make(array_module(o._data).ones(o.shape, o.dtype))     # on the output's device
        elif not isinstance(g, Tensor):
            g = Tensor._make(like(xp.asarray(g, o.dtype), o._data))
        elif tuple(g.shape) != tuple(o.shape):
            raise RuntimeError(f"grad: grad_outputs entry of shape {tuple(g.shape)} doesn't match the output's "
                               f"shape {tuple(o.shape)}")
        res.append(g)
    return res


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False, only_inputs: bool = True,
         allow_unused=None, is_grads_batched: bool = False, materialize_grads: bool = False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into ``.grad``), as
    ``torch.autograd.grad``.  With ``create_graph=True`` they are themselves differentiable.  ``only_inputs``
    is PyTorch's deprecated no-op; ``is_grads_batched=True`` (vmap over grad_outputs) is not implemented."""
    if is_grads_batched:
        raise NotImplementedError("autograd.grad: is_grads_batched=True (vmap over grad_outputs) is not "
                                  "implemented in ember; call grad once per grad_outputs row")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("autograd.grad: expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got allow_unused=False")
    outputs = _seq(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = _seq(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {tuple(x.shape)}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    gs = _default_grads(outputs, grad_outputs)
    res = run_backward(outputs, gs, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused or materialize_grads, accumulate=False)
    out = []
    for x, g in zip(inputs, res):
        if g is None and materialize_grads:
            from ..creation import zeros_like
            g = zeros_like(x)
        elif g is not None and not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, grad_variables=None,
             inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad`` (``torch.autograd.backward``;
    ``grad_variables`` is PyTorch's deprecated name of ``grad_tensors``)."""
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("autograd.backward: pass grad_tensors or its deprecated name grad_variables, not both")
        grad_tensors = grad_variables
    tensors = _seq(tensors)
    gs = _default_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _seq(inputs)
        res = run_backward(tensors, gs, retain_graph, create_graph, inputs=inputs, allow_unused=True,
                           accumulate=False)
        for x, g in zip(inputs, res):
            if g is not None:
                g = g if create_graph else g.detach()
                x.grad = g.clone() if x.grad is None else x.grad + g
        return
    run_backward(tensors, gs, retain_graph, create_graph)


def vjp(func, inputs, v=None, create_graph=False):
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = [x.detach().requires_grad_(True) for x in _seq(inputs)]
    out = func(*xs)
    g = grad(out, xs, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    return out.detach(), (g[0] if single else g)


def jacobian(func, inputs, create_graph=False):
    """Jacobian of ``func`` at ``inputs`` (one reverse pass per output element)."""
    from ..tensor import Tensor
    from ..ops import stack
    single = isinstance(inputs, Tensor)
    xs = [x.detach().requires_grad_(True) for x in _seq(inputs)]
    out = func(*xs)
    flat = out.reshape(-1)
    rows = [[] for _ in xs]
    for i in range(flat.shape[0]):
        gs = grad(flat[i], xs, retain_graph=True, create_graph=create_graph, allow_unused=True,
                  materialize_grads=True)
        for k, g in enumerate(gs):
            rows[k].append(g)
    jac = [stack(r).reshape(tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, xs)]
    return jac[0] if single else tuple(jac)


def hessian(func, inputs):
    """Hessian of a scalar ``func`` (reverse-over-reverse)."""
    from ..tensor import Tensor

    def g(x):
        (gx,) = grad(func(x), x, create_graph=True)
        return gx
    if not isinstance(inputs, Tensor):
        raise TypeError("hessian: ember supports a single input tensor")
    return jacobian(g, inputs)


def jvp(func, inputs, v=None):
    """Jacobian-vector product via forward-mode AD (``ember.autograd.forward_ad``)."""
    from . import forward_ad as fwAD
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = _seq(inputs)
    vs = _seq(v) if v is not None else [None] * len(xs)
    with fwAD.dual_level():
        duals = [fwAD.make_dual(x, t if t is not None else x.new_ones(x.shape)) for x, t in zip(xs, vs)]
        out = func(*duals)
        primal, tangent = fwAD.unpack_dual(out)
    return primal, tangent


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``: the vector-Hessian product of a function returning one element
    (reverse-over-reverse); ``v`` may be left out only for a one-element input."""
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    xs = [x.detach().requires_grad_(True) for x in _seq(inputs)]
    out = func(*xs)
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError("vhp/hvp: the function must return a Tensor with a single element, got "
                           f"{'shape ' + str(tuple(out.shape)) if isinstance(out, Tensor) else type(out).__name__}")
    if v is None:
        if any(x.numel() != 1 for x in xs):
            raise RuntimeError("vhp/hvp: v can only be None if the input to the user-provided function is a single "
                               f"element tensor, got input shapes {[tuple(x.shape) for x in xs]}")
        vs = [x.new_ones(x.shape) for x in xs]
    else:
        vs = list(_seq(v))
        if len(vs) != len(xs) or any(tuple(a.shape) != tuple(x.shape) for a, x in zip(vs, xs)):
            raise RuntimeError(f"vhp/hvp: v has shapes {[tuple(a.shape) for a in vs]}, expected the inputs' "
                               f"{[tuple(x.shape) for x in xs]}")
    gs = grad(out, xs, create_graph=True, allow_unused=True, materialize_grads=True)
    dot = sum((g * a).sum() for g, a in zip(gs, vs))
    if dot.requires_grad:
        hv = grad(dot, xs, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    else:           # a function linear in its inputs: the Hessian is zero
        hv = [x.new_zeros(x.shape) for x in xs]
    if not create_graph:
        hv = [h.detach() for h in hv]
    return out.detach(), (hv[0] if single else tuple(hv))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``: the Hessian-vector product of a function returning one element (equal to
    ``vhp`` for the twice-differentiable functions autograd sees, whose Hessian is symmetric)."""
    return vhp(func, inputs, v, create_graph, strict)
