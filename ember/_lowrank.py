"""``torch.svd_lowrank`` and ``torch.pca_lowrank``: randomized low-rank SVD (Halko, Martinsson and Tropp, 2009,
algorithms 4.4 and 5.1), the steps of PyTorch's ``torch/_lowrank.py`` written with ember ops, so the results are
differentiable.  The random test matrix comes from ember's generator (PyTorch's draws differ for the same seed:
the factors agree with PyTorch's up to the signs of singular-vector pairs, exactly when the rank is at most ``q``)."""
from __future__ import annotations

from .tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _float_dtype(A):
    from .backend import get_default_dtype
    return A.dtype if A.dtype.kind == "f" else get_default_dtype()


def _approximate_basis(A, q, niter, M):
    from . import linalg
    from .creation import randn
    R = randn(A.shape[-1], q, dtype=_float_dtype(A))
    X = A @ R
    if M is not None:
        X = X - M @ R
    Q = linalg.qr(X).Q
    for _ in range(2 if niter is None else niter):
        X = A.mH @ Q
        if M is not None:
            X = X - M.mH @ Q
        Q = linalg.qr(X).Q
        X = A @ Q
        if M is not None:
            X = X - M @ Q
        Q = linalg.qr(X).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    from . import linalg
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:                   # work on the tall form
        A = A.mH
        if M is not None:
            M = M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def _check(op, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"{op}: A must have at least 2 dimensions, got shape {tuple(A.shape)}")


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """A rank-``q`` approximation ``A ~= U diag(S) V^T`` (or of ``A - M``): ``(U (*, m, q), S (*, q), V (*, n, q))``
    from ``niter`` subspace iterations on a random basis; exact when ``A`` has rank at most ``q``."""
    _check("svd_lowrank", A)
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """Principal components of the rows of ``A`` (*, m, n): ``svd_lowrank`` of ``A`` minus its column means
    (``center=True``); ``V``'s columns are the principal directions, ``S**2 / (m - 1)`` the variances.  ``q``
    defaults to ``min(6, m, n)``."""
    _check("pca_lowrank", A)
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
