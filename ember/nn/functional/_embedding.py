"""``F.embedding``: a lookup of rows of a weight matrix by integer index, with a fused backward that sums
the gradients of repeated indices (sort + ``reduceat``: no Python loop, no one-hot matrix)."""
from __future__ import annotations

from ...autograd.function import Function, once_differentiable
from ...autograd.grad_mode import no_grad
from ...backend import xp
from ...backend.device import array_module as _xp, like as _like
from ...tensor import Tensor, _to_array

__all__ = ["embedding"]


class _Embedding(Function):
    @staticmethod
    def forward(ctx, w, idx, padding_idx=None, scale_grad_by_freq=False):
        ctx.idx = idx
        ctx.num = w.shape[0]
        ctx.padding_idx = padding_idx
        ctx.scale = scale_grad_by_freq
        return w[idx]

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        idx = ctx.idx.reshape(-1)
        ga = g._data
        d = ga.shape[-1]
        g2 = ga.reshape(-1, d)
        m = _xp(ga)
        gw = m.zeros((ctx.num, d), ga.dtype)
        if idx.size:
            order = xp.argsort(idx, kind="stable")
            s = idx[order]
            new = m.empty(s.size, bool)         # where each run of equal indices starts
            new[0] = True
            new[1:] = s[1:] != s[:-1]
            starts = xp.flatnonzero(new)
            if ctx.scale:       # divide by how often each index occurs in the batch
                sums = xp.add.reduceat(g2[order], starts, axis=0)
                counts = xp.diff(starts, append=s.size)
                sums /= counts[:, None].astype(ga.dtype)
                gw[s[starts]] = sums
            else:
                _add_by_occurrence(gw, g2, order, s, new, starts)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return Tensor._make(gw), None


def _add_by_occurrence(gw, g2, order, s, new, starts):
    """``gw[idx[i]] += g2[i]`` for every i in order (PyTorch's ``index_add_``, which its CPU backward runs for
    up to 3000 indices: each row's gradients summed in the order they occur, the same bits): level by level, the
    level-j rows being each index's (j+1)-th occurrence, distinct within a level, so each level is one
    gather-add-scatter.  Levels run as many times as the most repeated index occurs.  (``add.reduceat`` over
    the sorted rows took 3x as long for 2048 indices of 64 columns, and summed in another order.)"""
    m = _xp(s)
    rank = m.arange(s.size) - starts[m.cumsum(new) - 1]      # each position's occurrence number
    by_rank = m.argsort(rank, kind="stable")
    bounds = m.flatnonzero(m.diff(rank[by_rank])) + 1
    first = True
    for lo, hi in zip([0] + bounds.tolist(), bounds.tolist() + [s.size]):
        p = by_rank[lo:hi]
        rows = s[p]
        if first:
            gw[rows] = g2[order[p]]
            first = False
        else:
            gw[rows] += g2[order[p]]


def _renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    rows = xp.unique(idx)
    w = weight._data
    # as PyTorch: each row's norm in the weight's dtype, the scale max_norm / (norm + 1e-7) in double
    norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1).astype(xp.float64)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] *= scale[:, None].astype(w.dtype)
    weight._version[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` (any shape):
    output (*input.shape, embedding_dim).  The ``padding_idx`` row gets no gradient; ``max_norm`` renormalizes
    the looked-up rows in place (as PyTorch); ``sparse`` is accepted and ignored (gradients are dense).

    >>> F.embedding(ember.tensor([[0, 2]]), ember.randn(5, 3)).shape
    ember.Size([1, 2, 3])
    """
    if not isinstance(weight, Tensor) or weight.dim() != 2:
        raise RuntimeError(f"embedding expected a 2-D weight (num_embeddings, embedding_dim), got "
                           f"{tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    idx = input._data if isinstance(input, Tensor) else _like(_to_array(input, None), weight._data)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Embedding expected an integer index tensor (Long or Int), got dtype {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"Embedding: index {int(bad)} is out of range for num_embeddings={n}")
    if idx.size and idx.min() < 0:      # PyTorch rejects negatives too; we wrap them like NumPy would not
        raise IndexError(f"Embedding: index {int(idx.min())} is negative; indices must be in [0, {n})")
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        if not 0 <= padding_idx < n:
            raise AssertionError(f"embedding: padding_idx must be within num_embeddings ({n}), got {padding_idx}")
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    return _Embedding.apply(weight, idx, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
