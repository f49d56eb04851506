"""``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``: the hook-based spectral normalization
(Miyato et al., GANs): ``weight = weight_orig / sigma(weight_orig)``, the largest singular value estimated by
power iteration with the persistent vectors ``weight_u`` / ``weight_v`` (buffers), updated once per forward
in training mode only.  State_dict keys are PyTorch's: ``weight_orig``, ``weight_u``, ``weight_v``.

The parametrization version is ``ember.nn.utils.parametrizations.spectral_norm``.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.normalization import normalize
from ..module import Module
from ..parameter import Parameter
from ._norm_except_dim import remove_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]


def _is_conv_transpose(module) -> bool:
    from ..layers.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    return isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


class SpectralNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_orig``, ``<name>_u``, ``<name>_v``."""

    _version: int = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(self.dim, *[d for d in range(weight_mat.dim()) if d != self.dim])
        height = weight_mat.shape[0]
        return weight_mat.reshape(height, -1)

    def compute_weight(self, module: Module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                wm = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    # in place, as torch's normalize(..., out=v): the buffers carry over between calls
                    v.copy_(normalize(wm.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(normalize(wm.mv(v), dim=0, eps=self.eps))
            u = u.clone()
            v = v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name: str, n_power_iterations: int, dim: int, eps: float) -> "SpectralNorm":
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter '{name}' "
                             f"(parameters: {list(module._parameters)})")
        if not -weight.dim() <= fn.dim < weight.dim():
            raise IndexError(f"spectral_norm: dim {dim} is out of range for '{name}' of shape "
                             f"{tuple(weight.shape)}")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # a plain attribute until the first forward (weight.data in PyTorch)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Apply spectral normalization to ``module.<name>`` (``torch.nn.utils.spectral_norm``): before each
    forward it becomes ``<name>_orig / sigma`` with ``sigma = u . (W v)`` and, in training mode,
    ``n_power_iterations`` power-iteration steps updating the buffers ``<name>_u``, ``<name>_v`` first.
    ``dim`` (default 0; 1 for ConvTranspose) is the output-channel dim.  Returns ``module``.

    >>> m = spectral_norm(nn.Linear(20, 40))
    >>> m.weight_u.shape
    ember.Size([40])
    """
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` is a plain parameter holding the current normalized weight."""
    return remove_hook(module, SpectralNorm, name, "spectral_norm")
