"""``torch.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm`` built on
``ember.nn.utils.parametrize.register_parametrization`` (PyTorch's current API).  State_dict keys are
PyTorch's: ``parametrizations.weight.original0`` (g) / ``original1`` (v) for weight_norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u`` / ``._v`` for spectral_norm.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops.normalization import normalize
from ..module import Module
from . import parametrize
from ._norm_except_dim import norm_except_dim, weight_norm_fn

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return weight_norm_fn(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        weight_g = norm_except_dim(weight, 2, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module, name="weight", dim=0):
    """Weight normalization as a parametrization (``torch.nn.utils.parametrizations.weight_norm``):
    ``module.<name>`` is computed as ``original0 * original1 / ||original1||`` (g, v), the norm over every
    dim but ``dim`` (``None``: the whole tensor).  A state_dict saved with the old ``weight_g``/``weight_v``
    keys still loads.  Returns ``module``."""
    _weight_norm = _WeightNorm(dim)
    parametrize.register_parametrization(module, name, _weight_norm, unsafe=True)

    def _weight_norm_compat_hook(module_, state_dict, prefix, local_metadata, strict, missing_keys,
                                 unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0 = state_dict.pop(g_key)
            original1 = state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module.register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"spectral_norm: dim must be in range [{-ndim}, {ndim - 1}] for a weight of shape "
                             f"{tuple(weight.shape)}, but got dim={dim}")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations: int) -> None:
        with no_grad():
            wm = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(wm.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(wm.t().conj().mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = u.conj().dot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalization as a parametrization (``torch.nn.utils.parametrizations.spectral_norm``):
    ``module.<name>`` is computed as ``original / sigma``, sigma estimated by power iteration with the buffers
    ``parametrizations.<name>.0._u`` / ``._v`` (15 steps at registration, then ``n_power_iterations`` per
    access in training mode, none in eval mode).  ``dim`` defaults to 0 (1 for ConvTranspose).
    Returns ``module``."""
    weight = getattr(module, name, None)
    from ...tensor import Tensor
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from .spectral_norm import _is_conv_transpose
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
