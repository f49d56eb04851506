"""The fused linear op behind ``nn.Linear`` and ``F.linear``: ``y = x @ W.T + b`` over any leading dims.

Forward is one GEMM on the input flattened to 2-D (a view, no copy) plus an in-place bias add; backward is
two GEMMs and one sum.  When ``create_graph=True`` the backward is written with ember ops instead, so
second derivatives through a linear layer work.
"""
from __future__ import annotations

import math

import numpy as _np

from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad
from ..tensor import Tensor
from ._fastsum import col_sums
from ._small_gemm import gemm as _gemm
from .linalg import matmul
from .reduce import sum as _sum

__all__ = ["linear_op"]


class Linear(Function):
    @staticmethod
    def forward(ctx, x, w, b=None):
        k = x.shape[-1]
        lead = x.shape[:-1]
        x2 = x.reshape(math.prod(lead), k)          # (not -1: in_features may be 0)
        out = _gemm(x2, w.T).reshape(lead + (w.shape[0],))
        if b is not None:
            out += b                                 # any bias that broadcasts to the output, as PyTorch
        ctx.save_for_backward(x, w)
        ctx.bias_shape = None if b is None else b.shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        k, m = w.shape[1], w.shape[0]
        gx = gw = gb = None
        rows = math.prod(tuple(x.shape)[:-1])
        # a bias of shape (out,) gets its sum here; any other broadcastable shape gets g whole and the engine
        # sums it back to the bias's shape
        flat_bias = ctx.bias_shape is not None and tuple(ctx.bias_shape) in ((m,), (1,), ())
        if not _grad.create_graph:
            # the fast path: raw GEMMs, results wrapped without copies
            g2 = g._data.reshape(rows, m)
            if need[0]:
                gx = Tensor._make(_gemm(g2, w._data).reshape(x.shape))
            if need[1]:
                gw = Tensor._make(_gemm(g2.T, x._data.reshape(rows, k)))
            if len(need) > 2 and need[2]:
                gb = Tensor._make(col_sums(g2)) if flat_bias else g
            return gx, gw, gb
        g2 = g.reshape(rows, m)
        if need[0]:
            gx = matmul(g2, w).reshape(tuple(x.shape))
        if need[1]:
            gw = matmul(g2.t(), x.reshape(rows, k))
        if len(need) > 2 and need[2]:
            gb = _sum(g2, 0) if flat_bias else g
        return gx, gw, gb


def linear_op(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    """``x @ w.T + b`` as one recorded op (no checks: ``F.linear`` validates first)."""
    if b is None:
        return Linear.apply(x, w)
    return Linear.apply(x, w, b)
