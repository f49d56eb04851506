"""``SparseAdam``, matching ``torch.optim.SparseAdam``: Adam restricted to the entries a sparse COO gradient
holds (the moments and the parameter change only there), for dense parameters with sparse gradients."""
from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, _scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """SparseAdam, like ``torch.optim.SparseAdam``: every gradient must be a sparse COO tensor (a dense one is
    refused, as in PyTorch).

    >>> opt = ember.optim.SparseAdam([emb.weight], lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError(f"SparseAdam: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")
        if not 0.0 < _scalar(lr):
            raise ValueError(f"SparseAdam: Invalid learning rate: {lr} (expected > 0)")
        if not 0.0 < eps:
            raise ValueError(f"SparseAdam: Invalid epsilon value: {eps} (expected > 0)")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"SparseAdam: Invalid beta parameter at index 0: {betas[0]} (expected in [0, 1))")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"SparseAdam: Invalid beta parameter at index 1: {betas[1]} (expected in [0, 1))")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if getattr(p, "is_sparse", False):
                    sparse_params.append([index, d_index])
                if p._data.dtype.kind == "c":
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             f"parameters")

    def _group_step(self, group) -> None:
        beta1, beta2 = group["betas"]
        lr, eps = _scalar(group["lr"]), group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            if not getattr(p.grad, "is_sparse", False):
                raise RuntimeError(f"SparseAdam does not support dense gradients, please consider Adam instead "
                                   f"(parameter of shape {tuple(p.shape)} has a dense gradient)")
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = Tensor._make(xp.zeros_like(p._data))
                state["exp_avg_sq"] = Tensor._make(xp.zeros_like(p._data))
            state["step"] += 1
            grad = p.grad.coalesce()                       # the update is non-linear: indices must be unique
            idx = tuple(xp.asarray(grad._indices()._data))
            values = xp.asarray(grad._values()._data).astype(p._data.dtype)
            if group["maximize"]:
                values = -values
            if values.size == 0:
                continue
            exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
            old_exp_avg = exp_avg[idx]
            exp_avg_update = (values - old_exp_avg) * p._data.dtype.type(1 - beta1)
            exp_avg[idx] += exp_avg_update
            old_exp_avg_sq = exp_avg_sq[idx]
            exp_avg_sq_update = (values ** 2 - old_exp_avg_sq) * p._data.dtype.type(1 - beta2)
            exp_avg_sq[idx] += exp_avg_sq_update
            numer = exp_avg_update + old_exp_avg
            denom = xp.sqrt(exp_avg_sq_update + old_exp_avg_sq) + p._data.dtype.type(eps)
            step = state["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            p._data[idx] += p._data.dtype.type(-step_size) * (numer / denom)
            p._version[0] += 1
