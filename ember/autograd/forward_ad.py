"""Forward-mode differentiation: Jacobian-vector products with PyTorch's ``forward_ad`` API.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        y_primal, y_tangent = forward_ad.unpack_dual(y)     # y_tangent = J(primal) @ tangent

How it works (and why it departs from PyTorch's per-op forward rules): the tangent of an output is obtained
with the "double-vjp" identity  J v = d/du [ (J^T u) . v ].  The reverse pass J^T u is linear in u, so one
more reverse pass through it, w.r.t. u, yields J v exactly (not a finite difference).  Every ember op with a
twice-differentiable backward therefore supports forward mode with no extra code per op; the cost is two
reverse passes instead of one forward pass.
"""
from __future__ import annotations

from typing import NamedTuple

_levels: list = []


class dual_level:
    """Context in which dual tensors live; duals made inside are forgotten on exit."""

    def __enter__(self):
        _levels.append([])
        return len(_levels) - 1

    def __exit__(self, *exc):
        _levels.pop()


class UnpackedDualTensor(NamedTuple):
    primal: object
    tangent: object


def make_dual(tensor, tangent, *, level=None):
    """A tensor equal to ``tensor`` that carries ``tangent`` (same shape) as its directional derivative."""
    if not _levels:
        raise RuntimeError("make_dual must be called inside `with forward_ad.dual_level():`")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(f"make_dual: tangent of shape {tuple(tangent.shape)} must match the primal's shape "
                           f"{tuple(tensor.shape)}")
    x = tensor.detach().clone().requires_grad_(True)
    _levels[-1].append((x, tangent.detach()))
    return x


def unpack_dual(tensor, *, level=None) -> UnpackedDualTensor:
    """(primal, tangent) of ``tensor``; the tangent is None when it does not depend on any dual input."""
    from .functional import grad
    from ..creation import zeros_like
    if not _levels or not tensor.requires_grad:
        return UnpackedDualTensor(tensor.detach(), None)
    duals = [(x, t) for x, t in _levels[-1]]
    xs = [x for x, _ in duals]
    u = zeros_like(tensor).requires_grad_(True)
    gs = grad(tensor, xs, grad_outputs=u, create_graph=True, allow_unused=True)
    s = None
    for g, (_, t) in zip(gs, duals):
        if g is not None:
            term = (g * t).sum()
            s = term if s is None else s + term
    if s is None or not s.requires_grad:
        return UnpackedDualTensor(tensor.detach(), zeros_like(tensor))
    (tangent,) = grad(s, u, allow_unused=True, materialize_grads=True)
    return UnpackedDualTensor(tensor.detach(), tangent.detach())
