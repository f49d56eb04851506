"""``torch.func``: ``functional_call``, ``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``hessian`` and
``vmap``, built on ember's autograd and a Python loop over the mapped dimension (PyTorch's functorch
transforms batch the kernels instead; the values and gradients are the same, ember's are slower).

Arguments and results may be pytrees (tensors inside dicts, lists and tuples), as in PyTorch: the
per-sample-gradients recipe ``vmap(grad(loss), in_dims=(None, None, 0, 0))(params, buffers, x, y)``
returns a dict of stacked gradients.
"""
from __future__ import annotations

import functools

from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jacrev", "hessian", "vmap"]


# -- pytrees ------------------------------------------------------------------------------------------------------
def _flatten(tree):
    """(leaves, rebuild): the leaves of nested dicts/lists/tuples and a function that puts new leaves back."""
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, at = {}, 0
            for k, (_, rb), n in zip(keys, parts, sizes):
                out[k] = rb(leaves[at:at + n])
                at += n
            return type(tree)(out) if type(tree) is not dict else out
        return [leaf for p in parts for leaf in p[0]], rebuild
    if isinstance(tree, (list, tuple)):
        parts = [_flatten(v) for v in tree]
        sizes = [len(p[0]) for p in parts]
        kind = type(tree)

        def rebuild(leaves):
            out, at = [], 0
            for (_, rb), n in zip(parts, sizes):
                out.append(rb(leaves[at:at + n]))
                at += n
            return kind(*out) if hasattr(tree, "_fields") else kind(out)
        return [leaf for p in parts for leaf in p[0]], rebuild
    return [tree], lambda leaves: leaves[0]


# -- functional_call ----------------------------------------------------------------------------------------------
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """Run ``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors of
    ``parameter_and_buffer_dicts`` (a dict of dotted names, or a tuple/list of such dicts); the module's own
    tensors are put back afterwards.  Names not given keep the module's tensors (``strict=True`` requires
    all of them)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)):
        merged = {}
        for d in parameter_and_buffer_dicts:
            dup = set(merged) & set(d)
            if dup:
                raise ValueError(f"functional_call(): {sorted(dup)} appeared in multiple dictionaries; behavior "
                                 "of functional call is ambiguous")
            merged.update(d)
    else:
        raise ValueError(f"functional_call(): expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts).__name__}")
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing, unexpected = sorted(set(own) - set(merged)), sorted(set(merged) - set(own))
        if missing or unexpected:
            raise RuntimeError(f"functional_call(): Error(s) in reparametrizing for {type(module).__name__}: "
                               f"missing keys {missing}, unexpected keys {unexpected}")
    if tie_weights:     # a tensor shared under several names (tied weights) follows whichever name was given
        by_id = {}
        for name, t in own.items():
            by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in merged]
            for n in names:
                if given and n not in merged:
                    merged[n] = merged[given[0]]
    slots = []
    for name, value in merged.items():
        mod_path, _, leaf = name.rpartition(".")
        mod = module.get_submodule(mod_path) if mod_path else module
        for store in ("_parameters", "_buffers"):
            d = mod.__dict__.get(store)
            if d is not None and leaf in d:
                slots.append((d, leaf, d[leaf]))
                d[leaf] = value
                break
        else:
            raise AttributeError(f"functional_call(): {type(module).__name__} has no parameter or buffer '{name}'")
    try:
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for d, leaf, old in reversed(slots):
            d[leaf] = old


# -- grad ---------------------------------------------------------------------------------------------------------
def _differentiable_inputs(args, argnums):
    """Copies of the chosen arguments' tensors that require grad (kept attached to an outer graph, so that
    transforms nest)."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for k in nums:
        if not isinstance(k, int) or not -len(args) <= k < len(args):
            raise RuntimeError(f"grad(): got argnums={argnums!r} for a function of {len(args)} positional "
                               "arguments")
    args = list(args)
    chosen = []
    for k in nums:
        leaves, rebuild = _flatten(args[k])
        new = []
        for leaf in leaves:
            if not isinstance(leaf, Tensor) or leaf.dtype.kind != "f":
                raise RuntimeError(f"grad(): expected argument {k} to contain only floating tensors, got "
                                   f"{type(leaf).__name__ if not isinstance(leaf, Tensor) else leaf.dtype}")
            new.append(leaf.view_as(leaf) if leaf.requires_grad else leaf.detach().requires_grad_())
        args[k] = rebuild(new)
        chosen.append((new, rebuild))
    return args, chosen, isinstance(argnums, int)


def grad_and_value(func, argnums=0, has_aux=False):
    """``(gradient, value)`` of a function returning a single-element tensor (``(value, aux)`` when
    ``has_aux``), with respect to the arguments ``argnums`` (an int, or a tuple of them)."""
    from .autograd import grad as _autograd_grad
    from .autograd.grad_mode import enable_grad, is_grad_enabled

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer = is_grad_enabled()
        with enable_grad():
            new_args, chosen, single = _differentiable_inputs(args, argnums)
            out = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1:
                got = f"shape {tuple(out.shape)}" if isinstance(out, Tensor) else type(out).__name__
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got {got}")
            leaves = [t for new, _ in chosen for t in new]
            keep = outer and any(a.requires_grad for a in _flatten(list(args))[0] if isinstance(a, Tensor))
            if out.requires_grad:
                gs = _autograd_grad(out, leaves, create_graph=keep, allow_unused=True)
            else:
                gs = [None] * len(leaves)
        gs = [g if g is not None else t.detach() * 0 for g, t in zip(gs, leaves)]
        if not keep:
            gs = [g.detach() for g in gs]
            out = out.detach()
        per_arg, at = [], 0
        for new, rebuild in chosen:
            per_arg.append(rebuild(gs[at:at + len(new)]))
            at += len(new)
        g = per_arg[0] if single else tuple(per_arg)
        return (g, (out, aux)) if has_aux else (g, out)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a function returning a single-element tensor, with respect to argument ``argnums``
    (``torch.func.grad``); ``has_aux=True``: ``func`` returns ``(value, aux)`` and this returns
    ``(gradient, aux)``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(output, vjp_fn)``: ``vjp_fn(cotangents)`` gives the vector-Jacobian products for each primal."""
    from .autograd import grad as _autograd_grad
    from .autograd.grad_mode import enable_grad

    with enable_grad():
        new = [p.view_as(p) if p.requires_grad else p.detach().requires_grad_() for p in primals]
        out = func(*new)
        aux = None
        if has_aux:
            out, aux = out
    outs, rebuild_out = _flatten(out)

    def vjp_fn(cotangents):
        cts, _ = _flatten(cotangents)
        gs = _autograd_grad(outs, new, cts, retain_graph=True, allow_unused=True)
        return tuple(g if g is not None else p.detach() * 0 for g, p in zip(gs, new))
    detached = rebuild_out([o.detach() for o in outs])
    return (detached, vjp_fn, aux) if has_aux else (detached, vjp_fn)


def jacrev(func, argnums=0, has_aux=False):
    """The Jacobian of ``func`` (one tensor output) with respect to argument ``argnums`` (an int, or a tuple
    of them), by reverse mode: one backward pass per output element; nests (``hessian``)."""
    from .autograd import grad as _autograd_grad
    from .autograd.grad_mode import enable_grad, is_grad_enabled
    from .ops import stack

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer = is_grad_enabled()
        with enable_grad():
            new_args, chosen, single = _differentiable_inputs(args, argnums)
            out = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                out, aux = out
            leaves = [t for new, _ in chosen for t in new]
            keep = outer and any(a.requires_grad for a in _flatten(list(args))[0] if isinstance(a, Tensor))
            flat = out.reshape(-1)
            rows = [[] for _ in leaves]
            for k in range(flat.numel()):
                gs = _autograd_grad(flat[k], leaves, retain_graph=True, create_graph=keep, allow_unused=True) \
                    if flat.requires_grad else [None] * len(leaves)
                for r, g, t in zip(rows, gs, leaves):
                    r.append(g if g is not None else t.detach() * 0)
        jac = []
        for r, t in zip(rows, leaves):
            shape = tuple(out.shape) + tuple(t.shape)
            j = stack(r).reshape(shape) if r else t.new_zeros(shape)
            jac.append(j if keep else j.detach())
        per_arg, at = [], 0
        for new, rebuild in chosen:
            per_arg.append(rebuild(jac[at:at + len(new)]))
            at += len(new)
        res = per_arg[0] if single else tuple(per_arg)
        return (res, aux) if has_aux else res
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of a scalar function with respect to argument ``argnums``."""
    return jacrev(jacrev(func, argnums), argnums)


# -- vmap ---------------------------------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``torch.func.vmap`` by a loop: ``func`` runs once per slice of the mapped dimension and the results
    (tensors, or pytrees of them) are stacked with the batch dimension at ``out_dims``.  ``in_dims`` is an
    int/None for every argument, or one entry per positional argument (an int/None, or a pytree of them
    matching a pytree argument).  Differs from PyTorch's batching in rounding only: the gradient of a
    tensor used by every call is its per-sample gradients accumulated one by one (PyTorch reduces them in
    one sum)."""
    from .ops import stack

    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap(): randomness must be 'error', 'different' or 'same', got {randomness!r}")

    @functools.wraps(func)
    def mapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(in_dims={in_dims!r}): in_dims is not compatible with the structure of inputs: "
                             f"{len(dims)} entries for {len(args)} positional arguments")
        flat = []           # (leaves, per-leaf dims, rebuild) per argument
        sizes = set()
        for a, d in zip(args, dims):
            leaves, rebuild = _flatten(a)
            ds = _flatten(d)[0] if isinstance(d, (dict, list, tuple)) else [d] * len(leaves)
            if len(ds) != len(leaves):
                raise ValueError(f"vmap(): in_dims {d!r} does not match the structure of its argument")
            for leaf, ld in zip(leaves, ds):
                if ld is None:
                    continue
                if not isinstance(leaf, Tensor):
                    raise ValueError(f"vmap(): Got in_dim={ld} for an input but the input is of type "
                                     f"{type(leaf).__name__}. We cannot vmap over non-Tensor arguments")
                if leaf.dim() == 0:
                    raise ValueError(f"vmap(): Got in_dim={ld} for an input but the input is a 0-d tensor")
                sizes.add(leaf.shape[ld])
            flat.append((leaves, ds, rebuild))
        if len(sizes) != 1:
            raise ValueError(f"vmap(): Expected all tensors to have the same size in the mapped dimension, got "
                             f"sizes {sorted(sizes)} for the mapped dimension" if sizes else
                             "vmap(): at least one input must be mapped (in_dims not all None)")
        n = sizes.pop()
        results = []
        for i in range(n):
            call = [rebuild([leaf if ld is None else leaf.select(ld, i) for leaf, ld in zip(leaves, ds)])
                    for leaves, ds, rebuild in flat]
            results.append(func(*call, **kwargs))
        out_leaves = [_flatten(r)[0] for r in results]
        rebuild_out = _flatten(results[0])[1]
        k = len(out_leaves[0])
        ods = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list, dict)) else [out_dims] * k
        if len(ods) != k:
            ods = [ods[0]] * k if len(ods) == 1 else ods
        stacked = []
        for j in range(k):
            col = [r[j] for r in out_leaves]
            if not isinstance(col[0], Tensor):
                raise ValueError(f"vmap(): the function must return tensors, got a {type(col[0]).__name__}")
            stacked.append(stack(col).movedim(0, ods[j]))
        return rebuild_out(stacked)
    return mapped
