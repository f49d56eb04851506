"""``torch.nn.utils.weight_norm`` / ``remove_weight_norm``: the hook-based weight normalization (Salimans &
Kingma), ``w = g * v / ||v||``.  ``weight`` is replaced by the parameters ``weight_g`` (the norms) and
``weight_v`` (the direction) -- PyTorch's state_dict keys -- and recomputed by a forward pre-hook.

Deprecated in PyTorch in favour of ``ember.nn.utils.parametrizations.weight_norm`` (``original0/1`` keys);
both are here.
"""
from __future__ import annotations

import warnings

from ..module import Module
from ..parameter import Parameter
from ._norm_except_dim import norm_except_dim, remove_hook, weight_norm_fn

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int) -> None:
        if dim is None:
            dim = -1
        self.name = name
        self.dim = dim

    def compute_weight(self, module: Module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return weight_norm_fn(v, g, self.dim)

    @staticmethod
    def apply(module, name: str, dim: int) -> "WeightNorm":
        warnings.warn("ember.nn.utils.weight_norm is deprecated in favor of "
                      "ember.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = module._parameters.get(name) if name in module._parameters else None
        if weight is None:
            raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter '{name}' "
                             f"(parameters: {list(module._parameters)})")
        # remove w from the parameter list; add g and v
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Apply weight normalization to ``module.<name>`` (``torch.nn.utils.weight_norm``): it becomes
    ``<name>_g * <name>_v / ||<name>_v||`` with the norm over every dim but ``dim`` (``dim=None``: over the
    whole tensor), recomputed before each forward.  Returns ``module``.

    >>> m = weight_norm(nn.Linear(20, 40), name="weight")
    >>> m.weight_g.shape, m.weight_v.shape
    (ember.Size([40, 1]), ember.Size([40, 20]))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` is a plain parameter again (holding the current value)."""
    return remove_hook(module, WeightNorm, name, "weight_norm")
