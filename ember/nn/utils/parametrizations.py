"""``torch.nn.utils.parametrizations``: ``orthogonal``, ``weight_norm`` and ``spectral_norm`` built on
``ember.nn.utils.parametrize.register_parametrization`` (PyTorch's current API).  State_dict keys are
PyTorch's: ``parametrizations.weight.original0`` (g) / ``original1`` (v) for weight_norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u`` / ``._v`` for spectral_norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0.base`` for orthogonal.
"""
from __future__ import annotations

from enum import Enum, auto

from ...autograd.grad_mode import no_grad
from ...ops.normalization import normalize
from ..module import Module
from . import parametrize
from ._norm_except_dim import norm_except_dim, weight_norm_fn

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


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


# ---------------------------------------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------------------------------------
def _is_orthogonal(Q, eps=None) -> bool:
    from ... import allclose, eye, finfo
    n, k = Q.shape[-2], Q.shape[-1]
    Id = eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * finfo(Q.dtype).eps         # PyTorch's tolerance (the argument is ignored, as there)
    return allclose(Q.mH @ Q, Id, atol=eps)


def _make_orthogonal(A):
    """The Q of A's (tall) QR with diag(R) >= 0: LAPACK's geqrf reflectors multiplied out, each column's sign
    set by R's diagonal (PyTorch's construction)."""
    from ...linalg import _geqrf, householder_product
    X, tau = _geqrf(A)
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """The orthogonal map of :func:`orthogonal`: X (*, n, k) -> an orthogonal (*, n, k) matrix (orthonormal
    columns; rows when n < k), through ``matrix_exp`` or ``cayley`` of the skew part of tril(X), or the product
    of the Householder reflectors below X's diagonal; with ``use_trivialization`` it is multiplied by the buffer
    ``base``, which ``right_inverse`` sets to the assigned (orthogonalised) matrix."""

    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        from ... import cat, eye
        from ...linalg import householder_product, matrix_exp, solve
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()        # n*k - k*(k-1)/2 free parameters
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH        # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = matrix_exp(A)
            else:               # the Cayley retraction (I + A/2)(I - A/2)^-1
                Id = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # X's diagonal holds +-1 (not differentiated, truncated to int as PyTorch does)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        from ... import cat, randn, zeros_like
        from ...linalg import _geqrf
        with no_grad():
            if tuple(Q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                              "Cayley parametrizations when use_trivialization=False.")
                # householder: the reflectors of Q's QR, the diagonal holding the signs of R's diagonal
                # (flipped where LAPACK skipped the reflection, tau == 0)
                A, tau = _geqrf(Q)
                diag = A.diagonal(dim1=-2, dim2=-1)
                diag.copy_(diag.sign() * (1 - 2 * (tau == 0.0).to(A.dtype)))
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:               # complete Q to an n x n orthogonal matrix
                N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, N], dim=-1))
            self.base = Q
            # -Id: householder(zeros) is then eye(n, k), and matrix_exp/cayley of zeros the identity
            neg_Id = zeros_like(Q_init)
            neg_Id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_Id


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Orthogonal parametrization (``torch.nn.utils.parametrizations.orthogonal``): ``module.<name>``, a matrix
    or batch of matrices (*, m, n), is computed as an orthogonal matrix (orthonormal columns if m >= n, rows
    otherwise) by ``orthogonal_map``: ``"matrix_exp"`` (default for square matrices), ``"cayley"`` or
    ``"householder"`` (default otherwise).  With ``use_trivialization=True`` (default) the buffer
    ``parametrizations.<name>.0.base`` holds the current point and the initial weight is kept, orthogonalised
    by QR (diag(R) >= 0) when it is not orthogonal; so it is with ``"householder"`` when not trivialised.
    Returns ``module``.

    >>> m = orthogonal(nn.Linear(4, 6))
    >>> ember.allclose(m.weight.T @ m.weight, ember.eye(4), atol=1e-5)
    True
    """
    from ...tensor import Tensor
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None) if isinstance(orthogonal_map, str) else None
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
