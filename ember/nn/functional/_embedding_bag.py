"""``F.embedding_bag``: sums, means or maxima of bags of embedding rows without building the (N, D)
intermediate as an autograd node -- one fused Function differentiable w.r.t. ``weight`` and
``per_sample_weights``, PyTorch's semantics (offsets, include_last_offset, padding_idx, 2-D input form)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function, once_differentiable
from ..._tensor_device import host_fallback
from ...autograd.grad_mode import no_grad
from ...backend.device import array_module as _xp, like as _like
from ...tensor import Tensor, _to_array
from ._embedding import _renorm_

__all__ = ["embedding_bag"]

_MODES = {"sum": 0, "mean": 1, "max": 2}


class _EmbeddingBag(Function):
    @staticmethod
    def forward(ctx, w, psw, idx=None, bag_of=None, nbags=0, valid=None, mode="mean", scale_grad_by_freq=False,
                uniform=0):
        # idx, bag_of, valid: (N,) flat indices, the bag of each, whether it counts (not padding, not past
        # the last offset); psw: (N,) weights or None; uniform: L > 0 when every bag is input[i*L:(i+1)*L]
        # (the 2-D form, evenly spaced offsets): then the bags reduce as a (B, L, D) view, ~10x faster than
        # reduceat over ragged runs
        m = _xp(w)
        d = w.shape[1]
        sel = idx[valid]
        bags = bag_of[valid]
        ctx.w_shape = w.shape
        ctx.sel, ctx.bags, ctx.mode, ctx.valid = sel, bags, mode, valid
        ctx.scale = scale_grad_by_freq
        out = m.zeros((nbags, d), w.dtype)
        if uniform:
            end = nbags * uniform
            vm = valid[:end]
            every = bool(vm.all())
            full = w[idx[:end]]
        if mode == "max":
            if uniform:
                if not every:
                    full = np.where(vm[:, None], full, -np.inf).astype(w.dtype, copy=False)
                r3 = full.reshape(nbags, uniform, d)
                am = r3.argmax(axis=1)                                    # first maximum, as PyTorch
                mx = np.take_along_axis(r3, am[:, None, :], axis=1)[:, 0]
                nonempty = vm.reshape(nbags, uniform).any(axis=1)
                ctx.out_bags = np.flatnonzero(nonempty)
                ctx.max_rows = idx[:end][am + (np.arange(nbags) * uniform)[:, None]][nonempty]
                out[ctx.out_bags] = mx[nonempty]
            elif sel.size:
                rows = w[sel]
                # bags are contiguous runs of ``bags``: reduce each run
                starts = np.flatnonzero(np.r_[True, bags[1:] != bags[:-1]])
                mx = np.maximum.reduceat(rows, starts, axis=0)
                pos = np.where(rows == mx[np.searchsorted(starts, np.arange(sel.size), side="right") - 1],
                               np.arange(sel.size)[:, None], sel.size)
                ctx.max_rows = sel[np.minimum.reduceat(pos, starts, axis=0)]     # first maximum, as PyTorch
                ctx.out_bags = bags[starts]
                out[ctx.out_bags] = mx
            else:
                ctx.max_rows = np.zeros((0, d), np.int64)
                ctx.out_bags = bags[:0]
            return out
        ctx.psw = None
        if uniform:
            if psw is not None:
                ctx.psw = psw[valid]
                ctx.rows = full[vm] if not every else full
                full = full * psw[:end, None]
            if not every:
                full = np.where(vm[:, None], full, 0).astype(w.dtype, copy=False)
            out[...] = full.reshape(nbags, uniform, d).sum(axis=1)
        elif sel.size:     # bags are contiguous runs of ``bags``: one reduceat, no scatter
            rows = w[sel]
            if psw is not None:
                ctx.psw = psw[valid]
                ctx.rows = rows
                rows = rows * ctx.psw[:, None]
            starts = np.flatnonzero(np.r_[True, bags[1:] != bags[:-1]])
            out[bags[starts]] = np.add.reduceat(rows, starts, axis=0)
        elif psw is not None:
            ctx.psw = psw[valid]
            ctx.rows = w[sel]
        if mode == "mean":
            counts = np.bincount(bags, minlength=nbags)
            ctx.counts = counts
            out /= np.maximum(counts, 1)[:, None].astype(w.dtype)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        ga = g._data
        m = _xp(ga)
        gw = m.zeros(ctx.w_shape, ga.dtype)
        gpsw = None
        if ctx.mode == "max":
            if ctx.max_rows.size:
                cols = np.broadcast_to(np.arange(ctx.w_shape[1]), ctx.max_rows.shape)
                np.add.at(gw, (ctx.max_rows, cols), ga[ctx.out_bags])
            return Tensor._make(gw), None
        per = ga[ctx.bags]                                   # (n_valid, D): each entry's output gradient
        if ctx.mode == "mean":
            per = per / ctx.counts[ctx.bags][:, None].astype(ga.dtype)
        if ctx.psw is not None:
            full = m.zeros(ctx.valid.shape, ga.dtype)
            full[ctx.valid] = (per * ctx.rows).sum(axis=1)
            gpsw = Tensor._make(full)
            per = per * ctx.psw[:, None]
        if ctx.scale and ctx.sel.size:
            uniq, inv, freq = np.unique(ctx.sel, return_inverse=True, return_counts=True)
            per = per / freq[inv][:, None].astype(ga.dtype)
        _scatter_rows_add(gw, ctx.sel, per)
        return Tensor._make(gw), gpsw


def _scatter_rows_add(gw, sel, per) -> None:
    """gw[sel[i]] += per[i] for all i (repeated rows summed): a stable sort and one reduceat per distinct row."""
    if not sel.size:
        return
    order = np.argsort(sel, kind="stable")
    s = sel[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    gw[s[starts]] += np.add.reduceat(per[order], starts, axis=0)


def _ints(x, what: str, ref):
    arr = x._data if isinstance(x, Tensor) else _like(_to_array(x, None), ref)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(f"embedding_bag: expected {what} to be an integer tensor (Long or Int), got dtype "
                           f"{arr.dtype}")
    return arr


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sum, mean or max of bags of rows of ``weight`` (num_embeddings, D), as ``torch.nn.functional.
    embedding_bag``: ``input`` 2-D (B, N) is B bags of N indices; 1-D ``input`` is cut into bags at
    ``offsets`` (bag i = input[offsets[i]:offsets[i+1]], the last running to the end unless
    ``include_last_offset``, where offsets has B+1 entries).  Entries equal to ``padding_idx`` are left out
    (of the count too); empty bags give zeros.  ``per_sample_weights`` (input's shape, mode='sum' only)
    scales each row.  Output (B, D).

    >>> F.embedding_bag(ember.tensor([1, 2, 4, 5]), ember.randn(10, 3), ember.tensor([0, 2])).shape
    ember.Size([2, 3])
    """
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding_bag: weight must be a Tensor, got {type(weight).__name__}")
    if weight.is_cuda:          # bags are cut with NumPy index arithmetic
        if max_norm is not None:        # the used rows are renormalised in place (as PyTorch), on the device
            with no_grad():
                _renorm_(weight, _ints(input, "input (indices)", weight._data), max_norm, norm_type)
        return host_fallback(embedding_bag, input, weight, offsets, None, norm_type, scale_grad_by_freq, mode,
                             sparse, per_sample_weights, include_last_offset, padding_idx)
    idx = _ints(input, "input (indices)", weight._data)
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(idx.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                         f"then it must have the same shape as the input ({tuple(idx.shape)})")
    if weight.dim() != 2:
        raise ValueError(f"embedding_bag: weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()} (shape {tuple(weight.shape)})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"embedding_bag: if input is 2D, then offsets has to be None, as input is treated is "
                             f"a mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets)}")
        nb, n = idx.shape
        off = np.arange(0, idx.size, max(n, 1), dtype=np.int64)[:nb]
        include_last_offset = False
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        off = _ints(offsets, "offsets", weight._data)
        if off.ndim != 1:
            raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got shape {tuple(off.shape)}")
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim} "
                         f"(shape {tuple(idx.shape)})")
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("embedding_bag: max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("embedding_bag: max mode does not support sparse weights")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        pos = int(np.argmax((idx < 0) | (idx >= num)))
        raise IndexError(f"embedding_bag: index {pos} of input takes value {int(idx[pos])} which is not in the "
                         f"valid range [0, {num}) of weight {tuple(weight.shape)}")
    n_in = idx.size
    if off.size:
        if int(off[0]) != 0:
            raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                               f"has to start from position 0. However, got {int(off[0])}")
        if int(off[-1]) > n_in:
            raise RuntimeError(f"embedding_bag: offsets[-1] can not be greater than input's length {n_in} but got "
                               f"offsets[-1] of {int(off[-1])}")
        if (np.diff(off) < 0).any():
            raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got {off.tolist()}")
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                  f"on GitHub.")
    if include_last_offset:
        if off.size == 0:
            raise ValueError("embedding_bag: include_last_offset=True needs at least one offset (the end)")
        nbags, end = off.size - 1, int(off[-1])
    else:
        nbags, end = off.size, n_in
    pos = np.arange(n_in)
    bag_of = np.searchsorted(off, pos, side="right") - 1 if off.size else np.zeros(n_in, np.int64)
    valid = pos < end
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        if not 0 <= padding_idx < num:
            raise ValueError(f"embedding_bag: padding_idx must be within num_embeddings ({num}), got "
                             f"{padding_idx}")
        valid &= idx != padding_idx
    if nbags:    # with include_last_offset, the last offset closes the last bag
        bag_of = np.minimum(bag_of, nbags - 1)
    psw = None
    if per_sample_weights is not None:
        psw = per_sample_weights if isinstance(per_sample_weights, Tensor) else Tensor(per_sample_weights)
        psw = psw.reshape(-1)
    uniform = 0
    if nbags:
        lengths = np.diff(np.r_[off[:nbags], end])
        if lengths[0] > 0 and (lengths == lengths[0]).all():
            uniform = int(lengths[0])
    return _EmbeddingBag.apply(weight, psw, idx=idx, bag_of=bag_of, nbags=nbags, valid=valid, mode=mode,
                               scale_grad_by_freq=scale_grad_by_freq, uniform=uniform)
