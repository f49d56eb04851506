"""Attention, functional forms: ``F.scaled_dot_product_attention`` (PyTorch's signature and mask semantics)
and the fused kernel behind it and ``nn.MultiheadAttention``.

The kernel is one op: scores = q k^T * scale + mask, one max-shifted softmax, optional dropout, then
weights @ v, all as batched matmuls on raw arrays; its backward is the textbook one (dV = P^T dO,
dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale, dK = dS^T Q * scale) on raw arrays, and is written with
ember ops instead when ``create_graph=True``, so second derivatives through attention work.
"""
from __future__ import annotations

import math

from ...autograd.function import Function
from ...autograd.grad_mode import state as _grad
from ...backend import xp
from ...backend.device import array_module as _xp, like as _like
from ...backend.random import rng_of
from ...backends.cuda import _SDP as _SDP_FLAGS
from ...ops import _ckernels as _ck, _parallel as _par
from ...ops._fastsum import fsum
from ...ops._parallel_random import keep_mask
from ...tensor import Tensor
from ... import ops as _ops

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _softmax_last(s, safe=False):
    """In-place max-shifted softmax over the last axis.  Rows that are all -inf (fully masked) become NaN, as
    in ``F.softmax`` and MultiheadAttention's weights, or, with ``safe``, 0 (PyTorch 2.13's
    scaled_dot_product_attention: such a query attends to nothing and gets zeros)."""
    if not s.shape[-1]:         # no keys: nothing to attend to (the output is an empty sum: zeros)
        return s
    if _ck.softmax_inplace(s, safe):    # (ember's compiled kernel: what follows, a row at a time)
        return s
    m = s.max(axis=-1, keepdims=True)
    with xp.errstate(invalid="ignore"):
        s -= m
        xp.exp(s, out=s)
        s /= fsum(s, -1, True)
    if safe:
        dead = m == -xp.inf
        if dead.any():
            xp.copyto(s, 0, where=xp.broadcast_to(dead, s.shape))      # (assigned: NaN * 0 stays NaN)
    return s


# Parts of a split attention get at least this many score elements (a section costs ~15 us; each part
# runs ~8 NumPy calls on its share)
MIN_SPLIT = 1 << 16


def _parts(q, k, v, mask, s_shape):
    """How many threads the kernel runs on (1: the whole arrays at once): several only for host arrays of one
    dtype with the same leading dims (split along dim 0, each part's matrices and rows computed exactly as
    the whole batch computes them) and a mask that does not widen the scores."""
    if (q.ndim < 3 or q.shape[0] < 2 or not all(_par.is_host(a) for a in (q, k, v))
            or not q.shape[:-2] == k.shape[:-2] == v.shape[:-2] or not q.dtype == k.dtype == v.dtype):
        return 1
    if mask is not None and (not _par.is_host(mask) or mask.dtype != q.dtype
                             or xp.broadcast_shapes(s_shape, mask.shape) != s_shape):
        return 1
    n = math.prod(s_shape)
    return _par.threads_for(q.shape[0], n, MIN_SPLIT)


def _rows(a, r, ndim):
    """The dim-0 slice ``r`` of an operand that broadcasts against ``ndim``-dim scores (all of it where its
    dim 0 is a broadcast one)."""
    return a[r] if a is not None and a.ndim == ndim and a.shape[0] != 1 else a


def _attend(q, k, v, mask, keep, scale, safe, s=None, pd=None, out=None):
    """The forward on some rows: scores (into ``s``), softmax, dropout (into ``pd``), weights @ v (into
    ``out``); returns (out, p, pd)."""
    s = xp.matmul(q, k.swapaxes(-1, -2), out=s)
    s *= scale
    if mask is not None:
        if xp.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
        else:               # the mask carries batch dims the scores lack
            s = s + mask
    p = _softmax_last(s, safe)
    pd = p if keep is None else xp.multiply(p, keep, out=pd)
    return xp.matmul(pd, v, out=out), p, pd


def _attend_backward(q, k, v, p, keep, go, g_w, scale, need, gq=None, gk=None, gv=None, gp=None):
    """The backward on some rows, into the given arrays where they are given; returns (gq, gk, gv, gs)."""
    pd = p * keep if keep is not None else p
    if need[2]:
        gv = xp.matmul(pd.swapaxes(-1, -2), go, out=gv)
    gp = xp.matmul(go, v.swapaxes(-1, -2), out=gp)
    if g_w is not None:
        gp += g_w
    if keep is not None:
        gp *= keep
    # dS = P * (dP - rowsum(dP * P)), in place on gp
    r = fsum(gp * p, -1, True)
    gp -= r
    gp *= p
    if need[0]:
        gq = xp.matmul(gp, k, out=gq)
        gq *= scale
    if need[1]:
        gk = xp.matmul(gp.swapaxes(-1, -2), q, out=gk)
        gk *= scale
    return gq, gk, gv, gp


class SDPA(Function):
    """Inputs q (..., L, E), k (..., S, E), v (..., S, Ev), mask (additive, broadcastable to (..., L, S)) or
    None.  Outputs out (..., L, Ev) and, with ``return_weights``, the attention weights (..., L, S) (after
    dropout, as PyTorch's MultiheadAttention returns them).  With several threads the batch (dim 0) is split
    among them (``_parts``): the same numbers, each matrix computed as in the whole batch."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale=1.0, dropout_p=0.0, return_weights=False, safe=False):
        lead = xp.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        s_shape = lead + (q.shape[-2], k.shape[-2])
        keep = None
        if dropout_p > 0.0:
            # drawn on the host with ember's generator and moved to q's device: a seed gives the same masks on
            # every device.  (1 / (1 - p) rounded as the dtype's own division gives it: `keep /= 1 - p`.)
            if mask is not None:
                s_shape = xp.broadcast_shapes(s_shape, mask.shape)
            dt = xp.result_type(q.dtype, k.dtype, *(() if mask is None else (mask.dtype,)))
            sc = (xp.ones((), dt) / (1.0 - dropout_p))[()]
            keep = _like(keep_mask(rng_of(None), s_shape, dropout_p, dt, sc), q)
        t = _parts(q, k, v, mask, s_shape)
        if t <= 1:
            out, p, pd = _attend(q, k, v, mask, keep, scale, safe)
        else:
            s = xp.empty(s_shape, q.dtype)
            pd = s if keep is None else xp.empty(s_shape, q.dtype)
            out = xp.empty(q.shape[:-1] + v.shape[-1:], q.dtype)
            nd = len(s_shape)

            def part(r):
                _attend(q[r], k[r], v[r], _rows(mask, r, nd), _rows(keep, r, nd), scale, safe, s[r], pd[r],
                        out[r])
            _par.run_split(part, q.shape[0], t)
            p = s
        ctx.scale, ctx.keep, ctx.return_weights, ctx.safe = scale, keep, return_weights, safe
        ctx.save_for_backward(q, k, v, p, mask)
        return (out, pd) if return_weights else out

    @staticmethod
    def backward(ctx, g_out, g_w=None):
        q, k, v, p, mask = ctx.saved_tensors
        scale, keep = ctx.scale, ctx.keep
        need = ctx.needs_input_grad
        if _grad.create_graph:      # differentiable path, written with ember ops
            # recompute the weights from the inputs so that their dependence on q, k, mask is recorded
            sc = _ops.matmul(q, k.transpose(-1, -2)) * scale
            sm = sc + mask if mask is not None else sc
            if ctx.safe:
                # fully masked rows: softmax of zeros, then zeroed (a softmax of -inf rows would put NaN into
                # the gradient even where it is masked out)
                dead = Tensor._make((sm._data == -xp.inf).all(-1, keepdims=True))
                zero = Tensor._make(_xp(sm._data).zeros((), sm._data.dtype))
                p = _ops.where(dead, zero, _ops.softmax(_ops.where(dead, zero, sm), -1))
            else:
                p = _ops.softmax(sm, -1)
            pd = p * Tensor._make(keep) if keep is not None else p
            gv = _ops.matmul(pd.transpose(-1, -2), g_out) if need[2] else None
            gpd = _ops.matmul(g_out, v.transpose(-1, -2))
            if g_w is not None and ctx.return_weights:
                gpd = gpd + g_w
            gp = gpd * Tensor._make(keep) if keep is not None else gpd
            gs = p * (gp - (gp * p).sum(-1, keepdim=True))
            gq = _ops.matmul(gs, k) * scale if need[0] else None
            gk = _ops.matmul(gs.transpose(-1, -2), q) * scale if need[1] else None
            return gq, gk, gv, (gs if need[3] else None)
        q, k, v, p, go = q._data, k._data, v._data, p._data, g_out._data
        gw = g_w._data if g_w is not None and ctx.return_weights else None
        m = None if mask is None else mask._data
        t = _parts(q, k, v, m, p.shape) if _par.is_host(go) and go.dtype == q.dtype else 1
        if t <= 1:
            gq, gk, gv, gp = _attend_backward(q, k, v, p, keep, go, gw, scale, need)
        else:
            gq = xp.empty(q.shape, q.dtype) if need[0] else None
            gk = xp.empty(k.shape, q.dtype) if need[1] else None
            gv = xp.empty(v.shape, q.dtype) if need[2] else None
            gp = xp.empty(p.shape, q.dtype) if need[3] else None
            nd = p.ndim

            def part(r):
                _attend_backward(q[r], k[r], v[r], p[r], _rows(keep, r, nd), go[r], _rows(gw, r, nd), scale,
                                 need, *(None if a is None else a[r] for a in (gq, gk, gv, gp)))
            _par.run_split(part, q.shape[0], t)
        wrap = Tensor._make
        return (wrap(gq) if need[0] else None, wrap(gk) if need[1] else None, wrap(gv) if need[2] else None,
                wrap(gp) if need[3] else None)


def _additive_mask(mask, L, S, dtype, op):
    """A bool mask (True = may attend, SDPA's convention) or a float mask -> an additive float array/Tensor."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: attn_mask must be a Tensor or None, got {type(mask).__name__}")
    if mask.ndim < 2 or tuple(mask.shape[-2:]) not in ((L, S), (1, S), (L, 1), (1, 1)):
        raise RuntimeError(f"{op}: attn_mask of shape {tuple(mask.shape)} cannot be broadcast to the attention "
                           f"scores of shape (..., {L}, {S})")
    if mask.dtype == xp.bool_:
        return Tensor._make(xp.where(mask._data, 0.0, -xp.inf).astype(dtype))
    return mask if mask.dtype == dtype else mask.to(dtype)


def attention_core(q: Tensor, k: Tensor, v: Tensor, mask, scale: float, dropout_p: float = 0.0,
                   need_weights: bool = False, safe: bool = False):
    """The fused kernel on prepared operands: ``mask`` is None or an additive float Tensor broadcastable to
    the scores.  Returns ``out`` or ``(out, weights)``; ``safe``: fully masked queries get zeros, not NaN."""
    return SDPA.apply(q, k, v, mask, scale=float(scale), dropout_p=float(dropout_p), return_weights=need_weights,
                      safe=bool(safe))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims, like ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).  ``attn_mask``: bool (True
    means the position *may* be attended) or float (added to the scores), broadcastable to (..., L, S).
    ``is_causal`` masks the upper triangle (query i sees keys j <= i) and must not be combined with a mask.
    ``scale`` defaults to 1/sqrt(E).  ``dropout_p`` drops attention weights (always, as PyTorch's function;
    pass 0.0 in eval).  ``enable_gqa`` lets key/value have fewer heads (dim -3) than query.

    >>> q = ember.randn(2, 4, 5, 8); k = v = ember.randn(2, 4, 6, 8)
    >>> F.scaled_dot_product_attention(q, k, v).shape
    ember.Size([2, 4, 5, 8])
    """
    op = "scaled_dot_product_attention"
    if attn_mask is not None and not isinstance(attn_mask, Tensor) and hasattr(attn_mask, "_dispatch"):
        # a torch.nn.attention.bias.CausalBias: it decides how to run (PyTorch's __torch_function__ override)
        return attn_mask._dispatch(query, key, value, attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                                   scale=scale, enable_gqa=enable_gqa)
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{op}: {name} needs at least 2 dims (..., seq, features), got {tuple(t.shape)}")
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != E or value.shape[-2] != S:
        raise RuntimeError(f"{op}: expected query (..., L, E), key (..., S, E), value (..., S, Ev), got query "
                           f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}")
    if not (query.dtype == key.dtype == value.dtype) or query.dtype.kind != "f":
        raise RuntimeError(f"{op}: query, key and value must share one floating dtype, got {query.dtype}, "
                           f"{key.dtype}, {value.dtype}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    if not _SDP_FLAGS["math"]:      # sdpa_kernel/enable_math_sdp(False): may PyTorch's CPU flash kernel run it?
        from ..attention._select import check_backends
        check_backends(query, key, value, attn_mask, dropout_p, enable_gqa)
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"{op}: with enable_gqa the query heads ({hq}) must be a multiple of the key "
                               f"heads ({hk})")
        key = _ops.repeat_interleave(key, hq // hk, dim=-3)
        value = _ops.repeat_interleave(value, hq // hk, dim=-3)
    _check_batch_broadcast(query.shape[:-2], key.shape[:-2])
    _check_batch_broadcast(query.shape[:-2], value.shape[:-2])
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: pass either attn_mask or is_causal=True, not both")
        m = _xp(query._data)
        attn_mask = Tensor._make(m.tril(m.ones((L, S), dtype=bool)))
    mask = _additive_mask(attn_mask, L, S, query.dtype, op)
    sc = 1.0 / math.sqrt(E) if scale is None else scale
    return attention_core(query, key, value, mask, sc, dropout_p, need_weights=False, safe=True)


def _check_batch_broadcast(a, b):
    """The batch dims of query and key (or value) must broadcast: PyTorch's matmul error otherwise."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for d in range(n - 1, -1, -1):
        if a[d] != b[d] and a[d] != 1 and b[d] != 1:
            raise RuntimeError(f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
                               f"non-singleton dimension {d}")


def _mha_mask(mask, name, dtype):
    """MultiheadAttention's masks: bool True = *not* allowed (-inf), float = added to the scores."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"MultiheadAttention: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == xp.bool_:
        return Tensor._make(xp.where(mask._data, -xp.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight, out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None, use_separate_proj_weight: bool = False,
                                 q_proj_weight=None, k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True, is_causal: bool = False):
    """The computation of ``nn.MultiheadAttention`` with PyTorch's signature (sequence-first layout).

    query (L, N, E) or unbatched (L, E); key/value (S, N, E_k/E_v).  ``key_padding_mask`` (N, S): True (or
    -inf) marks padding to ignore; ``attn_mask`` (L, S) or (N*num_heads, L, S): True marks pairs *not*
    allowed, float masks are added.  ``is_causal`` is a hint that ``attn_mask`` is the causal mask (it is
    required then, as in PyTorch).  Returns ``(attn_output (L, N, E), weights)`` with weights (N, L, S)
    averaged over heads, (N, num_heads, L, S) when ``average_attn_weights`` is False, or None when
    ``need_weights`` is False.  ``static_k``/``static_v`` are not supported.
    """
    from ._linear import linear
    op = "MultiheadAttention"
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not supported by ember")
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{op}: expected query, key and value all 3-D (L, N, E) or all 2-D unbatched (L, E), got "
                           f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    batched = query.ndim == 3
    if not batched:
        same_qk, same_kv = query is key, key is value
        query = query.unsqueeze(1)
        key = query if same_qk else key.unsqueeze(1)
        value = key if same_kv else value.unsqueeze(1)
        if key_padding_mask is not None:
            if key_padding_mask.ndim != 1:
                raise RuntimeError(f"{op}: for unbatched (2-D) query, key_padding_mask must be 1-D (S,), got "
                                   f"{tuple(key_padding_mask.shape)}")
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim_to_check:
        raise RuntimeError(f"{op}: was expecting embedding dimension of {embed_dim_to_check}, but got query of "
                           f"shape {tuple(query.shape)}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != N:
        raise RuntimeError(f"{op}: key {tuple(key.shape)} and value {tuple(value.shape)} must share (S, N) with "
                           f"batch size N={N} of query {tuple(query.shape)}")
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise RuntimeError(f"{op}: embed_dim {E} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint (pass the causal mask, e.g. "
                           f"nn.Transformer.generate_square_subsequent_mask(L))")
    dt = query.dtype
    # -- input projections (one GEMM for self-attention with packed weights)
    if not use_separate_proj_weight:
        W, b = in_proj_weight, in_proj_bias
        if query is key and key is value:
            q, k, v = _ops.chunk(linear(query, W, b), 3, -1)
        elif key is value:
            q = linear(query, W[:E], b[:E] if b is not None else None)
            k, v = _ops.chunk(linear(key, W[E:], b[E:] if b is not None else None), 2, -1)
        else:
            bq, bk, bv = (b[:E], b[E:2 * E], b[2 * E:]) if b is not None else (None, None, None)
            q, k, v = linear(query, W[:E], bq), linear(key, W[E:2 * E], bk), linear(value, W[2 * E:], bv)
    else:
        b = in_proj_bias
        bq, bk, bv = (b[:E], b[E:2 * E], b[2 * E:]) if b is not None else (None, None, None)
        q, k, v = linear(query, q_proj_weight, bq), linear(key, k_proj_weight, bk), linear(value, v_proj_weight, bv)
    # -- masks -> one additive float mask broadcastable to (N*H, L, S')
    am = _mha_mask(attn_mask, "attn_mask", dt)
    if am is not None:
        if am.ndim == 2:
            if tuple(am.shape) != (L, S):
                raise RuntimeError(f"{op}: the shape of the 2D attn_mask is {tuple(am.shape)}, but should be "
                                   f"{(L, S)}")
            am = am.unsqueeze(0)
        elif am.ndim == 3:
            if tuple(am.shape) != (N * num_heads, L, S):
                raise RuntimeError(f"{op}: the shape of the 3D attn_mask is {tuple(am.shape)}, but should be "
                                   f"{(N * num_heads, L, S)}")
        else:
            raise RuntimeError(f"{op}: attn_mask's dimension {am.ndim} is not supported (expected 2 or 3)")
    kpm = _mha_mask(key_padding_mask, "key_padding_mask", dt)
    if kpm is not None and tuple(kpm.shape) != (N, S):
        raise RuntimeError(f"{op}: expected key_padding_mask of shape {(N, S)}, got {tuple(kpm.shape)}")
    if bias_k is not None and bias_v is not None:
        k = _ops.cat([k, bias_k.expand(1, N, E)], 0)
        v = _ops.cat([v, bias_v.expand(1, N, E)], 0)
        am = _ops.pad(am, (0, 1)) if am is not None else None
        kpm = _ops.pad(kpm, (0, 1)) if kpm is not None else None
    elif bias_k is not None or bias_v is not None:
        raise RuntimeError(f"{op}: bias_k and bias_v must both be given or both be None")
    # -- split heads: (L, N, E) -> (N*H, L, head_dim)
    q = q.reshape(L, N * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], N * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], N * num_heads, v.shape[-1] // num_heads).transpose(0, 1)
    if add_zero_attn:
        m = _xp(k._data)
        z = Tensor._make(m.zeros((N * num_heads, 1, head_dim), dt))
        k = _ops.cat([k, z], 1)
        v = _ops.cat([v, Tensor._make(m.zeros((N * num_heads, 1, v.shape[-1]), dt))], 1)
        am = _ops.pad(am, (0, 1)) if am is not None else None
        kpm = _ops.pad(kpm, (0, 1)) if kpm is not None else None
    S2 = k.shape[1]
    mask = am
    if kpm is not None:
        kpm = kpm.reshape(N, 1, 1, S2).expand(N, num_heads, 1, S2).reshape(N * num_heads, 1, S2)
        mask = kpm if mask is None else mask + kpm
    if not training:
        dropout_p = 0.0
    # PyTorch computes the weights with a plain softmax (NaN for a fully masked query) and otherwise runs
    # scaled_dot_product_attention (zeros)
    res = attention_core(q, k, v, mask, 1.0 / math.sqrt(head_dim), dropout_p, need_weights=need_weights,
                         safe=not need_weights)
    out, w = res if need_weights else (res, None)
    out = out.transpose(0, 1).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if w is not None:
        w = w.reshape(N, num_heads, L, S2)
        if average_attn_weights:
            w = w.mean(1)
    if not batched:
        out = out.squeeze(1)
        w = w.squeeze(0) if w is not None else None
    return out, w
