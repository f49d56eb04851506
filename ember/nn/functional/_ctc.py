"""``F.ctc_loss``: Connectionist Temporal Classification loss with PyTorch's semantics -- the forward (alpha)
recursion in log space, vectorised over the batch and the extended-label axis (a Python loop over time only),
and a hand-derived backward (the beta recursion and ATen's gradient w.r.t. ``log_probs``, which assumes they are
log-softmax outputs, exactly as PyTorch's does)."""
from __future__ import annotations

import numpy as np

from ..._tensor_device import host_fallback
from ...autograd.function import Function, once_differentiable
from ...backend.device import array_module as _xp
from ...tensor import Tensor, _to_array
from ... import ops as O

__all__ = ["ctc_loss"]

_OP = "ctc_loss"


def _lse3(m, a, b, c):
    """log(exp(a) + exp(b) + exp(c)) elementwise, -inf where all three are -inf (ATen's formula)."""
    mx = m.maximum(m.maximum(a, b), c)
    mx = m.where(mx == -np.inf, 0.0, mx)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return m.log(m.exp(a - mx) + m.exp(b - mx) + m.exp(c - mx)) + mx


def _shift(m, x, k):
    """x shifted right by k along the last axis, -inf filled."""
    out = m.full_like(x, -np.inf)
    out[..., k:] = x[..., :-k] if k < x.shape[-1] else out[..., k:]
    return out


class _CTC(Function):
    @staticmethod
    def forward(ctx, lp, ext=None, skip=None, il=None, tl=None, blank=0, zero_infinity=False):
        # lp: (T, N, C) log-probs; ext: (N, S') extended labels (blank, l1, blank, l2, ..., blank) padded with
        # blank; skip: (N, S') whether s may be entered from s-2; il, tl: (N,) input and target lengths
        m = _xp(lp)
        T, N, _ = lp.shape
        Sp = ext.shape[1]
        bi = np.arange(N)[:, None]
        lpe = lp[:, bi, ext]                                         # (T, N, S') log-prob of each ext label
        alpha = m.full((T, N, Sp), -np.inf, lp.dtype)
        alpha[0, :, 0] = lpe[0, :, 0]
        if Sp > 1:
            alpha[0, :, 1] = m.where(tl > 0, lpe[0, :, 1], -np.inf)
        for t in range(1, T):
            prev = alpha[t - 1]
            a2 = m.where(skip, _shift(m, prev, 2), -np.inf)
            alpha[t] = _lse3(m, prev, _shift(m, prev, 1), a2) + lpe[t]
        last = np.maximum(il - 1, 0)
        at_end = alpha[last, np.arange(N)]                            # (N, S')
        e1 = at_end[np.arange(N), 2 * tl]
        e2 = m.where(tl > 0, at_end[np.arange(N), np.maximum(2 * tl - 1, 0)], -np.inf)
        mx = m.maximum(e1, e2)
        mx = m.where(mx == -np.inf, 0.0, mx)
        with np.errstate(divide="ignore"):
            nll = -(m.log(m.exp(e1 - mx) + m.exp(e2 - mx)) + mx)
        # an empty input aligns only to an empty target
        nll = m.where(il == 0, m.where(tl == 0, 0.0, np.inf), nll).astype(lp.dtype)
        ctx.lp, ctx.lpe, ctx.alpha, ctx.nll = lp, lpe, alpha, nll
        ctx.ext, ctx.skip, ctx.il, ctx.tl, ctx.zi = ext, skip, il, tl, zero_infinity
        if zero_infinity:
            return m.where(nll == np.inf, 0.0, nll).astype(lp.dtype)
        return nll

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        lp, lpe, alpha, nll = ctx.lp, ctx.lpe, ctx.alpha, ctx.nll
        ext, skip, il, tl = ctx.ext, ctx.skip, ctx.il, ctx.tl
        m = _xp(lp)
        T, N, C = lp.shape
        Sp = ext.shape[1]
        s_idx = np.arange(Sp)[None, :]
        valid_s = s_idx <= 2 * tl[:, None]                            # (N, S') positions of each sample's ext
        skip_up = np.zeros_like(skip)                                # s may be left to s+2
        skip_up[:, :-2] = skip[:, 2:]
        beta = m.full((T, N, Sp), -np.inf, lp.dtype)
        init = m.full((N, Sp), -np.inf, lp.dtype)
        ends = (s_idx == 2 * tl[:, None]) | ((s_idx == 2 * tl[:, None] - 1) & (tl[:, None] > 0))
        for t in range(T - 1, -1, -1):
            start = (il - 1 == t)[:, None]
            inside = (t < il - 1)[:, None]
            init_t = m.where(ends, lpe[t], init)
            if t + 1 < T:
                nxt = beta[t + 1]
                b1 = m.full_like(nxt, -np.inf)
                b1[:, :-1] = nxt[:, 1:]
                b2 = m.full_like(nxt, -np.inf)
                b2[:, :-2] = nxt[:, 2:]
                b2 = m.where(skip_up, b2, -np.inf)
                rec = _lse3(m, nxt, b1, b2) + lpe[t]
                rec = m.where(valid_s, rec, -np.inf)
            else:
                rec = init
            beta[t] = m.where(start, init_t, m.where(inside, rec, -np.inf))
        with np.errstate(invalid="ignore"):
            ab = alpha + beta                                         # (T, N, S')
            ab = m.where(valid_s[None], ab, -np.inf)
            mx = ab.max(axis=2, keepdims=True)
            mx = m.where(mx == -np.inf, 0.0, mx)
            w = m.exp(ab - mx).astype(np.float64)
        idx = (np.arange(T)[:, None, None] * N + np.arange(N)[None, :, None]) * C + ext[None]
        acc = m.bincount(idx.ravel(), weights=w.ravel(), minlength=T * N * C).reshape(T, N, C)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lcab = (m.log(acc) + mx).astype(lp.dtype)                 # (T, N, C): logsumexp per label
            grad = m.exp(lp) - m.exp(lcab + nll[None, :, None] - lp)
        ga = g._data.astype(lp.dtype, copy=False)
        grad = grad * ga[None, :, None]
        keep = np.arange(T)[:, None] < il[None, :]                    # (T, N)
        if ctx.zi:
            keep = keep & ~(nll == np.inf)[None, :]
        grad = m.where(keep[:, :, None], grad, 0.0).astype(lp.dtype)
        return Tensor._make(grad)


def _lengths(x, what, n):
    if isinstance(x, Tensor):
        arr = np.asarray(x._data.get() if hasattr(x._data, "get") else x._data)
        if arr.dtype.kind not in "iu":
            raise RuntimeError(f"{_OP}: {what} must be an integer tensor, got dtype {arr.dtype}")
    elif isinstance(x, (list, tuple)):
        try:
            arr = np.asarray([int(v) if not isinstance(v, Tensor) else int(v.item()) for v in x], np.int64)
        except (TypeError, ValueError):
            raise TypeError(f"{_OP}: {what} must be a tuple of ints or an integer tensor, got {x!r}") from None
    else:
        raise TypeError(f"{_OP}: {what} must be a tuple/list of ints or an integer Tensor, got "
                        f"{type(x).__name__}")
    arr = arr.reshape(-1).astype(np.int64)
    if arr.shape[0] != n:
        raise RuntimeError(f"{_OP}: {what} must have one entry per batch element (batch size {n}), got "
                           f"{arr.shape[0]} entries")
    if (arr < 0).any():
        raise RuntimeError(f"{_OP}: {what} must be non-negative, got {arr.tolist()}")
    return arr


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) or unbatched (T, C) -- log-softmax outputs -- against ``targets``,
    padded (N, S) or concatenated 1-D (sum(target_lengths),), with per-sample ``input_lengths`` and
    ``target_lengths`` (tensors or tuples).  'mean' divides each loss by its (clamped to 1) target length and
    averages over the batch; impossible alignments give inf (0 with ``zero_infinity``, and a zero gradient)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{_OP}: reduction must be one of 'none', 'mean', 'sum', got {reduction!r}")
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"{_OP}: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if not isinstance(targets, Tensor):
        raise TypeError(f"{_OP}: targets must be a Tensor, got {type(targets).__name__}")
    if not log_probs.is_floating_point():
        raise TypeError(f"{_OP}: log_probs must be floating point, got {log_probs.dtype}")
    unbatched = log_probs.dim() == 2
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"{_OP}: log_probs must be (T, N, C) or unbatched (T, C), got shape "
                           f"{tuple(log_probs.shape)}")
    if log_probs.is_cuda:       # the recursions index with NumPy arrays
        return host_fallback(ctc_loss, log_probs, targets, input_lengths, target_lengths, blank=blank,
                             reduction=reduction, zero_infinity=zero_infinity)
    lp_t = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = lp_t.shape
    if not 0 <= blank < C:
        raise RuntimeError(f"{_OP}: blank must be in label range [0, {C}), got {blank} (log_probs shape "
                           f"{tuple(log_probs.shape)})")
    tg = targets._data
    tg = np.asarray(tg.get() if hasattr(tg, "get") else tg)
    if tg.dtype.kind == "f":
        tg = tg.astype(np.int64)
    elif tg.dtype.kind not in "iu":
        raise RuntimeError(f"{_OP}: targets must hold integer labels, got dtype {tg.dtype}")
    if unbatched:
        if tg.ndim != 1:
            raise RuntimeError(f"{_OP}: unbatched log_probs (T, C) = {tuple(log_probs.shape)} need 1-D targets "
                               f"(S,), got shape {tuple(tg.shape)}")
        tg = tg[None]
    il = _lengths(input_lengths, "input_lengths", N)
    tl = _lengths(target_lengths, "target_lengths", N)
    if (il > T).any():
        raise RuntimeError(f"{_OP}: expected input_lengths to be at most T = {T} (log_probs shape "
                           f"{tuple(log_probs.shape)}), got {il.tolist()}")
    L = int(tl.max()) if N else 0
    if tg.ndim == 1:                                                 # concatenated targets
        if tg.shape[0] != int(tl.sum()):
            raise RuntimeError(f"{_OP}: concatenated 1-D targets must have sum(target_lengths) = {int(tl.sum())} "
                               f"entries, got shape {tuple(tg.shape)}")
        offs = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        pos = offs[:, None] + np.arange(L)[None, :]
        lab = tg[np.minimum(pos, max(tg.shape[0] - 1, 0))] if tg.size else np.zeros((N, L), np.int64)
    elif tg.ndim == 2:
        if tg.shape[0] != N:
            raise RuntimeError(f"{_OP}: padded targets must be (N, S) with N = {N} (log_probs shape "
                               f"{tuple(log_probs.shape)}), got shape {tuple(tg.shape)}")
        if L > tg.shape[1]:
            raise RuntimeError(f"{_OP}: target_lengths {tl.tolist()} exceed the padded targets' length S = "
                               f"{tg.shape[1]} (targets shape {tuple(tg.shape)})")
        lab = tg[:, :L]
    else:
        raise RuntimeError(f"{_OP}: targets must be padded (N, S) or concatenated 1-D, got shape "
                           f"{tuple(tg.shape)}")
    lab = np.asarray(lab, np.int64).reshape(N, L)
    inside = np.arange(L)[None, :] < tl[:, None]
    lab = np.where(inside, lab, blank)
    if ((lab < 0) | (lab >= C)).any():
        raise RuntimeError(f"{_OP}: target labels must be in [0, {C}) for log_probs with C = {C} classes, got "
                           f"values in [{int(lab.min())}, {int(lab.max())}]")
    ext = np.full((N, 2 * L + 1), blank, np.int64)
    ext[:, 1::2] = lab
    skip = np.zeros(ext.shape, bool)
    skip[:, 3::2] = (lab[:, 1:] != lab[:, :-1]) & (lab[:, 1:] != blank)
    nll = _CTC.apply(lp_t, ext=ext, skip=skip, il=il, tl=tl, blank=blank, zero_infinity=bool(zero_infinity))
    if reduction == "mean":
        div = Tensor._make(np.maximum(tl, 1).astype(nll._data.dtype))
        return O.mean(nll / div)
    if reduction == "sum":
        return O.sum(nll)
    return nll.squeeze(0) if unbatched else nll
