"""Shared helpers of weight_norm / spectral_norm (old hook API and parametrizations)."""
from __future__ import annotations

from ...tensor import Tensor


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """torch.norm_except_dim: the ``pow``-norm of ``v`` over every dim but ``dim``, shaped to broadcast
    against ``v`` (size 1 except at ``dim``); ``dim=-1`` is the norm of the whole tensor (a 0-d tensor)."""
    if dim == -1:
        return v.norm(pow)
    nd = v.dim()
    if not -nd <= dim < nd:
        raise IndexError(f"weight_norm: dim {dim} is out of range for a weight of shape {tuple(v.shape)} "
                         f"(expected -1 or 0..{nd - 1})")
    dim = dim % nd
    others = tuple(d for d in range(nd) if d != dim)
    if not others:
        return v.abs() if pow == 2 else v.norm(pow, dim=(), keepdim=True)
    return v.norm(pow, dim=others, keepdim=True)


def weight_norm_fn(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """torch._weight_norm: ``v * (g / ||v||)`` with the norm taken over every dim but ``dim``."""
    return v * (g / norm_except_dim(v, 2, dim))


def remove_hook(module, kind, name: str, what: str):
    """Remove the ``kind`` forward pre-hook (WeightNorm, SpectralNorm) of parameter ``name`` from ``module``,
    which gets a plain parameter back; ``what`` names the API in the error when there is none."""
    for k, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            module._forward_pre_hooks_with_kwargs.pop(k, None)
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
